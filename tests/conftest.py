"""Shared fixtures. Every test is hermetic: its own data dir, mirror copy and environment.

Test modules import nothing from ``tests/``: what several folders share is a fixture here
(what one folder shares, a fixture in that folder's conftest.py). The local BLS-like server is
the plugin ``tests/blsserver.py`` (its fixtures: ``bls_server``, ``bls_server_class``, …).

- the repository and its bundled sample mirror: ``repo``, ``sample_mirror`` (read only),
  ``sample_estimates`` and ``sample_projections`` (what it holds), ``oe_path`` (where the OEWS
  time series sit in a mirror and on the server), ``contact``, ``hermetic_settings``;
- a test's own copies: ``mirror``, ``oe_dir``, ``data_dir``, ``copy_mirror``,
  ``six_column_occupations``;
- BLS's real files: ``shared_samples``, ``real`` (skip when absent);
- releases without Prefect: ``manifest_rows``, ``make_release``, ``set_median``; the CLI as a
  subprocess: ``bls_refresh``, ``wrapped_cli``;
- workbooks: ``write_xlsx`` (rows → sheets), ``oesm`` (OEWS special-request files);
- Prefect: ``prefect_harness``, ``prefect_api_env``;
- the failure table: ``record_scenario`` (and the end-of-run check below).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import pytest
import xlsxwriter

# Before anything imports Prefect.
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"

from extractors.rawstore import sha256_file

if TYPE_CHECKING:
    from core.paths import DataPaths

pytest_plugins = ["tests.blsserver"]  # the local BLS-like server and its fixtures

REPO = Path(__file__).resolve().parent.parent
SAMPLE_MIRROR = REPO / "sample_mirror"
# What the sample mirror holds (scripts/build_sample_mirror.py writes it; its README lists it):
SAMPLE_ESTIMATES = 3043  # rows of oe.data.0.Current: 179 series × 17 datatypes
SAMPLE_PROJECTIONS = 36  # occupation rows of its 2024-34 occupation.xlsx
SHARED_SAMPLES = REPO.parent / "shared" / "bls-reference" / "samples"
OE_DIR = "download.bls.gov/pub/time.series/oe"
CONTACT = "ops@example.org"
# The environment every test runs in (module-scoped fixtures set it themselves: they are set
# up before hermetic_env applies).
HERMETIC_SETTINGS = {
    "BLS_CONTACT_EMAIL": CONTACT,
    # Fast, deterministic retries: the policy is the same, only the clock is shorter.
    "BLS_HTTP_BACKOFF": "0.01",
    "BLS_HTTP_JITTER": "0",
    "BLS_HTTP_READ_TIMEOUT": "5",
}


@pytest.fixture(autouse=True)
def hermetic_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("BLS_DATA_DIR", raising=False)
    monkeypatch.delenv("BLS_API_KEY", raising=False)
    for name, value in HERMETIC_SETTINGS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def hermetic_settings() -> dict[str, str]:
    """The variables ``hermetic_env`` sets, for a module-scoped fixture or a child process."""
    return dict(HERMETIC_SETTINGS)


@pytest.fixture(scope="session")
def repo() -> Path:
    """The checkout's top folder (README.md, prefect.yaml, figures.yaml, …)."""
    return REPO


@pytest.fixture(scope="session")
def sample_mirror() -> Path:
    """The bundled sample mirror itself: read it, never edit it (``mirror`` is a copy)."""
    return SAMPLE_MIRROR


@pytest.fixture(scope="session")
def sample_estimates() -> int:
    """Rows of the sample mirror's oe.data.0.Current (its oews_estimates rows)."""
    return SAMPLE_ESTIMATES


@pytest.fixture(scope="session")
def sample_projections() -> int:
    """Occupation rows of the sample mirror's 2024-34 occupation.xlsx."""
    return SAMPLE_PROJECTIONS


@pytest.fixture(scope="session")
def oe_path() -> str:
    """Where the OEWS time-series files sit in a mirror folder, and on the local server."""
    return OE_DIR


