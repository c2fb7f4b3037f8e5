"""Shared fixtures. Every test is hermetic: its own data dir, mirror copy and environment."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

# Before anything imports Prefect.
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"

from blsserver import BlsServer

REPO = Path(__file__).resolve().parent.parent
SAMPLE_MIRROR = REPO / "sample_mirror"
# What the sample mirror holds (scripts/build_sample_mirror.py writes it; its README lists it):
SAMPLE_ESTIMATES = 3043  # rows of oe.data.0.Current: 179 series × 17 datatypes
SAMPLE_PROJECTIONS = 36  # occupation rows of its 2024-34 occupation.xlsx
SHARED_SAMPLES = REPO.parent / "shared" / "bls-reference" / "samples"
OE_DIR = "download.bls.gov/pub/time.series/oe"
CONTACT = "ops@example.org"


@pytest.fixture(autouse=True)
def hermetic_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("BLS_DATA_DIR", raising=False)
    monkeypatch.delenv("BLS_API_KEY", raising=False)
    monkeypatch.setenv("BLS_CONTACT_EMAIL", CONTACT)
    # Fast, deterministic retries: the policy is the same, only the clock is shorter.
    monkeypatch.setenv("BLS_HTTP_BACKOFF", "0.01")
    monkeypatch.setenv("BLS_HTTP_JITTER", "0")
    monkeypatch.setenv("BLS_HTTP_READ_TIMEOUT", "5")
    monkeypatch.chdir(tmp_path)


# The sample mirror's files carry BLS's release dates as Last-Modified; a git checkout gives
# them the checkout time instead, so each test's copy gets the dates back.
MIRROR_MTIMES = {
    "download.bls.gov": datetime(2025, 4, 2, 12, 0, tzinfo=UTC).timestamp(),
    "www.bls.gov": datetime(2025, 8, 28, 14, 0, tzinfo=UTC).timestamp(),
}


def copy_mirror(dest: Path) -> Path:
    """Copy the bundled sample mirror to ``dest``, with BLS's release dates as mtimes."""
    shutil.copytree(SAMPLE_MIRROR, dest)
    for host, stamp in MIRROR_MTIMES.items():
        for path in (dest / host).rglob("*"):
            if path.is_file():
                os.utime(path, (stamp, stamp))
    return dest


# The oe.occupation download.bls.gov serves since the May 2025 release: the description third.
OCCUPATION_2025_HEADER = (
    "occupation_code\toccupation_name\toccupation_description\tdisplay_level\tselectable"
    "\tsort_sequence"
)


def six_column_occupations(five_column: Path, dest: Path) -> Path:
    """The mirror's five-column oe.occupation rewritten in the current six-column layout."""
    lines = five_column.read_bytes().decode("utf-8").splitlines()
    assert lines[0].split("\t")[:2] == ["occupation_code", "occupation_name"]
    rows = [OCCUPATION_2025_HEADER]
    for line in lines[1:]:
        code, name, *rest = line.split("\t")
        description = "" if code == "000000" else f"Workers who do the work of {name.strip()}."
        rows.append("\t".join([code, name, description, *rest]))
    dest.write_bytes("".join(row + "\r\n" for row in rows).encode("utf-8"))
    return dest


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    """A private copy of the bundled sample mirror that a test may edit."""
    return copy_mirror(tmp_path / "mirror")


@pytest.fixture
def oe_dir(mirror: Path) -> Path:
    return mirror / OE_DIR


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def bls_server(mirror: Path) -> Iterator[BlsServer]:
    with BlsServer(mirror) as server:
        yield server


@pytest.fixture
def shared_samples() -> Path:
    if not SHARED_SAMPLES.is_dir():
        pytest.skip(f"real BLS samples not present at {SHARED_SAMPLES}")
    return SHARED_SAMPLES


@pytest.fixture
def real(shared_samples: Path) -> Path:
    """``samples/real/``: genuine BLS files of every era, with ``expected.csv``."""
    folder = shared_samples / "real"
    if not (folder / "expected.csv").is_file():
        pytest.skip(f"real BLS files not present at {folder}")
    return folder


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One Prefect test harness (temporary API and database) for the whole session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def prefect_api_env(prefect_harness: None) -> dict[str, str]:
    """What a CLI subprocess needs to use the session's Prefect API instead of starting one of
    its own (10 s each): every subprocess test of a command that runs a flow shares it."""
    from prefect.settings import PREFECT_API_URL

    return {"PREFECT_API_URL": str(PREFECT_API_URL.value())}


# -- the failure table: each scenario must actually run ------------------------------------------
# A scenario test calls record_scenario(id) once its checks passed (fault_helpers'
# assert_names_cause does it for every scenario whose output it checks). Each process appends
# to its own file in one folder the controlling process chose; when a whole run of the suite
# passed, pytest_sessionfinish fails it if a scenario of tests/faults/scenarios.py never ran.
SCENARIO_LOG = "BLS_TEST_SCENARIO_LOG"
_OWN_LOG = pytest.StashKey[bool]()


def record_scenario(scenario_id: str) -> None:
    folder = os.environ.get(SCENARIO_LOG)
    if folder:
        with (Path(folder) / f"{os.getpid()}.txt").open("a", encoding="utf-8") as log:
            log.write(scenario_id + "\n")


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput") and SCENARIO_LOG not in os.environ:
        import tempfile  # the controller (or a run without xdist): workers inherit the folder

        os.environ[SCENARIO_LOG] = tempfile.mkdtemp(prefix="bls-scenarios-")
        config.stash[_OWN_LOG] = True


def _whole_suite(config: pytest.Config) -> bool:
    """No selection narrowed the run: every scenario test was meant to run."""
    if config.option.keyword or config.option.markexpr or config.option.deselect:
        return False
    chosen = [Path(a).resolve() for a in config.args] or [REPO / "tests"]
    return all(path in (REPO / "tests", REPO) for path in chosen)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    folder = os.environ.get(SCENARIO_LOG)
    if hasattr(config, "workerinput") or not folder:
        return
    ran = {
        line.strip()
        for log in Path(folder).glob("*.txt")
        for line in log.read_text(encoding="utf-8").splitlines()
    }
    if config.stash.get(_OWN_LOG, False):
        shutil.rmtree(folder, ignore_errors=True)
    if exitstatus != 0 or not _whole_suite(config):
        return
    import sys

    sys.path.insert(0, str(REPO / "tests" / "faults"))
    from scenarios import SCENARIOS

    missing = [s.id for s in SCENARIOS if s.id not in ran]
    if missing:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        print(f"\nfailure-table scenarios that no test ran to the end: {missing}", file=sys.stderr)
