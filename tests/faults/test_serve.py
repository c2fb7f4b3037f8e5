"""The scheduled refresh, run for real: ``bls-refresh serve`` and ``prefect deploy --all``.

The spec tests run in process, in milliseconds. The end-to-end tests start real processes (a
Prefect server, ``serve``, a worker), always against the local BLS-like server, never the real
hosts, and each kills what it started in a ``finally``. Those that wait for a run take 40-70 s:
a Prefect server has to start, migrate its database and schedule, and every flow run is a
fresh Python process.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from typer.testing import CliRunner

from bls_refresh.cli import app
from core.lock import refresh_lock
from flows.deployments import SpecError, runner_deployments, served_deployments

if TYPE_CHECKING:
    from tests.faults.conftest import FaultKit, Spawned, World

PREFECT = (sys.executable, "-m", "prefect")
DEPLOYMENT = "bls-refresh/oews-weekly"  # flow name / deployment name in prefect.yaml


@pytest.fixture(scope="session")
def prefect_yaml(repo: Path) -> Path:
    """The repository's prefect.yaml, as serve and ``prefect deploy`` read it."""
    return repo / "prefect.yaml"


def figure_value(faults: FaultKit, w: World, home: Path) -> int:
    """29-2072's national annual median as ``bls-refresh figure --json`` prints it."""
    done = faults.bls_refresh(
        "figure",
        "29-2072",
        "annual_median",
        "--data-dir",
        str(w.data_dir),
        "--json",
        extra={"PREFECT_HOME": str(home)},
    )
    assert done.returncode == 0, done.stderr
    return int(json.loads(done.stdout)["value"])


# -- the spec as serve reads it ------------------------------------------------------------------


def test_served_deployments_keep_the_cron_and_timezone_of_prefect_yaml(prefect_yaml: Path) -> None:
    """What Prefect receives for each deployment of the real prefect.yaml (the 3.9.1 API)."""
    spec, history = served_deployments(prefect_yaml)
    # What serve prints at start: Monday 06:30 on New York's clock, EST or EDT by the date.
    assert re.fullmatch(
        r"cron '30 6 \* \* 1' \(America/New_York\), next Mon \d{4}-\d\d-\d\d 06:30 E[SD]T",
        spec.describe_schedules(),
    ), spec.describe_schedules()
    (served,) = runner_deployments([spec])
    assert served.name == "oews-weekly"
    assert served.entrypoint == "flows.refresh.refresh"  # importable from any directory
    (schedule,) = served.schedules
    assert schedule.schedule.model_dump(exclude_none=True) == {
        "cron": "30 6 * * 1",
        "timezone": "America/New_York",
        "day_or": True,
    }
    assert schedule.active
    # ./data as every other command reads it, made absolute for the flow-run processes.
    assert served.parameters == {"data_dir": str(Path.cwd() / "data")}
    # The wage history: national zips from 2012 through the newest published, on Tuesdays.
    (backfill,) = runner_deployments([history])
    assert backfill.name == "oews-history"
    assert backfill.entrypoint == "flows.backfill.backfill"
    (weekly,) = backfill.schedules
    assert weekly.schedule.model_dump(exclude_none=True) == {
        "cron": "0 7 * * 2",
        "timezone": "America/New_York",
        "day_or": True,
    }
    assert backfill.parameters == {
        "years": "2012-",
        "parts": ["nat"],
        "data_dir": str(Path.cwd() / "data"),
    }


def test_serve_reads_relative_paths_against_the_current_directory(
    tmp_path: Path, prefect_yaml: Path
) -> None:
    """Flow runs start in a directory of Prefect's choosing: relative paths are fixed first."""
    (tmp_path / "mirror").mkdir()
    overrides = {"source": "mirror", "data_dir": "elsewhere/data"}
    served, history = served_deployments(prefect_yaml, overrides=overrides)
    assert served.parameters == {
        "source": str(tmp_path / "mirror"),
        "data_dir": str(tmp_path / "elsewhere" / "data"),
    }
    assert history.parameters == {**served.parameters, "years": "2012-", "parts": ["nat"]}
    with pytest.raises(SpecError, match="source 'no-such-mirror' is neither a folder nor"):
        served_deployments(prefect_yaml, overrides={"source": "no-such-mirror"})


