"""Audit: re-hash every raw file and every published bundle against its manifest."""

from __future__ import annotations

import json
import os

from bls_refresh.paths import DataPaths
from extractors.rawstore import RawStore, sha256_file


def verify(paths: DataPaths) -> tuple[list[str], list[str]]:
    """(problems, summary lines). No problems means every byte is what its manifest says."""
    problems: list[str] = []
    summary: list[str] = []
    store = RawStore(paths.raw) if paths.raw.exists() else None
    if store is not None:
        objects = [p for p in store.objects.glob("*/*") if p.is_file()]
        for path in objects:
            digest = sha256_file(path)
            if digest != path.name:
                problems.append(f"raw object {path}: content sha256 {digest} differs from its name")
        referenced = {r.sha256 for r in store.rows() if r.status == 200}
        missing = sorted(h for h in referenced if not store.object_path(h).exists())
        problems += [f"raw manifest names {h} but the object is missing" for h in missing]
        summary.append(f"raw store: {len(objects)} objects re-hashed, {len(referenced)} referenced")
    bundles = (
        sorted(
            p
            for p in paths.published.iterdir()
            if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")
        )
        if paths.published.exists()
        else []
    )
    for bundle in bundles:
        package_file = bundle / "datapackage.json"
        if not package_file.exists():
            problems.append(f"bundle {bundle.name}: no datapackage.json (incomplete)")
            continue
        package = json.loads(package_file.read_text(encoding="utf-8"))
        for resource in package["resources"]:
            file = bundle / resource["path"]
            if not file.exists():
                problems.append(f"bundle {bundle.name}: {resource['path']} is missing")
            elif sha256_file(file) != resource["sha256"]:
                problems.append(
                    f"bundle {bundle.name}: {resource['path']} does not match its sha256 "
                    "in datapackage.json"
                )
        summary.append(f"bundle {bundle.name}: {len(package['resources'])} resources re-hashed")
    if paths.latest.is_symlink():
        target = os.readlink(paths.latest)
        if not (paths.published / target / "datapackage.json").exists():
            problems.append(f"latest points at {target}, which is not a complete bundle")
        summary.append(f"latest → {target}")
    return problems, summary
