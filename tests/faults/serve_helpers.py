"""Real processes for the scheduling tests: a Prefect server, ``bls-refresh serve``, a worker.

Every process a test starts is a ``Spawned``: its output goes to a log file (a pipe nobody reads
would fill and block it), and every descendant it is ever seen to have is remembered, so that
``kill_tree`` in a ``finally`` ends them all even after the parent has died and its children
were handed to init.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import psutil
from fault_helpers import HERMETIC_ENV, WIDE

from flows.runtime import api_answers, free_port

# What a scheduling test's processes share: a private Prefect home (database, profiles; never
# the user's ~/.prefect), no UI to build, no telemetry, and a runner that polls every second
# instead of every ten so that a scheduled run starts soon after it is due.
PREFECT_TEST_SETTINGS = {
    "PREFECT_SERVER_UI_ENABLED": "false",
    "PREFECT_UI_ENABLED": "false",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_RUNNER_POLL_FREQUENCY": "1",
    "PREFECT_LOGGING_LEVEL": "INFO",
}


def prefect_env(home: Path, api_url: str | None = None, **extra: str) -> dict[str, str]:
    """The environment of a child process: the hermetic test settings, Prefect at ``home``.

    Without ``api_url`` no PREFECT_API_URL is passed on, whatever this process has, so that
    ``serve`` has to start its own server as it does for a user without one.
    """
    env = {**os.environ, **HERMETIC_ENV, **WIDE, **PREFECT_TEST_SETTINGS}
    env.pop("PREFECT_API_URL", None)
    env.pop("BLS_DATA_DIR", None)
    env.pop("BLS_FAULT_KILL_AT", None)
    env["PREFECT_HOME"] = str(home)
    if api_url is not None:
        env["PREFECT_API_URL"] = api_url
    env.update(extra)
    return env


class Spawned:
    """A child process started in a session of its own, its output in ``log``."""

    def __init__(
        self, args: Sequence[str], env: dict[str, str], log: Path, cwd: Path | None = None
    ) -> None:
        self.log = log
        with log.open("wb") as sink:
            self.process = subprocess.Popen(
                list(args),
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.seen: dict[int, psutil.Process] = {}
        with contextlib.suppress(psutil.NoSuchProcess):
            self.seen[self.process.pid] = psutil.Process(self.process.pid)

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def descendants(self) -> list[psutil.Process]:
        """The process's descendants now; each is also remembered for ``kill_tree``."""
        try:
            found = psutil.Process(self.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        for child in found:
            self.seen.setdefault(child.pid, child)
        return found

    def alive(self) -> bool:
        self.descendants()
        return self.process.poll() is None

    def survivors(self) -> list[str]:
        """Every process ever seen in the tree that still runs (a zombie has ended)."""
        left = []
        for proc in self.seen.values():
            with contextlib.suppress(psutil.NoSuchProcess):
                # is_running() also checks the start time, so a reused pid does not count.
                if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                    left.append(f"{proc.pid} {' '.join(proc.cmdline())[:200]}")
        return left

    def kill_tree(self) -> None:
        """SIGKILL whatever is left of the tree; for ``finally`` blocks."""
        self.descendants()
        for proc in self.seen.values():
            with contextlib.suppress(psutil.NoSuchProcess):
                if proc.is_running():
                    proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)


def wait_until(
    condition: Callable[[], bool], timeout: float, what: str, *, alive: Spawned | None = None
) -> None:
    """Poll ``condition``; fail with ``alive``'s output if it dies or time runs out first."""
    deadline = time.monotonic() + timeout
    while not condition():
        if alive is not None and not alive.alive():
            raise AssertionError(
                f"{alive.process.args!r} exited ({alive.process.returncode}) while waiting for "
                f"{what}:\n{alive.output()[-6000:]}"
            )
        if time.monotonic() > deadline:
            tail = f":\n{alive.output()[-6000:]}" if alive is not None else ""
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}{tail}")
        time.sleep(0.2)


@contextlib.contextmanager
def prefect_server(home: Path, log: Path) -> Iterator[tuple[str, Spawned]]:
    """``prefect server start`` on a free port with its database in ``home``: (API URL, process)."""
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    args = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1"]
    server = Spawned([*args, "--port", str(port)], prefect_env(home), log)
    try:
        wait_until(lambda: api_answers(api_url), 120, "the Prefect server", alive=server)
        yield api_url, server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.process.wait(timeout=15)
        server.kill_tree()
