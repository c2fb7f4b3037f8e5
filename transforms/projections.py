"""Employment Projections workbook (``occupation.xlsx``) → the ``projections`` table.

Every column is read by its header text (``transforms.columns.by_name``), never by position.
The header is the block of rows from the first row with a title or code header cell (a cell
saying ``title`` or ``code`` as a word, e.g. ``2024 National Employment Matrix code``) down to
the first occupation row (the first row with a SOC code ``\\d{2}-\\d{4}`` in one of its first 3
cells); the sheet's title and units lines above it, however many cells they fill, are not part
of it. A header of several rows is combined column by column into one name
(``combine_header``). The vintage (cycle, base, target and wage years) comes from the header
and title text. The column read as the code must hold a SOC code in every occupation row.

The occupation rows run from the first one to the first footnote, note or source line (or any
other line of one cell). Nothing below that line may be an occupation row: a note or a
one-cell subheading inside the data fails naming its row, rather than ending the table early.

Layouts by cycle (all seen in real BLS workbooks except 2010–20 and 2014–24, known from
their documentation and reconstructed as test fixtures):

- up to 2014–24: ``Table 1.2`` (employment, change) has a group row over a sub-header row
  (``Employment`` / ``2014``, ``Change, 2014-24`` / ``Number``); self-employed, wages,
  education, experience, training and openings are in ``Table 1.7``. Openings are a ten-year
  total, ``Job openings due to growth and replacements, 2014-24`` (→ ``openings_total``).
  That 1.7 holds the self-employed share is inferred: FORMATS.md §4.2 reads the real 2014–24
  Table 1.7 by position (6 percent change, 8 openings, 10 education), the positions of the
  real 2016–26 Table 1.7, whose column 7 is ``Percent self employed`` and 9 the wage.
- 2010–20 style and 2016–26, 2018–28, 2019–29 first issue (January 2021): ``Table 1.2`` has
  three header rows with merged cells (``2016 National Employment Matrix title and code``
  over columns A–B and rows 1–3; ``Employment`` / ``Number`` / ``2016``; ``Change, 2016-26``
  / ``Number``); ``Table 1.7`` has two (``Employment`` / ``2016``, ``Employment change,
  2016-26`` / ``Number``) and the wage, ``Median annual wage, 2018(1)``.
- 2019–29 re-issue (April 2021), 2020–30, 2021–31, 2022–32: one header row in both tables.
  ``Employment change, numeric, 2019-29`` / ``Employment change, percent, 2019-29`` in
  2019–29 and 2022–32; ``Employment change, 2020-30`` / ``Percent employment change,
  2020-30`` in 2020–30 and 2021–31 (whose title column says ``2020 National Employment
  Matrix title`` beside ``2021 … code``). Wages still in ``Table 1.7``.
- 2023–33, 2024–34: one wide ``Table 1.2`` with self-employed, ``Median annual wage,
  dollars, 2023[1]``, education, experience, training and an OOH link (ignored); en dashes.
  2023–33 keeps a 2-row stub ``Table 1.7`` (“moved to Table 1.2”); 2024–34 has none.

Openings: ``Occupational openings, YYYY-YY annual average`` (2016–26 on) → ``openings_annual``;
the ten-year total of 2014–24 and before → ``openings_total``. One never fills the other.

Required columns: title, code, both employment years, change and percent change in each
table; and, in Table 1.2 or 1.7 (every layout has them), the median annual wage, education,
experience, training, the self-employed share and exactly one openings column (the annual
average or the decade total: both, or neither, fails). A renamed column therefore fails and
shows the header found, instead of loading as null for every row. Header cells that no known
column claims are schema drift: loaded without them and reported, not an error.

Joining Table 1.2 with Table 1.7 (cycles before 2023–33, when 1.2 has no wage column): 1.2 is
the row set. A 1.2 code without a 1.7 row gets nulls for what 1.7 carries (listed in
``not_available``); a 1.7 code not in 1.2 is ignored. In every real workbook (2016–26 to
2022–32) both tables hold exactly the same codes and the same titles. What both tables carry
(employment, change, percent, openings) must agree to the digit: it does in every real
workbook, and a disagreement fails naming the code and both values.

``level`` is BLS's indentation where the sheet indents its titles (2022–32 on: two spaces a
level; a sheet counts as indented when most rows are), else the depth in the SOC hierarchy
of the codes in that table (``code_levels``):
the number of the code's SOC ancestors (00-0000, the major group xx-0000, the minor group
xx-x000 or xx-xx00, the broad group xx-xxx0) that are rows of the same table, so 00-0000 is
0 and major groups 1. A detailed occupation directly under a minor group (no broad group row)
is therefore level 3, not 4. SOC 2018 has one broad group that runs past its tens, 29-1210
Physicians (29-1211 … 29-1229). From 2022–32 on BLS also indents titles by two spaces a
level; the code rule gives BLS's printed indentation for every row of the 2022–32, 2023–33
and 2024–34 workbooks (the conformance tests check it), and a stray space in a flat sheet
changes nothing.

``soc_version``: SOC 2010 up to 2018–28 (which still has 29-2071 and 15-1132), the hybrid
codes of the 2018 SOC transition (29-2098, 15-1299) in 2019–29 and 2020–30 → ``2018-hybrid``,
SOC 2018 from 2021–31 on.

Figures are what BLS printed, exactly. A cell is a number, a numeric string (``1,147.9``), a
dash (``—``, ``–`` or ``-``: not available, null and listed in ``not_available``) or empty;
anything else (text, ``NaN``, infinities, TRUE/FALSE) fails naming the cells. Each number is
read as a decimal (``Decimal(repr(float))``), never through float arithmetic. Employment,
change and openings are in thousands with at most one decimal, stored in persons (188.6 →
188,600); percentages keep their one decimal; wages are whole dollars or a top code
``>=$239,200`` (the whole cell). More digits than that fail (``published precision``), as do
negative employment or openings, a self-employed share outside 0–100 and a wage not above 0;
change and percent change may be negative.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pandas as pd
from python_calamine import CalamineWorkbook

from core.errors import ValidationError
from core.staging import StagedLoad, stage_frame, stamp
from transforms.columns import Columns, Spelling, by_name, normalise
from transforms.workbook import open_workbook, reader_errors

NOT_AVAILABLE = "—"
_DASHES = (NOT_AVAILABLE, "–", "-")  # what BLS prints for not available
SOC = re.compile(r"^\d{2}-\d{4}$")
_RANGE = re.compile(r"(\d{4})\s*[–—-]\s*(\d{2,4})")
_TOP = re.compile(r"\s*>=\s*\$?\s*(\d{1,3}(?:,\d{3})+|\d+)\s*")  # the whole cell
_NUMERIC = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")  # the whole cell
_TENTH = Decimal("0.1")
_TITLE_AND_CODE = re.compile(r"title\s+and\s+code", re.IGNORECASE)
_TITLE_OR_CODE = re.compile(r"\b(title|code)\b")
_HEADER_SEARCH = 30  # rows searched for the first occupation row
_NOTE_STARTS = ("footnote", "note", "source", "[", "(")

# A merged range of a sheet: ((first row, first column), (last row, last column)), inclusive.
Merge = tuple[tuple[int, int], tuple[int, int]]

# The numeric columns read cell by cell from the workbook ("—" → null, listed as not available).
# Both tables may publish any of them; where both do they must agree to the digit.
_NUMBERS = (
    "employment_base",
    "employment_target",
    "employment_change",
    "employment_change_pct",
    "openings_annual",
    "openings_total",
    "self_employed_pct",
)
COLUMNS = (
    "cycle",
    "base_year",
    "target_year",
    "soc_code",
    "soc_version",
    "title",
    "occupation_type",
    "level",
    *_NUMBERS,
    "median_annual_wage",
    "median_wage_status",
    "median_wage_top_code",
    "wage_year",
    "education",
    "experience",
    "training",
    "not_available",
)
_TEXTS = ("education", "experience", "training")
# Published in thousands, stored in persons.
_PERSONS = (
    "employment_base",
    "employment_target",
    "employment_change",
    "openings_annual",
    "openings_total",
)

# Spellings, searched in the normalised header (lower case, ASCII dashes, no footnote marks;
# a multi-row header combined top-down, e.g. "change, 2016-26 number").
_PERIOD = r"\d{4}-\d{2,4}"
_REQUIRED: dict[str, list[Spelling]] = {
    "title": [re.compile(r"\btitle\b")],
    "soc_code": [re.compile(r"\bcode\b")],
    "employment_change": [
        re.compile(rf"^employment change, numeric, {_PERIOD}$"),  # 2019-29, 2022-32 on
        re.compile(rf"^employment change, {_PERIOD}$"),  # 2020-30, 2021-31
        re.compile(rf"^(employment )?change, {_PERIOD} number$"),  # multi-row headers
    ],
    "employment_change_pct": [
        re.compile(rf"^employment change, percent, {_PERIOD}$"),
        re.compile(rf"^percent employment change, {_PERIOD}$"),
        re.compile(rf"^(employment )?change, {_PERIOD} percent$"),
    ],
}
# In Table 1.2 or in Table 1.7: optional in each, required of the workbook (``_require``).
_OPTIONAL: dict[str, list[Spelling]] = {
    "occupation_type": [re.compile(r"^occupation type$")],
    "self_employed_pct": [re.compile(r"^percent self[ -]employed\b")],
    "openings_annual": [re.compile(r"\bopenings\b.*\bannual average$")],
    # A total over the decade (cycles up to 2014-24), not an annual figure.
    "openings_total": [re.compile(r"^job openings due to growth and replacement")],
    "median_annual_wage": [re.compile(r"^median annual wage\b")],
    "education": [re.compile(r"^typical education needed for entry$")],
    "experience": [re.compile(r"^work experience in a related occupation$")],
    "training": [re.compile(r"^typical on-the-job training needed to attain competency\b")],
}
_IGNORED: list[Spelling] = [
    re.compile(r"\bdistribution\b"),  # employment distribution, percent (of the total)
    re.compile(r"occupational outlook handbook|\(ooh\)"),  # a link to the OOH page
]
_EMPLOYMENT = re.compile(r"^employment,? (?:number )?(\d{4})$")
# Every layout publishes these, in Table 1.2 or Table 1.7; and exactly one of _OPENINGS.
_PUBLISHED = ("self_employed_pct", "median_annual_wage", *_TEXTS)
_OPENINGS = ("openings_annual", "openings_total")

# Bounds of the published figures (change and percent change may be negative).
_BOUNDS: dict[str, tuple[str, Callable[[float], bool]]] = {
    "employment_base": ("≥ 0", lambda v: v >= 0),
    "employment_target": ("≥ 0", lambda v: v >= 0),
    "openings_annual": ("≥ 0", lambda v: v >= 0),
    "openings_total": ("≥ 0", lambda v: v >= 0),
    "self_employed_pct": ("within 0–100", lambda v: 0 <= v <= 100),
    "median_annual_wage": ("> 0", lambda v: v > 0),
    "median_wage_top_code": ("> 0", lambda v: v > 0),
}

# SOC 2018 broad groups whose detailed codes run past their tens: tens → the broad group.
_BROAD_SPANS = {"29-1220": "29-1210"}  # Physicians: 29-1211 … 29-1229


class _Unreadable(ValueError):
    """A cell that is neither a number, nor a dash, nor empty."""


class _Imprecise(ValueError):
    """A number with more digits than BLS prints."""


@dataclasses.dataclass(frozen=True)
class Projections:
    cycle: str  # "2024-34"
    base_year: int
    target_year: int
    wage_year: int | None
    sheet: str
    frame: pd.DataFrame
    # "file [sheet]" → header cells no known column claims (loaded without them)
    schema_drift: dict[str, list[str]] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class _Table:
    """One parsed sheet: its columns by name, its vintage and its occupation rows."""

    sheet: str
    label: str  # "file [sheet]", as errors name it
    columns: Columns
    base_year: int
    target_year: int
    wage_year: int | None
    texts: list[str]  # title and header names (normalised), for the one-cycle check
    rows: list[list[object]]

    def records(self) -> list[dict[str, object]]:
        """Each occupation row as known column → raw cell."""
        return [
            {f: (row[j] if j < len(row) else None) for f, j in self.columns.positions.items()}
            for row in self.rows
        ]

    def header(self, field: str) -> str:
        """The header cell (as found) of a known column."""
        return self.columns.header[self.columns[field]]


# --- reading the sheet and its header -------------------------------------------------------


def _cell_text(value: object) -> str:
    """A header cell as text: a year typed as a number (2016.0) reads 2016; spaces collapsed."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return re.sub(r"\s+", " ", "" if value is None else str(value)).strip()


