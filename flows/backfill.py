"""``bls-refresh backfill``: OEWS wage history from BLS's special-request zips, as one release.

For every May year asked for and every part (``nat``, ``st``, ``ma``, ``in4``;
``extractors.oews_special``) the zip is fetched conditionally into the raw store, one file at
a time with a progress line each; then every zip whose bytes no release has loaded yet is
staged and loaded together (flows/release.py). A zip already stored costs a 304; a repeat
makes no release; a killed backfill, run again, fetches only what it had not finished.

A May year the time-series flat files hold is theirs: its zip is compared with them, never
written over them, and any disagreement is a finding in the release notes.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

from prefect import flow, get_run_logger, task

from core.lock import refresh_lock
from core.paths import DataPaths
from extractors import oews_special
from extractors.http import Fetched, Fetcher, HttpPolicy, Progress, require_contact
from extractors.oews_special import SpecialZip
from extractors.rawstore import RawStore
from extractors.source import Source
from flows.release import RefreshOutcome, recover_unpublished, release_if_changed
from flows.sources import SPECIAL, Files, LoadKey

__all__ = ["backfill"]

# The terminal's progress lines (flows/prefect_logging.yml prints them as they are).
PROGRESS = logging.getLogger("bls_refresh.progress")


def _megabytes(n: int) -> str:
    return f"{n / 1e6:,.1f} MB" if n >= 100_000 else f"{n / 1e3:,.0f} kB"


def _say(logger: logging.Logger | logging.LoggerAdapter[logging.Logger], line: str) -> None:
    """A progress line: in the run's log and Prefect UI, and on the terminal."""
    logger.info("%s", line)
    PROGRESS.info("%s", line)


def _progress(
    logger: logging.Logger | logging.LoggerAdapter[logging.Logger], item: SpecialZip
) -> Progress:
    def told(done: int, total: int | None) -> None:
        if total is not None and done >= total:
            return  # the file's own line says it is done
        of = f" of {_megabytes(total)}" if total else ""
        _say(logger, f"  {item.name}: {_megabytes(done)}{of}")

    return told


@task(name="fetch-special-requests", retries=0)
def fetch_zips(
    data_dir: str,
    source: str | None,
    contact: str | None,
    years: str,
    parts: list[str],
) -> dict[str, dict[str, object]]:
    """Conditional GET of every zip planned; manifest rows (with local paths) by zip name.

    Not retried as a task: the Fetcher's per-file budget is the only retry layer, and the
    zips already fetched stay in the raw store whatever happens to a later one.
    """
    logger = get_run_logger()
    paths = DataPaths(Path(data_dir))
    src = Source.from_arg(source)
    if src.is_real_bls:
        contact = require_contact(contact)
    span = oews_special.parse_years(years, datetime.now(UTC).year)
    plan = oews_special.planned(span, tuple(parts))
    fetcher = Fetcher(
        RawStore(paths.raw),
        contact=contact,
        policy=HttpPolicy.from_env(),
        on_body=SPECIAL.warm_up,
    )
    done = 0

    def on_file(item: SpecialZip, got: Fetched | None) -> None:
        nonlocal done
        done += 1
        step = f"[{done}/{len(plan)}]"
        if got is None:
            _say(logger, f"{step} {item.label}: not published yet, skipped")
            return
        how = "downloaded" if got.downloaded else "unchanged, already stored"
        _say(logger, f"{step} {item.label}: {how}, {_megabytes(got.record.bytes)}")

    try:
        fetched = oews_special.fetch_all(
            fetcher,
            src,
            plan,
            span,
            on_file=on_file,
            progress=lambda item: _progress(logger, item),
        )
    finally:
        fetcher.close()
    return {
        item.name: {**dataclasses.asdict(got.record), "local_path": str(got.path)}
        for item, got in fetched.items()
    }


@flow(name="bls-backfill", log_prints=True)
def backfill(
    years: str = "2012-",
    parts: list[str] | None = None,
    data_dir: str = "data",
    source: str | None = None,
    contact: str | None = None,
    allow_row_count_change: bool = False,
) -> RefreshOutcome:
    """Fetch OEWS special-request zips for ``years`` (``2012-2025``, or ``2012-``: through
    the newest published) and ``parts`` (default ``nat``); load what changed as one release.

    ``contact`` (default: ``BLS_CONTACT_EMAIL``) goes into the User-Agent; BLS requires it.
    """
    paths = DataPaths.resolve(data_dir)
    data_dir = str(paths.root)
    contact = contact or os.environ.get("BLS_CONTACT_EMAIL")
    chosen = list(oews_special.parse_parts(parts or list(oews_special.DEFAULT_PARTS)))
    with refresh_lock(paths):
        recovered = recover_unpublished(data_dir)
        rows = fetch_zips(data_dir, source, contact, years, chosen)
        found: dict[LoadKey, Files] = {SPECIAL.key(name): {name: row} for name, row in rows.items()}
        outcome = release_if_changed(
            paths, found, allow_row_count_change, "Every zip is already loaded"
        )
        return dataclasses.replace(outcome, recovered=recovered)
