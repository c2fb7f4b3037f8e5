"""The release step the flows share, its tasks run as plain functions (``.fn``, no Prefect run):
stage under the registry's policy, name a refused file as the user gave it, say why nothing
was released, and put right what an interrupted run left."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from prefect.logging import disable_run_logger

from core.errors import ValidationError
from core.paths import DataPaths
from flows.release import (
    load_release,
    publish_release,
    recover_unpublished,
    release_if_changed,
    stage,
    unchanged_outcome,
    without_local_path,
)
from flows.sources import SOURCES, Files, LoadKey
from warehouse import bundles, load

PROJECTIONS = LoadKey("projections")
WORKBOOK = "www.bls.gov/emp/ind-occ-matrix/occupation.xlsx"


@pytest.fixture(autouse=True)
def no_run_logger() -> Iterator[None]:
    """The tasks log through Prefect's run logger: outside a run it is a null logger."""
    with disable_run_logger():
        yield


@pytest.fixture
def given(
    mirror: Path, manifest_rows: Callable[[dict[str, Path]], dict[str, dict[str, object]]]
) -> Files:
    """The sample mirror's projections workbook as a flow hands it to ``stage``: its manifest
    row, where it sits on this machine and how the user named it."""
    workbook = mirror / WORKBOOK
    (row,) = manifest_rows({"occupation.xlsx": workbook}).values()
    return {
        "occupation.xlsx": {**row, "local_path": str(workbook), "given_as": "~/Downloads/occ.xlsx"}
    }


def committed(paths: DataPaths, files: Files) -> str:
    """The workbook staged and loaded as the next release (not published); its id."""
    rid = load.plan_release_id(paths)
    staged = stage.fn(PROJECTIONS, str(paths.root), rid, files)
    assert load_release.fn(str(paths.root), rid, [staged], False, {}) is not None
    return rid


def test_local_paths_never_reach_a_release() -> None:
    files: Files = {"oe.area": {"url": "u", "sha256": "s", "local_path": "/x", "given_as": "a"}}
    assert without_local_path(files) == {"oe.area": {"url": "u", "sha256": "s"}}
    assert files["oe.area"]["local_path"] == "/x"  # the caller's rows are left alone


def test_a_load_is_staged_under_its_registry_entry_s_policy(
    data_dir: Path, given: Files, sample_projections: int
) -> None:
    staged = stage.fn(PROJECTIONS, str(data_dir), "2026-11-28.1", given)

    assert (staged.kind, staged.vintage) == ("projections", "2024-34")
    assert staged.policy == SOURCES["projections"].policy
    assert staged.rows() == {"projections": sample_projections}
    (table,) = staged.tables
    assert table.path.parent == data_dir / "staging" / "2026-11-28.1" / "projections"
    assert table.replaces == {"cycle": "2024-34"}
    assert set(staged.sources["occupation.xlsx"]) >= {"url", "sha256", "vintage"}
    assert not {"local_path", "given_as"} & set(staged.sources["occupation.xlsx"])


def test_a_refused_file_is_named_as_the_user_gave_it(
    data_dir: Path, given: Files, tmp_path: Path
) -> None:
    html = tmp_path / "occ.xlsx"
    html.write_text("<html><body>Access Denied</body></html>")
    given["occupation.xlsx"]["local_path"] = str(html)
    with pytest.raises(ValidationError) as refused:
        stage.fn(PROJECTIONS, str(data_dir), "2026-11-28.1", given)
    assert refused.value.file == "~/Downloads/occ.xlsx (as occupation.xlsx)"
    assert str(refused.value).startswith("~/Downloads/occ.xlsx (as occupation.xlsx): check ")


def test_without_a_release_nothing_is_released_and_the_outcome_says_why(data_dir: Path) -> None:
    outcome = unchanged_outcome(DataPaths(data_dir), "Nothing changed upstream")
    assert (outcome.changed, outcome.release_id, outcome.bundle) == (False, None, None)
    assert outcome.message == "Nothing changed upstream: no release."


def test_the_same_bytes_again_make_no_release(
    data_dir: Path, given: Files, sample_projections: int
) -> None:
    paths = DataPaths(data_dir)
    rid = committed(paths, given)
    bundle = publish_release.fn(str(data_dir), rid)
    assert bundle == str(paths.published / rid)

    outcome = release_if_changed(paths, {PROJECTIONS: given}, False, "Nothing changed upstream")

    assert not outcome.changed
    assert outcome.message == f"Nothing changed upstream since release {rid}: no new release."
    assert (outcome.release_id, outcome.bundle) == (rid, bundle)
    assert outcome.vintages == {"projections": "2024-34"}
    assert outcome.row_counts["projections"] == sample_projections
    assert bundles.published(paths) == [rid]


def test_recovery_publishes_a_committed_release_and_drops_partial_downloads(
    data_dir: Path, given: Files
) -> None:
    paths = DataPaths(data_dir)
    rid = committed(paths, given)  # then the run "died" before publishing
    partial = paths.raw / "tmp" / "download.part"
    partial.parent.mkdir(parents=True)
    partial.write_bytes(b"half a file")

    done = recover_unpublished.fn(str(data_dir))

    assert done == [
        f"Published release {rid}, which an interrupted run had committed but not published."
    ]
    assert not partial.exists()
    assert bundles.latest(paths) == rid
    assert (paths.published / rid / "figures.json").is_file()  # with the default figures
    assert recover_unpublished.fn(str(data_dir)) == []  # nothing left to put right
