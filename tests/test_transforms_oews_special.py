"""OEWS special-request parsing on small workbooks in the real layouts (xlsxwriter).

A tiny .xls cannot be written here: the .xls path is covered by the real files in
tests/test_conformance_oesm.py.
"""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from oews_special_fixtures import (
    FIELD_DESCRIPTIONS,
    HEADER_2023,
    ROWS_2023,
    national_2023_zip,
    write_descriptions,
    write_workbook,
    zip_of,
)

from bls_refresh.errors import ValidationError
from transforms import oews_special
from transforms.detect import OLE2_MAGIC, detect
from transforms.oews_special import KNOWN_TOP_CODES, parse_special, stage_special

BASE = dict(zip(HEADER_2023, ROWS_2023[1], strict=True))  # 29-2072, every value published


def rows_for(header: list[str], *changes: dict[str, object]) -> list[list[object]]:
    """Rows in ``header``'s order: the 29-2072 row with each dict's cells changed."""
    return [[{**BASE, **change}.get(name) for name in header] for change in changes]


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


def test_columns_moved_and_lower_case_read_the_same(tmp_path: Path) -> None:
    baseline = parse_special(write_workbook(tmp_path / "a.xlsx", HEADER_2023, ROWS_2023))
    order = list(range(len(HEADER_2023)))
    random.Random(7).shuffle(order)
    header = [HEADER_2023[i].lower() for i in order]
    rows = [[row[i] for i in order] for row in ROWS_2023]
    moved = parse_special(write_workbook(tmp_path / "b.xlsx", header, rows))

    assert order != list(range(len(HEADER_2023)))
    assert comparable(moved.estimates) == comparable(baseline.estimates)
    assert moved.schema_drift == baseline.schema_drift == {}  # PCT_TOTAL, PRIM_STATE: known
    assert value(moved, "29-2072", "annual_median")["value"] == "48780"


def test_unknown_column_is_drift_and_the_load_goes_on(tmp_path: Path) -> None:
    header = [*HEADER_2023[:12], "NEW_MEASURE", *HEADER_2023[12:]]
    rows = [[*r[:12], 42, *r[12:]] for r in ROWS_2023]
    loose = parse_special(write_workbook(tmp_path / "national_M2023_dl.xlsx", header, rows))
    assert loose.schema_drift == {"national_M2023_dl.xlsx": ["NEW_MEASURE"]}
    assert value(loose, "29-2072", "employment")["value"] == "186460"

    zipped = zip_of(
        tmp_path / "oesm23nat.zip",
        {"oesm23nat/national_M2023_dl.xlsx": tmp_path / "national_M2023_dl.xlsx"},
    )
    staged = stage_special(zipped, tmp_path / "out", release_id="r1", sources={})
    assert staged.schema_drift == {
        "oesm23nat.zip: oesm23nat/national_M2023_dl.xlsx": ["NEW_MEASURE"]
    }
    assert staged.rows()["oews_estimates"] == len(parse_special(zipped).estimates)


def test_missing_occ_code_fails_showing_the_header(tmp_path: Path) -> None:
    header = ["SOC", *HEADER_2023[9:]]
    rows = [[r[8], *r[9:]] for r in ROWS_2023]
    path = write_workbook(tmp_path / "national_M2023_dl.xlsx", header, rows)
    with pytest.raises(ValidationError, match="required columns") as err:
        parse_special(path)
    assert "occ_code" in err.value.detail
    assert "header found: ['SOC', 'OCC_TITLE', 'O_GROUP', 'TOT_EMP'" in err.value.detail


def test_no_measure_column_fails_showing_the_header(tmp_path: Path) -> None:
    header = ["OCC_CODE", "OCC_TITLE", "O_GROUP"]
    path = write_workbook(tmp_path / "x.xlsx", header, [["29-2072", "Medical", "detailed"]])
    with pytest.raises(ValidationError, match="no employment or wage column") as err:
        parse_special(path)
    assert "['OCC_CODE', 'OCC_TITLE', 'O_GROUP']" in err.value.detail


