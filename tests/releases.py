"""Build published releases from a mirror folder without Prefect (stage → load → publish)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

from conftest import OE_DIR

from core.paths import DataPaths
from extractors.oews import FILES
from extractors.projections import FILE as EP_FILE
from extractors.projections import PATH as EP_PATH
from extractors.rawstore import sha256_file
from figures.spec import bundle_writer
from flows.sources import SOURCES
from warehouse import load, publish

# Runs the CLI with its arguments; prints at exit whether prefect / pandas were imported.
WRAPPED = textwrap.dedent(
    """
    import atexit, sys
    atexit.register(
        lambda: print("MODULES", "prefect" in sys.modules, "pandas" in sys.modules, file=sys.stderr)
    )
    sys.argv = ["bls-refresh", *sys.argv[1:]]
    from bls_refresh.cli import main
    main()
    """
)

# The row of oe.data.0.Current holding 29-2072's national annual median (datatype 13).
MEDIAN_SERIES = "OEUN000000000000029207213     \t2024\tA01\t"


def manifest_rows(files: dict[str, Path]) -> dict[str, dict[str, object]]:
    return {
        name: {
            "url": f"file://{path}",
            "fetched_at": "2026-11-28T00:00:00+00:00",
            "status": 200,
            "bytes": path.stat().st_size,
            "sha256": sha256_file(path),
            "etag": None,
            "last_modified": None,
            "path": None,
        }
        for name, path in files.items()
    }


def make_release(paths: DataPaths, mirror: Path, edit: Callable[[Path], None] | None = None) -> str:
    """Stage OEWS and projections from ``mirror`` (after ``edit(mirror)``), load and publish."""
    if edit is not None:
        edit(mirror)
    rid = load.plan_release_id(paths)
    oe_files = {name: mirror / OE_DIR / name for name in FILES}
    workbook = mirror / "www.bls.gov" / EP_PATH
    ep_files = {EP_FILE: workbook}
    staged = [  # each under its registry entry's load policy, as the flows stage them
        SOURCES["oews"].stage(oe_files, paths.staging / rid / "oews", rid, manifest_rows(oe_files)),
        SOURCES["projections"].stage(
            ep_files, paths.staging / rid / "projections", rid, manifest_rows(ep_files)
        ),
    ]
    made = load.load_release(paths, rid, staged)
    assert made is not None, "nothing changed in the mirror: no release was made"
    publish.publish(paths, rid, extras=[bundle_writer()])
    return rid


def set_median(mirror: Path, new: str) -> None:
    """Overwrite 29-2072's national annual median in place, keeping BLS's 12-char padding."""
    path = mirror / OE_DIR / "oe.data.0.Current"
    text = path.read_text()
    start = text.index(MEDIAN_SERIES) + len(MEDIAN_SERIES)
    assert text[start : start + 12].strip() != ""
    path.write_text(text[:start] + new.rjust(12) + text[start + 12 :])


def bls_refresh(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI as a user runs it: a real subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "bls_refresh.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        timeout=120,
        check=False,
    )
