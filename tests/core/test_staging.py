"""Staged tables and load policies: what a transform hands the warehouse, and how it is checked."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from core.staging import (
    LoadPolicy,
    StagedLoad,
    StagedTable,
    TablePolicy,
    cells_sql,
    stage_frame,
    stamp,
)

ROWS = """(SELECT * FROM (VALUES
    (2024, '0000000', '29-2072', 'annual_median', '50250'),
    (2024, '0000000', '29-2072', 'hourly_median', '24.16'),
    (2024, '0600000', '29-2072', 'annual_median', '61740')
  ) t(reference_year, area_code, soc_code, measure, value))"""
TYPES = {
    "reference_year": "INTEGER",
    "area_code": "VARCHAR",
    "soc_code": "VARCHAR",
    "measure": "VARCHAR",
    "value": "DECIMAL(18,3)",
}
KEYS = ("reference_year", "area_code", "soc_code")


def cells(query: str) -> list[tuple[object, ...]]:
    return duckdb.sql(query + " ORDER BY ALL").fetchall()


def test_cells_count_rows_and_digest_them_the_same_with_or_without_the_cast() -> None:
    as_text = cells(cells_sql(KEYS, ["measure", "value"], ROWS, types=TYPES))
    typed_rows = f"(SELECT * REPLACE (value::DECIMAL(18,3) AS value) FROM {ROWS})"
    typed = cells(cells_sql(KEYS, ["measure", "value"], typed_rows))

    assert [row[:4] for row in as_text] == [
        (2024, "0000000", "29-2072", 2),
        (2024, "0600000", "29-2072", 1),
    ]
    assert as_text == typed  # a file with the lake's types gives the same digests
    # One changed value changes its cell's digest, and only that one.
    changed = ROWS.replace("'61740'", "'61750'")
    revised = cells(cells_sql(KEYS, ["measure", "value"], changed, types=TYPES))
    assert revised[0] == as_text[0]
    assert revised[1][:4] == as_text[1][:4] and revised[1][4] != as_text[1][4]


def test_the_same_change_to_two_rows_of_a_cell_changes_its_digest() -> None:
    # The last column of the row hash: the same new footnote on both rows of the national
    # cell must not cancel out in the XOR over the cell.
    rows = ROWS.replace("'50250')", "'50250', NULL)").replace("'24.16')", "'24.16', NULL)")
    rows = rows.replace("'61740')", "'61740', NULL)").replace("value))", "value, footnote))")
    before = cells(cells_sql(KEYS, ["measure", "value", "footnote"], rows))
    after = cells(cells_sql(KEYS, ["measure", "value", "footnote"], rows.replace("NULL", "'4'")))
    assert before[0][:4] == after[0][:4] and before[0][4] != after[0][4]


def test_cells_sql_adds_a_transform_s_own_aggregates() -> None:
    query = cells_sql(KEYS, ["value"], ROWS, extra=["max(value) AS top"])
    assert [(row[3], row[5]) for row in cells(query)] == [(2, "50250"), (1, "61740")]


def test_stage_frame_writes_the_rows_stamped_with_their_release(tmp_path: Path) -> None:
    frame = pd.DataFrame({"area_code": ["0000000", "0600000"], "name": ["National", "California"]})
    table = stage_frame(frame, "areas", tmp_path / "out", "2026-11-28.1", {})

    assert table == StagedTable("areas", tmp_path / "out" / "areas.parquet", 2, {})
    assert pd.read_parquet(table.path).to_dict("records") == [
        {"area_code": "0000000", "name": "National", "release_id": "2026-11-28.1"},
        {"area_code": "0600000", "name": "California", "release_id": "2026-11-28.1"},
    ]
    assert list(frame.columns) == ["area_code", "name"]  # the caller's frame is left alone


def test_stamp_marks_every_source_with_the_vintage_and_keeps_the_caller_s_rows() -> None:
    sources: dict[str, dict[str, object]] = {"oe.area": {"url": "u", "sha256": "s"}}
    assert stamp(sources, "May 2024") == {
        "oe.area": {"url": "u", "sha256": "s", "vintage": "May 2024"}
    }
    assert sources == {"oe.area": {"url": "u", "sha256": "s"}}


POLICY = LoadPolicy(
    {
        "oews_estimates": TablePolicy(scope=("reference_year",)),
        "areas": TablePolicy(upsert=True),
    },
    guarded_table="oews_estimates",
)


def staged(*tables: StagedTable) -> StagedLoad:
    return StagedLoad("oews", "May 2024", list(tables), {})


def test_a_policy_attaches_itself_and_marks_its_upserted_tables(tmp_path: Path) -> None:
    estimates = StagedTable("oews_estimates", tmp_path / "e.parquet", 17, {"reference_year": 2024})
    areas = StagedTable("areas", tmp_path / "a.parquet", 4, {}, upsert=False)
    load = staged(estimates, areas)

    attached = POLICY.attach(load)

    assert attached.policy is POLICY
    assert [(t.table, t.upsert) for t in attached.tables] == [
        ("oews_estimates", False),
        ("areas", True),
    ]
    assert attached.rows() == {"oews_estimates": 17, "areas": 4}
    assert load.policy is None and not areas.upsert  # frozen: a new load, the old one as it was
    assert dataclasses.replace(attached, tables=load.tables, policy=None) == load


def test_a_policy_refuses_a_load_that_disagrees_with_it(tmp_path: Path) -> None:
    estimates = StagedTable("oews_estimates", tmp_path / "e.parquet", 17, {"reference_year": 2024})
    areas = StagedTable("areas", tmp_path / "a.parquet", 4, {})
    with pytest.raises(ValueError) as tables:
        POLICY.attach(staged(estimates))
    assert str(tables.value) == (
        "oews staged the tables ['oews_estimates']; its load policy names "
        "['areas', 'oews_estimates']"
    )
    by_cycle = dataclasses.replace(estimates, replaces={"cycle": "2024-34"})
    with pytest.raises(ValueError) as scope:
        POLICY.attach(staged(by_cycle, areas))
    assert str(scope.value) == (
        "oews scoped oews_estimates by ['cycle']; its load policy scopes it by ['reference_year']"
    )
