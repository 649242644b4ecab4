"""The terminal view: the pacer, the prompt and the body's numbers, with one-key controls.

On a terminal it draws a calm full-screen panel (rich) and reads single keys; piped or in CI it
prints the prompts and events as plain lines, so a log of the session reads like a transcript.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import termios
import tty
from collections.abc import Iterator
from typing import Any

from rich.align import Align
from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from sessions.formatting import clock, number
from sessions.i18n import tr
from sessions.runner import LiveState, SessionRunner

log = logging.getLogger(__name__)

KEYS = {"q": "stop", "\x1b": "stop", "g": "too_much", " ": "pause", "n": "next"}


class TerminalView:
    """Renders a runner's :class:`LiveState`; ``plain`` prints lines instead of a live panel."""

    def __init__(self, runner: SessionRunner, lang: str, *, plain: bool | None = None, console: Console | None = None) -> None:
        self.runner = runner
        self.lang = lang
        self.console = console or Console()
        self.plain = (not self.console.is_terminal) if plain is None else plain
        self._last_status = -1e9
        runner.listeners.append(self._on_event)

    # --- plain (transcript) mode -------------------------------------------------------------
    def _on_event(self, kind: str, t: float, data: dict[str, Any]) -> None:
        if not self.plain:
            return
        stamp = clock(t)
        if kind == "prompt":
            self.console.print(f"[{stamp}] “{data['text']}”", highlight=False)
        elif kind == "step":
            self.console.print(f"[{stamp}] — {tr(self.lang, 'step')}: {data.get('title') or data['step']}", highlight=False)
        elif kind in ("distress", "stop", "done", "baseline", "resonance_rate", "pause", "resume"):
            detail = ", ".join(f"{k}={_short(v)}" for k, v in data.items() if v is not None)
            self.console.print(f"[{stamp}] {kind} {detail}".rstrip(), highlight=False)
        elif kind == "pacer_rate":
            self.console.print(f"[{stamp}] {tr(self.lang, 'pacer')}: {data['rate']:.1f}/min", highlight=False)
        elif kind == "link" and data.get("state") not in ("device_info", "malformed"):
            self.console.print(f"[{stamp}] link: {data.get('state')}", highlight=False)
        elif kind == "metrics" and t - self._last_status >= 30:
            self._last_status = t
            s = self.runner.state
            self.console.print(
                f"[{stamp}] HR {number(s.hr_bpm)} bpm · RMSSD {number(s.rmssd_ms)} ms · "
                f"{tr(self.lang, 'coherence')} {number(s.coherence, '{:.2f}')} · {tr(self.lang, 'calm')} {number(s.calm)}",
                highlight=False)

    # --- live panel --------------------------------------------------------------------------
    def render(self) -> Panel:
        s: LiveState = self.runner.state
        lang = self.lang
        header = Text(self.runner.script.title, style="bold #9fb8c8")
        if s.step_id:
            left = (s.step_max_s or 0) - (s.t - s.step_started)
            header.append(f"   {tr(lang, 'step')} {s.step_index + 1}/{len(self.runner.script.steps)}"
                          f" · ≤ {clock(left)}", style="#6f8594")
        elif s.phase == "baseline":
            header.append(f"   {tr(lang, 'baseline')}", style="#6f8594")

        pacer = Text()
        if s.pacer is not None:
            width = 40
            filled = int(round(s.pacer.fill * width))
            word = tr(lang, "breathe_in") if s.pacer.inhaling else tr(lang, "breathe_out")
            color = "#7fb3d5" if s.pacer.inhaling else "#a9c9a4"
            pacer.append(f"{word:<14}", style=f"bold {color}")
            pacer.append("█" * filled + "░" * (width - filled), style=color)
            pacer.append(f"  {s.pacer.rate:.1f}/min", style="#6f8594")
        else:
            pacer.append(tr(lang, "breathe_free"), style="#6f8594")

        prompt = Text(s.prompt or "", style="#e6e1d3", justify="center")
        if s.distress:
            prompt.stylize("bold")

        numbers = Table.grid(padding=(0, 3))
        for _ in range(5):
            numbers.add_column(justify="center")
        numbers.add_row(
            f"HR [bold]{number(s.hr_bpm)}[/] bpm" + (f" ({tr(lang, 'rest')} {s.baseline_hr:.0f})" if s.baseline_hr else ""),
            f"RMSSD [bold]{number(s.rmssd_ms)}[/] ms",
            f"{tr(lang, 'coherence')} [bold]{number(s.coherence, '{:.2f}')}[/]",
            f"{tr(lang, 'calm')} [bold]{number(s.calm)}[/]",
            f"{tr(lang, 'link_' + s.link)}" + (f" · {s.battery_pct}%" if s.battery_pct is not None else "")
            + (f" · MQTT {tr(lang, 'mqtt_state_' + s.mqtt)}" if s.mqtt else ""),
        )
        keys = Text(tr(lang, "keys") + ("   " + tr(lang, "paused") if s.paused else ""), style="#56656f")
        body = Group(header, Text(""), Align.center(pacer), Text(""), prompt, Text(""), Align.center(numbers), Text(""), keys)
        return Panel(body, border_style="#2d3a42", padding=(1, 2))

    async def run_live(self, runner_task: asyncio.Task) -> None:
        """Redraw at 10 Hz until the runner finishes; keys act on the runner."""
        if self.plain:
            await asyncio.shield(runner_task)
            return
        with _keys(self._on_key), Live(self.render(), console=self.console, refresh_per_second=10, screen=False) as live:
            while not runner_task.done():
                live.update(self.render())
                await asyncio.sleep(0.1)
            live.update(self.render())

    def _on_key(self, key: str) -> None:
        action = KEYS.get(key.lower())
        if action == "stop":
            self.runner.stop()
        elif action == "too_much":
            self.runner.too_much()
        elif action == "pause":
            self.runner.toggle_pause()
        elif action == "next":
            self.runner.next_step()


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
