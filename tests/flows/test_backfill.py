"""End-to-end: `backfill` of BLS's real special-request zips, served over HTTP by the local
BLS-like server as a mirror of www.bls.gov/oes/special-requests/.

The zips are the genuine ones of ../shared/bls-reference/samples/real/oesm/ (2022-2025 exist
there only as the loose workbook BLS put inside the zip: they are zipped the way BLS does,
``oesmYYnat/national_M20YY_dl.xlsx``).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pytest

from core.errors import FetchError
from core.paths import DataPaths
from extractors.oews_special import DIRECTORY, HOST

if TYPE_CHECKING:
    from flows.release import RefreshOutcome
    from tests.blsserver import BlsServer

pytestmark = pytest.mark.usefixtures("prefect_harness")

LOOSE = (2022, 2023, 2024, 2025)  # real workbooks whose zip is not at hand


@pytest.fixture
def mirror_copy(tmp_path: Path, real: Path) -> Path:
    """The test's own mirror of www.bls.gov/oes/special-requests/: every real zip at hand."""
    root = tmp_path / "history"
    folder = root / HOST / DIRECTORY
    folder.mkdir(parents=True)
    for archive in sorted((real / "oesm").glob("oesm*.zip")):
        shutil.copy(archive, folder / archive.name)
    for year in range(2016, 2020):  # the by-ownership workbook of each year's in4 zip
        yy = year % 100
        member = f"nat4d_M{year}_owner_dl.xlsx"
        with zipfile.ZipFile(folder / f"oesm{yy}in4.zip", "w", zipfile.ZIP_DEFLATED) as zf:
            zf.write(real / "oesm" / member, f"oesm{yy}in4/{member}")
    for year in LOOSE:
        yy = year % 100
        with zipfile.ZipFile(folder / f"oesm{yy}nat.zip", "w", zipfile.ZIP_DEFLATED) as zf:
            zf.write(
                real / "oesm" / f"national_M{year}_dl.xlsx", f"oesm{yy}nat/national_M{year}_dl.xlsx"
            )
    return root


@pytest.fixture
def server(mirror_copy: Path, bls_server_class: type[BlsServer]) -> Iterator[BlsServer]:
    with bls_server_class(mirror_copy) as srv:
        yield srv


@pytest.fixture(scope="session")
def backfill(contact: str) -> Callable[..., RefreshOutcome]:
    """``backfill(data_dir, server, years, parts=None)``: the flow in process."""

    def run(data_dir: Path, server: BlsServer, years: str, **kwargs: Any) -> RefreshOutcome:
        from flows.backfill import backfill as flow

        return flow(
            years=years, data_dir=str(data_dir), source=server.base_url, contact=contact, **kwargs
        )

    return run


def estimate(data_dir: Path, soc: str, year: int, measure: str) -> float | None:
    bundle = data_dir / "published" / "latest" / "oews_estimates" / "*.parquet"
    row = duckdb.sql(
        f"SELECT value FROM '{bundle}' WHERE soc_code = ? AND reference_year = ? AND "
        "measure = ? AND area_code = '0000000' AND industry_code = '000000'",
        params=[soc, year, measure],
    ).fetchone()
    return None if row is None or row[0] is None else float(row[0])


def zip_gets(server: BlsServer) -> dict[str, list[int]]:
    """zip name → the statuses of its GETs, in order."""
    out: dict[str, list[int]] = {}
    for r in server.requests:
        if r.method == "GET" and r.path.endswith(".zip"):
            out.setdefault(r.path.rsplit("/", 1)[-1], []).append(r.status)
    return out


