"""Bad input a person (or a hostile mirror) hands the pipeline, and what it does with it.

- text that is not UTF-8 is refused, naming the byte (never published with U+FFFD);
- a UTF-8 byte-order mark is read as what it is, not as part of the first column's name;
- a link in a mirror folder never reads a file outside the mirror;
- a workbook whose structure demands more memory than a refresh may use is refused before
  calamine allocates anything (a zip bomb, a sparse grid, shared-string amplification, an
  .xls whose records lie);
- loading an older special-request year never relabels the time series' names;
- loading an older cycle or year never makes the release name it as its vintage.

Unit-level tests use the real readers on real BLS files (``samples/real``) or on files built
the way BLS's are; the end-to-end ones run the real Prefect flows and CLI against the local
BLS-like server or a mirror folder (one world per module, see ``conftest.py``).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import shutil
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest
import xlsxwriter
from click.testing import Result
from python_calamine import CalamineWorkbook

from core.errors import FetchError, ValidationError
from core.paths import DataPaths
from extractors.http import Fetcher
from extractors.oews import FILES
from extractors.rawstore import RawStore, sha256_file
from extractors.source import Source
from figures.spec import bundle_writer
from flows.sources import SOURCES
from transforms import flatfile, oews_special, workbook
from transforms.detect import detect
from transforms.flatfile import header_of, read_flat_file, require_utf8
from transforms.oews import stage_oews
from transforms.oews_lookups import SCHEMAS, parse_lookups
from transforms.oews_staging import stage_estimates
from transforms.projections import parse_workbook
from transforms.soc import parse_crosswalk
from warehouse import load, publish

if TYPE_CHECKING:
    from tests.faults.conftest import FaultKit, World

XLSX = "occupation.xlsx"
# stages one load: (file or folder, data paths, release id)
Stager = Callable[[Path, DataPaths, str], load.StagedLoad]


def assert_refused(faults: FaultKit, result: Result, scenario_id: str, latest: str) -> str:
    """A refused run as the user sees it: exit 1, the cause, latest unchanged."""
    assert result.exit_code == 1, (result.exit_code, result.output, result.exception)
    stderr = result.stderr
    assert "Refresh failed:" in stderr, stderr
    faults.assert_names_cause(stderr, scenario_id)
    assert f"Nothing was published; latest is still {latest}." in stderr, stderr
    return stderr


def clean_run(faults: FaultKit, w: World, expect: str) -> str:
    """With the fault gone a run succeeds, and ``expect`` stays latest and intact."""
    w.server.clear_faults()
    result = faults.cli_run(w)
    assert result.exit_code == 0, (result.output, result.exception)
    assert faults.latest_of(w.data_dir) == expect
    faults.assert_intact(w, expect)
    return result.stdout


def cp1252(text: str) -> bytes:
    return text.encode("cp1252")


# =========================================================================== text encoding


def test_cp1252_lookup_is_refused_naming_the_byte(oe_dir: Path) -> None:
    occupation = oe_dir / "oe.occupation"
    text = occupation.read_bytes().decode("utf-8")
    assert "Chief Executives" in text
    occupation.write_bytes(cp1252(text.replace("Chief Executives", "Chief Executives – Café")))
    lines = occupation.read_bytes().split(b"\n")
    line = next(i for i, row in enumerate(lines, 1) if b"Chief Executives" in row)
    offset = occupation.read_bytes().index(b"\x96")
    column = offset - occupation.read_bytes().rindex(b"\n", 0, offset)

    with pytest.raises(ValidationError) as caught:
        parse_lookups({name: oe_dir / name for name in FILES})

    error = caught.value
    assert (error.file, error.check) == ("oe.occupation", "UTF-8 text")
    assert error.detail.startswith(
        f"byte {offset:,} (line {line}, column {column}) is 0x96, which is not UTF-8 "
        "(invalid start byte): b'111011\\tChief Executives \\x96 Caf\\xe9"
    )
    assert "\ufffd" not in str(error)


def test_every_flat_file_reader_applies_the_one_rule(oe_dir: Path, tmp_path: Path) -> None:
    """Lookups, the data file and detection all refuse the same byte the same way."""
    for name in ("oe.area", "oe.industry", "oe.footnote", "oe.release", "oe.datatype"):
        path = tmp_path / name
        body = (oe_dir / name).read_bytes()
        path.write_bytes(body.rstrip(b"\r\n") + b" \xe9\r\n")  # a cp1252 é on the last line
        with pytest.raises(ValidationError, match=r"check 'UTF-8 text' failed: byte .* is 0xE9"):
            read_flat_file(path, name, SCHEMAS[name])
    header = tmp_path / "oe.area.header"
    header.write_bytes(b"state_code\tarea_code\tareatype_code\tarea_n\xe4me\r\n")
    at = header.read_bytes().index(b"\xe4")
    with pytest.raises(ValidationError, match=rf"byte {at} \(line 1, column {at + 1}\) is 0xE4"):
        detect(header)


def test_a_cp1252_data_file_is_refused_before_duckdb_reads_it(
    oe_dir: Path, tmp_path: Path, faults: FaultKit
) -> None:
    """DuckDB 1.5.5 loads some invalid bytes silently and fails on others with an internal
    error: the data file is checked first."""
    lookups = parse_lookups({name: oe_dir / name for name in FILES})
    data = (oe_dir / faults.DATA_FILE).read_bytes()
    cut = data.index(b"\n", len(data) // 2) + 1
    bad = tmp_path / faults.DATA_FILE
    bad.write_bytes(data[:cut] + b"OEUN0000000000000291141\xe903\t2024\tA01\t1\t\r\n" + data[cut:])
    with pytest.raises(ValidationError) as caught:
        stage_estimates(bad, lookups, tmp_path / "out.parquet", release_id="r1")
    assert caught.value.file == faults.DATA_FILE
    assert caught.value.check == "readable tab-delimited file"  # the data file's read check
    expected_line = data[:cut].count(b"\n") + 1
    assert f"(line {expected_line:,}, column 24) is 0xE9" in caught.value.detail
    assert not (tmp_path / "out.parquet").exists()


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7, 64])
def test_the_check_follows_characters_across_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """A character split between two reads is not an error; a bad byte right after the
    split is found at its exact offset."""
    monkeypatch.setattr(flatfile, "_CHUNK", chunk)
    good = tmp_path / "good"
    good.write_bytes("név\tcafé – 25 €\r\nŐ\t𝔘\n".encode())
    require_utf8(good, "good")  # nothing raised

    bad = tmp_path / "bad"
    prefix = "név\tcafé – €".encode()
    bad.write_bytes(prefix + b"\xe2\x82" + b"x\n")  # a euro sign cut after two bytes
    with pytest.raises(ValidationError) as caught:
        require_utf8(bad, "bad")
    assert caught.value.detail.startswith(f"byte {len(prefix):,} (line 1, column ")
    assert "is 0xE2" in caught.value.detail

    cut = tmp_path / "cut"
    cut.write_bytes(prefix + b"\xe2\x82")  # the file ends inside a character
    with pytest.raises(ValidationError, match=r"unexpected end of data"):
        require_utf8(cut, "cut")


def test_a_utf16_file_is_refused_with_a_hint(tmp_path: Path, oe_dir: Path) -> None:
    path = tmp_path / "oe.area"
    path.write_bytes((oe_dir / "oe.area").read_bytes().decode().encode("utf-16"))
    with pytest.raises(ValidationError, match=r"UTF-16 byte-order mark"):
        read_flat_file(path, "oe.area", SCHEMAS["oe.area"])


def test_a_utf8_bom_is_not_part_of_the_first_column(
    oe_dir: Path,
    tmp_path: Path,
    manifest_rows: Callable[..., dict[str, dict[str, object]]],
    sample_estimates: int,
) -> None:
    """Every reader that matches a header, the data file's DuckDB reader included."""
    plain = {name: oe_dir / name for name in FILES}
    marked = {}
    for name, path in plain.items():
        marked[name] = tmp_path / name
        marked[name].write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
        assert header_of(marked[name]) == header_of(path)
        assert detect(marked[name]).name == name
    with_mark, without = parse_lookups(marked), parse_lookups(plain)
    assert (with_mark.vintage, with_mark.top_code) == (without.vintage, without.top_code)
    for frame in ("footnotes", "occupations", "areas", "industries"):
        assert getattr(with_mark, frame).equals(getattr(without, frame)), frame
    staged = {
        kind: stage_oews(
            files,
            tmp_path / kind,
            release_id="r1",
            sources=manifest_rows(files),
        )
        for kind, files in (("plain", plain), ("marked", marked))
    }
    con = duckdb.connect()
    tables = {
        kind: {
            t.table: con.execute(f"SELECT * FROM read_parquet('{t.path}') ORDER BY ALL").fetchall()
            for t in staged_load.tables
        }
        for kind, staged_load in staged.items()
    }
    assert tables["marked"] == tables["plain"]
    assert len(tables["plain"]["oews_estimates"]) == sample_estimates


