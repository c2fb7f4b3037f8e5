"""Employment Projections workbook → ``projections`` rows: small workbooks, no network."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pytest

from core.errors import ValidationError
from core.staging import StagedLoad
from transforms.projections import (
    COLUMNS,
    Projections,
    _decimal,
    code_levels,
    combine_header,
    parse_workbook,
    soc_version,
    stage_projections,
)
from warehouse.lake import TABLES

if TYPE_CHECKING:
    from tests.transforms.conftest import EpWorkbooks

REAL_WORKBOOK = Path("ep/occupation_2024-34.xlsx")

# Column positions in the current layout's Table 1.2.
CODE, EMP_BASE, EMP_TARGET, CHANGE, CHANGE_PCT, SELF_EMPLOYED = 1, 3, 4, 7, 8, 9
OPENINGS, WAGE = 10, 11


def row_of(parsed: Projections, code: str) -> pd.Series:
    rows = parsed.frame[parsed.frame["soc_code"] == code]
    assert len(rows) == 1, f"{code}: {len(rows)} rows"
    return rows.iloc[0]


def rejected(path: Path) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        parse_workbook(path)
    return caught.value


@pytest.fixture
def current(tmp_path: Path, ep: EpWorkbooks) -> Path:
    return ep.write_current_workbook(tmp_path / "occupation.xlsx")


@pytest.fixture(params=["fixture", "real"])
def current_layout(
    request: pytest.FixtureRequest, tmp_path: Path, ep: EpWorkbooks
) -> tuple[str, Projections]:
    """The current layout twice: our small workbook and the real 2024–34 one (if present)."""
    if request.param == "real":
        samples: Path = request.getfixturevalue("shared_samples")
        return "real", parse_workbook(samples / REAL_WORKBOOK)
    return "fixture", parse_workbook(ep.write_current_workbook(tmp_path / "occupation.xlsx"))


# --- current layout (2024–34) ---------------------------------------------------------------


def test_current_layout_vintage(current_layout: tuple[str, Projections]) -> None:
    _, parsed = current_layout
    assert (parsed.cycle, parsed.base_year, parsed.target_year) == ("2024-34", 2024, 2034)
    assert parsed.wage_year == 2024
    assert parsed.sheet == "Table 1.2"
    assert list(parsed.frame.columns) == list(COLUMNS)
    assert set(parsed.frame["cycle"]) == {"2024-34"}
    assert set(parsed.frame["wage_year"]) == {2024}
    assert set(parsed.frame["soc_version"]) == {"2018"}


def test_current_layout_line_item(current_layout: tuple[str, Projections]) -> None:
    _, parsed = current_layout
    row = row_of(parsed, "29-2072")
    assert row["title"] == "Medical records specialists"  # indentation stripped
    assert row["level"] == 3  # six leading spaces
    assert row["occupation_type"] == "Line item"
    assert row["employment_base"] == 194_800
    assert row["employment_target"] == 208_600
    assert row["employment_change"] == 13_800
    assert row["employment_change_pct"] == 7.1
    assert row["self_employed_pct"] == 0.8
    assert row["openings_annual"] == 14_200
    assert row["median_annual_wage"] == 50_250
    assert row["median_wage_status"] == "ok"
    assert pd.isna(row["median_wage_top_code"])
    assert row["education"] == "Postsecondary nondegree award"
    assert row["experience"] == "None"  # the published word, not a missing value
    assert row["training"] == "None"
    assert pd.isna(row["not_available"])


def test_current_layout_total(current_layout: tuple[str, Projections]) -> None:
    _, parsed = current_layout
    row = row_of(parsed, "00-0000")
    assert row["title"] == "Total, all occupations"
    assert (row["level"], row["occupation_type"]) == (0, "Summary")
    assert row["employment_base"] == 169_956_100
    assert row["employment_target"] == 175_167_900
    assert row["employment_change"] == 5_211_800
    assert row["employment_change_pct"] == 3.1
    assert row["self_employed_pct"] == 5.8
    assert row["openings_annual"] == 18_863_300
    assert row["median_annual_wage"] == 49_500
    # Summary rows have no education, experience or training: null, and said so.
    assert row[["education", "experience", "training"]].isna().all()
    assert row["not_available"] == "education, experience, training"


def test_current_layout_top_coded_wage(current_layout: tuple[str, Projections]) -> None:
    _, parsed = current_layout
    row = row_of(parsed, "29-1211")  # Anesthesiologists: >=$239,200
    assert pd.isna(row["median_annual_wage"])
    assert row["median_wage_status"] == "top_coded"
    assert row["median_wage_top_code"] == 239_200
    top = parsed.frame[parsed.frame["median_wage_status"] == "top_coded"]
    assert top["median_annual_wage"].isna().all()
    assert set(top["median_wage_top_code"]) == {239_200}


def test_current_layout_dash_is_null_never_zero(
    current_layout: tuple[str, Projections], ep: EpWorkbooks
) -> None:
    _, parsed = current_layout
    row = row_of(parsed, "11-1031")  # Legislators: self-employed "—"
    assert pd.isna(row["self_employed_pct"])
    assert row["not_available"] == "self_employed_pct"
    assert row["employment_base"] == 27_700
    frame = parsed.frame
    listed = frame["not_available"].fillna("")
    for field in ("self_employed_pct", "education", "experience", "training"):
        nulls = frame[field].isna()
        assert nulls.any(), field
        assert listed[nulls].str.contains(field).all(), field
    # ... and the other way round: whatever is listed as not available is null.
    said = listed.str.contains("self_employed_pct")
    assert frame.loc[said, "self_employed_pct"].isna().all()
    assert not frame[["education", "experience", "training"]].isin([ep.NA, "-", "0"]).any().any()


def test_current_layout_row_count(current_layout: tuple[str, Projections], ep: EpWorkbooks) -> None:
    kind, parsed = current_layout
    expected = 1_113 if kind == "real" else len(ep.CURRENT_OCCUPATIONS)
    assert len(parsed.frame) == expected
    assert parsed.frame["soc_code"].str.fullmatch(r"\d{2}-\d{4}").all()
    titles = parsed.frame["title"].str.lower()
    assert not titles.str.startswith(("footnote", "note", "source", "[")).any()


def test_current_layout_levels(current: Path) -> None:
    parsed = parse_workbook(current)
    levels = dict(zip(parsed.frame["soc_code"], parsed.frame["level"], strict=True))
    assert levels == {
        "00-0000": 0,
        "11-0000": 1,
        "11-1000": 2,
        "11-1031": 3,
        "29-0000": 1,
        "29-1000": 2,
        "29-1210": 3,
        "29-1211": 4,
        "29-2000": 2,
        "29-2072": 3,
    }


def test_other_sheets_ignored_and_label_default(
    tmp_path: Path, ep: EpWorkbooks, write_xlsx: Callable[..., Path]
) -> None:
    # Sheet order differs between vintages: Table 1.2 is found by name, not position.
    sheets = {"Table 1.2": ep.current_rows(), "Index": [["Occupation.xlsx contents"]]}
    parsed = parse_workbook(write_xlsx(tmp_path / "reordered.xlsx", sheets))
    assert parsed.sheet == "Table 1.2"
    assert len(parsed.frame) == len(ep.CURRENT_OCCUPATIONS)


def test_sample_mirror_workbook(sample_projections: int, sample_mirror: Path) -> None:
    parsed = parse_workbook(sample_mirror / "www.bls.gov/emp/ind-occ-matrix/occupation.xlsx")
    assert (parsed.cycle, parsed.base_year, parsed.target_year) == ("2024-34", 2024, 2034)
    assert parsed.wage_year == 2024
    assert len(parsed.frame) == sample_projections
    row = row_of(parsed, "29-2072")
    assert (row["employment_base"], row["median_annual_wage"]) == (194_800, 50_250)
    assert row_of(parsed, "29-1211")["median_wage_status"] == "top_coded"


# --- 2014–24 layout -------------------------------------------------------------------------


@pytest.fixture
def layout_2014(tmp_path: Path, ep: EpWorkbooks) -> Projections:
    return parse_workbook(ep.write_2014_workbook(tmp_path / "occupation_2014-24.xlsx"))


def test_2014_vintage(layout_2014: Projections, ep: EpWorkbooks) -> None:
    parsed = layout_2014
    assert (parsed.cycle, parsed.base_year, parsed.target_year) == ("2014-24", 2014, 2024)
    assert parsed.wage_year == 2015  # "Median annual wage, 2015(1)" in Table 1.7
    assert parsed.sheet == "Table 1.2"
    assert set(parsed.frame["soc_version"]) == {"2010"}
    assert set(parsed.frame["wage_year"]) == {2015}
    assert len(parsed.frame) == len(ep.occupations_1_2_2014())


def test_2014_line_item_joined_with_table_1_7(layout_2014: Projections) -> None:
    row = row_of(layout_2014, "29-2071")
    assert row["title"] == "Medical records and health information technicians"
    assert (row["occupation_type"], row["level"]) == ("Line item", 3)
    assert row["employment_base"] == 188_600
    assert row["employment_target"] == 217_600
    assert row["employment_change"] == 29_000
    assert row["employment_change_pct"] == 15.4
    assert row["median_annual_wage"] == 37_110
    assert row["median_wage_status"] == "ok"
    assert row["education"] == "Postsecondary nondegree award"
    assert (row["experience"], row["training"]) == ("None", "None")


def test_2014_total(layout_2014: Projections) -> None:
    row = row_of(layout_2014, "00-0000")
    assert row["employment_base"] == 150_539_900
    assert row["employment_target"] == 160_328_800
    assert row["employment_change"] == 9_788_900
    assert row["employment_change_pct"] == 6.5
    assert row["median_annual_wage"] == 36_200


def test_2014_openings_are_not_annual(layout_2014: Projections) -> None:
    # Table 1.7's openings are a ten-year total (growth + replacements), not an annual average.
    assert layout_2014.frame["openings_annual"].isna().all()
    assert row_of(layout_2014, "29-2071")["self_employed_pct"] == 0.1  # from Table 1.7


def test_2014_numeric_year_subheaders(tmp_path: Path, ep: EpWorkbooks) -> None:
    # Years typed into Excel are numbers (2014.0 once read), not text.
    path = ep.write_2014_workbook(tmp_path / "occupation.xlsx", numeric_years=True)
    parsed = parse_workbook(path)
    assert (parsed.cycle, parsed.wage_year) == ("2014-24", 2015)
    assert row_of(parsed, "29-2071")["employment_target"] == 217_600


def test_2014_code_missing_from_table_1_7(tmp_path: Path, ep: EpWorkbooks) -> None:
    table_1_7 = ep.table_1_7_2014(ep.drop_code(ep.occupations_1_7_2014(), "29-0000"))
    parsed = parse_workbook(ep.write_2014_workbook(tmp_path / "o.xlsx", table_1_7=table_1_7))
    row = row_of(parsed, "29-0000")
    assert pd.isna(row["median_annual_wage"])
    assert row["median_wage_status"] == "not_available"
    # Every column Table 1.7 would have given is null and named (it was the wage only, while
    # education, experience and training were null too and not listed).
    assert row["not_available"] == (
        "openings_total, self_employed_pct, median_annual_wage, education, experience, training"
    )
    assert row[["education", "experience", "training"]].isna().all()
    assert row["employment_base"] == 8_236_500
    assert row_of(parsed, "29-2071")["median_annual_wage"] == 37_110


def test_2014_without_table_1_7(
    tmp_path: Path, write_xlsx: Callable[..., Path], ep: EpWorkbooks
) -> None:
    path = write_xlsx(tmp_path / "o.xlsx", {"Table 1.2": ep.table_1_2_2014()})
    error = rejected(path)
    assert error.check == "median wage column"
    assert "o.xlsx" in str(error)


# --- multi-row headers, combined column by column --------------------------------------------

# The header block of the real 2016-26 Table 1.2 (rows 2-4) and its merged ranges, with rows
# counted from the block's first row.
BLOCK_2016: list[list[object]] = [
    ["2016 National Employment Matrix title and code", "", "Occupation type", "Employment", "",
     "", "", "Change, 2016-26", "", "Occupational openings, 2016-26 annual average"],
    ["", "", "", "Number", "", "Percent distribution", "", "", "", ""],
    ["", "", "", 2016.0, 2026.0, 2016.0, 2026.0, "Number", "Percent", ""],
]  # fmt: skip
MERGES_2016 = [
    ((0, 0), (2, 1)),
    ((0, 2), (2, 2)),
    ((0, 3), (0, 6)),
    ((0, 7), (1, 8)),
    ((0, 9), (2, 9)),
    ((1, 3), (1, 4)),
    ((1, 5), (1, 6)),
]
FIRST_ROW_2016 = ["Total, all occupations", "00-0000", "Summary", 156063.8, 167582.3, 100.0,
                  100.0, 11518.6, 7.4, 18981.5]  # fmt: skip
NAMES_2016 = [
    "2016 National Employment Matrix title and code",
    "2016 National Employment Matrix title and code",
    "Occupation type",
    "Employment Number 2016",
    "Employment Number 2026",
    "Employment Percent distribution 2016",
    "Employment Percent distribution 2026",
    "Change, 2016-26 Number",
    "Change, 2016-26 Percent",
    "Occupational openings, 2016-26 annual average",
]


def test_combine_header_with_merged_cells() -> None:
    assert combine_header(BLOCK_2016, MERGES_2016, FIRST_ROW_2016) == NAMES_2016


def test_combine_header_without_merge_info_carries_group_titles() -> None:
    assert combine_header(BLOCK_2016, [], FIRST_ROW_2016) == NAMES_2016


def test_combine_header_group_stays_within_its_parent() -> None:
    # Unmerged 2014-24 Table 1.7: "Percent" under the change group must not spread right
    # over the openings and wage columns, which have nothing under them.
    block: list[list[object]] = [
        ["Title", "Code", "Employment", "", "Employment change, 2014-24", "",
         "Job openings due to growth and replacements, 2014-24", "Median annual wage, 2015(1)"],
        ["", "", 2014, 2024, "Number", "Percent", "", ""],
    ]  # fmt: skip
    first = ["Total", "00-0000", 1.0, 2.0, 1.0, 100.0, 3.0, 4.0]
    assert combine_header(block, [], first) == [
        "Title",
        "Code",
        "Employment 2014",
        "Employment 2024",
        "Employment change, 2014-24 Number",
        "Employment change, 2014-24 Percent",
        "Job openings due to growth and replacements, 2014-24",
        "Median annual wage, 2015(1)",
    ]


def test_combine_header_merges_decide_where_a_group_ends() -> None:
    # "Employment" merged over two columns, then a column headed in the second row only:
    # the merge says where the group ends; without it the group title would run on.
    block: list[list[object]] = [
        ["Title", "Code", "Employment", "", ""],
        ["", "", 2016.0, 2026.0, "Percent self employed, 2016"],
    ]
    first = ["Total", "00-0000", 1.0, 2.0, 6.1]
    merged = combine_header(block, [((0, 2), (0, 3))], first)
    assert merged == [
        "Title",
        "Code",
        "Employment 2016",
        "Employment 2026",
        "Percent self employed, 2016",
    ]
    assert combine_header(block, [], first)[4] == "Employment Percent self employed, 2016"


def test_combine_header_one_row_is_the_row(ep: EpWorkbooks) -> None:
    header = [*ep.CURRENT_HEADER[:3], "", *ep.CURRENT_HEADER[3:]]  # a blank cell stays blank
    assert combine_header([header], [], [*ep.CURRENT_OCCUPATIONS[0], ""]) == header


@pytest.fixture(params=[True, False], ids=["merged", "unmerged"])
def layout_2010(request: pytest.FixtureRequest, tmp_path: Path, ep: EpWorkbooks) -> Projections:
    """2010-20 in the 2016-26 layout, with BLS's merged header cells and without them."""
    path = ep.write_2010_workbook(tmp_path / "occupation_2010-20.xlsx", merged=request.param)
    return parse_workbook(path)


