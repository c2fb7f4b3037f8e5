"""OEWS special-request parsing on small workbooks in the real layouts (xlsxwriter).

A tiny .xls cannot be written here: the .xls path is covered by the real files in
tests/conformance/test_oesm.py.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pytest

from core.errors import ValidationError
from transforms import oews_catalog, oews_special
from transforms.detect import OLE2_MAGIC, detect
from transforms.oews_lookups import Vintage
from transforms.oews_special import KNOWN_TOP_CODES, parse_special, sector_code, stage_special

if TYPE_CHECKING:
    from tests.conftest import OesmWorkbooks


@pytest.fixture(scope="session")
def rows_for(oesm: OesmWorkbooks) -> Callable[..., list[list[object]]]:
    """``rows_for(header, *changes)``: rows in ``header``'s order: the 29-2072 row with each
    dict's cells changed."""
    base = dict(zip(oesm.HEADER_2023, oesm.ROWS_2023[1], strict=True))  # every value published

    def rows(header: list[str], *changes: dict[str, object]) -> list[list[object]]:
        return [[{**base, **change}.get(name) for name in header] for change in changes]

    return rows


def value(parsed: oews_special.SpecialRequest, soc: str, measure: str, **keys: str) -> pd.Series:
    e = parsed.estimates
    hit = e[(e.soc_code == soc) & (e.measure == measure)]
    for column, wanted in keys.items():
        hit = hit[hit[column] == wanted]
    assert len(hit) == 1, hit
    return hit.iloc[0]


def comparable(frame: pd.DataFrame) -> list[tuple[object, ...]]:
    return sorted(
        frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None),
        key=repr,
    )


# --------------------------------------------------------------------------- columns by name


def test_columns_moved_and_lower_case_read_the_same(tmp_path: Path, oesm: OesmWorkbooks) -> None:
    baseline = parse_special(
        oesm.write_workbook(tmp_path / "a.xlsx", oesm.HEADER_2023, oesm.ROWS_2023)
    )
    order = list(range(len(oesm.HEADER_2023)))
    random.Random(7).shuffle(order)
    header = [oesm.HEADER_2023[i].lower() for i in order]
    rows = [[row[i] for i in order] for row in oesm.ROWS_2023]
    moved = parse_special(oesm.write_workbook(tmp_path / "b.xlsx", header, rows))

    assert order != list(range(len(oesm.HEADER_2023)))
    assert comparable(moved.estimates) == comparable(baseline.estimates)
    assert moved.schema_drift == baseline.schema_drift == {}  # PCT_TOTAL, PRIM_STATE: known
    assert value(moved, "29-2072", "annual_median")["value"] == "48780"


def test_unknown_column_is_drift_and_the_load_goes_on(tmp_path: Path, oesm: OesmWorkbooks) -> None:
    header = [*oesm.HEADER_2023[:12], "NEW_MEASURE", *oesm.HEADER_2023[12:]]
    rows = [[*r[:12], 42, *r[12:]] for r in oesm.ROWS_2023]
    loose = parse_special(oesm.write_workbook(tmp_path / "national_M2023_dl.xlsx", header, rows))
    assert loose.schema_drift == {"national_M2023_dl.xlsx": ["NEW_MEASURE"]}
    assert value(loose, "29-2072", "employment")["value"] == "186460"

    zipped = oesm.zip_of(
        tmp_path / "oesm23nat.zip",
        {"oesm23nat/national_M2023_dl.xlsx": tmp_path / "national_M2023_dl.xlsx"},
    )
    staged = stage_special(zipped, tmp_path / "out", release_id="r1", sources={})
    assert staged.schema_drift == {
        "oesm23nat.zip: oesm23nat/national_M2023_dl.xlsx": ["NEW_MEASURE"]
    }
    assert staged.rows()["oews_estimates"] == len(parse_special(zipped).estimates)


def test_missing_occ_code_fails_showing_the_header(tmp_path: Path, oesm: OesmWorkbooks) -> None:
    header = ["SOC", *oesm.HEADER_2023[9:]]
    rows = [[r[8], *r[9:]] for r in oesm.ROWS_2023]
    path = oesm.write_workbook(tmp_path / "national_M2023_dl.xlsx", header, rows)
    with pytest.raises(ValidationError, match="required columns") as err:
        parse_special(path)
    assert "occ_code" in err.value.detail
    assert "header found: ['SOC', 'OCC_TITLE', 'O_GROUP', 'TOT_EMP'" in err.value.detail


def test_no_measure_column_fails_showing_the_header(tmp_path: Path, oesm: OesmWorkbooks) -> None:
    header = ["OCC_CODE", "OCC_TITLE", "O_GROUP"]
    path = oesm.write_workbook(tmp_path / "x.xlsx", header, [["29-2072", "Medical", "detailed"]])
    with pytest.raises(ValidationError, match="no employment or wage column") as err:
        parse_special(path)
    assert "['OCC_CODE', 'OCC_TITLE', 'O_GROUP']" in err.value.detail


@pytest.mark.parametrize(
    ("renamed", "missing"),
    [
        ({"TOT_EMP": "TOTAL_EMP"}, "['TOT_EMP']"),
        ({"H_MEDIAN": "H_PCT50", "A_MEDIAN": "A_PCT50"}, "['H_MEDIAN', 'A_MEDIAN']"),
        ({"MEAN_PRSE": "WAGE_PRSE"}, "['MEAN_PRSE']"),
    ],
)
def test_a_renamed_measure_column_fails_showing_the_header(
    tmp_path: Path, renamed: dict[str, str], missing: str, oesm: OesmWorkbooks
) -> None:
    # Every real file (2012–2025) has these 15 measures; a renamed one would drop the whole
    # measure for the year behind a drift note.
    header = [renamed.get(h, h) for h in oesm.HEADER_2023]
    path = oesm.write_workbook(tmp_path / "national_M2023_dl.xlsx", header, oesm.ROWS_2023)
    with pytest.raises(ValidationError, match="required columns") as err:
        parse_special(path)
    assert f"missing measure columns {missing}" in err.value.detail
    assert f"not recognised {sorted(renamed.values(), key=header.index)}" in err.value.detail
    assert "header found: ['AREA', 'AREA_TITLE'" in err.value.detail


def test_jobs_per_1000_and_location_quotient_are_optional(
    tmp_path: Path, oesm: OesmWorkbooks
) -> None:
    # national files 2012–2018 have neither column
    parsed = parse_special(
        oesm.write_workbook(tmp_path / "national_M2023_dl.xlsx", oesm.HEADER_2023, oesm.ROWS_2023)
    )
    assert set(parsed.estimates.measure) == set(oews_special.MEASURES) - {
        "jobs_per_1000",
        "location_quotient",
    }


