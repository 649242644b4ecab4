"""HRV spectra of whole recordings in O(n log n): fast Lomb-Scargle and Kubios's Welch route.

Two estimators, both on the NN series with its own beat times (flagged beats leave holes):

- ``lomb`` (**default**): the Press & Rybicki (1989) fast Lomb-Scargle. The four trigonometric
  sums the classical periodogram needs at every frequency (sum y·cos wt, y·sin wt, cos 2wt,
  sin 2wt) are obtained from two FFTs after "extirpolating" each uneven sample onto a regular grid
  (the reverse of Lagrange interpolation: each sample is spread over its ``EXTIRP_ORDER`` nearest
  grid points with the weights that interpolation would have used). Cost O(n + G log G) with G
  8x the number of frequencies (at most ``MAX_FREQS``); memory O(n + G). It gives the same periodogram as the
  direct O(n·F) sum (:func:`lomb_direct`, kept as the reference) to about 1e-6 relative where the
  power is, and the same scaling: a one-sided density in ms^2/Hz whose integral is the variance.
- ``welch``: Kubios's default route. NN series interpolated at 4 Hz (cubic spline), each
  300-s segment (50 % overlap, Hann window) linearly detrended, periodograms averaged (Welch).
  Kubios detrends the whole series with smoothness priors (lambda = 500) instead; per-segment
  linear detrending removes the same very slow trend from a 300-s window. O(n).

Why Lomb is the default: it is the estimator of the live engine (so a session's offline LF/HF and
its live values agree), it needs no resampling (which low-pass filters HF and invents samples
across removed beats), and it is the one the tests hold to neurokit2 to a documented factor.
Welch is offered so that a Kubios user can reproduce Kubios's default figures; the two estimators
differ by 10-50 % in band power on the same short window, less on long recordings.

Bands (Task Force 1996, Kubios): VLF 0-0.04 Hz (from the lowest computed frequency), LF
0.04-0.15 Hz, HF 0.15-0.4 Hz. Band powers are trapezoid integrals of the PSD.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

VLF_BAND = (0.0, 0.04)
LF_BAND = (0.04, 0.15)
HF_BAND = (0.15, 0.4)
F_MAX = 0.5  # computed up to here; HF ends at 0.4
OVERSAMPLING = 5  # frequency step 1 / (5 T), like astropy's default
EXTIRP_ORDER = 6  # Lagrange points per sample (Press & Rybicki use 4; 6 is 30x more accurate here)
GRID_FACTOR = 8  # FFT grid points per period of the highest frequency (accuracy of extirpolation)
MAX_FREQS = 1 << 18
"""Frequencies computed at most: the step 1 / (5 T) is kept up to T = 29 h (a 24-hour Holter file is
fully resolved); beyond that the step stays at 0.5 Hz / 2^18 = 1.9 µHz, so time and memory stop
growing with T. The periodogram is then sampled rather than fully resolved: each band power is a
mean over tens of thousands of periodogram values (LF: about 58 000): on 300 000 MIT-BIH beats
(69 h) the bands agree with the fully resolved integral to 0.03 % (VLF), 1e-5 (LF, HF)."""
WELCH_FS = 4.0
WELCH_SEGMENT_S = 300.0
METHODS = ("lomb", "welch")
DEFAULT_METHOD = "lomb"


@dataclass(frozen=True, slots=True)
class Spectrum:
    """One-sided PSD (ms^2/Hz) at ``freqs`` (Hz) and how it was made."""

    freqs: FloatArray
    psd: FloatArray
    method: str


def _extirpolate(x: FloatArray, y: FloatArray, size: int) -> FloatArray:
    """Spread values ``y`` at fractional grid positions ``x`` (0 <= x < size) onto ``size`` points.

    Each value goes to the ``EXTIRP_ORDER`` nearest points with the Lagrange weights of its
    position, so that sum(grid * f(grid)) equals sum(y * f(x)) for any polynomial f of degree
    below the order: smooth functions (our complex exponentials, well oversampled) are summed
    almost exactly. Points near the end wrap around: the exponentials are periodic on the grid.
    """
    m = EXTIRP_ORDER
    lo = np.floor(x).astype(np.int64) - (m // 2 - 1)
    out = np.zeros(size)
    for i in range(m):
        w = np.ones(len(x))
        for j in range(m):
            if j != i:
                w *= (x - (lo + j)) / (i - j)
        out += np.bincount((lo + i) % size, weights=y * w, minlength=size)
    return out


def _trig_sums(t: FloatArray, h: FloatArray, df: float, nf: int) -> NDArray[np.complex128]:
    """sum_j h_j exp(-2 pi i k df t_j) for k = 1 .. nf, via extirpolation and one real FFT.

    Time wraps modulo 1 / df (exact: every exponential k df is periodic in it). The grid has
    ``GRID_FACTOR`` points per period of the highest frequency. (The sign of the exponent is
    irrelevant to the periodogram: it flips every sine sum together.)
    """
    grid = 1 << int(math.ceil(math.log2(max(64, GRID_FACTOR * (nf + 1)))))
    x = np.mod(t * df, 1.0) * grid
    g = _extirpolate(x, h, grid)
    spec: NDArray[np.complex128] = np.fft.rfft(g)[1:nf + 1]
    return spec


def lomb_fast(t_s: ArrayLike, y: ArrayLike, df: float, f_max: float = F_MAX) -> Spectrum:
    """Fast Lomb-Scargle (Press & Rybicki) at ``df, 2 df, ... <= f_max``; PSD in y^2/Hz."""
    t = np.asarray(t_s, dtype=float)
    yy = np.asarray(y, dtype=float)
    yy = yy - yy.mean()
    t = t - t[0]
    n = len(t)
    nf = int(f_max / df)
    freqs = df * np.arange(1, nf + 1)
    sums_y = _trig_sums(t, yy, df, nf)
    sums_1 = _trig_sums(t, np.ones(n), 2 * df, nf)  # the 2w sums: same grid size, double step
    ch, sh = sums_y.real, sums_y.imag
    c2, s2 = sums_1.real, sums_1.imag
    hyp = np.hypot(c2, s2)
    safe = np.where(hyp > 0, hyp, 1.0)
    cos2 = np.where(hyp > 0, c2 / safe, 1.0)
    sin2 = np.where(hyp > 0, s2 / safe, 0.0)
    cwt = np.sqrt(0.5 * (1.0 + cos2))
    swt = np.sign(sin2) * np.sqrt(0.5 * (1.0 - cos2))
    yc = ch * cwt + sh * swt
    ys = sh * cwt - ch * swt
    cc = 0.5 * (n + hyp)
    ss = np.maximum(0.5 * (n - hyp), 1e-12)
    p = 0.5 * (yc * yc / cc + ys * ys / ss)
    psd: FloatArray = (p * (2.0 / _fs_eff(t))).astype(np.float64)
    return Spectrum(freqs.astype(np.float64), psd, "lomb")


def _fs_eff(t: FloatArray) -> float:
    duration = float(t[-1] - t[0])
    return (len(t) - 1) / duration if duration > 0 else 1.0


def lomb_direct(t_s: ArrayLike, y: ArrayLike, freqs: ArrayLike) -> FloatArray:
    """The classical O(n·F) Lomb-Scargle with the offset tau (reference for :func:`lomb_fast`).

    The raw value equals astropy's ``normalization="psd"``; it is scaled by 2 / fs_eff
    (fs_eff = mean beat rate) into a one-sided density whose integral is the variance.
    """
    t = np.asarray(t_s, float)
    yy = np.asarray(y, float)
    yy = yy - yy.mean()
    w = 2 * np.pi * np.asarray(freqs, float)[:, None]
    tau = np.arctan2(np.sum(np.sin(2 * w * t), axis=1), np.sum(np.cos(2 * w * t), axis=1)) / (2 * w[:, 0])
    arg = w * (t - tau[:, None])
    c, s = np.cos(arg), np.sin(arg)
    p = 0.5 * ((c @ yy) ** 2 / np.sum(c * c, axis=1) + (s @ yy) ** 2 / np.sum(s * s, axis=1))
    result: FloatArray = p * 2.0 / _fs_eff(t)
    return result


def welch(t_s: ArrayLike, rr_ms: ArrayLike, fs: float = WELCH_FS,
          segment_s: float = WELCH_SEGMENT_S) -> Spectrum:
    """Kubios's route: cubic-spline resampling at ``fs``, Welch with detrended 300-s Hann segments."""
    from scipy.interpolate import CubicSpline
    from scipy.signal import welch as scipy_welch

    t = np.asarray(t_s, float)
    rr = np.asarray(rr_ms, float)
    grid = np.arange(t[0], t[-1], 1.0 / fs)
    x = CubicSpline(t, rr)(grid)
    nper = min(len(x), int(round(segment_s * fs)))
    freqs, psd = scipy_welch(x, fs=fs, window="hann", nperseg=nper, noverlap=nper // 2,
                             detrend="linear", scaling="density")
    keep = (freqs > 0) & (freqs <= F_MAX)
    return Spectrum(freqs[keep].astype(float), psd[keep].astype(float), "welch")