def test_2010_vintage(layout_2010: Projections) -> None:
    parsed = layout_2010
    assert (parsed.cycle, parsed.base_year, parsed.target_year) == ("2010-20", 2010, 2020)
    assert parsed.wage_year == 2010  # "Median annual wage, 2010(1)" in Table 1.7
    assert parsed.sheet == "Table 1.2"
    assert set(parsed.frame["soc_version"]) == {"2010"}
    assert len(parsed.frame) == 11
    assert parsed.schema_drift == {}


def test_2010_rows_from_four_header_rows(layout_2010: Projections) -> None:
    row = row_of(layout_2010, "29-2071")
    assert row["title"] == "Medical records and health information technicians"
    assert row["occupation_type"] == "Line item"
    assert row["employment_base"] == 179_500
    assert row["employment_target"] == 217_100
    assert row["employment_change"] == 37_600
    assert row["employment_change_pct"] == 20.9
    assert row["openings_total"] == 71_700
    assert pd.isna(row["openings_annual"])
    assert row["median_annual_wage"] == 32_350
    assert row["education"] == "Postsecondary non-degree award"
    total = row_of(layout_2010, "00-0000")
    assert (total["employment_base"], total["employment_change"]) == (143_068_200, 20_468_900)
    assert total["employment_change_pct"] == 14.3
    top = row_of(layout_2010, "29-1061")
    assert (top["median_wage_status"], top["median_wage_top_code"]) == ("top_coded", 166_400)


