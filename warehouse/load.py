"""Loading staged tables into the lake: one transaction, one snapshot, one release."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from core import sql, timing
from core.errors import ValidationError
from core.paths import DataPaths
from core.staging import LoadPolicy, StagedLoad, StagedTable
from extractors.rawstore import RawStore
from warehouse import bundles, changes, lake

ROW_COUNT_TOLERANCE = 0.20


@dataclasses.dataclass(frozen=True)
class Release:
    release_id: str
    created_at: str
    # What the run reports: the vintage each kind was loaded at in this release (an older
    # cycle says so), and the release's vintage for the kinds carried over.
    vintages: dict[str, str]
    row_counts: dict[str, int]
    loaded: dict[str, dict[str, int]]
    changes: dict[str, dict[str, object]]
    previous: str | None
    # file → header cells no known column claims, for the sources loaded in this release
    schema_drift: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    # What the release records (releases.vintages, datapackage.json, `bls-refresh
    # releases`): the newest vintage loaded so far of each kind.
    named_vintages: dict[str, str] = dataclasses.field(default_factory=dict)
    # file → what comparing it with the source it yields to found (_yield_held_vintages)
    findings: dict[str, dict[str, object]] = dataclasses.field(default_factory=dict)


def fingerprint(sources: dict[str, dict[str, object]]) -> dict[str, str]:
    return {name: str(row["sha256"]) for name, row in sorted(sources.items())}


def latest_release(paths: DataPaths) -> dict[str, object] | None:
    if not paths.catalog.exists():
        return None
    with lake.connect(paths, read_only=True) as con:
        rows = lake.releases(con)
    return rows[-1] if rows else None


def newest_release_summary(paths: DataPaths) -> dict[str, object] | None:
    """The newest release's id, vintages, row counts and source files by kind (each with its
    sha256 and vintage), for the checks of a run that may change nothing.

    Read from the release's published ``datapackage.json`` when its bundle is complete: no
    DuckDB connection (the release ids come from the catalog with sqlite3), so a no-op run
    opens no lake. A release not published yet (an interrupted run, before recovery) is read
    from the lake.
    """
    ids = lake.release_ids(paths)
    if not ids:
        return None
    newest = ids[-1]
    if not bundles.is_published(paths, newest):
        return latest_release(paths)
    pkg = bundles.package(bundles.bundle_path(paths, newest))
    sources: dict[str, dict[str, dict[str, object]]] = {}
    for source in pkg.get("sources", []):
        kind, _, name = str(source["title"]).partition(": ")
        sources.setdefault(kind, {})[name] = {
            "url": source.get("path"),
            "sha256": source["sha256"],
            "bytes": source.get("bytes"),
            "vintage": source.get("vintage"),
        }
    return {
        "release_id": newest,
        "vintages": dict(pkg.get("vintages", {})),
        "row_counts": {
            str(r["name"]): int(r["rows"]) for r in pkg.get("resources", []) if "rows" in r
        },
        "sources": sources,
    }


def unchanged_since(
    last: dict[str, object], kind: str, sources: dict[str, dict[str, object]]
) -> bool:
    """True when the release ``last`` (:func:`newest_release_summary`) already holds exactly
    these bytes for ``kind``."""
    previous = last["sources"].get(kind)  # type: ignore[union-attr]
    return previous is not None and fingerprint(previous) == fingerprint(sources)


def bytes_loaded(last: dict[str, object], kind: str, sha256: str) -> bool:
    """Whether the release ``last`` (:func:`newest_release_summary`) holds a file with these
    bytes for ``kind`` or one of its per-file kinds (``oews_special`` covers
    ``oews_special_2023_national``)."""
    sources: dict[str, dict[str, dict[str, object]]] = last["sources"]  # type: ignore[assignment]
    return any(
        row.get("sha256") == sha256
        for name, files in sources.items()
        if name == kind or name.startswith(kind + "_")
        for row in files.values()
    )


def complete_from_latest_release(
    paths: DataPaths,
    kind: str,
    given: dict[str, dict[str, object]],
    needed: tuple[str, ...],
    title: str,
) -> dict[str, dict[str, object]]:
    """``given`` (file name → manifest row) with the files of ``needed`` it lacks taken from
    the newest release's copies in the raw store (a hand-downloaded OEWS data file, loaded
    with the lookups already held). ValidationError names a file no release has."""
    missing = [name for name in needed if name not in given]
    if not missing:
        return given
    last = latest_release(paths) or {}
    previous: dict[str, dict[str, object]] = last.get("sources", {}).get(kind, {})  # type: ignore[union-attr]
    store = RawStore(paths.raw)
    completed = dict(given)
    for name in missing:
        row = previous.get(name)
        if row is None or not store.object_path(str(row["sha256"])).exists():
            raise ValidationError(
                ", ".join(sorted(given)),
                f"complete {title} file set",
                f"loading {title} needs {', '.join(needed)}; {name} was not given and "
                "no earlier release has it — pass it too",
            )
        completed[name] = {**row, "local_path": str(store.object_path(str(row["sha256"])))}
    return completed


def next_release_id(existing: list[str], today: date) -> str:
    prefix = today.isoformat()
    taken = [int(r.rsplit(".", 1)[1]) for r in existing if r.startswith(prefix + ".")]
    return f"{prefix}.{max(taken, default=0) + 1}"


def plan_release_id(paths: DataPaths, today: date | None = None) -> str:
    return next_release_id(lake.release_ids(paths), today or datetime.now(UTC).date())


_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")


def vintage_year(vintage: str) -> int | None:
    """Where a vintage stands in time: its first year (``May 2024`` → 2024, a projections
    cycle ``2024-34`` → its base year 2024); None for a vintage without a year."""
    found = _YEAR.search(vintage)
    return int(found.group(1)) if found else None


def newest_vintage(held: str | None, loaded: str) -> str:
    """The vintage a release names for a kind: the newer of the one it held and the one
    just loaded. Loading an older cycle or May year (a backfill, a hand-downloaded file)
    adds it to the tables without making it the release's vintage; the same year again
    (a republished file) keeps the loaded text."""
    if held is None:
        return loaded
    held_year, loaded_year = vintage_year(held), vintage_year(loaded)
    if held_year is None or loaded_year is None:
        return loaded  # no year to compare: the last load, as before
    return held if held_year > loaded_year else loaded


def loaded_vintage(release: dict[str, object], kind: str) -> str | None:
    """The vintage ``release`` loaded for ``kind`` (its files' stamp), whether or not it is
    the newest one the release names."""
    files: dict[str, dict[str, object]] = release["sources"].get(kind, {})  # type: ignore[union-attr]
    stamped = [str(row["vintage"]) for row in files.values() if row.get("vintage")]
    if stamped:
        return stamped[0]
    return release["vintages"].get(kind)  # type: ignore[union-attr]


def policy_of(staged: StagedLoad) -> LoadPolicy:
    """How ``staged`` is loaded: the policy its source's registry entry attached."""
    if staged.policy is None:
        raise ValueError(
            f"the {staged.kind} load has no load policy: attach its source's "
            "(LoadPolicy.attach) before loading it"
        )
    return staged.policy


def _held_vintages(
    history: list[dict[str, object]], loads: list[StagedLoad], kind: str
) -> set[str]:
    """Every vintage ``kind`` has loaded, in an earlier release or in this one (not only the
    newest vintage the releases name)."""
    held = {
        vintage
        for r in history
        if kind in r["loaded"]  # type: ignore[operator]
        and (vintage := loaded_vintage(r, kind)) is not None
    }
    return held | {s.vintage for s in loads if s.kind == kind}


# How many disagreeing estimates a finding lists (the count covers them all).
FINDING_EXAMPLES = 10


def _yield_held_vintages(
    con: duckdb.DuckDBPyConnection, history: list[dict[str, object]], loads: list[StagedLoad]
) -> tuple[list[StagedLoad], dict[str, dict[str, object]]]:
    """The loads without the rows they must not write, and what comparing those showed.

    A load whose policy yields to another kind (a special-request zip to the time-series
    flat files) never writes its guarded table (the estimates) for a vintage that kind has
    loaded: the flat files win. Its estimates are compared with theirs instead, and the
    result is a finding (file → counts and the disagreeing figures, both values).
    """
    out: list[StagedLoad] = []
    findings: dict[str, dict[str, object]] = {}
    for staged in loads:
        policy = policy_of(staged)
        owner = policy.yields_to
        if owner is None or staged.vintage not in _held_vintages(history, loads, owner):
            out.append(staged)
            continue
        guarded = policy.guarded_table
        table = next(t for t in staged.tables if t.table == guarded)
        truth = next(
            (
                t
                for other in loads
                if other.kind == owner and other.vintage == staged.vintage
                for t in other.tables
                if t.table == guarded
            ),
            None,
        )
        truth_sql = f"lake.{guarded}" if truth is None else sql.read_parquet(truth.path)
        file = ", ".join(sorted(staged.sources))
        findings[file] = _agreement(con, table, truth_sql, staged.vintage, owner)
        out.append(dataclasses.replace(staged, tables=[t for t in staged.tables if t is not table]))
    return out, findings


_ESTIMATE_KEY = ("area_code", "industry_code", "ownership", "soc_code", "measure")


def _agreement(
    con: duckdb.DuckDBPyConnection, table: StagedTable, truth: str, vintage: str, owner: str
) -> dict[str, object]:
    """Compare a staged estimates file with ``truth`` (the rows of ``owner``) for one year:
    how many estimates agree, differ (a number on one side only counts as differing), and
    have no counterpart; the first disagreements with both values."""
    year = vintage_year(vintage)
    key = ", ".join(_ESTIMATE_KEY)

    def rows(source: str) -> str:
        return (
            f"SELECT {', '.join(f'{c}::VARCHAR AS {c}' for c in _ESTIMATE_KEY)}, "
            "TRY_CAST(value AS DECIMAL(18,3)) AS v, status::VARCHAR AS status "
            f"FROM {source} WHERE reference_year = {int(year or 0)}"
        )

    joined = (
        f"WITH s AS ({rows(sql.read_parquet(table.path))}), t AS ({rows(truth)}) "
        f"SELECT {', '.join(f's.{c}' for c in _ESTIMATE_KEY)}, s.v AS zip_value, "
        "s.status AS zip_status, t.v AS flat_value, t.status AS flat_status, "
        "t.soc_code IS NOT NULL AS matched, "
        "t.soc_code IS NOT NULL AND ((s.v IS NULL) <> (t.v IS NULL) OR s.v <> t.v) AS differs "
        f"FROM s LEFT JOIN t USING ({key})"
    )
    total, matched, differ = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE matched), count(*) FILTER (WHERE differs) "
        f"FROM ({joined})"
    ).fetchone()  # type: ignore[misc]
    cur = con.execute(
        f"SELECT * FROM ({joined}) WHERE differs ORDER BY {key} LIMIT {FINDING_EXAMPLES}"
    )
    names = [d[0] for d in cur.description]
    examples = [
        {
            name: (str(value) if value is not None and name.endswith("_value") else value)
            for name, value in zip(names, row, strict=True)
            if name not in ("matched", "differs")
        }
        for row in cur.fetchall()
    ]
    return {
        "vintage": vintage,
        "yields_to": owner,
        "estimates": int(total),
        "agree": int(matched) - int(differ),
        "differ": int(differ),
        "unmatched": int(total) - int(matched),
        "examples": examples,
    }


