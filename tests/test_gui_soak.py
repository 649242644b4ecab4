"""Soak: 60 s of real time at 30 fps with a two-hour history in the curves; no crash, no memory growth.

This is the test that the PySide6 6.12.0-on-Python-3.11 refcount bug fails within seconds (a fatal
abort): every curve update emits signals from Python.

What it asserts is what the window controls, not how busy the machine is (the wall-clock frame rate
and frame times are measured by ``bench/bench_gui.py``):

* frames drawn per frame due, where a frame is due in every timer period in which the event loop
  ran at all (a 10-ms heartbeat task shows when it did); periods in which another process had the
  CPU are not due. A window that skips frames, draws only when data arrives, or runs its timer
  slower than 30 Hz draws far fewer frames than are due and fails.
* the CPU time per frame (``time.process_time`` of the whole process, runner and strap included,
  divided by the frames drawn), which load does not inflate: a frame that got slower to draw
  (say a two-hour curve redrawn in full each frame) fails it.
* the memory after the first ten seconds does not grow.
"""

from __future__ import annotations

import asyncio
import os
import resource
import time

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("pyqtgraph")
pytest.importorskip("qasync")

from devices.simulated_strap import SimulatedStrap  # noqa: E402
from devices.simulator import person_profile  # noqa: E402
from sessions.exercises import load_common, load_script  # noqa: E402
from sessions.gui.app import run_in_qt  # noqa: E402
from sessions.gui.fast_forward import fast_forward_to_exercise  # noqa: E402
from sessions.gui.window import SessionWindow  # noqa: E402
from sessions.runner import SessionRunner  # noqa: E402
from sessions.store import SessionWriter  # noqa: E402

SOAK_S = 60.0
TARGET_FPS = 30  # what a person's eye needs for a smooth pacer; the window's timer aims at it
HEARTBEAT_S = 0.010
MIN_DRAWN_PER_DUE = 0.9
"""Idle, about 0.97 are drawn (a 33-ms timer drifts past a period now and then); a window drawing at
20 Hz would draw 0.67, at 15 Hz 0.5."""
MAX_CPU_PER_FRAME_MS = 12.0
"""Idle, about 4-5 ms of CPU per frame for window, runner and strap together (2-core CI machine);
a frame at 30 Hz has 33 ms. A regression to a full redraw of two hours of curves per frame costs
several times that."""


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20


def two_hour_history(window: SessionWindow, seconds: float = 7200.0) -> None:
    """Fill the curves as a two-hour session would have (one point a second), ending at time 0."""
    t = np.arange(-seconds, 0.0, 1.0)
    rng = np.random.default_rng(0)
    series = {"hr_now_bpm": 64 + 4 * np.sin(t / 40) + rng.normal(0, 1, t.size),
              "rmssd_ms": 40 + 8 * np.sin(t / 300) + rng.normal(0, 2, t.size),
              "coherence": 2 + np.abs(np.sin(t / 90)), "calm": 50 + 20 * np.sin(t / 900)}
    for key, values in series.items():
        window.curves.history[key].extend(t / 60.0, values)


def drawn_per_due(frame_starts: list[float], alive: list[float], period_s: float) -> tuple[int, int]:
    """(periods with a frame, periods in which the loop ran): a frame was due in each of the latter."""
    due = {int(t / period_s) for t in alive} | {int(t / period_s) for t in frame_starts}
    drawn = {int(t / period_s) for t in frame_starts}
    return len(drawn & due), len(due)


def test_drawn_per_due_counts_only_periods_in_which_the_loop_ran():
    period = 1 / 30
    # The loop ran throughout; a frame in every other period: half drawn.
    alive = [i * 0.010 for i in range(300)]
    frames = [i * 2 * period + 0.001 for i in range(45)]
    drawn, due = drawn_per_due(frames, alive, period)
    assert due == 90 and drawn == 45
    # The process had no CPU for the second half: those periods were not due.
    drawn, due = drawn_per_due([i * period + 0.001 for i in range(45)], alive[:150], period)
    assert drawn == due == 45


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads memory use from /proc")
def test_window_runs_a_minute_at_30_fps_with_two_hours_of_history_without_growing(qapp, tmp_path):
    source = SimulatedStrap(person_profile("follows"), seed=5, speed=1.0)
    writer = SessionWriter(tmp_path / "soak.biofeedback.sqlite", {"script": "safe-place", "language": "en"})
    runner = SessionRunner(source, load_script("safe-place", "en"), load_common("en"), writer)
    fast_forward_to_exercise(runner)
    window = SessionWindow(runner, "en", close_at_end=True)
    two_hour_history(window)
    rss: list[tuple[int, float]] = []
    frame_starts: list[float] = []
    alive: list[float] = []
    period_s = 1.0 / TARGET_FPS

    async def heartbeat() -> None:
        while True:
            alive.append(time.perf_counter())
            await asyncio.sleep(HEARTBEAT_S)

    async def go():
        task = asyncio.ensure_future(runner.run())
        live = asyncio.ensure_future(window.run_live(task))
        while runner.state.phase != "step":
            await asyncio.sleep(0.05)
        beat = asyncio.ensure_future(heartbeat())
        window.frame_listeners.append(frame_starts.append)
        start, cpu0 = window.frames, time.process_time()
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        while loop.time() - t0 < SOAK_S:
            await asyncio.sleep(1.0)
            rss.append((window.frames - start, _rss_mb()))
        frames, cpu = window.frames - start, time.process_time() - cpu0
        window.frame_listeners.remove(frame_starts.append)
        beat.cancel()
        runner.stop()
        source.clock.speed = None  # the closing grounding at full speed: it is not what is measured
        await asyncio.wait_for(live, 120)
        result = await task
        writer.close(end_reason=result.reason)
        return frames, cpu

    frames, cpu = run_in_qt(go())
    drawn, due = drawn_per_due(frame_starts, alive, period_s)
    assert drawn >= MIN_DRAWN_PER_DUE * due, f"{drawn} frames drawn of {due} due ({frames} in all)"
    # The measure means something only if the loop ran in a fair share of the minute's periods (a
    # starved process runs in few; at 30 Hz this window needs about a sixth of one core).
    assert due >= 0.25 * SOAK_S / period_s, f"the loop ran in only {due} periods of {SOAK_S / period_s:.0f}"
    cpu_per_frame_ms = 1000.0 * cpu / max(frames, 1)
    print(f"soak: {drawn} frames drawn of {due} due, {frames} in {SOAK_S:.0f} s, {cpu_per_frame_ms:.1f} ms CPU per frame")
    assert cpu_per_frame_ms <= MAX_CPU_PER_FRAME_MS, f"{cpu_per_frame_ms:.1f} ms of CPU per frame"
    assert runner.state.pacer is not None or runner.state.phase == "done"
    settled = [mb for _, mb in rss[10:]]  # after the first 10 s (caches, fonts, first draws)
    growth = settled[-1] - settled[0]
    assert growth < 4.0, f"memory grew {growth:.1f} MB over {len(settled)} s: {settled[::10]}"
