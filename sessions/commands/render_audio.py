"""``biofeedback render-audio``: an exercise as a WAV file, to listen to in bed without screen or strap.

A recording has no therapist, no distress detection and no stop grounding, so a therapist-only script
is rendered only when the therapist made a home version of it (``[meta] home_version = true`` with its
own spoken warning, closing and help line) and gives the passphrase; the home warning is said first,
the closing and the help line last.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from sessions.source_options import unit_interval
from sessions.errors import UserError
from sessions.exercises import DEFAULT_SCRIPT_ID, LANGUAGES, default_language, load_common, load_script
from sessions.i18n import tr
from sessions.exercises.model import Script
from sessions.profile import load_profile
from sessions.therapist import add_passphrase_argument, home_recording, open_gate, read_passphrase

log = logging.getLogger(__name__)


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected breaths per minute, not {text!r}") from None
    if not 4.0 <= value <= 20.0:
        raise argparse.ArgumentTypeError("the rate must lie between 4 and 20 breaths per minute")
    return value


def _own_rate(profile: dict) -> float | None:
    """The person's breathing rate at rest as their last session's quiet start measured it (None: not known)."""
    value = profile.get("breathing_rate")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "render-audio",
        help="write an exercise as a WAV file (breathing sounds and spoken prompts)",
        description="Render an exercise with a fixed breathing pacer into a WAV file: each step takes its "
                    "typical time (longer if its lines need it), prompts are spoken between inhale starts.",
    )
    p.add_argument("--script", default=DEFAULT_SCRIPT_ID, help=f"exercise id (default {DEFAULT_SCRIPT_ID})")
    p.add_argument("--lang", choices=LANGUAGES, default=None, help="language (default: from your system, else English)")
    p.add_argument("--rate", type=_rate, default=None, metavar="BPM",
                   help="pacer rate in breaths/min (default: your stored resonance rate, else 6)")
    p.add_argument("--volume", type=unit_interval, default=1.0, metavar="V", help="volume 0-1 (default 1)")
    p.add_argument("--no-pictures", action="store_true", help="leave out the 'see' variants of prompts")
    p.add_argument(
        "--bedtime", action=argparse.BooleanOptionalAction, default=None,
        help="bedtime shape: the pacer starts at your own breathing rate (from your last session, else 11/min) "
        "and slows to --rate by at most 1/min per half minute, its tone fades out over the last 3 minutes, "
        "and the file ends in silence after the last line (default: on for the evening rituals)",
    )
    p.add_argument("--therapist", action="store_true",
                   help="therapist mode (asks for the therapist's passphrase): renders the home version a "
                        "therapist made of a therapist-only exercise")
    add_passphrase_argument(p)
    p.add_argument("-o", "--output", required=True, metavar="FILE.wav", help="the WAV file to write")
    p.set_defaults(func=run)


def _gated_script(args: argparse.Namespace, lang: str) -> Script:
    """The script to render; a therapist-only one only as its home version, and only with the passphrase."""
    script = load_script(args.script, lang, therapist_mode=args.therapist)
    if script.therapist_only and script.home is None:
        raise UserError(
            f"The script '{script.id}' is meant to be done with a therapist, and no home version of it has been "
            "made, so it is not written as a recording to listen to alone."
        )
    if args.therapist:
        open_gate(script, read_passphrase(args.passphrase_file))
    return home_recording(script) if script.therapist_only else script


def run(args: argparse.Namespace) -> int:
    from sessions.audio.render import render_exercise, write_wav
    from sessions.audio.speech import SpeechUnavailable
    from sessions.audio.voices import open_voice
    from sessions.commands.run import person_senses

    lang = args.lang or default_language()
    out = Path(args.output)
    if out.suffix.lower() != ".wav":
        raise UserError(f"The output file must end in .wav, not {out.name!r}.")
    if not out.parent.is_dir():
        raise UserError(f"The folder {str(out.parent)!r} does not exist.")
    script = _gated_script(args, lang)
    profile = load_profile()
    rate = args.rate or profile.get("resonance_rate") or 6.0
    bedtime = script.bedtime if args.bedtime is None else bool(args.bedtime)
    try:
        speech = open_voice(lang, script.id)
    except SpeechUnavailable as err:
        raise UserError(f"Cannot speak the prompts: {err} (install espeak-ng).") from None
    senses, own = person_senses(profile, args.no_pictures)
    rendering = render_exercise(script, speech, float(rate), senses, own=own, hold_lines=load_common(lang).hold,
                                volume=min(max(args.volume, 0.0), 1.0), bedtime=bedtime,
                                start_rate=_own_rate(profile))
    write_wav(out, rendering.samples)
    print(tr(lang, "audio_written", path=str(out), minutes=rendering.duration_s / 60))
    return 0
