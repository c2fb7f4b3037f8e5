"""The workbook guard: a workbook is measured before calamine reads it, and refused when it would
take more memory than a refresh may use."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import xlsxwriter

from core.errors import ValidationError
from transforms.workbook import CHECK, MAX_CELLS, check_workbook, open_workbook


def test_a_small_workbook_opens_from_a_path_or_from_bytes(
    tmp_path: Path, write_xlsx: Callable[..., Path]
) -> None:
    path = write_xlsx(
        tmp_path / "occupation.xlsx",
        {"Index": [["Contents"]], "Table 1.2": [["code", "employment"], ["29-2072", 194.8]]},
    )
    for source in (path, path.read_bytes()):
        book = open_workbook(source, "occupation.xlsx")
        assert book.sheet_names == ["Index", "Table 1.2"]
        rows = book.get_sheet_by_name("Table 1.2").to_python()
        assert rows == [["code", "employment"], ["29-2072", 194.8]]


def test_a_sheet_spanning_the_whole_grid_is_refused_before_calamine_reads_it(
    tmp_path: Path,
) -> None:
    """Two cells, A1 and XFD1048576: calamine would allocate the grid between them."""
    path = tmp_path / "occupation.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Table 1.2")
    sheet.write(0, 0, "code")
    sheet.write(1_048_575, 16_383, 1)
    book.close()
    assert path.stat().st_size < 10_000

    with pytest.raises(ValidationError) as refused:
        open_workbook(path, "occupation.xlsx")

    err = refused.value
    assert (err.file, err.check) == ("occupation.xlsx", CHECK)
    assert err.detail == (
        "sheet xl/worksheets/sheet1.xml spans 1,048,576 rows × 16,384 columns = "
        f"17,179,869,184 cells (limit {MAX_CELLS:,}); refused before reading it (a workbook "
        "this large would take more memory than a refresh may use)"
    )


def zipped(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_part_with_a_zip_bomb_s_ratio_is_refused_before_it_is_unpacked() -> None:
    bomb = zipped({"xl/workbook.xml": b"<workbook/>", "xl/worksheets/sheet1.xml": bytes(8 << 20)})
    assert len(bomb) < 50_000
    with pytest.raises(ValidationError) as refused:
        check_workbook(bomb, "oesm23nat.zip", name="national_M2023_dl.xlsx")
    assert refused.value.check == CHECK
    assert refused.value.detail.startswith(
        "national_M2023_dl.xlsx: part xl/worksheets/sheet1.xml unpacks "
    )
    assert "to 8,388,608 (ratio " in refused.value.detail
    assert ":1, limit 200:1); refused before reading it" in refused.value.detail


def test_a_zip_that_is_no_workbook_fails_the_reader_s_own_check() -> None:
    with pytest.raises(ValidationError) as refused:
        open_workbook(zipped({"content.xml": b"<office/>"}), "x.xlsx", check="Table 1.2 readable")
    assert (refused.value.check, refused.value.detail) == (
        "Table 1.2 readable",
        "a zip without xl/workbook.xml is not an .xlsx workbook",
    )


def test_a_part_whose_bytes_changed_is_refused_as_unreadable(
    tmp_path: Path, write_xlsx: Callable[..., Path]
) -> None:
    with zipfile.ZipFile(write_xlsx(tmp_path / "w.xlsx", {"Sheet1": [["a", 1]]})) as made:
        parts = {name: made.read(name) for name in made.namelist()}
    data = bytearray(zipped(parts, zipfile.ZIP_STORED))  # parts stored as they are
    sheet = parts["xl/worksheets/sheet1.xml"]
    data[data.index(sheet) + len(sheet) // 2] ^= 0x01  # one bit of the sheet flipped
    with pytest.raises(ValidationError) as refused:
        check_workbook(bytes(data), "w.xlsx")
    assert (refused.value.check, refused.value.detail) == (
        "readable workbook",
        "part xl/worksheets/sheet1.xml fails its CRC check",
    )


def test_what_is_neither_zip_nor_ole_is_left_to_calamine_which_refuses_it() -> None:
    check_workbook(b"code,employment\n29-2072,194.8\n", "occupation.xlsx")  # not measured
    with pytest.raises(ValidationError) as refused:
        open_workbook(b"code,employment\n29-2072,194.8\n", "occupation.xlsx", name="a.xlsx")
    assert refused.value.check == "readable workbook"
    assert refused.value.detail.startswith("a.xlsx: ")
