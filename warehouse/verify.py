"""Audit: re-hash every raw file and every published bundle against its manifest, and check
that the warehouse catalog, ``latest`` and the analyst file fit together where the data dir
is now (it may have been moved or copied)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.paths import DataPaths
from extractors.rawstore import RawStore, sha256_file
from warehouse import bundles, lake, publish


class Problem(str):
    """One thing wrong, as a person reads it; ``label`` is how ``bls-refresh verify`` tags it."""

    label = "PROBLEM"


class Mismatch(Problem):
    """A file whose bytes differ from what its manifest (or its name) says."""

    label = "MISMATCH"


REPAIR = "`bls-refresh verify --repair` (or the next `bls-refresh run` or `ingest`)"


def verify(paths: DataPaths) -> tuple[list[str], list[str]]:
    """(problems, summary lines). No problems means every byte is what its manifest says, and
    the catalog, the bundles, ``latest`` and ``bls.duckdb`` agree with one another here."""
    root = paths.root
    if not root.exists():
        return [
            Problem(
                f"data directory {root} does not exist: nothing to verify. Pass --data-dir (or "
                "set BLS_DATA_DIR) to the folder `bls-refresh run` wrote, or make one with "
                "`bls-refresh demo`."
            )
        ], []
    if not root.is_dir():
        return [
            Problem(
                f"{root} is not a directory: nothing to verify. Pass --data-dir (or set "
                "BLS_DATA_DIR) to the folder `bls-refresh run` wrote."
            )
        ], []
    problems: list[str] = []
    summary: list[str] = []
    store = RawStore(paths.raw) if paths.raw.exists() else None
    if store is not None:
        objects = [p for p in store.objects.glob("*/*") if p.is_file()]
        for path in objects:
            digest = sha256_file(path)
            if digest != path.name:
                problems.append(
                    Mismatch(f"raw object {path}: content sha256 {digest} differs from its name")
                )
        referenced = {r.sha256 for r in store.rows() if r.status == 200}
        missing = sorted(h for h in referenced if not store.object_path(h).exists())
        problems += [Mismatch(f"raw manifest names {h} but the object is missing") for h in missing]
        summary.append(f"raw store: {len(objects)} objects re-hashed, {len(referenced)} referenced")
    folders = (  # every bundle folder, complete or not: an incomplete one is a problem
        sorted(
            p
            for p in paths.published.iterdir()
            if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")
        )
        if paths.published.exists()
        else []
    )
    for bundle in folders:
        if not bundles.is_published(paths, bundle.name):
            problems.append(Mismatch(f"bundle {bundle.name}: no datapackage.json (incomplete)"))
            continue
        try:  # a file cut short or edited by hand: reported, and the other bundles checked
            resources = list(bundles.package(bundle)["resources"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            problems.append(
                Mismatch(f"bundle {bundle.name}: datapackage.json cannot be read ({exc})")
            )
            continue
        for resource in resources:
            # A partitioned table lists its files as parts, each with its own sha256.
            for part in resource.get("parts") or [resource]:
                problems += _rehash(bundle, part["path"], part["sha256"])
            if resource.get("parts"):
                problems += _strays(bundle, resource)
        summary.append(f"bundle {bundle.name}: {len(resources)} resources re-hashed")
    if paths.published.is_dir():
        for half in sorted(paths.published.glob(".tmp-*")):
            summary.append(
                f"published/{half.name}: a bundle an interrupted run left half-written (not "
                f"published); {REPAIR} removes it and publishes the release"
            )
    complete = bundles.published(paths)
    problems += _catalog(paths, complete, summary)
    target = bundles.latest(paths)
    if target is not None:
        if not bundles.is_published(paths, target):
            problems.append(
                Problem(
                    f"latest points at {target}, which is not a complete bundle; "
                    f"`bls-refresh rollback RELEASE` points it at a complete one"
                )
            )
        summary.append(f"latest → {target}")
    elif complete:
        problems.append(
            Problem(f"{paths.latest} is missing; {REPAIR} points it at the newest release")
        )
    problems += _analyst_db(paths, summary)
    if not problems and not complete:
        committed = lake.release_ids(paths) if lake.catalog_state(paths).kind == "ready" else []
        problems.append(
            Problem(
                f"no release is published in {root} yet; release {committed[-1]} is committed "
                f"in the warehouse and {REPAIR} publishes it"
            )
            if committed
            else Problem(lake.catalog_problem(paths, lake.CatalogState("missing")))
        )
    return problems, summary


def _rehash(bundle: Path, name: str, sha256: str) -> list[str]:
    file = bundle / name
    if not file.exists():
        return [Mismatch(f"bundle {bundle.name}: {name} is missing")]
    if sha256_file(file) != sha256:
        return [
            Mismatch(f"bundle {bundle.name}: {name} does not match its sha256 in datapackage.json")
        ]
    return []


def _strays(bundle: Path, resource: dict[str, Any]) -> list[str]:
    """Files in a partitioned table's folder that its parts do not list: readers would read
    them as rows of the table."""
    listed = {str(p["path"]) for p in resource["parts"]}
    folder = bundle / str(resource["name"])
    found = (
        {f"{folder.name}/{f.name}" for f in folder.glob("*.parquet")} if folder.is_dir() else set()
    )
    single = bundle / f"{resource['name']}.parquet"  # readers take a single file first
    if single.exists():
        found.add(single.name)
    return [
        Mismatch(
            f"bundle {bundle.name}: {name} is not in datapackage.json, but readers of "
            f"{resource['name']} read it"
        )
        for name in sorted(found - listed)
    ]


def _catalog(paths: DataPaths, bundles: list[str], summary: list[str]) -> list[str]:
    """The catalog is usable, knows every bundle, and names only files that exist here."""
    state = lake.catalog_state(paths)
    for leftover in paths.catalog_tmps():
        summary.append(
            f"warehouse: {leftover.name} was left by a run killed while creating the catalog; "
            "the next run removes it"
        )
    if state.kind == "missing":
        if bundles:  # the releases' history is gone: say so, whatever else holds
            return [Problem(lake.catalog_problem(paths, state))]
        return []
    if state.kind != "ready":
        return [Problem(lake.catalog_problem(paths, state))]
    problems: list[str] = []
    ids = lake.release_ids(paths)
    unknown = [b for b in bundles if b not in ids]
    problems += [
        Problem(
            f"bundle {b} is not a release of the warehouse catalog {paths.catalog} (which "
            f"holds {', '.join(ids) or 'no release'}): the catalog was replaced or comes "
            "from another data dir; restore the warehouse/ folder that made these bundles"
        )
        for b in unknown
    ]
    pending = [r for r in ids if r not in bundles]
    # Recovery publishes releases in order, so only releases newer than every published one
    # can be waiting for it; a gap before a published release is a bundle that went missing.
    newest = max((ids.index(b) for b in bundles if b in ids), default=-1)
    lost = [r for r in pending if ids.index(r) < newest]
    problems += [
        Problem(
            f"release {r} is in the warehouse, but its bundle is missing from "
            f"{paths.published} although later releases are published (deleted?); {REPAIR} "
            "writes it again from the warehouse"
        )
        for r in lost
    ]
    pending = [r for r in pending if r not in lost]
    if pending:  # a crash between commit and publish: recovery's job, not damage
        summary.append(
            f"warehouse: release(s) {', '.join(pending)} committed but not published yet; "
            f"{REPAIR} publishes them"
        )
    files, absolute = lake.data_files(paths)
    absent = [f for f in files if not f.exists()]
    if absent:
        problems.append(
            Problem(
                f"the warehouse catalog names {len(absent)} data file(s) that do not exist, "
                f"e.g. {absent[0]}"
                + (
                    " (recorded by absolute path: the data dir was moved since)"
                    if str(absent[0]) in absolute
                    else ""
                )
                + "; restore the warehouse/ folder from a backup of this data dir"
            )
        )
    summary.append(
        f"warehouse: {len(ids)} release(s), {len(files)} data files present"
        + (f" ({len(absolute)} recorded by absolute path)" if absolute else "")
    )
    return problems


def _analyst_db(paths: DataPaths, summary: list[str]) -> list[str]:
    found = publish.analyst_db_problems(paths)
    busy = [p for p in found if p.startswith(publish.ANALYST_DB_BUSY)]
    for note in busy:
        summary.append(f"analyst file not checked: {note.removeprefix(publish.ANALYST_DB_BUSY)}")
    problems = [p for p in found if p not in busy]
    if problems:
        return [Problem(f"{p}; {REPAIR} rebuilds it") for p in problems]
    if paths.analyst_db.exists() and not busy:
        summary.append(f"analyst file {paths.analyst_db.name}: views of this data dir")
    return []
