"""The terminal view: the pacer, the prompt and the body's numbers, with one-key controls.

On a terminal it draws a calm full-screen panel (rich) and reads single keys; piped or in CI it
prints the prompts and events as plain lines, so a log of the session reads like a transcript.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import sys
import termios
import time
import tty
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from rich.align import Align
from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from biofeedback.coherence_zones import ZoneTally, zone
from sessions import metric_registry as registry
from sessions.events import NO_SIGNAL_S, EventKind, SessionPhase
from sessions.formatting import clock
from sessions.help_texts import help_lines, help_title, not_medical_device
from sessions.literal_text import literal, plain
from sessions.i18n import WORDS, tr
from sessions.runner import LiveState, SessionRunner

log = logging.getLogger(__name__)

KEYS: dict[str, Callable[[SessionRunner], None]] = {
    "q": SessionRunner.stop, "\x1b": SessionRunner.stop, "g": SessionRunner.too_much, " ": SessionRunner.toggle_pause,
    "n": SessionRunner.next_step, "r": SessionRunner.resume, "m": SessionRunner.add_marker,
}
"""One key, one control; m marks the moment with the plain label "marker" (the window offers a word)."""
HELP_KEY = "h"
TRANSCRIBED = frozenset({EventKind.DISTRESS, EventKind.STOP, EventKind.DONE, EventKind.BASELINE,
                         EventKind.RESONANCE_RATE, EventKind.PAUSE, EventKind.RESUME, EventKind.MARKER})
"""Events the plain transcript prints with their fields."""
QUIET_LINK_STATES = frozenset({"device_info", "malformed"})


class TerminalView:
    """Renders a runner's :class:`LiveState`; ``plain`` prints lines instead of a live panel."""

    def __init__(self, runner: SessionRunner, lang: str, *, plain: bool | None = None, console: Console | None = None) -> None:
        self.runner = runner
        self.lang = lang
        self.console = console or Console()
        self.plain = (not self.console.is_terminal) if plain is None else plain
        self._last_status = -1e9
        self.showing_help = False
        self.history: dict[str, deque[float | None]] = {}
        self.zones = ZoneTally()
        self._beats_counted, self._beat_wall = 0, time.monotonic()
        """Coherence rows per zone during the exercise's steps (time in coherence, as in the window)."""
        runner.subscribe(self._on_event)

    # --- plain (transcript) mode -------------------------------------------------------------
    def _on_event(self, kind: EventKind, t: float, data: dict[str, Any]) -> None:
        if kind is EventKind.METRICS:
            for m in registry.CURVES:  # the live panel's calm curves, one point per 5-s row
                value = self.runner.state.value(TEXT_CURVE_SOURCE.get(m.key, m.key))
                self.history.setdefault(m.key, deque(maxlen=SPARK_POINTS)).append(value)
            if self.runner.state.phase is SessionPhase.STEP:
                self.zones.add(self.runner.state.value("coherence"))
        if not self.plain:
            return
        stamp = clock(t)
        if kind is EventKind.PROMPT:
            self.console.print(f"[{stamp}] “{literal(data['text'])}”", highlight=False)
        elif kind is EventKind.STEP:
            title = literal(data.get('title') or data['step'])
            self.console.print(f"[{stamp}] — {tr(self.lang, 'step')}: {title}", highlight=False)
        elif kind in TRANSCRIBED:
            self.console.print(f"[{stamp}] {literal(transcript_line(self.lang, kind, data))}", highlight=False)
        elif kind is EventKind.RHYTHM:
            key = "rhythm_irregular" if data.get("irregular") else "rhythm_regular"
            self.console.print(f"[{stamp}] {tr(self.lang, key)}", highlight=False)
        elif kind is EventKind.PACER_RATE:
            self.console.print(f"[{stamp}] {tr(self.lang, 'pacer')}: {data['rate']:.1f}/min", highlight=False)
        elif kind is EventKind.LINK and data.get("state") not in QUIET_LINK_STATES:
            state = str(data.get("state"))
            word = tr(self.lang, f"link_st_{state}") if f"link_st_{state}" in WORDS["en"] else state
            self.console.print(f"[{stamp}] {tr(self.lang, 'tx_link', state=word)}", highlight=False)
        elif kind is EventKind.METRICS and t - self._last_status >= 30 and not self.runner.state.bedtime:
            self._last_status = t
            s = self.runner.state
            numbers = " · ".join(f"{m.name(self.lang)} {m.format(s.value(m.key))}{(' ' + m.unit) if m.unit else ''}"
                                 for m in registry.LIVE)
            self.console.print(f"[{stamp}] {numbers}", highlight=False)

    # --- live panel --------------------------------------------------------------------------
    def render_bedtime(self) -> Text:
        """Bedtime: one dim line, the pacer's phase and nothing else (no numbers, no curves, no frame).
        Care's words (where to find help) still show above it: whoever needs them is awake."""
        s: LiveState = self.runner.state
        lang = self.lang
        line = Text(justify="center")
        if s.banner:
            line.append(plain(s.banner) + "\n\n", style="#8c877d")
        if s.pacer is not None:
            width = 24
            filled = int(round(s.pacer.fill * width))
            word = tr(lang, "breathe_in") if s.pacer.inhaling else tr(lang, "breathe_out")
            line.append(f"{word:<14}" + "━" * filled + " " * (width - filled), style=BEDTIME_DIM)
        else:
            line.append(tr(lang, "breathe_free"), style=BEDTIME_DIM)
        if s.paused:
            line.append(f"   {tr(lang, 'paused')}", style=BEDTIME_DIM)
        return line

    def view(self) -> Panel | Text:
        """What the live panel shows now: the bedtime line in bedtime mode, else the whole panel."""
        return self.render_bedtime() if self.runner.state.bedtime else self.render()

    def render(self) -> Panel:
        s: LiveState = self.runner.state
        lang = self.lang
        header = Text(plain(self.runner.script.title), style="bold #9fb8c8")
        if s.phase is SessionPhase.CARE:
            header.append(f"   {tr(lang, 'care_title')}", style="#6f8594")
        elif s.step_id and s.step_index is not None:
            left = max(0.0, (s.step_max_s or 0) - s.step_elapsed)
            header.append(f"   {plain(s.step_title)} · {tr(lang, 'step')} {s.step_index + 1}/{len(self.runner.script.steps)}"
                          f" · {tr(lang, 'gui_left', clock=clock(left))}", style="#6f8594")
        elif s.phase is SessionPhase.BASELINE:
            header.append(f"   {tr(lang, 'baseline')}", style="#6f8594")

        pacer = self.pacer_text(s, lang)

        prompt = Text(plain(s.prompt or ""), style="#e6e1d3", justify="center")
        if s.distress:
            prompt.stylize("bold")

        numbers = self.numbers_table(s, lang)
        if s.irregular_rhythm and not s.quiet_view:
            prompt.append("\n\n" + tr(lang, "rhythm_irregular"), style="#a9a397")
        if self.showing_help:
            prompt = Text("\n\n".join([help_title(lang), *help_lines(lang), not_medical_device(lang)]),
                          style="#e6e1d3", justify="left")
        banner = s.banner or (tr(lang, "gui_alert") if s.alert else "")
        if banner:
            prompt = Text.assemble((banner + "\n\n", "#d8d1c1"), prompt, justify="center")
        curves = self.curves_text(lang)
        if s.quiet_view:
            numbers = Table.grid()  # care and stopping: no numbers, only the pacer and the words
            curves = Text("")
        key_line = "care_keys" if s.can_resume else ("care_keys_closing" if s.phase is SessionPhase.CARE else "keys")
        if s.phase is SessionPhase.STOPPING:
            key_line = "stopping_hint"  # q was pressed: say so, and how to quit at once
        keys = Text(tr(lang, key_line) + ("   " + tr(lang, "paused") if s.paused else ""), style="#56656f")
        body = Group(header, Text(""), Align.center(pacer), Text(""), prompt, Text(""), Align.center(numbers),
                     Align.center(curves), Text(""), keys)
        return Panel(body, border_style="#2d3a42", padding=(1, 2))

    def pacer_text(self, s: LiveState, lang: str) -> Text:
        """The breathing pacer as a bar; while paused it says so instead of a bar frozen mid-breath."""
        pacer = Text()
        if s.pacer is not None and s.paused:
            pacer.append(f"{tr(lang, 'pacer_paused')}  ", style="bold #d8d1c1")  # said where the eye is, not a frozen bar
            pacer.append(tr(lang, "pacer_paused_hint"), style="#6f8594")
        elif s.pacer is not None:
            width = 40
            filled = int(round(s.pacer.fill * width))
            word = tr(lang, "breathe_in") if s.pacer.inhaling else tr(lang, "breathe_out")
            color = "#7fb3d5" if s.pacer.inhaling else "#a9c9a4"
            pacer.append(f"{word:<14}", style=f"bold {color}")
            pacer.append("█" * filled + "░" * (width - filled), style=color)
            pacer.append(f"  {s.pacer.rate:.1f}/min", style="#6f8594")
        else:
            pacer.append(tr(lang, "breathe_free"), style="#6f8594")
        return pacer

    def numbers_table(self, s: LiveState, lang: str) -> Table:
        """The live numbers (the coherence zone with them) and the link, or "no signal for …" when no beat comes."""
        numbers = Table.grid(padding=(0, 3))
        cells = []
        for m in registry.LIVE:
            cell = f"{m.name(lang)} [bold]{m.format(s.value(m.key))}[/]" + (f" {m.unit}" if m.unit else "")
            if m.key == "hr_now_bpm" and s.baseline_hr:
                cell += f" ({tr(lang, 'rest')} {s.baseline_hr:.0f})"
            if m.key == "coherence":
                cell += self.zone_text(s.value(m.key))
            cells.append(cell)
        link = "link_simulated" if s.source_kind == "simulated" and s.link == "connected" else "link_" + s.link
        quiet = None if s.last_beat_t is None or s.phase is SessionPhase.DONE else s.t - s.last_beat_t
        if s.beats != self._beats_counted:
            self._beats_counted, self._beat_wall = s.beats, time.monotonic()
        stalled = time.monotonic() - self._beat_wall >= 1.0  # a fast, busy simulation lags its clock, beats still come
        link_text = tr(lang, link)
        if quiet is not None and quiet > NO_SIGNAL_S and stalled and s.link == "connected":
            link_text = tr(lang, "no_signal", clock=f"{quiet:.0f} s" if quiet < 90 else f"{quiet / 60:.0f} min")
        cells.append(link_text + (f" · {s.battery_pct}%" if s.battery_pct is not None else "")
                     + (f" · MQTT {tr(lang, 'mqtt_state_' + s.mqtt)}" if s.mqtt else ""))
        for _ in cells:
            numbers.add_column(justify="center")
        numbers.add_row(*cells)
        return numbers

    def zone_text(self, ratio: float | None) -> str:
        """" · high": the coherence zone now (HeartMath's way; the time in high is on the curves' line)."""
        z = zone(ratio)
        return "" if z is None else f" · {tr(self.lang, 'zone_' + z.value)}"

    def curves_text(self, lang: str) -> Text:
        """The calm curves in text: each live curve over the session so far as a line of blocks, and the
        time in high coherence so far."""
        out = Text()
        shares = self.zones.shares()
        if shares is not None:
            out.append(tr(lang, "cmp_high_live", pct=f"{100 * shares.in_coherence:.0f}") + "\n", style="#6f8594")
        for m in registry.CURVES:
            points = list(self.history.get(m.key, ()))
            while points and points[0] is None:  # nothing known yet at the start: no blanks for it
                points.pop(0)
            if sum(v is not None for v in points) < 2:
                continue
            out.append(f"{m.name(lang)} ", style="#6f8594")
            out.append(sparkline(points) + "   ", style=m.gui_colour)
        return out

    async def run_live(self, runner_task: asyncio.Task) -> None:
        """Redraw at 10 Hz until the runner finishes; keys act on the runner."""
        if self.plain:
            await asyncio.shield(runner_task)
            return
        with _keys(self._on_key), Live(self.view(), console=self.console, refresh_per_second=10, screen=False) as live:
            while not runner_task.done():
                live.update(self.view())
                await asyncio.sleep(0.1)
            live.update(self.view())

    def _on_key(self, key: str) -> None:
        if key.lower() == HELP_KEY:
            self.showing_help = not self.showing_help  # h again (or any control key) hides it
            return
        self.showing_help = False
        control = KEYS.get(key.lower())
        if control is not None:
            control(self.runner)


