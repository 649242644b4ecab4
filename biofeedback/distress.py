"""Safety: a separate, conservative detector of *sustained* distress.

It looks for heart rate well above the person's own baseline for about 10 s, or RMSSD collapsing
while heart rate is up. One artefact beat or a 3-second bump (a cough, turning over) must not
interrupt someone's exercise, but a real rise must be answered within 20 s. It has hysteresis
(a lower "clear" threshold that must hold for 30 s) so it does not flap.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass

from biofeedback.baseline import Baseline
from biofeedback.body import BodyReading, known


@dataclass(frozen=True, slots=True)
class DistressConfig:
    rise_bpm: float = 15.0
    rise_frac: float = 0.25
    """Heart rate counts as high above baseline + min(rise_bpm, rise_frac x baseline)."""
    sustain_s: float = 10.0
    """How long the evidence must cover before distress is declared."""
    window_s: float = 12.0
    """Evidence window; within it at least ``share`` of the readings must be high."""
    share: float = 0.8
    rmssd_frac: float = 0.5
    """RMSSD counts as collapsed below this fraction of baseline ..."""
    rmssd_hr_rise_bpm: float = 8.0
    """... when heart rate is also up by at least this much."""
    clear_rise_bpm: float = 8.0
    """Distress clears once heart rate stays below baseline + this ..."""
    clear_s: float = 30.0
    """... for this long (the hysteresis)."""
    max_gap_s: float = 4.0
    """Readings further apart than this break the evidence (no strap, no judgement)."""
    settled_window_s: float = 180.0
    settled_skip_s: float = 30.0
    settled_quantile: float = 0.25
    """Someone who has settled well below the session's baseline is judged against where they
    settled: the lower quartile of heart rate over the last 3 minutes (leaving out the last 30 s,
    which may already be the rise). A rise from 60 to 85 bpm is alarming even if the baseline was 75."""


class DistressState(enum.Enum):
    CALM = "calm"
    DISTRESS = "distress"


@dataclass(frozen=True, slots=True)
class DistressOnset:
    """What the detector decided on when it declared distress (recorded with the event)."""

    hr_bpm: float
    """The short-window heart rate of the reading that tipped it."""
    peak_hr_bpm: float
    """The highest heart rate in the evidence window."""
    threshold_bpm: float
    reference_hr_bpm: float
    """The resting level the rise was measured from (the baseline, or lower where the person settled)."""
    baseline_hr_bpm: float
    rmssd_ms: float | None
    baseline_rmssd_ms: float | None


class DistressDetector:
    """Sustained-distress detector with hysteresis; feed it readings, read back transitions.

    ``update(reading)`` returns ``DistressState.DISTRESS`` at the moment distress starts,
    ``DistressState.CALM`` at the moment it clears, and None otherwise; ``state`` holds the
    current state. Without a baseline it never fires (it cannot tell high from normal).
    """

    def __init__(self, baseline: Baseline | None, config: DistressConfig | None = None) -> None:
        self.baseline = baseline
        self.config = config or DistressConfig()
        self.state = DistressState.CALM
        self._window: deque[tuple[float, bool, float]] = deque()  # (t, evidence, hr)
        self._calm_since: float | None = None
        self.onset_t: float | None = None
        self.onset: DistressOnset | None = None
        self._history: deque[tuple[float, float]] = deque()

    @property
    def reference_hr(self) -> float:
        """The resting level a rise is measured from: the baseline, or lower where the person settled."""
        assert self.baseline is not None
        cfg = self.config
        if not self._history:
            return self.baseline.hr_bpm
        end = self._history[-1][0] - cfg.settled_skip_s
        settled = sorted(hr for t, hr in self._history if t <= end)
        if len(settled) < 30 or end - self._history[0][0] < 60.0:
            return self.baseline.hr_bpm
        return min(self.baseline.hr_bpm, settled[int(cfg.settled_quantile * (len(settled) - 1))])

    @property
    def high_hr(self) -> float:
        """Heart rate above which a reading counts as distress evidence."""
        b = self.reference_hr
        return b + min(self.config.rise_bpm, self.config.rise_frac * b)

    def _evidence(self, r: BodyReading) -> bool | None:
        b, cfg = self.baseline, self.config
        assert b is not None
        if not known(r.hr_bpm) or r.hr_bpm <= 0:
            return None
        if r.hr_bpm > self.high_hr:
            return True
        if b.rmssd_ms and known(r.rmssd_ms) and r.rmssd_ms < cfg.rmssd_frac * b.rmssd_ms:
            return r.hr_bpm > b.hr_bpm + cfg.rmssd_hr_rise_bpm
        return False

    def update(self, reading: BodyReading) -> DistressState | None:
        if self.baseline is None:
            return None
        cfg = self.config
        ev = self._evidence(reading)
        hr = reading.hr_bpm
        if ev is None or hr is None:
            return None
        t = reading.t
        if self.state is DistressState.CALM:
            self._history.append((t, hr))
            while self._history and self._history[0][0] < t - cfg.settled_window_s:
                self._history.popleft()
        if self._window and t - self._window[-1][0] > cfg.max_gap_s:
            self._window.clear()
        self._window.append((t, ev, hr))
        while self._window and self._window[0][0] < t - cfg.window_s:
            self._window.popleft()

        if self.state is DistressState.CALM:
            span = t - self._window[0][0]
            high = sum(1 for _, e, _ in self._window if e)
            if span >= cfg.sustain_s - 1e-9 and ev and high >= cfg.share * len(self._window):
                self.state = DistressState.DISTRESS
                self.onset_t = t
                b = self.baseline
                self.onset = DistressOnset(hr, max(h for _, _, h in self._window), self.high_hr, self.reference_hr,
                                           b.hr_bpm, reading.rmssd_ms, b.rmssd_ms)
                self._calm_since = None
                return DistressState.DISTRESS
            return None

        assert self.baseline is not None
        below = hr < self.baseline.hr_bpm + cfg.clear_rise_bpm
        if below and self.baseline.rmssd_ms and known(reading.rmssd_ms):
            below = reading.rmssd_ms >= cfg.rmssd_frac * self.baseline.rmssd_ms
        if not below:
            self._calm_since = None
            return None
        if self._calm_since is None:
            self._calm_since = t
        if t - self._calm_since >= cfg.clear_s:
            self.state = DistressState.CALM
            self._window.clear()
            self._calm_since = None
            return DistressState.CALM
        return None
