"""Reading BLS time-series flat files: tab-delimited, space-padded, CRLF or LF, read by name.

Each file has a schema: the columns a load needs (required), the ones it keeps when present
(optional) and the ones it knows and does not load (ignored). Columns are found by their
names wherever they stand; a column no schema names is schema drift, reported and skipped.

One decoding rule for every flat file (lookups, the data file, whatever ``detect`` reads):
the bytes must be UTF-8, with or without a leading UTF-8 byte-order mark (which is not part
of the first column's name). Nothing guesses another encoding: a file that is not UTF-8 is
refused, naming the byte offset, line and column of its first bad byte and the bytes around
it, so a person can see what the file is (:func:`require_utf8`).
"""

from __future__ import annotations

import codecs
import dataclasses
import re
from pathlib import Path

import pandas as pd

from core.errors import ValidationError
from transforms.columns import Columns, by_name, normalise


@dataclasses.dataclass(frozen=True)
class FlatSchema:
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()

    def matches(self, header: list[str]) -> bool:
        """Whether a header (normalised names) holds every required column of this file."""
        return set(self.required) <= set(header)


UTF8_BOM = codecs.BOM_UTF8
_CHUNK = 4 << 20  # read size of the UTF-8 check: large enough that the check is I/O-bound
_CONTEXT = 24  # bytes shown on each side of a bad byte


def _not_utf8(
    path: Path, label: str, offset: int, reason: str, check: str = "UTF-8 text"
) -> ValidationError:
    """The refusal for a byte at ``offset`` that does not decode: where it is, what is around
    it (as Python bytes, so the bad byte is visible), and what to do."""
    with path.open("rb") as fh:
        line, start = 1, 0  # line number of ``offset``, and where that line starts
        position = 0
        while position < offset:
            chunk = fh.read(min(_CHUNK, offset - position))
            if not chunk:
                break
            newlines = chunk.count(b"\n")
            if newlines:
                line += newlines
                start = position + chunk.rindex(b"\n") + 1
            position += len(chunk)
        fh.seek(max(start, offset - _CONTEXT))
        before = fh.read(offset - fh.tell())
        after = fh.read(_CONTEXT + 1)
    bad = after[:1]
    after = re.split(rb"[\r\n]", after, maxsplit=1)[0]  # the bad byte's line, not the next one
    hint = ""
    if offset == 0 and bad in (b"\xff", b"\xfe"):
        hint = " (the file starts with a UTF-16 byte-order mark)"
    return ValidationError(
        label,
        check,
        f"byte {offset:,} (line {line:,}, column {offset - start + 1:,}) is 0x{bad.hex().upper()}, "
        f"which is not UTF-8 ({reason}){hint}: {before + after!r}; the file is in another "
        "encoding (BLS publishes UTF-8) and nothing from it was loaded: fetch it again or save "
        "it as UTF-8",
    )


def require_utf8(path: Path, label: str, *, check: str = "UTF-8 text") -> None:
    """Refuse ``path`` unless every byte of it is UTF-8 (a leading UTF-8 BOM is allowed).

    ``check`` names the check in the message (the data file reports it as one case of
    "readable tab-delimited file"); the rule and the detail are the same for every file.

    Streams the file in 4 MB chunks: an ASCII chunk (nearly every chunk of a BLS file) is
    confirmed by ``bytes.isascii`` without decoding, so the check costs about one read of
    the file. A character split across two chunks is carried by the incremental decoder.
    """
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    offset = 0  # of the current chunk's first byte
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            pending = len(decoder.getstate()[0])
            if pending or not chunk.isascii():
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    # exc.start counts from the bytes the decoder held back from the last chunk
                    at = offset - pending + exc.start
                    raise _not_utf8(path, label, at, exc.reason, check) from None
            offset += len(chunk)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:  # the file ends inside a character
        pending = len(exc.object)
        raise _not_utf8(path, label, offset - pending + exc.start, exc.reason, check) from None