def _check_row_count(history: list[dict[str, object]], staged: StagedLoad, allow: bool) -> None:
    """Compare with the newest release that loaded the same kind (none: first load, no check)."""
    if allow:
        return
    policy = policy_of(staged)
    guarded = policy.guarded_table
    for earlier in reversed(history):
        before = earlier["loaded"].get(staged.kind, {}).get(guarded)  # type: ignore[union-attr]
        if before is not None:
            break
    else:
        return
    now = staged.rows()[guarded]
    change = now - before if before else 0
    if change > 0 and not policy.guard_growth:
        return
    if before and abs(change) > ROW_COUNT_TOLERANCE * before:
        bound = "±" if policy.guard_growth else "−"
        raise ValidationError(
            guarded,
            f"row count within {bound}{ROW_COUNT_TOLERANCE:.0%} of the previous release",
            f"{now:,} rows staged vs {before:,} in release {earlier['release_id']} "
            f"({(now - before) / before:+.0%}); if BLS really changed the file, rerun with "
            "--allow-row-count-change",
        )


# Lookup tables whose names several sources give: the time-series lookup files and every
# special-request workbook (its OCC_TITLE, AREA_TITLE, NAICS_TITLE columns).
NAME_TABLES = ("occupations", "areas", "industries")
# Kinds whose names win over any other source's, of any year: the time-series lookups are
# BLS's names for display ("National", "Cross-industry, Private, Federal, State, and Local
# Government"); special-request workbooks print short labels ("U.S.", "Cross-industry").
NAMES_FIRST = frozenset({"oews"})

