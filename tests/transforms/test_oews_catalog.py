"""The OEWS catalogue: every datatype's BLS name, measure, unit and phrase, the SOC version of a
year, and the top-code sentence."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from core.errors import ValidationError
from transforms import oews_catalog
from transforms.oews_lookups import Vintage, parse_top_code

if TYPE_CHECKING:
    from tests.transforms.conftest import OeFiles


def test_catalogue_holds_bls_datatype_names_and_our_measure_names() -> None:
    """BLS's oe.datatype names and DESIGN.md's measure names, written out."""
    assert {code: d.name for code, d in oews_catalog.BY_CODE.items()} == {
        "01": "Employment",
        "02": "Employment percent relative standard error",
        "03": "Hourly mean wage",
        "04": "Annual mean wage",
        "05": "Wage percent relative standard error",
        "06": "Hourly 10th percentile wage",
        "07": "Hourly 25th percentile wage",
        "08": "Hourly median wage",
        "09": "Hourly 75th percentile wage",
        "10": "Hourly 90th percentile wage",
        "11": "Annual 10th percentile wage",
        "12": "Annual 25th percentile wage",
        "13": "Annual median wage",
        "14": "Annual 75th percentile wage",
        "15": "Annual 90th percentile wage",
        "16": "Employment per 1,000 jobs",
        "17": "Location Quotient",
    }
    assert list(oews_catalog.BY_MEASURE) == [
        "employment",
        "employment_prse",
        "hourly_mean",
        "annual_mean",
        "mean_prse",
        "hourly_p10",
        "hourly_p25",
        "hourly_median",
        "hourly_p75",
        "hourly_p90",
        "annual_p10",
        "annual_p25",
        "annual_median",
        "annual_p75",
        "annual_p90",
        "jobs_per_1000",
        "location_quotient",
    ]
    assert list(oews_catalog.BY_CODE) == [f"{n:02d}" for n in range(1, 18)]
    assert {d.measure: d.code for d in oews_catalog.DATATYPES} == {
        d.measure: code for code, d in oews_catalog.BY_CODE.items()
    }


def test_catalogue_units_and_phrases() -> None:
    units = {m: d.unit for m, d in oews_catalog.BY_MEASURE.items()}
    assert units == {
        "employment": "persons",
        "employment_prse": "percent",
        "mean_prse": "percent",
        "jobs_per_1000": "per_1000_jobs",
        "location_quotient": "ratio",
        **{m: "usd_per_hour" for m in units if m.startswith("hourly_")},
        **{m: "usd_per_year" for m in units if m.startswith("annual_")},
    }
    assert set(units.values()) == set(oews_catalog.UNITS)
    phrases = {m: d.phrase for m, d in oews_catalog.BY_MEASURE.items()}
    assert phrases["annual_median"] == "median annual wage"
    assert phrases["hourly_p90"] == "90th percentile hourly wage"
    assert phrases["jobs_per_1000"] == "jobs per 1,000 jobs"


@pytest.mark.parametrize(
    ("year", "soc_version"), [(2018, "2010"), (2019, "2018-hybrid"), (2020, "2018-hybrid")]
)
def test_soc_version_by_reference_year(year: int, soc_version: str) -> None:
    assert Vintage(year, f"May {year}").soc_version == soc_version
    assert Vintage(2024, "May 2024").soc_version == "2018"
    assert oews_catalog.soc_version(year) == soc_version
    assert oews_catalog.soc_version(2021) == "2018"


@pytest.mark.parametrize(
    ("text", "lenient", "exact"),
    [
        (
            "This wage is equal to or greater than $115.00 per hour or $239,200 per year.",
            ("115.00", "239200"),
            ("115.00", "239200"),
        ),
        (
            "This wage is equal to or greater than $100.00 per hour or $208,000 per year.",
            ("100.00", "208000"),
            ("100.00", "208000"),
        ),
        (
            "# = indicates a wage greater than $90.00 per hour or $187,200 per year",
            ("90.00", "187200"),
            ("90.00", "187200"),
        ),
        ("equal to or greater than $115 per hour or $239,200 per year.", ("115", "239200"), None),
        ("= a wage of $ 115.00  Per Hour or $239,200 per year", ("115.00", "239200"), None),
        ("$115.00 per hour or $239,200.00 per year", ("115.00", "239200.00"), None),
        (
            "$115 per hour or $1 per year; $115.00 per hour or $239,200 per year",
            ("115", "1"),
            ("115.00", "239200"),
        ),
        ("This wage is equal to or greater than 115.00 dollars per hour.", None, None),
        ("Top-coded.", None, None),
    ],
)
def test_top_code_text_is_the_catalogues(
    text: str, lenient: tuple[str, str] | None, exact: tuple[str, str] | None, oe_files: OeFiles
) -> None:
    """One pattern: the special-request legend reads it leniently, footnote 5 exactly."""

    def cap(found: oews_catalog.TopCodeText | None) -> tuple[str, str] | None:
        return None if found is None else (str(found.cap[0]), str(found.cap[1]))

    assert cap(oews_catalog.top_code_in(text)) == lenient
    assert cap(oews_catalog.top_code_in(text, exact=True)) == exact
    if exact is None:  # footnote 5 must be written as BLS writes it
        with pytest.raises(ValidationError):
            parse_top_code(oe_files.footnote_frame(("5", text)))
    else:
        top = parse_top_code(oe_files.footnote_frame(("5", text)))
        assert top is not None
        assert (top.hourly, top.annual) == (float(exact[0]), float(exact[1]))
