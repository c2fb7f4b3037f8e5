"""Where a load spends its time: named sections, recorded only when someone asks.

The code marks its stages (``with timing.section("staging_copy"):`` or ``@timing.timed(…)``);
a caller who wants the times records them::

    with timing.record() as times:
        stage_oews(...)
    times.seconds["staging_copy"], times.own["stage_oews"]

Nobody records during a normal run: a section then costs one context-variable lookup and
returns a shared object that does nothing (well under a microsecond; a load enters a few
dozen sections). The recorder is a context variable, so a recording covers the code its
``with`` block runs, in this thread and in tasks that copy its context, and nothing else.

Sections nest. ``seconds`` is each name's time including the sections opened inside it (a
name entered twice is summed); ``own`` leaves those out, so the ``own`` times of every
section add up to the outermost ones'. A :class:`Recorder` subclass may observe every
boundary (``enter`` / ``leave``): the OEWS benchmark reads peak memory there.
"""

from __future__ import annotations

import contextvars
import functools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class Recorder:
    """Seconds per section name: inclusive (``seconds``) and exclusive of nested ones
    (``own``), in the order the names were first entered."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.own: dict[str, float] = {}
        self._nested: list[float] = []  # per open section: time spent in its sub-sections

    def enter(self, name: str) -> None:
        """Called as a section starts (before its clock does)."""

    def leave(self, name: str, seconds: float) -> None:
        """Called as a section ends (after its clock stopped), with its inclusive seconds."""

    def _start(self, name: str) -> float:
        self.enter(name)
        self.seconds.setdefault(name, 0.0)
        self.own.setdefault(name, 0.0)
        self._nested.append(0.0)
        return time.perf_counter()

    def _stop(self, name: str, started: float) -> None:
        took = time.perf_counter() - started
        nested = self._nested.pop()
        self.seconds[name] += took
        self.own[name] += took - nested
        if self._nested:
            self._nested[-1] += took
        self.leave(name, took)


_RECORDER: contextvars.ContextVar[Recorder | None] = contextvars.ContextVar(
    "bls_refresh_timing", default=None
)


class _Unrecorded:
    """The section nobody records: enters and leaves doing nothing."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


_UNRECORDED = _Unrecorded()


class _Section:
    __slots__ = ("name", "recorder", "started")

    def __init__(self, recorder: Recorder, name: str) -> None:
        self.recorder = recorder
        self.name = name
        self.started = 0.0

    def __enter__(self) -> None:
        self.started = self.recorder._start(self.name)

    def __exit__(self, *exc: object) -> None:
        self.recorder._stop(self.name, self.started)


def section(name: str) -> _Section | _Unrecorded:
    """A context manager timing the block as ``name`` if a recording is on, else nothing."""
    recorder = _RECORDER.get()
    return _UNRECORDED if recorder is None else _Section(recorder, name)


def timed(name: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator: every call of the function is a section named ``name``."""

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def timed_call(*args: P.args, **kwargs: P.kwargs) -> R:
            recorder = _RECORDER.get()
            if recorder is None:
                return func(*args, **kwargs)
            with _Section(recorder, name):
                return func(*args, **kwargs)

        return timed_call

    return decorate


@contextmanager
def record(recorder: Recorder | None = None) -> Iterator[Recorder]:
    """Record every section the block runs into ``recorder`` (a new :class:`Recorder` if
    none is given), which the ``with`` statement yields."""
    recorder = Recorder() if recorder is None else recorder
    token = _RECORDER.set(recorder)
    try:
        yield recorder
    finally:
        _RECORDER.reset(token)
