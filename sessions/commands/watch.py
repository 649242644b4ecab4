"""``biofeedback watch``: follow live sessions published with ``run --mqtt`` (a therapist's view).

On a terminal: a table of sessions, redrawn twice a second. Piped: a transcript (status changes,
events, and the numbers every few seconds per session). With ``--web``: a page in the browser with a
live tile per session and marker buttons (:mod:`sessions.web`), the transcript going on beside it.

A therapist following several clients gives the prefix with ``+`` for the client level
(``mqtts://dr-a@host/biofeedback/+``, see ``therapist broker-config``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from sessions.errors import UserError
from sessions.extras import require
from sessions.exercises import LANGUAGES, default_language
from sessions.exercises.titles import script_title
from sessions.formatting import clock, number
from sessions.events import EventKind, StepKind
from sessions.i18n import WORDS, tr
from sessions.mqtt.config import SESSION_ID, add_broker_arguments, settings_from_args
from sessions.metric_registry import PUBLISHED
from sessions.mqtt.follow import Followed, Following, Update
from sessions.mqtt.schema import Topic
from sessions.source_options import positive_float

PLAIN_METRICS_EVERY_S = 5.0
STATE_STYLES = {"online": "#a9c9a4", "offline": "#6f8594", "lost": "#d5a07f", "quiet": "#d5a07f"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "watch",
        help="follow live sessions published with `run --mqtt` (curves in a window, or a terminal table)",
        description="Follow one or several sessions live over MQTT: heart rate, RMSSD, coherence, calm, pacer "
                    "and step; sessions that went offline are shown as such. Needs the MQTT extra.",
    )
    add_broker_arguments(p, url_help="the broker the sessions publish to: mqtt[s]://[user@]host[:port][/prefix]")
    p.add_argument("--session", metavar="ID", help="follow only this session id (default: all on the prefix)")
    p.add_argument("--seconds", type=positive_float, metavar="S", help="stop after S seconds")
    p.add_argument("--until-done", action="store_true",
                   help="stop once every session seen online has gone offline")
    p.add_argument("--lang", choices=LANGUAGES, default=None, help="interface language")
    p.add_argument("--headless", action="store_true", help="the terminal table even when a display is available")
    p.add_argument("--snapshot", type=Path, metavar="PATH", help="save a picture of the curves window at the end")
    web = p.add_argument_group("the page in a browser (--web; needs the 'web' extra)")
    web.add_argument("--web", action="store_true",
                     help="serve a page with a live tile per session and marker buttons (sent to sessions run with "
                          "--accept-markers); its address, with a key, is printed at the start")
    web.add_argument("--bind", default="127.0.0.1", metavar="ADDR",
                     help="the address to serve on (default 127.0.0.1: this computer only)")
    web.add_argument("--port", type=int, default=8765, metavar="P", help="the port (default 8765; 0 picks a free one)")
    web.add_argument("--allow-network", action="store_true",
                     help="needed with a --bind other than this computer: the page then goes over the network "
                          "without TLS (prefer an SSH tunnel to 127.0.0.1)")
    p.set_defaults(func=run)


@lru_cache(maxsize=64)
def _step_titles(script: str, lang: str) -> dict[str, str]:
    """A script's step ids -> the titles a person reads (empty when the watcher does not know the script)."""
    from sessions.exercises import load_script

    try:
        return {st.id: st.title for st in load_script(script, lang, therapist_mode=True).steps if st.title}
    except (UserError, OSError, ValueError):
        return {}


def step_title(script: str | None, step: Any, lang: str) -> str:
    """The published step (an id, or a position) as a person reads it: 'Terugkomen', not 'return'."""
    if step is None:
        return "–"
    if isinstance(step, int):
        return f"{tr(lang, 'step')} {step + 1}"
    text = str(step)
    if text == StepKind.BASELINE:
        return tr(lang, "baseline_title")
    title = _step_titles(script, lang).get(text) if script else None
    return title or text.replace("-", " ").replace("_", " ").capitalize()


def _word(lang: str, key: str, fallback: str) -> str:
    return tr(lang, key) if key in WORDS["en"] else fallback


