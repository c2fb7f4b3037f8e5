"""The refresh flow: fetch every source that has an extractor (or some of them), then
release what changed (flows/release.py: stage → load as one snapshot → publish).

Which sources there are, and how each is fetched, staged and loaded: flows/sources.py.
Flows only compose; parsing lives in ``transforms/``, SQL in ``warehouse/``.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from prefect import flow, get_run_logger, task

from core.lock import refresh_lock
from core.paths import DataPaths
from extractors.http import Fetcher, HttpPolicy, require_contact
from extractors.rawstore import RawStore
from extractors.source import Source
from flows.release import RefreshOutcome, recover_unpublished, release_if_changed
from flows.sources import REFRESHED, SOURCES, LoadKey, fetcher_of

__all__ = ["RefreshOutcome", "fetch", "refresh"]


@task(
    name="fetch",
    task_run_name="fetch-{kind}",
    # Not retried here: the Fetcher's per-file budget (extractors/http.py) is the only retry
    # layer. A task retry would multiply it and re-fetch every file of the kind.
    retries=0,
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
    fetcher = Fetcher(
        RawStore(paths.raw),
        contact=contact,
        policy=HttpPolicy.from_env(),
        on_body=SOURCES[kind].warm_up,
    )
    try:
        fetched = fetcher_of(kind)(fetcher, src)
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
    ``kinds`` limits the run to some sources (default: every one with an extractor,
    ``flows.sources.REFRESHED``).
    """
    paths = DataPaths.resolve(data_dir)
    data_dir = str(paths.root)
    contact = contact or os.environ.get("BLS_CONTACT_EMAIL")
    with refresh_lock(paths):
        recovered = recover_unpublished(data_dir)
        fetched = {
            LoadKey(kind): fetch(kind, data_dir, source, contact) for kind in (kinds or REFRESHED)
        }
        outcome = release_if_changed(
            paths, fetched, allow_row_count_change, "Nothing changed upstream"
        )
        return dataclasses.replace(outcome, recovered=recovered)
