"""OEWS special-request files (``oesm{YY}{nat,st,ma,in4,all}.zip`` or a workbook from one).

These are the only source of earlier May reference years. BLS has shipped them as ``.xls``
(2012–2013) and ``.xlsx``, zipped with an ``oesmYYnat/`` folder (or none) beside a
``field_descriptions.xls(x)`` member (2012–2018), or with a ``Field Descriptions`` sheet inside
the workbook (2019 on), and as loose workbooks. Columns are read by name
(:func:`transforms.columns.by_name`): upper or lower case, wherever they stand, ``GROUP`` /
``OCC_GROUP`` / ``O_GROUP``, ``LOC_Q`` / ``LOC_QUOTIENT``, ``H_WPCT10`` / ``H_PCT10``. Columns we
know and do not load (``PCT_TOTAL``, ``PCT_RPT``, ``PRIM_STATE``, ``ST``) are ignored; a header
cell nobody knows is schema drift (reported, the load goes on; several data sheets of one
workbook give one merged entry). A missing ``OCC_CODE``, ``OCC_TITLE`` or any of the 15
measures every real file has (:data:`REQUIRED_MEASURES`: ``TOT_EMP``, ``EMP_PRSE``, the means,
``MEAN_PRSE``, the ten percentiles) fails, showing the header found: a renamed ``TOTAL_EMP`` or
``H_PCT50`` would otherwise drop the measure for the year behind a drift note. ``JOBS_1000`` and
``LOC_QUOTIENT`` are optional (national files 2012–2018 have neither).

Reference year: from the content only (member, workbook and sheet names such as
``national_M2012_dl``, ``nat4d_M2016_owner_dl``, ``state_M2012_dl``, and the Field Descriptions
title "May 2016 OES Estimates"); every source must name the same year, May 2012 or later
(earlier files use other layouts and SOC 2000 or the 2010 hybrid: refused, not guessed at). The
SOC version is the time series' rule, the catalogue's :func:`transforms.oews_catalog.soc_version`.

Cells → ``value`` (the exact digits as published, as text; the lake casts to DECIMAL) and
``status``. Every OEWS measure is ≥ 0: a negative number fails, naming the cells. A number
written with commas must group thousands (``1,234``, ``12,345.5``); ``1,2,3`` fails. Each BLS
marker is accepted only in the columns where the real files (2012–2025) use it; elsewhere it
fails, naming the cells:

* a number → ``ok``;
* ``*`` (wage not available) in a wage column or ``MEAN_PRSE`` → ``suppressed``;
* ``**`` (employment not available) in ``TOT_EMP``, ``EMP_PRSE``, ``JOBS_1000``,
  ``LOC_QUOTIENT`` → ``suppressed``;
* ``#`` in a wage column (means and percentiles) → ``top_coded`` with ``top_code_threshold`` =
  the hourly cap for hourly measures, the annual cap for annual ones (never NaN);
* ``~`` nowhere: BLS's legend defines it for ``PCT_RPT`` (under 0.5 % of establishments report
  the occupation), a column we do not load, and no loaded column of any real file holds one;
* blank → ``not_applicable`` (e.g. ``JOBS_1000`` and ``LOC_QUOTIENT`` in national files from
  2019: "only available for the state and MSA estimates"), never zero, never dropped;
* a ``*`` or blank hourly wage on a row with ``ANNUAL`` = TRUE → ``annual_only`` (teachers,
  pilots: BLS releases only annual wages); an absent annual wage on a row with ``HOURLY`` =
  TRUE → ``hourly_only`` (actors, dancers). The marker stays in ``footnote_codes``.
  ``ANNUAL`` / ``HOURLY`` hold ``TRUE`` or nothing in every real file; ``true`` and an Excel
  boolean TRUE read the same, anything else (``Yes``, ``1``, ``FALSE``) fails.

Top code: the ``$NN.NN per hour or $NNN,NNN per year`` text of that year's field descriptions
(:data:`transforms.oews_catalog.TOP_CODE_TEXT`);
a file without them (the nat4d workbooks up to 2018) falls back to :data:`KNOWN_TOP_CODES`.
When the file holds a ``#`` the cap is in force and no published percentile may exceed it; where
the legend says "equal to or greater than" (2015 on; 2012–2014 print "greater than") none may
equal it either (no real file with ``#`` has one). A printed cap that contradicts the data fails
the load; so does a ``#`` with no cap known. May 2025 prints the legend but no ``#``: every wage
is published, none is checked against it.

Occupation groups: ``O_GROUP`` is ``total``, ``major``, ``minor``, ``broad``, ``detailed`` (or
``detail``, 2012–2014); anything else, blank included, fails naming the value. A file without the
column (none of the real ones) reads every code as ``detailed``.

Duplicates: from May 2017 BLS lists codes it publishes only at the broad level twice (13-1020
as ``broad`` and as ``detailed``, same values). Rows with one key (area, industry, ownership,
occupation) whose values all agree become one row, its occupation level ``detailed``; rows
that disagree fail the load, naming both.

Areas: ``AREA`` 99 / type 1 → ``0000000`` (N); type 1 with another ``AREA``, or ``AREA`` 99 with
another type, fails naming the row. A state or territory (type 2/3, or a 1–2 digit FIPS code in
a file without ``AREA_TYPE``, e.g. ``state_M2012_dl``) → ``SS00000`` (S), named from
``AREA_TITLE`` or ``STATE``; metro / nonmetro (type 4/6, or a longer code) → 7 digits (M). The
postal ``ST`` column is known and not loaded (the FIPS code carries the state).

Industries: the 6-digit code form the time series uses (``000000``, ``611100``, sectors
``62--63``); a 4-digit NAICS written short (``6111``) is padded on the right. Ownership is its
own column: cross-industry private rows become ``000001`` (the time series' code for them);
industry rows keep their NAICS code (the time series' ownership-suffixed ``611105`` is the
pair ``611100`` + ``private`` here). A file without ownership columns is ``all``; a blank
``OWN_CODE`` or ``OWNERSHIP`` cell fails naming the row (no real file leaves one blank).
"""

from __future__ import annotations

import dataclasses
import enum
import itertools
import re
import zipfile
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from python_calamine import CalamineWorkbook

from core.errors import ValidationError
from core.staging import StagedLoad, stage_frame, stamp
from transforms import oews_catalog
from transforms.columns import Columns, by_name, normalise
from transforms.workbook import ZIP_ERRORS, open_workbook, sheet_rows

MAX_MEMBER_BYTES = 512 * 1024 * 1024  # a zip bomb stops here, not in memory
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a legacy .xls workbook
FIRST_YEAR = 2012  # earlier files: other layouts, SOC 2000 / the 2010 hybrid

