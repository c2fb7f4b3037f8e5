"""Quoting for the SQL we build: one place, used by every module that writes SQL text.

Values a person gives (a code, a name) go into queries as parameters, never through these.
These are for what DuckDB does not take as a parameter, or plans worse when given one: file
paths in ``read_parquet``/``COPY … TO``, ENUM and list literals, scope values written into a
filter so DuckDB can push them into a DuckLake scan, and identifiers such as schema names.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def string(value: str | Path) -> str:
    """A SQL string literal: ``'it''s'``."""
    return "'" + str(value).replace("'", "''") + "'"


def ident(name: str) -> str:
    """A quoted SQL identifier: ``"2026-11-28.1"``."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: int | str) -> str:
    """A scope value (a year, a cycle, a SOC version) as a SQL literal."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"scope values are integers or text, got {value!r}")
    return str(value) if isinstance(value, int) else string(value)


def string_list(values: Iterable[str]) -> str:
    """A SQL list of string literals: ``['a', 'b']``."""
    return "[" + ", ".join(string(v) for v in values) + "]"


def read_parquet(path: str | Path) -> str:
    """``read_parquet('<path>')`` as a FROM item."""
    return f"read_parquet({string(path)})"
