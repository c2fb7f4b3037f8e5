"""What a load changes: exact at every size, cell digests for big tables, rows elsewhere."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from core.paths import DataPaths
from core.staging import StagedLoad, StagedTable
from figures.spec import bundle_writer
from warehouse import changes, lake, load, publish

# --- exact change detection at every size -------------------------------------------------------


def test_one_changed_value_in_a_large_table_makes_a_release_naming_it(
    paths: DataPaths,
    lake_counts: Callable[[DataPaths], dict[str, int]],
    big_estimates: Callable[..., Path],
    edit_staged: Callable[[Path, str], int],
    big_load: Callable[[Path, int], StagedLoad],
    lake_value: Callable[[DataPaths, str, str, str], object],
) -> None:
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


def test_the_same_footnote_added_to_two_rows_of_a_cell_makes_a_release(
    paths: DataPaths,
    big_estimates: Callable[..., Path],
    edit_staged: Callable[[Path, str], int],
    big_load: Callable[[Path, int], StagedLoad],
) -> None:
    # The footnote is the digest's last column: a row hash that took it in linearly let the
    # XOR over the cell cancel the same change made to two rows, and no release was made.
    rid = load.plan_release_id(paths)
    first = big_estimates(paths.staging / rid / "oews_estimates.parquet", rid)
    load.load_release(paths, rid, [big_load(first, 306_000)])
    publish.publish(paths, rid, extras=[bundle_writer()])

    rid2 = load.plan_release_id(paths)
    second = big_estimates(paths.staging / rid2 / "oews_estimates.parquet", rid2)
    rows = edit_staged(
        second,
        "SELECT * REPLACE (CASE WHEN soc_code = '29-1007' AND area_code = '0010123' "
        "AND measure IN ('hourly_mean', 'annual_mean') THEN '4' ELSE footnote_codes END "
        "AS footnote_codes) FROM staged",
    )
    revised = load.load_release(paths, rid2, [big_load(second, rows)])

    assert revised is not None, "a footnote added to two rows must make a release"
    change = revised.changes["oews_estimates"]
    assert (change["added"], change["removed"], change["changed"]) == (
        0,
        0,
        {"footnote_codes": 2},
    )
    assert change["cells_changed"] == 1
    with lake.connect(paths, read_only=True) as con:
        stored = con.execute(
            "SELECT measure, footnote_codes FROM lake.oews_estimates WHERE soc_code = '29-1007' "
            "AND area_code = '0010123' AND footnote_codes IS NOT NULL ORDER BY 1"
        ).fetchall()
    assert stored == [("annual_mean", "4"), ("hourly_mean", "4")]


def test_added_removed_and_status_changes_are_all_found(
    paths: DataPaths,
    lake_counts: Callable[[DataPaths], dict[str, int]],
    big_estimates: Callable[..., Path],
    edit_staged: Callable[[Path, str], int],
    big_load: Callable[[Path, int], StagedLoad],
    lake_value: Callable[[DataPaths, str, str, str], object],
) -> None:
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


@pytest.mark.parametrize(
    "stored",
    [
        "DELETE FROM lake.oews_estimates_cells",  # a lake written before cells were kept
        # digests computed another way (before each row's hash was hashed again): every
        # cell looks changed, and the rows decide
        "UPDATE lake.oews_estimates_cells SET digest = digest // 2",
    ],
    ids=["no stored cells", "digests of an older version"],
)
def test_a_lake_without_usable_stored_cells_still_finds_only_the_revision(
    paths: DataPaths,
    big_estimates: Callable[..., Path],
    edit_staged: Callable[[Path, str], int],
    big_load: Callable[[Path, int], StagedLoad],
    lake_value: Callable[[DataPaths, str, str, str], object],
    stored: str,
) -> None:
    rid = load.plan_release_id(paths)
    first = big_estimates(paths.staging / rid / "e.parquet", rid, areas=40, occupations=10)
    load.load_release(paths, rid, [big_load(first, 6_800)])
    with lake.connect(paths) as con:
        con.execute(stored)

    rid2 = load.plan_release_id(paths)
    second = big_estimates(paths.staging / rid2 / "e.parquet", rid2, areas=40, occupations=10)
    rows = edit_staged(
        second,
        "SELECT * REPLACE (CASE WHEN soc_code = '29-1001' AND area_code = '0010001' "
        "AND measure = 'employment' THEN 1 ELSE value END AS value) FROM staged",
    )
    revised = load.load_release(paths, rid2, [big_load(second, rows)])
    change = revised.changes["oews_estimates"]
    assert (change["added"], change["removed"], change["changed"]) == (0, 0, {"value": 1})
    if stored.startswith("DELETE"):
        # Cells recomputed from the lake's rows equal the staged file's: only one differs.
        assert change["cells_changed"] == 1
    assert lake_value(paths, "29-1001", "0010001", "employment") == 1
    with lake.connect(paths, read_only=True) as con:
        kept = con.execute("SELECT * FROM lake.oews_estimates_cells ORDER BY ALL").fetchall()
        fresh = con.execute(
            changes.cells_sql("oews_estimates", "lake.oews_estimates", cast=False) + " ORDER BY ALL"
        ).fetchall()
    assert kept == fresh and sum(c[4] for c in kept) == 6_800  # every cell stored again, right

    rid3 = load.plan_release_id(paths)
    third = big_estimates(paths.staging / rid3 / "e.parquet", rid3, areas=40, occupations=10)
    edit_staged(third, "SELECT * FROM staged")
    assert load.load_release(paths, rid3, [big_load(third, 6_800)]) is not None  # 1 → back
    rid4 = load.plan_release_id(paths)
    fourth = big_estimates(paths.staging / rid4 / "e.parquet", rid4, areas=40, occupations=10)
    assert load.load_release(paths, rid4, [big_load(fourth, 6_800)]) is None  # same again


def test_cells_from_the_transform_equal_the_warehouse_s(
    paths: DataPaths,
    staged_from: Callable[[Path, DataPaths, str], load.StagedLoad],
    oe_dir: Path,
) -> None:
    """The OEWS transform digests cells in its duplicate check; the warehouse digests a
    staged file itself when no cells come with it. Both must agree, or every reload would
    look changed (and a revision could hide behind a mismatch nobody notices)."""
    from warehouse import changes

    staged = staged_from(oe_dir, paths, "r1")
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


# --- the comparison on its own: a plain DuckDB with a ``lake`` schema ---------------------------


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB whose ``lake`` schema holds three areas (what a lake attach gives
    the comparison: tables by name)."""
    db = duckdb.connect()
    columns = ", ".join(f"{c} {t}" for c, t in lake.TABLES["areas"].items())
    db.execute(f"CREATE SCHEMA lake; CREATE TABLE lake.areas ({columns})")
    db.execute(
        "INSERT INTO lake.areas VALUES ('0000000', 'N', '00', 'National', 'r1'), "
        "('0600000', 'S', '06', 'California', 'r1'), ('2500000', 'S', '25', 'Massachusetts', 'r1')"
    )
    yield db
    db.close()


