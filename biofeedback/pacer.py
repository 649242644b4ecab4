"""The breathing pacer: a breath clock that never jumps, and a guide that slows it only while the body follows.

Why it is built this way:

* **Time is passed in.** ``BreathPacer.advance(t)`` takes the session clock (seconds) from the caller,
  so the pacer runs the same under a GUI timer, a terminal loop, a replayed recording or a test.
* **A rate change waits for the end of a breath.** Someone following the pacer with their lungs is
  hurt by a phase jump (half an inhale suddenly becoming an exhale). So ``request_rate`` only
  *schedules* a rate (and ratio); it takes effect at the next breath boundary, where the phase is 0
  and the lung-fill curve is at rest. Within a breath the phase runs 0 -> 1 without a break.
* **Slow down only while the body comes along.** ``ResonanceGuide`` starts near the person's own
  breathing rate (from RSA, or a comfortable default), then steps toward their resonance rate in
  small steps, at breath ends, at most every few breaths / 30 s -- and only while the dominant heart
  rate oscillation tracks the pacer and coherence holds. When the body stops following it first
  holds, then steps back up. Pushing someone to 5 breaths/min who is not there yet gives air hunger,
  which is the opposite of calm.
* **Plain inputs.** The guide reads a small :class:`BodySignal` (dominant HR frequency in Hz,
  coherence, breathing rate) rather than the HRV engine's objects, so either side can change.
* **Decisions are data.** Every change is returned as a :class:`RateDecision` for the runner to
  record as an event (the review shows where and why the pacer moved).

Also here: :class:`PacerSetting` (what a script step asks of the pacer) and
:func:`pick_resonance_rate` (choose the best rate after a resonance assessment).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Literal, Sequence

MIN_RATE = 4.0
"""Slowest pacer rate, breaths/min."""
MAX_RATE = 20.0
"""Fastest pacer rate, breaths/min."""
DEFAULT_RESONANCE_RATE = 6.0
"""Target when the person has no stored resonance rate yet."""
DEFAULT_START_RATE = 11.0
"""Start when the person's breathing rate is unknown: a gentle everyday rate (resting adults breathe
10-20/min). Starting slower than someone breathes invites air hunger; a start a little fast is only
unhelpful, and the guide slows from there while the body follows."""
IMPLAUSIBLE_BELOW = 5.0
"""An estimated resting breathing rate below this is taken as a slow heart-rate swing, not breathing."""
DEFAULT_INHALE_FRACTION = 0.4
"""Inhale 4 : exhale 6. A longer exhale is the usual calm-breathing advice."""


RAMP_S = 60.0
"""A script's fixed rate far from where the pacer is (an assessment's first 6.5/min after a start near
12/min) is reached over this long, in steps of at most ``RAMP_STEP``, never in one jump."""
RAMP_STEP = 1.0


def ramp_rates(current: float, target: float, max_step: float = RAMP_STEP) -> list[float]:
    """The rates to pass through from ``current`` to ``target`` (target last), each step at most ``max_step``."""
    delta = target - current
    n = max(1, math.ceil(abs(delta) / max_step - 1e-9))
    return [round(current + delta * k / n, 2) for k in range(1, n + 1)]


def clamp_rate(rate: float) -> float:
    """A rate held inside the pacer's bounds (4-20 breaths/min)."""
    return min(MAX_RATE, max(MIN_RATE, float(rate)))


def parse_ratio(ratio: str | float) -> float:
    """Inhale fraction of a breath from ``"4:6"`` (inhale:exhale) or a fraction like ``0.4``.

    Raises ``ValueError`` with a short reason; the fraction must lie in 0.2..0.8 (a breath that is
    almost all inhale or all exhale cannot be followed).
    """
    if isinstance(ratio, bool):
        raise ValueError("expected a ratio like \"4:6\" or an inhale fraction like 0.4")
    if isinstance(ratio, (int, float)):
        frac = float(ratio)
    elif isinstance(ratio, str) and ":" in ratio:
        left, _, right = ratio.partition(":")
        try:
            inhale, exhale = float(left), float(right)
        except ValueError:
            raise ValueError(f"expected a ratio like \"4:6\", not \"{ratio}\"") from None
        if inhale <= 0 or exhale <= 0:
            raise ValueError(f"both parts of the ratio \"{ratio}\" must be positive")
        frac = inhale / (inhale + exhale)
    else:
        raise ValueError(f"expected a ratio like \"4:6\" or an inhale fraction like 0.4, not {ratio!r}")
    if not 0.2 <= frac <= 0.8:
        raise ValueError(f"the inhale share must be between 20% and 80% of a breath (got {frac:.0%})")
    return frac


