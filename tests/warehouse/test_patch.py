"""warehouse.patch: a revised data file staged as a patch ends as the whole file would, and
a patch is refused whenever the lake may not hold its base file's rows exactly."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from core.paths import DataPaths
from core.staging import PatchBase, StagedLoad
from extractors.oews import FILES
from extractors.rawstore import sha256_file
from flows.sources import SOURCES
from warehouse import lake, load, patch

DATA = "oe.data.0.Current"
Manifest = Callable[[dict[str, Path]], dict[str, dict[str, object]]]


@pytest.fixture
def base(oe_dir: Path, tmp_path: Path) -> PatchBase:
    """The loaded data file, kept aside as the raw store keeps it."""
    kept = tmp_path / "kept" / DATA
    kept.parent.mkdir()
    shutil.copyfile(oe_dir / DATA, kept)
    return PatchBase(kept, sha256_file(kept))


def stage(
    oe_dir: Path, paths: DataPaths, manifest_rows: Manifest, base: PatchBase | None
) -> StagedLoad:
    rid = load.plan_release_id(paths)
    files = {name: oe_dir / name for name in FILES}
    return SOURCES["oews"].stage(files, paths.staging / rid, rid, manifest_rows(files), base)


def commit(paths: DataPaths, staged: StagedLoad) -> load.Release | None:
    rid = staged.tables[0].path.parent.name
    return load.load_release(paths, rid, [staged])


def revise(oe_dir: Path, index: int, value: bytes) -> None:
    """BLS republishes one estimate in place (line ``index`` of the data file)."""
    path = oe_dir / DATA
    lines = path.read_bytes().splitlines(keepends=True)
    sid, year, period, old, foot = lines[index].split(b"\t")
    lines[index] = b"\t".join([sid, year, period, value.rjust(len(old)), foot])
    path.write_bytes(b"".join(lines))


def lake_rows(paths: DataPaths) -> tuple[set[tuple[object, ...]], set[tuple[object, ...]]]:
    """Every estimate (without its release id) and every stored cell."""
    with lake.connect(paths, read_only=True) as con:
        columns = ", ".join(c for c in lake.TABLES["oews_estimates"] if c != "release_id")
        rows = set(con.execute(f"SELECT {columns} FROM lake.oews_estimates").fetchall())
        cells = set(con.execute("SELECT * FROM lake.oews_estimates_cells").fetchall())
    return rows, cells


def test_a_patch_ends_as_the_whole_file_would(
    oe_dir: Path, data_dir: Path, tmp_path: Path, manifest_rows: Manifest, base: PatchBase
) -> None:
    paths = DataPaths(data_dir)
    commit(paths, stage(oe_dir, paths, manifest_rows, None))
    revise(oe_dir, 1500, b"12345")
    revise(oe_dir, 2900, b"678")

    staged = stage(oe_dir, paths, manifest_rows, base)
    (estimates,) = [t for t in staged.tables if t.table == "oews_estimates"]
    assert estimates.patch is not None and estimates.rows < 1000  # the changed lines only
    resolved = patch.resolve(paths, staged)
    assert not isinstance(resolved, str), resolved
    release = commit(paths, resolved)

    assert release is not None
    found = release.changes["oews_estimates"]
    assert found["changed"] == {"value": 2} and found["cells_changed"] == 2
    assert found["patch"]["base_sha256"] == base.sha256
    whole = DataPaths(tmp_path / "whole")  # the revised file loaded whole, in a new lake
    commit(whole, stage(oe_dir, whole, manifest_rows, None))
    assert lake_rows(paths) == lake_rows(whole)
    assert release.row_counts["oews_estimates"] == len(lake_rows(whole)[0])


def test_a_patch_with_lines_removed_ends_as_the_whole_file_would(
    oe_dir: Path, data_dir: Path, tmp_path: Path, manifest_rows: Manifest, base: PatchBase
) -> None:
    """A whole cell dropped near the top and a value revised near the end: the file shrinks,
    and only the lines around the two changes are staged."""
    paths = DataPaths(data_dir)
    commit(paths, stage(oe_dir, paths, manifest_rows, None))
    path = oe_dir / DATA
    lines = path.read_bytes().splitlines(keepends=True)
    dropped = lines[300].split(b"\t", 1)[0].rstrip()[:-2]  # the cell of line 300
    path.write_bytes(b"".join(x for x in lines if not x.startswith(dropped)))
    revise(oe_dir, 2800, b"4242")

    staged = stage(oe_dir, paths, manifest_rows, base)
    (estimates,) = [t for t in staged.tables if t.table == "oews_estimates"]
    assert estimates.patch is not None and estimates.rows < 1000
    resolved = patch.resolve(paths, staged)
    assert not isinstance(resolved, str), resolved
    release = commit(paths, resolved)

    assert release is not None
    found = release.changes["oews_estimates"]
    assert found["removed"] > 0 and found["changed"]["value"] == 1
    whole = DataPaths(tmp_path / "whole")
    commit(whole, stage(oe_dir, whole, manifest_rows, None))
    assert lake_rows(paths) == lake_rows(whole)
    assert release.row_counts["oews_estimates"] == len(lake_rows(whole)[0])


def test_a_patch_is_refused_when_the_lake_may_differ_from_its_base(
    oe_dir: Path,
    data_dir: Path,
    manifest_rows: Manifest,
    base: PatchBase,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    paths = DataPaths(data_dir)
    commit(paths, stage(oe_dir, paths, manifest_rows, None))
    revise(oe_dir, 1500, b"12345")

    # The newest release loaded another file than the base.
    other = PatchBase(base.path, "0" * 64)
    assert "did not load the base file" in str(
        patch.resolve(paths, stage(oe_dir, paths, manifest_rows, other))
    )
    # The staging pass changed since the base was staged: its rows may differ.
    with monkeypatch.context() as m:
        m.setattr("transforms.oews.VERSION", "oews-staging/next")
        refused = patch.resolve(paths, stage(oe_dir, paths, manifest_rows, base))
    assert "with the staging pass oews-staging/next" in str(refused)
    # The stored cells of the changed lines differ from the base's (here: edited by hand).
    with lake.connect(paths) as con:
        con.execute("UPDATE lake.oews_estimates_cells SET digest = digest + 1")
    assert "changed since release" in str(
        patch.resolve(paths, stage(oe_dir, paths, manifest_rows, base))
    )


def test_a_patch_is_refused_when_a_lookup_changed(
    oe_dir: Path, data_dir: Path, manifest_rows: Manifest, base: PatchBase
) -> None:
    """The lookups decode the unchanged lines too: with another lookup file, they are not
    the rows the lake holds."""
    paths = DataPaths(data_dir)
    commit(paths, stage(oe_dir, paths, manifest_rows, None))
    revise(oe_dir, 1500, b"12345")
    areas = oe_dir / "oe.area"
    areas.write_bytes(areas.read_bytes() + b"\n")

    reason = patch.resolve(paths, stage(oe_dir, paths, manifest_rows, base))

    (first,) = lake.release_ids(paths)
    assert reason == f"the other files differ from those release {first} loaded"


def test_a_cell_split_across_the_file_is_refused(
    oe_dir: Path, data_dir: Path, manifest_rows: Manifest, tmp_path: Path
) -> None:
    """A cell whose lines are not next to each other: the changed lines hold part of it."""
    path = oe_dir / DATA
    lines = path.read_bytes().splitlines(keepends=True)
    moved = lines[1500]
    path.write_bytes(b"".join([*lines[:1500], *lines[1501:], moved]))  # one measure, last
    kept = tmp_path / "split"
    shutil.copyfile(path, kept)
    split = PatchBase(kept, sha256_file(kept))
    paths = DataPaths(data_dir)
    commit(paths, stage(oe_dir, paths, manifest_rows, None))
    revise(oe_dir, 1499, b"4321")  # same cell as the moved line

    reason = patch.resolve(paths, stage(oe_dir, paths, manifest_rows, split))

    assert reason == "1 cells of the changed lines are not stored as the base file holds them"


def test_too_many_changes_stage_the_whole_file(
    oe_dir: Path, data_dir: Path, manifest_rows: Manifest, base: PatchBase
) -> None:
    paths = DataPaths(data_dir)
    commit(paths, stage(oe_dir, paths, manifest_rows, None))
    for index in range(1, 3000, 40):
        revise(oe_dir, index, b"1")

    staged = stage(oe_dir, paths, manifest_rows, base)

    assert all(t.patch is None for t in staged.tables)
    release = commit(paths, staged)
    assert release is not None and "patch" not in release.changes["oews_estimates"]
