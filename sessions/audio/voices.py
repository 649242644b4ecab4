"""A voice worth listening to: a recorded human voice where there is one, a neural voice (Piper) where
it is installed, espeak-ng for the rest.

Why it is built this way:

* **A recording per line, found by the line's id.** Every spoken line has a stable id
  (``find.sound``, ``common.hold.2``; see ``docs/scripts.md``). A therapist or a friend records the
  lines once (``biofeedback record-voice``, or any recorder app); each WAV is named by its id in the
  voice folder of its language and script, with the exact text it says beside it (``<id>.txt``). A
  recording is used only while that text is still the line's text: a line rewritten since is spoken
  by the engine rather than by a voice saying something else. A recording is never time-stretched.
* **Piper, offline, when the person has it.** Piper's voices are downloaded by the user (this app
  cannot fetch them); ``BIOFEEDBACK_PIPER_MODEL`` names the ``.onnx`` voice and ``BIOFEEDBACK_PIPER``
  the program (default ``piper`` on the PATH). Without either, espeak-ng speaks.
* **The same interface as every engine**: ``synthesize(text, wpm, line_id=None)`` gives samples at
  :data:`~biofeedback.breath_sound.SAMPLE_RATE`, so live sound and ``render-audio`` need not know
  who speaks. ``recording(line_id, text)`` lets them keep a recorded line whole (it is one take, not
  sentences to place one by one).
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

from biofeedback.breath_sound import CALM_WPM, SAMPLE_RATE
from sessions.audio.speech import EspeakSpeech, SpeechUnavailable, _normalise, open_speech, spoken_numbers
from sessions.store import data_dir

log = logging.getLogger(__name__)

COMMON_FOLDER = "common"
PIPER_WPM = 160.0
"""Piper's voices speak at about conversational pace at length_scale 1; slowed by the ratio to the rate asked."""


def voices_root() -> Path:
    return data_dir().parent / "voices"


def voice_folder(lang: str, script_id: str, line_id: str = "") -> Path:
    """Where the recordings of a script's lines live (the shared lines: in ``common``)."""
    folder = COMMON_FOLDER if line_id.startswith("common.") else script_id
    return voices_root() / lang / folder


def same_text(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


def read_wav(data: bytes) -> np.ndarray:
    """Any PCM WAV (8/16/24/32-bit, mono or stereo, any rate) as float samples at SAMPLE_RATE."""
    with wave.open(io.BytesIO(data)) as w:
        rate, width, channels, frames = w.getframerate(), w.getsampwidth(), w.getnchannels(), w.readframes(w.getnframes())
    if width == 1:
        pcm = (np.frombuffer(frames, dtype=np.uint8).astype(float) - 128.0) / 128.0
    elif width == 2:
        pcm = np.frombuffer(frames, dtype="<i2").astype(float) / 32768.0
    elif width == 3:
        raw = np.frombuffer(frames, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        ints = raw[:, 0] | (raw[:, 1] << 8) | (raw[:, 2] << 16)
        pcm = np.where(ints >= 1 << 23, ints - (1 << 24), ints).astype(float) / float(1 << 23)
    else:
        pcm = np.frombuffer(frames, dtype="<i4").astype(float) / float(1 << 31)
    if channels > 1:
        pcm = pcm[: pcm.size // channels * channels].reshape(-1, channels).mean(axis=1)
    if rate != SAMPLE_RATE and pcm.size:
        n = int(round(pcm.size * SAMPLE_RATE / rate))
        pcm = np.interp(np.linspace(0, pcm.size - 1, n), np.arange(pcm.size), pcm)
    return pcm


def recording_state(lang: str, script_id: str, line_id: str, text: str) -> str:
    """``ok``, ``missing`` or ``changed`` (the line's text is no longer what was recorded)."""
    folder = voice_folder(lang, script_id, line_id)
    wav, txt = folder / f"{line_id}.wav", folder / f"{line_id}.txt"
    if not wav.is_file():
        return "missing"
    try:
        said = txt.read_text(encoding="utf-8")
    except OSError:
        return "changed"
    return "ok" if same_text(said, text) else "changed"


class PiperSpeech:
    """Piper's command line: text on stdin, a WAV file out, slowed with ``--length_scale``."""

    name = "piper"

    def __init__(self, model: str, executable: str | None = None) -> None:
        exe = shutil.which(executable or "piper")
        if exe is None:
            raise SpeechUnavailable(f"{executable or 'piper'} is not installed")
        if not Path(model).is_file():
            raise SpeechUnavailable(f"the Piper voice {model} does not exist")
        self.exe, self.model = exe, model

    def synthesize(self, text: str, wpm: float = CALM_WPM) -> np.ndarray:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "line.wav"
            proc = subprocess.run(
                [self.exe, "--model", self.model, "--output_file", str(out),
                 "--length_scale", f"{PIPER_WPM / max(wpm, 60.0):.3f}"],
                input=spoken_numbers(text).encode("utf-8"), capture_output=True, timeout=120, check=False)
            if proc.returncode != 0 or not out.is_file():
                raise SpeechUnavailable(f"piper failed: {proc.stderr.decode(errors='replace').strip()[:200]}")
            return _normalise(read_wav(out.read_bytes()))


class VoiceChain:
    """Recorded line → the engine (Piper or espeak-ng); see the module docstring."""

    def __init__(self, lang: str, script_id: str, engine) -> None:
        self.lang, self.script_id, self.engine = lang, script_id, engine
        self.name = f"recorded voice + {getattr(engine, 'name', 'engine')}"
        self._durations: dict[tuple[str, float, str | None], float] = {}

    def recording(self, line_id: str | None, text: str) -> np.ndarray | None:
        """The recorded take of this line, when there is one that says ``text``."""
        if not line_id:
            return None
        state = recording_state(self.lang, self.script_id, line_id, text)
        if state == "changed":
            log.info("The recording of %s says an earlier text; the engine speaks it instead.", line_id)
        if state != "ok":
            return None
        path = voice_folder(self.lang, self.script_id, line_id) / f"{line_id}.wav"
        try:
            return _normalise(read_wav(path.read_bytes()))
        except (OSError, wave.Error, EOFError, ValueError) as err:
            log.warning("Cannot read the recording %s (%s); the engine speaks the line instead.", path, err)
            return None

    def synthesize(self, text: str, wpm: float = CALM_WPM, line_id: str | None = None) -> np.ndarray:
        take = self.recording(line_id, text)
        if take is not None:
            return take
        samples: np.ndarray = self.engine.synthesize(text, wpm)
        return samples

    def duration_s(self, text: str, wpm: float = CALM_WPM, line_id: str | None = None) -> float:
        key = (text, round(wpm, 1), line_id)
        if key not in self._durations:
            self._durations[key] = self.synthesize(text, wpm, line_id).size / SAMPLE_RATE
        return self._durations[key]


def open_engine(lang: str):
    """Piper when a voice is configured and works, else espeak-ng (raises SpeechUnavailable without either)."""
    model = os.environ.get("BIOFEEDBACK_PIPER_MODEL")
    if model:
        try:
            return PiperSpeech(model, os.environ.get("BIOFEEDBACK_PIPER"))
        except SpeechUnavailable as err:
            log.info("Piper is not used: %s; espeak-ng speaks.", err)
    return open_speech(lang)


def open_voice(lang: str, script_id: str) -> VoiceChain:
    """The best voice for a script: its recordings, then Piper or espeak-ng."""
    return VoiceChain(lang, script_id, open_engine(lang))


__all__ = ["EspeakSpeech", "PiperSpeech", "VoiceChain", "open_voice", "recording_state", "voice_folder"]