def test_drift_of_several_data_sheets_in_one_workbook_is_merged(
    tmp_path: Path, oesm: OesmWorkbooks
) -> None:
    first = [*oesm.HEADER_2023, "NEW_A"]
    second = [*oesm.HEADER_2023, "NEW_B", "NEW_A"]
    path = oesm.write_sheets(
        tmp_path / "national_M2023_dl.xlsx",
        {
            "part 1": (first, [[*r, 1] for r in oesm.ROWS_2023[:2]]),
            "part 2": (second, [[*r, 2, 1] for r in oesm.ROWS_2023[2:]]),
        },
    )
    parsed = parse_special(path)
    assert parsed.schema_drift == {"national_M2023_dl.xlsx": ["NEW_A", "NEW_B"]}
    assert set(parsed.estimates.soc_code) == {r[8] for r in oesm.ROWS_2023}


# --------------------------------------------------------------------------- duplicates


def test_broad_and_detailed_listing_with_equal_values_is_one_row(
    tmp_path: Path, rows_for: Callable[..., list[list[object]]], oesm: OesmWorkbooks
) -> None:
    buyers = {"OCC_CODE": "13-1020", "OCC_TITLE": "Buyers and Purchasing Agents"}
    rows = rows_for(
        oesm.HEADER_2023, {**buyers, "O_GROUP": "broad"}, {**buyers, "O_GROUP": "detailed"}
    )
    parsed = parse_special(
        oesm.write_workbook(tmp_path / "national_M2023_dl.xlsx", oesm.HEADER_2023, rows)
    )
    e = parsed.estimates
    assert len(e[(e.soc_code == "13-1020") & (e.measure == "annual_mean")]) == 1
    assert not e.duplicated(
        ["area_code", "industry_code", "ownership", "soc_code", "measure"]
    ).any()
    assert parsed.occupations[["soc_code", "level"]].values.tolist() == [["13-1020", "detailed"]]


def test_a_code_listed_twice_with_different_values_fails_naming_both(
    tmp_path: Path, rows_for: Callable[..., list[list[object]]], oesm: OesmWorkbooks
) -> None:
    buyers = {"OCC_CODE": "13-1020", "OCC_TITLE": "Buyers and Purchasing Agents"}
    rows = rows_for(
        oesm.HEADER_2023,
        {**buyers, "O_GROUP": "broad"},
        {**buyers, "O_GROUP": "detailed", "A_MEAN": 51100},
    )
    path = oesm.write_workbook(tmp_path / "national_M2023_dl.xlsx", oesm.HEADER_2023, rows)
    with pytest.raises(ValidationError, match="listed twice") as err:
        parse_special(path)
    (example,) = err.value.examples
    assert "13-1020" in example and "row 2 (broad)" in example and "row 3 (detailed)" in example
    assert "ANNUAL_MEAN '51090' vs '51100'" in example


# --------------------------------------------------------------------------- cells


def test_blank_cells_are_not_applicable_never_zero(
    tmp_path: Path, oesm: OesmWorkbooks, rows_for: Callable[..., list[list[object]]]
) -> None:
    header = [*oesm.HEADER_2023[:13], "JOBS_1000", "LOC_QUOTIENT", *oesm.HEADER_2023[13:]]
    rows = [[*r[:13], None, None, *r[13:]] for r in rows_for(oesm.HEADER_2023, {"A_PCT10": None})]
    parsed = parse_special(oesm.write_workbook(tmp_path / "national_M2023_dl.xlsx", header, rows))
    for measure in ("jobs_per_1000", "location_quotient", "annual_p10"):
        row = value(parsed, "29-2072", measure)
        assert row["status"] == "not_applicable"
        assert pd.isna(row["value"]) and pd.isna(row["footnote_codes"])
    assert len(parsed.estimates) == 17  # nothing dropped


def test_markers_become_statuses(
    tmp_path: Path, oesm: OesmWorkbooks, rows_for: Callable[..., list[list[object]]]
) -> None:
    # Each marker where BLS uses it (every real file): ** in employment columns, * in wage
    # columns and MEAN_PRSE. (This test used to put ~ in MEAN_PRSE; no real file has ~ in a
    # loaded column, so it now fails: test_a_marker_where_bls_never_uses_it_fails.)
    header = [*oesm.HEADER_2023[:13], "JOBS_1000", "LOC_QUOTIENT", *oesm.HEADER_2023[13:]]
    rows = [
        [*r[:13], "**", "**", *r[13:]]
        for r in rows_for(
            oesm.HEADER_2023,
            {"TOT_EMP": "**", "EMP_PRSE": "**", "H_MEAN": "*", "A_MEAN": "*", "MEAN_PRSE": "*"},
        )
    ]
    parsed = parse_special(oesm.write_workbook(tmp_path / "national_M2023_dl.xlsx", header, rows))
    measures = (
        "employment",
        "employment_prse",
        "jobs_per_1000",
        "location_quotient",
        "hourly_mean",
        "annual_mean",
        "mean_prse",
    )
    got = {
        m: (value(parsed, "29-2072", m)["status"], value(parsed, "29-2072", m)["footnote_codes"])
        for m in measures
    }
    assert got == {
        "employment": ("suppressed", "**"),
        "employment_prse": ("suppressed", "**"),
        "jobs_per_1000": ("suppressed", "**"),
        "location_quotient": ("suppressed", "**"),
        "hourly_mean": ("suppressed", "*"),
        "annual_mean": ("suppressed", "*"),
        "mean_prse": ("suppressed", "*"),
    }


def test_annual_only_and_hourly_only(
    tmp_path: Path, oesm: OesmWorkbooks, rows_for: Callable[..., list[list[object]]]
) -> None:
    hourly_cols = [c for c in oesm.HEADER_2023 if c.startswith("H_")]
    annual_cols = [c for c in oesm.HEADER_2023 if c.startswith("A_")]
    teacher = {
        "OCC_CODE": "25-2021",
        "OCC_TITLE": "Elementary School Teachers",
        "ANNUAL": "TRUE",
        **dict.fromkeys(hourly_cols, "*"),
    }
    actor = {"OCC_CODE": "27-2011", "HOURLY": "TRUE", **dict.fromkeys(annual_cols, "*")}
    rows = rows_for(oesm.HEADER_2023, teacher, actor)
    parsed = parse_special(
        oesm.write_workbook(tmp_path / "national_M2023_dl.xlsx", oesm.HEADER_2023, rows)
    )
    e = parsed.estimates
    teachers = e[e.soc_code == "25-2021"].set_index("measure")
    actors = e[e.soc_code == "27-2011"].set_index("measure")
    assert set(teachers.loc[teachers.index.str.startswith("hourly_"), "status"]) == {"annual_only"}
    assert set(teachers.loc[teachers.index.str.startswith("annual_"), "status"]) == {"ok"}
    assert set(actors.loc[actors.index.str.startswith("annual_"), "status"]) == {"hourly_only"}
    assert set(actors.loc[actors.index.str.startswith("hourly_"), "status"]) == {"ok"}
    assert teachers.at["hourly_median", "footnote_codes"] == "*"
    assert pd.isna(teachers.at["hourly_median", "value"])


