"""Benchmark: how fast `bls-refresh figure` answers, as a content writer runs it.

Builds (once) a release from the bundled sample mirror, then runs the real console script
``bls-refresh figure 29-2072 annual_median`` (and ``--json``) N times as separate processes,
and prints min / median / max wall time. The target is "well under a second" per call,
including Python start-up; read-only commands never import Prefect or pandas.

    uv run python bench/figure_latency.py [--runs 20] [--workdir bench/out/figure]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def ensure_release(data_dir: Path) -> None:
    if (data_dir / "published" / "latest" / "figures.json").exists():
        return
    shutil.rmtree(data_dir, ignore_errors=True)
    subprocess.run(
        [sys.executable, "-m", "bls_refresh.cli", "demo", "--data-dir", str(data_dir)],
        check=True,
        capture_output=True,
    )


def time_command(args: list[str], runs: int) -> list[float]:
    script = Path(sys.executable).with_name("bls-refresh")
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([str(script), *args], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--workdir", default=str(REPO / "bench" / "out" / "figure"))
    args = parser.parse_args()
    data_dir = Path(args.workdir) / "data"
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    ensure_release(data_dir)
    cases = {
        "figure (sentence)": ["figure", "29-2072", "annual_median"],
        "figure --json": ["figure", "29-2072", "annual_median", "--json"],
        "figure projections": ["figure", "29-2072", "employment_change_pct"],
    }
    worst = 0.0
    for label, command in cases.items():
        times = time_command([*command, "--data-dir", str(data_dir)], args.runs)
        median = statistics.median(times)
        worst = max(worst, median)
        print(
            f"{label:22s} min {min(times):.3f} s  median {median:.3f} s  max {max(times):.3f} s"
            f"  ({args.runs} runs)"
        )
    verdict = "PASS" if worst < 1.0 else "FAIL"
    print(f"{verdict}  median per call < 1 s (worst median {worst:.3f} s)")
    return 0 if worst < 1.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
