"""``biofeedback run --audio/--no-audio [--volume V]``: sound for the session, remembered in the profile.

No output device (or no PortAudio) is one notice and a silent session; no speech engine is one
notice and cues without speech. Nothing here can fail the session.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from typing import Any

from biofeedback.breath_sound import SAMPLE_RATE
from sessions.i18n import tr
from sessions.source_options import unit_interval
from sessions.profile import load_profile, save_profile

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--audio", action=argparse.BooleanOptionalAction, default=None,
                        help="breathing sounds and spoken prompts (remembered for next time; default on)")
    parser.add_argument("--volume", type=unit_interval, default=None, metavar="V",
                        help="sound volume 0-1 (remembered; default 0.8)")


def audio_choice(args: argparse.Namespace) -> tuple[bool, float]:
    """On/off and volume from the flags, else the profile; a flag given is stored for next time."""
    profile = load_profile()
    audio = profile.get("audio")
    stored: dict[str, Any] = audio if isinstance(audio, dict) else {}
    on = args.audio if getattr(args, "audio", None) is not None else bool(stored.get("on", True))
    volume = getattr(args, "volume", None)
    volume = float(stored.get("volume", 0.8)) if volume is None else min(max(volume, 0.0), 1.0)
    if getattr(args, "audio", None) is not None or getattr(args, "volume", None) is not None:
        save_profile({"audio": {"on": on, "volume": volume}})
    return on, volume


def attach(runner, args: argparse.Namespace, lang: str, console):
    on, volume = audio_choice(args)
    if not on:
        return None
    return _session_audio(runner, lang, console, volume, getattr(args, "speed", None) or 1.0)


@contextlib.asynccontextmanager
async def _session_audio(runner, lang: str, console, volume: float, speed: float):
    from sessions.audio.live import LiveAudio
    from sessions.audio.player import AudioUnavailable, open_player
    from sessions.audio.speech import SpeechUnavailable
    from sessions.audio.voices import open_voice

    try:
        player = open_player(SAMPLE_RATE)
    except AudioUnavailable as err:
        log.info("no audio output: %s", err)
        console.print(tr(lang, "audio_unavailable"), style="dim", highlight=False)
        yield
        return
    try:
        speech = open_voice(lang, runner.script.id)
    except SpeechUnavailable as err:
        log.info("no speech: %s", err)
        console.print(tr(lang, "speech_unavailable"), style="dim", highlight=False)
        speech = None
    live = LiveAudio(runner, player, speech, volume=volume, speed=speed)
    unsubscribe = runner.subscribe(live.on_event)
    if speech is not None:
        runner.prompt_hold = live.busy
    task = asyncio.create_task(live.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        runner.prompt_hold = None
        unsubscribe()
        player.close()
