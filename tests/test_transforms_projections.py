"""Employment Projections workbook → ``projections`` rows: small workbooks, no network."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import SAMPLE_MIRROR
from ep_fixtures import (
    CURRENT_OCCUPATIONS,
    NA,
    current_occupations,
    current_rows,
    drop_code,
    occupations_1_2_2014,
    occupations_1_7_2014,
    set_cell,
    table_1_2_2014,
    table_1_7_2014,
    write_2014_workbook,
    write_current_workbook,
    write_workbook,
)

from bls_refresh.errors import ValidationError
from bls_refresh.staging import StagedLoad
from transforms.projections import COLUMNS, Projections, parse_workbook, stage_projections

REAL_WORKBOOK = Path("ep/occupation_2024-34.xlsx")
MIRROR_WORKBOOK = SAMPLE_MIRROR / "www.bls.gov/emp/ind-occ-matrix/occupation.xlsx"

# Column positions in the current layout's Table 1.2.
CODE, EMP_BASE, EMP_TARGET, CHANGE, CHANGE_PCT, SELF_EMPLOYED = 1, 3, 4, 7, 8, 9


def row_of(parsed: Projections, code: str) -> pd.Series:
    rows = parsed.frame[parsed.frame["soc_code"] == code]
    assert len(rows) == 1, f"{code}: {len(rows)} rows"
    return rows.iloc[0]


def rejected(path: Path) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        parse_workbook(path)
    return caught.value


@pytest.fixture
def current(tmp_path: Path) -> Path:
    return write_current_workbook(tmp_path / "occupation.xlsx")


@pytest.fixture(params=["fixture", "real"])
def current_layout(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, Projections]:
    """The current layout twice: our small workbook and the real 2024–34 one (if present)."""
    if request.param == "real":
        samples: Path = request.getfixturevalue("shared_samples")
        return "real", parse_workbook(samples / REAL_WORKBOOK)
    return "fixture", parse_workbook(write_current_workbook(tmp_path / "occupation.xlsx"))


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


def test_current_layout_dash_is_null_never_zero(current_layout: tuple[str, Projections]) -> None:
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
    assert not frame[["education", "experience", "training"]].isin([NA, "-", "0"]).any().any()


def test_current_layout_row_count(current_layout: tuple[str, Projections]) -> None:
    kind, parsed = current_layout
    expected = 1_113 if kind == "real" else len(CURRENT_OCCUPATIONS)
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
        "29-1211": 4,
        "29-2000": 2,
        "29-2072": 3,
    }


def test_other_sheets_ignored_and_label_default(tmp_path: Path) -> None:
    # Sheet order differs between vintages: Table 1.2 is found by name, not position.
    sheets = {"Table 1.2": current_rows(), "Index": [["Occupation.xlsx contents"]]}
    parsed = parse_workbook(write_workbook(tmp_path / "reordered.xlsx", sheets))
    assert parsed.sheet == "Table 1.2"
    assert len(parsed.frame) == len(CURRENT_OCCUPATIONS)


def test_sample_mirror_workbook() -> None:
    parsed = parse_workbook(MIRROR_WORKBOOK)
    assert (parsed.cycle, parsed.base_year, parsed.target_year) == ("2024-34", 2024, 2034)
    assert parsed.wage_year == 2024
    assert len(parsed.frame) == 36
    row = row_of(parsed, "29-2072")
    assert (row["employment_base"], row["median_annual_wage"]) == (194_800, 50_250)
    assert row_of(parsed, "29-1211")["median_wage_status"] == "top_coded"


# --- 2014–24 layout -------------------------------------------------------------------------


@pytest.fixture
def layout_2014(tmp_path: Path) -> Projections:
    return parse_workbook(write_2014_workbook(tmp_path / "occupation_2014-24.xlsx"))


def test_2014_vintage(layout_2014: Projections) -> None:
    parsed = layout_2014
    assert (parsed.cycle, parsed.base_year, parsed.target_year) == ("2014-24", 2014, 2024)
    assert parsed.wage_year == 2015  # "Median annual wage, 2015(1)" in Table 1.7
    assert parsed.sheet == "Table 1.2"
    assert set(parsed.frame["soc_version"]) == {"2010"}
    assert set(parsed.frame["wage_year"]) == {2015}
    assert len(parsed.frame) == len(occupations_1_2_2014())


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
    assert layout_2014.frame["self_employed_pct"].isna().all()


def test_2014_numeric_year_subheaders(tmp_path: Path) -> None:
    # Years typed into Excel are numbers (2014.0 once read), not text.
    path = write_2014_workbook(tmp_path / "occupation.xlsx", numeric_years=True)
    parsed = parse_workbook(path)
    assert (parsed.cycle, parsed.wage_year) == ("2014-24", 2015)
    assert row_of(parsed, "29-2071")["employment_target"] == 217_600


def test_2014_code_missing_from_table_1_7(tmp_path: Path) -> None:
    table_1_7 = table_1_7_2014(drop_code(occupations_1_7_2014(), "29-0000"))
    parsed = parse_workbook(write_2014_workbook(tmp_path / "o.xlsx", table_1_7=table_1_7))
    row = row_of(parsed, "29-0000")
    assert pd.isna(row["median_annual_wage"])
    assert row["median_wage_status"] == "not_available"
    assert row["not_available"] == "median_annual_wage"
    assert row[["education", "experience", "training"]].isna().all()
    assert row["employment_base"] == 8_236_500
    assert row_of(parsed, "29-2071")["median_annual_wage"] == 37_110


def test_2014_without_table_1_7(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "o.xlsx", {"Table 1.2": table_1_2_2014()})
    error = rejected(path)
    assert error.check == "median wage column"
    assert "o.xlsx" in str(error)


# --- rejections -----------------------------------------------------------------------------


def test_reject_workbook_without_table_1_2(tmp_path: Path) -> None:
    sheets = {"Index": [["contents"]], "Table 1.1": [["x"]], "Table 1.20": current_rows()}
    error = rejected(write_workbook(tmp_path / "industry.xlsx", sheets))
    assert error.file == "industry.xlsx"
    assert error.check == "sheet 'Table 1.2'"
    assert "industry.xlsx: check 'sheet 'Table 1.2'' failed" in str(error)
    assert "Table 1.20" in str(error)


def test_reject_missing_header_row(tmp_path: Path) -> None:
    rows = [current_rows()[0], *current_occupations()]  # title, then data: no header
    error = rejected(write_current_workbook(tmp_path / "occupation.xlsx", rows))
    assert error.check == "header row"
    assert "occupation.xlsx" in error.file
    assert "occupation.xlsx" in str(error)


def test_reject_renamed_code_column(tmp_path: Path) -> None:
    rows = current_rows()
    rows[1][CODE] = "2024 National Employment Matrix identifier"
    error = rejected(write_current_workbook(tmp_path / "occupation.xlsx", rows))
    assert error.check == "header row"
    assert "occupation.xlsx" in str(error)


def test_reject_renamed_change_column(tmp_path: Path) -> None:
    rows = current_rows()
    rows[1][CHANGE] = "Employment difference, 2024–34"
    error = rejected(write_current_workbook(tmp_path / "occupation.xlsx", rows))
    assert error.check == "expected columns"
    assert "employment_change" in error.detail
    assert error.file == "occupation.xlsx [Table 1.2]"


def test_reject_duplicate_codes(tmp_path: Path) -> None:
    occupations = current_occupations()
    occupations.append(list(occupations[-1]))
    error = rejected(write_current_workbook(tmp_path / "o.xlsx", occupations=occupations))
    assert error.check == "codes unique within a cycle"
    assert error.examples == ["29-2072", "29-2072"]
    assert str(error).startswith("o.xlsx: check 'codes unique within a cycle' failed")


def test_reject_without_total(tmp_path: Path) -> None:
    occupations = drop_code(current_occupations(), "00-0000")
    error = rejected(write_current_workbook(tmp_path / "o.xlsx", occupations=occupations))
    assert error.check == "00-0000 present"
    assert "o.xlsx" in str(error)


def test_reject_change_not_target_minus_base(tmp_path: Path) -> None:
    occupations = set_cell(current_occupations(), "29-2072", CHANGE, 15.8)  # 208.6 − 194.8 = 13.8
    error = rejected(write_current_workbook(tmp_path / "o.xlsx", occupations=occupations))
    assert error.check == "change = target − base within rounding"
    assert error.examples == ["29-2072: 208600 − 194800 ≠ 15800"]


def test_change_within_rounding_passes(tmp_path: Path) -> None:
    # 0.1 thousand off is rounding of three separately rounded figures, not an error.
    occupations = set_cell(current_occupations(), "29-2072", CHANGE, 13.9)
    parsed = parse_workbook(write_current_workbook(tmp_path / "o.xlsx", occupations=occupations))
    assert row_of(parsed, "29-2072")["employment_change"] == 13_900


def test_reject_percent_inconsistent(tmp_path: Path) -> None:
    occupations = set_cell(current_occupations(), "29-2072", CHANGE_PCT, 8.1)  # 13.8/194.8 = 7.1%
    error = rejected(write_current_workbook(tmp_path / "o.xlsx", occupations=occupations))
    assert error.check == "percent change consistent within rounding"
    assert error.examples == ["29-2072: 13800 / 194800 ≠ 8.1%"]


def test_reject_non_numeric_cell(tmp_path: Path) -> None:
    occupations = set_cell(current_occupations(), "29-2072", EMP_TARGET, "12,5x")
    error = rejected(write_current_workbook(tmp_path / "o.xlsx", occupations=occupations))
    assert error.check == "numbers or '—'"
    assert error.examples == ["29-2072 employment_target='12,5x'"]
    assert "o.xlsx" in str(error)


def test_reject_row_without_code(tmp_path: Path) -> None:
    occupations = current_occupations()
    occupations.insert(2, ["  Stray row", "", "Summary", 1.0, 2.0])
    error = rejected(write_current_workbook(tmp_path / "o.xlsx", occupations=occupations))
    assert error.check == "every row has an occupation code"


def test_reject_cycle_disagreeing_with_employment_years(tmp_path: Path) -> None:
    rows = current_rows()
    rows[1][CHANGE] = "Employment change, numeric, 2024–33"
    error = rejected(write_current_workbook(tmp_path / "o.xlsx", rows))
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


def test_stage_projections(current: Path, tmp_path: Path) -> None:
    out = tmp_path / "staged"
    sources: dict[str, dict[str, object]] = {
        "occupation.xlsx": {"url": "https://www.bls.gov/emp/ind-occ-matrix/occupation.xlsx"}
    }
    staged = stage_projections(current, out, release_id="r-2025-08-28", sources=sources)
    assert isinstance(staged, StagedLoad)
    assert (staged.kind, staged.vintage, staged.guarded_table) == (
        "projections",
        "2024-34",
        "projections",
    )
    assert staged.sources == {
        "occupation.xlsx": {
            "url": "https://www.bls.gov/emp/ind-occ-matrix/occupation.xlsx",
            "vintage": "2024-34",
        }
    }
    assert "vintage" not in sources["occupation.xlsx"]  # the caller's dict is not changed
    assert staged.rows() == {"projections": len(CURRENT_OCCUPATIONS)}
    (table,) = staged.tables
    assert table.replaces == {"cycle": "2024-34"}
    assert table.path == out / "projections.parquet"
    frame = pd.read_parquet(table.path)
    assert list(frame.columns) == [*COLUMNS, "release_id"]
    assert set(frame["release_id"]) == {"r-2025-08-28"}
    assert len(frame) == table.rows
    total = frame[frame["soc_code"] == "00-0000"].iloc[0]
    assert total["employment_base"] == 169_956_100


def test_stage_projections_rejects_without_writing(tmp_path: Path) -> None:
    occupations = drop_code(current_occupations(), "00-0000")
    path = write_current_workbook(tmp_path / "o.xlsx", occupations=occupations)
    out = tmp_path / "staged"
    with pytest.raises(ValidationError):
        stage_projections(path, out, release_id="r", sources={})
    assert not (out / "projections.parquet").exists()