def header_of(path: Path, label: str | None = None) -> list[str]:
    """Column names of a flat file, padding, line end and a leading UTF-8 BOM stripped.

    Only the header line is decoded here (``detect`` needs no more); a byte in it that is
    not UTF-8 is refused by the same rule as a whole file (:func:`require_utf8`).
    """
    with path.open("rb") as fh:
        first = fh.readline()
    try:
        text = first.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, label or path.name, exc.start, exc.reason) from None
    # The BOM is an encoding mark, not text: left in, it would become part of the first
    # column's name and the header would look right in a message yet match nothing.
    text = text.removeprefix("\ufeff")
    return [name.strip() for name in text.rstrip("\r\n").split("\t")]


def columns_of(path: Path, label: str, schema: FlatSchema) -> Columns:
    """Where the schema's columns stand in ``path``'s header (ValidationError if one is missing)."""
    return by_name(
        header_of(path, label),
        label,
        required=schema.required,
        optional=schema.optional,
        ignored=[normalise(c) for c in schema.ignored],
    )


@dataclasses.dataclass(frozen=True)
class FlatFile:
    frame: pd.DataFrame  # the schema's columns present in the file, as stripped strings
    unknown: list[str]  # header cells no column of the schema claims (schema drift)


def read_flat_file(path: Path, label: str, schema: FlatSchema) -> FlatFile:
    """A small lookup file as strings: names and cells stripped, nothing parsed as NA.

    Optional columns absent from the file are absent from the frame too. The whole file is
    checked to be UTF-8 first: never publish replacement characters, a name BLS wrote must
    arrive as written.
    """
    require_utf8(path, label)
    columns = columns_of(path, label, schema)
    width = len(columns.header)
    try:
        frame = pd.read_csv(
            path,
            sep="\t",
            dtype=str,
            keep_default_na=False,
            header=None,
            skiprows=1,  # the header line, BOM included
            # One field more than the header: a trailing tab is harmless, and a line with a
            # field too many is found below. ``index_col=False``: pandas would otherwise make
            # the first field of such lines the row index, shifting every column left.
            names=range(width + 1),
            index_col=False,
            quoting=3,  # csv.QUOTE_NONE: BLS titles contain quote characters
            encoding="utf-8",
            encoding_errors="strict",
        )
    except pd.errors.ParserError as exc:  # two fields or more beyond the header
        raise ValidationError(label, FIELDS_MATCH_HEADER, _parser_problem(exc, width)) from exc
    spill = frame[width].str.strip() != ""
    if spill.any():
        lines = [int(i) + 2 for i in frame.index[spill][:5]]  # 1-based, after the header
        raise ValidationError(
            label,
            FIELDS_MATCH_HEADER,
            f"{int(spill.sum())} lines have more fields than the header's {width} "
            "(a column without a name, or a tab inside a value)",
            [f"line {n}: " + " | ".join(frame.loc[n - 2].tolist()) for n in lines],
        )
    frame = frame[list(columns.positions.values())]
    frame.columns = list(columns.positions)
    for column in frame.columns:
        frame[column] = frame[column].str.strip()
    if frame.empty:
        raise ValidationError(label, "not empty", "the file has a header but no rows")
    return FlatFile(frame, columns.unknown)


FIELDS_MATCH_HEADER = "lines have the header's fields"


def _parser_problem(exc: pd.errors.ParserError, width: int) -> str:
    """pandas' "Expected 5 fields in line 7, saw 7" in the terms of the header."""
    found = re.search(r"line (\d+), saw (\d+)", str(exc))
    if found is None:
        return str(exc).strip()
    line, saw = found.groups()
    return f"line {line} has {saw} fields, the header {width}"


def require_unique(frame: pd.DataFrame, key: str, label: str) -> None:
    dupes = frame[frame.duplicated(key, keep=False)]
    if not dupes.empty:
        examples = [" | ".join(map(str, r)) for r in dupes.head(5).itertuples(index=False)]
        raise ValidationError(label, f"unique {key}", f"{len(dupes)} rows share a {key}", examples)
