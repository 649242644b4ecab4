"""Bedtime mode as a person in bed meets it: the rendered tone fades to silence and starts at their own
rate, the live session ends quietly with the sleep timer and its tone fades, a stop says the bedtime
lines, and the window is near-black."""

from __future__ import annotations

import numpy as np
import pytest

from biofeedback.breath_sound import SAMPLE_RATE
from devices.simulated_strap import SimulatedStrap
from devices.simulator import person_profile
from sessions.audio.render import render_exercise
from sessions.exercises import load_common, load_script
from sessions.runner import SessionRunner
from sessions.store import SessionReader, SessionWriter


class Silent:
    """No words: only the pacer's tone is left in the rendering, to measure it."""

    def synthesize(self, text: str, wpm: float = 120.0) -> np.ndarray:
        return np.zeros(int(0.5 * SAMPLE_RATE))


def rms(x: np.ndarray, a: float, b: float) -> float:
    seg = x[int(a * SAMPLE_RATE):int(b * SAMPLE_RATE)]
    return float(np.sqrt(np.mean(seg ** 2))) if seg.size else 0.0


def test_a_bedtime_rendering_starts_at_the_persons_rate_and_its_tone_fades_to_silence():
    script = load_script("train-ride", "nl")
    assert script.bedtime
    r = render_exercise(script, Silent(), 6.0, bedtime=True, start_rate=12.0)
    rates = [rate for _, rate, _ in r.requests if rate]
    assert rates[0] == pytest.approx(12.0, abs=0.5) and rates[-1] == pytest.approx(6.0)
    assert all(abs(b - a) <= 1.0 + 1e-9 for a, b in zip(rates, rates[1:]))  # never a jump
    d = r.duration_s
    mid = rms(r.samples, d / 2 - 60, d / 2)
    assert mid > 0.01
    assert rms(r.samples, d - 20, d) < 0.1 * mid  # faded out at the end
    day = render_exercise(script, Silent(), 6.0, bedtime=False)
    assert [rate for _, rate, _ in day.requests if rate][0] == pytest.approx(6.0)  # daytime: as before


async def test_the_sleep_timer_ends_the_session_quietly_and_the_tone_fades(tmp_path):
    source = SimulatedStrap(person_profile("follows"), seed=3, speed=None)
    writer = SessionWriter(tmp_path / "s.sqlite", {})
    runner = SessionRunner(source, load_script("coat-rack", "en"), load_common("en"), writer,
                           bedtime=True, sleep_timer_s=600.0)
    fades: list[tuple[float, float]] = []
    runner.listeners.append(lambda kind, t, data: fades.append((t, runner.pacer_fade_at(t))))
    result = await runner.run()
    writer.close(end_reason=result.reason)
    assert result.duration_s == pytest.approx(600.0, abs=5.0)
    assert result.reason == "sleep_timer"
    early = [g for t, g in fades if t < 300]
    late = [g for t, g in fades if t > 590]
    assert early and min(early) == pytest.approx(1.0) and late and max(late) < 0.2
    with SessionReader(tmp_path / "s.sqlite") as reader:
        prompts = [d["text"] for _, _, d in reader.events("prompt")]
    assert not any(line in prompts for line in load_common("en").stop_grounding)


async def test_a_stop_in_bedtime_mode_says_the_bedtime_lines(tmp_path):
    source = SimulatedStrap(person_profile("follows"), seed=4, speed=None)
    writer = SessionWriter(tmp_path / "s.sqlite", {})
    common = load_common("nl")
    runner = SessionRunner(source, load_script("safe-place-bedtime", "nl"), common, writer, bedtime=True,
                           duration_s=200.0)
    await runner.run()
    writer.close()
    with SessionReader(tmp_path / "s.sqlite") as reader:
        prompts = [d["text"] for _, _, d in reader.events("prompt")]
    assert common.stop_bedtime[0] in prompts
    assert not any(line in prompts for line in common.stop_grounding[1:3])
