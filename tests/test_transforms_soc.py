"""SOC 2010 → 2018 crosswalk workbook → soc_crosswalk rows: columns read by name."""

from __future__ import annotations

from pathlib import Path

import pytest
import xlsxwriter

from core.errors import ValidationError
from transforms.soc import parse_crosswalk, stage_crosswalk

HEADER = ["2010 SOC Code", "2010 SOC Title", "2018 SOC Code", "2018 SOC Title"]
ROWS = [
    ["29-2071", "Medical Records and Health Information Technicians", "29-2072",
     "Medical Records Specialists"],
    ["29-2071", "Medical Records and Health Information Technicians (#)", "29-9021",
     "Health Information Technologists and Medical Registrars"],
]  # fmt: skip


def workbook(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Sheet1")
    sheet.write_row(0, 0, ["2010 to 2018 SOC crosswalk"])
    sheet.write_row(2, 0, header)
    for i, row in enumerate(rows, start=3):
        sheet.write_row(i, 0, row)
    book.close()
    return path


def pairs(path: Path) -> list[tuple[str, str, str]]:
    frame = parse_crosswalk(path).frame
    return list(zip(frame["from_code"], frame["to_code"], frame["from_title"], strict=True))


def test_columns_in_another_order_and_a_new_one(tmp_path: Path) -> None:
    plain = workbook(tmp_path / "a.xlsx", HEADER, ROWS)
    order = [2, 3, 0, 1]
    moved = workbook(
        tmp_path / "b.xlsx",
        [*(HEADER[i] for i in order), "Notes"],
        [[*(row[i] for i in order), "n"] for row in ROWS],
    )
    assert (
        pairs(moved)
        == pairs(plain)
        == [
            ("29-2071", "29-2072", "Medical Records and Health Information Technicians"),
            ("29-2071", "29-9021", "Medical Records and Health Information Technicians"),
        ]
    )
    assert parse_crosswalk(moved).unknown == ["Notes"]
    staged = stage_crosswalk(moved, tmp_path / "out", release_id="r1", sources={}, label="x.xlsx")
    assert staged.schema_drift == {"x.xlsx": ["Notes"]}


def test_a_missing_column_names_the_header(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "c.xlsx",
        ["2010 SOC Code", "2010 SOC Title", "2018 SOC Code", "2018 SOC Name"],
        [r[:4] for r in ROWS],
    )
    with pytest.raises(ValidationError) as info:
        parse_crosswalk(path)
    assert info.value.check == "header row"
    assert "'2018 SOC Title'" in str(info.value)
