"""The SOC crosswalk extractor: one workbook from www.bls.gov/soc/2018/."""

from __future__ import annotations

from pathlib import Path

from extractors.http import Fetcher
from extractors.soc import FILE, fetch_crosswalk
from extractors.source import Source

CROSSWALK = "www.bls.gov/soc/2018/soc_2010_to_2018_crosswalk.xlsx"


def test_the_crosswalk_is_copied_from_a_mirror_folder_and_then_found_unchanged(
    fetcher: Fetcher, mirror: Path
) -> None:
    source = Source.from_arg(mirror)
    first = fetch_crosswalk(fetcher, source)

    assert list(first) == [FILE] == ["soc_2010_to_2018_crosswalk.xlsx"]
    assert first[FILE].url == (mirror.resolve() / CROSSWALK).as_uri()
    assert first[FILE].downloaded is True
    assert first[FILE].path.read_bytes() == (mirror / CROSSWALK).read_bytes()

    again = fetch_crosswalk(fetcher, source)
    assert again[FILE].downloaded is False
    assert again[FILE].path == first[FILE].path
