"""Opening a workbook safely: one guard every workbook reader passes before calamine runs.

calamine (the Rust reader behind ``python_calamine``) builds a sheet as one dense grid in
memory, sized by the sheet's first and last cells, and copies a shared string into every
cell that uses it. So a small file can demand any amount of memory, and when an
allocation fails Rust aborts the whole process (no exception, no message, no release
notes). Measured here with calamine 0.9.1:

* a 2 MB ``.xlsx`` whose sheet part unpacks to 2 GB took 2.4 GB of RAM (a zip bomb);
* a 5 KB ``.xlsx`` with two cells, ``A1`` and ``XFD1048576``, asked for 549 GB and aborted;
* a 530 KB ``.xlsx`` whose 100,000 cells all use one 32,000-character shared string took
  3.1 GB;
* a real ``.xls`` with one cell record moved to row 65,535, column 65,535 asked for 137 GB,
  and one whose ``DIMENSIONS`` record was enlarged asked for 11 PB (calamine reserves what
  that record declares).

:func:`check_workbook` therefore reads the file's structure first, without calamine, and
refuses it (``ValidationError``, check ``workbook size limits``) when one of these is over
its limit:

``.xlsx`` (a zip of XML parts), before anything is unpacked:
  each part's declared unpacked size (:data:`MAX_PART_BYTES`), the parts' total
  (:data:`MAX_WORKBOOK_BYTES`), a part's compression ratio (:data:`MAX_RATIO`, for parts
  over :data:`RATIO_FROM_BYTES`), and the compression method (stored or deflate: what
  every spreadsheet writer uses);
``.xlsx``, unpacking each part as a stream (never more than its declared size plus one
chunk): that it unpacks to exactly its declared size and CRC; then, per worksheet, the
  grid calamine would allocate (:data:`MAX_CELLS`) and the text its cells would hold once
  shared strings are resolved (:data:`MAX_TEXT_BYTES`);
``.xls`` (an OLE compound file): the file size (:data:`MAX_XLS_BYTES`), then per sheet the
  grid its ``DIMENSIONS`` record declares and the one its cell records span
  (:data:`MAX_CELLS`), and its shared-string text (:data:`MAX_TEXT_BYTES`).

The limits are far above every real BLS workbook (the largest sample, a by-industry
national file, is 8.4 MB unpacked with 265,010 cells in a 9,439 × 29 grid; BLS's biggest
product, the all-areas-and-industries file, is about 13 million cells) and far below what
the machine running a refresh has. A zip of a zip (a special-request download) is bounded
first by the raw store's member limit (``transforms.oews_special.MAX_MEMBER_BYTES``), then
each workbook member by this guard.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import re
import struct
import xml.parsers.expat
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from python_calamine import CalamineWorkbook

from core.errors import ValidationError

MB = 1024 * 1024
MAX_PART_BYTES = 512 * MB  # one unpacked part of an .xlsx (the same bound as a zip member)
MAX_WORKBOOK_BYTES = 1024 * MB  # all unpacked parts of one .xlsx together
MAX_RATIO = 200  # unpacked : packed, for a part over RATIO_FROM_BYTES (real parts: ≤ 26)
RATIO_FROM_BYTES = 1 * MB  # a smaller part cannot take much memory, whatever its ratio
MAX_CELLS = 20_000_000  # rows × columns of the grid calamine allocates for one sheet
MAX_TEXT_BYTES = 512 * MB  # text of one sheet's cells, shared strings counted per use
MAX_XLS_BYTES = 512 * MB  # a whole .xls file (BIFF8 sheets hold ≤ 65,536 × 256 cells)

CHECK = "workbook size limits"
# What Python's zipfile raises for a damaged archive: an offset past the end (OSError), an
# unknown version or method (NotImplementedError), a truncated member (EOFError), …
ZIP_ERRORS = (zipfile.BadZipFile, OSError, NotImplementedError, EOFError, ValueError)
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_READ = 1 * MB  # packed bytes read at a time while unpacking, and unpacked bytes produced


def open_workbook(
    source: Path | bytes, label: str, *, name: str | None = None, check: str = "readable workbook"
) -> CalamineWorkbook:
    """The guard, then calamine. ``label`` names the file in messages, ``name`` the member
    of a zip it came from; a file calamine cannot read fails ``check``."""
    check_workbook(source, label, name=name, check=check)
    with reader_errors(label, check, f"{name}: " if name else ""):
        if isinstance(source, Path):
            return CalamineWorkbook.from_path(str(source))
        return CalamineWorkbook.from_filelike(io.BytesIO(source))


def _is_reader_failure(exc: BaseException) -> bool:
    """An error of calamine's: its own exception types, or a panic of its Rust code, which
    pyo3 raises as ``PanicException``, a BaseException no ``except Exception`` catches (a
    damaged .xls whose sheet offset points past the file does that)."""
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


@contextlib.contextmanager
def reader_errors(label: str, check: str, where: str = "") -> Iterator[None]:
    """calamine's failures inside the block (opening a file, reading a sheet, which it does
    only when asked) as ValidationError naming the file and ``check``."""
    try:
        yield
    except ValidationError:
        raise
    except BaseException as exc:
        if not _is_reader_failure(exc):
            raise
        raise ValidationError(label, check, f"{where}{type(exc).__name__}: {exc}") from exc


def sheet_rows(
    book: CalamineWorkbook, sheet: str, label: str, check: str = "readable workbook", **options: Any
) -> list[list[Any]]:
    """A sheet's cells (calamine's ``to_python(**options)``); a sheet it cannot read fails
    ``check`` naming the file and the sheet."""
    with reader_errors(label, check, f"sheet '{sheet}': "):
        rows: list[list[Any]] = book.get_sheet_by_name(sheet).to_python(**options)
        return rows


def check_workbook(
    source: Path | bytes,
    label: str,
    *,
    name: str | None = None,
    check: str = "readable workbook",
) -> None:
    """Refuse a workbook that would take more memory to read than the limits allow
    (check ``workbook size limits``), or whose structure cannot be read (``check``).

    Anything that is neither a zip nor an OLE file is left to calamine (it refuses it).
    """
    guard = _Guard(label, name, check)
    if isinstance(source, Path):
        with source.open("rb") as fh:
            head = fh.read(8)
            if head.startswith(b"PK"):
                guard.xlsx(fh)
            elif head == OLE2_MAGIC:
                size = source.stat().st_size
                guard.xls_size(size)
                fh.seek(0)
                guard.xls(fh.read())
        return
    if source.startswith(b"PK"):
        guard.xlsx(io.BytesIO(source))
    elif source[:8] == OLE2_MAGIC:
        guard.xls_size(len(source))
        guard.xls(source)


@dataclasses.dataclass(frozen=True)
class _Guard:
    label: str
    name: str | None  # the zip member the workbook came from, if any
    unreadable: str  # the check a damaged file fails (each reader names its own)

    def refuse(self, detail: str) -> ValidationError:
        where = f"{self.name}: " if self.name else ""
        return ValidationError(
            self.label,
            CHECK,
            f"{where}{detail}; refused before reading it (a workbook this large would take "
            "more memory than a refresh may use)",
        )

    def damaged(self, detail: str) -> ValidationError:
        where = f"{self.name}: " if self.name else ""
        return ValidationError(self.label, self.unreadable, f"{where}{detail}")

    # ------------------------------------------------------------------------------- .xlsx

    def xlsx(self, fh: IO[bytes]) -> None:
        try:
            self._xlsx(fh)
        except ValidationError:
            raise
        except ZIP_ERRORS as exc:  # a zip's own structures damaged (offsets, versions)
            raise self.damaged(
                f"not a readable zip/xlsx file ({type(exc).__name__}: {exc})"
            ) from exc

    def _xlsx(self, fh: IO[bytes]) -> None:
        archive = zipfile.ZipFile(fh)
        with archive:
            infos = archive.infolist()
            if "xl/workbook.xml" not in {i.filename for i in infos}:
                # calamine would open an .xlsb or .ods too, whose sizes this guard does not
                # read; no BLS workbook is either.
                raise self.damaged("a zip without xl/workbook.xml is not an .xlsx workbook")
            self._declared(infos)
            # Parts are recognised by what they hold, not by their names: calamine finds a
            # sheet through the workbook's relationships, which may name any part. Every
            # part is unpacked once (its size and CRC checked), one at a time; a shared
            # string table is measured, and the parts that hold cells are read again after,
            # when every shared string's length is known.
            shared = _SharedStrings()
            sheets: list[zipfile.ZipInfo] = []
            for info in infos:
                if info.is_dir():
                    continue
                data = b"".join(self._unpacked(fh, info))
                if b"sst" in data and _SST_ROOT.search(data):
                    shared.read(data)
                if b"sheetData" in data:
                    sheets.append(info)
            for info in sheets:
                self._sheet(info, b"".join(self._unpacked(fh, info)), shared)

    def _declared(self, infos: list[zipfile.ZipInfo]) -> None:
        """What the zip's directory declares, checked before a byte is unpacked."""
        total = 0
        for info in infos:
            if info.flag_bits & 0x1:
                raise self.damaged(f"part {info.filename} is encrypted")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise self.damaged(
                    f"part {info.filename} uses compression method {info.compress_type} "
                    "(spreadsheet writers use stored or deflate)"
                )
            if info.file_size > MAX_PART_BYTES:
                raise self.refuse(
                    f"part {info.filename} unpacks to {info.file_size:,} bytes "
                    f"(limit {MAX_PART_BYTES:,})"
                )
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > RATIO_FROM_BYTES and ratio > MAX_RATIO:
                raise self.refuse(
                    f"part {info.filename} unpacks {info.compress_size:,} bytes to "
                    f"{info.file_size:,} (ratio {ratio:,.0f}:1, limit {MAX_RATIO}:1)"
                )
            total += info.file_size
        if total > MAX_WORKBOOK_BYTES:
            raise self.refuse(
                f"its parts unpack to {total:,} bytes together (limit {MAX_WORKBOOK_BYTES:,})"
            )

    def _unpacked(self, fh: IO[bytes], info: zipfile.ZipInfo) -> Iterator[bytes]:
        """The part's bytes, unpacked from its raw data as a stream: it must end at exactly
        its declared size with its CRC (zipfile's own reader would stop at the declared size
        and never see a stream that goes on, which calamine might read to its end)."""
        fh.seek(info.header_offset)
        header = fh.read(30)
        if len(header) != 30 or header[:4] != b"PK\x03\x04":
            raise self.damaged(f"part {info.filename}: bad local header")
        name_length, extra_length = struct.unpack("<HH", header[26:30])
        fh.seek(info.header_offset + 30 + name_length + extra_length)
        remaining = info.compress_size
        produced, crc = 0, 0
        inflate = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
        pending = b""
        while True:
            if not pending:
                if remaining <= 0:
                    break
                pending = fh.read(min(_READ, remaining))
                remaining -= len(pending)
                if not pending:
                    raise self.damaged(f"part {info.filename} is cut short")
            try:
                out = inflate.decompress(pending, _READ) if inflate else pending
            except zlib.error as exc:
                raise self.damaged(f"part {info.filename} is damaged ({exc})") from exc
            pending = inflate.unconsumed_tail if inflate else b""
            produced += len(out)
            if produced > info.file_size:
                raise self.refuse(
                    f"part {info.filename} unpacks to more than the {info.file_size:,} bytes "
                    "its zip entry declares"
                )
            crc = zlib.crc32(out, crc)
            if out:
                yield out
            if inflate is not None and inflate.eof:
                break
        if (inflate is not None and not inflate.eof) or produced != info.file_size:
            raise self.damaged(
                f"part {info.filename} unpacks to {produced:,} bytes, its zip entry declares "
                f"{info.file_size:,}"
            )
        if crc != info.CRC:
            raise self.damaged(f"part {info.filename} fails its CRC check")

    def _sheet(self, info: zipfile.ZipInfo, xml: bytes, shared: _SharedStrings) -> None:
        grid = _fast_grid(xml, shared)
        if grid is None:  # an unusual way of writing cells: read it as XML, exactly
            grid = _exact_grid(xml, shared, self.damaged, info.filename)
        self.grid(f"sheet {info.filename}", grid)

    def grid(self, sheet: str, grid: _Grid) -> None:
        if grid.cells > MAX_CELLS:
            raise self.refuse(
                f"{sheet} spans {grid.rows:,} rows × {grid.columns:,} columns = "
                f"{grid.cells:,} cells (limit {MAX_CELLS:,})"
            )
        if grid.text > MAX_TEXT_BYTES:
            raise self.refuse(
                f"{sheet} holds {grid.text:,} bytes of text once its shared strings are "
                f"copied into its cells (limit {MAX_TEXT_BYTES:,})"
            )

    # -------------------------------------------------------------------------------- .xls

    def xls_size(self, size: int) -> None:
        if size > MAX_XLS_BYTES:
            raise self.refuse(f"the .xls file is {size:,} bytes (limit {MAX_XLS_BYTES:,})")

    def xls(self, data: bytes) -> None:
        try:
            streams = _ole_streams(data, ("workbook", "book"))
        except _Damaged as exc:
            raise self.damaged(f"not a readable .xls file ({exc})") from None
        for stream in streams:  # none: calamine refuses the file itself
            for sheet, grid in _biff_grids(stream):
                self.grid(sheet, grid)


