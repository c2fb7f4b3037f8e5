"""The refresh flow: fetch → stage (transform + validate) → load (one snapshot) → publish.

Flows only compose; parsing lives in ``transforms/``, SQL in ``warehouse/``.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.tasks import exponential_backoff

from core.errors import FetchError, ValidationError
from core.lock import refresh_lock
from core.paths import DataPaths
from core.staging import StagedLoad
from extractors import oews as oews_extractor
from extractors import projections as projections_extractor
from extractors import soc as soc_extractor
from extractors.http import Fetched, Fetcher, HttpPolicy, require_contact
from extractors.rawstore import RawStore, safe_name
from extractors.source import Source
from figures.figure import bundle_writer
from transforms import oews as oews_transform
from transforms import oews_special as oews_special_transform
from transforms import projections as projections_transform
from transforms import soc as soc_transform
from transforms.columns import drift_note
from warehouse import bundles, load, publish

# kind → how to fetch it (extractors/)
FETCHERS: dict[str, Callable[[Fetcher, Source], dict[str, Fetched]]] = {
    "oews": oews_extractor.fetch_oews,
    "projections": projections_extractor.fetch_projections,
    "soc": soc_extractor.fetch_crosswalk,
}
KINDS = tuple(FETCHERS)


Stager = Callable[[dict[str, Path], Path, str, dict[str, dict[str, object]]], StagedLoad]


def _one_file(stage_file: Callable[..., StagedLoad]) -> Stager:
    """Adapt a transform that stages a single raw file (a workbook, a zip)."""

    def stage_it(
        files: dict[str, Path], out: Path, release_id: str, sources: dict[str, dict[str, object]]
    ) -> StagedLoad:
        ((name, path),) = files.items()
        return stage_file(path, out, release_id=release_id, sources=sources, label=name)

    return stage_it


def _stage_oews(
    files: dict[str, Path], out: Path, release_id: str, sources: dict[str, dict[str, object]]
) -> StagedLoad:
    return oews_transform.stage_oews(files, out, release_id=release_id, sources=sources)


# kind → how to stage it (transforms/). A kind may carry a suffix after "/" (one
# special-request file each): "oews_special/oesm23nat.zip".
STAGERS: dict[str, Stager] = {
    "oews": _stage_oews,
    "projections": _one_file(projections_transform.stage_projections),
    "oews_special": _one_file(oews_special_transform.stage_special),
    "soc": _one_file(soc_transform.stage_crosswalk),
}


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


def _transient(task: object, task_run: object, state: object) -> bool:
    """Retry a whole fetch only for failures that may pass (5xx, timeouts, cut bodies)."""
    try:
        state.result()  # type: ignore[attr-defined]
    except FetchError as exc:
        return exc.status is None or exc.status >= 500 or exc.status == 200
    except Exception:
        return False
    return False


def _task_retry_delay() -> list[float]:
    base = float(os.environ.get("BLS_TASK_RETRY_DELAY", "60"))
    return exponential_backoff(backoff_factor=base)(2) if base > 0 else [0, 0]


# Where a file sits on this machine: for the run only, never recorded in a release.
LOCAL_KEYS = ("local_path", "given_as")


def without_local_path(fetched: dict[str, dict[str, object]]) -> dict[str, dict[str, object]]:
    return {n: {k: v for k, v in r.items() if k not in LOCAL_KEYS} for n, r in fetched.items()}


def _as_given(exc: ValidationError, fetched: dict[str, dict[str, object]]) -> ValidationError:
    """A refused file named as the user gave it (``ingest ~/Downloads/occ (2).xlsx``), not
    only by the role it was recognised in."""
    given = {name: str(row["given_as"]) for name, row in fetched.items() if "given_as" in row}
    label = given.get(exc.file)
    if label is None or Path(label).name == exc.file:
        return exc
    return ValidationError(f"{label} (as {exc.file})", exc.check, exc.detail, exc.examples)


@task(
    name="fetch",
    task_run_name="fetch-{kind}",
    retries=1,
    retry_delay_seconds=_task_retry_delay(),
    retry_jitter_factor=0.5,
    retry_condition_fn=_transient,
)
def fetch(
    kind: str, data_dir: str, source: str | None, contact: str | None
) -> dict[str, dict[str, object]]:
    """Conditional GET of every file of ``kind``; manifest rows (with local paths) by name."""
    logger = get_run_logger()
    paths = DataPaths(Path(data_dir))
    src = Source.from_arg(source)
    if src.is_real_bls:
        contact = require_contact(contact)
    fetcher = Fetcher(RawStore(paths.raw), contact=contact, policy=HttpPolicy.from_env())
    try:
        fetched = FETCHERS[kind](fetcher, src)
    finally:
        fetcher.close()
    out: dict[str, dict[str, object]] = {}
    for name, item in fetched.items():
        logger.info(
            "%s: %s (%s bytes, sha256 %s…)",
            name,
            "downloaded" if item.downloaded else "unchanged upstream",
            f"{item.record.bytes:,}",
            item.record.sha256[:12],
        )
        out[name] = {**dataclasses.asdict(item.record), "local_path": str(item.path)}
    return out


@task(name="stage", task_run_name="stage-{kind}")
def stage(
    kind: str, data_dir: str, release_id: str, fetched: dict[str, dict[str, object]]
) -> StagedLoad:
    """Transform and validate raw files into staged parquet tables (nothing is loaded yet)."""
    paths = DataPaths(Path(data_dir))
    files = {name: Path(str(row["local_path"])) for name, row in fetched.items()}
    try:
        staged = STAGERS[kind.split("/")[0]](
            files,
            paths.staging / release_id / safe_name(kind),
            release_id,
            without_local_path(fetched),
        )
    except ValidationError as exc:
        raise _as_given(exc, fetched) from exc
    logger = get_run_logger()
    logger.info("%s %s staged: %s", kind, staged.vintage, staged.rows())
    for file, columns in sorted(staged.schema_drift.items()):
        logger.warning("schema drift: %s", drift_note(file, columns))
    return staged


@task(name="load-release")
def load_release(
    data_dir: str, release_id: str, loads: list[StagedLoad], allow_row_count_change: bool
) -> load.Release | None:
    release = load.load_release(
        DataPaths(Path(data_dir)),
        release_id,
        loads,
        allow_row_count_change=allow_row_count_change,
    )
    logger = get_run_logger()
    if release is None:
        logger.info("staged content equals what the warehouse holds: no release")
    else:
        logger.info("release %s committed as one snapshot", release_id)
    return release


@task(name="publish-release")
def publish_release(data_dir: str, release_id: str) -> str:
    bundle = publish.publish(DataPaths(Path(data_dir)), release_id, extras=[bundle_writer()])
    get_run_logger().info("published %s; latest → %s", bundle, release_id)
    return str(bundle)


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


def unchanged_outcome(
    paths: DataPaths, why: str, schema_drift: dict[str, list[str]] | None = None
) -> RefreshOutcome:
    last = load.latest_release(paths) or {}
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


def release_if_changed(
    paths: DataPaths,
    found: dict[str, dict[str, dict[str, object]]],
    allow_row_count_change: bool,
    unchanged_why: str,
) -> RefreshOutcome:
    """Release the sources whose bytes differ from the newest release's; else say why not."""
    changed = {
        kind: files
        for kind, files in found.items()
        if not load.unchanged_since_last_release(paths, kind, without_local_path(files))
    }
    if not changed:
        return unchanged_outcome(paths, unchanged_why)
    return release_from(paths, changed, allow_row_count_change)


