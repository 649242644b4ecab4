"""An exercise laid out as sound, offline: the fixed-rate pacer's cues plus every prompt, spoken.

For people who want to listen in bed without a screen or a strap. Without a body to read, each step
takes its typical time (``typical_s``), or longer when its lines need it: the lines are spread over
the step as live (:mod:`biofeedback.prompt_timing`, from the measured length of each spoken line),
never before the previous line has been spoken plus a pause, and every sentence waits until it does
not talk over the start of an inhale. The file ends at the end of the breath in progress, where the cue is silent.
"""

from __future__ import annotations

import logging
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from biofeedback.breath_sound import SAMPLE_RATE, BreathSpan, CueSynth, fill_at, place_phrase, speaking_rate, to_int16
from biofeedback.pacer import BreathPacer, clamp_rate
from biofeedback.prompt_timing import SENTENCE_GAP_S, spread_quiet
from sessions.audio.speech import split_phrases
from sessions.exercises import SENSES, Script
from sessions.private_files import open_private

log = logging.getLogger(__name__)

LINE_PAUSE_S = 2.0
"""Silence after a spoken line before the next may start."""
PHRASE_PAUSE_S = SENTENCE_GAP_S
"""Silence between the sentences of one line: at least a second, as a calm speaker leaves."""
BLOCK_S = 10.0


@dataclass
class Phrase:
    t: float
    text: str
    samples: np.ndarray
    step: str
    line: int
    id: str | None = None
    """The spoken line's id (``<step>.<sense>`` …)."""

    @property
    def end(self) -> float:
        return self.t + self.samples.size / SAMPLE_RATE


@dataclass
class Rendering:
    samples: np.ndarray
    spans: list[BreathSpan]
    """Breaths with a cue (pacer on)."""
    phrases: list[Phrase]
    steps: list[tuple[str, float, float]]
    requests: list[tuple[float, float, float]] = field(default_factory=list)
    sample_rate: int = SAMPLE_RATE

    @property
    def duration_s(self) -> float:
        return self.samples.size / self.sample_rate


def step_rate(step, rate: float) -> float | None:
    """The pacer rate a step gets in a rendering (None: pacer off)."""
    mode = step.pacer.mode
    if mode == "off":
        return None
    return clamp_rate(step.pacer.rate) if mode == "fixed" else rate


def _spans(requests: Sequence[tuple[float, float, float]], until: float) -> list[tuple[BreathSpan, bool]]:
    """Breaths of the pacer under (t, rate or 0 for off, inhale fraction) requests, up to ``until``.

    As live: a request changes nothing in the breath in progress; it applies from the next boundary
    (rate, ratio, and whether the cue sounds), so a cue always ends at a silent breath end.
    """
    t0, r0, f0 = requests[0]
    pacer = BreathPacer(r0 or 6.0, f0, t0=t0)
    pending = list(requests[1:])
    cur, on, next_on = t0, r0 > 0, r0 > 0
    out: list[tuple[BreathSpan, bool]] = []
    while True:
        ph = pacer.phase_at(cur)
        while pending and pending[0][0] <= ph.breath_end:
            tq, rq, fq = pending.pop(0)
            cur = max(cur, tq)
            pacer.advance(cur)
            if rq:
                pacer.request_rate(rq, fq)
            next_on = rq > 0
        out.append((BreathSpan(ph.breath_start, ph.breath_end, ph.inhale_fraction), on))
        if ph.breath_end >= until:
            return out
        cur, on = ph.breath_end, next_on
        pacer.advance(cur)


def render_exercise(script: Script, speech, rate: float = 6.0, senses: Sequence[str] = SENSES,
                    volume: float = 1.0, own: Mapping[str, str] | None = None) -> Rendering:
    """Lay out and render ``script`` with ``speech`` (an engine with ``synthesize(text, wpm)``).

    Each step's lines are spread over its typical length as live (:func:`spread_quiet`), from the
    measured length of each spoken line, so quiet follows every invitation instead of piling up at
    the end of the step. ``own``: the person's safe-place answers, woven into the lines that name them.
    """
    requests: list[tuple[float, float, float]] = []
    phrases: list[Phrase] = []
    steps: list[tuple[str, float, float]] = []
    t = 0.0
    for index, step in enumerate(script.steps):
        r = step_rate(step, rate)
        requests.append((t, r or 0.0, step.pacer.inhale_fraction))
        t_step = t
        prompts = script.prompts_for(index, senses, own)
        wpm = speaking_rate(1.0, r)
        spoken = [[(text, speech.synthesize(text, wpm)) for text in split_phrases(p.text)] for p in prompts]
        speech_s = [sum(c.size for _, c in clips) / SAMPLE_RATE + PHRASE_PAUSE_S * max(len(clips) - 1, 0)
                    for clips in spoken]
        quiet = spread_quiet(speech_s, [p.invitation for p in prompts], step.typical_s, script.max_quiet_s)
        due = t
        last_end = t
        for li, (prompt, clips) in enumerate(zip(prompts, spoken)):
            ready = max(due, last_end + (LINE_PAUSE_S if li else 0.0))
            line_start = ready
            for text, samples in clips:
                dur = samples.size / SAMPLE_RATE
                onsets = [s.start for s, on in _spans(requests, ready + dur + 60.0) if on] if r else []
                start = place_phrase(ready, dur, onsets)
                phrases.append(Phrase(start, text, samples, step.id, li, prompt.id))
                ready = start + dur + PHRASE_PAUSE_S
            if clips:
                last_end = phrases[-1].end
            due = line_start + speech_s[li] + quiet[li]
        end = max(t_step + (step.typical_s if step.typical_s is not None else (step.min_s + step.max_s) / 2),
                  min(t_step + step.max_s, due), last_end + LINE_PAUSE_S)
        steps.append((step.id, t_step, end))
        t = end
    spans_all = _spans(requests, t)
    last_span, last_on = spans_all[-1]
    t_end = last_span.end if last_on else t
    on_spans = [s for s, on in spans_all if on and s.start < t_end]
    n = int(round(t_end * SAMPLE_RATE))
    out = np.zeros(n)
    synth = CueSynth(SAMPLE_RATE, volume)
    block = int(BLOCK_S * SAMPLE_RATE)
    for i in range(0, n, block):
        times = np.arange(i, min(i + block, n)) / SAMPLE_RATE
        out[i:i + times.size] = synth.render(fill_at(times, [s for s in on_spans if s.end > times[0] and s.start <= times[-1]]))
    for p in phrases:
        k = int(round(p.t * SAMPLE_RATE))
        seg = p.samples[: max(0, n - k)] * volume
        out[k:k + seg.size] += seg
    return Rendering(out, on_spans, phrases, steps, requests)


def write_wav(path: Path | str, samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> None:
    """16-bit mono WAV, mode 0600 (a rendered exercise is personal)."""
    with open_private(path) as fh, wave.open(fh, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(to_int16(samples).tobytes())