# --------------------------------------------------------------------------------------------
# What a script step asks of the pacer
# --------------------------------------------------------------------------------------------

PacerMode = Literal["follow", "resonance", "fixed", "off"]


@dataclass(frozen=True, slots=True)
class PacerSetting:
    """A step's pacer request.

    ``follow``: the adaptive :class:`ResonanceGuide` (start near the person's rate, slow while they
    follow). ``resonance``: hold the person's stored resonance rate. ``fixed``: hold ``rate``
    (the resonance assessment uses this). ``off``: no pacer (free breathing, e.g. a baseline).
    """

    mode: PacerMode = "follow"
    rate: float | None = None
    inhale_fraction: float = DEFAULT_INHALE_FRACTION

    def __post_init__(self) -> None:
        if self.mode == "fixed":
            if self.rate is None or not MIN_RATE <= self.rate <= MAX_RATE:
                raise ValueError(f"a fixed pacer rate must lie in {MIN_RATE:g}-{MAX_RATE:g} breaths/min")
        elif self.rate is not None:
            raise ValueError("only a fixed pacer takes a rate")
        if not 0.2 <= self.inhale_fraction <= 0.8:
            raise ValueError("the inhale share must be between 20% and 80% of a breath")


# --------------------------------------------------------------------------------------------
# The breath clock
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BreathPhase:
    """Where the pacer is at time ``t``.

    ``phase`` runs 0 -> 1 over one breath (0 = start of inhale); ``inhaling`` is true while
    ``phase < inhale_fraction``. ``fill`` is a smooth 0 -> 1 -> 0 lung curve to draw or sonify; it is
    continuous across breaths and rate changes. ``breath`` counts breaths since the pacer started.
    """

    t: float
    breath: int
    phase: float
    inhaling: bool
    fill: float
    rate: float
    inhale_fraction: float
    breath_start: float
    breath_end: float

    @property
    def seconds_left_in_half(self) -> float:
        """Seconds until the next inhale/exhale turn (for a countdown display)."""
        period = self.breath_end - self.breath_start
        turn = self.breath_start + self.inhale_fraction * period
        return (turn - self.t) if self.inhaling else (self.breath_end - self.t)


@dataclass(frozen=True, slots=True)
class RateChange:
    """A rate/ratio that took effect at a breath boundary ``t``."""

    t: float
    breath: int
    old_rate: float
    new_rate: float
    inhale_fraction: float


@dataclass(frozen=True, slots=True)
class PacerTick:
    """What happened between the previous ``advance`` and this one."""

    phase: BreathPhase
    boundaries: tuple[float, ...] = ()
    """Times of breath ends crossed (each is also the start of the next breath)."""
    changes: tuple[RateChange, ...] = ()


def _fill(phase: float, inhale_fraction: float) -> float:
    # Half-cosine up during the inhale, half-cosine down during the exhale: 0 at both ends of the
    # breath, 1 at the turn, with no corner that a listener would hear as a jolt.
    if phase < inhale_fraction:
        return 0.5 - 0.5 * math.cos(math.pi * phase / inhale_fraction)
    return 0.5 + 0.5 * math.cos(math.pi * (phase - inhale_fraction) / (1.0 - inhale_fraction))


