"""Every real OEWS special-request file BLS has shipped (samples/real/oesm/) loads exactly.

The values are BLS's published numbers (samples/real/README.md and expected.csv). Each file
is parsed once per session (cached); the tests skip when the samples are absent.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from transforms.detect import detect
from transforms.oews_lookups import Vintage
from transforms.oews_special import (
    MARKER_MEASURES,
    REQUIRED_MEASURES,
    SpecialRequest,
    parse_special,
)

# file → May reference year
FILES = {
    "oesm/oesm12nat.zip": 2012,
    "oesm/oesm13nat.zip": 2013,
    "oesm/oesm16nat.zip": 2016,
    "oesm/oesm17nat.zip": 2017,
    "oesm/oesm18nat.zip": 2018,
    "oesm/oesm19nat.zip": 2019,
    "oesm/oesm20nat.zip": 2020,
    "oesm/oesm21nat.zip": 2021,
    "oesm/national_M2022_dl.xlsx": 2022,
    "oesm/national_M2023_dl.xlsx": 2023,
    "oesm/national_M2024_dl.xlsx": 2024,
    "oesm/national_M2025_dl.xlsx": 2025,
    "oesm/oesm12st.zip": 2012,
    "oesm/nat4d_M2016_owner_dl.xlsx": 2016,
    "oesm/nat4d_M2017_owner_dl.xlsx": 2017,
    "oesm/nat4d_M2018_owner_dl.xlsx": 2018,
    "oesm/nat4d_M2019_owner_dl.xlsx": 2019,
}
NATIONAL = [f for f in FILES if "national" in f or f.endswith("nat.zip")]
NAT4D = [f for f in FILES if "nat4d" in f]
STATE_FIPS = {"AL": "01"}  # the states expected.csv names

# README: the caps printed in each year's field descriptions (hourly, annual)
TOP_CODES = {
    **{y: (Decimal("90.00"), Decimal("187200")) for y in range(2012, 2016)},
    **{y: (Decimal("100.00"), Decimal("208000")) for y in range(2016, 2022)},
    **{y: (Decimal("115.00"), Decimal("239200")) for y in range(2022, 2026)},
}
# README "Values to assert": (TOT_EMP, A_MEAN, A_MEDIAN) of 00-0000 and the medical records row
README = {
    2012: ((130_287_700, 45_790, 34_750), "29-2071", (182_370, 36_770, 34_160)),
    2013: ((132_588_810, 46_440, 35_080), "29-2071", (180_760, 37_710, 34_970)),
    2016: ((140_400_040, 49_630, 37_040), "29-2071", (200_140, 41_460, 38_040)),
    2017: ((142_549_250, 50_620, 37_690), "29-2071", (204_220, 42_820, 39_180)),
    2018: ((144_733_270, 51_960, 38_640), "29-2071", (208_650, 44_010, 40_350)),
    2019: ((146_875_480, 53_490, 39_810), "29-2098", (331_790, 46_590, 42_630)),
    2020: ((139_099_570, 56_310, 41_950), "29-2098", (318_010, 48_270, 44_090)),
    2021: ((140_886_310, 58_260, 45_760), "29-2072", (180_570, 48_310, 46_660)),
    2022: ((147_886_000, 61_900, 46_310), "29-2072", (187_720, 51_090, 47_180)),
    2023: ((151_853_870, 65_470, 48_060), "29-2072", (185_690, 53_690, 48_780)),
    2024: ((154_187_380, 67_920, 49_500), "29-2072", (187_910, 55_970, 50_250)),
    2025: ((155_495_730, 69_770, 50_980), "29-2072", (194_720, 56_790, 51_140)),
}
# a code BLS lists as both broad and detailed that year (same values)
TWICE = {
    2017: "13-1020",
    2018: "13-1020",
    2019: "11-2030",
    2020: "11-2030",
    2021: "13-1020",
    2022: "13-1020",
    2023: "13-1020",
    2024: "13-1020",
    2025: "13-1020",
}
KEY = ["area_code", "industry_code", "ownership", "soc_code", "measure"]


@functools.cache
def _parsed(path: str) -> SpecialRequest:
    return parse_special(Path(path))


@pytest.fixture
def parsed(real: Path, request: pytest.FixtureRequest) -> SpecialRequest:
    return _parsed(str(real / request.param))


def _one(result: SpecialRequest, soc: str, measure: str, area: str = "0000000") -> pd.Series:
    e = result.estimates
    hit = e[(e.soc_code == soc) & (e.measure == measure) & (e.area_code == area)]
    hit = hit[(hit.industry_code == "000000") & (hit.ownership == "all")]
    assert len(hit) == 1, f"{soc} {measure} {area}: {len(hit)} rows"
    return hit.iloc[0]


def _expected(real: Path) -> list[dict[str, str]]:
    with (real / "expected.csv").open(newline="") as fh:
        return [r for r in csv.DictReader(fh) if r["table"] == "oews_estimates"]


def test_every_expected_file_is_covered(real: Path) -> None:
    named = {r["file"] for r in _expected(real)}
    assert named <= set(FILES)
    on_disk = {f"oesm/{p.name}" for p in (real / "oesm").iterdir()}
    assert on_disk == set(FILES)


@pytest.mark.parametrize("parsed", list(FILES), indirect=True)
def test_loads_with_its_year_and_no_drift(
    parsed: SpecialRequest, request: pytest.FixtureRequest
) -> None:
    file = request.node.callspec.params["parsed"]
    assert parsed.reference_year == FILES[file]
    assert set(parsed.estimates.reference_period) == {f"May {FILES[file]}"}
    assert parsed.schema_drift == {}
    assert not parsed.estimates.duplicated(KEY).any()
    ok = parsed.estimates[parsed.estimates.status == "ok"]["value"]
    assert ok.notna().all() and ok.str.fullmatch(r"-?\d+(\.\d+)?").all()  # exact digits


@pytest.mark.parametrize("parsed", list(FILES), indirect=True)
def test_expected_csv_values(
    parsed: SpecialRequest, real: Path, request: pytest.FixtureRequest
) -> None:
    file = request.node.callspec.params["parsed"]
    rows = [r for r in _expected(real) if r["file"] == file]
    if file in NAT4D:
        assert rows == []  # expected.csv has no nat4d figures; see test_nat4d_ownership
        return
    assert rows
    for r in rows:
        assert int(r["reference"]) == parsed.reference_year
        area = "0000000" if r["area"] == "national" else STATE_FIPS[r["area"]] + "00000"
        got = _one(parsed, r["soc_code"], r["measure"], area)
        assert got["status"] == "ok", r
        assert Decimal(got["value"]) == Decimal(r["value"]), r


@pytest.mark.parametrize("parsed", NATIONAL, indirect=True)
def test_readme_values(parsed: SpecialRequest) -> None:
    total, soc, medical = README[parsed.reference_year]
    for code, values in (("00-0000", total), (soc, medical)):
        got = [
            Decimal(_one(parsed, code, m)["value"])
            for m in ("employment", "annual_mean", "annual_median")
        ]
        assert got == [Decimal(v) for v in values]


def test_readme_values_literally(real: Path) -> None:
    may2012 = _parsed(str(real / "oesm/oesm12nat.zip"))
    assert Decimal(_one(may2012, "00-0000", "employment")["value"]) == 130_287_700
    state = _parsed(str(real / "oesm/oesm12st.zip"))
    assert Decimal(_one(state, "00-0000", "employment", "0100000")["value"]) == 1_824_400
    assert Decimal(_one(state, "00-0000", "annual_mean", "0100000")["value"]) == 39_550
    assert Decimal(_one(state, "29-2071", "employment", "0100000")["value"]) == 2_680
    assert Decimal(_one(state, "29-2071", "annual_mean", "0100000")["value"]) == 30_230
    may2025 = _parsed(str(real / "oesm/national_M2025_dl.xlsx"))
    ceo = _one(may2025, "11-1011", "annual_p90")
    assert (Decimal(ceo["value"]), ceo["status"]) == (507_730, "ok")


@pytest.mark.parametrize("parsed", list(FILES), indirect=True)
def test_top_code_of_the_year(parsed: SpecialRequest, request: pytest.FixtureRequest) -> None:
    file = request.node.callspec.params["parsed"]
    year = parsed.reference_year
    assert parsed.top_code == TOP_CODES[year]
    # nat4d up to 2018 print no field descriptions: the documented cap for the year
    legend = "documented" if file in NAT4D and year <= 2018 else "printed"
    assert parsed.top_code_source == legend
    e = parsed.estimates
    top = e[e.status == "top_coded"]
    if year == 2025:
        assert top.empty  # BLS published every percentile in May 2025
        return
    assert not top.empty
    assert (top.footnote_codes == "#").all() and top.value.isna().all()
    hourly = top.measure.str.startswith("hourly_")
    assert (top.top_code_threshold[hourly] == float(TOP_CODES[year][0])).all()
    assert (top.top_code_threshold[~hourly] == float(TOP_CODES[year][1])).all()
    assert e[e.status != "top_coded"].top_code_threshold.isna().all()


@pytest.mark.parametrize("parsed", list(FILES), indirect=True)
def test_measures_and_markers_as_bls_publishes_them(parsed: SpecialRequest) -> None:
    """What the loader enforces is what every real file shows: the 15 required measures
    present, each marker only in its columns (# wages; * wages and MEAN_PRSE; ** employment
    columns; ~ none), no value negative, no percentile at or above an inclusive cap."""
    e = parsed.estimates
    assert set(REQUIRED_MEASURES) <= set(e.measure)
    for measure, notes in e.dropna(subset="footnote_codes").groupby("measure").footnote_codes:
        assert {m for m, where in MARKER_MEASURES.items() if measure in where} >= set(notes)
    ok = e[e.status == "ok"]
    assert not ok.value.str.startswith("-").any()
    assert e[e.status == "top_coded"].top_code_threshold.notna().all()


@pytest.mark.parametrize("parsed", list(FILES), indirect=True)
def test_soc_version_is_the_time_series_rule(parsed: SpecialRequest) -> None:
    year = parsed.reference_year
    assert set(parsed.occupations.soc_version) == {Vintage(year, f"May {year}").soc_version}
    assert set(parsed.occupations.level) <= {"total", "major", "minor", "broad", "detailed"}


@pytest.mark.parametrize("parsed", [f for f in NATIONAL if FILES[f] >= 2017], indirect=True)
def test_codes_listed_twice_are_one_detailed_row(parsed: SpecialRequest) -> None:
    code = TWICE[parsed.reference_year]
    e = parsed.estimates
    assert len(e[(e.soc_code == code) & (e.measure == "annual_mean")]) == 1
    occ = parsed.occupations
    assert occ[occ.soc_code == code].level.tolist() == ["detailed"]
    assert not occ.soc_code.duplicated().any()


@pytest.mark.parametrize("parsed", [f for f in NATIONAL if FILES[f] >= 2019], indirect=True)
def test_national_jobs_per_1000_is_not_applicable(parsed: SpecialRequest) -> None:
    e = parsed.estimates
    for measure in ("jobs_per_1000", "location_quotient"):
        cells = e[e.measure == measure]
        assert len(cells) == len(parsed.occupations)  # never dropped
        assert set(cells.status) == {"not_applicable"} and cells.value.isna().all()


@pytest.mark.parametrize("parsed", list(FILES), indirect=True)
def test_annual_only_and_hourly_only(parsed: SpecialRequest) -> None:
    e = parsed.estimates
    annual_only = e[e.status == "annual_only"]
    hourly_only = e[e.status == "hourly_only"]
    assert not annual_only.empty and not hourly_only.empty
    assert annual_only.measure.str.startswith("hourly_").all()
    assert hourly_only.measure.str.startswith("annual_").all()
    assert (annual_only.footnote_codes == "*").all() and annual_only.value.isna().all()
    actors = e[(e.soc_code == "27-2011") & (e.measure == "annual_median")]
    assert set(actors.status) == {"hourly_only"}
    assert (
        e[(e.soc_code == "27-2011") & (e.measure == "hourly_median")].status != "hourly_only"
    ).all()


@pytest.mark.parametrize("parsed", NAT4D, indirect=True)
def test_nat4d_ownership_and_industry_codes(parsed: SpecialRequest) -> None:
    e = parsed.estimates
    assert set(e.ownership) == {"private", "state", "local"}
    assert e.industry_code.str.fullmatch(r"\d{6}").all()
    assert "611100" in set(e.industry_code)
    industries = parsed.industries.set_index("industry_code")
    assert industries.at["611100", "name"] == "Elementary and Secondary Schools"
    assert industries.at["611100", "level"] == 4
    # the same occupation, industry and ownership once; ownership kept apart
    teachers = e[
        (e.soc_code == "25-2021") & (e.industry_code == "611100") & (e.measure == "employment")
    ]
    assert sorted(teachers.ownership) == ["local", "private", "state"]


def test_state_file_areas(real: Path) -> None:
    state = _parsed(str(real / "oesm/oesm12st.zip"))
    areas = state.areas
    assert len(areas) == 54  # 50 states, DC, Guam, Puerto Rico, Virgin Islands
    assert set(areas.area_type) == {"S"}
    assert areas.area_code.str.fullmatch(r"\d{2}00000").all()
    assert (areas.state_code == areas.area_code.str[:2]).all()
    assert areas.set_index("area_code").at["0100000", "name"] == "Alabama"
    assert set(state.estimates.areatype_code) == {"S"}


@pytest.mark.parametrize("file", list(FILES))
def test_detected_as_special_request(real: Path, file: str) -> None:
    assert detect(real / file).kind == "oews_special"


def test_loose_xls_is_detected_and_parsed(real: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(real / "oesm/oesm12nat.zip") as archive:
        data = archive.read("oesm12nat/national_M2012_dl.xls")
    loose = tmp_path / "national_M2012_dl.xls"
    loose.write_bytes(data)
    assert detect(loose).kind == "oews_special"
    parsed = parse_special(loose)
    # no field descriptions beside it: the documented cap of the year
    assert (parsed.reference_year, parsed.top_code_source) == (2012, "documented")
    assert parsed.top_code == TOP_CODES[2012]
    assert Decimal(_one(parsed, "00-0000", "employment")["value"]) == 130_287_700
    assert io.BytesIO(data).read(8) == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    assert re.fullmatch(r"\d+", _one(parsed, "29-2071", "employment")["value"])