def test_values_keep_their_exact_digits(
    tmp_path: Path, rows_for: Callable[..., list[list[object]]], oesm: OesmWorkbooks
) -> None:
    rows = rows_for(oesm.HEADER_2023, {"EMP_PRSE": 0.1, "TOT_EMP": "1,234", "H_MEAN": 24.56})
    parsed = parse_special(
        oesm.write_workbook(tmp_path / "national_M2023_dl.xlsx", oesm.HEADER_2023, rows)
    )
    assert value(parsed, "29-2072", "employment_prse")["value"] == "0.1"
    assert value(parsed, "29-2072", "employment")["value"] == "1234"
    assert value(parsed, "29-2072", "hourly_mean")["value"] == "24.56"


def test_text_that_is_no_number_nor_marker_fails(
    tmp_path: Path, rows_for: Callable[..., list[list[object]]], oesm: OesmWorkbooks
) -> None:
    rows = rows_for(oesm.HEADER_2023, {"A_MEAN": "n/a"})
    path = oesm.write_workbook(tmp_path / "national_M2023_dl.xlsx", oesm.HEADER_2023, rows)
    with pytest.raises(ValidationError, match="BLS markers") as err:
        parse_special(path)
    assert err.value.examples == ["national_M2023_dl.xlsx row 2 29-2072 annual_mean='n/a'"]


@pytest.mark.parametrize(
    ("column", "marker", "shown"),
    [
        ("TOT_EMP", "#", "employment='#'"),  # used to be top_coded with a NaN threshold
        ("EMP_PRSE", "*", "employment_prse='*'"),
        ("H_MEAN", "**", "hourly_mean='**'"),
        ("A_PCT90", "**", "annual_p90='**'"),
        ("MEAN_PRSE", "#", "mean_prse='#'"),
        ("MEAN_PRSE", "~", "mean_prse='~'"),
        ("H_MEDIAN", "~", "hourly_median='~'"),
    ],
)
def test_a_marker_where_bls_never_uses_it_fails(
    tmp_path: Path,
    column: str,
    marker: str,
    shown: str,
    rows_for: Callable[..., list[list[object]]],
    oesm: OesmWorkbooks,
) -> None:
    rows = rows_for(oesm.HEADER_2023, {column: marker})
    path = oesm.write_workbook(tmp_path / "national_M2023_dl.xlsx", oesm.HEADER_2023, rows)
    with pytest.raises(ValidationError, match="BLS markers only where BLS uses them") as err:
        parse_special(path)
    assert err.value.examples == [f"national_M2023_dl.xlsx row 2 29-2072 {shown}"]


def test_every_hash_has_a_threshold(tmp_path: Path, oesm: OesmWorkbooks) -> None:
    parsed = parse_special(oesm.national_2023_zip(tmp_path))
    top = parsed.estimates[parsed.estimates.footnote_codes == "#"]
    assert len(top) == 10 and (top.status == "top_coded").all()
    assert top.top_code_threshold.notna().all()


@pytest.mark.parametrize("cell", ["1,2,3", "12,34", "1,,234", ",123", "1234,567", "1,234.5,6"])
def test_commas_other_than_thousands_grouping_fail(
    tmp_path: Path, cell: str, rows_for: Callable[..., list[list[object]]], oesm: OesmWorkbooks
) -> None:
    rows = rows_for(oesm.HEADER_2023, {"TOT_EMP": cell})
    path = oesm.write_workbook(tmp_path / "national_M2023_dl.xlsx", oesm.HEADER_2023, rows)
    with pytest.raises(ValidationError, match="BLS markers") as err:
        parse_special(path)
    assert err.value.examples == [f"national_M2023_dl.xlsx row 2 29-2072 employment={cell!r}"]


@pytest.mark.parametrize(
    ("cell", "digits"), [("1,234", "1234"), ("1,234,567", "1234567"), ("12,345.5", "12345.5")]
)
def test_thousands_grouping_is_read(
    tmp_path: Path,
    cell: str,
    digits: str,
    rows_for: Callable[..., list[list[object]]],
    oesm: OesmWorkbooks,
) -> None:
    rows = rows_for(oesm.HEADER_2023, {"TOT_EMP": cell})
    parsed = parse_special(
        oesm.write_workbook(tmp_path / "national_M2023_dl.xlsx", oesm.HEADER_2023, rows)
    )
    assert value(parsed, "29-2072", "employment")[["value", "status"]].tolist() == [digits, "ok"]


def test_negative_values_fail_naming_the_cells(
    tmp_path: Path, rows_for: Callable[..., list[list[object]]], oesm: OesmWorkbooks
) -> None:
    rows = rows_for(oesm.HEADER_2023, {"TOT_EMP": -5, "A_MEAN": "-1"})
    path = oesm.write_workbook(tmp_path / "national_M2023_dl.xlsx", oesm.HEADER_2023, rows)
    with pytest.raises(ValidationError, match="not negative") as err:
        parse_special(path)
    assert err.value.examples == [
        "national_M2023_dl.xlsx row 2 29-2072 employment='-5'",
        "national_M2023_dl.xlsx row 2 29-2072 annual_mean='-1'",
    ]


def test_a_fourth_decimal_fails_rather_than_being_rounded(
    tmp_path: Path, rows_for: Callable[..., list[list[object]]], oesm: OesmWorkbooks
) -> None:
    # Trailing zeros change nothing and pass; a digit the lake's DECIMAL(18,3) would drop fails.
    rows = rows_for(oesm.HEADER_2023, {"H_MEAN": "24.5600", "A_MEAN": "51090.1234"})
    path = oesm.write_workbook(tmp_path / "national_M2023_dl.xlsx", oesm.HEADER_2023, rows)
    with pytest.raises(ValidationError, match="at most three decimals") as err:
        parse_special(path)
    assert err.value.examples == ["national_M2023_dl.xlsx row 2 29-2072 annual_mean='51090.1234'"]


@pytest.mark.parametrize("cell", ["summary", "Detailed occupation"])
def test_unknown_o_group_fails_naming_it(
    tmp_path: Path, cell: str, rows_for: Callable[..., list[list[object]]], oesm: OesmWorkbooks
) -> None:
    rows = rows_for(oesm.HEADER_2023, {"O_GROUP": cell})
    path = oesm.write_workbook(tmp_path / "national_M2023_dl.xlsx", oesm.HEADER_2023, rows)
    with pytest.raises(ValidationError, match="known O_GROUP") as err:
        parse_special(path)
    assert repr(cell.lower()) in err.value.detail
    assert err.value.examples == [f"national_M2023_dl.xlsx row 2 29-2072 O_GROUP={cell!r}"]


