"""``biofeedback run``: an imagery exercise paced by the body, recorded as it goes."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import shutil
import signal
import sys

from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.console import Console

from devices.ble_strap import BleStrap
from devices.errors import DeviceError
from devices.source import HeartSource
from biofeedback.bedtime import SLEEP_TIMER_MAX_MIN, SLEEP_TIMER_MIN_MIN
from biofeedback.pacer import IMPLAUSIBLE_BELOW, MAX_RATE, GuideConfig
from sessions.addons import add_addon_arguments, attached_addons
from sessions.events import EventKind, RatingWhen
from sessions.errors import UserError
from sessions.exercises import (DEFAULT_SCRIPT_ID, LANGUAGES, NON_VISUAL_SENSES, SENSES, CommonTexts, Script, default_language,
                                load_common, load_script)
from sessions.i18n import tr
from sessions.profile import load_profile, save_profile
from sessions.rating_flow import RatingAsker
from sessions.runner import RunResult, SessionRunner
from sessions.source_options import add_source_arguments, open_source, positive_float, reject_stray_flags
from sessions.store import SessionWriter, delete_session_file, new_session_writer, payload_format_of
from sessions.terminal_view import TerminalView
from sessions.therapist import add_passphrase_argument, open_gate, read_passphrase, therapist_intro

if TYPE_CHECKING:
    from sessions.gui.window import SessionWindow

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="run an imagery exercise with a breathing pacer that follows your body",
        description="Run an exercise: a quiet baseline, then the script's steps with a breathing pacer and "
                    "prompts paced by your heart. q stops (with a short grounding), g says 'this is too "
                    "much', space pauses, n skips to the next step. Everything is recorded locally.",
    )
    p.add_argument(
        "--script",
        default=DEFAULT_SCRIPT_ID,
        help=f"exercise id (see `biofeedback scripts`; default {DEFAULT_SCRIPT_ID})",
    )
    p.add_argument(
        "--lang",
        choices=LANGUAGES,
        default=None,
        help="language of the exercise (default: from your system, else English)",
    )
    add_source_arguments(p)
    p.add_argument("--headless", action="store_true", help="terminal view even when a display is available")
    p.add_argument(
        "--snapshot",
        type=Path,
        metavar="PATH",
        help="save a picture of the window at the end of the session (PNG, or JPEG by suffix), "
        "e.g. to share with a therapist; works without a display too",
    )
    p.add_argument(
        "--duration", type=positive_float, metavar="S", help="stop (with the closing grounding) after S seconds"
    )
    p.add_argument(
        "--no-pictures",
        action="store_true",
        help="leave out the 'see' variants of prompts (for people who do not think in pictures)",
    )
    add_bedtime_argument(p)
    p.add_argument(
        "--sleep-timer", type=sleep_minutes, metavar="MIN",
        help="bedtime: end quietly after MIN minutes (1-180), the pacer's tone fading out before; "
        "the pacer goes on quietly after the last line until then",
    )
    p.add_argument(
        "--therapist", action="store_true",
        help="therapist mode (asks for the therapist's passphrase): for exercises the therapist unlocked for you",
    )
    add_passphrase_argument(p)
    p.add_argument(
        "--no-ratings", action="store_true",
        help="do not ask how tense you feel before and after (asked only when someone is at the window or "
        "terminal; every question can be skipped with Enter)",
    )
    add_addon_arguments(p)
    p.set_defaults(func=run)


def add_bedtime_argument(p: argparse.ArgumentParser) -> None:
    """``--bedtime/--no-bedtime`` (run and render-audio): default None, i.e. the script's own ``bedtime``."""
    p.add_argument(
        "--bedtime", action=argparse.BooleanOptionalAction, default=None,
        help="bedtime mode: a near-black screen with only a dim pacer, no numbers, a start at your own "
        "breathing rate, a tone that fades out, and the window closes itself at the end "
        "(default: on for the evening rituals, see `biofeedback scripts`)",
    )


def sleep_minutes(text: str) -> float:
    """A sleep timer in minutes: 1 to 180."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of minutes") from None
    if not SLEEP_TIMER_MIN_MIN <= value <= SLEEP_TIMER_MAX_MIN:  # also false for NaN
        raise argparse.ArgumentTypeError(
            f"'{text}': a sleep timer lies between {SLEEP_TIMER_MIN_MIN:g} and {SLEEP_TIMER_MAX_MIN:g} minutes")
    return value


def bedtime_mode(args: argparse.Namespace, script: Script) -> bool:
    """Bedtime mode as asked (``--bedtime/--no-bedtime``), else the script's own; a sleep timer asks for it."""
    asked = getattr(args, "bedtime", None)
    timer = getattr(args, "sleep_timer", None)
    if timer is not None and asked is False:
        raise UserError("--sleep-timer is for bedtime mode; drop --no-bedtime (or the timer).")
    if asked is not None:
        return bool(asked)
    return bool(getattr(script, "bedtime", False)) or timer is not None


