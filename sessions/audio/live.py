"""Sound for a running session: cues from the live pacer, prompts spoken between inhale starts.

A task on the session's event loop writes about a quarter of a second ahead into the player's
buffer (``LEAD_S``), computing the cue for the *future* sample times with the pacer's look-ahead
(``phase_at``), so what is heard lines up with the pacer rather than lagging it. Speech is
synthesised in a worker thread; the loop never waits on the engine or the device. The runner's
``prompt_hold`` is answered here: a step waits while its prompt is still being spoken past the
time the step pacer allotted it (at most ``MAX_HOLD_S``, so a stuck engine cannot stall a session).
"""

from __future__ import annotations

import asyncio
import collections
import logging
from dataclasses import dataclass

import numpy as np

from biofeedback.breath_sound import SAMPLE_RATE, BreathSpan, CueSynth, fill_at, place_phrase, speaking_rate
from biofeedback.step_pacer import speech_seconds
from sessions.audio.speech import split_phrases
from sessions.events import EventKind

log = logging.getLogger(__name__)

BLOCK = 2048
LEAD_S = 0.25
TICK_S = 0.05
LINE_PAUSE_S = 1.0
SENTENCE_GAP_S = 1.0
"""At least a second between the sentences of a line, as a calm speaker leaves."""
AROUSED_SPEECH_GAIN = 0.8
"""Speech a little softer while the body is aroused or in distress (slower too: ``speaking_rate``)."""
BEDTIME_SPEECH_GAIN = 0.7
"""Speech softer in bedtime mode: someone may be falling asleep."""
MAX_HOLD_S = 30.0
LOOKAHEAD_S = 60.0


@dataclass
class _Clip:
    start: int  # sample position
    samples: np.ndarray
    gain: float = 1.0


def pacer_fill(pacer, lt: np.ndarray) -> np.ndarray:
    """The fill curve at exercise times ``lt`` (rising) from a live pacer's look-ahead."""
    a = pacer.phase_at(float(lt[0]))
    b = pacer.phase_at(float(lt[-1]))
    spans = {
        BreathSpan(a.breath_start, a.breath_end, a.inhale_fraction),
        BreathSpan(b.breath_start, b.breath_end, b.inhale_fraction),
    }
    if b.breath > a.breath + 1:  # a block longer than a breath (only at high --speed): walk it
        t = a.breath_end
        while t < b.breath_start:
            p = pacer.phase_at(t)
            spans.add(BreathSpan(p.breath_start, p.breath_end, p.inhale_fraction))
            t = p.breath_end
    return fill_at(lt, sorted(spans, key=lambda s: s.start))


def upcoming_onsets(pacer, lt_now: float, horizon_s: float = LOOKAHEAD_S) -> list[float]:
    """Inhale starts (exercise time) in the next ``horizon_s`` as the pacer stands now."""
    out = []
    t = lt_now
    while t < lt_now + horizon_s:
        p = pacer.phase_at(t)
        if p.breath_start >= lt_now:
            out.append(p.breath_start)
        out.append(p.breath_end)
        t = p.breath_end
    return sorted(set(out))


def recorded_take(speech, line_id: str | None, text: str) -> np.ndarray | None:
    """The recorded take of a line when the voice has one (:class:`sessions.audio.voices.VoiceChain`)."""
    recording = getattr(speech, "recording", None)
    return recording(line_id, text) if recording is not None and line_id else None


