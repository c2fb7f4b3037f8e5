"""Fixtures of the warehouse tests: releases loaded without Prefect, and big staged tables.

- ``paths``: the test's data dir; ``staged_from`` / ``staged_projections``: a mirror's OEWS
  files or a projections workbook staged under its registry entry's load policy; ``release``:
  staged and loaded as the next release; ``lake_counts``: the lake's rows per table;
  ``absolute_files``: data files the catalog records by absolute path; ``areas_release``: a
  release of one small table, committed in well under a second;
- ``big_estimates``: a staged ``oews_estimates`` file of areas × occupations × 17 measures,
  typed like the lake; ``edit_staged``: that file rewritten through SQL; ``big_load``: it as
  an OEWS load scoped by year; ``lake_value``: one estimate as the lake holds it.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from core.paths import DataPaths
from core.staging import LoadPolicy, StagedLoad, StagedTable, TablePolicy, stage_frame
from extractors.oews import FILES
from extractors.rawstore import sha256_file
from flows.sources import SOURCES
from warehouse import lake, load, publish


@pytest.fixture
def paths(data_dir: Path) -> DataPaths:
    """The test's data dir (not created yet)."""
    return DataPaths(data_dir)


@pytest.fixture(scope="session")
def staged_from(
    manifest_rows: Callable[[dict[str, Path]], dict[str, dict[str, object]]],
) -> Callable[[Path, DataPaths, str], StagedLoad]:
    """``staged_from(oe_dir, paths, release_id)``: the OEWS load of ``oe_dir``, staged under its
    registry entry's load policy."""

    def stage(oe_dir: Path, paths: DataPaths, release_id: str) -> StagedLoad:
        files = {name: oe_dir / name for name in FILES}
        return SOURCES["oews"].stage(
            files, paths.staging / release_id, release_id, manifest_rows(files)
        )

    return stage


@pytest.fixture(scope="session")
def staged_projections() -> Callable[[Path, DataPaths, str], StagedLoad]:
    """``staged_projections(workbook, paths, release_id)``: an ``occupation.xlsx`` staged under
    the projections entry's load policy."""

    def stage(workbook: Path, paths: DataPaths, release_id: str) -> StagedLoad:
        source = {
            "occupation.xlsx": {"url": "file://x", "sha256": sha256_file(workbook), "bytes": 1}
        }
        return SOURCES["projections"].stage(
            {"occupation.xlsx": workbook}, paths.staging / release_id, release_id, source
        )

    return stage


@pytest.fixture(scope="session")
def release(
    staged_from: Callable[[Path, DataPaths, str], StagedLoad],
) -> Callable[..., load.Release]:
    """``release(paths, oe_dir, **options)``: ``oe_dir`` staged and loaded as the next release
    (``load.load_release``'s options)."""

    def make(paths: DataPaths, oe_dir: Path, **kwargs: object) -> load.Release:
        rid = load.plan_release_id(paths)
        made = load.load_release(paths, rid, [staged_from(oe_dir, paths, rid)], **kwargs)  # type: ignore[arg-type]
        return made  # type: ignore[return-value]

    return make


@pytest.fixture(scope="session")
def lake_counts() -> Callable[[DataPaths], dict[str, int]]:
    """``lake_counts(paths)``: the lake's row count of every table."""

    def counts(paths: DataPaths) -> dict[str, int]:
        with lake.connect(paths, read_only=True) as con:
            return lake.row_counts(con)

    return counts


@pytest.fixture(scope="session")
def absolute_files() -> Callable[[DataPaths], list[str]]:
    """``absolute_files(paths)``: the data files the catalog records by absolute path (a lake
    that moves with its data dir has none)."""

    def absolute(paths: DataPaths) -> list[str]:
        with contextlib.closing(sqlite3.connect(paths.catalog)) as db:
            return [
                r[0]
                for r in db.execute(
                    "SELECT path FROM ducklake_data_file WHERE NOT path_is_relative"
                )
            ]

    return absolute


AREAS_ONLY = LoadPolicy({"areas": TablePolicy(upsert=True)}, guarded_table="areas")


@pytest.fixture
def areas_release(paths: DataPaths) -> Callable[[list[str]], str]:
    """``areas_release(names)``: a release of one table (areas, one row per name) committed
    in the lake, not published; its id."""

    def commit(names: list[str]) -> str:
        rid = load.plan_release_id(paths)
        frame = pd.DataFrame(
            {
                "area_code": [f"{n:02d}00000" for n in range(len(names))],
                "area_type": ["S"] * len(names),
                "state_code": [f"{n:02d}" for n in range(len(names))],
                "name": names,
            }
        )
        table = stage_frame(frame, "areas", paths.staging / rid, rid, {})
        made = load.load_release(
            paths, rid, [AREAS_ONLY.attach(StagedLoad("areas", "v", [table], {}))]
        )
        assert made is not None
        return rid

    return commit


