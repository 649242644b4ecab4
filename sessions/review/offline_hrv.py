"""Whole-session HRV for the report and the review: the same numbers ``biofeedback analyze`` prints.

The metrics come from :func:`biofeedback.whole_recording.recording_metrics` (one dict, computed in
O(N log N), so a 24-hour session takes seconds), applied to the record's RR in exact milliseconds
with the labels the live session gave each beat: flagged beats are left out, no successive
difference or Poincaré pair spans a removed beat or a gap. Spectrum: fast Lomb-Scargle on the NN
series with its own beat times (see :mod:`biofeedback.spectral`). Definitions, next to Kubios's:
``docs/metrics.md``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from biofeedback.whole_recording import recording_metrics
from sessions.review.record import Record

log = logging.getLogger(__name__)

MIN_BEATS_TIME = 30

TIME_KEYS = (("mean_nn_ms", "mean NN (ms)"), ("sdnn_ms", "SDNN (ms)"), ("rmssd_ms", "RMSSD (ms)"),
             ("pnn50_pct", "pNN50 (%)"), ("median_nn_ms", "median NN (ms)"), ("iqr_nn_ms", "IQR NN (ms)"),
             ("mean_hr_bpm", "mean HR (bpm)"), ("min_hr_bpm", "min HR (bpm)"), ("max_hr_bpm", "max HR (bpm)"),
             ("tri_index", "triangular index"), ("tinn_ms", "TINN (ms)"), ("sdann_ms", "SDANN (ms)"),
             ("sdnn_index_ms", "SDNN index (ms)"))
FREQ_KEYS = (("vlf_ms2", "VLF (ms²)"), ("lf_ms2", "LF (ms²)"), ("hf_ms2", "HF (ms²)"), ("lf_hf", "LF/HF"),
             ("total_ms2", "total power (ms²)"), ("lf_nu", "LF (n.u.)"), ("hf_nu", "HF (n.u.)"),
             ("vlf_pct", "VLF (%)"), ("lf_pct", "LF (%)"), ("hf_pct", "HF (%)"),
             ("lf_peak_hz", "LF peak (Hz)"), ("hf_peak_hz", "HF peak (Hz)"))
NONLINEAR_KEYS = (("sd1_ms", "SD1 (ms)"), ("sd2_ms", "SD2 (ms)"), ("sd2_sd1", "SD2/SD1"), ("dfa_alpha1", "DFA α1"),
                  ("dfa_alpha2", "DFA α2"), ("sampen", "SampEn"))


@dataclass
class OfflineHrv:
    nn: int
    time: dict[str, float]
    frequency: dict[str, float]
    nonlinear: dict[str, float]
    metrics: dict[str, float] | None = None
    """The whole dict (the keys ``biofeedback analyze --json`` prints)."""

    def rows(self) -> list[tuple[str, str, str]]:
        """(group, measure, value) for a table."""
        out = []
        for group, values in (("time", self.time), ("frequency", self.frequency), ("nonlinear", self.nonlinear)):
            for name, v in values.items():
                text = "–" if v is None or not math.isfinite(v) else f"{v:.3g}" if abs(v) < 10 else f"{v:.0f}"
                out.append((group, name, text))
        return out

    def to_json(self) -> dict:
        def clean(d: dict[str, float]) -> dict[str, float | None]:
            return {k: (None if v is None or not math.isfinite(v) else round(float(v), 4)) for k, v in d.items()}

        return {"nn": self.nn, "time": clean(self.time), "frequency": clean(self.frequency),
                "nonlinear": clean(self.nonlinear)}


def nn_series(record: Record) -> tuple[np.ndarray, np.ndarray]:
    """(NN in ms, beat time in s) of the beats the metrics used."""
    mask = record.hrv_mask
    return record.rr_ms[mask].astype(float), record.beat_t[mask].astype(float)


def poincare_pairs(record: Record) -> tuple[np.ndarray, np.ndarray]:
    """(RR n, RR n+1) in ms for every pair of neighbouring NN beats with no removed beat or gap between."""
    mask = record.hrv_mask
    prev = np.concatenate(([False], mask[:-1]))
    consecutive = mask & prev & ~record.after_gap.astype(bool)
    rr = record.rr_ms.astype(float)
    idx = np.flatnonzero(consecutive)
    return rr[idx - 1], rr[idx]


def _pick(metrics: dict[str, float], keys: tuple[tuple[str, str], ...]) -> dict[str, float]:
    return {label: float(metrics[key]) for key, label in keys if key in metrics}


def offline_hrv(record: Record) -> OfflineHrv:
    mask = record.hrv_mask  # NN beats outside stretches of very irregular rhythm
    n_nn = int(mask.sum())
    if n_nn < MIN_BEATS_TIME:
        return OfflineHrv(n_nn, {}, {}, {})
    rr = record.rr_ms.astype(float)
    metrics, _segments = recording_metrics(rr, record.beat_t.astype(float), record.after_gap.astype(bool), mask)
    nn = rr[mask]
    q1, q3 = np.percentile(nn, [25, 75])
    metrics["median_nn_ms"] = float(np.median(nn))
    metrics["iqr_nn_ms"] = float(q3 - q1)
    return OfflineHrv(n_nn, _pick(metrics, TIME_KEYS), _pick(metrics, FREQ_KEYS), _pick(metrics, NONLINEAR_KEYS),
                      metrics)
