"""Which release a figure comes from, and parameterised read-only queries on its bundle."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from core.paths import DataPaths
from figures.errors import FigureError
from figures.release import ReleaseReader, resolve_release


def test_no_published_release_is_a_usage_error(data_dir: Path) -> None:
    paths = DataPaths(data_dir)
    with pytest.raises(FigureError) as none:
        resolve_release(paths, None)
    assert none.value.code == 2
    assert none.value.line() == (
        f"No published release in {paths.published}; run `bls-refresh demo` or `run` first."
    )


def test_latest_unless_a_release_is_named(
    data_dir: Path, write_bundle: Callable[..., Path]
) -> None:
    paths = DataPaths(data_dir)
    for rid in ("2026-11-28.1", "2026-11-28.2", "2026-11-28.10"):
        write_bundle(paths, rid)
    # No latest link (a data dir copied without it): the newest release.
    assert resolve_release(paths, None) == ("2026-11-28.10", paths.published / "2026-11-28.10")
    os.symlink("2026-11-28.2", paths.latest)
    assert resolve_release(paths, "latest") == ("2026-11-28.2", paths.published / "2026-11-28.2")
    assert resolve_release(paths, None)[0] == "2026-11-28.2"
    assert resolve_release(paths, "2026-11-28.1") == (
        "2026-11-28.1",
        paths.published / "2026-11-28.1",
    )
    with pytest.raises(FigureError) as unknown:  # the closest ids offered
        resolve_release(paths, "2026-11-29.1")
    assert unknown.value.line() == (
        "Unknown release '2026-11-29.1'. Did you mean: 2026-11-28.1, 2026-11-28.10, 2026-11-28.2?"
    )


def test_queries_take_parameters_never_sql_from_the_caller(
    data_dir: Path, write_bundle: Callable[..., Path]
) -> None:
    bundle = write_bundle(DataPaths(data_dir), "2026-11-28.1")
    with ReleaseReader("2026-11-28.1", bundle) as reader:
        areas = reader.table("areas")
        assert areas == f"read_parquet('{bundle / 'areas.parquet'}')"
        query = f"SELECT area_code, name FROM {areas} WHERE area_code = ?"
        assert reader.rows(query, ["0600000"]) == [{"area_code": "0600000", "name": "California"}]
        assert reader.rows(query, ["0600000' OR '1'='1"]) == []
        assert reader.scalar_list(f"SELECT name FROM {areas} ORDER BY 1") == [
            "California",
            "National",
        ]
        assert reader.newest_time_series_year() == 2024
    with pytest.raises(duckdb.ConnectionException):
        reader.scalar_list("SELECT 1")  # closed on leaving the block


def test_a_release_without_time_series_has_no_newest_year(tmp_path: Path) -> None:
    bundle = tmp_path / "2026-11-28.1"
    bundle.mkdir()
    duckdb.execute(
        "COPY (SELECT '2026-11-28.1' AS release_id, '{\"projections\": \"2024-34\"}' AS vintages) "
        f"TO '{bundle / 'releases.parquet'}' (FORMAT parquet)"
    )
    with ReleaseReader("2026-11-28.1", bundle) as reader:
        assert reader.newest_time_series_year() is None
    with ReleaseReader("2026-11-28.2", bundle) as other:  # a release the table does not list
        assert other.newest_time_series_year() is None
