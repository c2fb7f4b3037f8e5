"""Warehouse and publish, without Prefect: real DuckLake files, real bundles."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pytest
from conftest import OE_DIR, SAMPLE_ESTIMATES
from releases import manifest_rows

from core.errors import ValidationError
from core.paths import DataPaths
from core.staging import LoadPolicy, StagedLoad, StagedTable, TablePolicy
from extractors.oews import FILES
from extractors.rawstore import sha256_file
from figures.spec import bundle_writer
from flows.sources import SOURCES
from warehouse import bundles, lake, load, publish


def staged_from(oe_dir: Path, paths: DataPaths, release_id: str) -> load.StagedLoad:
    """The OEWS load of ``oe_dir``, staged under its registry entry's load policy."""
    files = {name: oe_dir / name for name in FILES}
    return SOURCES["oews"].stage(
        files, paths.staging / release_id, release_id, manifest_rows(files)
    )


def staged_projections(workbook: Path, paths: DataPaths, release_id: str) -> load.StagedLoad:
    source = {"occupation.xlsx": {"url": "file://x", "sha256": sha256_file(workbook), "bytes": 1}}
    return SOURCES["projections"].stage(
        {"occupation.xlsx": workbook}, paths.staging / release_id, release_id, source
    )


def bump_value(oe_dir: Path, new: str = "50260") -> None:
    """BLS republishes with one figure changed (29-2072 national annual median)."""
    path = oe_dir / "oe.data.0.Current"
    sid = "OEUN000000000000029207213     \t2024\tA01\t"
    text = path.read_text()
    start = text.index(sid) + len(sid)
    path.write_text(text[:start] + new.rjust(12) + text[start + 12 :])


@pytest.fixture
def paths(data_dir: Path) -> DataPaths:
    return DataPaths(data_dir)


def release(paths: DataPaths, oe_dir: Path, **kwargs: object) -> load.Release:
    rid = load.plan_release_id(paths)
    made = load.load_release(paths, rid, [staged_from(oe_dir, paths, rid)], **kwargs)  # type: ignore[arg-type]
    return made  # type: ignore[return-value]


def test_release_ids_count_up_within_a_day() -> None:
    from datetime import date

    day = date(2026, 11, 28)
    assert load.next_release_id([], day) == "2026-11-28.1"
    assert load.next_release_id(["2026-11-28.1", "2026-11-28.2"], day) == "2026-11-28.3"
    assert load.next_release_id(["2026-11-27.4"], day) == "2026-11-28.1"


def test_one_refresh_is_one_snapshot_named_after_the_release(
    paths: DataPaths, mirror: Path
) -> None:
    first = release(paths, mirror / OE_DIR)
    with lake.connect(paths, read_only=True) as con:
        snapshots = con.execute(
            "SELECT snapshot_id FROM lake.snapshots() WHERE commit_message = ?",
            [f"release {first.release_id}"],
        ).fetchall()
        assert len(snapshots) == 1
        assert lake.row_counts(con)["oews_estimates"] == SAMPLE_ESTIMATES
        assert lake.releases(con)[0]["vintages"] == {"oews": "May 2024"}
        raw = con.execute("SELECT DISTINCT vintage FROM lake.raw_files").fetchall()
        assert raw == [("May 2024",)]


def test_reloading_a_vintage_replaces_its_rows(paths: DataPaths, mirror: Path) -> None:
    release(paths, mirror / OE_DIR)
    bump_value(mirror / OE_DIR)
    second = release(paths, mirror / OE_DIR)
    assert second is not None
    assert second.row_counts["oews_estimates"] == SAMPLE_ESTIMATES  # replaced, not doubled
    assert second.row_counts["releases"] == 2
    assert second.changes["oews_estimates"]["changed"] == {"value": 1}
    assert second.changes["occupations"]["changed"] == {}


def test_same_content_again_makes_no_release(paths: DataPaths, mirror: Path) -> None:
    release(paths, mirror / OE_DIR)
    assert release(paths, mirror / OE_DIR) is None
    with lake.connect(paths, read_only=True) as con:
        assert len(lake.releases(con)) == 1


