"""The DuckLake warehouse: a SQLite catalog plus parquet files under ``data/warehouse/``.

One refresh is one transaction, so one DuckLake snapshot; the snapshot's commit message names
the release. Extensions load from the pinned pip packages, never from the network.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import json
import os
import signal
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import duckdb

from core import sql, staging
from core.errors import CatalogError
from core.paths import DataPaths, fsync_dir
from warehouse import bundles

EXTENSIONS = ("ducklake", "sqlite_scanner")
CATALOG_VERSION = "1.0"  # the DuckLake catalog format whose tables release_ids() reads

# The analysts' contract (DESIGN.md). Order of columns is the order in published parquet.
TABLES: dict[str, dict[str, str]] = {
    "occupations": {
        "soc_code": "VARCHAR",
        "soc_version": "VARCHAR",
        "title": "VARCHAR",
        "level": "VARCHAR",
        "sort_sequence": "BIGINT",
        "description": "VARCHAR",
        "release_id": "VARCHAR",
    },
    "areas": {
        "area_code": "VARCHAR",
        "area_type": "VARCHAR",
        "state_code": "VARCHAR",
        "name": "VARCHAR",
        "release_id": "VARCHAR",
    },
    "industries": {
        "industry_code": "VARCHAR",
        "name": "VARCHAR",
        "level": "BIGINT",
        "sort_sequence": "BIGINT",
        "release_id": "VARCHAR",
    },
    "oews_estimates": {
        "reference_year": "INTEGER",
        "reference_period": "VARCHAR",
        "areatype_code": "VARCHAR",
        "area_code": "VARCHAR",
        "industry_code": "VARCHAR",
        "ownership": "VARCHAR",
        "soc_code": "VARCHAR",
        "measure": "VARCHAR",
        "value": "DECIMAL(18,3)",
        "status": "VARCHAR",
        "top_code_threshold": "DECIMAL(18,2)",
        "footnote_codes": "VARCHAR",
        "release_id": "VARCHAR",
    },
    "oews_footnotes": {
        "reference_year": "INTEGER",
        "footnote_code": "VARCHAR",
        "footnote_text": "VARCHAR",
        "release_id": "VARCHAR",
    },
    "projections": {
        "cycle": "VARCHAR",
        "base_year": "INTEGER",
        "target_year": "INTEGER",
        "soc_code": "VARCHAR",
        "soc_version": "VARCHAR",
        "title": "VARCHAR",
        "occupation_type": "VARCHAR",
        "level": "INTEGER",
        "employment_base": "BIGINT",
        "employment_target": "BIGINT",
        "employment_change": "BIGINT",
        "employment_change_pct": "DECIMAL(6,1)",
        "openings_annual": "BIGINT",
        "openings_total": "BIGINT",
        "self_employed_pct": "DECIMAL(5,1)",
        "median_annual_wage": "BIGINT",
        "median_wage_status": "VARCHAR",
        "median_wage_top_code": "BIGINT",
        "wage_year": "INTEGER",
        "education": "VARCHAR",
        "experience": "VARCHAR",
        "training": "VARCHAR",
        "not_available": "VARCHAR",
        "release_id": "VARCHAR",
    },
    "soc_crosswalk": {
        "from_version": "VARCHAR",
        "from_code": "VARCHAR",
        "from_title": "VARCHAR",
        "to_version": "VARCHAR",
        "to_code": "VARCHAR",
        "to_title": "VARCHAR",
        "release_id": "VARCHAR",
    },
    "raw_files": {
        "url": "VARCHAR",
        "fetched_at": "VARCHAR",
        "status": "INTEGER",
        "bytes": "BIGINT",
        "sha256": "VARCHAR",
        "etag": "VARCHAR",
        "last_modified": "VARCHAR",
        "vintage": "VARCHAR",
        "path": "VARCHAR",
        "release_id": "VARCHAR",
    },
    "releases": {
        "release_id": "VARCHAR",
        "created_at": "VARCHAR",
        "vintages": "VARCHAR",
        "sources": "VARCHAR",
        "row_counts": "VARCHAR",
        "loaded": "VARCHAR",
        "changes": "VARCHAR",
        "schema_drift": "VARCHAR",
        "findings": "VARCHAR",
    },
}

PRIMARY_KEYS: dict[str, list[str]] = {
    "occupations": ["soc_version", "soc_code"],
    "areas": ["area_code"],
    "industries": ["industry_code"],
    "oews_estimates": [
        "reference_year",
        "area_code",
        "industry_code",
        "ownership",
        "soc_code",
        "measure",
    ],
    "oews_footnotes": ["reference_year", "footnote_code"],
    "projections": ["cycle", "soc_code"],
    "soc_crosswalk": ["from_version", "from_code", "to_version", "to_code"],
    "raw_files": ["release_id", "url"],
    "releases": ["release_id"],
}


# Big tables whose reloads are compared cell by cell (warehouse/changes.py). Each keeps an
# internal table ``<table>_cells`` (row count and digest per cell), written with the
# rows in the same transaction and never published.
CELL_KEYS = staging.CELL_KEYS


def cells_table(table: str) -> str:
    return f"{table}_cells"


def cell_values(table: str) -> list[str]:
    """The columns a cell's digests cover: all but the cell keys and ``release_id``."""
    keys = CELL_KEYS[table]
    return [c for c in TABLES[table] if c not in keys and c != "release_id"]