BEDTIME_DIM = "#3a4146"
"""Bedtime: the terminal's one line, dim grey on whatever the terminal's background is."""
TEXT_CURVE_SOURCE = {"hr_now_bpm": "hr_bpm"}
"""A line of blocks every 5 s cannot show the beat-to-beat wave: heart rate there is the 60-s mean."""
SPARK_POINTS = 40
"""Points per text curve: the last 40 five-second rows (a little over three minutes)."""
BLOCKS = "▁▂▃▄▅▆▇█"


def transcript_line(lang: str, kind: EventKind, data: dict[str, Any]) -> str:
    """One event of the plain transcript in the session's language (never raw field names)."""
    def word(prefix: str, value: Any) -> str:
        key = f"{prefix}{value}"
        return tr(lang, key) if key in WORDS["en"] else str(value)

    def num(value: Any, digits: int = 0) -> str:
        return f"{value:.{digits}f}" if isinstance(value, (int, float)) else "–"

    if kind is EventKind.STOP:
        return tr(lang, "tx_stop", why=word("why_", data.get("reason") or "user"))
    if kind is EventKind.DONE:
        return tr(lang, "tx_done", why=word("end_", data.get("reason") or "done"))
    if kind is EventKind.PAUSE:
        return tr(lang, "tx_pause")
    if kind is EventKind.RESUME:
        return tr(lang, "tx_resume")
    if kind is EventKind.BASELINE:
        return tr(lang, "tx_baseline", hr=num(data.get("hr_bpm")), rmssd=num(data.get("rmssd_ms")))
    if kind is EventKind.DISTRESS:
        return tr(lang, "tx_distress", hr=num(data.get("hr_bpm")), base=num(data.get("baseline_hr")))
    if kind is EventKind.RESONANCE_RATE:
        return tr(lang, "tx_resonance", rate=num(data.get("rate"), 1))
    if kind is EventKind.MARKER:
        who = " (therapeut)" if lang == "nl" else " (therapist)"
        return f"{'Markering' if lang == 'nl' else 'Marker'}: {data.get('label') or 'marker'}" + (
            who if data.get("source") == "therapist" else "")
    detail = ", ".join(f"{k}={_short(v)}" for k, v in data.items() if v is not None)
    return f"{word('ev_', kind.value)} {detail}".rstrip()


def sparkline(values: Sequence[float | None]) -> str:
    """Values as a line of block characters, low to high (a flat line when they do not change); a
    missing value is a blank, so a gap in the signal shows as a gap, not as a level carried across it."""
    known = [v for v in values if v is not None and math.isfinite(v)]
    if not known:
        return " " * len(values)
    lo, hi = min(known), max(known)

    def block(v: float | None) -> str:
        if v is None or not math.isfinite(v):
            return " "
        return BLOCKS[3] if hi - lo < 1e-9 else BLOCKS[int((v - lo) / (hi - lo) * (len(BLOCKS) - 1) + 0.5)]

    return "".join(block(v) for v in values)


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


@contextlib.contextmanager
def _keys(callback) -> Iterator[None]:
    """Single keys from a terminal (cbreak mode, restored on exit); nothing when not a terminal."""
    if not sys.stdin.isatty():
        yield
        return
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    loop = asyncio.get_running_loop()
    try:
        tty.setcbreak(fd)
        loop.add_reader(fd, lambda: callback(os.read(fd, 1).decode(errors="ignore")))
        yield
    finally:
        loop.remove_reader(fd)
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