# --------------------------------------------------------------------------- duplicates


def test_broad_and_detailed_listing_with_equal_values_is_one_row(tmp_path: Path) -> None:
    buyers = {"OCC_CODE": "13-1020", "OCC_TITLE": "Buyers and Purchasing Agents"}
    rows = rows_for(HEADER_2023, {**buyers, "O_GROUP": "broad"}, {**buyers, "O_GROUP": "detailed"})
    parsed = parse_special(write_workbook(tmp_path / "national_M2023_dl.xlsx", HEADER_2023, rows))
    e = parsed.estimates
    assert len(e[(e.soc_code == "13-1020") & (e.measure == "annual_mean")]) == 1
    assert not e.duplicated(
        ["area_code", "industry_code", "ownership", "soc_code", "measure"]
    ).any()
    assert parsed.occupations[["soc_code", "level"]].values.tolist() == [["13-1020", "detailed"]]


def test_a_code_listed_twice_with_different_values_fails_naming_both(tmp_path: Path) -> None:
    buyers = {"OCC_CODE": "13-1020", "OCC_TITLE": "Buyers and Purchasing Agents"}
    rows = rows_for(
        HEADER_2023,
        {**buyers, "O_GROUP": "broad"},
        {**buyers, "O_GROUP": "detailed", "A_MEAN": 51100},
    )
    path = write_workbook(tmp_path / "national_M2023_dl.xlsx", HEADER_2023, rows)
    with pytest.raises(ValidationError, match="listed twice") as err:
        parse_special(path)
    (example,) = err.value.examples
    assert "13-1020" in example and "row 2 (broad)" in example and "row 3 (detailed)" in example
    assert "ANNUAL_MEAN '51090' vs '51100'" in example


# --------------------------------------------------------------------------- cells


def test_blank_cells_are_not_applicable_never_zero(tmp_path: Path) -> None:
    header = [*HEADER_2023[:13], "JOBS_1000", "LOC_QUOTIENT", *HEADER_2023[13:]]
    rows = [[*r[:13], None, None, *r[13:]] for r in rows_for(HEADER_2023, {"A_PCT10": None})]
    parsed = parse_special(write_workbook(tmp_path / "national_M2023_dl.xlsx", header, rows))
    for measure in ("jobs_per_1000", "location_quotient", "annual_p10"):
        row = value(parsed, "29-2072", measure)
        assert row["status"] == "not_applicable"
        assert pd.isna(row["value"]) and pd.isna(row["footnote_codes"])
    assert len(parsed.estimates) == 17  # nothing dropped


def test_markers_become_statuses(tmp_path: Path) -> None:
    rows = rows_for(
        HEADER_2023,
        {"TOT_EMP": "**", "EMP_PRSE": "**", "H_MEAN": "*", "A_MEAN": "*", "MEAN_PRSE": "~"},
    )
    parsed = parse_special(write_workbook(tmp_path / "national_M2023_dl.xlsx", HEADER_2023, rows))
    got = {
        m: (value(parsed, "29-2072", m)["status"], value(parsed, "29-2072", m)["footnote_codes"])
        for m in ("employment", "hourly_mean", "annual_mean", "mean_prse")
    }
    assert got == {
        "employment": ("suppressed", "**"),
        "hourly_mean": ("suppressed", "*"),
        "annual_mean": ("suppressed", "*"),
        "mean_prse": ("suppressed", "~"),
    }


