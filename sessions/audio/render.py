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
from biofeedback.bedtime import TAIL_S, fade_curve, ramp_schedule, rate_at
from biofeedback.bedtime import start_rate as bedtime_start_rate
from biofeedback.pacer import BreathPacer, clamp_rate
from biofeedback.prompt_timing import SENTENCE_GAP_S, hold_delay_s, spread_quiet
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


def _add_request(requests: list[tuple[float, float, float]], t: float, r: float | None, step,
                 ramp: list[tuple[float, float]] | None, rate: float, start: float | None) -> list[tuple[float, float]] | None:
    """A step's pacer request at ``t``; returns the bedtime ramp (made at the first paced step).

    Bedtime (``start``: where the pacer starts): a step at the exercise's rate follows one ramp from ``start`` down to
    ``rate`` (:func:`~biofeedback.bedtime.ramp_schedule`, timed from the first paced step): the ramp's
    requests still ahead are dropped when a step begins and this step's own are queued, so the
    requests stay in time order and a step with its pacer off or at a fixed rate interrupts it."""
    while requests and requests[-1][0] >= t:
        requests.pop()  # a ramp's requests from here on: this step brings its own
    frac = step.pacer.inhale_fraction
    if start is None or r is None or step.pacer.mode == "fixed":
        requests.append((t, r or 0.0, frac))
        return ramp
    if ramp is None:
        ramp = ramp_schedule(start, rate, t, frac)
    now = rate_at(ramp, t)
    requests.append((t, now if now is not None else ramp[0][1], frac))
    requests.extend((tq, rq, frac) for tq, rq in ramp if tq > t)
    return ramp


def _spoken(speech, prompt, wpm: float) -> list[tuple[str, np.ndarray]]:
    """A line as clips: its recorded take whole when the voice has one, else sentence by sentence."""
    recording = getattr(speech, "recording", None)
    take = recording(prompt.id, prompt.text) if recording is not None else None
    if take is not None:
        return [(prompt.text, take)]
    return [(text, speech.synthesize(text, wpm)) for text in split_phrases(prompt.text)]


def _place(phrases: list[Phrase], clips: list[tuple[str, np.ndarray]], ready: float, requests, rate: float | None,
           step_id: str, line: int, line_id: str) -> float | None:
    """Place a line's clips from ``ready`` on, each clear of the inhale starts; returns where it ends."""
    for text, samples in clips:
        dur = samples.size / SAMPLE_RATE
        onsets = [s.start for s, on in _spans(requests, ready + dur + 60.0) if on] if rate else []
        at = place_phrase(ready, dur, onsets)
        phrases.append(Phrase(at, text, samples, step_id, line, line_id))
        ready = at + dur + PHRASE_PAUSE_S
    return phrases[-1].end if clips else None


def render_exercise(script: Script, speech, rate: float = 6.0, senses: Sequence[str] = SENSES,
                    volume: float = 1.0, own: Mapping[str, str] | None = None, *, bedtime: bool = False,
                    start_rate: float | None = None, hold_lines: Sequence[str] = ()) -> Rendering:
    """Lay out and render ``script`` with ``speech`` (an engine with ``synthesize(text, wpm)``).

    Each step's lines are spread over its typical length as live (:func:`spread_quiet`), from the
    measured length of each spoken line, so quiet follows every invitation instead of piling up at
    the end of the step. ``own``: the person's safe-place answers, woven into the lines that name them.
    ``hold_lines``: the shared hold lines (``common.hold``), said where a step would otherwise fall
    silent for longer than the script allows.

    ``bedtime``: the pacer starts at the person's own rate (``start_rate``, their breathing at rest; the
    default start when None) and slows to ``rate`` at most 1/min per 30 s; the cue fades to silence over
    the last three minutes, and the file ends a few seconds after the last spoken line.
    """
    requests: list[tuple[float, float, float]] = []
    ramp: list[tuple[float, float]] | None = None
    start = bedtime_start_rate(start_rate, rate) if bedtime else None
    phrases: list[Phrase] = []
    steps: list[tuple[str, float, float]] = []
    t = 0.0
    for index, step in enumerate(script.steps):
        r = step_rate(step, rate)
        ramp = _add_request(requests, t, r, step, ramp, rate, start)
        t_step = t
        prompts = script.prompts_for(index, senses, own)
        wpm = speaking_rate(1.0, r)
        spoken = [_spoken(speech, p, wpm) for p in prompts]
        speech_s = [sum(c.size for _, c in clips) / SAMPLE_RATE + PHRASE_PAUSE_S * max(len(clips) - 1, 0)
                    for clips in spoken]
        quiet = spread_quiet(speech_s, [p.invitation for p in prompts], step.typical_s, script.max_quiet_s)
        due = t
        last_end = t
        for li, (prompt, clips) in enumerate(zip(prompts, spoken)):
            ready = max(due, last_end + (LINE_PAUSE_S if li else 0.0))
            last_end = _place(phrases, clips, ready, requests, r, step.id, li, prompt.id) or last_end
            # The quiet follows the speech as it was placed (a sentence may wait for an inhale to pass).
            due = last_end + quiet[li]
        typical = step.typical_s if step.typical_s is not None else (step.min_s + step.max_s) / 2
        end = max(t_step + typical, min(t_step + step.max_s, due), last_end + LINE_PAUSE_S)
        # A step that runs on after its lines says a hold line before the silence grows too long.
        holds = step.hold_prompts(hold_lines)
        k = 0
        while holds and end - last_end > script.max_quiet_s:
            prompt = holds[k % len(holds)]
            at = last_end + hold_delay_s(script.max_quiet_s)
            last_end = _place(phrases, _spoken(speech, prompt, wpm), at, requests, r, step.id,
                              len(prompts) + k, prompt.id) or last_end
            k += 1
        steps.append((step.id, t_step, end))
        t = end
    spans_all = _spans(requests, t)
    last_span, last_on = spans_all[-1]
    t_end = last_span.end if last_on else t
    if bedtime:
        # No breath to finish: the cue has faded out, the file ends in a few seconds of silence.
        t_end = max(t, (phrases[-1].end if phrases else 0.0) + TAIL_S)
    on_spans = [s for s, on in spans_all if on and s.start < t_end]
    n = int(round(t_end * SAMPLE_RATE))
    out = np.zeros(n)
    synth = CueSynth(SAMPLE_RATE, volume)
    block = int(BLOCK_S * SAMPLE_RATE)
    for i in range(0, n, block):
        times = np.arange(i, min(i + block, n)) / SAMPLE_RATE
        cue = synth.render(fill_at(times, [s for s in on_spans if s.end > times[0] and s.start <= times[-1]]))
        out[i:i + times.size] = cue * fade_curve(times, t_end - TAIL_S) if bedtime else cue
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