def _sleep_timer_s(args: argparse.Namespace) -> float | None:
    minutes = getattr(args, "sleep_timer", None)
    return None if minutes is None else float(minutes) * 60.0


async def _run(args: argparse.Namespace, console: Console, window: str | None = None) -> int:
    lang = args.lang or default_language()
    script = load_script(args.script, lang, therapist_mode=args.therapist)
    common = load_common(lang)
    profile = load_profile()
    bedtime = bedtime_mode(args, script)
    _announce(console, common, script, first_time=not profile.get("first_run_seen"))
    if window == "screen" and script.id.startswith("safe-place") and _first_safe_place(profile):
        profile = await _offer_safe_place(lang, profile)
    source: HeartSource
    if window == "screen" and not (args.simulate or args.replay or args.device):
        source = await _paired_strap(lang, profile)
    else:
        source = await open_source(args)
    # Asked once the strap is chosen, right before the quiet start: "how do you feel now" is part of starting,
    # not a question before the strap is even on (and a strap that is not found asks nothing).
    asker = RatingAsker.for_run(args, lang, script, window, bedtime)
    before = await asker.ask(RatingWhen.BEFORE)
    senses, own = person_senses(profile, args.no_pictures)
    session_id, writer = new_session_writer(
        {
            "script": script.id,
            "language": lang,
            "title": script.title,
            "source": source.describe(),
            "senses": list(senses),
            "therapist_mode": bool(args.therapist),
            "resonance_rate_used": profile.get("resonance_rate"),
            "bedtime": bedtime,
            "sleep_timer_min": args.sleep_timer,
        },
        payload_format=payload_format_of(source),
    )
    path = writer.path
    runner = SessionRunner(
        source,
        script,
        common,
        writer,
        senses=senses,
        own=own,
        duration_s=args.duration,
        resonance_rate=profile.get("resonance_rate"),
        stored_baseline=profile.get("baseline"),
        bedtime=bedtime,
        sleep_timer_s=_sleep_timer_s(args),
    )
    if before is not None:
        runner.record_rating(before.data())
    quiet_start = _QuietStartRate(runner)
    view = _view(runner, lang, console, window, args.snapshot)
    interrupts = _Interrupts(runner, console, lang)
    interrupts.after_end = None if isinstance(view, TerminalView) else view.close
    interrupts.install(in_window=window is not None)
    reason = "aborted"
    try:
        async with attached_addons(runner, args, lang, console):  # a bad add-on flag fails here, before any data
            task = interrupts.task = asyncio.create_task(runner.run())
            await view.run_live(task)
            result = await task
        reason = result.reason
    except asyncio.CancelledError:
        result = None
    except (DeviceError, UserError):
        # The strap never came, or a flag was wrong: an empty record is no use to anyone.
        writer.close(end_reason="not started")
        if runner.state.beats == 0:
            delete_session_file(path)
        raise
    finally:
        if writer.db is not None:
            writer.close(end_reason=reason)
    if result is not None:
        _remember(runner, result, session_id, source.name != "replay", console, quiet_start.rate, lang)
        await asker.after(path, result.duration_s, before, console,
                          view if not isinstance(view, TerminalView) else None)
        calm = ""
        if result.calm_start is not None and result.calm_end is not None:
            calm = f", {tr(lang, 'calm')} {result.calm_start:.0f} → {result.calm_end:.0f}"
        console.print(
            f"{tr(lang, 'saved')}: {session_id} ({result.duration_s / 60:.1f} min, {result.beats} "
            f"{tr(lang, 'beats_word')}{calm}).",
            highlight=False,
        )
        console.print(tr(lang, "review_hint", id=session_id, cmd=command_name()), style="dim", highlight=False)
    _say_what_was_kept(console, writer)
    if not isinstance(view, TerminalView):
        if args.snapshot is not None and result is not None:
            _say_snapshot(console, lang, args.snapshot, view.snapshot_error)
        await view.linger()
    if result is None and not path.exists():
        return 130
    if result is None:
        console.print(tr(lang, "kept_partial", id=session_id, cmd=command_name()), highlight=False)
        return 130
    return 0


def _view(runner: SessionRunner, lang: str, console: Console, window: str | None,
          snapshot: Path | None) -> TerminalView | SessionWindow:
    """The terminal panel, or the window (with the terminal's transcript when the output is a pipe or a log)."""
    if window is None:
        return TerminalView(runner, lang, console=console)
    from sessions.gui.window import SessionWindow

    TerminalView(runner, lang, console=console)
    return SessionWindow(runner, lang, close_at_end=(window == "offscreen"), snapshot=snapshot)