def test_annual_only_and_hourly_only(tmp_path: Path) -> None:
    hourly_cols = [c for c in HEADER_2023 if c.startswith("H_")]
    annual_cols = [c for c in HEADER_2023 if c.startswith("A_")]
    teacher = {
        "OCC_CODE": "25-2021",
        "OCC_TITLE": "Elementary School Teachers",
        "ANNUAL": "TRUE",
        **dict.fromkeys(hourly_cols, "*"),
    }
    actor = {"OCC_CODE": "27-2011", "HOURLY": "TRUE", **dict.fromkeys(annual_cols, "*")}
    rows = rows_for(HEADER_2023, teacher, actor)
    parsed = parse_special(write_workbook(tmp_path / "national_M2023_dl.xlsx", HEADER_2023, rows))
    e = parsed.estimates
    teachers = e[e.soc_code == "25-2021"].set_index("measure")
    actors = e[e.soc_code == "27-2011"].set_index("measure")
    assert set(teachers.loc[teachers.index.str.startswith("hourly_"), "status"]) == {"annual_only"}
    assert set(teachers.loc[teachers.index.str.startswith("annual_"), "status"]) == {"ok"}
    assert set(actors.loc[actors.index.str.startswith("annual_"), "status"]) == {"hourly_only"}
    assert set(actors.loc[actors.index.str.startswith("hourly_"), "status"]) == {"ok"}
    assert teachers.at["hourly_median", "footnote_codes"] == "*"
    assert pd.isna(teachers.at["hourly_median", "value"])


def test_values_keep_their_exact_digits(tmp_path: Path) -> None:
    rows = rows_for(HEADER_2023, {"EMP_PRSE": 0.1, "TOT_EMP": "1,234", "H_MEAN": 24.56})
    parsed = parse_special(write_workbook(tmp_path / "national_M2023_dl.xlsx", HEADER_2023, rows))
    assert value(parsed, "29-2072", "employment_prse")["value"] == "0.1"
    assert value(parsed, "29-2072", "employment")["value"] == "1234"
    assert value(parsed, "29-2072", "hourly_mean")["value"] == "24.56"


def test_text_that_is_no_number_nor_marker_fails(tmp_path: Path) -> None:
    rows = rows_for(HEADER_2023, {"A_MEAN": "n/a"})
    path = write_workbook(tmp_path / "national_M2023_dl.xlsx", HEADER_2023, rows)
    with pytest.raises(ValidationError, match="BLS markers") as err:
        parse_special(path)
    assert err.value.examples == ["national_M2023_dl.xlsx row 2 29-2072 annual_mean='n/a'"]


# --------------------------------------------------------------------------- top code


def test_documented_top_codes_are_the_readme_table() -> None:
    assert {y: (float(h), float(a)) for y, (h, a) in KNOWN_TOP_CODES.items()} == {
        **{y: (90.0, 187_200.0) for y in range(2012, 2016)},
        **{y: (100.0, 208_000.0) for y in range(2016, 2022)},
        **{y: (115.0, 239_200.0) for y in range(2022, 2026)},
    }


def test_top_code_from_the_printed_legend(tmp_path: Path) -> None:
    parsed = parse_special(national_2023_zip(tmp_path))
    assert parsed.top_code == (Decimal("115.00"), Decimal("239200"))
    assert parsed.top_code_source == "printed"
    assert value(parsed, "29-1211", "annual_median")["top_code_threshold"] == 239_200.0
    assert value(parsed, "29-1211", "hourly_mean")["top_code_threshold"] == 115.0
    assert value(parsed, "29-1211", "hourly_mean")["status"] == "top_coded"


def test_a_printed_cap_is_trusted_over_the_documented_one(tmp_path: Path) -> None:
    legend = [
        *FIELD_DESCRIPTIONS[:4],
        ["#", "= indicates a wage equal to or greater than $120.00 per hour or $249,600 per year"],
    ]
    path = write_workbook(tmp_path / "n.xlsx", HEADER_2023, ROWS_2023, descriptions=legend)
    parsed = parse_special(path)
    assert parsed.top_code == (Decimal("120.00"), Decimal("249600"))
    assert value(parsed, "29-1211", "annual_p90")["top_code_threshold"] == 249_600.0


def test_a_published_wage_above_the_cap_fails(tmp_path: Path) -> None:
    rows = [*ROWS_2023, *rows_for(HEADER_2023, {"OCC_CODE": "11-1011", "A_PCT90": 250_000})]
    path = write_workbook(tmp_path / "national_M2023_dl.xlsx", HEADER_2023, rows)
    with pytest.raises(ValidationError, match="published wages below the top code") as err:
        parse_special(path)
    assert err.value.examples == ["11-1011 annual_p90=250000 > $239,200"]


