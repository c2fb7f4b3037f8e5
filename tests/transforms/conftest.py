"""Fixtures of the transforms tests.

- OEWS time-series files written line by line (``oe_files``: ``series_id``, ``data_line``,
  ``write_data``, ``staged_rows``, …), the sample mirror's lookups parsed (``lookups``), and
  ``stage`` / ``failing``: a tiny ``oe.data.0.Current`` staged, or staged and refused;
- small Employment Projections workbooks (``occupation.xlsx``), the ``ep`` fixture, written
  with the root conftest's ``write_xlsx``.

The Employment Projections workbooks come in the layouts described in
``shared/bls-reference/FORMATS.md`` §4.2:

- the current one (2024–34): sheets ``Index``, ``Table 1.1``, ``Table 1.2``; Table 1.2 has a
  title row, one header row (spelled exactly as in the real August 2025 file), ten real rows
  whose indentation is their depth among the codes present (``code_levels``),
  ``—`` for n/a, top-coded wages and four footnote/source rows;
- the 2014–24 one (December 2015): Table 1.2 with employment and change under a two-row
  header, and Table 1.7 with the self-employed share, wages, openings, education,
  experience and training;
- a 2010–20 workbook in the layout of 2016–26 … 2019–29 (first issue): Table 1.2 with a title
  row and three header rows and Table 1.7 with two, written with merged cells as BLS does
  (``2010 National Employment Matrix title and code`` merged over columns A–B), titles not
  indented, openings a ten-year total as up to 2014–24, the self-employed share in 1.7.

Tests take a copy of the rows (``ep.current_rows()``, ``ep.table_1_2_2014()``, …), break what
they mean to break (``ep.set_cell``, ``ep.drop_code``) and write the workbook into their
``tmp_path`` (``ep.write_current_workbook(path, …)``, …).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import ClassVar

import duckdb
import pandas as pd
import pytest

from core.errors import ValidationError
from extractors.oews import FILES
from transforms.oews import series_id as series_id_of
from transforms.oews_lookups import DATATYPES, OewsLookups, parse_lookups
from transforms.oews_staging import StagedEstimates, stage_estimates

Cell = str | int | float | None
Row = list[Cell]

NA = "—"

# --- current layout (2024–34) ---------------------------------------------------------------

CURRENT_TITLE = (
    "Table 1.2 Occupational projections, 2024–2034, and worker characteristics, 2024 "
    "(Employment in thousands)"
)
CURRENT_HEADER: Row = [
    "2024 National Employment Matrix title",
    "2024 National Employment Matrix code",
    "Occupation type",
    "Employment, 2024",
    "Employment, 2034",
    "Employment distribution, percent, 2024",
    "Employment distribution, percent, 2034",
    "Employment change, numeric, 2024–34",
    "Employment change, percent, 2024–34",
    "Percent self employed, 2024",
    "Occupational openings, 2024–34 annual average",
    "Median annual wage, dollars, 2024[1]",
    "Typical education needed for entry",
    "Work experience in a related occupation",
    "Typical on-the-job training needed to attain competency in the occupation",
    "Related Occupational Outlook Handbook (OOH) content xlsx",
]
# Real rows of the 2024–34 workbook (bls.gov, August 2025), copied cell for cell.
CURRENT_OCCUPATIONS: list[Row] = [
    ["Total, all occupations", "00-0000", "Summary", 169956.1, 175167.9, 100.0, 100.0,
     5211.8, 3.1, 5.8, 18863.3, 49500.0, NA, NA, NA, NA],
    ["  Management occupations", "11-0000", "Summary", 13607.6, 14441.0, 8.0, 8.2,
     833.4, 6.1, 14.1, 1147.9, 122090.0, NA, NA, NA, NA],
    ["    Top executives", "11-1000", "Summary", 4049.9, 4228.1, 2.4, 2.4,
     178.2, 4.4, 2.8, 333.1, 104990.0, NA, NA, NA, NA],
    ["      Legislators", "11-1031", "Line item", 27.7, 28.6, 0.0, 0.0,
     0.9, 3.4, NA, 2.2, 44810.0, "Bachelor's degree", "Less than 5 years", "None", NA],
    ["  Healthcare practitioners and technical occupations", "29-0000", "Summary",
     10067.5, 10794.4, 5.9, 6.2, 726.9, 7.2, 2.4, 634.9, 83090.0, NA, NA, NA, NA],
    ["    Healthcare diagnosing or treating practitioners", "29-1000", "Summary", 6715.1,
     7241.6, 4.0, 4.1, 526.4, 7.8, 3.1, 363.3, 101370.0, NA, NA, NA, NA],
    ["      Physicians", "29-1210", "Summary", 785.6, 807.7, 0.5, 0.5, 22.1, 2.8, 4.2, 22.3,
     ">=$239,200", NA, NA, NA, NA],
    ["        Anesthesiologists", "29-1211", "Line item", 45.3, 46.7, 0.0, 0.0,
     1.4, 3.2, 4.7, 1.3, ">=$239,200", "Doctoral or professional degree", "None",
     "Internship/residency", "OOH Content"],
    ["    Health technologists and technicians", "29-2000", "Summary", 3205.6, 3393.0,
     1.9, 1.9, 187.4, 5.8, 0.6, 261.4, 54270.0, NA, NA, NA, NA],
    ["      Medical records specialists", "29-2072", "Line item", 194.8, 208.6, 0.1, 0.1,
     13.8, 7.1, 0.8, 14.2, 50250.0, "Postsecondary nondegree award", "None", "None",
     "OOH Content"],
]  # fmt: skip
CURRENT_FOOTNOTES: list[Row] = [
    ["Footnotes:"],
    [
        "[1] Data are from the Occupational Employment and Wage Statistics program, U.S. "
        "Bureau of Labor Statistics. Wage data cover non-farm wage and salary workers and do "
        "not cover the self-employed, owners and partners in unincorporated firms, or "
        "household workers."
    ],
    ['Note: Data is unavailable for values denoted with a "—".'],
    ["Source: Employment Projections program, U.S. Bureau of Labor Statistics"],
]
CURRENT_INDEX: list[Row] = [
    ["Occupation.xlsx contents"],
    ["Table 1.1 Employment by major occupational group, 2024 and projected 2034"],
    ["Table 1.2 Occupational projections, 2024–34, and worker characteristics, 2024"],
]
CURRENT_TABLE_1_1: list[Row] = [
    [
        "Table 1.1 Employment by major occupational group, 2024 and projected 2034 "
        "(Employment in thousands)"
    ],
    [
        "2024 National Employment Matrix title",
        "2024 National Employment Matrix code",
        "Employment, 2024",
        "Employment, 2034",
        "Employment change, numeric, 2024–34",
        "Employment change, percent, 2024–34",
        "Median annual wage, dollars, 2024[1]",
    ],
    ["Total, all occupations", "00-0000", 169956.1, 175167.9, 5211.8, 3.1, 49500.0],
    ["  Management occupations", "11-0000", 13607.6, 14441.0, 833.4, 6.1, 122090.0],
]


def current_occupations() -> list[Row]:
    """A fresh copy of the current layout's occupation rows, for a test to edit."""
    return copy.deepcopy(CURRENT_OCCUPATIONS)


