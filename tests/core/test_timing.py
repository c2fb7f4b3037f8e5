"""core.timing: sections cost nothing unless recorded; recorded ones nest and sum."""

from __future__ import annotations

import threading
import time

import pytest

from core import timing


@timing.timed("outer")
def _outer() -> str:
    with timing.section("inner"):
        time.sleep(0.02)
    with timing.section("inner"):
        time.sleep(0.01)
    return "done"


def test_nothing_is_recorded_without_a_recording() -> None:
    assert timing.section("x").__class__ is timing.section("y").__class__  # the shared no-op
    with timing.section("x"):
        pass
    assert _outer() == "done"
    with timing.record() as times:
        pass
    assert times.seconds == {} and times.own == {}


def test_sections_nest_and_repeated_names_sum() -> None:
    with timing.record() as times:
        assert _outer() == "done"
    assert list(times.seconds) == ["outer", "inner"]
    assert times.seconds["inner"] >= 0.03
    assert times.seconds["outer"] >= times.seconds["inner"]
    assert times.own["inner"] == pytest.approx(times.seconds["inner"])
    # own time leaves the nested sections out: outer's own is only its own bookkeeping
    assert times.own["outer"] == pytest.approx(times.seconds["outer"] - times.seconds["inner"])
    assert times.own["outer"] < 0.01


def test_a_section_that_raises_is_still_recorded() -> None:
    with timing.record() as times:
        with pytest.raises(ValueError), timing.section("failing"):
            raise ValueError("boom")
        with timing.section("after"):
            pass
    assert set(times.seconds) == {"failing", "after"}
    assert times.own["after"] == pytest.approx(times.seconds["after"])


def test_a_recording_ends_with_its_block_and_stays_in_its_context() -> None:
    seen: list[bool] = []

    def elsewhere() -> None:  # another thread does not inherit the recording
        with timing.section("thread"):
            pass
        seen.append(True)

    with timing.record() as times:
        worker = threading.Thread(target=elsewhere)
        worker.start()
        worker.join()
    with timing.section("later"):
        pass
    assert seen == [True]
    assert times.seconds == {}


def test_a_recorder_subclass_sees_every_boundary() -> None:
    class Log(timing.Recorder):
        def __init__(self) -> None:
            super().__init__()
            self.events: list[str] = []

        def enter(self, name: str) -> None:
            self.events.append(f"enter {name}")

        def leave(self, name: str, seconds: float) -> None:
            self.events.append(f"leave {name}")

    log = Log()
    with timing.record(log) as times:
        _outer()
    assert times is log
    assert log.events == [
        "enter outer",
        "enter inner",
        "leave inner",
        "enter inner",
        "leave inner",
        "leave outer",
    ]


def test_an_unrecorded_section_costs_about_nothing() -> None:
    calls = 100_000

    @timing.timed("f")
    def timed_noop() -> None:
        return None

    started = time.perf_counter()
    for _ in range(calls):
        with timing.section("x"):
            pass
        timed_noop()
    per_call = (time.perf_counter() - started) / calls
    # A load enters a few dozen sections; even on a busy machine each costs a microsecond or
    # so. The bound is loose on purpose (20 µs), to catch a hook that does real work.
    assert per_call < 20e-6
