"""Shared machinery of the fault-injection suite (imported as a top-level module).

A ``World`` is one data directory with a private mirror copy and a local BLS-like server. The
scenario modules build one world per module and run their scenarios on it one after another
(the first good run of a world is release A; each scenario starts from whatever release is
``latest`` and checks it is intact), which keeps the suite within a few minutes: a refresh costs
seconds, a fresh world per scenario would triple the time.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from blsserver import BlsServer, Fault, _FileInfo
from click.testing import Result
from conftest import CONTACT, OE_DIR, copy_mirror, record_scenario
from scenarios import printed_parts
from typer.testing import CliRunner

from bls_refresh.cli import app
from core.paths import DataPaths
from extractors.rawstore import sha256_file
from flows.refresh import refresh as refresh_flow
from flows.release import RefreshOutcome
from warehouse import load
from warehouse.verify import verify

DATA_FILE = "oe.data.0.Current"
# The row of oe.data.0.Current holding 29-2072's national annual median (datatype 13).
MEDIAN_SERIES = "OEUN000000000000029207213     \t2024\tA01\t"
MEDIAN_A = 50250
# Same environment as tests/conftest.py's hermetic_env, for module-scoped setup.
HERMETIC_ENV = {
    "BLS_CONTACT_EMAIL": CONTACT,
    "BLS_HTTP_BACKOFF": "0.01",
    "BLS_HTTP_JITTER": "0",
    "BLS_HTTP_READ_TIMEOUT": "5",
}
# Rich wraps at 80 columns when not on a terminal: keep a message on one line.
WIDE = {"COLUMNS": "1000"}


@dataclasses.dataclass
class World:
    mirror: Path
    data_dir: Path
    server: BlsServer
    api_url: str | None  # the test harness's Prefect API, for CLI subprocesses
    _stamp: float = 0.0

    @property
    def oe_dir(self) -> Path:
        return self.mirror / OE_DIR

    @property
    def paths(self) -> DataPaths:
        return DataPaths(self.data_dir)

    def touch_later(self, path: Path) -> None:
        """A newer Last-Modified than any before, as BLS gives a republished file."""
        self._stamp = max(time.time(), self._stamp) + 5
        os.utime(path, (self._stamp, self._stamp))


def prefect_api_url() -> str | None:
    """The API of the session's Prefect test harness: subprocesses skip starting their own."""
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value() or None


@contextlib.contextmanager
def world(root: Path) -> Iterator[World]:
    """A private mirror copy (BLS's dates as mtimes), a server on it, an empty data dir."""
    mirror = copy_mirror(root / "mirror")
    with BlsServer(mirror) as server:
        yield World(mirror, root / "data", server, prefect_api_url())


@contextlib.contextmanager
def hermetic_env() -> Iterator[None]:
    """tests/conftest.py's environment, for module-scoped fixtures (set up before it applies)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("BLS_DATA_DIR", raising=False)
        for name, value in HERMETIC_ENV.items():
            mp.setenv(name, value)
        yield


def refresh(w: World) -> RefreshOutcome:
    """The real Prefect flow, in process (needs the ``prefect_harness`` fixture)."""
    return refresh_flow(data_dir=str(w.data_dir), source=w.server.base_url, contact=CONTACT)


def first_release(w: World) -> str:
    outcome = refresh(w)
    assert outcome.changed and outcome.release_id is not None
    assert latest_of(w.data_dir) == outcome.release_id
    return outcome.release_id


# -- running the CLI -------------------------------------------------------------------------


def cli(*args: str, env: dict[str, str | None] | None = None) -> Result:
    """``bls-refresh ARGS`` in this process (what the user sees, without a Python start-up)."""
    return CliRunner().invoke(app, list(args), env={**WIDE, **(env or {})})


def cli_run(w: World, env: dict[str, str | None] | None = None) -> Result:
    """``bls-refresh run --source <server> --data-dir D`` in this process."""
    return cli("run", "--source", w.server.base_url, "--data-dir", str(w.data_dir), env=env)


def subprocess_env(w: World | None, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, **WIDE}
    env.pop("BLS_FAULT_KILL_AT", None)
    env.update(extra or {})
    if w is not None and w.api_url:
        env["PREFECT_API_URL"] = w.api_url
    return env


def run_args(w: World) -> list[str]:
    return [
        sys.executable,
        "-m",
        "bls_refresh.cli",
        "run",
        "--source",
        w.server.base_url,
        "--data-dir",
        str(w.data_dir),
    ]


def bls_refresh(
    *args: str,
    w: World | None = None,
    extra: dict[str, str] | None = None,
    timeout: float = 120,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``bls-refresh ARGS`` as a user runs it: a real subprocess (``env``: instead of
    ``subprocess_env(w, extra)``)."""
    return subprocess.run(
        [sys.executable, "-m", "bls_refresh.cli", *args],
        capture_output=True,
        text=True,
        env=env if env is not None else subprocess_env(w, extra),
        timeout=timeout,
        check=False,
    )


