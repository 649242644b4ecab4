"""Non-linear HRV of an NN series: Poincaré SD1/SD2, DFA alpha1/alpha2, sample entropy.

Definitions follow Kubios (and neurokit2, which the tests hold them to):

- Poincaré: SD1 and SD2 are the sample SDs (ddof=1) of the plot rotated by 45 degrees,
  (RR[n] - RR[n+1]) / sqrt 2 and (RR[n] + RR[n+1]) / sqrt 2, over pairs of *consecutive* NN
  intervals (no pair spans a removed beat or a gap).
- DFA: the profile (cumulative sum of RR - mean) is cut into windows of n beats (50 % overlap, as
  neurokit2's default); each window's least-squares line is removed; F(n) is the RMS of what is
  left, averaged over windows; alpha is the slope of log F(n) against log n, alpha1 over
  n = 4..16 beats, alpha2 over n = 16..64 (Kubios's ranges). Each scale is one vectorised pass
  with a closed-form line fit, so the cost is O(N) per scale and O(N) in all (fixed scale sets).
- Sample entropy (Richman & Moorman 2000): m = 2, r = 0.2 x SD, Chebyshev distance <= r,
  -ln(A / B) with A, B the matching template pairs of length m+1 and m over the same N - m starting
  points, self-matches excluded. Pairs are counted with a k-d tree. Exact on the whole series up to
  ``SAMPEN_EXACT_MAX`` beats (about an hour). Above that the counting cost grows faster than
  N log N (about N^1.7 on real RR: 20 000 beats 1.8 s, 100 000 beats about a minute), so for a
  long recording A and B are **pooled over bounded segments**: ``SAMPEN_BLOCKS`` evenly spaced
  blocks of ``SAMPEN_BLOCK`` consecutive beats, r still 0.2 x the SD of the whole series; the
  cost is fixed (about 0.3 s) whatever the length and the result is flagged ``sampen_exact = 0``.
  Only pairs inside a block count, so on a recording whose rhythm changes over the day the
  estimate differs from the whole-series value (on 20 000 MIT-BIH beats from several records:
  0.43 against 0.53); on a stationary series it agrees within a few %.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

DFA1_SCALES = tuple(range(4, 17))
DFA2_SCALES = tuple(range(16, 65))
SAMPEN_M = 2
SAMPEN_R = 0.2
SAMPEN_EXACT_MAX = 5_000
SAMPEN_BLOCK = 1_000
SAMPEN_BLOCKS = 20


def poincare_pairs(x: ArrayLike, y: ArrayLike) -> tuple[float, float]:
    """SD1, SD2 (ms) from pairs (RR[n], RR[n+1]) given as two equal-length arrays."""
    a = np.asarray(x, float)
    b = np.asarray(y, float)
    if len(a) < 2:
        return math.nan, math.nan
    sd1 = float(np.std((a - b) / math.sqrt(2), ddof=1))
    sd2 = float(np.std((a + b) / math.sqrt(2), ddof=1))
    return sd1, sd2


def poincare(rr_ms: ArrayLike) -> tuple[float, float]:
    """SD1, SD2 (ms) of one unbroken NN series (every neighbour pair is consecutive)."""
    rr = np.asarray(rr_ms, float)
    return poincare_pairs(rr[:-1], rr[1:])


def dfa_fluctuation(profile: FloatArray, n: int) -> float:
    """F(n): RMS of the linearly detrended profile in windows of n points, 50 % overlap."""
    starts = np.arange(0, len(profile) - n, n // 2)
    if len(starts) == 0:
        return math.nan
    windows = np.lib.stride_tricks.sliding_window_view(profile, n)[starts]
    x = np.arange(n) - (n - 1) / 2.0
    centred = windows - windows.mean(axis=1, keepdims=True)
    slope = centred @ x / float(x @ x)
    resid_ss = np.einsum("ij,ij->i", centred, centred) - slope * slope * float(x @ x)
    var = np.maximum(resid_ss, 0.0) / n
    var = var[var > 1e-8 * var.max()] if var.max() > 0 else var
    return float(np.sqrt(np.mean(var))) if len(var) else math.nan


def dfa_alpha(rr_ms: ArrayLike, scales: tuple[int, ...]) -> float:
    """DFA scaling exponent over ``scales`` (beats); NaN when the series is too short."""
    rr = np.asarray(rr_ms, float)
    if len(rr) < 2 * max(scales) + 2:
        return math.nan
    profile = np.cumsum(rr - rr.mean())
    f = np.array([dfa_fluctuation(profile, n) for n in scales])
    ok = np.isfinite(f) & (f > 0)
    if ok.sum() < 2:
        return math.nan
    return float(np.polyfit(np.log(np.asarray(scales, float)[ok]), np.log(f[ok]), 1)[0])


def _pair_counts(x: FloatArray, r: float, m: int) -> tuple[int, int]:
    """(A, B): template pairs (i != j, unordered) matching within r for lengths m+1 and m."""
    from scipy.spatial import cKDTree

    emb = np.lib.stride_tricks.sliding_window_view(x, m + 1)
    k = len(emb)
    tree_b = cKDTree(emb[:, :m])
    tree_a = cKDTree(emb)
    b = (int(tree_b.count_neighbors(tree_b, r, p=np.inf)) - k) // 2
    a = (int(tree_a.count_neighbors(tree_a, r, p=np.inf)) - k) // 2
    return a, b


def sample_entropy(rr_ms: ArrayLike, m: int = SAMPEN_M, r_factor: float = SAMPEN_R) -> tuple[float, bool]:
    """(SampEn, exact): exact on the whole series up to SAMPEN_EXACT_MAX beats, else pooled blocks."""
    x = np.asarray(rr_ms, float)
    if len(x) < m + 10:
        return math.nan, True
    r = r_factor * float(np.std(x, ddof=1))
    exact = len(x) <= SAMPEN_EXACT_MAX
    if exact:
        a, b = _pair_counts(x, r, m)
    else:
        a = b = 0
        for start in np.linspace(0, len(x) - SAMPEN_BLOCK, SAMPEN_BLOCKS).astype(int):
            da, db = _pair_counts(x[start:start + SAMPEN_BLOCK], r, m)
            a += da
            b += db
    if a == 0 or b == 0:
        return (math.inf if b > 0 else math.nan), exact
    return -math.log(a / b), exact


def nonlinear_metrics(rr_ms: ArrayLike, pairs: tuple[ArrayLike, ArrayLike] | None = None) -> dict[str, float]:
    """SD1, SD2, SD2/SD1, DFA alpha1/alpha2, SampEn of the NN list ``rr_ms``.

    ``pairs`` gives the consecutive-NN pairs for Poincaré when the list has holes (removed beats);
    without it every neighbour pair of ``rr_ms`` is used. DFA and SampEn run on the NN list as it
    is (Kubios and neurokit2 do the same: removed beats simply drop out).
    """
    rr = np.asarray(rr_ms, float)
    sd1, sd2 = poincare_pairs(*pairs) if pairs is not None else poincare(rr)
    sampen, exact = sample_entropy(rr)
    return {
        "sd1_ms": sd1,
        "sd2_ms": sd2,
        "sd2_sd1": sd2 / sd1 if sd1 > 0 else math.nan,
        "dfa_alpha1": dfa_alpha(rr, DFA1_SCALES),
        "dfa_alpha2": dfa_alpha(rr, DFA2_SCALES),
        "sampen": sampen,
        "sampen_exact": float(exact),
    }
