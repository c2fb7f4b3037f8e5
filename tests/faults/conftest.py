"""Fixtures of the fault-injection suite: its worlds, its helpers and its scenario table.

A ``World`` is one data directory with a private mirror copy and a local BLS-like server. The
scenario modules build one world per module and run their scenarios on it one after another
(the first good run of a world is release A; each scenario starts from whatever release is
``latest`` and checks it is intact), which keeps the suite within a few minutes: a refresh costs
seconds, a fresh world per scenario would triple the time.

- ``w``: the module's world, release A already made (module scope: one world per module);
  ``a``: the release each scenario starts from (``latest``, intact, the server quiet);
- ``faults``: the suite's helpers and constants (a ``FaultKit``): worlds of a test's own
  (``faults.world(root)``), the CLI in process and as a subprocess (``faults.cli_run(w)``,
  ``faults.bls_refresh(…)``), what a run must leave (``faults.assert_failed``,
  ``faults.assert_intact``, …), editing the mirror (``faults.edited``, ``faults.bump_median``,
  …) and the real processes of the scheduling tests (``faults.Spawned``,
  ``faults.prefect_server``, …);
- ``scenarios``: ``tests/faults/scenarios.py``, the failure table's data (``SCENARIOS``,
  ``COVERED_ELSEWHERE``, ``CHECK_KEPT``, ``printed_parts``, …), loaded by path: it is also the
  script that prints README.md's table.

A server that stalls in the middle of a body is the ``stall_mid_body`` fixture of the server
plugin (``tests/blsserver.py``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, ClassVar

import psutil
import pytest
from click.testing import Result
from typer.testing import CliRunner

from bls_refresh.cli import app
from core.paths import DataPaths
from extractors.rawstore import sha256_file
from flows.refresh import refresh as refresh_flow
from flows.runtime import api_answers, free_port
from warehouse import load
from warehouse.verify import verify

if TYPE_CHECKING:
    from flows.release import RefreshOutcome
    from tests.blsserver import BlsServer

HERE = Path(__file__).resolve().parent
DATA_FILE = "oe.data.0.Current"
# The row of oe.data.0.Current holding 29-2072's national annual median (datatype 13).
MEDIAN_SERIES = "OEUN000000000000029207213     \t2024\tA01\t"
MEDIAN_A = 50250
# Rich wraps at 80 columns when not on a terminal: keep a message on one line.
WIDE = {"COLUMNS": "1000"}
# What a scheduling test's processes share: a private Prefect home (database, profiles; never
# the user's ~/.prefect), no UI to build, no telemetry, and a runner that polls every second
# instead of every ten so that a scheduled run starts soon after it is due.
PREFECT_TEST_SETTINGS = {
    "PREFECT_SERVER_UI_ENABLED": "false",
    "PREFECT_UI_ENABLED": "false",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_RUNNER_POLL_FREQUENCY": "1",
    "PREFECT_LOGGING_LEVEL": "INFO",
}


@dataclasses.dataclass
class World:
    mirror: Path
    data_dir: Path
    server: BlsServer
    api_url: str | None  # the test harness's Prefect API, for CLI subprocesses
    oe_path: str  # where the OEWS time series sit in the mirror
    _stamp: float = 0.0

    @property
    def oe_dir(self) -> Path:
        return self.mirror / self.oe_path

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
        for part in resource.get("parts") or [resource]:  # a partitioned table: its files
            assert sha256_file(bundle / part["path"]) == part["sha256"], part["path"]
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


# -- waiting and reading while something else runs ----------------------------------------------


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


# -- real processes for the scheduling tests: a Prefect server, `bls-refresh serve`, a worker ----
# Every process a test starts is a ``Spawned``: its output goes to a log file (a pipe nobody
# reads would fill and block it), and every descendant it is ever seen to have is remembered, so
# that ``kill_tree`` in a ``finally`` ends them all even after the parent has died and its
# children were handed to init.


class Spawned:
    """A child process started in a session of its own, its output in ``log``."""

    def __init__(
        self, args: Sequence[str], env: dict[str, str], log: Path, cwd: Path | None = None
    ) -> None:
        self.log = log
        with log.open("wb") as sink:
            self.process = subprocess.Popen(
                list(args),
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.seen: dict[int, psutil.Process] = {}
        with contextlib.suppress(psutil.NoSuchProcess):
            self.seen[self.process.pid] = psutil.Process(self.process.pid)

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def descendants(self) -> list[psutil.Process]:
        """The process's descendants now; each is also remembered for ``kill_tree``."""
        try:
            found = psutil.Process(self.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        for child in found:
            self.seen.setdefault(child.pid, child)
        return found

    def alive(self) -> bool:
        self.descendants()
        return self.process.poll() is None

    def survivors(self) -> list[str]:
        """Every process ever seen in the tree that still runs (a zombie has ended)."""
        left = []
        for proc in self.seen.values():
            with contextlib.suppress(psutil.NoSuchProcess):
                # is_running() also checks the start time, so a reused pid does not count.
                if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                    left.append(f"{proc.pid} {' '.join(proc.cmdline())[:200]}")
        return left

    def kill_tree(self) -> None:
        """SIGKILL whatever is left of the tree; for ``finally`` blocks."""
        self.descendants()
        for proc in self.seen.values():
            with contextlib.suppress(psutil.NoSuchProcess):
                if proc.is_running():
                    proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)


