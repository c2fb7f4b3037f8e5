"""A writer's series read from a small bundle: lines, JSON, CSV, gaps and refusals."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from figures.errors import FigureError
from figures.release import ReleaseReader
from figures.series import series

RELEASE = "2026-12-04.1"


@pytest.fixture
def reader(tmp_path: Path) -> Iterator[ReleaseReader]:
    bundle = tmp_path / RELEASE
    bundle.mkdir()
    con = duckdb.connect()
    tables = {
        "oews_estimates": "SELECT * FROM (VALUES "
        "(2018, 'May 2018', 'N', '0000000', '000000', 'all', '29-2071', 'annual_median', "
        " 40350.000::DECIMAL(18,3), 'ok', NULL::DECIMAL(18,2), NULL, 'r'),"
        "(2019, 'May 2019', 'N', '0000000', '000000', 'all', '29-2098', 'annual_median', "
        " 42630.000, 'ok', NULL, NULL, 'r'),"
        "(2021, 'May 2021', 'N', '0000000', '000000', 'all', '29-2072', 'annual_median', "
        " NULL, 'top_coded', 239200.00, '#', 'r')"
        ") t(reference_year, reference_period, areatype_code, area_code, industry_code, "
        "ownership, soc_code, measure, value, status, top_code_threshold, footnote_codes, "
        "release_id)",
        "soc_crosswalk": "SELECT * FROM (VALUES ('2010', '29-2071', 'Medical Records and "
        "Health Information Technicians', '2018', '29-2072', 'Medical Records Specialists'), "
        "('2010', '29-2071', 'Medical Records and Health Information Technicians', '2018', "
        "'29-9021', 'Health Information Technologists and Medical Registrars')) "
        "t(from_version, from_code, from_title, to_version, to_code, to_title)",
        "occupations": "SELECT * FROM (VALUES ('2018', '29-2072', 'Medical Records "
        "Specialists'), ('2018-hybrid', '29-2098', 'Medical Dosimetrists, Medical Records "
        "Specialists, and Health Technologists and Technicians, All Other')) "
        "t(soc_version, soc_code, title)",
        "areas": "SELECT '0000000' AS area_code, 'National' AS name",
        "industries": "SELECT '000000' AS industry_code, 'Cross-industry' AS name",
        "projections": "SELECT NULL::VARCHAR AS soc_code, NULL::VARCHAR AS title, "
        "NULL::INTEGER AS base_year WHERE false",
        "raw_files": "SELECT * FROM (VALUES ('https://www.bls.gov/oes/special-requests/"
        "oesm18nat.zip', 'May 2018'), ('https://www.bls.gov/oes/special-requests/"
        "oesm19nat.zip', 'May 2019')) t(url, vintage)",
        "releases": f"SELECT '{RELEASE}' AS release_id, '{{\"oews\": \"May 2021\"}}' AS vintages",
    }
    for name, query in tables.items():
        con.execute(f"COPY ({query}) TO '{bundle / name}.parquet' (FORMAT parquet)")
    con.close()
    with ReleaseReader(RELEASE, bundle) as opened:
        yield opened


def test_the_series_marks_the_split_the_hybrid_gap_and_the_top_code(
    reader: ReleaseReader,
) -> None:
    found = series(reader, "29-2072", "annual_median")
    assert [(p.year, p.soc_code, p.text, p.comparable) for p in found.points] == [
        (2018, "29-2071", "$40,350", False),
        (2021, "29-2072", "$239,200 or more", True),
    ]
    first, last = found.points
    assert first.source_url == "https://www.bls.gov/oes/2018/may/oes292071.htm"
    assert first.source_file == "oesm18nat.zip"
    assert last.source_url == "https://data.bls.gov/timeseries/OEUN000000000000029207213"
    assert last.value is None and last.top_code_in_force == 239200
    (gap,) = found.gaps
    assert gap.startswith("May 2019: no estimate under 29-2072: May 2019 and May 2020 used")
    assert "29-2098 Medical Dosimetrists, Medical Records Specialists" in gap
    lines = found.lines()
    assert lines[0] == (
        f"Medical Records Specialists (29-2072): median annual wage, National (release {RELEASE})"
    )
    assert [line[:8] for line in lines[1:4]] == ["May 2018", "May 2019", "May 2021"]
    assert "BREAK: SOC 2010 29-2071 was split into 29-2072 + 29-9021" in lines[1]
    assert any(line.startswith("Caveat: BLS cautions") for line in lines)


def test_json_and_csv_carry_every_point_and_the_caveat(reader: ReleaseReader) -> None:
    found = series(reader, "29-2072", "annual_median", from_year=2019)
    data = json.loads(json.dumps(found.to_json()))
    assert [p["year"] for p in data["points"]] == [2021]
    assert data["gaps"][0].startswith("May 2019")
    assert "not designed for comparisons over time" in data["caveat"]
    rows = list(csv.DictReader(io.StringIO(found.csv())))
    assert [r["year"] for r in rows] == ["2021"]
    assert rows[0]["status"] == "top_coded" and rows[0]["caveat"] == found.caveat


def test_refusals_name_what_to_ask_instead(reader: ReleaseReader) -> None:
    with pytest.raises(FigureError, match="29-2071 is a SOC 2010 code") as old:
        series(reader, "29-2071", "annual_median")
    assert old.value.choices == ["29-2072", "29-9021"]
    with pytest.raises(FigureError, match="is not an OEWS measure"):
        series(reader, "29-2072", "employment_change_pct")
