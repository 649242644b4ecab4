"""Breathing cues as sound: a soft tone that swells on the inhale and fades on the exhale.

Why it is built this way:

* **The loudness is the pacer's own lung curve.** The envelope is :func:`fill_at`, the same
  half-cosine ``fill`` that :class:`biofeedback.pacer.BreathPacer` reports (0 at every breath
  boundary, 1 at the turn), so the sound cannot drift from what the screen draws.
* **No clicks.** Rate changes happen at breath boundaries where the envelope is 0 and its slope is 0;
  the oscillator's phase is carried from block to block (and its pitch follows the smooth fill), so
  neither a block seam nor a new rate makes a step in the waveform. Gain changes (volume, pause,
  pacer shown/hidden) are ramped per sample.
* **Pitch rises a little with the inhale** (a fifth below middle C up to middle C) so that the
  direction of the breath is audible even at low volume.
* **Pure numbers**: arrays in, arrays out; the live player and the offline renderer share it.

Also here: :func:`place_phrase`, which puts a spoken phrase where it does not talk over the start
of an inhale cue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

SAMPLE_RATE = 22050
"""espeak-ng's native rate; plenty for soft tones and speech."""
CUE_PEAK = 0.25
"""Cue amplitude at volume 1 (full scale is 1.0): under a voice, never competing with it."""
SPEECH_PEAK = 0.6
"""Speech is normalised to this peak at volume 1; cue + speech stays below full scale."""
LOW_HZ = 174.6
HIGH_HZ = 261.6
ONSET_GUARD_BEFORE_S = 0.3
ONSET_GUARD_AFTER_S = 0.8
"""Speech keeps out of [inhale start - 0.3 s, inhale start + 0.8 s]: the swell's start is heard alone."""


@dataclass(frozen=True, slots=True)
class BreathSpan:
    """One breath of the pacer: ``start`` (inhale begins), ``end``, inhale share of the breath."""

    start: float
    end: float
    inhale_fraction: float

    @property
    def turn(self) -> float:
        return self.start + self.inhale_fraction * (self.end - self.start)


def fill_at(times: np.ndarray, spans: Sequence[BreathSpan]) -> np.ndarray:
    """The pacer's lung-fill curve at ``times`` (0 outside every span)."""
    times = np.asarray(times, dtype=float)
    out = np.zeros_like(times)
    for span in spans:
        mask = (times >= span.start) & (times < span.end)
        if not mask.any():
            continue
        p = (times[mask] - span.start) / (span.end - span.start)
        f = span.inhale_fraction
        out[mask] = np.where(p < f, 0.5 - 0.5 * np.cos(np.pi * p / f),
                             0.5 + 0.5 * np.cos(np.pi * (p - f) / (1.0 - f)))
    return out


class CueSynth:
    """Turns a fill curve into the cue, block after block, without a seam between blocks."""

    def __init__(self, sample_rate: int = SAMPLE_RATE, volume: float = 1.0) -> None:
        self.sample_rate = sample_rate
        self.volume = float(volume)
        self._phase = 0.0
        self._gain = 1.0

    def render(self, fill: np.ndarray, gain: float = 1.0) -> np.ndarray:
        """Samples for ``fill`` (one value per sample); ``gain`` is reached by a ramp over the block."""
        fill = np.clip(np.asarray(fill, dtype=float), 0.0, 1.0)
        n = fill.size
        if n == 0:
            return np.zeros(0)
        freq = LOW_HZ + (HIGH_HZ - LOW_HZ) * fill
        phase = self._phase + np.cumsum(2.0 * np.pi * freq / self.sample_rate)
        self._phase = float(phase[-1] % (2.0 * np.pi))
        tone = (np.sin(phase) + 0.25 * np.sin(2.0 * phase) + 0.08 * np.sin(3.0 * phase)) / 1.2
        ramp = np.linspace(self._gain, gain, n + 1)[1:]
        self._gain = float(gain)
        # fill**1.5 keeps the quiet ends of the breath quiet; the curve is still smooth at 0.
        return CUE_PEAK * self.volume * ramp * fill ** 1.5 * tone


def spans_between(phases: Sequence[tuple[float, float, float]]) -> list[BreathSpan]:
    """Distinct spans from (breath_start, breath_end, inhale_fraction) triples, in order."""
    seen: dict[float, BreathSpan] = {}
    for start, end, frac in phases:
        seen[round(start, 9)] = BreathSpan(start, end, frac)
    return [seen[k] for k in sorted(seen)]


def onsets_of(spans: Sequence[BreathSpan]) -> list[float]:
    return [s.start for s in spans]


def place_phrase(ready: float, duration: float, onsets: Sequence[float],
                 before: float = ONSET_GUARD_BEFORE_S, after: float = ONSET_GUARD_AFTER_S) -> float:
    """Earliest start >= ``ready`` at which a phrase of ``duration`` s keeps out of every onset guard.

    When the phrase is longer than any room between guards it starts right after the next guard (the
    most room there is) and runs on. ``onsets`` (sorted) must reach past the phrase.
    """
    def fits(c: float) -> bool:
        return not any(c < o + after and c + duration > o - before for o in onsets)

    candidates = [ready] + [o + after for o in onsets if o + after > ready]
    for c in candidates:
        if onsets and c + duration > onsets[-1]:
            break  # past what is known of the pacer
        if fits(c):
            return c
    return candidates[1] if len(candidates) > 1 else ready


CALM_WPM = 120.0
"""Calm guided speech, about 120 words a minute (conversation runs at 150-160). The lines are timed at
this rate too (:mod:`biofeedback.prompt_timing`)."""


def speaking_rate(tempo: float = 1.0, pacer_rate: float | None = None, base_wpm: float = CALM_WPM) -> float:
    """Words per minute for a prompt: calm speech, slower while the body is aroused (``tempo`` > 1,
    the step pacer's prompt stretch) and a little slower at slow pacer rates."""
    wpm = base_wpm / max(tempo, 0.5)
    if pacer_rate:
        wpm *= (min(max(pacer_rate, 4.0), 12.0) / 6.0) ** 0.15
    return float(min(max(wpm, 80.0), 150.0))


def to_int16(samples: np.ndarray) -> np.ndarray:
    """16-bit PCM (values are clipped at full scale; the mix is kept below it by design)."""
    out: np.ndarray = (np.clip(samples, -1.0, 1.0) * 32767.0).round().astype(np.int16)
    return out


__all__ = [
    "BreathSpan", "CALM_WPM", "CUE_PEAK", "CueSynth", "SAMPLE_RATE", "SPEECH_PEAK", "fill_at", "onsets_of",
    "place_phrase", "speaking_rate", "spans_between", "to_int16",
]
