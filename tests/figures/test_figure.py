"""Figures for writers: one figure (library and CLI), errors, figures.json."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from core.paths import DataPaths
from extractors.rawstore import sha256_file
from figures.errors import FigureError
from figures.figure import EP_TABLE_URL, Figure, Selection, figure, get_figure, oews_source
from figures.measures import MEASURES, OEWS_MEASURES, PROJECTION_MEASURES
from figures.release import ReleaseReader
from figures.spec import load_spec, render
from transforms import oews_catalog
from warehouse import bundles

ALL_INDUSTRIES_NAME = "Cross-industry, Private, Federal, State, and Local Government"
HOSPITALS = "Hospitals (including private, state, and local government hospitals)"
BOSTON = "Boston-Cambridge-Nashua, MA-NH"


Run = Callable[..., subprocess.CompletedProcess[str]]  # the CLI in a subprocess


@pytest.fixture(scope="module")
def built(
    tmp_path_factory: pytest.TempPathFactory,
    sample_release: Callable[..., tuple[DataPaths, str]],
) -> tuple[DataPaths, str]:
    """One release (OEWS + projections) built from the sample mirror, shared by this module."""
    return sample_release(tmp_path_factory.mktemp("figures"))


@pytest.fixture
def paths(built: tuple[DataPaths, str]) -> DataPaths:
    return built[0]


@pytest.fixture
def rid(built: tuple[DataPaths, str]) -> str:
    return built[1]


@pytest.fixture(scope="session")
def cli(bls_refresh: Run) -> Run:
    """``cli(paths, *args)``: ``bls-refresh ARGS --data-dir <paths' root>``, a subprocess."""

    def run(paths: DataPaths, *args: str) -> subprocess.CompletedProcess[str]:
        return bls_refresh(*args, "--data-dir", str(paths.root))

    return run


def assert_fails(result: subprocess.CompletedProcess[str], code: int, message: str) -> None:
    """Exit ``code``, nothing on stdout, exactly ``message`` as one line on stderr."""
    assert result.returncode == code, result.stderr
    assert result.stdout == ""
    assert result.stderr == message + "\n"


# --- 1. one figure ----------------------------------------------------------------------------

MEDIAN = {
    "value": 50250,
    "text": "$50,250",
    "unit": "usd_per_year",
    "soc_code": "29-2072",
    "occupation": "Medical records specialists",
    "measure": "annual_median",
    "area": "National",
    "industry": ALL_INDUSTRIES_NAME,
    "reference": "May 2024",
    "source_url": "https://data.bls.gov/timeseries/OEUN000000000000029207213",
    "source_file": "oe.data.0.Current",
    "status": "ok",
    "top_code_threshold": None,
    "notes": [],
    "sentence": "Medical records specialists: median annual wage $50,250 "
    "(May 2024, U.S. Bureau of Labor Statistics OEWS)",
}


def test_national_annual_median(paths: DataPaths, rid: str, cli: Run) -> None:
    expected = {**MEDIAN, "release": rid}
    assert get_figure(paths, Selection("29-2072", "annual_median")).to_json() == expected

    as_json = cli(paths, "figure", "29-2072", "annual_median", "--json")
    assert as_json.returncode == 0, as_json.stderr
    assert as_json.stderr == ""
    assert json.loads(as_json.stdout) == expected

    plain = cli(paths, "figure", "29-2072", "annual_median")
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout == (
        "Medical records specialists: median annual wage $50,250 "
        "(May 2024, U.S. Bureau of Labor Statistics OEWS)\n"
    )