# ============================================================================ mirror links


def test_a_link_out_of_the_mirror_is_refused_before_a_byte_is_read(
    mirror: Path, tmp_path: Path, oe_path: str
) -> None:
    area = mirror / oe_path / "oe.area"
    area.unlink()
    area.symlink_to("/etc/passwd")
    source = Source.from_arg(mirror)
    with pytest.raises(FetchError) as caught:
        source.locate("download.bls.gov", "pub/time.series/oe/oe.area")
    assert caught.value.status == 403  # not retried: nothing transient about it
    assert str(caught.value) == (
        f"{area}: is a symbolic link to /etc/passwd, outside the mirror folder "
        f"{mirror.resolve()}; refusing to read it (links inside the mirror are followed, "
        "links out of it never are). Replace the link with the file itself, or point it "
        "inside the mirror."
    )


def test_links_inside_the_mirror_are_followed_and_folders_out_of_it_refused(
    mirror: Path, tmp_path: Path, oe_path: str
) -> None:
    store = RawStore(tmp_path / "raw")
    fetcher = Fetcher(store)
    source = Source.from_arg(mirror)
    footnote = mirror / oe_path / "oe.footnote"
    kept = mirror / "copies" / "oe.footnote"
    kept.parent.mkdir()
    footnote.rename(kept)
    footnote.symlink_to(Path("../../../../copies/oe.footnote"))
    fetched = fetcher.fetch(source.locate("download.bls.gov", "pub/time.series/oe/oe.footnote"))
    assert fetched.path.read_bytes() == kept.read_bytes()

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "occupation.xlsx").write_bytes(b"PK\x03\x04 not this one")
    ep = mirror / "www.bls.gov" / "emp"
    shutil.rmtree(ep)
    ep.symlink_to(outside, target_is_directory=True)
    with pytest.raises(FetchError, match=r"lies under a symbolic link and resolves to "):
        source.locate("www.bls.gov", "emp/occupation.xlsx")
    dangling = mirror / oe_path / "oe.area"
    dangling.unlink()
    dangling.symlink_to(tmp_path / "gone" / "oe.area")
    with pytest.raises(FetchError, match=r"outside the mirror folder"):
        source.locate("download.bls.gov", "pub/time.series/oe/oe.area")
    objects = {p.name for p in store.objects.glob("*/*")}
    assert objects == {sha256_file(kept)}


