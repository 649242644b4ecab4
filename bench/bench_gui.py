"""The session window's cost: CPU at 30 fps with a two-hour history, frame times, and the latency
from a strap payload's arrival to its value painted on screen (offscreen Qt, real runner).

Each run skips the baseline at full speed, then plays the simulated strap in real time for
MEASURE_S seconds. Baseline for the ratio: the same session in the same qasync loop without a
window. Median of RUNS runs. Prints a markdown table and whether the frame-rate target (TARGET_FPS
with a two-hour history) is met; run it on an otherwise idle machine.

    .venv/bin/python bench/bench_gui.py
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PySide6.QtCore import QEvent, QObject  # noqa: E402

from devices.simulated_strap import SimulatedStrap  # noqa: E402
from devices.simulator import person_profile  # noqa: E402
from sessions.exercises import load_common, load_script  # noqa: E402
from sessions.gui.app import qt_application, run_in_qt  # noqa: E402
from sessions.gui.fast_forward import fast_forward_to_exercise  # noqa: E402
from sessions.gui.window import SessionWindow  # noqa: E402
from sessions.runner import SessionRunner  # noqa: E402
from sessions.store import SessionWriter  # noqa: E402

MEASURE_S = float(os.environ.get("BENCH_GUI_SECONDS", 20))
RUNS = int(os.environ.get("BENCH_GUI_RUNS", 3))
TARGET_FPS = 27.0
"""Wall-clock target (90 % of the 30-Hz timer) with a two-hour history. It lives here, not in the
tests: on a loaded machine the frame rate drops for reasons the window does not control
(tests/test_gui_soak.py asserts frames drawn per frame due and CPU per frame instead)."""


class PaintClock(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def eventFilter(self, _obj, event) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Paint:
            self.times.append(time.perf_counter())
        return False


def history(window: SessionWindow, seconds: float) -> None:
    t = np.arange(-seconds, 0.0, 1.0)
    rng = np.random.default_rng(0)
    for key, values in {"hr_now_bpm": 64 + 4 * np.sin(t / 40) + rng.normal(0, 1, t.size),
                        "rmssd_ms": 40 + 8 * np.sin(t / 300) + rng.normal(0, 2, t.size),
                        "coherence": 2 + np.abs(np.sin(t / 90)), "calm": 50 + 20 * np.sin(t / 900)}.items():
        window.curves.history[key].extend(t / 60.0, values)


def one_run(folder: Path, with_window: bool, history_s: float, seed: int) -> dict:
    source = SimulatedStrap(person_profile("follows"), seed=seed, speed=1.0)
    writer = SessionWriter(folder / f"b{seed}{with_window}{history_s}.sqlite", {"script": "safe-place", "language": "en"})
    runner = SessionRunner(source, load_script("safe-place", "en"), load_common("en"), writer)
    fast_forward_to_exercise(runner)
    arrivals: list[tuple[float, int]] = []
    original = source.items

    async def timed_items():
        async for item in original():
            t = time.perf_counter()
            yield item
            arrivals.append((t, runner.state.beats))  # the runner has handled the item when it asks again

    source.items = timed_items
    window = paints = None
    shown: list[tuple[float, int]] = []
    if with_window:
        window = SessionWindow(runner, "en", close_at_end=True)
        history(window, history_s)
        paints = PaintClock()
        window.curves.viewport().installEventFilter(paints)
        window.frame_listeners.append(lambda t: shown.append((t, window.shown_beats)))

    async def go():
        task = asyncio.ensure_future(runner.run())
        live = asyncio.ensure_future(window.run_live(task)) if window else None
        while runner.state.phase != "step":
            await asyncio.sleep(0.02)
        await asyncio.sleep(1.0)
        cpu0, wall0, frames0, n0 = time.process_time(), time.perf_counter(), window.frames if window else 0, len(arrivals)
        await asyncio.sleep(MEASURE_S)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        frames = (window.frames - frames0) if window else 0
        runner.stop()
        source.clock.speed = None  # the closing grounding at full speed: it is not what is measured
        if live:
            await live
        await task
        writer.close()
        return cpu, wall, frames, n0

    cpu, wall, frames, n0 = run_in_qt(go())
    out = {"cpu_share": cpu / wall, "fps": frames / wall}
    if frames:
        out["cpu_per_frame_ms"] = 1000.0 * cpu / frames
    if window is not None:
        ft = window.frame_times_ms()[-frames:]
        out["frame_median"], out["frame_p99"] = float(np.median(ft)), float(np.percentile(ft, 99))
        starts = np.array([t for t, _ in shown])
        out["interval_p99"] = float(np.percentile(np.diff(starts[-frames:]) * 1000, 99))
        lat = []
        paint_t = np.array(paints.times)
        prev = arrivals[n0 - 1][1] if n0 else 0
        for t_arr, beats in arrivals[n0:]:
            if beats == prev:
                continue  # this payload moved no value (no new labelled beat)
            prev = beats
            frame = next((ft_ for ft_, b in shown if ft_ >= t_arr and b >= beats), None)
            if frame is None:
                continue
            i = np.searchsorted(paint_t, frame)
            if i < paint_t.size:
                lat.append((paint_t[i] - t_arr) * 1000)
        out["latency_median"] = float(np.median(lat)) if lat else float("nan")
        out["latency_max"] = float(np.max(lat)) if lat else float("nan")
        out["latency_n"] = len(lat)
    return out


def main() -> None:
    qt_application(offscreen=True)
    rows = {}
    with TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for label, with_window, hist in (("no window (baseline)", False, 0.0), ("window, empty history", True, 0.0),
                                         ("window, 2-hour history", True, 7200.0)):
            runs = [one_run(folder, with_window, hist, seed) for seed in range(RUNS)]
            rows[label] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            print(f"# {label}: {rows[label]}", file=sys.stderr)
    base = rows["no window (baseline)"]["cpu_share"]
    print(f"Median of {RUNS} runs of {MEASURE_S:.0f} s each, offscreen Qt, 2 cores.\n")
    columns = ("what", "CPU (share of one core)", "window's own CPU", "ratio to baseline", "fps", "process CPU per frame",
               "frame handler median / p99", "frame interval p99", "payload-to-screen latency median / max")
    print("| " + " | ".join(columns) + " |")
    print("|---|---|---|---|---|---|---|---|---|")
    for label, r in rows.items():
        own = r["cpu_share"] - base
        if "frame_median" in r:
            extra = (f"{r['fps']:.1f} | {r['cpu_per_frame_ms']:.1f} ms | "
                     f"{r['frame_median']:.2f} / {r['frame_p99']:.2f} ms | {r['interval_p99']:.1f} ms | "
                     f"{r['latency_median']:.1f} / {r['latency_max']:.1f} ms (n={r['latency_n']:.0f})")
        else:
            extra = "– | – | – | – | –"
        print(f"| {label} | {100 * r['cpu_share']:.1f} % | {100 * own:.1f} % | {r['cpu_share'] / base:.1f}x | {extra} |")
    fps = rows["window, 2-hour history"]["fps"]
    print(f"\nTarget: at least {TARGET_FPS:.0f} fps with a two-hour history: {fps:.1f} fps, "
          f"{'met' if fps >= TARGET_FPS else 'NOT met'}.")


if __name__ == "__main__":
    main()
