"""The OEWS catalogue: what every OEWS datatype is, written down once.

One row per BLS datatype (:class:`Datatype`): its code in ``oe.datatype`` and the series id,
BLS's name for it, our measure name (DESIGN.md: an interface analysts and content teams use),
its unit, the phrase a writer puts in a sentence, and the header spellings of its column in the
special-request workbooks. Beside the rows: how a writer prints each unit (:data:`UNITS`), the
SOC version of a May reference year (:func:`soc_version`) and the sentence BLS prints for the
top code (:data:`TOP_CODE_TEXT`, :func:`top_code_in`).

Readers: ``transforms.oews`` (the time series: datatype list check, series ids → measures, SOC
version, footnote 5), ``transforms.oews_special`` (column spellings, SOC version, the field
descriptions' top-code legend), ``transforms.oews_series`` (series ids) and ``figures`` (unit,
phrase, format). No pandas here, so read-only commands that import it start fast.
"""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal


@dataclasses.dataclass(frozen=True)
class Datatype:
    code: str  # datatype_code in oe.datatype and the series id's last two characters: "13"
    name: str  # datatype_name as BLS writes it in oe.datatype: "Annual median wage"
    measure: str  # our measure name (DESIGN.md): "annual_median"
    unit: str  # a key of UNITS: "usd_per_year"
    phrase: str  # as a writer puts it in a sentence: "median annual wage"
    # Special-request header spellings, normalised (transforms.columns.normalise: lower case,
    # single spaces): today's first, then older ones ("h_wpct10" about 1997-2002).
    columns: tuple[str, ...]


# In the order the special-request workbooks put the columns (TOT_EMP, EMP_PRSE, JOBS_1000,
# LOC_QUOTIENT, H_MEAN, ...), which is the order their estimates come out in; BY_CODE gives
# BLS's datatype order.
DATATYPES: tuple[Datatype, ...] = (
    # code, BLS datatype name, measure, unit, phrase, special-request columns
    Datatype("01", "Employment", "employment", "persons", "employment", ("tot_emp",)),
    Datatype(
        "02",
        "Employment percent relative standard error",
        "employment_prse",
        "percent",
        "employment relative standard error",
        ("emp_prse",),
    ),
    Datatype(
        "16",
        "Employment per 1,000 jobs",
        "jobs_per_1000",
        "per_1000_jobs",
        "jobs per 1,000 jobs",
        ("jobs_1000",),
    ),
    Datatype(
        "17",
        "Location Quotient",
        "location_quotient",
        "ratio",
        "location quotient",
        ("loc_quotient", "loc_q", "loc quotient"),
    ),
    Datatype(
        "03", "Hourly mean wage", "hourly_mean", "usd_per_hour", "mean hourly wage", ("h_mean",)
    ),
    Datatype(
        "04", "Annual mean wage", "annual_mean", "usd_per_year", "mean annual wage", ("a_mean",)
    ),
    Datatype(
        "05",
        "Wage percent relative standard error",
        "mean_prse",
        "percent",
        "wage relative standard error",
        ("mean_prse",),
    ),
    Datatype(
        "06",
        "Hourly 10th percentile wage",
        "hourly_p10",
        "usd_per_hour",
        "10th percentile hourly wage",
        ("h_pct10", "h_wpct10"),
    ),
    Datatype(
        "07",
        "Hourly 25th percentile wage",
        "hourly_p25",
        "usd_per_hour",
        "25th percentile hourly wage",
        ("h_pct25", "h_wpct25"),
    ),
    Datatype(
        "08",
        "Hourly median wage",
        "hourly_median",
        "usd_per_hour",
        "median hourly wage",
        ("h_median",),
    ),
    Datatype(
        "09",
        "Hourly 75th percentile wage",
        "hourly_p75",
        "usd_per_hour",
        "75th percentile hourly wage",
        ("h_pct75", "h_wpct75"),
    ),
    Datatype(
        "10",
        "Hourly 90th percentile wage",
        "hourly_p90",
        "usd_per_hour",
        "90th percentile hourly wage",
        ("h_pct90", "h_wpct90"),
    ),
    Datatype(
        "11",
        "Annual 10th percentile wage",
        "annual_p10",
        "usd_per_year",
        "10th percentile annual wage",
        ("a_pct10", "a_wpct10"),
    ),
    Datatype(
        "12",
        "Annual 25th percentile wage",
        "annual_p25",
        "usd_per_year",
        "25th percentile annual wage",
        ("a_pct25", "a_wpct25"),
    ),
    Datatype(
        "13",
        "Annual median wage",
        "annual_median",
        "usd_per_year",
        "median annual wage",
        ("a_median",),
    ),
    Datatype(
        "14",
        "Annual 75th percentile wage",
        "annual_p75",
        "usd_per_year",
        "75th percentile annual wage",
        ("a_pct75", "a_wpct75"),
    ),
    Datatype(
        "15",
        "Annual 90th percentile wage",
        "annual_p90",
        "usd_per_year",
        "90th percentile annual wage",
        ("a_pct90", "a_wpct90"),
    ),
)
BY_CODE: dict[str, Datatype] = {d.code: d for d in sorted(DATATYPES, key=lambda d: d.code)}
BY_MEASURE: dict[str, Datatype] = {d.measure: d for d in BY_CODE.values()}  # datatype order


