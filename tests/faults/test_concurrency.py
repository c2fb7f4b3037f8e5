"""Several processes on one data directory: the lock, a killed holder, readers during a publish."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import duckdb
import pytest

from warehouse.bundles import release_order

if TYPE_CHECKING:
    from tests.faults.conftest import FaultKit, World

pytestmark = pytest.mark.usefixtures("prefect_harness")

MEDIAN_FIGURE = "medical_records_median_wage"
FIGURE_COMMAND = [sys.executable, "-m", "bls_refresh.cli", "figure", "29-2072", "annual_median"]


def figure_value(w: World, release_id: str) -> int:
    figures = json.loads((w.data_dir / "published" / release_id / "figures.json").read_text())
    return int(figures[MEDIAN_FIGURE]["value"])


def test_two_refreshes_at_once_exactly_one_runs(w: World, a: str, faults: FaultKit) -> None:
    value = faults.bump_median(w)  # the winner makes a new release
    w.server.fail(faults.DATA_FILE, "slow", times=1, delay=3)  # and holds the lock for a while

    procs = [
        subprocess.Popen(
            faults.run_args(w),
            env=faults.subprocess_env(w),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outcomes = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        outcomes.append((proc.returncode, out, err))

    assert sorted(code for code, _, _ in outcomes) == [0, 1], outcomes
    (loser,) = [err for code, _, err in outcomes if code == 1]
    faults.assert_names_cause(loser, "refresh-already-running")
    # the winner may publish while the loser reports: it speaks only for itself
    assert "Nothing was published by this run; latest is 20" in loser, loser
    assert w.server.count(faults.DATA_FILE) == 1  # only the winner fetched
    new = faults.latest_of(w.data_dir)
    assert new != a and faults.lake_latest(w) == new
    faults.assert_intact(w, new)
    assert figure_value(w, new) == value


def _run_stalled_mid_download(w: World, faults: FaultKit, output: int) -> subprocess.Popen[str]:
    """A refresh with a new median, started and left half-way through the data file (half
    the body, then silence) once the download has begun."""
    faults.bump_median(w)
    w.server.fail(faults.DATA_FILE, "slow", times=1, delay=0, stall=60)
    tmp = w.data_dir / "raw" / "tmp"
    proc = subprocess.Popen(
        faults.run_args(w),
        env=faults.subprocess_env(w),
        stdout=output,
        stderr=output,
        text=True,
    )
    try:
        faults.wait_for(
            lambda: w.server.count(faults.DATA_FILE) == 1 and any(tmp.glob("*.part")),
            timeout=120,
            what="the data file download to start",
        )
    except BaseException:
        proc.kill()
        proc.wait(timeout=30)
        raise
    return proc


@pytest.mark.usefixtures("stall_mid_body")
def test_run_killed_mid_download_does_not_block_the_next(
    w: World, a: str, faults: FaultKit, record_scenario: Callable[[str], None]
) -> None:
    """Scenario "stale-lock-after-kill": a run SIGKILLed mid-download blocks nothing."""
    tmp = w.data_dir / "raw" / "tmp"
    proc = _run_stalled_mid_download(w, faults, subprocess.DEVNULL)
    proc.kill()  # SIGKILL: no cleanup, the lock file and the partial download stay
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert (w.data_dir / ".refresh.lock").exists()
    assert any(tmp.glob("*.part"))  # what a killed download leaves behind
    assert faults.latest_of(w.data_dir) == a

    started = time.monotonic()
    out = faults.assert_succeeded(faults.cli_run(w))  # not blocked, not waiting for the dead holder

    assert time.monotonic() - started < 60
    new = faults.latest_of(w.data_dir)
    assert new != a and f"Published release {new}" in out
    faults.assert_intact(w, new)  # includes: raw/tmp/ is empty again
    record_scenario("stale-lock-after-kill")


@pytest.mark.usefixtures("stall_mid_body")
def test_ctrl_c_mid_download_is_the_failure_paragraph_and_exit_130(
    w: World, a: str, faults: FaultKit
) -> None:
    proc = _run_stalled_mid_download(w, faults, subprocess.PIPE)
    try:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    assert proc.returncode == 130, err
    assert err.startswith("Refresh failed: interrupted (Ctrl-C)"), err
    assert f"Nothing was published; latest is still {a}." in err
    assert "Traceback" not in err
    assert faults.latest_of(w.data_dir) == a


def test_readers_during_a_publish_see_one_release(w: World, a: str, faults: FaultKit) -> None:
    values = {a: figure_value(w, a)}
    published = w.data_dir / "published"

    def figures_json() -> tuple[str, int]:
        figures = json.loads((published / "latest" / "figures.json").read_text())
        (release_id,) = {f["release"] for f in figures.values()}
        return release_id, int(figures[MEDIAN_FIGURE]["value"])

    def analyst_db() -> tuple[str, int]:
        con = duckdb.connect(str(w.data_dir / "bls.duckdb"), read_only=True)
        try:
            loaded, releases, (value, row_release) = con.execute(
                "SELECT (SELECT list(DISTINCT release_id) FROM oews_estimates), "
                "(SELECT list(release_id) FROM releases), "
                "(SELECT (value, release_id) FROM oews_estimates WHERE soc_code = '29-2072' "
                "AND area_code = '0000000' AND industry_code = '000000' "
                "AND measure = 'annual_median')"
            ).fetchone()
        finally:
            con.close()
        # One release's view: its releases table ends with it, and no row comes from a later
        # one (a revision rewrites only the cells it changed, so rows of earlier releases stay).
        release_id = max(releases, key=release_order)
        assert all(release_order(r) <= release_order(release_id) for r in loaded), (
            loaded,
            releases,
        )
        assert row_release in releases
        return release_id, int(value)

    def figure_command() -> tuple[str, int]:
        done = subprocess.run(
            [*FIGURE_COMMAND, "--json", "--data-dir", str(w.data_dir)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        answer = json.loads(done.stdout)
        return answer["release"], int(answer["value"])

    readers = [
        faults.Reader("figures.json", figures_json, pause=0.005),
        faults.Reader("bls.duckdb", analyst_db, pause=0.01),
        faults.Reader("bls-refresh figure", figure_command, max_reads=60),
    ]
    for reader in readers:
        reader.start()
    faults.wait_for(lambda: all(r.results or r.errors for r in readers), 60, "a first read each")
    values[""] = faults.bump_median(w)

    try:
        outcome = faults.refresh(w)  # publishes B while the readers read
    finally:
        for reader in readers:
            reader.stop.set()
    for reader in readers:
        reader.join(timeout=120)
    b = str(outcome.release_id)
    values[b] = values.pop("")
    assert b != a and faults.latest_of(w.data_dir) == b
    for reader in readers:
        assert not reader.is_alive()
        assert not reader.errors, (reader.name, reader.errors[:3])
        seen = set(reader.results)
        assert seen <= {(a, values[a]), (b, values[b])}, (reader.name, seen)
        assert reader.results[0] == (a, values[a]) and reader.results[-1] == (b, values[b])
    faults.assert_intact(w, b)