# ---------------------------------------------------------------------------------- grids


@dataclasses.dataclass(frozen=True)
class _Grid:
    rows: int  # the highest row a cell uses (1-based), i.e. the grid's height from row 1
    columns: int
    # Bytes of shared-string text copied into the cells (an upper bound). Text written in
    # the cells themselves is bounded by the part's or the file's size already.
    text: int

    @property
    def cells(self) -> int:
        return self.rows * self.columns


class _Damaged(Exception):
    pass


_SST_ROOT = re.compile(rb"<(?:[\w.-]+:)?sst[\s/>]")  # a shared string table's root element


class _SharedStrings:
    """An upper bound of each shared string's length in bytes: the raw XML of its ``<si>``
    element (unescaping only shortens text; calamine expands no custom entity). Should a
    workbook hold several tables, each index is bounded by the longest of its strings."""

    _SI = re.compile(rb"<(?:[\w.-]+:)?si[\s/>]")

    def __init__(self) -> None:
        self.lengths: list[int] = []

    def read(self, xml: bytes) -> None:
        starts = [m.start() for m in self._SI.finditer(xml)]
        ends = [*starts[1:], len(xml)]
        found = [end - start for start, end in zip(starts, ends, strict=True)]
        short, long_ = sorted((self.lengths, found), key=len)
        self.lengths = [max(a, b) for a, b in zip(short, long_, strict=False)] + long_[len(short) :]

    def longest(self) -> int:
        return max(self.lengths, default=0)

    def length(self, index: int) -> int:
        """The bound for string ``index`` (0 for an index past the table: calamine fails)."""
        return self.lengths[index] if 0 <= index < len(self.lengths) else 0


