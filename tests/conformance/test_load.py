"""Every real BLS file goes through the whole load (stage → validate → one release per file,
no Prefect) and the lake then holds exactly the values ``expected.csv`` lists for it.

The parser tests (``test_ep.py``, ``test_oesm.py`` beside this file) prove the reading;
these prove that nothing between the parser and the warehouse changes a number, that a
file of one kind never wipes another's estimates (a year's national, state and industry
files), and that a second issue of a projections cycle makes a release naming what changed.
Skipped when ``shared/bls-reference/samples/real/`` is absent.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from core.paths import DataPaths
from flows.sources import SOURCES
from warehouse import lake, load

# State postal code → the time-series area code of that state.
STATES = {"AL": "0100000"}


def expected_rows(real: Path, table: str) -> dict[str, list[dict[str, str]]]:
    by_file: dict[str, list[dict[str, str]]] = {}
    with (real / "expected.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["table"] == table:
                by_file.setdefault(row["file"], []).append(row)
    return by_file


def lake_value(con: duckdb.DuckDBPyConnection, table: str, row: dict[str, str]) -> Decimal | None:
    if table == "projections":
        found = con.execute(
            f"SELECT {row['measure']} FROM lake.projections WHERE cycle = ? AND soc_code = ?",
            [row["reference"], row["soc_code"]],
        ).fetchall()
    else:
        area = "0000000" if row["area"] == "national" else STATES[row["area"]]
        found = con.execute(
            "SELECT value FROM lake.oews_estimates WHERE reference_year = ? "
            "AND area_code = ? AND industry_code = '000000' AND ownership = 'all' "
            "AND soc_code = ? AND measure = ?",
            [int(row["reference"]), area, row["soc_code"], row["measure"]],
        ).fetchall()
    assert len(found) == 1, (row, found)
    value = found[0][0]
    return None if value is None else Decimal(str(value))


@pytest.fixture(scope="session")
def load_file(
    manifest_rows: Callable[..., dict[str, dict[str, object]]],
) -> Callable[[DataPaths, Path, str], load.Release | None]:
    """``load_file(paths, path, kind)``: stage ``path`` as a load of ``kind`` (its registry
    entry: transform and load policy) and load it; the release, or None if nothing changed."""

    def stage_and_load(paths: DataPaths, path: Path, kind: str) -> load.Release | None:
        rid = load.plan_release_id(paths)
        files = {path.name: path}
        staged = SOURCES[kind].stage(files, paths.staging / rid, rid, manifest_rows(files))
        return load.load_release(paths, rid, [staged])

    return stage_and_load


def assert_holds(paths: DataPaths, table: str, rows: list[dict[str, str]]) -> None:
    with lake.connect(paths, read_only=True) as con:
        wrong = [
            (r["file"], r["soc_code"], r["measure"], r["value"], got)
            for r in rows
            if (got := lake_value(con, table, r)) != Decimal(r["value"])
        ]
    assert not wrong, wrong


def test_every_projections_cycle_loads_with_its_published_values(
    real: Path, tmp_path: Path, load_file: Callable[[DataPaths, Path, str], load.Release | None]
) -> None:
    paths = DataPaths(tmp_path / "data")
    expected = expected_rows(real, "projections")
    files = sorted(expected)  # 2019-29's January issue before its April re-issue
    assert len(files) == 9  # eight in real/ep, and 2024-34 in samples/ep
    for name in files:
        made = load_file(paths, real / name, "projections")
        assert made is not None, name
        assert_holds(paths, "projections", expected[name])
        if name.endswith("2019-29_2021-04.xlsx"):
            # Same cycle, wages of May 2020 instead of May 2019: a new release, naming them.
            change = made.changes["projections"]
            assert (change["added"], change["removed"]) == (0, 0)
            assert {"median_annual_wage", "wage_year"} <= set(change["changed"])
            assert change["changed"]["wage_year"] == 1_048  # every row: 2019 → 2020
            assert {"employment_base", "employment_change"}.isdisjoint(change["changed"])
            named = {tuple(e["changes"]) for e in change["examples"]}
            assert any("median_annual_wage" in columns for columns in named), named
        elif name.endswith("2019-29_2021-01.xlsx"):
            assert made.vintages["projections"] == "2019-29"
    with lake.connect(paths, read_only=True) as con:
        cycles = con.execute("SELECT DISTINCT cycle FROM lake.projections ORDER BY 1").fetchall()
    assert [c for (c,) in cycles] == [
        "2016-26",
        "2018-28",
        "2019-29",
        "2020-30",
        "2021-31",
        "2022-32",
        "2023-33",
        "2024-34",
    ]


def test_every_special_request_file_loads_and_none_wipes_another(
    real: Path, tmp_path: Path, load_file: Callable[[DataPaths, Path, str], load.Release | None]
) -> None:
    paths = DataPaths(tmp_path / "data")
    expected = expected_rows(real, "oews_estimates")
    # Each year's national file first, then the same year's files by industry and ownership:
    # loading those must leave the national estimates as they are.
    files = sorted(p.name for p in (real / "oesm").iterdir())
    nat4d = [f for f in files if f.startswith("nat4d")]
    ordered = [f for f in files if not f.startswith("nat4d")] + nat4d
    assert len(ordered) == 17
    for name in ordered:
        made = load_file(paths, real / "oesm" / name, "oews_special")
        assert made is not None, name
        assert_holds(paths, "oews_estimates", expected.get(f"oesm/{name}", []))
    everything = [row for rows in expected.values() for row in rows]
    assert len(everything) == 78
    assert_holds(paths, "oews_estimates", everything)  # nothing was overwritten on the way
    with lake.connect(paths, read_only=True) as con:
        years = con.execute(
            "SELECT reference_year, count(DISTINCT ownership) FROM lake.oews_estimates "
            "GROUP BY 1 ORDER BY 1"
        ).fetchall()
        top = con.execute(
            "SELECT reference_year, max(top_code_threshold) FROM lake.oews_estimates "
            "WHERE status = 'top_coded' AND measure LIKE 'annual%' GROUP BY 1 ORDER BY 1"
        ).fetchall()
        ceo_2025 = con.execute(
            "SELECT value, status FROM lake.oews_estimates WHERE reference_year = 2025 "
            "AND soc_code = '11-1011' AND measure = 'annual_p90' AND area_code = '0000000' "
            "AND industry_code = '000000'"
        ).fetchone()
    assert [y for y, _ in years] == [2012, 2013, *range(2016, 2026)]
    assert all(n > 1 for y, n in years if 2016 <= y <= 2019)  # the ownership files kept it
    assert {y: int(cap) for y, cap in top} == {
        2012: 187_200,
        2013: 187_200,
        **dict.fromkeys(range(2016, 2022), 208_000),
        **dict.fromkeys(range(2022, 2025), 239_200),
    }  # and May 2025 has no top-coded value at all
    assert ceo_2025 == (Decimal("507730.000"), "ok")
