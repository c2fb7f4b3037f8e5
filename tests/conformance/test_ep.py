"""Every real Employment Projections workbook BLS published (2016-26 … 2024-34) parses exactly.

The workbooks and the values to assert are in ``shared/bls-reference/samples/real/``
(``README.md``, ``expected.csv``); the tests skip when that folder is absent. Each workbook is
parsed once per module.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from core.errors import ValidationError
from transforms.projections import Projections, code_levels, parse_workbook


@dataclasses.dataclass(frozen=True)
class Published:
    """What the README's table says of one workbook (employment in persons)."""

    cycle: str
    wage_year: int
    soc_version: str
    rows: int  # occupation rows of Table 1.2
    total: tuple[int, int, int, float]  # 00-0000: base, target, change, percent
    code: str
    line: tuple[int, int, int, float, int, int]  # base, target, change, %, openings, wage


# file (relative to samples/real) → the README's published numbers, written out literally.
PUBLISHED: dict[str, Published] = {
    "ep/occupation_2016-26.xlsx": Published(
        "2016-26", 2018, "2010", 1_091,
        (156_063_800, 167_582_300, 11_518_600, 7.4),
        "29-2071", (206_300, 234_100, 27_800, 13.5, 15_800, 40_350),
    ),
    "ep/occupation_2018-28.xlsx": Published(
        "2018-28", 2018, "2010", 1_076,
        (161_037_700, 169_435_900, 8_398_100, 5.2),
        "29-2071", (215_500, 238_600, 23_100, 10.7, 16_800, 40_350),
    ),
    "ep/occupation_2019-29_2021-01.xlsx": Published(
        "2019-29", 2019, "2018-hybrid", 1_048,
        (162_795_600, 168_834_700, 6_039_200, 3.7),
        "29-2098", (341_600, 370_600, 29_000, 8.5, 27_800, 42_630),
    ),
    "ep/occupation_2019-29_2021-04.xlsx": Published(
        "2019-29", 2020, "2018-hybrid", 1_048,
        (162_795_600, 168_834_700, 6_039_200, 3.7),
        "29-2098", (341_600, 370_600, 29_000, 8.5, 27_800, 44_090),
    ),
    "ep/occupation_2020-30.xlsx": Published(
        "2020-30", 2020, "2018-hybrid", 1_048,
        (153_533_800, 165_413_700, 11_879_900, 7.7),
        "29-2098", (335_000, 363_600, 28_600, 8.5, 27_400, 44_090),
    ),
    "ep/occupation_2021-31.xlsx": Published(
        "2021-31", 2021, "2018", 1_113,
        (158_134_700, 166_452_100, 8_317_400, 5.3),
        "29-2072", (186_400, 198_700, 12_300, 6.6, 14_900, 46_660),
    ),
    "ep/occupation_2022-32.xlsx": Published(
        "2022-32", 2022, "2018", 1_113,
        (164_482_600, 169_148_100, 4_665_500, 2.8),
        "29-2072", (194_300, 210_900, 16_500, 8.5, 15_000, 47_180),
    ),
    "ep/occupation_2023-33.xlsx": Published(
        "2023-33", 2023, "2018", 1_113,
        (167_849_800, 174_589_000, 6_739_200, 4.0),
        "29-2072", (191_500, 208_200, 16_700, 8.7, 15_000, 48_780),
    ),
    "../ep/occupation_2024-34.xlsx": Published(
        "2024-34", 2024, "2018", 1_113,
        (169_956_100, 175_167_900, 5_211_800, 3.1),
        "29-2072", (194_800, 208_600, 13_800, 7.1, 14_200, 50_250),
    ),
}  # fmt: skip
FILES = list(PUBLISHED)
INDENTED = ["ep/occupation_2022-32.xlsx", "ep/occupation_2023-33.xlsx"]
INDENTED += ["../ep/occupation_2024-34.xlsx"]


@functools.cache
def _parsed(path: Path) -> Projections:
    return parse_workbook(path)


