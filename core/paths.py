"""Where everything lives under the data directory (``--data-dir`` / ``BLS_DATA_DIR``).

This is the one place that knows the layout, and every path below is derived from ``root``
at run time: nothing in the data dir depends on where it was created, so the whole folder can
be moved or copied. Two things record absolute paths and are re-derived here when the root
changes: the DuckLake catalog's ``data_path`` (every attach overrides it with
``lake_data_path``) and the views of ``bls.duckdb`` (rebuilt by the next run, ``ingest``,
``rollback`` or ``verify --repair``).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from core.errors import ConfigError

DEFAULT_DATA_DIR = "data"
# What DuckDB's file readers expand as a pattern (read_parquet, parquet_file_metadata): a data
# dir named with one would make every read match other folders' files, or none.
GLOB_CHARACTERS = frozenset("*?[]")  # DuckDB 1.5.5 reads braces as they are


@dataclasses.dataclass(frozen=True)
class DataPaths:
    root: Path

    @classmethod
    def resolve(cls, data_dir: str | Path | None = None) -> DataPaths:
        chosen = data_dir or os.environ.get("BLS_DATA_DIR") or DEFAULT_DATA_DIR
        root = Path(chosen).expanduser().resolve()
        found = sorted(GLOB_CHARACTERS & set(str(root)))
        if found:
            given = "" if data_dir or os.environ.get("BLS_DATA_DIR") else " (the default: ./data)"
            raise ConfigError(
                f"data directory {root}{given}: its path contains {' '.join(found)}, which "
                "DuckDB reads as a file pattern, so reading the warehouse's files could match "
                "another folder's. Choose one (--data-dir or BLS_DATA_DIR) whose path has "
                "none of * ? [ ]."
            )
        return cls(root)

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse"

    @property
    def catalog(self) -> Path:
        return self.warehouse / "catalog.sqlite"

    def catalog_sidecars(self) -> list[Path]:
        """SQLite's files beside the catalog (an interrupted write leaves ``-journal``)."""
        return [self.catalog.with_name(self.catalog.name + s) for s in ("-journal", "-wal", "-shm")]

    def catalog_tmp(self, tag: str) -> Path:
        """Where a new catalog is initialised before it is renamed to ``catalog``."""
        return self.warehouse / f".catalog-{tag}.sqlite.tmp"

    def catalog_tmps(self) -> list[Path]:
        """Catalogs (and their SQLite sidecars) a killed creation left behind."""
        if not self.warehouse.is_dir():
            return []
        return sorted(self.warehouse.glob(".catalog-*.sqlite.tmp*"))

    @property
    def lake_files(self) -> Path:
        return self.warehouse / "files"

    @property
    def lake_data_path(self) -> str:
        """The DuckLake ``DATA_PATH`` of this data dir (a folder: DuckLake wants the slash)."""
        return str(self.lake_files) + "/"

    def lake_table_dir(self, table: str, schema: str = "main") -> Path:
        """DuckLake's default folder of a table. A file added from exactly this folder is
        recorded relative to the data path (so it moves with the data dir); from anywhere
        else DuckLake records its absolute path."""
        return self.lake_files / schema / table

    @property
    def staging(self) -> Path:
        return self.root / "staging"

    @property
    def published(self) -> Path:
        return self.root / "published"

    @property
    def latest(self) -> Path:
        return self.published / "latest"

    @property
    def analyst_db(self) -> Path:
        return self.root / "bls.duckdb"

    @property
    def analyst_db_tmp(self) -> Path:
        """The analyst file being rebuilt; renamed over ``analyst_db`` when complete."""
        return self.root / ".bls.duckdb.tmp"

    def analyst_db_tmps(self) -> list[Path]:
        """The rebuild's temporary file and DuckDB's write-ahead log beside it."""
        tmp = self.analyst_db_tmp
        return [tmp, tmp.with_name(tmp.name + ".wal")]

    @property
    def lock(self) -> Path:
        return self.root / ".refresh.lock"


def fsync_dir(path: Path) -> None:
    """Make a rename or a new entry in ``path`` durable (the folder's entry, not the file)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
