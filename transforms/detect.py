"""What a hand-downloaded file is, judged from its content (never from its name alone)."""

from __future__ import annotations

import dataclasses
import re
import zipfile
from pathlib import Path

from python_calamine import CalamineWorkbook

from bls_refresh.errors import ValidationError
from transforms.flatfile import header_of
from transforms.oews import DATA_COLUMNS

# Header of each OEWS time-series file → its canonical name.
OEWS_HEADERS: dict[tuple[str, ...], str] = {
    DATA_COLUMNS: "oe.data.0.Current",
    ("release_date", "description"): "oe.release",
    ("footnote_code", "footnote_text"): "oe.footnote",
    ("datatype_code", "datatype_name"): "oe.datatype",
    ("state_code", "area_code", "areatype_code", "area_name"): "oe.area",
    (
        "industry_code",
        "industry_name",
        "display_level",
        "selectable",
        "sort_sequence",
    ): "oe.industry",
    (
        "occupation_code",
        "occupation_name",
        "display_level",
        "selectable",
        "sort_sequence",
    ): "oe.occupation",
}
# Recognised but not needed for a load.
OEWS_IGNORED: dict[tuple[str, ...], str] = {
    ("areatype_code", "areatype_name"): "oe.areatype",
    ("seasonal_code", "seasonal_text"): "oe.seasonal",
    ("sector_code", "sector_name"): "oe.sector",
}
_SERIES_HEADER_START = ("series_id", "seasonal", "areatype_code")
_TITLE = re.compile(rb"<title>\s*(.*?)\s*</title>", re.IGNORECASE | re.DOTALL)

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
    return _detect_flat(path)


def _detect_flat(path: Path) -> Detected:
    columns = tuple(header_of(path))
    if columns in OEWS_HEADERS:
        return Detected("oews", OEWS_HEADERS[columns])
    if columns[:3] == ("occupation_code", "occupation_name", "display_level"):
        return Detected("oews", "oe.occupation")
    if columns in OEWS_IGNORED:
        return Detected("ignored", OEWS_IGNORED[columns], "not needed for a load")
    if columns[:3] == _SERIES_HEADER_START:
        return Detected("ignored", "oe.series", "not needed: series ids carry every code")
    shown = ", ".join(c for c in columns[:6] if c)[:120]
    raise _refuse(path, f"a text file whose first line is '{shown}'")


def _detect_zip(path: Path) -> Detected:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except zipfile.BadZipFile as exc:
        raise _refuse(path, f"a damaged zip/xlsx file ({exc})") from exc
    if "xl/workbook.xml" in names:
        return _detect_workbook(path)
    workbooks = [n for n in names if n.lower().endswith((".xlsx", ".xls"))]
    if workbooks:
        return Detected("oews_special", path.name, f"zip with {len(workbooks)} workbooks")
    raise _refuse(path, f"a zip holding {names[:5]}")


def _detect_workbook(path: Path) -> Detected:
    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:
        raise _refuse(path, f"an unreadable workbook ({type(exc).__name__}: {exc})") from exc
    for sheet in book.sheet_names:
        if re.fullmatch(r"table 1\.2(\s.*)?", sheet.strip().lower()):
            rows = book.get_sheet_by_name(sheet).to_python(nrows=20)
            text = " ".join(str(c) for r in rows for c in r).lower()
            if "national employment matrix" in text or "employment by detailed occupation" in text:
                return Detected("projections", "occupation.xlsx")
    for sheet in book.sheet_names[:3]:
        rows = book.get_sheet_by_name(sheet).to_python(nrows=20)
        cells = {str(c).strip().upper() for r in rows for c in r}
        if {"2010 SOC CODE", "2018 SOC CODE"} <= cells:
            return Detected("soc", "soc_2010_to_2018_crosswalk.xlsx")
        if "OCC_CODE" in cells and ({"A_MEDIAN", "TOT_EMP"} & cells):
            return Detected("oews_special", path.name, f"sheet '{sheet}'")
    raise _refuse(path, f"a workbook with sheets {book.sheet_names[:8]}")
