"""The published layout: which bundles are complete, their order, and ``latest``."""

from __future__ import annotations

import json
import os
from pathlib import Path

from core.paths import DataPaths
from warehouse import bundles


def bundle(paths: DataPaths, release_id: str, *, complete: bool = True) -> Path:
    folder = paths.published / release_id
    folder.mkdir(parents=True)
    (folder / "areas.parquet").write_bytes(b"PAR1")
    if complete:  # datapackage.json is written last
        (folder / bundles.PACKAGE).write_text(json.dumps({"version": release_id}))
    return folder


def test_release_ids_sort_by_day_then_number() -> None:
    ids = ["2026-11-28.10", "2026-11-29.1", "2026-11-28.9", "2026-11-28.1"]
    assert sorted(ids, key=bundles.release_order) == [
        "2026-11-28.1",
        "2026-11-28.9",
        "2026-11-28.10",
        "2026-11-29.1",
    ]
    assert bundles.release_order("by-hand") == ("by-hand", -1, "by-hand")


def test_only_complete_bundles_are_published(data_dir: Path) -> None:
    paths = DataPaths(data_dir)
    assert bundles.published(paths) == []  # no published folder yet
    for rid in ("2026-11-28.10", "2026-11-28.9"):
        bundle(paths, rid)
    bundle(paths, "2026-11-28.11", complete=False)  # killed before datapackage.json
    bundle(paths, ".tmp-2026-11-28.12")  # being written
    os.symlink("2026-11-28.10", paths.published / "alias")  # a link is never a bundle

    assert bundles.published(paths) == ["2026-11-28.9", "2026-11-28.10"]
    assert bundles.is_published(paths, "2026-11-28.9")
    assert not bundles.is_published(paths, "2026-11-28.11")
    assert not bundles.is_published(paths, "2026-11-28.99")
    assert bundles.package(paths.published / "2026-11-28.9") == {"version": "2026-11-28.9"}
    assert bundles.bundle_path(paths, "2026-11-28.9") == data_dir / "published" / "2026-11-28.9"
    assert bundles.table_path(paths.published / "2026-11-28.9", "areas") == (
        data_dir / "published" / "2026-11-28.9" / "areas.parquet"
    )


def test_latest_is_a_relative_link_switched_by_rename(data_dir: Path) -> None:
    paths = DataPaths(data_dir)
    first, second = bundle(paths, "2026-11-28.1"), bundle(paths, "2026-11-28.2")
    assert bundles.latest(paths) is None

    bundles.switch_latest(paths, "2026-11-28.1")
    assert bundles.latest(paths) == "2026-11-28.1"
    assert paths.latest.resolve() == first
    bundles.switch_latest(paths, "2026-11-28.2")

    assert os.readlink(paths.latest) == "2026-11-28.2"  # relative: moves with the data dir
    assert paths.latest.resolve() == second
    assert sorted(p.name for p in paths.published.iterdir()) == [
        "2026-11-28.1",
        "2026-11-28.2",
        "latest",
    ]  # no .latest.tmp left behind
    assert bundles.published(paths) == ["2026-11-28.1", "2026-11-28.2"]  # latest is no bundle
