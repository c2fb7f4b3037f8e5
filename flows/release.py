"""Releasing what changed, shared by every flow that loads sources (``refresh``, ``ingest``):
put right what an interrupted run left → stage each changed source (its registry entry) →
load them as one snapshot → publish the bundle → report.

Flows only compose; parsing lives in ``transforms/``, SQL in ``warehouse/``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
from collections.abc import Iterator
from pathlib import Path

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.futures import wait

from core import timing
from core.errors import ValidationError
from core.paths import DataPaths
from core.staging import PatchBase, StagedLoad
from extractors import oews as oews_extractor
from extractors.rawstore import RawStore, safe_name
from figures.spec import bundle_writer
from flows.sources import SOURCES, Files, LoadKey
from transforms.columns import drift_note
from warehouse import bundles, load, patch, publish


@dataclasses.dataclass(frozen=True)
class RefreshOutcome:
    changed: bool
    release_id: str | None
    bundle: str | None
    vintages: dict[str, str]
    row_counts: dict[str, int]
    message: str
    # file → columns no known column claims, in the files this run staged (whether or not
    # they made a release): the run summary names them.
    schema_drift: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    # What this run first put right after an interrupted one (publish.Recovery.lines()).
    recovered: list[str] = dataclasses.field(default_factory=list)
    # file → what comparing it with the source it yields to found (a special-request zip
    # of a May year the flat files hold), whether or not a release was made
    findings: dict[str, dict[str, object]] = dataclasses.field(default_factory=dict)


# Where a file sits on this machine: for the run only, never recorded in a release.
LOCAL_KEYS = ("local_path", "given_as")


def without_local_path(fetched: Files) -> Files:
    return {n: {k: v for k, v in r.items() if k not in LOCAL_KEYS} for n, r in fetched.items()}


def _as_given(exc: ValidationError, fetched: Files) -> ValidationError:
    """A refused file named as the user gave it (``ingest ~/Downloads/occ (2).xlsx``), not
    only by the role it was recognised in."""
    given = {name: str(row["given_as"]) for name, row in fetched.items() if "given_as" in row}
    label = given.get(exc.file)
    if label is None or Path(label).name == exc.file:
        return exc
    return ValidationError(f"{label} (as {exc.file})", exc.check, exc.detail, exc.examples)


@contextlib.contextmanager
def logged_timings() -> Iterator[None]:
    """Log, at the end of the block, how long each timed section inside it took (its own
    time, without the sections nested in it): one line per task in the run's log."""
    with timing.record() as times:
        yield
    if times.own:
        listed = ", ".join(f"{name} {seconds:.3f} s" for name, seconds in times.own.items())
        get_run_logger().info("timings: %s", listed)


@task(name="recover-unpublished")
def recover_unpublished(data_dir: str) -> list[str]:
    """Put right what an interrupted run left; what was done, in words (the run summary
    prints it: a release published now was not made by this run's downloads)."""
    paths = DataPaths(Path(data_dir))
    if paths.raw.exists():  # partial downloads of a killed run (we hold the lock)
        RawStore(paths.raw).discard_partials()
    # What a killed or failed run left (catalog, bundles, latest, analyst file), and an
    # analyst file built before the data dir was moved or copied: see publish.recover.
    recovery = publish.recover(paths, extras=[bundle_writer()])
    logger = get_run_logger()
    for line in recovery.lines():
        logger.warning("recovery: %s", line)
    return recovery.lines()