@pytest.fixture(scope="session")
def contact() -> str:
    """The BLS_CONTACT_EMAIL every test runs with."""
    return CONTACT


# The sample mirror's files carry BLS's release dates as Last-Modified; a git checkout gives
# them the checkout time instead, so each test's copy gets the dates back.
MIRROR_MTIMES = {
    "download.bls.gov": datetime(2025, 4, 2, 12, 0, tzinfo=UTC).timestamp(),
    "www.bls.gov": datetime(2025, 8, 28, 14, 0, tzinfo=UTC).timestamp(),
}


def _copy_mirror(dest: Path) -> Path:
    """Copy the bundled sample mirror to ``dest``, with BLS's release dates as mtimes."""
    shutil.copytree(SAMPLE_MIRROR, dest)
    for host, stamp in MIRROR_MTIMES.items():
        for path in (dest / host).rglob("*"):
            if path.is_file():
                os.utime(path, (stamp, stamp))
    return dest


@pytest.fixture(scope="session")
def copy_mirror() -> Callable[[Path], Path]:
    """``copy_mirror(dest)``: a copy of the sample mirror at ``dest``, BLS's dates as mtimes."""
    return _copy_mirror


# The oe.occupation download.bls.gov serves since the May 2025 release: the description third.
OCCUPATION_2025_HEADER = (
    "occupation_code\toccupation_name\toccupation_description\tdisplay_level\tselectable"
    "\tsort_sequence"
)


def _six_column_occupations(five_column: Path, dest: Path) -> Path:
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


@pytest.fixture(scope="session")
def six_column_occupations() -> Callable[[Path, Path], Path]:
    """``six_column_occupations(five_column, dest)``: the mirror's five-column oe.occupation
    rewritten at ``dest`` in the six-column layout served since May 2025."""
    return _six_column_occupations


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    """A private copy of the bundled sample mirror that a test may edit."""
    return _copy_mirror(tmp_path / "mirror")


@pytest.fixture
def oe_dir(mirror: Path) -> Path:
    return mirror / OE_DIR


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


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


# -- releases without Prefect (stage → load → publish), and the CLI as a subprocess ----------


# The row of oe.data.0.Current holding 29-2072's national annual median (datatype 13).
MEDIAN_SERIES = "OEUN000000000000029207213     \t2024\tA01\t"


def _manifest_rows(files: dict[str, Path]) -> dict[str, dict[str, object]]:
    return {
        name: {
            "url": f"file://{path}",
            "fetched_at": "2026-11-28T00:00:00+00:00",
            "status": 200,
            "bytes": path.stat().st_size,
            "sha256": sha256_file(path),
            "etag": None,
            "last_modified": None,
            "path": None,
        }
        for name, path in files.items()
    }


@pytest.fixture(scope="session")
def manifest_rows() -> Callable[[dict[str, Path]], dict[str, dict[str, object]]]:
    """``manifest_rows(files)``: the raw-store manifest rows of local files (name → path), as a
    stager's ``sources``."""
    return _manifest_rows


def _make_release(
    paths: DataPaths,
    mirror: Path,
    edit: Callable[[Path], None] | None = None,
    *,
    with_soc: bool = False,
) -> str:
    """Stage OEWS and projections (and the SOC crosswalk, ``with_soc``) from ``mirror``
    (after ``edit(mirror)``), load and publish."""
    from extractors.oews import FILES
    from extractors.projections import FILE as EP_FILE
    from extractors.projections import PATH as EP_PATH
    from figures.spec import bundle_writer
    from flows.sources import SOURCES
    from warehouse import load, publish

    if edit is not None:
        edit(mirror)
    rid = load.plan_release_id(paths)
    oe_files = {name: mirror / OE_DIR / name for name in FILES}
    workbook = mirror / "www.bls.gov" / EP_PATH
    ep_files = {EP_FILE: workbook}
    staged = [  # each under its registry entry's load policy, as the flows stage them
        SOURCES["oews"].stage(
            oe_files, paths.staging / rid / "oews", rid, _manifest_rows(oe_files)
        ),
        SOURCES["projections"].stage(
            ep_files, paths.staging / rid / "projections", rid, _manifest_rows(ep_files)
        ),
    ]
    if with_soc:
        from extractors import soc

        xwalk = {soc.FILE: mirror / "www.bls.gov" / soc.PATH}
        staged.append(
            SOURCES["soc"].stage(xwalk, paths.staging / rid / "soc", rid, _manifest_rows(xwalk))
        )
    made = load.load_release(paths, rid, staged)
    assert made is not None, "nothing changed in the mirror: no release was made"
    publish.publish(paths, rid, extras=[bundle_writer()])
    return rid


