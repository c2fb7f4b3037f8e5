"""What a load changes in its scope: exact at every size, and cheap where tables are big.

Small tables are compared row by row (a join on the primary key). A big table (OEWS
estimates: 6 M rows a year) is compared in two steps, both exact about what they report:

1. **Cells.** Its rows fall into cells (an OEWS cell is one year, area, industry and
   occupation: the 17 measures of one series group). For each cell the lake keeps, in an
   internal table beside the data (``<table>_cells``, written in the same transaction as the
   rows), the row count and a 64-bit digest: the XOR of the hashes of its rows, each hash
   taken over every column. The staged file's cells are computed the same way (by the
   transform's own duplicate check, which groups the rows by cell anyway) and joined with
   the stored ones: 350 k cells instead of 6 M rows.
2. **Rows of the cells that differ**, compared row by row as for a small table: which keys
   were added or removed, which columns changed, and a few examples old → new.

A cell whose row count and digest agree is unchanged: a revision is missed only if the
changed rows' 64-bit hashes collide exactly (about one chance in 1.8 × 10^19 per changed
cell). Stored cells that do not account for every
row of the scope (a lake written before this version, or by hand) are recomputed from the
lake's rows, so a missing digest can only cost time, never a revision. DuckDB may change
its hash function between versions: then every cell differs and step 2 compares all rows.
"""

from __future__ import annotations

import dataclasses
import itertools
from decimal import Decimal

import duckdb

from core import sql, staging
from core.staging import StagedTable
from warehouse import lake

EXAMPLES = 10  # changed values named per table in the release notes and the diff
# Above this share of changed cells a reload replaces the scope wholesale instead of cell by
# cell (a DELETE per cell stops paying off when most cells go).
DELTA_MAX_SHARE = 0.25

_ids = itertools.count()


@dataclasses.dataclass
class Comparison:
    """The changes one staged table makes, and what the writer needs to apply them."""

    table: StagedTable
    before: int  # lake rows in the scope
    added: int = 0
    removed: int = 0
    changed: dict[str, int] = dataclasses.field(default_factory=dict)
    examples: list[dict[str, object]] = dataclasses.field(default_factory=list)
    compared: str = "rows"  # "rows" or "cells"
    # Cell tables only (temp tables of this connection):
    # Every cell of the staged file: a FROM item (the transform's cells file read in place,
    # or a temp table the comparison computed).
    staged_cells: str | None = None
    changed_cells: str | None = None  # cells whose rows differ (staged or lake side)
    new_rows: str | None = None  # the staged rows of those cells (lake types)
    old_rows: str | None = None  # the lake's rows of those cells
    cells: int = 0  # cells in the staged file
    cells_changed: int = 0
    stored_cells_complete: bool = True  # the lake's stored cells account for every row

    @property
    def is_empty(self) -> bool:
        return not self.added and not self.removed and not self.changed

    @property
    def delta(self) -> bool:
        """Apply this load cell by cell (only the changed cells are rewritten). A patch
        always is: its staged file holds only the changed lines' rows."""
        return (
            self.staged_cells is not None
            and self.before > 0
            and (
                self.table.patch is not None
                or self.cells_changed <= DELTA_MAX_SHARE * max(self.cells, 1)
            )
        )

    def summary(self) -> dict[str, object]:
        """The JSON kept in ``releases.changes``."""
        out: dict[str, object] = {
            "added": self.added,
            "removed": self.removed,
            "changed": dict(sorted(self.changed.items())),
            "compared": self.compared,
            "examples": self.examples,
        }
        if self.staged_cells is not None:
            out["cells_changed"] = self.cells_changed
        if self.table.patch is not None:  # staged from the changed lines only
            out["patch"] = {
                "base_sha256": self.table.patch.base_sha256,
                "old_rows": self.table.patch.old_rows,
                "new_rows": self.table.patch.new_rows,
            }
        return out


def merge_summaries(a: dict[str, object], b: dict[str, object]) -> dict[str, object]:
    """Two loads of one table in one release (two special-request years): one summary."""
    changed = dict(a["changed"])  # type: ignore[call-overload]
    for column, n in b["changed"].items():  # type: ignore[attr-defined]
        changed[column] = changed.get(column, 0) + n
    merged = {
        **a,
        "added": a["added"] + b["added"],  # type: ignore[operator]
        "removed": a["removed"] + b["removed"],  # type: ignore[operator]
        "changed": dict(sorted(changed.items())),
        "examples": (list(a.get("examples", [])) + list(b.get("examples", [])))[:EXAMPLES],  # type: ignore[call-overload]
    }
    if "cells_changed" in a or "cells_changed" in b:
        merged["cells_changed"] = a.get("cells_changed", 0) + b.get("cells_changed", 0)  # type: ignore[operator]
    return merged


def cell_keys(table: str) -> tuple[str, ...] | None:
    return lake.CELL_KEYS.get(table)


