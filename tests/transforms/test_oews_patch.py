"""transforms.oews_patch: the ranges where a republished data file differs, on the sample
mirror's real-layout ``oe.data.0.Current`` (3,043 rows) edited as BLS edits it."""

from __future__ import annotations

from pathlib import Path

import pytest

from transforms.oews_patch import Changes, changed_ranges, write_region

BLOCK = 1024  # small blocks, so a 164 KB file has many


@pytest.fixture
def old(sample_mirror: Path, tmp_path: Path, oe_path: str) -> Path:
    path = tmp_path / "old"
    path.write_bytes((sample_mirror / oe_path / "oe.data.0.Current").read_bytes())
    return path


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def write(tmp_path: Path, lines: list[bytes]) -> Path:
    path = tmp_path / "new"
    path.write_bytes(b"".join(lines))
    return path


def cell(line: bytes) -> bytes:
    return line.split(b"\t", 1)[0].rstrip()[:-2]


def check(old: Path, new: Path, changes: Changes | None) -> Changes:
    """The ranges rebuild ``new`` from ``old``, and each holds whole lines and whole cells."""
    assert changes is not None
    a, b = old.read_bytes(), new.read_bytes()
    rebuilt, pos = b"", 0
    for r in changes.ranges:
        assert pos <= r.old_start
        rebuilt += a[pos : r.old_start] + b[r.new_start : r.new_end]
        pos = r.old_end
        for data, start, end in ((a, r.old_start, r.old_end), (b, r.new_start, r.new_end)):
            assert data[start - 1 : start] == b"\n"
            assert end == len(data) or data[end - 1 : end] == b"\n"
            inside = data[start:end].splitlines()
            if inside:  # the lines just outside belong to other cells
                before = data[:start].splitlines()[-1]
                assert start == len(changes.header) or cell(before) != cell(inside[0])
                after = data[end:].splitlines()[:1]
                assert not after or cell(after[0]) != cell(inside[-1])
    assert rebuilt + a[pos:] == b
    return changes


def edit_value(line: bytes, new_value: bytes) -> bytes:
    sid, year, period, value, foot = line.split(b"\t")
    return b"\t".join([sid, year, period, new_value.rjust(len(value)), foot])


def test_one_value_changed_in_place(old: Path, tmp_path: Path) -> None:
    lines = lines_of(old)
    lines[1500] = edit_value(lines[1500], b"12345")
    new = write(tmp_path, lines)

    changes = check(old, new, changed_ranges(old, new, block=BLOCK))

    (r,) = changes.ranges
    assert r.old_start == r.new_start and r.old_end == r.new_end  # same size, same place
    assert r.old_end - r.old_start < 3 * BLOCK  # a block or two, widened to whole cells
    region = tmp_path / "region"
    written = write_region(new, changes, region, side="new")
    assert region.read_bytes() == changes.header + new.read_bytes()[r.new_start : r.new_end]
    assert written == r.new_end - r.new_start
    assert lines[1500] in region.read_bytes()


def test_lines_added_and_removed_change_the_size(old: Path, tmp_path: Path) -> None:
    lines = lines_of(old)
    removed = [*lines[:700], *lines[701:]]  # one measure of a cell dropped
    check(old, write(tmp_path, removed), changed_ranges(old, tmp_path / "new", block=BLOCK))
    added = [*lines[:900], lines[900].replace(b"\t2024", b"1\t2024", 1), *lines[900:]]
    changes = check(old, write(tmp_path, added), changed_ranges(old, tmp_path / "new", block=BLOCK))
    (r,) = changes.ranges
    assert (r.new_end - r.new_start) - (r.old_end - r.old_start) == len(lines[900]) + 1


def test_a_line_added_and_a_value_changed_far_apart(old: Path, tmp_path: Path) -> None:
    """The sizes differ, and the lines between the two changes are not staged."""
    lines = lines_of(old)
    lines[2900] = edit_value(lines[2900], b"5")
    footnoted = lines[200].rstrip(b"\n") + b"5\n"  # a footnote code added: one byte longer
    new = write(tmp_path, [*lines[:200], footnoted, *lines[201:]])

    changes = check(old, new, changed_ranges(old, new, block=BLOCK))

    assert len(changes.ranges) == 2
    assert changes.new_bytes() - changes.old_bytes() == 1
    assert changes.old_bytes() < 8 * BLOCK  # not the 2,700 lines between them


@pytest.mark.parametrize("gap", [0, 17, 40, 120])
def test_changes_close_together_are_joined_right(old: Path, tmp_path: Path, gap: int) -> None:
    """A line made longer, then ``gap`` lines on, two cells dropped: the ranges widen to
    whole cells and may meet; joined, they must still rebuild the file."""
    lines = lines_of(old)
    longer = lines[1000].rstrip(b"\n") + b"5\n"
    rest = lines[1001 + gap :]
    dropped = {cell(x) for x in rest[:34]}
    kept = [x for x in rest if cell(x) not in dropped]
    new = write(tmp_path, [*lines[:1000], longer, *lines[1001 : 1001 + gap], *kept])

    check(old, new, changed_ranges(old, new, block=BLOCK))


def test_changes_far_apart_give_separate_ranges(old: Path, tmp_path: Path) -> None:
    lines = lines_of(old)
    lines[1] = edit_value(lines[1], b"1")  # the first data line
    lines[1600] = edit_value(lines[1600], b"2")
    lines[-1] = edit_value(lines[-1], b"3")  # the last line
    new = write(tmp_path, lines)

    changes = check(old, new, changed_ranges(old, new, block=BLOCK, max_share=0.5))

    assert len(changes.ranges) == 3
    assert changes.ranges[0].old_start == len(changes.header)
    assert changes.ranges[-1].old_end == old.stat().st_size


def test_unterminated_last_line(old: Path, tmp_path: Path) -> None:
    lines = lines_of(old)
    lines[-1] = edit_value(lines[-1], b"7").rstrip(b"\n")
    old.write_bytes(old.read_bytes().rstrip(b"\n"))
    new = write(tmp_path, lines)

    changes = check(old, new, changed_ranges(old, new, block=BLOCK))

    region = tmp_path / "region"
    write_region(new, changes, region, side="new")
    assert region.read_bytes().endswith(lines[-1] + b"\n")  # ended for the reader


def test_identical_files_have_no_ranges(old: Path, tmp_path: Path) -> None:
    new = write(tmp_path, lines_of(old))
    assert changed_ranges(old, new, block=BLOCK) == Changes(lines_of(old)[0], ())


def test_when_the_whole_file_should_be_staged(old: Path, tmp_path: Path) -> None:
    lines = lines_of(old)
    renamed = [lines[0].replace(b"footnote_codes", b"footnote_code"), *lines[1:]]
    assert changed_ranges(old, write(tmp_path, renamed), block=BLOCK) is None  # header
    rewritten = [lines[0], *(edit_value(x, b"9") for x in lines[1:])]
    assert changed_ranges(old, write(tmp_path, rewritten), block=BLOCK) is None  # too much
    assert changed_ranges(old, write(tmp_path, []), block=BLOCK) is None  # empty