@pytest.fixture
def two_published(paths: DataPaths, areas_release: Callable[[list[str]], str]) -> tuple[str, str]:
    """Two releases of the areas table, each published (latest → the second); their ids."""
    ids = []
    for name in ("Alabama", "Alaska"):
        ids.append(areas_release([name]))
        publish.publish(paths, ids[-1])
    return ids[0], ids[1]


# --- big staged tables ------------------------------------------------------------------------

MEASURE_NAMES = [
    "employment", "employment_prse", "hourly_mean", "annual_mean", "mean_prse", "hourly_p10",
    "hourly_p25", "hourly_median", "hourly_p75", "hourly_p90", "annual_p10", "annual_p25",
    "annual_median", "annual_p75", "annual_p90", "jobs_per_1000", "location_quotient",
]  # fmt: skip


def _big_estimates(out: Path, rid: str, *, areas: int = 600, occupations: int = 30) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    columns = ", ".join(f"{c}::{t} AS {c}" for c, t in lake.TABLES["oews_estimates"].items())
    con.execute(
        f"""COPY (
          SELECT {columns} FROM (
            SELECT 2024 AS reference_year, 'May 2024' AS reference_period, 'M' AS areatype_code,
                   lpad(CAST(10000 + a AS VARCHAR), 7, '0') AS area_code, '000000' AS industry_code,
                   'all' AS ownership, printf('29-%04d', 1000 + o) AS soc_code, m AS measure,
                   (a * 1000 + o * 17 + k)::DECIMAL(18,3) AS value, 'ok' AS status,
                   NULL AS top_code_threshold, NULL AS footnote_codes, '{rid}' AS release_id
            FROM range({areas}) r(a), range({occupations}) q(o),
                 (SELECT unnest($m) AS m, generate_subscripts($m, 1) AS k)
          )
        ) TO '{out}' (FORMAT parquet)""",
        {"m": MEASURE_NAMES},
    )
    con.close()
    return out


@pytest.fixture(scope="session")
def big_estimates() -> Callable[..., Path]:
    """``big_estimates(out, rid, areas=600, occupations=30)``: a staged oews_estimates file of
    areas × occupations × 17 measures (306,000 rows by default: more than any size a shortcut
    might treat differently), typed like the lake: area a is ``0010000`` + a, occupation o
    is SOC ``29-1000`` + o, and measure k (1-17) holds ``a * 1000 + o * 17 + k``."""
    return _big_estimates


def _edit_staged(path: Path, sql: str) -> int:
    tmp = path.with_suffix(".tmp.parquet")
    con = duckdb.connect()
    con.execute(f"CREATE VIEW staged AS SELECT * FROM read_parquet('{path}')")
    con.execute(f"COPY ({sql}) TO '{tmp}' (FORMAT parquet)")
    rows = con.execute(f"SELECT count(*) FROM read_parquet('{tmp}')").fetchone()[0]
    con.close()
    os.replace(tmp, path)
    return rows


@pytest.fixture(scope="session")
def edit_staged() -> Callable[[Path, str], int]:
    """``edit_staged(path, sql)``: rewrite a staged file through ``sql`` over the view
    ``staged``; its new row count."""
    return _edit_staged


ESTIMATES_ONLY = LoadPolicy(
    {"oews_estimates": TablePolicy(scope=("reference_year",))}, guarded_table="oews_estimates"
)


@pytest.fixture(scope="session")
def big_load() -> Callable[[Path, int], StagedLoad]:
    """``big_load(path, rows)``: a staged oews_estimates file as the OEWS load of May 2024,
    replacing that year's estimates."""

    def staged(path: Path, rows: int) -> StagedLoad:
        table = StagedTable("oews_estimates", path, rows, {"reference_year": 2024})
        return ESTIMATES_ONLY.attach(StagedLoad("oews", "May 2024", [table], {}))

    return staged


@pytest.fixture(scope="session")
def lake_value() -> Callable[[DataPaths, str, str, str], object]:
    """``lake_value(paths, soc, area, measure)``: that estimate's value in the lake."""

    def value(paths: DataPaths, soc: str, area: str, measure: str) -> object:
        with lake.connect(paths, read_only=True) as con:
            return con.execute(
                "SELECT value FROM lake.oews_estimates WHERE soc_code = ? AND area_code = ? "
                "AND measure = ?",
                [soc, area, measure],
            ).fetchone()[0]

    return value