# measure → the normalised header spellings BLS has used for it (the catalogue's, in the
# order the workbooks put the columns)
MEASURES: dict[str, tuple[str, ...]] = {d.measure: d.columns for d in oews_catalog.DATATYPES}
# Every real file (national 2012–2025, state 2012, nat4d 2016–2019) has all but these two.
OPTIONAL_MEASURES = ("jobs_per_1000", "location_quotient")
REQUIRED_MEASURES = tuple(m for m in MEASURES if m not in OPTIONAL_MEASURES)
EMPLOYMENT_MEASURES = ("employment", "employment_prse", "jobs_per_1000", "location_quotient")
WAGE_MEASURES = tuple(m for m in MEASURES if m.startswith(("hourly_", "annual_")))
# marker → the measures it may stand in: where the real files (2012–2025) use it
MARKER_MEASURES: dict[str, frozenset[str]] = {
    "#": frozenset(WAGE_MEASURES),
    "*": frozenset({*WAGE_MEASURES, "mean_prse"}),
    "**": frozenset(EMPLOYMENT_MEASURES),
    "~": frozenset(),  # only PCT_RPT, not loaded
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "occ_code": ("occ_code",),
    "occ_title": ("occ_title", "occ_titl"),
}
DESCRIPTORS: dict[str, tuple[str, ...]] = {
    "area": ("area",),
    "area_title": ("area_title", "area_name"),
    "state": ("state",),
    "area_type": ("area_type",),
    "naics": ("naics",),
    "naics_title": ("naics_title",),
    "i_group": ("i_group",),
    "own_code": ("own_code",),
    "ownership": ("ownership",),
    "o_group": ("o_group", "occ_group", "group"),
    "annual": ("annual",),
    "hourly": ("hourly",),
}
# Known and not loaded: not schema drift.
IGNORED = ("pct_total", "pct_rpt", "prim_state", "st")

# BLS's documented caps (README of the real samples; FORMATS.md §3.4), used only where a file
# prints none: (hourly, annual). 2012–2014 "greater than", 2015 "greater than or equal to",
# 2016 on "equal to or greater than".
KNOWN_TOP_CODES: dict[int, tuple[Decimal, Decimal]] = {
    **{y: (Decimal("90.00"), Decimal("187200")) for y in range(2012, 2016)},
    **{y: (Decimal("100.00"), Decimal("208000")) for y in range(2016, 2022)},
    **{y: (Decimal("115.00"), Decimal("239200")) for y in range(2022, 2026)},
}
INCLUSIVE_CAP_FROM = 2015  # the first year whose # includes the cap itself

# OWN_CODE (2019 on) and OWNERSHIP text (up to 2018) → one vocabulary. The codes and their
# wording are BLS's field descriptions ("1= Federal Government; 2= State Government; …").
OWNERSHIP_CODES: dict[str, str] = {
    "1": "federal",
    "2": "state",
    "3": "local",
    "123": "federal_state_local",
    "235": "private_state_local",
    "35": "private_local",
    "5": "private",
    "57": "private_local_gambling",
    "58": "private_state_local_hospitals",
    "59": "private_postal",
    "1235": "all",
}
OWNERSHIP_TEXTS: dict[str, str] = {
    "federal government": "federal",
    "federal": "federal",
    "state government": "state",
    "state": "state",
    "local government": "local",
    "local": "local",
    "federal, state, and local government": "federal_state_local",
    "private, state, and local government": "private_state_local",
    "private and local government": "private_local",
    "private": "private",
    "private sector": "private",
    "private, local government gambling establishments (sector 71), and local government "
    "casino hotels (sector 72)": "private_local_gambling",
    "private plus state and local government hospitals": "private_state_local_hospitals",
    "private and postal service": "private_postal",
    "federal, state, and local government and private sector": "all",
    "cross-industry": "all",
    "all": "all",
}


class Status(enum.IntEnum):
    """An estimate's status; the value indexes :data:`STATUSES` (the names the lake stores)."""

    OK = 0
    SUPPRESSED = 1
    TOP_CODED = 2
    NOT_APPLICABLE = 3
    ANNUAL_ONLY = 4
    HOURLY_ONLY = 5


STATUSES = tuple(s.name.lower() for s in Status)

_LEVELS = {
    "total": "total",
    "major": "major",
    "minor": "minor",
    "broad": "broad",
    "detailed": "detailed",
    "detail": "detailed",
}
_AREA_TYPES = {"1": "N", "2": "S", "3": "S", "4": "M", "6": "M"}
_MARKERS = tuple(MARKER_MEASURES)
# a number as BLS writes it: thousands grouped (1,234 / 12,345.5) or plain (1234, 0.1, 1e-05)
_NUMBER = (
    r"-?(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?"
    r"|(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)"
)
_SOC = r"\d{2}-\d{4}"

# "national_M2012_dl", "nat4d_M2016_owner_dl", "Nat4d_owner_M2019_dl", "all_data_M_2023",
# "national_may2003_dl" (read, then refused as before May 2012), "All May 2023 data"
_NAME_YEAR = re.compile(r"(?:^|[_\s])(?:may|m)[\s_]?((?:19|20)\d{2})(?![0-9])", re.IGNORECASE)
_TITLE_YEAR = re.compile(r"^\s*May\s+((?:19|20)\d{2})\b", re.IGNORECASE)  # "May 2016 OES …"
_FIELD_DESCRIPTIONS = re.compile(r"field[\s_]*desc", re.IGNORECASE)


@dataclasses.dataclass(frozen=True)
class SpecialRequest:
    reference_year: int
    member: str
    estimates: pd.DataFrame
    occupations: pd.DataFrame
    areas: pd.DataFrame
    industries: pd.DataFrame
    # file label (or "label: member") → header cells no known column claims
    schema_drift: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    # (hourly, annual) cap in force, and where it came from ("printed" / "documented")
    top_code: tuple[Decimal, Decimal] | None = None
    top_code_source: str | None = None


@dataclasses.dataclass(frozen=True)
class _Book:
    name: str  # the member name in a zip, or the file's label
    book: CalamineWorkbook
    descriptions_only: bool  # a field_descriptions.xls(x) member


@dataclasses.dataclass(frozen=True)
class _Sheet:
    member: str
    sheet: str
    columns: Columns
    frame: pd.DataFrame  # canonical column names, object cells, header row dropped
    first_row: int  # spreadsheet row number of the frame's first row