Rank = tuple[int, int]  # (1 for a NAMES_FIRST kind else 0, reference year): higher wins


def name_rank(kind: str, vintage: str | None) -> Rank | None:
    """How a load's lookup names rank against others'; None for a vintage without a year."""
    year = vintage_year(vintage) if vintage else None
    return None if year is None else (int(kind in NAMES_FIRST), year)


def _release_ranks(history: list[dict[str, object]], table: str) -> dict[str, Rank]:
    """release id → the rank of the names it wrote into ``table``: the highest among the
    kinds it loaded into that table. (A release that loaded several such files counts
    all its names at the highest: a name can only be held too firmly, never relabelled by
    an older file.)"""
    ranks: dict[str, Rank] = {}
    for release in history:
        loaded: dict[str, dict[str, int]] = release["loaded"]  # type: ignore[assignment]
        found = [
            rank
            for kind, tables in loaded.items()
            if table in tables
            and (rank := name_rank(kind, loaded_vintage(release, kind))) is not None
        ]
        if found:
            ranks[str(release["release_id"])] = max(found)
    return ranks


def _names_by_precedence(
    con: duckdb.DuckDBPyConnection, history: list[dict[str, object]], loads: list[StagedLoad]
) -> list[StagedLoad]:
    """Drop the staged lookup rows whose names must not replace the ones held.

    A code keeps the name of the highest-ranked source that named it (:func:`name_rank`):
    the time-series lookups over any special-request file, then the newer reference year;
    a reload of the same rank replaces. A staged row is kept when the lake does not have
    its code, or has it from a source of no higher rank, and no other load of this release
    names it with a higher rank. Only upserted tables are filtered (a table that replaces
    its whole scope must keep every row). The staged file is rewritten beside the original.
    """
    ranked = [(staged, name_rank(staged.kind, staged.vintage)) for staged in loads]
    out: list[StagedLoad] = []
    for staged, rank in ranked:
        if rank is None:
            out.append(staged)
            continue
        tables: list[StagedTable] = []
        for table in staged.tables:
            if table.table not in NAME_TABLES or not table.upsert:
                tables.append(table)
                continue
            held = _release_ranks(history, table.table)
            above = {rid: r for rid, r in held.items() if r > rank}
            rivals = [
                t
                for other, other_rank in ranked
                if other is not staged and other_rank is not None and other_rank > rank
                for t in other.tables
                if t.table == table.table
            ]
            if not above and not rivals:  # the usual case: the newest source of its kind
                tables.append(table)
                continue
            tables.append(_without_outranked(con, table, above, rivals))
        out.append(dataclasses.replace(staged, tables=tables))
    return out


