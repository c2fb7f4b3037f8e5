"""Publishing: an immutable bundle per release, then an atomic switch of ``latest``.

``data/published/<release>/`` holds one parquet file per table (a folder of one file per
reference year for ``oews_estimates``, whose unchanged years are hard links to the previous
bundle's files, so a release costs what changed), ``datapackage.json`` (Frictionless data
package: sources with URL, vintage and sha256; resources with path, sha256, row count and
schema, and the parts of a partitioned table) and ``RELEASE_NOTES.md``. The bundle is written
under a temporary name and renamed into place when complete; only then does the ``latest``
symlink move (by rename, which is atomic). A crash at any point leaves either no bundle or a
complete one, and the next run publishes whatever release the lake holds but the folder does
not.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import duckdb

from core import sql, timing
from core.errors import AnalystFileError, UnpublishedReleaseError
from core.paths import DataPaths, fsync_dir
from extractors.rawstore import sha256_file
from transforms.columns import drift_note
from warehouse import bundles, lake, series
from warehouse.bundles import (
    bundle_path,
    is_published,
    release_order,
    switch_latest,
)
from warehouse.diff import diff_bundles, diff_markdown, example_text
from warehouse.lake import crash_point  # the crash tests' fault points (one mechanism)
from warehouse.load import loaded_vintage

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


def _write_text(path: Path, text: str) -> None:
    with path.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


@dataclasses.dataclass(frozen=True)
class Previous:
    """The bundle published just before, which unchanged partitions are hard-linked from."""

    bundle: Path
    snapshot: int
    package: dict[str, object]


@dataclasses.dataclass
class Exported:
    """What ``export_tables`` wrote: rows per table, and the parts of each partitioned table
    (as ``datapackage.json`` lists them)."""

    counts: dict[str, int] = dataclasses.field(default_factory=dict)
    parts: dict[str, list[dict[str, object]]] = dataclasses.field(default_factory=dict)


def _select(con: duckdb.DuckDBPyConnection, table: str, snapshot: int) -> str:
    """The release's rows of ``table`` with the published columns, in order. A column added
    after this release's snapshot is exported as nulls of its type."""
    present = lake.columns_at(con, table, snapshot)
    columns = lake.TABLES[table].items()
    selected = [c if c in present else f"NULL::{t} AS {c}" for c, t in columns]
    return f"SELECT {', '.join(selected)} FROM lake.{table} AT (VERSION => {int(snapshot)})"


def _copy(con: duckdb.DuckDBPyConnection, select: str, target: Path) -> int:
    target.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY ({select}) TO {sql.string(target)} (FORMAT parquet, COMPRESSION zstd)")
    return _parquet_rows(con, target)


