"""The refresh flow: fetch → stage (transform + validate) → load (one snapshot) → publish.

Flows only compose; parsing lives in ``transforms/``, SQL in ``warehouse/``.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.tasks import exponential_backoff

from bls_refresh.errors import FetchError
from bls_refresh.lock import refresh_lock
from bls_refresh.paths import DataPaths
from bls_refresh.staging import StagedLoad
from extractors import oews as oews_extractor
from extractors.http import Fetcher, HttpPolicy, require_contact
from extractors.rawstore import RawStore
from extractors.source import Source
from transforms import oews as oews_transform
from warehouse import load, publish


@dataclasses.dataclass(frozen=True)
class RefreshOutcome:
    changed: bool
    release_id: str | None
    bundle: str | None
    vintages: dict[str, str]
    row_counts: dict[str, int]
    message: str


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


@task(
    name="fetch-oews",
    retries=1,
    retry_delay_seconds=_task_retry_delay(),
    retry_jitter_factor=0.5,
    retry_condition_fn=_transient,
)
def fetch_oews(
    data_dir: str, source: str | None, contact: str | None
) -> dict[str, dict[str, object]]:
    """Conditional GET of every OEWS file; returns manifest rows (with local paths) by name."""
    logger = get_run_logger()
    paths = DataPaths(Path(data_dir))
    src = Source.from_arg(source)
    if src.is_real_bls:
        contact = require_contact(contact)
    fetcher = Fetcher(RawStore(paths.raw), contact=contact, policy=HttpPolicy.from_env())
    try:
        fetched = oews_extractor.fetch_oews(fetcher, src)
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


@task(name="stage-oews")
def stage_oews(data_dir: str, release_id: str, fetched: dict[str, dict[str, object]]) -> StagedLoad:
    paths = DataPaths(Path(data_dir))
    files = {name: Path(str(row["local_path"])) for name, row in fetched.items()}
    sources = {
        name: {k: v for k, v in row.items() if k != "local_path"} for name, row in fetched.items()
    }
    staged = oews_transform.stage_oews(
        files, paths.staging / release_id, release_id=release_id, sources=sources
    )
    get_run_logger().info("OEWS %s staged: %s", staged.vintage, staged.rows())
    return staged


@task(name="load-release")
def load_release(
    data_dir: str, release_id: str, loads: list[StagedLoad], allow_row_count_change: bool
) -> load.Release:
    release = load.load_release(
        DataPaths(Path(data_dir)),
        release_id,
        loads,
        allow_row_count_change=allow_row_count_change,
    )
    get_run_logger().info("release %s committed as one snapshot", release_id)
    return release


@task(name="publish-release")
def publish_release(data_dir: str, release_id: str) -> str:
    bundle = publish.publish(DataPaths(Path(data_dir)), release_id)
    get_run_logger().info("published %s; latest → %s", bundle, release_id)
    return str(bundle)


@task(name="recover-unpublished")
def recover_unpublished(data_dir: str) -> list[str]:
    done = publish.publish_pending(DataPaths(Path(data_dir)))
    if done:
        get_run_logger().warning("published releases a previous run left unpublished: %s", done)
    return done


@flow(name="bls-refresh", log_prints=True)
def refresh(
    data_dir: str = "data",
    source: str | None = None,
    contact: str | None = None,
    allow_row_count_change: bool = False,
) -> RefreshOutcome:
    """Refresh OEWS from BLS (or a mirror) and publish a release if anything changed.

    ``contact`` (default: ``BLS_CONTACT_EMAIL``) goes into the User-Agent; BLS requires it.
    """
    logger = get_run_logger()
    paths = DataPaths.resolve(data_dir)
    data_dir = str(paths.root)
    contact = contact or os.environ.get("BLS_CONTACT_EMAIL")
    with refresh_lock(paths):
        recover_unpublished(data_dir)
        fetched = fetch_oews(data_dir, source, contact)
        sources = {n: {k: v for k, v in r.items() if k != "local_path"} for n, r in fetched.items()}
        if load.unchanged_since_last_release(paths, "oews", sources):
            last = load.latest_release(paths) or {}
            message = (
                f"Nothing changed upstream since release {last.get('release_id')}: no new release."
            )
            logger.info(message)
            return RefreshOutcome(
                changed=False,
                release_id=str(last.get("release_id")),
                bundle=str(publish.bundle_path(paths, str(last.get("release_id")))),
                vintages=dict(last.get("vintages", {})),  # type: ignore[arg-type]
                row_counts=dict(last.get("row_counts", {})),  # type: ignore[arg-type]
                message=message,
            )
        release_id = load.plan_release_id(paths)
        try:
            staged = stage_oews(data_dir, release_id, fetched)
            release = load_release(data_dir, release_id, [staged], allow_row_count_change)
        finally:
            shutil.rmtree(paths.staging / release_id, ignore_errors=True)
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
    )