class LiveAudio:
    """Mixes cues and speech for ``runner`` into ``sink`` (a player or a test buffer)."""

    def __init__(self, runner, sink, speech=None, volume: float = 0.8, speed: float = 1.0) -> None:
        self.runner = runner
        self.sink = sink
        self.speech = speech
        self.speed = speed or 1.0
        self.synth = CueSynth(SAMPLE_RATE, volume)
        self.volume = volume
        self._pos = 0
        self._t_origin: float | None = None
        self._queue: collections.deque[tuple[float, str, str | None]] = collections.deque()
        self._clips: list[_Clip] = []
        self._speaking_until = 0  # sample position where the last placed phrase ends
        self._synthesising = False
        self._last_prompt: tuple[float, float] | None = None  # (source t, allotted s)
        self._hold_since: float | None = None
        self.spoken: list[tuple[float, str]] = []  # (audio s, phrase) for the record of what was said

    # --- runner side ---------------------------------------------------------------------------
    def on_event(self, kind: EventKind, t: float, data: dict) -> None:
        if kind is EventKind.PROMPT and self.speech is not None:
            self._queue.append((t, data.get("text", ""), data.get("id")))
            self._last_prompt = (t, speech_seconds(data.get("text", "")) * max(self.runner.prompt_tempo, 1.0))
        elif kind in (EventKind.STOP, EventKind.DISTRESS):
            self._queue.clear()  # what comes now (grounding, reassurance) must not wait behind old lines

    def busy(self) -> bool:
        """The runner's ``prompt_hold``: still speaking past the allotted time of the current line."""
        if self._last_prompt is None or self._t_origin is None:
            return False
        speaking = (
            bool(self._queue)
            or self._synthesising
            or self._playing_pos() < self._speaking_until + LINE_PAUSE_S * SAMPLE_RATE
        )
        now = self.runner.now()
        t0, allotted = self._last_prompt
        over = speaking and now >= t0 + allotted - 0.2
        if not over:
            self._hold_since = None
            return False
        self._hold_since = self._hold_since if self._hold_since is not None else now
        return now - self._hold_since < MAX_HOLD_S * self.speed

    # --- mixing --------------------------------------------------------------------------------
    def _playing_pos(self) -> int:
        return self._pos - self.sink.buffered()

    def _source_t(self, pos: np.ndarray | int) -> np.ndarray:
        assert self._t_origin is not None
        out: np.ndarray = self._t_origin + np.asarray(pos) / SAMPLE_RATE * self.speed
        return out

    def render_next(self, n: int = BLOCK) -> np.ndarray:
        """The next ``n`` samples: cue (gain 0 while the pacer is hidden or paused) plus speech."""
        if self._t_origin is None:
            self._t_origin = self.runner.now() + LEAD_S * self.speed
        pos = np.arange(self._pos, self._pos + n)
        pacer = self.runner.breath_pacer
        st = self.runner.state
        if pacer is not None:
            lt = np.maximum.accumulate(
                np.asarray([self.runner.exercise_time(float(x)) for x in self._source_t(pos[[0, -1]])])
            )
            lt_all = np.linspace(lt[0], lt[1], n)
            try:
                fill = pacer_fill(pacer, lt_all)
            except ValueError:  # asked to look behind the pacer's clock: hold the curve still
                fill = np.full(n, st.pacer.fill if st.pacer is not None else 0.0)
            gain = 0.0 if (st.pacer is None or st.paused) else 1.0
            fade = getattr(self.runner, "pacer_fade_at", None)
            if gain and fade is not None:
                gain *= float(fade(float(self._source_t(pos[0]))))  # bedtime: the tone fades out at the end
        else:
            fill, gain = np.zeros(n), 0.0
        out = self.synth.render(fill, gain)
        end = self._pos + n
        keep = []
        for clip in self._clips:
            a, b = max(clip.start, self._pos), min(clip.start + clip.samples.size, end)
            if a < b:
                out[a - self._pos : b - self._pos] += (clip.samples[a - clip.start : b - clip.start]
                                                        * (self.volume * clip.gain))
            if clip.start + clip.samples.size > end:
                keep.append(clip)
        self._clips = keep
        self._pos = end
        return np.clip(out, -1.0, 1.0)

    async def _speak_next(self) -> None:
        t, text, line_id = self._queue.popleft()
        self._synthesising = True
        try:
            wpm = speaking_rate(self.runner.prompt_tempo, self.runner.state.pacer_rate)
            take = await asyncio.to_thread(recorded_take, self.speech, line_id, text)
            if take is not None:  # a recorded line is one take: kept whole
                clips = [(text, take)]
            else:
                clips = [(p, await asyncio.to_thread(self.speech.synthesize, p, wpm)) for p in split_phrases(text)]
        except Exception:  # noqa: BLE001 - a speech failure leaves the text on screen and the session going
            log.exception("Speaking a prompt failed; the session goes on.")
            return
        finally:
            self._synthesising = False
        ready = max(self._pos, self._speaking_until + int(LINE_PAUSE_S * SAMPLE_RATE * (1 if self.spoken else 0)))
        pacer = self.runner.breath_pacer
        onsets: list[float] = []
        if pacer is not None and self.runner.state.pacer is not None:
            lt_now = self.runner.exercise_time(float(self._source_t(self._pos)))
            offset = float(self._source_t(self._pos)) - lt_now
            try:
                onsets = [((o + offset) - self._t_origin) / self.speed for o in upcoming_onsets(pacer, lt_now)]
            except ValueError:
                onsets = []
        gain = self.speech_gain()
        for phrase, samples in clips:
            start_s = place_phrase(ready / SAMPLE_RATE, samples.size / SAMPLE_RATE, onsets)
            start = int(round(start_s * SAMPLE_RATE))
            self._clips.append(_Clip(start, samples, gain))
            self.spoken.append((start_s, phrase))
            ready = start + samples.size + int(SENTENCE_GAP_S * SAMPLE_RATE)
            self._speaking_until = start + samples.size

    def speech_gain(self) -> float:
        """Softer while the body is aroused or in distress, and in bedtime mode."""
        st = self.runner.state
        gain = AROUSED_SPEECH_GAIN if (self.runner.prompt_tempo > 1.0 or st.distress) else 1.0
        return gain * (BEDTIME_SPEECH_GAIN if getattr(st, "bedtime", False) else 1.0)

    async def run(self) -> None:
        """Keep the buffer ``LEAD_S`` ahead until cancelled."""
        while True:
            while self.sink.buffered() < LEAD_S * SAMPLE_RATE:
                self.sink.write(self.render_next())
            if self._queue and not self._synthesising and self.speech is not None:
                await self._speak_next()
            await asyncio.sleep(TICK_S)