def current_rows(occupations: Sequence[Row] | None = None) -> list[Row]:
    """Table 1.2 of the current layout: title, header, occupations, footnotes."""
    body = current_occupations() if occupations is None else [list(r) for r in occupations]
    return [[CURRENT_TITLE], list(CURRENT_HEADER), *body, *copy.deepcopy(CURRENT_FOOTNOTES)]


def current_sheets(table_1_2: Sequence[Row] | None = None) -> dict[str, list[Row]]:
    return {
        "Index": copy.deepcopy(CURRENT_INDEX),
        "Table 1.1": copy.deepcopy(CURRENT_TABLE_1_1),
        "Table 1.2": current_rows() if table_1_2 is None else [list(r) for r in table_1_2],
    }


# --- 2014–24 layout (December 2015) ---------------------------------------------------------
#
# Real figures, from the MLR (Dec 2015), the 2014–24 news release and the OOH: the total
# (150,539.9 → 160,328.8 thousand, +9,788.9, +6.5 %), Medical records and health information
# technicians 29-2071 (188.6 → 217.6 thousand, +29.0, +15.4 %, median annual wage May 2015
# $37,110, postsecondary nondegree award). Every other 2014–24 cell below (the other rows,
# distributions, openings, the other wages and characteristics) is reconstructed for the
# layout, consistent with itself, not copied from the real workbook.
#
# Table 1.7 carries ``Percent self employed, 2014`` between the change and the openings:
# FORMATS.md §4.2 reads the real 2014–24 Table 1.7 by position (3–4 employment, 6 percent
# change, 8 openings, 10 education), the positions of the real 2016–26 Table 1.7, whose
# column 7 is the self-employed share and 9 the wage. The shares below are reconstructed.