def _without_outranked(
    con: duckdb.DuckDBPyConnection,
    table: StagedTable,
    above: dict[str, Rank],
    rivals: list[StagedTable],
) -> StagedTable:
    """``table`` without the rows whose code the lake holds from a release in ``above``,
    or that a higher-ranked staged table of this release (``rivals``) also holds."""
    key = lake.PRIMARY_KEYS[table.table]
    same = " AND ".join(f"t.{c} IS NOT DISTINCT FROM s.{c}" for c in key)
    conditions = []
    if above:
        ids = ", ".join(sql.literal(rid) for rid in sorted(above))
        # Only what the lake holds (history is never empty here: a rank came from it).
        conditions.append(
            f"NOT EXISTS (SELECT 1 FROM lake.{table.table} t "
            f"WHERE t.release_id IN ({ids}) AND {same})"
        )
    for rival in rivals:
        conditions.append(
            f"NOT EXISTS (SELECT 1 FROM {sql.read_parquet(rival.path)} t WHERE {same})"
        )
    target = table.path.with_name(f"{table.path.stem}.by-precedence.parquet")
    con.execute(
        f"COPY (SELECT s.* FROM {sql.read_parquet(table.path)} s "
        f"WHERE {' AND '.join(conditions)}) TO {sql.string(target)} (FORMAT parquet)"
    )
    rows = con.execute(f"SELECT count(*) FROM {sql.read_parquet(target)}").fetchone()
    return dataclasses.replace(table, path=target, rows=int(rows[0]))


