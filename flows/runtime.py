"""How a command that runs a flow sets Prefect up: where its log goes, and which API it talks to.

Called before Prefect is imported (Prefect reads its logging settings at import):

- **Logging.** Prefect, urllib3 and our tasks log to ``<data dir>/logs/bls-refresh.log``
  (rotated), not to the terminal: a user sees the run summary or one paragraph saying why the
  run failed, never pages of ERROR records and tracebacks. ``--debug`` adds the console back.
- **The API.** Without ``PREFECT_API_URL``, Prefect would start a temporary server in a child
  process that outlives a killed parent (190 MB, still listening). We start that server
  ourselves, in a child that the kernel stops when this process dies, even by SIGKILL
  (``PR_SET_PDEATHSIG``). With ``PREFECT_API_URL`` set (a long-lived ``prefect server start``),
  in the environment or in the active Prefect profile, nothing is started.
- **Heartbeats.** A flow run sends heartbeats so that a server can mark a run that died as
  crashed. Against the command's own API nobody reads them (the API stops with the command),
  and the engine waits up to a second at the end of every flow for the heartbeat thread's
  sleep to end, so :func:`flow_settings` turns them off there. A long-lived server keeps them.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import importlib
import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

from core.errors import ConfigError
from core.paths import DataPaths

LOGGING_CONFIG = Path(__file__).with_name("prefect_logging.yml")
LOG_FILE = "bls-refresh.log"
SERVER_LOG_FILE = "prefect-server.log"
_PR_SET_PDEATHSIG = 1


def log_file(paths: DataPaths) -> Path:
    return paths.root / "logs" / LOG_FILE


def configure_logging(paths: DataPaths, *, debug: bool) -> Path:
    """Point Prefect's logging at our config (a file handler; the console only with --debug)."""
    log = log_file(paths)
    log.parent.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ["PREFECT_LOGGING_SETTINGS_PATH"] = str(LOGGING_CONFIG)
    # Prefect overrides any key of its logging config from PREFECT_LOGGING_<PATH>_<KEY>.
    os.environ["PREFECT_LOGGING_HANDLERS_FILE_FILENAME"] = str(log)
    os.environ["PREFECT_LOGGING_LEVEL"] = "DEBUG" if debug else "INFO"
    if debug:
        os.environ["PREFECT_LOGGING_ROOT_HANDLERS"] = "file,console"
    return log


def die_with_parent() -> Callable[[], None] | None:
    """For Popen's ``preexec_fn``: the child gets SIGTERM when this process dies, even by
    SIGKILL, which runs no ``finally`` and no exit handler. Linux only
    (``prctl(PR_SET_PDEATHSIG)``); libc is loaded here, in the parent, so the child runs as
    little Python as possible between fork and exec. Call it while no other thread runs."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getpid()

    def arm() -> None:  # pragma: no cover - runs in the child
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return arm


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def api_answers(api_url: str) -> bool:
    """Whether a Prefect API answers its health check (``api_url`` ends in ``/api``)."""
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=2) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


class LocalApi:
    """A Prefect API server in a child process that dies with this one."""

    def __init__(self, paths: DataPaths, timeout: float) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/api"
        self.log = paths.root / "logs" / SERVER_LOG_FILE
        self.log.parent.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "PREFECT_UI_ENABLED": "0",
            "PREFECT__SERVER_EPHEMERAL": "1",
            "PREFECT__SERVER_FINAL": "1",
            "PREFECT_LOGGING_HANDLERS_FILE_FILENAME": str(self.log),
        }
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "--factory",
                    "prefect.server.api.server:create_app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--log-level",
                    "error",
                    "--lifespan",
                    "on",
                ],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                preexec_fn=die_with_parent(),  # no other thread yet: Prefect is not loaded
            )
        self.timeout = timeout
        self._deadline = time.monotonic() + timeout
        self._ready = False

    def wait(self) -> None:
        """Until the API answers. The server boots (3–4 s) while the caller imports
        Prefect and the flow, on the other core; ConfigError if it does not start in time."""
        while not self._ready and not api_answers(self.url):
            if self.process.poll() is not None or time.monotonic() > self._deadline:
                self.stop()
                raise ConfigError(
                    f"Prefect's local API did not start within {self.timeout:.0f} s "
                    f"(see {self.log}). Nothing was fetched. Set PREFECT_API_URL to use a "
                    "running Prefect server."
                )
            time.sleep(0.05)
        self._ready = True

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def profile_api_url() -> str | None:
    """``PREFECT_API_URL`` of the active Prefect profile (``prefect config set …``, ``prefect
    cloud login``), read from the profiles file without importing Prefect: the profile named
    by ``PREFECT_PROFILE``, else the file's ``active`` one. None when there is none."""
    home = Path(os.environ.get("PREFECT_HOME") or "~/.prefect").expanduser()
    path = Path(os.environ.get("PREFECT_PROFILES_PATH") or home / "profiles.toml").expanduser()
    try:
        with path.open("rb") as fh:
            profiles = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError):
        return None  # no file, or one Prefect itself will complain about
    name = os.environ.get("PREFECT_PROFILE") or profiles.get("active")
    profile = profiles.get("profiles", {}).get(name, {}) if isinstance(name, str) else {}
    url = profile.get("PREFECT_API_URL") if isinstance(profile, dict) else None
    return url if isinstance(url, str) and url else None


def use_local_api(paths: DataPaths) -> LocalApi | None:
    """Start a local API unless Prefect is configured already (PREFECT_API_URL in the
    environment or the active profile, or Prefect imported by the caller, as in tests);
    Prefect then talks to it through PREFECT_API_URL. It is not waited for here:
    :func:`flow_settings` waits, once the flow is imported."""
    if os.environ.get("PREFECT_API_URL") or profile_api_url() or "prefect" in sys.modules:
        return None
    timeout = float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120"))
    api = LocalApi(paths, timeout)
    os.environ["PREFECT_API_URL"] = api.url
    # Registered before Prefect is imported, so it runs after Prefect's own exit handlers
    # (which send the last log records to this API).
    atexit.register(api.stop)
    return api


@contextlib.contextmanager
def flow_settings(api: LocalApi | None, *, flow_module: str | None = None) -> Iterator[None]:
    """Ready to run flows inside the block. With the command's own API (``api``, from
    :func:`use_local_api`): ``flow_module`` (and with it Prefect) is imported while that API
    boots, the API is waited for, and flow runs send no heartbeats."""
    if flow_module is not None:
        importlib.import_module(flow_module)
    if api is None:
        yield
        return
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    api.wait()
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield
