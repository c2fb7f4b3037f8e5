"""How a command that runs a flow sets Prefect up: its log file, and an API server that dies
with the command."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from core.errors import ConfigError
from core.paths import DataPaths
from flows import runtime

# A parent that starts a sleeping child with die_with_parent, says the child's pid, and waits.
PARENT = """
import subprocess, sys, time
from flows.runtime import die_with_parent
child = subprocess.Popen(
    [sys.executable, "-c", "import time; time.sleep(60)"], preexec_fn=die_with_parent()
)
print(child.pid, flush=True)
time.sleep(60)
"""


def gone(pid: int) -> bool:
    """Whether ``pid`` has ended (a zombie nobody reaped has ended too)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


@pytest.fixture
def health_server() -> Iterator[tuple[str, list[int]]]:
    """A local server answering ``/api/health`` with the status at the head of its list."""
    statuses = [200]

    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(statuses[0] if self.path == "/api/health" else 404)
            self.send_header("Content-Length", "4")
            self.end_headers()
            self.wfile.write(b"true")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api", statuses
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_logging_goes_to_the_data_dir_s_log_file(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "PREFECT_LOGGING_SETTINGS_PATH",
        "PREFECT_LOGGING_HANDLERS_FILE_FILENAME",
        "PREFECT_LOGGING_LEVEL",
        "PREFECT_LOGGING_ROOT_HANDLERS",
    ):
        monkeypatch.setenv(name, "before")  # restored after the test, whatever it sets
    monkeypatch.delenv("PREFECT_LOGGING_ROOT_HANDLERS")
    paths = DataPaths(data_dir)

    log = runtime.configure_logging(paths, debug=False)

    assert log == runtime.log_file(paths) == data_dir / "logs" / "bls-refresh.log"
    assert log.parent.is_dir() and not log.exists()  # the handler opens it when first used
    assert os.environ["PREFECT_LOGGING_SETTINGS_PATH"] == str(runtime.LOGGING_CONFIG)
    assert os.environ["PREFECT_LOGGING_HANDLERS_FILE_FILENAME"] == str(log)
    assert os.environ["PREFECT_LOGGING_LEVEL"] == "INFO"
    assert "PREFECT_LOGGING_ROOT_HANDLERS" not in os.environ  # the terminal stays quiet
    # The variable names a key Prefect's config really has: handlers.file.filename.
    config = yaml.safe_load(runtime.LOGGING_CONFIG.read_text())
    assert "filename" in config["handlers"]["file"]
    assert "console" in config["handlers"]

    runtime.configure_logging(paths, debug=True)
    assert os.environ["PREFECT_LOGGING_LEVEL"] == "DEBUG"
    assert os.environ["PREFECT_LOGGING_ROOT_HANDLERS"] == "file,console"


def test_a_free_port_can_be_bound() -> None:
    port = runtime.free_port()
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", port))


def test_the_api_answers_only_with_a_healthy_200(health_server: tuple[str, list[int]]) -> None:
    url, statuses = health_server
    assert runtime.api_answers(url)
    statuses[0] = 503
    assert not runtime.api_answers(url)
    assert not runtime.api_answers(url + "/elsewhere")  # 404
    assert not runtime.api_answers(f"http://127.0.0.1:{runtime.free_port()}/api")  # nobody


