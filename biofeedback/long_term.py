"""Time-varying analysis of a long recording: metrics per 5-minute segment, SDANN and SDNN index.

Segments are 300 s of elapsed time from the start of the first RR (a beat belongs to the segment
its interval ends in), as in the Task Force (1996) and neurokit2. The number of segments is the
duration / 300 s rounded to the nearest whole (a last part shorter than half a segment is
dropped, a longer one kept), like neurokit2's ``HRV_SDANN5``/``HRV_SDNNI5``.

- SDANN = SD (ddof=1) of the segment mean NN; SDNN index = mean of the segment SDNN. Both need
  at least 3 segments (else NaN). Segments without NN (a gap) are left out.
- Per segment: NN count, mean NN, SDNN, RMSSD and pNN50 over successive differences of
  consecutive NN inside the segment, mean HR.

All in one vectorised pass (``np.bincount`` per segment), O(N) in time and memory, so a 24-hour
or a week-long file costs the same per beat as a short one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

SEGMENT_S = 300.0
MIN_SEGMENTS = 3


@dataclass(frozen=True, slots=True)
class Segments:
    """Per-segment arrays (index = segment number, start at ``start_s`` seconds into the record)."""

    start_s: FloatArray
    n_nn: NDArray[np.int64]
    mean_nn_ms: FloatArray
    sdnn_ms: FloatArray
    rmssd_ms: FloatArray
    pnn50_pct: FloatArray

    @property
    def mean_hr_bpm(self) -> FloatArray:
        with np.errstate(divide="ignore", invalid="ignore"):
            result: FloatArray = 60000.0 / self.mean_nn_ms
        return result

    def rows(self) -> list[dict[str, float]]:
        keys = ("start_s", "n_nn", "mean_nn_ms", "sdnn_ms", "rmssd_ms", "pnn50_pct")
        cols = [getattr(self, k) for k in keys]
        return [{k: float(c[i]) for k, c in zip(keys, cols, strict=True)} for i in range(len(self.start_s))]


def _per_segment(seg: NDArray[np.int64], values: FloatArray, count: int) -> tuple[FloatArray, FloatArray]:
    """(n, mean) per segment; NaN mean where empty."""
    n = np.bincount(seg, minlength=count).astype(float)
    s = np.bincount(seg, weights=values, minlength=count)
    with np.errstate(divide="ignore", invalid="ignore"):
        return n, np.where(n > 0, s / np.maximum(n, 1), math.nan)


def segments(elapsed_s: ArrayLike, rr_ms: ArrayLike, consecutive: ArrayLike,
             segment_s: float = SEGMENT_S) -> Segments:
    """Per-segment metrics of the NN list.

    ``elapsed_s``: end of each NN interval in seconds from the start of the record's first RR;
    ``consecutive[k]``: NN k-1 and k follow each other with nothing removed between (for k=0 it is
    ignored).
    """
    e = np.asarray(elapsed_s, float)
    rr = np.asarray(rr_ms, float)
    cons = np.asarray(consecutive, bool)
    total = float(e[-1]) if len(e) else 0.0
    count = max(int(round(total / segment_s)), 0)
    seg = np.floor(e / segment_s).astype(np.int64)
    keep = seg < count
    seg_k, rr_k = seg[keep], rr[keep]
    n, mean = _per_segment(seg_k, rr_k, count)
    dev = rr_k - mean[seg_k]
    ss = np.bincount(seg_k, weights=dev * dev, minlength=count)
    with np.errstate(divide="ignore", invalid="ignore"):
        sdnn = np.where(n > 1, np.sqrt(ss / np.maximum(n - 1, 1)), math.nan)
    d_ok = np.zeros(len(rr), bool)
    d_ok[1:] = cons[1:] & (seg[1:] == seg[:-1]) & keep[1:]
    d = np.diff(rr, prepend=rr[:1])[d_ok]
    seg_d = seg[d_ok]
    nd, msd = _per_segment(seg_d, d * d, count)
    _, p50 = _per_segment(seg_d, (np.abs(d) > 50.0).astype(float), count)
    del nd
    start = (np.arange(count) * segment_s).astype(np.float64)
    return Segments(start, n.astype(np.int64), mean, sdnn, np.sqrt(msd), 100.0 * p50)


def sdann_sdnni(seg: Segments) -> tuple[float, float]:
    """(SDANN, SDNN index) in ms over the segments that hold NN; NaN below 3 segments."""
    ok = seg.n_nn > 0
    if len(seg.n_nn) < MIN_SEGMENTS or ok.sum() < 2:
        return math.nan, math.nan
    sdann = float(np.std(seg.mean_nn_ms[ok], ddof=1))
    sd = seg.sdnn_ms[ok & np.isfinite(seg.sdnn_ms)]
    return sdann, float(sd.mean()) if len(sd) else math.nan