@dataclasses.dataclass(frozen=True)
class _TopCode:
    cap: tuple[Decimal, Decimal]  # (hourly, annual)
    source: str  # "printed" / "documented"
    inclusive: bool  # "equal to or greater than" (2015 on), not "greater than" (2012–2014)


# --------------------------------------------------------------------------- reading


def _open_book(data: bytes | Path, label: str, name: str) -> CalamineWorkbook:
    """A workbook (the file, or a zip member's bytes), its sizes checked before calamine
    allocates anything (transforms.workbook)."""
    return open_workbook(data, label, name=None if name == label else name)


def _workbooks(path: Path, label: str) -> tuple[list[_Book], bool]:
    """Every workbook of the file (names checked, sizes bounded), and whether it was a zip."""
    if not zipfile.is_zipfile(path):
        with path.open("rb") as fh:
            if fh.read(len(OLE2_MAGIC)) != OLE2_MAGIC:
                raise ValidationError(label, "zip, xlsx or xls", "not a zip/xlsx/xls file")
        return [_Book(label, _open_book(path, label, label), False)], False
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if "xl/workbook.xml" in names:
                return [_Book(label, _open_book(path, label, label), False)], False
            members = (_member_book(archive, info, label) for info in archive.infolist())
            books = [book for book in members if book is not None]
    except ZIP_ERRORS as exc:  # the zip's own structures damaged
        raise ValidationError(
            label, "readable zip", f"a damaged zip ({type(exc).__name__}: {exc})"
        ) from exc
    if not any(not b.descriptions_only for b in books):
        raise ValidationError(
            label, "workbooks in zip", f"no .xlsx/.xls data member; got {names[:5]}"
        )
    return books, True


def _member_book(archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: str) -> _Book | None:
    """One zip member as a workbook, its name checked and its size bounded; None for a member
    that is no workbook (a folder, another file, an Excel lock file)."""
    name = info.filename
    if name.startswith(("/", "\\")) or ".." in Path(name).parts or ":" in name:
        raise ValidationError(label, "safe zip member names", f"refusing member {name!r}")
    base = Path(name).name
    if info.is_dir() or not base.lower().endswith((".xlsx", ".xls")):
        return None
    if base.startswith("~$"):  # an Excel lock file zipped by accident
        return None
    if info.file_size > MAX_MEMBER_BYTES:
        raise ValidationError(
            label,
            "member size limit",
            f"{name} unpacks to {info.file_size:,} bytes (limit {MAX_MEMBER_BYTES:,})",
        )
    with archive.open(info) as fh:
        data = fh.read(MAX_MEMBER_BYTES + 1)
    if len(data) > MAX_MEMBER_BYTES:
        raise ValidationError(label, "member size limit", f"{name} is larger than declared")
    descriptions = bool(_FIELD_DESCRIPTIONS.search(base))
    return _Book(name, _open_book(data, label, name), descriptions)


def _header_row(rows: list[list[object]]) -> int | None:
    for i, row in enumerate(rows[:10]):
        if "occ_code" in {normalise(c) for c in row}:
            return i
    return None


_KNOWN = {s for spellings in (*MEASURES.values(), *REQUIRED.values()) for s in spellings}


def _data_sheets(
    books: list[_Book], label: str, zipped: bool
) -> tuple[list[_Sheet], dict[str, list[str]]]:
    """Every sheet whose header holds OCC_CODE, its columns matched by name."""
    found: list[_Sheet] = []
    drift: dict[str, list[str]] = {}
    lookalike: tuple[str, list[list[object]]] | None = None
    for book in books:
        if book.descriptions_only:
            continue
        for sheet in book.book.sheet_names:
            if _FIELD_DESCRIPTIONS.search(sheet):
                continue
            head = sheet_rows(book.book, sheet, label, skip_empty_area=False, nrows=10)
            at = _header_row(head)
            if at is None:
                if lookalike is None and any(normalise(c) in _KNOWN for r in head for c in r):
                    lookalike = (f"{book.name} sheet '{sheet}'", head)
                continue
            where = f"{label}: {book.name}" if zipped else label
            rows = sheet_rows(book.book, sheet, where, skip_empty_area=False)
            read = _read_sheet(book.name, sheet, rows, at, where)
            if read.columns.unknown:  # a workbook's sheets: one entry, every new cell once
                seen = drift.setdefault(where, [])
                seen += [c for c in read.columns.unknown if c not in seen]
            found.append(read)
    if not found:
        if lookalike is not None:  # a data sheet without OCC_CODE: say what its header is
            where, head = lookalike
            row = next(r for r in head if any(normalise(c) in _KNOWN for c in r))
            _match(row, f"{label}: {where}")
        raise ValidationError(label, "OEWS data sheet", "no sheet with an OCC_CODE header")
    return found, drift


def _read_sheet(member: str, sheet: str, rows: list[list[object]], at: int, where: str) -> _Sheet:
    """One data sheet: its columns matched by name in header row ``at``, the rows below it
    under their canonical names."""
    columns = _match(rows[at], where)
    body = pd.DataFrame(rows[at + 1 :], dtype=object)
    frame = pd.DataFrame(
        {
            name: (body[index] if index in body.columns else pd.Series(dtype=object))
            for name, index in columns.positions.items()
        }
    )
    return _Sheet(member, sheet, columns, frame, at + 2)


def _match(header: list[object], where: str) -> Columns:
    optional = {**DESCRIPTORS, **MEASURES}
    columns = by_name(header, where, required=REQUIRED, optional=optional, ignored=IGNORED)
    shown = [str(c).strip() for c in header if str(c).strip()]
    if not any(m in columns for m in MEASURES):
        raise ValidationError(
            where,
            "required columns",
            f"no employment or wage column (TOT_EMP, A_MEAN, H_MEDIAN, …); header found: {shown}",
        )
    missing = [MEASURES[m][0].upper() for m in REQUIRED_MEASURES if m not in columns]
    if missing:
        raise ValidationError(
            where,
            "required columns",
            f"missing measure columns {missing}; not recognised {columns.unknown}; "
            f"header found: {shown}",
        )
    return columns


def _description_texts(books: list[_Book]) -> list[tuple[str, list[str]]]:
    """(where, row texts) of every field-descriptions member or sheet (a row's cells joined:
    the legend may hold ``#`` and its wording in one cell or in two)."""
    out = []
    for book in books:
        for sheet in book.book.sheet_names:
            if book.descriptions_only or _FIELD_DESCRIPTIONS.search(sheet):
                rows = sheet_rows(book.book, sheet, book.name, nrows=200)
                lines = [" ".join(str(c).strip() for c in r if str(c).strip()) for r in rows]
                out.append((f"{book.name} sheet '{sheet}'", [t for t in lines if t]))
    return out