TITLE_1_2_2014 = "Table 1.2 Employment by detailed occupation, 2014 and projected 2024"
UNITS_2014 = "(Numbers in thousands)"
HEADER_1_2_2014: tuple[Row, Row] = (
    [
        "2014 National Employment Matrix title",
        "2014 National Employment Matrix code",
        "Occupation type",
        "Employment",
        "",
        "Percent distribution",
        "",
        "Change, 2014-24",
        "",
    ],
    ["", "", "", "2014", "2024", "2014", "2024", "Number", "Percent"],
)
OCCUPATIONS_1_2_2014: list[Row] = [
    ["Total, all occupations", "00-0000", "Summary", 150539.9, 160328.8, 100.0, 100.0,
     9788.9, 6.5],
    ["  Healthcare practitioners and technical occupations", "29-0000", "Summary",
     8236.5, 9505.6, 5.5, 5.9, 1269.1, 15.4],
    ["    Registered nurses", "29-1141", "Line item", 2751.0, 3190.3, 1.8, 2.0, 439.3, 16.0],
    ["    Health technologists and technicians", "29-2000", "Summary", 3125.6, 3619.0,
     2.1, 2.3, 493.4, 15.8],
    ["      Medical records and health information technicians", "29-2071", "Line item",
     188.6, 217.6, 0.1, 0.1, 29.0, 15.4],
]  # fmt: skip
FOOTNOTES_2014: list[Row] = [
    ["Source: Employment Projections program, U.S. Department of Labor, U.S. Bureau of Labor "
     "Statistics"],
]  # fmt: skip

TITLE_1_7_2014 = "Table 1.7 Occupational projections and worker characteristics, 2014-24"
HEADER_1_7_2014: tuple[Row, Row] = (
    [
        "2014 National Employment Matrix title",
        "2014 National Employment Matrix code",
        "Occupation type",
        "Employment",
        "",
        "Employment change, 2014-24",
        "",
        "Percent self employed, 2014",
        "Job openings due to growth and replacement needs, 2014-24",
        "Median annual wage, 2015(1)",
        "Typical education needed for entry",
        "Work experience in a related occupation",
        "Typical on-the-job training needed to attain competency in the occupation",
    ],
    ["", "", "", "2014", "2024", "Number", "Percent", "", "", "", "", "", ""],
)
# Openings here are totals over the decade (growth plus replacement needs), not annual.
OCCUPATIONS_1_7_2014: list[Row] = [
    ["Total, all occupations", "00-0000", "Summary", 150539.9, 160328.8, 9788.9, 6.5, 6.4,
     46506.7, 36200.0, NA, NA, NA],
    ["  Healthcare practitioners and technical occupations", "29-0000", "Summary",
     8236.5, 9505.6, 1269.1, 15.4, 3.5, 2794.9, 63420.0, NA, NA, NA],
    ["    Registered nurses", "29-1141", "Line item", 2751.0, 3190.3, 439.3, 16.0, 0.8,
     1088.4, 67490.0, "Bachelor's degree", "None", "None"],
    ["    Health technologists and technicians", "29-2000", "Summary", 3125.6, 3619.0,
     493.4, 15.8, 0.6, 1143.3, 42160.0, NA, NA, NA],
    ["      Medical records and health information technicians", "29-2071", "Line item",
     188.6, 217.6, 29.0, 15.4, 0.1, 75.4, 37110.0, "Postsecondary nondegree award", "None",
     "None"],
]  # fmt: skip
FOOTNOTES_1_7_2014: list[Row] = [
    ["(1) Data are from the Occupational Employment Statistics program, U.S. Department of "
     "Labor, U.S. Bureau of Labor Statistics."],
    ["Source: Employment Projections program, U.S. Department of Labor, U.S. Bureau of Labor "
     "Statistics"],
]  # fmt: skip


