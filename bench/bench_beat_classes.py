"""Ectopic beats from the ECG (QRS morphology + timing) next to the RR-only classifier, same run.

Scored exactly as ``bench/bench_artefacts.py`` scores the RR-only classifier (its ``score``: an
ectopic beat A a J S V E F is found when the RR ending at it or the next one is flagged;
specificity over RR whose two beats and their neighbours are all non-ectopic; AF/AFL stretches and
blocked P waves left out; groups: 100-124 without the paced 102/104/107, its even and odd halves,
the held-out AF records outside AF). The ECG is the first lead at 130 Hz (114: MLII), as in
``bench_ecg.py``.

Methods, all one setting for every record:

- ``RR-only, annotated beats``: :mod:`biofeedback.artefacts` on the cardiologists' beat times
  (the figure ``bench_artefacts.py`` prints);
- ``RR-only, detected beats``: the same on the beats our detector finds in the ECG;
- ``ECG alone``: :class:`biofeedback.beat_morphology.EcgBeatClassifier`, causal, on the ECG;
- ``ECG + RR``: :func:`biofeedback.beat_morphology.usable_rr` of both (what ``analyze`` uses).

Detected beats are matched to the annotation one to one within 50 ms, and scored on those: an
annotated beat the detector missed (or placed more than 50 ms off), and the beat after an added
detection, are left out like AF (their count is printed; the detector's own table above says how
good it is), so every method here is judged on the same beats. Each annotated RR between two
consecutive detected beats takes the method's flag of that detected RR.

    .venv/bin/python bench/bench_ecg.py --classes-only     # this table and the CPU cost only
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_artefacts as ba  # noqa: E402
from bench_ecg import FS, pairs  # noqa: E402

from biofeedback.artefacts import classify_series  # noqa: E402
from biofeedback.beat_morphology import EcgBeat, EcgBeatClassifier, classify_ecg, usable_rr  # noqa: E402

def rr_only(t_s: np.ndarray) -> np.ndarray:
    """RR-only flags of the intervals between consecutive beats at ``t_s`` (the strap's 1/1024 s ticks)."""
    ticks = np.round(t_s * 1024).astype(np.int64)
    beats = classify_series(np.diff(ticks).tolist(), (ticks[1:] / 1024).tolist())
    return np.array([not b.is_nn for b in beats], bool)


def unscored(n_ref: int, m: dict[int, int]) -> np.ndarray:
    """Annotated beats left out: not matched, or not the next detection after the previous beat's."""
    out = np.ones(n_ref, bool)
    for k in range(n_ref):
        j = m.get(k)
        out[k] = j is None or (k > 0 and m.get(k - 1) is not None and m[k - 1] != j - 1)
    return out


def to_annotation(n_ref: int, m: dict[int, int], det_flags: np.ndarray) -> np.ndarray:
    """Flags of the annotated RR from flags of the detected RR (see the module docstring)."""
    f = np.zeros(n_ref - 1, bool)
    for k in range(n_ref - 1):
        j, j2 = m.get(k), m.get(k + 1)
        if j is not None and j2 == j + 1:
            f[k] = bool(det_flags[j])
    return f


def record_flags(rec: int, ecg: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
    r = ba.load_record(rec)
    beats: list[EcgBeat] = classify_ecg(ecg, FS)
    det_t = np.array([b.t_s for b in beats])
    m = pairs(r.samples / ba.FS, det_t)
    det_rr = rr_only(det_t)
    n = len(r.samples)
    ecg_alone = ~np.array(usable_rr(beats), bool)
    both = ~np.array(usable_rr(beats, det_rr.tolist()), bool)
    return {
        "RR-only, annotated beats": ba.ours(r.samples),
        "RR-only, detected beats": to_annotation(n, m, det_rr),
        "ECG alone": to_annotation(n, m, ecg_alone),
        "ECG + RR": to_annotation(n, m, both),
    }, unscored(n, m)


def evaluate(signals: dict[int, np.ndarray]) -> tuple[dict[str, dict[int, ba.Counts]], dict[int, int]]:
    """Counts per method and record, and the annotated beats left out per record."""
    out: dict[str, dict[int, ba.Counts]] = {}
    left_out: dict[int, int] = {}
    for rec, ecg in signals.items():
        r = ba.load_record(rec)
        flags, skip = record_flags(rec, ecg)
        left_out[rec] = int((skip & ~r.in_af).sum())
        for name, f in flags.items():
            out.setdefault(name, {})[rec] = ba.score(f, r.symbols, r.in_af | skip, r.blocked)
    return out, left_out


def print_table(res: dict[str, dict[int, ba.Counts]], left_out: dict[int, int]) -> None:
    recs = list(next(iter(res.values())))
    print("| group | method | sensitivity % | specificity % | found / ectopic | FP / normal RR |")
    print("|---|---|---:|---:|---:|---:|")
    for group, sel in ba.GROUPS.items():
        rs = [r for r in recs if sel(r)]
        for name, per in res.items():
            c = ba.totals(per, rs)
            print(f"| {group} | {name} | {100 * c.sens:.2f} | {100 * c.spec:.2f} | {c.tp} / {c.tp + c.fn} | "
                  f"{c.fp} / {c.tn + c.fp} |")
    print()
    names = list(res)
    print("Missed ectopic beats / false flags per record (" + ", ".join(names) + "):")
    print("; ".join(f"{r} " + " ".join(f"{res[n][r].fn}/{res[n][r].fp}" for n in names) for r in recs))
    print()
    print(f"Annotated beats left out (not detected within 50 ms, or after an added detection; outside AF): "
          f"{sum(v for r, v in left_out.items() if r not in ba.HELD_OUT)} in 100-124, "
          f"{sum(v for r, v in left_out.items() if r in ba.HELD_OUT)} in the held-out records.")


def cpu_cost(ecg: np.ndarray, runs: int = 5) -> tuple[float, float, float]:
    """CPU µs per second of 130 Hz ECG for detector + classifier, fed in 73-sample notifications
    (median of ``runs``); the share of one core that is; and the same for the detector alone
    (the baseline, same run)."""
    from biofeedback.ecg import RPeakDetector

    def median_s(make: Callable[[], Any]) -> float:
        secs = []
        for _ in range(runs):
            obj = make()
            t0 = time.process_time()
            for start in range(0, ecg.size, 73):
                obj.feed(ecg[start:start + 73])
            secs.append(time.process_time() - t0)
        return float(np.median(secs)) / (ecg.size / FS) * 1e6

    both = median_s(lambda: EcgBeatClassifier(FS))
    detector = median_s(lambda: RPeakDetector(FS))
    return both, both / 1e4, detector
