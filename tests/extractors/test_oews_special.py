"""The special-request zip extractor: which zips a backfill asks for, and which may be missing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from core.errors import ConfigError, FetchError
from extractors import oews_special
from extractors.http import Fetcher, HttpPolicy
from extractors.oews_special import SpecialZip, YearRange
from extractors.rawstore import RawStore
from extractors.source import Source

if TYPE_CHECKING:
    from tests.blsserver import BlsServer


def test_years_ranges_single_years_and_open_ends() -> None:
    assert oews_special.parse_years("2012-2025", 2026) == YearRange(2012, 2025)
    assert oews_special.parse_years("2019", 2026) == YearRange(2019, 2019)
    assert oews_special.parse_years(" 2016 – 2018 ", 2026) == YearRange(2016, 2018)
    assert oews_special.parse_years("2012-", 2026) == YearRange(2012, 2026, open_end=True)
    assert oews_special.parse_years("2012-", 2026).years()[-1] == 2026
    for bad, message in (
        ("2011-2013", "the first year loaded is 2012"),
        ("2019-2017", "ends before it starts"),
        ("2027", "has not happened yet"),
        ("12-25", "give a May year or a range"),
        ("", "give a May year or a range"),
    ):
        with pytest.raises(ConfigError, match=message):
            oews_special.parse_years(bad, 2026)


def test_parts_are_checked_and_ordered() -> None:
    assert oews_special.parse_parts("st,nat") == ("nat", "st")
    assert oews_special.parse_parts(["ma", "in4,NAT"]) == ("nat", "ma", "in4")
    assert oews_special.parse_parts([]) == ("nat",)
    with pytest.raises(ConfigError, match="--files all: unknown"):
        oews_special.parse_parts("all")


def test_zip_names_and_paths_follow_bls() -> None:
    plan = oews_special.planned(YearRange(2019, 2020), ("nat", "st"))
    assert [z.name for z in plan] == [
        "oesm19nat.zip",
        "oesm19st.zip",
        "oesm20nat.zip",
        "oesm20st.zip",
    ]
    assert plan[0].path == "oes/special-requests/oesm19nat.zip"
    assert SpecialZip(2015, "ma").label == (
        "oesm15ma.zip (May 2015, metropolitan and nonmetropolitan area)"
    )
    assert Source(None).locate(oews_special.HOST, plan[0].path) == (
        "https://www.bls.gov/oes/special-requests/oesm19nat.zip"
    )


@pytest.fixture
def zips(tmp_path: Path) -> Path:
    """A mirror with zips (bodies that start like a zip) for May 2019, 2021 and 2022."""
    folder = tmp_path / "mirror" / oews_special.HOST / oews_special.DIRECTORY
    folder.mkdir(parents=True)
    for yy in (19, 21, 22):
        (folder / f"oesm{yy}nat.zip").write_bytes(b"PK\x03\x04" + bytes(300_000))
    return tmp_path / "mirror"


@pytest.fixture
def server(zips: Path, bls_server_class: type[BlsServer]) -> Iterator[BlsServer]:
    with bls_server_class(zips) as srv:
        yield srv


@pytest.fixture
def fetcher(tmp_path: Path, contact: str) -> Iterator[Fetcher]:
    f = Fetcher(RawStore(tmp_path / "raw"), contact=contact)
    yield f
    f.close()


def test_an_open_range_skips_the_years_not_published_yet(
    server: BlsServer, fetcher: Fetcher
) -> None:
    span = YearRange(2021, 2024, open_end=True)
    heard: list[tuple[str, bool]] = []
    got = oews_special.fetch_all(
        fetcher,
        Source(server.base_url),
        oews_special.planned(span, ("nat",)),
        span,
        on_file=lambda item, f: heard.append((item.name, f is not None)),
    )
    assert sorted(z.name for z in got) == ["oesm21nat.zip", "oesm22nat.zip"]
    assert heard == [
        ("oesm21nat.zip", True),
        ("oesm22nat.zip", True),
        ("oesm23nat.zip", False),
        ("oesm24nat.zip", False),
    ]


def test_a_gap_before_a_published_year_fails(server: BlsServer, fetcher: Fetcher) -> None:
    span = YearRange(2019, 2022, open_end=True)  # 2020 is missing, 2021 is not
    with pytest.raises(FetchError, match=r"oesm20nat\.zip: HTTP 404"):
        oews_special.fetch_all(
            fetcher, Source(server.base_url), oews_special.planned(span, ("nat",)), span
        )


def test_a_closed_range_needs_every_year(server: BlsServer, fetcher: Fetcher) -> None:
    span = YearRange(2021, 2023)
    with pytest.raises(FetchError, match=r"oesm23nat\.zip: HTTP 404") as failed:
        oews_special.fetch_all(
            fetcher, Source(server.base_url), oews_special.planned(span, ("nat",)), span
        )
    assert failed.value.status == 404


def test_an_open_range_with_nothing_published_fails(server: BlsServer, fetcher: Fetcher) -> None:
    span = YearRange(2023, 2026, open_end=True)
    with pytest.raises(FetchError, match=r"oesm23nat\.zip: HTTP 404"):
        oews_special.fetch_all(
            fetcher, Source(server.base_url), oews_special.planned(span, ("nat",)), span
        )


def test_progress_hears_the_bytes_of_a_download_and_nothing_of_a_304(
    server: BlsServer, tmp_path: Path, contact: str
) -> None:
    fetcher = Fetcher(
        RawStore(tmp_path / "raw"), contact=contact, policy=HttpPolicy(chunk_size=50_000)
    )
    fetcher.progress_every = 100_000
    heard: list[tuple[int, int | None]] = []
    item = SpecialZip(2019, "nat")
    first = oews_special.fetch_zip(
        fetcher, Source(server.base_url), item, lambda done, total: heard.append((done, total))
    )
    assert first.downloaded
    assert heard[-1] == (300_004, 300_004)
    assert len(heard) >= 3  # every 100,000 bytes, then the end
    assert [done for done, _ in heard] == sorted(done for done, _ in heard)
    heard.clear()
    again = oews_special.fetch_zip(
        fetcher, Source(server.base_url), item, lambda done, total: heard.append((done, total))
    )
    assert not again.downloaded and heard == []
    fetcher.close()
