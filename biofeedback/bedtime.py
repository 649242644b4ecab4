"""Bedtime mode's arithmetic: a pacer that starts where the person is, and a tone that fades to silence.

Someone doing an evening ritual in bed wants to fall asleep to it. What the live session and the
rendered recording share lives here, as plain functions of time (no I/O, no Qt, no sound):

* **The tone fades out.** Over the last :data:`FADE_S` before the planned end the pacer's cue
  follows a half-cosine from full to silence (:func:`fade_gain`): no step anyone would hear as an
  ending, and silence before the voice's last line has faded, so nothing is left to wake for.
* **A re-estimated end never jolts.** Live, the planned end is re-estimated as steps end early or
  late (or a stop comes); :func:`follow_fade` moves the gain toward the new target at most
  1/:data:`FADE_MIN_S` per second, so the loudness never jumps.
* **The start is the person's own rate.** :func:`start_rate` starts at (never above) the person's
  breathing rate; :func:`ramp_schedule` then slows to the exercise's rate at most
  :data:`RAMP_STEP` breath/min per :data:`RAMP_EVERY_S` (the live guide's own pace: 1/min per half
  minute), each change at a breath end. A recording that starts at 6/min from second 0 asks a
  person breathing 12/min to halve their rate at once: air hunger, the opposite of sleepy.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from biofeedback.pacer import (DEFAULT_INHALE_FRACTION, DEFAULT_START_RATE, IMPLAUSIBLE_BELOW, RAMP_STEP, BreathPacer,
                               clamp_rate, ramp_rates)

__all__ = [
    "DEFAULT_START_RATE", "FADE_MIN_S", "FADE_S", "RAMP_EVERY_S", "RAMP_STEP", "SLEEP_TIMER_MAX_MIN",
    "SLEEP_TIMER_MIN_MIN", "START_GRID", "TAIL_S", "fade_curve", "fade_gain", "follow_fade", "ramp_schedule",
    "rate_at", "start_rate",
]

FADE_S = 180.0
"""The pacer's tone fades over the last three minutes: long enough that no single breath sounds
quieter than the one before, short enough that the tone still guides most of the exercise."""
FADE_MIN_S = 30.0
"""A re-estimated end moves the gain at most this fast (full to silent in no less than 30 s)."""
RAMP_EVERY_S = 30.0
"""At most one rate change per half minute: the pace the live guide slows at (``GuideConfig``)."""
START_GRID = 0.5
"""The live guide's rate grid (breaths/min): a start rate is a multiple of it."""
TAIL_S = 5.0
"""A bedtime recording ends with this much silence after the last spoken line and the tone."""
SLEEP_TIMER_MIN_MIN = 1.0
SLEEP_TIMER_MAX_MIN = 180.0
"""A sleep timer lies between one minute and three hours."""

# DEFAULT_START_RATE (11/min, from biofeedback.pacer) is the start when the person's own rate is not
# known: resting adults breathe 10-20/min and lying down, drowsy, at the slow end of it. Starting
# slower than someone breathes invites air hunger; a start a little fast only means a few more
# half-minute steps down.


def fade_gain(t: float, end_t: float, fade_s: float = FADE_S) -> float:
    """The tone's gain at ``t``: 1 until ``fade_s`` before ``end_t``, then a half-cosine to 0 at ``end_t``
    (and 0 after). The half-cosine starts and ends flat, so neither the start nor the end of the fade
    can be heard as a step."""
    if fade_s <= 0:
        return 1.0 if t < end_t else 0.0
    k = (t - (end_t - fade_s)) / fade_s
    if k <= 0:
        return 1.0
    if k >= 1:
        return 0.0
    return 0.5 + 0.5 * math.cos(math.pi * k)


def fade_curve(times: npt.ArrayLike, end_t: float, fade_s: float = FADE_S) -> npt.NDArray[np.float64]:
    """:func:`fade_gain` at every one of ``times`` (one value per sample of a rendering)."""
    t = np.asarray(times, dtype=float)
    if fade_s <= 0:
        return np.where(t < end_t, 1.0, 0.0)
    k = np.clip((t - (end_t - fade_s)) / fade_s, 0.0, 1.0)
    out: npt.NDArray[np.float64] = 0.5 + 0.5 * np.cos(np.pi * k)
    return out


def follow_fade(previous: float, target: float, dt: float, min_fade_s: float = FADE_MIN_S) -> float:
    """The gain ``dt`` seconds after ``previous``, moving toward ``target`` at most ``1/min_fade_s`` per second.

    The live session re-estimates its end as it goes (a step ends early, a stop comes): the target
    may jump, the gain does not."""
    most = max(dt, 0.0) / min_fade_s if min_fade_s > 0 else math.inf
    return min(1.0, max(0.0, previous + max(-most, min(most, target - previous))))


def start_rate(own: float | None, target: float, default: float = DEFAULT_START_RATE,
               grid: float = START_GRID) -> float:
    """Where a bedtime pacer starts: the person's own breathing rate, rounded *down* to the guide's grid
    (never faster than they breathe), never below the exercise's ``target``; :data:`DEFAULT_START_RATE`
    when the rate is unknown or implausible (below 5/min is a slow heart-rate swing, not breathing)."""
    floor = clamp_rate(target)
    if own is None or not math.isfinite(own) or own < IMPLAUSIBLE_BELOW:
        return max(floor, clamp_rate(default))
    rate = math.floor(clamp_rate(own) / grid + 1e-9) * grid
    return max(floor, clamp_rate(rate))


def ramp_schedule(start: float, target: float, t0: float = 0.0, inhale_fraction: float = DEFAULT_INHALE_FRACTION,
                  every_s: float = RAMP_EVERY_S, max_step: float = RAMP_STEP) -> list[tuple[float, float]]:
    """(request time, rate) from ``start`` at ``t0`` to ``target``: the pacer's ramped start.

    The first entry is ``(t0, start)``. Each later rate is requested in the middle of a breath, so that
    it takes effect at that breath's end (a pacer changes rate only at breath ends), and that end
    lies at least ``every_s`` after the previous change took effect; no change is larger than
    ``max_step`` breaths/min (:func:`biofeedback.pacer.ramp_rates`)."""
    start, target = clamp_rate(start), clamp_rate(target)
    out = [(float(t0), start)]
    if math.isclose(start, target):
        return out
    pacer = BreathPacer(start, inhale_fraction, t0)
    applied = float(t0)
    for rate in ramp_rates(start, target, max_step):
        while pacer.breath_end < applied + every_s - 1e-9:
            pacer.advance(pacer.breath_end)
        boundary = pacer.breath_end
        request = boundary - 0.5 * 60.0 / pacer.rate
        pacer.advance(request)
        pacer.request_rate(rate)
        pacer.advance(boundary)
        out.append((request, rate))
        applied = boundary
    return out


def rate_at(schedule: list[tuple[float, float]], t: float) -> float | None:
    """The latest rate of a :func:`ramp_schedule` requested at or before ``t`` (None before it starts)."""
    rate = None
    for tq, rq in schedule:
        if tq > t:
            break
        rate = rq
    return rate