# The fast reading relies on how every spreadsheet writer lays out a sheet: each cell tag
# written ``<c r="B7" …>`` and each row tag ``<row r="7" …>``, unprefixed. Counting tags by
# their first bytes proves that (every other tag that starts with ``<c`` / ``<row`` in a
# worksheet is one of these); if the counts disagree, the exact reader decides.
_OTHER_C_TAGS = (b"<col", b"<cf", b"<con", b"<cu", b"<ce")  # cols, cfRule, conditional…
_PREFIXED = re.compile(rb":(?:c|row)[\s/>]")  # <x:c …>, <x:row …>
_SHARED_CELL = re.compile(  # a shared-string cell and its index, as writers lay it out
    rb'<c r="[A-Za-z]+\d+"(?: s="\d+")? t="s"(?: s="\d+")?(?: cm="\d+")?>\s*<v>\s*(\d+)\s*</v>'
)


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + letter - 64
    return number


def _fast_grid(xml: bytes, shared: _SharedStrings) -> _Grid | None:
    """The grid from the cells' own positions, by byte counts and a few searches over the
    raw XML (about 0.1 s for a 10 MB sheet). None when the sheet is not laid out as the
    fast reading needs (the exact reader decides then)."""
    cells = xml.count(b'<c r="')
    if xml.count(b"<c") != cells + sum(xml.count(tag) for tag in _OTHER_C_TAGS):
        return None  # a cell without r, or with r not first: positions follow other cells
    if xml.count(b"<row") != xml.count(b'<row r="') + xml.count(b"<rowBreaks"):
        return None
    if _PREFIXED.search(xml):
        return None
    columns = _max_column(xml)
    rows = _max_row(xml, columns)
    if rows * columns > MAX_CELLS:  # before refusing, the exact numbers (not bounds)
        columns = _max_column(xml, exact=True)
        rows = _max_row(xml, columns)
    text = cells * shared.longest()  # every cell a shared string at the longest one
    if text > MAX_TEXT_BYTES:  # that bound is not enough: count each cell's own string
        typed = xml.count(b't="s"')  # also counts text that merely reads t="s": then exact
        if b"t='" in xml or b"t =" in xml or b"t= " in xml:
            return None
        found, text = 0, 0
        for match in _SHARED_CELL.finditer(xml):  # a running sum: no list of every cell
            found += 1
            text += shared.length(int(match.group(1)))
        if found != typed:
            return None
    return _Grid(rows, columns, text)


