"""What a person sees: one readable paragraph per failure, quick refusals before Prefect starts,
options that do not apply refused, and nothing left running after a kill.

Real subprocesses where the terminal matters (no COLUMNS set, Prefect configured by the
command itself); the in-process CLI runner elsewhere.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import psutil
import pytest

if TYPE_CHECKING:
    from tests.faults.conftest import FaultKit, World


pytestmark = pytest.mark.usefixtures("prefect_harness")

# Text a header may carry that Rich would read as markup (an emoji code, a tag, a closing tag).
MARKUP = "footnote_[word]:x:[/]"


def narrow_env(
    faults: FaultKit, w: World | None, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """The environment of a user's terminal-less run: no COLUMNS (Rich would wrap at 80)."""
    env = faults.subprocess_env(w, extra)
    env.pop("COLUMNS", None)
    return env


def run_narrow(
    faults: FaultKit, *args: str, env: dict[str, str], timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return faults.bls_refresh(*args, env=env, timeout=timeout)


def test_a_failure_is_one_paragraph_with_file_text_as_written(
    w: World, a: str, faults: FaultKit
) -> None:
    """Scenarios "failure-output" and "markup-in-file-text"."""
    path = w.oe_dir / faults.DATA_FILE
    with faults.edited(w, path, lambda text: text.replace("footnote_codes", MARKUP, 1)):
        done = run_narrow(faults, *faults.run_args(w)[3:], env=narrow_env(faults, w))
        debug = run_narrow(faults, "--debug", *faults.run_args(w)[3:], env=narrow_env(faults, w))

    assert done.returncode == 1, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 3, done.stderr  # the cause, what is published, where the log is
    assert lines[0].startswith("Refresh failed: oe.data.0.Current: check 'required columns'")
    assert f"not recognised ['{MARKUP}']" in lines[0]  # printed as BLS wrote it, not as markup
    assert lines[1] == f"Nothing was published; latest is still {a}."
    log = w.data_dir / "logs" / "bls-refresh.log"
    assert lines[2] == f"Full log: {log} (or run again with --debug)"  # one line, never wrapped
    assert "Traceback" not in done.stderr and "| ERROR" not in done.stderr
    assert done.stdout == ""
    faults.assert_names_cause(done.stderr, "failure-output")
    faults.assert_names_cause(done.stderr, "markup-in-file-text")
    assert "Traceback" in log.read_text(encoding="utf-8")  # the details are kept for a person

    assert debug.returncode == 1
    assert "Traceback" in debug.stderr and "ValidationError" in debug.stderr
    assert debug.stderr.rstrip().splitlines()[-1].startswith("Full log: ")
    assert faults.latest_of(w.data_dir) == a


def test_unreachable_source_is_refused_in_seconds(w: World, a: str, faults: FaultKit) -> None:
    """Scenario "unreachable-source": no Prefect start, no retry budget spent."""
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    done = run_narrow(
        faults, "run", "--source", f"http://127.0.0.1:{port}", "--data-dir", str(w.data_dir),
        env=narrow_env(faults, w),
    )  # fmt: skip
    elapsed = time.monotonic() - started

    assert done.returncode == 1, done.stderr
    assert elapsed < 15, elapsed
    assert len(done.stderr.splitlines()) == 1, done.stderr
    faults.assert_names_cause(done.stderr, "unreachable-source")
    assert faults.latest_of(w.data_dir) == a


def test_missing_file_is_refused_before_prefect_starts(
    w: World, a: str, tmp_path: Path, faults: FaultKit
) -> None:
    """Scenario "ingest-missing-file"."""
    started = time.monotonic()
    done = run_narrow(
        faults,
        "ingest",
        str(tmp_path / "nope.xlsx"),
        "--data-dir",
        str(w.data_dir),
        env=narrow_env(faults, w),
    )
    assert done.returncode == 2, done.stderr
    assert time.monotonic() - started < 10
    assert done.stderr == f"No such file: {tmp_path / 'nope.xlsx'}\n"
    faults.assert_names_cause(done.stderr, "ingest-missing-file")


def test_a_refused_file_is_named_as_given(
    w: World, a: str, tmp_path: Path, faults: FaultKit
) -> None:
    """Scenario "ingest-unrecognised-file": in a multi-file ingest, which file was refused."""
    good = tmp_path / "oe.area"
    shutil.copyfile(w.oe_dir / "oe.area", good)
    odd = tmp_path / "my notes.txt"
    odd.write_text("a\tb\n1\t2\n", encoding="utf-8")

    result = faults.cli("ingest", str(good), str(odd), "--data-dir", str(w.data_dir))

    assert result.exit_code == 1, result.output
    assert f"Refresh failed: {odd}: check 'recognised file' failed" in result.stderr
    assert "kept for inspection as" in result.stderr
    faults.assert_names_cause(result.stderr, "ingest-unrecognised-file")
    assert faults.latest_of(w.data_dir) == a


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["29-2072", "annual_median", "--year", "0"], "--year 0 is not a May reference year"),
        (
            ["29-2072", "annual_median", "--cycle", "2024-34"],
            "annual_median is an OEWS measure (by May reference year): --cycle 2024-34 "
            "does not apply",
        ),
        (
            ["29-2072", "employment_change_pct", "--year", "2024"],
            "employment_change_pct is an Employment Projections measure (national, all "
            "industries, by cycle): --year 2024 does not apply",
        ),
        (
            ["29-2072", "employment_change_pct", "--area", "0600000"],
            "--area 0600000 does not apply",
        ),
    ],
)
def test_figure_options_that_do_not_apply_are_refused(
    w: World, a: str, args: list[str], says: str, faults: FaultKit
) -> None:
    """Scenario "figure-option-does-not-apply"."""
    result = faults.cli("figure", *args, "--data-dir", str(w.data_dir))
    assert result.exit_code == 2, result.output
    assert says in faults.one_line(result.stderr)
    assert result.stdout == ""
    faults.assert_names_cause(result.stderr, "figure-option-does-not-apply")