class BreathPacer:
    """A breath clock driven by the caller's time.

    ``advance(t)`` moves the clock forward (t never goes back) and reports breath boundaries crossed
    and rate changes applied; ``phase_at(t)`` looks ahead without changing anything.
    """

    def __init__(self, rate: float, inhale_fraction: float = DEFAULT_INHALE_FRACTION, t0: float = 0.0) -> None:
        self._rate = clamp_rate(rate)
        self._frac = parse_ratio(inhale_fraction)
        self._start = float(t0)
        self._breath = 0
        self._t = float(t0)
        self._pending: tuple[float, float] | None = None

    @property
    def rate(self) -> float:
        """Rate of the breath in progress (breaths/min)."""
        return self._rate

    @property
    def inhale_fraction(self) -> float:
        return self._frac

    @property
    def breath(self) -> int:
        """Breaths completed since the pacer started (index of the breath in progress)."""
        return self._breath

    @property
    def pending_rate(self) -> float | None:
        """The rate that will start at the next breath boundary, if one is scheduled."""
        return None if self._pending is None else self._pending[0]

    @property
    def target_rate(self) -> float:
        """The rate that applies once any scheduled change has happened."""
        return self._rate if self._pending is None else self._pending[0]

    @property
    def breath_end(self) -> float:
        return self._start + 60.0 / self._rate

    def request_rate(self, rate: float, inhale_fraction: float | None = None) -> None:
        """Schedule a rate (and optionally a ratio) for the next breath boundary; the latest request wins."""
        frac = self._frac if inhale_fraction is None else parse_ratio(inhale_fraction)
        new = clamp_rate(rate)
        if math.isclose(new, self._rate) and math.isclose(frac, self._frac):
            self._pending = None
        else:
            self._pending = (new, frac)

    def _walk(self, t: float, commit: bool) -> tuple[BreathPhase, list[float], list[RateChange]]:
        start, breath, rate, frac, pending = self._start, self._breath, self._rate, self._frac, self._pending
        boundaries: list[float] = []
        changes: list[RateChange] = []
        end = start + 60.0 / rate
        while t >= end:
            boundaries.append(end)
            start, breath = end, breath + 1
            if pending is not None:
                changes.append(RateChange(end, breath, rate, pending[0], pending[1]))
                rate, frac = pending
                pending = None
            end = start + 60.0 / rate
        if commit:
            self._start, self._breath, self._rate, self._frac, self._pending = start, breath, rate, frac, pending
            self._t = t
        period = end - start
        phase = min(max((t - start) / period, 0.0), 1.0 - 1e-12)
        state = BreathPhase(t, breath, phase, phase < frac, _fill(phase, frac), rate, frac, start, end)
        return state, boundaries, changes

    def phase_at(self, t: float) -> BreathPhase:
        """The phase at ``t`` (>= the last advance), assuming no further requests; changes nothing."""
        if t < self._t:
            raise ValueError("the pacer cannot look back before its last advance")
        return self._walk(t, commit=False)[0]

    def advance(self, t: float) -> PacerTick:
        """Move the clock to ``t``; returns the phase plus any boundaries crossed and changes applied."""
        if t < self._t:
            raise ValueError("time went backwards")
        state, boundaries, changes = self._walk(t, commit=True)
        return PacerTick(state, tuple(boundaries), tuple(changes))


# --------------------------------------------------------------------------------------------
# The adaptive guide
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BodySignal:
    """What the guide needs from the HRV engine, as plain numbers; any may be None (not known yet)."""

    dominant_hz: float | None = None
    """Frequency of the dominant heart-rate oscillation (Hz). Use a recent estimate (about 30 s):
    the 64-s coherence spectrum lags a pacer step by most of a minute."""
    coherence: float | None = None
    breathing_rate: float | None = None
    """Estimated breathing rate (breaths/min), e.g. from RSA."""


@dataclass(frozen=True, slots=True)
class RateDecision:
    """A decision the runner records as an event.

    ``action``: ``start``; ``slow`` / ``step_up`` (a step toward the target rate); ``back_off`` (a
    step back to the previous rate); ``hold`` / ``release`` (frozen by the session). A new rate takes
    effect at the next breath end, not at ``t``.
    """

    t: float
    action: Literal["start", "slow", "step_up", "back_off", "hold", "release"]
    old_rate: float
    new_rate: float
    reason: str