@dataclasses.dataclass(frozen=True)
class Format:
    """How a writer prints a number of one unit: rounded half-up to ``places`` decimals (the
    published digits when None), thousands grouped or not, between ``prefix`` and ``suffix``."""

    places: int | None
    prefix: str = ""
    suffix: str = ""
    grouped: bool = False


UNITS: dict[str, Format] = {
    "persons": Format(0, grouped=True),  # 194,800
    "percent": Format(None, suffix="%"),  # 1.1% (published decimals, trailing zeros dropped)
    "usd_per_hour": Format(2, prefix="$", grouped=True),  # $24.16
    "usd_per_year": Format(0, prefix="$", grouped=True),  # $51,140
    "per_1000_jobs": Format(3),  # 1.200
    "ratio": Format(2),  # 1.05
}


def soc_version(reference_year: int) -> str:
    """The SOC version of a May reference year's OEWS estimates (time series and
    special-request files alike). May 2019 and May 2020 used a hybrid of SOC 2010 and 2018;
    May 2021 was the first on SOC 2018 alone."""
    if reference_year >= 2021:
        return "2018"
    if reference_year >= 2019:
        return "2018-hybrid"
    return "2010"


# The top code as BLS prints it: footnote 5 of oe.footnote ("This wage is equal to or greater
# than $115.00 per hour or $239,200 per year.") and the # line of the special-request field
# descriptions ("# = indicates a wage greater than $90.00 per hour or $187,200 per year").
TOP_CODE_TEXT = re.compile(
    r"\$\s*(?P<hourly>[\d,]+(?:\.\d+)?)\s*per\s+hour\s+or\s+"
    r"\$\s*(?P<annual>[\d,]+(?:\.\d+)?)\s*per\s+year",
    re.IGNORECASE,
)


@dataclasses.dataclass(frozen=True)
class TopCodeText:
    """One ``$… per hour or $… per year`` found in a text, the numbers as written."""

    hourly: str  # "115.00"
    annual: str  # "239,200"
    text: str  # the whole phrase as found

    @property
    def cap(self) -> tuple[Decimal, Decimal]:
        """(hourly, annual) in dollars."""
        return Decimal(self.hourly.replace(",", "")), Decimal(self.annual.replace(",", ""))

    @property
    def exact(self) -> bool:
        """Written exactly as BLS's footnote 5 writes it: ``$115.00 per hour or $239,200 per
        year`` (cents on the hourly cap, whole dollars on the annual one, single spaces, lower
        case)."""
        _, point, cents = self.hourly.partition(".")
        return (
            bool(point)
            and len(cents) == 2
            and "." not in self.annual
            and self.text == f"${self.hourly} per hour or ${self.annual} per year"
        )


def top_code_in(text: str, *, exact: bool = False) -> TopCodeText | None:
    """The first top-code phrase in ``text`` (with ``exact``, the first written as
    :attr:`TopCodeText.exact`), or None."""
    for match in TOP_CODE_TEXT.finditer(text):
        found = TopCodeText(match["hourly"], match["annual"], match[0])
        if found.exact or not exact:
            return found
    return None
