"""Real recordings for the breathing-rate and rhythm benches and tests: RR series and their truth.

BIDMC PPG and Respiration Dataset (Pimentel et al., IEEE TBME 64(8):1914-1923, 2016; PhysioNet,
Goldberger et al. 2000; ODC-By 1.0): R-peaks from ECG lead II with neurokit2, breaths from the
annotators' marks. MIT-BIH Arrhythmia Database (Moody & Mark 2001; PhysioNet, ODC-By 1.0): beat
times from the cardiologists' annotations, rhythm from the ``(AFIB``-style aux notes. A real Polar
H10's PMD ECG notifications as captured (``polar-h10/pmd_ecg_stream_cycling.bin``).
"""

from __future__ import annotations

import csv
import gzip
import os
import struct
import statistics
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("BIOFEEDBACK_SHARED_DATA", ROOT.parent / "shared" / "data"))
BIDMC = SHARED / "bidmc"
MITDB_ECG = SHARED / "mitdb-ecg"
PMD_CAPTURE = SHARED / "polar-h10" / "pmd_ecg_stream_cycling.bin"
PMD_CAPTURE_MAGIC = b"H10 ECG v1.0 binary data"
BIDMC_FS = 125.0
MIT_FS = 360.0
BIDMC_RECORDS = tuple(range(2, 28))
AF_RECORDS = (201, 203, 219, 221)
NON_AF_RECORDS = tuple(r for r in range(100, 125) if r not in (110, 120))  # 110 and 120 do not exist
BEAT_SYMBOLS = frozenset("NLRBAaJSVEFrejn/fQ?")


def read_pmd_capture(path: Path = PMD_CAPTURE) -> list[bytes]:
    """The notifications of a PMD capture (the layout of ../shared/data/README.md): the 24-byte magic, then
    ``[uint32 LE length][notification]`` until the end or a dangling length."""
    blob = path.read_bytes()
    if not blob.startswith(PMD_CAPTURE_MAGIC):
        raise ValueError(f"{path}: not a PMD capture (it does not start with {PMD_CAPTURE_MAGIC!r})")
    frames, i = [], len(PMD_CAPTURE_MAGIC)
    while i + 4 <= len(blob):
        (n,) = struct.unpack_from("<I", blob, i)
        if i + 4 + n > len(blob):
            break
        frames.append(blob[i + 4:i + 4 + n])
        i += 4 + n
    return frames


@dataclass(frozen=True)
class BidmcRecord:
    """One BIDMC record: beat times (s) and the RR ending at each (ms), and the breath marks (s)."""

    name: str
    beat_t: np.ndarray
    rr_ms: np.ndarray
    breaths_1: np.ndarray
    breaths_2: np.ndarray
    duration_s: float


def bidmc_available() -> bool:
    return (BIDMC / "bidmc_02_Signals.csv.gz").exists()


def _read_gz_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with gzip.open(path, "rt") as fh:
        rows = list(csv.reader(fh))
    return [h.strip() for h in rows[0]], rows[1:]


def bidmc_signal(num: int, column: str) -> np.ndarray:
    """One channel of a record's 125-Hz Signals file (``"II"``, ``"RESP"``, ...); blank cells are NaN."""
    head, rows = _read_gz_csv(BIDMC / f"bidmc_{num:02d}_Signals.csv.gz")
    col = head.index(column)
    return np.array([float(r[col]) if r[col].strip() not in ("", "NaN") else np.nan for r in rows])


def _refine(signal: np.ndarray, peaks: np.ndarray) -> np.ndarray:
    """Sub-sample peak positions by a parabola through each peak and its neighbours."""
    k = peaks[(peaks > 0) & (peaks < len(signal) - 1)].astype(int)
    a, b, c = signal[k - 1], signal[k], signal[k + 1]
    denom = a - 2 * b + c
    shift = np.where(denom < 0, 0.5 * (a - c) / np.where(denom < 0, denom, -1.0), 0.0)
    return np.asarray(k + np.clip(shift, -0.5, 0.5), dtype=float)


