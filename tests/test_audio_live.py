"""A simulated session with sound, end to end: the live mixer, real espeak-ng, a sink played in time.

There is no sound card here, so a task stands in for the device's callback and pulls the
buffer at the sample rate; everything else is what a person hears.
"""

from __future__ import annotations

import asyncio
import shutil

import numpy as np
import pytest

from biofeedback.breath_sound import SAMPLE_RATE
from devices.simulated_strap import SimulatedStrap
from devices.simulator import person_profile
from sessions.audio.live import LiveAudio
from sessions.audio.player import BufferSink
from sessions.audio.speech import open_speech
from sessions.exercises import load_common, load_script
from sessions.runner import SessionRunner
from sessions.store import SessionWriter

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")

SPEED = 4.0
LISTEN_S = 9.0


@pytest.mark.parametrize("lang", ["en", "nl"])
async def test_a_simulated_session_is_carried_by_sound(tmp_path, lang):
    source = SimulatedStrap(person_profile("follows"), seed=2, speed=SPEED)
    writer = SessionWriter(tmp_path / "s.sqlite", {})
    runner = SessionRunner(source, load_script("safe-place", lang), load_common(lang), writer)
    sink = BufferSink(SAMPLE_RATE)
    live = LiveAudio(runner, sink, open_speech(lang), volume=0.8, speed=SPEED)
    runner.listeners.append(live.on_event)
    runner.prompt_hold = live.busy
    heard: list[np.ndarray] = []

    async def device() -> None:  # the sound card's clock: 2048 samples every 2048/22050 s
        while True:
            heard.append(sink.pull(2048))
            await asyncio.sleep(2048 / SAMPLE_RATE)

    mixer = asyncio.create_task(live.run())
    card = asyncio.create_task(device())
    session = asyncio.create_task(runner.run())
    await asyncio.sleep(LISTEN_S)  # the quiet start: its spoken lines, nothing else yet
    for task in (session, mixer, card):
        task.cancel()
    await asyncio.gather(session, mixer, card, return_exceptions=True)
    writer.close()
    audio = np.concatenate(heard)
    # The opening lines were spoken, in order, one after the other: the first thing a person with
    # closed eyes hears. Each phrase is audible where it was placed, and nothing clips.
    said = [p for _, p in live.spoken]
    opening = " ".join(runner.common.baseline[:2])
    assert len(said) >= 2 and all(p in opening for p in said[:2])
    starts = [s for s, _ in live.spoken]
    assert starts == sorted(starts)
    for start, _ in live.spoken[:2]:
        a = int((start + 0.2) * SAMPLE_RATE)
        assert np.sqrt(np.mean(audio[a:a + SAMPLE_RATE // 2] ** 2)) > 0.02
    assert np.abs(audio).max() < 1.0
    # While a line was still being spoken the steps waited for it: the runner was held.
    assert runner._held_total > 0 or runner._held_at is not None


@pytest.mark.parametrize("lang", ["en", "nl"])
async def test_sentences_have_a_second_between_them_and_speech_is_calm_and_softer_when_aroused(tmp_path, lang):
    """Real espeak-ng: about 120 words a minute, a second of quiet between the sentences of a line,
    softer while the body is aroused and softer still in bedtime mode."""
    source = SimulatedStrap(person_profile("follows"), seed=2, speed=None)
    writer = SessionWriter(tmp_path / "s.sqlite", {})
    runner = SessionRunner(source, load_script("safe-place", lang), load_common(lang), writer)
    live = LiveAudio(runner, BufferSink(SAMPLE_RATE), open_speech(lang), volume=0.8)
    live._t_origin = 0.0
    line = {"en": "Take a moment to arrive here. There's nothing you need to do. Just notice how it feels.",
            "nl": "Neem even de tijd om hier aan te komen. Je hoeft niets te doen. Voel gewoon hoe het is."}[lang]
    live._queue.append((0.0, line, None))
    await live._speak_next()
    clips = live._clips
    assert len(clips) == 3
    for a, b in zip(clips, clips[1:]):
        assert (b.start - (a.start + a.samples.size)) / SAMPLE_RATE >= 1.0
    speech_s = sum(c.samples.size for c in clips) / SAMPLE_RATE
    assert 100 <= len(line.split()) * 60 / speech_s <= 140  # short Dutch words run a little faster
    assert live.speech_gain() == 1.0
    runner.state.distress = True
    assert live.speech_gain() < 1.0
    runner.state.distress, runner.state.bedtime = False, True
    assert live.speech_gain() < 1.0
    writer.close()
