"""The data directory as a whole: a catalog killed while being created, a data dir moved or
copied elsewhere, a disk that fills up while the analyst file is rebuilt, and what
``bls-refresh verify`` says about each. Real subprocesses of ``python -m bls_refresh.cli``,
real DuckLake and DuckDB files, the local BLS-like server; one fresh world per test (a move or
a broken catalog must not leak into another test).
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest

from core.paths import DataPaths
from warehouse import lake, publish

if TYPE_CHECKING:
    from tests.faults.conftest import FaultKit, World

pytestmark = pytest.mark.usefixtures("prefect_harness")

MEDIAN_SQL = (
    "SELECT value, release_id FROM oews_estimates WHERE soc_code = '29-2072' "
    "AND area_code = '0000000' AND industry_code = '000000' AND measure = 'annual_median'"
)


@pytest.fixture
def fresh(tmp_path: Path, faults: FaultKit) -> Iterator[World]:
    """A world of its own with an empty data dir (no release yet)."""
    with faults.world(tmp_path) as made:
        yield made


@pytest.fixture
def with_a(fresh: World, faults: FaultKit) -> tuple[World, str]:
    """A world of its own whose first release A is ``latest``."""
    return fresh, faults.first_release(fresh)


def elsewhere(w: World, data_dir: Path) -> World:
    """The same mirror and server, another data dir."""
    return dataclasses.replace(w, data_dir=data_dir)


def run(
    faults: FaultKit, w: World, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return faults.bls_refresh(
        "run", "--source", w.server.base_url, "--data-dir", str(w.data_dir), w=w, extra=extra
    )


def verify(faults: FaultKit, w: World, *extra: str) -> tuple[int, str, str]:
    done = faults.bls_refresh("verify", "--data-dir", str(w.data_dir), *extra, w=w)
    return done.returncode, faults.one_line(done.stdout), faults.one_line(done.stderr)


def figure(faults: FaultKit, w: World) -> dict[str, object]:
    done = faults.bls_refresh(
        "figure", "29-2072", "annual_median", "--json", "--data-dir", str(w.data_dir), w=w
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def analyst_median(data_dir: Path) -> tuple[int, str]:
    """29-2072's national annual median as an analyst reads it from bls.duckdb."""
    con = duckdb.connect(str(data_dir / "bls.duckdb"), read_only=True)
    try:
        value, release_id = con.execute(MEDIAN_SQL).fetchone()
    finally:
        con.close()
    return int(value), str(release_id)


def absolute_data_files(data_dir: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(data_dir / "warehouse" / "catalog.sqlite")) as db:
        rows = db.execute(
            "SELECT path FROM ducklake_data_file WHERE NOT path_is_relative "
            "UNION ALL SELECT path FROM ducklake_delete_file WHERE NOT path_is_relative"
        ).fetchall()
    return [r[0] for r in rows]


def lake_files(data_dir: Path) -> set[str]:
    return {str(p.relative_to(data_dir)) for p in (data_dir / "warehouse").rglob("*.parquet")}


# -- the catalog -------------------------------------------------------------------------------


def test_killed_while_creating_the_catalog(fresh: World, faults: FaultKit) -> None:
    """Scenario "killed-creating-catalog": the catalog is created under a temporary name and
    renamed into place whole, so a kill leaves no ``catalog.sqlite`` at all."""
    w = fresh
    killed = run(faults, w, {"BLS_FAULT_KILL_AT": "creating_catalog"})

    assert killed.returncode == -signal.SIGKILL, (killed.stdout, killed.stderr)
    paths = w.paths
    assert not paths.catalog.exists()
    (leftover,) = paths.catalog_tmps()  # initialised, never renamed into place
    code, out, err = verify(faults, w)
    assert code == 1 and "All files match" not in out
    faults.assert_names_cause(err, "killed-creating-catalog")
    assert f"{leftover.name} was left by a run killed while creating the catalog" in out

    again = run(faults, w)  # the same command again; nothing removed by hand

    assert again.returncode == 0, again.stderr
    assert not paths.catalog_tmps()
    assert lake.catalog_state(paths).kind == "ready"
    faults.assert_intact(w, faults.latest_of(w.data_dir))
    assert verify(faults, w)[0] == 0