def test_2010_levels_from_codes(layout_2010: Projections) -> None:
    # Titles are not indented before 2022-32: the level comes from the codes present.
    levels = dict(zip(layout_2010.frame["soc_code"], layout_2010.frame["level"], strict=True))
    assert levels == {
        "00-0000": 0,
        "11-0000": 1,
        "11-1000": 2,
        "11-1011": 3,  # no broad group 11-1010 row: directly under the minor group
        "29-0000": 1,
        "29-1000": 2,
        "29-1060": 3,
        "29-1061": 4,
        "29-1141": 3,
        "29-2000": 2,
        "29-2071": 3,
    }


def test_title_and_code_merged_code_is_the_column_with_codes(
    tmp_path: Path, ep: EpWorkbooks
) -> None:
    # The same merged "title and code" heading, with codes in column A and titles in B.
    def swap(rows: list[list[object]]) -> list[list[object]]:
        return [[r[1], r[0], *r[2:]] if len(r) > 1 and str(r[1])[:2].isdigit() else r
                for r in rows]  # fmt: skip

    path = ep.write_2010_workbook(
        tmp_path / "o.xlsx",
        table_1_2=swap(ep.table_1_2_2010()),
        table_1_7=swap(ep.table_1_7_2010()),
    )
    row = row_of(parse_workbook(path), "29-2071")
    assert row["title"] == "Medical records and health information technicians"
    assert (row["employment_base"], row["median_annual_wage"]) == (179_500, 32_350)