def wait_until(
    condition: Callable[[], bool], timeout: float, what: str, *, alive: Spawned | None = None
) -> None:
    """Poll ``condition``; fail with ``alive``'s output if it dies or time runs out first."""
    deadline = time.monotonic() + timeout
    while not condition():
        if alive is not None and not alive.alive():
            raise AssertionError(
                f"{alive.process.args!r} exited ({alive.process.returncode}) while waiting for "
                f"{what}:\n{alive.output()[-6000:]}"
            )
        if time.monotonic() > deadline:
            tail = f":\n{alive.output()[-6000:]}" if alive is not None else ""
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}{tail}")
        time.sleep(0.2)


# -- the kit ------------------------------------------------------------------------------------


class FaultKit:
    """The ``faults`` fixture: the suite's constants and helpers, in one place.

    What needs nothing but its arguments is a plain function of this module; what needs the
    session's settings (the contact, the sample mirror, the scenario log) is a method.
    """

    DATA_FILE = DATA_FILE
    MEDIAN_SERIES = MEDIAN_SERIES
    MEDIAN_A = MEDIAN_A
    WIDE: ClassVar[dict[str, str]] = WIDE
    PREFECT_TEST_SETTINGS: ClassVar[dict[str, str]] = PREFECT_TEST_SETTINGS

    World = World
    Reader = Reader
    Spawned = Spawned

    # the CLI
    cli = staticmethod(cli)
    cli_run = staticmethod(cli_run)
    subprocess_env = staticmethod(subprocess_env)
    run_args = staticmethod(run_args)
    bls_refresh = staticmethod(bls_refresh)
    one_line = staticmethod(one_line)
    assert_succeeded = staticmethod(assert_succeeded)
    # what a run leaves
    latest_of = staticmethod(latest_of)
    assert_raw_store_clean = staticmethod(assert_raw_store_clean)
    assert_intact = staticmethod(assert_intact)
    lake_latest = staticmethod(lake_latest)
    quarantined = staticmethod(quarantined)
    # the mirror
    published_bytes = staticmethod(published_bytes)
    edited = staticmethod(edited)
    median_of = staticmethod(median_of)
    with_median = staticmethod(with_median)
    bump_median = staticmethod(bump_median)
    # waiting
    wait_for = staticmethod(wait_for)
    wait_until = staticmethod(wait_until)

    def __init__(
        self,
        *,
        contact: str,
        oe_path: str,
        settings: dict[str, str],
        server_class: type[BlsServer],
        copy_mirror: Callable[[Path], Path],
        record_scenario: Callable[[str], None],
        scenarios: ModuleType,
    ) -> None:
        self.contact = contact
        self.oe_path = oe_path
        # tests/conftest.py's hermetic environment, for module-scoped setup and child processes
        self.settings = settings
        self._server_class = server_class
        self._copy_mirror = copy_mirror
        self._record_scenario = record_scenario
        self._scenarios = scenarios

    # -- worlds ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def world(self, root: Path) -> Iterator[World]:
        """A private mirror copy (BLS's dates as mtimes), a server on it, an empty data dir."""
        mirror = self._copy_mirror(root / "mirror")
        with self._server_class(mirror) as server:
            yield World(mirror, root / "data", server, prefect_api_url(), self.oe_path)

    @contextlib.contextmanager
    def hermetic_env(self) -> Iterator[None]:
        """tests/conftest.py's environment, for module-scoped fixtures (set up before it
        applies)."""
        with pytest.MonkeyPatch.context() as mp:
            mp.delenv("BLS_DATA_DIR", raising=False)
            for name, value in self.settings.items():
                mp.setenv(name, value)
            yield

    def refresh(self, w: World) -> RefreshOutcome:
        """The real Prefect flow, in process (needs the ``prefect_harness`` fixture)."""
        return refresh_flow(
            data_dir=str(w.data_dir), source=w.server.base_url, contact=self.contact
        )

    def first_release(self, w: World) -> str:
        outcome = self.refresh(w)
        assert outcome.changed and outcome.release_id is not None
        assert latest_of(w.data_dir) == outcome.release_id
        return outcome.release_id

    # -- what the user sees --------------------------------------------------------------------

    def assert_names_cause(
        self, output: str, scenario_id: str, only: list[int] | None = None
    ) -> None:
        """Every printed fragment the README promises for the scenario is in ``output``
        (``only``: which code spans this output must hold, for a scenario whose spans come
        from several commands)."""
        flat = one_line(output)
        for index, parts in enumerate(self._scenarios.printed_parts(scenario_id)):
            if only is not None and index not in only:
                continue
            position = 0
            for part in parts:
                found = flat.find(part, position)
                assert found >= 0, f"{scenario_id}: {part!r} not in the output:\n{output}"
                position = found + len(part)
        self._record_scenario(scenario_id)

    def assert_failed(self, result: Result, scenario_id: str, latest: str) -> str:
        """The run failed as a user sees it: exit 1, the cause, and latest left where it was."""
        assert result.exit_code == 1, (result.exit_code, result.output, result.exception)
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            result.exception
        )
        stderr = result.stderr
        assert "Refresh failed:" in stderr or scenario_id == "no-contact-email", stderr
        self.assert_names_cause(stderr, scenario_id)
        if scenario_id != "no-contact-email":
            assert f"Nothing was published; latest is still {latest}." in stderr, stderr
        return stderr

    # -- the scheduling tests' processes -------------------------------------------------------

    def prefect_env(self, home: Path, api_url: str | None = None, **extra: str) -> dict[str, str]:
        """The environment of a child process: the hermetic test settings, Prefect at ``home``.

        Without ``api_url`` no PREFECT_API_URL is passed on, whatever this process has, so that
        ``serve`` has to start its own server as it does for a user without one.
        """
        env = {**os.environ, **self.settings, **WIDE, **PREFECT_TEST_SETTINGS}
        env.pop("PREFECT_API_URL", None)
        env.pop("BLS_DATA_DIR", None)
        env.pop("BLS_FAULT_KILL_AT", None)
        env["PREFECT_HOME"] = str(home)
        if api_url is not None:
            env["PREFECT_API_URL"] = api_url
        env.update(extra)
        return env

    @contextlib.contextmanager
    def prefect_server(self, home: Path, log: Path) -> Iterator[tuple[str, Spawned]]:
        """``prefect server start`` on a free port with its database in ``home``: (API URL,
        process)."""
        port = free_port()
        api_url = f"http://127.0.0.1:{port}/api"
        args = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1"]
        server = Spawned([*args, "--port", str(port)], self.prefect_env(home), log)
        try:
            wait_until(lambda: api_answers(api_url), 120, "the Prefect server", alive=server)
            yield api_url, server
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                server.process.wait(timeout=15)
            server.kill_tree()