def test_backfill_loads_years_over_http_with_progress_and_a_repeat_makes_no_release(
    data_dir: Path,
    server: BlsServer,
    backfill: Callable[..., RefreshOutcome],
    contact: str,
) -> None:
    progress: list[str] = []

    class Heard(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            progress.append(record.getMessage())

    heard = Heard(logging.INFO)
    logger = logging.getLogger("bls_refresh.progress")
    logger.addHandler(heard)  # Prefect's logging set-up replaces the root's handlers
    level = logger.level
    logger.setLevel(logging.INFO)  # as flows/prefect_logging.yml sets it for the CLI
    try:
        outcome = backfill(data_dir, server, "2016-2018")
    finally:
        logger.removeHandler(heard)
        logger.setLevel(level)
    assert outcome.changed
    # BLS's published values (real/README.md), one release for the three years
    assert estimate(data_dir, "29-2071", 2016, "annual_median") == 38040
    assert estimate(data_dir, "29-2071", 2017, "annual_median") == 39180
    assert estimate(data_dir, "29-2071", 2018, "annual_mean") == 44010
    assert estimate(data_dir, "00-0000", 2018, "employment") == 144733270
    assert len(os.listdir(data_dir / "published")) == 2  # the release and `latest`
    assert progress[0].startswith("[1/3] oesm16nat.zip (May 2016, national): downloaded, 0.2 MB")
    assert progress[-1].startswith("[3/3] oesm18nat.zip (May 2018, national): downloaded")
    # every request carried the contact; the server refuses one without
    assert all(contact in r.headers.get("User-Agent", "") for r in server.requests)

    again = backfill(data_dir, server, "2016-2018")
    assert not again.changed
    assert again.release_id == outcome.release_id
    assert "already loaded" in again.message
    gets = zip_gets(server)
    # the repeat asked conditionally and downloaded nothing
    assert gets == {
        name: [200, 304] for name in ("oesm16nat.zip", "oesm17nat.zip", "oesm18nat.zip")
    }
    conditional = [r for r in server.requests if r.status == 304]
    assert all(
        "If-None-Match" in r.headers or "If-Modified-Since" in r.headers for r in conditional
    )


def test_backfill_adds_years_to_the_same_series_across_the_soc_change(
    data_dir: Path,
    server: BlsServer,
    bls_server: BlsServer,
    backfill: Callable[..., RefreshOutcome],
    bls_refresh: Callable[..., subprocess.CompletedProcess[str]],
    contact: str,
) -> None:
    from flows.refresh import refresh

    # the SOC 2010 → 2018 crosswalk, from the sample mirror
    refresh(data_dir=str(data_dir), source=bls_server.base_url, contact=contact, kinds=["soc"])
    backfill(data_dir, server, "2017-2018")
    second = backfill(data_dir, server, "2019-2022")
    assert second.changed
    assert estimate(data_dir, "29-2098", 2019, "annual_median") == 42630  # hybrid code
    assert estimate(data_dir, "29-2072", 2022, "annual_median") == 47180

    shown = bls_refresh("series", "29-2072", "annual_median", "--data-dir", str(data_dir))
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    by_year = {line[:8]: line for line in lines if line.startswith("May 20")}
    assert "$39,180" in by_year["May 2017"] and "29-2071 (SOC 2010)" in by_year["May 2017"]
    assert "BREAK: SOC 2010 29-2071 was split into 29-2072 + 29-9021" in by_year["May 2018"]
    assert "no estimate under 29-2072" in by_year["May 2019"]
    assert "29-2098 Medical Dosimetrists, Medical Records Specialists" in by_year["May 2019"]
    assert "$46,660" in by_year["May 2021"] and "BREAK" not in by_year["May 2021"]
    assert "$47,180" in by_year["May 2022"]
    assert any(
        line.startswith("Caveat: BLS cautions that OEWS estimates are not designed")
        for line in lines
    )

    as_json = bls_refresh(
        "series",
        "15-1232",
        "annual_median",
        "--json",
        "--from",
        "2018",
        "--data-dir",
        str(data_dir),
    )
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    points = {p["year"]: p for p in data["points"]}
    assert sorted(points) == [2018, 2019, 2020, 2021, 2022]
    # a one-to-one succession (15-1151 -> 15-1232) joins without a break
    assert points[2018]["soc_code"] == "15-1151" and points[2018]["comparable"] is True
    assert points[2018]["value"] == 50980
    assert (
        points[2018]["source_url"] == "https://www.bls.gov/oes/2018/may/oes151151.htm"
    )  # as published then
    assert points[2018]["source_file"] == "oesm18nat.zip"
    assert points[2018]["top_code_in_force"] == 208000  # annual cap of May 2018
    assert points[2022]["top_code_in_force"] == 239200
    assert "not designed for comparisons over time" in data["caveat"]

    as_csv = bls_refresh("series", "29-2072", "annual_median", "--csv", "--data-dir", str(data_dir))
    assert as_csv.returncode == 0, as_csv.stderr
    header, *rows = as_csv.stdout.splitlines()
    assert header.split(",")[:2] == ["series_soc", "occupation"] and header.endswith(",caveat")
    assert len(rows) == 4  # 2017, 2018, 2021, 2022: the hybrid years have no 29-2072

    year = bls_refresh(
        "figure",
        "29-2071",
        "annual_median",
        "--year",
        "2017",
        "--json",
        "--data-dir",
        str(data_dir),
    )
    assert year.returncode == 0, year.stderr
    figure = json.loads(year.stdout)
    assert figure["value"] == 39180
    assert figure["source_url"] == "https://www.bls.gov/oes/2017/may/oes292071.htm"
    assert figure["source_file"] == "oesm17nat.zip"

    old = bls_refresh("series", "29-2071", "annual_median", "--data-dir", str(data_dir))
    assert old.returncode == 2
    assert "29-2071 is a SOC 2010 code" in old.stderr and "29-9021" in old.stderr


def test_a_missing_year_fails_clearly_and_keeps_what_was_fetched(
    data_dir: Path, server: BlsServer, backfill: Callable[..., RefreshOutcome]
) -> None:
    with pytest.raises(FetchError, match=r"oesm14nat\.zip.*404"):
        backfill(data_dir, server, "2013-2016")  # BLS's 2014 zip is not in the mirror
    assert not (data_dir / "published").exists()
    # 2013's zip was stored before the failure: the rerun asks for it conditionally
    outcome = backfill(data_dir, server, "2012-2013")
    assert outcome.changed
    assert zip_gets(server)["oesm13nat.zip"] == [200, 304]
    assert estimate(data_dir, "29-2071", 2013, "annual_median") == 34970


def test_an_open_ended_range_skips_years_not_published_yet(
    data_dir: Path, mirror_copy: Path, server: BlsServer, backfill: Callable[..., RefreshOutcome]
) -> None:
    # the newest zips are "not published yet": the range runs through this year
    for year in (2024, 2025):
        (mirror_copy / HOST / DIRECTORY / f"oesm{year % 100}nat.zip").unlink()
    outcome = backfill(data_dir, server, "2022-")
    assert outcome.changed
    assert estimate(data_dir, "29-2072", 2023, "annual_median") == 48780
    assert estimate(data_dir, "29-2072", 2024, "annual_median") is None


def test_a_killed_backfill_resumes_where_it_stopped(
    data_dir: Path,
    server: BlsServer,
    backfill: Callable[..., RefreshOutcome],
    prefect_api_env: dict[str, str],
    contact: str,
) -> None:
    server.fail("oesm18nat.zip", "slow", delay=60)  # the third zip hangs: kill meanwhile
    env = {**os.environ, **prefect_api_env, "BLS_CONTACT_EMAIL": contact}
    child = subprocess.Popen(
        [sys.executable, "-m", "bls_refresh.cli", "backfill", "--oews-years", "2016-2018",
         "--source", server.base_url, "--data-dir", str(data_dir)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and "oesm18nat.zip" not in zip_gets(server):
            assert child.poll() is None, child.communicate()
            time.sleep(0.2)
        assert "oesm18nat.zip" in zip_gets(server), "the backfill never reached the third zip"
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    assert not (data_dir / "published").exists()
    server.clear_faults()

    outcome = backfill(data_dir, server, "2016-2018")
    assert outcome.changed
    gets = zip_gets(server)
    assert gets["oesm16nat.zip"] == [200, 304] and gets["oesm17nat.zip"] == [200, 304]
    assert gets["oesm18nat.zip"][-1] == 200  # the one it had not finished
    assert estimate(data_dir, "29-2071", 2018, "annual_median") == 40350


# -- the newest year twice: flat files and zip --------------------------------------------------

_LEVELS = (("00-0000", "total"), ("0000", "major"), ("000", "minor"), ("0", "broad"))
_COLUMNS = {  # HEADER_2023 column → our measure
    "TOT_EMP": "employment", "EMP_PRSE": "employment_prse", "H_MEAN": "hourly_mean",
    "A_MEAN": "annual_mean", "MEAN_PRSE": "mean_prse", "H_PCT10": "hourly_p10",
    "H_PCT25": "hourly_p25", "H_MEDIAN": "hourly_median", "H_PCT75": "hourly_p75",
    "H_PCT90": "hourly_p90", "A_PCT10": "annual_p10", "A_PCT25": "annual_p25",
    "A_MEDIAN": "annual_median", "A_PCT75": "annual_p75", "A_PCT90": "annual_p90",
}  # fmt: skip


def _level(soc: str) -> str:
    for suffix, level in _LEVELS:
        if soc.endswith(suffix):
            return level
    return "detailed"


def test_the_flat_files_win_and_a_disagreeing_zip_is_a_finding(
    data_dir: Path,
    mirror: Path,
    mirror_copy: Path,
    bls_server_class: type[BlsServer],
    contact: str,
    oesm: Any,
    backfill: Callable[..., RefreshOutcome],
) -> None:
    """May 2024 from the flat files, then its zip with every national figure equal but one."""
    from flows.refresh import refresh

    with bls_server_class(mirror) as flat:
        first = refresh(
            data_dir=str(data_dir), source=flat.base_url, contact=contact, kinds=["oews"]
        )
    assert first.changed
    bundle = data_dir / "published" / "latest" / "oews_estimates" / "*.parquet"
    held = duckdb.sql(
        f"SELECT soc_code, measure, value FROM '{bundle}' WHERE reference_year = 2024 AND "
        "area_code = '0000000' AND industry_code = '000000' AND status = 'ok'"
    ).fetchall()
    values: dict[str, dict[str, Any]] = {}
    for soc, measure, value in held:
        values.setdefault(soc, {})[measure] = value
    complete = sorted(s for s, v in values.items() if set(_COLUMNS.values()) <= set(v))
    assert "29-2072" in complete and len(complete) > 20
    header = oesm.HEADER_2023
    rows = []
    for soc in complete:
        row: list[object] = [*oesm.NATIONAL, soc, f"Occupation {soc}", _level(soc)]
        for column in header[len(row) :]:
            measure = _COLUMNS.get(column)
            value = values[soc][measure] if measure else None
            if soc == "29-2072" and measure == "annual_median":
                value = value + 10  # the planted disagreement
            row.append(None if value is None else float(value))
        rows.append(row)
    xlsx = oesm.write_workbook(mirror_copy / "national_M2024_dl.xlsx", header, rows, year=2024)
    target = mirror_copy / HOST / DIRECTORY / "oesm24nat.zip"
    oesm.zip_of(target, {"oesm24nat/national_M2024_dl.xlsx": xlsx})

    with bls_server_class(mirror_copy) as srv:
        outcome = backfill(data_dir, srv, "2023-2024")
    assert outcome.changed  # May 2023 is new
    finding = outcome.findings["oesm24nat.zip"]
    measures = len(_COLUMNS)
    assert finding["differ"] == 1
    assert finding["agree"] == len(complete) * measures - 1
    assert finding["unmatched"] == 0
    (example,) = finding["examples"]
    assert example["soc_code"] == "29-2072" and example["measure"] == "annual_median"
    assert float(example["flat_value"]) == 50250 and float(example["zip_value"]) == 50260
    # the flat files' value stays; the notes say which figure and both values
    assert estimate(data_dir, "29-2072", 2024, "annual_median") == 50250
    notes = (data_dir / "published" / "latest" / "RELEASE_NOTES.md").read_text()
    assert "## Findings" in notes
    assert "oesm24nat.zip: May 2024 is loaded from the time-series flat files, which win" in notes
    planted = "29-2072 annual_median (area 0000000, industry 000000, all): "
    assert planted + "flat files 50250.000, zip 50260.000" in notes
    assert estimate(data_dir, "29-2072", 2023, "annual_median") == 48780


def test_backfill_refuses_bad_options_before_starting(
    bls_refresh: Callable[..., subprocess.CompletedProcess[str]], data_dir: Path
) -> None:
    for args, message in (
        (["--oews-years", "2011-2013"], "the first year loaded is 2012"),
        (["--oews-years", "twenty"], "give a May year or a range"),
        (["--oews-years", "2020-2018"], "ends before it starts"),
        (["--files", "nat,zz"], "--files zz: unknown; choose from nat, st, ma, in4"),
    ):
        done = bls_refresh(
            "backfill", *args, "--source", str(data_dir), "--data-dir", str(data_dir)
        )
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert message in done.stderr
    helped = bls_refresh("backfill", "--help")
    assert "st (states, several MB a year: 3.8 MB for May 2012)" in " ".join(helped.stdout.split())


def test_area_accepts_a_state_name_or_postal_code_or_a_metro_name(
    data_dir: Path,
    mirror_copy: Path,
    server: BlsServer,
    backfill: Callable[..., RefreshOutcome],
    bls_refresh: Callable[..., subprocess.CompletedProcess[str]],
    oesm: Any,
) -> None:
    # No real metro zip is at hand: a small one in the 2023 layout (values illustrative).
    metro = [
        "39580",
        "Raleigh-Cary, NC",
        4,
        "NC",
        "000000",
        "Cross-industry",
        "cross-industry",
        1235,
    ]
    rows = [[*metro, *row[len(metro) :]] for row in oesm.ROWS_2023]
    xlsx = oesm.write_workbook(
        mirror_copy / "MSA_M2023_dl.xlsx", oesm.HEADER_2023, rows, sheet="MSA_M2023_dl"
    )
    oesm.zip_of(
        mirror_copy / HOST / DIRECTORY / "oesm23ma.zip", {"oesm23ma/MSA_M2023_dl.xlsx": xlsx}
    )

    outcome = backfill(data_dir, server, "2012", parts=["st"])
    assert outcome.changed
    assert backfill(data_dir, server, "2023", parts=["ma"]).changed
    for area in ("Raleigh", "raleigh-cary, nc", "0039580"):
        shown = bls_refresh(
            "figure",
            "29-2072",
            "annual_mean",
            "--area",
            area,
            "--json",
            "--data-dir",
            str(data_dir),
        )
        assert shown.returncode == 0, shown.stderr
        figure = json.loads(shown.stdout)
        assert (figure["value"], figure["area"]) == (51090, "Raleigh-Cary, NC")
        assert figure["reference"] == "May 2023" and figure["source_file"] == "oesm23ma.zip"
    for area in ("AL", "al", "Alabama", "0100000"):
        shown = bls_refresh(
            "figure",
            "29-2071",
            "annual_mean",
            "--year",
            "2012",
            "--area",
            area,
            "--json",
            "--data-dir",
            str(data_dir),
        )
        assert shown.returncode == 0, shown.stderr
        figure = json.loads(shown.stdout)
        assert figure["value"] == 30230 and figure["area"] == "Alabama"
        assert figure["source_file"] == "oesm12st.zip"
    total = bls_refresh(
        "figure",
        "00-0000",
        "employment",
        "--year",
        "2012",
        "--area",
        "AL",
        "--json",
        "--data-dir",
        str(data_dir),
    )
    assert json.loads(total.stdout)["value"] == 1824400
    miss = bls_refresh(
        "figure", "29-2071", "annual_mean", "--area", "Alabma", "--data-dir", str(data_dir)
    )
    assert miss.returncode == 2
    assert "Unknown area 'Alabma'" in miss.stderr and "0100000 (Alabama)" in miss.stderr
    assert DataPaths(data_dir).latest.exists()


def test_industry_files_keep_ownership(
    data_dir: Path,
    server: BlsServer,
    backfill: Callable[..., RefreshOutcome],
    bls_refresh: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    """The in4 zips' by-ownership workbooks (OWNERSHIP text in 2018, own_code in 2019)."""
    outcome = backfill(data_dir, server, "2018-2019", parts=["in4"])
    assert outcome.changed
    where = ["--industry", "622100", "--data-dir", str(data_dir)]
    plain = bls_refresh("figure", "29-1141", "annual_median", "--year", "2018", *where)
    assert plain.returncode == 2
    assert "published by ownership only: choose one with --ownership" in plain.stderr
    assert "local, private, state" in plain.stderr
    for year, ownership, value in ((2018, "private", 73980), (2019, "local", 72040)):
        shown = bls_refresh(
            "figure", "29-1141", "annual_median", "--year", str(year), "--ownership", ownership,
            "--json", *where,
        )  # fmt: skip
        assert shown.returncode == 0, shown.stderr
        figure = json.loads(shown.stdout)
        assert figure["value"] == value
        assert figure["source_file"] == f"oesm{year % 100}in4.zip"
    series = bls_refresh(
        "series", "29-1141", "annual_median", "--ownership", "private", "--json", *where
    )
    assert series.returncode == 0, series.stderr
    points = {p["year"]: p["value"] for p in json.loads(series.stdout)["points"]}
    assert points == {2018: 73980, 2019: 75270}


def test_a_failed_backfill_says_so_in_one_paragraph(
    data_dir: Path, server: BlsServer, prefect_api_env: dict[str, str], contact: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bls_refresh.cli", "backfill", "--oews-years", "2014",
         "--source", server.base_url, "--data-dir", str(data_dir)],
        env={**os.environ, **prefect_api_env, "BLS_CONTACT_EMAIL": contact, "COLUMNS": "200"},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    first, *rest = done.stderr.strip().splitlines()
    assert first.startswith("Backfill failed: http://") and first.endswith(
        "/www.bls.gov/oes/special-requests/oesm14nat.zip: HTTP 404 ('Not Found')."
    )
    assert rest[0] == "Nothing was published."
    assert "Traceback" not in done.stderr