def occupations_1_2_2014() -> list[Row]:
    return copy.deepcopy(OCCUPATIONS_1_2_2014)


def occupations_1_7_2014() -> list[Row]:
    return copy.deepcopy(OCCUPATIONS_1_7_2014)


def _years_as_numbers(row: Row) -> Row:
    """The year sub-headers as Excel numbers (what typing 2014 into a cell gives)."""
    return [int(c) if isinstance(c, str) and c.isdigit() else c for c in row]


def table_1_2_2014(
    occupations: Sequence[Row] | None = None, *, numeric_years: bool = False
) -> list[Row]:
    top, sub = copy.deepcopy(HEADER_1_2_2014)
    body = occupations_1_2_2014() if occupations is None else [list(r) for r in occupations]
    sub = _years_as_numbers(sub) if numeric_years else sub
    return [[TITLE_1_2_2014], [UNITS_2014], top, sub, *body, *copy.deepcopy(FOOTNOTES_2014)]


def table_1_7_2014(
    occupations: Sequence[Row] | None = None, *, numeric_years: bool = False
) -> list[Row]:
    top, sub = copy.deepcopy(HEADER_1_7_2014)
    body = occupations_1_7_2014() if occupations is None else [list(r) for r in occupations]
    sub = _years_as_numbers(sub) if numeric_years else sub
    return [[TITLE_1_7_2014], [UNITS_2014], top, sub, *body, *copy.deepcopy(FOOTNOTES_1_7_2014)]


# --- 2010–20 in the 2016–26 layout (merged multi-row headers) -------------------------------
#
# Every figure below is illustrative, consistent with itself (change = target − base, percent
# = change / base) and in the range of the 2010–20 projections, not copied from a real
# workbook. The shapes (header rows, merged ranges, footnotes) are those of the real 2016–26
# workbook; openings are the decade total that cycles up to 2014–24 published.

# (first row, first column, last row, last column), inclusive, as xlsxwriter's merge_range.
MergeRange = tuple[int, int, int, int]

TITLE_1_2_2010 = (
    "Table 1.2 Employment by detailed occupation, 2010 and projected 2020\n(Numbers in thousands)"
)
HEADER_1_2_2010: tuple[Row, Row, Row] = (
    ["2010 National Employment Matrix title and code", "", "Occupation type", "Employment",
     "", "", "", "Change, 2010-20", ""],
    ["", "", "", "Number", "", "Percent distribution", "", "", ""],
    ["", "", "", 2010, 2020, 2010, 2020, "Number", "Percent"],
)  # fmt: skip
MERGES_1_2_2010: list[MergeRange] = [
    (0, 0, 0, 8),  # the title
    (1, 0, 3, 1),  # title and code over columns A-B and the three header rows
    (1, 2, 3, 2),  # occupation type
    (1, 3, 1, 6),  # Employment
    (1, 7, 2, 8),  # Change, 2010-20
    (2, 3, 2, 4),  # Number
    (2, 5, 2, 6),  # Percent distribution
]
OCCUPATIONS_1_2_2010: list[Row] = [
    ["Total, all occupations", "00-0000", "Summary", 143068.2, 163537.1, 100.0, 100.0,
     20468.9, 14.3],
    ["Management occupations", "11-0000", "Summary", 8861.5, 9498.2, 6.2, 5.8, 636.7, 7.2],
    ["Top executives", "11-1000", "Summary", 2337.2, 2460.3, 1.6, 1.5, 123.1, 5.3],
    ["Chief executives", "11-1011", "Line item", 367.9, 384.1, 0.3, 0.2, 16.2, 4.4],
    ["Healthcare practitioners and technical occupations", "29-0000", "Summary", 7799.1,
     9597.0, 5.5, 5.9, 1797.9, 23.1],
    ["Health diagnosing and treating practitioners", "29-1000", "Summary", 4888.3, 6067.6,
     3.4, 3.7, 1179.3, 24.1],
    ["Physicians and surgeons", "29-1060", "Summary", 691.0, 859.3, 0.5, 0.5, 168.3, 24.4],
    ["Anesthesiologists", "29-1061", "Line item", 32.1, 39.9, 0.0, 0.0, 7.8, 24.3],
    ["Registered nurses", "29-1141", "Line item", 2737.4, 3449.3, 1.9, 2.1, 711.9, 26.0],
    ["Health technologists and technicians", "29-2000", "Summary", 2910.8, 3529.4, 2.0, 2.2,
     618.6, 21.3],
    ["Medical records and health information technicians", "29-2071", "Line item", 179.5,
     217.1, 0.1, 0.1, 37.6, 20.9],
]  # fmt: skip
SOURCE_2010: Row = ["Source: Employment Projections program, U.S. Bureau of Labor Statistics"]