def _cells_columns(table: str) -> dict[str, str]:
    keys = {k: TABLES[table][k] for k in CELL_KEYS[table]}
    return {**keys, "n": "BIGINT", "digest": "UBIGINT"}


def extension_path(name: str) -> Path:
    """The extension binary shipped in the pinned ``duckdb-extension-<name>`` package."""
    module = importlib.import_module(f"duckdb_extension_{name}")
    version = duckdb.__version__
    root = Path(next(iter(module.__path__)))
    path = root / "extensions" / f"v{version}" / f"{name}.duckdb_extension"
    if not path.exists():
        raise RuntimeError(
            f"{path} is missing: the duckdb-extension-{name} package must be pinned to "
            f"duckdb {version} (see pyproject.toml)"
        )
    return path


def new_engine(memory_limit: str = "1GB") -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(
        config={
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "memory_limit": memory_limit,
            "preserve_insertion_order": False,
            # A missing lake table is an error, never a Python variable of the same name.
            "python_enable_replacements": False,
            # The two extensions are loaded from the pinned wheels of this environment
            # (hash-checked against uv.lock when installed), as trusted as the duckdb module
            # itself; DuckDB's RSA check of their signatures cost 0.2 s per connection.
            # Nothing is auto-installed or auto-loaded, and no extension path comes from input.
            "allow_unsigned_extensions": True,
        }
    )
    for name in EXTENSIONS:
        con.execute(f"LOAD '{extension_path(name)}'")
    return con


