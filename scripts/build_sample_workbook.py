"""Build the sample mirror's small EP workbook from the real 2024–34 ``occupation.xlsx``.

Keeps the real layout of sheet ``Table 1.2`` (title row, header row, footnote and source rows)
and the real values of the occupations the sample OEWS mirror covers, plus their ancestors.
The ``Index`` sheet is copied as is. Usage::

    uv run python scripts/build_sample_workbook.py [REAL_WORKBOOK] [OUT_XLSX]
"""

from __future__ import annotations

import os
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

import xlsxwriter
from python_calamine import CalamineWorkbook

REPO = Path(__file__).resolve().parent.parent
DEFAULT_REAL = REPO.parent / "shared/bls-reference/samples/ep/occupation_2024-34.xlsx"
DEFAULT_OUT = REPO / "sample_mirror/www.bls.gov/emp/ind-occ-matrix/occupation.xlsx"
OEWS_OCCUPATIONS = REPO / "sample_mirror/download.bls.gov/pub/time.series/oe/oe.occupation"
SOC = re.compile(r"^\d{2}-\d{4}$")
# The real release date of the 2024–34 projections (USDL-25-1324).
RELEASED = datetime(2025, 8, 28, 14, 0, tzinfo=UTC).timestamp()


def wanted_codes() -> set[str]:
    lines = OEWS_OCCUPATIONS.read_text().splitlines()[1:]
    codes = {f"{c[:2]}-{c[2:]}" for c in (line.split("\t")[0] for line in lines)}
    return codes | {"29-2098", "29-9098"}  # harmless if absent


def main(real: Path = DEFAULT_REAL, out: Path = DEFAULT_OUT) -> None:
    book = CalamineWorkbook.from_path(str(real))
    rows = book.get_sheet_by_name("Table 1.2").to_python(skip_empty_area=False)
    codes = wanted_codes()
    kept = [r for r in rows if not SOC.match(str(r[1]).strip()) or str(r[1]).strip() in codes]
    out.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(out))
    # A fixed creation date keeps the file byte-identical from run to run.
    workbook.set_properties({"created": datetime(2025, 8, 28, tzinfo=UTC).replace(tzinfo=None)})
    index = workbook.add_worksheet("Index")
    for i, row in enumerate(book.get_sheet_by_name("Index").to_python()):
        for j, value in enumerate(row):
            if value not in ("", None):
                index.write(i, j, value)
    sheet = workbook.add_worksheet("Table 1.2")
    for i, row in enumerate(kept):
        for j, value in enumerate(row):
            if value not in ("", None):
                sheet.write(i, j, value)
    workbook.close()
    os.utime(out, (RELEASED, RELEASED))
    occupations = sum(1 for r in kept if SOC.match(str(r[1]).strip()))
    print(f"wrote {out} with {occupations} occupations")


if __name__ == "__main__":
    args = [Path(a) for a in sys.argv[1:3]]
    main(*args)