# Timed (core.timing) as "load_release"; less its sections (lake_diff, lake_insert:…,
# lake_row_counts), that is attaching the lake, the checks, the release row and the commit.
@timing.timed("load_release")
def load_release(
    paths: DataPaths,
    release_id: str,
    loads: list[StagedLoad],
    *,
    allow_row_count_change: bool = False,
    now: datetime | None = None,
    findings_out: dict[str, dict[str, object]] | None = None,
) -> Release | None:
    """Load every staged table in one transaction and record the release in it.

    Each load carries its source's LoadPolicy (the rows it replaces, its row-count guard,
    the source it yields to). A staged source whose rows equal what the lake already holds
    for it (same cycle, same content) is skipped; if nothing is left, no release is made
    and None is returned. What comparing a yielding load with the source it yields to found
    (:func:`_yield_held_vintages`) is recorded with the release, and put in
    ``findings_out`` whether or not a release is made.
    """
    created_at = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    for staged in loads:
        policy_of(staged)  # a load without a policy is refused before the lake is opened
    with lake.connect(paths) as con:
        adopted: list[Path] = []  # staged files moved into the lake: deleted on rollback
        # Everything from reading the history to recording the release sees one snapshot.
        con.execute("BEGIN TRANSACTION")
        try:
            history = _history(con, release_id)
            loads, findings = _yield_held_vintages(con, history, loads)
            if findings_out is not None:
                findings_out.update(findings)
            _check(history, loads, allow_row_count_change)
            plan = _compare(con, history, _names_by_precedence(con, history, loads))
            if not plan.loads:
                con.execute("ROLLBACK")
                return None
            _write(con, plan, release_id, paths, adopted)
            release = _record(con, release_id, created_at, history, plan, findings)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            for path in adopted:  # never registered: not the lake's
                path.unlink(missing_ok=True)
            raise
    return release


@dataclasses.dataclass
class _Plan:
    """What a release writes: the loads that change something, and for each of their staged
    tables (by ``id``) the lake's rows in its scope and what loading it changes."""

    loads: list[StagedLoad]
    before: dict[int, int]
    compared: dict[int, changes.Comparison] = dataclasses.field(default_factory=dict)
    summaries: dict[str, dict[str, object]] = dataclasses.field(default_factory=dict)

    def add(self, staged: StagedLoad, found: list[changes.Comparison]) -> None:
        self.loads.append(staged)
        for comparison in found:
            self.compared[id(comparison.table)] = comparison
            name, summary = comparison.table.table, comparison.summary()
            held = self.summaries.get(name)
            merged = summary if held is None else changes.merge_summaries(held, summary)
            self.summaries[name] = merged

    @property
    def twice(self) -> set[str]:
        """Tables staged twice in this release. The second scope may hold rows the first
        just added, so neither its counts before nor its DELETE can be skipped, and it is
        replaced whole (its comparison saw the lake before the first one's rows)."""
        names = [t.table for staged in self.loads for t in staged.tables]
        return {name for name in names if names.count(name) > 1}


def _history(con: duckdb.DuckDBPyConnection, release_id: str) -> list[dict[str, object]]:
    """The releases so far (in a new lake, its tables are created first); a release id
    already taken is refused."""
    lake.ensure_schema(con)
    history = lake.releases(con)
    if release_id in {r["release_id"] for r in history}:
        raise ValueError(f"release {release_id} already exists")
    return history