def one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def assert_names_cause(output: str, scenario_id: str, only: list[int] | None = None) -> None:
    """Every printed fragment the README promises for the scenario is in ``output`` (``only``:
    which code spans this output must hold, for a scenario whose spans come from several
    commands)."""
    flat = one_line(output)
    for index, parts in enumerate(printed_parts(scenario_id)):
        if only is not None and index not in only:
            continue
        position = 0
        for part in parts:
            found = flat.find(part, position)
            assert found >= 0, f"{scenario_id}: {part!r} not in the output:\n{output}"
            position = found + len(part)
    record_scenario(scenario_id)


def assert_failed(result: Result, scenario_id: str, latest: str) -> str:
    """The run failed as a user sees it: exit 1, the cause, and latest left where it was."""
    assert result.exit_code == 1, (result.exit_code, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    stderr = result.stderr
    assert "Refresh failed:" in stderr or scenario_id == "no-contact-email", stderr
    assert_names_cause(stderr, scenario_id)
    if scenario_id != "no-contact-email":
        assert f"Nothing was published; latest is still {latest}." in stderr, stderr
    return stderr


def assert_succeeded(result: Result) -> str:
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


# -- invariants -------------------------------------------------------------------------------


def latest_of(data_dir: Path) -> str:
    return os.readlink(data_dir / "published" / "latest")


def assert_raw_store_clean(data_dir: Path) -> None:
    """No partial download anywhere: tmp/ is empty and every object hashes to its name."""
    raw = data_dir / "raw"
    assert not list((raw / "tmp").iterdir()), list((raw / "tmp").iterdir())
    for obj in (raw / "objects").glob("*/*"):
        assert sha256_file(obj) == obj.name, f"{obj} does not hash to its name"


def assert_intact(w: World, release_id: str, *, tmp_bundle_allowed: bool = False) -> None:
    """``latest`` is ``release_id``, every bundle matches its datapackage, raw store clean."""
    assert latest_of(w.data_dir) == release_id
    bundle = w.data_dir / "published" / release_id
    package = json.loads((bundle / "datapackage.json").read_text())
    assert package["version"] == release_id
    for resource in package["resources"]:
        assert sha256_file(bundle / resource["path"]) == resource["sha256"], resource["path"]
    problems, _ = verify(w.paths)
    assert problems == []
    assert_raw_store_clean(w.data_dir)
    if not tmp_bundle_allowed:
        assert not list((w.data_dir / "published").glob(".tmp-*"))
    assert not list((w.data_dir / "staging").glob("*/*"))


def lake_latest(w: World) -> str:
    last = load.latest_release(w.paths)
    assert last is not None
    return str(last["release_id"])


def quarantined(w: World) -> dict[str, bytes]:
    folder = w.data_dir / "raw" / "quarantine"
    return {p.name: p.read_bytes() for p in folder.iterdir()} if folder.exists() else {}


# -- editing the mirror -------------------------------------------------------------------------


@contextlib.contextmanager
def published_bytes(w: World, path: Path, data: bytes) -> Iterator[None]:
    """``path`` upstream holds ``data`` (newer date); the original bytes come back after."""
    original = path.read_bytes()
    path.write_bytes(data)
    w.touch_later(path)
    try:
        yield
    finally:
        path.write_bytes(original)
        w.touch_later(path)


@contextlib.contextmanager
def edited(w: World, path: Path, change: Callable[[str], str]) -> Iterator[None]:
    """Publish a changed file upstream; put the original bytes back (newer date) afterwards."""
    with published_bytes(w, path, change(path.read_bytes().decode()).encode()):
        yield


def median_of(text: str) -> int:
    start = text.index(MEDIAN_SERIES) + len(MEDIAN_SERIES)
    return int(text[start : start + 12])


def with_median(text: str, value: int | str) -> str:
    """29-2072's national annual median replaced, keeping BLS's 12-character padding."""
    start = text.index(MEDIAN_SERIES) + len(MEDIAN_SERIES)
    return text[:start] + str(value).rjust(12) + text[start + 12 :]


def bump_median(w: World) -> int:
    """Change one value upstream for good, so a new release is due; the new value."""
    path = w.oe_dir / DATA_FILE
    text = path.read_text()
    value = median_of(text) + 10
    path.write_text(with_median(text, value))
    w.touch_later(path)
    return value


# -- a server that stalls in the middle of a body -----------------------------------------------


def stall_mid_body(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let ``srv.fail(suffix, "slow", delay=0, stall=S)`` send half the body, then hang S s.

    The server runs in this process, so its handler can be patched for one test.
    """
    import blsserver

    original = blsserver._Handler._send_file

    def send_file(
        self: blsserver._Handler, info: _FileInfo, *, head: bool, fault: Fault | None
    ) -> None:
        if fault is None or not fault.opts.get("stall") or head:
            original(self, info, head=head, fault=fault)
            return
        size = info.size
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(size))
        self.send_header("Connection", "close")
        self.end_headers()
        with info.path.open("rb") as fh:
            self.wfile.write(fh.read(size // 2))
        self.wfile.flush()
        self.bls._stopping.wait(float(fault.opts["stall"]))
        self._abort()

    monkeypatch.setattr(blsserver._Handler, "_send_file", send_file)


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


class Reader(threading.Thread):
    """Calls ``read()`` in a loop until stopped, then once more; keeps results and errors."""

    def __init__(
        self, name: str, read: Callable[[], object], *, pause: float = 0.0, max_reads: int = 3000
    ) -> None:
        super().__init__(name=name, daemon=True)
        self.read = read
        self.pause = pause
        self.max_reads = max_reads
        self.results: list[object] = []
        self.errors: list[BaseException] = []
        self.stop = threading.Event()

    def _read_once(self) -> None:
        try:
            self.results.append(self.read())
        except BaseException as exc:
            self.errors.append(exc)

    def run(self) -> None:
        while not self.stop.is_set() and len(self.results) + len(self.errors) < self.max_reads:
            self._read_once()
            self.stop.wait(self.pause)
        self.stop.wait()
        self._read_once()  # after the refresh: must see the new release


# Fixtures shared by the fault modules (imported by name there): module scope gives each
# module its own world.
@pytest.fixture(scope="module")
def w(
    prefect_harness: None, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[World]:
    """A data dir, mirror and server for the whole module, with release A already made."""
    name = request.module.__name__.removeprefix("test_")
    with world(tmp_path_factory.mktemp(name)) as made:
        with hermetic_env():
            first_release(made)
        yield made


@pytest.fixture
def a(w: World) -> Iterator[str]:
    """The release every scenario starts from (``latest``, intact), with a quiet server."""
    w.server.clear_faults()
    w.server.clear_requests()
    release = latest_of(w.data_dir)
    assert_intact(w, release)
    yield release
    w.server.clear_faults()
