"""The DuckLake warehouse: release ids from the catalog, a catalog created atomically, and a
lake that moves with its data dir."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from core.errors import CatalogError
from core.paths import DataPaths
from figures.spec import bundle_writer
from warehouse import lake, load, publish


def test_release_ids_from_the_catalog_equal_the_releases_table(
    paths: DataPaths,
    monkeypatch: pytest.MonkeyPatch,
    release: Callable[..., load.Release],
    oe_dir: Path,
    set_median: Callable[[Path, str], None],
    mirror: Path,
) -> None:
    assert lake.release_ids(paths) == []
    first = release(paths, oe_dir)
    set_median(mirror, "50260")
    second = release(paths, oe_dir)
    with lake.connect(paths, read_only=True) as con:
        recorded = [r["release_id"] for r in lake.releases(con)]
    assert lake.release_ids(paths) == recorded == [first.release_id, second.release_id]
    # A catalog in another format version is read through DuckLake, with the same answer.
    monkeypatch.setattr(lake, "CATALOG_VERSION", "0.0-unknown")
    assert lake.release_ids(paths) == recorded


# -- the data dir as a whole: atomic catalog creation, relocation --------------------------------


def test_a_lake_moves_with_its_data_dir(
    tmp_path: Path,
    release: Callable[..., load.Release],
    oe_dir: Path,
    lake_counts: Callable[[DataPaths], dict[str, int]],
    absolute_files: Callable[[DataPaths], list[str]],
    set_median: Callable[[Path, str], None],
    mirror: Path,
) -> None:
    """Adopted files are recorded relative to the data path, and every attach overrides the
    absolute data path the catalog recorded at creation: the moved lake reads and writes."""
    paths = DataPaths(tmp_path / "a" / "data")
    first = release(paths, oe_dir)
    assert absolute_files(paths) == []
    assert not paths.catalog_tmps()  # created under a temporary name, renamed into place

    moved = DataPaths(tmp_path / "b" / "data")
    moved.root.parent.mkdir()
    os.rename(paths.root, moved.root)
    assert lake.release_ids(moved) == [first.release_id]
    with lake.connect(moved, read_only=True) as con:
        assert lake.row_counts(con) == first.row_counts  # reads the files where they are now
    set_median(mirror, "50260")
    second = release(moved, oe_dir)  # a writer attach in the new place

    assert second.row_counts == lake_counts(moved)
    assert absolute_files(moved) == []
    assert not (tmp_path / "a" / "data").exists()  # nothing written where it was


def test_a_half_created_catalog_is_recreated_and_a_used_one_never(
    paths: DataPaths, release: Callable[..., load.Release], oe_dir: Path
) -> None:
    from core.errors import CatalogError

    paths.warehouse.mkdir(parents=True)
    paths.catalog.write_bytes(b"")  # DuckLake killed before its creation committed
    paths.catalog.with_name("catalog.sqlite-journal").write_bytes(b"")
    assert lake.catalog_state(paths).kind == "half-created"
    assert lake.release_ids(paths) == []

    made = release(paths, oe_dir)

    assert lake.release_ids(paths) == [made.release_id]
    assert lake.catalog_state(paths).kind == "ready"
    publish.publish(paths, made.release_id, extras=[bundle_writer()])

    # Once releases exist, an unusable catalog is kept byte for byte and nothing replaces it.
    original = paths.catalog.read_bytes()
    paths.catalog.write_bytes(b"garbage" * 100)
    with pytest.raises(CatalogError, match="it is kept as it is"):
        release(paths, oe_dir)
    assert paths.catalog.read_bytes() == b"garbage" * 100
    paths.catalog.unlink()
    with pytest.raises(CatalogError, match=r"is missing, but .* holds 1 release"):
        release(paths, oe_dir)
    assert not paths.catalog.exists()
    paths.catalog.write_bytes(original)
    assert lake.release_ids(paths) == [made.release_id]


# -- the catalog read with sqlite3 alone: what it is, and what a person reads about it -----------


def test_a_missing_catalog_is_no_release_yet(paths: DataPaths) -> None:
    state = lake.catalog_state(paths)
    assert state == lake.CatalogState("missing")
    assert lake.release_ids(paths) == []
    assert lake.catalog_problem(paths, state) == (
        f"no release in {paths.root} yet: run `bls-refresh demo` or `bls-refresh run` first."
    )
    assert lake.repair_catalog(paths) == []  # nothing to put right


def test_a_sqlite_file_without_ducklake_tables_is_half_created_and_removed(
    paths: DataPaths,
) -> None:
    paths.warehouse.mkdir(parents=True)
    with contextlib.closing(sqlite3.connect(paths.catalog)) as db:
        db.execute("CREATE TABLE ducklake_metadata (key TEXT, value TEXT)")
        db.commit()
    leftover = paths.catalog_tmp("123-abc")
    leftover.write_bytes(b"")

    state = lake.catalog_state(paths)
    assert state.kind == "half-created"
    assert state.detail.startswith("it lacks ducklake_data_file, ducklake_schema, ")
    assert lake.catalog_problem(paths, state).endswith(
        "it holds no release. The next `bls-refresh run` or `ingest` recreates it "
        "(`bls-refresh verify --repair` removes it now)."
    )

    assert lake.repair_catalog(paths) == [
        "removed .catalog-123-abc.sqlite.tmp, left by a run killed while creating the catalog",
        f"removed the half-created catalog {paths.catalog} ({state.detail})",
    ]
    assert not paths.catalog.exists() and not leftover.exists()


def test_a_catalog_that_is_not_sqlite_is_kept_and_explained(paths: DataPaths) -> None:
    paths.warehouse.mkdir(parents=True)
    paths.catalog.write_bytes(b"not a database, " * 100)
    state = lake.catalog_state(paths)
    assert (state.kind, state.detail) == (
        "unreadable",
        "SQLite says: file is not a database",
    )
    with pytest.raises(CatalogError) as kept:
        lake.repair_catalog(paths)
    assert kept.value.catalog == str(paths.catalog)
    assert str(kept.value).startswith(
        f"the warehouse catalog {paths.catalog} cannot be used (SQLite says: file is not a "
        "database); it is kept as it is."
    )
    assert paths.catalog.read_bytes() == b"not a database, " * 100
