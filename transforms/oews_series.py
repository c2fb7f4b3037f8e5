"""OEWS datatypes, measure names and series ids: no pandas, so read-only commands start fast."""

from __future__ import annotations

# datatype_code → (name in oe.datatype, measure name of DESIGN.md, unit)
DATATYPES: dict[str, tuple[str, str, str]] = {
    "01": ("Employment", "employment", "persons"),
    "02": ("Employment percent relative standard error", "employment_prse", "percent"),
    "03": ("Hourly mean wage", "hourly_mean", "usd_per_hour"),
    "04": ("Annual mean wage", "annual_mean", "usd_per_year"),
    "05": ("Wage percent relative standard error", "mean_prse", "percent"),
    "06": ("Hourly 10th percentile wage", "hourly_p10", "usd_per_hour"),
    "07": ("Hourly 25th percentile wage", "hourly_p25", "usd_per_hour"),
    "08": ("Hourly median wage", "hourly_median", "usd_per_hour"),
    "09": ("Hourly 75th percentile wage", "hourly_p75", "usd_per_hour"),
    "10": ("Hourly 90th percentile wage", "hourly_p90", "usd_per_hour"),
    "11": ("Annual 10th percentile wage", "annual_p10", "usd_per_year"),
    "12": ("Annual 25th percentile wage", "annual_p25", "usd_per_year"),
    "13": ("Annual median wage", "annual_median", "usd_per_year"),
    "14": ("Annual 75th percentile wage", "annual_p75", "usd_per_year"),
    "15": ("Annual 90th percentile wage", "annual_p90", "usd_per_year"),
    "16": ("Employment per 1,000 jobs", "jobs_per_1000", "per_1000_jobs"),
    "17": ("Location Quotient", "location_quotient", "ratio"),
}
# The header line of BLS's oe.series, as BLS pads it. The refresh never downloads that file
# (the series id carries every code); the sample-mirror and benchmark generators write it.
SERIES_HEADER = "\t".join(
    [
        "series_id".ljust(30),
        "seasonal",
        "areatype_code",
        "industry_code",
        "occupation_code",
        "datatype_code",
        "state_code",
        "area_code",
        "sector_code",
        "series_title",
        "footnote_codes",
        "begin_year",
        "begin_period",
        "end_year",
        "end_period",
    ]
)
MEASURE_UNITS = {measure: unit for _, measure, unit in DATATYPES.values()}
MEASURE_CODES = {measure: code for code, (_, measure, _) in DATATYPES.items()}


def series_id(areatype: str, area: str, industry: str, soc_code: str, measure: str) -> str:
    """The 25-character BLS series id of an ``oews_estimates`` row (it is not stored: every
    part of it is a column already)."""
    occupation = soc_code.replace("-", "")
    return f"OEU{areatype}{area}{industry}{occupation}{MEASURE_CODES.get(measure, '??')}"