def test_a_mean_above_the_cap_is_published(tmp_path: Path) -> None:
    # BLS prints means above the cap (May 2023 29-1022 hourly mean $160.73, cap $115).
    rows = [*ROWS_2023, *rows_for(HEADER_2023, {"OCC_CODE": "29-1022", "H_MEAN": 160.73})]
    parsed = parse_special(write_workbook(tmp_path / "national_M2023_dl.xlsx", HEADER_2023, rows))
    assert value(parsed, "29-1022", "hourly_mean")[["value", "status"]].tolist() == ["160.73", "ok"]


def test_no_top_code_mark_means_no_cap_check(tmp_path: Path) -> None:
    # May 2025: the legend still defines #, none is used, wages above it are published.
    rows = rows_for(HEADER_2023, {"OCC_CODE": "11-1011", "A_PCT90": 507_730})
    parsed = parse_special(
        write_workbook(tmp_path / "national_M2025_dl.xlsx", HEADER_2023, rows, 2025)
    )
    assert value(parsed, "11-1011", "annual_p90")[["value", "status"]].tolist() == ["507730", "ok"]
    assert "top_coded" not in set(parsed.estimates.status)


def test_top_code_mark_without_a_known_cap_fails(tmp_path: Path) -> None:
    path = write_workbook(
        tmp_path / "national_M2030_dl.xlsx", HEADER_2023, ROWS_2023, 2030, descriptions=None
    )
    with pytest.raises(ValidationError, match="# but no cap known for May 2030"):
        parse_special(path)


def test_documented_cap_where_no_legend_is_printed(tmp_path: Path) -> None:
    path = write_workbook(
        tmp_path / "nat4d_M2016_owner_dl.xlsx",
        HEADER_2023,
        rows_for(HEADER_2023, {"OCC_CODE": "29-1211", "A_PCT90": "#", "H_PCT90": "#"}),
        2016,
        sheet="nat4d_owner_dl",
        descriptions=None,
    )
    parsed = parse_special(path)
    assert parsed.reference_year == 2016
    assert parsed.top_code_source == "documented"
    assert value(parsed, "29-1211", "annual_p90")["top_code_threshold"] == 208_000.0
    assert value(parsed, "29-1211", "hourly_p90")["top_code_threshold"] == 100.0