@dataclass(frozen=True, slots=True)
class GuideConfig:
    step: float = 0.5
    """Breaths/min per step (slowing and backing off)."""
    fast_step: float = 1.0
    fast_above: float = 10.0
    """Above ``fast_above`` breaths/min a step is ``fast_step``: from a racing 14/min to 10/min is
    felt less per step than 6.5 to 6, and a 0.5 grid would keep someone at fast rates for minutes."""
    coherence_window: int = 4
    """Coherence 'holds' is judged on the mean of the last few 5-s values: one spectrum is noisy."""
    min_breaths: int = 3
    """Breaths at a rate before the next step is considered."""
    min_interval_s: float = 30.0
    """Seconds at a rate before the next step is considered."""
    tolerance_hz: float = 0.015
    """How close the dominant HR frequency must be to the pacer frequency to count as following."""
    tolerance_frac: float = 0.15
    """... or this fraction of the pacer frequency, whichever is larger."""
    coherence_slack: float = 0.8
    """Coherence 'holds' while it stays above this fraction of its level when the rate was set."""
    misses_to_back_off: int = 2
    """Consecutive evaluations (each a full interval apart) without following before the guide steps
    back up; one miss only holds."""
    default_start: float = DEFAULT_START_RATE
    """Start rate when the breathing rate is unknown, implausible or not confident."""
    implausible_below: float = IMPLAUSIBLE_BELOW
    """Breathing-rate estimates below this (breaths/min) are not started from."""
    min_start_confidence: float = 0.35
    """A breathing rate given with a lower confidence than this is treated as unknown."""
    catch_up_margin: float = 2.0
    """When the person's (confident) breathing rate is more than this above the pacer, the pacer steps
    up toward it: a start at the default must not hold a fast breather at a slow rate."""


@dataclass
class _GuideState:
    last_change_t: float
    last_change_breath: int
    coherence_ref: float | None = None
    misses: int = 0
    history: list[float] = field(default_factory=list)