def parsed_file(real: Path, name: str) -> Projections:
    path = (real / name).resolve()
    if not path.is_file():
        pytest.skip(f"{path} not present")
    return _parsed(path)


def row_of(parsed: Projections, code: str) -> pd.Series:
    rows = parsed.frame[parsed.frame["soc_code"] == code]
    assert len(rows) == 1, f"{code}: {len(rows)} rows"
    return rows.iloc[0]


def expected_rows(real: Path, name: str) -> list[dict[str, str]]:
    with (real / "expected.csv").open(newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["table"] == "projections"]
    return [r for r in rows if r["file"] == name]


def test_every_expected_file_is_covered(real: Path) -> None:
    with (real / "expected.csv").open(newline="", encoding="utf-8") as handle:
        files = {r["file"] for r in csv.DictReader(handle) if r["table"] == "projections"}
    assert files == set(FILES)


@pytest.mark.parametrize("name", FILES)
def test_expected_csv_values(real: Path, name: str) -> None:
    parsed = parsed_file(real, name)
    expected = expected_rows(real, name)
    assert len(expected) >= 10
    for item in expected:
        assert parsed.cycle == item["reference"], name
        got = row_of(parsed, item["soc_code"])[item["measure"]]
        want = float(item["value"]) if "." in item["value"] else int(item["value"])
        assert got == want, f"{name} {item['soc_code']} {item['measure']}: {got} ≠ {want}"


@pytest.mark.parametrize("name", FILES)
def test_vintage(real: Path, name: str) -> None:
    parsed, published = parsed_file(real, name), PUBLISHED[name]
    assert parsed.cycle == published.cycle
    assert parsed.wage_year == published.wage_year
    assert parsed.sheet == "Table 1.2"
    frame = parsed.frame
    assert len(frame) == published.rows > 1000
    assert set(frame["cycle"]) == {published.cycle}
    assert set(frame["soc_version"]) == {published.soc_version}
    assert set(frame["wage_year"]) == {published.wage_year}
    assert frame["soc_code"].is_unique
    assert parsed.schema_drift == {}  # every header cell BLS wrote is known


@pytest.mark.parametrize("name", FILES)
def test_published_figures(real: Path, name: str) -> None:
    parsed, published = parsed_file(real, name), PUBLISHED[name]
    total = row_of(parsed, "00-0000")
    assert (
        total["employment_base"],
        total["employment_target"],
        total["employment_change"],
        total["employment_change_pct"],
    ) == published.total
    assert (total["title"], total["level"]) == ("Total, all occupations", 0)
    row = row_of(parsed, published.code)
    assert (
        row["employment_base"],
        row["employment_target"],
        row["employment_change"],
        row["employment_change_pct"],
        row["openings_annual"],
        row["median_annual_wage"],
    ) == published.line
    assert row["occupation_type"] == "Line item"
    assert row["median_wage_status"] == "ok"


@pytest.mark.parametrize("name", FILES)
def test_openings_are_annual_averages(real: Path, name: str) -> None:
    frame = parsed_file(real, name).frame
    assert frame["openings_annual"].notna().all()  # "Occupational openings, … annual average"
    assert frame["openings_total"].isna().all()


@pytest.mark.parametrize("name", FILES)
def test_worker_characteristics_present(real: Path, name: str) -> None:
    # From Table 1.7 before 2023-33, from Table 1.2 since. Null only where BLS printed "—"
    # (2016-26 does for one line item, 45-3000 Fishing and hunting workers).
    frame = parsed_file(real, name).frame
    items = frame[frame["occupation_type"] == "Line item"]
    listed = items["not_available"].fillna("")
    for column in ("education", "experience", "training"):
        assert items[column].notna().mean() > 0.99, column
        assert listed[items[column].isna()].str.contains(column).all(), column
    assert items["median_wage_status"].isin(["ok", "top_coded", "not_available"]).all()
    assert (items["median_wage_status"] == "ok").mean() > 0.95
    assert frame["self_employed_pct"].notna().mean() > 0.7


