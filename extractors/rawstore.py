"""The raw store: every downloaded byte, unchanged, content-addressed and immutable.

Layout under ``data/raw/``::

    objects/<sha[:2]>/<sha256>   file contents, read-only once written
    manifest.jsonl               one JSON line per fetch (200, 304 or copy from a mirror folder)
    tmp/                         downloads in progress (never read by anyone else; what a
                                 killed run left here is removed by the next run)
    quarantine/                  bodies that failed a check, kept for a person to inspect

A file enters ``objects/`` only by an atomic rename of a complete, hashed temporary file
whose bytes are on disk (flushed and fsynced before the rename, the folder fsynced after it,
both before its manifest row is written), so a crash or a short read can never leave a
partial object behind. An object that is damaged all the same (a disk error, or a store
written by an older version without that order) is not trusted: a fetch whose stored copy
has the wrong size asks for the whole file again, and a complete download of the same
content replaces a damaged copy instead of being thrown away as a duplicate.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from core.paths import fsync_dir


@dataclasses.dataclass(frozen=True)
class RawFileRecord:
    """One manifest row: a single fetch of one URL."""

    url: str
    fetched_at: str
    status: int
    bytes: int
    sha256: str
    etag: str | None = None
    last_modified: str | None = None
    vintage: str | None = None
    path: str | None = None  # relative to the raw store root
    # Why the stored bytes differ from what the server sent, or what else a reader must know
    # (e.g. "registration key replaced by <key>"); None for an unchanged download.
    note: str | None = None

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class HashingWriter:
    """Writes to a file while hashing and counting, so a download is read once."""

    def __init__(self, fh: IO[bytes]) -> None:
        self._fh = fh
        self._sha = hashlib.sha256()
        self.bytes = 0
        self._finished = False

    def write(self, chunk: bytes) -> None:
        if self._finished:
            raise ValueError("this download is finished; nothing more may be written")
        self._fh.write(chunk)
        self._sha.update(chunk)
        self.bytes += len(chunk)

    def finish(self) -> None:
        """Put every byte on disk (flush Python's buffer, then fsync): a file is finished
        before it is renamed into the store, never after."""
        if not self._finished:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._finished = True

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()


def sha256_file(path: Path, chunk_size: int = 1 << 20) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(chunk_size):
            sha.update(chunk)
    return sha.hexdigest()


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_DOTS = re.compile(r"\.{2,}")


def safe_name(text: str, limit: int = 80) -> str:
    """A file-name fragment derived from untrusted text (a URL, a server's name).

    Never contains a path separator or ``..``, never starts with a dot, never empty.
    """
    cleaned = _DOTS.sub("_", _UNSAFE.sub("_", text))
    # Strip after cutting to ``limit``: the cut itself may expose a leading dot.
    return cleaned[-limit:].strip("._") or "file"


class RawStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.objects = root / "objects"
        self.manifest = root / "manifest.jsonl"
        self.tmp = root / "tmp"
        self.quarantine_dir = root / "quarantine"
        for d in (self.objects, self.tmp, self.quarantine_dir):
            d.mkdir(parents=True, exist_ok=True)

    def object_path(self, sha256: str) -> Path:
        return self.objects / sha256[:2] / sha256

    @contextlib.contextmanager
    def incoming(self) -> Iterator[tuple[Path, HashingWriter]]:
        """A temporary file to stream a download into; removed unless committed."""
        fd, name = tempfile.mkstemp(dir=self.tmp, suffix=".part")
        path = Path(name)
        try:
            with os.fdopen(fd, "wb") as fh:
                yield path, HashingWriter(fh)
        finally:
            path.unlink(missing_ok=True)

    def discard_partials(self) -> list[Path]:
        """Remove downloads a killed run left in ``tmp/``; call only while holding the lock."""
        leftovers = [p for p in self.tmp.iterdir() if p.is_file()]
        for path in leftovers:
            path.unlink(missing_ok=True)
        return leftovers

    def commit(self, tmp_path: Path, writer: HashingWriter) -> Path:
        """Move a complete temporary file into the store (atomic); identical content is shared.

        The file is finished (on disk) first. An object of the same content already stored
        is kept only when it is intact (its size and sha256); a damaged one is replaced."""
        writer.finish()
        dest = self.object_path(writer.sha256)
        if dest.exists() and _intact(dest, writer.bytes, writer.sha256):
            tmp_path.unlink(missing_ok=True)
            return dest
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(tmp_path, 0o444)
        os.replace(tmp_path, dest)
        fsync_dir(dest.parent)
        return dest

    def keep(
        self,
        tmp_path: Path,
        writer: HashingWriter,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        note: str | None = None,
    ) -> RawFileRecord:
        """Commit a complete download and append its manifest row (status 200)."""
        path = self.commit(tmp_path, writer)
        record = RawFileRecord(
            url=url,
            fetched_at=utc_now_iso(),
            status=200,
            bytes=writer.bytes,
            sha256=writer.sha256,
            etag=etag,
            last_modified=last_modified,
            path=str(path.relative_to(self.root)),
            note=note,
        )
        self.record(record)
        return record

    def quarantine(self, tmp_path: Path, url: str, reason: str) -> Path:
        """Keep a rejected body for inspection; it never enters ``objects/``."""
        # One slot per URL and reason: the newest failure of a kind is what a person needs.
        dest = self.quarantine_dir / f"{safe_name(reason, 20)}-{safe_name(url)}"
        if tmp_path.exists():
            os.replace(tmp_path, dest)
        else:
            dest.write_bytes(b"")
        return dest

    def record(self, row: RawFileRecord) -> None:
        data = (row.to_json() + "\n").encode("utf-8")
        with self.manifest.open("a+b") as fh:
            end = fh.seek(0, os.SEEK_END)
            if end:
                fh.seek(end - 1)
                if fh.read(1) != b"\n":
                    # A crash cut the last line short: end it, so this row is not glued to it.
                    data = b"\n" + data
            fh.write(data)  # append mode: always at the end
            fh.flush()
            os.fsync(fh.fileno())

    def rows(self) -> list[RawFileRecord]:
        if not self.manifest.exists():
            return []
        out: list[RawFileRecord] = []
        for line in self.manifest.read_text(encoding="utf-8").splitlines():
            try:
                out.append(RawFileRecord(**json.loads(line)))
            except (json.JSONDecodeError, TypeError):
                continue  # a line cut short by a crash is not a fetch
        return out

    def last_stored(self, url: str) -> RawFileRecord | None:
        """The newest fetch of ``url`` whose bytes are in the store (for conditional GET).

        A stored copy of another size than its row says is damaged: that fetch does not
        count, so the next one asks for the whole file (a stat, not a hash: a no-op stays
        cheap; ``bls-refresh verify`` re-hashes every object)."""
        for row in reversed(self.rows()):
            if row.url == url and row.sha256 and _has_size(self.object_path(row.sha256), row.bytes):
                return row
        return None


def _has_size(path: Path, size: int) -> bool:
    try:
        return path.stat().st_size == size
    except OSError:
        return False


def _intact(path: Path, size: int, sha256: str) -> bool:
    return _has_size(path, size) and sha256_file(path) == sha256
