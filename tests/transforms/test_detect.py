"""transforms.detect: what a hand-downloaded file is, from its content, never its name."""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import xlsxwriter

from core.errors import ValidationError
from extractors.oews import FILES
from transforms.detect import OLE2_MAGIC, Detected, detect

if TYPE_CHECKING:
    from tests.conftest import OesmWorkbooks


@pytest.fixture(scope="session")
def sample_oe(sample_mirror: Path, oe_path: str) -> Path:
    """The bundled sample mirror's OEWS time-series folder (read only)."""
    return sample_mirror / oe_path


def renamed(source: Path, folder: Path, name: str = "download") -> Path:
    """``source`` under a name that says nothing about it (as a browser may save it)."""
    target = folder / name
    shutil.copyfile(source, target)
    return target


def refusal(path: Path) -> str:
    with pytest.raises(ValidationError) as err:
        detect(path)
    assert err.value.check == "recognised file"
    assert err.value.file == path.name
    return err.value.detail


# --------------------------------------------------------------------------- flat files


@pytest.mark.parametrize("name", FILES)
def test_every_oews_file_the_load_reads_is_known_by_its_header(
    tmp_path: Path, name: str, sample_oe: Path
) -> None:
    assert detect(renamed(sample_oe / name, tmp_path, f"{name}.txt")) == Detected("oews", name)


def test_columns_are_matched_by_name_wherever_they_stand(
    tmp_path: Path, six_column_occupations: Callable[[Path, Path], Path], sample_oe: Path
) -> None:
    # The May 2025 oe.occupation put occupation_description third.
    six = six_column_occupations(sample_oe / "oe.occupation", tmp_path / "occupations.tsv")
    assert six.read_text(encoding="utf-8").split("\t")[2] == "occupation_description"
    assert detect(six) == Detected("oews", "oe.occupation")
    moved = tmp_path / "areas.tsv"
    moved.write_bytes(
        b"area_name\tareatype_code\tarea_code\tstate_code\r\nNational\tN\t0000000\t00\r\n"
    )
    assert detect(moved) == Detected("oews", "oe.area")


def test_a_utf8_bom_before_the_header_is_read(tmp_path: Path, sample_oe: Path) -> None:
    path = tmp_path / "footnotes"
    path.write_bytes(b"\xef\xbb\xbf" + (sample_oe / "oe.footnote").read_bytes())
    assert detect(path) == Detected("oews", "oe.footnote")


@pytest.mark.parametrize(
    ("name", "note"),
    [
        ("oe.series", "not needed: series ids carry every code"),
        ("oe.areatype", "not needed for a load"),
        ("oe.seasonal", "not needed for a load"),
    ],
)
def test_files_not_needed_are_recognised_and_ignored(
    tmp_path: Path, name: str, note: str, sample_oe: Path
) -> None:
    assert detect(renamed(sample_oe / name, tmp_path)) == Detected("ignored", name, note)


def test_a_text_file_of_anything_else_is_refused_showing_its_first_line(tmp_path: Path) -> None:
    path = tmp_path / "oe.area"  # the name does not make it one
    path.write_bytes(b"code\tname\tkind\r\n01\tAlabama\tS\r\n")
    detail = refusal(path)
    assert "a text file whose first line is 'code, name, kind'" in detail
    assert "expected an Employment Projections occupation workbook" in detail


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "oe.data.0.Current"
    path.write_bytes(b"")
    assert refusal(path).startswith("this is an empty file;")


def test_an_html_page_is_refused_naming_its_title(tmp_path: Path) -> None:
    path = tmp_path / "oe.data.0.Current"
    path.write_bytes(
        b"\n  <!DOCTYPE html>\n<html><head><title>\n Access Denied </title></head>"
        b"<body>You don't have permission.</body></html>"
    )
    assert refusal(path).startswith(
        "this is an HTML page ('Access Denied'), not data: the download was probably refused"
    )


# --------------------------------------------------------------------------- workbooks, zips


def test_the_projections_workbook_is_known_by_its_table_1_2(
    tmp_path: Path, sample_mirror: Path
) -> None:
    workbook = sample_mirror / "www.bls.gov" / "emp" / "ind-occ-matrix" / "occupation.xlsx"
    assert detect(renamed(workbook, tmp_path, "ep.xlsx")) == Detected(
        "projections", "occupation.xlsx"
    )


def test_the_soc_crosswalk_is_known_by_its_code_columns(
    tmp_path: Path, sample_mirror: Path
) -> None:
    crosswalk = sample_mirror / "www.bls.gov" / "soc" / "2018" / "soc_2010_to_2018_crosswalk.xlsx"
    assert detect(renamed(crosswalk, tmp_path, "x.xlsx")) == Detected(
        "soc", "soc_2010_to_2018_crosswalk.xlsx"
    )


def test_a_special_request_workbook_names_its_data_sheet(
    tmp_path: Path, oesm: OesmWorkbooks
) -> None:
    path = oesm.write_workbook(tmp_path / "book.xlsx", oesm.HEADER_2023, oesm.ROWS_2023)
    assert detect(path) == Detected("oews_special", "book.xlsx", "sheet 'national_M2023_dl'")


def test_a_zip_of_special_request_workbooks_counts_them(
    tmp_path: Path, oesm: OesmWorkbooks
) -> None:
    book = oesm.write_workbook(
        tmp_path / "national_M2023_dl.xlsx", oesm.HEADER_2023, oesm.ROWS_2023
    )
    archive = tmp_path / "oesm23nat.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(book, "oesm23nat/national_M2023_dl.xlsx")
        zf.writestr("oesm23nat/field_descriptions.xlsx", b"")  # not a data workbook
        zf.writestr("oesm23nat/~$national_M2023_dl.xlsx", b"")  # Excel's lock file
        zf.writestr("oesm23nat/readme.txt", b"notes")
    assert detect(archive) == Detected("oews_special", "oesm23nat.zip", "zip with 1 workbooks")


def test_a_zip_without_workbooks_is_refused_listing_its_members(tmp_path: Path) -> None:
    archive = tmp_path / "oe.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("oe.area", b"state_code\tarea_code\tareatype_code\tarea_name\r\n")
    assert refusal(archive).startswith("this is a zip holding ['oe.area'];")


def test_a_damaged_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "occupation.xlsx"
    path.write_bytes(b"PK\x03\x04" + bytes(200))
    assert refusal(path).startswith("this is a damaged zip/xlsx file (")


def test_a_workbook_of_something_else_is_refused_naming_its_sheets(tmp_path: Path) -> None:
    path = tmp_path / "budget.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("Summary").write_row(0, 0, ["Item", "Amount"])
    book.add_worksheet("Table 1.2").write_row(0, 0, ["Not a projections table"])
    book.close()
    assert refusal(path).startswith("this is a workbook with sheets ['Summary', 'Table 1.2'];")


def test_an_ole2_file_is_read_as_a_legacy_workbook(tmp_path: Path) -> None:
    path = tmp_path / "national_M2012_dl.xls"
    path.write_bytes(OLE2_MAGIC + bytes(600))  # the magic of an .xls, but no workbook in it
    assert refusal(path).startswith("this is an unreadable workbook (")