def test_row_count_guard(paths: DataPaths, mirror: Path) -> None:
    oe_dir = mirror / OE_DIR
    release(paths, oe_dir)
    data = oe_dir / "oe.data.0.Current"
    lines = data.read_text().splitlines(keepends=True)
    data.write_text("".join(lines[: len(lines) // 2]))
    with pytest.raises(ValidationError, match="row count within"):
        release(paths, oe_dir)
    assert release(paths, oe_dir, allow_row_count_change=True).loaded["oews"]["oews_estimates"] == (
        len(lines) // 2 - 1
    )


def test_publish_writes_a_verifiable_bundle_and_moves_latest(
    paths: DataPaths, mirror: Path
) -> None:
    first = release(paths, mirror / OE_DIR)
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
    assert f"| oews_estimates | {SAMPLE_ESTIMATES:,} | new |" in notes
    assert "OEWS: May 2024 (new in this release)" in notes


def test_crash_between_commit_and_publish_is_recovered(paths: DataPaths, mirror: Path) -> None:
    first = release(paths, mirror / OE_DIR)
    publish.publish(paths, first.release_id, extras=[bundle_writer()])
    bump_value(mirror / OE_DIR)
    second = release(paths, mirror / OE_DIR)  # committed, then the process "died"
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
    assert f"| oews_estimates | {SAMPLE_ESTIMATES:,} | +0 |" in notes


def test_analyst_file_shows_latest_and_every_release(paths: DataPaths, mirror: Path) -> None:
    first = release(paths, mirror / OE_DIR)
    publish.publish(paths, first.release_id, extras=[bundle_writer()])
    bump_value(mirror / OE_DIR)
    second = release(paths, mirror / OE_DIR)
    publish.publish(paths, second.release_id, extras=[bundle_writer()])

    con = duckdb.connect(str(paths.analyst_db), read_only=True)
    latest_ids = con.execute(
        "SELECT release_id, count(*) FROM oews_estimates GROUP BY 1 ORDER BY 1"
    ).fetchall()
    # A revision rewrites only the cell that changed (29-2072, national, all industries: its
    # 17 measures); every other row keeps the release that loaded it.
    assert latest_ids == [(first.release_id, SAMPLE_ESTIMATES - 17), (second.release_id, 17)]
    revised = con.execute(
        "SELECT DISTINCT release_id FROM oews_estimates WHERE soc_code = '29-2072' "
        "AND area_code = '0000000' AND industry_code = '000000'"
    ).fetchall()
    assert revised == [(second.release_id,)]
    older = con.execute(f'SELECT DISTINCT release_id FROM "{first.release_id}".oews_estimates')
    assert older.fetchall() == [(first.release_id,)]
    con.close()


def test_projections_guard_catches_a_collapse_but_not_growth(
    paths: DataPaths, mirror: Path, shared_samples: Path
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


def lake_counts(paths: DataPaths) -> dict[str, int]:
    with lake.connect(paths, read_only=True) as con:
        return lake.row_counts(con)


def test_recorded_row_counts_are_the_lake_counts_after_each_kind_of_load(
    paths: DataPaths, mirror: Path
) -> None:
    oe_dir = mirror / OE_DIR
    first = release(paths, oe_dir)  # a new lake: nothing counted in it before loading
    assert first.row_counts == lake_counts(paths)
    assert first.row_counts["oews_estimates"] == SAMPLE_ESTIMATES
    assert first.row_counts["raw_files"] == len(FILES)

    bump_value(oe_dir)
    replaced = release(paths, oe_dir)  # the same vintage again: its rows replaced
    assert replaced.row_counts == lake_counts(paths)

    workbook = mirror / "www.bls.gov/emp/ind-occ-matrix/occupation.xlsx"
    rid = load.plan_release_id(paths)
    staged = staged_projections(workbook, paths, rid)
    other_kind = load.load_release(paths, rid, [staged])  # another source beside OEWS
    assert other_kind is not None
    assert other_kind.row_counts == lake_counts(paths)
    assert other_kind.row_counts["oews_estimates"] == SAMPLE_ESTIMATES
    assert other_kind.row_counts["releases"] == 3


def test_publish_refuses_counts_that_disagree_with_the_snapshot(
    paths: DataPaths, mirror: Path
) -> None:
    made = release(paths, mirror / OE_DIR)
    with lake.connect(paths) as con:  # bookkeeping gone wrong, simulated
        con.execute("UPDATE lake.releases SET row_counts = ?", [json.dumps({"areas": 5})])

    with pytest.raises(RuntimeError, match="areas 5 recorded, 4 exported"):
        publish.publish(paths, made.release_id, extras=[bundle_writer()])
    assert not paths.latest.exists()
    assert not bundles.is_published(paths, made.release_id)


def test_a_first_load_that_fails_leaves_a_lake_that_reads_as_empty(
    paths: DataPaths, mirror: Path
) -> None:
    rid = load.plan_release_id(paths)
    staged = staged_from(mirror / OE_DIR, paths, rid)
    (paths.staging / rid / "areas.parquet").unlink()  # the load fails inside its transaction
    with pytest.raises(duckdb.Error):
        load.load_release(paths, rid, [staged])

    assert paths.catalog.exists()
    assert load.latest_release(paths) is None  # no tables yet, read as no releases
    made = release(paths, mirror / OE_DIR)
    assert made.release_id == rid
    assert made.row_counts == lake_counts(paths)


def test_one_table_staged_twice_in_a_release_keeps_one_row_per_key(paths: DataPaths) -> None:
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


# --- exact change detection at every size -----------------------------------------------------

MEASURE_NAMES = [
    "employment", "employment_prse", "hourly_mean", "annual_mean", "mean_prse", "hourly_p10",
    "hourly_p25", "hourly_median", "hourly_p75", "hourly_p90", "annual_p10", "annual_p25",
    "annual_median", "annual_p75", "annual_p90", "jobs_per_1000", "location_quotient",
]  # fmt: skip


def big_estimates(out: Path, rid: str, *, areas: int = 600, occupations: int = 30) -> Path:
    """A staged oews_estimates file of areas × occupations × 17 measures (306,000 rows by
    default: more than any size a shortcut might treat differently), typed like the lake."""
    out.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    columns = ", ".join(f"{c}::{t} AS {c}" for c, t in lake.TABLES["oews_estimates"].items())
    con.execute(
        f"""COPY (
          SELECT {columns} FROM (
            SELECT 2024 AS reference_year, 'May 2024' AS reference_period, 'M' AS areatype_code,
                   lpad(CAST(10000 + a AS VARCHAR), 7, '0') AS area_code, '000000' AS industry_code,
                   'all' AS ownership, printf('29-%04d', 1000 + o) AS soc_code, m AS measure,
                   (a * 1000 + o * 17 + k)::DECIMAL(18,3) AS value, 'ok' AS status,
                   NULL AS top_code_threshold, NULL AS footnote_codes, '{rid}' AS release_id
            FROM range({areas}) r(a), range({occupations}) q(o),
                 (SELECT unnest($m) AS m, generate_subscripts($m, 1) AS k)
          )
        ) TO '{out}' (FORMAT parquet)""",
        {"m": MEASURE_NAMES},
    )
    con.close()
    return out


def edit_staged(path: Path, sql: str) -> int:
    """Rewrite a staged file through ``sql`` over ``staged``; return its row count."""
    tmp = path.with_suffix(".tmp.parquet")
    con = duckdb.connect()
    con.execute(f"CREATE VIEW staged AS SELECT * FROM read_parquet('{path}')")
    con.execute(f"COPY ({sql}) TO '{tmp}' (FORMAT parquet)")
    rows = con.execute(f"SELECT count(*) FROM read_parquet('{tmp}')").fetchone()[0]
    con.close()
    os.replace(tmp, path)
    return rows


ESTIMATES_ONLY = LoadPolicy(
    {"oews_estimates": TablePolicy(scope=("reference_year",))}, guarded_table="oews_estimates"
)


def big_load(path: Path, rows: int) -> StagedLoad:
    table = StagedTable("oews_estimates", path, rows, {"reference_year": 2024})
    return ESTIMATES_ONLY.attach(StagedLoad("oews", "May 2024", [table], {}))


def lake_value(paths: DataPaths, soc: str, area: str, measure: str) -> object:
    with lake.connect(paths, read_only=True) as con:
        return con.execute(
            "SELECT value FROM lake.oews_estimates WHERE soc_code = ? AND area_code = ? "
            "AND measure = ?",
            [soc, area, measure],
        ).fetchone()[0]


def test_one_changed_value_in_a_large_table_makes_a_release_naming_it(paths: DataPaths) -> None:
    rid = load.plan_release_id(paths)
    first = big_estimates(paths.staging / rid / "oews_estimates.parquet", rid)
    made = load.load_release(paths, rid, [big_load(first, 306_000)])
    assert made.row_counts["oews_estimates"] == 306_000
    publish.publish(paths, rid, extras=[bundle_writer()])

    rid2 = load.plan_release_id(paths)
    second = big_estimates(paths.staging / rid2 / "oews_estimates.parquet", rid2)
    rows = edit_staged(
        second,
        "SELECT * REPLACE (CASE WHEN soc_code = '29-1007' AND area_code = '0010123' "
        "AND measure = 'annual_median' THEN 51150 ELSE value END AS value) FROM staged",
    )
    old = lake_value(paths, "29-1007", "0010123", "annual_median")
    revised = load.load_release(paths, rid2, [big_load(second, rows)])

    assert revised is not None, "a revised value must make a release"
    change = revised.changes["oews_estimates"]
    assert (change["added"], change["removed"], change["changed"]) == (0, 0, {"value": 1})
    assert change["cells_changed"] == 1
    assert change["examples"] == [
        {
            "key": {
                "reference_year": 2024,
                "area_code": "0010123",
                "industry_code": "000000",
                "ownership": "all",
                "soc_code": "29-1007",
                "measure": "annual_median",
            },
            "changes": {"value": [str(int(old)), "51150"]},
        }
    ]
    assert lake_value(paths, "29-1007", "0010123", "annual_median") == 51150
    assert revised.row_counts["oews_estimates"] == 306_000 == lake_counts(paths)["oews_estimates"]
    with lake.connect(paths, read_only=True) as con:
        # Only the changed cell was rewritten: its 17 rows carry the new release.
        by_release = dict(
            con.execute(
                "SELECT release_id, count(*) FROM lake.oews_estimates GROUP BY 1"
            ).fetchall()
        )
    assert by_release == {rid: 306_000 - 17, rid2: 17}
    bundle = publish.publish(paths, rid2, extras=[bundle_writer()])
    notes = (bundle / "RELEASE_NOTES.md").read_text()
    assert "29-1007" in notes and "51150" in notes, notes


def test_added_removed_and_status_changes_are_all_found(paths: DataPaths) -> None:
    rid = load.plan_release_id(paths)
    first = big_estimates(paths.staging / rid / "e.parquet", rid, areas=50, occupations=20)
    load.load_release(paths, rid, [big_load(first, 17_000)])

    rid2 = load.plan_release_id(paths)
    second = big_estimates(paths.staging / rid2 / "e.parquet", rid2, areas=50, occupations=20)
    rows = edit_staged(
        second,
        # one cell loses a measure, another measure turns suppressed, one occupation is new
        "SELECT * FROM staged WHERE NOT (soc_code = '29-1003' AND area_code = '0010004' "
        "AND measure = 'hourly_p90') "
        "UNION ALL SELECT * REPLACE ('29-1999' AS soc_code) FROM staged "
        "WHERE soc_code = '29-1000' AND area_code = '0010000'",
    )
    rows = edit_staged(
        second,
        "SELECT * REPLACE (CASE WHEN soc_code = '29-1010' AND area_code = '0010040' AND "
        "measure = 'employment' THEN NULL ELSE value END AS value, CASE WHEN soc_code = "
        "'29-1010' AND area_code = '0010040' AND measure = 'employment' THEN 'suppressed' "
        "ELSE status END AS status) FROM staged",
    )
    revised = load.load_release(paths, rid2, [big_load(second, rows)])
    change = revised.changes["oews_estimates"]
    assert change["added"] == 17
    assert change["removed"] == 1
    assert change["changed"] == {"status": 1, "value": 1}
    assert change["cells_changed"] == 3
    assert lake_counts(paths)["oews_estimates"] == rows == revised.row_counts["oews_estimates"]
    assert lake_value(paths, "29-1010", "0010040", "employment") is None


def test_a_lake_without_stored_cells_still_finds_the_revision(paths: DataPaths) -> None:
    rid = load.plan_release_id(paths)
    first = big_estimates(paths.staging / rid / "e.parquet", rid, areas=40, occupations=10)
    load.load_release(paths, rid, [big_load(first, 6_800)])
    with lake.connect(paths) as con:  # as a lake written before cells were kept
        con.execute("DELETE FROM lake.oews_estimates_cells")

    rid2 = load.plan_release_id(paths)
    second = big_estimates(paths.staging / rid2 / "e.parquet", rid2, areas=40, occupations=10)
    rows = edit_staged(
        second,
        "SELECT * REPLACE (CASE WHEN soc_code = '29-1001' AND area_code = '0010001' "
        "AND measure = 'employment' THEN 1 ELSE value END AS value) FROM staged",
    )
    revised = load.load_release(paths, rid2, [big_load(second, rows)])
    assert revised.changes["oews_estimates"]["changed"] == {"value": 1}
    # Cells recomputed from the lake's rows equal the staged file's: only one differs.
    assert revised.changes["oews_estimates"]["cells_changed"] == 1
    assert lake_value(paths, "29-1001", "0010001", "employment") == 1
    with lake.connect(paths, read_only=True) as con:
        stored = con.execute("SELECT sum(n) FROM lake.oews_estimates_cells").fetchone()[0]
    assert stored == 6_800  # every cell is stored again

    rid3 = load.plan_release_id(paths)
    third = big_estimates(paths.staging / rid3 / "e.parquet", rid3, areas=40, occupations=10)
    edit_staged(third, "SELECT * FROM staged")
    assert load.load_release(paths, rid3, [big_load(third, 6_800)]) is not None  # 1 → back
    rid4 = load.plan_release_id(paths)
    fourth = big_estimates(paths.staging / rid4 / "e.parquet", rid4, areas=40, occupations=10)
    assert load.load_release(paths, rid4, [big_load(fourth, 6_800)]) is None  # same again


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
    paths: DataPaths, edit: str, upsert: bool, adopted: bool
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
    assert _absolute_files(paths) == []


def test_a_load_without_its_source_s_policy_is_refused(paths: DataPaths, mirror: Path) -> None:
    from transforms.oews import stage_oews

    files = {name: mirror / OE_DIR / name for name in FILES}
    bare = stage_oews(files, paths.staging / "r", release_id="r", sources={})
    with pytest.raises(ValueError, match="the oews load has no load policy"):
        load.load_release(paths, "r", [bare])
    assert not paths.catalog.exists()  # refused before the lake was opened


def test_cells_from_the_transform_equal_the_warehouse_s(paths: DataPaths, mirror: Path) -> None:
    """The OEWS transform digests cells in its duplicate check; the warehouse digests a
    staged file itself when no cells come with it. Both must agree, or every reload would
    look changed (and a revision could hide behind a mismatch nobody notices)."""
    from warehouse import changes

    staged = staged_from(mirror / OE_DIR, paths, "r1")
    (estimates,) = [t for t in staged.tables if t.table == "oews_estimates"]
    assert estimates.cells is not None and estimates.cells.exists()
    con = duckdb.connect()
    by_transform = con.execute(
        f"SELECT * FROM read_parquet('{estimates.cells}') ORDER BY ALL"
    ).fetchall()
    by_warehouse = con.execute(
        changes.cells_sql("oews_estimates", f"read_parquet('{estimates.path}')", cast=True).replace(
            "GROUP BY ALL", "GROUP BY ALL ORDER BY ALL"
        )
    ).fetchall()
    assert len(by_transform) == 179  # the mirror's series groups (README of sample_mirror)
    assert by_transform == by_warehouse


def test_release_ids_from_the_catalog_equal_the_releases_table(
    paths: DataPaths, mirror: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert lake.release_ids(paths) == []
    first = release(paths, mirror / OE_DIR)
    bump_value(mirror / OE_DIR)
    second = release(paths, mirror / OE_DIR)
    with lake.connect(paths, read_only=True) as con:
        recorded = [r["release_id"] for r in lake.releases(con)]
    assert lake.release_ids(paths) == recorded == [first.release_id, second.release_id]
    # A catalog in another format version is read through DuckLake, with the same answer.
    monkeypatch.setattr(lake, "CATALOG_VERSION", "0.0-unknown")
    assert lake.release_ids(paths) == recorded


# -- the data dir as a whole: atomic catalog creation, relocation, the analyst file ---------------


def _absolute_files(paths: DataPaths) -> list[str]:
    import contextlib
    import sqlite3

    with contextlib.closing(sqlite3.connect(paths.catalog)) as db:
        return [
            r[0]
            for r in db.execute("SELECT path FROM ducklake_data_file WHERE NOT path_is_relative")
        ]


def test_a_lake_moves_with_its_data_dir(tmp_path: Path, mirror: Path) -> None:
    """Adopted files are recorded relative to the data path, and every attach overrides the
    absolute data path the catalog recorded at creation: the moved lake reads and writes."""
    paths = DataPaths(tmp_path / "a" / "data")
    first = release(paths, mirror / OE_DIR)
    assert _absolute_files(paths) == []
    assert not paths.catalog_tmps()  # created under a temporary name, renamed into place

    moved = DataPaths(tmp_path / "b" / "data")
    moved.root.parent.mkdir()
    os.rename(paths.root, moved.root)
    assert lake.release_ids(moved) == [first.release_id]
    with lake.connect(moved, read_only=True) as con:
        assert lake.row_counts(con) == first.row_counts  # reads the files where they are now
    bump_value(mirror / OE_DIR)
    second = release(moved, mirror / OE_DIR)  # a writer attach in the new place

    assert second.row_counts == lake_counts(moved)
    assert _absolute_files(moved) == []
    assert not (tmp_path / "a" / "data").exists()  # nothing written where it was


def test_a_half_created_catalog_is_recreated_and_a_used_one_never(
    paths: DataPaths, mirror: Path
) -> None:
    from core.errors import CatalogError

    paths.warehouse.mkdir(parents=True)
    paths.catalog.write_bytes(b"")  # DuckLake killed before its creation committed
    paths.catalog.with_name("catalog.sqlite-journal").write_bytes(b"")
    assert lake.catalog_state(paths).kind == "half-created"
    assert lake.release_ids(paths) == []

    made = release(paths, mirror / OE_DIR)

    assert lake.release_ids(paths) == [made.release_id]
    assert lake.catalog_state(paths).kind == "ready"
    publish.publish(paths, made.release_id, extras=[bundle_writer()])

    # Once releases exist, an unusable catalog is kept byte for byte and nothing replaces it.
    original = paths.catalog.read_bytes()
    paths.catalog.write_bytes(b"garbage" * 100)
    with pytest.raises(CatalogError, match="it is kept as it is"):
        release(paths, mirror / OE_DIR)
    assert paths.catalog.read_bytes() == b"garbage" * 100
    paths.catalog.unlink()
    with pytest.raises(CatalogError, match=r"is missing, but .* holds 1 release"):
        release(paths, mirror / OE_DIR)
    assert not paths.catalog.exists()
    paths.catalog.write_bytes(original)
    assert lake.release_ids(paths) == [made.release_id]


def test_a_failed_analyst_file_rebuild_says_what_is_published(
    paths: DataPaths, mirror: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from core.errors import AnalystFileError

    first = release(paths, mirror / OE_DIR)
    publish.publish(paths, first.release_id, extras=[bundle_writer()])
    bump_value(mirror / OE_DIR)
    second = release(paths, mirror / OE_DIR)

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
