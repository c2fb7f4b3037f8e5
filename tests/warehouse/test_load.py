"""Loading a release: one snapshot per release, scopes replaced, the row-count guard, and
staged files adopted by the lake when they fit it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from core.errors import ValidationError
from core.paths import DataPaths
from core.staging import LoadPolicy, StagedLoad, StagedTable, TablePolicy
from extractors.oews import FILES
from warehouse import lake, load


def test_release_ids_count_up_within_a_day() -> None:
    from datetime import date

    day = date(2026, 11, 28)
    assert load.next_release_id([], day) == "2026-11-28.1"
    assert load.next_release_id(["2026-11-28.1", "2026-11-28.2"], day) == "2026-11-28.3"
    assert load.next_release_id(["2026-11-27.4"], day) == "2026-11-28.1"


def test_one_refresh_is_one_snapshot_named_after_the_release(
    paths: DataPaths,
    release: Callable[..., load.Release],
    sample_estimates: int,
    oe_dir: Path,
) -> None:
    first = release(paths, oe_dir)
    with lake.connect(paths, read_only=True) as con:
        snapshots = con.execute(
            "SELECT snapshot_id FROM lake.snapshots() WHERE commit_message = ?",
            [f"release {first.release_id}"],
        ).fetchall()
        assert len(snapshots) == 1
        assert lake.row_counts(con)["oews_estimates"] == sample_estimates
        assert lake.releases(con)[0]["vintages"] == {"oews": "May 2024"}
        raw = con.execute("SELECT DISTINCT vintage FROM lake.raw_files").fetchall()
        assert raw == [("May 2024",)]


def test_reloading_a_vintage_replaces_its_rows(
    paths: DataPaths,
    release: Callable[..., load.Release],
    sample_estimates: int,
    oe_dir: Path,
    set_median: Callable[[Path, str], None],
    mirror: Path,
) -> None:
    release(paths, oe_dir)
    set_median(mirror, "50260")
    second = release(paths, oe_dir)
    assert second is not None
    assert second.row_counts["oews_estimates"] == sample_estimates  # replaced, not doubled
    assert second.row_counts["releases"] == 2
    assert second.changes["oews_estimates"]["changed"] == {"value": 1}
    assert second.changes["occupations"]["changed"] == {}


def test_a_corrected_lookup_alone_makes_a_release(
    paths: DataPaths, release: Callable[..., load.Release], oe_dir: Path, sample_estimates: int
) -> None:
    """BLS fixes an occupation's title and nothing else: the estimates' cells are all
    unchanged, and the release rewrites the title only."""
    release(paths, oe_dir)
    path = oe_dir / "oe.occupation"
    text = path.read_text(encoding="utf-8")
    assert "\tManagement Occupations\t" in text
    path.write_text(text.replace("\tManagement Occupations\t", "\tManagement occupations\t"))

    second = release(paths, oe_dir)

    assert second is not None
    assert second.changes["occupations"]["changed"] == {"title": 1}
    estimates = second.changes["oews_estimates"]
    assert estimates["changed"] == {} and estimates["cells_changed"] == 0
    with lake.connect(paths, read_only=True) as con:
        assert lake.row_counts(con)["oews_estimates"] == sample_estimates
        title = con.execute("SELECT title FROM lake.occupations WHERE soc_code = '11-0000'")
        assert title.fetchone() == ("Management occupations",)


def test_same_content_again_makes_no_release(
    paths: DataPaths, release: Callable[..., load.Release], oe_dir: Path
) -> None:
    release(paths, oe_dir)
    assert release(paths, oe_dir) is None
    with lake.connect(paths, read_only=True) as con:
        assert len(lake.releases(con)) == 1


def test_row_count_guard(
    paths: DataPaths, release: Callable[..., load.Release], oe_dir: Path
) -> None:
    release(paths, oe_dir)
    data = oe_dir / "oe.data.0.Current"
    lines = data.read_text().splitlines(keepends=True)
    data.write_text("".join(lines[: len(lines) // 2]))
    with pytest.raises(ValidationError, match="row count within"):
        release(paths, oe_dir)
    assert release(paths, oe_dir, allow_row_count_change=True).loaded["oews"]["oews_estimates"] == (
        len(lines) // 2 - 1
    )


def test_projections_guard_catches_a_collapse_but_not_growth(
    paths: DataPaths,
    mirror: Path,
    shared_samples: Path,
    staged_projections: Callable[[Path, DataPaths, str], load.StagedLoad],
) -> None:
    def ep_release(workbook: Path) -> load.Release | None:
        rid = load.plan_release_id(paths)
        return load.load_release(paths, rid, [staged_projections(workbook, paths, rid)])

    sample = mirror / "www.bls.gov/emp/ind-occ-matrix/occupation.xlsx"
    real = shared_samples / "ep/occupation_2024-34.xlsx"
    assert ep_release(sample) is not None  # SAMPLE_PROJECTIONS rows
    assert ep_release(real) is not None  # 1,113 rows: the full workbook after the sample
    with pytest.raises(ValidationError, match="row count within −20%"):
        ep_release(sample)  # back to SAMPLE_PROJECTIONS rows of the same cycle: a collapse


def test_recorded_row_counts_are_the_lake_counts_after_each_kind_of_load(
    paths: DataPaths,
    mirror: Path,
    release: Callable[..., load.Release],
    sample_estimates: int,
    oe_dir: Path,
    lake_counts: Callable[[DataPaths], dict[str, int]],
    staged_projections: Callable[[Path, DataPaths, str], load.StagedLoad],
    set_median: Callable[[Path, str], None],
) -> None:
    first = release(paths, oe_dir)  # a new lake: nothing counted in it before loading
    assert first.row_counts == lake_counts(paths)
    assert first.row_counts["oews_estimates"] == sample_estimates
    assert first.row_counts["raw_files"] == len(FILES)

    set_median(mirror, "50260")
    replaced = release(paths, oe_dir)  # the same vintage again: its rows replaced
    assert replaced.row_counts == lake_counts(paths)

    workbook = mirror / "www.bls.gov/emp/ind-occ-matrix/occupation.xlsx"
    rid = load.plan_release_id(paths)
    staged = staged_projections(workbook, paths, rid)
    other_kind = load.load_release(paths, rid, [staged])  # another source beside OEWS
    assert other_kind is not None
    assert other_kind.row_counts == lake_counts(paths)
    assert other_kind.row_counts["oews_estimates"] == sample_estimates
    assert other_kind.row_counts["releases"] == 3


def test_a_first_load_that_fails_leaves_a_lake_that_reads_as_empty(
    paths: DataPaths,
    staged_from: Callable[[Path, DataPaths, str], load.StagedLoad],
    release: Callable[..., load.Release],
    oe_dir: Path,
    lake_counts: Callable[[DataPaths], dict[str, int]],
) -> None:
    rid = load.plan_release_id(paths)
    staged = staged_from(oe_dir, paths, rid)
    (paths.staging / rid / "areas.parquet").unlink()  # the load fails inside its transaction
    with pytest.raises(duckdb.Error):
        load.load_release(paths, rid, [staged])

    assert paths.catalog.exists()
    assert load.latest_release(paths) is None  # no tables yet, read as no releases
    made = release(paths, oe_dir)
    assert made.release_id == rid
    assert made.row_counts == lake_counts(paths)


def test_one_table_staged_twice_in_a_release_keeps_one_row_per_key(
    paths: DataPaths, lake_counts: Callable[[DataPaths], dict[str, int]]
) -> None:
    import pandas as pd

    from core.staging import stage_frame

    upsert = LoadPolicy({"areas": TablePolicy(upsert=True)}, guarded_table="areas")

    def areas_load(kind: str, names: list[str], out: Path, rid: str) -> StagedLoad:
        frame = pd.DataFrame(
            {
                "area_code": ["0000000", "0600000"][: len(names)],
                "area_type": ["N", "S"][: len(names)],
                "state_code": ["00", "06"][: len(names)],
                "name": names,
            }
        )
        table = stage_frame(frame, "areas", out / kind, rid, {})
        return upsert.attach(StagedLoad(kind, kind, [table], {}))

    rid = load.plan_release_id(paths)
    loads = [
        areas_load("first", ["National", "California"], paths.staging, rid),
        areas_load("second", ["U.S."], paths.staging, rid),  # upserts a key the first added
    ]
    made = load.load_release(paths, rid, loads)

    assert made.row_counts["areas"] == 2 == lake_counts(paths)["areas"]
    with lake.connect(paths, read_only=True) as con:
        rows = con.execute("SELECT area_code, name FROM lake.areas ORDER BY 1").fetchall()
    assert rows == [("0000000", "U.S."), ("0600000", "California")]


@pytest.mark.parametrize(
    ("edit", "upsert", "adopted"),
    [
        ("SELECT * FROM staged", False, True),  # the lake's exact schema, the whole scope
        ("SELECT * REPLACE (CAST(value AS DOUBLE) AS value) FROM staged", False, False),
        ("SELECT * EXCLUDE (release_id), release_id FROM staged", False, True),  # same order
        ("SELECT release_id, * EXCLUDE (release_id) FROM staged", False, False),  # other order
        ("SELECT * FROM staged", True, False),  # an upsert keeps the scope's other rows
    ],
)
def test_the_lake_adopts_a_staged_file_only_with_its_schema_over_its_whole_scope(
    paths: DataPaths,
    edit: str,
    upsert: bool,
    adopted: bool,
    big_estimates: Callable[..., Path],
    edit_staged: Callable[[Path, str], int],
    lake_value: Callable[[DataPaths, str, str, str], object],
    absolute_files: Callable[[DataPaths], list[str]],
) -> None:
    rid = load.plan_release_id(paths)
    staged = big_estimates(paths.staging / rid / "e.parquet", rid, areas=4, occupations=2)
    rows = edit_staged(staged, edit)
    policy = LoadPolicy(
        {"oews_estimates": TablePolicy(scope=("reference_year",), upsert=upsert)},
        guarded_table="oews_estimates",
    )
    table = StagedTable("oews_estimates", staged, rows, {"reference_year": 2024})
    made = load.load_release(
        paths, rid, [policy.attach(StagedLoad("oews", "May 2024", [table], {}))]
    )

    assert made is not None and made.row_counts["oews_estimates"] == rows == 136
    moved = list(paths.lake_table_dir("oews_estimates").glob("staged-*.parquet"))
    assert (len(moved), staged.exists()) == ((1, False) if adopted else (0, True))
    assert lake_value(paths, "29-1001", "0010001", "employment") == 1018  # the same rows
    assert absolute_files(paths) == []


def test_a_load_without_its_source_s_policy_is_refused(paths: DataPaths, oe_dir: Path) -> None:
    from transforms.oews import stage_oews

    files = {name: oe_dir / name for name in FILES}
    bare = stage_oews(files, paths.staging / "r", release_id="r", sources={})
    with pytest.raises(ValueError, match="the oews load has no load policy"):
        load.load_release(paths, "r", [bare])
    assert not paths.catalog.exists()  # refused before the lake was opened