def band_power(freqs: FloatArray, psd: FloatArray, band: tuple[float, float]) -> float:
    """Trapezoid integral of the PSD over ``band[0] <= f < band[1]``."""
    m = (freqs >= band[0]) & (freqs < band[1])
    if m.sum() < 2:
        return 0.0
    f, p = freqs[m], psd[m]
    return float(np.sum((p[1:] + p[:-1]) * np.diff(f)) / 2)


def peak_hz(freqs: FloatArray, psd: FloatArray, band: tuple[float, float]) -> float:
    """Frequency of the highest PSD value inside the band (NaN when the band is empty)."""
    m = (freqs >= band[0]) & (freqs < band[1])
    if not m.any():
        return math.nan
    return float(freqs[m][np.argmax(psd[m])])


def spectrum(t_s: ArrayLike, rr_ms: ArrayLike, method: str = DEFAULT_METHOD) -> Spectrum | None:
    """PSD of an NN series at its beat times, or None when too short for LF (< 2 LF cycles / 2)."""
    t = np.asarray(t_s, float)
    if len(t) < 8 or t[-1] - t[0] < 1.0 / LF_BAND[0] / 2:
        return None
    if method == "welch":
        return welch(t, rr_ms)
    if method != "lomb":
        raise ValueError(f"unknown spectral method {method!r}; use one of {METHODS}")
    df = max(1.0 / (OVERSAMPLING * (t[-1] - t[0])), F_MAX / MAX_FREQS)
    return lomb_fast(t, rr_ms, df)


