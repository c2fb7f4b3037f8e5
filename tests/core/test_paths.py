"""The data dir's layout: which folder is the root, and every path derived from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ConfigError
from core.paths import DataPaths, fsync_dir


def test_the_root_is_the_argument_else_bls_data_dir_else_data_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # hermetic_env runs every test in its tmp_path, without BLS_DATA_DIR.
    assert DataPaths.resolve().root == tmp_path / "data"
    monkeypatch.setenv("BLS_DATA_DIR", str(tmp_path / "from-env"))
    assert DataPaths.resolve().root == tmp_path / "from-env"
    assert DataPaths.resolve("given/../chosen").root == tmp_path / "chosen"  # absolute, resolved
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert DataPaths.resolve("~/bls").root == tmp_path / "home" / "bls"


@pytest.mark.parametrize("name", ["bls[1]", "data*", "what?"])
def test_a_data_dir_named_like_a_file_pattern_is_refused(
    tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DuckDB would read /srv/bls[1]/… as the pattern /srv/bls1/…: another folder's files.
    with pytest.raises(ConfigError, match="reads as a file pattern"):
        DataPaths.resolve(tmp_path / name)
    # the default, ./data, in such a folder: said so
    monkeypatch.delenv("BLS_DATA_DIR", raising=False)
    (tmp_path / name).mkdir()
    monkeypatch.chdir(tmp_path / name)
    with pytest.raises(ConfigError, match=r"\(the default: \./data\)"):
        DataPaths.resolve()


def test_braces_are_no_pattern_to_duckdb(tmp_path: Path) -> None:
    assert DataPaths.resolve(tmp_path / "{a,b}").root == tmp_path / "{a,b}"


def test_every_path_is_derived_from_the_root(tmp_path: Path) -> None:
    paths = DataPaths(tmp_path / "d")
    root = tmp_path / "d"
    assert {
        "raw": paths.raw,
        "warehouse": paths.warehouse,
        "catalog": paths.catalog,
        "lake_files": paths.lake_files,
        "staging": paths.staging,
        "published": paths.published,
        "latest": paths.latest,
        "analyst_db": paths.analyst_db,
        "analyst_db_tmp": paths.analyst_db_tmp,
        "lock": paths.lock,
    } == {
        "raw": root / "raw",
        "warehouse": root / "warehouse",
        "catalog": root / "warehouse" / "catalog.sqlite",
        "lake_files": root / "warehouse" / "files",
        "staging": root / "staging",
        "published": root / "published",
        "latest": root / "published" / "latest",
        "analyst_db": root / "bls.duckdb",
        "analyst_db_tmp": root / ".bls.duckdb.tmp",
        "lock": root / ".refresh.lock",
    }
    assert paths.lake_data_path == f"{root}/warehouse/files/"  # DuckLake wants the slash
    assert paths.lake_table_dir("areas") == root / "warehouse" / "files" / "main" / "areas"
    assert paths.catalog_sidecars() == [
        root / "warehouse" / "catalog.sqlite-journal",
        root / "warehouse" / "catalog.sqlite-wal",
        root / "warehouse" / "catalog.sqlite-shm",
    ]
    assert paths.analyst_db_tmps() == [root / ".bls.duckdb.tmp", root / ".bls.duckdb.tmp.wal"]


def test_catalogs_a_killed_creation_left_are_found(tmp_path: Path) -> None:
    paths = DataPaths(tmp_path / "d")
    assert paths.catalog_tmps() == []  # no warehouse folder yet
    paths.warehouse.mkdir(parents=True)
    made = [
        paths.catalog_tmp("b"),
        paths.catalog_tmp("a"),
        paths.warehouse / ".catalog-a.sqlite.tmp-journal",
    ]
    for path in [*made, paths.catalog, paths.warehouse / "other.tmp"]:
        path.write_bytes(b"")
    assert paths.catalog_tmp("a") == paths.warehouse / ".catalog-a.sqlite.tmp"
    assert paths.catalog_tmps() == sorted(made)


def test_fsync_dir_needs_an_existing_folder(tmp_path: Path) -> None:
    fsync_dir(tmp_path)  # a folder's entry made durable: nothing to see, and no error
    with pytest.raises(FileNotFoundError):
        fsync_dir(tmp_path / "missing")
