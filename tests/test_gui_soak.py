"""Soak: 60 s of real time at 30 fps with a two-hour history in the curves; no crash, no memory growth.

This is the test that the PySide6 6.12.0-on-Python-3.11 refcount bug fails within seconds (a fatal
abort): every curve update emits signals from Python.
"""

from __future__ import annotations

import asyncio
import os
import resource

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


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20


def two_hour_history(window: SessionWindow, seconds: float = 7200.0) -> None:
    """Fill the curves as a two-hour session would have (one point a second), ending at time 0."""
    t = np.arange(-seconds, 0.0, 1.0)
    rng = np.random.default_rng(0)
    series = {"hr": 64 + 4 * np.sin(t / 40) + rng.normal(0, 1, t.size),
              "rmssd": 40 + 8 * np.sin(t / 300) + rng.normal(0, 2, t.size),
              "coherence": 2 + np.abs(np.sin(t / 90)), "calm": 50 + 20 * np.sin(t / 900)}
    for key, values in series.items():
        window.curves.history[key].extend(t / 60.0, values)


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads memory use from /proc")
def test_window_runs_a_minute_at_30_fps_with_two_hours_of_history_without_growing(qapp, tmp_path):
    source = SimulatedStrap(person_profile("follows"), seed=5, speed=1.0)
    writer = SessionWriter(tmp_path / "soak.biofeedback.sqlite", {"script": "safe-place", "language": "en"})
    runner = SessionRunner(source, load_script("safe-place", "en"), load_common("en"), writer)
    fast_forward_to_exercise(runner)
    window = SessionWindow(runner, "en", close_at_end=True)
    two_hour_history(window)
    rss: list[tuple[int, float]] = []

    async def go():
        task = asyncio.ensure_future(runner.run())
        live = asyncio.ensure_future(window.run_live(task))
        while runner.state.phase != "step":
            await asyncio.sleep(0.05)
        start = window.frames
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        while loop.time() - t0 < SOAK_S:
            await asyncio.sleep(1.0)
            rss.append((window.frames - start, _rss_mb()))
        frames, wall = window.frames - start, loop.time() - t0
        runner.stop()
        source.clock.speed = None  # the closing grounding at full speed: it is not what is measured
        await asyncio.wait_for(live, 120)
        result = await task
        writer.close(end_reason=result.reason)
        return frames, wall

    frames, wall = run_in_qt(go())
    assert frames >= 0.9 * 30 * wall, f"{frames} frames in {wall:.0f} s"
    assert runner.state.pacer is not None or runner.state.phase == "done"
    settled = [mb for _, mb in rss[10:]]  # after the first 10 s (caches, fonts, first draws)
    growth = settled[-1] - settled[0]
    assert growth < 4.0, f"memory grew {growth:.1f} MB over {len(settled)} s: {settled[::10]}"