def person_senses(profile: dict[str, Any], no_pictures: bool = False) -> tuple[tuple[str, ...], dict[str, str]]:
    """The senses a person's exercises use and their own safe-place answers (``biofeedback safe-place``);
    without a safe place of their own, all senses and the general lines. ``--no-pictures`` leaves sight out."""
    from sessions.safe_place import SafePlace

    raw = profile.get("safe_place")
    place = SafePlace.from_dict(raw) if isinstance(raw, dict) else None
    senses = tuple(place.senses) if place is not None and place.senses else SENSES
    if no_pictures:
        senses = tuple(s for s in senses if s != "sight") or NON_VISUAL_SENSES
    return senses, (place.placeholders() if place is not None else {})


def _first_safe_place(profile: dict[str, Any]) -> bool:
    """Before the first safe-place session in a window, and only then: no place of their own yet."""
    return not profile.get("safe_place") and not profile.get("safe_place_offered")


async def _offer_safe_place(lang: str, profile: dict[str, Any]) -> dict[str, Any]:
    """The safe-place builder, once, before the first safe-place session in a window (Cancel skips it;
    ``biofeedback safe-place`` is there any time). Shown without blocking the event loop."""
    from sessions.gui.safe_place_dialog import SafePlaceDialog
    from sessions.safe_place import save_safe_place

    dialog = SafePlaceDialog(lang, None)
    done = asyncio.get_running_loop().create_future()

    def finished(code: int) -> None:
        if not done.done():
            done.set_result(code)

    dialog.finished.connect(finished)
    dialog.open()
    code = await done
    if code and dialog.result_place is not None:
        save_safe_place(dialog.result_place)
    return save_profile({"safe_place_offered": True})


def _say_snapshot(console: Console, lang: str, path: Path, error: str | None) -> None:
    if error is None:
        console.print(f"{tr(lang, 'gui_snapshot_saved')}: {path}", highlight=False, soft_wrap=True)
    else:
        console.print(f"{tr(lang, 'gui_snapshot_failed')}: {path} ({error})", highlight=False, soft_wrap=True)


def _say_what_was_kept(console: Console, writer: SessionWriter) -> None:
    """When the record stopped early (a full disk), the last line says up to when it holds the session."""
    note = writer.failure_note()
    if note is not None:
        console.print(note, style="yellow", highlight=False)


def command_name() -> str:
    """How to call this program again: ``biofeedback`` when it is on PATH, else the path it was run by
    (after the README's install it lives in ``.venv/bin/``)."""
    if shutil.which("biofeedback"):
        return "biofeedback"
    argv0 = Path(sys.argv[0])
    return str(argv0) if argv0.name == "biofeedback" else f"{sys.executable} -m sessions"


def _announce(console: Console, common: CommonTexts, script: Script, first_time: bool = False) -> None:
    """The relaxation-tool line; before the very first session what imagery is and isn't (once; again with
    ``biofeedback help imagery``); for a therapist-only script its notice, warning, the question and the notes."""
    console.print(common.disclaimer, style="dim", highlight=False)
    if first_time and common.first_run:
        console.print("")
        for line in common.first_run:
            console.print(line, highlight=False)
        console.print("")
        save_profile({"first_run_seen": True})
    if script.therapist_only:
        console.print(common.therapist_notice, style="bold", highlight=False)
        if script.warning:
            console.print(script.warning, style="bold", highlight=False)
        for line in therapist_intro(script, script.language):
            console.print(line, style="bold", highlight=False)


def _open_therapist_gate(args: argparse.Namespace) -> None:
    """Therapist mode only with the therapist's passphrase (and a therapist-only script unlocked for this client).

    Asked here, before any window or event loop, so the terminal prompt is not blocked by either.
    """
    script = load_script(args.script, args.lang or default_language(), therapist_mode=True)
    open_gate(script, read_passphrase(args.passphrase_file))


class _QuietStartRate:
    """The person's own breathing rate as the quiet start measured it (when the estimate is confident), for
    ``render-audio --bedtime`` to start from next time."""

    def __init__(self, runner: SessionRunner) -> None:
        self.rate: float | None = None
        self._runner = runner
        runner.subscribe(self._on_event)

    def _on_event(self, kind: EventKind, t: float, data: dict[str, Any]) -> None:
        if kind is not EventKind.BASELINE:
            return
        values = self._runner.state.values
        rate, confidence = values.get("breathing_rate"), values.get("breathing_confidence")
        if (rate is not None and math.isfinite(rate) and IMPLAUSIBLE_BELOW <= rate <= MAX_RATE
                and confidence is not None and confidence >= GuideConfig().min_start_confidence):
            self.rate = round(float(rate), 1)


