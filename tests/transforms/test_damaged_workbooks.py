"""Real BLS workbooks with one structure damaged: every reader refuses them with a message
naming the file and the check, never a traceback of calamine's or zipfile's own (a Rust
panic is a BaseException no ``except Exception`` catches)."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from core.errors import ValidationError
from transforms.detect import detect
from transforms.projections import parse_workbook
from transforms.soc import parse_crosswalk
from transforms.workbook import open_workbook


def _flipped(source: bytes, at: int, value: int, target: Path) -> Path:
    damaged = bytearray(source)
    damaged[at] = value
    target.write_bytes(bytes(damaged))
    return target


def test_an_xls_whose_sheet_offset_points_past_the_file_is_refused(
    shared_samples: Path, tmp_path: Path
) -> None:
    # BOUNDSHEET's offset of the real 2012 field descriptions set far past the stream's end:
    # calamine panics (xls.rs: range start index out of range)
    with zipfile.ZipFile(shared_samples / "real" / "oesm" / "oesm12nat.zip") as archive:
        xls = archive.read("oesm12nat/field_descriptions.xls")
    path = _flipped(xls, 13268, 0x81, tmp_path / "field_descriptions.xls")
    with pytest.raises(ValidationError, match=r"check 'readable workbook' failed: PanicException"):
        book = open_workbook(path, path.name)
        for sheet in book.sheet_names:  # calamine may read the sheet only when asked
            book.get_sheet_by_name(sheet).to_python()
    with pytest.raises(ValidationError, match=r"field_descriptions\.xls: check 'recognised file'"):
        detect(path)


def test_a_zip_whose_directory_offset_is_wrong_is_refused(
    shared_samples: Path, tmp_path: Path
) -> None:
    crosswalk = (shared_samples / "soc" / "soc_2010_to_2018_crosswalk.xlsx").read_bytes()
    path = _flipped(crosswalk, len(crosswalk) - 4, 0x76, tmp_path / "crosswalk.xlsx")
    with pytest.raises(ValidationError, match=r"not a readable zip/xlsx file"):
        parse_crosswalk(path)
    with pytest.raises(ValidationError, match=r"unreadable workbook \(not a readable zip/xlsx"):
        detect(path)


def test_a_cell_naming_a_shared_string_that_does_not_exist_is_refused(
    shared_samples: Path, tmp_path: Path
) -> None:
    source = shared_samples / "ep" / "occupation_2024-34.xlsx"
    path = tmp_path / "occupation.xlsx"
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info)
            if info.filename == "xl/worksheets/sheet3.xml":  # Table 1.2 (rId3)
                data = re.sub(rb'(t="s"[^>]*><v>)\d+(</v>)', rb"\g<1>9999999\2", data, count=1)
            new.writestr(info, data)
    with pytest.raises(
        ValidationError, match=r"readable xlsx workbook' failed: sheet 'Table 1\.2'"
    ):
        parse_workbook(path)
