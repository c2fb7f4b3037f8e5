"""Benchmark: the whole refresh as a user runs it, over HTTP, against a bare DuckDB copy.

What it does

1. Generates (once per row count, reused afterwards) the full-size synthetic OEWS release in
   the current flat-file layout (bench/generate.py: ``oe.data.0.Current`` of ~6 M rows,
   ~330 MB, and its lookups) and a copy in which one estimate is revised in place. Two mirror
   folders (original, revised) hold them as hard links, beside the sample mirror's projections
   workbook and SOC crosswalk; the local BLS-like test server (tests/blsserver.py) serves each
   over loopback HTTP, with ETag and Last-Modified, as download.bls.gov does.
2. Times each command as a whole process, alternating and repeated (``--repeat``):

   * ``bare``: ``COPY (SELECT * FROM read_csv(oe.data.0.Current, all_varchar=true)) TO
     x.parquet`` in a fresh process (bench/oews_load.py's baseline phase, its wall time);
   * ``trivial``: a Prefect flow with one task, started the way the command line starts its
     flows (flows/runtime.py: log file, and a local API unless ``PREFECT_API_URL`` is set):
     the floor every run pays;
   * ``first``: ``bls-refresh run --source <server>`` into an empty data dir;
   * ``noop``: the same command again, nothing changed upstream (every file answers 304);
   * ``revise``: the same command against the revised mirror, in a copy of the data dir the
     first run made (copied before the clock starts): one value changed.

   Each child's peak RSS is the largest of its process tree, and its CPU time the sum over
   that tree, every thread, user and system (``RUSAGE_CHILDREN`` of a small wrapper, which
   counts the command and the Prefect API it starts). The CPU time the first run spends
   beyond the no-op, divided by the cores, is the least wall time any schedule of that work
   could take; the report sets it against the bare copy too. Disk: the data dir's
   size after the first run, and what a revision adds. Steps: the end of each Prefect task,
   from the run's log (timestamps in milliseconds), give the time each step took (the tasks
   run one after another): start-up (process start → flow run), fetch, stage, load-release,
   publish-release (bundle, figures, notes, analyst file), then shutdown.
3. ``--api server`` runs the same commands against one long-lived Prefect server (``prefect
   server start``, ``PREFECT_API_URL``), which skips the API start-up each command pays.

Targets (issue "A release costs what changed"): (first − noop) ≤ 1.5 × bare; (noop − trivial)
≤ 1 s; peak RSS ≤ 1024 MB. Prints a report and writes ``<workdir>/e2e-result.json``; exit
status 1 when a target is missed (``--smoke``: reported, not judged).

Usage::

    uv run python bench/refresh_e2e.py                       # 6,000,000 rows, 3 runs each
    uv run python bench/refresh_e2e.py --rows 20000 --repeat 1 --smoke
    uv run python bench/refresh_e2e.py --api server          # one long-lived Prefect server
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "bench")]

from generate import OE_DIR, ensure_dataset, release_year, revised_dataset  # noqa: E402

DEFAULT_ROWS = 6_000_000
TARGET_RATIO = 1.5
TARGET_NOOP_S = 1.0
TARGET_RSS_MB = 1024.0
TARGET_SAME_COST = 1.2  # a new year with many years held, to one with few
CONTACT = "bench@example.org"
# Timestamps to the millisecond in the run's log (flows/prefect_logging.yml's formats with
# the record's epoch time in front), so the steps can be read from it.
TIMED_FORMATS = {
    "PREFECT_LOGGING_FORMATTERS_STANDARD_FLOW_RUN_FMT": "%(created).3f | %(levelname)-7s | "
    "Flow run %(flow_run_name)r - %(message)s",
    "PREFECT_LOGGING_FORMATTERS_STANDARD_TASK_RUN_FMT": "%(created).3f | %(levelname)-7s | "
    "Task run %(task_run_name)r - %(message)s",
}
_TASK_END = re.compile(r"^(\d+\.\d+) \| \w+\s*\| Task run '([^']+)' - Finished in state")
# The line each task logs with its timed sections (flows/release.py logged_timings).
_TIMINGS = re.compile(r"^(\d+\.\d+) \| \w+\s*\| Task run '[^']+' - timings: (.*)$")
_FLOW_START = re.compile(r"^(\d+\.\d+) \| \w+\s*\| Flow run '[^']+' - Beginning flow run")


# --- children -------------------------------------------------------------------------------


def phase_trivial(data_dir: Path) -> None:
    """A one-task Prefect flow, started as the command line starts its flows."""
    from core.paths import DataPaths
    from flows import runtime

    paths = DataPaths.resolve(str(data_dir))
    runtime.configure_logging(paths, debug=False)
    api = runtime.use_local_api(paths)
    from prefect import flow, task

    @task
    def one() -> int:
        return 1

    @flow
    def trivial() -> int:
        return one()

    with runtime.flow_settings(api):
        trivial()


def measure(command: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run ``command``; its wall time, and the peak RSS (MB) and CPU time (user + system, every
    thread) of its process tree."""
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "returncode": done.returncode,
        "stdout": done.stdout[-2000:],
        "stderr": done.stderr[-2000:],
        "started": time.time() - wall,
    }


