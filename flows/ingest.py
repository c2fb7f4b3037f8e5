"""``bls-refresh ingest``: load files a person downloaded by hand, like any refresh.

Each file is copied into the raw store unchanged, recognised from its content
(``transforms.detect``) and sorted into the load its source kind makes of it
(flows/sources.py), then released by the same steps as the scheduled refresh
(flows/release.py).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from prefect import flow, get_run_logger, task

from core.errors import ValidationError
from core.lock import refresh_lock
from core.paths import DataPaths
from extractors.http import Fetcher
from extractors.rawstore import RawStore
from flows.release import (
    RefreshOutcome,
    recover_unpublished,
    release_if_changed,
    unchanged_outcome,
)
from flows.sources import SOURCES, Files, LoadKey
from transforms.detect import detect
from warehouse import load


@task(name="store-and-detect")
def store_and_detect(data_dir: str, files: list[str]) -> dict[LoadKey, Files]:
    """Copy every file into the raw store and sort them into loads: key → name → manifest row.
    A load missing files its kind needs takes them from the newest release's copies."""
    logger = get_run_logger()
    paths = DataPaths(Path(data_dir))
    fetcher = Fetcher(RawStore(paths.raw))
    by_load: dict[LoadKey, Files] = {}
    try:
        for file in files:
            path = Path(file).expanduser()
            if not path.is_file():
                raise ValidationError(str(path), "file exists", "no such file")
            stored = fetcher.fetch(str(path), "any")
            try:
                found = detect(stored.path)
            except ValidationError as exc:  # named by its raw-store path: say which file it is
                raise ValidationError(
                    str(path),
                    exc.check,
                    f"{exc.detail} (kept for inspection as {stored.path})",
                    exc.examples,
                ) from exc
            logger.info("%s: %s (%s)", path.name, found.name, found.kind)
            if found.kind == "ignored":
                logger.warning("%s is %s, %s: skipped", path.name, found.name, found.note)
                continue
            source = SOURCES[found.kind]
            name = path.name if source.per_file else found.name
            group = by_load.setdefault(source.key(path.name), {})
            if name in group:
                raise ValidationError(path.name, "one file per role", f"two files are both {name}")
            group[name] = {
                **dataclasses.asdict(stored.record),
                "local_path": str(stored.path),
                "given_as": str(path),
            }
    finally:
        fetcher.close()
    for key, given in by_load.items():
        source = SOURCES[key.kind]
        if source.complete_from_latest_release:
            by_load[key] = load.complete_from_latest_release(
                paths, key.kind, given, source.files, source.title
            )
    return by_load


@flow(name="bls-ingest", log_prints=True)
def ingest(
    files: list[str],
    data_dir: str = "data",
    allow_row_count_change: bool = False,
) -> RefreshOutcome:
    """Load hand-downloaded files (kind and vintage detected from content) as a release."""
    paths = DataPaths.resolve(data_dir)
    with refresh_lock(paths):
        recovered = recover_unpublished(str(paths.root))
        found = store_and_detect(str(paths.root), files)
        if not found:
            outcome = unchanged_outcome(paths, "No loadable file was given")
        else:
            outcome = release_if_changed(
                paths, found, allow_row_count_change, "These files are already loaded"
            )
        return dataclasses.replace(outcome, recovered=recovered)