@task(name="stage", task_run_name="stage-{key.label}")
def stage(
    key: LoadKey,
    data_dir: str,
    release_id: str,
    fetched: Files,
    base: PatchBase | None = None,
) -> StagedLoad:
    """Transform and validate raw files into staged parquet tables, under their source's
    load policy (nothing is loaded yet). With a ``base`` (:func:`patch_base`), only what
    differs from it is staged when the warehouse can take it as a patch."""
    paths = DataPaths(Path(data_dir))
    files = {name: Path(str(row["local_path"])) for name, row in fetched.items()}
    out = paths.staging / release_id / safe_name(key.label)
    sources = without_local_path(fetched)
    logger = get_run_logger()
    try:
        with logged_timings():
            staged = SOURCES[key.kind].stage(files, out, release_id, sources, base)
            if any(t.patch for t in staged.tables):
                resolved = patch.resolve(paths, staged)
                if isinstance(resolved, str):
                    logger.info("staging the whole file, not a patch: %s", resolved)
                    shutil.rmtree(out, ignore_errors=True)
                    resolved = SOURCES[key.kind].stage(files, out, release_id, sources)
                else:
                    logger.info("staged as a patch: %s", _patch_note(resolved))
                staged = resolved
    except ValidationError as exc:
        raise _as_given(exc, fetched) from exc
    logger.info("%s %s staged: %s", key.label, staged.vintage, staged.rows())
    for file, columns in sorted(staged.schema_drift.items()):
        logger.warning("schema drift: %s", drift_note(file, columns))
    return staged


def _patch_note(staged: StagedLoad) -> str:
    return "; ".join(
        f"{t.table}: {t.patch.old_rows:,} rows of the changed lines replaced by "
        f"{t.patch.new_rows:,}"
        for t in staged.tables
        if t.patch is not None
    )


def patch_base(
    paths: DataPaths, key: LoadKey, files: Files, others: list[LoadKey]
) -> PatchBase | None:
    """The stored data file an OEWS load may be staged against as a patch: the one the
    newest release loaded, when every other file of the load is the same bytes as then and
    no other load of this release writes the same table (two loads of a table in one release
    replace it whole)."""
    if key.kind != "oews" or any(k.kind.startswith("oews") for k in others if k != key):
        return None
    last = load.newest_release_summary(paths)
    previous = (last or {}).get("sources", {}).get("oews")  # type: ignore[union-attr]
    data = oews_extractor.DATA_FILE
    if not previous or data not in previous or data not in files:
        return None
    if set(previous) != set(files) or any(
        str(previous[n]["sha256"]) != str(files[n]["sha256"]) for n in files if n != data
    ):
        return None
    sha = str(previous[data]["sha256"])
    if sha == str(files[data]["sha256"]):
        return None
    stored = RawStore(paths.raw).object_path(sha)
    return PatchBase(stored, sha) if stored.is_file() else None


@task(name="load-release")
def load_release(
    data_dir: str,
    release_id: str,
    loads: list[StagedLoad],
    allow_row_count_change: bool,
    findings: dict[str, dict[str, object]],
) -> load.Release | None:
    with logged_timings():
        release = load.load_release(
            DataPaths(Path(data_dir)),
            release_id,
            loads,
            allow_row_count_change=allow_row_count_change,
            findings_out=findings,
        )
    logger = get_run_logger()
    for file, finding in sorted(findings.items()):
        log = logger.warning if finding["differ"] else logger.info
        log("%s", publish.finding_summary(file, finding))
        for line in publish.finding_examples(finding):
            log("  %s", line)
    if release is None:
        logger.info("staged content equals what the warehouse holds: no release")
    else:
        logger.info("release %s committed as one snapshot", release_id)
    return release


@task(name="publish-release")
def publish_release(data_dir: str, release_id: str) -> str:
    with logged_timings():
        bundle = publish.publish(DataPaths(Path(data_dir)), release_id, extras=[bundle_writer()])
    get_run_logger().info("published %s; latest → %s", bundle, release_id)
    return str(bundle)


def unchanged_outcome(
    paths: DataPaths, why: str, schema_drift: dict[str, list[str]] | None = None
) -> RefreshOutcome:
    last = load.newest_release_summary(paths) or {}
    rid = last.get("release_id")
    message = f"{why} since release {rid}: no new release." if rid else f"{why}: no release."
    get_run_logger().info(message)
    return RefreshOutcome(
        changed=False,
        release_id=str(rid) if rid else None,
        bundle=str(bundles.bundle_path(paths, str(rid))) if rid else None,
        vintages=dict(last.get("vintages", {})),  # type: ignore[arg-type]
        row_counts=dict(last.get("row_counts", {})),  # type: ignore[arg-type]
        message=message,
        schema_drift=dict(schema_drift or {}),
    )


