"""``biofeedback record-voice SCRIPT``: record the lines of an exercise in a human voice.

Each line is kept as ``<line-id>.wav`` with its text beside it (:mod:`sessions.audio.voices`); the
session and ``render-audio`` use the recording wherever its text is still the line's text. Without a
microphone (or to use any recorder app), ``--import FOLDER`` takes WAV files named by their ids.
"""

from __future__ import annotations

import argparse
import io
import logging
import sys
import wave
from pathlib import Path

import numpy as np

from sessions.errors import UserError
from sessions.exercises import LANGUAGES, default_language, load_common, load_script, spoken_lines
from sessions.exercises.model import Prompt
from sessions.private_files import private_folder, write_private

log = logging.getLogger(__name__)

MAX_TAKE_S = 60.0

WORDS = {
    "en": {
        "folder": "Recordings of '{script}' ({language}) go in {folder} (shared lines: {common}).",
        "ok": "recorded", "missing": "not recorded", "changed": "recorded, but the text has changed since",
        "summary": "{ok} of {n} lines recorded.",
        "no_mic": "No microphone found: record the lines with any recorder app as WAV files named by their id "
                  "(see --list) and add them with --import FOLDER.",
        "no_sounddevice": "Recording needs the sounddevice package and PortAudio; without them, record the lines "
                          "with any recorder app as WAV files named by their id (see --list) and add them with "
                          "--import FOLDER.",
        "imported": "Added {n} recording(s) to {folder}.", "unknown": "Not a line of this exercise, skipped: {names}.",
        "unreadable": "{name} is not a WAV file this app can read (PCM, 8-32 bit); record it again as WAV.",
        "no_wavs": "{folder} holds no .wav files named by a line id (see --list).",
        "no_line": "'{line}' is not a line of this exercise; --list shows every line id.",
        "say": "Say: “{text}”", "start": "Enter to start, s to skip, q to stop: ",
        "stop": "Recording… Enter to stop. ", "keep": "Keep it? Enter = keep, r = again, s = skip: ",
        "kept": "Kept {id} ({s:.1f} s).", "all_done": "Every line has a recording.",
        "too_short": "That was too short to be a line; let's try again.",
    },
    "nl": {
        "folder": "Opnamen van ‘{script}’ ({language}) komen in {folder} (gedeelde zinnen: {common}).",
        "ok": "opgenomen", "missing": "niet opgenomen", "changed": "opgenomen, maar de tekst is sindsdien veranderd",
        "summary": "{ok} van de {n} zinnen opgenomen.",
        "no_mic": "Geen microfoon gevonden: neem de zinnen op met een opname-app, als WAV-bestanden met hun id als "
                  "naam (zie --list), en voeg ze toe met --import MAP.",
        "no_sounddevice": "Opnemen kan alleen met het pakket sounddevice en PortAudio; neem de zinnen anders op met "
                          "een opname-app, als WAV-bestanden met hun id als naam (zie --list), en voeg ze toe met "
                          "--import MAP.",
        "imported": "{n} opname(n) toegevoegd aan {folder}.",
        "unknown": "Geen zin van deze oefening, overgeslagen: {names}.",
        "unreadable": "{name} is geen WAV-bestand dat deze app kan lezen (PCM, 8-32 bit); neem het opnieuw op als WAV.",
        "no_wavs": "In {folder} staan geen .wav-bestanden met de id van een zin als naam (zie --list).",
        "no_line": "‘{line}’ is geen zin van deze oefening; --list laat alle ids zien.",
        "say": "Zeg: “{text}”", "start": "Enter om te beginnen, s om over te slaan, q om te stoppen: ",
        "stop": "Bezig met opnemen… Enter om te stoppen. ",
        "keep": "Bewaren? Enter = bewaren, r = opnieuw, s = overslaan: ",
        "kept": "{id} bewaard ({s:.1f} s).", "all_done": "Alle zinnen zijn opgenomen.",
        "too_short": "Dat was te kort voor een zin; we proberen het nog eens.",
    },
}


def say(lang: str, key: str, **fmt: object) -> str:
    return WORDS.get(lang, WORDS["en"])[key].format(**fmt)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "record-voice",
        help="record an exercise's lines in a human voice (used instead of the speech engine)",
        description="Record the spoken lines of an exercise, one by one, in your own voice or a voice you trust "
                    "(a therapist's, a friend's). The sessions and render-audio then use the recordings; a line "
                    "whose text has changed since it was recorded is spoken by the speech engine again.",
    )
    p.add_argument("script", help="exercise id (see `biofeedback scripts`)")
    p.add_argument("--lang", choices=LANGUAGES, default=None, help="language (default: from your system, else English)")
    p.add_argument("--list", action="store_true", help="list every line id with its text and whether it is recorded")
    p.add_argument("--line", metavar="ID", help="record only this line")
    p.add_argument("--import", dest="import_from", type=Path, metavar="FOLDER",
                   help="add WAV files named by their line id (e.g. find.sound.wav) from FOLDER")
    p.set_defaults(func=run)


