"""What a Polar H10 streams besides RR, turned into what the session uses: ECG beat classes, measured breathing.

Why a module of its own: the runner stays one loop over items; here the ECG chunks go through the
beat classifier (:mod:`biofeedback.beat_morphology`) and are paired with the strap's beats
(:class:`biofeedback.ecg_match.BeatMatcher`), and the chest accelerometer goes through the breathing
estimator (:mod:`biofeedback.chest_breathing`). A strap without ECG or ACC never creates these, and
the session runs exactly as before.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from biofeedback.beat_morphology import EcgBeatClassifier, is_clear_normal
from biofeedback.chest_breathing import Breath, ChestBreathing, PacerHistory
from biofeedback.ecg_match import BeatMatcher, MatchedBeat, OrphanEcgBeat, SampleClock
from devices.stream import AccChunk, EcgChunk

ECG_DELAY_S = 0.5
"""How far behind the newest sample the classifier's beats are final (its detector reports within
about 0.3 s; a beat found by search-back comes later and is counted as the ECG's alone)."""
FS_CHANGE = 0.01
"""A new sample rate only when it differs by more than this share: a strap's measured rate moves by a
few hundredths of a hertz from chunk to chunk as its clock is steered, and must not restart the classifier."""
LEARN_HOLD_S = 15.0
"""After the ECG (re)starts, the classifier learns the person's beat shape from its first dozen beats
before it labels any: the strap's beats wait for those labels this long at most, so the first beats
are paired like the rest (the heart-rate curve starts that much later, once per session or gap)."""
ECG_STALE_S = 3.0
"""No ECG chunk for this long: the strap's beats go on without waiting for it."""
BREATH_STALE_S = 10.0
"""No accelerometer chunk for this long: the measured breathing is no longer current."""


class EcgBeats:
    """ECG chunks -> classified beats on the session clock -> paired with the strap's beats."""

    def __init__(self) -> None:
        self.matcher = BeatMatcher()
        self._classifier: EcgBeatClassifier | None = None
        self._clock = SampleClock()
        self._fs = math.nan
        self._labelled = False
        self.last_t = -math.inf
        self.chunks = 0

    def feed(self, chunk: EcgChunk) -> None:
        n = len(chunk.samples_uv)
        if not n:
            return
        if self._classifier is not None and chunk.after_gap and abs(chunk.fs - self._fs) <= FS_CHANGE * self._fs:
            self._bridge_gap(chunk)
        if self._classifier is None or not abs(chunk.fs - self._fs) <= FS_CHANGE * self._fs:
            # A new stream (or a new rate): the classifier learns the person's beat shape afresh.
            self._classifier = EcgBeatClassifier(chunk.fs)
            self._clock = SampleClock()
            self._fs = chunk.fs
            self.matcher.ecg_gap(chunk.t - (n - 1) / chunk.fs)
            self.matcher.hold_until(chunk.t + LEARN_HOLD_S)
            self._labelled = False
        self._clock.add(n, chunk.t, chunk.fs)
        for beat in self._classifier.feed(np.asarray(chunk.samples_uv, dtype=float)):
            self.matcher.add_ecg(self._clock.time_of(beat.index), beat.label, is_clear_normal(beat))
            if not self._labelled:
                self._labelled = True
                self.matcher.hold_until(-math.inf)
        if self._labelled:  # while it learns, the classifier has not finished with what it has seen
            self.matcher.ecg_covered(chunk.t - ECG_DELAY_S)
        self.last_t = chunk.t
        self.chunks += 1

    def _bridge_gap(self, chunk: EcgChunk) -> None:
        """Lost frames or a reconnect: the detector restarts, the beat shape it learned is kept (no second
        learning, no strap beats held for it), and the samples that never came are counted on the clock so
        that sample indices keep telling time."""
        assert self._classifier is not None
        start = chunk.t - (len(chunk.samples_uv) - 1) / chunk.fs
        missing = max(0.0, start - self.last_t - 1.0 / self._fs) if math.isfinite(self.last_t) else 0.0
        for beat in self._classifier.gap(missing):  # beats still pending before the break
            self.matcher.add_ecg(self._clock.time_of(beat.index), beat.label, is_clear_normal(beat))
        self._clock.skip(round(missing * self._fs))
        self.matcher.ecg_gap(start)

    def live(self, now: float) -> bool:
        return now - self.last_t < ECG_STALE_S

    def release(self, now: float) -> tuple[list[MatchedBeat], list[OrphanEcgBeat]]:
        """Strap beats ready for the artefact handling (all of them once the ECG stopped), and ECG-only beats."""
        beats = self.matcher.release(now) if self.live(now) else self.matcher.flush()
        return beats, self.matcher.take_orphans()

    def flush(self) -> tuple[list[MatchedBeat], list[OrphanEcgBeat]]:
        return self.matcher.flush(), self.matcher.take_orphans()


