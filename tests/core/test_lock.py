"""The refresh lock: one writer per data dir, its holder named, and never left stale."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.errors import LockHeldError
from core.lock import refresh_lock
from core.paths import DataPaths

# A holder in another process: takes the lock, says so, then waits to be killed.
HOLDER = """
import sys, time
from pathlib import Path
from core.lock import refresh_lock
from core.paths import DataPaths
with refresh_lock(DataPaths(Path(sys.argv[1]))):
    print("held", flush=True)
    time.sleep(60)
"""


def test_the_lock_creates_the_data_dir_and_records_its_holder(data_dir: Path) -> None:
    paths = DataPaths(data_dir)
    assert not data_dir.exists()
    with refresh_lock(paths):
        assert paths.lock.read_text() == str(os.getpid())
    with refresh_lock(paths):  # released on exit: the next run takes it
        pass


def test_a_second_writer_is_refused_naming_the_holder(data_dir: Path) -> None:
    paths = DataPaths(data_dir)
    with refresh_lock(paths), pytest.raises(LockHeldError) as held, refresh_lock(paths):
        pytest.fail("two writers held the lock")
    assert str(held.value) == (
        f"another refresh holds the lock on {data_dir} (pid {os.getpid()}); "
        "try again when it has finished"
    )


def test_a_killed_holder_leaves_no_stale_lock(data_dir: Path, repo: Path) -> None:
    paths = DataPaths(data_dir)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(data_dir)],
        cwd=repo,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(LockHeldError, match=rf"\(pid {holder.pid}\)"), refresh_lock(paths):
            pass
    finally:
        holder.kill()
        holder.wait(timeout=10)
        if holder.stdout is not None:
            holder.stdout.close()
    # The kernel released the flock with the process; the pid it wrote is just text.
    assert paths.lock.read_text() == str(holder.pid)
    with refresh_lock(paths):
        assert paths.lock.read_text() == str(os.getpid())