def test_2016_26_literal(real: Path) -> None:
    row = row_of(parsed_file(real, "ep/occupation_2016-26.xlsx"), "29-2071")
    assert row.employment_base == 206_300
    assert row.openings_annual == 15_800
    assert row.median_annual_wage == 40_350  # May 2018, from Table 1.7
    assert row.title == "Medical records and health information technicians"
    assert row.education == "Postsecondary nondegree award"


def test_2023_33_literal(real: Path) -> None:
    row = row_of(parsed_file(real, "ep/occupation_2023-33.xlsx"), "29-2072")
    assert row.employment_base == 191_500
    assert row.openings_annual == 15_000
    assert row.median_annual_wage == 48_780
    assert row.education == "Postsecondary nondegree award"
    assert row.level == 3


def test_second_issue_differs_only_in_wages(real: Path) -> None:
    # 2019-29 as issued in January 2021 (May 2019 wages) and April 2021 (May 2020 wages).
    first = parsed_file(real, "ep/occupation_2019-29_2021-01.xlsx")
    second = parsed_file(real, "ep/occupation_2019-29_2021-04.xlsx")
    assert (first.cycle, second.cycle) == ("2019-29", "2019-29")
    assert (first.wage_year, second.wage_year) == (2019, 2020)
    wages = ["median_annual_wage", "median_wage_status", "median_wage_top_code", "wage_year"]
    wages += ["not_available"]  # names the wage when it is "—"
    rest = [c for c in first.frame.columns if c not in wages]
    pd.testing.assert_frame_equal(first.frame[rest], second.frame[rest])
    a = first.frame.set_index("soc_code")["median_annual_wage"]
    b = second.frame.set_index("soc_code")["median_annual_wage"]
    assert (a != b).mean() > 0.9
    assert (a["29-2098"], b["29-2098"]) == (42_630, 44_090)
    assert (a["00-0000"], b["00-0000"]) == (39_810, 41_950)


@pytest.mark.parametrize("name", INDENTED)
def test_levels_from_codes_match_indentation(real: Path, name: str) -> None:
    # From 2022-32 BLS indents titles; the rule used for the flat cycles gives the same.
    frame = parsed_file(real, name).frame
    assert code_levels(list(frame["soc_code"])) == list(frame["level"])
    assert sorted(set(frame["level"])) == [0, 1, 2, 3, 4]


def test_flat_2021_31_levels_as_2022_32_prints_them(real: Path) -> None:
    flat = parsed_file(real, "ep/occupation_2021-31.xlsx").frame.set_index("soc_code")
    printed = parsed_file(real, "ep/occupation_2022-32.xlsx").frame.set_index("soc_code")
    assert set(flat.index) == set(printed.index)
    pd.testing.assert_series_equal(flat["level"], printed.loc[flat.index, "level"])
    assert not flat["title"].str.startswith(" ").any()


def test_note_inside_the_real_data_fails(
    real: Path, tmp_path: Path, write_xlsx: Callable[..., Path]
) -> None:
    # The real 2024-34 Table 1.2 with a footnote line at row 10: it used to end the table
    # there and load the 7 occupations above it of the 1,113.
    path = (real / "../ep/occupation_2024-34.xlsx").resolve()
    if not path.is_file():
        pytest.skip(f"{path} not present")
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Table 1.2").to_python()
    rows.insert(9, ["(1) footnote"])
    above = sum(1 for r in rows[:9] if re.fullmatch(r"\d{2}-\d{4}", str(r[1])))
    with pytest.raises(ValidationError) as caught:
        parse_workbook(write_xlsx(tmp_path / "o.xlsx", {"Table 1.2": rows}))
    error = caught.value
    assert error.check == "occupation rows after the footnotes"
    assert "row 10 ('(1) footnote')" in error.detail
    assert f"{1_113 - above} rows below" in error.detail  # every occupation below the note
