"""Geometric HRV of an NN list: the HRV triangular index and TINN, plus min/max heart rate.

Histogram: bins of 1/128 s (7.8125 ms) from 0 ms, as Kubios and the Task Force (1996) use and as
neurokit2 lays them out, so the triangular index is identical to neurokit2's ``HRV_HTI``.

- Triangular index = number of NN / height of the histogram's highest bin.
- TINN = M - N, the base of the triangle q that best fits the histogram D in least squares: q is 0
  up to N, rises linearly to the mode's height Y at the modal bin X, falls linearly to 0 at M and
  is 0 after (Task Force 1996). The error is summed over the *whole* histogram (bin centres). It
  splits into a left part depending on N only and a right part depending on M only, so N and M
  are found separately (O(B^2) over B bins, whatever the number of beats). neurokit2 searches on
  bin edges and sums the error only between N and M, so its TINN can differ by a few bins.

Min/max HR follow Kubios: the extremes of the 5-beat moving average of the instantaneous heart
rate 60000 / NN (a single short interval does not set the maximum).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

BIN_MS = 1000.0 / 128.0
HR_AVERAGE_BEATS = 5


def histogram(rr_ms: ArrayLike) -> tuple[FloatArray, NDArray[np.int64]]:
    """(bin left edges in ms, counts) with 1/128-s bins from 0 ms."""
    rr = np.asarray(rr_ms, float)
    edges = np.arange(0.0, rr.max() + BIN_MS, BIN_MS)
    counts, edges = np.histogram(rr, bins=edges)
    return edges[:-1].astype(float), counts.astype(np.int64)


def triangular_index(rr_ms: ArrayLike) -> float:
    rr = np.asarray(rr_ms, float)
    if len(rr) < 2:
        return math.nan
    _, counts = histogram(rr)
    return float(len(rr) / counts.max())


def _side_errors(d: FloatArray, height: float) -> FloatArray:
    """Squared error of a linear ramp from 0 (at each candidate end) to the mode, for one side.

    ``d`` holds the counts of one side ordered from the mode outward (d[0] is the bin next to the
    mode). For an end at distance e (bins from the mode, 1..len(d)), the ramp is
    height * (1 - k / e) at distance k < e and 0 beyond.
    """
    k = np.arange(1, len(d) + 1, dtype=float)
    errors = np.empty(len(d))
    for e in range(1, len(d) + 1):
        q = np.where(k < e, height * (1.0 - k / e), 0.0)
        errors[e - 1] = float(np.sum((d - q) ** 2))
    return errors


def tinn(rr_ms: ArrayLike) -> float:
    """Triangular interpolation of the NN histogram: baseline width M - N in ms."""
    rr = np.asarray(rr_ms, float)
    if len(rr) < 2:
        return math.nan
    _, counts = histogram(rr)
    d = counts.astype(float)
    x = int(np.argmax(d))
    y = d[x]
    left = d[:x][::-1]  # outward from the mode
    right = d[x + 1:]
    if len(left) == 0 or len(right) == 0:
        return math.nan
    e_left = int(np.argmin(_side_errors(left, y))) + 1
    e_right = int(np.argmin(_side_errors(right, y))) + 1
    # a ramp ending at distance e reaches 0 at bin centre x -/+ e; beyond the data it would need a
    # bin that does not exist, so the search stops at the histogram's ends.
    return float((e_left + e_right) * BIN_MS)


def hr_range(rr_ms: ArrayLike, beats: int = HR_AVERAGE_BEATS) -> tuple[float, float]:
    """(min, max) of the ``beats``-beat moving average of 60000 / NN, in beats/min."""
    rr = np.asarray(rr_ms, float)
    if len(rr) < beats:
        return math.nan, math.nan
    hr = 60000.0 / rr
    c = np.concatenate(([0.0], np.cumsum(hr)))
    avg = (c[beats:] - c[:-beats]) / beats
    return float(avg.min()), float(avg.max())


def geometric_metrics(rr_ms: ArrayLike) -> dict[str, float]:
    lo, hi = hr_range(rr_ms)
    return {"tri_index": triangular_index(rr_ms), "tinn_ms": tinn(rr_ms), "min_hr_bpm": lo, "max_hr_bpm": hi}
