"""Cost of the live HRV engine: microseconds per beat and milliseconds per 5-s spectrum.

Two hours of synthetic beats (RSA at 0.1 Hz plus noise, 1 % ectopic beats) go through
``HrvEngine.add_beat``; every 5 s of stream time ``spectral_due`` runs. Baseline in the same run:
a naive per-beat numpy recompute of the 60-s window (mean, SD, RMSSD, pNN50 from scratch), and
neurokit2 ``hrv_time`` on the window (measured on a sample of beats only: it is slow).
Median of ``--runs`` runs.  ``.venv/bin/python bench/bench_hrv.py``

The 5-s spectral update as the runner calls it once the pacer is on (``spectral_due`` then
``recent_dominant_hz`` at the same stream time): CPU time per update (``time.process_time_ns``),
p50 and p99 over the whole simulated session, and the CPU of the beat right after each update.
Target: p99 under 2 ms. Baseline in the same run: the engine as it was before issue 13
(``biofeedback/hrv.py`` at ``--baseline-rev``, read with ``git show``; it built the corrected
series twice per update and ran the dense Lomb-Scargle).
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from types import ModuleType

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from biofeedback.hrv import HrvEngine  # noqa: E402


def beats(hours: float = 2.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    t, out = 0.0, []
    while t < hours * 3600:
        rr = 0.85 + 0.06 * np.sin(2 * np.pi * 0.1 * t) + rng.normal(0, 0.01)
        if rng.random() < 0.01:
            rr *= 0.6
        ticks = max(200, int(round(rr * 1024)))
        t += ticks / 1024
        out.append((t, ticks))
    return out


def run_engine(bs):
    eng = HrvEngine()
    t_beat = t_spec = 0.0
    n_spec = 0
    for t, r in bs:
        a = time.perf_counter()
        eng.add_beat(t, r)
        b = time.perf_counter()
        s = eng.spectral_due(t)
        c = time.perf_counter()
        t_beat += b - a
        if s is not None:
            t_spec += c - b
            n_spec += 1
    return t_beat / len(bs) * 1e6, t_spec / max(n_spec, 1) * 1e3


def run_naive(bs, window_s=60.0):
    t = np.array([b[0] for b in bs])
    rr = np.array([b[1] for b in bs]) * 1000 / 1024
    a = time.perf_counter()
    lo = 0
    for i in range(len(bs)):
        while t[lo] <= t[i] - window_s:
            lo += 1
        w = rr[lo:i + 1]
        d = np.diff(w)
        (w.mean(), w.std(ddof=1) if len(w) > 1 else 0, np.sqrt(np.mean(d * d)) if len(d) else 0,
         np.mean(np.abs(d) > 50) if len(d) else 0)
    return (time.perf_counter() - a) / len(bs) * 1e6


def run_nk(bs, n=200, window_s=60.0):
    import neurokit2 as nk

    ticks = np.cumsum([b[1] for b in bs])
    per = int(window_s / 0.85)
    idx = np.linspace(per + 1, len(bs) - 1, n).astype(int)
    a = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in idx:
            nk.hrv_time(ticks[i - per:i + 1], sampling_rate=1024)
    return (time.perf_counter() - a) / n * 1e6


BASELINE_REV = "5fe3e44"  # last commit before issue 13 touched biofeedback/hrv.py


def engine_at(rev: str) -> ModuleType | None:
    """biofeedback/hrv.py as it was at ``rev``, imported under another name (None without git)."""
    root = Path(__file__).resolve().parents[1]
    p = subprocess.run(["git", "show", f"{rev}:biofeedback/hrv.py"], cwd=root, capture_output=True, text=True)
    if p.returncode != 0:
        return None
    path = Path(tempfile.mkdtemp()) / "hrv_baseline.py"
    path.write_text(p.stdout)
    spec = importlib.util.spec_from_file_location("hrv_baseline", path)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    sys.modules["hrv_baseline"] = module
    spec.loader.exec_module(module)
    return module


def run_updates(engine_cls, bs) -> tuple[float, float, float]:
    """(p50 ms, p99 ms) CPU per 5-s update incl. recent_dominant_hz, and µs of the beat after one."""
    eng = engine_cls()
    costs, after, flagged = [], [], False
    for t, r in bs:
        a = time.process_time_ns()
        eng.add_beat(t, r)
        b = time.process_time_ns()
        if flagged:
            after.append(b - a)
            flagged = False
        if eng.spectral_due(t) is not None:
            eng.recent_dominant_hz()
            costs.append(time.process_time_ns() - b)
            flagged = True
    c = np.array(costs) / 1e6
    return float(np.percentile(c, 50)), float(np.percentile(c, 99)), float(np.median(after)) / 1e3


def update_table(bs, runs: int, rev: str) -> None:
    rows = [("HrvEngine now (one cached corrected series, fast Lomb-Scargle)", HrvEngine)]
    old = engine_at(rev)
    if old is not None:
        rows.append((f"HrvEngine before issue 13 ({rev}, baseline)", old.HrvEngine))
    print(f"\n5-s spectral update + recent_dominant_hz, CPU per update over {len(bs)} beats, median of {runs} runs\n")
    print("| engine | p50 ms | p99 ms | next beat µs | target p99 |")
    print("|---|---:|---:|---:|---|")
    for name, cls in rows:
        res = [run_updates(cls, bs) for _ in range(runs)]
        p50, p99, nxt = (statistics.median(r[i] for r in res) for i in range(3))
        print(f"| {name} | {p50:.2f} | {p99:.2f} | {nxt:.1f} | < 2 ms |")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--hours", type=float, default=2.0)
    ap.add_argument("--baseline-rev", default=BASELINE_REV)
    ap.add_argument("--updates-only", action="store_true")
    args = ap.parse_args()
    bs = beats(args.hours)
    update_table(bs, args.runs, args.baseline_rev)
    if args.updates_only:
        return 0
    eng = [run_engine(bs) for _ in range(args.runs)]
    per_beat = statistics.median(e[0] for e in eng)
    per_spec = statistics.median(e[1] for e in eng)
    naive = statistics.median(run_naive(bs) for _ in range(args.runs))
    nkt = statistics.median(run_nk(bs) for _ in range(args.runs))
    print(f"{len(bs)} beats ({args.hours} h), median of {args.runs} runs\n")
    print("| what | cost | vs ours |")
    print("|---|---|---|")
    print(f"| HrvEngine.add_beat (label + time domain, incremental) | {per_beat:.1f} µs/beat | 1.0x |")
    print(f"| naive numpy recompute of the 60-s window per beat | {naive:.1f} µs/beat | {naive / per_beat:.1f}x |")
    print(f"| neurokit2 hrv_time on the 60-s window per beat | {nkt:.0f} µs/beat | {nkt / per_beat:.0f}x |")
    print(f"| spectral_due every 5 s (coherence FFT + Lomb-Scargle LF/HF, 120 s) | {per_spec:.2f} ms/5 s | - |")
    load = (per_beat * len(bs) / 1e6 + per_spec / 1e3 * args.hours * 720) / (args.hours * 3600)
    print(f"\nCPU share of one core for the whole engine: {100 * load:.3f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
