"""Breathing cues and speech rendered offline and checked with numpy (no audio device needed)."""

from __future__ import annotations

import argparse
import asyncio
import io

import numpy as np
import pytest
from rich.console import Console

from biofeedback.breath_sound import CUE_PEAK, SAMPLE_RATE, CueSynth, place_phrase
from biofeedback.pacer import BreathPacer
from sessions.audio.live import BLOCK, pacer_fill

SR = SAMPLE_RATE
ONSET_LEVEL = 0.05


def envelope(x: np.ndarray, win_s: float = 0.012) -> np.ndarray:
    """RMS envelope, scaled so a steady tone reads as its amplitude."""
    w = int(win_s * SR)
    power = np.convolve(x * x, np.ones(w) / w, mode="same")
    return np.sqrt(2 * power)


def rising_crossings(env: np.ndarray, level: float) -> np.ndarray:
    above = env >= level
    return np.flatnonzero(~above[:-1] & above[1:]) / SR


def expected_crossing(start: float, end: float, frac: float, level: float) -> float:
    # Envelope = peak * fill**1.5 * tone-amplitude; fill = 0.5 - 0.5 cos(pi p / frac) on the inhale.
    fill = level ** (1 / 1.5)
    p = frac * np.arccos(1 - 2 * fill) / np.pi
    return start + p * (end - start)


def live_cue(requests: dict[int, float], seconds: float):
    """The live path: the pacer advanced block by block with rate requests, cue from its look-ahead."""
    pacer = BreathPacer(9.0, 0.4)
    synth = CueSynth(SR, 1.0)
    out, spans = [], []
    for i, start in enumerate(range(0, int(seconds * SR), BLOCK)):
        t = np.arange(start, start + BLOCK) / SR
        if i in requests:
            pacer.request_rate(requests[i])
        tick = pacer.advance(float(t[0]))
        spans.append((tick.phase.breath_start, tick.phase.breath_end, tick.phase.inhale_fraction))
        out.append(synth.render(pacer_fill(pacer, t)))
    return np.concatenate(out), sorted(set(spans))


def test_live_cue_follows_pacer_breaths_across_rate_changes():
    x, spans = live_cue({100: 6.0, 400: 14.0, 600: 4.5}, 120.0)
    rates = {round(60 / (e - s), 2) for s, e, _ in spans}
    assert {9.0, 6.0, 14.0, 4.5} <= rates  # the changes really happened
    # Reference: the same tone shaped by the pacer's recorded breaths alone, in one piece.
    from biofeedback.breath_sound import BreathSpan, fill_at
    t = np.arange(x.size) / SR
    ref = CueSynth(SR, 1.0).render(fill_at(t, [BreathSpan(*sp) for sp in spans]))
    level = ONSET_LEVEL * CUE_PEAK
    got, want_all = rising_crossings(envelope(x), level), rising_crossings(envelope(ref), level)
    checked = 0
    for s, e, f in spans[1:-1]:
        want = want_all[(want_all > s) & (want_all < s + 0.5 * (e - s))]
        near = got[(got > s) & (got < s + 0.5 * (e - s))]
        assert near.size >= 1 and want.size >= 1, s
        assert abs(near[0] - want[0]) < 0.020, (s, near[0] - want[0])
        assert want[0] - s < 0.35 * f * (e - s)  # the swell starts early in the inhale
        # Silent at each breath start (the boundary where rates change)
        k = int(s * SR)
        assert np.abs(x[k - 50:k + 50]).max() < 0.002
        checked += 1
    assert checked >= 10


def test_cue_has_no_clicks_and_stays_in_level():
    x, _ = live_cue({50: 6.0, 300: 14.0}, 60.0)
    jumps = np.abs(np.diff(x))
    # The largest step a smooth tone at the top pitch and peak level can make, plus 5 %.
    limit = CUE_PEAK * 2 * np.pi * 261.6 * 3 / SR * 1.05
    assert jumps.max() < limit
    assert 0.6 * CUE_PEAK < np.abs(x).max() <= CUE_PEAK


def test_volume_and_gain_ramp_without_steps():
    synth = CueSynth(SR, 0.5)
    fill = np.full(SR, 0.8)
    a = synth.render(fill, 1.0)
    b = synth.render(fill, 0.0)  # pause: fades over the block, no step
    assert np.abs(np.diff(np.concatenate([a, b]))).max() < 0.02
    assert np.abs(b[-100:]).max() < 0.001
    assert np.abs(a).max() <= 0.5 * CUE_PEAK


def test_phrase_keeps_out_of_inhale_starts():
    onsets = [0.0, 10.0, 20.0, 30.0]
    assert place_phrase(1.0, 3.0, onsets) == 1.0
    start = place_phrase(8.0, 3.0, onsets)  # would run over the inhale at 10 s
    assert start >= 10.8
    long_start = place_phrase(2.0, 12.0, [10.0 * k for k in range(10)])  # longer than a breath: starts right after a guard
    assert long_start == pytest.approx(10.8)


def _args(**kw):
    return argparse.Namespace(audio=kw.get("audio"), volume=kw.get("volume"), speed=1.0)


def test_no_device_is_one_notice_and_choice_is_remembered(tmp_path, monkeypatch):
    monkeypatch.setenv("BIOFEEDBACK_DATA_DIR", str(tmp_path / "sessions"))
    import sessions.audio.player as player
    from sessions.audio import addon
    from sessions.profile import load_profile

    def no_device(rate):  # what PortAudio does on a machine without a sound card
        raise player.AudioUnavailable("Error querying device -1")

    monkeypatch.setattr(player, "open_player", no_device)
    buf = io.StringIO()
    console = Console(file=buf, width=200)

    class R:
        listeners: list = []
        prompt_hold = None

    async def go():
        async with addon.attach(R(), _args(audio=True, volume=0.5), "en", console):
            await asyncio.sleep(0.05)
    asyncio.run(go())
    assert buf.getvalue().count("No sound output") == 1
    assert load_profile()["audio"] == {"on": True, "volume": 0.5}
    assert addon.attach(R(), _args(audio=False), "en", console) is None
    assert load_profile()["audio"]["on"] is False
    assert addon.attach(R(), _args(), "en", console) is None  # remembered: still off