TITLE_1_7_2010 = (
    "Table 1.7 Occupational projections and worker characteristics, 2010-20\n "
    "(Numbers in thousands)"
)
HEADER_1_7_2010: tuple[Row, Row] = (
    ["2010 National Employment Matrix title and code", "", "Occupation\ntype", "Employment",
     "", "Employment change, 2010-20", "", "Percent self employed, 2010",
     "Job openings due to growth and replacements, 2010-20", "Median annual wage, 2010(1)",
     "Typical education needed for entry", "Work experience in a related occupation",
     "Typical on-the-job training needed to attain competency in the occupation"],
    ["", "", "", 2010, 2020, "Number", "Percent", "", "", "", "", "", ""],
)  # fmt: skip
MERGES_1_7_2010_HEADER: list[MergeRange] = [
    (0, 0, 0, 12),
    (1, 0, 2, 1),
    (1, 2, 2, 2),
    (1, 3, 1, 4),
    (1, 5, 1, 6),
    *[(1, j, 2, j) for j in range(7, 13)],
]
OCCUPATIONS_1_7_2010: list[Row] = [
    ["Total, all occupations", "00-0000", "Summary", 143068.2, 163537.1, 20468.9, 14.3, 6.9,
     54787.4, 33840.0, NA, NA, NA],
    ["Management occupations", "11-0000", "Summary", 8861.5, 9498.2, 636.7, 7.2, 17.9,
     2549.6, 91440.0, NA, NA, NA],
    ["Top executives", "11-1000", "Summary", 2337.2, 2460.3, 123.1, 5.3, 3.6, 742.6,
     101250.0, NA, NA, NA],
    ["Chief executives", "11-1011", "Line item", 367.9, 384.1, 16.2, 4.4, 20.6, 103.0,
     165080.0, "Bachelor's degree", "5 years or more", "None"],
    ["Healthcare practitioners and technical occupations", "29-0000", "Summary", 7799.1,
     9597.0, 1797.9, 23.1, 3.9, 3085.0, 60230.0, NA, NA, NA],
    ["Health diagnosing and treating practitioners", "29-1000", "Summary", 4888.3, 6067.6,
     1179.3, 24.1, 5.1, 1968.4, 74740.0, NA, NA, NA],
    ["Physicians and surgeons", "29-1060", "Summary", 691.0, 859.3, 168.3, 24.4, 12.4, 261.6,
     NA, NA, NA, NA],
    ["Anesthesiologists", "29-1061", "Line item", 32.1, 39.9, 7.8, 24.3, 12.4, 12.0,
     ">=$166,400", "Doctoral or professional degree", "None", "Internship/residency"],
    ["Registered nurses", "29-1141", "Line item", 2737.4, 3449.3, 711.9, 26.0, 0.8, 1207.4,
     64690.0, "Associate's degree", "None", "None"],
    ["Health technologists and technicians", "29-2000", "Summary", 2910.8, 3529.4, 618.6,
     21.3, 0.9, 1076.7, 38600.0, NA, NA, NA],
    ["Medical records and health information technicians", "29-2071", "Line item", 179.5,
     217.1, 37.6, 20.9, 0.1, 71.7, 32350.0, "Postsecondary non-degree award", "None", "None"],
]  # fmt: skip
FOOTNOTES_1_7_2010: list[Row] = [
    ["Footnotes:"],
    ["(1) Data are from the Occupational Employment Statistics program, U.S. Bureau of Labor "
     "Statistics. Wage data cover non-farm wage and salary workers and do not cover the "
     "self-employed, owners and partners in unincorporated firms, or household workers."],
    ['Note: Data is unavailable for values denoted with a "—".'],
    ["Source: Employment Projections program, U.S. Bureau of Labor Statistics"],
]  # fmt: skip


