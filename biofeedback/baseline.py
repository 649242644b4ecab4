"""The person's resting reference: one :class:`Baseline` for the session's quiet start, the calm score
and the stored profile, and the quiet opening phase that measures it.

A quiet baseline phase (:class:`BaselinePhase`, about 1-2 minutes of breathing as you are) opens
each session; its medians are what "calmer" and "aroused" are measured against.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from biofeedback.body import BodyReading, known


@dataclass(frozen=True, slots=True)
class Baseline:
    """The person's resting reference: heart rate, and RMSSD and coherence where they were measured."""

    hr_bpm: float
    rmssd_ms: float | None = None
    coherence: float = 0.0

    def to_dict(self) -> dict[str, float | None]:
        return {"hr_bpm": self.hr_bpm, "rmssd_ms": self.rmssd_ms, "coherence": self.coherence}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Baseline:
        """A stored baseline (profile, earlier session); raises ValueError/KeyError/TypeError when unusable."""
        b = cls(float(d["hr_bpm"]), float(d["rmssd_ms"]), float(d.get("coherence") or 0.0))
        if not (b.hr_bpm > 0 and b.rmssd_ms is not None and b.rmssd_ms > 0 and b.coherence >= 0):
            raise ValueError(f"baseline needs positive hr_bpm and rmssd_ms, got {dict(d)}")
        return b


class BaselinePhase:
    """The quiet opening phase: breathe as you are, no pacer, no prompts.

    It ends after ``min_s`` once heart rate has been steady for the last ``steady_s`` (spread of
    the per-second heart rate within ``steady_bpm``), and at ``max_s`` in any case. The baseline
    is the median heart rate and RMSSD of the second half of the phase (the first half often still
    carries the walk to the bed or the fiddling with the strap).
    """

    def __init__(self, min_s: float = 60.0, max_s: float = 120.0, steady_s: float = 30.0, steady_bpm: float = 8.0):
        if not 0 < min_s <= max_s:
            raise ValueError("baseline needs 0 < min_s <= max_s")
        self.min_s, self.max_s, self.steady_s, self.steady_bpm = min_s, max_s, steady_s, steady_bpm
        self._t0: float | None = None
        self._readings: list[BodyReading] = []
        self.result: Baseline | None = None
        self.done = False

    def start(self, t: float) -> None:
        self._t0 = t

    def update(self, t: float, reading: BodyReading | None = None) -> bool:
        """Feed a reading; True once the phase is over (``result`` then holds the baseline, or None
        when no usable heart rate came in: the safety detector then cannot run)."""
        if self._t0 is None:
            self._t0 = t
        if self.done:
            return True
        if reading is not None:
            self._readings.append(reading)
        elapsed = t - self._t0
        if elapsed >= self.max_s or (elapsed >= self.min_s and self._steady(t)):
            self.done = True
            self.result = self._compute(t)
        return self.done

    def end_early(self) -> None:
        """The person skipped the quiet start: it ends at the next update, with what it has."""
        self.min_s = self.max_s = 0.0

    def _steady(self, t: float) -> bool:
        recent = [r.hr_bpm for r in self._readings if r.t >= t - self.steady_s and known(r.hr_bpm)]
        if len(recent) < max(5, int(self.steady_s / 2)):
            return False
        return max(recent) - min(recent) <= self.steady_bpm

    def _compute(self, t: float) -> Baseline | None:
        assert self._t0 is not None
        half = self._t0 + (t - self._t0) / 2
        late = [r for r in self._readings if r.t >= half] or self._readings
        hrs = [r.hr_bpm for r in late if known(r.hr_bpm) and r.hr_bpm > 0]
        if not hrs:
            return None
        rm = [r.rmssd_ms for r in late if known(r.rmssd_ms) and r.rmssd_ms > 0]
        return Baseline(statistics.median(hrs), statistics.median(rm) if rm else None)