def test_blank_o_group_in_a_file_with_the_column_fails(
    tmp_path: Path, rows_for: Callable[..., list[list[object]]], oesm: OesmWorkbooks
) -> None:
    rows = rows_for(oesm.HEADER_2023, {"O_GROUP": None})
    path = oesm.write_workbook(tmp_path / "national_M2023_dl.xlsx", oesm.HEADER_2023, rows)
    with pytest.raises(ValidationError, match="known O_GROUP") as err:
        parse_special(path)
    assert err.value.examples == ["national_M2023_dl.xlsx row 2 29-2072 O_GROUP=''"]


def test_detail_is_detailed(
    tmp_path: Path, rows_for: Callable[..., list[list[object]]], oesm: OesmWorkbooks
) -> None:
    rows = rows_for(oesm.HEADER_2023, {"O_GROUP": "detail"})  # 2012–2014 files (README)
    parsed = parse_special(
        oesm.write_workbook(tmp_path / "national_M2023_dl.xlsx", oesm.HEADER_2023, rows)
    )
    assert parsed.occupations["level"].tolist() == ["detailed"]


@pytest.mark.parametrize(
    ("column", "cell", "shown"),
    [("ANNUAL", "Yes", "'Yes'"), ("HOURLY", 1, "'1'"), ("ANNUAL", "FALSE", "'FALSE'")],
)
def test_annual_and_hourly_flags_other_than_true_fail(
    tmp_path: Path,
    column: str,
    cell: object,
    shown: str,
    rows_for: Callable[..., list[list[object]]],
    oesm: OesmWorkbooks,
) -> None:
    rows = rows_for(oesm.HEADER_2023, {column: cell})
    path = oesm.write_workbook(tmp_path / "national_M2023_dl.xlsx", oesm.HEADER_2023, rows)
    with pytest.raises(ValidationError, match=f"{column} is TRUE or blank") as err:
        parse_special(path)
    assert err.value.examples == [f"national_M2023_dl.xlsx row 2 29-2072 {column}={shown}"]


def test_annual_flag_as_a_boolean_cell_or_lower_case_is_true(
    tmp_path: Path, oesm: OesmWorkbooks, rows_for: Callable[..., list[list[object]]]
) -> None:
    hourly = dict.fromkeys([c for c in oesm.HEADER_2023 if c.startswith("H_")], "*")
    rows = rows_for(
        oesm.HEADER_2023,
        {"OCC_CODE": "25-2021", "ANNUAL": True, **hourly},
        {"OCC_CODE": "25-2022", "ANNUAL": "true", **hourly},
    )
    parsed = parse_special(
        oesm.write_workbook(tmp_path / "national_M2023_dl.xlsx", oesm.HEADER_2023, rows)
    )
    for code in ("25-2021", "25-2022"):
        assert value(parsed, code, "hourly_median")["status"] == "annual_only"


def test_status_codes_have_names() -> None:
    assert [s.name.lower() for s in oews_special.Status] == list(oews_special.STATUSES)
    assert oews_special.STATUSES[oews_special.Status.TOP_CODED] == "top_coded"


# --------------------------------------------------------------------------- top code


def test_documented_top_codes_are_the_readme_table() -> None:
    assert {y: (float(h), float(a)) for y, (h, a) in KNOWN_TOP_CODES.items()} == {
        **{y: (90.0, 187_200.0) for y in range(2012, 2016)},
        **{y: (100.0, 208_000.0) for y in range(2016, 2022)},
        **{y: (115.0, 239_200.0) for y in range(2022, 2026)},
    }


def test_top_code_from_the_printed_legend(tmp_path: Path, oesm: OesmWorkbooks) -> None:
    parsed = parse_special(oesm.national_2023_zip(tmp_path))
    assert parsed.top_code == (Decimal("115.00"), Decimal("239200"))
    assert parsed.top_code_source == "printed"
    assert value(parsed, "29-1211", "annual_median")["top_code_threshold"] == 239_200.0
    assert value(parsed, "29-1211", "hourly_mean")["top_code_threshold"] == 115.0
    assert value(parsed, "29-1211", "hourly_mean")["status"] == "top_coded"


def test_a_printed_cap_is_trusted_over_the_documented_one(
    tmp_path: Path, oesm: OesmWorkbooks
) -> None:
    legend = [
        *oesm.FIELD_DESCRIPTIONS[:4],
        ["#", "= indicates a wage equal to or greater than $120.00 per hour or $249,600 per year"],
    ]
    path = oesm.write_workbook(
        tmp_path / "n.xlsx", oesm.HEADER_2023, oesm.ROWS_2023, descriptions=legend
    )
    parsed = parse_special(path)
    assert parsed.top_code == (Decimal("120.00"), Decimal("249600"))
    assert value(parsed, "29-1211", "annual_p90")["top_code_threshold"] == 249_600.0


def test_a_published_wage_above_the_cap_fails(
    tmp_path: Path, oesm: OesmWorkbooks, rows_for: Callable[..., list[list[object]]]
) -> None:
    rows = [
        *oesm.ROWS_2023,
        *rows_for(oesm.HEADER_2023, {"OCC_CODE": "11-1011", "A_PCT90": 250_000}),
    ]
    path = oesm.write_workbook(tmp_path / "national_M2023_dl.xlsx", oesm.HEADER_2023, rows)
    with pytest.raises(ValidationError, match="published wages below the top code") as err:
        parse_special(path)
    assert err.value.examples == ["11-1011 annual_p90=250000 > $239,200"]


def test_a_percentile_at_an_inclusive_cap_fails(
    tmp_path: Path, oesm: OesmWorkbooks, rows_for: Callable[..., list[list[object]]]
) -> None:
    # "# = a wage equal to or greater than $115.00 per hour or $239,200 per year": a
    # published 239200 contradicts it (no real file with # has one).
    rows = [
        *oesm.ROWS_2023,
        *rows_for(oesm.HEADER_2023, {"OCC_CODE": "11-1011", "A_PCT90": 239_200}),
    ]
    path = oesm.write_workbook(tmp_path / "national_M2023_dl.xlsx", oesm.HEADER_2023, rows)
    with pytest.raises(ValidationError, match="published wages below the top code") as err:
        parse_special(path)
    assert err.value.examples == [
        "11-1011 annual_p90=239200 = $239,200 (# means 'equal to or greater than')"
    ]


