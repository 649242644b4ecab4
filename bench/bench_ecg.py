"""R-peak detection at the Polar H10's 130 Hz: our causal detector against neurokit2, same run.

Data beside the repository in ``../shared/data``:

- ``mitdb-ecg/`` MIT-BIH Arrhythmia Database records 100-124 (Moody & Mark 2001; Goldberger et al.
  2000; PhysioNet, ODC-By 1.0): the first lead (MLII, but V5 in 102 and V2 in 104),
  resampled from 360 to 130 Hz (polyphase, 13/36) to stand in for the H10 (114: its MLII, lead 1). Reference: every beat
  annotation (``NLRBAaJSVrFejnE/fQ?``). A detection matches a reference beat within 50 ms, one to one.
  Sensitivity = matched / reference beats, positive predictivity = matched / detections. The
  detector's settings were chosen on these; the AF records 201, 203, 219, 221 are shown apart as a
  held-out check.
- ``polar-h10/ecg_detectpvc.csv.gz`` (detectPVC by Karl W Broman, MIT License): 10 minutes of a real
  H10's ECG with frequent PVCs, against the strap's own RR. The strap's beats are the running sum of
  its RR, placed on the ECG's time axis by the offset (and clock rate) that matches most detections.

neurokit2's ``ecg_peaks`` (method "neurokit", offline: it sees the whole signal) is the baseline.
Ours is fed in 73-sample chunks, as the PMD notifications arrive.

    .venv/bin/python bench/bench_ecg.py            # the README table
    .venv/bin/python bench/bench_ecg.py --no-nk    # ours only
"""

from __future__ import annotations

import argparse
import gzip
import logging
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import signal

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "bench"))

from biofeedback.ecg import detect_r_peaks  # noqa: E402

log = logging.getLogger("bench_ecg")
DATA = ROOT.parent / "shared" / "data"
MITDB = DATA / "mitdb-ecg"
H10_ECG = DATA / "polar-h10" / "ecg_detectpvc.csv.gz"
RECORDS = (100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 111, 112, 113, 114, 115, 116, 117, 118, 119,
           121, 122, 123, 124)
HELD_OUT = (201, 203, 219, 221)  # atrial fibrillation records: nothing was tuned on them
LEAD = {114: 1}  # MLII, the chest-strap-like lead, is the second one in 114
BEATS = frozenset("NLRBAaJSVrFejnE/fQ?")
FS = 130.0
TOL_S = 0.05

Detector = Callable[[np.ndarray, float], np.ndarray]


@dataclass
class Score:
    ref: int = 0
    det: int = 0
    tp: int = 0

    def add(self, other: Score) -> None:
        self.ref += other.ref
        self.det += other.det
        self.tp += other.tp

    @property
    def se(self) -> float:
        return 100 * self.tp / self.ref if self.ref else float("nan")

    @property
    def ppv(self) -> float:
        return 100 * self.tp / self.det if self.det else float("nan")


def pairs(ref: np.ndarray, det: np.ndarray, tol: float = TOL_S) -> dict[int, int]:
    """One-to-one matches of two sorted time lists within ``tol``, reference index -> detection index
    (two pointers, nearest first)."""
    out: dict[int, int] = {}
    i = j = 0
    while i < len(ref) and j < len(det):
        d = det[j] - ref[i]
        if abs(d) <= tol:
            # take the nearer of this detection and the next one for this reference beat
            if j + 1 < len(det) and abs(det[j + 1] - ref[i]) < abs(d):
                j += 1
                continue
            out[i] = j
            i += 1
            j += 1
        elif d < 0:
            j += 1
        else:
            i += 1
    return out


def match(ref: np.ndarray, det: np.ndarray, tol: float = TOL_S) -> int:
    """How many of ``ref`` a detection matches (:func:`pairs`)."""
    return len(pairs(ref, det, tol))


def ours(x: np.ndarray, fs: float) -> np.ndarray:
    return np.array([p.t_s for p in detect_r_peaks(x, fs)])


def neurokit(x: np.ndarray, fs: float) -> np.ndarray:
    import neurokit2 as nk

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, info = nk.ecg_peaks(np.asarray(x), sampling_rate=int(round(fs)), method="neurokit")
    return np.asarray(info["ECG_R_Peaks"], dtype=float) / fs


def mitdb_record(number: int) -> tuple[np.ndarray, np.ndarray]:
    import wfdb

    rec = wfdb.rdrecord(str(MITDB / str(number)), channels=[LEAD.get(number, 0)])
    ann = wfdb.rdann(str(MITDB / str(number)), "atr")
    x = signal.resample_poly(rec.p_signal[:, 0], 13, 36)
    beats = np.array([s for s, sym in zip(ann.sample, ann.symbol, strict=True) if sym in BEATS]) / rec.fs
    return x, beats


def h10_recording() -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """The H10's ECG (mV), its rate, its time axis (s from the first sample) and the strap's RR (s)."""
    t, ecg, rr = [], [], []
    with gzip.open(H10_ECG, "rt") as fh:
        next(fh)
        for line in fh:
            cols = line.rstrip("\n").split(",")
            t.append(int(cols[0]))
            ecg.append(float(cols[1]))
            if cols[3]:
                rr.append(float(cols[3]) / 1000)
    tt = (np.array(t) - t[0]) / 1e9
    fs = (len(tt) - 1) / tt[-1]
    return np.array(ecg), fs, tt, np.array(rr)


