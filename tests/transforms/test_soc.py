"""SOC 2010 → 2018 crosswalk workbook → soc_crosswalk rows: columns read by name."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
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


def test_the_crosswalk_in_the_sample_mirror(repo: Path) -> None:
    real = repo / "sample_mirror" / "www.bls.gov" / "soc" / "2018"
    parsed = parse_crosswalk(real / "soc_2010_to_2018_crosswalk.xlsx")
    frame = parsed.frame
    assert parsed.unknown == []
    assert list(frame.columns) == [
        "from_version",
        "from_code",
        "from_title",
        "to_version",
        "to_code",
        "to_title",
    ]
    assert set(frame["from_version"]) == {"2010"} and set(frame["to_version"]) == {"2018"}
    # 29-2071 became 29-2072 and 29-9021 (the one-to-many case transforms/soc.py names)
    split = frame[frame["from_code"] == "29-2071"]
    assert sorted(split["to_code"]) == ["29-2072", "29-9021"]
    assert not frame["from_title"].str.contains(r"\(#", regex=True).any()


def test_the_header_is_found_on_a_later_sheet_and_blank_rows_are_skipped(
    tmp_path: Path,
) -> None:
    path = tmp_path / "two.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("Notes").write_row(0, 0, ["About this crosswalk"])
    sheet = book.add_worksheet("Sorted by 2010")
    sheet.write_row(5, 0, HEADER)
    sheet.write_row(6, 0, ROWS[0])
    sheet.write_row(8, 0, ROWS[1])  # row 7 left empty
    book.close()
    assert pairs(path) == [
        ("29-2071", "29-2072", "Medical Records and Health Information Technicians"),
        ("29-2071", "29-9021", "Medical Records and Health Information Technicians"),
    ]
    frame = parse_crosswalk(path).frame
    assert list(frame["to_title"]) == [
        "Medical Records Specialists",
        "Health Information Technologists and Medical Registrars",
    ]


def test_a_row_without_two_soc_codes_fails_naming_it(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "bad.xlsx",
        HEADER,
        [*ROWS, ["29-2071", "Medical Records", "292072", "Medical Records Specialists"]],
    )
    with pytest.raises(ValidationError) as info:
        parse_crosswalk(path)
    assert info.value.check == "SOC codes in both columns"
    assert info.value.detail == "1 rows"
    assert info.value.examples == [
        "29-2071 | Medical Records | 292072 | Medical Records Specialists"
    ]


def test_a_pair_listed_twice_fails(tmp_path: Path) -> None:
    path = workbook(tmp_path / "dupe.xlsx", HEADER, [*ROWS, ROWS[0]])
    with pytest.raises(ValidationError) as info:
        parse_crosswalk(path)
    assert info.value.check == "unique code pairs"
    assert info.value.examples == ["29-2071 → 29-2072", "29-2071 → 29-2072"]


def test_a_header_without_rows_fails(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as info:
        parse_crosswalk(workbook(tmp_path / "empty.xlsx", HEADER, []))
    assert info.value.check == "not empty"


def test_staged_as_one_table_replacing_the_2010_to_2018_pairs(tmp_path: Path) -> None:
    path = workbook(tmp_path / "crosswalk.xlsx", HEADER, ROWS)
    staged = stage_crosswalk(
        path, tmp_path / "out", release_id="r7", sources={"crosswalk.xlsx": {"sha256": "ab"}}
    )
    assert (staged.kind, staged.vintage) == ("soc", "SOC 2010 to 2018")
    assert staged.schema_drift == {}
    assert staged.sources == {"crosswalk.xlsx": {"sha256": "ab", "vintage": "SOC 2010 to 2018"}}
    (table,) = staged.tables
    assert (table.table, table.rows) == ("soc_crosswalk", 2)
    assert table.replaces == {"from_version": "2010", "to_version": "2018"}
    written = pd.read_parquet(table.path)
    assert list(written["to_code"]) == ["29-2072", "29-9021"]
    assert set(written["release_id"]) == {"r7"}