def test_a_percentile_at_a_greater_than_cap_is_published(
    tmp_path: Path, oesm: OesmWorkbooks, rows_for: Callable[..., list[list[object]]]
) -> None:
    # 2012–2014: "# = a wage greater than $90.00 per hour": $90.00 itself is published.
    legend = [
        ["May {year} OES Estimates"],
        ["#", "= indicates a wage greater than $90.00 per hour or $187,200 per year"],
    ]
    rows = [*oesm.ROWS_2023, *rows_for(oesm.HEADER_2023, {"OCC_CODE": "11-1011", "H_PCT90": 90})]
    path = oesm.write_workbook(
        tmp_path / "national_M2013_dl.xlsx", oesm.HEADER_2023, rows, 2013, descriptions=legend
    )
    parsed = parse_special(path)
    assert value(parsed, "11-1011", "hourly_p90")[["value", "status"]].tolist() == ["90", "ok"]


def test_documented_cap_is_inclusive_from_2015(
    tmp_path: Path, oesm: OesmWorkbooks, rows_for: Callable[..., list[list[object]]]
) -> None:
    rows = [*oesm.ROWS_2023, *rows_for(oesm.HEADER_2023, {"OCC_CODE": "11-1011", "H_PCT90": 100})]
    path = oesm.write_workbook(
        tmp_path / "nat4d_M2016_owner_dl.xlsx", oesm.HEADER_2023, rows, 2016, descriptions=None
    )
    with pytest.raises(ValidationError, match="published wages below the top code") as err:
        parse_special(path)
    assert err.value.examples == [
        "11-1011 hourly_p90=100 = $100.00 (# means 'equal to or greater than')"
    ]


def test_a_mean_above_the_cap_is_published(
    tmp_path: Path, oesm: OesmWorkbooks, rows_for: Callable[..., list[list[object]]]
) -> None:
    # BLS prints means above the cap (May 2023 29-1022 hourly mean $160.73, cap $115).
    rows = [*oesm.ROWS_2023, *rows_for(oesm.HEADER_2023, {"OCC_CODE": "29-1022", "H_MEAN": 160.73})]
    parsed = parse_special(
        oesm.write_workbook(tmp_path / "national_M2023_dl.xlsx", oesm.HEADER_2023, rows)
    )
    assert value(parsed, "29-1022", "hourly_mean")[["value", "status"]].tolist() == ["160.73", "ok"]


def test_no_top_code_mark_means_no_cap_check(
    tmp_path: Path, rows_for: Callable[..., list[list[object]]], oesm: OesmWorkbooks
) -> None:
    # May 2025: the legend still defines #, none is used, wages above it are published.
    rows = rows_for(oesm.HEADER_2023, {"OCC_CODE": "11-1011", "A_PCT90": 507_730})
    parsed = parse_special(
        oesm.write_workbook(tmp_path / "national_M2025_dl.xlsx", oesm.HEADER_2023, rows, 2025)
    )
    assert value(parsed, "11-1011", "annual_p90")[["value", "status"]].tolist() == ["507730", "ok"]
    assert "top_coded" not in set(parsed.estimates.status)


def test_top_code_mark_without_a_known_cap_fails(tmp_path: Path, oesm: OesmWorkbooks) -> None:
    path = oesm.write_workbook(
        tmp_path / "national_M2030_dl.xlsx",
        oesm.HEADER_2023,
        oesm.ROWS_2023,
        2030,
        descriptions=None,
    )
    with pytest.raises(ValidationError, match="# but no cap known for May 2030"):
        parse_special(path)


def test_documented_cap_where_no_legend_is_printed(
    tmp_path: Path, oesm: OesmWorkbooks, rows_for: Callable[..., list[list[object]]]
) -> None:
    path = oesm.write_workbook(
        tmp_path / "nat4d_M2016_owner_dl.xlsx",
        oesm.HEADER_2023,
        rows_for(oesm.HEADER_2023, {"OCC_CODE": "29-1211", "A_PCT90": "#", "H_PCT90": "#"}),
        2016,
        sheet="nat4d_owner_dl",
        descriptions=None,
    )
    parsed = parse_special(path)
    assert parsed.reference_year == 2016
    assert parsed.top_code_source == "documented"
    assert value(parsed, "29-1211", "annual_p90")["top_code_threshold"] == 208_000.0
    assert value(parsed, "29-1211", "hourly_p90")["top_code_threshold"] == 100.0


def test_field_descriptions_member_gives_year_and_cap(tmp_path: Path, oesm: OesmWorkbooks) -> None:
    header = oesm.HEADER_2023[8:]  # the 2012–2018 national layout: no area, industry, ownership
    rows = [r[8:] for r in oesm.ROWS_2023]
    data = oesm.write_workbook(
        tmp_path / "data.xlsx", header, rows, sheet="national_dl", descriptions=None
    )
    legend = [
        ["May {year} OES Estimates"],
        ["#", "= indicates a wage greater than $90.00 per hour or $187,200 per year"],
    ]
    notes = oesm.write_descriptions(tmp_path / "fd.xlsx", 2013, legend)
    archive = oesm.zip_of(
        tmp_path / "oesm13nat.zip",
        {"oesm13nat/national_M2013_dl.xlsx": data, "oesm13nat/field_descriptions.xlsx": notes},
    )
    parsed = parse_special(archive)
    assert parsed.reference_year == 2013
    assert parsed.top_code == (Decimal("90.00"), Decimal("187200"))
    assert parsed.member == "oesm13nat/national_M2013_dl.xlsx"
    assert set(parsed.estimates.area_code) == {"0000000"}
    assert set(parsed.estimates.industry_code) == {"000000"}
    assert set(parsed.estimates.ownership) == {"all"}


# --------------------------------------------------------------------------- reference year


def test_years_that_disagree_fail(tmp_path: Path, oesm: OesmWorkbooks) -> None:
    legend = [["May 2022 OEWS Estimates"], *oesm.FIELD_DESCRIPTIONS[1:]]
    path = oesm.write_workbook(
        tmp_path / "x.xlsx", oesm.HEADER_2023, oesm.ROWS_2023, descriptions=legend
    )
    with pytest.raises(ValidationError, match="one May reference year") as err:
        parse_special(path)
    assert "2022 in" in err.value.detail and "2023 in" in err.value.detail


def test_no_year_anywhere_fails(tmp_path: Path, oesm: OesmWorkbooks) -> None:
    path = oesm.write_workbook(
        tmp_path / "national.xlsx",
        oesm.HEADER_2023,
        oesm.ROWS_2023,
        sheet="data",
        descriptions=None,
    )
    with pytest.raises(ValidationError, match=r"one May reference year.*found none"):
        parse_special(path)


@pytest.mark.parametrize(
    ("name", "sheet", "year"),
    [("national_M2011_dl.xlsx", None, 2011), ("national.xlsx", "national_may2003_dl", 2003)],
)
def test_years_before_2012_are_refused(
    tmp_path: Path, name: str, sheet: str | None, year: int, oesm: OesmWorkbooks
) -> None:
    path = oesm.write_workbook(
        tmp_path / name, oesm.HEADER_2023, oesm.ROWS_2023, year, sheet=sheet, descriptions=None
    )
    with pytest.raises(ValidationError, match="May 2012 or later") as err:
        parse_special(path)
    assert err.value.detail == (
        f"May {year}: special-request files before May 2012 use layouts and SOC versions "
        "this version does not load"
    )


