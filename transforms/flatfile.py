"""Reading BLS time-series flat files: tab-delimited, space-padded, CRLF or LF, read by name.

Each file has a schema: the columns a load needs (required), the ones it keeps when present
(optional) and the ones it knows and does not load (ignored). Columns are found by their
names wherever they stand; a column no schema names is schema drift, reported and skipped.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from bls_refresh.errors import ValidationError
from transforms.columns import Columns, by_name, normalise


@dataclasses.dataclass(frozen=True)
class FlatSchema:
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()

    def matches(self, header: list[str]) -> bool:
        """Whether a header (normalised names) holds every required column of this file."""
        return set(self.required) <= set(header)


def header_of(path: Path) -> list[str]:
    """Column names of a flat file, padding and line end stripped.

    Names must be UTF-8; a byte that is not (a cp1252 file, say) fails here, naming the file.
    """
    with path.open("rb") as fh:
        first = fh.readline()
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            path.name, "UTF-8 text", f"the header line is not UTF-8 ({exc.reason})"
        ) from exc
    return [name.strip() for name in text.rstrip("\r\n").split("\t")]


def columns_of(path: Path, label: str, schema: FlatSchema) -> Columns:
    """Where the schema's columns stand in ``path``'s header (ValidationError if one is missing)."""
    return by_name(
        header_of(path),
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

    Optional columns absent from the file are absent from the frame too.
    """
    columns = columns_of(path, label, schema)
    try:
        frame = pd.read_csv(
            path,
            sep="\t",
            dtype=str,
            keep_default_na=False,
            header=None,
            skiprows=1,
            names=range(len(columns.header)),
            quoting=3,  # csv.QUOTE_NONE: BLS titles contain quote characters
            encoding="utf-8",
        )
    except UnicodeDecodeError as exc:
        # Never publish replacement characters: a name BLS wrote must arrive as written.
        raise ValidationError(
            label,
            "UTF-8 text",
            f"{exc.reason} ({exc.object[exc.start : exc.start + 1]!r}): the file is not UTF-8 "
            "(it may have been saved in another encoding)",
        ) from exc
    frame = frame[list(columns.positions.values())]
    frame.columns = list(columns.positions)
    for column in frame.columns:
        frame[column] = frame[column].str.strip()
    if frame.empty:
        raise ValidationError(label, "not empty", "the file has a header but no rows")
    return FlatFile(frame, columns.unknown)


def require_unique(frame: pd.DataFrame, key: str, label: str) -> None:
    dupes = frame[frame.duplicated(key, keep=False)]
    if not dupes.empty:
        examples = [" | ".join(map(str, r)) for r in dupes.head(5).itertuples(index=False)]
        raise ValidationError(label, f"unique {key}", f"{len(dupes)} rows share a {key}", examples)