class ResonanceGuide:
    """Drives a :class:`BreathPacer` from the person's own rate toward their resonance rate.

    Call ``observe(signal)`` whenever the HRV engine has new numbers (every few seconds) and
    ``advance(t)`` as often as the display needs; at each breath end the guide may decide to step.
    ``hold(True)`` freezes the rate (e.g. while the safety detector reports distress);
    ``hold(False)`` resumes.
    """

    def __init__(
        self,
        *,
        t0: float = 0.0,
        breathing_rate: float | None = None,
        breathing_confidence: float | None = None,
        resonance_rate: float | None = None,
        inhale_fraction: float = DEFAULT_INHALE_FRACTION,
        config: GuideConfig | None = None,
    ) -> None:
        self.config = config or GuideConfig()
        self.target = clamp_rate(resonance_rate if resonance_rate is not None else DEFAULT_RESONANCE_RATE)
        start, why = self._start_rate(breathing_rate, breathing_confidence)
        self.pacer = BreathPacer(start, inhale_fraction, t0)
        self.start_rate = start
        self._signal = BodySignal()
        self._coherences: list[float] = []
        self._held = False
        self._state = _GuideState(last_change_t=t0, last_change_breath=0)
        self._pending: list[RateDecision] = [RateDecision(t0, "start", start, start, why)]

    def _start_rate(self, breathing_rate: float | None, confidence: float | None) -> tuple[float, str]:
        """The safe start: the person's own confident rate, else a gentle default; never below the target.

        After the start the rate only moves in the guide's steps (at most ``fast_step`` per
        ``min_interval_s``, i.e. 1/min per half minute), so a person is never asked to jump.
        """
        cfg = self.config
        if breathing_rate is None or not math.isfinite(breathing_rate):
            return max(self.target, clamp_rate(cfg.default_start)), "breathing rate unknown: a gentle default start"
        if confidence is not None and confidence < cfg.min_start_confidence:
            return (max(self.target, clamp_rate(cfg.default_start)),
                    f"breathing rate not confident ({breathing_rate:.1f}/min, {confidence:.2f}): "
                    "a gentle default start")
        if breathing_rate < cfg.implausible_below:
            return (max(self.target, clamp_rate(cfg.default_start)),
                    f"an estimated {breathing_rate:.1f}/min is implausible at rest: a gentle default start")
        # Round to the step grid so later steps land on tidy numbers.
        start = clamp_rate(round(clamp_rate(breathing_rate) / cfg.step) * cfg.step)
        if start < self.target:
            # An "RSA rate" below resonance is nearly always a slow wave or ectopic beats, not
            # breathing; nobody needs to be paced up to resonance from below.
            return self.target, f"starts at the target: the estimated rate ({breathing_rate:.1f}/min) is below it"
        return start, f"starts near the person's own breathing rate ({breathing_rate:.1f}/min)"

    @property
    def rate(self) -> float:
        return self.pacer.rate

    def observe(self, signal: BodySignal) -> None:
        """Latest numbers from the HRV engine (used at the next breath end)."""
        if signal.coherence is not None and math.isfinite(signal.coherence):
            self._coherences.append(signal.coherence)
            del self._coherences[:-self.config.coherence_window]
            mean_coherence = sum(self._coherences) / len(self._coherences)
            signal = BodySignal(signal.dominant_hz, mean_coherence, signal.breathing_rate)
        self._signal = signal

    def hold(self, on: bool, t: float) -> RateDecision | None:
        """Freeze (or release) the rate; returns the decision to record, or None if nothing changed."""
        if on == self._held:
            return None
        self._held = on
        r = self.pacer.target_rate
        why = "held by the session" if on else "released by the session"
        d = RateDecision(t, "hold" if on else "release", r, r, why)
        return d

    def following(self, signal: BodySignal | None = None) -> bool | None:
        """Does the heart rhythm track the pacer? None while the engine has no estimate."""
        s = self._signal if signal is None else signal
        if s.dominant_hz is None or not math.isfinite(s.dominant_hz):
            return None
        pacer_hz = self.pacer.rate / 60.0
        tol = max(self.config.tolerance_hz, self.config.tolerance_frac * pacer_hz)
        if abs(s.dominant_hz - pacer_hz) > tol:
            return False
        # Near the pacer is not enough right after a step: someone breathing their own 13/min is
        # also "near" a pacer at 12/min. Following means the rhythm moved with the step.
        previous = self._state.history[-1] / 60.0 if self._state.history else None
        if previous is None or math.isclose(previous, pacer_hz):
            return True
        return abs(s.dominant_hz - pacer_hz) < abs(s.dominant_hz - previous)

    def advance(self, t: float) -> tuple[PacerTick, tuple[RateDecision, ...]]:
        """Move the pacer to ``t``; returns its tick and any decisions taken at breath ends.

        The clock is walked one breath at a time, so a decision taken at a breath end applies at the
        *next* breath end even when ``t`` jumps several breaths ahead.
        """
        decisions = self._pending
        self._pending = []
        boundaries: list[float] = []
        changes: list[RateChange] = []
        while t >= self.pacer.breath_end:
            end = self.pacer.breath_end
            step = self.pacer.advance(end)
            boundaries.extend(step.boundaries)
            changes.extend(step.changes)
            d = self._evaluate(end)
            if d is not None:
                decisions.append(d)
        tick = self.pacer.advance(t)
        tick = PacerTick(tick.phase, tuple(boundaries) + tick.boundaries, tuple(changes) + tick.changes)
        return tick, tuple(decisions)

    def _evaluate(self, t: float) -> RateDecision | None:
        cfg, st = self.config, self._state
        if self._held:
            return None
        breaths_since = self.pacer.breath - st.last_change_breath
        if breaths_since < cfg.min_breaths or t - st.last_change_t < cfg.min_interval_s - 1e-9:
            return None
        catch_up = self._catch_up(t)
        if catch_up is not None:
            return catch_up
        follows = self.following()
        coh = self._signal.coherence
        if follows is None:
            return None
        if st.coherence_ref is None and coh is not None:
            st.coherence_ref = coh
        coherence_holds = coh is None or st.coherence_ref is None or coh >= cfg.coherence_slack * st.coherence_ref
        current = self.pacer.target_rate
        if follows and coherence_holds:
            st.misses = 0
            if math.isclose(current, self.target):
                return None
            direction = -1.0 if self.target < current else 1.0
            fast = bool(cfg.fast_step) and max(current, current + direction * cfg.fast_step) > cfg.fast_above
            size = cfg.fast_step if fast else cfg.step
            new = current + direction * size
            new = max(new, self.target) if direction < 0 else min(new, self.target)
            action: Literal["slow", "step_up"] = "slow" if new < current else "step_up"
            return self._change(t, action, current, new, coh, "the heart rhythm follows the pacer and coherence holds")
        st.misses += 1
        why = "the heart rhythm does not follow the pacer" if not follows else "coherence dropped"
        if st.misses < cfg.misses_to_back_off or not st.history:
            # One miss (or nothing to undo): hold at this rate, and wait a full interval before the
            # next look, so that two misses are two separate pieces of evidence.
            st.last_change_t, st.last_change_breath = t, self.pacer.breath
            return None
        st.misses = 0
        previous = st.history.pop()
        return self._change(t, "back_off", current, previous, coh, why, remember=False)

    def _catch_up(self, t: float) -> RateDecision | None:
        """Step up toward a person who clearly breathes faster than the pacer (e.g. after a default start).

        Only a breathing rate the caller vouches for (pass it in :class:`BodySignal` only when the
        estimator is confident) counts; steps are the usual ones, so the pacer never jumps.
        """
        cfg = self.config
        own = self._signal.breathing_rate
        current = self.pacer.target_rate
        if own is None or not math.isfinite(own) or own - current <= cfg.catch_up_margin:
            return None
        new = min(current + cfg.fast_step, clamp_rate(round(own / cfg.step) * cfg.step))
        if new <= current:
            return None
        why = f"the person breathes faster ({own:.1f}/min) than the pacer asks"
        return self._change(t, "step_up", current, new, self._signal.coherence, why, remember=False)

    def _change(
        self, t: float, action: Literal["slow", "step_up", "back_off"], old: float, new: float, coh: float | None,
        why: str, remember: bool = True,
    ) -> RateDecision:
        new = clamp_rate(new)
        if remember:
            self._state.history.append(old)
        self.pacer.request_rate(new)
        # The wait before the next step counts from when the new rate really starts: the end of
        # the breath now in progress.
        self._state.last_change_t = self.pacer.breath_end
        self._state.last_change_breath = self.pacer.breath + 1
        self._state.coherence_ref = coh
        return RateDecision(t, action, old, new, why)