def end_text(s: Followed, lang: str) -> str:
    """Why the session ended, in words ('' while it runs)."""
    if s.state != "offline":
        return ""
    reason = s.end_reason or s.reason or "done"
    return tr(lang, "watch_ended", reason=_word(lang, f"end_{reason}", reason.replace("_", " ")))


def values_text(s: Followed, lang: str) -> str:
    """The current numbers with their units: 'heart rate 72 bpm · RMSSD 41 ms · …' ('' before any)."""
    values = s.metrics
    return " · ".join(f"{spec.name(lang)} {with_unit(spec.format(values.get(spec.wire)), spec.unit)}" for spec in PUBLISHED
                      if values.get(spec.wire) is not None)


def with_unit(text: str, unit: str) -> str:
    """'72 bpm', '6.0/min'; the text alone when there is no unit or no value."""
    if not unit or text == "–":
        return text
    return text + unit if unit.startswith("/") else f"{text} {unit}"


def care_text(s: Followed, lang: str, short: bool = False) -> str:
    """Distress and care, plainly ('' when there was none); ``short`` for a table cell: '⚠ 2× 05:12 · care'."""
    parts = []
    if s.distress and short:
        parts.append(f"⚠ {s.distress}× {clock(s.last_distress_t)}")
    elif s.distress:
        parts.append(tr(lang, "watch_distress_one" if s.distress == 1 else "watch_distress_n", n=s.distress,
                        clock=clock(s.last_distress_t)))
    if (s.in_care or s.had_care) and short:
        parts.append(tr(lang, "ev_care") + ("" if s.in_care else " ✓"))
    elif s.in_care or s.had_care:
        parts.append(tr(lang, "watch_care" if s.in_care else "watch_cared"))
    return " · ".join(parts)


def count_text(n: int, lang: str) -> str:
    return tr(lang, "watch_count_one") if n == 1 else tr(lang, "watch_count_n", n=n)


def _event_text(ev: dict[str, Any] | None, lang: str = "en", script: str | None = None) -> str:
    if not ev:
        return ""
    kind = str(ev.get("kind", "?"))
    if ev.get("step") is not None:
        detail: Any = step_title(script, ev.get("step"), lang)
    else:
        reason = ev.get("reason")
        source = ev.get("source")
        ending = kind in (EventKind.DONE, EventKind.STOP)  # a reason why it ended; else why grounding began
        detail = (_word(lang, f"{'end' if ending else 'ev'}_{reason}", str(reason).replace("_", " ")) if reason is not None
                  else ev.get("state") or ev.get("rate") or (_word(lang, f"src_{source}", str(source)) if source else None))
    return f"{clock(ev.get('t'))} {_word(lang, f'ev_{kind}', kind)}" + (f" {detail}" if detail is not None else "")


def table(following: Following, lang: str, now: float) -> Table:
    t = Table(title=tr(lang, "watch_title"), title_style="bold #9fb8c8", border_style="#2d3a42")
    for col in ("col_session", "col_state", "col_time", "col_step"):
        t.add_column(tr(lang, col))
    t.add_column("RR (ms)", justify="right")
    for m in PUBLISHED:
        t.add_column(m.titled(lang), justify="right")
    t.add_column(tr(lang, "ev_distress"))
    t.add_column(tr(lang, "col_last_event"))
    t.add_column(tr(lang, "col_seen"), justify="right")
    for s in sorted(following.sessions.values(), key=lambda s: s.sid):
        shown = s.shown_state(now)
        values = s.metrics
        style = STATE_STYLES.get(shown, "")
        state = " · ".join(x for x in (_state_text(lang, shown), end_text(s, lang)) if x)
        # Every cell is a Text: what came over the wire is shown literally, never read as markup.
        cells = (s.sid, state, clock(values.get("t")), step_title(s.script, values.get("step"), lang),
                 number(values.get("rr")), *(spec.format(values.get(spec.wire)) for spec in PUBLISHED),
                 care_text(s, lang, short=True), _event_text(s.last_event, lang, s.script),
                 f"{now - s.last_rx:.0f} s" if s.last_rx else "–")
        alert = 5 + len(PUBLISHED)  # the distress/care cell
        styles = {1: style, alert: "bold #e07a5f"}
        t.add_row(*(Text(cell, style=styles.get(i, "")) for i, cell in enumerate(cells)))
    dropped = sum(following.dropped.values())
    if dropped:
        t.caption = f"{dropped} ✗"
        t.caption_style = "#d5a07f"
    return t