def write_spec(prefect_yaml: Path, path: Path, schedule: str) -> Path:
    """prefect.yaml with the first deployment's (oews-weekly) ``schedules`` block replaced."""
    text = prefect_yaml.read_text(encoding="utf-8")
    replaced, count = re.subn(
        r"    schedules:\n(?:      .*\n)+", f"    schedules:\n{schedule}", text, count=1
    )
    assert count == 1, "prefect.yaml's schedules block moved; update write_spec"
    path.write_text(replaced, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("schedule", "problem"),
    [
        (
            '      - cron: "61 6 * * 1"\n        timezone: America/New_York\n',
            'schedule 1: Invalid cron string: "61 6 * * 1"',
        ),
        (
            '      - cron: "30 6 * * 1"\n        timezone: America/Gotham\n',
            "schedule 1: unknown timezone 'America/Gotham'",
        ),
        ("      - timezone: America/New_York\n", "schedule 1: needs exactly one of cron"),
        (
            '      - cron: "30 6 * * 1"\n        timzone: America/New_York\n',
            "schedule 1: unknown key 'timzone'",
        ),
        ('      - "30 6 * * 1"\n', "schedule 1: expected a mapping"),
    ],
    ids=["bad-cron", "bad-timezone", "no-cron", "misspelt-key", "not-a-mapping"],
)
def test_serve_refuses_a_malformed_schedule(
    tmp_path: Path, schedule: str, problem: str, faults: FaultKit, prefect_yaml: Path
) -> None:
    """Scenario "serve-malformed-schedule": one line, at once, before any server starts."""
    spec = write_spec(prefect_yaml, tmp_path / "prefect.yaml", schedule)
    result = CliRunner().invoke(
        app,
        ["serve", "--spec", str(spec), "--source", "http://127.0.0.1:9"],
        env={"COLUMNS": "1000"},
    )
    assert result.exit_code == 2, (result.output, result.exception)
    assert result.stdout == ""  # no schedule announced, no server started
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Refusing to serve: {spec}: deployment 'oews-weekly': "), lines
    assert problem in lines[0], lines
    faults.assert_names_cause(result.stderr, "serve-malformed-schedule")


def test_serve_refuses_to_start_without_a_contact_for_bls(tmp_path: Path, faults: FaultKit) -> None:
    """Against the real BLS every scheduled run would get 403: refuse now, not on Monday."""
    result = CliRunner().invoke(
        app, ["serve", "--data-dir", str(tmp_path / "data")], env={"BLS_CONTACT_EMAIL": ""}
    )
    assert result.exit_code == 1, (result.output, result.exception)
    assert "Refusing to run:" in result.stderr
    assert "Set BLS_CONTACT_EMAIL" in faults.one_line(result.stderr)


# -- serve: scheduled runs, then a stop in the middle of one -------------------------------------


# Ctrl-C in a terminal signals the whole foreground process group; a service manager or `kill`
# sends SIGTERM to serve alone.
STOPS: dict[str, Callable[[Spawned], None]] = {
    "ctrl-c": lambda p: os.killpg(p.pid, signal.SIGINT),
    "sigterm": lambda p: p.process.send_signal(signal.SIGTERM),
}


@pytest.mark.parametrize("stop", sorted(STOPS))
def test_serve_runs_the_refresh_on_schedule_and_stops_cleanly(
    tmp_path: Path, stop: str, faults: FaultKit
) -> None:
    """Scenario "serve-stopped-mid-run", after serve has run the refresh on its schedule.

    ``bls-refresh serve`` with the repo's prefect.yaml, a 2 s interval instead of Monday's cron,
    the local server as source and no Prefect server configured: serve starts one, and the first
    scheduled run publishes a release. Then BLS publishes a new value, and the next scheduled
    run is held in the middle of its download when serve is stopped: serve exits 0, every
    process it started has ended, and the data dir is exactly as the first release left it.
    """
    home = tmp_path / "prefect-home"
    with faults.world(tmp_path) as w:
        # The held download must outlast the test rather than time out and let the run finish.
        env = faults.prefect_env(home, BLS_HTTP_READ_TIMEOUT="300")
        args = ["serve", "--source", w.server.base_url, "--data-dir", str(w.data_dir)]
        serve = faults.Spawned(
            [sys.executable, "-m", "bls_refresh.cli", *args, "--interval", "2"],
            env,
            tmp_path / "serve.log",
        )
        try:
            # Typically 30-40 s (a Prefect server starts and migrates its database, a flow-run
            # process starts); the bound is for a machine busy with other work.
            latest = w.data_dir / "published" / "latest"
            faults.wait_until(latest.is_symlink, 150, "a scheduled run to publish", alive=serve)
            release_a = faults.latest_of(w.data_dir)
            assert figure_value(faults, w, home) == faults.MEDIAN_A
            started = serve.output()
            assert "oews-weekly: every 2 s (UTC), next " in started
            assert f"; data dir {w.data_dir}; source {w.server.base_url}\n" in started
            assert "Starting a Prefect server for this serve at http://127.0.0.1:" in started

            # Hold the next request for the data file (queued before the new value is there,
            # so no run can fetch it), then publish a new value upstream: the held run is one
            # that would make a release if it finished.
            w.server.fail(faults.DATA_FILE, "slow", delay=300)
            faults.bump_median(w)
            faults.wait_until(lambda: not w.server.faults, 90, "a run to request the data file")
            engines = [p for p in serve.descendants() if "prefect.engine" in " ".join(p.cmdline())]
            assert engines, "no flow run in progress when serve is stopped"

            STOPS[stop](serve)
            try:
                code = serve.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                pytest.fail(f"serve did not stop within 60 s:\n{serve.output()[-6000:]}")
            output = serve.output()
            assert code == 0, output[-6000:]
            assert serve.survivors() == [], output[-6000:]
            assert output.rstrip().endswith("serve stopped."), output[-3000:]
            faults.assert_names_cause(output, "serve-stopped-mid-run")
        finally:
            serve.kill_tree()
        # The stopped run published nothing and left nothing behind: latest, bundles, lake,
        # raw store and staging as release A left them, and the lock free for the next run.
        faults.assert_intact(w, release_a)
        with refresh_lock(w.paths):
            pass


