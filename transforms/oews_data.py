"""``oe.data.0.Current`` as both of its passes read it: the same columns, the same rules.

The staging pass (:mod:`transforms.oews_staging`) and the diagnostic pass that explains a
failed check (:mod:`transforms.oews_diagnose`) read the raw file through one ``read_csv``
expression (:class:`RawData`: every column as text, found by name) and read a value with one
set of SQL conditions (:data:`AS_NUMBER`, :data:`IS_DASH`, :data:`IS_TOP_CODED`,
:data:`IS_NOT_RELEASED`), so a row one pass accepts the other accepts too.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from core import sql
from transforms.flatfile import columns_of
from transforms.oews_lookups import (
    DATA_FILE,
    FOOTNOTE_NOT_RELEASED,
    FOOTNOTE_TOP_CODED,
    SCHEMAS,
)

# The data file's one check for "can it be read as tab-delimited UTF-8 text at all": bytes
# that are not UTF-8 (the lookups' rule and message) or a line DuckDB cannot split.
DATA_READABLE = "readable tab-delimited file"


def data_label(data_path: Path) -> str:
    """How messages name the data file (a raw-store copy is named by its sha256)."""
    return data_path.name if data_path.name.startswith("oe.") else DATA_FILE


# The raw columns, exactly as BLS wrote them (padding kept: substr and casts do not need it
# gone, and trimming 6 M strings is a third of the cost of the pass).
@dataclasses.dataclass(frozen=True)
class RawData:
    """The data file and its columns by name: known ones under their own names wherever
    they stand, any other under ``extra_<position>`` (read, never used)."""

    path: Path
    names: tuple[str, ...]
    unknown: tuple[str, ...]  # header cells of the extra columns, as BLS wrote them

    @classmethod
    def of(cls, path: Path, label: str) -> RawData:
        columns = columns_of(path, label, SCHEMAS[DATA_FILE])
        by_position = {index: name for name, index in columns.positions.items()}
        names = tuple(by_position.get(i, f"extra_{i}") for i in range(len(columns.header)))
        return cls(path, names, tuple(columns.unknown))

    def read(self, *, literal: bool = False) -> str:
        """The ``read_csv`` expression; ``literal`` puts the path in (views take no
        parameters), else it is the ``$data`` parameter."""
        source = sql.string(self.path) if literal else "$data"
        return (
            f"read_csv({source}, delim = '\t', header = true, quote = '', escape = '', "
            f"names = {sql.string_list(self.names)}, all_varchar = true, null_padding = true)"
        )


# A value BLS writes as a number: digits, at most one point and three decimals, blanks
# around it (values are right-justified). DuckDB's own cast is looser: it reads '- ' as 0,
# '1_000' and '1e3' as 1000, and rounds a fourth decimal away. Such a value is no number
# here, so the diagnostic pass names it instead of a zero or a rounded figure landing.
IS_NUMBER = r"regexp_full_match(value, ' *[0-9]+(\.[0-9]{1,3})? *')"
AS_NUMBER = f"CASE WHEN {IS_NUMBER} THEN TRY_CAST(value AS DECIMAL(18,3)) END"
IS_DASH = "trim(value) = '-'"  # right-justified: '           -'
# A footnote code is matched whole: "5" must not match "15".
IS_TOP_CODED = f"regexp_matches(footnote_codes, '(^|[^0-9]){FOOTNOTE_TOP_CODED}([^0-9]|$)')"
IS_NOT_RELEASED = f"regexp_matches(footnote_codes, '(^|[^0-9]){FOOTNOTE_NOT_RELEASED}([^0-9]|$)')"
