"""The end-to-end refresh benchmark still runs (a tiny release over HTTP; its timings are not
judged here: a small file always misses the ratio to the bare copy)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_refresh_benchmark_runs_every_command_and_reports_its_steps(
    tmp_path: Path, repo: Path
) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            str(repo / "bench" / "refresh_e2e.py"),
            "--rows",
            "2000",
            "--repeat",
            "1",
            "--workdir",
            str(tmp_path),
            "--smoke",
            "--years",
            "1,2",  # a new May year added to warehouses holding one and two years
            "--api",
            "server",  # one Prefect server: a quarter of the time of four start-ups
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    # A command that fails, or a revision that makes no release, exits non-zero.
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((tmp_path / "e2e-result.json").read_text())
    assert report["api"] == "server"
    assert report["rows"] % 17 == 0 and abs(report["rows"] - 2000) < 17  # whole series
    assert set(report["median_s"]) == {
        "bare", "trivial", "first", "noop", "revise", "year+1", "year+2",
    }  # fmt: skip
    assert all(seconds > 0 for seconds in report["median_s"].values())
    # CPU time of each command's process tree: a first run works more than a no-op, and the
    # least wall time of that work is its CPU time spread over every core.
    cpu = report["cpu_s"]
    assert set(cpu) == set(report["median_s"]) and cpu["first"] > cpu["noop"] > 0
    assert report["cpu_first_minus_noop_s"] == cpu["first"] - cpu["noop"]
    floor = report["cpu_first_minus_noop_s"] / report["cores"] / report["median_s"]["bare"]
    assert report["ratio_cpu_floor_to_bare"] == floor
    first, noop = report["steps_s"]["first"], report["steps_s"]["noop"]
    # The steps come from the run's own log: every task of a release, in order.
    release = ["recover-unpublished", "fetch", "stage", "load-release", "publish-release"]
    assert list(first) == ["startup", *release, "shutdown"]
    assert list(noop) == ["startup", "recover-unpublished", "fetch", "shutdown"]
    # Inside the tasks: the sections each one logs (staging, change detection, publishing).
    inside = report["sections_s"]["year+2"]
    for section in ("staging_copy", "lake_diff", "publish:export", "publish:analyst_file"):
        assert section in inside, inside
    assert report["sections_s"]["noop"] == {}  # nothing staged, loaded or published
    # A new year writes one year's files, whether one or two are held.
    added = report["disk_mb_added_by_new_year"]
    assert set(added) == {"1", "2"} and added["1"] > 0
    assert report["disk_mb_after_first"] > 0 and report["disk_mb_added_by_revision"] > 0
    assert set(report["targets"]) == {
        "first - noop <= 1.5 x bare",
        "noop - trivial <= 1 s",
        "peak RSS <= 1024 MB",
        "new year with 2 held <= 1.2 x with 1 (time)",
        "new year with 2 held <= 1.2 x with 1 (disk)",
    }
    assert "PASS" in proc.stdout or "MISS" in proc.stdout