def _filled(row: Sequence[object]) -> list[object]:
    return [c for c in row if c not in ("", None)]


def _show(row: Sequence[object]) -> str:
    return " | ".join(_cell_text(c) for c in _filled(row))[:200]


def _code_of(row: Sequence[object]) -> str | None:
    """The SOC code in one of the first three cells, if any."""
    return next((str(c).strip() for c in row[:3] if SOC.match(str(c).strip())), None)


def _find_sheet(book: CalamineWorkbook, number: str) -> str | None:
    """The sheet named ``Table 1.2`` (or starting with it), matched exactly on the number."""
    for name in book.sheet_names:
        if re.fullmatch(rf"table {re.escape(number)}(\s.*)?", name.strip().lower()):
            return name
    return None


def _read_sheet(
    book: CalamineWorkbook, name: str, label: str
) -> tuple[list[list[object]], list[Merge]]:
    with reader_errors(label, "readable xlsx workbook", f"sheet '{name}': "):
        sheet = book.get_sheet_by_name(name)
        return sheet.to_python(skip_empty_area=False), list(sheet.merged_cell_ranges or [])


def _first_occupation(rows: list[list[object]]) -> int | None:
    """The first row with a SOC code in one of its first cells, among the first rows."""
    return next((i for i, r in enumerate(rows[:_HEADER_SEARCH]) if _code_of(r)), None)


