"""SOC 2010 → 2018 crosswalk from ``www.bls.gov/soc/2018/soc_2010_to_2018_crosswalk.xlsx``."""

from __future__ import annotations

from extractors.http import Fetched, Fetcher
from extractors.source import Source

HOST = "www.bls.gov"
PATH = "soc/2018/soc_2010_to_2018_crosswalk.xlsx"
FILE = "soc_2010_to_2018_crosswalk.xlsx"


def fetch_crosswalk(fetcher: Fetcher, source: Source) -> dict[str, Fetched]:
    return {FILE: fetcher.fetch(source.locate(HOST, PATH), "xlsx")}
