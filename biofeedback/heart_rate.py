"""Heart rate as a person feels it: beat to beat, "now" (a short median), and its swing per breath.

Why here and not in the runner: these are numbers with definitions worth testing on their own.

* **Beat to beat.** ``60000 / RR`` of every NN beat is the wave that rises on the inhale and falls
  on the exhale, the very signal HRV biofeedback shows. A flagged beat or a gap leaves a hole
  (NaN) rather than a line drawn through it.
* **Now.** The median of the last few NN beats (5 by default): one ectopic or a missed beat does
  not move it, a real change shows within a few beats. The 60-s mean of the time-domain window
  belongs to the calm score and the per-phase tables, not to "your heart rate".
* **Swing.** Peak-to-trough heart rate per breath at a given rate, the resonance assessment's
  measure (Lehrer: at resonance the swing grows several-fold).
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MS_PER_MIN = 60000.0


@dataclass(frozen=True, slots=True)
class HeartRateConfig:
    now_beats: int = 5
    """How many NN beats the "heart rate now" median spans."""
    history_beats: int = 4000
    """NN beats kept for the assessment's swing (about an hour)."""


class HeartRateNow:
    """Feed labelled beats; read the short-median heart rate and the recent beat-to-beat points."""

    def __init__(self, config: HeartRateConfig | None = None) -> None:
        self.config = config or HeartRateConfig()
        self._recent: deque[float] = deque(maxlen=self.config.now_beats)
        self.history: deque[tuple[float, float]] = deque(maxlen=self.config.history_beats)
        """(beat time s, bpm) of NN beats, oldest first."""
        self.bpm: float | None = None
        """The short median of the last ``now_beats`` NN beats, or None before the first."""

    def add(self, t: float, rr_ms: float, is_nn: bool) -> float:
        """One labelled beat; returns its beat-to-beat heart rate (NaN for a flagged beat: a hole)."""
        if not is_nn or rr_ms <= 0:
            return math.nan
        bpm = MS_PER_MIN / rr_ms
        self._recent.append(bpm)
        self.history.append((t, bpm))
        self.bpm = statistics.median(self._recent)
        return bpm

    def between(self, start: float, end: float) -> list[tuple[float, float]]:
        return [(t, hr) for t, hr in self.history if start <= t <= end]


def hr_swing(points: Sequence[tuple[float, float]], rate: float) -> float:
    """Mean peak-to-trough heart rate (bpm) over the breaths at ``rate`` breaths/min; NaN when too short.

    ``points`` are (t, bpm) of NN beats; each breath-long slice with at least 3 beats counts."""
    if len(points) < 4:
        return math.nan
    period = 60.0 / rate
    edge = points[0][0] + period
    swings: list[float] = []
    window: list[float] = []
    for t, hr in points:
        if t >= edge:
            if len(window) >= 3:
                swings.append(max(window) - min(window))
            window = []
            while t >= edge:
                edge += period
        window.append(hr)
    return sum(swings) / len(swings) if swings else math.nan


def settled_from(t: Sequence[float] | np.ndarray, hr: Sequence[float] | np.ndarray, below: float,
                 hold_s: float) -> float | None:
    """The first time from which heart rate stayed under ``below`` for at least ``hold_s`` (NaN skipped)."""
    start: float | None = None
    for ti, h in zip(np.asarray(t, float), np.asarray(hr, float)):
        if math.isnan(h):
            continue
        if h < below:
            start = float(ti) if start is None else start
            if ti - start >= hold_s:
                return start
        else:
            start = None
    return None


def median_or_none(values: Sequence[float]) -> float | None:
    """Median of the finite values, None when there are none (e.g. the quiet start's coherence)."""
    finite = [v for v in values if math.isfinite(v)]
    return statistics.median(finite) if finite else None
