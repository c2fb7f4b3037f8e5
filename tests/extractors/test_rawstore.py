"""Unit tests for the content-addressed raw store (no network)."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

import pytest

from extractors.rawstore import RawFileRecord, RawStore, safe_name, sha256_file


@pytest.fixture
def store(tmp_path: Path) -> RawStore:
    return RawStore(tmp_path / "raw")


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def put(store: RawStore, data: bytes) -> Path:
    """Stream ``data`` through ``incoming()`` and commit it, as the fetcher does."""
    with store.incoming() as (tmp, writer):
        writer.write(data)
        return store.commit(tmp, writer)


def record_for(
    store: RawStore,
    url: str,
    data: bytes,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
) -> RawFileRecord:
    sha = hashlib.sha256(data).hexdigest()
    return RawFileRecord(
        url=url,
        fetched_at="2025-04-02T12:00:00+00:00",
        status=200,
        bytes=len(data),
        sha256=sha,
        etag=etag,
        last_modified=last_modified,
        path=str(store.object_path(sha).relative_to(store.root)),
    )


# --- layout and commit ------------------------------------------------------------------------


def test_layout_is_created(store: RawStore) -> None:
    for folder in (store.objects, store.tmp, store.quarantine_dir):
        assert folder.is_dir()
    assert store.rows() == []
    assert store.last_stored("https://example.org/x") is None


def test_commit_is_content_addressed(store: RawStore) -> None:
    data = b"area_code\tarea_name\n0000000\tNational\n"
    sha = hashlib.sha256(data).hexdigest()
    path = put(store, data)
    assert path == store.objects / sha[:2] / sha
    assert path.read_bytes() == data
    assert sha256_file(path) == sha
    assert files_under(store.tmp) == []


def test_commit_is_idempotent_for_identical_content(store: RawStore) -> None:
    data = b"same bytes\n"
    first = put(store, data)
    mtime = first.stat().st_mtime_ns
    second = put(store, data)
    assert second == first
    assert files_under(store.objects) == [first]
    assert first.stat().st_mtime_ns == mtime  # the existing object was not rewritten
    assert files_under(store.tmp) == []


def test_different_content_gets_different_objects(store: RawStore) -> None:
    a, b = put(store, b"a\n"), put(store, b"b\n")
    assert a != b
    assert files_under(store.objects) == sorted([a, b])


def test_nothing_enters_objects_before_commit(store: RawStore) -> None:
    with store.incoming() as (tmp, writer):
        writer.write(b"half a download")
        assert tmp.parent == store.tmp
        assert files_under(store.objects) == []
    # Not committed: the temporary file is gone and nothing was stored.
    assert files_under(store.tmp) == []
    assert files_under(store.objects) == []


def test_failed_download_leaves_no_trace(store: RawStore) -> None:
    with pytest.raises(RuntimeError), store.incoming() as (_tmp, writer):
        writer.write(b"partial")
        raise RuntimeError("connection broke")
    assert files_under(store.tmp) == []
    assert files_under(store.objects) == []


def test_objects_are_read_only(store: RawStore) -> None:
    path = put(store, b"immutable\n")
    mode = stat.S_IMODE(path.stat().st_mode)
    assert mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) == 0
    assert mode & stat.S_IRUSR


def test_hashing_writer_counts_and_hashes(store: RawStore) -> None:
    chunks = [b"abc", b"", b"def" * 1000]
    with store.incoming() as (tmp, writer):
        for chunk in chunks:
            writer.write(chunk)
        assert writer.bytes == sum(map(len, chunks))
        assert writer.sha256 == hashlib.sha256(b"".join(chunks)).hexdigest()
        path = store.commit(tmp, writer)
    assert path.read_bytes() == b"".join(chunks)


def test_an_object_is_on_disk_whole_when_its_manifest_row_is_written(store: RawStore) -> None:
    # Small enough to sit in Python's write buffer: the commit flushes it before the rename.
    data = b"footnote_code\tfootnote_text\n5\tTop coded\n"
    with store.incoming() as (tmp, writer):
        writer.write(data)
        record = store.keep(tmp, writer, "https://x/oe.footnote")
        on_disk = (store.root / str(record.path)).read_bytes()
        with pytest.raises(ValueError, match="finished"):
            writer.write(b"more")
    assert on_disk == data


def test_a_stored_copy_of_the_wrong_size_is_not_offered_for_a_conditional_get(
    store: RawStore,
) -> None:
    with store.incoming() as (tmp, writer):
        writer.write(b"area_code\n0000000\n")
        record = store.keep(tmp, writer, "https://x/oe.area", etag='"e1"')
    assert store.last_stored("https://x/oe.area") == record
    damaged = store.object_path(record.sha256)
    damaged.chmod(0o644)
    damaged.write_bytes(b"")
    assert store.last_stored("https://x/oe.area") is None


def test_a_damaged_object_is_replaced_by_the_same_content_committed_again(
    store: RawStore,
) -> None:
    data = b"same bytes, stored twice\n"
    first = put(store, data)
    first.chmod(0o644)
    first.write_bytes(b"same bytes, rotted\n")  # another sha256 under this name
    second = put(store, data)
    assert second == first
    assert second.read_bytes() == data
    assert files_under(store.tmp) == []


# --- quarantine -------------------------------------------------------------------------------


def test_quarantine_keeps_body_outside_objects(store: RawStore) -> None:
    with store.incoming() as (tmp, writer):
        writer.write(b"<html>Access Denied</html>")
        kept = store.quarantine(tmp, "https://download.bls.gov/pub/time.series/oe/oe.area", "html")
    assert kept.parent == store.quarantine_dir
    assert kept.read_bytes() == b"<html>Access Denied</html>"
    assert files_under(store.objects) == []
    assert files_under(store.tmp) == []


def test_quarantine_name_stays_inside_quarantine(store: RawStore) -> None:
    with store.incoming() as (tmp, writer):
        writer.write(b"x")
        kept = store.quarantine(tmp, "http://evil/../../../../etc/passwd", "../../reason")
    assert kept.resolve().parent == store.quarantine_dir.resolve()


# --- manifest ---------------------------------------------------------------------------------


def test_record_appends_one_json_line_per_fetch(store: RawStore) -> None:
    first = record_for(store, "https://x/a", b"a", etag='"e1"', last_modified="Wed, 02 Apr 2025")
    second = record_for(store, "https://x/b", b"b")
    store.record(first)
    store.record(second)
    lines = store.manifest.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    assert json.loads(lines[0])["etag"] == '"e1"'
    assert store.rows() == [first, second]


def test_rows_tolerate_a_truncated_last_line(store: RawStore) -> None:
    good = record_for(store, "https://x/a", b"a")
    store.record(good)
    with store.manifest.open("a", encoding="utf-8") as fh:
        fh.write('{"url": "https://x/b", "fetched_at": "2025-04-0')  # a crash mid-write
    assert store.rows() == [good]


def test_record_after_a_truncated_line_is_not_lost(store: RawStore) -> None:
    store.record(record_for(store, "https://x/a", b"a"))
    with store.manifest.open("a", encoding="utf-8") as fh:
        fh.write('{"url": "https://x/b", "sta')
    after = record_for(store, "https://x/c", b"c")
    store.record(after)
    assert [r.url for r in store.rows()] == ["https://x/a", "https://x/c"]


def test_rows_skip_lines_that_are_not_records(store: RawStore) -> None:
    good = record_for(store, "https://x/a", b"a")
    store.manifest.write_text(
        "\n" + "42\n" + '{"unexpected": 1}\n' + good.to_json() + "\n", encoding="utf-8"
    )
    assert store.rows() == [good]


def test_last_stored_returns_newest_row_with_object(store: RawStore) -> None:
    url = "https://download.bls.gov/pub/time.series/oe/oe.area"
    put(store, b"old")
    put(store, b"new")
    store.record(record_for(store, url, b"old", etag='"old"'))
    store.record(record_for(store, "https://elsewhere/x", b"new"))
    store.record(record_for(store, url, b"new", etag='"new"'))
    last = store.last_stored(url)
    assert last is not None
    assert last.etag == '"new"'
    assert store.last_stored("https://never/fetched") is None


def test_last_stored_skips_rows_whose_object_is_missing(store: RawStore) -> None:
    url = "https://download.bls.gov/pub/time.series/oe/oe.area"
    kept = put(store, b"kept")
    store.record(record_for(store, url, b"kept", etag='"kept"'))
    store.record(record_for(store, url, b"never stored", etag='"gone"'))
    last = store.last_stored(url)
    assert last is not None
    assert last.etag == '"kept"'
    # Once the object itself disappears, there is nothing to revalidate against.
    kept.chmod(0o644)
    kept.unlink()
    assert store.last_stored(url) is None


def test_last_stored_skips_rows_without_sha(store: RawStore) -> None:
    store.record(RawFileRecord(url="https://x/a", fetched_at="t", status=200, bytes=0, sha256=""))
    assert store.last_stored("https://x/a") is None


# --- safe_name --------------------------------------------------------------------------------

NASTY = [
    "",
    ".",
    "..",
    "../..",
    "/",
    "\\",
    "../../etc/passwd",
    "..\\..\\windows\\system32",
    "http://127.0.0.1:8080/download.bls.gov/pub/time.series/oe/oe.area",
    "https://host/a/../../b",
    "file:///tmp/mirror/download.bls.gov/pub/time.series/oe/oe.data.0.Current",
    "name with spaces and ünïcödé",
    "a\x00b",
    "..." + "x" * 200,
    "x" * 200 + "/..",
    "a" * 79 + "/../b",
    "a" * 78 + "..b",
    "C:\\Users\\x",
    "~/.ssh/id_rsa",
]


@pytest.mark.parametrize("text", NASTY)
@pytest.mark.parametrize("limit", [80, 20, 3, 1])
def test_safe_name_never_yields_separators_or_dot_dot(text: str, limit: int) -> None:
    name = safe_name(text, limit)
    assert name
    assert len(name) <= max(limit, len("file"))
    assert "/" not in name and "\\" not in name and "\x00" not in name
    assert ".." not in name
    assert name not in (".", "..")
    assert not name.startswith(".")
    assert Path(name).name == name


def test_safe_name_keeps_readable_text() -> None:
    assert safe_name("https://download.bls.gov/pub/time.series/oe/oe.area").endswith(
        "download.bls.gov_pub_time.series_oe_oe.area"
    )
    assert safe_name("truncated", 20) == "truncated"