def staged_areas(
    path: Path, rows: list[tuple[str, str, str, str]], **options: object
) -> StagedTable:
    frame = pd.DataFrame(rows, columns=["area_code", "area_type", "state_code", "name"])
    frame.assign(release_id="r2").to_parquet(path, index=False)
    return StagedTable("areas", path, len(rows), {}, **options)  # type: ignore[arg-type]


def test_a_small_table_is_compared_row_by_row_with_examples(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    table = staged_areas(
        tmp_path / "areas.parquet",
        [
            ("0000000", "N", "00", "U.S."),  # renamed
            ("0600000", "S", "06", "California"),  # the same (its release_id aside)
            ("3600000", "S", "36", "New York"),  # new; Massachusetts is gone
        ],
    )

    found = changes.compare(con, table, before=3)

    assert (found.added, found.removed, found.changed) == (1, 1, {"name": 1})
    assert not found.is_empty and not found.delta  # no cells: never applied cell by cell
    assert found.summary() == {
        "added": 1,
        "removed": 1,
        "changed": {"name": 1},
        "compared": "rows",
        "examples": [
            {"key": {"area_code": "0000000"}, "changes": {"name": ["National", "U.S."]}},
            {"key": {"area_code": "2500000"}, "removed": True},
            {"key": {"area_code": "3600000"}, "added": True},
        ],
    }


def test_an_upsert_compares_only_the_keys_it_holds(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    table = staged_areas(
        tmp_path / "areas.parquet", [("0600000", "S", "06", "California")], upsert=True
    )
    found = changes.compare(con, table, before=1)
    assert found.is_empty  # Massachusetts and National are outside its scope, not removed
    where, params = changes.scope_sql(table, "t")
    assert (where, params) == (
        f"EXISTS (SELECT 1 FROM read_parquet('{table.path}') s "
        "WHERE s.area_code IS NOT DISTINCT FROM t.area_code)",
        [],
    )


def test_a_first_load_is_all_new_without_a_comparison(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    table = staged_areas(tmp_path / "areas.parquet", [("0000000", "N", "00", "National")])
    con.execute("DROP TABLE lake.areas")  # nothing to read: the lake is not consulted
    found = changes.compare(con, table, before=0)
    assert (found.added, found.removed, found.changed, found.examples) == (1, 0, {}, [])


def test_two_loads_of_one_table_in_a_release_make_one_summary() -> None:
    first = {
        "added": 17,
        "removed": 0,
        "changed": {"value": 2},
        "compared": "cells",
        "examples": [{"key": {"n": i}} for i in range(6)],
        "cells_changed": 3,
    }
    second = {
        "added": 0,
        "removed": 1,
        "changed": {"status": 1, "value": 1},
        "compared": "cells",
        "examples": [{"key": {"n": i}} for i in range(6, 12)],
        "cells_changed": 2,
    }
    merged = changes.merge_summaries(first, second)
    assert merged == {
        "added": 17,
        "removed": 1,
        "changed": {"status": 1, "value": 3},
        "compared": "cells",
        "examples": [{"key": {"n": i}} for i in range(changes.EXAMPLES)],
        "cells_changed": 5,
    }
