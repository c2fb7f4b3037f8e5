"""``bls-refresh ingest``: load files a person downloaded by hand, like any refresh.

Each file is copied into the raw store unchanged, recognised from its content
(``transforms.detect``), then staged, validated, loaded and published by the same tasks
as the scheduled refresh.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from prefect import flow, get_run_logger, task

from core.errors import ValidationError
from core.lock import refresh_lock
from core.paths import DataPaths
from extractors import oews as oews_extractor
from extractors.http import Fetcher
from extractors.rawstore import RawStore
from flows.refresh import (
    RefreshOutcome,
    recover_unpublished,
    release_if_changed,
    unchanged_outcome,
)
from transforms.detect import detect
from warehouse import load


@task(name="store-and-detect")
def store_and_detect(data_dir: str, files: list[str]) -> dict[str, dict[str, dict[str, object]]]:
    """Copy every file into the raw store and sort them by kind: kind → name → manifest row."""
    logger = get_run_logger()
    paths = DataPaths(Path(data_dir))
    store = RawStore(paths.raw)
    fetcher = Fetcher(store)
    by_kind: dict[str, dict[str, dict[str, object]]] = {}
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
            # Each special-request file is a load of its own (one May reference year each).
            special = found.kind == "oews_special"
            kind = f"{found.kind}/{path.name}" if special else found.kind
            name = path.name if special else found.name
            group = by_kind.setdefault(kind, {})
            if name in group:
                raise ValidationError(path.name, "one file per role", f"two files are both {name}")
            group[name] = {
                **dataclasses.asdict(stored.record),
                "local_path": str(stored.path),
                "given_as": str(path),
            }
    finally:
        fetcher.close()
    if "oews" in by_kind:
        by_kind["oews"] = complete_oews(paths, by_kind["oews"])
    return by_kind


def complete_oews(
    paths: DataPaths, given: dict[str, dict[str, object]]
) -> dict[str, dict[str, object]]:
    """Lookups not given alongside an OEWS file are taken from the newest release's copies."""
    missing = [name for name in oews_extractor.FILES if name not in given]
    if not missing:
        return given
    last = load.latest_release(paths) or {}
    previous: dict[str, dict[str, object]] = last.get("sources", {}).get("oews", {})  # type: ignore[union-attr]
    store = RawStore(paths.raw)
    completed = dict(given)
    for name in missing:
        row = previous.get(name)
        if row is None or not store.object_path(str(row["sha256"])).exists():
            raise ValidationError(
                ", ".join(sorted(given)),
                "complete OEWS file set",
                f"loading OEWS needs {', '.join(oews_extractor.FILES)}; {name} was not given and "
                "no earlier release has it — pass it too",
            )
        completed[name] = {**row, "local_path": str(store.object_path(str(row["sha256"])))}
    return completed


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
