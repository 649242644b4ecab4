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
:func:`analyze_recording` uses).

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
  NN series itself over the last ``lf_window_s`` seconds (numpy, :func:`lomb_scargle`). Lomb-Scargle
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
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from biofeedback.artefacts import (
    TICKS_PER_SECOND,
    ArtefactClassifier,
    ArtefactConfig,
    BeatLabel,
    LabelledBeat,
    classify_series,
    corrected_series,
)

MS_PER_TICK = 1000.0 / TICKS_PER_SECOND
NN50_TICKS = 52  # |d| > 50 ms  <=>  |d| * 1000/1024 > 50  <=>  |d| > 51.2 ticks
LF_BAND = (0.04, 0.15)
HF_BAND = (0.15, 0.4)


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


def lomb_scargle(t: np.ndarray, y: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    """One-sided Lomb-Scargle PSD of ``y`` (mean removed) at ``freqs`` (Hz), units y^2/Hz.

    Classical form with the time offset tau. The raw Lomb value equals the Schuster periodogram
    |sum y e^(-iwt)|^2 / N (units y^2, what astropy's ``normalization="psd"`` returns); it is
    scaled by 2 / fs_eff (fs_eff = mean beat rate) into a one-sided density whose integral over
    0..fs_eff/2 is the variance (Parseval). Cost O(N * F), vectorised.
    """
    t = np.asarray(t, float)
    y = np.asarray(y, float) - np.mean(y)
    w = 2 * np.pi * np.asarray(freqs, float)[:, None]
    tau = np.arctan2(np.sum(np.sin(2 * w * t), axis=1), np.sum(np.cos(2 * w * t), axis=1)) / (2 * w[:, 0])
    arg = w * (t - tau[:, None])
    c, s = np.cos(arg), np.sin(arg)
    p = 0.5 * ((c @ y) ** 2 / np.sum(c * c, axis=1) + (s @ y) ** 2 / np.sum(s * s, axis=1))
    n = len(t)
    duration = t[-1] - t[0]
    fs_eff = (n - 1) / duration if duration > 0 else 1.0
    return p * 2.0 / fs_eff


def band_power(freqs: np.ndarray, psd: np.ndarray, band: tuple[float, float]) -> float:
    """Trapezoid integral of the PSD over ``band[0] <= f < band[1]``."""
    m = (freqs >= band[0]) & (freqs < band[1])
    if m.sum() < 2:
        return 0.0
    f, p = freqs[m], psd[m]
    return float(np.sum((p[1:] + p[:-1]) * np.diff(f)) / 2)


def lf_hf(t_s: Sequence[float], rr_ms: Sequence[float], df: float | None = None) -> tuple[float, float]:
    """LF and HF power (ms^2) of an RR series at beat times ``t_s`` by Lomb-Scargle."""
    t = np.asarray(t_s, float)
    if len(t) < 8 or t[-1] - t[0] < 1.0 / LF_BAND[0] / 2:
        return math.nan, math.nan
    duration = t[-1] - t[0]
    df = df or 1.0 / (5 * duration)  # oversampling 5, like astropy's default
    freqs = np.arange(df, HF_BAND[1] + df, df)
    psd = lomb_scargle(t, np.asarray(rr_ms, float), freqs)
    return band_power(freqs, psd, LF_BAND), band_power(freqs, psd, HF_BAND)


def coherence_spectrum(t_s: Sequence[float], rr_ms: Sequence[float], end_t: float,
                       window_s: float = 64.0, fs: float = 2.0, nfft: int = 512):
    """(freqs, power) of the last ``window_s`` of RR resampled at ``fs``; None when too short."""
    t = np.asarray(t_s, float)
    rr = np.asarray(rr_ms, float)
    start = end_t - window_s
    if len(t) < 4 or t[0] > start + 2.0:
        return None
    grid = start + np.arange(int(round(window_s * fs))) / fs
    x = np.interp(grid, t, rr)
    x = x - np.polyval(np.polyfit(grid - grid[0], x, 1), grid - grid[0])
    x = x * np.hanning(len(x))
    spec = np.abs(np.fft.rfft(x, nfft)) ** 2
    freqs = np.fft.rfftfreq(nfft, 1 / fs)
    return freqs, spec


def coherence_from_spectrum(freqs: np.ndarray, spec: np.ndarray) -> tuple[float, float, float]:
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

    def add_beat(self, t: float, rr_ticks: int, after_gap: bool = False) -> list[LabelledBeat]:
        """Feed one beat; returns the beats whose label became final (usually the previous one)."""
        return self._take(self.classifier.push(t, rr_ticks, after_gap))

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

    def recent_dominant_hz(self, window_s: float = 32.0) -> float | None:
        """The strongest HR oscillation of the last ``window_s`` seconds (see the function)."""
        if not self._recent:
            return None
        ct, crr = corrected_series(list(self._recent))
        return recent_dominant_hz(ct, np.asarray(crr) * MS_PER_TICK, self._recent[-1].t, window_s)

    def compute_spectral(self, t: float) -> SpectralMetrics | None:
        if not self._recent:
            return None
        end = self._recent[-1].t
        ct, crr = corrected_series(list(self._recent))
        ct_a = np.asarray(ct)
        crr_ms = np.asarray(crr) * MS_PER_TICK
        sp = coherence_spectrum(ct_a, crr_ms, end, self.cfg.coherence_window_s, self.cfg.coherence_fs)
        if sp is None:
            return None
        coh, f_dom, f_br = coherence_from_spectrum(*sp)
        nn = [b for b in self._recent if b.is_nn and b.t > end - self.cfg.lf_window_s]
        lf, hf = lf_hf([b.t for b in nn], [b.rr_ms for b in nn])
        return SpectralMetrics(t, coh, f_dom, 60.0 * f_br, lf, hf)


def recent_dominant_hz(t_s: Sequence[float], rr_ms: Sequence[float], end_t: float, window_s: float = 32.0,
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


@dataclass
class RecordingAnalysis:
    beats: list[LabelledBeat]
    metrics: dict[str, float]

    @property
    def flagged(self) -> list[LabelledBeat]:
        return [b for b in self.beats if not b.is_nn]


def analyze_recording(rr_ticks: Sequence[int], beat_t: Sequence[float] | None = None,
                      after_gap: Sequence[bool] | None = None, correct: bool = True,
                      config: HrvConfig | None = None) -> RecordingAnalysis:
    """Whole-recording metrics (offline, same classifier). ``correct=False``: the series as given.

    Time-domain values are over NN intervals (or all RR without correction); successive
    differences never span a flagged beat or a gap. LF/HF: Lomb-Scargle over the whole recording.
    """
    cfg = config or HrvConfig()
    if correct:
        beats = classify_series(rr_ticks, beat_t, after_gap, cfg.artefacts)
    else:
        if beat_t is None:
            beat_t = (np.cumsum(np.asarray(rr_ticks, dtype=np.int64)) / TICKS_PER_SECOND).tolist()
        beats = [LabelledBeat(i, float(beat_t[i]), int(r),
                              BeatLabel.GAP if (after_gap is not None and after_gap[i]) else BeatLabel.NORMAL,
                              float(r), bool(after_gap[i]) if after_gap is not None else False)
                 for i, r in enumerate(rr_ticks)]
    td = _TimeDomain(math.inf)
    for b in beats:
        td.add(b)
    m = td.metrics(beats[-1].t if beats else 0.0)
    nn = [b for b in beats if b.is_nn]
    lf, hf = lf_hf([b.t for b in nn], [b.rr_ms for b in nn])
    metrics = {
        "n_beats": len(beats),
        "n_nn": m.n_nn,
        "duration_s": float(sum(b.rr_ticks for b in beats) / TICKS_PER_SECOND),
        "mean_nn_ms": m.mean_nn_ms,
        "mean_hr_bpm": m.hr_bpm,
        "sdnn_ms": m.sdnn_ms,
        "rmssd_ms": m.rmssd_ms,
        "pnn50_pct": m.pnn50_pct,
        "lf_ms2": lf,
        "hf_ms2": hf,
        "lf_hf": lf / hf if hf and hf > 0 and not math.isnan(hf) else math.nan,
    }
    return RecordingAnalysis(beats, metrics)