def _max_column(xml: bytes, *, exact: bool = False) -> int:
    """The highest column any cell names, reading only the letters that can be highest
    (with single letters only, Z bounds it unless ``exact``)."""
    for width in (3, 2):
        if re.search(rb'<c r="[A-Za-z]{%d}' % width, xml):
            pattern = rb'<c r="([A-Za-z]+)' if width == 3 else rb'<c r="([A-Za-z]{2})\d'
            return max(_column_number(c) for c in set(re.findall(pattern, xml)))
    if exact:
        return max(map(_column_number, set(re.findall(rb'<c r="([A-Za-z])', xml))), default=0)
    return 26 if b'<c r="' in xml else 0


def _max_row(xml: bytes, columns: int) -> int:
    """The highest row any cell names: from the row tags when no cell's row number has
    more digits than theirs (then bounded by the largest number of that many digits),
    else, or when that bound is too loose for the limit, from every cell."""
    top = max(map(int, re.findall(rb'<row r="(\d+)"', xml)), default=0)
    digits = len(str(top))
    if not re.search(rb'<c r="[A-Za-z]*\d{%d}' % (digits + 1), xml):
        bound = 10**digits - 1
        if bound * columns <= MAX_CELLS:
            return bound
    return max(map(int, set(re.findall(rb'<c r="[A-Za-z]*(\d+)', xml))), default=0)