def test_explicit_year_and_release_give_the_same_figure(
    paths: DataPaths, rid: str, cli: Run
) -> None:
    result = cli(
        paths, "figure", "29-2072", "annual_median", "--year", "2024", "--release", rid, "--json"
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {**MEDIAN, "release": rid}
    assert get_figure(
        paths, Selection("29-2072", "annual_median", year=2024), "latest"
    ).to_json() == {
        **MEDIAN,
        "release": rid,
    }


def test_hourly_median(paths: DataPaths) -> None:
    got = get_figure(paths, Selection("29-2072", "hourly_median")).to_json()
    assert (got["value"], got["text"], got["unit"]) == (24.16, "$24.16", "usd_per_hour")
    assert got["source_url"] == "https://data.bls.gov/timeseries/OEUN000000000000029207208"
    assert got["sentence"] == (
        "Medical records specialists: median hourly wage $24.16 "
        "(May 2024, U.S. Bureau of Labor Statistics OEWS)"
    )


def test_projected_growth_is_whole_percent_with_exact_value_kept(
    paths: DataPaths, rid: str, cli: Run
) -> None:
    expected = {
        "value": 7.1,
        "text": "7%",
        "unit": "percent",
        "soc_code": "29-2072",
        "occupation": "Medical records specialists",
        "measure": "employment_change_pct",
        "area": "National",
        "industry": "All industries",
        "reference": "2024-34",
        "release": rid,
        "source_url": EP_TABLE_URL,
        "source_file": "occupation.xlsx",
        "status": "ok",
        "top_code_threshold": None,
        "notes": ["exact value 7.1%"],
        "sentence": "Medical records specialists: projected employment growth 7% "
        "(2024-34, U.S. Bureau of Labor Statistics Employment Projections)",
    }
    assert get_figure(paths, Selection("29-2072", "employment_change_pct")).to_json() == expected
    result = cli(
        paths, "figure", "29-2072", "employment_change_pct", "--cycle", "2024-34", "--json"
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == expected


@pytest.mark.parametrize(
    ("soc", "value", "text", "occupation"),
    [
        ("00-0000", 3.1, "3%", "Total, all occupations"),
        ("15-1232", -3.7, "-4%", "Computer user support specialists"),
    ],
)
def test_other_projected_growth(
    paths: DataPaths, soc: str, value: float, text: str, occupation: str
) -> None:
    got = get_figure(paths, Selection(soc, "employment_change_pct", cycle="2024-34")).to_json()
    assert (got["value"], got["text"], got["reference"]) == (value, text, "2024-34")
    assert got["occupation"] == occupation
    assert got["notes"] == [f"exact value {value}%"]


def test_projection_employment_and_text_measures(paths: DataPaths) -> None:
    base = get_figure(paths, Selection("29-2072", "employment_base")).to_json()
    assert (base["value"], base["text"], base["unit"], base["reference"]) == (
        194800,
        "194,800",
        "persons",
        "2024",
    )
    target = get_figure(paths, Selection("29-2072", "employment_target")).to_json()
    assert (target["value"], target["text"], target["reference"]) == (208600, "208,600", "2034")
    education = get_figure(paths, Selection("29-2072", "education")).to_json()
    assert (education["value"], education["text"], education["unit"]) == (
        "Postsecondary nondegree award",
        "Postsecondary nondegree award",
        "text",
    )


def test_state_selection(paths: DataPaths, rid: str, cli: Run) -> None:
    result = cli(paths, "figure", "29-2072", "annual_median", "--area", "0600000", "--json")
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout)
    assert got == {
        **MEDIAN,
        "value": 61740,
        "text": "$61,740",
        "area": "California",
        "release": rid,
        "source_url": "https://data.bls.gov/timeseries/OEUS060000000000029207213",
        "source_file": "oe.data.0.Current",
        "sentence": "Medical records specialists: median annual wage in California $61,740 "
        "(May 2024, U.S. Bureau of Labor Statistics OEWS)",
    }
    # by name, any case, is the same selection
    assert (
        get_figure(paths, Selection("29-2072", "annual_median", area="california")).to_json() == got
    )


def test_industry_selection(paths: DataPaths, cli: Run) -> None:
    result = cli(paths, "figure", "11-3021", "annual_mean", "--industry", "622000", "--json")
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout)
    assert (got["value"], got["text"], got["area"], got["industry"]) == (
        209230,
        "$209,230",
        "National",
        HOSPITALS,
    )
    assert got["occupation"] == "Computer and information systems managers"
    assert got["source_url"] == "https://data.bls.gov/timeseries/OEUN000000062200011302104"
    assert got["sentence"] == (
        f"Computer and information systems managers: mean annual wage in {HOSPITALS} $209,230 "
        "(May 2024, U.S. Bureau of Labor Statistics OEWS)"
    )