def test_a_child_armed_with_die_with_parent_ends_when_the_parent_is_killed(repo: Path) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], cwd=repo, stdout=subprocess.PIPE, text=True
    )
    child = 0
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert not gone(child)
        parent.send_signal(signal.SIGKILL)  # no finally, no exit handler runs in the parent
        parent.wait(timeout=10)
        deadline = time.monotonic() + 10
        while not gone(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert gone(child), "the child outlived its killed parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(timeout=10)
        if child and not gone(child):
            os.kill(child, signal.SIGKILL)
        if parent.stdout is not None:
            parent.stdout.close()


def test_no_local_api_is_started_when_one_is_configured(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    assert runtime.use_local_api(DataPaths(data_dir)) is None
    assert os.environ["PREFECT_API_URL"] == "http://127.0.0.1:4200/api"
    assert not data_dir.exists()  # no server log: nothing was started


def test_flows_against_the_command_s_own_api_wait_for_it_and_send_no_heartbeats(
    data_dir: Path,
) -> None:
    """Nobody reads the heartbeats there, and each flow's end would wait up to a second for
    them. The API is started before the flow is imported and waited for after."""
    from prefect.settings import get_current_settings

    default = get_current_settings().flows.heartbeat_frequency
    assert default is not None  # Prefect sends them unless told otherwise
    with runtime.flow_settings(None):  # a long-lived server (PREFECT_API_URL): kept
        assert get_current_settings().flows.heartbeat_frequency == default
    (data_dir / "logs").mkdir(parents=True)
    own_api = runtime.LocalApi(DataPaths(data_dir), timeout=120)  # as use_local_api starts it
    try:
        with runtime.flow_settings(own_api, flow_module="flows.refresh"):
            assert runtime.api_answers(own_api.url)  # waited for
            assert get_current_settings().flows.heartbeat_frequency is None
    finally:
        own_api.stop()
    assert get_current_settings().flows.heartbeat_frequency == default


def test_a_local_api_that_does_not_start_in_time_is_stopped_and_explained(
    data_dir: Path,
) -> None:
    paths = DataPaths(data_dir)
    (data_dir / "logs").mkdir(parents=True)  # configure_logging makes it first
    api = runtime.LocalApi(paths, timeout=0)  # started; the caller imports while it boots
    with pytest.raises(ConfigError) as late:
        api.wait()
    assert api.process.poll() is not None  # stopped
    log = data_dir / "logs" / "prefect-server.log"
    assert str(late.value) == (
        f"Prefect's local API did not start within 0 s (see {log}). Nothing was fetched. "
        "Set PREFECT_API_URL to use a running Prefect server."
    )
    assert log.is_file()


def test_the_api_of_the_active_prefect_profile_is_found_without_prefect(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `prefect config set PREFECT_API_URL=…` and `prefect cloud login` write it here: a run
    # then uses that server rather than starting its own.
    for name in ("PREFECT_PROFILE", "PREFECT_PROFILES_PATH", "PREFECT_API_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
    assert runtime.profile_api_url() is None  # no profiles file
    (tmp_path / "profiles.toml").write_text(
        'active = "team"\n\n[profiles.team]\nPREFECT_API_URL = "http://prefect.internal:4200/api"\n'
        '\n[profiles.ephemeral]\nPREFECT_SERVER_ALLOW_EPHEMERAL_MODE = "true"\n'
    )
    assert runtime.profile_api_url() == "http://prefect.internal:4200/api"
    monkeypatch.setenv("PREFECT_PROFILE", "ephemeral")
    assert runtime.profile_api_url() is None  # a profile without a server
    monkeypatch.setenv("PREFECT_PROFILE", "team")
    moved = tmp_path / "elsewhere.toml"
    (tmp_path / "profiles.toml").rename(moved)
    monkeypatch.setenv("PREFECT_PROFILES_PATH", str(moved))
    assert runtime.profile_api_url() == "http://prefect.internal:4200/api"
    (moved).write_text("active = [broken\n")
    assert runtime.profile_api_url() is None  # Prefect itself reports a broken file

    # the command line starts no API of its own then (checked in a process without Prefect)
    moved.write_text('active = "team"\n[profiles.team]\nPREFECT_API_URL = "http://x:1/api"\n')
    probe = (
        "from core.paths import DataPaths; from flows import runtime; "
        f"print(runtime.use_local_api(DataPaths({str(tmp_path / 'data')!r})))"
    )
    env = {**os.environ, "PREFECT_PROFILES_PATH": str(moved), "PREFECT_PROFILE": "team"}
    env.pop("PREFECT_API_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "None"
