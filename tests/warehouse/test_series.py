"""oews_wage_series: the SQL on small tables, one case per kind of SOC succession."""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest

from warehouse.series import CAVEAT, COLUMNS, create_view_sql, series_sql

CROSSWALK = [  # (from 2010, to 2018)
    ("15-1151", "15-1232"),  # one-to-one, renumbered
    ("29-2071", "29-2072"),  # a split ...
    ("29-2071", "29-9021"),  # ... into two
    ("11-3011", "11-3012"),  # a merge: two 2010 codes ...
    ("11-3011", "11-3013"),
    ("13-1199", "13-1082"),
    ("13-1199", "13-1199"),
    ("13-2051", "13-1082"),  # ... into one (13-1082)
]


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE oews_estimates (reference_year INTEGER, reference_period VARCHAR, "
        "areatype_code VARCHAR, area_code VARCHAR, industry_code VARCHAR, ownership VARCHAR, "
        "soc_code VARCHAR, measure VARCHAR, value DECIMAL(18,3), status VARCHAR, "
        "top_code_threshold DECIMAL(18,2), footnote_codes VARCHAR, release_id VARCHAR)"
    )
    con.execute(
        "CREATE TABLE soc_crosswalk (from_version VARCHAR, from_code VARCHAR, "
        "to_version VARCHAR, to_code VARCHAR)"
    )
    con.executemany(
        "INSERT INTO soc_crosswalk VALUES ('2010', ?, '2018', ?)", [list(p) for p in CROSSWALK]
    )

    def add(year: int, soc: str, value: float | None, status: str = "ok") -> None:
        top = 208000 if status == "top_coded" else None
        con.execute(
            "INSERT INTO oews_estimates VALUES (?, ?, 'N', '0000000', '000000', 'all', ?, "
            "'annual_median', ?, ?, ?, NULL, 'r1')",
            [year, f"May {year}", soc, value, status, top],
        )

    add(2018, "15-1151", 50980)
    add(2019, "15-1232", 52270)
    add(2021, "15-1232", 49770)
    add(2018, "29-2071", 40350)
    add(2019, "29-2098", 42630)  # hybrid-only code
    add(2021, "29-2072", 46660)
    add(2018, "13-2051", 70930)
    add(2018, "13-1199", 71000)
    add(2021, "13-1082", 75000)
    add(2018, "00-0000", 38640)  # a total: not in the crosswalk
    add(2018, "11-1011", None, "top_coded")
    return con


def points(con: duckdb.DuckDBPyConnection, series: str) -> list[tuple[object, ...]]:
    return con.execute(
        f"SELECT reference_year, soc_code, soc_version, value, comparable, break_reason "
        f"FROM ({series_sql(str)}) WHERE series_soc = ? ORDER BY reference_year, soc_code",
        [series],
    ).fetchall()


def test_a_one_to_one_succession_joins_without_a_break(con: duckdb.DuckDBPyConnection) -> None:
    assert points(con, "15-1232") == [
        (2018, "15-1151", "2010", Decimal("50980.000"), True, None),
        (2019, "15-1232", "2018-hybrid", Decimal("52270.000"), True, None),
        (2021, "15-1232", "2018", Decimal("49770.000"), True, None),
    ]


def test_a_split_is_a_break_in_every_series_it_touches(con: duckdb.DuckDBPyConnection) -> None:
    reason = (
        "SOC 2010 29-2071 was split into 29-2072 + 29-9021 in SOC 2018; "
        "this value covers all of them"
    )
    assert points(con, "29-2072") == [
        (2018, "29-2071", "2010", Decimal("40350.000"), False, reason),
        (2021, "29-2072", "2018", Decimal("46660.000"), True, None),
    ]
    assert points(con, "29-9021") == [
        (2018, "29-2071", "2010", Decimal("40350.000"), False, reason)
    ]
    # the hybrid-only code is a series of its own, never spliced into 29-2072
    assert points(con, "29-2098") == [
        (2019, "29-2098", "2018-hybrid", Decimal("42630.000"), True, None)
    ]


def test_a_merge_marks_each_old_code_and_never_sums(con: duckdb.DuckDBPyConnection) -> None:
    found = points(con, "13-1082")
    assert [(y, soc, comparable) for y, soc, _, _, comparable, _ in found] == [
        (2018, "13-1199", False),
        (2018, "13-2051", False),
        (2021, "13-1082", True),
    ]
    assert (
        found[1][5]
        == "SOC 2018 13-1082 merges SOC 2010 13-1199 + 13-2051; this value covers 13-2051 only"
    )
    assert found[1][3] == Decimal("70930.000")  # its own value, not a sum


def test_codes_the_crosswalk_does_not_list_keep_their_code(con: duckdb.DuckDBPyConnection) -> None:
    assert points(con, "00-0000") == [(2018, "00-0000", "2010", Decimal("38640.000"), True, None)]


def test_each_point_carries_the_top_code_in_force_that_year(
    con: duckdb.DuckDBPyConnection,
) -> None:
    rows = con.execute(
        f"SELECT reference_year, soc_code, status, top_code_in_force FROM ({series_sql(str)}) "
        "ORDER BY reference_year, soc_code"
    ).fetchall()
    by_year = {(y, soc): (status, top) for y, soc, status, top in rows}
    assert by_year[(2018, "11-1011")] == ("top_coded", Decimal("208000.00"))
    assert by_year[(2018, "29-2071")] == ("ok", Decimal("208000.00"))  # in force, not hit
    assert by_year[(2021, "29-2072")] == ("ok", None)  # nothing top-coded that year


def test_the_view_has_the_documented_columns_and_a_caveat(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(create_view_sql("main", str))
    names = [d[0] for d in con.execute("SELECT * FROM main.oews_wage_series LIMIT 0").description]
    assert tuple(names) == COLUMNS
    assert "not designed for comparisons over time" in CAVEAT
