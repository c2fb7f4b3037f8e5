"""The audit: every raw object and bundle file re-hashed, and the catalog, ``latest`` and the
analyst file checked against one another, each problem said in words."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from core.paths import DataPaths
from extractors.rawstore import RawStore, sha256_file
from warehouse import publish
from warehouse.verify import REPAIR, Mismatch, Problem, verify


def test_a_data_dir_that_is_not_there_is_the_one_problem(tmp_path: Path) -> None:
    missing = DataPaths(tmp_path / "nowhere")
    problems, summary = verify(missing)
    assert (problems, summary) == (
        [
            f"data directory {missing.root} does not exist: nothing to verify. Pass --data-dir "
            "(or set BLS_DATA_DIR) to the folder `bls-refresh run` wrote, or make one with "
            "`bls-refresh demo`."
        ],
        [],
    )
    assert isinstance(problems[0], Problem) and problems[0].label == "PROBLEM"
    (tmp_path / "a-file").write_text("")
    problems, _ = verify(DataPaths(tmp_path / "a-file"))
    assert problems == [
        f"{tmp_path / 'a-file'} is not a directory: nothing to verify. Pass --data-dir (or set "
        "BLS_DATA_DIR) to the folder `bls-refresh run` wrote."
    ]


def test_a_published_release_verifies_clean(
    paths: DataPaths, areas_release: Callable[[list[str]], str]
) -> None:
    rid = areas_release(["Alabama", "Alaska"])
    publish.publish(paths, rid)

    problems, summary = verify(paths)

    assert problems == []
    assert summary[0] == f"bundle {rid}: 9 resources re-hashed"  # one per table
    assert summary[2:] == [f"latest → {rid}", "analyst file bls.duckdb: views of this data dir"]
    assert summary[1].startswith("warehouse: 1 release(s), ")


def test_a_bundle_file_changed_after_publishing_is_a_mismatch(
    paths: DataPaths, areas_release: Callable[[list[str]], str]
) -> None:
    rid = areas_release(["Alabama"])
    bundle = publish.publish(paths, rid)
    (bundle / "areas.parquet").chmod(0o644)
    (bundle / "areas.parquet").write_bytes(b"PAR1 edited by hand")
    (bundle / "industries.parquet").unlink()

    problems, _ = verify(paths)

    assert problems == [
        f"bundle {rid}: areas.parquet does not match its sha256 in datapackage.json",
        f"bundle {rid}: industries.parquet is missing",
        # The analyst file's views read the bundle: they name the missing file too.
        f"{paths.analyst_db} names 1 file(s) that do not exist, e.g. "
        f"{bundle.resolve() / 'industries.parquet'}; {REPAIR} rebuilds it",
    ]
    assert [type(p) for p in problems] == [Mismatch, Mismatch, Problem]
    assert problems[0].label == "MISMATCH"


def test_a_raw_object_whose_bytes_differ_from_its_name_is_a_mismatch(
    paths: DataPaths, areas_release: Callable[[list[str]], str]
) -> None:
    publish.publish(paths, areas_release(["Alabama"]))
    store = RawStore(paths.raw)
    kept = []
    for url, body in (("https://x/oe.area", b"area_code\n"), ("https://x/oe.footnote", b"x\n")):
        with store.incoming() as (tmp, writer):
            writer.write(body)
            kept.append(store.keep(tmp, writer, url).sha256)
    rotted = store.object_path(kept[0])
    rotted.chmod(0o644)
    rotted.write_bytes(b"area_code\n0000000\n")  # changed on disk
    store.object_path(kept[1]).unlink()  # a referenced object deleted

    problems, summary = verify(paths)

    assert problems == [
        f"raw object {rotted}: content sha256 {sha256_file(rotted)} differs from its name",
        f"raw manifest names {kept[1]} but the object is missing",
    ]
    assert all(isinstance(p, Mismatch) for p in problems)
    assert summary[0] == "raw store: 1 objects re-hashed, 2 referenced"


def test_latest_missing_or_pointing_at_an_incomplete_bundle(
    paths: DataPaths, areas_release: Callable[[list[str]], str]
) -> None:
    rid = areas_release(["Alabama"])
    publish.publish(paths, rid)
    paths.latest.unlink()
    problems, _ = verify(paths)
    assert problems == [f"{paths.latest} is missing; {REPAIR} points it at the newest release"]

    os.symlink("2000-01-01.1", paths.latest)
    problems, _ = verify(paths)
    assert problems == [
        "latest points at 2000-01-01.1, which is not a complete bundle; "
        "`bls-refresh rollback RELEASE` points it at a complete one",
        f"{paths.analyst_db} shows {rid}, but latest → 2000-01-01.1; {REPAIR} rebuilds it",
    ]


def test_a_release_committed_but_never_published_is_named(
    paths: DataPaths, areas_release: Callable[[list[str]], str]
) -> None:
    """A crash between commit and publish: recovery's job, and verify says which release."""
    rid = areas_release(["Alabama"])
    problems, summary = verify(paths)
    assert problems == [
        f"no release is published in {paths.root} yet; release {rid} is committed in the "
        f"warehouse and {REPAIR} publishes it"
    ]
    assert (
        f"warehouse: release(s) {rid} committed but not published yet; {REPAIR} publishes them"
        in summary
    )


def test_a_bundle_missing_before_a_published_release_is_a_problem(
    paths: DataPaths, two_published: tuple[str, str]
) -> None:
    """Recovery publishes in order: a gap before a published release is a lost bundle."""
    first, second = two_published
    shutil.rmtree(paths.published / first)
    publish.write_analyst_db(paths)  # as a rollback or ingest would rebuild it

    problems, summary = verify(paths)

    assert problems == [
        f"release {first} is in the warehouse, but its bundle is missing from "
        f"{paths.published} although later releases are published (deleted?); {REPAIR} "
        "writes it again from the warehouse"
    ]
    assert not any("committed but not published" in line for line in summary)
    publish.recover(paths)  # what --repair does
    assert verify(paths)[0] == []
    assert os.readlink(paths.latest) == second
