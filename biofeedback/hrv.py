"""Live HRV from the beat stream: labelling, incremental time domain, 5-s spectra, calm score.

API (pure computation, no I/O)::

    engine = HrvEngine(HrvConfig())
    for t, rr_ticks, after_gap in beats:                 # from the device layer
        for beat in engine.add_beat(t, rr_ticks, after_gap):   # labelled, 1 beat late
            ...                                          # beat.label, beat.rr_ms (raw, for the record)
        m = engine.metrics                               # BeatMetrics after the last labelled beat
        s = engine.spectral_due(t)                       # SpectralMetrics every 5 s, else None
    engine.flush()                                       # end of stream: label the last beat

``add_beat`` takes the beat time in seconds, the RR in integer ticks of 1/1024 s and the
``after_gap`` flag of the device layer. RR stay integer ticks inside; milliseconds appear only in
the metric objects. Labels come from :mod:`biofeedback.artefacts` (the same classifier the offline
:func:`analyze_recording` uses; that one lives in :mod:`biofeedback.whole_recording` and works on
RR in exact milliseconds, re-exported here for its callers).

Time domain, per beat, without recomputing the window: a deque of NN intervals inside the last
``window_s`` seconds (by beat time) with integer running sums of RR and RR^2, and a deque of
successive differences (between two NN intervals that follow each other with no flagged beat or gap
between) with an integer sum of squares and an NN50 count. Integer sums are exact, so there is no
floating-point drift over hours; the only rounding is the final conversion to ms.

- ``mean_nn_ms``, ``hr_bpm`` = 60000 / mean NN, ``sdnn_ms`` (sample SD, ddof=1),
- ``rmssd_ms`` = sqrt(mean of squared successive differences),
- ``pnn50_pct`` = share of successive differences above 50 ms, in % of the *differences*.
  (neurokit2's ``HRV_pNN50`` divides by the number of RR instead, i.e. by one more.)

Frequency domain, every ``spectral_every_s`` seconds, on the time-preserving corrected series:

- coherence (HeartMath style): the last 64 s of RR, linearly resampled at 2 Hz, mean and linear
  trend removed, Hann window, FFT (zero-padded to 512 points); peak searched in 0.04-0.26 Hz;
  coherence = power within +-0.015 Hz of the peak / (total power 0.0033-0.4 Hz - peak power).
  ``dominant_hz`` is that peak.
- breathing rate from RSA: the highest peak of the same spectrum in 0.04-0.5 Hz, in breaths/min.
- LF (0.04-0.15 Hz) and HF (0.15-0.4 Hz) power in ms^2 from a Lomb-Scargle periodogram of the
  NN series itself over the last ``lf_window_s`` seconds (the fast Press-Rybicki algorithm of
  :mod:`biofeedback.spectral`, equal to the direct sum :func:`lomb_scargle` to 1e-4). Lomb-Scargle
  because RR samples are uneven in time: it needs no resampling (which low-pass filters HF and
  invents samples across removed beats), and handles the holes left by excluded beats without
  interpolation (Clifford & Tarassenko 2005). It is scaled so that the one-sided PSD integrates
  to the variance. neurokit2's ``hrv_frequency(psd_method="lomb", interpolation_rate=None,
  normalize=False)`` integrates astropy's ``normalization="psd"`` values, which are the raw
  periodogram (units ms^2, not ms^2/Hz), so its band powers are ours times fs_eff / 2
  (fs_eff = beats per second); the tests compare against it with that one documented factor, and
  check our absolute scale by Parseval. Welch on 4 Hz-resampled RR (neurokit2's default) is a
  different estimator and differs from Lomb by 10-50 % on the same window, so it is not used
  as the reference.

The update every 5 s and :meth:`HrvEngine.recent_dominant_hz` (which the runner calls at the same
stream time once the pacer is on) share one corrected series, built once per new beat and cached;
``bench/bench_hrv.py`` measures the update's CPU time (p99 target 2 ms).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike, NDArray

from biofeedback.artefacts import (
    TICKS_PER_SECOND,
    ArtefactClassifier,
    ArtefactConfig,
    BeatLabel,
    LabelledBeat,
    corrected_series,
)
from biofeedback.spectral import HF_BAND, LF_BAND, band_power, lomb_direct, lomb_fast
from biofeedback.whole_recording import RecordingAnalysis, analyze_recording

__all__ = ["BeatMetrics", "HrvConfig", "HrvEngine", "RecordingAnalysis", "SpectralMetrics", "analyze_recording",
           "band_power", "coherence_from_spectrum", "coherence_spectrum", "lf_hf", "lomb_scargle",
           "recent_dominant_hz", "time_domain"]

FloatArray = NDArray[np.float64]

MS_PER_TICK = 1000.0 / TICKS_PER_SECOND
NN50_TICKS = 52
"""|d| > 50 ms after conversion: |d| * 1000/1024 > 50 <=> |d| > 51.2 ticks <=> |d| >= 52 whole ticks (the
same test, done on integers)."""


@dataclass(frozen=True, slots=True)
class HrvConfig:
    window_s: float = 60.0  # time-domain window
    spectral_every_s: float = 5.0
    coherence_window_s: float = 64.0
    coherence_fs: float = 2.0
    lf_window_s: float = 120.0  # LF needs about 2 min (Task Force 1996)
    artefacts: ArtefactConfig = field(default_factory=ArtefactConfig)


@dataclass(frozen=True, slots=True)
class BeatMetrics:
    """Time-domain metrics over the NN intervals in the window ending at beat time ``t``."""

    t: float
    n_nn: int
    n_diff: int
    mean_nn_ms: float
    hr_bpm: float
    sdnn_ms: float
    rmssd_ms: float
    pnn50_pct: float


@dataclass(frozen=True, slots=True)
class SpectralMetrics:
    t: float
    coherence: float
    dominant_hz: float
    breathing_rate_bpm: float
    lf_ms2: float
    hf_ms2: float

    @property
    def lf_hf(self) -> float:
        return self.lf_ms2 / self.hf_ms2 if self.hf_ms2 > 0 else math.nan


class _TimeDomain:
    """Exact incremental window statistics on integer ticks."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self.nn: deque[tuple[float, int]] = deque()  # (beat t, rr ticks)
        self.diffs: deque[tuple[float, int]] = deque()  # (t of the earlier NN, d ticks)
        self.s1 = 0
        self.s2 = 0
        self.d2 = 0
        self.n50 = 0
        self._last: tuple[float, int] | None = None  # previous NN when the chain is unbroken

    def add(self, beat: LabelledBeat) -> None:
        if not beat.is_nn:
            self._last = None  # no successive difference across a flagged beat
            return
        rr = beat.rr_ticks
        if beat.label is BeatLabel.GAP:
            self._last = None
        if self._last is not None:
            d = rr - self._last[1]
            self.diffs.append((self._last[0], d))
            self.d2 += d * d
            self.n50 += abs(d) >= NN50_TICKS
        self.nn.append((beat.t, rr))
        self.s1 += rr
        self.s2 += rr * rr
        self._last = (beat.t, rr)
        self._evict(beat.t)

    def _evict(self, now: float) -> None:
        start = now - self.window_s
        while self.nn and self.nn[0][0] <= start:
            _, rr = self.nn.popleft()
            self.s1 -= rr
            self.s2 -= rr * rr
        while self.diffs and self.diffs[0][0] <= start:
            _, d = self.diffs.popleft()
            self.d2 -= d * d
            self.n50 -= abs(d) >= NN50_TICKS

    def metrics(self, t: float) -> BeatMetrics:
        n, nd = len(self.nn), len(self.diffs)
        mean = self.s1 / n * MS_PER_TICK if n else math.nan
        sdnn = (math.sqrt((n * self.s2 - self.s1 * self.s1) / (n * (n - 1))) * MS_PER_TICK
                if n > 1 else math.nan)
        rmssd = math.sqrt(self.d2 / nd) * MS_PER_TICK if nd else math.nan
        pnn50 = 100.0 * self.n50 / nd if nd else math.nan
        hr = 60000.0 / mean if n else math.nan
        return BeatMetrics(t, n, nd, mean, hr, sdnn, rmssd, pnn50)