def _empty_file(catalog: Path) -> None:
    """What DuckLake leaves when killed before its creating transaction commits."""
    catalog.write_bytes(b"")
    catalog.with_name(catalog.name + "-journal").write_bytes(b"")


def _hot_journal(catalog: Path) -> None:
    """A SQLite writer killed in the middle of creating the catalog's tables: pages already
    in the file, the journal to undo them beside it (read-only opens then fail)."""
    script = (
        "import os, signal, sqlite3, sys\n"
        "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "db.execute('PRAGMA cache_size = 1')\n"  # spill pages to the file before commit
        "db.execute('BEGIN')\n"
        "db.execute('CREATE TABLE ducklake_metadata (key VARCHAR, value VARCHAR)')\n"
        "db.executemany('INSERT INTO ducklake_metadata VALUES (?, ?)',"
        " [(str(i), 'x' * 200) for i in range(2000)])\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(catalog)], capture_output=True, check=False
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert catalog.stat().st_size > 0
    assert catalog.with_name(catalog.name + "-journal").exists()


HALF_CREATED = {
    "empty-file": (_empty_file, "was left half-created (it is an empty file)"),
    "hot-journal": (
        _hot_journal,
        "cannot be used (SQLite says: attempt to write a readonly database; an interrupted "
        "write left catalog.sqlite-journal)",
    ),
}


@pytest.mark.parametrize("state", list(HALF_CREATED))
def test_half_created_catalog_is_recreated(fresh: World, state: str, faults: FaultKit) -> None:
    """Scenario "half-created-catalog": a data dir bricked by an earlier version (the catalog
    was created in place and the run killed meanwhile) recovers on the next run."""
    w = fresh
    make, said = HALF_CREATED[state]
    w.paths.warehouse.mkdir(parents=True)
    make(w.paths.catalog)

    code, _, err = verify(faults, w)
    assert code == 1
    assert said in err
    if state == "hot-journal":
        faults.assert_names_cause(err, "half-created-catalog")

    done = run(faults, w)

    assert done.returncode == 0, done.stderr
    assert lake.catalog_state(w.paths).kind == "ready"
    assert not [p for p in w.paths.catalog_sidecars() if p.exists()]
    faults.assert_intact(w, faults.latest_of(w.data_dir))
    assert verify(faults, w)[0] == 0


def test_a_catalog_that_made_releases_is_never_replaced(
    with_a: tuple[World, str], faults: FaultKit
) -> None:
    """Scenario "catalog-missing": without its catalog a data dir keeps serving its bundles,
    but no run makes a new catalog (that would restart the release history); an unreadable
    catalog is kept byte for byte."""
    w, a = with_a
    paths = w.paths
    kept = paths.catalog.with_name("catalog.kept")
    os.replace(paths.catalog, kept)
    w.server.clear_requests()

    failed = faults.cli_run(w)
    code, _, err = verify(faults, w)

    assert failed.exit_code == 1
    faults.assert_names_cause(faults.one_line(failed.stderr), "catalog-missing")
    assert not w.server.requests  # refused at the start, before any download
    assert not paths.catalog.exists() and not paths.catalog_tmps()
    assert faults.latest_of(w.data_dir) == a
    assert figure(faults, w)["release"] == a  # the bundles still answer
    assert code == 1 and "is missing, but" in err

    garbage = b"this is not a SQLite database" * 100
    paths.catalog.write_bytes(garbage)
    failed = faults.cli_run(w)
    code, _, err = verify(faults, w)

    assert failed.exit_code == 1
    assert "cannot be used (SQLite says: file is not a database)" in faults.one_line(failed.stderr)
    assert "it is kept as it is" in faults.one_line(failed.stderr)
    assert paths.catalog.read_bytes() == garbage
    assert code == 1 and "file is not a database" in err

    os.replace(kept, paths.catalog)
    faults.assert_intact(w, a)


def test_verify_names_what_does_not_fit_together(
    with_a: tuple[World, str], faults: FaultKit
) -> None:
    """A bundle the catalog does not know, a dangling ``latest``, a missing analyst file."""
    w, a = with_a
    published = w.data_dir / "published"
    stranger = published / "1999-01-01.1"
    shutil.copytree(published / a, stranger)

    code, _, err = verify(faults, w)

    assert code == 1
    assert "PROBLEM bundle 1999-01-01.1 is not a release of the warehouse catalog" in err
    assert f"(which holds {a})" in err
    shutil.rmtree(stranger)

    os.replace(published / "latest", published / "latest.kept")
    os.symlink("2000-01-01.1", published / "latest")
    code, _, err = verify(faults, w)
    assert code == 1 and "latest points at 2000-01-01.1, which is not a complete bundle" in err
    os.replace(published / "latest.kept", published / "latest")

    w.paths.analyst_db.unlink()
    code, _, err = verify(faults, w)
    assert code == 1
    assert f"PROBLEM {w.paths.analyst_db} is missing; `bls-refresh verify --repair`" in err

    done = faults.bls_refresh("verify", "--repair", "--data-dir", str(w.data_dir), w=w)

    assert done.returncode == 0, done.stderr
    assert "rebuilt bls.duckdb" in done.stdout and "All files match" in done.stdout
    assert analyst_median(w.data_dir) == (faults.MEDIAN_A, a)


@pytest.mark.parametrize(
    ("scenario", "target"),
    [
        ("verify-missing-data-dir", "absent"),
        ("verify-not-a-directory", "file"),
        ("verify-empty-data-dir", "empty"),
    ],
)
def test_verify_refuses_a_data_dir_with_nothing_to_verify(
    tmp_path: Path, scenario: str, target: str, faults: FaultKit
) -> None:
    data_dir = tmp_path / target
    if target == "file":
        data_dir.write_text("not a data dir\n")
    elif target == "empty":
        data_dir.mkdir()

    done = faults.bls_refresh("verify", "--data-dir", str(data_dir))

    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "All files match" not in done.stdout
    faults.assert_names_cause(faults.one_line(done.stderr), scenario)
    assert not (tmp_path / "absent").exists()  # verify creates nothing


# -- moving and copying ------------------------------------------------------------------------


def test_moved_data_dir_keeps_working(
    with_a: tuple[World, str], tmp_path: Path, faults: FaultKit
) -> None:
    """Scenario "data-dir-moved": ``mv data elsewhere``; then the next run there."""
    w, a = with_a
    moved = elsewhere(w, tmp_path / "moved" / "data")
    moved.data_dir.parent.mkdir()
    os.rename(w.data_dir, moved.data_dir)

    # Read-only commands read the bundles by relative paths: they work as they are.
    assert (figure(faults, moved)["release"], figure(faults, moved)["value"]) == (
        a,
        faults.MEDIAN_A,
    )
    listed = faults.bls_refresh("releases", "--data-dir", str(moved.data_dir), w=moved)
    assert listed.returncode == 0 and f"{a} (latest)" in listed.stdout
    # bls.duckdb's views name absolute paths (DuckDB resolves relative ones against the
    # working directory): verify says so, and what to do.
    code, _, err = verify(faults, moved)
    assert code == 1
    faults.assert_names_cause(err, "data-dir-moved")
    with pytest.raises(duckdb.IOException, match=str(w.data_dir)):
        analyst_median(moved.data_dir)

    value_b = faults.bump_median(moved)
    done = run(faults, moved)  # the catalog still records the old data path; the run overrides it

    assert done.returncode == 0, done.stderr
    b = faults.latest_of(moved.data_dir)
    assert b != a
    assert analyst_median(moved.data_dir) == (value_b, b)
    assert absolute_data_files(moved.data_dir) == []
    faults.assert_intact(moved, b)
    assert verify(faults, moved)[0] == 0
    assert not w.data_dir.exists()


def test_copied_data_dir_is_independent(
    with_a: tuple[World, str], tmp_path: Path, faults: FaultKit
) -> None:
    """Scenario "data-dir-copied": ``cp -a data copy``; the copy is rehomed by
    ``verify --repair``, takes an ``ingest`` of its own, and never touches the original."""
    w, a = with_a
    copy = elsewhere(w, tmp_path / "copy")
    subprocess.run(["cp", "-a", str(w.data_dir), str(copy.data_dir)], check=True)
    original_files = lake_files(w.data_dir)

    code, _, err = verify(faults, copy)
    assert code == 1 and f"was built for the data directory {w.data_dir}" in err
    repaired = faults.bls_refresh("verify", "--repair", "--data-dir", str(copy.data_dir), w=copy)
    assert repaired.returncode == 0, repaired.stderr
    faults.assert_names_cause(err + " " + repaired.stdout, "data-dir-copied")
    assert f"rebuilt bls.duckdb for {copy.data_dir}" in faults.one_line(repaired.stdout)
    assert analyst_median(copy.data_dir) == (faults.MEDIAN_A, a)
    con = duckdb.connect(str(copy.paths.analyst_db), read_only=True)
    sqls = [
        r[0] for r in con.execute("SELECT sql FROM duckdb_views() WHERE NOT internal").fetchall()
    ]
    con.close()
    # Views over parquet name the copy's bundles; the series views read only those views.
    over_files = [s for s in sqls if "read_parquet" in s]
    assert over_files and all(str(copy.data_dir / "published") in s for s in over_files)
    assert [s for s in sqls if "read_parquet" not in s]
    assert all("oews_wage_series" in s and "'/" not in s for s in sqls if "read_parquet" not in s)

    # A person ingests a corrected data file into the copy (the lookups come from its release).
    corrected = tmp_path / faults.DATA_FILE
    value_b = faults.bump_median(w)
    shutil.copy2(w.oe_dir / faults.DATA_FILE, corrected)
    done = faults.bls_refresh("ingest", str(corrected), "--data-dir", str(copy.data_dir), w=copy)

    assert done.returncode == 0, done.stderr
    b = faults.latest_of(copy.data_dir)
    assert b != a
    assert analyst_median(copy.data_dir) == (value_b, b)
    assert absolute_data_files(copy.data_dir) == []
    faults.assert_intact(copy, b)
    # The original is untouched: its latest, its lake files, its catalog, its analyst file.
    assert faults.latest_of(w.data_dir) == a
    assert lake_files(w.data_dir) == original_files
    assert lake.release_ids(w.paths) == [a]
    assert analyst_median(w.data_dir) == (faults.MEDIAN_A, a)
    faults.assert_intact(w, a)


# -- the analyst file --------------------------------------------------------------------------


def test_disk_full_while_rebuilding_the_analyst_file(
    with_a: tuple[World, str], faults: FaultKit
) -> None:
    """Scenario "disk-full-analyst-file": B is published and ``latest`` moved; only
    bls.duckdb is behind, and the error says so. The next run rebuilds it."""
    w, a = with_a
    value_b = faults.bump_median(w)
    paths: DataPaths = w.paths
    leftovers: list[Path] = []

    def full_disk(con: duckdb.DuckDBPyConnection, paths: DataPaths) -> None:
        con.execute("CREATE SCHEMA half_written")  # DuckDB's WAL now exists beside the file
        leftovers.extend(p for p in paths.analyst_db_tmps() if p.exists())
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(publish, "_fill_analyst_db", full_disk)
        failed = faults.cli_run(w)

    assert failed.exit_code == 1
    stderr = faults.one_line(failed.stderr)
    faults.assert_names_cause(stderr, "disk-full-analyst-file")
    b = faults.latest_of(w.data_dir)
    assert b != a
    assert f"Release {b} is published and latest → {b}" in stderr
    assert f"the analyst file still shows release {a}" in stderr
    assert [p.name for p in leftovers] == [".bls.duckdb.tmp", ".bls.duckdb.tmp.wal"]
    assert not [p for p in paths.analyst_db_tmps() if p.exists()]  # removed on failure
    assert analyst_median(w.data_dir) == (faults.MEDIAN_A, a)  # the old file, whole
    code, _, err = verify(faults, w)
    assert code == 1 and f"{paths.analyst_db} shows {a}, but latest → {b}" in err

    again = faults.cli_run(w)  # nothing new upstream: recovery alone rebuilds the analyst file

    assert again.exit_code == 0, again.output
    assert f"Nothing changed upstream since release {b}" in again.stdout
    assert analyst_median(w.data_dir) == (value_b, b)
    faults.assert_intact(w, b)
    assert verify(faults, w)[0] == 0