def table_1_2_2010(occupations: Sequence[Row] | None = None) -> list[Row]:
    body = copy.deepcopy(OCCUPATIONS_1_2_2010) if occupations is None else occupations
    return [[TITLE_1_2_2010], *copy.deepcopy(HEADER_1_2_2010), *map(list, body), SOURCE_2010]


def table_1_7_2010(occupations: Sequence[Row] | None = None) -> list[Row]:
    body = copy.deepcopy(OCCUPATIONS_1_7_2010) if occupations is None else occupations
    return [
        [TITLE_1_7_2010],
        *copy.deepcopy(HEADER_1_7_2010),
        *map(list, body),
        *copy.deepcopy(FOOTNOTES_1_7_2010),
    ]


def _row_merges(rows: Sequence[Row], header: Sequence[MergeRange], width: int) -> list[MergeRange]:
    """The header's merges plus, as BLS does, each footnote/source line merged across."""
    first_note = next(i for i, r in enumerate(rows) if i > 0 and len(r) == 1)
    return [*header, *[(i, 0, i, width - 1) for i in range(first_note, len(rows))]]


# --- editing ---------------------------------------------------------------------------------


def set_cell(rows: list[Row], code: str, column: int, value: Cell) -> list[Row]:
    """Set one cell of the row whose code (column 1) is ``code``; returns ``rows``."""
    for row in rows:
        if len(row) > 1 and row[1] == code:
            row[column] = value
            return rows
    raise KeyError(code)


def drop_code(rows: Sequence[Row], code: str) -> list[Row]:
    return [list(r) for r in rows if not (len(r) > 1 and r[1] == code)]


def insert_column(rows: list[Row], at: int, header: Cell, values: Mapping[str, Cell]) -> list[Row]:
    """Insert a column at position ``at`` of a one-row-header table: ``header`` in the header
    row, ``values[code]`` (or empty) in each occupation row; title and footnote rows (one
    cell each) are left alone. Returns ``rows``."""
    for row in rows:
        if len(row) > 1:
            is_occupation = isinstance(row[1], str) and re.fullmatch(r"\d{2}-\d{4}", row[1])
            row.insert(at, values.get(str(row[1])) if is_occupation else header)
    return rows


