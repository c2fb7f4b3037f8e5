"""OEWS series ids and oe.series' header: no pandas, so read-only commands start fast.

The datatypes and their measure names are the catalogue's (:mod:`transforms.oews_catalog`).
"""

from __future__ import annotations

from transforms.oews_catalog import BY_MEASURE

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


def series_id(areatype: str, area: str, industry: str, soc_code: str, measure: str) -> str:
    """The 25-character BLS series id of an ``oews_estimates`` row (it is not stored: every
    part of it is a column already)."""
    occupation = soc_code.replace("-", "")
    datatype = BY_MEASURE[measure].code if measure in BY_MEASURE else "??"
    return f"OEU{areatype}{area}{industry}{occupation}{datatype}"
