"""Whole-session HRV with neurokit2, for the report: time, frequency (ms², ``normalize=False``), non-linear.

The NN series is the record's RR with flagged beats left out; neurokit2 gets the intervals with their
own beat times (``{"RRI", "RRI_Time"}``), so a removed beat or a signal gap leaves a hole in time
rather than shifting every later beat. ``nk.hrv_nonlinear`` computes a dozen entropies that take
minutes on a 2-hour session (O(n²)); we take the established few directly instead: Poincaré SD1/SD2
(from the successive differences), DFA α1 (4-16 beats) and α2 (16-64 beats), and sample entropy.
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass

import numpy as np

from sessions.review.record import Record

log = logging.getLogger(__name__)

MIN_BEATS_TIME = 30
MIN_SECONDS_FREQ = 120.0  # LF needs about 2 minutes (Task Force 1996)
MIN_BEATS_DFA2 = 200

TIME_KEYS = (("HRV_MeanNN", "mean NN (ms)"), ("HRV_SDNN", "SDNN (ms)"), ("HRV_RMSSD", "RMSSD (ms)"),
             ("HRV_pNN50", "pNN50 (%)"), ("HRV_MedianNN", "median NN (ms)"), ("HRV_IQRNN", "IQR NN (ms)"))
FREQ_KEYS = (("HRV_VLF", "VLF (ms²)"), ("HRV_LF", "LF (ms²)"), ("HRV_HF", "HF (ms²)"), ("HRV_LFHF", "LF/HF"),
             ("HRV_TP", "total power (ms²)"))


@dataclass
class OfflineHrv:
    nn: int
    time: dict[str, float]
    frequency: dict[str, float]
    nonlinear: dict[str, float]

    def rows(self) -> list[tuple[str, str, str]]:
        """(group, measure, value) for a table."""
        out = []
        for group, values in (("time", self.time), ("frequency", self.frequency), ("nonlinear", self.nonlinear)):
            for name, v in values.items():
                out.append((group, name, "–" if v is None or not math.isfinite(v) else f"{v:.3g}" if abs(v) < 10 else f"{v:.0f}"))
        return out

    def to_json(self) -> dict:
        clean = lambda d: {k: (None if v is None or not math.isfinite(v) else round(float(v), 4)) for k, v in d.items()}
        return {"nn": self.nn, "time": clean(self.time), "frequency": clean(self.frequency), "nonlinear": clean(self.nonlinear)}


def nn_series(record: Record) -> tuple[np.ndarray, np.ndarray]:
    """(NN in ms, beat time in s) of the beats the metrics used."""
    mask = record.nn_mask
    return record.rr_ms[mask].astype(float), record.beat_t[mask].astype(float)


def offline_hrv(record: Record) -> OfflineHrv:
    import neurokit2 as nk

    rri, rri_t = nn_series(record)
    time_: dict[str, float] = {}
    freq: dict[str, float] = {}
    nonlin: dict[str, float] = {}
    if len(rri) < MIN_BEATS_TIME:
        return OfflineHrv(len(rri), time_, freq, nonlin)
    peaks = {"RRI": rri, "RRI_Time": rri_t}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = nk.hrv_time(peaks)
        time_ = {label: float(t[key].iloc[0]) for key, label in TIME_KEYS if key in t}
        if rri_t[-1] - rri_t[0] >= MIN_SECONDS_FREQ:
            try:
                f = nk.hrv_frequency(peaks, normalize=False, interpolation_rate=4)
                freq = {label: float(f[key].iloc[0]) for key, label in FREQ_KEYS if key in f}
            except (ValueError, IndexError) as err:  # too short or too gappy for a spectrum
                log.info("no frequency domain: %s", err)
        # Poincaré from successive differences of consecutive NN only (none across a removed beat)
        consecutive = np.diff(rri_t) <= rri[1:] / 1000.0 * 1.5
        diffs = np.diff(rri)[consecutive]
        if len(diffs) > 2:
            sd1 = float(np.std(diffs, ddof=1) / math.sqrt(2))
            sdnn = float(np.std(rri, ddof=1))
            sd2 = math.sqrt(max(0.0, 2 * sdnn ** 2 - sd1 ** 2))
            nonlin.update({"SD1 (ms)": sd1, "SD2 (ms)": sd2, "SD2/SD1": sd2 / sd1 if sd1 else float("nan")})
        try:
            nonlin["DFA α1"] = float(nk.fractal_dfa(rri, scale=np.arange(4, 17))[0])
            if len(rri) >= MIN_BEATS_DFA2:
                nonlin["DFA α2"] = float(nk.fractal_dfa(rri, scale=np.arange(16, 65))[0])
            nonlin["SampEn"] = float(nk.entropy_sample(rri, dimension=2, tolerance=0.2 * np.std(rri, ddof=1))[0])
        except (ValueError, IndexError, ZeroDivisionError) as err:
            log.info("no non-linear measures: %s", err)
    return OfflineHrv(len(rri), time_, freq, nonlin)
