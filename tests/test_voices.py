"""A recorded human voice, Piper, espeak-ng: each line is said by the best voice that has it, and a
recording whose text has changed is not used."""

from __future__ import annotations

import shutil
import stat
import sys
import textwrap
import wave
from pathlib import Path

import numpy as np
import pytest

from biofeedback.breath_sound import SAMPLE_RATE
from sessions.audio.voices import PiperSpeech, open_voice, read_wav, recording_state, voice_folder
from sessions.cli import main
from sessions.exercises import load_common, load_script, spoken_lines

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")


def tone_wav(path: Path, seconds: float, rate: int = 44100, channels: int = 2, freq: float = 220.0) -> Path:
    """A real WAV file as a recorder app writes it (44.1 kHz stereo, 16 bit)."""
    t = np.arange(int(seconds * rate)) / rate
    mono = (0.3 * np.sin(2 * np.pi * freq * t) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.repeat(mono, channels).tobytes())
    return path


def test_imported_recordings_are_used_for_their_lines_and_the_engine_speaks_the_rest(data_dir, tmp_path, capsys):
    lines = {p.id: p for p in spoken_lines(load_script("safe-place", "en"), load_common("en"))}
    takes = tmp_path / "takes"
    takes.mkdir()
    tone_wav(takes / "find.sound.wav", 3.0)
    tone_wav(takes / "common.hold.1.wav", 1.5, rate=16000, channels=1)
    tone_wav(takes / "not-a-line.wav", 1.0)
    assert main(["record-voice", "safe-place", "--lang", "en", "--import", str(takes)]) == 0
    out = capsys.readouterr().out
    assert "not-a-line.wav" in out and "Added 2" in out
    folder = voice_folder("en", "safe-place")
    assert stat.S_IMODE((folder / "find.sound.wav").stat().st_mode) == 0o600
    assert (voice_folder("en", "safe-place", "common.hold.1") / "common.hold.1.txt").read_text() == \
        lines["common.hold.1"].text

    voice = open_voice("en", "safe-place")
    take = voice.synthesize(lines["find.sound"].text, 120, "find.sound")
    assert take.size / SAMPLE_RATE == pytest.approx(3.0, abs=0.1)  # the recording, not time-stretched
    assert voice.duration_s(lines["common.hold.1"].text, 120, "common.hold.1") == pytest.approx(1.5, abs=0.1)
    spoken = voice.synthesize(lines["find.touch"].text, 120, "find.touch")  # no recording: espeak-ng
    assert spoken.size > SAMPLE_RATE

    # The line's text changed since it was recorded: the voice no longer says it.
    (folder / "find.sound.txt").write_text("An earlier version of this line.", encoding="utf-8")
    assert recording_state("en", "safe-place", "find.sound", lines["find.sound"].text) == "changed"
    again = voice.synthesize(lines["find.sound"].text, 120, "find.sound")
    assert abs(again.size / SAMPLE_RATE - 3.0) > 0.2

    assert main(["record-voice", "safe-place", "--lang", "en", "--list"]) == 0
    listing = capsys.readouterr().out
    assert "common.hold.1" in listing and "recorded, but the text has changed since" in listing
    assert "1 of" in listing


def test_without_a_microphone_one_sentence_says_how_to_record_anyway(data_dir, capsys):
    assert main(["record-voice", "coat-rack", "--lang", "nl"]) == 2
    err = capsys.readouterr().err
    assert "--import" in err and "Traceback" not in err and err.count("\n") == 1


def test_a_wav_that_is_not_a_wav_is_named(data_dir, tmp_path, capsys):
    takes = tmp_path / "t"
    takes.mkdir()
    (takes / "find.sound.wav").write_bytes(b"not a wav at all")
    assert main(["record-voice", "safe-place", "--lang", "en", "--import", str(takes)]) == 2
    assert "find.sound.wav" in capsys.readouterr().err


def test_piper_is_used_when_a_voice_is_configured(data_dir, tmp_path, monkeypatch):
    """Piper's voices cannot be downloaded here, so a stand-in program plays Piper's part on its command
    line (text on stdin, --model, --output_file, --length_scale); the chain around it is the real one."""
    model = tmp_path / "nl_NL-voice.onnx"
    model.write_bytes(b"model")
    fake = tmp_path / "piper"
    fake.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import sys, wave, struct
        args = sys.argv[1:]
        out = args[args.index("--output_file") + 1]
        scale = float(args[args.index("--length_scale") + 1])
        assert args[args.index("--model") + 1].endswith(".onnx")
        words = len(sys.stdin.read().split())
        n = int(22050 * words * 60 / 160 * scale)
        with wave.open(out, "wb") as w:
            w.setnchannels(1); w.setsampwidth(2); w.setframerate(22050)
            w.writeframes(b"".join(struct.pack("<h", 8000 if i % 50 < 25 else -8000) for i in range(n)))
        """))
    fake.chmod(0o755)
    monkeypatch.setenv("BIOFEEDBACK_PIPER_MODEL", str(model))
    monkeypatch.setenv("BIOFEEDBACK_PIPER", str(fake))
    voice = open_voice("nl", "safe-place")
    assert isinstance(voice.engine, PiperSpeech)
    text = "een twee drie vier vijf zes zeven acht negen tien elf twaalf"
    seconds = voice.synthesize(text, 120).size / SAMPLE_RATE
    assert 12 * 60 / seconds == pytest.approx(120, rel=0.05)  # slowed from Piper's pace to calm speech
    monkeypatch.setenv("BIOFEEDBACK_PIPER_MODEL", str(tmp_path / "missing.onnx"))
    assert not isinstance(open_voice("nl", "safe-place").engine, PiperSpeech)  # falls back to espeak-ng


def test_any_pcm_wav_reads_at_the_app_rate(tmp_path):
    samples = read_wav(tone_wav(tmp_path / "a.wav", 2.0, rate=48000).read_bytes())
    assert samples.size == pytest.approx(2.0 * SAMPLE_RATE, abs=2)
