"""Rhythm check: is the heartbeat too irregular right now for HRV to mean anything (atrial fibrillation)?

Why it is built this way:

* **From RR alone, beat by beat.** A chest strap gives RR intervals, nothing else; the check sees
  every raw RR (flagged beats included: in atrial fibrillation the beats a labeller flags *are* the
  rhythm).
* **Irregular means "not predictable from the last few beats".** Frequent ectopy makes RR jump as
  much as atrial fibrillation does, so the size of the jumps alone cannot tell them apart (RMSSD,
  pNN50 and friends fire on bigeminy). What differs is structure: ectopy is quasi-periodic (two or
  three RR clusters that repeat: bigeminy every 2nd beat, trigeminy every 3rd), a premature beat
  is followed by a compensatory pause, and sinus arrhythmia changes smoothly; in AF each interval
  is close to none of these (the "irregularly irregular" rhythm, cf. Tateno & Glass 2001; Lake &
  Moorman's COSEn 2011 rests on the same unpredictability). So a beat counts as *irregular* when
  its RR differs by more than ``match_frac`` of the running mean RR from each of: the previous
  ``lags`` intervals, and the straight-line extrapolation of the last two; a short-long pair that
  adds up to about two mean intervals (premature beat + compensatory pause) is not irregular.
* **A share over a window, with hysteresis.** The rhythm is irregular when more than ``on_share``
  of the last ``window_beats`` beats are irregular, and stays so until the share falls below
  ``off_share``. About 45 beats: a verdict within half a minute to a minute.
* **One beat late.** A beat's verdict is final when the next beat shows whether it was a premature
  beat with its compensatory pause (like the artefact labeller, which also decides one beat late).
* **O(1) per beat.** A few comparisons and a running count; no arrays, no sorting.

The same class drives the live state and :func:`irregular_stretches` (the offline pass for reports),
so a review marks exactly what the live loop saw. This is not a diagnosis: irregular rhythms have
many causes; the check only says when the heart-rate feedback cannot be trusted.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class RhythmConfig:
    """Every number the check uses; one setting for everyone (tuned on MIT-BIH, see bench_rhythm)."""

    lags: int = 3
    """An RR matching one of the last ``lags`` intervals is regular (3 covers bigeminy and trigeminy)."""
    match_frac: float = 0.05
    """Closer than this share of the mean RR counts as a match."""
    premature_frac: float = 0.1
    """A premature beat is at least this share shorter than the mean RR ..."""
    compensation_frac: float = 0.15
    """... and with the next interval adds up to two mean intervals within this share of one."""
    mean_alpha: float = 0.05
    """Weight of each new RR in the running mean (about 20 beats)."""
    window_beats: int = 45
    """Beats over which the share of irregular beats is taken."""
    on_share: float = 0.3
    """Irregular rhythm when more than this share of the window is irregular ..."""
    off_share: float = 0.3
    """... and regular again when the share falls below this. (A lower value, i.e. hysteresis, held
    ectopy runs in 106/113/119 for extra minutes on MIT-BIH; the window already smooths the share.)"""
    onset_beats: int = 5
    """While regular, the share must stay above ``on_share`` this many beats in a row to turn irregular."""
    release_beats: int = 5
    """While irregular, the share must stay below ``off_share`` this many beats in a row to clear."""
    min_beats: int = 30
    """Beats judged before the first verdict (the share is over the beats so far until the window fills)."""
    max_gap_s: float = 3.0
    """A beat arriving this much later than its RR says starts the history afresh (a lost strap)."""


@dataclass(frozen=True, slots=True)
class RhythmState:
    """``irregular`` since ``since_t`` (beat time, s); ``score`` is the share of irregular beats."""

    irregular: bool
    since_t: float | None
    score: float


class RhythmCheck:
    """Streaming rhythm check (see the module docstring)."""

    def __init__(self, config: RhythmConfig | None = None) -> None:
        self.cfg = config or RhythmConfig()
        self._need = max(self.cfg.lags, 2)  # earlier intervals a verdict compares with
        self._rr: deque[float] = deque(maxlen=self._need)
        self._flags: deque[bool] = deque()
        self._n_irregular = 0
        self._pending: bool | None = None  # the previous beat's verdict, final one beat later
        self._below = 0  # beats in a row below off_share while irregular
        self._above = 0  # beats in a row above on_share while regular
        self._mean: float | None = None
        self._prev_mean = 0.0
        self._last_t: float | None = None
        self._state = RhythmState(False, None, 0.0)

    @property
    def state(self) -> RhythmState:
        return self._state

    def reset(self) -> None:
        """Forget the history (after a gap); the current verdict is kept until enough new beats."""
        self._rr.clear()
        self._flags.clear()
        self._n_irregular = 0
        self._pending = None
        self._mean = None

    def add(self, t_s: float, rr_ms: float) -> RhythmState:
        """One beat: its time (s) and the raw RR ending at it (ms). Returns the new state."""
        cfg = self.cfg
        if self._last_t is not None and t_s - self._last_t > rr_ms / 1000.0 + cfg.max_gap_s:
            self.reset()
        self._last_t = t_s
        mean = rr_ms if self._mean is None else self._mean
        irregular = self._is_irregular(rr_ms, mean)
        if irregular is not None and self._pending is not None and self._ectopic_pair(rr_ms):
            # The previous beat was premature and this one is its compensatory pause: ectopy, not AF.
            self._pending, irregular = False, False
        if self._pending is not None:
            self._push(self._pending)
        self._pending = irregular
        self._rr.append(rr_ms)
        self._prev_mean = mean
        self._mean = mean + cfg.mean_alpha * (rr_ms - mean)
        self._update_state(t_s)
        return self._state

    def _is_irregular(self, rr: float, mean: float) -> bool | None:
        if len(self._rr) < self._need:
            return None
        tol = self.cfg.match_frac * mean
        last, before = self._rr[-1], self._rr[-2]
        if abs(rr - (2.0 * last - before)) <= tol:
            return False
        for k in range(1, self.cfg.lags + 1):
            if abs(rr - self._rr[-k]) <= tol:
                return False
        return True

    def _ectopic_pair(self, rr: float) -> bool:
        """Is the previous interval premature and this one its compensatory pause?"""
        cfg = self.cfg
        ref = self._prev_mean
        short = self._rr[-1]
        return (short < (1.0 - cfg.premature_frac) * ref and rr > short * (1.0 + cfg.premature_frac)
                and abs(short + rr - 2.0 * ref) < cfg.compensation_frac * ref)

    def _push(self, irregular: bool) -> None:
        self._flags.append(irregular)
        self._n_irregular += irregular
        if len(self._flags) > self.cfg.window_beats:
            self._n_irregular -= self._flags.popleft()

    def _update_state(self, t_s: float) -> None:
        cfg = self.cfg
        if len(self._flags) < cfg.min_beats:
            return
        share = self._n_irregular / len(self._flags)
        was = self._state.irregular
        if was:
            self._below = self._below + 1 if share < cfg.off_share else 0
            now = self._below < cfg.release_beats
        else:
            self._above = self._above + 1 if share > cfg.on_share else 0
            now = self._above >= cfg.onset_beats
            self._below = 0
        since = (self._state.since_t if was else t_s) if now else None
        self._state = RhythmState(now, since, share)


def within(t_s: Sequence[float], stretches: Sequence[tuple[float, float]]) -> list[bool]:
    """For each beat time: inside one of the ``stretches`` (sorted, start and end included)? O(n log k)."""
    if not stretches:
        return [False] * len(t_s)
    starts = np.asarray([a for a, _ in stretches], dtype=float)
    ends = np.asarray([b for _, b in stretches], dtype=float)
    t = np.asarray(t_s, dtype=float)
    k = np.searchsorted(starts, t, side="right") - 1
    inside = (k >= 0) & (t <= ends[np.clip(k, 0, None)])
    return [bool(x) for x in inside]


def irregular_stretches(t_s: Sequence[float], rr_ms: Sequence[float],
                        config: RhythmConfig | None = None) -> list[tuple[float, float]]:
    """(start, end) beat times of the stretches the live check calls irregular, over a whole recording."""
    rc = RhythmCheck(config)
    out: list[tuple[float, float]] = []
    start: float | None = None
    last_t: float | None = None
    for t, rr in zip(t_s, rr_ms, strict=True):
        st = rc.add(float(t), float(rr))
        if st.irregular and start is None:
            start = st.since_t
        elif not st.irregular and start is not None:
            out.append((start, float(t)))
            start = None
        last_t = float(t)
    if start is not None and last_t is not None:
        out.append((start, last_t))
    return out
