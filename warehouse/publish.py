"""Publishing: an immutable bundle per release, then an atomic switch of ``latest``.

``data/published/<release>/`` holds one parquet file per table, ``datapackage.json``
(Frictionless data package: sources with URL, vintage and sha256; resources with path, sha256,
row count and schema) and ``RELEASE_NOTES.md``. The bundle is written under a temporary name
and renamed into place when complete; only then does the ``latest`` symlink move (by rename,
which is atomic). A crash at any point leaves either no bundle or a complete one, and the next
run publishes whatever release the lake holds but the folder does not.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
from pathlib import Path

import duckdb

from bls_refresh.figures import write_figures
from bls_refresh.paths import DataPaths
from extractors.rawstore import sha256_file
from transforms.columns import drift_note
from warehouse import lake
from warehouse.diff import diff_bundles, diff_markdown, example_text

PARQUET_MEDIATYPE = "application/vnd.apache.parquet"
# DuckDB type → Frictionless field type.
_FIELD_TYPES = {
    "VARCHAR": "string",
    "INTEGER": "integer",
    "BIGINT": "integer",
    "DOUBLE": "number",
}

TABLE_DESCRIPTIONS = {
    "occupations": "Occupations (SOC) as OEWS lists them, with hierarchy level.",
    "areas": "OEWS areas: national (N), states (S), metropolitan and nonmetropolitan areas (M).",
    "industries": "OEWS industries (NAICS-based codes; sectors look like 62--63).",
    "oews_estimates": "OEWS estimates, one row per reference year, area, industry, ownership, "
    "occupation and measure; value is null with a status where BLS published none.",
    "oews_footnotes": "Footnote texts of each OEWS reference year, as BLS wrote them.",
    "projections": "Employment Projections by cycle and occupation: employment in persons, "
    "change, openings, self-employed share, median wage and entry requirements.",
    "soc_crosswalk": "BLS's SOC 2010 → 2018 crosswalk: one row per (2010 code, 2018 code) pair.",
    "raw_files": "The raw files each release was built from (URL, sha256, Last-Modified).",
    "releases": "Releases up to and including this one, with vintages and row counts.",
}


def field_type(duck_type: str) -> str:
    return "number" if duck_type.startswith("DECIMAL") else _FIELD_TYPES.get(duck_type, "string")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_text(path: Path, text: str) -> None:
    with path.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def bundle_path(paths: DataPaths, release_id: str) -> Path:
    return paths.published / release_id


def is_published(paths: DataPaths, release_id: str) -> bool:
    return (bundle_path(paths, release_id) / "datapackage.json").is_file()


def export_tables(con: duckdb.DuckDBPyConnection, snapshot: int, out_dir: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table, columns in lake.TABLES.items():
        order = ", ".join(lake.PRIMARY_KEYS[table]) if table != "oews_estimates" else ""
        # A column added after this release's snapshot is exported as nulls of its type.
        present = lake.columns_at(con, table, snapshot)
        selected = [c if c in present else f"NULL::{t} AS {c}" for c, t in columns.items()]
        select = f"SELECT {', '.join(selected)} FROM lake.{table} AT (VERSION => {int(snapshot)})"
        if order:
            select += f" ORDER BY {order}"
        target = out_dir / f"{table}.parquet"
        con.execute(
            f"COPY ({select}) TO '{str(target).replace(chr(39), chr(39) * 2)}' "
            "(FORMAT parquet, COMPRESSION zstd)"
        )
        counts[table] = con.execute(
            "SELECT count(*) FROM read_parquet(?)", [str(target)]
        ).fetchone()[0]
    return counts


def datapackage(
    release: dict[str, object], out_dir: Path, counts: dict[str, int]
) -> dict[str, object]:
    resources = []
    for table, columns in lake.TABLES.items():
        path = out_dir / f"{table}.parquet"
        digest = sha256_file(path)
        resources.append(
            {
                "name": table,
                "path": path.name,
                "format": "parquet",
                "mediatype": PARQUET_MEDIATYPE,
                "description": TABLE_DESCRIPTIONS[table],
                "bytes": path.stat().st_size,
                "hash": f"sha256:{digest}",
                "sha256": digest,
                "rows": counts[table],
                "schema": {
                    "fields": [{"name": c, "type": field_type(t)} for c, t in columns.items()],
                    "primaryKey": lake.PRIMARY_KEYS[table],
                },
            }
        )
    figures = out_dir / "figures.json"
    if figures.exists():
        digest = sha256_file(figures)
        resources.append(
            {
                "name": "figures",
                "path": figures.name,
                "format": "json",
                "mediatype": "application/json",
                "description": "The figures of figures.yaml, formatted for writers, with "
                "reference period, source and status.",
                "bytes": figures.stat().st_size,
                "hash": f"sha256:{digest}",
                "sha256": digest,
            }
        )
    sources = []
    for kind, files in sorted(release["sources"].items()):  # type: ignore[union-attr]
        for name, row in sorted(files.items()):
            sources.append(
                {
                    "title": f"{kind}: {name}",
                    "path": row["url"],
                    "vintage": row.get("vintage") or release["vintages"].get(kind),  # type: ignore[union-attr]
                    "sha256": row["sha256"],
                    "bytes": row["bytes"],
                    "last_modified": row.get("last_modified"),
                    "fetched_at": row.get("fetched_at"),
                }
            )
    return {
        "profile": "data-package",
        "name": "bls-labor-figures",
        "title": "BLS occupational employment and wage figures",
        "version": release["release_id"],
        "created": release["created_at"],
        "vintages": release["vintages"],
        "licenses": [
            {
                "name": "public-domain",
                "title": "U.S. Bureau of Labor Statistics data are in the public domain",
                "path": "https://www.bls.gov/opub/copyright-information.htm",
            }
        ],
        "sources": sources,
        "resources": resources,
    }


def figures_spec() -> Path:
    """The content team's figure definitions: BLS_FIGURES_SPEC, else figures.yaml in the repo."""
    return Path(os.environ.get("BLS_FIGURES_SPEC") or Path(__file__).parent.parent / "figures.yaml")


