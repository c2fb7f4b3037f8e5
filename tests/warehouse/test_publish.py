"""Publishing: verifiable bundles, ``latest``, recovery after a crash, and the analyst file."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from core.errors import UnpublishedReleaseError
from core.paths import DataPaths
from core.staging import LoadPolicy, StagedLoad, StagedTable, TablePolicy
from extractors.rawstore import sha256_file
from figures.release import ReleaseReader
from figures.spec import bundle_writer
from warehouse import bundles, lake, load, publish
from warehouse.verify import verify


def test_publish_writes_a_verifiable_bundle_and_moves_latest(
    paths: DataPaths,
    release: Callable[..., load.Release],
    sample_estimates: int,
    oe_dir: Path,
) -> None:
    first = release(paths, oe_dir)
    bundle = publish.publish(paths, first.release_id, extras=[bundle_writer()])

    assert os.readlink(paths.latest) == first.release_id
    package = json.loads((bundle / "datapackage.json").read_text())
    assert package["version"] == first.release_id
    assert {r["name"] for r in package["resources"]} == {*lake.TABLES, "figures"}
    for resource in package["resources"]:
        if resource["name"] == "figures":
            assert resource["hash"] == f"sha256:{sha256_file(bundle / 'figures.json')}"
            continue
        if resource["name"] == "oews_estimates":  # one part per reference year
            assert resource["path"] == ["oews_estimates/2024.parquet"]
            assert resource["partitioned_by"] == "reference_year"
            [part] = resource["parts"]
            assert part["sha256"] == sha256_file(bundle / part["path"])
            assert (part["value"], part["rows"]) == (2024, resource["rows"])
            path = bundle / "oews_estimates" / "*.parquet"
        else:
            assert resource["hash"] == f"sha256:{sha256_file(bundle / resource['path'])}"
            path = bundle / resource["path"]
        rows = duckdb.sql(f"SELECT count(*) FROM '{path}'").fetchone()
        assert rows[0] == resource["rows"]
        assert [f["name"] for f in resource["schema"]["fields"]] == list(
            lake.TABLES[resource["name"]]
        )
    assert all(s["vintage"] == "May 2024" and len(s["sha256"]) == 64 for s in package["sources"])
    notes = (bundle / "RELEASE_NOTES.md").read_text()
    assert f"| oews_estimates | {sample_estimates:,} | new |" in notes
    assert "OEWS: May 2024 (new in this release)" in notes


def test_crash_between_commit_and_publish_is_recovered(
    paths: DataPaths,
    release: Callable[..., load.Release],
    sample_estimates: int,
    oe_dir: Path,
    set_median: Callable[[Path, str], None],
    mirror: Path,
) -> None:
    first = release(paths, oe_dir)
    publish.publish(paths, first.release_id, extras=[bundle_writer()])
    set_median(mirror, "50260")
    second = release(paths, oe_dir)  # committed, then the process "died"
    half = paths.published / f".tmp-{second.release_id}"
    half.mkdir()
    (half / "oews_estimates.parquet").write_bytes(b"partial")
    assert os.readlink(paths.latest) == first.release_id

    recovered = publish.publish_pending(paths, extras=[bundle_writer()])

    assert recovered == [second.release_id]
    assert os.readlink(paths.latest) == second.release_id
    assert not list(paths.published.glob(".tmp-*"))
    notes = (paths.published / second.release_id / "RELEASE_NOTES.md").read_text()
    assert f"Previous release: {first.release_id}" in notes
    assert f"| oews_estimates | {sample_estimates:,} | +0 |" in notes


def test_analyst_file_shows_latest_and_every_release(
    paths: DataPaths,
    release: Callable[..., load.Release],
    sample_estimates: int,
    oe_dir: Path,
    set_median: Callable[[Path, str], None],
    mirror: Path,
) -> None:
    first = release(paths, oe_dir)
    publish.publish(paths, first.release_id, extras=[bundle_writer()])
    set_median(mirror, "50260")
    second = release(paths, oe_dir)
    publish.publish(paths, second.release_id, extras=[bundle_writer()])

    con = duckdb.connect(str(paths.analyst_db), read_only=True)
    latest_ids = con.execute(
        "SELECT release_id, count(*) FROM oews_estimates GROUP BY 1 ORDER BY 1"
    ).fetchall()
    # A revision rewrites only the cell that changed (29-2072, national, all industries: its
    # 17 measures); every other row keeps the release that loaded it.
    assert latest_ids == [(first.release_id, sample_estimates - 17), (second.release_id, 17)]
    revised = con.execute(
        "SELECT DISTINCT release_id FROM oews_estimates WHERE soc_code = '29-2072' "
        "AND area_code = '0000000' AND industry_code = '000000'"
    ).fetchall()
    assert revised == [(second.release_id,)]
    older = con.execute(f'SELECT DISTINCT release_id FROM "{first.release_id}".oews_estimates')
    assert older.fetchall() == [(first.release_id,)]
    con.close()


def test_publish_refuses_counts_that_disagree_with_the_snapshot(
    paths: DataPaths, release: Callable[..., load.Release], oe_dir: Path
) -> None:
    made = release(paths, oe_dir)
    with lake.connect(paths) as con:  # bookkeeping gone wrong, simulated
        con.execute("UPDATE lake.releases SET row_counts = ?", [json.dumps({"areas": 5})])

    with pytest.raises(RuntimeError, match="areas 5 recorded, 4 exported"):
        publish.publish(paths, made.release_id, extras=[bundle_writer()])
    assert not paths.latest.exists()
    assert not bundles.is_published(paths, made.release_id)


def test_a_failed_analyst_file_rebuild_says_what_is_published(
    paths: DataPaths,
    monkeypatch: pytest.MonkeyPatch,
    release: Callable[..., load.Release],
    oe_dir: Path,
    set_median: Callable[[Path, str], None],
    mirror: Path,
) -> None:
    import errno

    from core.errors import AnalystFileError

    first = release(paths, oe_dir)
    publish.publish(paths, first.release_id, extras=[bundle_writer()])
    set_median(mirror, "50260")
    second = release(paths, oe_dir)

    def full_disk(con: duckdb.DuckDBPyConnection, paths: DataPaths) -> None:
        con.execute("CREATE SCHEMA half_written")
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as mp:
        mp.setattr(publish, "_fill_analyst_db", full_disk)
        with pytest.raises(AnalystFileError) as failed:
            publish.publish(paths, second.release_id, extras=[bundle_writer()])

    assert failed.value.release_id == second.release_id == os.readlink(paths.latest)
    assert failed.value.shows == first.release_id
    assert "No space left on device" in str(failed.value)
    assert not [p for p in paths.analyst_db_tmps() if p.exists()]
    assert publish.analyst_db_problems(paths) == [
        f"{paths.analyst_db} shows {first.release_id}, but latest → {second.release_id}",
        f"{paths.analyst_db} lacks release(s) {second.release_id}",
    ]

    done = publish.recover(paths, extras=[bundle_writer()])  # what the next run does first

    assert any(line.startswith("rebuilt bls.duckdb") for line in done.lines())
    assert publish.analyst_db_problems(paths, every_release=True) == []
    assert publish.recover(paths, extras=[bundle_writer()]).lines() == []  # and then nothing more


def test_a_rollback_is_pinned_until_the_next_release(
    paths: DataPaths, areas_release: Callable[[list[str]], str], two_published: tuple[str, str]
) -> None:
    first, _ = two_published

    publish.rollback(paths, first)

    assert os.readlink(paths.latest) == first
    assert publish.rollback_pin(paths) == first
    assert publish.recover(paths).lines() == []  # recovery does not move latest forward again
    assert os.readlink(paths.latest) == first
    assert publish.analyst_db_problems(paths) == []  # the analyst file shows the rollback
    with pytest.raises(KeyError, match="has no complete bundle"):
        publish.rollback(paths, "2000-01-01.1")

    third = areas_release(["Arizona"])
    publish.publish(paths, third)
    assert publish.rollback_pin(paths) is None  # a new release supersedes the pin
    assert os.readlink(paths.latest) == third


def test_a_rollback_waits_for_a_release_an_interrupted_run_left_unpublished(
    paths: DataPaths, areas_release: Callable[[list[str]], str], two_published: tuple[str, str]
) -> None:
    # Published after the rollback by the next run's recovery, it would undo the rollback.
    first, second = two_published
    third = areas_release(["Arizona"])  # committed; the run died before publishing it

    with pytest.raises(UnpublishedReleaseError, match=f"release {third} is in the warehouse"):
        publish.rollback(paths, first)
    assert os.readlink(paths.latest) == second
    assert publish.rollback_pin(paths) is None

    assert publish.recover(paths).published == [third]
    publish.rollback(paths, first)
    assert os.readlink(paths.latest) == first
    assert publish.recover(paths).lines() == []
    assert os.readlink(paths.latest) == first


def test_a_release_the_warehouse_does_not_hold_is_not_published(
    paths: DataPaths, areas_release: Callable[[list[str]], str]
) -> None:
    areas_release(["Alabama"])
    with pytest.raises(KeyError, match=r"release 2000-01-01\.1 is not in the warehouse"):
        publish.publish(paths, "2000-01-01.1")
    assert not (paths.published / "2000-01-01.1").exists()
    assert not paths.latest.exists()


# --- partitioned bundles: a release costs what it changed ---------------------------------------


def _year_load(path: Path, year: int) -> StagedLoad:
    """A staged oews_estimates file as the load of May ``year``, replacing that year."""
    rows = duckdb.sql(f"SELECT count(*) FROM '{path}'").fetchone()[0]  # type: ignore[index]
    table = StagedTable("oews_estimates", path, rows, {"reference_year": year})
    policy = LoadPolicy(
        {"oews_estimates": TablePolicy(scope=("reference_year",))}, guarded_table="oews_estimates"
    )
    return policy.attach(StagedLoad("oews", f"May {year}", [table], {}))


def _inode(path: Path) -> int:
    return path.stat().st_ino


def test_a_release_rewrites_only_the_partitions_it_changed(
    paths: DataPaths,
    release: Callable[..., load.Release],
    oe_dir: Path,
    set_median: Callable[[Path, str], None],
    mirror: Path,
    big_estimates: Callable[..., Path],
    edit_staged: Callable[[Path, str], int],
) -> None:
    first = release(paths, oe_dir)  # May 2024 from the sample flat files
    one = publish.publish(paths, first.release_id, extras=[bundle_writer()])

    # An earlier year added: May 2024 is the first bundle's file; May 2023 is the staged
    # file the lake adopted, not a second copy of it.
    rid = load.plan_release_id(paths)
    staged = big_estimates(paths.staging / rid / "oews_estimates.parquet", rid, areas=6)
    edit_staged(
        staged,
        "SELECT * REPLACE (2023 AS reference_year, 'May 2023' AS reference_period) FROM staged",
    )
    load.load_release(paths, rid, [_year_load(staged, 2023)])
    two = publish.publish(paths, rid, extras=[bundle_writer()])
    assert _inode(two / "oews_estimates/2024.parquet") == _inode(
        one / "oews_estimates/2024.parquet"
    )
    lake_files = {_inode(p) for p in paths.lake_table_dir("oews_estimates").glob("*.parquet")}
    assert _inode(two / "oews_estimates/2023.parquet") in lake_files
    assert _inode(one / "oews_estimates/2024.parquet") in lake_files  # the first one's, too
    parts_one = bundles.parts(bundles.package(one), "oews_estimates")
    parts_two = bundles.parts(bundles.package(two), "oews_estimates")
    assert parts_two["oews_estimates/2024.parquet"] == parts_one["oews_estimates/2024.parquet"]
    assert parts_two["oews_estimates/2023.parquet"]["rows"] == 3_060
    notes = (two / "RELEASE_NOTES.md").read_text()
    assert "| oews_estimates | 3,060 | 0 | 0 |" in notes  # the diff: 2023's rows added

    # One value of May 2024 revised: 2024 is written again, 2023 stays the same file.
    set_median(mirror, "50260")
    third = release(paths, oe_dir)
    three = publish.publish(paths, third.release_id, extras=[bundle_writer()])
    assert _inode(three / "oews_estimates/2023.parquet") == _inode(
        two / "oews_estimates/2023.parquet"
    )
    assert _inode(three / "oews_estimates/2024.parquet") != _inode(
        two / "oews_estimates/2024.parquet"
    )
    notes = (three / "RELEASE_NOTES.md").read_text()
    assert "| oews_estimates | 0 | 0 | 1 |" in notes
    assert "29-2072 annual_median (area 0000000, industry 000000, all, May 2024): value" in notes
    assert verify(paths)[0] == []

    # Analysts and figures see one table, whatever its files.
    total = sum(r["rows"] for r in parts_two.values())
    con = duckdb.connect(str(paths.analyst_db), read_only=True)
    assert con.execute("SELECT count(*) FROM oews_estimates").fetchone()[0] == total
    years = con.execute(
        f'SELECT DISTINCT reference_year FROM "{rid}".oews_estimates ORDER BY 1'
    ).fetchall()
    assert years == [(2023,), (2024,)]
    con.close()
    assert publish.analyst_db_problems(paths, every_release=True) == []


def _as_before_partitioning(bundle: Path) -> None:
    """Rewrite a bundle in the layout releases had before partitioning: one
    ``oews_estimates.parquet``, listed in ``datapackage.json`` as one resource."""
    folder = bundle / "oews_estimates"
    single = bundle / "oews_estimates.parquet"
    duckdb.execute(f"COPY (FROM '{folder}/*.parquet') TO '{single}' (FORMAT parquet)")
    shutil.rmtree(folder)
    package = bundles.package(bundle)
    for resource in package["resources"]:
        if resource["name"] == "oews_estimates":
            digest = sha256_file(single)
            for key in ("parts", "partitioned_by"):
                resource.pop(key)
            resource.update(
                path=single.name,
                bytes=single.stat().st_size,
                sha256=digest,
                hash=f"sha256:{digest}",
            )
    (bundle / "datapackage.json").write_text(json.dumps(package, indent=2))


def _without(bundle: Path, table: str) -> None:
    """Rewrite a bundle as one made before ``table`` existed: no file, no resource."""
    for file in bundles.table_files(bundle, table):
        file.unlink()
    package = bundles.package(bundle)
    package["resources"] = [r for r in package["resources"] if r["name"] != table]
    (bundle / "datapackage.json").write_text(json.dumps(package, indent=2))


def test_bundles_from_before_partitioning_still_verify_roll_back_and_read(
    paths: DataPaths,
    release: Callable[..., load.Release],
    oe_dir: Path,
    set_median: Callable[[Path, str], None],
    mirror: Path,
    sample_estimates: int,
) -> None:
    first = release(paths, oe_dir)
    old = publish.publish(paths, first.release_id, extras=[bundle_writer()])
    _as_before_partitioning(old)
    _without(old, "soc_crosswalk")  # and older than the crosswalk: the table came later
    publish.write_analyst_db(paths)
    assert verify(paths)[0] == []

    set_median(mirror, "50260")
    second = release(paths, oe_dir)
    new = publish.publish(paths, second.release_id, extras=[bundle_writer()])

    assert (new / "oews_estimates" / "2024.parquet").is_file()
    notes = (new / "RELEASE_NOTES.md").read_text()
    assert "| oews_estimates | 0 | 0 | 1 |" in notes  # compared across the two layouts
    assert verify(paths)[0] == []
    publish.rollback(paths, first.release_id)
    assert verify(paths)[0] == []
    con = duckdb.connect(str(paths.analyst_db), read_only=True)
    for schema in ("main", first.release_id, second.release_id):
        count = con.execute(f'SELECT count(*) FROM "{schema}".oews_estimates').fetchone()[0]
        assert count == sample_estimates
    # a table the bundle lacks is an empty view with the table's columns
    found = con.execute(f'SELECT * FROM "{first.release_id}".soc_crosswalk').description
    assert [c[0] for c in found] == list(lake.TABLES["soc_crosswalk"])
    con.close()
    with ReleaseReader(first.release_id, old) as reader:
        found = reader.scalar_list(
            f"SELECT value FROM {reader.table('oews_estimates')} WHERE soc_code = '29-2072' "
            "AND measure = 'annual_median' AND area_code = '0000000' AND industry_code = '000000'"
        )
    assert found and found[0] != 50260


def test_a_single_file_beside_a_partitioned_table_and_an_unreadable_package_are_mismatches(
    paths: DataPaths, release: Callable[..., load.Release], oe_dir: Path
) -> None:
    made = release(paths, oe_dir)
    bundle = publish.publish(paths, made.release_id)
    # readers take oews_estimates.parquet before the folder's parts: it would hide them
    shutil.copyfile(bundle / "oews_estimates" / "2024.parquet", bundle / "oews_estimates.parquet")
    assert verify(paths)[0] == [
        f"bundle {made.release_id}: oews_estimates.parquet is not in datapackage.json, but "
        "readers of oews_estimates read it"
    ]
    (bundle / "oews_estimates.parquet").unlink()
    package = bundle / "datapackage.json"
    package.write_text(package.read_text()[:200])  # cut short
    problems, _ = verify(paths)
    assert problems[0].startswith(f"bundle {made.release_id}: datapackage.json cannot be read ("), (
        problems
    )


def test_a_file_added_to_a_partition_folder_is_a_mismatch(
    paths: DataPaths, release: Callable[..., load.Release], oe_dir: Path
) -> None:
    made = release(paths, oe_dir)
    bundle = publish.publish(paths, made.release_id)
    shutil.copyfile(
        bundle / "oews_estimates" / "2024.parquet", bundle / "oews_estimates" / "2023.parquet"
    )

    problems, _ = verify(paths)

    assert problems == [
        f"bundle {made.release_id}: oews_estimates/2023.parquet is not in datapackage.json, but "
        "readers of oews_estimates read it"
    ]
