"""``biofeedback run --audio/--no-audio [--volume V]``: sound for the session, remembered in the profile.

No output device (or no PortAudio) is one notice and a silent session; no speech engine is one
notice and cues without speech. Nothing here can fail the session.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
from typing import Any

from biofeedback.breath_sound import SAMPLE_RATE
from sessions.i18n import tr
from sessions.source_options import unit_interval
from sessions.profile import load_profile, save_profile

log = logging.getLogger(__name__)

DEFAULT_VOLUME = 0.8


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
    remembered, fixed = stored_volume(stored)
    volume = remembered if volume is None else min(max(volume, 0.0), 1.0)
    if fixed or getattr(args, "audio", None) is not None or getattr(args, "volume", None) is not None:
        save_profile({"audio": {"on": on, "volume": volume}})
    return on, volume


def stored_volume(stored: dict[str, Any]) -> tuple[float, bool]:
    """The remembered volume, and whether it had to be mended: an older version could store NaN, -1 or 5
    (a later session silent with no word why), so a number outside 0-1 is clamped, anything else is the
    default, each said once in the log and written back mended."""
    raw = stored.get("volume")
    if raw is None:  # never set, or unknown (the profile's own notice said why)
        return DEFAULT_VOLUME, False
    if isinstance(raw, (int, float)) and not isinstance(raw, bool) and math.isfinite(raw):
        if 0.0 <= raw <= 1.0:
            return float(raw), False
        volume = min(max(float(raw), 0.0), 1.0)
    else:
        volume = DEFAULT_VOLUME
    log.warning("The remembered volume %r was not a number from 0 to 1; using %.1f (set it with --volume).", raw, volume)
    return volume, True


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