# -- fixtures ---------------------------------------------------------------------------------


def _load_scenarios() -> ModuleType:
    """tests/faults/scenarios.py as a module, loaded by its path (once per process)."""
    name = "tests.faults.scenarios"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, HERE / "scenarios.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def scenarios() -> ModuleType:
    """``tests/faults/scenarios.py``: the failure table's data (``SCENARIOS``, ``BY_ID``,
    ``COVERED_ELSEWHERE``, ``CHECK_KEPT``, ``printed_parts``, ``table_rows``, ``render_table``)."""
    return _load_scenarios()


@pytest.fixture(scope="session")
def faults(
    contact: str,
    oe_path: str,
    hermetic_settings: dict[str, str],
    bls_server_class: type[BlsServer],
    copy_mirror: Callable[[Path], Path],
    record_scenario: Callable[[str], None],
    scenarios: ModuleType,
) -> FaultKit:
    """The suite's helpers and constants (see ``FaultKit`` and this module's docstring)."""
    return FaultKit(
        contact=contact,
        oe_path=oe_path,
        settings=hermetic_settings,
        server_class=bls_server_class,
        copy_mirror=copy_mirror,
        record_scenario=record_scenario,
        scenarios=scenarios,
    )


# Module scope gives each test module its own world.
@pytest.fixture(scope="module")
def w(
    prefect_harness: None,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
    faults: FaultKit,
) -> Iterator[World]:
    """A data dir, mirror and server for the whole module, with release A already made."""
    name = request.module.__name__.rpartition(".")[2].removeprefix("test_")
    with faults.world(tmp_path_factory.mktemp(name)) as made:
        with faults.hermetic_env():
            faults.first_release(made)
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