def _lines(script_id: str, lang: str) -> list[Prompt]:
    from sessions.commands.run import person_senses
    from sessions.profile import load_profile

    script = load_script(script_id, lang, therapist_mode=True)  # recording a line is not running it
    _, own = person_senses(load_profile())
    return spoken_lines(script, load_common(lang), own=own)


def run(args: argparse.Namespace) -> int:
    from sessions.audio.voices import recording_state, voice_folder, voices_root

    lang = args.lang or default_language()
    lines = _lines(args.script, lang)
    folder = voice_folder(lang, args.script)
    print(say(lang, "folder", script=args.script, language=lang, folder=folder,
              common=voice_folder(lang, args.script, "common.x")))
    if args.line is not None:
        lines = [p for p in lines if p.id == args.line]
        if not lines:
            raise UserError(say(lang, "no_line", line=args.line))
    if args.list:
        states = [recording_state(lang, args.script, p.id, p.text) for p in lines]
        for p, state in zip(lines, states):
            print(f"{p.id:28s} {say(lang, state):14s} {p.text}")
        print(say(lang, "summary", ok=states.count("ok"), n=len(lines)))
        return 0
    private_folder(voice_folder(lang, args.script), root=voices_root())
    private_folder(voice_folder(lang, args.script, "common.x"), root=voices_root())
    if args.import_from is not None:
        return _import(args.import_from, lines, lang, args.script)
    return _record(lines, lang, args.script)


def _save(lang: str, script_id: str, prompt: Prompt, wav: bytes) -> Path:
    from sessions.audio.voices import voice_folder

    folder = voice_folder(lang, script_id, prompt.id)
    path = write_private(folder / f"{prompt.id}.wav", wav)
    write_private(folder / f"{prompt.id}.txt", prompt.text.encode("utf-8"))
    return path


def _import(source: Path, lines: list[Prompt], lang: str, script_id: str) -> int:
    from sessions.audio.voices import read_wav, voice_folder

    if not source.is_dir():
        raise UserError(f"{source}: no such folder; give the folder that holds the WAV files.")
    by_id = {p.id: p for p in lines}
    wavs = sorted(source.glob("*.wav"))
    known = [w for w in wavs if w.stem in by_id]
    unknown = [w.name for w in wavs if w.stem not in by_id]
    if not known:
        raise UserError(say(lang, "no_wavs", folder=source))
    for wav in known:
        data = wav.read_bytes()
        try:
            if read_wav(data).size == 0:
                raise ValueError("empty")
        except (wave.Error, EOFError, ValueError):
            raise UserError(say(lang, "unreadable", name=wav)) from None
        _save(lang, script_id, by_id[wav.stem], data)
    if unknown:
        print(say(lang, "unknown", names=", ".join(unknown)))
    print(say(lang, "imported", n=len(known), folder=voice_folder(lang, script_id)))
    return 0


def _input_device():
    """sounddevice and an input device, or a UserError that says how to record without one."""
    try:
        import sounddevice as sd
    except (ImportError, OSError):
        raise UserError(say(default_language(), "no_sounddevice")) from None
    try:
        devices = sd.query_devices()
    except Exception:  # noqa: BLE001 - PortAudio without any device raises its own error types
        devices = []
    if not any(d.get("max_input_channels", 0) > 0 for d in devices):
        return sd, None
    return sd, sd.default.device[0]


def _take(sd, device, rate: int, lang: str) -> np.ndarray:
    """One take from the microphone, from Enter to Enter (at most :data:`MAX_TAKE_S`)."""
    chunks: list[np.ndarray] = []
    with sd.InputStream(samplerate=rate, channels=1, dtype="int16", device=device,
                        callback=lambda data, *_: chunks.append(data.copy())):
        input(say(lang, "stop"))
    return np.concatenate(chunks).ravel()[: int(MAX_TAKE_S * rate)] if chunks else np.zeros(0, dtype=np.int16)


def _record(lines: list[Prompt], lang: str, script_id: str) -> int:
    from sessions.audio.voices import recording_state

    todo = [p for p in lines if recording_state(lang, script_id, p.id, p.text) != "ok"]
    if not todo:
        print(say(lang, "all_done"))
        return 0
    sd, device = _input_device()
    if device is None:
        raise UserError(say(lang, "no_mic"))
    if not sys.stdin.isatty():
        raise UserError(say(lang, "no_mic"))
    rate = 44100
    for prompt in todo:
        while True:
            print(f"\n{prompt.id}\n{say(lang, 'say', text=prompt.text)}")
            answer = input(say(lang, "start")).strip().lower()
            if answer == "q":
                return 0
            if answer == "s":
                break
            take = _take(sd, device, rate, lang)
            if take.size < rate // 2:
                print(say(lang, "too_short"))
                continue
            again = input(say(lang, "keep")).strip().lower()
            if again == "r":
                continue
            if again != "s":
                buf = io.BytesIO()
                with wave.open(buf, "wb") as w:
                    w.setnchannels(1)
                    w.setsampwidth(2)
                    w.setframerate(rate)
                    w.writeframes(take.tobytes())
                _save(lang, script_id, prompt, buf.getvalue())
                print(say(lang, "kept", id=prompt.id, s=take.size / rate))
            break
    return 0