def test_rollback_only_moves_back_and_undo_returns(w: World, a: str, faults: FaultKit) -> None:
    """Scenarios "rollback-to-newer" and "diff-same-or-reversed"."""
    faults.bump_median(w)
    b = str(faults.refresh(w).release_id)
    assert faults.latest_of(w.data_dir) == b != a

    same = faults.cli("diff", b, b, "--data-dir", str(w.data_dir))
    assert same.exit_code == 2 and f"Both releases are {b}: nothing to compare." in same.stderr
    reversed_ = faults.cli("diff", b, a, "--data-dir", str(w.data_dir))
    assert reversed_.exit_code == 2
    assert f"bls-refresh diff {a} {b}" in faults.one_line(reversed_.stderr)
    faults.assert_names_cause(same.stderr + reversed_.stderr, "diff-same-or-reversed")

    faults.assert_succeeded(faults.cli("rollback", a, "--data-dir", str(w.data_dir)))
    assert faults.latest_of(w.data_dir) == a
    newer = faults.cli("rollback", b, "--data-dir", str(w.data_dir))
    assert newer.exit_code == 2, newer.output
    assert faults.latest_of(w.data_dir) == a
    faults.assert_names_cause(newer.stderr, "rollback-to-newer")

    out = faults.assert_succeeded(faults.cli("rollback", "--undo", "--data-dir", str(w.data_dir)))
    assert f"latest → {b}" in out and faults.latest_of(w.data_dir) == b
    assert figure_release(faults, w) == b


def figure_release(faults: FaultKit, w: World) -> str:
    result = faults.cli(
        "figure", "29-2072", "annual_median", "--json", "--data-dir", str(w.data_dir)
    )
    assert result.exit_code == 0, result.output
    return str(json.loads(result.stdout)["release"])


def test_a_run_that_changes_nothing_says_so_and_nothing_more(
    w: World, a: str, faults: FaultKit
) -> None:
    """Scenario "no-op-run": no release table that reads as if a release was made."""
    out = faults.assert_succeeded(faults.cli_run(w))
    assert out.splitlines() == [
        f"Nothing changed upstream since release {a}: no new release.",
        f"Latest:        {w.data_dir / 'published' / 'latest'} → {a}",
    ]
    faults.assert_names_cause(out, "no-op-run")