def _names_title_or_code(row: Sequence[object]) -> bool:
    return any(_TITLE_OR_CODE.search(normalise(c)) for c in row)


def _locate_header(rows: list[list[object]], label: str) -> tuple[int, int]:
    """(first header row, first occupation row), found by their text.

    The header starts at the first row with a title or code cell: title and units lines
    above it are skipped whatever they hold.
    """
    first_data = _first_occupation(rows)
    if first_data is None:
        raise ValidationError(
            label,
            "header row",
            f"no occupation row (a SOC code such as 00-0000 in one of the first 3 cells) in "
            f"the first {_HEADER_SEARCH} rows",
            [_show(r) for r in rows[:3]],
        )
    top = next((i for i in range(first_data) if _names_title_or_code(rows[i])), first_data)
    cells = [normalise(c) for r in rows[top:first_data] for c in r]
    if not all(any(re.search(rf"\b{w}\b", c) for c in cells) for w in ("title", "code")):
        raise ValidationError(
            label,
            "header row",
            "no header with an occupation title and code (e.g. '2024 National Employment "
            "Matrix code') above the first occupation row; header found: "
            f"{[_show(r) for r in rows[top:first_data]] or 'none'}",
            [_show(r) for r in rows[: first_data + 1]],
        )
    return top, first_data


