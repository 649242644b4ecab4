"""Text to samples with espeak-ng, the local speech engine on Linux.

Why samples and not "speak now": the prompt must be placed between inhale cues, mixed under the
same volume control, and rendered offline to a WAV file, so its length has to be known before it
plays. espeak-ng writes a WAV to stdout, which gives exactly that. It runs as a subprocess (in a
worker thread when live), so a slow or missing engine never blocks the session loop.

Qt's QTextToSpeech was tried as the platform engine (see the issue note): in PySide6 6.11 it only
speaks straight to the audio device, with no way to get the samples, so it cannot be mixed,
placed between inhale cues or rendered; on Linux its speechd back-end itself uses espeak-ng.
"""

from __future__ import annotations

import io
import logging
import re
import shutil
import subprocess
import wave
from functools import lru_cache

import numpy as np
from sessions import settings

from biofeedback.breath_sound import SAMPLE_RATE, SPEECH_PEAK

log = logging.getLogger(__name__)

VOICES = {"nl": "nl", "en": "en-gb"}
RATE_FACTOR = {"nl": 1.035, "en": 1.0}
"""How much faster than asked espeak-ng's voice really speaks, measured on the shipped safe-place lines
(words over sound, pauses between sentences left out): at ``-s 120`` Dutch gives 124 words/min and
English 120 (at 100: 102 / 99; at 150: 158 / 154). The rate asked is divided by it."""
PHRASE_SPLIT = re.compile(r"(?<=[.!?])\s+")
"""Sentences, not clauses: a colon or semicolon flows on without a pause."""


class SpeechUnavailable(RuntimeError):
    """No speech engine on this machine (the session goes on with cues only)."""


_PHONE_NUMBER = re.compile(r"(?<![\d,.-])\d{3}(?![\d,.-]?\d)")


def spoken_numbers(text: str) -> str:
    """Three-digit numbers in prompts are phone numbers (112, 113, 911, 999): said digit by digit.

    espeak-ng would say "one hundred and twelve"; someone looking for help must hear "one one two".
    """
    return _PHONE_NUMBER.sub(lambda m: " ".join(m.group()), text)


def split_phrases(text: str) -> list[str]:
    """Sentences of a prompt line: each is placed on its own so that none talks over an inhale start."""
    return [p for p in (s.strip() for s in PHRASE_SPLIT.split(text)) if p]


class EspeakSpeech:
    """espeak-ng through its command line; ``synthesize`` returns float samples at SAMPLE_RATE."""

    name = "espeak-ng"

    def __init__(self, lang: str, executable: str | None = None) -> None:
        exe = shutil.which(executable or "espeak-ng")
        if exe is None:
            raise SpeechUnavailable(f"{executable or 'espeak-ng'} is not installed")
        self.exe = exe
        self.lang = lang
        self.voice = VOICES.get(lang, lang)
        if not has_voice(exe, self.voice):
            raise SpeechUnavailable(f"espeak-ng has no voice for {lang!r}")

    def synthesize(self, text: str, wpm: float = 120.0) -> np.ndarray:
        """Speech samples for ``text`` at ``wpm`` words per minute, peak-normalised, silence trimmed."""
        proc = subprocess.run(
            [self.exe, "-v", self.voice, "-s", str(int(round(wpm / RATE_FACTOR.get(self.lang, 1.0)))), "-g", "4",
             "--stdout", spoken_numbers(text)],
            capture_output=True, timeout=60, check=False,
        )
        if proc.returncode != 0 or not proc.stdout:
            raise SpeechUnavailable(f"espeak-ng failed: {proc.stderr.decode(errors='replace').strip()[:200]}")
        return _normalise(_read_wav(proc.stdout))


@lru_cache(maxsize=8)
def has_voice(exe: str, voice: str) -> bool:
    """Whether ``espeak-ng --voices`` lists ``voice`` as a language (e.g. ``nl``, ``en-gb``)."""
    try:
        out = subprocess.run([exe, f"--voices={voice.split('-')[0]}"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return any(len(cols) > 1 and cols[1] == voice for cols in (line.split() for line in out.splitlines()[1:]))


def _read_wav(data: bytes) -> np.ndarray:
    # espeak-ng streams its WAV with placeholder sizes: take the format from the header, then all
    # bytes after the "data" tag.
    with wave.open(io.BytesIO(data)) as w:
        rate, width, channels = w.getframerate(), w.getsampwidth(), w.getnchannels()
    if width != 2:
        raise SpeechUnavailable("unexpected sample width from espeak-ng")
    start = data.find(b"data") + 8
    body = data[start:]
    pcm = np.frombuffer(body[: len(body) // 2 * 2], dtype="<i2").astype(float) / 32768.0
    if channels > 1:
        pcm = pcm[: pcm.size // channels * channels].reshape(-1, channels).mean(axis=1)
    if rate != SAMPLE_RATE:
        n = int(round(pcm.size * SAMPLE_RATE / rate))
        pcm = np.interp(np.linspace(0, pcm.size - 1, n), np.arange(pcm.size), pcm)
    return pcm


def _normalise(pcm: np.ndarray) -> np.ndarray:
    loud = np.flatnonzero(np.abs(pcm) > 0.01)
    if loud.size == 0:
        return np.zeros(0)
    pad = int(0.02 * SAMPLE_RATE)
    pcm = pcm[max(loud[0] - pad, 0): loud[-1] + pad]
    fade = min(pcm.size // 2, int(0.01 * SAMPLE_RATE))
    if fade:
        ramp = np.linspace(0.0, 1.0, fade)
        pcm[:fade] *= ramp
        pcm[-fade:] *= ramp[::-1]
    return pcm * (SPEECH_PEAK / max(float(np.abs(pcm).max()), 1e-9))


def open_speech(lang: str) -> EspeakSpeech:
    """The speech engine for ``lang``; raises SpeechUnavailable with a reason."""
    return EspeakSpeech(lang, settings.current().speech_engine)
