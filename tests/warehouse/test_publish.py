"""Publishing: verifiable bundles, ``latest``, recovery after a crash, and the analyst file."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from core.paths import DataPaths
from extractors.rawstore import sha256_file
from figures.spec import bundle_writer
from warehouse import bundles, lake, load, publish


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
        assert resource["hash"] == f"sha256:{sha256_file(bundle / resource['path'])}"
        rows = duckdb.sql(f"SELECT count(*) FROM '{bundle / resource['path']}'").fetchone()
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
    paths: DataPaths, areas_release: Callable[[list[str]], str]
) -> None:
    first = areas_release(["Alabama"])
    publish.publish(paths, first)
    second = areas_release(["Alaska"])
    publish.publish(paths, second)

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


def test_a_release_the_warehouse_does_not_hold_is_not_published(
    paths: DataPaths, areas_release: Callable[[list[str]], str]
) -> None:
    areas_release(["Alabama"])
    with pytest.raises(KeyError, match=r"release 2000-01-01\.1 is not in the warehouse"):
        publish.publish(paths, "2000-01-01.1")
    assert not (paths.published / "2000-01-01.1").exists()
    assert not paths.latest.exists()