def time_domain(rr_ms: Sequence[float]) -> dict[str, float]:
    """Reference (non-incremental) time-domain metrics of one unbroken NN list, in ms."""
    rr = np.asarray(rr_ms, dtype=float)
    d = np.diff(rr)
    return {
        "mean_nn_ms": float(rr.mean()),
        "sdnn_ms": float(rr.std(ddof=1)) if len(rr) > 1 else math.nan,
        "rmssd_ms": float(np.sqrt(np.mean(d * d))) if len(d) else math.nan,
        "pnn50_pct": float(100.0 * np.mean(np.abs(d) > 50.0)) if len(d) else math.nan,
    }


def lomb_scargle(t: FloatArray, y: FloatArray, freqs: FloatArray) -> FloatArray:
    """One-sided Lomb-Scargle PSD (y^2/Hz) at ``freqs``, direct O(N*F) sum (see :mod:`biofeedback.spectral`)."""
    return lomb_direct(t, y, freqs)


def lf_hf(t_s: ArrayLike, rr_ms: ArrayLike, df: float | None = None) -> tuple[float, float]:
    """LF and HF power (ms^2) of an RR series at beat times ``t_s`` by (fast) Lomb-Scargle."""
    t = np.asarray(t_s, float)
    if len(t) < 8 or t[-1] - t[0] < 1.0 / LF_BAND[0] / 2:
        return math.nan, math.nan
    duration = float(t[-1] - t[0])
    df = df or 1.0 / (5 * duration)  # oversampling 5, like astropy's default
    sp = lomb_fast(t, rr_ms, df, HF_BAND[1] + df)
    return band_power(sp.freqs, sp.psd, LF_BAND), band_power(sp.freqs, sp.psd, HF_BAND)