def combine_header(
    block: Sequence[Sequence[object]],
    merges: Sequence[Merge] = (),
    first_data: Sequence[object] = (),
) -> list[str]:
    """One name per column for a header of one or more rows.

    ``block`` is the header rows, ``merges`` the sheet's merged ranges with rows counted from
    the block's first row (ranges starting outside the block are ignored), ``first_data`` the
    first occupation row. A merged cell's text applies to every column it spans. Without merge
    information a group title is carried right over the blank cells of its own parent group
    that have a sub-header or data below them. A column's name is its texts top-down joined
    with spaces, a cell merged over several rows counted once: ``Change, 2016-26 Number``.
    """
    height = len(block)
    width = max([len(r) for r in block] + [len(first_data)], default=0)
    text = [[_cell_text(r[j]) if j < len(r) else "" for j in range(width)] for r in block]
    source = [[(i, j) for j in range(width)] for i in range(height)]
    inside = [m for m in merges if 0 <= m[0][0] < height]
    if inside:
        for (r0, c0), (r1, c1) in inside:
            for i in range(r0, min(r1, height - 1) + 1):
                for j in range(c0, min(c1, width - 1) + 1):
                    text[i][j], source[i][j] = text[r0][c0], (r0, c0)
    else:
        _carry_groups(text, source, first_data)
    names = []
    for j in range(width):
        seen: set[tuple[int, int]] = set()
        parts = []
        for i in range(height):
            if text[i][j] and source[i][j] not in seen:
                seen.add(source[i][j])
                parts.append(text[i][j])
        names.append(" ".join(parts))
    return names


def _carry_groups(
    text: list[list[str]], source: list[list[tuple[int, int]]], first_data: Sequence[object]
) -> None:
    """Unmerged group titles: carry each right over the blanks of its group (in place)."""
    height = len(text)
    for i in range(height - 1):  # the last header row holds no group titles
        for j in range(1, len(text[i])):
            if text[i][j] or not text[i][j - 1]:
                continue
            under = any(text[k][j] for k in range(i + 1, height)) or (
                j < len(first_data) and first_data[j] not in ("", None)
            )
            parents = [[source[k][col] for k in range(i) if text[k][col]] for col in (j - 1, j)]
            if under and parents[0] == parents[1]:
                text[i][j], source[i][j] = text[i][j - 1], source[i][j - 1]


def _split_title_and_code(names: list[str], first_data: Sequence[object]) -> list[str]:
    """``… title and code`` over two columns: the one holding SOC codes is the code."""
    pair = [j for j, name in enumerate(names) if _TITLE_AND_CODE.search(name)]
    if len(pair) == 1 and pair[0] + 1 < len(names) and not names[pair[0] + 1]:
        pair.append(pair[0] + 1)  # the heading written once, not merged over both columns
    out = list(names)
    for j in pair:
        is_code = j < len(first_data) and SOC.match(str(first_data[j]).strip()) is not None
        out[j] = _TITLE_AND_CODE.sub("code" if is_code else "title", names[pair[0]])
    return out


def _columns(names: list[str], label: str) -> tuple[Columns, int, int, int | None]:
    """The known columns by name, the base and target years and the wage year."""
    years = sorted({int(m.group(1)) for n in names if (m := _EMPLOYMENT.match(normalise(n)))})
    base, target = (years[0], years[-1]) if len(years) == 2 else (None, None)
    required = {
        **_REQUIRED,
        "employment_base": _year_spellings(base),
        "employment_target": _year_spellings(target),
    }
    columns = by_name(names, label, required=required, optional=_OPTIONAL, ignored=_IGNORED)
    assert base is not None and target is not None  # by_name raised otherwise
    wage_year = None
    if "median_annual_wage" in columns:
        found = re.findall(r"\b(\d{4})\b", normalise(names[columns["median_annual_wage"]]))
        wage_year = int(found[-1]) if found else None
    return columns, base, target, wage_year


def _year_spellings(year: int | None) -> list[Spelling]:
    """``Employment, 2024``; none (the column is missing) when the years were not found."""
    return [] if year is None else [re.compile(rf"^employment,? (number )?{year}$")]


def _is_note(cells: Sequence[object]) -> bool:
    """A footnote, note or source line, or any other line of one cell."""
    return len(cells) == 1 or normalise(cells[0]).startswith(_NOTE_STARTS)


