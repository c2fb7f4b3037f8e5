"""Benchmark: the OEWS load at full size against a bare DuckDB CSV → parquet copy.

What it does

1. Generates (once per row count, reused afterwards) a synthetic OEWS mirror in the exact BLS
   flat-file layout under ``<workdir>/data-<rows>/download.bls.gov/pub/time.series/oe/``
   (bench/generate.py: ``oe.data.0.Current`` of ~6 M rows and ~330 MB, its lookups and a
   matching ``oe.series``), and the copy of it in which one estimate is revised.
2. Runs two phases alternately, ``--repeat`` times each, every run in a fresh child process
   (``--phase``) that reports its own wall time, CPU time and peak RSS as JSON. Peak RSS is
   ``VmHWM`` from ``/proc/self/status``: ``ru_maxrss`` is carried across fork + exec on Linux,
   so it would report the parent's peak for any child smaller than its parent.

   * ``baseline``: ``COPY (SELECT * FROM read_csv(..., all_varchar=true)) TO x.parquet`` in a
     fresh ``duckdb.connect()``: the floor for "read the file once, write parquet once";
   * ``load``: ``transforms.oews.stage_oews`` (lookups, staged parquet, every validation) and
     ``warehouse.load.load_release`` into a fresh DuckLake: raw files → committed snapshot,
     publish excluded. Stage timings are the load's own timing sections (``core.timing``),
     recorded in the child only; each stage's peak RSS comes from resetting VmHWM
     (``/proc/self/clear_refs``) at section boundaries, so it includes memory an earlier
     stage still holds;
   * ``revise``: BLS republishes the same May year with ONE value changed (same file size,
     one estimate rewritten in place). The lake already holds the original release (made
     once, untimed, and copied into each run's scratch folder before the clock starts); the
     timed part is what a refresh does with it: stage only the lines that differ from the
     file the lake loaded (a patch, ``transforms.oews_patch``), check that the lake still
     holds that file (``warehouse.patch.resolve``), then the load with the exact cell
     comparison that must find the one changed value. The child fails unless the revision
     was staged as a patch and the release counts exactly one changed value and names it.

3. Prints a report and writes it to ``<workdir>/result.json``. Targets: median load time
   and median revision time each ≤ 1.5 x median baseline, and peak RSS of both ≤ 1024 MB.
   Exit status 0 when all pass, 1 when one fails (with ``--smoke``: targets are reported, not
   judged, and the exit status is 0 unless the benchmark itself failed). Wall times are only
   comparable on an otherwise idle machine: before each run the parent samples for 1 s how
   much CPU other processes use and the report warns above 10%; it also gives CPU-time
   medians, which suffer less from other processes.

Usage::

    uv run python bench/oews_load.py                  # 6,000,000 rows, 3 runs of each phase
    uv run python bench/oews_load.py --rows 200000    # a quick run, a few seconds
    uv run python bench/oews_load.py --rows 20000 --repeat 1 --smoke   # does it still run?
    uv run python bench/oews_load.py --repeat 5 --keep --workdir bench/out

``--keep`` leaves the last run's lake, staged files and baseline parquet under
``<workdir>/runs/``; the generated mirror is always kept (delete ``<workdir>/data-<rows>``
to regenerate). Page cache: the data file was just written or read, so every run reads it
warm; both phases see the same conditions.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

# bench/generate.py, beside this script (run as a script, its folder is on sys.path)
from generate import LOAD_FILES, ensure_dataset, generate_data, manifest_rows, revised_dataset

from core import sql, timing

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ROWS = 6_000_000
TARGET_RATIO = 1.5
TARGET_RSS_MB = 1024.0
BUSY_WARN_PCT = 10.0  # CPU use by other processes (sampled 1 s before each run) worth a warning
# The load's timing sections (core.timing) each stage of the report is read from; the
# benchmark fails if one is missing (a section renamed or removed in the code).
SECTIONS = (
    "stage_oews",
    "parse_lookups",
    "staging_copy",
    "validation",
    "lookup_parquet",
    "load_release",
    "lake_diff",
    "lake_insert:oews_estimates",
    "lake_row_counts",
)


# --- child phases -------------------------------------------------------------------------


def _rss_mb() -> float:
    """Peak RSS of this process image, MB.

    ``/proc/self/status`` VmHWM, not ``ru_maxrss``: Linux carries ``ru_maxrss`` across
    fork/vfork + exec, so a child spawned by a parent that once held 465 MB reports at least
    465 MB whatever it does itself. VmHWM belongs to the post-exec address space only.
    """
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return _ru_maxrss_mb()


def _ru_maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def phase_baseline(oe: Path, scratch: Path) -> dict[str, Any]:
    started = time.perf_counter()
    import duckdb

    imported = time.perf_counter()
    rss_imports = _rss_mb()
    cpu_before = _cpu_s()
    out = scratch / "baseline.parquet"
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT * FROM read_csv({sql.string(oe / 'oe.data.0.Current')}, delim='\t', "
        f"header=true, all_varchar=true)) TO {sql.string(out)} (FORMAT parquet)"
    )
    con.close()
    done = time.perf_counter()
    return {
        "wall_s": done - imported,
        "cpu_s": _cpu_s() - cpu_before,
        "import_s": imported - started,
        "rss_after_imports_mb": rss_imports,
        "peak_rss_mb": _rss_mb(),
        "ru_maxrss_mb": _ru_maxrss_mb(),
        "output_mb": out.stat().st_size / 1e6,
    }


def _reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux ≥ 4.0); False where /proc does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


@dataclasses.dataclass
class _Frame:
    own_mb: float = 0.0  # peak while this section ran outside its timed sub-sections
    all_mb: float = 0.0  # peak over the whole section


class Stopwatch(timing.Recorder):
    """The load's timing sections (``core.timing``: seconds, and seconds less the sections
    nested inside), with each section's peak RSS.

    Peak RSS per section comes from resetting VmHWM at every section boundary, so a section's
    ``own`` peak excludes its timed sub-sections (e.g. the load's attach and commit without
    the comparison and the inserts).
    """

    def __init__(self) -> None:
        super().__init__()
        self.peak_own_mb: dict[str, float] = {}
        self.peak_all_mb: dict[str, float] = {}
        self._stack: list[_Frame] = []
        self._overall_mb = _rss_mb()
        self.per_section_rss = _reset_peak_rss()

    def _note(self, mb: float) -> None:
        if self._stack:
            self._stack[-1].own_mb = max(self._stack[-1].own_mb, mb)
            self._stack[-1].all_mb = max(self._stack[-1].all_mb, mb)
        self._overall_mb = max(self._overall_mb, mb)

    def overall_peak_mb(self) -> float:
        return max(self._overall_mb, _rss_mb())

    def enter(self, name: str) -> None:
        self._note(_rss_mb())
        _reset_peak_rss()
        self._stack.append(_Frame())

    def leave(self, name: str, seconds: float) -> None:
        frame = self._stack.pop()
        now = _rss_mb()
        own, whole = max(frame.own_mb, now), max(frame.all_mb, now)
        self.peak_own_mb[name] = max(self.peak_own_mb.get(name, 0.0), own)
        self.peak_all_mb[name] = max(self.peak_all_mb.get(name, 0.0), whole)
        if self._stack:
            self._stack[-1].all_mb = max(self._stack[-1].all_mb, whole)
        self._overall_mb = max(self._overall_mb, whole)
        _reset_peak_rss()


def phase_load(
    oe: Path, scratch: Path, sources_file: Path, revision: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Stage and load ``oe`` into the lake under ``scratch/lake`` (fresh, or for a revision
    the copy of a lake that already holds the original release)."""
    started = time.perf_counter()
    from core.paths import DataPaths
    from core.staging import PatchBase
    from flows.sources import SOURCES
    from transforms import oews
    from warehouse import load, patch

    imported = time.perf_counter()
    rss_imports = _rss_mb()
    clock = Stopwatch()
    sources = json.loads(sources_file.read_text(encoding="utf-8"))
    files = {name: oe / name for name in LOAD_FILES}
    paths = DataPaths(scratch / "lake")
    cpu_before = _cpu_s()
    t0 = time.perf_counter()
    # A revision is staged as the refresh stages it: against the data file the lake loaded.
    base = PatchBase(Path(revision["base"]), revision["base_sha256"]) if revision else None
    with timing.record(clock):
        release_id = load.plan_release_id(paths)
        staged = oews.stage_oews(
            files, paths.staging / release_id, release_id=release_id, sources=sources, base=base
        )
        staged = SOURCES["oews"].policy.attach(staged)  # how the flow hands it to the load
        if base is not None:
            resolved = patch.resolve(paths, staged)
            if isinstance(resolved, str):
                raise SystemExit(f"the revision could not be staged as a patch: {resolved}")
            staged = resolved
        release = load.load_release(paths, release_id, [staged])
    done = time.perf_counter()
    if release is None:
        raise SystemExit("load_release made no release: nothing found to change")
    if revision is not None:
        # The one revised estimate must be found, counted and named: nothing else.
        found = release.changes["oews_estimates"]
        named = [e["key"] for e in found["examples"]]  # type: ignore[union-attr]
        if found["changed"] != {"value": 1} or found["added"] or found["removed"] or not named:
            raise SystemExit(f"the revision was not found exactly: {found}")
        if "patch" not in found:
            raise SystemExit(f"the revision was staged whole, not as a patch: {found}")
        key = named[0]
        sid = revision["series_id"]
        if (key["area_code"], key["industry_code"]) != (sid[4:11], sid[11:17]):
            raise SystemExit(f"the release names {key}, not {sid}")
    missing = [name for name in SECTIONS if name not in clock.seconds]
    if missing:
        raise SystemExit(f"the load no longer times the sections {missing}")

    s, own = clock.seconds, clock.own
    inserts = {k: v for k, v in own.items() if k.startswith("lake_insert:")}
    stages = {
        "parse_lookups": s["parse_lookups"],  # the lookup files, beside the UTF-8 check
        # a revision: finding the changed lines and writing them out (their staging is below)
        "patch_lines": own.get("stage_patch", 0.0),
        "staging_copy": s["staging_copy"],  # ENUM types + the CSV → parquet COPY
        "validation": s["validation"],  # the checks and cell digests of the staged file
        "patch_resolve": s.get("patch_resolve", 0.0),  # a revision: the lake holds its base?
        "lookup_parquet": s["lookup_parquet"],
        "lake_diff": s["lake_diff"],
        "lake_insert_estimates": inserts["lake_insert:oews_estimates"],
        "lake_insert_other": sum(inserts.values()) - inserts["lake_insert:oews_estimates"],
        "lake_row_counts": s["lake_row_counts"],
        "lake_attach_commit": own["load_release"],  # attach, checks, release row, commit
    }
    own_mb, whole_mb = clock.peak_own_mb, clock.peak_all_mb
    stage_peaks = {
        "parse_lookups": whole_mb["parse_lookups"],
        "staging_copy": whole_mb["staging_copy"],
        "validation": whole_mb["validation"],
        "lookup_parquet": whole_mb["lookup_parquet"],
        "lake_diff": whole_mb["lake_diff"],
        "lake_insert_estimates": whole_mb["lake_insert:oews_estimates"],
        "lake_attach_commit": own_mb["load_release"],
    }
    return {
        "wall_s": done - t0,
        "cpu_s": _cpu_s() - cpu_before,
        "import_s": imported - started,
        "rss_after_imports_mb": rss_imports,
        "peak_rss_mb": clock.overall_peak_mb(),
        "ru_maxrss_mb": _ru_maxrss_mb(),
        "stages_s": stages,
        "stages_peak_rss_mb": stage_peaks if clock.per_section_rss else None,
        "sections_s": dict(s),
        "release_id": release_id,
        "rows_loaded": release.loaded["oews"]["oews_estimates"],
        "changes": release.changes["oews_estimates"],
        "lake_mb": sum(f.stat().st_size for f in paths.lake_files.rglob("*") if f.is_file()) / 1e6,
    }


