"""Breathing rate from the heart's RSA, live, with a confidence -- and "unknown" rather than a wrong number.

Why it is built this way:

* **Several estimators, one answer only when they agree.** A single spectral peak locks onto
  whatever oscillation is largest; on real people that is often a slow heart-rate swing (Mayer
  waves, 0.05-0.1 Hz) or noise, not breathing. Charlton et al. (Physiol Meas 2016; IEEE Rev Biomed Eng 2018)
  found that fusing several respiratory-rate estimates and withholding the answer when they
  disagree beats any single one. Here three estimators look at the same NN series in the last
  ``window_s`` seconds, resampled evenly and band-passed to the breathing band:

  - ``spectral``: the highest *local* peak of the windowed spectrum inside the band (a peak at a
    band edge is a slope from outside the band, not a rhythm inside it);
  - ``count``: breaths counted on the band-passed series, one per up-going crossing with hysteresis
    (the "count" methods Schäfer & Kratky compared, Ann Biomed Eng 2008; robust to a non-sinusoidal breath);
  - ``acf``: the lag of the first strong peak of the autocorrelation.

* **Quality gates decide whether to speak.** The rate reported is the spectral peak, and only when
  (a) at least ``min_votes`` of the other methods agree with it (within ``agree_bpm`` or
  ``agree_frac``), (b) at least ``stable_min`` earlier estimates of the last ``stable_window_s``
  seconds agree (breathing rate drifts slowly; a spurious peak jumps), (c) the spectrum is
  concentrated at the peak (``min_concentration``: power within ``peak_halfwidth_hz`` over power in
  the band), and (d) NN beats make up ``min_nn_share`` of the window. Outside the typical resting
  range (``typical_bpm``, 9-24/min) a rate needs stronger evidence: all methods agree, a
  concentrated peak and one more stable look -- below it is where slow heart-rate swings live,
  above it mostly noise. Otherwise the rate is ``None`` (unknown). ``confidence`` (0-1) grades the
  same evidence (stability, agreement, concentration, NN share) for callers that want a number.
  On BIDMC (bench/bench_breathing.py) this reports about one estimate in eight, and those are
  right (within 2/min) about 87 % of the time; the RR series of most of those ICU patients simply
  does not carry their breathing.
* **Nothing leaves its band.** Every method searches only inside ``band_bpm`` and the fused rate is
  clipped to it, so an estimate is always a plausible breathing rate or nothing.
* **Cheap per beat.** ``add`` appends to a deque (O(1)); the FFT work happens in ``estimate``, which
  the caller runs every few seconds (well under 2 ms on a 32-s window).

Pure computation, no I/O; times in seconds, RR in milliseconds.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, slots=True)
class BreathingConfig:
    """Every number the estimator uses; one setting for everyone."""

    window_s: float = 32.0
    """Seconds of RR looked at per estimate (>= 3 breaths at 6/min)."""
    min_span_frac: float = 0.8
    """The NN beats must span at least this share of the window."""
    fs_hz: float = 4.0
    """Even resampling rate of the RR series."""
    nfft: int = 1024
    """FFT length (zero-padded): 4 Hz / 1024 = 0.0039 Hz, a quarter breath per minute per bin."""
    band_bpm: tuple[float, float] = (6.0, 36.0)
    """Breathing band searched by every method (breaths/min): 0.1-0.6 Hz. Slow HR swings sit below."""
    filter_edge_bpm: float = 1.0
    """Width of the cosine taper at each edge of the band-pass (breaths/min)."""
    peak_halfwidth_hz: float = 0.03
    """Half-width of the spectral peak for the concentration measure."""
    hysteresis: float = 0.3
    """Breath counting: crossing levels at +-this share of the band-passed series' SD."""
    acf_min_height: float = 0.2
    """Autocorrelation peaks lower than this are not a rhythm."""
    acf_first_peak_share: float = 0.8
    """Take an earlier ACF peak if it is at least this share of the highest (avoids 2x the period)."""
    agree_bpm: float = 1.5
    """Two methods agree when within this many breaths/min ..."""
    agree_frac: float = 0.1
    """... or this share of the rate, whichever is larger."""
    min_nn_share: float = 0.8
    """Share of NN beats in the window below which no estimate is made."""
    min_votes: int = 1
    """Other methods (count, acf) that must agree with the spectral peak."""
    min_concentration: float = 0.3
    """Spectral concentration needed to report a rate inside the typical range."""
    typical_bpm: tuple[float, float] = (9.0, 24.0)
    """Where resting breathing nearly always lies. Outside it (slow swings below, noise above) a
    rate is reported only on strong evidence: the three thresholds below and one more stable look."""
    strong_concentration: float = 0.5
    """Outside the typical range the spectral peak must hold this share of the band's power ..."""
    strong_votes: int = 2
    """... and all methods must agree."""
    stable_window_s: float = 31.0
    """Earlier raw estimates within this many seconds are checked for stability ..."""
    stable_min: int = 3
    """... and at least this many must agree with the current one (breathing rate changes slowly;
    a spurious peak jumps from estimate to estimate)."""
    stable_min_gap_s: float = 2.5
    """Earlier estimates closer in time than this share too much data to count as a second look."""
    keep_s: float = 40.0
    """Beats older than this (relative to the newest) are dropped from the buffer."""