def cells_sql(table: str, rows: str, *, cast: bool) -> str:
    """Per-cell row count and digests of ``rows`` (a FROM item with the table's columns);
    ``cast``: cast to the lake's types first (see ``core.staging.cells_sql``)."""
    return staging.cells_sql(
        lake.CELL_KEYS[table],
        lake.cell_values(table),
        rows,
        types=lake.TABLES[table] if cast else None,
    )


def scope_sql(table: StagedTable, alias: str = "t") -> tuple[str, list[object]]:
    """SQL condition (on ``alias``) for the lake rows ``table`` replaces, and its parameters."""
    # Scope values are written into the SQL as literals: DuckDB plans a filter on a
    # parameter without pushing it into the DuckLake scan (1.4 s instead of 0.08 s to read
    # a year's 350 k stored cells).
    conditions = [f"{alias}.{c} = {sql.literal(v)}" for c, v in table.replaces.items()]
    params: list[object] = []
    if table.upsert:
        same_key = " AND ".join(
            f"s.{c} IS NOT DISTINCT FROM {alias}.{c}" for c in lake.PRIMARY_KEYS[table.table]
        )
        staged = sql.read_parquet(table.path)
        conditions.append(f"EXISTS (SELECT 1 FROM {staged} s WHERE {same_key})")
    return " AND ".join(conditions) or "true", params


def compare(con: duckdb.DuckDBPyConnection, table: StagedTable, before: int) -> Comparison:
    """What loading ``table`` changes; ``before`` is the lake's row count in its scope."""
    result = Comparison(table, before)
    if table.patch is not None and table.patch.before != before:
        # Accepted by warehouse.patch.resolve for other rows than the lake holds now.
        raise ValueError(
            f"{table.table}: a patch accepted for {table.patch.before} rows in its scope "
            f"meets {before}; stage the whole file"
        )
    keys = cell_keys(table.table)
    usable = keys is not None and not table.upsert and set(table.replaces) <= set(keys)
    if usable:
        result.compared = "cells"
        if table.cells is not None:  # the transform's checks computed them: read in place
            result.staged_cells = sql.read_parquet(table.cells)
        else:
            result.staged_cells = f"staged_cells_{next(_ids)}"
            computed = cells_sql(table.table, sql.read_parquet(table.path), cast=True)
            con.execute(f"CREATE TEMP TABLE {result.staged_cells} AS {computed}")
        result.cells = con.execute(f"SELECT count(*) FROM {result.staged_cells}").fetchone()[0]
    if not before:  # nothing to compare with (a first load): every staged row is new
        result.added = table.rows
        result.cells_changed = result.cells
        return result
    if usable:
        _changed_cells(con, result)
        if not result.cells_changed:
            return result
    _compare_rows(con, result)
    return result


def _changed_cells(con: duckdb.DuckDBPyConnection, result: Comparison) -> None:
    table = result.table
    keys = lake.CELL_KEYS[table.table]
    where, params = scope_sql(table)
    stored = f"lake_cells_{next(_ids)}"
    con.execute(
        f"CREATE TEMP TABLE {stored} AS SELECT * FROM lake.{lake.cells_table(table.table)} t "
        f"WHERE {where}",
        params,
    )
    counted = con.execute(f"SELECT coalesce(sum(n), 0) FROM {stored}").fetchone()[0]
    if counted != result.before:
        # The stored cells do not describe every row: recompute them from the lake's rows.
        result.stored_cells_complete = False
        con.execute(f"DROP TABLE {stored}")
        rows = f"(SELECT * FROM lake.{table.table} t WHERE {where})"
        con.execute(
            f"CREATE TEMP TABLE {stored} AS " + cells_sql(table.table, rows, cast=False), params
        )
    on = " AND ".join(f"s.{k} = c.{k}" for k in keys)  # cell keys are never null
    pick = ", ".join(f"coalesce(s.{k}, c.{k}) AS {k}" for k in keys)
    result.changed_cells = f"changed_cells_{next(_ids)}"
    con.execute(
        f"CREATE TEMP TABLE {result.changed_cells} AS SELECT {pick} "
        f"FROM {result.staged_cells} s FULL OUTER JOIN {stored} c ON {on} "
        "WHERE s.n IS DISTINCT FROM c.n OR s.digest IS DISTINCT FROM c.digest"
    )
    result.cells_changed = con.execute(f"SELECT count(*) FROM {result.changed_cells}").fetchone()[0]
    con.execute(f"DROP TABLE {stored}")


def _semi(result: Comparison, alias: str) -> str:
    """``SEMI JOIN`` of the row ``alias`` with the changed cells (a hash join whose keys
    DuckDB also pushes into the scan as a filter, so unchanged row groups are skipped)."""
    keys = lake.CELL_KEYS[result.table.table]
    same = " AND ".join(f"x.{k} = {alias}.{k}" for k in keys)
    return f"SEMI JOIN {result.changed_cells} x ON {same}"