def _year(
    label: str,
    path: Path,
    books: list[_Book],
    sheets: list[_Sheet],
    descriptions: list[tuple[str, list[str]]],
    zipped: bool,
) -> int:
    seen: dict[int, list[str]] = {}
    names = [Path(b.name).stem for b in books if not b.descriptions_only]
    names += [s.sheet for s in sheets]
    if not zipped:
        names += [Path(label).stem, path.stem]
    for name in names:
        for m in _NAME_YEAR.finditer(name):
            seen.setdefault(int(m.group(1)), []).append(repr(name))
    for where, cells in descriptions:
        for cell in cells:
            if m := _TITLE_YEAR.match(cell):
                seen.setdefault(int(m.group(1)), []).append(f"{where}: {cell!r}")
    if len(seen) != 1:
        found = "; ".join(f"{y} in {', '.join(sorted(set(w)))}" for y, w in sorted(seen.items()))
        raise ValidationError(
            label,
            "one May reference year",
            "expected one year in the member, workbook or sheet names (national_M2012_dl) or "
            f"the Field Descriptions title ('May 2016 OES Estimates'); found {found or 'none'}",
        )
    return next(iter(seen))


def _supported(year: int, label: str) -> int:
    if year < FIRST_YEAR:
        raise ValidationError(
            label,
            f"a reference year of May {FIRST_YEAR} or later",
            f"May {year}: special-request files before May {FIRST_YEAR} use layouts and SOC "
            "versions this version does not load",
        )
    return year


def _printed_top_code(
    label: str, descriptions: list[tuple[str, list[str]]]
) -> tuple[tuple[Decimal, Decimal], bool] | None:
    """The cap the legend prints, and whether it is inclusive ("equal to or greater than")."""
    printed: dict[tuple[Decimal, Decimal], tuple[str, bool]] = {}
    for where, cells in descriptions:
        for cell in cells:
            if "#" in cell and (found := oews_catalog.top_code_in(cell)):
                printed.setdefault(found.cap, (where, "equal" in cell.lower()))
    if len(printed) > 1:
        raise ValidationError(
            label,
            "one top code",
            "the field descriptions print different caps: "
            + "; ".join(f"${h}/hour, ${a}/year in {w}" for (h, a), (w, _) in printed.items()),
        )
    return next(((cap, inclusive) for cap, (_, inclusive) in printed.items()), None)


def _top_code(label: str, descriptions: list[tuple[str, list[str]]], year: int) -> _TopCode | None:
    """The cap printed in the file, else the one documented for the year, else none."""
    if printed := _printed_top_code(label, descriptions):
        return _TopCode(printed[0], "printed", printed[1])
    if year in KNOWN_TOP_CODES:
        return _TopCode(KNOWN_TOP_CODES[year], "documented", year >= INCLUSIVE_CAP_FROM)
    return None


# --------------------------------------------------------------------------- cells


_KINDS = {float: 0, int: 0, str: 1, type(None): 2}  # anything else: 3


def _text(column: pd.Series) -> pd.Series:
    """Cells as stripped text, '' for empty ones, built column-wise in Arrow.

    A number cell (a double in the workbook) reads as its shortest round-trip digits, without
    a trailing '.0': the double 0.1 reads '0.1', never 0.1000000000000000055; 1235.0 reads
    '1235' (Excel stores codes such as OWN_CODE or AREA as numbers at times). This is not
    :func:`transforms.columns.normalise` (which lower-cases, drops footnote marks and turns
    only whole floats into integers, one Python call per cell): a value must keep its digits.
    """
    cells = column.to_numpy(dtype=object)
    kinds = np.fromiter(
        map(_KINDS.get, map(type, cells), itertools.repeat(3)), dtype=np.int8, count=len(cells)
    )
    number = kinds == 0
    floats = np.zeros(len(cells))
    if number.any():
        floats[number] = cells[number].astype(float)
    empty_number = number & np.isnan(floats)
    others = np.where(number, None, cells)
    odd = kinds == 3
    if odd.any():  # a boolean or a date where text or a number belongs: as Python writes it
        others[odd] = [str(v) for v in others[odd]]
    digits = pc.cast(pa.array(np.where(empty_number, 0.0, floats)), pa.string())
    words = pc.utf8_trim_whitespace(pa.array(others, type=pa.string()).fill_null(""))
    text = pc.if_else(pa.array(number & ~empty_number), digits, words)
    return pd.Series(pd.array(text, dtype="str"), index=column.index)


_code = _text  # a code cell: '1235', '99', '000000'


def _number_text(text: pd.Series) -> pd.Series:
    """Numeric text → canonical exact digits: no thousands separators, no exponent."""
    digits = text.str.replace(",", "", regex=False)
    exp = digits.str.contains("e", case=False, regex=False)
    if exp.any():
        digits = digits.copy()
        digits[exp] = [format(Decimal(t), "f") for t in digits[exp]]
    return digits


@dataclasses.dataclass(frozen=True)
class _Cells:
    text: pd.Series  # canonical digits, a marker, '' or the cell as found (unreadable)
    number: pd.Series  # bool: a number
    marker: pd.Series  # bool: * ** # ~
    blank: pd.Series  # bool: empty

    def rows(self, keep: pd.Series) -> _Cells:
        return _Cells(self.text[keep], self.number[keep], self.marker[keep], self.blank[keep])


def _cells(column: pd.Series) -> _Cells:
    raw = _text(column)
    numeric = raw.str.fullmatch(_NUMBER)
    if numeric.any() and (raw[numeric].str.contains(r"[,eE]", regex=True)).any():
        raw = raw.where(~numeric, _number_text(raw.where(numeric, "0")))
    return _Cells(raw, numeric, raw.isin(_MARKERS), raw == "")


def _where(raw: pd.DataFrame, soc: pd.Series, bad: pd.Series) -> list[str]:
    """'member row N code' of each flagged row (the start of an example)."""
    return [
        f"{w} row {r} {c}"
        for w, r, c in zip(raw["_where"][bad], raw["_row"][bad], soc[bad], strict=True)
    ]


def _cell_examples(
    raw: pd.DataFrame, soc: pd.Series, column: str, cells: pd.Series, bad: pd.Series
) -> list[str]:
    return [f"{at} {column}={t!r}" for at, t in zip(_where(raw, soc, bad), cells[bad], strict=True)]