class EpWorkbooks:
    """The ``ep`` fixture: the rows above, copies of them to edit, and the three layouts
    written as workbooks."""

    NA = NA
    CURRENT_HEADER: ClassVar[Row] = CURRENT_HEADER
    CURRENT_OCCUPATIONS: ClassVar[list[Row]] = CURRENT_OCCUPATIONS
    current_occupations = staticmethod(current_occupations)
    current_rows = staticmethod(current_rows)
    current_sheets = staticmethod(current_sheets)
    occupations_1_2_2014 = staticmethod(occupations_1_2_2014)
    occupations_1_7_2014 = staticmethod(occupations_1_7_2014)
    table_1_2_2014 = staticmethod(table_1_2_2014)
    table_1_7_2014 = staticmethod(table_1_7_2014)
    table_1_2_2010 = staticmethod(table_1_2_2010)
    table_1_7_2010 = staticmethod(table_1_7_2010)
    set_cell = staticmethod(set_cell)
    drop_code = staticmethod(drop_code)
    insert_column = staticmethod(insert_column)

    def __init__(self, write_xlsx: Callable[..., Path]) -> None:
        self.write_xlsx = write_xlsx

    def write_current_workbook(
        self,
        path: Path,
        table_1_2: Sequence[Row] | None = None,
        *,
        occupations: Sequence[Row] | None = None,
    ) -> Path:
        """The current (2024–34) layout; ``occupations`` replaces the data rows only."""
        rows = current_rows(occupations) if table_1_2 is None else table_1_2
        return self.write_xlsx(path, current_sheets(rows))

    def write_2014_workbook(
        self,
        path: Path,
        *,
        table_1_2: Sequence[Row] | None = None,
        table_1_7: Sequence[Row] | None = None,
        numeric_years: bool = False,
    ) -> Path:
        """The 2014–24 layout: Table 1.2 (employment, change) and Table 1.7 (wages, education)."""
        sheets = {
            "Table 1.1": [
                ["Table 1.1 Employment by major occupational group, 2014 and projected 2024"]
            ],
            "Table 1.2": (
                table_1_2_2014(numeric_years=numeric_years)
                if table_1_2 is None
                else [list(r) for r in table_1_2]
            ),
            "Table 1.7": (
                table_1_7_2014(numeric_years=numeric_years)
                if table_1_7 is None
                else [list(r) for r in table_1_7]
            ),
        }
        return self.write_xlsx(path, sheets)

    def write_2010_workbook(
        self,
        path: Path,
        *,
        table_1_2: Sequence[Row] | None = None,
        table_1_7: Sequence[Row] | None = None,
        merged: bool = True,
    ) -> Path:
        """A 2010–20 workbook in the 2016–26 layout; ``merged=False`` writes no merge info."""
        sheets = {
            "Index": [["Occupation.xlsx contents"]],
            "Table 1.2": table_1_2_2010() if table_1_2 is None else [list(r) for r in table_1_2],
            "Table 1.7": table_1_7_2010() if table_1_7 is None else [list(r) for r in table_1_7],
        }
        merges = {
            "Table 1.2": _row_merges(sheets["Table 1.2"], MERGES_1_2_2010, 9),
            "Table 1.7": _row_merges(sheets["Table 1.7"], MERGES_1_7_2010_HEADER, 13),
        }
        return self.write_xlsx(path, sheets, merges if merged else None)


@pytest.fixture(scope="session")
def ep(write_xlsx: Callable[..., Path]) -> EpWorkbooks:
    """Small Employment Projections workbooks in the 2024–34, 2014–24 and 2010–20 layouts."""
    return EpWorkbooks(write_xlsx)


# --- OEWS time-series files ----------------------------------------------------------------


class OeFiles:
    """The ``oe_files`` fixture: OEWS flat files written line by line, as BLS pads them, and
    a staged ``oews_estimates`` file read back."""

    TOP_CODE_2023 = "This wage is equal to or greater than $115.00 per hour or $239,200 per year."
    TOP_CODE_2020 = "This wage is equal to or greater than $100.00 per hour or $208,000 per year."
    DATA_HEADER = (
        "series_id".ljust(30) + "\tyear\tperiod\t" + "value".rjust(12) + "\tfootnote_codes"
    )
    MEASURES: ClassVar[list[str]] = [measure for _, measure, _ in DATATYPES.values()]

    @staticmethod
    def series_id(
        occ: str = "292072",
        datatype: str = "13",
        *,
        areatype: str = "N",
        area: str = "0000000",
        industry: str = "000000",
    ) -> str:
        return f"OEU{areatype}{area}{industry}{occ}{datatype}"

    @staticmethod
    def data_line(
        sid: str, value: str, footnotes: str = "", *, year: str = "2024", period: str = "A01"
    ) -> str:
        """One line of oe.data.0.Current, padded exactly as BLS pads it."""
        return f"{sid.ljust(30)}\t{year}\t{period}\t{value.rjust(12)}\t{footnotes}"

    @staticmethod
    def write_lines(path: Path, lines: Sequence[str], newline: str = "\n") -> Path:
        path.write_bytes("".join(line + newline for line in lines).encode("utf-8"))
        return path

    @classmethod
    def write_data(cls, path: Path, lines: Sequence[str], *, header: str | None = None) -> Path:
        """``oe.data.0.Current``: ``header`` (BLS's padded one unless given), then ``lines``."""
        return cls.write_lines(path, [cls.DATA_HEADER if header is None else header, *lines])

    @staticmethod
    def staged_rows(path: Path) -> dict[str, dict[str, object]]:
        """The staged parquet file as {series_id: row}."""
        con = duckdb.connect()
        try:
            result = con.execute("SELECT * FROM read_parquet(?)", [str(path)])
            names = [d[0] for d in result.description]
            rows = [dict(zip(names, row, strict=True)) for row in result.fetchall()]
        finally:
            con.close()
        return {
            series_id_of(
                str(r["areatype_code"]),
                str(r["area_code"]),
                str(r["industry_code"]),
                str(r["soc_code"]),
                str(r["measure"]),
            ): r
            for r in rows
        }

    @staticmethod
    def mirror_files(oe_dir: Path) -> dict[str, Path]:
        """The seven files the OEWS load reads, by name, in ``oe_dir``."""
        return {name: oe_dir / name for name in FILES}

    @staticmethod
    def to_line_ends(src: Path, dest: Path, newline: str) -> Path:
        """``src`` rewritten at ``dest`` with every line ending ``newline``."""
        text = src.read_bytes().decode("utf-8").replace("\r\n", "\n")
        dest.write_bytes(text.replace("\n", newline).encode("utf-8"))
        return dest

    @staticmethod
    def footnote_frame(*rows: tuple[str, str]) -> pd.DataFrame:
        """oe.footnote as parsed: (footnote_code, footnote_text) rows."""
        return pd.DataFrame(rows, columns=["footnote_code", "footnote_text"])