def _already_released(last: dict[str, object] | None, key: LoadKey, files: Files) -> bool:
    """Whether the newest release (``last``, read once per run) holds exactly these bytes for
    the load. A file loaded on its own is named in a release by its content (its year and
    coverage), known only once it is staged: it counts as released when a release has loaded
    the same bytes under any name of its kind (a special-request zip fetched again,
    unchanged)."""
    if last is None:
        return False
    if key.file is not None:
        return all(load.bytes_loaded(last, key.kind, str(row["sha256"])) for row in files.values())
    return load.unchanged_since(last, key.kind, without_local_path(files))


def release_if_changed(
    paths: DataPaths,
    found: dict[LoadKey, Files],
    allow_row_count_change: bool,
    unchanged_why: str,
) -> RefreshOutcome:
    """Release the sources whose bytes differ from the newest release's; else say why not."""
    last = load.newest_release_summary(paths)
    changed = {
        key: files for key, files in found.items() if not _already_released(last, key, files)
    }
    if not changed:
        return unchanged_outcome(paths, unchanged_why)
    return release_from(paths, changed, allow_row_count_change)


def release_from(
    paths: DataPaths, fetched: dict[LoadKey, Files], allow_row_count_change: bool
) -> RefreshOutcome:
    """Stage every load in ``fetched`` (its files by key), load them as one release, publish.

    Must run inside a flow holding the refresh lock.
    """
    data_dir = str(paths.root)
    release_id = load.plan_release_id(paths)
    findings: dict[str, dict[str, object]] = {}
    try:
        # The sources are staged side by side (Prefect's thread pool): the workbooks' parse
        # overlaps the big OEWS staging pass, which runs in DuckDB outside the GIL.
        keys = list(fetched)
        futures = [
            stage.submit(key, data_dir, release_id, files, patch_base(paths, key, files, keys))
            for key, files in fetched.items()
        ]
        wait(futures)  # all of them, before a failure empties the staging folder
        staged = [future.result() for future in futures]
        release = load_release(data_dir, release_id, staged, allow_row_count_change, findings)
    finally:
        shutil.rmtree(paths.staging / release_id, ignore_errors=True)
    drift = {file: cols for load_ in staged for file, cols in sorted(load_.schema_drift.items())}
    if release is None:
        _drift_artifact(drift)
        _findings_artifact(findings)
        return dataclasses.replace(
            unchanged_outcome(paths, "The content equals what is already loaded", drift),
            findings=findings,
        )
    bundle = publish_release(data_dir, release_id)
    _release_artifacts(release, bundle)
    return RefreshOutcome(
        changed=True,
        release_id=release_id,
        bundle=bundle,
        vintages=release.vintages,
        row_counts=release.row_counts,
        message=f"Published release {release_id} at {bundle}",
        schema_drift=drift,
        findings=findings,
    )


def _drift_artifact(drift: dict[str, list[str]]) -> None:
    """New columns in files that made no release still reach the run's artifacts."""
    if not drift:
        return
    create_markdown_artifact(
        markdown="# Schema drift\n\n"
        + "\n".join(f"- {drift_note(f, c)}" for f, c in drift.items())
        + "\n\nThe content is otherwise what is already loaded: no new release.\n",
        key="schema-drift",
        description="New columns in BLS's files",
    )


def _findings_artifact(findings: dict[str, dict[str, object]]) -> None:
    """Findings of a run that made no release still reach the run's artifacts."""
    if not findings:
        return
    lines = [
        line for f, found in sorted(findings.items()) for line in publish.finding_markdown(f, found)
    ]
    create_markdown_artifact(
        markdown="# Findings\n\n" + "\n".join(lines) + "\n",
        key="findings",
        description="Special-request files compared with the time-series flat files",
    )


def _release_artifacts(release: load.Release, bundle: str) -> None:
    """The release notes and the row counts per table, as the run's Prefect artifacts."""
    notes = (Path(bundle) / "RELEASE_NOTES.md").read_text(encoding="utf-8")
    create_markdown_artifact(
        markdown=notes, key="release-notes", description=f"Release {release.release_id}"
    )
    create_table_artifact(
        table=[{"table": t, "rows": n} for t, n in release.row_counts.items()],
        key="row-counts",
        description=f"Rows per table in release {release.release_id}",
    )