# measure → the markers it may hold
_MARKERS_OF = {m: [k for k, where in MARKER_MEASURES.items() if m in where] for m in MEASURES}
_CELL_CHECKS = (
    (
        "values are numbers, blanks or BLS markers (*, **, #, ~)",
        "cells that are no number (commas only grouping thousands: 1,234), blank or marker",
        lambda m, c: ~(c.number | c.marker | c.blank),
    ),
    (
        "OEWS measures are not negative",
        "negative numbers (every OEWS measure is ≥ 0)",
        lambda m, c: c.number & c.text.str.startswith("-"),
    ),
    (
        "numbers have at most three decimals",
        "numbers with a digit beyond the third decimal, which the warehouse (three decimals) "
        "would round away",
        lambda m, c: c.number & c.text.str.contains(r"\.\d{3}0*[1-9]", regex=True),
    ),
    (
        "BLS markers only where BLS uses them",
        "markers out of place (# only in wage columns; * in wage columns and MEAN_PRSE; ** in "
        "TOT_EMP, EMP_PRSE, JOBS_1000, LOC_QUOTIENT; ~ in no loaded column)",
        lambda m, c: c.marker & ~c.text.isin(_MARKERS_OF[m]),
    ),
)


def _check_cells(raw: pd.DataFrame, soc: pd.Series, cells: dict[str, _Cells], label: str) -> None:
    """Every measure cell is a number ≥ 0 in exact notation, a blank, or a marker BLS uses in
    that column; otherwise fail, naming the cells."""
    for check, what, flagged in _CELL_CHECKS:
        bad = []
        for m, c in cells.items():
            mask = flagged(m, c)
            if mask.any():
                bad += _cell_examples(raw, soc, m, c.text, mask)
        if bad:
            raise ValidationError(label, check, f"{len(bad)} cells: {what}", bad)


# --------------------------------------------------------------------------- keys


def _levels(raw: pd.DataFrame, soc: pd.Series, label: str) -> pd.Series:
    """O_GROUP lower-cased, one of :data:`_LEVELS` on every row ('' without the column)."""
    if "o_group" not in raw:
        return pd.Series([""] * len(raw), index=raw.index)
    given = _text(raw["o_group"])
    group = given.str.lower()
    bad = ~group.isin(list(_LEVELS))
    if bad.any():
        raise ValidationError(
            label,
            "known O_GROUP",
            f"O_GROUP {sorted(set(group[bad]))} (known: {', '.join(_LEVELS)})",
            _cell_examples(raw, soc, "O_GROUP", given, bad),
        )
    return group


def _flag(raw: pd.DataFrame, soc: pd.Series, column: str, label: str) -> pd.Series:
    """ANNUAL / HOURLY: TRUE (any case, or an Excel boolean) or blank; else fail."""
    if column not in raw:
        return pd.Series(False, index=raw.index)
    given = _text(raw[column])
    upper = given.str.upper()
    bad = ~upper.isin(["TRUE", ""])
    name = column.upper()
    if bad.any():
        raise ValidationError(
            label,
            f"{name} is TRUE or blank",
            f"{int(bad.sum())} rows hold {sorted(set(given[bad]))}",
            _cell_examples(raw, soc, name, given, bad),
        )
    return upper == "TRUE"


