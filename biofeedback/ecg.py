"""Causal R-peak detection in a live ECG (the Polar H10's 130 Hz PMD stream), beat times to the sample.

Why our own: the live session needs beats as the samples arrive, with a bounded delay, from a pure
object that the runner, a replay and a whole-file analysis share. Offline detectors (neurokit2's
``ecg_peaks``) look at the whole signal, so they cannot run live.

The method is of the Pan-Tompkins family (Pan & Tompkins 1985; Hamilton & Tompkins 1986):

1. band-pass 5-15 Hz (2nd-order Butterworth, causal), where the QRS has its energy and the P and T
   waves, baseline wander and mains hum have little;
2. a five-point derivative, squared, integrated over 150 ms: one smooth hump per QRS;
3. a hump's top is confirmed when no higher one follows within ``confirm_s``; it is a beat when it is
   above ``noise + 0.25 (signal - noise)``, both levels running averages of the tops taken as beats
   and as noise, and more than the refractory 200 ms after the last beat. A top within 450 ms of the
   last beat whose steepest slope is under 0.8 of the last beat's is a T wave (Pan-Tompkins: 360 ms
   and half; the H10's chest lead and MIT-BIH's V5 leads have steep, late T waves);
4. search-back: when no beat has come for 1.66 mean RR, the highest top since the last beat above
   half the threshold that is not a T wave is taken (late, but not lost);
5. the beat time is the largest deflection of the ECG (high-passed at 0.5 Hz) within 55 ms of the
   steepest band-passed slope in the QRS window before the confirmed top (its filter delay taken
   off), the person's usual polarity weighted 1 and the other 0.7 (so an RSR' or a deep S wave beside
   a tall R stays on the R, a negative-QRS lead stays on its negative peak, and a slow wave after a
   wide or paced QRS is not taken for it: the anchor moved 100-124 from 99.06/99.01 % to
   99.33/99.23 % Se/+P within 50 ms).

Latency: a beat is reported at most ``confirm_s`` (0.15 s) plus the integrator's lag (about 0.15 s)
after its R peak, except when found by search-back and in the first ``learn_s`` (2 s), which set the
levels and are then looked at once.

Bench (MIT-BIH records 100-124 resampled to 130 Hz, the H10's real ECG against its own RR, and
neurokit2 in the same run)::

    .venv/bin/python bench/bench_ecg.py
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy import signal

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class EcgDetectorConfig:
    band_hz: tuple[float, float] = (5.0, 15.0)
    integration_s: float = 0.15
    confirm_s: float = 0.15
    refractory_s: float = 0.2
    t_wave_s: float = 0.45
    t_wave_slope: float = 0.8
    learn_s: float = 2.0
    search_back_factor: float = 1.66
    threshold_share: float = 0.25
    stale_beats: float = 3.0
    qrs_window_s: float = 0.25
    other_polarity_weight: float = 0.7
    anchor_s: float = 0.055
    anchor_lag_s: float = 0.054  # band-pass group delay near 10 Hz (about 5 samples at 130 Hz) + derivative


@dataclass(frozen=True, slots=True)
class RPeak:
    """One detected beat: its sample index in the stream, time in seconds from the first sample,
    and whether it was found late by search-back."""

    index: int
    t_s: float
    search_back: bool = False


@dataclass(slots=True)
class _Top:
    index: int
    value: float
    slope: float


@dataclass(slots=True)
class RPeakDetector:
    """Feed ECG samples (any unit, any chunk size) in order; get the R peaks found so far.

    ``feed`` returns the beats confirmed by the samples just given, in time order.
    """

    fs: float
    config: EcgDetectorConfig = field(default_factory=EcgDetectorConfig)
    _n: int = 0
    _band: FloatArray = field(init=False)
    _band_zi: FloatArray = field(init=False)
    _hp: FloatArray = field(init=False)
    _hp_zi: FloatArray = field(init=False)
    _deriv_tail: FloatArray = field(init=False)
    _integ: deque[float] = field(init=False)
    _integ_sum: float = 0.0
    _ecg: deque[float] = field(init=False)
    _slope: deque[float] = field(init=False)
    _polarity: float = 0.0
    _prev: float = 0.0
    _rising: bool = False
    _cand: _Top | None = None
    _tops_since_beat: list[_Top] = field(default_factory=list)
    _learning: list[float] = field(default_factory=list)
    _learned: bool = False
    _signal: float = 0.0
    _noise: float = 0.0
    _last_beat: int | None = None
    _quiet_from: int | None = None
    _last_slope: float = 0.0
    _rr: deque[int] = field(init=False)
    _out: list[RPeak] = field(default_factory=list)

    def __post_init__(self) -> None:
        nyq = self.fs / 2
        lo, hi = self.config.band_hz
        self._band = signal.butter(2, [lo / nyq, min(hi / nyq, 0.95)], btype="bandpass", output="sos")
        self._band_zi = np.zeros((self._band.shape[0], 2))
        self._hp = signal.butter(1, 0.5 / nyq, btype="highpass", output="sos")
        self._hp_zi = np.zeros((self._hp.shape[0], 2))
        self._deriv_tail = np.zeros(4)
        self._integ = deque(maxlen=max(1, round(self.config.integration_s * self.fs)))
        # the recent past the decisions look back into (the learning replay reaches back learn_s)
        keep = round((self.config.learn_s + self.config.qrs_window_s + self.config.integration_s
                      + self.config.confirm_s) * self.fs) + 8
        self._ecg = deque(maxlen=keep)
        self._slope = deque(maxlen=keep)
        self._rr = deque(maxlen=8)

    # --- the signal chain, vectorised per chunk -----------------------------------------------
    def feed(self, samples: FloatArray | list[float]) -> list[RPeak]:
        x = np.asarray(samples, dtype=np.float64)
        if x.size == 0:
            return []
        if self._n == 0:  # start the high-pass settled on the first value, not on a step from zero
            self._hp_zi = signal.sosfilt_zi(self._hp) * x[0]
        band, self._band_zi = signal.sosfilt(self._band, x, zi=self._band_zi)
        hp, self._hp_zi = signal.sosfilt(self._hp, x, zi=self._hp_zi)
        ext = np.concatenate([self._deriv_tail, band])
        # five-point derivative (Pan-Tompkins): (2x[n] + x[n-1] - x[n-3] - 2x[n-4]) / 8
        deriv = (2 * ext[4:] + ext[3:-1] - ext[1:-3] - 2 * ext[:-4]) / 8.0
        self._deriv_tail = ext[-4:]
        self._out = []
        for d, e in zip(deriv.tolist(), hp.tolist(), strict=True):
            self._step(d, e)
        return self._out

    def _step(self, d: float, e: float) -> None:
        sq = d * d
        if len(self._integ) == self._integ.maxlen:
            self._integ_sum -= self._integ[0]
        self._integ.append(sq)
        self._integ_sum += sq
        y = self._integ_sum / len(self._integ)
        self._ecg.append(e)
        self._slope.append(abs(d))
        n = self._n
        self._n += 1
        if not self._learned:
            self._learning.append(y)
            if self._n >= self.config.learn_s * self.fs:
                self._learn()
            return
        self._sample(n, y)

    # --- decisions, per sample -------------------------------------------------------------------
    def _learn(self) -> None:
        values = np.asarray(self._learning)
        self._signal = float(values.max()) / 3
        self._noise = float(values.mean()) / 2
        self._learned = True
        start = self._n - len(values)
        # the decision buffers only hold the recent past; replay only the levels and tops
        for i, y in enumerate(values.tolist()):
            self._sample(start + i, y)
        self._learning = []

    def _threshold(self) -> float:
        return self._noise + self.config.threshold_share * (self._signal - self._noise)

    def _sample(self, n: int, y: float) -> None:
        if self._rising and y < self._prev:
            top = _Top(n - 1, self._prev, self._recent_slope(n - 1))
            if self._cand is None or top.value > self._cand.value:
                self._cand = top
        self._rising = y > self._prev if y != self._prev else self._rising
        self._prev = y
        if self._cand is not None and n - self._cand.index >= self.config.confirm_s * self.fs:
            self._decide(self._cand)
            self._cand = None
        self._search_back(n)

    def _recent_slope(self, index: int) -> float:
        back = self._n - 1 - index
        span = round(self.config.integration_s * self.fs)
        slopes = list(self._slope)
        hi = len(slopes) - back
        lo = max(0, hi - 1 - span)
        return max(slopes[lo:hi], default=0.0)

    def _decide(self, top: _Top) -> None:
        since = None if self._last_beat is None else top.index - self._last_beat
        if since is not None and since < self.config.refractory_s * self.fs:
            return
        if top.value > self._threshold():
            if not self._t_wave(top):
                if self._beat(top, search_back=False):
                    self._signal = 0.125 * top.value + 0.875 * self._signal
                return
        self._noise = 0.125 * top.value + 0.875 * self._noise
        self._tops_since_beat.append(top)
        if len(self._tops_since_beat) > 32:  # a long stretch without beats: keep the recent tops only
            del self._tops_since_beat[0]

    def _t_wave(self, top: _Top) -> bool:
        """Soon after a beat and much less steep than it: the T wave, not a beat."""
        if self._last_beat is None:
            return False
        soon = top.index - self._last_beat < self.config.t_wave_s * self.fs
        return soon and top.slope < self.config.t_wave_slope * self._last_slope

    def _search_back(self, n: int) -> None:
        if self._last_beat is None or len(self._rr) < 2:
            return
        mean_rr = sum(self._rr) / len(self._rr)
        if n - self._last_beat < self.config.search_back_factor * mean_rr:
            return
        half = 0.5 * self._threshold()
        floor = self._last_beat + self.config.refractory_s * self.fs
        found = [t for t in self._tops_since_beat if t.value > half and t.index >= floor and not self._t_wave(t)]
        if found:
            best = max(found, key=lambda t: t.value)
            self._tops_since_beat = [t for t in self._tops_since_beat if t.index > best.index]
            if self._beat(best, search_back=True):
                self._signal = 0.25 * best.value + 0.75 * self._signal
        elif n - (self._quiet_from or self._last_beat) > self.config.stale_beats * mean_rr:
            # nothing at all for a few beats: the levels are stale (a loud artefact, a smaller QRS
            # after the strap moved, a lost contact); let them fall, and keep the RR history clean
            self._signal *= 0.5
            self._quiet_from = n

    def _beat(self, top: _Top, search_back: bool) -> bool:
        """Take a top as a beat; False when its R lies within the refractory time of the last beat
        (the same QRS seen twice)."""
        index = self._r_location(top.index)
        if self._last_beat is not None:
            if index - self._last_beat < self.config.refractory_s * self.fs:
                return False
            if self._quiet_from is None:
                self._rr.append(index - self._last_beat)
        self._last_beat = index
        self._quiet_from = None
        self._last_slope = top.slope
        self._tops_since_beat = []
        self._out.append(RPeak(index, index / self.fs, search_back))
        return True

    def _r_location(self, top_index: int) -> int:
        """The R peak behind an integrator top: the largest deflection of the high-passed ECG in the
        QRS window before the top, the person's usual polarity preferred (an RSR' or a deep S wave
        beside a tall R stays on the R; a negative QRS lead stays negative)."""
        span = round(self.config.qrs_window_s * self.fs)
        end = len(self._ecg) - (self._n - 1 - top_index)  # one past the top in the buffers
        lo = max(0, end - span)
        if end <= lo:
            return top_index
        ecg = list(self._ecg)
        base = float(np.median(ecg[max(0, end - 2 * span):end]))
        top_end = end
        if self.config.anchor_s > 0:  # only near the steepest slope: a slow wave after the QRS is not the R
            slopes = list(self._slope)[lo:end]
            a = lo + int(np.argmax(slopes)) - round(self.config.anchor_lag_s * self.fs)
            half = round(self.config.anchor_s * self.fs)
            lo, end = max(0, a - half), max(min(end, a + half + 1), max(0, a - half) + 1)
        window = np.asarray(ecg[lo:end]) - base
        weak = self.config.other_polarity_weight
        usual, other = (1.0, weak) if self._polarity >= 0 else (weak, 1.0)
        score = np.where(window > 0, usual * window, -other * window)
        k = int(np.argmax(score))
        self._polarity = 0.9 * self._polarity + 0.1 * (1.0 if window[k] > 0 else -1.0)
        return top_index - (top_end - 1 - (lo + k))


def detect_r_peaks(ecg: FloatArray | list[float], fs: float, config: EcgDetectorConfig | None = None,
                   chunk: int = 73) -> list[RPeak]:
    """The live detector run over a whole signal in notification-sized chunks (same beats as live)."""
    det = RPeakDetector(fs, config or EcgDetectorConfig())
    x = np.asarray(ecg, dtype=np.float64)
    out: list[RPeak] = []
    for start in range(0, x.size, chunk):
        out.extend(det.feed(x[start:start + chunk]))
    return sorted(out, key=lambda p: p.index)
