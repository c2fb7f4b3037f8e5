"""One writer at a time: an advisory lock on ``data/.refresh.lock``.

``flock`` is released by the kernel when the holder dies, so a killed run never leaves a
stale lock behind; the pid written inside is only there to tell a person who holds it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator

from core.errors import LockHeldError
from core.paths import DataPaths


@contextlib.contextmanager
def refresh_lock(paths: DataPaths) -> Iterator[None]:
    paths.root.mkdir(parents=True, exist_ok=True)
    fd = os.open(paths.lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            raise LockHeldError(
                f"another refresh holds the lock on {paths.root} (pid {holder}); "
                "try again when it has finished"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)
