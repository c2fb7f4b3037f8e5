"""The DuckLake warehouse: a SQLite catalog plus parquet files under ``data/warehouse/``.

One refresh is one transaction, so one DuckLake snapshot; the snapshot's commit message names
the release. Extensions load from the pinned pip packages, never from the network.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from bls_refresh import staging
from bls_refresh.paths import DataPaths

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


def _sql_str(text: str | Path) -> str:
    return "'" + str(text).replace("'", "''") + "'"


@contextmanager
def connect(paths: DataPaths, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection with the lake attached as ``lake``.

    A writer's ATTACH creates the catalog on first use; the writer then creates the tables
    with ``ensure_schema`` inside its own transaction.
    """
    con = new_engine()
    try:
        if read_only:
            if not paths.catalog.exists():
                raise FileNotFoundError(f"no warehouse at {paths.warehouse}; run a refresh first")
            con.execute(
                f"ATTACH {_sql_str('ducklake:sqlite:' + str(paths.catalog))} AS lake (READ_ONLY)"
            )
        else:
            paths.lake_files.mkdir(parents=True, exist_ok=True)
            con.execute(
                f"ATTACH {_sql_str('ducklake:sqlite:' + str(paths.catalog))} AS lake "
                f"(DATA_PATH {_sql_str(str(paths.lake_files) + '/')})"
            )
        yield con
    finally:
        con.close()


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


_RELEASE_JSON = ("vintages", "sources", "row_counts", "loaded", "changes", "schema_drift")


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
    if not paths.catalog.exists():
        return []
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