@lru_cache(maxsize=8)
def _hann(n: int) -> FloatArray:
    return np.hanning(n)


@lru_cache(maxsize=8)
def _trend_basis(n: int) -> tuple[FloatArray, float]:
    x: FloatArray = np.arange(n, dtype=np.float64) - (n - 1) / 2.0
    return x, float(x @ x)


def coherence_spectrum(t_s: ArrayLike, rr_ms: ArrayLike, end_t: float, window_s: float = 64.0,
                       fs: float = 2.0, nfft: int = 512) -> tuple[FloatArray, FloatArray] | None:
    """(freqs, power) of the last ``window_s`` of RR resampled at ``fs``; None when too short.

    Linear interpolation, mean and least-squares line removed (closed form), Hann window, FFT
    zero-padded to ``nfft``.
    """
    t = np.asarray(t_s, float)
    rr = np.asarray(rr_ms, float)
    start = end_t - window_s
    if len(t) < 4 or t[0] > start + 2.0:
        return None
    n = int(round(window_s * fs))
    grid = start + np.arange(n) / fs
    x = np.interp(grid, t, rr)
    basis, norm = _trend_basis(n)
    x = x - x.mean()
    x = (x - basis * (float(x @ basis) / norm)) * _hann(n)
    spec: FloatArray = (np.abs(np.fft.rfft(x, nfft)) ** 2).astype(np.float64)
    freqs: FloatArray = np.fft.rfftfreq(nfft, 1 / fs).astype(np.float64)
    return freqs, spec


def coherence_from_spectrum(freqs: FloatArray, spec: FloatArray) -> tuple[float, float, float]:
    """(coherence ratio, dominant Hz in 0.04-0.26, breathing Hz in 0.04-0.5)."""
    band = (freqs >= 0.04) & (freqs <= 0.26)
    i_peak = np.flatnonzero(band)[np.argmax(spec[band])]
    f_peak = freqs[i_peak]
    total_m = (freqs >= 0.0033) & (freqs <= 0.4)
    peak_m = total_m & (np.abs(freqs - f_peak) <= 0.015)
    peak = float(spec[peak_m].sum())
    rest = float(spec[total_m].sum()) - peak
    coh = peak / rest if rest > 0 else math.inf
    br = (freqs >= 0.04) & (freqs <= 0.5)
    f_br = freqs[np.flatnonzero(br)[np.argmax(spec[br])]]
    return coh, float(f_peak), float(f_br)