def crash_point(name: str) -> None:
    """Fault injection for the crash tests: die here (SIGKILL, no cleanup) when asked to."""
    if os.environ.get("BLS_FAULT_KILL_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


# -- the catalog file ----------------------------------------------------------------------------

# What every DuckLake catalog holds once its creation committed (and release_ids() reads).
_CATALOG_TABLES = frozenset(
    {
        "ducklake_metadata",
        "ducklake_snapshot",
        "ducklake_snapshot_changes",
        "ducklake_schema",
        "ducklake_table",
        "ducklake_data_file",
    }
)
_RELEASE_COMMITS = (
    "SELECT count(*) FROM ducklake_snapshot_changes WHERE commit_message LIKE 'release %'"
)


@dataclasses.dataclass(frozen=True)
class CatalogState:
    """What ``catalog.sqlite`` is, read with sqlite3 alone (no DuckLake, no writes).

    ``half-created``: DuckLake's creation never committed (a run killed while creating the
    catalog with an earlier version); it provably holds no release and may be recreated.
    ``unreadable``: anything else that is not a usable catalog; it is kept as it is.
    """

    kind: Literal["missing", "ready", "half-created", "unreadable"]
    detail: str = ""
    releases: int = 0  # release commits found (0 unless the catalog is readable)


def catalog_state(paths: DataPaths) -> CatalogState:
    catalog = paths.catalog
    if not catalog.exists():
        return CatalogState("missing")
    if not catalog.is_file():
        return CatalogState("unreadable", "it is not a file")
    if catalog.stat().st_size == 0:
        return CatalogState("half-created", "it is an empty file")
    try:
        uri = f"{catalog.resolve().as_uri()}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
            tables = {
                r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            releases = (
                db.execute(_RELEASE_COMMITS).fetchone()[0]
                if "ducklake_snapshot_changes" in tables
                else 0
            )
            meta: dict[str, str] = (
                dict(db.execute("SELECT key, value FROM ducklake_metadata").fetchall())
                if "ducklake_metadata" in tables
                else {}
            )
            snapshots = (
                db.execute("SELECT count(*) FROM ducklake_snapshot").fetchone()[0]
                if "ducklake_snapshot" in tables
                else 0
            )
    except sqlite3.Error as exc:
        journal = [p.name for p in paths.catalog_sidecars() if p.exists()]
        left = f"; an interrupted write left {journal[0]}" if journal else ""
        return CatalogState("unreadable", f"SQLite says: {exc}{left}")
    lacking = sorted(_CATALOG_TABLES - tables) + [
        f"ducklake_metadata.{key}" for key in ("version", "data_path") if key not in meta
    ]
    if not snapshots and "ducklake_snapshot" in tables:
        lacking.append("its first snapshot")
    if not lacking:
        return CatalogState("ready", releases=releases)
    what = "no DuckLake tables" if not tables else f"it lacks {', '.join(lacking)}"
    if releases or bundles.published(paths):
        # Releases were made from it: damaged, not half-created. Never recreate it.
        return CatalogState("unreadable", f"{what}, yet releases were made", releases)
    return CatalogState("half-created", what)


def catalog_problem(paths: DataPaths, state: CatalogState) -> str:
    """What a person reads about a catalog that is not ``ready``: what, what is kept, what to do."""
    where = paths.catalog
    if state.kind == "missing":
        ids = bundles.published(paths)
        if ids:
            return (
                f"the warehouse catalog {where} is missing, but {paths.published} holds "
                f"{len(ids)} release(s) made from it ({ids[-1]} the newest). The "
                "bundles still serve `bls-refresh figure`, `figures` and bls.duckdb, but no new "
                "release can be made: a new catalog would restart the release history. Restore "
                "the warehouse/ folder from a backup of this data dir (or move published/ "
                "aside to start a new history)."
            )
        return f"no release in {paths.root} yet: run `bls-refresh demo` or `bls-refresh run` first."
    if state.kind == "half-created":
        return (
            f"the warehouse catalog {where} was left half-created ({state.detail}) by a run "
            "killed while creating it; it holds no release. The next `bls-refresh run` or "
            "`ingest` recreates it (`bls-refresh verify --repair` removes it now)."
        )
    return (
        f"the warehouse catalog {where} cannot be used ({state.detail}); it is kept as it is. "
        "If a run was killed while writing it, `bls-refresh verify --repair` lets SQLite roll "
        "the interrupted write back; if it still cannot be read, restore the warehouse/ folder "
        "from a backup of this data dir (the published bundles are not affected)."
    )


def _roll_back_interrupted_write(paths: DataPaths) -> None:
    """A killed writer leaves ``catalog.sqlite-journal`` (a "hot journal"): read-only opens
    then fail ("attempt to write a readonly database") until a writer rolls it back. Opening
    the catalog for writing does exactly that, as SQLite's own recovery. Caller holds the
    refresh lock, so no writer is running."""
    if not paths.catalog.is_file() or not any(p.exists() for p in paths.catalog_sidecars()):
        return
    with (
        contextlib.suppress(sqlite3.Error),
        contextlib.closing(sqlite3.connect(paths.catalog)) as db,
    ):
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()


def repair_catalog(paths: DataPaths) -> list[str]:
    """What every run does first, under the refresh lock: undo what a killed catalog write
    left. Returns what was done, for the log. Raises CatalogError for a catalog that cannot be
    used and may hold releases (it is kept)."""
    done: list[str] = []
    for leftover in paths.catalog_tmps():  # a creation killed before its rename
        leftover.unlink(missing_ok=True)
        done.append(f"removed {leftover.name}, left by a run killed while creating the catalog")
    _roll_back_interrupted_write(paths)
    state = catalog_state(paths)
    if state.kind == "half-created":
        # Provably no release in it (and none published): recreating loses nothing.
        for path in [paths.catalog, *paths.catalog_sidecars()]:
            path.unlink(missing_ok=True)
        done.append(f"removed the half-created catalog {paths.catalog} ({state.detail})")
    elif state.kind == "unreadable" or (state.kind == "missing" and bundles.published(paths)):
        # Kept as it is: it may hold releases (or they exist, and their history is gone).
        raise CatalogError(catalog_problem(paths, state), catalog=str(paths.catalog))
    return done


def _create_catalog(paths: DataPaths) -> None:
    """A new, empty catalog, created atomically: DuckLake initialises it under a temporary
    name and it is renamed into place complete, so ``catalog.sqlite`` exists only whole. A
    run killed meanwhile leaves a ``.catalog-*`` file the next run removes."""
    if bundles.published(paths):
        raise CatalogError(
            catalog_problem(paths, CatalogState("missing")), catalog=str(paths.catalog)
        )
    paths.lake_files.mkdir(parents=True, exist_ok=True)
    tmp = paths.catalog_tmp(f"{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        con = new_engine()
        try:
            con.execute(
                f"ATTACH {sql.string('ducklake:sqlite:' + str(tmp))} AS lake "
                f"(DATA_PATH {sql.string(paths.lake_data_path)})"
            )
            crash_point("creating_catalog")
            con.execute("DETACH lake")
        finally:
            con.close()
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, paths.catalog)
        fsync_dir(paths.warehouse)
    finally:
        for path in paths.catalog_tmps():
            if path.name.startswith(tmp.name):
                path.unlink(missing_ok=True)


def ensure_catalog(paths: DataPaths) -> None:
    """The writer's catalog: repaired or created as needed. Caller holds the refresh lock."""
    repair_catalog(paths)
    if not paths.catalog.exists():
        _create_catalog(paths)


def _attach(con: duckdb.DuckDBPyConnection, paths: DataPaths, *, read_only: bool) -> None:
    """Attach the lake at this data dir's location. The catalog records the absolute data
    path it was created with; OVERRIDE_DATA_PATH makes every connection read and write the
    files where the data dir is now (after a move or a copy), never where it was."""
    options = [
        f"DATA_PATH {sql.string(paths.lake_data_path)}",
        "OVERRIDE_DATA_PATH true",
    ]
    if read_only:
        options.insert(0, "READ_ONLY")
    catalog = sql.string(f"ducklake:sqlite:{paths.catalog}")
    con.execute(f"ATTACH {catalog} AS lake ({', '.join(options)})")


@contextmanager
def connect(paths: DataPaths, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection with the lake attached as ``lake``.

    A writer (which holds the refresh lock) first repairs or atomically creates the catalog
    (``ensure_catalog``); it then creates the tables with ``ensure_schema`` inside its own
    transaction. A reader needs a catalog that is ``ready``.
    """
    if read_only:
        state = catalog_state(paths)
        if state.kind == "missing":
            raise FileNotFoundError(f"no warehouse at {paths.warehouse}; run a refresh first")
        if state.kind != "ready":
            raise CatalogError(catalog_problem(paths, state), catalog=str(paths.catalog))
    else:
        ensure_catalog(paths)
        paths.lake_files.mkdir(parents=True, exist_ok=True)
    con = new_engine()
    try:
        _attach(con, paths, read_only=read_only)
        yield con
    finally:
        con.close()


def data_files(paths: DataPaths) -> tuple[list[Path], list[str]]:
    """Every parquet file the catalog names (live or of an earlier snapshot), resolved where
    the data dir is now; and the paths it records as absolute (which would not move)."""
    uri = f"{paths.catalog.resolve().as_uri()}?mode=ro"
    base = paths.lake_files
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
        schemas = {
            sid: (base / p if rel else Path(p))
            for sid, p, rel in db.execute(
                "SELECT schema_id, path, path_is_relative FROM ducklake_schema"
            )
        }
        tables: dict[int, Path] = {}
        for tid, sid, p, rel in db.execute(
            "SELECT table_id, schema_id, path, path_is_relative FROM ducklake_table"
        ):
            tables[tid] = schemas.get(sid, base) / p if rel else Path(p)
        files: list[Path] = []
        absolute: list[str] = []
        for kind in ("ducklake_data_file", "ducklake_delete_file"):
            for tid, p, rel in db.execute(f"SELECT table_id, path, path_is_relative FROM {kind}"):
                if rel:
                    files.append(tables.get(tid, base) / p)
                else:
                    files.append(Path(p))
                    absolute.append(p)
    return files, absolute


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the tables a lake lacks. Call it inside the writer's transaction: a new lake
    gets its tables in the snapshot of its first release, in one catalog write."""
    internal = {cells_table(t): _cells_columns(t) for t in CELL_KEYS}
    for table, columns in {**TABLES, **internal}.items():
        cols = ", ".join(f"{name} {kind}" for name, kind in columns.items())
        con.execute(f"CREATE TABLE IF NOT EXISTS lake.{table} ({cols})")
    # A lake made by an earlier version lacks the columns added since (e.g.
    # occupations.description): add them, null in every earlier row.
    have = con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = 'lake'"
    ).fetchall()
    existing: dict[str, set[str]] = {}
    for table, column in have:
        existing.setdefault(table, set()).add(column)
    for table, columns in TABLES.items():
        for name, kind in columns.items():
            if name not in existing.get(table, set()):
                con.execute(f"ALTER TABLE lake.{table} ADD COLUMN {name} {kind}")


def columns_at(con: duckdb.DuckDBPyConnection, table: str, snapshot: int) -> set[str]:
    """The columns ``table`` had at ``snapshot`` (a release older than a schema change has
    fewer than ``TABLES`` lists)."""
    con.execute(f"SELECT * FROM lake.{table} AT (VERSION => {int(snapshot)}) LIMIT 0")
    return {d[0] for d in con.description}


def row_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    query = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM lake.{t}" for t in TABLES)
    counts = dict(con.execute(query).fetchall())
    return {t: counts[t] for t in TABLES}


_RELEASE_JSON = (
    "vintages",
    "sources",
    "row_counts",
    "loaded",
    "changes",
    "schema_drift",
    "findings",
)


def releases(con: duckdb.DuckDBPyConnection) -> list[dict[str, object]]:
    """Every release, oldest first, with its JSON columns decoded.

    Columns are read by name: a lake written before a column existed reads it as empty.
    """
    try:
        result = con.execute("SELECT * FROM lake.releases ORDER BY created_at, release_id")
    except duckdb.CatalogException:
        return []  # a catalog whose first load never committed has no tables yet
    names = [d[0] for d in result.description]
    out: list[dict[str, object]] = []
    for row in result.fetchall():
        record = dict(zip(names, row, strict=True))
        release: dict[str, object] = {
            "release_id": record["release_id"],
            "created_at": record["created_at"],
        }
        for column in _RELEASE_JSON:
            release[column] = json.loads(record.get(column) or "{}")
        out.append(release)
    return out


def release_ids(paths: DataPaths) -> list[str]:
    """Every release id, oldest first, read straight from the SQLite catalog.

    A release is the snapshot whose commit message is ``release <id>`` (written in the same
    transaction as its data), and DuckLake's catalog format keeps commit messages in
    ``ducklake_snapshot_changes``: reading them with sqlite3 costs a millisecond, where a
    DuckDB connection costs 0.02 s (it loads two extensions). A catalog of
    another format version is read through DuckLake instead.
    """
    state = catalog_state(paths)
    if state.kind in ("missing", "half-created"):
        return []  # a half-created catalog holds no release (the next writer recreates it)
    if state.kind != "ready":
        raise CatalogError(catalog_problem(paths, state), catalog=str(paths.catalog))
    uri = f"{paths.catalog.resolve().as_uri()}?mode=ro"
    try:
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
            version = db.execute(
                "SELECT value FROM ducklake_metadata WHERE key = 'version'"
            ).fetchone()
            if version is not None and version[0] == CATALOG_VERSION:
                rows = db.execute(
                    "SELECT substr(commit_message, 9) FROM ducklake_snapshot_changes "
                    "WHERE commit_message LIKE 'release %' ORDER BY snapshot_id"
                ).fetchall()
                return [r[0] for r in rows]
    except sqlite3.Error:
        pass  # not readable as we expect: ask DuckLake
    with connect(paths, read_only=True) as con:
        return [str(r["release_id"]) for r in releases(con)]


def snapshot_of(con: duckdb.DuckDBPyConnection, release_id: str) -> int | None:
    row = con.execute(
        "SELECT max(snapshot_id) FROM lake.snapshots() WHERE commit_message = ?",
        [f"release {release_id}"],
    ).fetchone()
    return row[0] if row else None