def _table_rows(rows: list[list[object]], start: int, label: str) -> list[list[object]]:
    """Occupation rows: from the first one down to the first footnote/source row."""
    body: list[list[object]] = []
    for i, row in enumerate(rows[start:], start=start):
        cells = _filled(row)
        if not cells:
            continue
        if _code_of(row) is not None:
            body.append(row)
            continue
        if not _is_note(cells):
            raise ValidationError(
                label,
                "every row has an occupation code",
                f"row {i + 1} has none",
                [str(cells)[:160]],
            )
        _check_nothing_below(rows, i, label)
        break
    if not body:
        raise ValidationError(label, "not empty", "no occupation rows under the header")
    return body


def _check_nothing_below(rows: list[list[object]], end: int, label: str) -> None:
    """No occupation row below the line ``end`` that ends the table."""
    below = [j for j in range(end + 1, len(rows)) if _code_of(rows[j])]
    if below:
        raise ValidationError(
            label,
            "occupation rows after the footnotes",
            f"row {end + 1} ({_show(rows[end])!r}) ends the table, but {len(below)} rows below "
            f"it have occupation codes, from row {below[0] + 1}: a note or a one-cell line "
            "inside the data",
            [_show(rows[j]) for j in below[:5]],
        )


def _check_code_column(table: _Table) -> None:
    """The column read as ``soc_code`` holds a SOC code in every occupation row."""
    cells = [rec["soc_code"] for rec in table.records()]
    bad = [c for c in cells if not SOC.match(str(c).strip())]
    if bad:
        raise ValidationError(
            table.label,
            "code column holds SOC codes",
            f"the column taken as the code, {table.header('soc_code')!r}, holds {len(bad)} of "
            f"{len(cells)} cells that are not SOC codes (such as 00-0000)",
            [repr(_cell_text(c)) for c in bad],
        )


def _parse_sheet(rows: list[list[object]], merges: list[Merge], sheet: str, label: str) -> _Table:
    where = f"{label} [{sheet}]"
    top, first_data = _locate_header(rows, where)
    shifted = [((r0 - top, c0), (r1 - top, c1)) for (r0, c0), (r1, c1) in merges]
    names = combine_header(rows[top:first_data], shifted, rows[first_data])
    names = _split_title_and_code(names, rows[first_data])
    columns, base, target, wage_year = _columns(names, where)
    title = normalise(rows[0][0]) if rows and rows[0] else ""
    table = _Table(
        sheet=sheet,
        label=where,
        columns=columns,
        base_year=base,
        target_year=target,
        wage_year=wage_year,
        texts=[title, *(normalise(n) for n in names)],
        rows=_table_rows(rows, first_data, where),
    )
    _check_code_column(table)
    return table


def _cycle(base: int, target: int, texts: list[str], label: str) -> str:
    cycle = f"{base}-{target % 100:02d}"
    for text in texts:
        for start, end in _RANGE.findall(text):
            if int(start) == base and int(end[-2:]) != target % 100:
                raise ValidationError(
                    label,
                    "one cycle",
                    f"header says {start}-{end} but employment is {base}/{target}",
                )
    return cycle


# --- joining Table 1.2 with Table 1.7 -------------------------------------------------------


def _join(main: _Table, extra: _Table, label: str) -> list[dict[str, object]]:
    """Table 1.2's rows with what only Table 1.7 carries (wage, education, …), by code.

    A 1.2 code without a 1.7 row gets nulls; 1.7 codes not in 1.2 are ignored. Raises if the
    two tables are of different cycles, 1.7 repeats a code, or they disagree on a number.
    """
    if (extra.base_year, extra.target_year) != (main.base_year, main.target_year):
        raise ValidationError(
            label,
            "one cycle",
            f"{main.sheet} is {main.base_year}/{main.target_year} but {extra.sheet} is "
            f"{extra.base_year}/{extra.target_year}",
        )
    by_code = _by_code(extra)
    shared = [f for f in _NUMBERS if f in main.columns and f in extra.columns]
    added = [f for f in extra.columns.positions if f not in main.columns]
    joined: list[dict[str, object]] = []
    disagree: list[str] = []
    for rec in main.records():
        code = str(rec["soc_code"]).strip()
        other = by_code.get(code)
        disagree += [
            f"{code} {f}: {main.sheet} {rec[f]!r}, {extra.sheet} {other[f]!r}"
            for f in shared
            if other is not None and _differs(rec[f], other[f])
        ]
        joined.append({**rec, **{f: None if other is None else other[f] for f in added}})
    if disagree:
        raise ValidationError(
            label,
            f"{main.sheet} and {extra.sheet} agree",
            f"{len(disagree)} figures differ between the two tables",
            disagree,
        )
    return joined


def _by_code(table: _Table) -> dict[str, dict[str, object]]:
    """The table's records by code; a code twice fails."""
    by_code: dict[str, dict[str, object]] = {}
    for rec in table.records():
        code = str(rec["soc_code"]).strip()
        if code in by_code:
            raise ValidationError(table.label, "codes unique within a cycle", f"{code} repeats")
        by_code[code] = rec
    return by_code


