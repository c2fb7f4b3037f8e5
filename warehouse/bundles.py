"""The published layout, read and switched in one place.

``published/<release>/`` is a bundle: one parquet file per table, ``figures.json``,
``RELEASE_NOTES.md`` and ``datapackage.json``, written last (a bundle without it is
incomplete). ``published/latest`` is a relative symlink to one bundle, switched by rename.
Release ids are ``YYYY-MM-DD.N``: ``.10`` comes after ``.9``. Publishing, diff, verify,
figures and the command line read bundles through this module.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from core.paths import DataPaths, fsync_dir

PACKAGE = "datapackage.json"


def release_order(release_id: str) -> tuple[str, int, str]:
    """Sort key of release ids: ``2026-11-28.10`` comes after ``2026-11-28.9``."""
    day, _, number = release_id.rpartition(".")
    return (day, int(number), "") if day and number.isdigit() else (release_id, -1, release_id)


def bundle_path(paths: DataPaths, release_id: str) -> Path:
    return paths.published / release_id


def is_published(paths: DataPaths, release_id: str) -> bool:
    """A complete bundle: its ``datapackage.json`` is written last."""
    return (bundle_path(paths, release_id) / PACKAGE).is_file()


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
    """The parquet file of ``table`` in a bundle."""
    return bundle / f"{table}.parquet"