def release_from(
    paths: DataPaths,
    fetched: dict[str, dict[str, dict[str, object]]],
    allow_row_count_change: bool,
) -> RefreshOutcome:
    """Stage every source in ``fetched`` (kind → files), load them as one release, publish.

    Must run inside a flow holding the refresh lock.
    """
    data_dir = str(paths.root)
    release_id = load.plan_release_id(paths)
    try:
        staged = [stage(kind, data_dir, release_id, files) for kind, files in fetched.items()]
        release = load_release(data_dir, release_id, staged, allow_row_count_change)
    finally:
        shutil.rmtree(paths.staging / release_id, ignore_errors=True)
    drift = {file: cols for load_ in staged for file, cols in sorted(load_.schema_drift.items())}
    if release is None:
        if drift:
            create_markdown_artifact(
                markdown="# Schema drift\n\n"
                + "\n".join(f"- {drift_note(f, c)}" for f, c in drift.items())
                + "\n\nThe content is otherwise what is already loaded: no new release.\n",
                key="schema-drift",
                description="New columns in BLS's files",
            )
        return unchanged_outcome(paths, "The content equals what is already loaded", drift)
    bundle = publish_release(data_dir, release_id)
    notes = (Path(bundle) / "RELEASE_NOTES.md").read_text(encoding="utf-8")
    create_markdown_artifact(
        markdown=notes, key="release-notes", description=f"Release {release_id}"
    )
    create_table_artifact(
        table=[{"table": t, "rows": n} for t, n in release.row_counts.items()],
        key="row-counts",
        description=f"Rows per table in release {release_id}",
    )
    return RefreshOutcome(
        changed=True,
        release_id=release_id,
        bundle=bundle,
        vintages=release.vintages,
        row_counts=release.row_counts,
        message=f"Published release {release_id} at {bundle}",
        schema_drift=drift,
    )


@flow(name="bls-refresh", log_prints=True)
def refresh(
    data_dir: str = "data",
    source: str | None = None,
    contact: str | None = None,
    allow_row_count_change: bool = False,
    kinds: list[str] | None = None,
) -> RefreshOutcome:
    """Refresh OEWS and Employment Projections from BLS (or a mirror); publish if anything changed.

    ``contact`` (default: ``BLS_CONTACT_EMAIL``) goes into the User-Agent; BLS requires it.
    ``kinds`` limits the run to some sources (default: all of them).
    """
    paths = DataPaths.resolve(data_dir)
    data_dir = str(paths.root)
    contact = contact or os.environ.get("BLS_CONTACT_EMAIL")
    with refresh_lock(paths):
        recovered = recover_unpublished(data_dir)
        fetched = {kind: fetch(kind, data_dir, source, contact) for kind in (kinds or KINDS)}
        outcome = release_if_changed(
            paths, fetched, allow_row_count_change, "Nothing changed upstream"
        )
        return dataclasses.replace(outcome, recovered=recovered)