def run_measured(command: list[str], env: dict[str, str]) -> dict[str, Any]:
    """``measure`` in a fresh wrapper process, so RUSAGE_CHILDREN covers this command only."""
    wrapper = [sys.executable, str(Path(__file__).resolve()), "--measure", json.dumps(command)]
    done = subprocess.run(wrapper, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"measuring {command[:3]} failed:\n{done.stdout}{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if result["returncode"] != 0:
        raise SystemExit(
            f"{' '.join(command[:4])} … exited {result['returncode']}:\n"
            f"{result['stdout']}{result['stderr']}"
        )
    return result


def steps_from_log(log: Path, since: float, ended: float) -> dict[str, float]:
    """Seconds per step of the run logged after ``since``: start-up (to the flow run's start),
    each task (they run one after another), and the shutdown after the last one."""
    flow_start: float | None = None
    ends: list[tuple[float, str]] = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if (m := _FLOW_START.match(line)) and float(m.group(1)) >= since:
            flow_start, ends = float(m.group(1)), []
        elif (m := _TASK_END.match(line)) and float(m.group(1)) >= since:
            ends.append((float(m.group(1)), m.group(2)))
    if flow_start is None:
        return {}
    steps = {"startup": flow_start - since}
    previous = flow_start
    for at, name in ends:
        step = re.sub(r"-[0-9a-f]{3}$", "", name)  # Prefect's run-name suffix
        step = re.sub(r"^(stage|fetch)-.*", r"\1", step)
        steps[step] = steps.get(step, 0.0) + at - previous
        previous = at
    steps["shutdown"] = ended - previous
    return steps


def sections_from_log(log: Path, since: float) -> dict[str, float]:
    """Seconds per timed section inside the tasks of the run logged after ``since`` (each
    section's own time: staging_copy, validation, lake_diff, publish:export, …)."""
    found: dict[str, float] = {}
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        m = _TIMINGS.match(line)
        if m and float(m.group(1)) >= since:
            for item in m.group(2).split(", "):
                name, seconds, _unit = item.rsplit(" ", 2)
                found[name] = found.get(name, 0.0) + float(seconds)
    return found


def du_mb(path: Path) -> float:
    total = 0
    seen: set[int] = set()
    for item in path.rglob("*"):
        if item.is_file() and not item.is_symlink():
            st = item.stat()
            if st.st_ino not in seen:
                seen.add(st.st_ino)
                total += st.st_blocks * 512
    return total / 1e6


# --- the mirrors and servers ------------------------------------------------------------------


def build_mirror(root: Path, oe: Path) -> Path:
    """``root``: the generated OEWS files (hard links) and the sample's other sources."""
    if root.exists():
        shutil.rmtree(root)
    target = root / OE_DIR
    target.mkdir(parents=True)
    for item in oe.iterdir():
        os.link(item.resolve(), target / item.name)
    sample = REPO_ROOT / "sample_mirror" / "www.bls.gov"
    shutil.copytree(sample, root / "www.bls.gov")
    return root


def set_year(mirror: Path, oe: Path, year: int) -> None:
    """Make ``mirror``'s OEWS files those of May ``year``: the generated files with their
    year rewritten (``oe.data.0.Current``'s year column and ``oe.release``), each written
    beside and renamed into place, so the server sees a new file."""
    target = mirror / OE_DIR
    base = release_year(oe)
    old, new = f"\t{base}\tA01\t".encode(), f"\t{year}\tA01\t".encode()
    tmp = target / ".oe.data.tmp"
    with (oe / "oe.data.0.Current").open("rb") as src, tmp.open("wb") as dst:
        rest = b""
        while chunk := src.read(1 << 26):
            chunk = rest + chunk
            cut = chunk.rfind(b"\n") + 1
            dst.write(chunk[:cut].replace(old, new))
            rest = chunk[cut:]
        dst.write(rest.replace(old, new))
    os.replace(tmp, target / "oe.data.0.Current")
    release = (oe / "oe.release").read_bytes().replace(base.encode(), str(year).encode())
    (target / ".oe.release.tmp").write_bytes(release)
    os.replace(target / ".oe.release.tmp", target / "oe.release")


# Files a run never changes once written (raw objects, the lake's parquet, bundles): a copy of
# a data dir hard-links them; everything else (the catalog, the raw manifest) is copied.
_IMMUTABLE = (("raw", "objects"), ("warehouse", "files"), ("published",))


def clone_data_dir(source: Path, target: Path) -> None:
    """A copy of a data dir that a run may change without touching ``source``."""
    for item in sorted(source.rglob("*")):
        rel = item.relative_to(source)
        dest = target / rel
        if item.is_symlink():
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(os.readlink(item), dest)
        elif item.is_dir():
            dest.mkdir(parents=True, exist_ok=True)
        elif any(rel.parts[: len(p)] == p for p in _IMMUTABLE):
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.link(item, dest)
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(item, dest)


def _server_class() -> Any:
    """The local BLS-like test server (tests/blsserver.py)."""
    if str(REPO_ROOT / "tests") not in sys.path:
        sys.path.insert(0, str(REPO_ROOT / "tests"))
    from blsserver import BlsServer

    return BlsServer


@contextlib.contextmanager
def servers(original: Path, revised: Path) -> Iterator[tuple[str, str]]:
    BlsServer = _server_class()
    with BlsServer(original) as first, BlsServer(revised) as second:
        yield first.base_url, second.base_url


@contextlib.contextmanager
def long_lived_prefect(workdir: Path) -> Iterator[str]:
    from flows.deployments import local_prefect_server

    with local_prefect_server(workdir / "prefect-server.log", print) as url:
        yield url


# --- the parent -----------------------------------------------------------------------------


def _env(home: Path, api_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(TIMED_FORMATS)
    env.update(
        {
            "BLS_CONTACT_EMAIL": CONTACT,
            "PREFECT_HOME": str(home),  # migrated once, before the timed runs
            "DO_NOT_TRACK": "1",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        }
    )
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return env


def benchmark(args: argparse.Namespace) -> int:
    workdir = Path(args.workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    meta = ensure_dataset(workdir, args.rows)
    revision = revised_dataset(workdir, meta)
    original = build_mirror(workdir / "e2e-mirror", Path(meta["oe_dir"]))
    revised = build_mirror(workdir / "e2e-mirror-revised", Path(revision["oe_dir"]))
    runs = workdir / "e2e-runs"
    shutil.rmtree(runs, ignore_errors=True)
    runs.mkdir()
    home = workdir / "prefect-home"
    cli = [sys.executable, "-m", "bls_refresh.cli"]
    results: dict[str, list[dict[str, Any]]] = {
        k: [] for k in ("bare", "trivial", "first", "noop", "revise")
    }
    with contextlib.ExitStack() as stack:
        urls = stack.enter_context(servers(original, revised))
        api = stack.enter_context(long_lived_prefect(workdir)) if args.api == "server" else None
        env = _env(home, api)
        # Prefect's home (database migrations) is made once, untimed: a user's is.
        run_measured(
            [sys.executable, str(Path(__file__).resolve()), "--phase", "trivial",
             "--data-dir", str(runs / "warm")], env,
        )  # fmt: skip
        for i in range(args.repeat):
            scratch = runs / f"bare-{i}"
            scratch.mkdir()
            bare = subprocess.run(
                [sys.executable, str(REPO_ROOT / "bench" / "oews_load.py"), "--phase",
                 "baseline", "--oe", meta["oe_dir"], "--scratch", str(scratch)],
                capture_output=True, text=True, check=True, env=env,
            )  # fmt: skip
            results["bare"].append(json.loads(bare.stdout.strip().splitlines()[-1]))
            shutil.rmtree(scratch)

            trivial = [sys.executable, str(Path(__file__).resolve()), "--phase", "trivial"]
            trivial += ["--data-dir", str(runs / f"trivial-{i}")]
            results["trivial"].append(run_measured(trivial, env))
            data = runs / f"data-{i}"
            log = data / "logs" / "bls-refresh.log"
            for phase, source in (("first", urls[0]), ("noop", urls[0])):
                got = run_measured([*cli, "run", "--source", source, "--data-dir", str(data)], env)
                got["steps"] = steps_from_log(log, got["started"], got["started"] + got["wall_s"])
                got["sections"] = sections_from_log(log, got["started"])
                got["disk_mb"] = du_mb(data)
                results[phase].append(got)
            copy = runs / f"revise-{i}"
            shutil.copytree(data, copy, symlinks=True)
            before, raw_before = du_mb(copy), du_mb(copy / "raw")
            got = run_measured([*cli, "run", "--source", urls[1], "--data-dir", str(copy)], env)
            got["steps"] = steps_from_log(
                copy / "logs" / "bls-refresh.log", got["started"], got["started"] + got["wall_s"]
            )
            got["sections"] = sections_from_log(copy / "logs" / "bls-refresh.log", got["started"])
            got["disk_added_mb"] = du_mb(copy) - before
            got["raw_added_mb"] = du_mb(copy / "raw") - raw_before
            if "Published release" not in got["stdout"]:
                raise SystemExit(f"the revision made no release:\n{got['stdout']}")
            results["revise"].append(got)
            shutil.rmtree(copy)
            if i + 1 < args.repeat:
                shutil.rmtree(data)
    if args.years:
        with contextlib.ExitStack() as stack:
            api = stack.enter_context(long_lived_prefect(workdir)) if args.api == "server" else None
            results.update(years_phase(args, workdir, meta, runs, _env(home, api)))
    return report(args, workdir, meta, results)


def years_phase(
    args: argparse.Namespace, workdir: Path, meta: dict[str, Any], runs: Path, env: dict[str, str]
) -> dict[str, list[dict[str, Any]]]:
    """A new May year added to a warehouse that holds N years, for each N of ``--years``.

    The warehouse is built once, forward (May 2010, 2011, …: one ``bls-refresh run`` per year
    against a mirror whose files are rewritten for that year, untimed), and set aside after
    N years. Each timed run is ``bls-refresh run`` in a copy of it against the mirror's May
    2024 files (the generated year): one new year, whatever N is."""
    BlsServer = _server_class()
    oe = Path(meta["oe_dir"])
    newest = int(release_year(oe))
    held = sorted(args.years)
    first_year = newest - max(held)
    mirror = build_mirror(workdir / "e2e-years", oe)
    cli = [sys.executable, "-m", "bls_refresh.cli"]
    out: dict[str, list[dict[str, Any]]] = {}
    building = runs / "years-building"
    with BlsServer(mirror) as server:
        command = [*cli, "run", "--source", server.base_url]
        loaded = 0
        for n in held:
            while loaded < n:
                set_year(mirror, oe, first_year + loaded)
                run_measured([*command, "--data-dir", str(building)], env)
                loaded += 1
            print(f"warehouse with {n} May year(s) ({first_year}-{first_year + n - 1}) built")
            set_year(mirror, oe, newest)
            for i in range(args.repeat):
                copy = runs / f"years-{n}-{i}"
                clone_data_dir(building, copy)
                before, raw_before = du_mb(copy), du_mb(copy / "raw")
                got = run_measured([*command, "--data-dir", str(copy)], env)
                log = copy / "logs" / "bls-refresh.log"
                got["steps"] = steps_from_log(log, got["started"], got["started"] + got["wall_s"])
                got["sections"] = sections_from_log(log, got["started"])
                got["disk_added_mb"] = du_mb(copy) - before
                got["raw_added_mb"] = du_mb(copy / "raw") - raw_before
                if "Published release" not in got["stdout"]:
                    raise SystemExit(f"May {newest} made no release:\n{got['stdout']}")
                out.setdefault(f"year+{n}", []).append(got)
                shutil.rmtree(copy)
    shutil.rmtree(building)
    return out


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(float(r[key]) for r in runs)


def _steps(runs: list[dict[str, Any]], key: str = "steps") -> dict[str, float]:
    names: list[str] = []
    for r in runs:
        names += [n for n in r.get(key, {}) if n not in names]
    return {n: statistics.median(r.get(key, {}).get(n, 0.0) for r in runs) for n in names}


def report(
    args: argparse.Namespace,
    workdir: Path,
    meta: dict[str, Any],
    results: dict[str, list[dict[str, Any]]],
) -> int:
    med = {k: _median(v, "wall_s") for k, v in results.items()}
    rss = {k: max(r.get("peak_rss_mb", 0.0) for r in v) for k, v in results.items() if k != "bare"}
    work = med["first"] - med["noop"]
    cpu = {k: _median(v, "cpu_s") for k, v in results.items()}
    cpu_work = cpu["first"] - cpu["noop"]
    # However well a run overlaps its steps, it cannot do its CPU work faster than all the
    # cores together: the least wall time that work could take, against the bare copy.
    cores = len(os.sched_getaffinity(0))
    floor = cpu_work / cores
    checks = {
        "first - noop <= 1.5 x bare": work <= TARGET_RATIO * med["bare"],
        "noop - trivial <= 1 s": med["noop"] - med["trivial"] <= TARGET_NOOP_S,
        "peak RSS <= 1024 MB": max(rss.values()) <= TARGET_RSS_MB,
    }
    years = sorted(int(k.split("+")[1]) for k in results if k.startswith("year+"))
    added = {n: _median(results[f"year+{n}"], "disk_added_mb") for n in years}
    if len(years) >= 2:
        few, many = years[0], years[-1]
        slower = med[f"year+{many}"] / med[f"year+{few}"]
        bigger = added[many] / added[few] if added[few] else float("inf")
        checks[f"new year with {many} held <= 1.2 x with {few} (time)"] = slower <= TARGET_SAME_COST
        checks[f"new year with {many} held <= 1.2 x with {few} (disk)"] = bigger <= TARGET_SAME_COST
    summary = {
        "when": datetime.now().isoformat(timespec="seconds"),
        "rows": meta["rows"],
        "repeat": args.repeat,
        "api": args.api,
        "median_s": med,
        "ratio_first_minus_noop_to_bare": work / med["bare"],
        "noop_minus_trivial_s": med["noop"] - med["trivial"],
        "cpu_s": cpu,
        "cores": cores,
        "cpu_first_minus_noop_s": cpu_work,
        "ratio_cpu_floor_to_bare": floor / med["bare"],
        "peak_rss_mb": rss,
        "disk_mb_after_first": _median(results["first"], "disk_mb"),
        "disk_mb_added_by_revision": _median(results["revise"], "disk_added_mb"),
        "raw_mb_added_by_revision": _median(results["revise"], "raw_added_mb"),
        "disk_mb_added_by_new_year": {str(n): added[n] for n in years},
        "raw_mb_added_by_new_year": {
            str(n): _median(results[f"year+{n}"], "raw_added_mb") for n in years
        },
        "steps_s": {k: _steps(results[k]) for k in results if k not in ("bare", "trivial")},
        "sections_s": {
            k: _steps(results[k], "sections") for k in results if k not in ("bare", "trivial")
        },
        "targets": checks,
    }
    (workdir / "e2e-result.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"\n{meta['rows']:,} rows, {args.repeat} runs each, Prefect API: {args.api}")
    for name, seconds in med.items():
        peak = f", peak RSS {rss[name]:,.0f} MB" if name in rss else ""
        print(f"  {name:<8} median {seconds:7.2f} s, CPU {cpu[name]:6.2f} s{peak}")
    print(f"  first - noop = {work:.2f} s = {work / med['bare']:.2f} x bare")
    print(
        f"  CPU time: first - noop = {cpu_work:.2f} s, bare {cpu['bare']:.2f} s; on {cores} "
        f"cores that work needs at least {floor:.2f} s = {floor / med['bare']:.2f} x bare"
    )
    print(f"  noop - trivial = {med['noop'] - med['trivial']:.2f} s")
    print(
        f"  disk: {summary['disk_mb_after_first']:,.0f} MB after the first run, "
        f"+{summary['disk_mb_added_by_revision']:,.0f} MB per revision (the new raw file: "
        f"{summary['raw_mb_added_by_revision']:,.0f} MB)"
    )
    for n in years:
        print(
            f"  a new May year with {n} held: {med[f'year+{n}']:.2f} s, +{added[n]:,.1f} MB on disk"
        )
    for phase, steps in summary["steps_s"].items():
        listed = ", ".join(f"{k} {v:.2f}" for k, v in steps.items())
        print(f"  steps of {phase} (s): {listed}")
        inside = summary["sections_s"][phase]
        if inside:
            print("    inside them: " + ", ".join(f"{k} {v:.2f}" for k, v in inside.items()))
    for name, ok in checks.items():
        print(f"  {'PASS' if ok else 'MISS'}  {name}")
    if args.smoke:
        return 0
    return 0 if all(checks.values()) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="data rows to generate")
    parser.add_argument("--workdir", default=str(REPO_ROOT / "bench" / "out"))
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command")
    parser.add_argument(
        "--api",
        choices=("local", "server"),
        default="local",
        help="local: each command starts Prefect's API (as a user's command does); server: "
        "one long-lived `prefect server start` for all of them (PREFECT_API_URL)",
    )
    parser.add_argument(
        "--years",
        type=lambda text: [int(n) for n in text.split(",") if n],
        default=[1, 5, 14],
        help="add a new May year to warehouses holding these numbers of years (comma-separated;"
        " empty: skip)",
    )
    parser.add_argument("--smoke", action="store_true", help="report targets, do not judge")
    parser.add_argument("--phase", choices=("trivial",), help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(json.loads(args.measure), dict(os.environ))))
        return 0
    if args.phase == "trivial":
        phase_trivial(Path(args.data_dir))
        return 0
    return benchmark(args)


if __name__ == "__main__":
    sys.exit(main())
