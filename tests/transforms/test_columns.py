"""Reading columns by name: one normalisation of header text, one matcher for every file."""

from __future__ import annotations

import re

import pytest

from core.errors import ValidationError
from transforms.columns import by_name, drift_note, normalise


@pytest.mark.parametrize(
    ("cell", "normalised"),
    [
        ("  Employment,\n 2024 ", "employment, 2024"),
        ("Employment change, numeric, 2024–34", "employment change, numeric, 2024-34"),
        ("Median annual wage, dollars, 2024[1]", "median annual wage, dollars, 2024"),
        ("Median annual wage, 2015(1)", "median annual wage, 2015"),
        ("Median annual wage (2024)", "median annual wage (2024)"),  # a year is no footnote
        ("LOC\u00a0QUOTIENT", "loc quotient"),
        (2016.0, "2016"),  # a year typed as a number
        (2.5, "2.5"),
        (None, ""),
    ],
)
def test_normalise(cell: object, normalised: str) -> None:
    assert normalise(cell) == normalised


def test_columns_are_found_wherever_they_stand_and_the_rest_is_drift() -> None:
    header = ["  OCC_TITLE", "occ_code", None, "TOT_EMP (1)", "NEW_COLUMN", "selectable"]
    found = by_name(
        header,
        "national_M2024_dl.xlsx",
        required={"soc_code": ["OCC_CODE"], "title": ["occ_title"]},
        optional={"employment": [re.compile(r"^tot_emp")], "hourly_mean": ["h_mean"]},
        ignored=["selectable"],
    )
    assert found.positions == {"title": 0, "soc_code": 1, "employment": 3}
    assert "employment" in found and "hourly_mean" not in found
    assert found["soc_code"] == 1
    assert found.unknown == ["NEW_COLUMN"]  # as BLS wrote it
    assert found.header == ["OCC_TITLE", "occ_code", "", "TOT_EMP (1)", "NEW_COLUMN", "selectable"]


def test_a_plain_list_of_names_is_each_name_its_own_spelling() -> None:
    found = by_name(["Area_Code ", "area_name"], "oe.area", required=["area_code", "area_name"])
    assert found.positions == {"area_code": 0, "area_name": 1}


def test_a_missing_required_column_shows_the_header_found() -> None:
    with pytest.raises(ValidationError) as refused:
        by_name(
            ["state_code", "area_code", "area_type", "", "area_name"],
            "oe.area",
            required=["state_code", "area_code", "areatype_code", "area_name"],
        )
    err = refused.value
    assert (err.file, err.check) == ("oe.area", "required columns")
    assert err.detail == (
        "missing ['areatype_code']; not recognised ['area_type']; header found: "
        "['state_code', 'area_code', 'area_type', 'area_name']"
    )


def test_a_column_claimed_by_two_header_cells_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        by_name(
            ["OCC_CODE", "A_MEDIAN", "a median"],
            "oesm23nat.zip",
            required={"soc_code": ["occ_code"]},
            optional={"annual_median": ["a_median", "a median"]},
        )
    assert refused.value.detail == (
        "annual_median matches ['A_MEDIAN', 'a median'] (one column expected); "
        "header found: ['OCC_CODE', 'A_MEDIAN', 'a median']"
    )


def test_drift_note_names_the_new_columns() -> None:
    assert drift_note("oe.area", ["area_fips"]) == (
        "oe.area: new column 'area_fips' (not known to this version; loaded without it)"
    )
    assert drift_note("oe.industry", ["naics_version", "x"]) == (
        "oe.industry: new columns 'naics_version', 'x' (not known to this version; loaded "
        "without it)"
    )