def test_field_descriptions_member_gives_year_and_cap(tmp_path: Path) -> None:
    header = HEADER_2023[8:]  # the 2012–2018 national layout: no area, industry, ownership
    rows = [r[8:] for r in ROWS_2023]
    data = write_workbook(
        tmp_path / "data.xlsx", header, rows, sheet="national_dl", descriptions=None
    )
    legend = [
        ["May {year} OES Estimates"],
        ["#", "= indicates a wage greater than $90.00 per hour or $187,200 per year"],
    ]
    notes = write_descriptions(tmp_path / "fd.xlsx", 2013, legend)
    archive = zip_of(
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


def test_years_that_disagree_fail(tmp_path: Path) -> None:
    legend = [["May 2022 OEWS Estimates"], *FIELD_DESCRIPTIONS[1:]]
    path = write_workbook(tmp_path / "x.xlsx", HEADER_2023, ROWS_2023, descriptions=legend)
    with pytest.raises(ValidationError, match="one May reference year") as err:
        parse_special(path)
    assert "2022 in" in err.value.detail and "2023 in" in err.value.detail


def test_no_year_anywhere_fails(tmp_path: Path) -> None:
    path = write_workbook(
        tmp_path / "national.xlsx", HEADER_2023, ROWS_2023, sheet="data", descriptions=None
    )
    with pytest.raises(ValidationError, match=r"one May reference year.*found none"):
        parse_special(path)


# --------------------------------------------------------------------------- areas, ownership


def test_state_layout_without_area_type(tmp_path: Path) -> None:
    header = ["AREA", "ST", "STATE", *HEADER_2023[8:]]
    rows = [["01", "AL", "Alabama", *r[8:]] for r in ROWS_2023[:2]]
    rows.append([6, "CA", "California", *ROWS_2023[1][8:]])  # FIPS stored as a number
    parsed = parse_special(write_workbook(tmp_path / "state_M2023_dl.xlsx", header, rows))
    assert parsed.schema_drift == {}  # ST is known (the FIPS code carries the state)
    assert parsed.areas.values.tolist() == [
        ["0100000", "S", "01", "Alabama"],
        ["0600000", "S", "06", "California"],
    ]
    assert set(parsed.estimates.areatype_code) == {"S"}


def test_metro_and_nonmetro_areas_are_seven_digits(tmp_path: Path) -> None:
    rows = rows_for(
        HEADER_2023,
        {"AREA": "10180", "AREA_TITLE": "Abilene, TX", "AREA_TYPE": 4},
        {"AREA": "4800003", "AREA_TITLE": "North Texas nonmetro", "AREA_TYPE": 6},
    )
    parsed = parse_special(write_workbook(tmp_path / "MSA_M2023_dl.xlsx", HEADER_2023, rows))
    assert parsed.areas[["area_code", "area_type", "name"]].values.tolist() == [
        ["0010180", "M", "Abilene, TX"],
        ["4800003", "M", "North Texas nonmetro"],
    ]
    assert parsed.areas["state_code"].isna().all()


def test_ownership_codes_and_texts_share_one_vocabulary(tmp_path: Path) -> None:
    industry = {"NAICS": "611100", "NAICS_TITLE": "Elementary and Secondary Schools"}
    rows = rows_for(
        HEADER_2023,
        {**industry, "I_GROUP": "4-digit", "OWN_CODE": 5},
        {**industry, "I_GROUP": "4-digit", "OWN_CODE": "2", "OCC_CODE": "25-2021"},
        {"OWN_CODE": 5, "OCC_CODE": "11-1011"},  # cross-industry, private only
    )
    coded = parse_special(write_workbook(tmp_path / "nat4d_M2023_dl.xlsx", HEADER_2023, rows))
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

    header = ["NAICS", "NAICS_TITLE", "OWNERSHIP", *HEADER_2023[8:]]
    texts = [
        ["6111", "Elementary and Secondary Schools", own, *ROWS_2023[1][8:]]
        for own in ("Private", "State government", "Local government")
    ]
    for i, row in enumerate(texts):
        row[3] = f"29-207{i}"
    named = parse_special(
        write_workbook(
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
    tmp_path: Path, column: str, cell: object, shown: str
) -> None:
    header = [h for h in HEADER_2023 if h != "OWN_CODE"] + [column]
    rows = [[*r, cell] for r in rows_for([h for h in HEADER_2023 if h != "OWN_CODE"], {})]
    path = write_workbook(tmp_path / "nat4d_M2023_dl.xlsx", header, rows)
    with pytest.raises(ValidationError, match="known ownership") as err:
        parse_special(path)
    assert shown in err.value.detail


def test_occupations_have_an_empty_description(tmp_path: Path) -> None:
    parsed = parse_special(national_2023_zip(tmp_path))
    assert list(parsed.occupations.columns) == [
        "soc_code",
        "soc_version",
        "title",
        "level",
        "sort_sequence",
        "description",
    ]
    assert parsed.occupations["description"].isna().all()


# --------------------------------------------------------------------------- detection


def test_detect_recognises_special_request_files(tmp_path: Path) -> None:
    lower = write_workbook(
        tmp_path / "national_M2019_dl.xlsx", [h.lower() for h in HEADER_2023], ROWS_2023, 2019
    )
    assert detect(lower).kind == "oews_special"
    xls_zip = zip_of(
        tmp_path / "oesm12nat.zip",
        {
            "oesm12nat/national_M2012_dl.xls": OLE2_MAGIC + bytes(100),
            "oesm12nat/field_descriptions.xls": OLE2_MAGIC + bytes(100),
        },
    )
    found = detect(xls_zip)
    assert (found.kind, found.note) == ("oews_special", "zip with 1 workbooks")
    only_notes = zip_of(
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
