"""The playback clock of replays and the simulator (issue 16): a hole in a recording passes in time as a
live strap gone quiet would (the pacer and the step timer run on), yet a consumer that falls behind a fast
playback never sees time run ahead of the data it was given. The wall clock is a fake one here, so
nothing depends on how busy the machine is; the session test drives a real runner on the real H10 file.
"""

from __future__ import annotations

import asyncio

from devices.replay import Replay
from devices.source import PlaybackClock
from sessions.exercises import load_common, load_script
from sessions.runner import SessionRunner
from sessions.store import SessionWriter
from tests.h10kit import HOLE, polar_with_hole


class FakeWall:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _waiting(clock: PlaybackClock, t: float) -> tuple[asyncio.Event, asyncio.Task[None]]:
    closed = asyncio.Event()
    return closed, asyncio.ensure_future(clock.wait_until(t, closed))


def test_while_waiting_through_a_hole_the_clock_runs_on_with_the_wall_clock_scaled_by_speed():
    async def main() -> list[float]:
        wall = FakeWall()
        clock = PlaybackClock(4.0, monotonic=wall)
        await clock.wait_until(100.0)  # the first item is due at once
        seen = [clock.now()]
        closed, task = _waiting(clock, 140.0)  # the next beat comes 40 s later: a hole
        await asyncio.sleep(0)
        for _ in range(4):
            wall.t += 2.5  # 2.5 wall seconds at 4x: 10 s of recording
            seen.append(clock.now())
        wall.t += 100.0  # far past the item: still never past it
        seen.append(clock.now())
        closed.set()
        await task
        return seen

    assert asyncio.run(main()) == [100.0, 110.0, 120.0, 130.0, 140.0, 140.0]


def test_a_consumer_that_falls_behind_never_sees_time_ahead_of_the_data_it_was_given():
    async def main() -> list[float]:
        wall = FakeWall()
        clock = PlaybackClock(1.0, monotonic=wall)
        seen = []
        for t in (0.0, 1.0, 2.0, 3.0):
            await clock.wait_until(t)
            wall.t += 30.0  # the consumer is slow: the wall clock is far ahead of the playback
            seen.append(clock.now())
        return seen

    assert asyncio.run(main()) == [0.0, 1.0, 2.0, 3.0]


def test_closing_during_a_hole_stops_the_clock_where_the_wall_was_and_speed_changes_do_not_jump():
    async def main() -> tuple[float, float, float]:
        wall = FakeWall()
        clock = PlaybackClock(1.0, monotonic=wall)
        await clock.wait_until(10.0)
        closed, task = _waiting(clock, 50.0)
        await asyncio.sleep(0)
        wall.t += 5.0
        clock.set_speed(10.0)  # e.g. fast-forward: from where it is, not from the item waited for
        at_change = clock.now()
        wall.t += 1.0
        later = clock.now()
        closed.set()
        await task
        return at_change, later, clock.now()

    at_change, later, end = asyncio.run(main())
    assert at_change == 15.0 and later == 25.0 and end == 25.0  # the item at 50 s was never released


def test_full_speed_never_waits_and_reports_the_latest_item():
    async def main() -> float:
        clock = PlaybackClock(None, monotonic=FakeWall())
        for t in (0.0, 5.0, 60.0):
            await clock.wait_until(t)
        return clock.now()

    assert asyncio.run(main()) == 60.0


def test_a_replay_through_a_hole_keeps_the_session_clock_and_the_pacer_moving(polar_h10_file, tmp_path):
    """Fast to just before the hole, then 20x: the runner's ticks inside the hole see session times spread
    over the hole (a live strap's clock runs on), not one jump to its end followed by a frozen screen."""
    source = Replay.from_file(polar_with_hole(tmp_path), speed=None)
    writer = SessionWriter(tmp_path / "hole.biofeedback.sqlite", {"script": "safe-place", "language": "en"})
    runner = SessionRunner(source, load_script("safe-place", "en"), load_common("en"), writer, duration_s=175.0)
    seen: list[tuple[float, float | None, float]] = []

    def on_event(kind, t, data) -> None:
        if runner.state.t >= HOLE[0] - 10 and source.clock.speed is None:
            source.clock.set_speed(20.0)  # 40 s of hole in 2 s of wall time

    async def watch(task: asyncio.Future) -> None:
        while not task.done():
            s = runner.state
            if HOLE[0] + 1 < s.t < HOLE[1] - 1:
                seen.append((s.t, s.pacer.phase if s.pacer is not None else None, s.step_elapsed))
            await asyncio.sleep(0.02)

    async def main() -> None:
        runner.subscribe(on_event)
        task = asyncio.ensure_future(runner.run())
        await watch(task)
        await task

    asyncio.run(main())
    writer.close(end_reason="test")
    times = sorted({round(t) for t, _, _ in seen})
    assert len(times) >= 5, f"session time inside the hole: {times}"  # the old clock showed none (one jump)
    assert times[-1] - times[0] >= 15.0
    phases = {round(p, 2) for _, p, _ in seen if p is not None}
    assert len(phases) >= 3, "the pacer disc froze during the hole"
    assert len({round(e) for _, _, e in seen}) >= 3, "the step timer froze during the hole"
