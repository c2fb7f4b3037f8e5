"""What changed between two published releases: rows per table, and the content team's figures.

Works on the immutable bundles (parquet + figures.json), so it needs neither the lake nor
Prefect, and gives the same answer whenever it is asked.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

from warehouse import lake

COMPARED = [t for t in lake.TABLES if t not in ("releases", "raw_files")]


def _table(bundle: Path, name: str) -> str:
    return "read_parquet('" + str(bundle / f"{name}.parquet").replace("'", "''") + "')"


def table_diff(con: duckdb.DuckDBPyConnection, old: Path, new: Path, table: str) -> dict[str, int]:
    key = lake.PRIMARY_KEYS[table]
    values = [c for c in lake.TABLES[table] if c not in key and c != "release_id"]
    if not (old / f"{table}.parquet").exists():
        count = con.execute(f"SELECT count(*) FROM {_table(new, table)}").fetchone()[0]
        return {"added": count, "removed": 0, "changed": 0}
    on = " AND ".join(f"a.{c} IS NOT DISTINCT FROM b.{c}" for c in key)
    differs = " OR ".join(f"a.{c} IS DISTINCT FROM b.{c}" for c in values) or "false"
    added, removed, changed = con.execute(
        f"""SELECT count(*) FILTER (WHERE a.{key[0]} IS NULL AND b.{key[0]} IS NOT NULL),
                   count(*) FILTER (WHERE b.{key[0]} IS NULL AND a.{key[0]} IS NOT NULL),
                   count(*) FILTER (WHERE a.{key[0]} IS NOT NULL AND b.{key[0]} IS NOT NULL
                                    AND ({differs}))
            FROM {_table(old, table)} a FULL OUTER JOIN {_table(new, table)} b ON {on}"""
    ).fetchone()
    return {"added": added, "removed": removed, "changed": changed}


def _figures(bundle: Path) -> dict[str, dict[str, Any]]:
    path = bundle / "figures.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def figure_changes(old: Path, new: Path) -> list[dict[str, Any]]:
    """Figures (by id) whose value, text or status differs, old → new, with both references."""
    before, after = _figures(old), _figures(new)
    changes = []
    for fid in sorted(set(before) | set(after)):
        a, b = before.get(fid, {}), after.get(fid, {})
        fields = ("value", "text", "status", "error")
        if all(a.get(f) == b.get(f) for f in fields) and a.get("reference") == b.get("reference"):
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


def diff_bundles(old: Path, new: Path) -> dict[str, Any]:
    con = duckdb.connect()
    try:
        tables = {t: table_diff(con, old, new, t) for t in COMPARED}
    finally:
        con.close()
    return {"old": old.name, "new": new.name, "tables": tables, "figures": figure_changes(old, new)}


def diff_markdown(diff: dict[str, Any]) -> list[str]:
    lines = ["| table | rows added | rows removed | rows changed |", "|---|---:|---:|---:|"]
    for table, d in diff["tables"].items():
        lines.append(f"| {table} | {d['added']:,} | {d['removed']:,} | {d['changed']:,} |")
    lines += ["", "### Figures that changed", ""]
    if not diff["figures"]:
        lines.append("None of the figures in figures.yaml changed.")
    for f in diff["figures"]:
        lines.append(
            f"- `{f['id']}`: {f['old'] or '(none)'} ({f['old_reference'] or '-'}) → "
            f"{f['new'] or '(none)'} ({f['new_reference'] or '-'})"
        )
    return lines
