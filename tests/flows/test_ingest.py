"""``bls-refresh ingest``: hand-downloaded files, recognised by content, loaded like a refresh."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from core.errors import FetchError, ValidationError
from extractors.oews import FILES
from flows.ingest import ingest

if TYPE_CHECKING:
    from tests.conftest import OesmWorkbooks

pytestmark = pytest.mark.usefixtures("prefect_harness")
EP = "www.bls.gov/emp/ind-occ-matrix/occupation.xlsx"


def projection(data_dir: Path, code: str, release: str | None = None) -> dict[str, object]:
    con = duckdb.connect(str(data_dir / "bls.duckdb"), read_only=True)
    schema = f'"{release}".' if release else ""
    cur = con.execute(f"SELECT * FROM {schema}projections WHERE soc_code = ?", [code])
    names = [d[0] for d in cur.description]
    row = dict(zip(names, cur.fetchone(), strict=True))
    con.close()
    return row


def rewrite_workbook(src: Path, dest: Path, code: str, column: int, value: object) -> None:
    """A copy of an EP workbook with one cell changed (as BLS's spring wage refresh does)."""
    book = CalamineWorkbook.from_path(str(src))
    out = xlsxwriter.Workbook(str(dest))
    for name in book.sheet_names:
        sheet = out.add_worksheet(name)
        for i, row in enumerate(book.get_sheet_by_name(name).to_python(skip_empty_area=False)):
            for j, cell in enumerate(row):
                if j == column and len(row) > 1 and row[1] == code:
                    cell = value
                if cell not in ("", None):
                    sheet.write(i, j, cell)
    out.close()


def test_real_2024_34_workbook(data_dir: Path, shared_samples: Path) -> None:
    outcome = ingest(
        files=[str(shared_samples / "ep/occupation_2024-34.xlsx")], data_dir=str(data_dir)
    )

    assert outcome.changed and outcome.vintages == {"projections": "2024-34"}
    mrs = projection(data_dir, "29-2072")
    assert (mrs["employment_base"], mrs["employment_target"]) == (194800, 208600)
    assert float(mrs["employment_change_pct"]) == 7.1
    assert (mrs["median_annual_wage"], mrs["wage_year"]) == (50250, 2024)
    assert mrs["title"] == "Medical records specialists" and mrs["level"] == 3
    total = projection(data_dir, "00-0000")
    assert float(total["employment_change_pct"]) == 3.1
    assert total["employment_base"] == 169956100

    again = ingest(
        files=[str(shared_samples / "ep/occupation_2024-34.xlsx")], data_dir=str(data_dir)
    )
    assert not again.changed and "already loaded" in again.message


def test_wage_refresh_in_place_makes_a_release_naming_the_column(
    data_dir: Path, mirror: Path, tmp_path: Path
) -> None:
    original = mirror / EP
    first = ingest(files=[str(original)], data_dir=str(data_dir))
    refreshed = tmp_path / "download (1).xlsx"  # whatever the browser called it
    rewrite_workbook(original, refreshed, "29-2072", 11, 51140.0)

    second = ingest(files=[str(refreshed)], data_dir=str(data_dir))

    assert second.changed
    notes = (data_dir / "published" / second.release_id / "RELEASE_NOTES.md").read_text()
    assert "- projections: changed values: `median_annual_wage` in 1 row" in notes
    assert "PROJECTIONS: 2024-34 (reloaded" in notes
    assert projection(data_dir, "29-2072")["median_annual_wage"] == 51140
    assert projection(data_dir, "29-2072", first.release_id)["median_annual_wage"] == 50250

    # Same content, different bytes (saved again): no release.
    resaved = tmp_path / "resaved.xlsx"
    rewrite_workbook(refreshed, resaved, "29-2072", 11, 51140.0)
    third = ingest(files=[str(resaved)], data_dir=str(data_dir))
    assert not third.changed and third.release_id == second.release_id


def test_oews_flat_files_and_a_later_data_file_alone(
    data_dir: Path, mirror: Path, tmp_path: Path, oe_path: str, sample_estimates: int
) -> None:
    oe = mirror / oe_path
    names = [*FILES, "oe.series", "oe.seasonal"]
    # Names do not matter: copy them under meaningless names.
    given = []
    for i, name in enumerate(names):
        dest = tmp_path / f"file{i}.txt"
        shutil.copy(oe / name, dest)
        given.append(str(dest))
    first = ingest(files=given, data_dir=str(data_dir))
    assert first.changed and first.vintages == {"oews": "May 2024"}
    assert first.row_counts["oews_estimates"] == sample_estimates

    data = tmp_path / "oe.data.0.Current"
    text = (oe / "oe.data.0.Current").read_text()
    sid = "OEUN000000000000029207213     \t2024\tA01\t"
    start = text.index(sid) + len(sid)
    data.write_text(text[:start] + "51140".rjust(12) + text[start + 12 :])
    second = ingest(files=[str(data)], data_dir=str(data_dir))
    assert second.changed
    package = json.loads((data_dir / "published/latest/datapackage.json").read_text())
    assert len([s for s in package["sources"] if s["title"].startswith("oews:")]) == 7


def test_data_file_alone_without_any_earlier_lookups_is_refused(
    data_dir: Path, mirror: Path, oe_path: str
) -> None:
    with pytest.raises(ValidationError, match=r"complete OEWS file set.*oe\.area"):
        ingest(files=[str(mirror / oe_path / "oe.data.0.Current")], data_dir=str(data_dir))


def test_unrecognised_files_are_refused(data_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "occupation.xlsx"  # a promising name is not enough
    path.write_bytes(b"# notes\nsomething else\n")
    with pytest.raises(ValidationError, match="expected an Employment Projections") as info:
        ingest(files=[str(path)], data_dir=str(data_dir))
    assert "a text file whose first line is '# notes'" in str(info.value)
    assert not (data_dir / "published" / "latest").exists()


def test_empty_file_is_refused(data_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "oe.data.0.Current"
    path.write_bytes(b"")
    with pytest.raises(FetchError, match="the file is empty"):
        ingest(files=[str(path)], data_dir=str(data_dir))


def test_html_saved_as_xlsx_is_refused_and_kept(data_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "occupation.xlsx"
    path.write_text("<!DOCTYPE html><html><head><title>Access Denied</title></head></html>")
    with pytest.raises(FetchError, match="HTML page \\('Access Denied'\\)"):
        ingest(files=[str(path)], data_dir=str(data_dir))
    assert list((data_dir / "raw" / "quarantine").iterdir())


def test_other_workbooks_are_refused(data_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "occupation.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("Budget").write(0, 0, "Quarter")
    book.close()
    with pytest.raises(ValidationError, match=r"a workbook with sheets \['Budget'\]"):
        ingest(files=[str(path)], data_dir=str(data_dir))
    assert not os.path.exists(data_dir / "published" / "latest")


def test_soc_crosswalk_is_recognised_and_loaded(data_dir: Path, shared_samples: Path) -> None:
    crosswalk = shared_samples / "soc/soc_2010_to_2018_crosswalk.xlsx"
    outcome = ingest(files=[str(crosswalk)], data_dir=str(data_dir))
    assert outcome.vintages == {"soc": "SOC 2010 to 2018"}
    con = duckdb.connect(str(data_dir / "bls.duckdb"), read_only=True)
    rows = con.execute(
        "SELECT to_code, to_title FROM soc_crosswalk WHERE from_code = '29-2071' ORDER BY 1"
    ).fetchall()
    con.close()
    assert rows == [
        ("29-2072", "Medical Records Specialists"),
        ("29-9021", "Health Information Technologists and Medical Registrars"),
    ]


def test_special_request_zip_loads_an_earlier_year(
    data_dir: Path, mirror: Path, tmp_path: Path, oe_path: str, oesm: OesmWorkbooks
) -> None:
    oe = mirror / oe_path
    ingest(files=[str(oe / n) for n in os.listdir(oe)], data_dir=str(data_dir))
    archive = oesm.national_2023_zip(tmp_path)

    outcome = ingest(files=[str(archive)], data_dir=str(data_dir))

    assert outcome.changed
    assert outcome.vintages["oews"] == "May 2024"
    assert outcome.vintages["oews_special_2023_national"] == "May 2023"
    con = duckdb.connect(str(data_dir / "bls.duckdb"), read_only=True)
    rows = con.execute(
        "SELECT reference_year, value, status FROM oews_estimates WHERE soc_code = '29-2072' "
        "AND measure = 'annual_median' AND area_code = '0000000' AND industry_code = '000000' "
        "ORDER BY reference_year"
    ).fetchall()
    assert [(y, float(v), s) for y, v, s in rows] == [(2023, 48780.0, "ok"), (2024, 50250.0, "ok")]
    top = con.execute(
        "SELECT status, top_code_threshold, footnote_codes FROM oews_estimates "
        "WHERE reference_year = 2023 AND soc_code = '29-1211' AND measure = 'annual_median'"
    ).fetchone()
    assert (top[0], float(top[1]), top[2]) == ("top_coded", 239200.0, "#")
    actors = con.execute(
        "SELECT value, status FROM oews_estimates WHERE reference_year = 2023 "
        "AND soc_code = '27-2011' AND measure = 'annual_median'"
    ).fetchone()
    # Actors: HOURLY = TRUE, so the absent annual wage is hourly-only, not suppressed.
    assert actors == (None, "hourly_only")
    # The 2024 lookups were not shrunk to the special-request subset.
    assert con.execute("SELECT count(*) FROM areas").fetchone()[0] == 4
    con.close()

    again = ingest(files=[str(archive)], data_dir=str(data_dir))
    assert not again.changed


def test_special_request_never_overwrites_the_time_series_year(
    data_dir: Path, mirror: Path, tmp_path: Path, oe_path: str, oesm: OesmWorkbooks
) -> None:
    oe = mirror / oe_path
    first = ingest(files=[str(oe / n) for n in os.listdir(oe)], data_dir=str(data_dir))
    same_year = oesm.write_workbook(
        tmp_path / "national.xlsx", oesm.HEADER_2023, oesm.ROWS_2023, 2024
    )

    second = ingest(files=[str(same_year)], data_dir=str(data_dir))
    # compared with the flat files, never written over them: a finding with both values
    finding = second.findings["national.xlsx"]
    assert finding["vintage"] == "May 2024" and finding["yields_to"] == "oews"
    # the workbook's illustrative 2023 values disagree with the flat files' 2024 ones
    assert finding["differ"] > 0 and len(finding["examples"]) == min(finding["differ"], 10)
    for example in finding["examples"]:
        assert example["flat_value"] != example["zip_value"]
    assert finding["unmatched"] > 0  # 27-2011 Actors: not in the sample's flat files
    latest = data_dir / "published" / "latest"
    con = duckdb.connect()
    kept = con.execute(
        f"SELECT value, release_id FROM '{latest}/oews_estimates/*.parquet' WHERE "
        "reference_year = 2024 AND soc_code = '29-2072' AND measure = 'annual_median' "
        "AND area_code = '0000000' AND industry_code = '000000'"
    ).fetchone()
    assert (float(kept[0]), kept[1]) == (50250, first.release_id)
    actors = con.execute(
        f"SELECT count(*) FROM '{latest}/oews_estimates/*.parquet' WHERE soc_code = '27-2011'"
    ).fetchone()
    assert actors == (0,)  # no estimate of May 2024 comes from the workbook
    if second.changed:  # the workbook named occupations the flat files do not list
        notes = (latest / "RELEASE_NOTES.md").read_text()
        assert "## Findings" in notes and "national.xlsx: May 2024 is loaded from the" in notes
