"""Evenly sampled signals derived from the beats, for formats that need them (EDF+, BIDS physio).

Heart rate and RR come from the time-preserving corrected series the live spectra use (a run of
flagged beats is replaced by equal intervals over the same time; see :mod:`biofeedback.artefacts`),
linearly interpolated between its beats. Where the strap was lost, or beats lie more than
``MAX_HOLE_S`` apart, the signal is missing (NaN), never invented.
"""

from __future__ import annotations

import numpy as np

from biofeedback.artefacts import TICKS_PER_SECOND, classify_series, corrected_series
from sessions.review.record import Record

MAX_HOLE_S = 3.0


def nn_signals(record: Record, fs: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(time s, HR bpm, RR ms) on a grid of ``fs`` Hz from 0 to the session's end; NaN in holes."""
    n = int(np.floor(record.duration_s * fs)) + 1
    t = np.arange(n) / fs
    ct, cms = corrected(record)
    bt, rr = np.asarray(ct, dtype=float), np.asarray(cms, dtype=float)
    if len(bt) < 2:
        return t, np.full(n, np.nan), np.full(n, np.nan)
    rr_i = np.interp(t, bt, rr, left=np.nan, right=np.nan)
    # a grid point is covered when the NN beats around it are consecutive, close and not across a gap
    right = np.clip(np.searchsorted(bt, t), 1, len(bt) - 1)
    left = right - 1
    span = bt[right] - bt[left]
    consecutive = span <= np.maximum(rr[right] / 1000.0 * 1.5, 0.0)
    ok = (span <= MAX_HOLE_S) & consecutive & (t >= bt[0]) & (t <= bt[-1])
    for a, b in record.link_gaps():
        ok &= ~((t >= a) & (t <= b))
    rr_i[~ok] = np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        hr = 60000.0 / rr_i
    return t, hr, rr_i


def metric_on_grid(record: Record, key: str, t: np.ndarray) -> np.ndarray:
    """A 5-s metric held until the next row (NaN before the first value)."""
    mt, y = record.metric_t, record.metrics[key]
    if not len(mt):
        return np.full(len(t), np.nan)
    idx = np.searchsorted(mt, t, side="right") - 1
    out = np.where(idx >= 0, y[np.clip(idx, 0, None)], np.nan)
    return out


def corrected(record: Record) -> tuple[list[float], list[float]]:
    """(beat time s, RR ms) of the corrected series, rebuilt with the live classifier's own decision."""
    if len(record.rr_ticks) == 0:
        return [], []
    beats = classify_series(record.rr_ticks.tolist(), record.beat_t.tolist(), record.after_gap.tolist())
    t, ticks = corrected_series(beats)
    return t, [x * 1000.0 / TICKS_PER_SECOND for x in ticks]