def test_soc_version_is_the_time_series_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, oesm: OesmWorkbooks
) -> None:
    for year in (2012, 2018, 2019, 2020, 2021, 2023):
        path = oesm.write_workbook(
            tmp_path / f"national_M{year}_dl.xlsx", oesm.HEADER_2023, oesm.ROWS_2023, year
        )
        versions = set(parse_special(path).occupations.soc_version)
        assert versions == {Vintage(year, f"May {year}").soc_version}
    # one rule: the special-request reader and the time series ask the catalogue
    monkeypatch.setattr(oews_catalog, "soc_version", lambda year: f"rule May {year}")
    path = oesm.write_workbook(
        tmp_path / "national_M2023_dl.xlsx", oesm.HEADER_2023, oesm.ROWS_2023
    )
    assert set(parse_special(path).occupations.soc_version) == {"rule May 2023"}
    assert Vintage(2023, "May 2023").soc_version == "rule May 2023"


# --------------------------------------------------------------------------- areas, ownership


def test_state_layout_without_area_type(tmp_path: Path, oesm: OesmWorkbooks) -> None:
    header = ["AREA", "ST", "STATE", *oesm.HEADER_2023[8:]]
    rows = [["01", "AL", "Alabama", *r[8:]] for r in oesm.ROWS_2023[:2]]
    rows.append([6, "CA", "California", *oesm.ROWS_2023[1][8:]])  # FIPS stored as a number
    parsed = parse_special(oesm.write_workbook(tmp_path / "state_M2023_dl.xlsx", header, rows))
    assert parsed.schema_drift == {}  # ST is known (the FIPS code carries the state)
    assert parsed.areas.values.tolist() == [
        ["0100000", "S", "01", "Alabama"],
        ["0600000", "S", "06", "California"],
    ]
    assert set(parsed.estimates.areatype_code) == {"S"}


def test_metro_and_nonmetro_areas_are_seven_digits(
    tmp_path: Path, rows_for: Callable[..., list[list[object]]], oesm: OesmWorkbooks
) -> None:
    rows = rows_for(
        oesm.HEADER_2023,
        {"AREA": "10180", "AREA_TITLE": "Abilene, TX", "AREA_TYPE": 4},
        {"AREA": "4800003", "AREA_TITLE": "North Texas nonmetro", "AREA_TYPE": 6},
    )
    parsed = parse_special(
        oesm.write_workbook(tmp_path / "MSA_M2023_dl.xlsx", oesm.HEADER_2023, rows)
    )
    assert parsed.areas[["area_code", "area_type", "name"]].values.tolist() == [
        ["0010180", "M", "Abilene, TX"],
        ["4800003", "M", "North Texas nonmetro"],
    ]
    assert parsed.areas["state_code"].isna().all()


def test_ownership_codes_and_texts_share_one_vocabulary(
    tmp_path: Path, rows_for: Callable[..., list[list[object]]], oesm: OesmWorkbooks
) -> None:
    industry = {"NAICS": "611100", "NAICS_TITLE": "Elementary and Secondary Schools"}
    rows = rows_for(
        oesm.HEADER_2023,
        {**industry, "I_GROUP": "4-digit", "OWN_CODE": 5},
        {**industry, "I_GROUP": "4-digit", "OWN_CODE": "2", "OCC_CODE": "25-2021"},
        {"OWN_CODE": 5, "OCC_CODE": "11-1011"},  # cross-industry, private only
    )
    coded = parse_special(
        oesm.write_workbook(tmp_path / "nat4d_M2023_dl.xlsx", oesm.HEADER_2023, rows)
    )
    keys = coded.estimates[coded.estimates.measure == "employment"]
    assert keys[["industry_code", "ownership", "soc_code"]].values.tolist() == [
        ["611100", "private", "29-2072"],
        ["611100", "state", "25-2021"],
        ["000001", "private", "11-1011"],
    ]
    assert coded.industries.values.tolist() == [
        ["611100", "Elementary and Secondary Schools", 4, 0],
        ["000001", "Cross-industry", 1, 0],
    ]

    header = ["NAICS", "NAICS_TITLE", "OWNERSHIP", *oesm.HEADER_2023[8:]]
    texts = [
        ["6111", "Elementary and Secondary Schools", own, *oesm.ROWS_2023[1][8:]]
        for own in ("Private", "State government", "Local government")
    ]
    for i, row in enumerate(texts):
        row[3] = f"29-207{i}"
    named = parse_special(
        oesm.write_workbook(
            tmp_path / "nat4d_M2016_owner_dl.xlsx",
            header,
            texts,
            2016,
            sheet="nat4d_owner_dl",
            descriptions=None,
        )
    )
    employment = named.estimates[named.estimates.measure == "employment"]
    assert employment[["industry_code", "ownership"]].values.tolist() == [
        ["611100", "private"],
        ["611100", "state"],
        ["611100", "local"],
    ]


@pytest.mark.parametrize(
    ("column", "cell", "shown"),
    [("OWN_CODE", 7, "OWN_CODE ['7']"), ("OWNERSHIP", "Tribal government", "'Tribal government'")],
)
def test_unknown_ownership_fails_naming_it(
    tmp_path: Path,
    column: str,
    cell: object,
    shown: str,
    oesm: OesmWorkbooks,
    rows_for: Callable[..., list[list[object]]],
) -> None:
    header = [h for h in oesm.HEADER_2023 if h != "OWN_CODE"] + [column]
    rows = [[*r, cell] for r in rows_for([h for h in oesm.HEADER_2023 if h != "OWN_CODE"], {})]
    path = oesm.write_workbook(tmp_path / "nat4d_M2023_dl.xlsx", header, rows)
    with pytest.raises(ValidationError, match="known ownership") as err:
        parse_special(path)
    assert shown in err.value.detail


@pytest.mark.parametrize("column", ["OWN_CODE", "OWNERSHIP"])
def test_blank_ownership_fails_naming_the_row(
    tmp_path: Path, column: str, oesm: OesmWorkbooks, rows_for: Callable[..., list[list[object]]]
) -> None:
    # no real file leaves OWN_CODE (2019 on) or OWNERSHIP (nat4d 2016–2018) blank
    header = [h for h in oesm.HEADER_2023 if h != "OWN_CODE"] + [column]
    rows = [
        [*r, own]
        for r, own in zip(
            rows_for(header[:-1], {}, {"OCC_CODE": "11-1011"}), [1235, None], strict=True
        )
    ]
    path = oesm.write_workbook(tmp_path / "national_M2023_dl.xlsx", header, rows)
    with pytest.raises(ValidationError, match=f"{column} is given") as err:
        parse_special(path)
    assert err.value.examples == ["national_M2023_dl.xlsx row 3 11-1011"]