class HrvEngine:
    """Feeds beats through the classifier and keeps live metrics (see module docstring)."""

    def __init__(self, config: HrvConfig | None = None) -> None:
        self.cfg = config or HrvConfig()
        self.classifier = ArtefactClassifier(self.cfg.artefacts)
        self._td = _TimeDomain(self.cfg.window_s)
        keep = max(self.cfg.coherence_window_s, self.cfg.lf_window_s) + 10.0
        self._keep_s = keep
        self._recent: deque[LabelledBeat] = deque()  # labelled beats for spectra
        self.metrics: BeatMetrics | None = None
        self.spectral: SpectralMetrics | None = None
        self._next_spectral: float | None = None
        self.n_beats = 0
        self.n_flagged = 0
        self._corr: tuple[FloatArray, FloatArray] | None = None
        self._corr_key = -1

    def add_beat(self, t: float, rr_ticks: int, after_gap: bool = False, ectopic: bool = False,
                 clear: bool = False) -> list[LabelledBeat]:
        """Feed one beat; returns the beats whose label became final (usually the previous one).
        ``ectopic``/``clear``: the strap's ECG called this beat ectopic, or clearly normal and on time
        (see :meth:`ArtefactClassifier.push`)."""
        return self._take(self.classifier.push(t, rr_ticks, after_gap, ectopic, clear))

    def flush(self) -> list[LabelledBeat]:
        return self._take(self.classifier.flush())

    def _take(self, beats: list[LabelledBeat]) -> list[LabelledBeat]:
        for b in beats:
            self.n_beats += 1
            self.n_flagged += not b.is_nn
            self._td.add(b)
            self._recent.append(b)
            while self._recent and self._recent[0].t < b.t - self._keep_s:
                self._recent.popleft()
            self.metrics = self._td.metrics(b.t)
        return beats

    def spectral_due(self, t: float) -> SpectralMetrics | None:
        """Every ``spectral_every_s`` seconds of stream time: a new :class:`SpectralMetrics`."""
        if self._next_spectral is None:
            self._next_spectral = t + self.cfg.spectral_every_s
            return None
        if t < self._next_spectral:
            return None
        while self._next_spectral <= t:
            self._next_spectral += self.cfg.spectral_every_s
        result = self.compute_spectral(t)
        if result is not None:
            self.spectral = result
        return result

    def _corrected(self) -> tuple[FloatArray, FloatArray]:
        """Time-preserving corrected series (beat t, RR ms) of the recent beats, built once per new beat.

        ``compute_spectral`` and ``recent_dominant_hz`` run at the same stream time (the runner calls
        both every 5 s once the pacer is on), so the second call reuses the first one's series.
        """
        if self._corr_key != self.n_beats or self._corr is None:
            ct, crr = corrected_series(self._recent)
            self._corr = (np.asarray(ct, float), np.asarray(crr, float) * MS_PER_TICK)
            self._corr_key = self.n_beats
        return self._corr

    def recent_dominant_hz(self, window_s: float = 32.0) -> float | None:
        """The strongest HR oscillation of the last ``window_s`` seconds (see the function)."""
        if not self._recent:
            return None
        ct, crr = self._corrected()
        return recent_dominant_hz(ct, crr, self._recent[-1].t, window_s)

    def compute_spectral(self, t: float) -> SpectralMetrics | None:
        if not self._recent:
            return None
        end = self._recent[-1].t
        ct, crr = self._corrected()
        sp = coherence_spectrum(ct, crr, end, self.cfg.coherence_window_s, self.cfg.coherence_fs)
        if sp is None:
            return None
        coh, f_dom, f_br = coherence_from_spectrum(*sp)
        start = end - self.cfg.lf_window_s
        nn_t = [b.t for b in self._recent if b.is_nn and b.t > start]
        nn_rr = [b.rr_ticks * MS_PER_TICK for b in self._recent if b.is_nn and b.t > start]
        lf, hf = lf_hf(nn_t, nn_rr)
        return SpectralMetrics(t, coh, f_dom, 60.0 * f_br, lf, hf)


def recent_dominant_hz(t_s: ArrayLike, rr_ms: ArrayLike, end_t: float, window_s: float = 32.0,
                       fs: float = 4.0, band: tuple[float, float] = (0.05, 0.5)) -> float | None:
    """Frequency of the strongest HR oscillation in the last ``window_s`` seconds, or None.

    For the breathing guide: the 64-s coherence spectrum lags a pacer step by most of a minute,
    so whether the heart follows a new pacer rate is judged on half that window (zero-padded,
    peak refined by parabolic interpolation; a clean breathing rhythm needs no finer grid).
    """
    sp = coherence_spectrum(t_s, rr_ms, end_t, window_s, fs, nfft=2048)
    if sp is None:
        return None
    freqs, spec = sp
    idx = np.flatnonzero((freqs >= band[0]) & (freqs <= band[1]))
    k = int(idx[np.argmax(spec[idx])])
    if 0 < k < len(spec) - 1:
        a, b, c = spec[k - 1], spec[k], spec[k + 1]
        denom = a - 2 * b + c
        shift = 0.5 * (a - c) / denom if denom else 0.0
        return float(freqs[k] + shift * (freqs[1] - freqs[0]))
    return float(freqs[k])