# --- 2. top-coded and not released --------------------------------------------------------


def test_top_coded_median(paths: DataPaths, rid: str, cli: Run) -> None:
    expected = {
        "value": None,
        "text": "$239,200 or more",
        "unit": "usd_per_year",
        "soc_code": "29-1211",
        "occupation": "Anesthesiologists",
        "measure": "annual_median",
        "area": "National",
        "industry": ALL_INDUSTRIES_NAME,
        "reference": "May 2024",
        "release": rid,
        "source_url": "https://data.bls.gov/timeseries/OEUN000000000000029121113",
        "source_file": "oe.data.0.Current",
        "status": "top_coded",
        "top_code_threshold": 239200,
        "notes": ["This wage is equal to or greater than $115.00 per hour or $239,200 per year."],
        "sentence": "Anesthesiologists: median annual wage $239,200 or more "
        "(May 2024, U.S. Bureau of Labor Statistics OEWS)",
    }
    assert get_figure(paths, Selection("29-1211", "annual_median")).to_json() == expected
    result = cli(paths, "figure", "29-1211", "annual_median", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == expected
    hourly = get_figure(paths, Selection("29-1211", "hourly_median")).to_json()
    assert (hourly["text"], hourly["top_code_threshold"]) == ("$115.00 or more", 115)


def test_not_released_exits_3_with_the_reason(paths: DataPaths, cli: Run) -> None:
    result = cli(paths, "figure", "29-9021", "employment", "--area", "0071650")
    assert_fails(
        result,
        3,
        f"BLS did not publish employment for 29-9021 (May 2024 in {BOSTON}): "
        "not_released: Estimate not released.",
    )
    with pytest.raises(FigureError) as wages:
        get_figure(paths, Selection("11-1011", "annual_median", industry="622000"))
    assert wages.value.code == 3
    assert wages.value.line() == (
        f"BLS did not publish median annual wage for 11-1011 (May 2024 in {HOSPITALS}): "
        "not_released: Estimate not released."
    )


def test_no_estimate_at_all_is_a_usage_error(paths: DataPaths, rid: str) -> None:
    with pytest.raises(FigureError) as exc:
        get_figure(paths, Selection("29-1211", "annual_median", area="0071650"))
    assert exc.value.code == 2
    assert str(exc.value) == (
        f"No OEWS estimate of annual_median for 29-1211 in area 0071650, industry 000000 "
        f"in release {rid}."
    )


def edited_bundle(paths: DataPaths, rid: str, tmp_path: Path, table: str, replace: str) -> Path:
    """A copy of the bundle whose ``table`` went through ``SELECT * REPLACE (replace)``."""
    bundle = tmp_path / rid
    shutil.copytree(paths.published / rid, bundle)
    for path in bundles.table_files(bundle, table):  # each partition's file
        edited = tmp_path / "edited.parquet"
        duckdb.execute(
            f"COPY (SELECT * REPLACE ({replace}) FROM read_parquet('{path}')) TO '{edited}' "
            "(FORMAT parquet)"
        )
        edited.replace(path)
    return bundle


def test_an_occupation_without_estimates_in_any_year_is_unknown(
    paths: DataPaths, rid: str, tmp_path: Path
) -> None:
    """The occupations table lists it, but no year has a row for it."""
    bundle = edited_bundle(
        paths,
        rid,
        tmp_path,
        "oews_estimates",
        "CASE WHEN soc_code = '29-1211' THEN '29-1299' ELSE soc_code END AS soc_code",
    )
    with ReleaseReader(rid, bundle) as reader:
        with pytest.raises(FigureError) as exc:
            figure(reader, Selection("29-1211", "annual_median"))
        assert exc.value.code == 2
        assert str(exc.value).startswith(f"Unknown SOC code '29-1211' in release {rid}.")
        # Every year's codes were read once, for the reader's later figures: they answer
        # without the files.
        for path in bundles.table_files(bundle, "oews_estimates"):
            path.unlink()
        assert reader.has_value("oews_estimates", "soc_code", "29-1299")
        assert not reader.has_value("oews_estimates", "soc_code", "29-1211")


def test_several_footnote_codes_give_every_note(paths: DataPaths, rid: str, tmp_path: Path) -> None:
    """A cell with footnotes '1, 8' (space after the comma) explains itself with both."""
    bundle = edited_bundle(
        paths,
        rid,
        tmp_path,
        "oews_estimates",
        "CASE WHEN soc_code = '29-9021' AND area_code = '0071650' AND measure = 'employment' "
        "THEN '1, 8' ELSE footnote_codes END AS footnote_codes",
    )
    with ReleaseReader(rid, bundle) as reader, pytest.raises(FigureError) as exc:
        figure(reader, Selection("29-9021", "employment", area="0071650"))
    assert exc.value.code == 3
    assert str(exc.value).endswith(
        "not_released: Estimates for detailed occupations do not sum to the totals because the "
        "totals include occupations not shown separately. Estimates do not include "
        "self-employed workers.; Estimate not released."
    )


@pytest.mark.parametrize(
    ("status", "measure", "reason"),
    [
        ("annual_only", "hourly_median", "BLS publishes only an annual wage for this occupation"),
        ("hourly_only", "annual_median", "BLS publishes only an hourly wage for this occupation"),
        ("not_applicable", "jobs_per_1000", "This measure does not apply to this estimate"),
    ],
)
def test_special_request_statuses_explain_the_missing_value(
    paths: DataPaths, rid: str, tmp_path: Path, status: str, measure: str, reason: str
) -> None:
    target = (
        "soc_code = '29-2072' AND area_code = '0000000' AND industry_code = '000000' "
        f"AND measure = '{measure}'"
    )
    bundle = edited_bundle(
        paths,
        rid,
        tmp_path,
        "oews_estimates",
        f"CASE WHEN {target} THEN NULL ELSE value END AS value, "
        f"CASE WHEN {target} THEN '{status}' ELSE status END AS status, "
        f"CASE WHEN {target} THEN '*' ELSE footnote_codes END AS footnote_codes",
    )
    with ReleaseReader(rid, bundle) as reader, pytest.raises(FigureError) as exc:
        figure(reader, Selection("29-2072", measure))
    assert exc.value.code == 3
    assert f"(May 2024): {status}: {reason}" in str(exc.value)


def test_openings_of_a_cycle_that_published_a_decade_total(
    paths: DataPaths, rid: str, tmp_path: Path
) -> None:
    """Up to 2014-24 BLS published openings over the decade, not per year: each measure
    gives the one that exists and names it when the other is asked for."""
    bundle = edited_bundle(
        paths,
        rid,
        tmp_path,
        "projections",
        "NULL::BIGINT AS openings_annual, "
        "CASE WHEN soc_code = '29-2072' THEN 73400 END::BIGINT AS openings_total",
    )
    with ReleaseReader(rid, bundle) as reader:
        total = figure(reader, Selection("29-2072", "openings_total")).to_json()
        with pytest.raises(FigureError) as exc:
            figure(reader, Selection("29-2072", "openings_annual"))
    assert (total["value"], total["text"], total["unit"]) == (73400, "73,400", "persons")
    assert total["sentence"].startswith(
        "Medical records specialists: projected openings over the decade 73,400"
    )
    assert exc.value.code == 3
    assert exc.value.line() == (
        "The 2024-34 projections publish job openings as projected openings over the decade "
        "only: ask for openings_total. Did you mean: openings_total?"
    )


def test_missing_cycle_and_year_are_usage_errors(paths: DataPaths, cli: Run) -> None:
    assert_fails(
        cli(paths, "figure", "29-2072", "annual_median", "--year", "2023"),
        2,
        "No May 2023 estimate for this selection. Did you mean: 2024?",
    )
    with pytest.raises(FigureError) as exc:
        get_figure(paths, Selection("29-2072", "employment_change_pct", cycle="2023-33"))
    assert exc.value.line() == "No 2023-33 projection for 29-2072. Did you mean: 2024-34?"


# --- 3. errors through the real CLI -------------------------------------------------------


def test_unknown_soc(paths: DataPaths, rid: str, cli: Run) -> None:
    assert_fails(
        cli(paths, "figure", "29-2071", "annual_median"),
        2,
        f"Unknown SOC code '29-2071' in release {rid}. Did you mean: 29-2072, 29-2061, 29-2010?",
    )


def test_unknown_measure(paths: DataPaths, cli: Run) -> None:
    assert_fails(
        cli(paths, "figure", "29-2072", "annual_medain"),
        2,
        "Unknown measure 'annual_medain'. Did you mean: annual_median, annual_mean, hourly_median?",
    )


def test_unknown_area(paths: DataPaths, cli: Run) -> None:
    assert_fails(
        cli(paths, "figure", "29-2072", "annual_median", "--area", "Californa"),
        2,
        "Unknown area 'Californa'. Did you mean: 0600000 (California)?",
    )


def test_unknown_industry(paths: DataPaths) -> None:
    with pytest.raises(FigureError) as exc:
        get_figure(paths, Selection("29-2072", "annual_median", industry="622001"))
    assert exc.value.code == 2
    assert exc.value.line().startswith("Unknown industry '622001'. Did you mean: 622000")


def test_unknown_release(paths: DataPaths, rid: str, cli: Run) -> None:
    assert_fails(
        cli(paths, "figure", "29-2072", "annual_median", "--release", "2020-01-01.1"),
        2,
        f"Unknown release '2020-01-01.1'. Did you mean: {rid}?",
    )


def test_no_published_release(tmp_path: Path, cli: Run) -> None:
    empty = DataPaths.resolve(tmp_path / "empty")
    assert_fails(
        cli(empty, "figure", "29-2072", "annual_median"),
        2,
        f"No published release in {empty.published}; run `bls-refresh demo` or `run` first.",
    )


def test_diff_of_a_single_release(paths: DataPaths, rid: str, cli: Run) -> None:
    assert_fails(
        cli(paths, "diff"), 2, f"Release {rid} is the first release: nothing to compare with."
    )


@pytest.mark.parametrize("measure", ["annual_median", "employment_change_pct"])
def test_soc_is_a_parameter_not_sql(paths: DataPaths, rid: str, measure: str, cli: Run) -> None:
    soc = "29-2072' OR '1'='1"
    assert_fails(
        cli(paths, "figure", soc, measure),
        2,
        f'Unknown SOC code "{soc}" in release {rid}. Did you mean: 29-2072, 29-9021, 29-2061?',
    )


@pytest.fixture(scope="session")
def modules_loaded(wrapped_cli: str) -> Callable[..., tuple[int, str, str]]:
    """``modules_loaded(*args)``: run the CLI in a process that reports at exit whether
    prefect / pandas were imported; (exit code, stdout, that last line of stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        result = subprocess.run(
            [sys.executable, "-c", wrapped_cli, *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        *_, last = result.stderr.splitlines()
        return result.returncode, result.stdout, last

    return run


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("figure", "29-2072", "annual_median"), 0),
        (("figure", "29-2072", "employment_change_pct", "--json"), 0),
        (("figure", "29-9021", "employment", "--area", "0071650"), 3),
        (("figure", "29-2071", "annual_median"), 2),
        (("figures",), 0),
        (("releases",), 0),
    ],
)
def test_read_only_commands_import_neither_prefect_nor_pandas(
    paths: DataPaths,
    args: tuple[str, ...],
    code: int,
    modules_loaded: Callable[..., tuple[int, str, str]],
) -> None:
    returncode, stdout, last = modules_loaded(*args, "--data-dir", str(paths.root))
    assert returncode == code
    assert last == "MODULES False False"
    if code == 0:
        assert stdout


# --- 4. figures.json and figures.yaml -----------------------------------------------------


def expected_render(paths: DataPaths, rid: str, spec: dict[str, Selection]) -> dict[str, Any]:
    """What `figure` gives for each selection, or an error entry where it gives none."""
    out: dict[str, Any] = {}
    for fid, sel in spec.items():
        try:
            out[fid] = get_figure(paths, sel, rid).to_json()
        except FigureError as exc:
            out[fid] = {
                "error": str(exc),
                "soc_code": sel.soc,
                "measure": sel.measure,
                "release": rid,
            }
    return out


def test_bundle_figures_json_renders_figures_yaml(paths: DataPaths, rid: str, repo: Path) -> None:
    bundle = paths.published / rid
    published = json.loads((bundle / "figures.json").read_text(encoding="utf-8"))
    ids = list(yaml.safe_load((repo / "figures.yaml").read_text())["figures"])
    assert list(published) == ids
    spec = load_spec(repo / "figures.yaml")
    assert published == expected_render(paths, rid, spec)
    assert published["medical_records_median_wage"]["text"] == "$50,250"
    assert published["medical_records_growth"]["text"] == "7%"
    assert published["all_occupations_growth"]["text"] == "3%"
    assert published["anesthesiologists_median_wage"]["text"] == "$239,200 or more"

    package = json.loads((bundle / "datapackage.json").read_text())
    (resource,) = [r for r in package["resources"] if r["name"] == "figures"]
    digest = sha256_file(bundle / "figures.json")
    assert resource["path"] == "figures.json"
    assert resource["sha256"] == digest
    assert resource["hash"] == f"sha256:{digest}"
    assert resource["bytes"] == (bundle / "figures.json").stat().st_size


CUSTOM = """\
figures:
  ca_median:
    soc: 29-2072
    measure: annual_median
    area: "0600000"
    year: 2024
  growth:
    soc: 29-2072
    measure: employment_change_pct
    cycle: 2024-34
  boston_hit_employment:
    soc: 29-9021
    measure: employment
    area: "0071650"
  typo:
    soc: 29-2071
    measure: annual_median
"""


def test_figures_command_renders_a_custom_spec(
    paths: DataPaths, rid: str, tmp_path: Path, cli: Run
) -> None:
    spec = tmp_path / "custom.yaml"
    spec.write_text(CUSTOM)
    out = tmp_path / "f.json"
    result = cli(paths, "figures", "--spec", str(spec), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert f"Wrote 4 figures of release {rid}" in result.stdout
    written = json.loads(out.read_text(encoding="utf-8"))
    assert written == expected_render(paths, rid, load_spec(spec))
    assert list(written) == ["ca_median", "growth", "boston_hit_employment", "typo"]
    assert written["ca_median"]["text"] == "$61,740"
    assert written["growth"]["text"] == "7%"
    assert written["boston_hit_employment"] == {
        "error": f"BLS did not publish employment for 29-9021 (May 2024 in {BOSTON}): "
        "not_released: Estimate not released.",
        "soc_code": "29-9021",
        "measure": "employment",
        "release": rid,
    }
    assert written["typo"]["error"].startswith("Unknown SOC code '29-2071'")

    to_stdout = cli(paths, "figures", "--spec", str(spec))
    assert to_stdout.returncode == 0, to_stdout.stderr
    assert json.loads(to_stdout.stdout) == written


def test_figures_command_without_spec_uses_figures_yaml(
    paths: DataPaths, rid: str, cli: Run
) -> None:
    result = cli(paths, "figures")
    assert result.returncode == 0, result.stderr
    published = (paths.published / rid / "figures.json").read_text(encoding="utf-8")
    assert result.stdout == published


def test_malformed_spec_via_cli(paths: DataPaths, tmp_path: Path, cli: Run) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text("figures:\n  x:\n    soc: 29-2072\n")
    out = tmp_path / "f.json"
    result = cli(paths, "figures", "--spec", str(spec), "--out", str(out))
    assert_fails(
        result,
        2,
        f"{spec}: figure 'x' needs soc and measure (allowed keys "
        "['area', 'cycle', 'industry', 'measure', 'ownership', 'soc', 'year']); got ['soc']",
    )
    assert not out.exists()
    missing = cli(paths, "figures", "--spec", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 2
    assert missing.stdout == ""
    assert missing.stderr.count("\n") == 1
    assert "cannot read figure definitions" in missing.stderr


def test_render_in_process_equals_figures_json(paths: DataPaths, rid: str, repo: Path) -> None:
    with ReleaseReader(rid, paths.published / rid) as reader:
        rendered = render(reader, load_spec(repo / "figures.yaml"))
    assert rendered == json.loads((paths.published / rid / "figures.json").read_text())


# --- 5. one Figure type; OEWS units and phrases from the catalogue -----------------------

JSON_KEYS = [
    "value",
    "text",
    "unit",
    "soc_code",
    "occupation",
    "measure",
    "area",
    "industry",
    "reference",
    "release",
    "source_url",
    "source_file",
    "status",
    "top_code_threshold",
    "notes",
    "sentence",
]


def test_figure_json_has_the_documented_keys_in_order(paths: DataPaths, rid: str, cli: Run) -> None:
    assert [f.name for f in dataclasses.fields(Figure)] == JSON_KEYS
    for measure in ("annual_median", "employment_change_pct"):
        got = get_figure(paths, Selection("29-2072", measure))
        assert isinstance(got, Figure)
        assert list(got.to_json()) == JSON_KEYS
    result = cli(paths, "figure", "29-2072", "annual_median", "--json")
    assert result.returncode == 0, result.stderr
    assert list(json.loads(result.stdout)) == JSON_KEYS
    published = json.loads((paths.published / rid / "figures.json").read_text(encoding="utf-8"))
    assert list(published["medical_records_median_wage"]) == JSON_KEYS


def test_oews_units_and_phrases_come_from_the_catalogue(paths: DataPaths) -> None:
    assert {d.measure: (d.unit, d.phrase) for d in oews_catalog.DATATYPES} == OEWS_MEASURES
    assert set(MEASURES) == set(oews_catalog.BY_MEASURE) | set(PROJECTION_MEASURES)
    for measure in ("annual_median", "hourly_median", "employment"):
        entry = oews_catalog.BY_MEASURE[measure]
        got = get_figure(paths, Selection("29-2072", measure))
        assert got.unit == entry.unit
        assert got.sentence.startswith(f"{got.occupation}: {entry.phrase} {got.text} (")


def test_the_source_of_an_earlier_year_is_the_file_that_year_came_from(tmp_path: Path) -> None:
    # May 2024 from the flat files, since superseded by May 2025's; May 2023 from a zip.
    bundle = tmp_path / "2026-01-01.1"
    bundle.mkdir()
    oe = "https://download.bls.gov/pub/time.series/oe/"
    duckdb.sql(
        "COPY (SELECT '2026-01-01.1' AS release_id, '{\"oews\": \"May 2025\"}' AS vintages) "
        f"TO '{bundle / 'releases.parquet'}'"
    )
    duckdb.sql(
        "COPY (SELECT * FROM (VALUES "
        f"('{oe}oe.area', 'May 2024'), ('{oe}oe.data.0.Current', 'May 2024'), "
        "('https://www.bls.gov/oes/special.requests/oesm23nat.zip', 'May 2023'), "
        f"('{oe}oe.area', 'May 2025'), ('{oe}oe.data.0.Current', 'May 2025')"
        f") t(url, vintage)) TO '{bundle / 'raw_files.parquet'}'"
    )
    sid = "OEUN000000000000029207204"
    with ReleaseReader("2026-01-01.1", bundle) as reader:
        found = {
            year: oews_source(reader, year, "29-2072", sid, "0000000", "000000")
            for year in (2023, 2024, 2025)
        }
    assert found == {
        2023: ("https://www.bls.gov/oes/2023/may/oes292072.htm", "oesm23nat.zip"),
        2024: ("https://www.bls.gov/oes/2024/may/oes292072.htm", "oe.data.0.Current"),
        2025: (f"https://data.bls.gov/timeseries/{sid}", "oe.data.0.Current"),
    }
