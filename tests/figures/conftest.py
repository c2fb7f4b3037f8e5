"""Fixtures of the figures tests: a small release bundle written directly (no warehouse).

``write_bundle(paths, release_id, median=…)`` writes ``published/<release_id>/`` with just what
one OEWS figure reads (areas, industries, occupations, an empty projections table, estimates
for 29-2072 and the top-coded 29-1211, footnotes, raw_files and releases) and its
``datapackage.json``, written last as publishing does.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from core.paths import DataPaths

TOP_CODE = "This wage is equal to or greater than $115.00 per hour or $239,200 per year."


def _write_bundle(paths: DataPaths, release_id: str, *, median: str = "50250") -> Path:
    bundle = paths.published / release_id
    bundle.mkdir(parents=True)
    estimates = [  # soc, value, status, top-code threshold, footnote codes
        ("29-2072", median, "ok", "NULL", "NULL"),
        ("29-1211", "NULL", "top_coded", "239200", "'5'"),
    ]
    rows = ", ".join(
        f"(2024, 'May 2024', 'N', '0000000', '000000', 'all', '{soc}', 'annual_median', "
        f"{value}::DECIMAL(18,3), '{status}', {top}::DECIMAL(18,2), {notes}, '{release_id}')"
        for soc, value, status, top, notes in estimates
    )
    vintages = json.dumps({"oews": "May 2024"})
    tables = {
        "areas": "SELECT * FROM (VALUES ('0000000', 'N', '00', 'National'), "
        "('0600000', 'S', '06', 'California')) t(area_code, area_type, state_code, name)",
        "industries": "SELECT '000000' AS industry_code, 'Cross-industry' AS name",
        "occupations": "SELECT * FROM (VALUES ('2018', '29-2072', 'Medical Records Specialists'), "
        "('2018', '29-1211', 'Anesthesiologists')) t(soc_version, soc_code, title)",
        "projections": "SELECT NULL::VARCHAR AS soc_code, NULL::VARCHAR AS title, "
        "NULL::INTEGER AS base_year, NULL::VARCHAR AS cycle WHERE false",
        "oews_estimates": f"SELECT * FROM (VALUES {rows}) t(reference_year, reference_period, "
        "areatype_code, area_code, industry_code, ownership, soc_code, measure, value, status, "
        "top_code_threshold, footnote_codes, release_id)",
        "oews_footnotes": f"SELECT 2024 AS reference_year, '5' AS footnote_code, "
        f"'{TOP_CODE}' AS footnote_text",
        "raw_files": "SELECT 'https://download.bls.gov/pub/time.series/oe/oe.data.0.Current' "
        "AS url, 'May 2024' AS vintage",
        "releases": f"SELECT '{release_id}' AS release_id, '{vintages}' AS vintages",
    }
    con = duckdb.connect()
    for name, query in tables.items():
        con.execute(f"COPY ({query}) TO '{bundle / name}.parquet' (FORMAT parquet)")
    con.close()
    package = {"version": release_id, "resources": [{"name": n} for n in tables]}
    (bundle / "datapackage.json").write_text(json.dumps(package))
    return bundle


@pytest.fixture(scope="session")
def write_bundle() -> Callable[..., Path]:
    """``write_bundle(paths, release_id, median="50250")``: a small complete bundle in
    ``paths.published`` (29-2072's national annual median is ``median``; 29-1211's is
    top-coded); its folder."""
    return _write_bundle


@pytest.fixture(scope="session")
def sample_release(
    sample_mirror: Path, make_release: Callable[..., str]
) -> Callable[..., tuple[DataPaths, str]]:
    """``sample_release(root, with_soc=False)``: a release built from a copy of the sample
    mirror (OEWS and projections, and the SOC crosswalk ``with_soc``) in ``root/data``:
    (its paths, its release id)."""

    def build(root: Path, *, with_soc: bool = False) -> tuple[DataPaths, str]:
        mirror = root / "mirror"
        shutil.copytree(sample_mirror, mirror)
        paths = DataPaths(root / "data")
        return paths, make_release(paths, mirror, with_soc=with_soc)

    return build