@dataclass(frozen=True, slots=True)
class BreathingEstimate:
    """The estimate at ``t``: ``rate_bpm`` None means unknown; ``method_rates`` per method that found one."""

    t: float
    rate_bpm: float | None
    confidence: float
    method_rates: dict[str, float] = field(default_factory=dict)


class BreathingRateEstimator:
    """Streaming breathing-rate estimator (see the module docstring)."""

    def __init__(self, config: BreathingConfig | None = None) -> None:
        self.cfg = config or BreathingConfig()
        self._beats: deque[tuple[float, float, bool]] = deque()
        self._raw: deque[tuple[float, float]] = deque()  # (t, spectral rate) of earlier estimates
        self.last_known: BreathingEstimate | None = None
        """The most recent estimate with a rate (the pacer may start from it if it is recent)."""

    def add(self, t_s: float, rr_ms: float, is_nn: bool) -> None:
        """One labelled beat: its time (s), the RR ending at it (ms), whether it is a normal beat."""
        self._beats.append((t_s, rr_ms, is_nn))
        horizon = t_s - max(self.cfg.keep_s, self.cfg.window_s)
        while self._beats[0][0] < horizon:
            self._beats.popleft()

    def estimate(self, t_s: float) -> BreathingEstimate:
        """The breathing rate over the last ``window_s`` seconds up to ``t_s``."""
        cfg = self.cfg
        start = t_s - cfg.window_s
        window = [b for b in self._beats if start <= b[0] <= t_s]
        nn = [(bt, rr) for bt, rr, ok in window if ok]
        if len(window) < 4 or len(nn) < 4:
            return BreathingEstimate(t_s, None, 0.0)
        nn_share = len(nn) / len(window)
        span = nn[-1][0] - nn[0][0]
        if nn_share < cfg.min_nn_share or span < cfg.min_span_frac * cfg.window_s:
            return BreathingEstimate(t_s, None, 0.0)
        t = np.fromiter((b[0] for b in nn), float, len(nn))
        rr = np.fromiter((b[1] for b in nn), float, len(nn))
        raw = analyse_window(t, rr, cfg)
        stable = self._stability(t_s, raw.rates.get("spectral"))
        result = decide(t_s, raw, stable, nn_share, cfg)
        if result.rate_bpm is not None:
            self.last_known = result
        return result

    def _stability(self, t_s: float, rate: float | None) -> int:
        """How many earlier raw spectral rates (a second look, within the stability window) agree."""
        cfg = self.cfg
        while self._raw and self._raw[0][0] < t_s - cfg.stable_window_s:
            self._raw.popleft()
        if rate is None:
            return 0
        n = sum(1 for te, r in self._raw if te <= t_s - cfg.stable_min_gap_s and _close(r, rate, cfg))
        self._raw.append((t_s, rate))
        return n


