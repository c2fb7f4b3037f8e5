"""Which release a figure comes from, and parameterised, read-only queries on its bundle.

Every query runs on a release bundle's parquet files with parameters (never SQL built from
user input), in an in-memory DuckDB.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import duckdb

from core.paths import DataPaths
from core.sql import read_parquet
from figures.errors import FigureError
from warehouse import bundles


def resolve_release(paths: DataPaths, release: str | None) -> tuple[str, Path]:
    ids = bundles.published(paths)
    if not ids:
        raise FigureError(
            f"No published release in {paths.published}; run `bls-refresh demo` or `run` first.",
            code=2,
        )
    if release in (None, "latest"):
        chosen = bundles.latest(paths) or ids[-1]
        return chosen, bundles.bundle_path(paths, chosen)
    if release not in ids:
        raise FigureError(
            f"Unknown release {release!r}.",
            difflib.get_close_matches(release, ids, 3, 0.3) or ids[-3:],
        )
    return release, bundles.bundle_path(paths, release)


class ReleaseReader:
    """Parameterised, read-only queries on one release bundle."""

    def __init__(self, release_id: str, bundle: Path) -> None:
        self.release_id = release_id
        self.bundle = bundle
        self.con = duckdb.connect(config={"autoinstall_known_extensions": False})
        self._values: dict[tuple[str, str], frozenset[Any]] = {}

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> ReleaseReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def table(self, name: str, year: int | None = None) -> str:
        """A FROM item over a table of the bundle; with ``year``, over only that year's part
        of a table partitioned by reference year (the whole table in a bundle made before
        partitioning, so the caller still filters by year)."""
        if year is not None and year in self.partition_years(name):
            return read_parquet(self.bundle / bundles.part_name(name, year))
        return read_parquet(bundles.table_path(self.bundle, name))

    def partition_years(self, name: str) -> list[int]:
        """The years ``name`` has a part for, oldest first; empty when the table is not
        published one file per reference year."""
        files = bundles.table_files(self.bundle, name)
        if not files or any(f.parent.name != name or not f.stem.isdigit() for f in files):
            return []
        return sorted(int(f.stem) for f in files)

    def newest_year(
        self, name: str, where: str, params: list[Any], *, needs: tuple[str, Any] | None = None
    ) -> int | None:
        """The newest reference year with a row of ``name`` matching ``where``. The newest
        year's part is asked first (a figure of the newest year reads that file only); when
        it has no match, one query asks every part. ``needs`` (column, value): a value no
        row has (:meth:`has_value`) answers None without asking every part."""
        years = self.partition_years(name)
        if years:
            newest = years[-1]
            hit = self.scalar_list(
                f"SELECT 1 FROM {self.table(name, newest)} WHERE {where} LIMIT 1", params
            )
            if hit:
                return newest
        if needs is not None and not self.has_value(name, *needs):
            return None
        found = self.scalar_list(
            f"SELECT max(reference_year) FROM {self.table(name)} WHERE {where}", params
        )
        return found[0] if found else None

    def has_value(self, name: str, column: str, value: Any) -> bool:
        """Whether a row of ``name`` (every year of a partitioned table) has ``value`` in
        ``column``. The column's values are read once per reader: publishing renders every
        figure of ``figures.yaml`` with one reader, and each figure asks this."""
        key = (name, column)
        if key not in self._values:
            self._values[key] = frozenset(
                self.scalar_list(f"SELECT DISTINCT {column} FROM {self.table(name)}")
            )
        return value in self._values[key]

    def rows(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        cur = self.con.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def scalar_list(self, sql: str, params: list[Any] | None = None) -> list[Any]:
        return [r[0] for r in self.con.execute(sql, params or []).fetchall()]

    def newest_time_series_year(self) -> int | None:
        """The May year of the time-series flat files this release holds (its ``oews``
        vintage), None when it holds none."""
        found = self.scalar_list(
            f"SELECT json_extract_string(vintages, '$.oews') FROM {self.table('releases')} "
            "WHERE release_id = ?",
            [self.release_id],
        )
        text = found[0] if found else None
        digits = "".join(ch for ch in text or "" if ch.isdigit())
        return int(digits[:4]) if len(digits) >= 4 else None