@dataclass
class BreathReading:
    """The measured breathing now (None where unknown)."""

    rate_bpm: float | None = None
    depth: float | None = None
    moving: bool = False
    phase_lag_s: float | None = None
    rate_match: float | None = None
    """Measured rate / pacer rate (1 = the same)."""
    following: bool = False
    """The breath follows the pacer: rate within 10 %, lag within a quarter breath, steadily."""
    direction_known: bool = False
    """Which way is in is established: only then are the phase, the ring and the following figures given."""


class ChestBreath:
    """Chest accelerometer chunks -> breaths, rate, depth, motion, and how closely the pacer is followed."""

    def __init__(self, estimator: ChestBreathing, history: PacerHistory) -> None:
        self.est = estimator
        self.history = history
        """The pacer's phase over the last minute and a half (the follow figures look back at breath starts)."""
        self.last_t = -math.inf
        self.chunks = 0
        self.now = BreathReading()

    @staticmethod
    def create(fs: float) -> ChestBreath:
        return ChestBreath(ChestBreathing(fs), PacerHistory())

    def pacer_seen(self, t: float, phase: float) -> None:
        self.history.add(t, phase)

    def phase_at(self, t: float) -> tuple[str | None, float]:
        """Inhale/exhale and how far into it (0-1) at ``t``, from the chest; (None, 0) when not known.

        Not known includes: which way is in is not established (a ring moving against the breath is worse
        than none), so the window's ring and its line about following come and go with it.
        """
        if not self.current(t) or not self.est.direction_established:
            return None, 0.0
        kind, progress = self.est.phase(t)
        return kind, float(progress)

    def feed(self, chunk: AccChunk) -> list[Breath]:
        """The breaths completed by this chunk (as the estimator reports them)."""
        self.last_t = chunk.t
        self.chunks += 1
        return self.est.feed(chunk.t, np.asarray(chunk.samples_mg, dtype=float).reshape(-1, 3))

    def current(self, now: float) -> bool:
        return now - self.last_t < BREATH_STALE_S

    def reading(self, now: float, pacer_rate: float | None) -> BreathReading:
        if not self.current(now):
            self.now = BreathReading()
            return self.now
        moving = self.est.moving
        rate = _finite(self.est.rate_per_min)
        depth = _finite(self.est.depth)
        out = BreathReading(rate_bpm=None if moving else rate, depth=None if moving else depth, moving=moving)
        if pacer_rate is not None and not moving and rate is not None:
            try:
                self.est.learn_from_pacer(pacer_rate, self.history)  # a breath that follows the pacer shows which way is in
                follow = self.est.follow(pacer_rate, self.history)
            except ValueError:  # no pacer phase seen yet
                follow = None
            if follow is not None:
                out.phase_lag_s, out.rate_match = _finite(follow.lag_s), _finite(follow.rate_match)
                out.following = bool(follow.following)
            elif pacer_rate > 0:  # which way is in not established: the rate still compares, the lag does not
                out.rate_match = rate / pacer_rate
        out.direction_known = self.est.direction_established and not moving
        self.now = out
        return out


def _finite(value: float | None) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None