def release_notes(
    release: dict[str, object],
    previous: dict[str, object] | None,
    diff: dict[str, object] | None = None,
) -> str:
    rid = release["release_id"]
    lines = [f"# Release {rid}", "", f"Created {release['created_at']}."]
    lines.append(
        f"Previous release: {previous['release_id']}." if previous else "This is the first release."
    )
    lines += ["", "## Vintages", ""]
    loaded: dict[str, dict[str, int]] = release["loaded"]  # type: ignore[assignment]
    prev_vintages: dict[str, str] = previous["vintages"] if previous else {}  # type: ignore[assignment]
    for kind, vintage in sorted(release["vintages"].items()):  # type: ignore[union-attr]
        was = prev_vintages.get(kind)
        if kind not in loaded:
            note = "unchanged, carried over"
        elif was is None:
            note = "new in this release"
        elif was != vintage:
            note = f"replaces {was}"
        else:
            note = "reloaded: BLS republished the same vintage with different bytes"
        lines.append(f"- {kind.upper()}: {vintage} ({note})")
    lines += ["", "## Rows per table", "", "| table | rows | change |", "|---|---:|---:|"]
    prev_counts: dict[str, int] = previous["row_counts"] if previous else {}  # type: ignore[assignment]
    for table, count in release["row_counts"].items():  # type: ignore[union-attr]
        before = prev_counts.get(table)
        change = "new" if before is None else f"{count - before:+,}"
        lines.append(f"| {table} | {count:,} | {change} |")
    lines += ["", "## What was loaded", ""]
    lines += describe_changes(release["changes"], prev_counts)  # type: ignore[arg-type]
    drift: dict[str, list[str]] = release.get("schema_drift") or {}  # type: ignore[assignment]
    if drift:
        lines += ["", "## Schema drift", ""]
        lines += [
            "BLS's files carry columns this version does not know. They were not loaded; "
            "everything else was, and every required column was found.",
            "",
        ]
        lines += [f"- {drift_note(file, columns)}" for file, columns in sorted(drift.items())]
    if diff is not None:
        lines += ["", f"## What changed since release {diff['old']}", ""]
        lines += diff_markdown(diff)
    lines += ["", "## Sources loaded in this release", "", "| file | vintage | sha256 | bytes |"]
    lines.append("|---|---|---|---:|")
    for kind in sorted(loaded):
        for _name, row in sorted(release["sources"][kind].items()):  # type: ignore[index]
            digest = f"`{row['sha256'][:12]}…`"
            lines.append(
                f"| {row['url']} | {row.get('vintage', '')} | {digest} | {row['bytes']:,} |"
            )
    lines += ["", "Source: U.S. Bureau of Labor Statistics.", ""]
    return "\n".join(lines)


