"""core.sql: the one place SQL text is quoted."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from core import sql


def test_strings_and_paths_round_trip_through_duckdb() -> None:
    con = duckdb.connect()
    for text in ["plain", "it's", "''", "a\\b", "naïve — ok"]:
        assert con.execute(f"SELECT {sql.string(text)}").fetchone() == (text,)
    assert sql.string(Path("/tmp/o'brien/x.parquet")) == "'/tmp/o''brien/x.parquet'"
    listed = sql.string_list(["a", "b'c"])
    assert con.execute(f"SELECT {listed}").fetchone() == (["a", "b'c"],)


def test_identifiers_are_quoted() -> None:
    con = duckdb.connect()
    con.execute(f"CREATE SCHEMA {sql.ident('2026-11-28.1')}")
    table = sql.ident('a"b')
    con.execute(f"CREATE TABLE {sql.ident('2026-11-28.1')}.{table} (x INT)")
    tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()
    assert tables == [("2026-11-28.1", 'a"b')]


def test_scope_literals_are_integers_or_text() -> None:
    assert sql.literal(2024) == "2024"
    assert sql.literal("2024-34") == "'2024-34'"
    for wrong in (True, 1.5, None):
        with pytest.raises(TypeError):
            sql.literal(wrong)  # type: ignore[arg-type]


def test_read_parquet_names_the_file(tmp_path: Path) -> None:
    target = tmp_path / "it's.parquet"
    con = duckdb.connect()
    con.execute(f"COPY (SELECT 42 AS x) TO {sql.string(target)} (FORMAT parquet)")
    assert con.execute(f"SELECT x FROM {sql.read_parquet(target)}").fetchall() == [(42,)]
