"""A number as a writer prints it: the catalogue's format of its unit, rounded half-up."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from figures.format import format_value, json_number
from figures.measures import MEASURES
from transforms import oews_catalog


@pytest.mark.parametrize(
    ("value", "unit", "measure", "text"),
    [
        # annual dollars: no cents, thousands separators, half-up
        (51140, "usd_per_year", "annual_median", "$51,140"),
        (Decimal("50250.000"), "usd_per_year", "annual_median", "$50,250"),
        ("51139.5", "usd_per_year", "annual_mean", "$51,140"),
        (1234567, "usd_per_year", "annual_mean", "$1,234,567"),
        # hourly: always two decimals
        (24.16, "usd_per_hour", "hourly_median", "$24.16"),
        (115, "usd_per_hour", "hourly_p90", "$115.00"),
        ("1234.5", "usd_per_hour", "hourly_mean", "$1,234.50"),
        ("24.165", "usd_per_hour", "hourly_mean", "$24.17"),
        # persons
        (194800, "persons", "employment_base", "194,800"),
        (Decimal("183470.000"), "persons", "employment", "183,470"),
        # projected growth: whole percent in text, half-up (not banker's rounding)
        (7.1, "percent", "employment_change_pct", "7%"),
        (15.4, "percent", "employment_change_pct", "15%"),
        (3.1, "percent", "employment_change_pct", "3%"),
        (-3.7, "percent", "employment_change_pct", "-4%"),
        (2.6, "percent", "employment_change_pct", "3%"),
        (-0.4, "percent", "employment_change_pct", "0%"),
        # ... except at exactly .5, where the whole number depends on digits BLS did not
        # publish (20.5 = 72.1 / 352.2 = 20.47: BLS printed 20%): shown as published
        (0.5, "percent", "employment_change_pct", "0.5%"),
        (Decimal("20.5"), "percent", "employment_change_pct", "20.5%"),
        (Decimal("-3.50"), "percent", "employment_change_pct", "-3.5%"),
        # other percents keep their decimal, without trailing zeros
        (1.1, "percent", "employment_prse", "1.1%"),
        (Decimal("1.10"), "percent", "self_employed_pct", "1.1%"),
        (Decimal("10.0"), "percent", "mean_prse", "10%"),
        (Decimal("0.0"), "percent", "mean_prse", "0%"),
        # jobs per 1,000: three decimals; location quotient: two
        (1.2, "per_1000_jobs", "jobs_per_1000", "1.200"),
        ("0.6875", "per_1000_jobs", "jobs_per_1000", "0.688"),
        (1.05, "ratio", "location_quotient", "1.05"),
        ("0.875", "ratio", "location_quotient", "0.88"),
        (2, "ratio", "location_quotient", "2.00"),
        # text is printed as is
        ("Postsecondary nondegree award", "text", "education", "Postsecondary nondegree award"),
    ],
)
def test_format_value(value: Any, unit: str, measure: str, text: str) -> None:
    assert format_value(value, unit, measure) == text


def test_formats_are_the_catalogues(monkeypatch: pytest.MonkeyPatch) -> None:
    units = {unit for unit, _ in MEASURES.values()}
    assert units - set(oews_catalog.UNITS) == {"text"}  # projections' units are OEWS's + text
    monkeypatch.setitem(oews_catalog.UNITS, "ratio", oews_catalog.Format(3, suffix="x"))
    assert format_value("1.05", "ratio", "location_quotient") == "1.050x"


@pytest.mark.parametrize(
    ("value", "number"),
    [
        (Decimal("50250.000"), 50250),
        (Decimal("24.160"), 24.16),
        (7.1, 7.1),
        (239200, 239200),
        (Decimal("-3.0"), -3),
        (None, None),
    ],
)
def test_json_number_is_an_int_when_whole(value: Decimal | float | None, number: object) -> None:
    got = json_number(value)
    assert got == number
    assert type(got) is type(number)  # 50250, never 50250.0 in figures.json


def test_a_unit_the_catalogue_does_not_know_prints_two_decimals() -> None:
    assert format_value("1234.5", "furlongs", "distance") == "1234.50"