# --- spellings, drift and renamed columns ---------------------------------------------------


def test_2020_30_spellings(tmp_path: Path, ep: EpWorkbooks) -> None:
    # 2020-30 and 2021-31: no "numeric"; the percent says "Percent employment change"; the
    # title column may name the year before the code's (2021-31).
    rows = ep.current_rows()
    rows[1][0] = "2023 National Employment Matrix title"
    rows[1][CHANGE] = "Employment change, 2024-34"
    rows[1][CHANGE_PCT] = "Percent employment change, 2024-34"
    parsed = parse_workbook(ep.write_current_workbook(tmp_path / "o.xlsx", rows))
    assert parsed.cycle == "2024-34"
    row = row_of(parsed, "29-2072")
    assert (row["employment_change"], row["employment_change_pct"]) == (13_800, 7.1)
    assert row["title"] == "Medical records specialists"
    assert parsed.schema_drift == {}


def test_unknown_column_is_drift_not_a_failure(tmp_path: Path, ep: EpWorkbooks) -> None:
    header = "Occupational separations, labor force exits, 2024–34 annual average"
    rows = ep.insert_column(ep.current_rows(), SELF_EMPLOYED, header, {"29-2072": 5.1})
    path = ep.write_current_workbook(tmp_path / "occupation.xlsx", rows)
    parsed = parse_workbook(path)
    assert parsed.schema_drift == {"occupation.xlsx [Table 1.2]": [header]}
    row = row_of(parsed, "29-2072")  # every known column still read by its name
    assert row["employment_change_pct"] == 7.1
    assert row["self_employed_pct"] == 0.8
    assert row["openings_annual"] == 14_200
    assert row["median_annual_wage"] == 50_250
    assert row["education"] == "Postsecondary nondegree award"
    staged = stage_projections(path, tmp_path / "staged", release_id="r", sources={})
    assert staged.schema_drift == {"occupation.xlsx [Table 1.2]": [header]}
    frame = pd.read_parquet(staged.tables[0].path)
    assert list(frame.columns) == [*COLUMNS, "release_id"]


def test_current_layout_has_no_drift(current_layout: tuple[str, Projections]) -> None:
    _, parsed = current_layout  # the OOH link and distributions are known, not drift
    assert parsed.schema_drift == {}


@pytest.mark.parametrize(
    ("column", "renamed", "missing"),
    [
        (CHANGE_PCT, "Employment change, share, 2024–34", "employment_change_pct"),
        (EMP_BASE, "Jobs, 2024", "employment_base"),
    ],
)
def test_required_column_renamed_shows_the_header_found(
    tmp_path: Path, column: int, renamed: str, missing: str, ep: EpWorkbooks
) -> None:
    rows = ep.current_rows()
    rows[1][column] = renamed
    error = rejected(ep.write_current_workbook(tmp_path / "occupation.xlsx", rows))
    assert error.check == "required columns"
    assert missing in error.detail
    assert "header found" in str(error)
    assert renamed in str(error)
    assert "Median annual wage, dollars, 2024[1]" in str(error)


def test_openings_total_and_annual_never_mixed(
    tmp_path: Path, layout_2014: Projections, ep: EpWorkbooks
) -> None:
    # 2014-24: a decade total only.
    assert row_of(layout_2014, "29-2071")["openings_total"] == 75_400
    assert layout_2014.frame["openings_total"].notna().all()
    assert layout_2014.frame["openings_annual"].isna().all()
    # 2024-34: an annual average only.
    current = parse_workbook(ep.write_current_workbook(tmp_path / "current.xlsx"))
    assert row_of(current, "29-2072")["openings_annual"] == 14_200
    assert current.frame["openings_total"].isna().all()
    # Both in one file: which one the cycle publishes would be a guess, so it fails.
    header = "Job openings due to growth and replacements, 2024-34"
    rows = ep.insert_column(ep.current_rows(), OPENINGS + 1, header, {"29-2072": 142.0})
    error = rejected(ep.write_current_workbook(tmp_path / "both.xlsx", rows))
    assert error.check == "one openings column"
    assert "Occupational openings, 2024–34 annual average" in error.detail
    assert header in error.detail


@pytest.mark.parametrize(
    ("base", "version"),
    [
        (2010, "2010"),
        (2014, "2010"),
        (2016, "2010"),
        (2018, "2010"),  # 2018-28 still has 29-2071 and 15-1132
        (2019, "2018-hybrid"),  # 29-2098, 15-1299
        (2020, "2018-hybrid"),
        (2021, "2018"),
        (2024, "2018"),
    ],
)
def test_soc_version_by_cycle(base: int, version: str) -> None:
    assert soc_version(base) == version


def test_code_levels() -> None:
    codes = ["00-0000", "15-0000", "15-1200", "15-1210", "15-1211", "15-1221", "29-0000",
             "29-1000", "29-1141", "29-1210", "29-1211", "29-1221", "29-1229", "29-1240",
             "29-1241"]  # fmt: skip
    assert code_levels(codes) == [0, 1, 2, 3, 4, 3, 1, 2, 3, 3, 4, 4, 4, 3, 4]
    # Without the Physicians broad group (the hybrid codes of 2019-29): under the minor group.
    hybrid = ["00-0000", "29-0000", "29-1000", "29-1211", "29-1221"]
    assert code_levels(hybrid) == [0, 1, 2, 3, 3]


