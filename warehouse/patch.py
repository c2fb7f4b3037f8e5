"""Accepting a patch (:class:`core.staging.Patch`): only when the lake holds its base exactly.

A patch stages only the lines of a data file that differ from the file an earlier release
loaded (its base). The rest of the new file is byte for byte the base, so its rows are the
base's rows. That holds in the lake only if nothing has changed them since, so
:func:`resolve` accepts a patch only when all of these hold:

1. The newest release that loaded the source loaded the base file, staged by the same
   version of the staging pass and DuckDB (``staged_by``, recorded with the file), with the
   same other files (the lookups decode the unchanged lines too).
2. Since that release, no snapshot has changed the table or its stored cells in the scope
   (DuckLake's change feed).
3. The scope's stored cells account for every row in it.
4. Every cell of the old lines is stored with the same row count and digest, and no cell of
   the new lines is stored unless the old lines hold it: the changed lines hold whole cells,
   and the lake holds them as the base file did.

It then hands the load a whole table: the scope's stored cells with the old lines' cells
swapped for the new lines', and the scope's row count after the patch. The load's ordinary
cell comparison finds the cells that changed among them and rewrites only those (a patch is
always applied cell by cell). When a condition fails, :func:`resolve` says which, and the
caller stages the whole file.
"""

from __future__ import annotations

import dataclasses

import duckdb

from core import sql, timing
from core.paths import DataPaths
from core.staging import StagedLoad, StagedTable
from warehouse import changes, lake


@timing.timed("patch_resolve")
def resolve(paths: DataPaths, staged: StagedLoad) -> StagedLoad | str:
    """``staged`` with each patched table made whole for the load, or why a patch cannot be
    used (then the whole file should be staged)."""
    if not any(t.patch for t in staged.tables):
        return staged
    if lake.catalog_state(paths).kind != "ready":
        return "the warehouse has no releases to patch"
    with lake.connect(paths, read_only=True) as con:
        tables: list[StagedTable] = []
        for table in staged.tables:
            resolved = _resolve(con, staged, table) if table.patch else table
            if isinstance(resolved, str):
                return resolved
            tables.append(resolved)
    return dataclasses.replace(staged, tables=tables)


def _resolve(
    con: duckdb.DuckDBPyConnection, staged: StagedLoad, table: StagedTable
) -> StagedTable | str:
    patch, kind = table.patch, staged.kind
    assert patch is not None and table.cells is not None
    keys = lake.CELL_KEYS[table.table]
    # 1. The newest release that loaded this source loaded the base, staged the same way,
    # with the same other files (the lookups decode the unchanged lines too).
    history = lake.releases(con)
    loaded = [r for r in history if kind in (r.get("loaded") or {})]  # type: ignore[operator]
    if not loaded:
        return f"no release has loaded {kind} yet"
    newest = loaded[-1]
    files: dict[str, dict[str, object]] = (newest.get("sources") or {}).get(kind, {})  # type: ignore[union-attr]
    bases = [
        name
        for name, row in files.items()
        if row.get("sha256") == patch.base_sha256 and row.get("staged_by") == patch.staged_by
    ]
    if not bases:
        return (
            f"release {newest['release_id']} did not load the base file with the staging "
            f"pass {patch.staged_by}"
        )
    others = {n: r.get("sha256") for n, r in staged.sources.items() if n not in bases}
    if others != {n: r.get("sha256") for n, r in files.items() if n not in bases}:
        return f"the other files differ from those release {newest['release_id']} loaded"
    # 2. Nothing has changed the scope since.
    where, _ = changes.scope_sql(table)
    since = lake.snapshot_of(con, str(newest["release_id"]))
    now = con.execute("SELECT max(snapshot_id) FROM lake.snapshots()").fetchone()[0]
    if since is None:
        return f"release {newest['release_id']} has no snapshot"
    for name in (table.table, lake.cells_table(table.table)):
        if now > since and _changed_since(con, name, since, now, where):
            return f"{name} has changed since release {newest['release_id']}"
    # 3. The stored cells account for every row of the scope.
    stored = f"(SELECT * FROM lake.{lake.cells_table(table.table)} t WHERE {where})"
    before, counted = con.execute(
        f"SELECT (SELECT count(*) FROM lake.{table.table} t WHERE {where}), "
        f"(SELECT coalesce(sum(n), 0) FROM {stored})"
    ).fetchone()
    if before != counted:
        return "the stored cells do not account for every row"
    # 4. The old lines' cells are stored exactly; the new lines add no cell stored elsewhere.
    old, new = sql.read_parquet(patch.old_cells), sql.read_parquet(table.cells)
    key_list = ", ".join(keys)
    on = " AND ".join(f"o.{k} = c.{k}" for k in keys)
    touched = f"(SELECT {key_list} FROM {old} UNION SELECT {key_list} FROM {new})"
    mismatched = con.execute(
        f"SELECT count(*) FROM {old} o FULL OUTER JOIN "
        f"(SELECT c.* FROM {stored} c SEMI JOIN {touched} x USING ({key_list})) c ON {on} "
        "WHERE o.n IS DISTINCT FROM c.n OR o.digest IS DISTINCT FROM c.digest"
    ).fetchone()[0]
    if mismatched:
        return f"{mismatched} cells of the changed lines are not stored as the base file holds them"
    # The scope's cells after the patch, for the load's comparison.
    whole = table.cells.with_name(table.cells.name.replace(".cells.", ".patched.cells."))
    columns = ", ".join([*keys, "n", "digest"])
    con.execute(
        f"COPY (SELECT {columns} FROM {stored} c ANTI JOIN {old} o USING ({key_list}) "
        f"UNION ALL SELECT {columns} FROM {new}) TO {sql.string(whole)} (FORMAT parquet)"
    )
    rows = before - patch.old_rows + patch.new_rows
    resolved = dataclasses.replace(patch, before=before)
    return dataclasses.replace(table, cells=whole, rows=rows, patch=resolved)


def _changed_since(
    con: duckdb.DuckDBPyConnection, name: str, since: int, now: int, where: str
) -> bool:
    """Whether a snapshot after ``since`` changed a row of ``name`` in the scope ``where``
    (``changes.scope_sql``, on alias ``t``)."""
    found = con.execute(
        f"SELECT count(*) FROM ducklake_table_changes('lake', 'main', ?, ?, ?) t WHERE {where}",
        [name, since + 1, now],
    ).fetchone()[0]
    return bool(found)