def test_a_killed_serve_takes_its_prefect_server_along(tmp_path: Path, faults: FaultKit) -> None:
    """``kill -9`` runs no cleanup in serve: the kernel's parent-death signal stops the server."""
    args = ["serve", "--source", "http://127.0.0.1:9", "--data-dir", str(tmp_path / "data")]
    serve = faults.Spawned(
        [sys.executable, "-m", "bls_refresh.cli", *args],
        faults.prefect_env(tmp_path / "prefect-home"),
        tmp_path / "serve.log",
    )
    try:
        faults.wait_until(
            lambda: "Starting a Prefect server" in serve.output(), 60, "its server", alive=serve
        )
        servers = [p for p in serve.descendants() if "server" in p.cmdline()]
        assert servers, serve.output()
        serve.process.kill()
        serve.process.wait(timeout=10)
        for server in servers:
            server.wait(timeout=30)  # raises psutil.TimeoutExpired if it outlives serve
        assert serve.survivors() == []
    finally:
        serve.kill_tree()


# -- prefect deploy --all, a process work pool, a worker -----------------------------------------


def prefect(*args: str, env: dict[str, str], cwd: Path) -> str:
    """``prefect ARGS`` as a user types it; its output (it must succeed)."""
    done = subprocess.run(
        [*PREFECT, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"prefect {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_prefect_deploy_all_runs_the_refresh_on_a_process_worker(
    tmp_path: Path, faults: FaultKit, repo: Path
) -> None:
    """prefect.yaml as written, deployed to a Prefect server and run by a process worker.

    A Prefect server, the work pool the spec names, ``prefect --no-prompt deploy --all`` from
    the checkout, a run of the deployment with the local source and a temporary data dir, and
    one pass of a process worker: the run completes and publishes a release.
    """
    home = tmp_path / "prefect-home"
    with (
        faults.world(tmp_path) as w,
        faults.prefect_server(home, tmp_path / "server.log") as (api_url, _),
    ):
        env = faults.prefect_env(home, api_url, BLS_REFRESH_HOME=str(repo))
        prefect("work-pool", "create", "bls-local", "--type", "process", env=env, cwd=repo)
        deployed = prefect("--no-prompt", "deploy", "--all", env=env, cwd=repo)
        assert f"Deployment '{DEPLOYMENT}' successfully created" in faults.one_line(deployed), (
            deployed
        )

        # The server holds what prefect.yaml says: the cron, its timezone, the pull step.
        found = httpx.get(f"{api_url}/deployments/name/{DEPLOYMENT}", timeout=10).json()
        assert [s["schedule"] for s in found["schedules"]] == [
            {"cron": "30 6 * * 1", "timezone": "America/New_York", "day_or": True}
        ]
        assert found["work_pool_name"] == "bls-local"
        assert found["pull_steps"] == [
            {"prefect.deployments.steps.set_working_directory": {"directory": str(repo)}}
        ]

        triggered = prefect(
            "deployment",
            "run",
            DEPLOYMENT,
            "--param",
            f"source={w.server.base_url}",
            "--param",
            f"data_dir={w.data_dir}",
            env=env,
            cwd=repo,
        )
        match = re.search(r"UUID: ([0-9a-f-]{36})", triggered)
        assert match, triggered
        worker = faults.Spawned(
            [*PREFECT, "worker", "start", "--pool", "bls-local", "--run-once"],
            env,
            tmp_path / "worker.log",
        )
        try:
            # Typically 20-30 s (worker start, pull step, a flow-run process); the bound is for
            # a machine busy with other work.
            try:
                code = worker.process.wait(timeout=150)
            except subprocess.TimeoutExpired:
                pytest.fail(f"the worker did not finish within 150 s:\n{worker.output()[-6000:]}")
            assert code == 0, worker.output()[-6000:]
            assert worker.survivors() == [], worker.output()[-6000:]
        finally:
            worker.kill_tree()

        run = httpx.get(f"{api_url}/flow_runs/{match.group(1)}", timeout=10).json()
        assert run["state_type"] == "COMPLETED", worker.output()[-6000:]
        assert run["parameters"] == {"source": w.server.base_url, "data_dir": str(w.data_dir)}
        assert (w.data_dir / "published" / "latest").is_symlink(), worker.output()[-6000:]
        assert figure_value(faults, w, home) == faults.MEDIAN_A
