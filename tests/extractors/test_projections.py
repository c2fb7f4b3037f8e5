"""The Employment Projections extractor: one workbook, fetched as an xlsx."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from core.errors import FetchError
from extractors.http import Fetcher
from extractors.projections import FILE, fetch_projections
from extractors.source import Source

if TYPE_CHECKING:
    from tests.blsserver import BlsServer

WORKBOOK = "www.bls.gov/emp/ind-occ-matrix/occupation.xlsx"


def test_the_occupation_workbook_is_fetched_from_www_bls_gov(
    bls_server: BlsServer, fetcher: Fetcher, mirror: Path
) -> None:
    got = fetch_projections(fetcher, Source.from_arg(bls_server.base_url))

    assert list(got) == [FILE] == ["occupation.xlsx"]
    assert got[FILE].url == f"{bls_server.base_url}/{WORKBOOK}"
    assert got[FILE].path.read_bytes() == (mirror / WORKBOOK).read_bytes()
    assert [(r.method, r.path) for r in bls_server.requests] == [("GET", f"/{WORKBOOK}")]


def test_a_page_saved_as_the_workbook_is_refused_as_not_an_xlsx(
    fetcher: Fetcher, mirror: Path
) -> None:
    (mirror / WORKBOOK).write_text("occupation,employment\n29-2072,194.8\n")
    with pytest.raises(FetchError, match=r"expected a xlsx file \(zip signature PK\)"):
        fetch_projections(fetcher, Source.from_arg(mirror))
    assert fetcher.store.rows() == []  # nothing entered the raw store