def _resample(t: np.ndarray, rr: np.ndarray, fs: float) -> np.ndarray:
    grid = np.arange(t[0], t[-1], 1.0 / fs)
    x = np.interp(grid, t, rr)
    n = np.arange(len(x), dtype=float)
    slope, icept = np.polyfit(n, x, 1)
    return np.asarray(x - (slope * n + icept), dtype=float)


def _band_mask(freqs: np.ndarray, lo_hz: float, hi_hz: float, edge_hz: float) -> np.ndarray:
    """1 inside [lo, hi], a raised-cosine taper ``edge_hz`` wide outside each edge, 0 beyond."""
    mask = np.zeros_like(freqs)
    mask[(freqs >= lo_hz) & (freqs <= hi_hz)] = 1.0
    below = (freqs < lo_hz) & (freqs > lo_hz - edge_hz)
    mask[below] = 0.5 + 0.5 * np.cos(math.pi * (lo_hz - freqs[below]) / edge_hz)
    above = (freqs > hi_hz) & (freqs < hi_hz + edge_hz)
    mask[above] = 0.5 + 0.5 * np.cos(math.pi * (freqs[above] - hi_hz) / edge_hz)
    return mask


def _parabolic(y: np.ndarray, k: int) -> float:
    """Sub-bin offset of a peak at ``k`` (0 at the edges of ``y``)."""
    if 0 < k < len(y) - 1:
        a, b, c = float(y[k - 1]), float(y[k]), float(y[k + 1])
        denom = a - 2.0 * b + c
        if denom < 0:
            return 0.5 * (a - c) / denom
    return 0.0


def _spectral_rate(freqs: np.ndarray, power: np.ndarray, lo_hz: float, hi_hz: float,
                   halfwidth_hz: float) -> tuple[float | None, float]:
    """(rate in breaths/min of the highest interior local peak in the band, spectral concentration)."""
    idx = np.flatnonzero((freqs >= lo_hz) & (freqs <= hi_hz))
    if len(idx) < 3:
        return None, 0.0
    p = power[idx]
    interior = np.flatnonzero((p[1:-1] > p[:-2]) & (p[1:-1] >= p[2:])) + 1
    total = float(p.sum())
    if len(interior) == 0 or total <= 0:
        return None, 0.0
    k_local = int(interior[np.argmax(p[interior])])
    k = int(idx[k_local])
    f_peak = float(freqs[k] + _parabolic(power, k) * (freqs[1] - freqs[0]))
    near = (freqs >= f_peak - halfwidth_hz) & (freqs <= f_peak + halfwidth_hz) & (freqs >= lo_hz) & (freqs <= hi_hz)
    concentration = float(power[near].sum()) / total
    return 60.0 * f_peak, concentration


def _count_rate(x: np.ndarray, fs: float, hysteresis: float) -> float | None:
    """Breaths/min from up-going crossings of +h after the series was below -h."""
    h = hysteresis * float(np.std(x))
    if h <= 0:
        return None
    ups: list[int] = []
    armed = x[0] < -h
    for i in np.flatnonzero((x > h) | (x < -h)):
        if x[i] < -h:
            armed = True
        elif armed:
            ups.append(int(i))
            armed = False
    if len(ups) < 2:
        return None
    return 60.0 * fs * (len(ups) - 1) / (ups[-1] - ups[0])