@pytest.mark.parametrize(
    ("area", "area_type", "shown"),
    [("06", 1, "AREA '06' with AREA_TYPE '1'"), ("99", 2, "AREA '99' with AREA_TYPE '2'")],
)
def test_national_area_type_needs_area_99(
    tmp_path: Path,
    area: str,
    area_type: int,
    shown: str,
    rows_for: Callable[..., list[list[object]]],
    oesm: OesmWorkbooks,
) -> None:
    rows = rows_for(
        oesm.HEADER_2023, {}, {"OCC_CODE": "11-1011", "AREA": area, "AREA_TYPE": area_type}
    )
    path = oesm.write_workbook(tmp_path / "national_M2023_dl.xlsx", oesm.HEADER_2023, rows)
    with pytest.raises(ValidationError, match="AREA 99 is AREA_TYPE 1") as err:
        parse_special(path)
    assert err.value.examples == [f"national_M2023_dl.xlsx row 3 11-1011: {shown}"]


def test_occupations_have_an_empty_description(tmp_path: Path, oesm: OesmWorkbooks) -> None:
    parsed = parse_special(oesm.national_2023_zip(tmp_path))
    assert list(parsed.occupations.columns) == [
        "soc_code",
        "soc_version",
        "title",
        "level",
        "sort_sequence",
        "description",
    ]
    assert parsed.occupations["description"].isna().all()


# --------------------------------------------------------------------------- industries, coverage


def test_industry_codes_take_the_time_series_form(
    tmp_path: Path, rows_for: Callable[..., list[list[object]]], oesm: OesmWorkbooks
) -> None:
    rows = rows_for(
        oesm.HEADER_2023,
        {"NAICS": "62", "NAICS_TITLE": "Health Care", "I_GROUP": "sector"},
        {"NAICS": "31-33", "NAICS_TITLE": "Manufacturing", "I_GROUP": "sector"},
        {"NAICS": "6111", "NAICS_TITLE": "Schools", "I_GROUP": "4-digit"},
        {"NAICS": "622000", "NAICS_TITLE": "Hospitals", "I_GROUP": "3-digit"},
        {"NAICS": 0, "NAICS_TITLE": "Cross-industry", "I_GROUP": "cross-industry"},
    )
    parsed = parse_special(
        oesm.write_workbook(tmp_path / "nat4d_M2023_dl.xlsx", oesm.HEADER_2023, rows)
    )
    assert parsed.industries.values.tolist() == [
        ["62--63", "Health Care", 2, 0],
        ["31--34", "Manufacturing", 2, 0],
        ["611100", "Schools", 4, 0],
        ["622000", "Hospitals", 3, 0],
        ["000000", "Cross-industry", 0, 0],
    ]
    assert set(parsed.estimates["ownership"]) == {"all"}  # OWN_CODE 1235


def test_every_sector_code_of_bls_s_own_industry_list_is_rebuilt(shared_samples: Path) -> None:
    # oe.industry as BLS publishes it: every sector row ("Sector 11 - …", "Sectors 31, 32,
    # and 33 - …") has the code sector_code makes from its first NAICS sector.
    lines = (shared_samples / "oe" / "oe.industry").read_text().splitlines()[1:]
    sectors = [line.split("\t") for line in lines if line.split("\t")[1].startswith("Sector")]
    assert len(sectors) == 20
    assert [code for code, *_ in sectors] == [sector_code(code[:2]) for code, *_ in sectors]


def test_sector_codes_take_the_time_series_form_with_or_without_i_group(
    tmp_path: Path, rows_for: Callable[..., list[list[object]]], oesm: OesmWorkbooks
) -> None:
    # oe.sector: 31--34 Manufacturing, 44--46 Retail Trade, 48--50 Transportation; a file
    # from before I_GROUP (2019) says what is a sector by its NAICS code alone.
    sectors = [
        ("310000", "31--34"),
        ("44-45", "44--46"),
        ("48", "48--50"),
        ("62", "62--63"),
        ("99", "99-100"),  # government, OES's sector 99: one dash
    ]
    with_group = rows_for(
        oesm.HEADER_2023,
        *({"NAICS": n, "NAICS_TITLE": f"Sector {n}", "I_GROUP": "sector"} for n, _ in sectors),
    )
    parsed = parse_special(
        oesm.write_workbook(tmp_path / "natsector_M2023_dl.xlsx", oesm.HEADER_2023, with_group)
    )
    assert parsed.industries["industry_code"].tolist() == [code for _, code in sectors]
    assert set(parsed.industries["level"]) == {2}

    at = oesm.HEADER_2023.index("I_GROUP")
    old_header = [c for c in oesm.HEADER_2023 if c != "I_GROUP"]
    no_group = [[*row[:at], *row[at + 1 :]] for row in with_group]
    no_group.append(no_group[0][:])
    naics = old_header.index("NAICS")
    no_group[-1][naics], no_group[-1][naics + 1] = "311000", "Food Manufacturing"
    parsed = parse_special(
        oesm.write_workbook(tmp_path / "natsector_M2017_dl.xlsx", old_header, no_group, 2017)
    )
    assert parsed.industries[["industry_code", "level"]].values.tolist() == [
        *([code, 2] for _, code in sectors),
        ["311000", 3],
    ]


@pytest.mark.parametrize(
    ("changes", "kind"),
    [
        ([{}], "oews_special_2023_national"),
        ([{"AREA": "06", "AREA_TITLE": "California", "AREA_TYPE": 2}], "oews_special_2023_state"),
        ([{"AREA": "10180", "AREA_TYPE": 4}], "oews_special_2023_metro"),
        ([{}, {"AREA": "06", "AREA_TYPE": 2}], "oews_special_2023_all"),
        (
            [{}, {"NAICS": "611100", "I_GROUP": "4-digit", "OWN_CODE": 5}],
            "oews_special_2023_national_by_industry",
        ),
        ([{}, {"OWN_CODE": 5}], "oews_special_2023_national"),  # 000001 is cross-industry
    ],
)
def test_the_source_kind_names_the_year_and_what_the_file_covers(
    tmp_path: Path,
    changes: list[dict[str, object]],
    kind: str,
    rows_for: Callable[..., list[list[object]]],
    oesm: OesmWorkbooks,
) -> None:
    rows = rows_for(oesm.HEADER_2023, *changes)
    path = oesm.write_workbook(tmp_path / "x_M2023_dl.xlsx", oesm.HEADER_2023, rows)
    estimates = parse_special(path).estimates
    assert f"oews_special_2023_{oews_special.coverage(estimates)}" == kind
    staged = stage_special(path, tmp_path / "out", release_id="r1", sources={"x": {"sha256": "1"}})
    assert (staged.kind, staged.vintage) == (kind, "May 2023")
    assert staged.sources == {"x": {"sha256": "1", "vintage": "May 2023"}}
    assert {t.table: t.replaces for t in staged.tables} == {
        "oews_estimates": {"reference_year": 2023},
        "occupations": {},
        "areas": {},
        "industries": {},
    }
    assert staged.rows()["oews_estimates"] == 15 * len(changes)  # no JOBS_1000, LOC_QUOTIENT