def _parquet_rows(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    """Rows of a parquet file, from its footer."""
    found = con.execute("SELECT num_rows FROM parquet_file_metadata(?)", [str(path)]).fetchone()
    return int(found[0]) if found else 0


def _link(source: Path, target: Path) -> None:
    """``target`` becomes the same file as ``source`` (a copy where hard links cannot be made:
    another file system)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def export_tables(
    con: duckdb.DuckDBPyConnection,
    snapshot: int,
    out_dir: Path,
    *,
    previous: Previous | None = None,
) -> Exported:
    """Every table of the release at ``snapshot`` as parquet in ``out_dir``.

    A partitioned table (``bundles.PARTITIONED``) is one file per partition. A partition the
    release did not change since ``previous`` is a hard link to that bundle's file (same
    bytes, same sha256); a changed partition whose rows are exactly one file of the lake with
    the published columns is a hard link to that file (the staged file the lake adopted is
    not written twice); any other is exported from the lake."""
    done = Exported()
    for table in lake.TABLES:
        if table in bundles.PARTITIONED:
            _export_partitioned(con, table, snapshot, out_dir, previous, done)
            if table in done.parts:
                continue
        select = _select(con, table, snapshot)
        if table not in bundles.PARTITIONED:
            select += f" ORDER BY {', '.join(lake.PRIMARY_KEYS[table])}"
        done.counts[table] = _copy(con, select, out_dir / f"{table}.parquet")
    return done


def _changed_values(
    con: duckdb.DuckDBPyConnection, table: str, snapshot: int, previous: Previous | None
) -> tuple[set[object] | None, dict[str, dict[str, object]]]:
    """(partition values whose rows changed since ``previous``, the previous bundle's parts);
    None when every partition must be exported (no previous partitioned bundle, or the
    table's columns changed in between). DuckLake's change feed lists the rows inserted and
    deleted between the two snapshots, whatever wrote them (files, inlined rows, deletes)."""
    if previous is None:
        return None, {}
    before = bundles.parts(previous.package, table)  # type: ignore[arg-type]
    if not before or previous.snapshot > snapshot:
        return None, {}
    if lake.columns_at(con, table, previous.snapshot) != lake.columns_at(con, table, snapshot):
        return None, {}
    if previous.snapshot == snapshot:
        return set(), before
    column = bundles.PARTITIONED[table]
    found = con.execute(
        f"SELECT DISTINCT {column} FROM ducklake_table_changes('lake', 'main', ?, ?, ?)",
        [table, previous.snapshot + 1, snapshot],
    ).fetchall()
    return {r[0] for r in found}, before


def _export_partitioned(
    con: duckdb.DuckDBPyConnection,
    table: str,
    snapshot: int,
    out_dir: Path,
    previous: Previous | None,
    done: Exported,
) -> None:
    column = bundles.PARTITIONED[table]
    changed, before = _changed_values(con, table, snapshot, previous)
    at = f"lake.{table} AT (VERSION => {int(snapshot)})"
    if changed is None:
        found = con.execute(f"SELECT DISTINCT {column} FROM {at} ORDER BY 1").fetchall()
        changed = {r[0] for r in found}
    parts: dict[str, dict[str, object]] = {}
    for name, part in before.items():  # unchanged partitions: the previous bundle's file
        if part["value"] in changed:
            continue
        _link(previous.bundle / name, out_dir / name)  # type: ignore[union-attr]
        parts[name] = part
    select = _select(con, table, snapshot)
    for value in sorted(changed, key=lambda v: (v is None, v)):
        if value is None:  # a key column: never null in the lake; refuse rather than drop
            raise RuntimeError(f"{table} holds rows without {column}; they cannot be published")
        name = bundles.part_name(table, value)
        target = out_dir / name
        rows = con.execute(f"SELECT count(*) FROM {at} WHERE {column} = ?", [value]).fetchone()[0]
        if not rows:
            continue  # the partition's rows were all removed
        own = _lake_file_of(con, table, snapshot, column, value, rows)
        if own is not None:
            _link(own, target)
        else:
            _copy(con, f"{select} WHERE {column} = {sql.literal(value)}", target)
        parts[name] = {
            "path": name,
            "value": value,
            "rows": rows,
            "bytes": target.stat().st_size,
            "sha256": sha256_file(target),
        }
    if not parts:
        return  # no rows at all: published as one (empty) file, like any table
    done.parts[table] = [parts[n] for n in sorted(parts, key=lambda n: parts[n]["value"])]  # type: ignore[arg-type,return-value]
    done.counts[table] = sum(int(p["rows"]) for p in parts.values())  # type: ignore[call-overload]


def _lake_file_of(
    con: duckdb.DuckDBPyConnection, table: str, snapshot: int, column: str, value: object, rows: int
) -> Path | None:
    """The lake's data file that holds exactly the partition's rows at ``snapshot`` with the
    published columns, in order; None when the rows are spread over files, mixed with other
    partitions' rows, partly deleted or inlined, or stored with other columns.

    Which files hold the partition is asked of the lake itself (its ``filename`` column):
    DuckLake prunes the other files by the statistics in its catalog, so this reads one
    year's column, not the footer of every file the table has (one more for each year held).
    """
    at = f"lake.{table} AT (VERSION => {int(snapshot)})"
    found = con.execute(f"SELECT DISTINCT filename FROM {at} WHERE {column} = ?", [value])
    holding = found.fetchall()
    if len(holding) != 1 or holding[0][0] is None:
        return None  # spread over files, or inlined in the catalog
    files = dict(
        con.execute(
            "SELECT data_file, delete_file FROM ducklake_list_files('lake', ?, "
            "snapshot_version => ?)",
            [table, snapshot],
        ).fetchall()
    )
    name = str(holding[0][0])
    if name not in files or files[name] is not None:
        return None  # not a data file of the table as listed, or rows deleted from it
    path = Path(name)
    if _parquet_rows(con, path) != rows:
        return None  # other partitions' rows in the same file
    described = con.execute(f"DESCRIBE SELECT * FROM {sql.read_parquet(path)}").fetchall()
    if [(c, kind) for c, kind, *_ in described] != list(lake.TABLES[table].items()):
        return None
    return path


def datapackage(release: dict[str, object], out_dir: Path, exported: Exported) -> dict[str, object]:
    resources = []
    for table, columns in lake.TABLES.items():
        resource: dict[str, object] = {
            "name": table,
            "format": "parquet",
            "mediatype": PARQUET_MEDIATYPE,
            "description": TABLE_DESCRIPTIONS[table],
        }
        parts = exported.parts.get(table)
        if parts:
            # Frictionless's multipart resource: ``path`` lists the files; each part keeps
            # its own sha256 and row count (an unchanged part is the previous bundle's file).
            resource["path"] = [p["path"] for p in parts]
            resource["bytes"] = sum(int(p["bytes"]) for p in parts)  # type: ignore[call-overload]
            resource["partitioned_by"] = bundles.PARTITIONED[table]
            resource["parts"] = parts
        else:
            path = out_dir / f"{table}.parquet"
            digest = sha256_file(path)
            resource["path"] = path.name
            resource["bytes"] = path.stat().st_size
            resource["hash"] = f"sha256:{digest}"
            resource["sha256"] = digest
        resource["rows"] = exported.counts[table]
        resource["schema"] = {
            "fields": [{"name": c, "type": field_type(t)} for c, t in columns.items()],
            "primaryKey": lake.PRIMARY_KEYS[table],
        }
        resources.append(resource)
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
        now = loaded_vintage(release, kind) if kind in loaded else None
        if kind not in loaded:
            note = "unchanged, carried over"
        elif was is None:
            note = "new in this release"
        elif now is not None and now != vintage:
            note = f"still the newest; this release loaded the earlier {now}"
        elif was != vintage:
            note = f"newest, after {was}"  # earlier vintages stay in the tables
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
    findings: dict[str, dict[str, object]] = release.get("findings") or {}  # type: ignore[assignment]
    if findings:
        lines += ["", "## Findings", ""]
        for file, finding in sorted(findings.items()):
            lines += finding_markdown(file, finding)
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


def finding_summary(file: str, finding: dict[str, object]) -> str:
    """One line: which file, which year, and whether it agrees with the source that won."""
    owner = "time-series flat files" if finding["yields_to"] == "oews" else finding["yields_to"]
    head = (
        f"{file}: {finding['vintage']} is loaded from the {owner}, which win; the file was "
        f"compared with them, not loaded over them: "
    )
    counts = f"{int(finding['agree']):,} estimates agree, {int(finding['differ']):,} differ"  # type: ignore[call-overload]
    if finding["unmatched"]:
        counts += f", {int(finding['unmatched']):,} have no counterpart there (not loaded)"  # type: ignore[call-overload]
    return head + counts + "."


def finding_examples(finding: dict[str, object]) -> list[str]:
    """The disagreeing figures, one per line, with both values."""
    examples: list[dict[str, object]] = finding.get("examples") or []  # type: ignore[assignment]
    out = []
    for e in examples:

        def shown(value: object, status: object) -> str:
            return str(value) if value is not None else f"no value ({status})"

        out.append(
            f"{e['soc_code']} {e['measure']} (area {e['area_code']}, industry "
            f"{e['industry_code']}, {e['ownership']}): flat files "
            f"{shown(e['flat_value'], e['flat_status'])}, zip "
            f"{shown(e['zip_value'], e['zip_status'])}"
        )
    more = int(finding["differ"]) - len(examples)  # type: ignore[call-overload]
    if more > 0:
        out.append(f"… and {more:,} more")
    return out


def finding_markdown(file: str, finding: dict[str, object]) -> list[str]:
    return [f"- {finding_summary(file, finding)}"] + [
        f"  - {line}" for line in finding_examples(finding)
    ]


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


# Writes a file of its own into a bundle being made (``figures.json``), before
# ``datapackage.json`` lists and hashes every file. The layer above the warehouse provides it
# (figures.figure.bundle_writer), so the warehouse never imports figures.
BundleWriter = Callable[[Path, str], object]


def publish(paths: DataPaths, release_id: str, *, extras: Sequence[BundleWriter] = ()) -> Path:
    """Write the bundle of ``release_id`` (if not already complete) and point ``latest`` at it.

    ``extras`` each add a file to the bundle (called with the bundle folder and the id)."""
    final = bundle_path(paths, release_id)
    (paths.published / ROLLBACK_PIN).unlink(missing_ok=True)  # a new release supersedes a pin
    if not is_published(paths, release_id):
        work = paths.published / f".tmp-{release_id}"
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
            before = _previous(paths, con, previous)
            # Only now a folder: a release refused above leaves nothing to clean up.
            paths.published.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir()
            with timing.section("publish:export"):
                exported = export_tables(con, snapshot, work, previous=before)
        recorded: dict[str, int] = release["row_counts"]  # type: ignore[assignment]
        counts = exported.counts
        wrong = {t: (recorded.get(t), n) for t, n in counts.items() if recorded.get(t) != n}
        if wrong:
            shutil.rmtree(work, ignore_errors=True)  # refused, not interrupted: nothing to keep
            raise RuntimeError(
                f"release {release_id} records other row counts than its snapshot holds: "
                + ", ".join(f"{t} {r} recorded, {n} exported" for t, (r, n) in wrong.items())
            )
        crash_point("after_parquet")
        with timing.section("publish:figures"):
            for extra in extras:
                extra(work, release_id)
        prev_bundle = bundle_path(paths, str(previous["release_id"])) if previous else None
        with timing.section("publish:notes"):
            diff = (
                diff_bundles(prev_bundle, work, new_id=release_id)
                if prev_bundle is not None and is_published(paths, prev_bundle.name)
                else None
            )
            _write_text(work / "RELEASE_NOTES.md", release_notes(release, previous, diff))
        with timing.section("publish:datapackage"):
            package = datapackage(release, work, exported)
            text = json.dumps(package, indent=2, default=str) + "\n"
            _write_text(work / "datapackage.json", text)
        crash_point("after_datapackage")
        with timing.section("publish:fsync"):
            _fsync_tree(work)
        if final.exists():  # a bundle without datapackage.json is an interrupted copy
            shutil.rmtree(final)
        os.replace(work, final)
        fsync_dir(paths.published)
    crash_point("before_latest")
    switch_latest(paths, release_id)
    with timing.section("publish:analyst_file"):
        write_analyst_db(paths)
    return final


def _previous(
    paths: DataPaths, con: duckdb.DuckDBPyConnection, previous: dict[str, object] | None
) -> Previous | None:
    """The previous release's bundle, if it is complete (else every partition is exported)."""
    if previous is None or not is_published(paths, str(previous["release_id"])):
        return None
    snapshot = lake.snapshot_of(con, str(previous["release_id"]))
    if snapshot is None:
        return None
    bundle = bundle_path(paths, str(previous["release_id"]))
    return Previous(bundle, snapshot, bundles.package(bundle))


def _fsync_tree(folder: Path) -> None:
    """Every file and folder of a bundle on disk before it is renamed into place."""
    for item in sorted(folder.rglob("*"), reverse=True):
        if item.is_dir():
            fsync_dir(item)
        else:
            with item.open("rb") as fh:
                os.fsync(fh.fileno())
    fsync_dir(folder)


@dataclasses.dataclass
class Recovery:
    """What recovery did (each run does it first, under the refresh lock)."""

    published: list[str] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)

    def lines(self) -> list[str]:
        done = [
            f"Published release {r}, which an interrupted run had committed but not published."
            for r in self.published
        ]
        return done + self.notes


def recover(paths: DataPaths, *, extras: Sequence[BundleWriter] = ()) -> Recovery:
    """Undo what a killed or failed run left, in order: the catalog (a half-created one is
    recreated by the next writer; an unreadable one stops here), every release the lake holds
    but ``published/`` lacks, half-written ``.tmp-*`` bundles, ``latest`` behind the newest
    release, and an analyst file that is missing, half-written, or built for another state or
    another location of the data dir. Caller holds the refresh lock."""
    done = Recovery()
    done.notes += lake.repair_catalog(paths)
    for leftover in paths.analyst_db_tmps():
        if leftover.exists():
            leftover.unlink()
            done.notes.append(f"removed {leftover.name}, left by an interrupted rebuild")
    ids = lake.release_ids(paths) if paths.catalog.exists() else []
    for release_id in ids:
        if not is_published(paths, release_id):
            publish(paths, release_id, extras=extras)
            done.published.append(release_id)
    if paths.published.exists():
        for leftover in paths.published.glob(".tmp-*"):
            shutil.rmtree(leftover, ignore_errors=True)
    # A crash between the bundle's rename and the pointer move leaves latest behind the newest
    # release; move it on, unless a person rolled back on purpose.
    pinned = rollback_pin(paths)
    if ids and bundles.latest(paths) != ids[-1] and pinned is None:
        switch_latest(paths, ids[-1])
        write_analyst_db(paths)
        done.notes.append(f"moved latest to {ids[-1]}, the newest release")
    stale = analyst_db_problems(paths, every_release=True)
    if stale:  # including a file it could not inspect: a rebuild is cheap (views only)
        write_analyst_db(paths)
        why = stale[0].removeprefix(ANALYST_DB_BUSY)
        done.notes.append(f"rebuilt {paths.analyst_db.name} for {paths.root}: {why}")
    return done


def publish_pending(paths: DataPaths, *, extras: Sequence[BundleWriter] = ()) -> list[str]:
    """Recovery (see ``recover``); the releases it published."""
    return recover(paths, extras=extras).published


def rollback_pin(paths: DataPaths) -> str | None:
    pin = paths.published / ROLLBACK_PIN
    return pin.read_text(encoding="utf-8").strip() if pin.exists() else None


def rollback(paths: DataPaths, release_id: str) -> None:
    """Point ``latest`` back at an earlier, complete release (a pointer move; nothing deleted).

    The pin keeps recovery from moving ``latest`` forward again; the next new release clears it.
    Refused while a release is committed but not yet published (an interrupted run): the next
    run's recovery would publish it as the newest release and undo the rollback.
    """
    if not is_published(paths, release_id):
        raise KeyError(f"release {release_id} has no complete bundle in {paths.published}")
    pending = [r for r in lake.release_ids(paths) if not is_published(paths, r)]
    if pending:
        raise UnpublishedReleaseError(
            f"release {', '.join(pending)} is in the warehouse but not yet published (a run "
            "was interrupted); publishing it would move latest past this rollback. Run "
            "`bls-refresh verify --repair` to publish it, look at it, then roll back."
        )
    _write_text(paths.published / ROLLBACK_PIN, release_id + "\n")
    switch_latest(paths, release_id)
    write_analyst_db(paths)


def _view_sql(schema: str, table: str, parquet: Path) -> str:
    return f"CREATE VIEW {schema}.{table} AS SELECT * FROM {sql.read_parquet(parquet.as_posix())}"


def _table_view_sql(schema: str, table: str, bundle: Path) -> str:
    """The view of ``table`` in a bundle; an empty view of its columns when the bundle was
    made before the table existed (``soc_crosswalk`` came later than the first releases)."""
    if not bundles.table_files(bundle, table):
        columns = ", ".join(
            f"NULL::{kind} AS {column}" for column, kind in lake.TABLES[table].items()
        )
        return f"CREATE VIEW {schema}.{table} AS SELECT {columns} LIMIT 0"
    return _view_sql(schema, table, bundles.table_path(bundle, table))


def _fill_analyst_db(con: duckdb.DuckDBPyConnection, paths: DataPaths) -> None:
    """The analyst file's views, over absolute paths of this data dir's bundles.

    DuckDB resolves a relative path in a view against the process's working directory, not
    the database file, so the paths are absolute, and the file is rebuilt when the data dir
    moves (``analyst_db_problems`` notices).
    """
    for release_id in bundles.published(paths):
        schema = sql.ident(release_id)
        con.execute(f"CREATE SCHEMA {schema}")
        for table in lake.TABLES:
            con.execute(_table_view_sql(schema, table, bundle_path(paths, release_id)))
        con.execute(series.create_view_sql(schema, lambda t, s=schema: f"{s}.{t}"))
    latest = bundles.latest(paths)
    if latest is not None:
        # The plain views name the release's own folder, not ``latest/``: a connection
        # opened before a publish keeps reading one whole release, never a mix.
        for table in lake.TABLES:
            con.execute(_table_view_sql("main", table, bundle_path(paths, latest)))
        con.execute(series.create_view_sql("main", lambda t: f"main.{t}"))
    con.execute("CHECKPOINT")


def write_analyst_db(paths: DataPaths) -> Path:
    """``data/bls.duckdb``: views over the latest bundle, plus one schema per release.

    Rebuilt in a temporary file and renamed over the old one, so an analyst who has the file
    open keeps a consistent view and the next open sees the new one. If the rebuild fails
    (a full disk), the temporary file and its WAL are removed, the old file stays, and
    AnalystFileError says so; recovery rebuilds it on the next run.
    """
    tmp = paths.analyst_db_tmp
    for leftover in paths.analyst_db_tmps():
        leftover.unlink(missing_ok=True)
    try:
        con = duckdb.connect(str(tmp))
        try:
            _fill_analyst_db(con, paths)
        finally:
            con.close()
        os.replace(tmp, paths.analyst_db)
    except Exception as exc:
        for leftover in paths.analyst_db_tmps():
            with contextlib.suppress(OSError):
                leftover.unlink(missing_ok=True)
        shows = _analyst_db_latest(paths)
        raise AnalystFileError(
            bundles.latest(paths), str(paths.analyst_db), f"{type(exc).__name__}: {exc}", shows
        ) from exc
    return paths.analyst_db


_READ_PARQUET = re.compile(r"read_parquet\('((?:[^']|'')*)'\)")


def _analyst_db_views(paths: DataPaths) -> list[tuple[str, str, Path]]:
    """(schema, view, parquet file) of every view in the analyst file (read-only open)."""
    con = duckdb.connect(str(paths.analyst_db), read_only=True)
    try:
        rows = con.execute(
            "SELECT schema_name, view_name, sql FROM duckdb_views() "
            "WHERE NOT internal AND database_name = current_database()"
        ).fetchall()
    finally:
        con.close()
    views = []
    for schema, view, definition in rows:
        found = _READ_PARQUET.search(definition or "")
        if found:  # a table's file, or the glob of a partitioned table's files
            views.append((schema, view, Path(found.group(1).replace("''", "'"))))
    return views


def _bundle_of(paths: DataPaths, file: Path) -> Path:
    """The bundle folder a view's file (or partition glob) lies in."""
    return bundles.bundle_of(file, paths.published.name) or file.parent


def _names_nothing(file: Path) -> bool:
    """A view's file that does not exist (a glob that matches no file)."""
    if "*" in file.name:
        return not any(file.parent.glob(file.name))
    return not file.exists()


def _analyst_db_latest(paths: DataPaths) -> str | None:
    """The release the analyst file's plain views show (None if unknown)."""
    try:
        views = _analyst_db_views(paths) if paths.analyst_db.exists() else []
    except duckdb.Error:
        return None
    shown = {_bundle_of(paths, file).name for schema, _, file in views if schema == "main"}
    return shown.pop() if len(shown) == 1 else None


def analyst_db_problems(paths: DataPaths, *, every_release: bool = False) -> list[str]:
    """Why ``bls.duckdb`` does not serve the current state of this data dir (empty: it does).

    It must exist once a release is published, name files of this data dir (not of where the
    folder was before a move or copy), show ``latest`` in its plain views, and hold a schema
    for every published release up to ``latest`` (``every_release``: every published release).
    A file another process holds open for writing cannot be inspected: that is reported as
    ``ANALYST_DB_BUSY`` + the reason (recovery rebuilds it anyway; verify only notes it).
    """
    latest = bundles.latest(paths)
    published = bundles.published(paths)
    name = paths.analyst_db
    if not paths.analyst_db.exists():
        return [f"{name} is missing"] if latest or published else []
    try:
        views = _analyst_db_views(paths)
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "lock" in first.lower():
            return [f"{ANALYST_DB_BUSY}{name} is open for writing in another process ({first})"]
        return [f"{name} cannot be opened ({first})"]
    problems: list[str] = []
    here = paths.root.resolve()
    roots = {
        _bundle_of(paths, file).parent.parent.resolve()
        for _, _, file in views
        if _bundle_of(paths, file).parent.name == paths.published.name
    }
    elsewhere = sorted(str(r) for r in roots if r != here)
    if elsewhere or len(roots) != (1 if views else 0):
        problems.append(
            f"{name} was built for the data directory {', '.join(elsewhere) or '(unknown)'}, "
            f"not {paths.root} (the folder was moved or copied since): its views name files "
            "there"
        )
    shown = {_bundle_of(paths, file).name for schema, _, file in views if schema == "main"}
    if latest is not None and shown != {latest}:
        was = ", ".join(sorted(shown)) or "no release"
        problems.append(f"{name} shows {was}, but latest → {latest}")
    expected = [
        r
        for r in published
        if every_release or latest is None or release_order(r) <= release_order(latest)
    ]
    schemas = {schema for schema, _, _ in views}
    lacking = [r for r in expected if r not in schemas]
    if lacking:
        problems.append(f"{name} lacks release(s) {', '.join(lacking)}")
    absent = sorted({str(f) for _, _, f in views if _names_nothing(f)})
    if absent and not elsewhere:
        problems.append(f"{name} names {len(absent)} file(s) that do not exist, e.g. {absent[0]}")
    return problems


# Prefix of the one "problem" that is not one: the file is open for writing elsewhere.
ANALYST_DB_BUSY = "busy: "
