"""render-audio with real espeak-ng speech: length, speech where prompts are, cues on the breaths."""

from __future__ import annotations

import shutil
import wave

import numpy as np
import pytest

from biofeedback.breath_sound import ONSET_GUARD_AFTER_S, ONSET_GUARD_BEFORE_S, SAMPLE_RATE
from sessions.cli import main as cli_main
from sessions.exercises import load_common, load_script

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")


def expected_length(script, rendering, rate: float) -> float:
    """Each step at least its typical time and past its last spoken line (plus the quiet after it), the
    whole rounded up to the end of the breath (unless the last step has the pacer off)."""
    t = 0.0
    for (_sid, t0, t1), step in zip(rendering.steps, script.steps):
        spoken = [p.end for p in rendering.phrases if p.step == step.id]
        assert t0 == pytest.approx(t) and t1 >= t0 + step.typical_s - 1e-9
        assert not spoken or t1 >= max(spoken) + 2.0
        t = t1
    if script.steps[-1].pacer.mode == "off":
        return t
    period = 60.0 / rate
    return np.ceil(t / period - 1e-9) * period


def test_safe_place_dutch_wav(tmp_path, monkeypatch):
    monkeypatch.setenv("BIOFEEDBACK_DATA_DIR", str(tmp_path / "data"))
    from sessions.audio.render import render_exercise
    from sessions.audio.speech import open_speech

    script = load_script("safe-place", "nl")
    out = tmp_path / "veilige-plek.wav"
    assert cli_main(["render-audio", "--script", "safe-place", "--lang", "nl", "--rate", "6", "-o", str(out)]) == 0
    assert out.stat().st_mode & 0o777 == 0o600
    with wave.open(str(out)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (SAMPLE_RATE, 1, 2)
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(float) / 32768
    r = render_exercise(script, open_speech("nl"), 6.0, hold_lines=load_common("nl").hold)
    assert x.size == r.samples.size
    assert x.size / SAMPLE_RATE == pytest.approx(expected_length(script, r, 6.0), abs=1 / SAMPLE_RATE)
    assert x.size / SAMPLE_RATE >= sum(s.typical_s for s in script.steps)
    # every line is spoken: sound in each phrase's window, no silence where a prompt should be
    said = {p.id for p in r.phrases}
    assert all(p.id in said for i in range(len(script.steps)) for p in script.prompts_for(i))
    for p in r.phrases:
        seg = x[int(p.t * SAMPLE_RATE):int(p.end * SAMPLE_RATE)]
        assert np.sqrt(np.mean(seg ** 2)) > 0.05, p.text
        # speech keeps out of the start of every inhale
        for s in r.spans:
            assert not (p.t < s.start + ONSET_GUARD_AFTER_S and p.end > s.start - ONSET_GUARD_BEFORE_S), (p.text, s.start)
    assert np.abs(x).max() < 0.99  # no clipping
    assert 0.05 < np.sqrt(np.mean(x ** 2)) < 0.3


def test_rate_changes_in_assessment_are_silent_at_boundaries():
    from sessions.audio.render import render_exercise
    from sessions.audio.speech import open_speech

    r = render_exercise(load_script("resonance-assessment", "en"), open_speech("en"), 6.0)
    rates = {round(60 / (s.end - s.start), 2) for s in r.spans}
    assert len(rates) >= 3
    x = r.samples
    for s in r.spans:
        k = int(round(s.start * SAMPLE_RATE))
        talking = any(p.t <= s.start <= p.end for p in r.phrases)
        assert talking or np.abs(x[max(k - 20, 0):k + 20]).max() < 0.002


def test_render_audio_refuses_a_non_wav_name(tmp_path, capsys):
    assert cli_main(["render-audio", "--lang", "en", "-o", str(tmp_path / "x.mp3")]) == 2