# --- Table 1.2 with Table 1.7 ---------------------------------------------------------------


def test_tables_1_2_and_1_7_disagreeing_fail(tmp_path: Path, ep: EpWorkbooks) -> None:
    table_1_7 = ep.table_1_7_2014(ep.set_cell(ep.occupations_1_7_2014(), "29-2071", 4, 217.7))
    error = rejected(ep.write_2014_workbook(tmp_path / "o.xlsx", table_1_7=table_1_7))
    assert error.check == "Table 1.2 and Table 1.7 agree"
    assert error.examples == ["29-2071 employment_target: Table 1.2 217.6, Table 1.7 217.7"]
    assert "o.xlsx" in str(error)


def test_tables_1_2_and_1_7_disagreeing_percent_fail(tmp_path: Path, ep: EpWorkbooks) -> None:
    occupations = [list(r) for r in ep.table_1_7_2010()[3:-4]]
    table_1_7 = ep.table_1_7_2010(ep.set_cell(occupations, "29-1141", 6, 26.1))
    error = rejected(ep.write_2010_workbook(tmp_path / "o.xlsx", table_1_7=table_1_7))
    assert error.examples == ["29-1141 employment_change_pct: Table 1.2 26.0, Table 1.7 26.1"]


def test_table_1_7_code_not_in_table_1_2_is_ignored(tmp_path: Path, ep: EpWorkbooks) -> None:
    extra = ["Extra occupation", "29-9999", "Line item", 1.0, 1.1, 0.1, 10.0, 5.0, 0.5,
             30000.0, ep.NA, ep.NA, ep.NA]  # fmt: skip
    table_1_7 = ep.table_1_7_2014([*ep.occupations_1_7_2014(), extra])
    parsed = parse_workbook(ep.write_2014_workbook(tmp_path / "o.xlsx", table_1_7=table_1_7))
    assert "29-9999" not in set(parsed.frame["soc_code"])
    assert len(parsed.frame) == len(ep.occupations_1_2_2014())


def test_staged_columns_are_the_lake_table() -> None:
    assert [*COLUMNS, "release_id"] == list(TABLES["projections"])


# --- rejections -----------------------------------------------------------------------------


def test_reject_workbook_without_table_1_2(
    tmp_path: Path, ep: EpWorkbooks, write_xlsx: Callable[..., Path]
) -> None:
    sheets = {"Index": [["contents"]], "Table 1.1": [["x"]], "Table 1.20": ep.current_rows()}
    error = rejected(write_xlsx(tmp_path / "industry.xlsx", sheets))
    assert error.file == "industry.xlsx"
    assert error.check == "sheet 'Table 1.2'"
    assert "industry.xlsx: check 'sheet 'Table 1.2'' failed" in str(error)
    assert "Table 1.20" in str(error)


def test_reject_missing_header_row(tmp_path: Path, ep: EpWorkbooks) -> None:
    rows = [ep.current_rows()[0], *ep.current_occupations()]  # title, then data: no header
    error = rejected(ep.write_current_workbook(tmp_path / "occupation.xlsx", rows))
    assert error.check == "header row"
    assert "occupation.xlsx" in error.file
    assert "occupation.xlsx" in str(error)


def test_reject_renamed_code_column(tmp_path: Path, ep: EpWorkbooks) -> None:
    rows = ep.current_rows()
    rows[1][CODE] = "2024 National Employment Matrix identifier"
    error = rejected(ep.write_current_workbook(tmp_path / "occupation.xlsx", rows))
    assert error.check == "header row"
    assert "occupation.xlsx" in str(error)


def test_reject_renamed_change_column(tmp_path: Path, ep: EpWorkbooks) -> None:
    rows = ep.current_rows()
    rows[1][CHANGE] = "Employment difference, 2024–34"
    error = rejected(ep.write_current_workbook(tmp_path / "occupation.xlsx", rows))
    assert error.check == "required columns"  # the shared column matcher's check
    assert "employment_change" in error.detail
    assert error.file == "occupation.xlsx [Table 1.2]"
    assert "header found" in error.detail
    assert "Employment difference, 2024–34" in error.detail


def test_reject_duplicate_codes(tmp_path: Path, ep: EpWorkbooks) -> None:
    occupations = ep.current_occupations()
    occupations.append(list(occupations[-1]))
    error = rejected(ep.write_current_workbook(tmp_path / "o.xlsx", occupations=occupations))
    assert error.check == "codes unique within a cycle"
    assert error.examples == ["29-2072", "29-2072"]
    assert str(error).startswith("o.xlsx: check 'codes unique within a cycle' failed")


def test_reject_without_total(tmp_path: Path, ep: EpWorkbooks) -> None:
    occupations = ep.drop_code(ep.current_occupations(), "00-0000")
    error = rejected(ep.write_current_workbook(tmp_path / "o.xlsx", occupations=occupations))
    assert error.check == "00-0000 present"
    assert "o.xlsx" in str(error)


def test_reject_change_not_target_minus_base(tmp_path: Path, ep: EpWorkbooks) -> None:
    occupations = ep.set_cell(
        ep.current_occupations(), "29-2072", CHANGE, 15.8
    )  # 208.6 − 194.8 = 13.8
    error = rejected(ep.write_current_workbook(tmp_path / "o.xlsx", occupations=occupations))
    assert error.check == "change = target − base within rounding"
    assert error.examples == ["29-2072: 208600 − 194800 ≠ 15800"]


def test_change_within_rounding_passes(tmp_path: Path, ep: EpWorkbooks) -> None:
    # 0.1 thousand off is rounding of three separately rounded figures, not an error.
    occupations = ep.set_cell(ep.current_occupations(), "29-2072", CHANGE, 13.9)
    parsed = parse_workbook(ep.write_current_workbook(tmp_path / "o.xlsx", occupations=occupations))
    assert row_of(parsed, "29-2072")["employment_change"] == 13_900


