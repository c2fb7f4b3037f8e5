"""The published layout, read and switched in one place.

``published/<release>/`` is a bundle: one parquet file per table, except the tables history
makes big (``PARTITIONED``), which are a folder of one file per partition
(``oews_estimates/2024.parquet``); then ``figures.json``, ``RELEASE_NOTES.md`` and
``datapackage.json``, written last (a bundle without it is incomplete). Bundles made before
partitioning have ``oews_estimates.parquet``; every reader goes through ``table_path`` or
``table_files``, which accept both layouts. ``published/latest`` is a relative symlink to one
bundle, switched by rename. Release ids are ``YYYY-MM-DD.N``: ``.10`` comes after ``.9``.
Publishing, diff, verify, figures and the command line read bundles through this module.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from core.paths import DataPaths, fsync_dir

PACKAGE = "datapackage.json"
# Tables published as one file per value of a column, so that a release re-writes only the
# partitions it changed and hard-links the others from the bundle before it.
PARTITIONED: dict[str, str] = {"oews_estimates": "reference_year"}


def release_order(release_id: str) -> tuple[str, int, str]:
    """Sort key of release ids: ``2026-11-28.10`` comes after ``2026-11-28.9``."""
    day, _, number = release_id.rpartition(".")
    return (day, int(number), "") if day and number.isdigit() else (release_id, -1, release_id)


def bundle_path(paths: DataPaths, release_id: str) -> Path:
    return paths.published / release_id


def is_published(paths: DataPaths, release_id: str) -> bool:
    """A complete bundle: its ``datapackage.json`` is written last."""
    return is_complete(bundle_path(paths, release_id))


def is_complete(bundle: Path) -> bool:
    """Whether a bundle folder is complete (``datapackage.json`` is written last)."""
    return (bundle / PACKAGE).is_file()


def published(paths: DataPaths) -> list[str]:
    """Every complete bundle's release id, oldest first."""
    if not paths.published.is_dir():
        return []
    return sorted(
        (
            p.name
            for p in paths.published.iterdir()
            if not p.name.startswith(".")
            and p.name != "latest"
            and not p.is_symlink()
            and (p / PACKAGE).is_file()
        ),
        key=release_order,
    )


def latest(paths: DataPaths) -> str | None:
    """The release ``latest`` points at (None when there is no ``latest``)."""
    return os.readlink(paths.latest) if paths.latest.is_symlink() else None


def switch_latest(paths: DataPaths, release_id: str) -> None:
    """Point ``latest`` at ``release_id`` atomically (a new symlink renamed over the old)."""
    tmp = paths.published / ".latest.tmp"
    tmp.unlink(missing_ok=True)
    os.symlink(release_id, tmp)
    os.replace(tmp, paths.latest)
    fsync_dir(paths.published)


def package(bundle: Path) -> dict[str, Any]:
    """A bundle's ``datapackage.json``."""
    return dict(json.loads((bundle / PACKAGE).read_text(encoding="utf-8")))


def table_path(bundle: Path, table: str) -> Path:
    """What ``read_parquet`` reads for ``table`` in a bundle: its one file, or the glob of its
    partitions' files (``oews_estimates/*.parquet``). Readers see one table either way."""
    single = bundle / f"{table}.parquet"
    folder = bundle / table
    return folder / "*.parquet" if not single.exists() and folder.is_dir() else single


def table_files(bundle: Path, table: str) -> list[Path]:
    """The parquet files of ``table`` in a bundle (none when the bundle lacks the table)."""
    single = bundle / f"{table}.parquet"
    if single.exists():
        return [single]
    folder = bundle / table
    return sorted(folder.glob("*.parquet")) if folder.is_dir() else []


def part_name(table: str, value: object) -> str:
    """The bundle-relative path of one partition's file: ``oews_estimates/2024.parquet``."""
    return f"{table}/{value}.parquet"


def parts(package: dict[str, Any], table: str) -> dict[str, dict[str, Any]]:
    """A partitioned table's parts as its ``datapackage.json`` lists them, by path (empty for a
    table published as one file, as every table was before partitioning)."""
    for resource in package.get("resources", []):
        if resource.get("name") == table:
            return {str(p["path"]): p for p in resource.get("parts", [])}
    return {}


def bundle_of(file: Path, published_name: str = "published") -> Path | None:
    """The bundle folder a table file (or a partition glob) lies in, None if none."""
    for folder in file.parents:
        if folder.parent.name == published_name:
            return folder
    return None