def test_figures_out_creates_its_folder(w: World, a: str, tmp_path: Path, faults: FaultKit) -> None:
    """Scenario "figures-out-missing-folder"."""
    target = tmp_path / "missing" / "dir" / "f.json"
    result = faults.cli("figures", "--out", str(target), "--data-dir", str(w.data_dir))
    assert result.exit_code == 0, result.output
    assert target.is_file() and '"medical_records_median_wage"' in target.read_text()
    faults.assert_names_cause(result.stdout, "figures-out-missing-folder")
    assert not list(target.parent.glob(".*.tmp"))


def test_help_names_every_option_whole(faults: FaultKit) -> None:
    """Scenario "help-output": readable without a terminal (no COLUMNS), nothing cut."""
    env = narrow_env(faults, None)
    run_help = run_narrow(faults, "run", "--help", env=env)
    top = run_narrow(faults, "--help", env=env)
    assert run_help.returncode == 0 and top.returncode == 0
    for option in ("--allow-row-count-change", "--source", "--data-dir", "--only"):
        assert option in run_help.stdout
    commands = top.stdout[top.stdout.index("Commands:") :]
    assert "…" not in run_help.stdout + top.stdout, run_help.stdout + top.stdout
    assert not [line for line in commands.splitlines() if line.endswith("...")], commands
    for command in ("demo", "run", "ingest", "figure", "figures", "releases", "diff"):
        assert f"  {command} " in top.stdout
    for command in ("verify", "rollback", "serve"):
        assert f"  {command} " in top.stdout
    faults.assert_names_cause(top.stdout + run_help.stdout, "help-output")


def test_demo_after_ingesting_the_full_workbook(
    tmp_path: Path, shared_samples: Path, faults: FaultKit
) -> None:
    """Scenario "demo-after-full-workbook": the README's own steps, in order."""
    if not (shared_samples / "ep" / "occupation_2024-34.xlsx").is_file():
        pytest.skip("the full 2024-34 workbook is in ../shared/bls-reference/samples/ep/")
    data = str(tmp_path / "data")
    faults.assert_succeeded(faults.cli("demo", "--data-dir", data))
    faults.assert_succeeded(
        faults.cli(
            "ingest", str(shared_samples / "ep" / "occupation_2024-34.xlsx"), "--data-dir", data
        )
    )
    full = faults.latest_of(Path(data))

    again = faults.cli("demo", "--data-dir", data)
    assert again.exit_code == 1, again.output
    faults.assert_names_cause(again.stderr, "demo-after-full-workbook")
    assert faults.latest_of(Path(data)) == full

    faults.assert_succeeded(faults.cli("demo", "--allow-row-count-change", "--data-dir", data))
    assert faults.latest_of(Path(data)) != full


@pytest.mark.usefixtures("stall_mid_body")
def test_killed_cli_leaves_no_prefect_server(
    w: World, a: str, tmp_path: Path, faults: FaultKit, record_scenario: Callable[[str], None]
) -> None:
    """Scenario "killed-cli-leaves-no-server": the command's own Prefect API dies with it."""
    faults.bump_median(w)
    w.server.fail(faults.DATA_FILE, "slow", times=1, delay=0, stall=60)
    env = narrow_env(faults, None, {"PREFECT_HOME": str(tmp_path / "prefect-home")})
    env.pop("PREFECT_API_URL", None)  # as a user runs it: the command starts its own API
    proc = subprocess.Popen(
        faults.run_args(w), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    children: list[psutil.Process] = []
    try:
        faults.wait_for(
            lambda: w.server.count(faults.DATA_FILE) == 1, timeout=150, what="the download to start"
        )
        children = psutil.Process(proc.pid).children(recursive=True)
        assert any("uvicorn" in " ".join(c.cmdline()) for c in children), children
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    _, alive = psutil.wait_procs(children, timeout=20)
    assert not alive, [c.cmdline() for c in alive]
    assert faults.latest_of(w.data_dir) == a
    w.server.clear_faults()  # the patched handler serves whole files again
    # the next run is not blocked by anything the kill left
    faults.assert_succeeded(faults.cli_run(w))
    record_scenario("killed-cli-leaves-no-server")