def test_a_file_given_to_ingest_may_be_a_link_anywhere(tmp_path: Path, oe_dir: Path) -> None:
    """The user's own download, linked from another folder: theirs to point at."""
    store = RawStore(tmp_path / "raw")
    link = tmp_path / "downloads" / "oe.area"
    link.parent.mkdir()
    link.symlink_to(oe_dir / "oe.area")
    fetched = Fetcher(store).fetch(str(link), "any")
    assert fetched.path.read_bytes() == (oe_dir / "oe.area").read_bytes()


# ============================================================================= workbooks


def tiny_workbook(**cells: object) -> bytes:
    """An .xlsx with sheet 'Table 1.2' holding ``cells`` ({"A1": value, …})."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("Table 1.2")
    for ref, value in cells.items():
        sheet.write(ref, value)
    book.close()
    return buffer.getvalue()


def sparse_bomb() -> bytes:
    """Two cells, A1 and XFD1048576: 5 KB that calamine 0.9.1 reads as a 549 GB grid (and
    aborts the process when the allocation fails)."""
    return tiny_workbook(A1="Table 1.2 Occupational projections", XFD1048576="x")


def rezip(data: bytes, parts: dict[str, bytes]) -> bytes:
    """``data`` (an .xlsx) with some parts replaced."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = parts.get(info.filename, src.read(info))
            dst.writestr(info.filename, body, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def sheet_xml(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read("xl/worksheets/sheet1.xml")


def refused(call: object, *args: object) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        call(*args)  # type: ignore[operator]
    assert caught.value.check == "workbook size limits", caught.value
    return caught.value


def test_every_workbook_reader_refuses_a_sparse_grid_before_calamine(tmp_path: Path) -> None:
    path = tmp_path / XLSX
    path.write_bytes(sparse_bomb())
    detail = "spans 1,048,576 rows × 16,384 columns = 17,179,869,184 cells (limit 20,000,000)"
    for reader in (parse_workbook, parse_crosswalk, oews_special.parse_special, detect):
        error = refused(reader, path)
        assert error.file == XLSX and detail in error.detail, (reader, error)
    zipped = tmp_path / "oesm23nat.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("oesm23nat/national_M2023_dl.xlsx", sparse_bomb())
    error = refused(oews_special.parse_special, zipped)
    assert error.detail.startswith("oesm23nat/national_M2023_dl.xlsx: sheet xl/worksheets/")


def relocated(data: bytes, sheet: str) -> bytes:
    """``data`` with its sheet part moved elsewhere, the workbook's relationships pointing
    at the new name (calamine follows them; it reads xl/sharedStrings.xml by that name)."""
    out = io.BytesIO()
    moves = {"xl/worksheets/sheet1.xml": sheet}
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename in ("xl/_rels/workbook.xml.rels", "[Content_Types].xml"):
                for old, new in moves.items():
                    body = body.replace(old.removeprefix("xl/").encode(), new.encode())
                    body = body.replace(f"/{old}".encode(), f"/xl/{new}".encode())
            name = moves.get(info.filename)
            dst.writestr(f"xl/{name}" if name else info.filename, body, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def test_parts_are_recognised_by_content_not_by_name(tmp_path: Path) -> None:
    """A sheet the relationships place anywhere is read by calamine all the same, so the
    guard finds sheets (and shared-string tables) by what they hold."""
    plain = relocated(tiny_workbook(A1="moved", B2=2.5), "data/cells.xml")
    path = tmp_path / "moved.xlsx"
    path.write_bytes(plain)
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Table 1.2").to_python()
    assert rows == [["moved", ""], ["", 2.5]]  # calamine followed the relationships
    assert "xl/worksheets/sheet1.xml" not in zipfile.ZipFile(path).namelist()
    path.write_bytes(relocated(sparse_bomb(), "data/cells.xml"))
    error = refused(parse_workbook, path)
    assert "sheet xl/data/cells.xml spans 1,048,576 rows × 16,384 columns" in error.detail


def test_a_zip_bomb_part_is_refused_on_its_declared_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The brief's case scaled down (2 MB → 2 GB there): 20 MB of one sheet in ~20 KB."""
    monkeypatch.setattr(workbook, "MAX_PART_BYTES", 10_000_000)
    base = tiny_workbook(A1="x")
    xml = sheet_xml(base).replace(b"<sheetData>", b"<sheetData>" + b" " * 20_000_000)
    path = tmp_path / XLSX
    path.write_bytes(rezip(base, {"xl/worksheets/sheet1.xml": xml}))
    assert path.stat().st_size < 100_000
    error = refused(parse_workbook, path)
    assert "part xl/worksheets/sheet1.xml unpacks to 20,000," in error.detail
    assert "(limit 10,000,000); refused before reading it" in error.detail


def test_a_part_compressed_beyond_any_spreadsheet_is_refused(tmp_path: Path) -> None:
    base = tiny_workbook(A1="x")
    xml = sheet_xml(base).replace(b"<sheetData>", b"<sheetData>" + b" " * 5_000_000)
    path = tmp_path / XLSX
    path.write_bytes(rezip(base, {"xl/worksheets/sheet1.xml": xml}))
    error = refused(parse_workbook, path)
    assert re.search(r"\(ratio [\d,]+:1, limit 200:1\)", error.detail), error.detail


def test_a_part_that_unpacks_past_its_declared_size_is_refused(tmp_path: Path) -> None:
    """Sizes in the zip directory are only claims: unpacking stops one chunk past them."""
    base = tiny_workbook(A1="x")
    xml = sheet_xml(base).replace(b"<sheetData>", b"<sheetData>" + b" " * 3_000_000)
    data = bytearray(rezip(base, {"xl/worksheets/sheet1.xml": xml}))
    name = b"xl/worksheets/sheet1.xml"
    central = data.index(b"PK\x01\x02")  # the zip directory's entries, until the sheet's
    while data[central + 46 : central + 46 + len(name)] != name:
        central = data.index(b"PK\x01\x02", central + 4)
    local = struct.unpack_from("<I", data, central + 42)[0]
    struct.pack_into("<I", data, central + 24, 1000)  # declared: 1,000 bytes unpacked
    struct.pack_into("<I", data, local + 22, 1000)
    path = tmp_path / XLSX
    path.write_bytes(bytes(data))
    error = refused(parse_workbook, path)
    assert "unpacks to more than the 1,000 bytes its zip entry declares" in error.detail


def test_shared_strings_copied_into_every_cell_are_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """100,000 cells × one 32,000-character string took 3.1 GB; here 2,000 × 10,000 against
    a lowered limit, the same arithmetic."""
    monkeypatch.setattr(workbook, "MAX_TEXT_BYTES", 10_000_000)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("Table 1.2")
    for row in range(2_000):
        sheet.write_string(row, 0, "x" * 10_000)
    book.close()
    path = tmp_path / XLSX
    path.write_bytes(buffer.getvalue())
    assert path.stat().st_size < 100_000
    error = refused(parse_workbook, path)
    assert "holds 20,0" in error.detail and "bytes of text once its shared strings" in error.detail


def test_shared_text_is_counted_per_cell_when_the_cheap_bound_is_too_loose(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many short strings and one long one: the bound "every cell at the longest string"
    is over the limit, each cell's own string is not; an unusual writer (cells without
    ``r``) is counted by the exact XML reader the same way."""
    monkeypatch.setattr(workbook, "MAX_TEXT_BYTES", 10_000_000)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("Table 1.2")
    sheet.write_string(0, 0, "x" * 10_000)
    for row in range(1, 2_000):
        sheet.write_string(row, 0, f"code {row}")
    book.close()
    data = buffer.getvalue()
    workbook.check_workbook(data, XLSX)  # nothing raised: about 30 KB of text in all

    unusual = re.sub(rb' r="[A-Z]+\d+"', b"", sheet_xml(data))  # no cell positions
    unusual = re.sub(rb"<c t=\"s\"><v>\d+</v>", b'<c t="s"><v>0</v>', unusual)  # all the long one
    error = refused(
        workbook.check_workbook, rezip(data, {"xl/worksheets/sheet1.xml": unusual}), XLSX
    )
    assert "holds 20,0" in error.detail, error.detail


def test_cells_without_positions_are_placed_as_calamine_places_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cells and rows without ``r`` follow the previous ones: one wide row and many rows
    after it make a big grid from a small file (read by the exact XML reader)."""
    monkeypatch.setattr(workbook, "MAX_CELLS", 1_000_000)
    base = tiny_workbook(A1="x")
    wide = b"<row>" + b"<c><v>1</v></c>" * 2_000 + b"</row>"
    rows = b"<row><c><v>1</v></c></row>" * 600
    xml = re.sub(
        rb"<sheetData>.*</sheetData>",
        b"<sheetData>" + wide + rows + b"</sheetData>",
        sheet_xml(base),
        flags=re.S,
    )
    path = tmp_path / XLSX
    path.write_bytes(rezip(base, {"xl/worksheets/sheet1.xml": xml}))
    error = refused(parse_workbook, path)
    assert "spans 601 rows × 2,000 columns = 1,202,000 cells (limit 1,000,000)" in error.detail


@pytest.fixture
def national_2012_xls(real: Path) -> bytes:
    if not (real / "oesm" / "oesm12nat.zip").is_file():
        pytest.skip("real BLS samples not present")
    with zipfile.ZipFile(real / "oesm" / "oesm12nat.zip") as archive:
        return archive.read("oesm12nat/national_M2012_dl.xls")


def test_an_xls_whose_records_lie_is_refused(national_2012_xls: bytes, tmp_path: Path) -> None:
    """BLS's May 2012 workbook with one cell record moved to (65535, 65535) asked calamine
    for 137 GB; with its DIMENSIONS record enlarged, for 11 PB."""
    data = bytearray(national_2012_xls)
    cell = data.index(b"\xfd\x00\x0a\x00", 5000)  # a LABELSST record
    moved = bytearray(data)
    struct.pack_into("<HH", moved, cell + 4, 0xFFFF, 0xFFFF)
    dims = data.index(b"\x00\x02\x0e\x00")  # DIMENSIONS, BIFF8
    enlarged = bytearray(data)
    struct.pack_into("<IIHH", enlarged, dims + 4, 0, 0xFFFFFFF0, 0, 0xFFF0)
    for name, body, detail in (
        ("moved", moved, "sheet 'national_dl' spans 65,536 rows × 65,536 columns"),
        ("enlarged", enlarged, "sheet 'national_dl' (its DIMENSIONS record) spans 4,294,967,280"),
    ):
        path = tmp_path / f"{name}.xls"
        path.write_bytes(bytes(body))
        error = refused(oews_special.parse_special, path)
        assert detail in error.detail, error.detail
        assert refused(detect, path).file == path.name


def test_an_xls_past_the_file_size_limit_is_refused(
    national_2012_xls: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workbook, "MAX_XLS_BYTES", 100_000)
    path = tmp_path / "national_M2012_dl.xls"
    path.write_bytes(national_2012_xls)
    error = refused(oews_special.parse_special, path)
    assert f"the .xls file is {len(national_2012_xls):,} bytes (limit 100,000)" in error.detail


def test_the_largest_real_workbook_is_far_inside_the_limits(real: Path) -> None:
    """BLS's by-industry national file (the largest sample): its grid and shared text are
    a small fraction of the limits, so the limits refuse no real file."""
    path = real / "oesm" / "nat4d_M2019_owner_dl.xlsx"
    workbook.check_workbook(path, path.name)  # nothing raised
    book = CalamineWorkbook.from_path(str(path))
    sheet = book.get_sheet_by_name(book.sheet_names[0])
    assert sheet.height * sheet.width < workbook.MAX_CELLS // 50


# ==================================================================== names and vintages


@pytest.fixture(scope="session")
def special(manifest_rows: Callable[..., dict[str, dict[str, object]]]) -> Stager:
    """``special(path, paths, rid)``: ``path`` staged as a special-request load."""

    def stage(path: Path, paths: DataPaths, rid: str) -> load.StagedLoad:
        files = {path.name: path}
        return SOURCES["oews_special"].stage(
            files, paths.staging / rid / path.stem, rid, manifest_rows(files)
        )

    return stage


@pytest.fixture(scope="session")
def time_series(manifest_rows: Callable[..., dict[str, dict[str, object]]]) -> Stager:
    """``time_series(oe_dir, paths, rid)``: the OEWS time-series files in ``oe_dir`` staged."""

    def stage(oe_dir: Path, paths: DataPaths, rid: str) -> load.StagedLoad:
        files = {name: oe_dir / name for name in FILES}
        return SOURCES["oews"].stage(files, paths.staging / rid / "oews", rid, manifest_rows(files))

    return stage


def release_of(paths: DataPaths, *stagers: object) -> load.Release:
    rid = load.plan_release_id(paths)
    made = load.load_release(paths, rid, [s(paths, rid) for s in stagers])  # type: ignore[operator]
    assert made is not None
    return made


def names(paths: DataPaths, table: str, key: str) -> dict[str, str]:
    with load.lake.connect(paths, read_only=True) as con:
        return dict(con.execute(f"SELECT {key}, name FROM lake.{table}").fetchall())


def titles(paths: DataPaths, version: str) -> dict[str, str]:
    with load.lake.connect(paths, read_only=True) as con:
        return dict(
            con.execute(
                "SELECT soc_code, title FROM lake.occupations WHERE soc_version = ?", [version]
            ).fetchall()
        )


@pytest.fixture
def real_oesm(real: Path) -> Path:
    return real / "oesm"


def test_an_older_special_request_year_fills_in_and_never_relabels(
    data_dir: Path,
    oe_dir: Path,
    real_oesm: Path,
    faults: FaultKit,
    special: Stager,
    time_series: Stager,
) -> None:
    paths = DataPaths(data_dir)
    release_of(paths, lambda p, r: time_series(oe_dir, p, r))
    national = names(paths, "areas", "area_code")["0000000"]
    industry = names(paths, "industries", "industry_code")["000000"]
    assert (national, industry) == (
        "National",
        "Cross-industry, Private, Federal, State, and Local Government",
    )
    release_of(paths, lambda p, r: special(real_oesm / "oesm16nat.zip", p, r))
    release_of(paths, lambda p, r: special(real_oesm / "oesm12st.zip", p, r))

    areas = names(paths, "areas", "area_code")
    assert areas["0000000"] == "National"  # not the workbook's "U.S."
    assert areas["0600000"] == "California"  # the time series' row, kept
    assert areas["0100000"] == "Alabama"  # filled in from the May 2012 state file
    # The time series' 4 areas and the 52 other states and territories of the state file.
    assert len(areas) == 56 and areas["2500000"] == "Massachusetts"
    assert names(paths, "industries", "industry_code")["000000"] == industry
    soc_2010 = titles(paths, "2010")  # only the special-request files name SOC 2010 codes
    assert soc_2010["29-2071"] == "Medical Records and Health Information Technicians"

    # A later time-series reload (one value revised) keeps what only the older files name.
    data = oe_dir / faults.DATA_FILE
    data.write_text(faults.with_median(data.read_text(), 50260))
    release_of(paths, lambda p, r: time_series(oe_dir, p, r))
    assert names(paths, "areas", "area_code") == areas


def test_time_series_names_win_whatever_the_order(
    data_dir: Path,
    oe_dir: Path,
    real_oesm: Path,
    special: Stager,
    time_series: Stager,
) -> None:
    paths = DataPaths(data_dir)
    release_of(paths, lambda p, r: special(real_oesm / "national_M2023_dl.xlsx", p, r))
    assert names(paths, "areas", "area_code")["0000000"] == "U.S."
    release_of(paths, lambda p, r: time_series(oe_dir, p, r))
    assert names(paths, "areas", "area_code")["0000000"] == "National"
    assert titles(paths, "2018")["11-1011"] == "Chief Executives"


def retitled(src: Path, dest: Path, code: str, title: str) -> Path:
    """A copy of a special-request workbook with one OCC_TITLE changed."""
    book = CalamineWorkbook.from_path(str(src))
    out = xlsxwriter.Workbook(str(dest))
    for name in book.sheet_names:
        sheet = out.add_worksheet(name)
        rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        header = rows[0] if rows else []
        column = next((j for j, c in enumerate(header) if str(c).upper() == "OCC_TITLE"), None)
        for i, row in enumerate(rows):
            for j, cell in enumerate(row):
                if column is not None and j == column and code in row:
                    cell = title
                if cell not in ("", None):
                    sheet.write(i, j, cell)
    out.close()
    return dest


@pytest.mark.parametrize("order", ["older-last", "older-first", "one-release"])
def test_the_newer_special_request_year_names_a_code(
    data_dir: Path,
    real_oesm: Path,
    tmp_path: Path,
    order: str,
    special: Stager,
) -> None:
    paths = DataPaths(data_dir)
    older = retitled(
        real_oesm / "national_M2023_dl.xlsx",
        tmp_path / "national_M2023_dl.xlsx",
        "11-1011",
        "Chief Executives (as retitled in an older file)",
    )
    newer = real_oesm / "national_M2024_dl.xlsx"
    old_load = lambda p, r: special(older, p, r)  # noqa: E731
    new_load = lambda p, r: special(newer, p, r)  # noqa: E731
    if order == "older-last":
        release_of(paths, new_load)
        release_of(paths, old_load)
    elif order == "older-first":
        release_of(paths, old_load)
        assert titles(paths, "2018")["11-1011"].endswith("older file)")  # filled in
        release_of(paths, new_load)
    else:
        release_of(paths, old_load, new_load)
    assert titles(paths, "2018")["11-1011"] == "Chief Executives"


def test_a_special_request_file_never_replaces_any_time_series_year(
    data_dir: Path,
    oe_dir: Path,
    real_oesm: Path,
    special: Stager,
    time_series: Stager,
) -> None:
    """Not only the newest one the release names: every year the time series loaded. The
    file's estimates of such a year are compared with the time series', never written."""
    paths = DataPaths(data_dir)
    release_of(paths, lambda p, r: time_series(oe_dir, p, r))
    history = [
        {
            "loaded": {"oews": {}},
            "sources": {"oews": {"f": {"vintage": "May 2023"}}},
            "vintages": {"oews": "May 2024"},
        }
    ]
    staged = special(real_oesm / "national_M2023_dl.xlsx", paths, "x")
    assert "May 2023" in load._held_vintages(history, [staged], "oews")
    assert "May 2023" not in load._held_vintages(history[:0], [staged], "oews")

    def median() -> object:
        with load.lake.connect(paths, read_only=True) as con:
            return con.execute(
                "SELECT value, release_id FROM lake.oews_estimates WHERE reference_year = 2024 "
                "AND soc_code = '29-2072' AND measure = 'annual_median' "
                "AND area_code = '0000000' AND industry_code = '000000'"
            ).fetchone()

    before = median()
    rid = load.plan_release_id(paths)
    findings: dict[str, dict[str, object]] = {}
    load.load_release(
        paths,
        rid,
        [special(real_oesm / "national_M2024_dl.xlsx", paths, rid)],
        findings_out=findings,
    )
    assert median() == before  # the time series' value and the release that loaded it
    (finding,) = findings.values()
    assert finding["vintage"] == "May 2024" and finding["yields_to"] == "oews"
    # Every estimate of the sample's 37 national cross-industry occupations (17 measures
    # each; some of the sample's values are illustrative, so they differ) has its
    # counterpart; the rest of BLS's workbook has none in the sample.
    assert finding["agree"] + finding["differ"] == 37 * 17  # type: ignore[operator]
    assert finding["differ"] > 0
    assert finding["unmatched"] == 23_103


def test_newest_vintage_compares_years_not_load_order() -> None:
    assert load.newest_vintage("2024-34", "2022-32") == "2024-34"
    assert load.newest_vintage("2022-32", "2024-34") == "2024-34"
    assert load.newest_vintage("May 2024", "May 2016") == "May 2024"
    assert load.newest_vintage("May 2016", "May 2025") == "May 2025"
    assert load.newest_vintage("2024-34", "2024-34") == "2024-34"
    assert load.newest_vintage(None, "2010-20") == "2010-20"
    assert load.newest_vintage("SOC 2010 to 2018", "SOC 2010 to 2018") == "SOC 2010 to 2018"
    assert load.newest_vintage("unknown", "other") == "other"  # no year: the last load


def test_an_older_cycle_keeps_the_release_vintage_and_the_notes_say_what_loaded(
    data_dir: Path,
    shared_samples: Path,
    real: Path,
    manifest_rows: Callable[..., dict[str, dict[str, object]]],
) -> None:
    paths = DataPaths(data_dir)

    def cycle(path: Path) -> object:
        files = {XLSX: path}
        return lambda p, r: SOURCES["projections"].stage(
            files, p.staging / r / "ep", r, manifest_rows(files)
        )

    first = release_of(paths, cycle(shared_samples / "ep" / "occupation_2024-34.xlsx"))
    publish.publish(paths, first.release_id, extras=[bundle_writer()])
    second = release_of(paths, cycle(real / "ep" / "occupation_2022-32.xlsx"))
    assert second.named_vintages == {"projections": "2024-34"}  # recorded: the newest
    assert second.vintages == {"projections": "2022-32"}  # the run reports what it loaded
    bundle = publish.publish(paths, second.release_id, extras=[bundle_writer()])
    package = json.loads((bundle / "datapackage.json").read_text())
    assert package["vintages"] == {"projections": "2024-34"}
    assert [s["vintage"] for s in package["sources"]] == ["2022-32"]  # what it loaded
    notes = (bundle / "RELEASE_NOTES.md").read_text()
    loaded = notes.split("## Sources loaded in this release", 1)[1]
    assert "| 2022-32 |" in loaded
    with load.lake.connect(paths, read_only=True) as con:
        cycles = con.execute("SELECT DISTINCT cycle FROM lake.projections ORDER BY 1").fetchall()
    assert cycles == [("2022-32",), ("2024-34",)]


# ======================================================================= end to end (Prefect)


@pytest.mark.usefixtures("prefect_harness")
def test_cp1252_lookup_refresh_fails_and_keeps_latest(w: World, a: str, faults: FaultKit) -> None:
    path = w.oe_dir / "oe.occupation"
    text = path.read_bytes().decode("utf-8")
    data = cp1252(text.replace("Chief Executives", "Chief Executives – Café"))
    with faults.published_bytes(w, path, data):
        result = faults.cli_run(w)
        stderr = assert_refused(faults, result, "cp1252-lookup", a)
        assert "b'111011\\tChief Executives \\x96 Caf\\xe9" in stderr
        digest = sha256_file(path)
        assert (w.data_dir / "raw" / "objects" / digest[:2] / digest).is_file()  # kept
        faults.assert_intact(w, a)
        assert faults.lake_latest(w) == a
    clean_run(faults, w, a)


@pytest.mark.usefixtures("prefect_harness")
def test_utf8_bom_files_load_as_the_same_content(w: World, a: str, faults: FaultKit) -> None:
    originals = {
        n: (w.oe_dir / n).read_bytes() for n in ("oe.area", "oe.occupation", faults.DATA_FILE)
    }
    with contextlib.ExitStack() as stack:
        for name, body in originals.items():
            stack.enter_context(faults.published_bytes(w, w.oe_dir / name, b"\xef\xbb\xbf" + body))
        result = faults.cli_run(w)
        assert result.exit_code == 0, (result.output, result.exception)
        faults.assert_names_cause(result.stdout, "utf8-bom")
        assert faults.latest_of(w.data_dir) == a
    clean_run(faults, w, a)


@pytest.mark.usefixtures("prefect_harness")
def test_symlink_out_of_a_mirror_folder_is_refused(w: World, a: str, faults: FaultKit) -> None:
    area = w.oe_dir / "oe.area"
    original = area.read_bytes()
    before = {p.name for p in (w.data_dir / "raw" / "objects").glob("*/*")}
    area.unlink()
    area.symlink_to("/etc/passwd")
    try:
        result = faults.cli("run", "--source", str(w.mirror), "--data-dir", str(w.data_dir))
        stderr = assert_refused(faults, result, "symlink-out-of-mirror", a)
        assert str(area) in stderr
        after = {p.name for p in (w.data_dir / "raw" / "objects").glob("*/*")}
        assert after == before  # the files before oe.area: the same bytes as the server's
        for obj in (w.data_dir / "raw" / "objects").glob("*/*"):
            assert b"root:" not in obj.read_bytes()[:4096], obj
        faults.assert_intact(w, a)

        # A link to a copy inside the mirror is followed: the same bytes, no new release.
        inside = w.mirror / "copies" / "oe.area"
        inside.parent.mkdir(exist_ok=True)
        inside.write_bytes(original)
        area.unlink()
        area.symlink_to(inside)
        ok = faults.cli("run", "--source", str(w.mirror), "--data-dir", str(w.data_dir))
        assert ok.exit_code == 0, (ok.output, ok.exception)
        assert faults.latest_of(w.data_dir) == a
    finally:
        area.unlink(missing_ok=True)
        area.write_bytes(original)
        w.touch_later(area)
    clean_run(faults, w, a)


@pytest.mark.usefixtures("prefect_harness")
def test_a_workbook_bomb_from_the_server_is_refused(w: World, a: str, faults: FaultKit) -> None:
    bomb = sparse_bomb()
    w.server.fail(XLSX, "body", times=1, data=bomb)
    result = faults.cli_run(w)
    assert_refused(faults, result, "xlsx-bomb", a)
    digest = hashlib.sha256(bomb).hexdigest()
    assert (w.data_dir / "raw" / "objects" / digest[:2] / digest).is_file()  # kept
    faults.assert_intact(w, a)
    assert faults.lake_latest(w) == a
    clean_run(faults, w, a)


@pytest.mark.usefixtures("prefect_harness")
def test_an_older_year_ingested_keeps_the_time_series_names(
    w: World, a: str, real_oesm: Path, tmp_path: Path, faults: FaultKit
) -> None:
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    link = downloads / "oesm16nat.zip"  # the user's own download, linked: allowed
    link.symlink_to(real_oesm / "oesm16nat.zip")
    result = faults.cli("ingest", str(link), "--data-dir", str(w.data_dir))
    assert result.exit_code == 0, (result.output, result.exception)
    b = faults.latest_of(w.data_dir)
    assert b != a
    shown = faults.cli(
        "figure", "29-2072", "annual_median", "--json", "--data-dir", str(w.data_dir)
    )
    assert shown.exit_code == 0, shown.output
    figure = json.loads(shown.stdout)
    assert (figure["reference"], figure["area"]) == ("May 2024", "National")
    older = faults.cli(
        "figure",
        "29-2071",
        "annual_median",
        "--year",
        "2016",
        "--json",
        "--data-dir",
        str(w.data_dir),
    )
    assert older.exit_code == 0, older.output
    assert json.loads(older.stdout)["value"] == 38040
    for output in (shown.stdout, older.stdout):  # one table of names for every year
        faults.assert_names_cause(output, "older-year-keeps-names")
        shown_names = json.loads(output)
        assert (shown_names["area"], shown_names["industry"]) == (
            "National",
            "Cross-industry, Private, Federal, State, and Local Government",
        )


@pytest.mark.usefixtures("prefect_harness")
def test_releases_names_the_newest_vintage_after_an_older_cycle(
    w: World, a: str, real: Path, faults: FaultKit
) -> None:
    result = faults.cli(
        "ingest", str(real / "ep" / "occupation_2022-32.xlsx"), "--data-dir", str(w.data_dir)
    )
    assert result.exit_code == 0, (result.output, result.exception)
    b = faults.latest_of(w.data_dir)
    listed = faults.cli("releases", "--data-dir", str(w.data_dir))
    assert listed.exit_code == 0, listed.output
    row = next(line for line in listed.stdout.splitlines() if line.startswith(b))
    assert "projections=2024-34" in row and "2022-32" not in row
    notes = (w.data_dir / "published" / b / "RELEASE_NOTES.md").read_text()
    faults.assert_names_cause(f"{row}\n{notes}", "releases-newest-vintage")
    package = json.loads((w.data_dir / "published" / b / "datapackage.json").read_text())
    assert package["vintages"]["projections"] == "2024-34"
    default = faults.cli(
        "figure", "29-2072", "employment_change_pct", "--json", "--data-dir", str(w.data_dir)
    )
    assert default.exit_code == 0, default.output
    assert json.loads(default.stdout)["reference"] == "2024-34"
    older = faults.cli(
        "figure",
        "29-2072",
        "employment_change_pct",
        "--cycle",
        "2022-32",
        "--json",
        "--data-dir",
        str(w.data_dir),
    )
    assert older.exit_code == 0, older.output
    assert json.loads(older.stdout)["value"] == 8.5