def _exact_grid(
    data: bytes, shared: _SharedStrings, damaged: Callable[[str], ValidationError], part: str
) -> _Grid:
    """The grid as calamine positions cells: a row's ``r`` sets the row, else the next row;
    a cell's ``r`` sets its place, else it follows the previous cell of its row. Slower
    than :func:`_fast_grid` (a Python call per element), so only for unusual writers."""
    state = {"row": -1, "col": 0, "rows": 0, "cols": 0, "text": 0}
    shared_cell = False
    value: list[str] | None = None  # the text of a shared-string cell's <v>, while inside it

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal shared_cell, value
        local = tag.rsplit(" ", 1)[-1]
        if local == "row":
            r = attrs.get("r")
            state["row"] = int(r) - 1 if r and r.isdigit() else state["row"] + 1
            state["col"] = 0
        elif local == "c":
            r = attrs.get("r")
            row = state["row"]
            if r:
                letters = r.rstrip("0123456789")
                digits = r[len(letters) :]
                if letters:
                    state["col"] = _column_number(letters.encode()) - 1
                if digits:
                    row = int(digits) - 1
            state["rows"] = max(state["rows"], row + 1)
            state["cols"] = max(state["cols"], state["col"] + 1)
            state["col"] += 1
            shared_cell = attrs.get("t") == "s"
        elif local == "v" and shared_cell:
            value = []

    def end(tag: str) -> None:
        nonlocal value
        if value is not None and tag.rsplit(" ", 1)[-1] == "v":
            index = "".join(value).strip()
            state["text"] += shared.length(int(index)) if index.isdigit() else 0
            value = None

    def text(data: str) -> None:
        if value is not None:
            value.append(data)

    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        raise damaged(f"{part} is not well-formed XML ({exc})") from exc
    return _Grid(state["rows"], state["cols"], state["text"])


