"""The OEWS load benchmark still runs end to end (a tiny file; its timings are not judged here)."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path


def test_oews_load_benchmark_runs_and_reports(tmp_path: Path, repo: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            str(repo / "bench" / "oews_load.py"),
            "--rows",
            "20000",
            "--repeat",
            "1",
            "--workdir",
            str(tmp_path),
            "--smoke",  # the targets are reported, not judged: 20,000 rows always miss the ratio
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # Any failure of the benchmark itself (a child, a missing timing section, a revision not
    # found) exits non-zero.
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((tmp_path / "result.json").read_text())
    assert report["rows"] == 20_000 - 20_000 % 17  # whole series of 17 datatypes
    assert report["runs"]["load"][0]["rows_loaded"] == report["rows"]
    stages = report["load_stages_median_s"]
    assert stages["staging_copy"] > 0 and stages["lake_attach_commit"] > 0
    # Every stage comes from the load's own timing sections (core.timing), none left out.
    assert list(stages) == [
        "parse_lookups",
        "patch_lines",
        "staging_copy",
        "validation",
        "patch_resolve",
        "lookup_parquet",
        "lake_diff",
        "lake_insert_estimates",
        "lake_insert_other",
        "lake_row_counts",
        "lake_attach_commit",
    ]
    patching = {"patch_lines", "patch_resolve"}  # a revision's steps only
    assert all(seconds > 0 for name, seconds in stages.items() if name not in patching), stages
    assert all(stages[name] == 0 for name in patching)
    assert all(seconds > 0 for seconds in report["revise_stages_median_s"].values())
    assert "(--smoke: not judged)" in proc.stdout
    assert set(report["targets"]) == {
        "ratio <= 1.5",
        "load peak RSS <= 1024 MB",
        "revision ratio <= 1.5",
        "revision peak RSS <= 1024 MB",
    }
    assert "ratio load / baseline" in proc.stdout
    # The revision run found the one value the benchmark changed, and nothing else.
    revised = report["runs"]["revise"][0]["changes"]
    assert (revised["added"], revised["removed"], revised["changed"]) == (0, 0, {"value": 1})
    assert 0 < revised["patch"]["new_rows"] < report["rows"] / 10  # staged as a patch
    old, new = revised["examples"][0]["changes"]["value"]
    assert Decimal(old) == Decimal(report["revision"]["old_value"])
    assert Decimal(new) == Decimal(report["revision"]["new_value"])