def _area_keys(
    frame: pd.DataFrame, soc: pd.Series, label: str
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(area_code, area type N/S/M, name) per row."""
    n = len(frame)
    area = _code(frame["area"]) if "area" in frame else pd.Series([""] * n, index=frame.index)
    if "area_type" in frame:
        kind = _code(frame["area_type"])
        unknown = sorted(set(kind[~kind.isin(list(_AREA_TYPES))]))
        if unknown:
            raise ValidationError(
                label,
                "known AREA_TYPE",
                f"AREA_TYPE {unknown} (known: 1 U.S., 2 state, 3 territory, 4 MSA, 6 nonmetro)",
            )
        types = kind.map(_AREA_TYPES)
        _check_national(frame, soc, area, kind, types == "N", label)
    else:  # older state and metro files: the code's length says which
        types = pd.Series(
            np.select(
                [area.isin(["", "99"]), area.str.fullmatch(r"\d{1,2}")], ["N", "S"], default="M"
            ),
            index=frame.index,
        )
    codes = pd.Series(
        np.select(
            [types == "N", types == "S"],
            ["0000000", area.str.zfill(2) + "00000"],
            default=area.str.zfill(7),
        ),
        index=frame.index,
    )
    bad = (types != "N") & ~area.str.fullmatch(r"\d{1,7}")
    if bad.any():
        raise ValidationError(
            label, "numeric AREA codes", f"{int(bad.sum())} rows", sorted(set(area[bad]))
        )
    name = pd.Series(["U.S."] * n, index=frame.index)
    for column in ("state", "area_title"):
        if column in frame:
            given = _text(frame[column])
            name = given.where(given != "", name)
    return codes, types, name


def _check_national(
    frame: pd.DataFrame,
    soc: pd.Series,
    area: pd.Series,
    kind: pd.Series,
    national: pd.Series,
    label: str,
) -> None:
    """AREA_TYPE 1 (the U.S.) goes with AREA 99 and only with it."""
    bad = national != (area == "99")
    if bad.any():
        raise ValidationError(
            label,
            "AREA 99 is AREA_TYPE 1 (the U.S.)",
            f"{int(bad.sum())} rows pair the U.S. code or type with another",
            [
                f"{at}: AREA {a!r} with AREA_TYPE {k!r}"
                for at, a, k in zip(_where(frame, soc, bad), area[bad], kind[bad], strict=True)
            ],
        )


def _ownership(frame: pd.DataFrame, soc: pd.Series, label: str) -> pd.Series:
    """One ownership per row from OWN_CODE and/or OWNERSHIP; ``all`` without either column."""
    n = len(frame)
    result = pd.Series(["all"] * n, index=frame.index, dtype=object)
    mapped: list[pd.Series] = []
    if "own_code" in frame:
        code = _code(frame["own_code"])
        _blank_ownership(frame, soc, "OWN_CODE", code, label)
        by_code = code.map({c: OWNERSHIP_CODES.get(c) for c in code.unique()})
        _unknown_ownership(label, "OWN_CODE", code, by_code)
        mapped.append(by_code)
    if "ownership" in frame:
        text = _code(frame["ownership"])
        _blank_ownership(frame, soc, "OWNERSHIP", text, label)
        by_text = text.map(
            {t: OWNERSHIP_CODES.get(t, OWNERSHIP_TEXTS.get(normalise(t))) for t in text.unique()}
        )
        _unknown_ownership(label, "OWNERSHIP", text, by_text)
        mapped.append(by_text)
    if len(mapped) == 2 and not (mapped[0] == mapped[1]).all():
        differ = mapped[0] != mapped[1]
        raise ValidationError(
            label,
            "OWN_CODE and OWNERSHIP agree",
            f"{int(differ.sum())} rows disagree",
            [
                f"OWN_CODE {c!r} vs OWNERSHIP {t!r}"
                for c, t in zip(
                    frame.loc[differ, "own_code"], frame.loc[differ, "ownership"], strict=True
                )
            ],
        )
    return mapped[0] if mapped else result


def _blank_ownership(
    frame: pd.DataFrame, soc: pd.Series, column: str, given: pd.Series, label: str
) -> None:
    """A blank cell in an ownership column is no ownership we could name (it used to read as
    ``all``); no real file leaves one blank."""
    blank = given == ""
    if blank.any():
        raise ValidationError(
            label,
            f"{column} is given on every row",
            f"{int(blank.sum())} rows leave {column} blank",
            _where(frame, soc, blank),
        )


def _unknown_ownership(label: str, column: str, given: pd.Series, mapped: pd.Series) -> None:
    unknown = sorted(set(given[mapped.isna()]))
    if unknown:
        raise ValidationError(
            label,
            "known ownership",
            f"{column} {unknown} is not a known ownership (codes "
            f"{', '.join(OWNERSHIP_CODES)}; texts such as 'Private', 'State government')",
        )


# The time series name a sector by its first NAICS sector and the one after its last
# (oe.industry: "31--34" Manufacturing, sectors 31 to 33); three sectors span several
# numbers, and government (OES's sector 99) is "99-100", with one dash.
_SECTOR_CODES = {"31": "31--34", "44": "44--46", "48": "48--50", "99": "99-100"}


def sector_code(first: str) -> str:
    """The time series' code of the sector whose first NAICS two digits are ``first``."""
    return _SECTOR_CODES.get(first, f"{first}--{int(first) + 1:02d}")


def _industry_keys(
    frame: pd.DataFrame, ownership: pd.Series
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(industry_code, name, level) per row."""
    n = len(frame)
    if "naics" in frame:
        naics = _code(frame["naics"])
    else:
        naics = pd.Series(["000000"] * n, index=frame.index)
    naics = naics.where(naics != "0", "000000")  # cross-industry stored as the number 0
    short = naics.str.fullmatch(r"\d{2,5}")
    naics = naics.where(~short, naics.str.ljust(6, "0"))  # 6111 → 611100
    group = (
        _text(frame["i_group"]).str.lower()
        if "i_group" in frame
        else pd.Series([""] * n, index=frame.index)
    )
    code = naics.where(~((naics == "000000") & (ownership == "private")), "000001")
    # A sector: I_GROUP says so where the file has it (from 2019), and its code says so in
    # any year: a NAICS range ("31-33") or two digits and zeros ("62", "310000"); no 3- to
    # 6-digit industry code ends in four zeros.
    sector_form = naics.str.fullmatch(r"\d{2}(?:-\d{2}|0000)") & (naics != "000000")
    is_sector = sector_form & ((group == "sector") | (group == ""))
    if is_sector.any():  # "31-33", "31" or "310000" → "31--34", the time series' sector codes
        first = naics[is_sector].str[:2]
        code = code.copy()
        code[is_sector] = first.map(sector_code)
    name = (
        _text(frame["naics_title"])
        if "naics_title" in frame
        else pd.Series(["Cross-industry"] * n, index=frame.index)
    )
    # display level as in oe.industry: 0 cross-industry, 1 its private-only twin, 2 sector,
    # then the number of NAICS digits (from I_GROUP when given, else the code)
    digits = group.str.extract(r"(\d)-digit")[0]
    from_code = code.str.rstrip("0").str.len().clip(lower=2, upper=6).astype(str)
    level = digits.fillna(from_code).astype(int)
    level = level.where(~is_sector & ~code.str.contains("--", regex=False), 2)
    level = level.where(code != "000001", 1).where(code != "000000", 0)
    return code, name, level


# --------------------------------------------------------------------------- parse


def parse_special(path: Path, label: str | None = None) -> SpecialRequest:
    """One special-request file → its tables, in three steps: read (workbooks, data sheets,
    year and top code), check the rows (codes, cells, keys, duplicates, caps), build the
    tables. Each step raises ValidationError naming the file, the rule and the cells."""
    label = label or path.name
    books, zipped = _workbooks(path, label)
    sheets, drift = _data_sheets(books, label, zipped)
    descriptions = _description_texts(books)
    year = _supported(_year(label, path, books, sheets, descriptions, zipped), label)
    top = _top_code(label, descriptions, year)

    raw = _stacked(sheets, label, zipped)
    measures = [m for m in MEASURES if m in raw.columns]
    raw, soc, cells = _table_rows(raw, measures, label)
    _check_cells(raw, soc, cells, label)
    rows = _keyed_rows(raw, soc, cells, label)
    rows = _collapse_duplicates(rows, raw, measures, label).reset_index(drop=True)
    _check_top_codes(rows, measures, top, year, label)

    return SpecialRequest(
        year,
        ", ".join(sorted({s.member for s in sheets})),
        _estimates(rows, measures, top, year, label),
        _occupations(rows, year),
        _areas(rows),
        _industries(rows),
        drift,
        top.cap if top else None,
        top.source if top else None,
    )


def _stacked(sheets: list[_Sheet], label: str, zipped: bool) -> pd.DataFrame:
    """Every data sheet's rows in one frame, with where each came from (member, row)."""
    frames = []
    for sheet in sheets:
        frame = sheet.frame.copy()
        frame["_where"] = sheet.member if zipped else label
        frame["_row"] = np.arange(sheet.first_row, sheet.first_row + len(frame))
        frames.append(frame)
    raw = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return raw.reset_index(drop=True)


def _table_rows(
    raw: pd.DataFrame, measures: list[str], label: str
) -> tuple[pd.DataFrame, pd.Series, dict[str, _Cells]]:
    """The rows of the table (padding and footnote lines under it dropped), their SOC codes
    (checked) and their measure cells."""
    soc = _code(raw["occ_code"])
    cells = {m: _cells(raw[m]) for m in measures}
    empty = pd.Series(True, index=raw.index)
    for c in cells.values():
        empty &= c.blank
    # A row with neither code nor values is padding (or a footnote line under the table).
    keep = ~((soc == "") & empty)
    bad = keep & ~soc.str.fullmatch(_SOC)
    if bad.any():
        raise ValidationError(
            label,
            "OCC_CODE is a SOC code (NN-NNNN)",
            f"{int(bad.sum())} rows",
            [
                f"{w} row {r}: {c!r}"
                for w, r, c in zip(raw["_where"][bad], raw["_row"][bad], soc[bad], strict=True)
            ],
        )
    return raw[keep], soc[keep], {m: c.rows(keep) for m, c in cells.items()}


def _keyed_rows(
    raw: pd.DataFrame, soc: pd.Series, cells: dict[str, _Cells], label: str
) -> pd.DataFrame:
    """One row per table row: its keys (area, industry, ownership, occupation), what the
    estimates need of the row (group, ANNUAL, HOURLY) and the canonical measure cells."""
    ownership = _ownership(raw, soc, label)
    area_code, area_type, area_name = _area_keys(raw, soc, label)
    industry_code, industry_name, industry_level = _industry_keys(raw, ownership)
    return pd.DataFrame(
        {
            "area_code": area_code,
            "industry_code": industry_code,
            "ownership": ownership,
            "soc_code": soc,
            "title": _text(raw["occ_title"]),
            "group": _levels(raw, soc, label),
            "annual": _flag(raw, soc, "annual", label),
            "hourly": _flag(raw, soc, "hourly", label),
            "area_type": area_type,
            "area_name": area_name,
            "industry_name": industry_name,
            "industry_level": industry_level,
            **{m: c.text for m, c in cells.items()},
        }
    )


def _collapse_duplicates(
    rows: pd.DataFrame, raw: pd.DataFrame, measures: list[str], label: str
) -> pd.DataFrame:
    """One row per key; rows repeated with every value equal (BLS's broad + detailed listing
    of one code) become one row of level 'detailed'; repeated rows that differ fail."""
    key = ["area_code", "industry_code", "ownership", "soc_code"]
    repeated = rows.duplicated(key, keep=False)
    if not repeated.any():
        return rows
    compared = ["title", "annual", "hourly", *measures]
    dupes = rows[repeated]
    distinct = dupes.drop_duplicates([*key, *compared])
    conflicting = distinct[distinct.duplicated(key, keep=False)]
    if not conflicting.empty:
        examples = []
        for _, group in conflicting.groupby(key, sort=False):
            first, second = group.index[0], group.index[1]
            differ = [
                f"{c.upper()} {rows.at[first, c]!r} vs {rows.at[second, c]!r}"
                for c in compared
                if rows.at[first, c] != rows.at[second, c]
            ]
            examples.append(
                f"{rows.at[first, 'soc_code']} at {raw.at[first, '_where']} row "
                f"{raw.at[first, '_row']} ({rows.at[first, 'group'] or 'no group'}) and row "
                f"{raw.at[second, '_row']} ({rows.at[second, 'group'] or 'no group'}) differ: "
                + ", ".join(differ)
            )
        raise ValidationError(
            label,
            "a code listed twice has the same values",
            f"{conflicting.groupby(key).ngroups} codes are listed twice with different values",
            examples,
        )
    detailed = dupes.groupby(key, sort=False)["group"].transform(
        lambda g: "detailed" if (g.map(_LEVELS.get) == "detailed").any() else g.iloc[0]
    )
    rows = rows.copy()
    rows.loc[detailed.index, "group"] = detailed
    return rows[~rows.duplicated(key, keep="first")]


# --------------------------------------------------------------------------- top code


def _check_top_codes(
    rows: pd.DataFrame, measures: list[str], top: _TopCode | None, year: int, label: str
) -> None:
    """A ``#`` needs a known cap; with one in force the published percentiles must fit it."""
    top_coded = [m for m in measures if (rows[m] == "#").any()]
    if not top_coded:
        return  # no # (May 2025): the cap is not in force, nothing to check
    if top is None:
        sample = [
            f"{code} {m}=#" for m in top_coded for code in rows["soc_code"][rows[m] == "#"].head(3)
        ]
        raise ValidationError(
            label,
            "a top code for every #",
            f"# but no cap known for May {year}: the file prints none and none is documented",
            sample,
        )
    _check_caps(rows, measures, top, year, label)


def _check_caps(
    rows: pd.DataFrame, measures: list[str], top: _TopCode, year: int, label: str
) -> None:
    """With # in force, no published percentile wage may exceed the cap, nor equal it where
    # means "equal to or greater than" (a printed cap that does not fit the data, or a wrong
    documented one, is caught here). Means are not checked: a mean above the cap is
    published (May 2023 29-1022 hourly mean $160.73, cap $115)."""
    wrong = []
    for m in measures:
        if m not in WAGE_MEASURES or m.endswith("_mean"):
            continue  # a mean may exceed the cap: BLS prints it unless it is # itself
        cap = top.cap[0] if m.startswith("hourly_") else top.cap[1]
        text = rows[m]
        published = ~(text.isin(_MARKERS) | (text == ""))
        values = pd.Series(  # Arrow's cast: a tenth of the time of Series.astype
            pc.cast(pa.array(text.where(published, "0")), pa.float64()), index=text.index
        )
        above = published & (values > float(cap))
        at = published & (values == float(cap)) & top.inclusive
        for code, value in zip(rows["soc_code"][above], text[above], strict=True):
            wrong.append(f"{code} {m}={value} > ${cap:,}")
        for code, value in zip(rows["soc_code"][at], text[at], strict=True):
            wrong.append(f"{code} {m}={value} = ${cap:,} (# means 'equal to or greater than')")
    if wrong:
        documented = KNOWN_TOP_CODES.get(year)
        raise ValidationError(
            label,
            "published wages below the top code",
            f"{len(wrong)} published wages exceed (or, the cap being inclusive, equal) the "
            f"{top.source} cap of ${top.cap[0]}/hour, ${top.cap[1]:,}/year for May {year}"
            + (
                f" (documented: ${documented[0]}/hour, ${documented[1]:,}/year)"
                if documented
                else ""
            ),
            wrong,
        )


# --------------------------------------------------------------------------- tables


_KEYS = ("area_type", "area_code", "industry_code", "ownership", "soc_code")


def _statuses(text: pd.Series, measure: str, annual: np.ndarray, hourly: np.ndarray) -> np.ndarray:
    """One :class:`Status` per cell of one measure."""
    blank = (text == "").to_numpy(dtype=bool)
    number = ~(blank | text.isin(_MARKERS).to_numpy(dtype=bool))
    absent = blank | (text == "*").to_numpy(dtype=bool)
    if measure.startswith("hourly_"):  # no hourly wage for an annual-only occupation
        only, only_status = annual & absent, Status.ANNUAL_ONLY
    elif measure.startswith("annual_"):
        only, only_status = hourly & absent, Status.HOURLY_ONLY
    else:
        only, only_status = np.zeros(len(text), dtype=bool), Status.SUPPRESSED
    top_coded = (text == "#").to_numpy(dtype=bool)
    return np.select(
        [number, only, blank, top_coded],
        [Status.OK, only_status, Status.NOT_APPLICABLE, Status.TOP_CODED],
        default=Status.SUPPRESSED,
    ).astype(np.int8)


def _thresholds(status: np.ndarray, measure: str, top: _TopCode | None, label: str) -> np.ndarray:
    """The cap of each top-coded cell (hourly or annual), NaN for every other cell."""
    top_coded = status == Status.TOP_CODED
    if not top_coded.any():
        return np.full(len(status), np.nan)
    if top is None or measure not in WAGE_MEASURES:  # the checks above rule this out
        raise ValidationError(label, "a top code for every #", f"# in {measure} without a cap")
    cap = top.cap[0] if measure.startswith("hourly_") else top.cap[1]
    return np.where(top_coded, float(cap), np.nan)


def _estimates(
    rows: pd.DataFrame,
    measures: list[str],
    top: _TopCode | None,
    year: int,
    label: str,
) -> pd.DataFrame:
    """One row per (row, measure), built column-wise (no Python loop over cells)."""
    annual = rows["annual"].to_numpy(dtype=bool)
    hourly = rows["hourly"].to_numpy(dtype=bool)
    values, notes, statuses, thresholds = [], [], [], []
    for m in measures:
        text = rows[m]
        status = _statuses(text, m, annual, hourly)
        published = status == Status.OK
        values.append(text.where(published))
        notes.append(text.where(~published & (text != "")))
        statuses.append(status)
        thresholds.append(_thresholds(status, m, top, label))
    return _long_frame(rows, measures, year, values, notes, statuses, thresholds)


def _long_frame(
    rows: pd.DataFrame,
    measures: list[str],
    year: int,
    values: list[pd.Series],
    notes: list[pd.Series],
    statuses: list[np.ndarray],
    thresholds: list[np.ndarray],
) -> pd.DataFrame:
    """The estimates table: the row keys repeated once per measure beside each measure's
    cells."""
    n = len(rows)
    keys = {k: _repeated(rows[k], len(measures)) for k in _KEYS}
    return pd.DataFrame(
        {
            "reference_year": np.full(n * len(measures), year, dtype="int64"),
            "reference_period": f"May {year}",
            "areatype_code": keys["area_type"],
            "area_code": keys["area_code"],
            "industry_code": keys["industry_code"],
            "ownership": keys["ownership"],
            "soc_code": keys["soc_code"],
            "measure": _decoded(np.repeat(np.arange(len(measures)), n), measures),
            "value": pd.concat(values, ignore_index=True),
            "status": _decoded(np.concatenate(statuses), STATUSES),
            "top_code_threshold": np.concatenate(thresholds),
            "footnote_codes": pd.concat(notes, ignore_index=True),
            "series_id": None,
        }
    )


def _decoded(codes: np.ndarray, names: Iterable[str]) -> pd.Series:
    """Text column from integer codes into ``names`` (Arrow dictionary decode: no Python
    object per row)."""
    dictionary = pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(list(names), pa.string()))
    return pd.Series(pd.array(dictionary.dictionary_decode(), dtype="str"))


def _repeated(column: pd.Series, times: int) -> pd.Series:
    """The column repeated ``times`` over (one copy per measure)."""
    codes, uniques = pd.factorize(column)
    return _decoded(np.tile(codes, times), [str(u) for u in uniques])


def _occupations(rows: pd.DataFrame, year: int) -> pd.DataFrame:
    level = rows["group"].map(_LEVELS).fillna("detailed")  # no O_GROUP column: detailed
    level = level.where(rows["soc_code"] != "00-0000", "total")
    published_detailed = set(rows["soc_code"][level == "detailed"])
    first = ~rows["soc_code"].duplicated()
    occ = rows[first]
    level = level[first].where(~occ["soc_code"].isin(published_detailed), "detailed")
    return pd.DataFrame(
        {
            "soc_code": occ["soc_code"].to_numpy(),
            "soc_version": oews_catalog.soc_version(year),
            "title": occ["title"].to_numpy(),
            "level": level.to_numpy(),
            "sort_sequence": np.arange(len(occ), dtype="int64"),
            "description": pd.array([None] * len(occ), dtype="string"),
        }
    )


def _areas(rows: pd.DataFrame) -> pd.DataFrame:
    return (
        pd.DataFrame(
            {
                "area_code": rows["area_code"],
                "area_type": rows["area_type"],
                "state_code": rows["area_code"].str[:2].where(rows["area_type"] == "S", None),
                "name": rows["area_name"],
            }
        )
        .drop_duplicates("area_code")
        .reset_index(drop=True)
    )


def _industries(rows: pd.DataFrame) -> pd.DataFrame:
    return (
        pd.DataFrame(
            {
                "industry_code": rows["industry_code"],
                "name": rows["industry_name"],
                "level": rows["industry_level"].astype("int64"),
                "sort_sequence": 0,
            }
        )
        .drop_duplicates("industry_code")
        .reset_index(drop=True)
    )


def coverage(estimates: pd.DataFrame) -> str:
    """What a special-request file covers, from its rows: ``national``, ``state``, ``metro``
    or ``all`` areas, ``_by_industry`` when it holds industries other than cross-industry.
    Files of one year that cover different things are different sources (each has its own
    row-count history and its own entry in a release's sources)."""
    types = set(estimates["areatype_code"])
    geo = {frozenset({"N"}): "national", frozenset({"S"}): "state", frozenset({"M"}): "metro"}
    name = geo.get(frozenset(types), "all")
    industries = set(estimates["industry_code"]) - {"000000", "000001"}
    return name + ("_by_industry" if industries else "")


def stage_special(
    path: Path,
    out_dir: Path,
    *,
    release_id: str,
    sources: dict[str, dict[str, object]],
    label: str | None = None,
) -> StagedLoad:
    parsed = parse_special(path, label)
    year = parsed.reference_year
    # Each table with the rows it replaces; how the lake writes them (by key, never the
    # other files' estimates of the year) is the load policy's (flows/sources.py).
    tables = [
        stage_frame(frame, name, out_dir, release_id, replaces)
        for name, frame, replaces in (
            ("oews_estimates", parsed.estimates, {"reference_year": year}),
            ("occupations", parsed.occupations, {}),
            ("areas", parsed.areas, {}),
            ("industries", parsed.industries, {}),
        )
    ]
    vintage = f"May {year}"
    return StagedLoad(
        kind=f"oews_special_{year}_{coverage(parsed.estimates)}",
        vintage=vintage,
        tables=tables,
        sources=stamp(sources, vintage),
        schema_drift=dict(parsed.schema_drift),
    )
