"""OEWS special-request zips: every May year's estimates, from
``www.bls.gov/oes/special-requests/oesm{YY}{part}.zip``.

The time-series flat files hold only the newest May year; these zips are where the earlier
ones live (``bls-refresh backfill``). A year comes in several parts:

========  =====================================================  ============================
part      what it holds                                          size (zipped)
========  =====================================================  ============================
``nat``   national, cross-industry                               0.1–0.3 MB (2012–2025)
``st``    states, DC, Puerto Rico, Guam, the Virgin Islands      several MB (3.8 MB for 2012)
``ma``    metropolitan and nonmetropolitan areas                 larger than ``st``
``in4``   national by 4-digit NAICS industry and ownership       the largest
========  =====================================================  ============================

Each zip is fetched through the one HTTP layer (``extractors.http``: contact User-Agent,
conditional GET, the retry budget, the raw store), so a zip already stored costs one
conditional request answered 304 and no bytes; a killed backfill, run again, re-downloads
only what it had not finished.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable

from core.errors import ConfigError, FetchError
from extractors.http import Fetched, Fetcher, Progress
from extractors.source import Source

HOST = "www.bls.gov"
DIRECTORY = "oes/special-requests/"
FIRST_YEAR = 2012  # earlier zips use other layouts and SOC 2000 (transforms.oews_special)
PARTS: dict[str, str] = {
    "nat": "national",
    "st": "state",
    "ma": "metropolitan and nonmetropolitan area",
    "in4": "national by industry and ownership",
}
DEFAULT_PARTS = ("nat",)


@dataclasses.dataclass(frozen=True)
class SpecialZip:
    """One zip of one May year."""

    year: int
    part: str

    @property
    def name(self) -> str:
        return f"oesm{self.year % 100:02d}{self.part}.zip"

    @property
    def path(self) -> str:
        return DIRECTORY + self.name

    @property
    def label(self) -> str:
        """How progress lines name it: ``oesm15nat.zip (May 2015, national)``."""
        return f"{self.name} (May {self.year}, {PARTS[self.part]})"


@dataclasses.dataclass(frozen=True)
class YearRange:
    """The May years a backfill asks for. ``open_end``: given as ``2012-`` (up to the newest
    year BLS has published), so a year past the last published one may be missing."""

    first: int
    last: int
    open_end: bool = False

    def years(self) -> list[int]:
        return list(range(self.first, self.last + 1))


_RANGE = re.compile(r"^\s*(\d{4})\s*(?:(-|–|\.\.)\s*(\d{4})?)?\s*$")


def parse_years(text: str, this_year: int) -> YearRange:
    """``2012-2025``, ``2019``, or ``2012-`` (through ``this_year``); ConfigError otherwise."""
    found = _RANGE.match(text)
    if not found:
        raise ConfigError(
            f"--oews-years {text!r}: give a May year or a range, e.g. 2012-2025, 2019, or "
            "2012- (through the newest year BLS has published)"
        )
    first = int(found.group(1))
    open_end = found.group(2) is not None and found.group(3) is None
    last = this_year if open_end else int(found.group(3) or first)
    if first < FIRST_YEAR:
        raise ConfigError(
            f"--oews-years {text}: special-request files before May {FIRST_YEAR} use other "
            f"layouts and SOC 2000; the first year loaded is {FIRST_YEAR}"
        )
    if last < first:
        raise ConfigError(f"--oews-years {text}: the range ends before it starts")
    if last > this_year:
        raise ConfigError(f"--oews-years {text}: May {last} has not happened yet")
    return YearRange(first, last, open_end)


def parse_parts(text: str | Iterable[str]) -> tuple[str, ...]:
    """``nat,st`` (or several options) → the parts, in the order of :data:`PARTS`."""
    given = [text] if isinstance(text, str) else list(text)
    names = {p.strip().lower() for item in given for p in item.split(",") if p.strip()}
    unknown = sorted(names - set(PARTS))
    if unknown:
        raise ConfigError(
            f"--files {','.join(unknown)}: unknown; choose from {', '.join(PARTS)} "
            "(national, state, metro, industry)"
        )
    return tuple(p for p in PARTS if p in names) or DEFAULT_PARTS


def planned(years: YearRange, parts: tuple[str, ...]) -> list[SpecialZip]:
    """The zips a backfill fetches, oldest year first."""
    return [SpecialZip(year, part) for year in years.years() for part in parts]


def fetch_zip(
    fetcher: Fetcher, source: Source, item: SpecialZip, progress: Progress | None = None
) -> Fetched:
    return fetcher.fetch(source.locate(HOST, item.path), "zip", progress)


def not_published(exc: FetchError) -> bool:
    """Whether a fetch failed because the file is not there (404 or 410)."""
    return exc.status in (404, 410)


def fetch_all(
    fetcher: Fetcher,
    source: Source,
    items: list[SpecialZip],
    years: YearRange,
    on_file: Callable[[SpecialZip, Fetched | None], None] | None = None,
    progress: Callable[[SpecialZip], Progress] | None = None,
) -> dict[SpecialZip, Fetched]:
    """Fetch each zip, oldest year first.

    A zip BLS does not have (404) fails the backfill, except with an open-ended range
    (``2012-``) for the years after the newest one published: a missing year is skipped
    (``on_file`` hears ``None``) when no later year of the range has a zip either. A missing
    year followed by a published one is a gap, and fails naming it.
    """
    out: dict[SpecialZip, Fetched] = {}
    missing: list[tuple[SpecialZip, FetchError]] = []
    for item in items:
        try:
            fetched = fetch_zip(fetcher, source, item, progress(item) if progress else None)
        except FetchError as exc:
            if years.open_end and not_published(exc):
                missing.append((item, exc))
                continue
            raise
        gap = next(((m, e) for m, e in missing if m.year < item.year), None)
        if gap is not None:
            raise gap[1]
        out[item] = fetched
        if on_file:
            on_file(item, fetched)
    if missing and not out:
        raise missing[0][1]  # nothing published in the whole range: not a "newest year"
    for item, _ in missing:
        if on_file:
            on_file(item, None)
    return out