@lru_cache(maxsize=None)
def bidmc_record(num: int, refine_peaks: bool = False) -> BidmcRecord:
    """R-peaks from lead II (``nk.ecg_peaks`` on ``nk.ecg_clean``); RR from successive peaks.

    ``refine_peaks``: place each peak between samples (parabola through the cleaned ECG), which
    takes the 8-ms quantisation of 125 Hz out of the RR -- closer to a strap's 1/1024 s.
    """
    import neurokit2 as nk

    ecg = np.nan_to_num(bidmc_signal(num, "II"), nan=0.0)
    clean = nk.ecg_clean(ecg, sampling_rate=int(BIDMC_FS))
    _, info = nk.ecg_peaks(clean, sampling_rate=int(BIDMC_FS))
    peak_idx = np.asarray(info["ECG_R_Peaks"], dtype=float)
    peaks = (_refine(np.asarray(clean), peak_idx) if refine_peaks else peak_idx) / BIDMC_FS
    _, brows = _read_gz_csv(BIDMC / f"bidmc_{num:02d}_Breaths.csv.gz")
    b1 = np.array([float(r[0]) for r in brows if r and r[0].strip()]) / BIDMC_FS
    b2 = np.array([float(r[1]) for r in brows if len(r) > 1 and r[1].strip()]) / BIDMC_FS
    return BidmcRecord(f"bidmc_{num:02d}", peaks[1:], np.diff(peaks) * 1000.0, np.sort(b1), np.sort(b2),
                       len(ecg) / BIDMC_FS)


def breath_rate_between(breaths: np.ndarray, start: float, end: float) -> float | None:
    """Breaths/min over [start, end]: intervals between successive marks whose midpoint lies inside."""
    if len(breaths) < 2:
        return None
    mids = 0.5 * (breaths[1:] + breaths[:-1])
    iv = np.diff(breaths)[(mids >= start) & (mids <= end)]
    if len(iv) < 2:
        return None
    return float(60.0 / np.mean(iv))


def true_breathing_rate(rec: BidmcRecord, start: float, end: float) -> float | None:
    """Mean of the two annotators' rates over the window (either alone if the other has none)."""
    rates = [r for r in (breath_rate_between(rec.breaths_1, start, end),
                         breath_rate_between(rec.breaths_2, start, end)) if r is not None]
    return float(np.mean(rates)) if rates else None


@dataclass
class Score:
    """Breathing-rate estimates against the truth: how many, how often unknown, how far off when known."""

    n: int
    unknown_pct: float
    median_abs: float
    within1_pct: float
    within2_pct: float


def score(pairs: list[tuple[float, float | None, float]]) -> Score:
    """Score ``(t, estimate or None, truth)`` pairs; with nothing known the error is NaN and unknown is 100 %."""
    known = [(e, tr) for _, e, tr in pairs if e is not None]
    err = [abs(e - tr) for e, tr in known]
    if not err:
        return Score(len(pairs), 100.0, float("nan"), 0.0, 0.0)
    return Score(len(pairs), 100.0 * (1 - len(known) / len(pairs)), statistics.median(err),
                 100.0 * sum(e <= 1.0 for e in err) / len(err), 100.0 * sum(e <= 2.0 for e in err) / len(err))


@dataclass(frozen=True)
class MitRecord:
    """One MIT-BIH record: beat times (s), RR ending at each (ms), and the rhythm label at each beat."""

    name: str
    beat_t: np.ndarray
    rr_ms: np.ndarray
    rhythm: tuple[str, ...]
    duration_s: float


def mit_available() -> bool:
    return (MITDB_ECG / "201.atr").exists()


@lru_cache(maxsize=None)
def mit_record(num: int) -> MitRecord:
    import wfdb

    ann = wfdb.rdann(str(MITDB_ECG / str(num)), "atr")
    hdr = wfdb.rdheader(str(MITDB_ECG / str(num)))
    rhythm = "(N"
    t: list[float] = []
    labels: list[str] = []
    for sample, sym, aux in zip(ann.sample, ann.symbol, ann.aux_note, strict=True):
        if sym == "+" and aux:
            rhythm = aux.strip("\x00").strip()
        if sym in BEAT_SYMBOLS:
            t.append(sample / MIT_FS)
            labels.append(rhythm)
    bt = np.asarray(t)
    return MitRecord(str(num), bt[1:], np.diff(bt) * 1000.0, tuple(labels[1:]), hdr.sig_len / MIT_FS)
