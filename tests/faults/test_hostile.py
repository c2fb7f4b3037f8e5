"""Hostile input: archives that try to escape or explode, names from servers, the API key."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest
import xlsxwriter

from core.errors import ValidationError
from extractors.http import Fetcher
from extractors.rawstore import RawStore
from transforms import oews_special
from transforms.projections import parse_workbook

if TYPE_CHECKING:
    from tests.blsserver import BlsServer
    from tests.conftest import OesmWorkbooks


def zip_with(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


@pytest.fixture
def workbook_bytes(tmp_path: Path, oesm: OesmWorkbooks) -> bytes:
    return oesm.write_workbook(
        tmp_path / "national_M2023_dl.xlsx", oesm.HEADER_2023, oesm.ROWS_2023
    ).read_bytes()


@pytest.mark.parametrize(
    "member",
    ["../national_M2023_dl.xlsx", "oesm23nat/../../x.xlsx", "/tmp/evil.xlsx", "C:evil.xlsx"],
)
def test_zip_members_that_escape_are_refused(
    tmp_path: Path, workbook_bytes: bytes, member: str
) -> None:
    archive = zip_with(tmp_path / "oesm23nat.zip", {member: workbook_bytes})
    with pytest.raises(ValidationError, match="safe zip member names"):
        oews_special.parse_special(archive)
    assert not (tmp_path.parent / "national_M2023_dl.xlsx").exists()


def test_zip_bomb_is_bounded_by_the_member_size_limit(
    tmp_path: Path, workbook_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 20 MB of zeros compress to a few KB: refused on its declared size, never unpacked.
    archive = zip_with(
        tmp_path / "bomb.zip",
        {
            "oesm23nat/national_M2023_dl.xlsx": workbook_bytes,
            "oesm23nat/bomb.xlsx": bytes(20_000_000),
        },
    )
    assert archive.stat().st_size < 200_000
    monkeypatch.setattr(oews_special, "MAX_MEMBER_BYTES", 5_000_000)
    with pytest.raises(ValidationError, match=r"member size limit.*bomb\.xlsx"):
        oews_special.parse_special(archive)


def test_external_links_are_never_followed(tmp_path: Path) -> None:
    """A cell that points into another workbook is read as the value saved with it."""
    path = tmp_path / "occupation.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Table 1.2")
    sheet.write(0, 0, "Table 1.2 Occupational projections, 2024–2034 (Employment in thousands)")
    header = [
        "2024 National Employment Matrix title",
        "2024 National Employment Matrix code",
        "Occupation type",
        "Employment, 2024",
        "Employment, 2034",
        "Employment change, numeric, 2024–34",
        "Employment change, percent, 2024–34",
        "Percent self employed, 2024",
        "Occupational openings, 2024–34 annual average",
        "Typical education needed for entry",
        "Work experience in a related occupation",
        "Typical on-the-job training needed to attain competency in the occupation",
        "Median annual wage, dollars, 2024[1]",
    ]
    for j, name in enumerate(header):
        sheet.write(1, j, name)
    row = ["Total, all occupations", "00-0000", "Summary", 169956.1, 175167.9, 5211.8, 3.1]
    row += [5.8, 18863.3, "—", "—", "—"]
    for j, value in enumerate(row):
        sheet.write(2, j, value)
    # The saved value is 49500; the formula names a file on another machine.
    sheet.write_formula(2, 12, "='\\\\evil-host\\share\\[x.xlsx]S'!A1", None, 49500)
    sheet.write(3, 0, "Source: Employment Projections program, U.S. Bureau of Labor Statistics")
    book.close()
    parsed = parse_workbook(path)
    assert int(parsed.frame.loc[0, "median_annual_wage"]) == 49500


def test_names_sent_by_the_server_are_never_used_as_paths(
    tmp_path: Path, bls_server: BlsServer, contact: str, oe_path: str
) -> None:
    store = RawStore(tmp_path / "raw")
    bls_server.fail(
        "oe.area",
        "body",
        data=b"state_code\tarea_code\tareatype_code\tarea_name\n00\t0000000\tN\tNational\n",
        headers={"Content-Disposition": 'attachment; filename="../../../escaped.txt"'},
    )
    fetched = Fetcher(store, contact=contact).fetch(bls_server.url(f"{oe_path}/oe.area"))
    assert fetched.path.parent.parent == store.objects
    assert not list(tmp_path.rglob("escaped.txt"))


@pytest.mark.usefixtures("prefect_harness")
def test_api_key_is_nowhere_after_a_refresh(
    data_dir: Path, bls_server: BlsServer, monkeypatch: pytest.MonkeyPatch, contact: str
) -> None:
    from prefect.client.orchestration import get_client

    from flows.refresh import refresh

    key = "SECRET-KEY-7f3a9c"
    monkeypatch.setenv("BLS_API_KEY", key)
    outcome = refresh(data_dir=str(data_dir), source=bls_server.base_url, contact=contact)
    assert outcome.changed

    for path in data_dir.rglob("*"):
        if path.is_file():
            assert key.encode() not in path.read_bytes(), path
    con = duckdb.connect(str(data_dir / "bls.duckdb"), read_only=True)
    assert (
        con.execute("SELECT count(*) FROM raw_files WHERE url LIKE ?", [f"%{key}%"]).fetchone()[0]
        == 0
    )
    con.close()
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts()
    assert artifacts and all(key not in str(a.data) for a in artifacts)
    assert all(key not in r.path and key not in str(r.headers) for r in bls_server.requests)


def test_a_workbook_is_only_read_never_run(tmp_path: Path) -> None:
    """A macro-enabled part inside the zip is inert data to the reader (nothing executes)."""
    source = tmp_path / "src.xlsx"
    book = xlsxwriter.Workbook(str(source))
    book.add_worksheet("Budget").write(0, 0, "x")
    book.close()
    with_macro = tmp_path / "occupation.xlsx"
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(with_macro, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        dst.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0Sub AutoOpen()")
    with pytest.raises(ValidationError, match=r"sheet 'Table 1\.2'"):
        parse_workbook(with_macro)