def _typed_staged(table: StagedTable) -> str:
    """The staged rows cast to the lake's column types."""
    types = lake.TABLES[table.table]
    typed = ", ".join(f"CAST(t.{c} AS {types[c]}) AS {c}" for c in types)
    return f"(SELECT {typed} FROM {sql.read_parquet(table.path)} t)"


def _rows_of_changed_cells(con: duckdb.DuckDBPyConnection, result: Comparison) -> None:
    """Copy the rows of the changed cells, staged and current, into temp tables."""
    table = result.table
    where, params = scope_sql(table)
    result.new_rows = f"new_rows_{next(_ids)}"
    result.old_rows = f"old_rows_{next(_ids)}"
    con.execute(
        f"CREATE TEMP TABLE {result.new_rows} AS SELECT t.* FROM {_typed_staged(table)} t "
        + _semi(result, "t")
    )
    con.execute(
        f"CREATE TEMP TABLE {result.old_rows} AS SELECT t.* FROM "
        f"(SELECT * FROM lake.{table.table} t WHERE {where}) t " + _semi(result, "t"),
        params,
    )


def _compare_rows(con: duckdb.DuckDBPyConnection, result: Comparison) -> None:
    """Row-by-row comparison: of the whole scope, or of the changed cells of a cell table."""
    table = result.table
    key = lake.PRIMARY_KEYS[table.table]
    types = lake.TABLES[table.table]
    values = [c for c in types if c not in key and c != "release_id"]
    if result.changed_cells is not None:
        _rows_of_changed_cells(con, result)
        staged, current, query_params = result.new_rows, result.old_rows, []
    else:
        where, params = scope_sql(table)
        staged = _typed_staged(table)
        current = f"(SELECT * FROM lake.{table.table} t WHERE {where})"
        query_params = params
    on = " AND ".join(f"s.{c} IS NOT DISTINCT FROM c.{c}" for c in key)
    both = f"s.{key[0]} IS NOT NULL AND c.{key[0]} IS NOT NULL"
    diff = f"{staged} s FULL OUTER JOIN {current} c ON {on}"
    counts = [
        f"count(*) FILTER (WHERE c.{key[0]} IS NULL)",
        f"count(*) FILTER (WHERE s.{key[0]} IS NULL)",
        *(f"count(*) FILTER (WHERE {both} AND s.{c} IS DISTINCT FROM c.{c})" for c in values),
    ]
    # Two passes over the join (counts, then a few examples), both streaming: memory stays
    # bounded even when every row of a small table's scope differs.
    row = con.execute(f"SELECT {', '.join(counts)} FROM {diff}", query_params).fetchone()
    result.added, result.removed = row[0], row[1]
    result.changed = {c: n for c, n in zip(values, row[2:], strict=True) if n}
    result.examples = examples(con, diff, query_params, key, values)


def examples(
    con: duckdb.DuckDBPyConnection,
    diff: str,
    params: list[object],
    key: list[str],
    values: list[str],
) -> list[dict[str, object]]:
    """Up to EXAMPLES rows that differ in ``diff`` (``new`` s FULL OUTER JOIN ``old`` c on the
    key): the key, and each changed column old → new (or that the row was added/removed)."""
    both = f"s.{key[0]} IS NOT NULL AND c.{key[0]} IS NOT NULL"
    differs = " OR ".join(f"s.{c} IS DISTINCT FROM c.{c}" for c in values) or "false"
    picked = ", ".join(
        [f"coalesce(s.{k}, c.{k}) AS {k}" for k in key]
        + [f"c.{c} AS old_{c}, s.{c} AS new_{c}" for c in values]
        + [f"c.{key[0]} IS NULL AS is_added, s.{key[0]} IS NULL AS is_removed"]
    )
    rows = con.execute(
        f"SELECT {picked} FROM {diff} WHERE NOT ({both}) OR ({differs}) "
        f"ORDER BY {', '.join(key)} LIMIT {EXAMPLES}",
        params,
    ).fetchall()
    out: list[dict[str, object]] = []
    for row in rows:
        found = dict(zip(key, row[: len(key)], strict=True))
        pairs = row[len(key) : len(key) + 2 * len(values)]
        added, removed = row[-2], row[-1]
        example: dict[str, object] = {"key": {k: _plain(v) for k, v in found.items()}}
        if added:
            example["added"] = True
        elif removed:
            example["removed"] = True
        else:
            example["changes"] = {
                c: [_plain(old), _plain(new)]
                for c, old, new in zip(values, pairs[::2], pairs[1::2], strict=True)
                if old != new
            }
        out.append(example)
    return out


def _plain(value: object) -> object:
    """A value as JSON keeps it exactly: decimals as their shortest exact text."""
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text
    return value
