"""Where files come from: the real BLS hosts, a mirror URL, or a mirror folder (whose links
may point inside it, never out of it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.errors import FetchError
from extractors.source import Source

AREA = "download.bls.gov/pub/time.series/oe/oe.area"


def test_source_locate_real_bls() -> None:
    src = Source.from_arg(None)
    assert src.is_real_bls and not src.is_folder
    assert (
        src.locate("download.bls.gov", "pub/time.series/oe/oe.area")
        == "https://download.bls.gov/pub/time.series/oe/oe.area"
    )
    assert (
        src.locate("www.bls.gov", "emp/ind-occ-matrix/occupation.xlsx")
        == "https://www.bls.gov/emp/ind-occ-matrix/occupation.xlsx"
    )
    assert "download.bls.gov" in src.describe()


def test_source_locate_folder(mirror: Path) -> None:
    src = Source.from_arg(mirror)
    assert src.is_folder and not src.is_real_bls
    located = src.locate("download.bls.gov", "pub/time.series/oe/oe.area")
    assert Path(located) == mirror.resolve() / AREA
    assert Path(located).is_file()
    assert str(mirror.resolve()) in src.describe()


def test_source_locate_url() -> None:
    for base in ("http://127.0.0.1:8080", "http://127.0.0.1:8080/"):
        src = Source.from_arg(base)
        assert not src.is_folder and not src.is_real_bls
        assert src.locate("download.bls.gov", "pub/time.series/oe/oe.area") == (
            "http://127.0.0.1:8080/download.bls.gov/pub/time.series/oe/oe.area"
        )


def test_source_from_arg_rejects_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not a folder"):
        Source.from_arg(tmp_path / "nowhere")


def test_a_link_inside_the_mirror_is_followed(mirror: Path) -> None:
    area = mirror / AREA
    copy = mirror / "copies" / "oe.area"
    copy.parent.mkdir()
    area.rename(copy)
    area.symlink_to(Path("../../../../copies/oe.area"))  # relative, as a mirror tool writes it

    located = Source.from_arg(mirror).locate("download.bls.gov", "pub/time.series/oe/oe.area")

    assert Path(located) == mirror.resolve() / AREA  # the path as asked: the fetcher reads it
    assert Path(located).read_bytes() == copy.read_bytes()


def test_a_link_out_of_the_mirror_is_refused_before_a_byte_is_read(
    mirror: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "secret"
    outside.write_text("not BLS data")
    area = mirror / AREA
    area.unlink()
    area.symlink_to(outside)
    source = Source.from_arg(mirror)

    with pytest.raises(FetchError) as refused:
        source.locate("download.bls.gov", "pub/time.series/oe/oe.area")

    root = mirror.resolve()
    assert refused.value.status == 403  # a refusal, never retried
    assert refused.value.url == (root / AREA).as_uri()
    assert str(refused.value) == (
        f"{root / AREA}: is a symbolic link to {outside}, outside the mirror folder {root}; "
        "refusing to read it (links inside the mirror are followed, links out of it never "
        "are). Replace the link with the file itself, or point it inside the mirror."
    )


def test_a_folder_linked_out_of_the_mirror_is_refused_for_every_file_under_it(
    mirror: Path, tmp_path: Path
) -> None:
    host = mirror / "www.bls.gov"
    elsewhere = tmp_path / "elsewhere"
    host.rename(elsewhere)
    os.symlink(elsewhere, host, target_is_directory=True)

    with pytest.raises(FetchError, match="lies under a symbolic link and resolves to"):
        Source.from_arg(mirror).locate("www.bls.gov", "emp/ind-occ-matrix/occupation.xlsx")


def test_a_missing_file_is_left_to_the_fetcher(mirror: Path) -> None:
    """Not the source's concern: the fetcher answers 404 for it."""
    located = Source.from_arg(mirror).locate("download.bls.gov", "pub/time.series/oe/oe.nope")
    assert Path(located) == mirror.resolve() / "download.bls.gov/pub/time.series/oe/oe.nope"
    assert not Path(located).exists()


def test_the_real_hosts_and_a_mirror_url_are_described_as_such() -> None:
    assert Source().describe() == "BLS (https://download.bls.gov, https://www.bls.gov)"
    assert Source.from_arg("https://mirror.example.org/bls").describe() == (
        "mirror https://mirror.example.org/bls"
    )