@pytest.fixture(scope="session")
def oe_files() -> OeFiles:
    """OEWS flat files written line by line (``series_id``, ``data_line``, ``write_data``,
    ``write_lines``, ``to_line_ends``, ``mirror_files``), a staged file read back
    (``staged_rows``), ``footnote_frame``, and BLS's header and top-code texts."""
    return OeFiles()


@pytest.fixture
def lookups(oe_dir: Path, oe_files: OeFiles) -> OewsLookups:
    """The lookups of the test's copy of the sample mirror, parsed."""
    return parse_lookups(oe_files.mirror_files(oe_dir))


Stage = Callable[..., tuple[StagedEstimates, dict[str, dict[str, object]]]]


@pytest.fixture
def stage(tmp_path: Path, lookups: OewsLookups, oe_files: OeFiles) -> Stage:
    """``stage(lines, header=…, with_lookups=…)``: write a tiny data file, stage it, return
    the result and its rows by series id."""

    def run(
        lines: Sequence[str],
        *,
        header: str = OeFiles.DATA_HEADER,
        with_lookups: OewsLookups | None = None,
    ) -> tuple[StagedEstimates, dict[str, dict[str, object]]]:
        data = oe_files.write_data(tmp_path / "oe.data.0.Current", lines, header=header)
        out = tmp_path / "oews_estimates.parquet"
        result = stage_estimates(data, with_lookups or lookups, out, release_id="2025-04-02.1")
        assert result.path == out
        return result, oe_files.staged_rows(out)

    return run


Failing = Callable[..., ValidationError]


@pytest.fixture
def failing(tmp_path: Path, lookups: OewsLookups, oe_files: OeFiles) -> Failing:
    """``failing(lines, check, *fragments, header=…)``: stage a data file that must fail;
    check the error names the file and the check, holds every fragment, and that nothing
    stays staged."""

    def run(
        lines: Sequence[str], check: str, *fragments: str, header: str = OeFiles.DATA_HEADER
    ) -> ValidationError:
        data = oe_files.write_data(tmp_path / "oe.data.0.Current", lines, header=header)
        out = tmp_path / "oews_estimates.parquet"
        with pytest.raises(ValidationError) as info:
            stage_estimates(data, lookups, out, release_id="r1")
        err = info.value
        message = str(err)
        assert err.file == "oe.data.0.Current"
        assert message.startswith("oe.data.0.Current: ")
        assert err.check == check
        assert f"check '{check}' failed" in message
        for fragment in fragments:
            assert fragment in message, f"{fragment!r} not in:\n{message}"
        assert not out.exists(), "a failed check must not leave a staged file behind"
        return err

    return run
