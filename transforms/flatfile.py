"""Reading BLS time-series flat files: tab-delimited, space-padded, CRLF or LF."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bls_refresh.errors import ValidationError


def header_of(path: Path) -> list[str]:
    """Column names of a flat file, padding and line end stripped."""
    with path.open("rb") as fh:
        first = fh.readline().decode("utf-8", "replace")
    return [name.strip() for name in first.rstrip("\r\n").split("\t")]


def check_header(
    path: Path, label: str, expected: tuple[str, ...], optional: tuple[str, ...] = ()
) -> list[str]:
    """Raise a ValidationError unless the header is exactly ``expected`` (+ known optionals)."""
    got = header_of(path)
    if got[: len(expected)] != list(expected) or any(
        c not in optional for c in got[len(expected) :]
    ):
        missing = [c for c in expected if c not in got]
        extra = [c for c in got if c not in expected and c not in optional]
        detail = f"expected columns {list(expected)}, got {got}"
        if missing:
            detail += f"; missing {missing}"
        if extra:
            detail += f"; unexpected {extra}"
        raise ValidationError(label, "exact headers", detail)
    return got


def read_flat_file(
    path: Path, label: str, expected: tuple[str, ...], optional: tuple[str, ...] = ()
) -> pd.DataFrame:
    """A small lookup file as strings: names and cells stripped, nothing parsed as NA."""
    check_header(path, label, expected, optional)
    frame = pd.read_csv(
        path,
        sep="\t",
        dtype=str,
        keep_default_na=False,
        quoting=3,  # csv.QUOTE_NONE: BLS titles contain quote characters
        encoding="utf-8",
        encoding_errors="replace",
    )
    frame.columns = [c.strip() for c in frame.columns]
    for column in frame.columns:
        frame[column] = frame[column].str.strip()
    if frame.empty:
        raise ValidationError(label, "not empty", "the file has a header but no rows")
    return frame


def require_unique(frame: pd.DataFrame, key: str, label: str) -> None:
    dupes = frame[frame.duplicated(key, keep=False)]
    if not dupes.empty:
        examples = [" | ".join(map(str, r)) for r in dupes.head(5).itertuples(index=False)]
        raise ValidationError(label, f"unique {key}", f"{len(dupes)} rows share a {key}", examples)