def _check(history: list[dict[str, object]], loads: list[StagedLoad], allow: bool) -> None:
    """The load policies' row-count guard (of a table the load writes)."""
    for staged in loads:
        if policy_of(staged).guarded_table in staged.rows():
            _check_row_count(history, staged, allow)


@timing.timed("lake_diff")
def _compare(
    con: duckdb.DuckDBPyConnection, history: list[dict[str, object]], loads: list[StagedLoad]
) -> _Plan:
    """Compare every staged table with the lake's rows in its scope; keep the loads that
    change something."""
    tables = [t for staged in loads for t in staged.tables]
    # Every write to the lake is a release (this function), so a lake without releases
    # holds no rows: nothing to count.
    before = _scoped_counts(con, tables) if history else {id(t): 0 for t in tables}
    plan = _Plan([], before)
    for staged in loads:
        found = [changes.compare(con, t, before[id(t)]) for t in staged.tables]
        if not all(c.is_empty for c in found):
            plan.add(staged, found)
    return plan


def _write(
    con: duckdb.DuckDBPyConnection,
    plan: _Plan,
    release_id: str,
    paths: DataPaths,
    adopted: list[Path],
) -> None:
    """Write each load's tables, then record the raw files it came from."""
    twice = plan.twice
    for staged in plan.loads:
        for table in staged.tables:
            comparison = plan.compared[id(table)]
            with timing.section(f"lake_insert:{table.table}"):
                _write_table(con, comparison, plan.before[id(table)], paths, adopted, twice=twice)
        with timing.section("lake_insert:raw_files"):
            _record_raw_files(con, staged, release_id)


def _write_table(
    con: duckdb.DuckDBPyConnection,
    comparison: changes.Comparison,
    before: int,
    paths: DataPaths,
    adopted: list[Path],
    *,
    twice: set[str],
) -> None:
    """Rewrite only the changed cells where few changed; else replace the whole scope."""
    table = comparison.table
    if comparison.delta and table.table not in twice:
        _apply_delta(con, comparison, paths, adopted)
        return
    if table.patch is not None:  # its staged file holds only the changed lines
        raise ValueError(f"{table.table}: a patch can only be applied cell by cell")
    delete = before > 0 or table.table in twice  # else the scope is known empty
    _replace(con, table, paths, adopted, delete=delete)
    if comparison.staged_cells is not None:
        _replace_cells(con, comparison, paths, adopted, delete=delete)
    elif table.table in lake.CELL_KEYS and delete:
        _forget_cells(con, table)


def _record(
    con: duckdb.DuckDBPyConnection,
    release_id: str,
    created_at: str,
    history: list[dict[str, object]],
    plan: _Plan,
    findings: dict[str, dict[str, object]],
) -> Release:
    """Insert the release's row (its vintages, sources, row counts, changes, findings)."""
    previous = history[-1] if history else None
    vintages: dict[str, str] = dict(previous["vintages"]) if previous else {}  # type: ignore[arg-type]
    sources: dict[str, object] = dict(previous["sources"]) if previous else {}  # type: ignore[arg-type]
    for staged in plan.loads:
        # The newest vintage of each kind, whatever order they were loaded in; the
        # sources are the files this release loaded (their rows carry their vintage).
        vintages[staged.kind] = newest_vintage(vintages.get(staged.kind), staged.vintage)
        sources[staged.kind] = staged.sources
    counts = _counts_after(con, previous, plan.loads, plan.before, recount=bool(plan.twice))
    loaded = {s.kind: s.rows() for s in plan.loads}
    drift = {f: cols for s in plan.loads for f, cols in sorted(s.schema_drift.items())}
    record = {
        "release_id": release_id,
        "created_at": created_at,
        "vintages": json.dumps(vintages, sort_keys=True),
        "sources": json.dumps(sources, sort_keys=True),
        "row_counts": json.dumps(counts, sort_keys=True),
        "loaded": json.dumps(loaded, sort_keys=True),
        "changes": json.dumps(plan.summaries, sort_keys=True, default=str),
        "schema_drift": json.dumps(drift, sort_keys=True),
        "findings": json.dumps(findings, sort_keys=True, default=str),
    }
    con.execute(
        f"INSERT INTO lake.releases ({', '.join(record)}) "
        f"VALUES ({', '.join('?' for _ in record)})",
        list(record.values()),
    )
    con.execute("CALL lake.set_commit_message('bls-refresh', ?)", [f"release {release_id}"])
    return Release(
        release_id=release_id,
        created_at=created_at,
        vintages={**vintages, **{staged.kind: staged.vintage for staged in plan.loads}},
        row_counts=counts,
        loaded=loaded,
        changes=plan.summaries,
        previous=str(previous["release_id"]) if previous else None,
        schema_drift=drift,
        named_vintages=vintages,
        findings=findings,
    )