def _state_text(lang: str, shown: str) -> str:
    return tr(lang, "state_" + shown) if shown in STATE_STYLES else "?"


class _Transcript:
    """Piped output: one line per status change and event, the numbers every few seconds."""

    def __init__(self, following: Following, console: Console, lang: str) -> None:
        self.following, self.console, self.lang = following, console, lang
        self._last_numbers: dict[str, float] = {}

    def __call__(self, u: Update) -> None:
        s: Followed = self.following.sessions[u.sid]
        p = u.payload
        if u.kind is Topic.STATUS:
            self._line(f"{u.sid} {_state_text(self.lang, s.shown_state(time.time()))}"
                       + (f" ({script_title(str(p['script']), self.lang)})" if p.get("script") else ""))
        elif u.kind is Topic.EVENTS:
            self._line(f"{u.sid} {_event_text(p, self.lang, s.script)}")
        elif time.monotonic() - self._last_numbers.get(u.sid, -1e9) >= PLAIN_METRICS_EVERY_S:
            self._last_numbers[u.sid] = time.monotonic()
            numbers = " · ".join(f"{spec.name(self.lang)} {spec.format(p.get(spec.wire))}" for spec in PUBLISHED)
            self._line(f"{u.sid} {clock(p.get('t'))} {tr(self.lang, 'step')} {step_title(s.script, p.get('step'), self.lang)} · "
                       f"RR {number(p.get('rr'))} · {numbers}")

    def _line(self, text: str) -> None:
        self.console.print(text, highlight=False, markup=False)


async def _watch(args: argparse.Namespace, console: Console, window: str | None = None) -> int:
    from sessions.mqtt.watcher import follow

    lang = args.lang or default_language()
    settings = settings_from_args(args, wildcards=True)
    following = Following(settings.prefix)
    start = time.monotonic()

    def until() -> bool:
        if args.seconds is not None and time.monotonic() - start >= args.seconds:
            return True
        return bool(args.until_done and following.all_finished())

    def say(text: str) -> None:
        console.print(text, style="dim", highlight=False, markup=False)

    say(tr(lang, "watch_waiting", where=settings.describe()))
    if args.web:
        return await _watch_web(args, console, following, lang, settings, until, say)
    if window is not None:
        from sessions.gui.watch_window import WatchWindow

        on_update = _Transcript(following, console, lang) if not console.is_terminal else (lambda u: None)
        task = asyncio.create_task(follow(settings, following, on_update, sid=args.session, lang=lang,
                                          say=say, until=until))
        view = WatchWindow(following, lang)
        await view.run_until(task)
        if args.snapshot is not None:
            view.save(args.snapshot)
        if not task.done():  # the window was closed: stop following
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return 0
    if not console.is_terminal:
        await follow(settings, following, _Transcript(following, console, lang), sid=args.session, lang=lang,
                     say=say, until=until)
        return 0
    task = asyncio.create_task(follow(settings, following, lambda u: None, sid=args.session, lang=lang,
                                      say=say, until=until))
    with Live(table(following, lang, time.time()), console=console, refresh_per_second=2) as live:
        while not task.done():
            live.update(table(following, lang, time.time()))
            await asyncio.wait({task}, timeout=0.5)
        live.update(table(following, lang, time.time()))
    await task
    return 0


