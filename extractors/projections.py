"""Employment Projections workbook from ``www.bls.gov/emp/ind-occ-matrix/occupation.xlsx``.

Only the current cycle is served there; BLS often refuses scripted downloads from
www.bls.gov, in which case ``bls-refresh ingest`` loads a copy a person downloaded.
"""

from __future__ import annotations

from extractors.http import Fetched, Fetcher
from extractors.source import Source

HOST = "www.bls.gov"
PATH = "emp/ind-occ-matrix/occupation.xlsx"
FILE = "occupation.xlsx"


def fetch_projections(fetcher: Fetcher, source: Source) -> dict[str, Fetched]:
    return {FILE: fetcher.fetch(source.locate(HOST, PATH), "xlsx")}