@timing.timed("lake_row_counts")
def _counts_after(
    con: duckdb.DuckDBPyConnection,
    previous: dict[str, object] | None,
    loads: list[StagedLoad],
    before: dict[int, int],
    *,
    recount: bool,
) -> dict[str, int]:
    """Rows per lake table once this release commits (its own row in ``releases`` included).

    Counted from the previous release's counts (every write to the lake is a release) plus
    what this one replaced and added; counted in the lake when that bookkeeping cannot be
    used (``recount``: a table staged twice; or an older release without a count for every
    table).
    Publishing compares these numbers with the rows it exports.
    """
    known: dict[str, int] = (
        dict(previous["row_counts"]) if previous else dict.fromkeys(lake.TABLES, 0)  # type: ignore[arg-type]
    )
    if recount or set(known) != set(lake.TABLES):
        counts = lake.row_counts(con)
        counts["releases"] += 1
        return counts
    counts = dict(known)
    for table in (t for staged in loads for t in staged.tables):
        counts[table.table] += table.rows - before[id(table)]
    counts["raw_files"] += sum(len(staged.sources) for staged in loads)  # _record_raw_files
    counts["releases"] += 1
    return {t: counts[t] for t in lake.TABLES}


def _scoped_counts(con: duckdb.DuckDBPyConnection, tables: list[StagedTable]) -> dict[int, int]:
    """How many lake rows each staged table replaces (keyed by ``id(table)``), in one query."""
    parts: list[str] = []
    params: list[object] = []
    for table in tables:
        where, scope_params = changes.scope_sql(table)
        parts.append(f"SELECT {id(table)}, count(*) FROM lake.{table.table} t WHERE {where}")
        params += scope_params
    if not parts:
        return {}
    return dict(con.execute(" UNION ALL ".join(parts), params).fetchall())


def _replace(
    con: duckdb.DuckDBPyConnection,
    table: StagedTable,
    paths: DataPaths,
    adopted: list[Path],
    *,
    delete: bool,
) -> None:
    """Replace the rows in ``table``'s scope (``delete=False``: the scope is known empty)."""
    columns = list(lake.TABLES[table.table])
    if delete:
        where, params = changes.scope_sql(table)
        con.execute(f"DELETE FROM lake.{table.table} t WHERE {where}", params)
    if _adoptable(con, table):
        _adopt(con, table.table, table.path, paths, adopted)
        return
    con.execute(
        f"INSERT INTO lake.{table.table} ({', '.join(columns)}) "
        f"SELECT {', '.join(columns)} FROM {sql.read_parquet(table.path)}",
    )


def _adoptable(con: duckdb.DuckDBPyConnection, table: StagedTable) -> bool:
    """Whether the lake may take the staged file itself rather than a copy of its rows: the
    load replaces its whole scope (an upsert keeps the scope's other rows), and the file has
    the lake table's exact columns and types, in order (read from its footer only). The big
    OEWS estimates file is written that way; a pandas-staged lookup mostly is not."""
    if table.upsert:
        return False
    found = con.execute(f"DESCRIBE SELECT * FROM {sql.read_parquet(table.path)}").fetchall()
    return [(name, kind) for name, kind, *_ in found] == list(lake.TABLES[table.table].items())


