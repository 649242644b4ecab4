"""Review of a 2-hour session: time to open the review window and to write the report.

Targets (issue 6): the window opens a 2-hour session in <= 2 s, the report is written in <= 5 s.
The 2-hour session is written once with SessionWriter (simulated beats; see record_session), then
each step is timed in a fresh process (imports included, as a user meets them),
median of RUNS. Baseline in the same run: reading the record's rows with plain SQLite.

    .venv/bin/python bench/bench_review.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 5
DURATION_S = 7200.0


def record_session(folder: Path) -> Path:
    """A 2-hour record written with SessionWriter: simulated beats (with ectopics), 5-s metrics from
    the beats, 20 steps, a prompt every 30 s, two distress episodes and one lost link."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import numpy as np

    from devices.simulator import Glitches, SimulatedHeart, person_profile
    from sessions.store import SessionWriter

    heart = SimulatedHeart(person_profile("follows", glitches=Glitches(ectopic_per_min=1.0)), seed=1)
    path = folder / "two-hours.biofeedback.sqlite"
    w = SessionWriter(path, {"script": "safe-place", "language": "en", "title": "A safe place",
                             "source": {"kind": "simulated"}}, commit_interval_s=60)
    w.event(0.0, "link", {"state": "connected"})
    w.event(0.0, "step", {"step": "baseline", "index": -1, "kind": "baseline"})
    w.event(90.0, "baseline", {"hr_bpm": 72.0, "rmssd_ms": 30.0})
    rr: list[float] = []
    next_metrics, next_prompt, step = 5.0, 0.0, 0
    while True:
        b = heart.next_beat(6.0)
        if b.t > DURATION_S:
            break
        if 3000 < b.t < 3030:  # the strap lost for 30 s
            continue
        i = w.beat(b.t, round(b.rr_s * 1024), after_gap=3030 <= b.t < 3032)
        w.label(i, "normal" if b.kind == "normal" else "ectopic")
        rr.append(b.rr_s * 1000)
        if b.t >= next_metrics:
            win = np.array(rr[-70:])
            w.metrics(
                b.t,
                {
                    "hr_bpm": 60000 / win.mean(),
                    "rmssd_ms": float(np.sqrt(np.mean(np.diff(win) ** 2))),
                    "sdnn_ms": float(win.std()),
                    "coherence": 1 + np.sin(b.t / 300),
                    "calm": 50 + 20 * np.tanh(b.t / 1800),
                    "pacer_rate": 6.0,
                },
            )
            next_metrics += 5.0
        if b.t >= next_prompt:
            w.event(b.t, "prompt", {"step": "x", "line": 0, "text": "Notice the air on your skin."})
            next_prompt += 30.0
        if b.t >= 90 + step * 355:
            w.event(b.t, "step", {"step": f"step-{step + 1}", "index": step, "kind": "imagery"})
            step += 1
    for t in (1500.0, 5000.0):
        w.event(t, "distress", {"source": "body"})
        w.event(t, "grounding", {"reason": "distress"})
    w.event(3000.0, "link", {"state": "disconnected"})
    w.event(3030.0, "link", {"state": "reconnected"})
    w.close(end_reason="completed")
    return path


STEPS = {
    "plain SQLite read of every row (baseline)": """
import sqlite3
db = sqlite3.connect("file:{path}?mode=ro", uri=True)
for q in ("SELECT * FROM beats", "SELECT * FROM metrics", "SELECT * FROM events"):
    db.execute(q).fetchall()
""",
    "review window: load + build + first paint (offscreen)": """
from sessions.review.record import load_record
from sessions.review.window import app, build_window
qapp = app()
win = build_window(load_record({path!r}))
win.show(); qapp.processEvents(); win.grab()
# Close and delete the window while Qt is still up: left alive until interpreter exit, its C++ side
# is torn down after the QApplication and the process ended with SIGSEGV (issue 13).
win.close(); win.deleteLater(); qapp.processEvents()
del win
""",
    "report HTML (timeline, tables, whole-session HRV)": """
from pathlib import Path
from sessions.review.record import load_record
from sessions.review.report import write_report
write_report(load_record({path!r}), Path({out!r}) / "r.html")
""",
    "report PDF (2 pages)": """
from pathlib import Path
from sessions.review.record import load_record
from sessions.review.report import write_report
write_report(load_record({path!r}), Path({out!r}) / "r.pdf")
""",
}


def time_step(code: str) -> float:
    """Wall time of a fresh interpreter running ``code``, less an empty interpreter's start-up."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=Path(__file__).resolve().parents[1])
    return time.perf_counter() - t0


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = record_session(Path(tmp))
        import sqlite3

        ((beats,),) = sqlite3.connect(path).execute("SELECT COUNT(*) FROM beats")
        empty = statistics.median(time_step("pass") for _ in range(3))
        print(
            f"2-hour session: {beats} beats; {RUNS} runs each, fresh process, imports included "
            f"(interpreter start-up {empty:.2f} s subtracted)\n"
        )
        print("| what | median s | ratio | target |")
        print("|---|---|---|---|")
        base = None
        for name, code in STEPS.items():
            times = [time_step(code.format(path=str(path), out=tmp)) - empty for _ in range(RUNS)]
            med = statistics.median(times)
            base = base or med
            target = "≤ 2 s" if "window" in name else "≤ 5 s" if "report" in name else "–"
            print(f"| {name} | {med:.2f} | {med / base:.0f}x | {target} |")


if __name__ == "__main__":
    main()
