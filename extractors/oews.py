"""OEWS time-series flat files from ``download.bls.gov/pub/time.series/oe/``.

``oe.series`` (about 1.2 GB) is deliberately not fetched: every attribute the tables need is
either encoded in the 25-character series id or carried by the small lookup files, and a
weekly 1.2 GB download to re-check that is not polite. See docs/decisions.md.
"""

from __future__ import annotations

from extractors.http import Fetched, Fetcher
from extractors.source import Source

HOST = "download.bls.gov"
DIRECTORY = "pub/time.series/oe/"

# Small files first: if BLS refuses us, we learn it before the 330 MB download.
LOOKUP_FILES = (
    "oe.release",
    "oe.footnote",
    "oe.datatype",
    "oe.area",
    "oe.industry",
    "oe.occupation",
)
DATA_FILE = "oe.data.0.Current"
FILES = (*LOOKUP_FILES, DATA_FILE)


def fetch_oews(fetcher: Fetcher, source: Source) -> dict[str, Fetched]:
    """Fetch (conditionally) every OEWS file the load needs; return them by file name."""
    return {name: fetcher.fetch(source.locate(HOST, DIRECTORY + name), "text") for name in FILES}