def test_reject_percent_inconsistent(tmp_path: Path, ep: EpWorkbooks) -> None:
    occupations = ep.set_cell(
        ep.current_occupations(), "29-2072", CHANGE_PCT, 8.1
    )  # 13.8/194.8 = 7.1%
    error = rejected(ep.write_current_workbook(tmp_path / "o.xlsx", occupations=occupations))
    assert error.check == "percent change consistent within rounding"
    assert error.examples == ["29-2072: 13800 / 194800 ≠ 8.1%"]


def test_reject_non_numeric_cell(tmp_path: Path, ep: EpWorkbooks) -> None:
    occupations = ep.set_cell(ep.current_occupations(), "29-2072", EMP_TARGET, "12,5x")
    error = rejected(ep.write_current_workbook(tmp_path / "o.xlsx", occupations=occupations))
    assert error.check == "numbers or '—'"
    assert error.examples == ["29-2072 employment_target='12,5x'"]
    assert "o.xlsx" in str(error)


def test_reject_row_without_code(tmp_path: Path, ep: EpWorkbooks) -> None:
    occupations = ep.current_occupations()
    occupations.insert(2, ["  Stray row", "", "Summary", 1.0, 2.0])
    error = rejected(ep.write_current_workbook(tmp_path / "o.xlsx", occupations=occupations))
    assert error.check == "every row has an occupation code"