def score_against_strap(det_t: np.ndarray, rr: np.ndarray) -> tuple[Score, float]:
    """Place the strap's beats (running sum of its RR) on the ECG's axis by the offset and scale that
    match most detections; return the score and the median |RR difference| in ms of matched pairs."""
    beats = np.concatenate([[0.0], np.cumsum(rr)])
    best = (-1, 0.0, 1.0)
    offsets = np.arange(-3.0, 3.0, 0.004) + (det_t[0] if det_t.size else 0.0)
    for scale in np.linspace(0.999, 1.001, 21):
        cand = (beats * scale)[None, :] + offsets[:, None]
        i = np.clip(np.searchsorted(det_t, cand), 1, len(det_t) - 1)
        near = np.minimum(np.abs(det_t[i] - cand), np.abs(det_t[i - 1] - cand))
        hits = (near <= TOL_S).sum(axis=1)
        k = int(np.argmax(hits))
        if hits[k] > best[0]:
            best = (int(hits[k]), float(offsets[k]), float(scale))
    _, offset, scale = best
    ref = beats * scale + offset
    ref = ref[(ref >= det_t[0] - 1) & (ref <= det_t[-1] + 1)] if det_t.size else ref
    idx = np.searchsorted(det_t, ref)
    diffs = []
    for k in range(1, len(ref)):
        a = _nearest(det_t, idx[k - 1], ref[k - 1])
        b = _nearest(det_t, idx[k], ref[k])
        if a is not None and b is not None:
            diffs.append(abs((det_t[b] - det_t[a]) - (ref[k] - ref[k - 1])) * 1000)
    return Score(len(ref), len(det_t), match(ref, det_t)), float(np.median(diffs)) if diffs else float("nan")


def _nearest(det_t: np.ndarray, i: int, t: float) -> int | None:
    for j in (i - 1, i):
        if 0 <= j < len(det_t) and abs(det_t[j] - t) <= TOL_S:
            return j
    return None


def _table(detectors: dict[str, Detector], records: tuple[int, ...], label: str, seconds: dict[str, float]) -> None:
    totals = {name: Score() for name in detectors}
    for number in records:
        x, ref = mitdb_record(number)
        cells = []
        for name, detect in detectors.items():
            start = time.process_time()
            det = detect(x, FS)
            seconds[name] += time.process_time() - start
            s = Score(len(ref), len(det), match(ref, det))
            totals[name].add(s)
            cells.append(f"{s.se:.2f} | {s.ppv:.2f}")
        print(f"| {number} | {len(ref)} | " + " | ".join(cells) + " |", flush=True)
    cells = [f"**{t.se:.2f}** | **{t.ppv:.2f}**" for t in totals.values()]
    print(f"| **{label}** | {next(iter(totals.values())).ref} | " + " | ".join(cells) + " |")


def run(detectors: dict[str, Detector]) -> None:
    seconds = {name: 0.0 for name in detectors}
    print("| record | beats | " + " | ".join(f"{n} Se % | {n} +P %" for n in detectors) + " |")
    print("|---|---:|" + "---:|---:|" * len(detectors))
    _table(detectors, RECORDS, "100-124 (23 records)", seconds)
    _table(detectors, HELD_OUT, "held out: AF records", seconds)
    print()
    print(f"CPU seconds for the {len(RECORDS) + len(HELD_OUT)} records "
          f"({(len(RECORDS) + len(HELD_OUT)) / 2:.1f} h of ECG): " + ", ".join(f"{n} {s:.1f}" for n, s in seconds.items()))
    print()
    ecg, fs, _, rr = h10_recording()
    print(f"Real H10 ECG (ecg_detectpvc, {len(ecg) / fs / 60:.1f} min at {fs:.2f} Hz) against the strap's own "
          f"{len(rr)} RR:")
    print()
    print("| detector | Se % | +P % | median abs RR difference, ms |")
    print("|---|---:|---:|---:|")
    for name, detect in detectors.items():
        det = detect(ecg, fs)
        s, rr_ms = score_against_strap(det, rr)
        print(f"| {name} | {s.se:.2f} | {s.ppv:.2f} | {rr_ms:.1f} |")


def classes() -> None:
    """The ectopic-beat table (ECG morphology next to RR-only) and the live CPU cost."""
    import bench_beat_classes as bc

    records = [r for r in RECORDS if r not in (102, 104, 107)] + list(HELD_OUT)
    signals = {r: mitdb_record(r)[0] for r in records}
    print("Ectopic beats (A a J S V E F), scored as bench/bench_artefacts.py scores RR-only:")
    print()
    bc.print_table(*bc.evaluate(signals))
    ecg, fs, _, _ = h10_recording()
    x = np.concatenate([signals[r] for r in (100, 119, 106)])
    per_s, share, detector = bc.cpu_cost(x)
    print()
    print(f"CPU cost live (RPeakDetector + EcgBeatClassifier, 73-sample notifications, median of 5 runs over "
          f"{x.size / FS / 60:.0f} min of MIT-BIH 100/119/106): {per_s:.0f} µs per second of ECG = "
          f"{share:.2f} % of one core; the detector alone (same run) {detector:.0f} µs, so classifying "
          f"adds {per_s / detector:.2f}x.")
    h10 = bc.classify_ecg(ecg, fs)
    counts = {lab: sum(b.label == lab for b in h10) for lab in "NVSFQ"}
    print(f"Real H10 (ecg_detectpvc, frequent PVCs): {len(h10)} beats, " + ", ".join(f"{k} {v}" for k, v in counts.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-nk", action="store_true", help="skip neurokit2")
    parser.add_argument("--classes-only", action="store_true", help="only the beat classes and the CPU cost")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    detectors: dict[str, Detector] = {"ours (causal)": ours}
    if not args.no_nk:
        detectors["neurokit2"] = neurokit
    if not args.classes_only:
        run(detectors)
        print()
    classes()


if __name__ == "__main__":
    main()