def _cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies over all CPUs, from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as fh:
        fields = [int(v) for v in fh.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def others_busy_pct(seconds: float = 1.0) -> float:
    """CPU use by other processes while this one sleeps, % of all cores (0 where unknown)."""
    try:
        busy0, total0 = _cpu_ticks()
        time.sleep(seconds)
        busy1, total1 = _cpu_ticks()
    except (OSError, ValueError, IndexError):
        return 0.0
    return 100.0 * (busy1 - busy0) / max(total1 - total0, 1)


def run_child(args: list[str]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"child {args[:2]} failed with exit status {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --- parent -------------------------------------------------------------------------------


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def benchmark(args: argparse.Namespace) -> int:
    workdir = Path(args.workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    meta = ensure_dataset(workdir, args.rows)
    oe = Path(meta["oe_dir"])
    runs_dir = workdir / "runs"
    shutil.rmtree(runs_dir, ignore_errors=True)
    runs_dir.mkdir(parents=True)
    sources_file = runs_dir / "sources.json"
    sources_file.write_text(json.dumps(manifest_rows(meta["files"]), indent=2), encoding="utf-8")
    revision = revised_dataset(workdir, meta)
    revision_file = runs_dir / "revision.json"
    data = meta["files"]["oe.data.0.Current"]
    base = {"base": str(oe / "oe.data.0.Current"), "base_sha256": data["sha256"]}
    revision_file.write_text(json.dumps({**revision, **base}), encoding="utf-8")
    revised_sources = runs_dir / "revised-sources.json"
    revised_sources.write_text(json.dumps(manifest_rows(revision["files"])), encoding="utf-8")
    # The lake a revision lands in: the original release, loaded once (untimed) at the path
    # every revision run uses (the catalog records its data path), then kept as a copy.
    prepared = runs_dir / "prepared"
    (runs_dir / "revise").mkdir()
    run_child(["--phase", "load", "--oe", str(oe), "--scratch", str(runs_dir / "revise"),
               "--sources", str(sources_file)])  # fmt: skip
    shutil.copytree(runs_dir / "revise", prepared, symlinks=True)

    phases = {
        "baseline": [],
        "load": ["--sources", str(sources_file)],
        "revise": ["--sources", str(revised_sources), "--revision", str(revision_file)],
    }
    results: dict[str, list[dict[str, Any]]] = {phase: [] for phase in phases}
    for i in range(args.repeat):
        for phase, extra in phases.items():
            scratch = runs_dir / phase
            shutil.rmtree(scratch, ignore_errors=True)
            source = oe
            if phase == "revise":
                shutil.copytree(prepared, scratch, symlinks=True)
                source = Path(revision["oe_dir"])
            else:
                scratch.mkdir()
            others = others_busy_pct(0.1 if args.smoke else 1.0)  # smoke: not judged
            out = run_child(
                ["--phase", "load" if phase == "revise" else phase, "--oe", str(source),
                 "--scratch", str(scratch), *extra]
            )  # fmt: skip
            out["others_busy_pct_before"] = others
            results[phase].append(out)
            print(
                f"  run {i + 1}/{args.repeat} {phase:<8} {out['wall_s']:7.2f} s  "
                f"(cpu {out['cpu_s']:6.2f} s)  peak RSS {out['peak_rss_mb']:7.1f} MB  "
                f"[other processes {others:3.0f}% CPU]",
                flush=True,
            )

    base, ours, revised = results["baseline"], results["load"], results["revise"]
    rows = meta["rows"]
    base_s, load_s = _median(base, "wall_s"), _median(ours, "wall_s")
    ratio = load_s / base_s
    revise_s = _median(revised, "wall_s")
    revise_ratio = revise_s / base_s
    rss_revise = max(r["peak_rss_mb"] for r in revised)
    revise_stages = {
        name: statistics.median(r["stages_s"][name] for r in revised)
        for name in revised[0]["stages_s"]
    }
    base_cpu, load_cpu = _median(base, "cpu_s"), _median(ours, "cpu_s")
    busiest = max(r["others_busy_pct_before"] for r in base + ours)
    rss_base = max(r["peak_rss_mb"] for r in base)
    rss_load = max(r["peak_rss_mb"] for r in ours)
    stages = {
        name: statistics.median(r["stages_s"][name] for r in ours) for name in ours[0]["stages_s"]
    }
    stage_peaks: dict[str, float] = {}
    if all(r["stages_peak_rss_mb"] for r in ours):
        stage_peaks = {
            name: max(r["stages_peak_rss_mb"][name] for r in ours)
            for name in ours[0]["stages_peak_rss_mb"]
        }
    checks = {
        f"ratio <= {TARGET_RATIO}": ratio <= TARGET_RATIO,
        f"load peak RSS <= {TARGET_RSS_MB:.0f} MB": rss_load <= TARGET_RSS_MB,
        f"revision ratio <= {TARGET_RATIO}": revise_ratio <= TARGET_RATIO,
        f"revision peak RSS <= {TARGET_RSS_MB:.0f} MB": rss_revise <= TARGET_RSS_MB,
    }
    report = {
        "rows": rows,
        "series": meta["series"],
        "file_mb": meta["files"]["oe.data.0.Current"]["bytes"] / 1e6,
        "repeat": args.repeat,
        "baseline_median_s": base_s,
        "load_median_s": load_s,
        "load_rows_per_s": rows / load_s,
        "ratio_load_to_baseline": ratio,
        "baseline_median_cpu_s": base_cpu,
        "load_median_cpu_s": load_cpu,
        "cpu_ratio_load_to_baseline": load_cpu / base_cpu,
        "max_others_busy_pct_before_a_run": busiest,
        "baseline_peak_rss_mb": rss_base,
        "load_peak_rss_mb": rss_load,
        "load_stages_median_s": stages,
        "load_stages_peak_rss_mb": stage_peaks,
        "revise_median_s": revise_s,
        "ratio_revise_to_baseline": revise_ratio,
        "revise_median_cpu_s": _median(revised, "cpu_s"),
        "revise_peak_rss_mb": rss_revise,
        "revise_stages_median_s": revise_stages,
        "revision": {k: revision[k] for k in ("series_id", "old_value", "new_value")},
        "targets": checks,
        "pass": all(checks.values()),
        "runs": results,
        "dataset": meta,
    }
    (workdir / "result.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")

    print()
    print(f"rows                     {rows:,} ({meta['series']:,} series)")
    print(f"oe.data.0.Current        {report['file_mb']:,.1f} MB")
    print(f"baseline median          {base_s:.2f} s   (bare DuckDB read_csv → parquet)")
    print(f"load median              {load_s:.2f} s   ({rows / load_s:,.0f} rows/s)")
    print(f"ratio load / baseline    {ratio:.2f}     (target ≤ {TARGET_RATIO})")
    print(
        f"CPU time (median)        baseline {base_cpu:.2f} s, load {load_cpu:.2f} s, "
        f"ratio {load_cpu / base_cpu:.2f}"
    )
    print(f"peak RSS baseline        {rss_base:,.0f} MB")
    print(f"peak RSS load            {rss_load:,.0f} MB   (target ≤ {TARGET_RSS_MB:.0f} MB)")
    print(
        f"revision median          {revise_s:.2f} s   (one value changed, "
        f"{revision['series_id']} {revision['old_value']} → {revision['new_value']})"
    )
    print(f"ratio revision / baseline {revise_ratio:.2f}    (target ≤ {TARGET_RATIO})")
    print(f"peak RSS revision        {rss_revise:,.0f} MB")
    print("stages                    load s   revision s   load peak RSS MB (max)")
    for name, seconds in stages.items():
        peak = stage_peaks.get(name)
        print(
            f"  {name:<24} {seconds:7.2f}   {revise_stages.get(name, 0.0):9.2f}   "
            f"{'' if peak is None else f'{peak:9,.0f}'}"
        )
    if busiest > BUSY_WARN_PCT:
        print(
            f"WARNING: other processes used up to {busiest:.0f}% of the {os.cpu_count()} cores "
            "just before a run: wall times are noisy (CPU times less so)"
        )
    judged = "" if not args.smoke else "  (--smoke: not judged)"
    for check, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {check}{judged}")
    print(f"wrote {workdir / 'result.json'}")
    if not args.keep:
        shutil.rmtree(runs_dir, ignore_errors=True)
    return 0 if report["pass"] or args.smoke else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="data rows to generate")
    parser.add_argument("--workdir", default=str(REPO_ROOT / "bench" / "out"))
    parser.add_argument("--repeat", type=int, default=3, help="runs of each phase")
    parser.add_argument("--keep", action="store_true", help="keep <workdir>/runs afterwards")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="check that the benchmark runs: report the targets without judging them (exit "
        "status 0 unless the benchmark itself fails; a small --rows always misses the ratio)",
    )
    parser.add_argument("--phase", choices=("generate", "baseline", "load"), help=argparse.SUPPRESS)
    parser.add_argument("--series", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--oe", help=argparse.SUPPRESS)
    parser.add_argument("--scratch", help=argparse.SUPPRESS)
    parser.add_argument("--sources", help=argparse.SUPPRESS)
    parser.add_argument("--revision", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase == "generate":
        generate_data(Path(args.oe), args.series)
        result: dict[str, Any] = {"series": args.series}
    elif args.phase == "baseline":
        result = phase_baseline(Path(args.oe), Path(args.scratch))
    elif args.phase == "load":
        revision = json.loads(Path(args.revision).read_text()) if args.revision else None
        result = phase_load(Path(args.oe), Path(args.scratch), Path(args.sources), revision)
    else:
        return benchmark(args)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