def frequency_metrics(t_s: ArrayLike, rr_ms: ArrayLike, method: str = DEFAULT_METHOD) -> dict[str, float]:
    """Band powers (ms^2), LF/HF, powers in n.u. and %, band peak frequencies (Kubios's set).

    n.u. = band / (LF + HF) * 100 (Kubios: band / (total - VLF)); % = band / (VLF + LF + HF) * 100.
    """
    sp = spectrum(t_s, rr_ms, method)
    keys = ("vlf_ms2", "lf_ms2", "hf_ms2", "total_ms2", "lf_hf", "lf_nu", "hf_nu", "vlf_pct", "lf_pct",
            "hf_pct", "lf_peak_hz", "hf_peak_hz")
    if sp is None:
        return dict.fromkeys(keys, math.nan)
    vlf = band_power(sp.freqs, sp.psd, VLF_BAND)
    lf = band_power(sp.freqs, sp.psd, LF_BAND)
    hf = band_power(sp.freqs, sp.psd, HF_BAND)
    total = vlf + lf + hf
    nan = math.nan
    return {
        "vlf_ms2": vlf, "lf_ms2": lf, "hf_ms2": hf, "total_ms2": total,
        "lf_hf": lf / hf if hf > 0 else nan,
        "lf_nu": 100 * lf / (lf + hf) if lf + hf > 0 else nan,
        "hf_nu": 100 * hf / (lf + hf) if lf + hf > 0 else nan,
        "vlf_pct": 100 * vlf / total if total > 0 else nan,
        "lf_pct": 100 * lf / total if total > 0 else nan,
        "hf_pct": 100 * hf / total if total > 0 else nan,
        "lf_peak_hz": peak_hz(sp.freqs, sp.psd, LF_BAND),
        "hf_peak_hz": peak_hz(sp.freqs, sp.psd, HF_BAND),
    }
