"""The OEWS extractor: exactly its seven time-series files, small ones first."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from extractors.http import Fetcher
from extractors.oews import FILES, fetch_oews
from extractors.source import Source

if TYPE_CHECKING:
    from tests.blsserver import BlsServer

OE = "download.bls.gov/pub/time.series/oe"


def test_the_lookups_are_fetched_before_the_data_file_and_nothing_else(
    bls_server: BlsServer, fetcher: Fetcher
) -> None:
    got = fetch_oews(fetcher, Source.from_arg(bls_server.base_url))

    asked = [f"/{OE}/{name}" for name in FILES]
    assert [(r.method, r.path) for r in bls_server.requests] == [("GET", p) for p in asked]
    assert asked[-1] == f"/{OE}/oe.data.0.Current"  # the 330 MB file last; never oe.series
    assert list(got) == list(FILES)
    assert {name: item.url for name, item in got.items()} == {
        name: f"{bls_server.base_url}/{OE}/{name}" for name in FILES
    }
    assert [item.record.url for item in got.values()] == [item.url for item in got.values()]


@pytest.mark.parametrize("via", ["url", "folder"])
def test_fetch_oews_from_a_mirror(
    bls_server: BlsServer, fetcher: Fetcher, mirror: Path, via: str
) -> None:
    source = Source.from_arg(bls_server.base_url if via == "url" else mirror)
    first = fetch_oews(fetcher, source)
    assert set(first) == set(FILES)
    for name, item in first.items():
        assert item.downloaded is True
        assert item.path.read_bytes() == (mirror / OE / name).read_bytes()
    second = fetch_oews(fetcher, source)
    assert all(not item.downloaded for item in second.values())
    assert {name: item.path for name, item in second.items()} == {
        name: item.path for name, item in first.items()
    }
    if via == "url":
        assert bls_server.count() == 2 * len(FILES)
        assert [r.status for r in bls_server.requests[len(FILES) :]] == [304] * len(FILES)
    else:
        assert bls_server.requests == []