def _adopt(
    con: duckdb.DuckDBPyConnection, table: str, path: Path, paths: DataPaths, adopted: list[Path]
) -> None:
    """Move a staged parquet file with ``table``'s exact schema into the lake's data folder
    and register it, instead of reading and writing every row again.

    The file goes into the table's own DuckLake folder: only there does DuckLake record it
    relative to the data path (anywhere else by its absolute path), which is what lets the
    data dir be moved or copied."""
    target = paths.lake_table_dir(table) / f"staged-{uuid.uuid4().hex}.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(path, target)
    adopted.append(target)
    con.execute("CALL ducklake_add_data_files('lake', ?, ?)", [table, str(target)])


@timing.timed("lake_insert:cells")
def _replace_cells(
    con: duckdb.DuckDBPyConnection,
    comparison: changes.Comparison,
    paths: DataPaths,
    adopted: list[Path],
    *,
    delete: bool,
) -> None:
    """The scope's stored cells become the staged file's (the table was replaced whole)."""
    cells = lake.cells_table(comparison.table.table)
    if delete:
        where, params = changes.scope_sql(comparison.table)
        con.execute(f"DELETE FROM lake.{cells} t WHERE {where}", params)
    staged = comparison.table.cells
    if staged is not None and staged.exists():  # written by the transform with this schema
        _adopt(con, cells, staged, paths, adopted)
    else:
        con.execute(f"INSERT INTO lake.{cells} SELECT * FROM {comparison.staged_cells}")


def _forget_cells(con: duckdb.DuckDBPyConnection, table: StagedTable) -> None:
    """A cell table written outside the cell path (an upsert): its stored cells for the
    year no longer describe its rows; drop them, and the next comparison recomputes them."""
    keys = lake.CELL_KEYS[table.table]
    scope = {c: v for c, v in table.replaces.items() if c in keys}
    cells = lake.cells_table(table.table)
    where = " AND ".join(f"t.{c} = {sql.literal(v)}" for c, v in scope.items()) or "true"
    con.execute(f"DELETE FROM lake.{cells} t WHERE {where}")


def _apply_delta(
    con: duckdb.DuckDBPyConnection,
    comparison: changes.Comparison,
    paths: DataPaths,
    adopted: list[Path],
) -> None:
    """Rewrite only the cells that changed: their rows, and their stored digests.

    The scope then holds exactly the staged rows (unchanged cells are equal by comparison).
    """
    table = comparison.table
    if comparison.new_rows is None:  # no cell changed (another table of the load did)
        if not comparison.stored_cells_complete:  # keep the recomputed cells for next time
            _replace_cells(con, comparison, paths, adopted, delete=True)
        return
    columns = ", ".join(lake.TABLES[table.table])
    cells = lake.cells_table(table.table)
    where, params = changes.scope_sql(table)
    same = " AND ".join(f"x.{k} = t.{k}" for k in lake.CELL_KEYS[table.table])
    changed = comparison.changed_cells
    con.execute(
        f"DELETE FROM lake.{table.table} t USING {changed} x WHERE {where} AND {same}", params
    )
    con.execute(
        f"INSERT INTO lake.{table.table} ({columns}) SELECT {columns} FROM {comparison.new_rows}"
    )
    if comparison.stored_cells_complete:
        con.execute(
            f"DELETE FROM lake.{cells} t USING {changed} x WHERE {where} AND {same}", params
        )
        con.execute(
            f"INSERT INTO lake.{cells} SELECT t.* FROM {comparison.staged_cells} t "
            f"SEMI JOIN {changed} x ON {same}"
        )
    else:  # the lake had no (or incomplete) stored cells for this scope: store them all
        _replace_cells(con, comparison, paths, adopted, delete=True)


def _record_raw_files(con: duckdb.DuckDBPyConnection, staged: StagedLoad, release_id: str) -> None:
    columns = [c for c in lake.TABLES["raw_files"] if c != "release_id"]
    for row in staged.sources.values():
        con.execute(
            f"INSERT INTO lake.raw_files ({', '.join(columns)}, release_id) "
            f"VALUES ({', '.join('?' for _ in columns)}, ?)",
            [*(row.get(c) for c in columns), release_id],
        )