# --------------------------------------------------------------------------------------------
# Resonance assessment
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RateTrial:
    """One rate of a resonance assessment, measured over its (about 2-minute) window."""

    rate: float
    hr_peak_to_trough_bpm: float
    coherence: float


def _usable(x: float | None) -> bool:
    return x is not None and math.isfinite(x) and x >= 0


def score_resonance_trials(trials: Iterable[RateTrial | Sequence[float]]) -> list[tuple[float, float]]:
    """(rate, score) per usable trial; the score weighs HR oscillation and coherence equally.

    Each measure is divided by its best value across the trials, so the score does not depend on
    units or on how coherence is scaled. Trials with a missing or negative measure are left out.
    """
    rows: list[RateTrial] = []
    for tr in trials:
        tr = tr if isinstance(tr, RateTrial) else RateTrial(*tr)
        if _usable(tr.rate) and _usable(tr.hr_peak_to_trough_bpm) and _usable(tr.coherence):
            rows.append(tr)
    if not rows:
        return []
    best_amp = max(r.hr_peak_to_trough_bpm for r in rows) or 1.0
    best_coh = max(r.coherence for r in rows) or 1.0
    return [(r.rate, 0.5 * r.hr_peak_to_trough_bpm / best_amp + 0.5 * r.coherence / best_coh) for r in rows]


def pick_resonance_rate(trials: Iterable[RateTrial | Sequence[float]], tie: float = 0.03) -> float:
    """The rate with the largest HR oscillation and coherence (equal weight).

    ``trials``: :class:`RateTrial` or ``(rate, hr_peak_to_trough_bpm, coherence)`` tuples. Scores
    within ``tie`` of the best count as equal; among those the *faster* rate wins, because it is the
    easier one to breathe for twenty minutes without over-breathing. Raises ``ValueError`` when no
    trial is usable.
    """
    scored = score_resonance_trials(trials)
    if not scored:
        raise ValueError("no usable resonance trials")
    best = max(s for _, s in scored)
    return max(rate for rate, s in scored if s >= best - tie)