def rows(n: int) -> str:
    return f"{n:,} row" if n == 1 else f"{n:,} rows"


def describe_changes(
    changes: dict[str, dict[str, object]], prev_counts: dict[str, int]
) -> list[str]:
    """Per loaded table: rows added and removed, and which columns changed in how many rows."""
    if not changes:
        return ["Nothing was loaded in this release."]
    lines = []
    for table, change in sorted(changes.items()):
        added, removed = int(change["added"]), int(change["removed"])  # type: ignore[call-overload]
        columns: dict[str, int] = change["changed"]  # type: ignore[assignment]
        parts = []
        if added:
            parts.append(f"{rows(added)} added")
        if removed:
            parts.append(f"{rows(removed)} removed")
        if columns:
            listed = ", ".join(f"`{c}` in {rows(n)}" for c, n in sorted(columns.items()))
            parts.append(f"changed values: {listed}")
        if not parts:
            parts.append("no change" if table in prev_counts else "new table")
        lines.append(f"- {table}: " + "; ".join(parts))
        examples: list[dict[str, object]] = change.get("examples") or []  # type: ignore[assignment]
        lines += [f"  - {example_text(table, e)}" for e in examples if not e.get("added")]
    return lines


ROLLBACK_PIN = ".rollback"


def crash_point(name: str) -> None:
    """Fault injection for the crash tests: die here (SIGKILL, no cleanup) when asked to."""
    if os.environ.get("BLS_FAULT_KILL_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


def publish(paths: DataPaths, release_id: str) -> Path:
    """Write the bundle of ``release_id`` (if not already complete) and point ``latest`` at it."""
    final = bundle_path(paths, release_id)
    (paths.published / ROLLBACK_PIN).unlink(missing_ok=True)  # a new release supersedes a pin
    if not is_published(paths, release_id):
        paths.published.mkdir(parents=True, exist_ok=True)
        work = paths.published / f".tmp-{release_id}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        with lake.connect(paths, read_only=True) as con:
            history = lake.releases(con)
            ids = [r["release_id"] for r in history]
            if release_id not in ids:
                raise KeyError(f"release {release_id} is not in the warehouse")
            index = ids.index(release_id)
            release, previous = history[index], (history[index - 1] if index else None)
            snapshot = lake.snapshot_of(con, release_id)
            if snapshot is None:
                raise RuntimeError(f"release {release_id} has no snapshot in the warehouse")
            counts = export_tables(con, snapshot, work)
        recorded: dict[str, int] = release["row_counts"]  # type: ignore[assignment]
        wrong = {t: (recorded.get(t), n) for t, n in counts.items() if recorded.get(t) != n}
        if wrong:
            raise RuntimeError(
                f"release {release_id} records other row counts than its snapshot holds: "
                + ", ".join(f"{t} {r} recorded, {n} exported" for t, (r, n) in wrong.items())
            )
        crash_point("after_parquet")
        write_figures(work, release_id, figures_spec())
        prev_bundle = bundle_path(paths, str(previous["release_id"])) if previous else None
        diff = (
            diff_bundles(prev_bundle, work)
            if prev_bundle is not None and is_published(paths, prev_bundle.name)
            else None
        )
        _write_text(work / "RELEASE_NOTES.md", release_notes(release, previous, diff))
        package = datapackage(release, work, counts)
        _write_text(work / "datapackage.json", json.dumps(package, indent=2, default=str) + "\n")
        crash_point("after_datapackage")
        for item in work.iterdir():
            with item.open("rb") as fh:
                os.fsync(fh.fileno())
        _fsync_dir(work)
        if final.exists():  # a bundle without datapackage.json is an interrupted copy
            shutil.rmtree(final)
        os.replace(work, final)
        _fsync_dir(paths.published)
    crash_point("before_latest")
    switch_latest(paths, release_id)
    write_analyst_db(paths)
    return final


def switch_latest(paths: DataPaths, release_id: str) -> None:
    tmp = paths.published / ".latest.tmp"
    tmp.unlink(missing_ok=True)
    os.symlink(release_id, tmp)
    os.replace(tmp, paths.latest)
    _fsync_dir(paths.published)


def current_latest(paths: DataPaths) -> str | None:
    return os.readlink(paths.latest) if paths.latest.is_symlink() else None


def published_releases(paths: DataPaths) -> list[str]:
    if not paths.published.exists():
        return []
    return sorted(
        p.name
        for p in paths.published.iterdir()
        if not p.name.startswith(".") and p.name != "latest" and (p / "datapackage.json").is_file()
    )


def publish_pending(paths: DataPaths) -> list[str]:
    """Recovery: publish every release the lake holds but ``published/`` lacks."""
    if not paths.catalog.exists():
        return []
    with lake.connect(paths, read_only=True) as con:
        ids = [str(r["release_id"]) for r in lake.releases(con)]
    done: list[str] = []
    for release_id in ids:
        if not is_published(paths, release_id):
            publish(paths, release_id)
            done.append(release_id)
    if paths.published.exists():
        for leftover in paths.published.glob(".tmp-*"):
            shutil.rmtree(leftover, ignore_errors=True)
    # A crash between the bundle's rename and the pointer move leaves latest behind the newest
    # release; move it on, unless a person rolled back on purpose.
    pinned = rollback_pin(paths)
    if ids and current_latest(paths) != ids[-1] and pinned is None:
        switch_latest(paths, ids[-1])
        write_analyst_db(paths)
    return done


def rollback_pin(paths: DataPaths) -> str | None:
    pin = paths.published / ROLLBACK_PIN
    return pin.read_text(encoding="utf-8").strip() if pin.exists() else None


def rollback(paths: DataPaths, release_id: str) -> None:
    """Point ``latest`` back at an earlier, complete release (a pointer move; nothing deleted).

    The pin keeps recovery from moving ``latest`` forward again; the next new release clears it.
    """
    if not is_published(paths, release_id):
        raise KeyError(f"release {release_id} has no complete bundle in {paths.published}")
    _write_text(paths.published / ROLLBACK_PIN, release_id + "\n")
    switch_latest(paths, release_id)
    write_analyst_db(paths)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def write_analyst_db(paths: DataPaths) -> Path:
    """``data/bls.duckdb``: views over the latest bundle, plus one schema per release.

    Rebuilt in a temporary file and renamed over the old one, so an analyst who has the file
    open keeps a consistent view and the next open sees the new one.
    """
    tmp = paths.root / ".bls.duckdb.tmp"
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    try:
        for release_id in published_releases(paths):
            schema = _ident(release_id)
            con.execute(f"CREATE SCHEMA {schema}")
            for table in lake.TABLES:
                file = (
                    (paths.published / release_id / f"{table}.parquet")
                    .as_posix()
                    .replace("'", "''")
                )
                con.execute(f"CREATE VIEW {schema}.{table} AS SELECT * FROM read_parquet('{file}')")
        latest = current_latest(paths)
        if latest is not None:
            # The plain views name the release's own folder, not ``latest/``: a connection
            # opened before a publish keeps reading one whole release, never a mix.
            for table in lake.TABLES:
                file = (paths.published / latest / f"{table}.parquet").as_posix().replace("'", "''")
                con.execute(f"CREATE VIEW main.{table} AS SELECT * FROM read_parquet('{file}')")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    os.replace(tmp, paths.analyst_db)
    return paths.analyst_db