def _acf_rate(x: np.ndarray, fs: float, lo_hz: float, hi_hz: float, min_height: float,
              first_share: float) -> float | None:
    """Breaths/min from the first strong autocorrelation peak with a lag inside the band."""
    n = len(x)
    spec = np.fft.rfft(x, 2 * n)
    acf = np.fft.irfft(spec * np.conj(spec))[:n]
    if acf[0] <= 0:
        return None
    acf = acf / acf[0]
    lag_lo, lag_hi = int(math.floor(fs / hi_hz)), min(int(math.ceil(fs / lo_hz)), n - 2)
    if lag_hi - lag_lo < 2:
        return None
    seg = acf[lag_lo:lag_hi + 1]
    peaks = np.flatnonzero((seg[1:-1] > seg[:-2]) & (seg[1:-1] >= seg[2:])) + 1
    peaks = peaks[seg[peaks] >= min_height]
    if len(peaks) == 0:
        return None
    best = float(seg[peaks].max())
    k = int(lag_lo + peaks[np.flatnonzero(seg[peaks] >= first_share * best)[0]])
    lag = k + _parabolic(acf, k)
    return 60.0 * fs / lag


def _close(a: float, b: float, cfg: BreathingConfig) -> bool:
    return abs(a - b) <= max(cfg.agree_bpm, cfg.agree_frac * b)


@dataclass(frozen=True, slots=True)
class WindowAnalysis:
    """What the three methods found in one window, and how concentrated the spectrum is."""

    rates: dict[str, float]
    concentration: float


def analyse_window(t: np.ndarray, rr_ms: np.ndarray, cfg: BreathingConfig) -> WindowAnalysis:
    """Run the three methods on NN beat times and RR (already cut to the window)."""
    x = _resample(t, rr_ms, cfg.fs_hz)
    lo_hz, hi_hz = cfg.band_bpm[0] / 60.0, cfg.band_bpm[1] / 60.0
    nfft = max(cfg.nfft, len(x))
    power = np.abs(np.fft.rfft(x * np.hanning(len(x)), nfft)) ** 2
    freqs = np.fft.rfftfreq(nfft, 1.0 / cfg.fs_hz)
    rates: dict[str, float] = {}
    spectral, concentration = _spectral_rate(freqs, power, lo_hz, hi_hz, cfg.peak_halfwidth_hz)
    if spectral is not None:
        rates["spectral"] = spectral
    mask = _band_mask(np.fft.rfftfreq(len(x), 1.0 / cfg.fs_hz), lo_hz, hi_hz, cfg.filter_edge_bpm / 60.0)
    banded = np.fft.irfft(np.fft.rfft(x) * mask, len(x))
    counted = _count_rate(banded, cfg.fs_hz, cfg.hysteresis)
    if counted is not None:
        rates["count"] = counted
    acf = _acf_rate(banded, cfg.fs_hz, lo_hz, hi_hz, cfg.acf_min_height, cfg.acf_first_peak_share)
    if acf is not None:
        rates["acf"] = acf
    lo, hi = cfg.band_bpm
    return WindowAnalysis({k: v for k, v in rates.items() if lo <= v <= hi}, concentration)


def decide(t_s: float, raw: WindowAnalysis, stable: int, nn_share: float, cfg: BreathingConfig) -> BreathingEstimate:
    """Report the spectral rate when the quality gates pass; confidence grades the same evidence."""
    rate = raw.rates.get("spectral")
    if rate is None:
        return BreathingEstimate(t_s, None, 0.0, raw.rates)
    votes = sum(1 for k, v in raw.rates.items() if k != "spectral" and _close(v, rate, cfg))
    others = max(1, len(raw.rates) - 1)
    confidence = nn_share * (min(1.0, stable / cfg.stable_min) + votes / others
                             + min(1.0, raw.concentration / cfg.strong_concentration)) / 3.0
    typical = cfg.typical_bpm[0] <= rate <= cfg.typical_bpm[1]
    ok = stable >= cfg.stable_min and votes >= cfg.min_votes and raw.concentration >= cfg.min_concentration
    if ok and not typical:
        ok = (raw.concentration >= cfg.strong_concentration and stable >= cfg.stable_min + 1
              and votes >= cfg.strong_votes)
    if not ok:
        return BreathingEstimate(t_s, None, confidence, raw.rates)
    lo, hi = cfg.band_bpm
    return BreathingEstimate(t_s, min(hi, max(lo, rate)), confidence, raw.rates)
