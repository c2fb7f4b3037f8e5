"""What changed between two published releases: rows per table, and the content team's figures.

Works on the immutable bundles (parquet + figures.json), so it needs neither the lake nor
Prefect, and gives the same answer whenever it is asked.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import duckdb

from core import sql
from warehouse import bundles, lake
from warehouse.changes import examples

COMPARED = [t for t in lake.TABLES if t not in ("releases", "raw_files")]


def _table(bundle: Path, name: str) -> str:
    return sql.read_parquet(bundles.table_path(bundle, name))


def _relation(files: list[Path], like: Path) -> str:
    """A FROM item over ``files`` (partitions of one table); with none, the table's columns
    and no rows (``like`` is any file of the table)."""
    if files:
        return f"read_parquet({sql.string_list(str(f) for f in files)})"
    return f"(SELECT * FROM {sql.read_parquet(like)} LIMIT 0)"


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    con.execute(f"SELECT * FROM {relation} LIMIT 0")
    return [d[0] for d in con.description]


def _same_part(old: Path, new: Path, old_sums: dict[str, Any], new_sums: dict[str, Any]) -> bool:
    """Whether two partition files are the same bytes: one file hard-linked into both bundles
    (how a release keeps a partition it did not change), or equal sha256 in both packages."""
    if os.path.samefile(old, new):
        return True
    name = f"{old.parent.name}/{old.name}"
    before, after = old_sums.get(name), new_sums.get(name)
    return before is not None and after is not None and before["sha256"] == after["sha256"]


def _sums(bundle: Path, table: str) -> dict[str, Any]:
    return bundles.parts(bundles.package(bundle), table) if bundles.is_complete(bundle) else {}


def _changed_parts(
    old: Path, new: Path, table: str, old_files: list[Path], new_files: list[Path]
) -> tuple[list[Path], list[Path]]:
    """The two bundles' files of ``table`` less the partitions both hold unchanged. Rows of
    one partition value are only in that partition's file, so the diff of the rest is the
    diff of the table. (A table published as one file is never a part: it stays.)"""
    old_sums, new_sums = _sums(old, table), _sums(new, table)
    by_name = {f.name: f for f in new_files if f.parent.name == table}
    same = {
        f.name
        for f in old_files
        if f.parent.name == table
        and f.name in by_name
        and _same_part(f, by_name[f.name], old_sums, new_sums)
    }
    return [f for f in old_files if f.name not in same], [
        f for f in new_files if f.name not in same
    ]


def table_diff(
    con: duckdb.DuckDBPyConnection,
    old: Path,
    new: Path,
    table: str,
    *,
    new_id: str | None = None,
) -> dict[str, Any]:
    """Rows added, removed and changed (by primary key) from ``old`` to ``new``, and a few
    changed rows named old → new. Columns only one bundle has (a column added in a later
    version) are not compared. Partitions both bundles hold unchanged are not read."""
    key = lake.PRIMARY_KEYS[table]
    everything_old = bundles.table_files(old, table)
    everything_new = bundles.table_files(new, table)
    if not everything_old or not everything_new:  # a bundle made before the table existed

        def rows(bundle: Path, files: list[Path]) -> int:
            return (
                con.execute(f"SELECT count(*) FROM {_table(bundle, table)}").fetchone()[0]
                if files
                else 0
            )

        added, removed = rows(new, everything_new), rows(old, everything_old)
        return {"added": added, "removed": removed, "changed": 0, "examples": []}
    old_files, new_files = _changed_parts(old, new, table, everything_old, everything_new)
    if not old_files and not new_files:
        return {"added": 0, "removed": 0, "changed": 0, "examples": []}
    old_t = _relation(old_files, everything_old[0])
    new_t = _relation(new_files, everything_new[0])
    shared = set(_columns(con, old_t)) & set(_columns(con, new_t))
    values = [c for c in lake.TABLES[table] if c not in key and c != "release_id" and c in shared]
    on = " AND ".join(f"s.{c} IS NOT DISTINCT FROM c.{c}" for c in key)
    differs = " OR ".join(f"s.{c} IS DISTINCT FROM c.{c}" for c in values) or "false"
    if (
        table in lake.CELL_KEYS
        and old_files
        and "release_id" in shared
        and _later(old.name, new_id or new.name)
    ):
        written = _written_since(con, old_t, new_t, key, on, differs, values)
        if written is not None:
            return written
    joined = f"{new_t} s FULL OUTER JOIN {old_t} c ON {on}"
    added, removed, changed = con.execute(
        f"""SELECT count(*) FILTER (WHERE c.{key[0]} IS NULL AND s.{key[0]} IS NOT NULL),
                   count(*) FILTER (WHERE s.{key[0]} IS NULL AND c.{key[0]} IS NOT NULL),
                   count(*) FILTER (WHERE c.{key[0]} IS NOT NULL AND s.{key[0]} IS NOT NULL
                                    AND ({differs}))
            FROM {joined}"""
    ).fetchone()
    found = examples(con, joined, [], key, values) if added or removed or changed else []
    return {"added": added, "removed": removed, "changed": changed, "examples": found}


def _later(old: str, new: str) -> bool:
    """Whether both are release ids and ``new`` is the later release."""
    before, after = bundles.release_order(old), bundles.release_order(new)
    return before[1] >= 0 and after[1] >= 0 and before < after


def _written_since(
    con: duckdb.DuckDBPyConnection,
    old_t: str,
    new_t: str,
    key: list[str],
    on: str,
    differs: str,
    values: list[str],
) -> dict[str, Any] | None:
    """The diff of a big table from the rows ``new`` holds that no release of ``old`` wrote
    (``new`` a later release of the same warehouse than ``old``).

    Every row carries the release that wrote it, and a release rewrites only the rows it
    changes (or the whole scope it replaces, stamping each row). A row of ``new`` stamped
    with a release whose rows ``old`` also holds was written at or before ``old`` and never
    rewritten since: it is in ``old`` unchanged. So only the other rows (``written``, a few
    for a revision) are joined with ``old``, which is read once with a filter on their keys.
    Removed rows are counted (``old`` = unchanged + rewritten + removed); when there are any,
    None: the caller joins everything, to show them.
    """
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE old_releases AS SELECT DISTINCT release_id FROM {old_t}"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE written AS SELECT * FROM {new_t} "
        "WHERE release_id NOT IN (SELECT release_id FROM old_releases)"
    )
    keys = ", ".join(key)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE rewritten AS SELECT c.* FROM {old_t} c "
        f"SEMI JOIN (SELECT {keys} FROM written) s ON {on}"
    )
    n_old, n_new, n_written, n_rewritten = con.execute(
        f"SELECT (SELECT count(*) FROM {old_t}), (SELECT count(*) FROM {new_t}), "
        "(SELECT count(*) FROM written), (SELECT count(*) FROM rewritten)"
    ).fetchone()  # type: ignore[misc]
    removed = n_old - (n_new - n_written) - n_rewritten
    if removed:
        return None
    joined = "written s FULL OUTER JOIN rewritten c ON " + on
    added, changed = con.execute(
        f"""SELECT count(*) FILTER (WHERE c.{key[0]} IS NULL),
                   count(*) FILTER (WHERE c.{key[0]} IS NOT NULL AND ({differs}))
            FROM {joined}"""
    ).fetchone()  # type: ignore[misc]
    found = examples(con, joined, [], key, values) if added or changed else []
    return {"added": added, "removed": 0, "changed": changed, "examples": found}


def _figures(bundle: Path) -> dict[str, dict[str, Any]]:
    path = bundle / "figures.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def figure_changes(old: Path, new: Path) -> list[dict[str, Any]]:
    """Figures (by id) whose value, text or status differs, old → new, with both references."""
    before, after = _figures(old), _figures(new)
    changes = []
    for fid in sorted(set(before) | set(after)):
        a, b = before.get(fid, {}), after.get(fid, {})
        fields = ("value", "text", "status", "reference")
        same_error = _error(a, old.name) == _error(b, new.name)
        if all(a.get(f) == b.get(f) for f in fields) and same_error:
            continue
        changes.append(
            {
                "id": fid,
                "old": a.get("text", a.get("error")),
                "new": b.get("text", b.get("error")),
                "old_value": a.get("value"),
                "new_value": b.get("value"),
                "old_reference": a.get("reference"),
                "new_reference": b.get("reference"),
            }
        )
    return changes


def _error(figure: dict[str, Any], release_id: str) -> str | None:
    """A figure's error without its release id: the same missing figure in two releases is
    no change."""
    error = figure.get("error")
    return None if error is None else str(error).replace(release_id, "<release>")


# Comparing two bundles joins every row of the big tables by key: bounded like the load
# (DuckDB's default would take 80 % of the machine's memory), spilling to a temporary folder.
DIFF_MEMORY_LIMIT = "512MB"


def diff_bundles(old: Path, new: Path, *, new_id: str | None = None) -> dict[str, Any]:
    """``old`` → ``new``; ``new_id``: the release ``new`` holds when its folder is not named
    after it (a bundle being written)."""
    with tempfile.TemporaryDirectory(prefix="bls-diff-") as spill:
        con = duckdb.connect(
            config={
                "memory_limit": DIFF_MEMORY_LIMIT,
                "preserve_insertion_order": False,
                "temp_directory": spill,
            }
        )
        try:
            tables = {t: table_diff(con, old, new, t, new_id=new_id) for t in COMPARED}
        finally:
            con.close()
    return {"old": old.name, "new": new.name, "tables": tables, "figures": figure_changes(old, new)}


def key_text(table: str, key: dict[str, Any]) -> str:
    """A row's key as a person reads it: the figure first (29-2072 annual_median), then where."""
    if table == "oews_estimates":
        where = (
            f"area {key['area_code']}, industry {key['industry_code']}, {key['ownership']}, "
            f"May {key['reference_year']}"
        )
        return f"{key['soc_code']} {key['measure']} ({where})"
    if table == "projections":
        return f"{key['soc_code']} ({key['cycle']})"
    return ", ".join(f"{k} {v}" for k, v in key.items())