def _remember(runner: SessionRunner, result: RunResult, session_id: str, store: bool, console: Console,
              breathing_rate: float | None = None, lang: str = "en") -> None:
    """What the next session starts from: the resting baseline, the resonance rate and the breathing rate
    at rest (not from a replay)."""
    updates: dict[str, Any] = {}
    if breathing_rate is not None:
        updates["breathing_rate"] = breathing_rate
    if runner.calm is not None and runner.state.baseline_hr:
        updates["baseline"] = {**runner.calm.baseline.to_dict(), "session": session_id}
    if result.resonance_rate is not None:
        updates["resonance_rate"] = result.resonance_rate
        console.print(tr(lang, "resonance_stored", rate=f"{result.resonance_rate:.1f}"), highlight=False)
    if updates and store:
        save_profile(updates)


class _Interrupts:
    """Ctrl-C once stops with the closing grounding; twice quits at once.

    SIGTERM and SIGHUP (a shutdown, a closed terminal) cannot wait for the whole grounding: a system
    shutdown escalates after about 10 s. They stop with the grounding's last line only, so the record
    is finished within a few seconds and the session still ends on a grounding line.
    """

    def __init__(self, runner: SessionRunner, console: Console, lang: str) -> None:
        self.runner, self.console, self.lang = runner, console, lang
        self.count = 0
        self.task: asyncio.Task[RunResult] | None = None
        self.after_end: Callable[[], Any] | None = None
        """What a Ctrl-C does once the session is over (the window still showing it): close it, quietly."""

    def __call__(self, hurry: bool = False) -> None:
        if self.task is not None and self.task.done():
            # Over and saved: no "a short grounding follows" any more, the lingering window just closes.
            if self.after_end is not None:
                self.after_end()
            return
        self.count += 1
        if self.count == 1:
            self.console.print(tr(self.lang, "stopping_hint"), style="dim")
            self.runner.stop("signal" if hurry else "user")
            if hurry:
                self.runner.stop("signal")  # a second stop goes to the grounding's last line
        elif self.task is not None:
            self.task.cancel()

    def install(self, in_window: bool) -> None:
        loop = asyncio.get_running_loop()
        hurried = (signal.SIGTERM, signal.SIGHUP)
        try:
            loop.add_signal_handler(signal.SIGINT, self)
            for sig in hurried:
                loop.add_signal_handler(sig, self, True)
        except (NotImplementedError, RuntimeError):  # not on this platform / not the main thread / the Qt loop
            if in_window:
                with contextlib.suppress(ValueError):  # Python runs this between Qt's frames, in the loop's thread
                    signal.signal(signal.SIGINT, lambda *_: loop.call_soon_threadsafe(self))
                    for sig in hurried:
                        signal.signal(sig, lambda *_: loop.call_soon_threadsafe(self, True))


async def _paired_strap(lang: str, profile: dict) -> BleStrap:
    """The strap the person picks in the pairing dialog; remembered to be offered first next time."""
    from sessions.gui.pairing import choose_strap

    chosen = await choose_strap(lang, profile.get("last_strap"))
    if chosen is None:
        raise UserError("no strap was chosen; put the strap on and pick it, or run with --simulate.")
    save_profile({"last_strap": {"address": chosen.address, "name": chosen.name}})
    return BleStrap(chosen.address)


def _window_mode(args: argparse.Namespace) -> str | None:
    """'screen' for a window a person sees, 'offscreen' to render only the snapshot, None for the terminal."""
    if args.snapshot is not None:
        if args.headless:
            raise UserError("--snapshot takes a picture of the window; drop --headless to use it.")
        if not args.snapshot.parent.is_dir():
            raise UserError(f"{args.snapshot.parent}: no such folder for the snapshot; check the path.")
    if args.headless:
        return None
    from sessions.gui import display_available, gui_installed, install_hint, qt_platform_problem

    if not gui_installed():
        if args.snapshot is not None:
            raise UserError(f"--snapshot needs the window; {install_hint()}.")
        if display_available():
            print(f"The window is not installed, so the session runs in the terminal; {install_hint()}", file=sys.stderr)
        return None
    if display_available():
        problem = qt_platform_problem()
        if problem is None:
            return "screen"
        print(f"{problem[:1].upper()}{problem[1:]}; the session runs in the terminal instead.", file=sys.stderr)
        if args.snapshot is None:
            return None
    return "offscreen" if args.snapshot is not None else None


def run(args: argparse.Namespace) -> int:
    reject_stray_flags(args)
    if args.therapist:
        _open_therapist_gate(args)
    console = Console(stderr=False)
    window = _window_mode(args)
    if window is None:
        return asyncio.run(_run(args, console))
    from sessions.gui.app import run_in_qt

    return run_in_qt(_run(args, console, window), offscreen=(window == "offscreen"))
