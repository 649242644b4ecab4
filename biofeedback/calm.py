"""Calm score 0-100 relative to the person's own baseline.

Formula (documented, monotone in each input)::

    z = a_hr * (hr0 - hr) / hr0           # heart rate settling below baseline raises z
      + a_rm * ln(rmssd / rmssd0)         # more vagal HRV raises z
      + a_co * ln((1 + coh) / (1 + coh0)) # more coherence raises z
    calm = 100 / (1 + exp(-z))            # 50 at baseline, 0..100, smooth

with ``a_hr = 8`` (10 % below baseline HR adds 0.8), ``a_rm = 1`` (doubling RMSSD adds 0.69) and
``a_co = 1``. ``calm`` is strictly decreasing in ``hr`` and strictly increasing in ``rmssd`` and
``coherence`` (each term is, and the logistic is increasing).

Inputs come from the corrected (NN-only) series, so one ectopic beat barely moves them; on top,
:class:`CalmTracker` smooths each input with an exponential moving average in time
(``tau_s`` = 20 s), so a single odd beat moves the score by well under a point.

Baseline: the first quiet minutes of a session (:class:`BaselineBuilder`: medians of HR, RMSSD and
coherence over ``baseline_s`` seconds), or a stored ``{"hr_bpm", "rmssd_ms", "coherence"}`` dict
(:meth:`biofeedback.baseline.Baseline.from_dict`).
"""

from __future__ import annotations

import math
from statistics import median

from biofeedback.baseline import Baseline

A_HR = 8.0
A_RMSSD = 1.0
A_COH = 1.0


def calm_score(hr_bpm: float, rmssd_ms: float, coherence: float, baseline: Baseline) -> float:
    """The formula of the module docstring, 0-100 (50 = baseline)."""
    if not baseline.rmssd_ms:
        raise ValueError("the calm score needs a baseline with RMSSD")
    z = (A_HR * (baseline.hr_bpm - hr_bpm) / baseline.hr_bpm
         + A_RMSSD * math.log(max(rmssd_ms, 1e-3) / baseline.rmssd_ms)
         + A_COH * math.log((1.0 + max(coherence, 0.0)) / (1.0 + baseline.coherence)))
    if z >= 0:
        return 100.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return 100.0 * e / (1.0 + e)


class BaselineBuilder:
    """Collects (t, hr, rmssd[, coherence]) over the first ``baseline_s`` seconds, then medians."""

    def __init__(self, baseline_s: float = 120.0) -> None:
        self.baseline_s = baseline_s
        self._t0: float | None = None
        self._hr: list[float] = []
        self._rm: list[float] = []
        self._co: list[float] = []

    def add(self, t: float, hr_bpm: float | None = None, rmssd_ms: float | None = None,
            coherence: float | None = None) -> Baseline | None:
        """Add what is known at time ``t``; returns the baseline once the period is over."""
        if self._t0 is None:
            self._t0 = t
        for v, acc in ((hr_bpm, self._hr), (rmssd_ms, self._rm), (coherence, self._co)):
            if v is not None and math.isfinite(v):
                acc.append(v)
        if t - self._t0 >= self.baseline_s and self._hr and self._rm:
            return Baseline(median(self._hr), median(self._rm), median(self._co) if self._co else 0.0)
        return None


class CalmTracker:
    """Smoothed inputs -> calm score. Call :meth:`update` per beat and/or per 5-s spectrum."""

    def __init__(self, baseline: Baseline, tau_s: float = 20.0) -> None:
        if not baseline.rmssd_ms:
            raise ValueError("the calm score needs a baseline with RMSSD")
        self.baseline = baseline
        self.tau_s = tau_s
        self._t: float | None = None
        self.hr = baseline.hr_bpm
        self.rmssd: float = baseline.rmssd_ms
        self.coherence = baseline.coherence
        self.score = 50.0

    def update(self, t: float, hr_bpm: float | None = None, rmssd_ms: float | None = None,
               coherence: float | None = None) -> float:
        dt = 0.0 if self._t is None else max(0.0, t - self._t)
        self._t = t
        alpha = 1.0 - math.exp(-dt / self.tau_s) if self.tau_s > 0 else 1.0
        if hr_bpm is not None and math.isfinite(hr_bpm):
            self.hr += alpha * (hr_bpm - self.hr)
        if rmssd_ms is not None and math.isfinite(rmssd_ms) and rmssd_ms > 0:
            self.rmssd += alpha * (rmssd_ms - self.rmssd)
        if coherence is not None and math.isfinite(coherence):
            # coherence arrives every 5 s only: smooth with its own step
            a5 = 1.0 - math.exp(-5.0 / self.tau_s)
            self.coherence += a5 * (coherence - self.coherence)
        self.score = calm_score(self.hr, self.rmssd, self.coherence, self.baseline)
        return self.score