def _differs(a: object, b: object) -> bool:
    """Do two cells publish different figures (compared as decimals, else as text)?"""
    try:
        return _decimal(a) != _decimal(b)
    except ValueError:
        return _cell_text(a) != _cell_text(b)


def _header_found(tables: Sequence[_Table]) -> str:
    """What no known column claimed and each table's header, for a missing column."""
    unknown = [c for t in tables for c in t.columns.unknown]
    found = "; ".join(f"{t.sheet} {[c for c in t.columns.header if c]}" for t in tables)
    return (f"not recognised {unknown}; " if unknown else "") + f"header found: {found}"


def _require(tables: Sequence[_Table], label: str) -> None:
    """Every column the layout publishes is in one of the tables, openings exactly once."""
    found = {f for t in tables for f in t.columns.positions}
    missing = [f for f in _PUBLISHED if f not in found]
    if missing:
        raise ValidationError(
            label, "required columns", f"missing {missing}; {_header_found(tables)}"
        )
    openings = {t.header(f) for t in tables for f in _OPENINGS if f in t.columns}
    kinds = [f for f in _OPENINGS if f in found]
    if len(kinds) != 1:
        what = (
            f"{len(openings)} openings columns {sorted(openings)}, an annual average and a "
            "ten-year total: which one the cycle publishes would be a guess"
            if kinds
            else "no openings column ('Occupational openings, YYYY-YY annual average' or "
            "'Job openings due to growth and replacements, YYYY-YY')"
        )
        raise ValidationError(label, "one openings column", f"{what}; {_header_found(tables)}")


# --- the workbook ---------------------------------------------------------------------------


def _open(path: Path, label: str) -> CalamineWorkbook:
    # Sizes checked before calamine allocates anything (transforms.workbook).
    return open_workbook(path, label, check="readable xlsx workbook")


def _tables(book: CalamineWorkbook, label: str) -> list[_Table]:
    """Table 1.2, and Table 1.7 when 1.2 has no wage column (before 2023-33)."""
    sheet = _find_sheet(book, "1.2")
    if sheet is None:
        raise ValidationError(
            label,
            "sheet 'Table 1.2'",
            "an Employment Projections occupation workbook has a sheet 'Table 1.2'; "
            f"got {book.sheet_names}",
        )
    main = _parse_sheet(*_read_sheet(book, sheet, label), sheet, label)
    if "median_annual_wage" in main.columns:
        return [main]
    extra_sheet = _find_sheet(book, "1.7")
    rows, merges = _read_sheet(book, extra_sheet, label) if extra_sheet else ([], [])
    if _first_occupation(rows) is None:  # none, or the 2023-33 stub ("moved to Table 1.2")
        raise ValidationError(
            label,
            "median wage column",
            f"no median_annual_wage column ('Median annual wage, …') in {main.sheet} and no "
            f"Table 1.7 with occupation rows; {_header_found([main])}",
        )
    return [main, _parse_sheet(rows, merges, extra_sheet, label)]


def parse_workbook(path: Path, label: str | None = None) -> Projections:
    """Parse and validate one EP workbook into ``projections`` rows (``COLUMNS``).

    Raises ValidationError (naming ``label``, default the file name) if the workbook is not
    an xlsx, has no Table 1.2, a required column is missing or a check fails.
    """
    label = label or path.name
    tables = _tables(_open(path, label), label)
    _require(tables, label)
    main, *extra = tables
    records = _join(main, extra[0], label) if extra else main.records()
    wage_year = extra[0].wage_year if extra else main.wage_year
    base, target = main.base_year, main.target_year
    cycle = _cycle(base, target, [t for table in tables for t in table.texts], label)
    vintage = {
        "cycle": cycle,
        "base_year": base,
        "target_year": target,
        "soc_version": soc_version(base),
        "wage_year": wage_year,
    }
    tidy = _tidy(records, vintage, label)
    validate(tidy, label)
    return Projections(
        cycle=cycle,
        base_year=base,
        target_year=target,
        wage_year=wage_year,
        sheet=main.sheet,
        frame=tidy,
        schema_drift={t.label: list(t.columns.unknown) for t in tables if t.columns.unknown},
    )


def soc_version(base_year: int) -> str:
    """The SOC edition of a cycle's codes, by its base year (see the module docstring)."""
    if base_year < 2010:
        return "2000"  # 2008-18 and before (not in the corpus)
    if base_year <= 2018:
        return "2010"
    if base_year <= 2020:
        return "2018-hybrid"
    return "2018"


def _ancestors(code: str) -> set[str]:
    """The codes that may contain ``code``: total, major, minor (2 spellings), broad."""
    tens = code[:6] + "0"
    candidates = {"00-0000", code[:2] + "-0000", code[:4] + "000", code[:5] + "00", tens}
    if tens in _BROAD_SPANS:
        candidates.add(_BROAD_SPANS[tens])
    return candidates - {code}