# --------------------------------------------------------------------------- zip members


def test_zip_members_that_are_no_workbook_are_passed_over(
    tmp_path: Path, oesm: OesmWorkbooks
) -> None:
    book = oesm.write_workbook(
        tmp_path / "national_M2023_dl.xlsx", oesm.HEADER_2023, oesm.ROWS_2023
    )
    archive = oesm.zip_of(
        tmp_path / "oesm23nat.zip",
        {
            "oesm23nat/": b"",
            "oesm23nat/readme.txt": b"notes",
            "oesm23nat/~$national_M2023_dl.xlsx": b"lock",  # Excel's lock file
            "oesm23nat/national_M2023_dl.xlsx": book,
        },
    )
    parsed = parse_special(archive)
    assert parsed.member == "oesm23nat/national_M2023_dl.xlsx"
    assert parsed.reference_year == 2023
    assert set(parsed.estimates.soc_code) == {r[8] for r in oesm.ROWS_2023}


def test_a_member_larger_than_the_limit_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, oesm: OesmWorkbooks
) -> None:
    book = oesm.write_workbook(
        tmp_path / "national_M2023_dl.xlsx", oesm.HEADER_2023, oesm.ROWS_2023
    )
    archive = oesm.zip_of(tmp_path / "oesm23nat.zip", {"oesm23nat/national_M2023_dl.xlsx": book})
    monkeypatch.setattr(oews_special, "MAX_MEMBER_BYTES", book.stat().st_size - 1)
    with pytest.raises(ValidationError, match="member size limit") as err:
        parse_special(archive)
    assert err.value.detail.startswith("oesm23nat/national_M2023_dl.xlsx unpacks to ")


def test_a_zip_of_field_descriptions_only_is_refused(tmp_path: Path, oesm: OesmWorkbooks) -> None:
    notes = oesm.write_descriptions(tmp_path / "field_descriptions.xlsx", 2013)
    archive = oesm.zip_of(tmp_path / "oesm13nat.zip", {"oesm13nat/field_descriptions.xlsx": notes})
    with pytest.raises(ValidationError, match="workbooks in zip") as err:
        parse_special(archive)
    assert "no .xlsx/.xls data member" in err.value.detail


# --------------------------------------------------------------------------- detection


def test_detect_recognises_special_request_files(tmp_path: Path, oesm: OesmWorkbooks) -> None:
    lower = oesm.write_workbook(
        tmp_path / "national_M2019_dl.xlsx",
        [h.lower() for h in oesm.HEADER_2023],
        oesm.ROWS_2023,
        2019,
    )
    assert detect(lower).kind == "oews_special"
    xls_zip = oesm.zip_of(
        tmp_path / "oesm12nat.zip",
        {
            "oesm12nat/national_M2012_dl.xls": OLE2_MAGIC + bytes(100),
            "oesm12nat/field_descriptions.xls": OLE2_MAGIC + bytes(100),
        },
    )
    found = detect(xls_zip)
    assert (found.kind, found.note) == ("oews_special", "zip with 1 workbooks")
    only_notes = oesm.zip_of(
        tmp_path / "notes.zip", {"oesm12nat/field_descriptions.xls": OLE2_MAGIC + bytes(100)}
    )
    with pytest.raises(ValidationError, match="recognised file"):
        detect(only_notes)


def test_detect_refuses_an_ole2_file_that_is_no_workbook(tmp_path: Path) -> None:
    path = tmp_path / "report.doc"
    path.write_bytes(OLE2_MAGIC + bytes(600))
    with pytest.raises(ValidationError, match="unreadable workbook"):
        detect(path)
    with pytest.raises(ValidationError, match="readable workbook"):
        parse_special(path)


# --------------------------------------------------------------------------- the catalogue


def test_measure_columns_are_the_catalogues_in_the_workbooks_order() -> None:
    """The columns BLS has used for each measure, in the order the workbooks put them."""
    assert [(m, spellings[0].upper()) for m, spellings in oews_special.MEASURES.items()] == [
        ("employment", "TOT_EMP"),
        ("employment_prse", "EMP_PRSE"),
        ("jobs_per_1000", "JOBS_1000"),
        ("location_quotient", "LOC_QUOTIENT"),
        ("hourly_mean", "H_MEAN"),
        ("annual_mean", "A_MEAN"),
        ("mean_prse", "MEAN_PRSE"),
        ("hourly_p10", "H_PCT10"),
        ("hourly_p25", "H_PCT25"),
        ("hourly_median", "H_MEDIAN"),
        ("hourly_p75", "H_PCT75"),
        ("hourly_p90", "H_PCT90"),
        ("annual_p10", "A_PCT10"),
        ("annual_p25", "A_PCT25"),
        ("annual_median", "A_MEDIAN"),
        ("annual_p75", "A_PCT75"),
        ("annual_p90", "A_PCT90"),
    ]
    assert oews_special.MEASURES["location_quotient"] == ("loc_quotient", "loc_q", "loc quotient")
    assert oews_special.MEASURES["hourly_p10"] == ("h_pct10", "h_wpct10")
    assert {d.measure: d.columns for d in oews_catalog.DATATYPES} == oews_special.MEASURES


def test_printed_top_code_is_read_with_the_catalogues_pattern(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, oesm: OesmWorkbooks
) -> None:
    """The legend's cap is found by transforms.oews_catalog.top_code_in, leniently (spacing,
    case, an hourly cap without cents)."""
    legend = [
        *oesm.FIELD_DESCRIPTIONS[:4],
        ["#", "= indicates a wage equal to or greater than $ 120  Per Hour or $249,600 per year"],
    ]
    path = oesm.write_workbook(
        tmp_path / "n.xlsx", oesm.HEADER_2023, oesm.ROWS_2023, descriptions=legend
    )
    parsed = parse_special(path)
    assert parsed.top_code == (Decimal("120"), Decimal("249600"))
    assert parsed.top_code_source == "printed"
    seen: list[str] = []

    def nothing_found(text: str, *, exact: bool = False) -> oews_catalog.TopCodeText | None:
        seen.append(text)
        return None

    monkeypatch.setattr(oews_catalog, "top_code_in", nothing_found)
    parsed = parse_special(path)
    assert (parsed.top_code, parsed.top_code_source) == (KNOWN_TOP_CODES[2023], "documented")
    assert any("Per Hour" in text for text in seen)
