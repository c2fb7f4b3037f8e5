"""Where a republished ``oe.data.0.Current`` differs from the one already loaded: byte ranges.

BLS corrects estimates in place: the new file is the old one with a few lines rewritten,
added or removed. Staging it again costs a full pass over 6 M rows (about 2 s); the lines
that differ are a few kilobytes. :func:`changed_ranges` compares the two files block by block
(C-speed ``bytes`` comparisons, no parsing) and returns line-aligned ranges that hold every
byte that differs, each range given in both files; :func:`write_region` writes the lines of
those ranges, under the file's own header, as a small data file in the same layout, which the
ordinary staging pass (:mod:`transforms.oews_staging`) reads and validates.

Outside the ranges the two files are byte for byte the same, so their rows are the rows
already loaded. Whether the warehouse still holds exactly those rows is the warehouse's check
(:func:`warehouse.patch.resolve`), not this module's.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

# Bytes compared at a time: a 256th of the file, between 4 KiB and 256 KiB (about 2,600
# lines of the real layout). The changed lines are found to within a block and a cell.
BLOCK = 1 << 18
MIN_BLOCK = 1 << 12
# Above this share of the file in changed ranges, staging the whole file is the simpler and
# no slower way (the ranges are staged twice, old and new, and compared cell by cell).
MAX_SHARE = 0.10


@dataclasses.dataclass(frozen=True)
class Range:
    """Whole lines ``[old_start, old_end)`` of the old file replaced by ``[new_start,
    new_end)`` of the new one."""

    old_start: int
    old_end: int
    new_start: int
    new_end: int


@dataclasses.dataclass(frozen=True)
class Changes:
    header: bytes  # the header line both files share, line end included
    ranges: tuple[Range, ...]

    def old_bytes(self) -> int:
        return sum(r.old_end - r.old_start for r in self.ranges)

    def new_bytes(self) -> int:
        return sum(r.new_end - r.new_start for r in self.ranges)


def changed_ranges(
    old: Path, new: Path, *, max_share: float = MAX_SHARE, block: int | None = None
) -> Changes | None:
    """The line-aligned ranges where ``new`` differs from ``old``; None when the header lines
    differ, when either file is empty, or when the ranges exceed ``max_share`` of either
    file (then the whole file should be staged)."""
    with old.open("rb", buffering=0) as fo, new.open("rb", buffering=0) as fn:
        size = max(old.stat().st_size, new.stat().st_size)
        block = block or min(max(size // 256, MIN_BLOCK), BLOCK)
        a, b = _File(fo, block), _File(fn, block)
        header = a.header()
        if header is None or header != b.header():
            return None
        floor = len(header)
        same = a.size == b.size
        ranges = list(_same_size(a, b, floor)) if same else _shifted(a, b, floor)
        if ranges is None:
            return None
        ranges = [r for r in ranges if _nonempty(r)]
        # Each range widens only over the same bytes: up to its neighbours, never into them.
        edges = (
            [floor, *(r.old_end for r in ranges[:-1])][: len(ranges)],
            [*(r.old_start for r in ranges[1:]), a.size][: len(ranges)],
        )
        ranges = _merge(
            [_whole_cells(a, b, r, floor, lo, hi) for r, lo, hi in zip(ranges, *edges, strict=True)]
        )
        changes = Changes(header, tuple(ranges))
        if not all(_whole_lines(a, b, r, floor) for r in changes.ranges):
            return None  # a line longer than a block: not worth the trouble
    if changes.old_bytes() > max_share * max(a.size - floor, 1):
        return None
    if changes.new_bytes() > max_share * max(b.size - floor, 1):
        return None
    return changes


def write_region(path: Path, changes: Changes, out: Path, *, side: str) -> int:
    """Write the header and the ``side`` ("old" or "new") lines of every range of ``path``
    to ``out``; returns the bytes of lines written."""
    written = 0
    with path.open("rb") as src, out.open("wb") as dst:
        dst.write(changes.header)
        for r in changes.ranges:
            start, end = (r.old_start, r.old_end) if side == "old" else (r.new_start, r.new_end)
            src.seek(start)
            chunk = src.read(end - start)
            dst.write(chunk)
            written += len(chunk)
            if chunk and not chunk.endswith(b"\n"):
                dst.write(b"\n")  # the file's last line, unterminated: end it here
    return written


class _File:
    """Positioned reads of one file (plain reads: about 3 GB/s from the page cache, where
    slicing a memory map pays a page fault per 4 KiB)."""

    def __init__(self, fh: BinaryIO, block: int) -> None:
        self.fh = fh
        self.block = block
        self.size = os.fstat(fh.fileno()).st_size

    def read(self, start: int, end: int) -> bytes:
        self.fh.seek(max(start, 0))
        return self._exactly(max(min(end, self.size) - max(start, 0), 0))

    def blocks(self) -> Iterator[bytes]:
        self.fh.seek(0)
        while chunk := self._exactly(self.block):
            yield chunk

    def _exactly(self, n: int) -> bytes:
        """``n`` bytes from the current position (fewer only at the end of the file): an
        unbuffered read may return less than asked (a network file system), and the block
        offsets count on whole blocks."""
        chunk = self.fh.read(n)
        if len(chunk) == n or not chunk:
            return chunk
        parts = [chunk]
        while (got := sum(map(len, parts))) < n and (more := self.fh.read(n - got)):
            parts.append(more)
        return b"".join(parts)

    def header(self) -> bytes | None:
        first = self.read(0, 1 << 16)
        end = first.find(b"\n")
        return None if end < 0 else first[: end + 1]

    def line_start(self, pos: int, floor: int) -> int:
        """The start of the line holding ``pos`` (never before ``floor``, the first data
        line)."""
        while pos > floor:
            lo = max(pos - self.block, floor - 1)
            found = self.read(lo, pos).rfind(b"\n")
            if found >= 0:
                return max(lo + found + 1, floor)
            pos = lo
        return floor

    def line_end(self, pos: int) -> int:
        """Just past the first line end at or after ``pos`` (the file's end if none)."""
        while pos < self.size:
            found = self.read(pos, pos + self.block).find(b"\n")
            if found >= 0:
                return pos + found + 1
            pos += self.block
        return self.size

    def line_at(self, pos: int) -> bytes:
        """The line starting at ``pos``."""
        return self.read(pos, self.line_end(pos))

    def byte_before(self, pos: int) -> bytes:
        return self.read(pos - 1, pos)


def _whole_lines(a: _File, b: _File, r: Range, floor: int) -> bool:
    """Both sides of ``r`` start and end at line boundaries of their files."""

    def starts(f: _File, pos: int) -> bool:
        return pos == floor or f.byte_before(pos) == b"\n"

    def ends(f: _File, pos: int) -> bool:
        return pos == f.size or f.byte_before(pos) == b"\n"

    return (
        starts(a, r.old_start)
        and starts(b, r.new_start)
        and ends(a, r.old_end)
        and ends(b, r.new_end)
    )


def _cell_of(line: bytes) -> bytes:
    """A line's cell: its series id without the datatype code (the last two characters), so
    the 17 measures of one area, industry and occupation share it."""
    return line.split(b"\t", 1)[0].rstrip()[:-2]


def _whole_cells(a: _File, b: _File, r: Range, floor: int, lo: int, hi: int) -> Range:
    """``r`` widened by whole lines until it holds whole cells in both files: the lines
    just outside it, the same in both, must not belong to a cell of its first or last line.
    It stops at ``lo`` and ``hi`` (the old file's neighbouring ranges, where the same bytes
    end); a range that reaches a neighbour is joined with it. (BLS writes a series' lines
    next to each other; the warehouse checks that a patch's cells are whole.)"""
    start_old, start_new, end_old, end_new = r.old_start, r.new_start, r.old_end, r.new_end
    while start_old > max(floor, lo):
        before = a.line_start(start_old - 1, floor)
        firsts = {
            _cell_of(f.line_at(p))
            for f, p, e in ((a, start_old, end_old), (b, start_new, end_new))
            if p < e
        }
        if _cell_of(a.read(before, start_old)) not in firsts:
            break
        start_old, start_new = before, start_new - (start_old - before)
    while end_old < hi:
        after = a.line_end(end_old)
        lasts = {
            _cell_of(f.line_at(f.line_start(e - 1, floor)))
            for f, p, e in ((a, start_old, end_old), (b, start_new, end_new))
            if p < e
        }
        if _cell_of(a.read(end_old, after)) not in lasts:
            break
        end_old, end_new = after, end_new + (after - end_old)
    return Range(start_old, end_old, start_new, end_new)


def _merge(ranges: list[Range]) -> list[Range]:
    """Ranges that touch (one widened up to the next), joined: the first one's start and
    the last one's end, each found in the same bytes of both files."""
    out: list[Range] = []
    for r in ranges:
        if out and r.old_start <= out[-1].old_end:
            last = out[-1]
            out[-1] = Range(last.old_start, r.old_end, last.new_start, r.new_end)
        else:
            out.append(r)
    return out


def _nonempty(r: Range) -> bool:
    return r.old_end > r.old_start or r.new_end > r.new_start


def _same_size(a: _File, b: _File, floor: int) -> Iterator[Range]:
    """Files of one size: every run of differing blocks, widened to whole lines. Around a
    run the bytes are the same in both files, so a line boundary found there in one file is
    one in the other."""
    runs: list[list[int]] = []
    for index, (x, y) in enumerate(zip(a.blocks(), b.blocks(), strict=True)):
        if x != y:
            start = index * a.block
            if runs and runs[-1][1] == start:
                runs[-1][1] = start + len(x)
            else:
                runs.append([start, start + len(x)])
    merged: list[list[int]] = []
    for start, end in runs:
        lo, hi = a.line_start(start, floor), a.line_end(end)
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    for lo, hi in merged:
        yield Range(lo, hi, lo, hi)


def _shifted(a: _File, b: _File, floor: int) -> list[Range] | None:
    """Files of different sizes (lines added or removed): each block of the old file is
    looked for in the new one, first where the bytes before it put it, then a few blocks
    around; a block found is the same bytes in both, and the ranges are what lies between
    them. The found blocks keep their order, so the ranges never overlap."""
    window = 4 * a.block
    found: list[tuple[int, int, int]] = []  # (old start, new start, length): the same bytes
    shift, new_from = 0, 0  # new offset - old offset of the last block found; its end in new
    for index, block in enumerate(a.blocks()):
        old = index * a.block
        at = old + shift
        if at >= new_from and b.read(at, at + len(block)) == block:
            hit = at
        else:
            lo = max(new_from, at - window)
            hit = b.read(lo, at + window + len(block)).find(block)
            hit = -1 if hit < 0 else lo + hit
        if hit >= 0:
            found.append((old, hit, len(block)))
            shift, new_from = hit - old, hit + len(block)
    ranges: list[Range] = []
    old_end, new_end, before = 0, 0, 0  # the last same stretch: its end in each file, length
    for old, new, length in [*found, (a.size, b.size, 0)]:
        if old > old_end or new > new_end:
            lo = a.line_start(max(old_end, floor), floor)
            hi = a.line_end(old) if old < a.size else a.size
            if old_end - lo > before or (old < a.size and hi - old > length):
                return None  # a line end outside the same bytes: lines longer than a block
            ranges.append(
                Range(
                    lo, hi, new_end - (old_end - lo), new + (hi - old) if old < a.size else b.size
                )
            )
        old_end, new_end, before = old + length, new + length, length
    return ranges