def test_reject_cycle_disagreeing_with_employment_years(tmp_path: Path, ep: EpWorkbooks) -> None:
    rows = ep.current_rows()
    rows[1][CHANGE] = "Employment change, numeric, 2024–33"
    error = rejected(ep.write_current_workbook(tmp_path / "o.xlsx", rows))
    assert error.check == "one cycle"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("html", b"<!DOCTYPE html><html><head><title>Access Denied</title></head></html>"),
        ("empty", b""),
    ],
)
def test_reject_non_xlsx(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / f"{name}.xlsx"
    path.write_bytes(content)
    error = rejected(path)
    assert error.file == f"{name}.xlsx"
    assert error.check == "readable xlsx workbook"
    assert str(error).startswith(f"{name}.xlsx: check 'readable xlsx workbook' failed")


def test_label_names_the_source(tmp_path: Path) -> None:
    path = tmp_path / "download.bin"
    path.write_bytes(b"<html></html>")
    with pytest.raises(ValidationError, match=r"^occupation\.xlsx: check"):
        parse_workbook(path, label="occupation.xlsx")


# --- staging --------------------------------------------------------------------------------


def test_stage_projections(current: Path, tmp_path: Path, ep: EpWorkbooks) -> None:
    out = tmp_path / "staged"
    sources: dict[str, dict[str, object]] = {
        "occupation.xlsx": {"url": "https://www.bls.gov/emp/ind-occ-matrix/occupation.xlsx"}
    }
    staged = stage_projections(current, out, release_id="r-2025-08-28", sources=sources)
    assert isinstance(staged, StagedLoad)
    # Its guarded table is its load policy's: tests/flows/test_sources.py.
    assert (staged.kind, staged.vintage) == ("projections", "2024-34")
    assert staged.sources == {
        "occupation.xlsx": {
            "url": "https://www.bls.gov/emp/ind-occ-matrix/occupation.xlsx",
            "vintage": "2024-34",
        }
    }
    assert "vintage" not in sources["occupation.xlsx"]  # the caller's dict is not changed
    assert staged.rows() == {"projections": len(ep.CURRENT_OCCUPATIONS)}
    (table,) = staged.tables
    assert table.replaces == {"cycle": "2024-34"}
    assert table.path == out / "projections.parquet"
    frame = pd.read_parquet(table.path)
    assert list(frame.columns) == [*COLUMNS, "release_id"]
    assert set(frame["release_id"]) == {"r-2025-08-28"}
    assert len(frame) == table.rows
    total = frame[frame["soc_code"] == "00-0000"].iloc[0]
    assert total["employment_base"] == 169_956_100


def test_stage_projections_rejects_without_writing(tmp_path: Path, ep: EpWorkbooks) -> None:
    occupations = ep.drop_code(ep.current_occupations(), "00-0000")
    path = ep.write_current_workbook(tmp_path / "o.xlsx", occupations=occupations)
    out = tmp_path / "staged"
    with pytest.raises(ValidationError):
        stage_projections(path, out, release_id="r", sources={})
    assert not (out / "projections.parquet").exists()


# --- the table ends only where the occupations end ------------------------------------------


@pytest.mark.parametrize(
    "inserted",
    [["(1) footnote"], ["Healthcare occupations"], ["Note: see the technical notes"]],
    ids=["footnote", "one-cell subheading", "note"],
)
def test_reject_note_inside_the_data(
    tmp_path: Path, inserted: list[object], ep: EpWorkbooks
) -> None:
    # A note or a one-cell line between occupations used to end the table there: every row
    # below it was silently dropped.
    occupations = ep.current_occupations()
    occupations.insert(3, inserted)  # sheet row 6: title, header, three occupations, then it
    error = rejected(ep.write_current_workbook(tmp_path / "o.xlsx", occupations=occupations))
    assert error.check == "occupation rows after the footnotes"
    assert error.file == "o.xlsx [Table 1.2]"
    assert "row 6" in error.detail
    assert str(inserted[0]) in error.detail
    assert error.examples[0].startswith("Legislators | 11-1031")
    assert len(error.examples) == 5


def test_reject_note_inside_table_1_7(tmp_path: Path, ep: EpWorkbooks) -> None:
    occupations = ep.occupations_1_7_2014()
    occupations.insert(2, ["(1) Wages are for May 2015"])
    table_1_7 = ep.table_1_7_2014(occupations)
    error = rejected(ep.write_2014_workbook(tmp_path / "o.xlsx", table_1_7=table_1_7))
    assert error.check == "occupation rows after the footnotes"
    assert error.file == "o.xlsx [Table 1.7]"
    assert "row 7" in error.detail


def test_footnotes_after_the_last_occupation_end_the_table(current: Path, ep: EpWorkbooks) -> None:
    parsed = parse_workbook(current)
    assert list(parsed.frame["soc_code"]) == [r[CODE] for r in ep.CURRENT_OCCUPATIONS]


# --- every column we publish must be found --------------------------------------------------

EDUCATION, EXPERIENCE, TRAINING = 12, 13, 14


@pytest.mark.parametrize(
    ("column", "renamed", "check", "missing"),
    [
        (OPENINGS, "Occupational openings, annual average, 2024–34", "one openings column",
         "openings"),
        (SELF_EMPLOYED, "Self-employed, percent, 2024", "required columns", "self_employed_pct"),
        (WAGE, "Median yearly wage, dollars, 2024[1]", "median wage column",
         "median_annual_wage"),
        (EDUCATION, "Education typically needed for entry", "required columns", "education"),
        (EXPERIENCE, "Related work experience", "required columns", "experience"),
        (TRAINING, "Typical training needed to attain competency", "required columns",
         "training"),
    ],
)  # fmt: skip
def test_reject_renamed_published_column(
    tmp_path: Path, column: int, renamed: str, check: str, missing: str, ep: EpWorkbooks
) -> None:
    # Each used to be loaded as null for every row, with only a drift note.
    rows = ep.current_rows()
    rows[1][column] = renamed
    error = rejected(ep.write_current_workbook(tmp_path / "occupation.xlsx", rows))
    assert error.check == check
    assert missing in error.detail
    assert f"not recognised ['{renamed}']" in error.detail
    assert "header found" in error.detail
    assert "Employment, 2024" in error.detail  # the whole header, as found


@pytest.mark.parametrize(
    ("column", "renamed", "check", "missing"),
    [
        (7, "Self employed workers, 2014", "required columns", "self_employed_pct"),
        (8, "Job openings, 2014-24", "one openings column", "openings"),
        (10, "Entry-level education", "required columns", "education"),
    ],
)
def test_reject_renamed_table_1_7_column(
    tmp_path: Path, column: int, renamed: str, check: str, missing: str, ep: EpWorkbooks
) -> None:
    table_1_7 = ep.table_1_7_2014()
    table_1_7[2][column] = renamed  # the group row of the two header rows
    error = rejected(ep.write_2014_workbook(tmp_path / "o.xlsx", table_1_7=table_1_7))
    assert error.check == check
    assert missing in error.detail
    assert renamed in error.detail
    assert "Table 1.7" in error.detail  # the header found, per table


def test_reject_renamed_wage_in_table_1_7(tmp_path: Path, ep: EpWorkbooks) -> None:
    table_1_7 = ep.table_1_7_2014()
    table_1_7[2][9] = "Wage, 2015"
    error = rejected(ep.write_2014_workbook(tmp_path / "o.xlsx", table_1_7=table_1_7))
    assert error.check == "required columns"
    assert "median_annual_wage" in error.detail
    assert "Wage, 2015" in error.detail


# --- levels come from the codes ------------------------------------------------------------


def test_stray_leading_space_in_flat_titles_keeps_levels(tmp_path: Path, ep: EpWorkbooks) -> None:
    # One title with a leading space used to switch the whole sheet to indentation: level 0.
    table_1_2 = ep.table_1_2_2010(
        ep.set_cell([list(r) for r in ep.table_1_2_2010()[4:-1]], "11-1011", 0, " Chief executives")
    )
    parsed = parse_workbook(ep.write_2010_workbook(tmp_path / "o.xlsx", table_1_2=table_1_2))
    codes = list(parsed.frame["soc_code"])
    assert list(parsed.frame["level"]) == code_levels(codes)
    levels = dict(zip(codes, parsed.frame["level"], strict=True))
    assert (levels["00-0000"], levels["11-1011"], levels["29-1061"]) == (0, 3, 4)
    assert row_of(parsed, "11-1011")["title"] == "Chief executives"


def test_an_indented_table_without_some_groups_keeps_bls_levels(
    tmp_path: Path, ep: EpWorkbooks
) -> None:
    # Without the groups 29-1000 and 29-1210, Anesthesiologists are still printed 8 spaces in
    # (level 4), though only two of their ancestors are rows of this table: where BLS indents,
    # its indentation is the level (a sample workbook holds only some group rows).
    occupations = ep.drop_code(ep.drop_code(ep.current_occupations(), "29-1000"), "29-1210")
    parsed = parse_workbook(ep.write_current_workbook(tmp_path / "o.xlsx", occupations=occupations))
    assert row_of(parsed, "29-1211")["level"] == 4
    assert row_of(parsed, "29-2072")["level"] == 3


# --- cells: numbers exactly as published ----------------------------------------------------


@pytest.mark.parametrize(
    ("column", "field", "value"),
    [
        (OPENINGS, "openings_annual", "NaN"),
        (SELF_EMPLOYED, "self_employed_pct", "nan"),
        (CHANGE_PCT, "employment_change_pct", "inf"),
        (EMP_BASE, "employment_base", True),
        (EMP_TARGET, "employment_target", "2.086e2"),
        (WAGE, "median_annual_wage", ">=$239,200 (2)"),
        (WAGE, "median_annual_wage", "about $50,000"),
        (EMP_BASE, "employment_base", 1e30),  # beyond what a decimal can quantize
    ],
)
def test_reject_cell_that_is_not_a_number(
    tmp_path: Path, column: int, field: str, value: object, ep: EpWorkbooks
) -> None:
    occupations = ep.set_cell(ep.current_occupations(), "29-2072", column, value)  # type: ignore[arg-type]
    error = rejected(ep.write_current_workbook(tmp_path / "o.xlsx", occupations=occupations))
    assert error.check == "numbers or '—'"
    assert error.examples == [f"29-2072 {field}={value!r}"]


def test_not_a_number_is_never_a_float() -> None:
    for value in (float("nan"), float("inf"), float("-inf"), True, False, "NaN", "Infinity"):
        with pytest.raises(ValueError):
            _decimal(value)
    assert _decimal(" — ") is None and _decimal("–") is None and _decimal("") is None


def test_numeric_strings_and_dashes_are_read(tmp_path: Path, ep: EpWorkbooks) -> None:
    occupations = ep.set_cell(ep.current_occupations(), "29-2072", OPENINGS, " 14.2 ")
    ep.set_cell(occupations, "29-2000", EMP_BASE, "3,205.6")
    ep.set_cell(occupations, "29-2072", WAGE, "$50,250")
    ep.set_cell(occupations, "29-1210", WAGE, " >= $239,200 ")
    ep.set_cell(occupations, "29-2072", SELF_EMPLOYED, "–")
    parsed = parse_workbook(ep.write_current_workbook(tmp_path / "o.xlsx", occupations=occupations))
    row = row_of(parsed, "29-2072")
    assert (row["openings_annual"], row["median_annual_wage"]) == (14_200, 50_250)
    assert pd.isna(row["self_employed_pct"]) and row["not_available"] == "self_employed_pct"
    assert row_of(parsed, "29-2000")["employment_base"] == 3_205_600
    assert row_of(parsed, "29-1210")["median_wage_top_code"] == 239_200


@pytest.mark.parametrize(
    ("column", "field", "value"),
    [
        (EMP_BASE, "employment_base", 194.84),  # 194,840 persons: a digit BLS never printed
        (OPENINGS, "openings_annual", 14.25),
        (CHANGE_PCT, "employment_change_pct", 7.12),
        (SELF_EMPLOYED, "self_employed_pct", 0.85),
        (WAGE, "median_annual_wage", 24.16),  # was rounded to $24
        (WAGE, "median_annual_wage", "50,250.5"),
    ],
)
def test_reject_more_digits_than_bls_prints(
    tmp_path: Path, column: int, field: str, value: object, ep: EpWorkbooks
) -> None:
    occupations = ep.set_cell(ep.current_occupations(), "29-2072", column, value)  # type: ignore[arg-type]
    error = rejected(ep.write_current_workbook(tmp_path / "o.xlsx", occupations=occupations))
    assert error.check == "published precision"
    assert error.examples == [f"29-2072 {field}={value!r}"]


def test_thousands_scale_exactly(tmp_path: Path, ep: EpWorkbooks) -> None:
    # 309.4 thousand is 309,400 persons; 0.1 thousand is 100 (float arithmetic is not used).
    occupations = ep.set_cell(ep.current_occupations(), "11-1031", EMP_BASE, 27.7)
    ep.set_cell(occupations, "11-1031", OPENINGS, 0.1)
    parsed = parse_workbook(ep.write_current_workbook(tmp_path / "o.xlsx", occupations=occupations))
    row = row_of(parsed, "11-1031")
    assert (row["employment_base"], row["openings_annual"]) == (27_700, 100)
    assert row_of(parsed, "00-0000")["employment_target"] == 175_167_900


# --- ranges ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value", "shown"),
    [
        (EMP_BASE, -194.8, "29-2072 employment_base=-194800"),
        (EMP_TARGET, -0.1, "29-2072 employment_target=-100"),
        (OPENINGS, -14.2, "29-2072 openings_annual=-14200"),
        (SELF_EMPLOYED, 100.1, "29-2072 self_employed_pct=100.1"),
        (SELF_EMPLOYED, -0.1, "29-2072 self_employed_pct=-0.1"),
        (WAGE, 0.0, "29-2072 median_annual_wage=0"),
        (WAGE, -50250.0, "29-2072 median_annual_wage=-50250"),
    ],
)
def test_reject_value_out_of_range(
    tmp_path: Path, column: int, value: float, shown: str, ep: EpWorkbooks
) -> None:
    occupations = ep.set_cell(ep.current_occupations(), "29-2072", column, value)
    error = rejected(ep.write_current_workbook(tmp_path / "o.xlsx", occupations=occupations))
    assert error.check == "values in range"
    assert error.examples == [shown]