# ------------------------------------------------------------------------------- OLE, BIFF

_FREE, _END_OF_CHAIN = 0xFFFFFFFF, 0xFFFFFFFE


def _ole_streams(data: bytes, names: tuple[str, ...]) -> list[bytes]:
    """Every stream named one of ``names`` (case-insensitive) in an OLE compound file (the
    reader's choice among them is not ours to guess: all are checked). Every chain is
    bounded by the file: a loop or an index past the end is "damaged", never a hang."""
    if len(data) < 512 or data[:8] != OLE2_MAGIC:
        raise _Damaged("no OLE header")
    (sector_shift, mini_shift) = struct.unpack_from("<HH", data, 30)
    if sector_shift not in (9, 12) or mini_shift != 6:
        raise _Damaged("unusual sector sizes")
    size = 1 << sector_shift
    n_fat, dir_start = struct.unpack_from("<II", data, 44)
    mini_cutoff, minifat_start, _n_minifat, difat_start, n_difat = struct.unpack_from(
        "<IIIII", data, 56
    )
    sectors = -(-(len(data) - size) // size)  # after the header; the last may be short

    def sector(index: int) -> bytes:
        if index >= sectors:
            raise _Damaged(f"sector {index} past the end of the file")
        offset = (index + 1) * size
        return data[offset : offset + size].ljust(size, b"\xff")  # an unpadded last sector

    fat_sectors = [i for i in struct.unpack_from("<109I", data, 76) if i < 0xFFFFFFFA]
    next_difat, seen = difat_start, 0
    while next_difat < 0xFFFFFFFA and seen <= n_difat:
        ids = struct.unpack(f"<{size // 4}I", sector(next_difat))
        fat_sectors += [i for i in ids[:-1] if i < 0xFFFFFFFA]
        next_difat, seen = ids[-1], seen + 1
    if len(fat_sectors) > max(n_fat, 1) or len(fat_sectors) > sectors:
        raise _Damaged("FAT larger than the file")
    fat: list[int] = []
    for index in fat_sectors:
        fat += struct.unpack(f"<{size // 4}I", sector(index))

    def chain(start: int, table: list[int], limit: int) -> list[int]:
        out: list[int] = []
        current = start
        while current not in (_END_OF_CHAIN, _FREE):
            if current >= len(table) or len(out) > limit:
                raise _Damaged("a sector chain leaves the file or loops")
            out.append(current)
            current = table[current]
        return out

    directory = b"".join(sector(i) for i in chain(dir_start, fat, sectors))
    entries = []
    for offset in range(0, len(directory) - 127, 128):
        entry = directory[offset : offset + 128]
        name_length = struct.unpack_from("<H", entry, 64)[0]
        name = entry[: max(0, min(name_length, 64) - 2)].decode("utf-16-le", "replace")
        kind = entry[66]
        start, length = struct.unpack_from("<II", entry, 116)
        entries.append((name, kind, start, length))
    root = next((e for e in entries if e[1] == 5), None)
    wanted = [e for e in entries if e[1] == 2 and e[0].lower() in names]
    if root is None:
        return []
    bodies = []
    for _, _, start, length in wanted:
        if length >= mini_cutoff:
            body = b"".join(sector(i) for i in chain(start, fat, sectors))
        else:  # a small stream lives in the mini stream, in 64-byte mini sectors
            minifat: list[int] = []
            for index in chain(minifat_start, fat, sectors):
                minifat += struct.unpack(f"<{size // 4}I", sector(index))
            ministream = b"".join(sector(i) for i in chain(root[2], fat, sectors))
            body = b"".join(
                ministream[i * 64 : i * 64 + 64] for i in chain(start, minifat, len(minifat))
            )
        if len(body) < length:
            raise _Damaged("a stream is shorter than its directory entry says")
        bodies.append(body[:length])
    return bodies


# Records that place a cell at (row, column) in their first four bytes (BIFF2 to BIFF8):
# BLANK, INTEGER, NUMBER, LABEL, BOOLERR, FORMULA, RK, LABELSST, RSTRING.
_CELL_RECORDS = frozenset(
    {0x0001, 0x0002, 0x0003, 0x0004, 0x0005, 0x0006, 0x0201, 0x0203, 0x0204, 0x0205}
    | {0x0206, 0x0406, 0x027E, 0x00FD, 0x00D6}
)
_MULTI_RECORDS = frozenset({0x00BD, 0x00BE})  # MULRK, MULBLANK: first and last column
_DIMENSIONS, _LABELSST, _SST, _CONTINUE, _BOUNDSHEET, _BOF, _EOF = (
    0x0200,
    0x00FD,
    0x00FC,
    0x003C,
    0x0085,
    0x0809,
    0x000A,
)


def _records(stream: bytes, start: int) -> Iterator[tuple[int, bytes]]:
    """BIFF records from ``start`` to the substream's EOF record (or the stream's end)."""
    pos = start
    while pos + 4 <= len(stream):
        kind, length = struct.unpack_from("<HH", stream, pos)
        body = stream[pos + 4 : pos + 4 + length]
        pos += 4 + length
        yield kind, body
        if kind == _EOF:
            return


def _biff_grids(stream: bytes) -> Iterator[tuple[str, _Grid]]:
    """Each sheet's grid as calamine reads it: the globals give the shared strings and the
    sheets' offsets (BOUNDSHEET), and each sheet is read from its own offset."""
    sheets: list[tuple[int, str]] = []
    sst: list[bytes] = []
    in_sst = False
    for kind, body in _records(stream, 0):
        if kind == _BOUNDSHEET and len(body) >= 8:
            sheets.append((struct.unpack_from("<I", body)[0], _sheet_name(body)))
        if kind == _SST:
            sst, in_sst = [body[8:]], True  # after the total and unique string counts
        elif kind == _CONTINUE and in_sst:
            sst.append(body)
        else:
            in_sst = False
    lengths, complete = _sst_lengths(sst)
    # Past the strings that could be read, an index may name any string calamine reads:
    # count it at the longest a BIFF string can be (32,767 characters).
    unknown = 0 if complete else 3 * 32_767
    for offset, name in sheets:
        yield from _biff_sheet(stream, offset, name, lengths, unknown)


def _biff_sheet(
    stream: bytes, offset: int, name: str, lengths: list[int], unknown: int
) -> Iterator[tuple[str, _Grid]]:
    """One sheet substream, from its BOF to its EOF (a loop without generators or slices:
    a 10 MB .xls has about a million records)."""
    rows = columns = text = 0
    pos, end = offset, len(stream) - 8  # a record header and a cell's position: 8 bytes
    head, index_of = _RECORD_HEAD.unpack_from, _SST_INDEX.unpack_from
    cell_records, multi_records = _CELL_RECORDS, _MULTI_RECORDS
    while pos <= end:
        kind, length, row, col = head(stream, pos)
        body = pos + 4
        pos = body + length
        if kind in cell_records:
            if length >= 4:
                if row >= rows:
                    rows = row + 1
                if col >= columns:
                    columns = col + 1
                if kind == _LABELSST and length >= 10 and body + 10 <= len(stream):
                    index = index_of(stream, body + 6)[0]
                    text += lengths[index] if index < len(lengths) else unknown
        elif kind in multi_records:
            if length >= 6 and pos <= len(stream):
                last = _LAST_COLUMN.unpack_from(stream, pos - 2)[0]
                rows, columns = max(rows, row + 1), max(columns, last + 1)
        elif kind == _DIMENSIONS:
            declared = _dimensions(stream[body:pos])
            if declared.cells > MAX_CELLS:  # calamine reserves this much up front
                yield f"sheet '{name}' (its DIMENSIONS record)", declared
        elif kind == _EOF:
            break
    yield f"sheet '{name}'", _Grid(rows, columns, text)


_RECORD_HEAD = struct.Struct("<HHHH")  # type, length, then a cell record's row and column
_SST_INDEX = struct.Struct("<I")
_LAST_COLUMN = struct.Struct("<H")


def _sheet_name(body: bytes) -> str:
    """A BOUNDSHEET record's sheet name (for messages only)."""
    length, flags = body[6], body[7]
    if flags & 0x01:
        return body[8 : 8 + 2 * length].decode("utf-16-le", "replace")
    return body[8 : 8 + length].decode("latin-1")


def _dimensions(body: bytes) -> _Grid:
    """The grid a DIMENSIONS record declares (BIFF8: 32-bit rows; earlier: 16-bit)."""
    if len(body) >= 14:
        first_row, last_row, first_col, last_col = struct.unpack_from("<IIHH", body)
    elif len(body) >= 8:
        first_row, last_row, first_col, last_col = struct.unpack_from("<HHHH", body)
    else:
        return _Grid(0, 0, 0)
    # A first index past the last wraps around in an unsigned subtraction: count it whole.
    rows = last_row - first_row if last_row >= first_row else 1 << 32
    columns = last_col - first_col if last_col >= first_col else 1 << 16
    return _Grid(rows, columns, 0)


def _sst_lengths(records: list[bytes]) -> tuple[list[int], bool]:
    """Bytes (UTF-8, upper bound: 3 per character) of each string of the SST, following its
    strings across CONTINUE records (where a string's characters go on after a new
    one-byte flag saying whether they are 8- or 16-bit)."""
    lengths: list[int] = []
    index, pos = 0, 0

    def take(n: int) -> bytes:
        nonlocal index, pos
        out = b""
        while n > 0 and index < len(records):
            piece = records[index][pos : pos + n]
            out += piece
            n -= len(piece)
            pos += len(piece)
            if pos >= len(records[index]):
                index, pos = index + 1, 0
        if n > 0:
            raise _Damaged("the SST ends inside a string")
        return out

    try:
        while index < len(records):
            chars, flags = struct.unpack("<HB", take(3))
            runs = struct.unpack("<H", take(2))[0] if flags & 0x08 else 0
            extra = struct.unpack("<I", take(4))[0] if flags & 0x04 else 0
            width = 2 if flags & 0x01 else 1
            left = chars
            while left > 0:
                if index >= len(records):
                    raise _Damaged("the SST ends inside a string")
                used = min(left, (len(records[index]) - pos) // width)
                take(used * width)
                left -= used
                if left > 0:  # the characters go on in the next CONTINUE, after a flag byte
                    if pos != 0:
                        index, pos = index + 1, 0
                    width = 2 if take(1)[0] & 0x01 else 1
            take(4 * runs + extra)
            lengths.append(3 * chars)
    except _Damaged:
        return lengths, False  # the strings that could be read
    return lengths, True