WEB_TEXTS = {
    "en": {"open": "Open the page: {url}", "key": "The address holds a key: whoever has it sees these sessions; "
           "do not share it.", "network": "The page is served on {bind} to the network, without TLS: anyone on the "
           "way can read it. An SSH tunnel to 127.0.0.1 is safer."},
    "nl": {"open": "Open de pagina: {url}", "key": "In het adres zit een sleutel: wie het heeft, ziet deze sessies; "
           "deel het niet.", "network": "De pagina wordt op {bind} aan het netwerk aangeboden, zonder TLS: iedereen "
           "onderweg kan meelezen. Een SSH-tunnel naar 127.0.0.1 is veiliger."},
}


async def _watch_web(args: argparse.Namespace, console: Console, following: Following, lang: str, settings: Any,
                     until: Any, say: Any) -> int:
    """The page and the broker on one loop; a transcript goes on in the terminal."""
    from sessions.mqtt.watcher import Link, follow
    from sessions.web.server import WatchPage

    texts = WEB_TEXTS.get(lang, WEB_TEXTS["en"])
    link = Link()
    page = WatchPage(following, link, lang=lang)
    url = await page.start(args.bind, args.port)
    console.print(texts["open"].format(url=url), highlight=False, markup=False, soft_wrap=True)
    console.print(texts["key"], style="dim", highlight=False, markup=False)
    if args.bind not in ("127.0.0.1", "::1", "localhost"):
        console.print(texts["network"].format(bind=args.bind), style="bold #d5a07f", highlight=False, markup=False)
    transcript = _Transcript(following, console, lang)

    def on_update(u: Update) -> None:
        page.on_update(u)
        transcript(u)

    try:
        await follow(settings, following, on_update, sid=args.session, lang=lang, say=say, until=until, link=link)
    finally:
        await page.stop()
    return 0


def _check_web(args: argparse.Namespace) -> None:
    if not args.web:
        for flag, default in (("bind", "127.0.0.1"), ("port", 8765), ("allow_network", False)):
            if getattr(args, flag) != default:
                raise UserError(f"--{flag.replace('_', '-')} only applies with --web; add --web or drop it.")
        return
    if args.snapshot is not None:
        raise UserError("--snapshot takes a picture of the curves window, not of the page; drop one of --web and --snapshot.")
    if not 0 <= args.port < 65536:
        raise UserError("--port takes a number from 0 to 65535 (0 picks a free one).")
    if args.bind not in ("127.0.0.1", "::1", "localhost") and not args.allow_network:
        raise UserError(f"--bind {args.bind} would show these sessions to the network; add --allow-network if you "
                        "mean it (an SSH tunnel to 127.0.0.1 is safer).")
    require("web", "watch --web")


def run(args: argparse.Namespace) -> int:
    if not args.mqtt:
        raise UserError("watch needs the broker's address: --mqtt mqtt[s]://[user@]host[:port][/prefix].")
    _check_web(args)
    if args.session is not None and not SESSION_ID.match(args.session):
        raise UserError("--session takes a session id as published: lower-case letters, digits and '-'.")
    require("mqtt", "watch")
    console = Console()
    window = None if args.web else _window_mode(args)
    try:
        if window is None:
            return asyncio.run(_watch(args, console))
        from sessions.gui.app import run_in_qt

        return run_in_qt(_watch(args, console, window), offscreen=(window == "offscreen"))
    except KeyboardInterrupt:
        return 0


def _window_mode(args: argparse.Namespace) -> str | None:
    """'screen' with a display, 'offscreen' only to take --snapshot, None for the terminal table."""
    from sessions.gui import display_available, gui_installed, install_hint, qt_platform_problem

    if args.snapshot is not None:
        if args.headless:
            raise UserError("--snapshot takes a picture of the curves window; drop --headless to use it.")
        if not args.snapshot.parent.is_dir():
            raise UserError(f"{args.snapshot.parent}: no such folder for the snapshot; check the path.")
        if not gui_installed():
            raise UserError(f"--snapshot needs the window; {install_hint()}.")
    if args.headless or not gui_installed():
        return None
    if display_available():
        problem = qt_platform_problem()
        if problem is None:
            return "screen"
        print(f"{problem[:1].upper()}{problem[1:]}; following in the terminal instead.", file=sys.stderr)
    return "offscreen" if args.snapshot is not None else None