def test_employment_may_fall(tmp_path: Path, ep: EpWorkbooks) -> None:
    occupations = ep.set_cell(ep.current_occupations(), "29-2072", EMP_TARGET, 181.0)
    ep.set_cell(occupations, "29-2072", CHANGE, -13.8)
    ep.set_cell(occupations, "29-2072", CHANGE_PCT, -7.1)
    parsed = parse_workbook(ep.write_current_workbook(tmp_path / "o.xlsx", occupations=occupations))
    row = row_of(parsed, "29-2072")
    assert (row["employment_change"], row["employment_change_pct"]) == (-13_800, -7.1)


# --- the code column and the header block ---------------------------------------------------


def test_reject_code_column_without_codes(tmp_path: Path, ep: EpWorkbooks) -> None:
    # Title and code headers swapped: the column read as the code holds titles. This used to
    # fail as "codes repeat", or not at all.
    rows = ep.current_rows()
    rows[1][0], rows[1][1] = rows[1][1], rows[1][0]
    error = rejected(ep.write_current_workbook(tmp_path / "o.xlsx", rows))
    assert error.check == "code column holds SOC codes"
    assert "'2024 National Employment Matrix code'" in error.detail
    assert error.examples[:2] == ["'Total, all occupations'", "'Management occupations'"]


def test_units_row_of_two_cells_above_the_header(tmp_path: Path, ep: EpWorkbooks) -> None:
    # A units line with two filled cells used to be merged into every column name.
    rows = ep.current_rows()
    rows.insert(1, ["(Numbers in thousands)", "", "", "", "", "", "", "", "", "", "", "(Dollars)"])
    parsed = parse_workbook(ep.write_current_workbook(tmp_path / "o.xlsx", rows))
    assert parsed.schema_drift == {}
    row = row_of(parsed, "29-2072")
    assert (row["employment_base"], row["median_annual_wage"]) == (194_800, 50_250)
    assert parsed.wage_year == 2024


def test_units_row_above_a_two_row_header(tmp_path: Path, ep: EpWorkbooks) -> None:
    table_1_2 = ep.table_1_2_2014()
    table_1_2[1] = ["(Numbers in thousands)", "", "", "Employment", "", "Percent"]
    parsed = parse_workbook(ep.write_2014_workbook(tmp_path / "o.xlsx", table_1_2=table_1_2))
    assert row_of(parsed, "29-2071")["employment_target"] == 217_600
    assert parsed.schema_drift == {}
