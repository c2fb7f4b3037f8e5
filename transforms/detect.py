"""What a hand-downloaded file is, judged from its content (never from its name alone)."""

from __future__ import annotations

import dataclasses
import re
import zipfile
from pathlib import Path

from python_calamine import CalamineWorkbook

from core.errors import ValidationError
from transforms.columns import normalise
from transforms.flatfile import FlatSchema, header_of
from transforms.oews_lookups import SCHEMAS
from transforms.workbook import CHECK as WORKBOOK_LIMITS
from transforms.workbook import ZIP_ERRORS, check_workbook, reader_errors, sheet_rows

# Recognised but not needed for a load (matched by their columns, like the loaded files).
OEWS_IGNORED: dict[str, FlatSchema] = {
    "oe.areatype": FlatSchema(("areatype_code", "areatype_name")),
    "oe.seasonal": FlatSchema(("seasonal_code", "seasonal_text")),
    "oe.sector": FlatSchema(("sector_code", "sector_name")),
    "oe.series": FlatSchema(("series_id", "seasonal", "areatype_code")),
}
_TITLE = re.compile(rb"<title>\s*(.*?)\s*</title>", re.IGNORECASE | re.DOTALL)
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # compound file: a legacy .xls workbook
_FIELD_DESCRIPTIONS = re.compile(r"field[\s_]*desc", re.IGNORECASE)

EXPECTED = (
    "an Employment Projections occupation workbook (.xlsx with sheet 'Table 1.2' and a "
    "'National Employment Matrix code' header), an OEWS time-series flat file (oe.data.0.Current, "
    "oe.area, oe.industry, oe.occupation, oe.datatype, oe.footnote, oe.release), an OEWS "
    "special-request workbook or zip (OCC_CODE, TOT_EMP, A_MEDIAN columns), or the SOC 2010 to "
    "2018 crosswalk workbook ('2010 SOC Code' … '2018 SOC Code')"
)


@dataclasses.dataclass(frozen=True)
class Detected:
    kind: str  # "projections", "oews", "oews_special", "ignored"
    name: str  # canonical file name within its kind (oe.area, occupation.xlsx, …)
    note: str = ""


def _refuse(path: Path, what: str) -> ValidationError:
    return ValidationError(path.name, "recognised file", f"this is {what}; expected {EXPECTED}")


def detect(path: Path) -> Detected:
    with path.open("rb") as fh:
        head = fh.read(4096)
    if not head:
        raise _refuse(path, "an empty file")
    stripped = head.lstrip().lower()
    if stripped.startswith((b"<!doctype html", b"<html")) or b"<html" in stripped[:512]:
        title = _TITLE.search(head)
        name = title.group(1).decode("utf-8", "replace") if title else "untitled"
        raise _refuse(path, f"an HTML page ('{name}'), not data: the download was probably refused")
    if head.startswith(b"PK\x03\x04"):
        return _detect_zip(path)
    if head.startswith(OLE2_MAGIC):  # a legacy .xls workbook (OEWS special requests 2012–13)
        return _detect_workbook(path)
    return _detect_flat(path)


def _detect_flat(path: Path) -> Detected:
    """An OEWS file is the one whose required columns its header holds, wherever they stand."""
    columns = header_of(path)
    names = [normalise(c) for c in columns]
    for name, schema in SCHEMAS.items():
        if schema.matches(names):
            return Detected("oews", name)
    for name, schema in OEWS_IGNORED.items():
        if schema.matches(names):
            note = (
                "not needed: series ids carry every code"
                if name == "oe.series"
                else "not needed for a load"
            )
            return Detected("ignored", name, note)
    shown = ", ".join(c for c in columns[:6] if c)[:120]
    raise _refuse(path, f"a text file whose first line is '{shown}'")


def _detect_zip(path: Path) -> Detected:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except ZIP_ERRORS as exc:
        raise _refuse(path, f"a damaged zip/xlsx file ({type(exc).__name__}: {exc})") from exc
    if "xl/workbook.xml" in names:
        return _detect_workbook(path)
    # Workbooks (.xlsx, or .xls up to 2013) beside field_descriptions.xls(x); the parser checks
    # their columns, member names and sizes.
    workbooks = [
        n
        for n in names
        if n.lower().endswith((".xlsx", ".xls"))
        and not Path(n).name.startswith("~$")
        and not _FIELD_DESCRIPTIONS.search(Path(n).name)
    ]
    if workbooks:
        return Detected("oews_special", path.name, f"zip with {len(workbooks)} workbooks")
    raise _refuse(path, f"a zip holding {names[:5]}")


def _detect_workbook(path: Path) -> Detected:
    # Sizes checked before calamine allocates anything: a workbook bomb is refused here,
    # by the same guard as every reader (transforms.workbook), with its own message.
    try:
        check_workbook(path, path.name)
    except ValidationError as exc:
        if exc.check == WORKBOOK_LIMITS:
            raise
        raise _refuse(path, f"an unreadable workbook ({exc.detail})") from exc
    try:
        with reader_errors(path.name, "readable workbook"):
            book = CalamineWorkbook.from_path(str(path))
    except ValidationError as exc:
        raise _refuse(path, f"an unreadable workbook ({exc.detail})") from exc
    for sheet in book.sheet_names:
        if re.fullmatch(r"table 1\.2(\s.*)?", sheet.strip().lower()):
            rows = sheet_rows(book, sheet, path.name, nrows=20)
            text = " ".join(str(c) for r in rows for c in r).lower()
            if "national employment matrix" in text or "employment by detailed occupation" in text:
                return Detected("projections", "occupation.xlsx")
    for sheet in book.sheet_names[:3]:
        rows = sheet_rows(book, sheet, path.name, nrows=20)
        cells = {str(c).strip().upper() for r in rows for c in r}
        if {"2010 SOC CODE", "2018 SOC CODE"} <= cells:
            return Detected("soc", "soc_2010_to_2018_crosswalk.xlsx")
        names = {normalise(c) for r in rows for c in r}  # 2019–2020 headers are lower case
        if "occ_code" in names and ({"a_median", "tot_emp"} & names):
            return Detected("oews_special", path.name, f"sheet '{sheet}'")
    raise _refuse(path, f"a workbook with sheets {book.sheet_names[:8]}")