def _shown(value: Any) -> str:
    return "null" if value is None else str(value)


def example_text(table: str, example: dict[str, Any]) -> str:
    """One changed row: ``29-2072 annual_median (…): value 51140 → 51150``."""
    where = key_text(table, example["key"])
    if example.get("added"):
        return f"{where}: added"
    if example.get("removed"):
        return f"{where}: removed"
    changed = "; ".join(
        f"{column} {_shown(old)} → {_shown(new)}"
        for column, (old, new) in example.get("changes", {}).items()
    )
    return f"{where}: {changed}"


def diff_markdown(diff: dict[str, Any]) -> list[str]:
    lines = ["| table | rows added | rows removed | rows changed |", "|---|---:|---:|---:|"]
    for table, d in diff["tables"].items():
        lines.append(f"| {table} | {d['added']:,} | {d['removed']:,} | {d['changed']:,} |")
    named = [(t, e) for t, d in diff["tables"].items() for e in d.get("examples", [])]
    if named:
        lines += ["", "### Rows that changed (up to 10 per table)", ""]
        lines += [f"- {table}: {example_text(table, e)}" for table, e in named]
    lines += ["", "### Figures that changed", ""]
    if not diff["figures"]:
        lines.append("None of the figures in figures.yaml changed.")
    for f in diff["figures"]:
        lines.append(
            f"- `{f['id']}`: {f['old'] or '(none)'} ({f['old_reference'] or '-'}) → "
            f"{f['new'] or '(none)'} ({f['new_reference'] or '-'})"
        )
    return lines