def code_levels(codes: Sequence[str]) -> list[int]:
    """Each code's depth: how many of its SOC ancestors are among ``codes`` (00-0000 → 0)."""
    present = set(codes)
    return [len(_ancestors(code) & present) for code in codes]


def levels(titles: Sequence[object], codes: Sequence[str]) -> list[int]:
    """BLS's indentation (two spaces a level) where the sheet is indented, else the depth
    among the codes (``code_levels``).

    A sheet counts as indented when most rows below the total start with a space, so one
    stray space in a flat sheet changes nothing, and a partial table (a sample holding only
    some group rows) keeps the levels BLS printed instead of depths among the rows present.
    """
    texts = [str(t or "") for t in titles]
    indented = sum(t.startswith(" ") for t in texts[1:])
    if texts and indented > (len(texts) - 1) / 2:
        return [(len(t) - len(t.lstrip(" "))) // 2 for t in texts]
    return code_levels(codes)


# --- cells --------------------------------------------------------------------------------


def _decimal(value: object) -> Decimal | None:
    """A cell as the decimal BLS printed; None for empty or a dash.

    Raises ``_Unreadable`` for anything else: text, TRUE/FALSE, NaN, infinities.
    """
    if value is None:
        return None
    if isinstance(value, bool):  # TRUE/FALSE; checked first, a bool is an int
        raise _Unreadable(value)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _Unreadable(value)
        return Decimal(repr(value))  # the shortest decimal that reads back as this float
    text = str(value).strip()
    if text in ("", *_DASHES):
        return None
    if not _NUMERIC.fullmatch(text):
        raise _Unreadable(value)
    return Decimal(text.replace(",", ""))


def _figure(field: str, raw: object) -> int | float | None:
    """A thousands figure in persons, or a percentage; at most one decimal either way."""
    number = _decimal(raw)
    if number is None:
        return None
    try:
        exact = number == number.quantize(_TENTH)
    except InvalidOperation:  # more digits than a quantize can hold (1E+30)
        raise _Unreadable(raw) from None
    if not exact:
        raise _Imprecise(raw)
    return int(number * 1000) if field in _PERSONS else float(number)


def _wage(raw: object) -> tuple[int | None, str, int | None]:
    """(wage, status, top code): ``>=$239,200`` is top coded, ``—`` not available.

    Wages are whole dollars (``$50,250`` or 50250.0); a cent fails.
    """
    if isinstance(raw, str):
        if top := _TOP.fullmatch(raw):
            return None, "top_coded", int(top.group(1).replace(",", ""))
        raw = raw.strip().removeprefix("$")
    dollars = _decimal(raw)
    if dollars is None:
        return None, "not_available", None
    if dollars != dollars.to_integral_value():
        raise _Imprecise(raw)
    return int(dollars), "ok", None


def _text(value: object) -> str | None:
    if isinstance(value, float) and math.isnan(value):
        return None
    text = str(value or "").strip()
    return None if text in ("", *_DASHES) else text


@dataclasses.dataclass
class _Cells:
    """Reads cells, collecting those that fail (each as ``code field=raw``)."""

    unreadable: list[str] = dataclasses.field(default_factory=list)
    imprecise: list[str] = dataclasses.field(default_factory=list)

    def read(self, code: str, field: str, raw: object, parse: Callable[[object], object]) -> object:
        try:
            return parse(raw)
        except _Imprecise:
            self.imprecise.append(f"{code} {field}={raw!r}")
        except _Unreadable:
            self.unreadable.append(f"{code} {field}={raw!r}")
        return None

    def check(self, label: str) -> None:
        if self.unreadable:
            raise ValidationError(
                label,
                "numbers or '—'",
                f"{len(self.unreadable)} cells are neither a number nor '—'",
                self.unreadable,
            )
        if self.imprecise:
            raise ValidationError(
                label,
                "published precision",
                f"{len(self.imprecise)} cells have more digits than BLS prints (one decimal "
                "for thousands and percentages, whole dollars for wages)",
                self.imprecise,
            )


def _row(
    rec: dict[str, object], code: str, level: int, vintage: dict[str, object], cells: _Cells
) -> dict[str, object]:
    """One ``projections`` row from one record (known column → raw cell)."""
    figures = {f: cells.read(code, f, rec.get(f), functools.partial(_figure, f)) for f in _NUMBERS}
    wage = cells.read(code, "median_annual_wage", rec.get("median_annual_wage"), _wage)
    amount, status, top = wage if isinstance(wage, tuple) else (None, "not_available", None)
    row = {
        **vintage,
        "soc_code": code,
        "title": str(rec.get("title") or "").strip(),
        "occupation_type": _text(rec.get("occupation_type")),
        "level": level,
        **figures,
        "median_annual_wage": amount,
        "median_wage_status": status,
        "median_wage_top_code": top,
        **{field: _text(rec.get(field)) for field in _TEXTS},
    }
    missing = [
        f
        for f in (*_NUMBERS, "median_annual_wage", *_TEXTS)
        if f in rec and row[f] is None and not (f == "median_annual_wage" and top)
    ]
    return {**row, "not_available": ", ".join(missing) or None}


def _tidy(records: list[dict[str, object]], vintage: dict[str, object], label: str) -> pd.DataFrame:
    """The ``projections`` rows; a column the file carries that is null for a row (``—``,
    or no Table 1.7 row) is named in that row's ``not_available``."""
    codes = [str(rec["soc_code"]).strip() for rec in records]
    cells = _Cells()
    out = [
        _row(rec, code, level, vintage, cells)
        for rec, code, level in zip(
            records, codes, levels([rec.get("title") for rec in records], codes), strict=True
        )
    ]
    cells.check(label)
    tidy = pd.DataFrame.from_records(out, columns=list(COLUMNS))
    for column in (*_PERSONS, "median_annual_wage", "median_wage_top_code", "wage_year"):
        tidy[column] = tidy[column].astype("Int64")
    return tidy


# --- checks of the whole table --------------------------------------------------------------


def validate(frame: pd.DataFrame, label: str) -> None:
    """Codes unique, 00-0000 present, figures in range, change = target − base and percent
    within rounding."""
    dupes = frame[frame["soc_code"].duplicated(keep=False)]
    if not dupes.empty:
        raise ValidationError(
            label,
            "codes unique within a cycle",
            f"{dupes['soc_code'].nunique()} codes repeat",
            list(dupes["soc_code"].head(5)),
        )
    if "00-0000" not in set(frame["soc_code"]):
        raise ValidationError(label, "00-0000 present", "no 'Total, all occupations' row (00-0000)")
    _check_ranges(frame, label)
    _check_change(frame, label)
    _check_percent(frame, label)


def _check_ranges(frame: pd.DataFrame, label: str) -> None:
    """Employment and openings ≥ 0, self-employed within 0–100, wages > 0."""
    bad: list[str] = []
    for field, (_, within) in _BOUNDS.items():
        values = frame[field]
        for code, value in zip(frame["soc_code"], values, strict=True):
            if not pd.isna(value) and not within(value):
                bad.append(f"{code} {field}={value}")
    if bad:
        bounds = ", ".join(f"{f} {b}" for f, (b, _) in _BOUNDS.items())
        raise ValidationError(
            label, "values in range", f"{len(bad)} figures out of range ({bounds})", bad
        )


def _check_change(frame: pd.DataFrame, label: str) -> None:
    both = frame.dropna(subset=["employment_base", "employment_target", "employment_change"])
    # Each figure is rounded to 0.1 thousand (100 persons), so target − base may be 150 off.
    off = both[
        (both["employment_target"] - both["employment_base"] - both["employment_change"]).abs()
        > 150
    ]
    if not off.empty:
        raise ValidationError(
            label,
            "change = target − base within rounding",
            f"{len(off)} rows disagree",
            [
                f"{r.soc_code}: {r.employment_target} − {r.employment_base} ≠ {r.employment_change}"
                for r in off.head(5).itertuples()
            ],
        )


def _check_percent(frame: pd.DataFrame, label: str) -> None:
    pct = frame.dropna(subset=["employment_base", "employment_change", "employment_change_pct"])
    pct = pct[pct["employment_base"] > 0]
    bad = [
        r
        for r in pct.itertuples()
        if not _pct_consistent(r.employment_base, r.employment_change, r.employment_change_pct)
    ]
    if bad:
        raise ValidationError(
            label,
            "percent change consistent within rounding",
            f"{len(bad)} rows disagree",
            [
                f"{r.soc_code}: {r.employment_change} / {r.employment_base} "
                f"≠ {r.employment_change_pct}%"
                for r in bad[:5]
            ],
        )


def _pct_consistent(base: int, change: int, pct: float) -> bool:
    """Is ``pct`` (one decimal) what BLS could print for the unrounded base and change?"""
    lo_b, hi_b = max(base - 50, 1), base + 50
    lo_c, hi_c = change - 50, change + 50
    candidates = [100 * c / b for c in (lo_c, hi_c) for b in (lo_b, hi_b)]
    return min(candidates) - 0.05 - 1e-9 <= pct <= max(candidates) + 0.05 + 1e-9 and not math.isnan(
        pct
    )


def stage_projections(
    path: Path,
    out_dir: Path,
    *,
    release_id: str,
    sources: dict[str, dict[str, object]],
    label: str | None = None,
) -> StagedLoad:
    """Parse and validate one EP workbook; stage ``projections`` rows of its cycle as parquet.

    Header cells no known column claims come back in ``schema_drift`` ("file [sheet]" → cells).
    """
    parsed = parse_workbook(path, label)
    table = stage_frame(parsed.frame, "projections", out_dir, release_id, {"cycle": parsed.cycle})
    return StagedLoad(
        kind="projections",
        vintage=parsed.cycle,
        tables=[table],
        sources=stamp(sources, parsed.cycle),
        schema_drift=dict(parsed.schema_drift),
    )
