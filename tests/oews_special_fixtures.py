"""Small OEWS special-request workbooks in the real layouts (values illustrative)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import xlsxwriter

HEADER_2023 = [
    "AREA", "AREA_TITLE", "AREA_TYPE", "PRIM_STATE", "NAICS", "NAICS_TITLE", "I_GROUP",
    "OWN_CODE", "OCC_CODE", "OCC_TITLE", "O_GROUP", "TOT_EMP", "EMP_PRSE", "PCT_TOTAL",
    "PCT_RPT", "H_MEAN", "A_MEAN", "MEAN_PRSE", "H_PCT10", "H_PCT25", "H_MEDIAN", "H_PCT75",
    "H_PCT90", "A_PCT10", "A_PCT25", "A_MEDIAN", "A_PCT75", "A_PCT90", "ANNUAL", "HOURLY",
]  # fmt: skip
NATIONAL = ["99", "U.S.", 1, "US", "000000", "Cross-industry", "cross-industry", 1235]
ROWS_2023 = [
    [*NATIONAL, "00-0000", "All Occupations", "total", 151853870, 0.1, None, None,
     31.48, 65470, 0.1, 14.29, 17.48, 23.11, 36.74, 58.10, 29720, 36360, 48060, 76410, 120850,
     None, None],
    [*NATIONAL, "29-2072", "Medical Records Specialists", "detailed", 186460, 1.1, None, None,
     24.56, 51090, 0.4, 17.10, 18.87, 23.45, 28.63, 37.40, 35570, 39250, 48780, 59560, 77810,
     None, None],
    [*NATIONAL, "29-1211", "Anesthesiologists", "detailed", 29890, 4.5, None, None,
     "#", "#", 2.4, 72.30, "#", "#", "#", "#", 150380, "#", "#", "#", "#", None, None],
    [*NATIONAL, "27-2011", "Actors", "detailed", 51370, 6.6, None, None,
     27.73, "*", 5.2, 13.80, 17.00, 23.76, 35.38, 57.05, "*", "*", "*", "*", "*", None, "TRUE"],
]  # fmt: skip
FIELD_DESCRIPTIONS = [
    ["May {year} OEWS Estimates"],
    ["Field", "Field Description"],
    ["*", "= indicates that a wage estimate is not available"],
    ["**", "= indicates that an employment estimate is not available"],
    ["#", "= indicates a wage equal to or greater than $115.00 per hour or $239,200 per year"],
]


def write_workbook(
    path: Path,
    header: list[str],
    rows: list[list[object]],
    year: int = 2023,
    *,
    sheet: str | None = None,
    descriptions: list[list[object]] | None = FIELD_DESCRIPTIONS,
) -> Path:
    """A data sheet (``national_M{year}_dl`` unless named) and, unless ``descriptions`` is
    None, a ``Field Descriptions`` sheet (its text formatted with the year)."""
    return write_sheets(
        path, {sheet or f"national_M{year}_dl": (header, rows)}, year, descriptions=descriptions
    )


def write_sheets(
    path: Path,
    sheets: dict[str, tuple[list[str], list[list[object]]]],
    year: int = 2023,
    *,
    descriptions: list[list[object]] | None = FIELD_DESCRIPTIONS,
) -> Path:
    """One data sheet per entry (name → header, rows), then the ``Field Descriptions`` sheet
    unless ``descriptions`` is None."""
    book = xlsxwriter.Workbook(str(path))
    for name, (header, rows) in sheets.items():
        data = book.add_worksheet(name)
        for j, column in enumerate(header):
            data.write(0, j, column)
        for i, row in enumerate(rows, start=1):
            for j, value in enumerate(row):
                if value is not None:
                    data.write(i, j, value)
    if descriptions is not None:
        notes = book.add_worksheet("Field Descriptions")
        for i, row in enumerate(descriptions):
            for j, value in enumerate(row):
                notes.write_string(i, j, str(value).format(year=year))
    book.close()
    return path


def write_descriptions(
    path: Path, year: int, rows: list[list[object]] = FIELD_DESCRIPTIONS
) -> Path:
    """A separate ``field_descriptions.xlsx`` as in the 2012–2018 zips."""
    book = xlsxwriter.Workbook(str(path))
    notes = book.add_worksheet("Field_descriptions")
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            notes.write_string(i, j, str(value).format(year=year))
    book.close()
    return path


def zip_of(archive: Path, members: dict[str, Path | bytes]) -> Path:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            if isinstance(content, Path):
                zf.write(content, name)
            else:
                zf.writestr(name, content)
    return archive


def national_2023_zip(folder: Path, rows: list[list[object]] | None = None) -> Path:
    xlsx = write_workbook(folder / "national_M2023_dl.xlsx", HEADER_2023, rows or ROWS_2023)
    archive = folder / "oesm23nat.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(xlsx, "oesm23nat/national_M2023_dl.xlsx")
    return archive