@pytest.fixture(scope="session")
def make_release() -> Callable[..., str]:
    """``make_release(paths, mirror, edit=None, with_soc=False)``: stage OEWS and projections
    (and the SOC crosswalk) from ``mirror`` (after ``edit(mirror)``), load and publish, without
    Prefect; the release id."""
    return _make_release


def _set_median(mirror: Path, new: str) -> None:
    """Overwrite 29-2072's national annual median in place, keeping BLS's 12-char padding."""
    path = mirror / OE_DIR / "oe.data.0.Current"
    text = path.read_text()
    start = text.index(MEDIAN_SERIES) + len(MEDIAN_SERIES)
    assert text[start : start + 12].strip() != ""
    path.write_text(text[:start] + new.rjust(12) + text[start + 12 :])


@pytest.fixture(scope="session")
def set_median() -> Callable[[Path, str], None]:
    """``set_median(mirror, new)``: 29-2072's national annual median in ``mirror`` becomes
    ``new`` (BLS's 12-character padding kept)."""
    return _set_median


def _bls_refresh(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI as a user runs it: a real subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "bls_refresh.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="session")
def bls_refresh() -> Callable[..., subprocess.CompletedProcess[str]]:
    """``bls_refresh(*args)``: the CLI as a user runs it, a real subprocess (200 columns)."""
    return _bls_refresh


# Runs the CLI with its arguments; prints at exit whether prefect / pandas were imported.
WRAPPED = textwrap.dedent(
    """
    import atexit, sys
    atexit.register(
        lambda: print("MODULES", "prefect" in sys.modules, "pandas" in sys.modules, file=sys.stderr)
    )
    sys.argv = ["bls-refresh", *sys.argv[1:]]
    from bls_refresh.cli import main
    main()
    """
)


@pytest.fixture(scope="session")
def wrapped_cli() -> str:
    """Python source for ``python -c``: runs the CLI with its arguments, then prints to stderr
    ``MODULES <prefect imported> <pandas imported>``."""
    return WRAPPED


# -- workbooks ------------------------------------------------------------------------------------


Cell = str | int | float | None


def _write_xlsx(
    path: Path,
    sheets: Mapping[str, Sequence[Sequence[Cell]]],
    merges: Mapping[str, Sequence[tuple[int, int, int, int]]] | None = None,
) -> Path:
    """Write ``sheets`` (name → rows) as an xlsx; empty strings and None stay empty cells.

    ``merges`` (sheet → (first row, first col, last row, last col) ranges) merges cells as
    Excel does: the range shows its top-left value, the other cells are empty.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(path))
    workbook.set_properties({"created": datetime(2025, 8, 28)})
    for name, rows in sheets.items():
        sheet = workbook.add_worksheet(name)
        ranges = list((merges or {}).get(name, ()))
        covered = {(i, j) for r0, c0, r1, c1 in ranges for i in range(r0, r1 + 1)
                   for j in range(c0, c1 + 1)}  # fmt: skip
        for i, row in enumerate(rows):
            for j, value in enumerate(row):
                if value not in ("", None) and (i, j) not in covered:
                    sheet.write(i, j, value)
        for r0, c0, r1, c1 in ranges:
            value = rows[r0][c0] if c0 < len(rows[r0]) else ""
            sheet.merge_range(r0, c0, r1, c1, "" if value is None else value)
    workbook.close()
    return path


@pytest.fixture(scope="session")
def write_xlsx() -> Callable[..., Path]:
    """``write_xlsx(path, sheets, merges=None)``: ``sheets`` (name → rows) written as an xlsx,
    cells merged as ``merges`` says (sheet → (row, col, last row, last col) ranges)."""
    return _write_xlsx


class OesmWorkbooks:
    """Small OEWS special-request workbooks in the real layouts (values illustrative): the
    ``oesm`` fixture."""

    HEADER_2023: ClassVar[list[str]] = [
        "AREA", "AREA_TITLE", "AREA_TYPE", "PRIM_STATE", "NAICS", "NAICS_TITLE", "I_GROUP",
        "OWN_CODE", "OCC_CODE", "OCC_TITLE", "O_GROUP", "TOT_EMP", "EMP_PRSE", "PCT_TOTAL",
        "PCT_RPT", "H_MEAN", "A_MEAN", "MEAN_PRSE", "H_PCT10", "H_PCT25", "H_MEDIAN", "H_PCT75",
        "H_PCT90", "A_PCT10", "A_PCT25", "A_MEDIAN", "A_PCT75", "A_PCT90", "ANNUAL", "HOURLY",
    ]  # fmt: skip
    NATIONAL: ClassVar[list[object]] = [
        "99", "U.S.", 1, "US", "000000", "Cross-industry", "cross-industry", 1235,
    ]  # fmt: skip
    ROWS_2023: ClassVar[list[list[object]]] = [
        [*NATIONAL, "00-0000", "All Occupations", "total", 151853870, 0.1, None, None,
         31.48, 65470, 0.1, 14.29, 17.48, 23.11, 36.74, 58.10, 29720, 36360, 48060, 76410, 120850,
         None, None],
        [*NATIONAL, "29-2072", "Medical Records Specialists", "detailed", 186460, 1.1, None, None,
         24.56, 51090, 0.4, 17.10, 18.87, 23.45, 28.63, 37.40, 35570, 39250, 48780, 59560, 77810,
         None, None],
        [*NATIONAL, "29-1211", "Anesthesiologists", "detailed", 29890, 4.5, None, None,
         "#", "#", 2.4, 72.30, "#", "#", "#", "#", 150380, "#", "#", "#", "#", None, None],
        [*NATIONAL, "27-2011", "Actors", "detailed", 51370, 6.6, None, None,
         27.73, "*", 5.2, 13.80, 17.00, 23.76, 35.38, 57.05, "*", "*", "*", "*", "*", None, "TRUE"],
    ]  # fmt: skip
    FIELD_DESCRIPTIONS: ClassVar[list[list[object]]] = [
        ["May {year} OEWS Estimates"],
        ["Field", "Field Description"],
        ["*", "= indicates that a wage estimate is not available"],
        ["**", "= indicates that an employment estimate is not available"],
        ["#", "= indicates a wage equal to or greater than $115.00 per hour or $239,200 per year"],
    ]

    @classmethod
    def write_workbook(
        cls,
        path: Path,
        header: list[str],
        rows: list[list[object]],
        year: int = 2023,
        *,
        sheet: str | None = None,
        descriptions: list[list[object]] | None = FIELD_DESCRIPTIONS,
    ) -> Path:
        """A data sheet (``national_M{year}_dl`` unless named) and, unless ``descriptions`` is
        None, a ``Field Descriptions`` sheet (its text formatted with the year)."""
        return cls.write_sheets(
            path, {sheet or f"national_M{year}_dl": (header, rows)}, year, descriptions=descriptions
        )

    @staticmethod
    def write_sheets(
        path: Path,
        sheets: dict[str, tuple[list[str], list[list[object]]]],
        year: int = 2023,
        *,
        descriptions: list[list[object]] | None = FIELD_DESCRIPTIONS,
    ) -> Path:
        """One data sheet per entry (name → header, rows), then the ``Field Descriptions`` sheet
        unless ``descriptions`` is None."""
        book = xlsxwriter.Workbook(str(path))
        for name, (header, rows) in sheets.items():
            data = book.add_worksheet(name)
            for j, column in enumerate(header):
                data.write(0, j, column)
            for i, row in enumerate(rows, start=1):
                for j, value in enumerate(row):
                    if value is not None:
                        data.write(i, j, value)
        if descriptions is not None:
            notes = book.add_worksheet("Field Descriptions")
            for i, row in enumerate(descriptions):
                for j, value in enumerate(row):
                    notes.write_string(i, j, str(value).format(year=year))
        book.close()
        return path

    @staticmethod
    def write_descriptions(
        path: Path, year: int, rows: list[list[object]] = FIELD_DESCRIPTIONS
    ) -> Path:
        """A separate ``field_descriptions.xlsx`` as in the 2012–2018 zips."""
        book = xlsxwriter.Workbook(str(path))
        notes = book.add_worksheet("Field_descriptions")
        for i, row in enumerate(rows):
            for j, value in enumerate(row):
                notes.write_string(i, j, str(value).format(year=year))
        book.close()
        return path

    @staticmethod
    def zip_of(archive: Path, members: dict[str, Path | bytes]) -> Path:
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, content in members.items():
                if isinstance(content, Path):
                    zf.write(content, name)
                else:
                    zf.writestr(name, content)
        return archive

    @classmethod
    def national_2023_zip(cls, folder: Path, rows: list[list[object]] | None = None) -> Path:
        xlsx = cls.write_workbook(
            folder / "national_M2023_dl.xlsx", cls.HEADER_2023, rows or cls.ROWS_2023
        )
        archive = folder / "oesm23nat.zip"
        with zipfile.ZipFile(archive, "w") as zf:
            zf.write(xlsx, "oesm23nat/national_M2023_dl.xlsx")
        return archive


@pytest.fixture(scope="session")
def oesm() -> OesmWorkbooks:
    """Small OEWS special-request workbooks and zips in the real layouts (``HEADER_2023``,
    ``ROWS_2023``, ``write_workbook``, ``national_2023_zip``, …)."""
    return OesmWorkbooks()


# -- the failure table: each scenario must actually run ------------------------------------------
# A scenario test calls record_scenario(id) once its checks passed (the fault suite's
# assert_names_cause does it for every scenario whose output it checks). Each process appends
# to its own file in one folder the controlling process chose; when a whole run of the suite
# passed, pytest_sessionfinish fails it if a scenario of tests/faults/scenarios.py never ran.
SCENARIO_LOG = "BLS_TEST_SCENARIO_LOG"
_OWN_LOG = pytest.StashKey[bool]()


def _record_scenario(scenario_id: str) -> None:
    folder = os.environ.get(SCENARIO_LOG)
    if folder:
        with (Path(folder) / f"{os.getpid()}.txt").open("a", encoding="utf-8") as log:
            log.write(scenario_id + "\n")


@pytest.fixture(scope="session")
def record_scenario() -> Callable[[str], None]:
    """``record_scenario(id)``: the failure-table scenario ``id`` ran and its checks passed."""
    return _record_scenario


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput") and SCENARIO_LOG not in os.environ:
        import tempfile  # the controller (or a run without xdist): workers inherit the folder

        os.environ[SCENARIO_LOG] = tempfile.mkdtemp(prefix="bls-scenarios-")
        config.stash[_OWN_LOG] = True


def _whole_suite(config: pytest.Config) -> bool:
    """No selection narrowed the run (and it ran): every scenario test was meant to run."""
    if config.option.keyword or config.option.markexpr or config.option.deselect:
        return False
    if config.option.collectonly:
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
    from tests.faults.scenarios import SCENARIOS  # the table's data (README's table comes from it)

    missing = [s.id for s in SCENARIOS if s.id not in ran]
    if missing:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        print(f"\nfailure-table scenarios that no test ran to the end: {missing}", file=sys.stderr)
