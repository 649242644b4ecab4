"""The live session window: pacer, prompt, calm curves, link status and the controls.

Everything on screen is drawn by one timer at about 30 Hz from the runner's :class:`LiveState`
and preallocated curve histories; the runner's listener only queues step marks. Nothing here
waits: the window lives in the same event loop as the strap, the runner and the add-ons (qasync).

The pacer is driven by the wall clock: each frame asks the breath clock where it is *now*
(``phase_at`` on the source's clock), not where the runner's last 10-Hz tick left it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (QApplication, QGraphicsOpacityEffect, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout,
                               QWidget)

from biofeedback.coherence_zones import ZoneTally
from biofeedback.pacer import BreathPhase
from sessions import metric_registry as registry
from sessions.events import NO_SIGNAL_S, EventKind, MarkerSource, SessionPhase
from sessions.gui import style
from sessions.gui.curves import CurvesPanel
from sessions.gui.breath_ring import BreathRing
from sessions.gui.marker_field import MarkerField
from sessions.gui.marker_field import say as say_marker
from sessions.gui.pacer_widget import BEDTIME_BACKGROUND, PacerWidget
from sessions.formatting import clock
from sessions.i18n import tr
from sessions.private_files import picture_bytes, write_private
from sessions.runner import LiveState, SessionRunner

log = logging.getLogger(__name__)

FPS = 30
PROMPT_FADE_S = 1.5
FRAME_LOG = 4096  # frame durations kept for the benchmark (a ring; never grows)
HR_CURVE = "hr_now_bpm"
"""Drawn beat to beat from :attr:`LiveState.beat_hr`; the other curves take one point per update."""
PER_BEAT_CURVES = tuple(m.key for m in registry.CURVES if m.key != HR_CURVE and not m.source.startswith("spectral:"))
PER_SPECTRUM_CURVES = tuple(m.key for m in registry.CURVES if m.source.startswith("spectral:"))
BEDTIME_HINT_S = 8.0
"""Bedtime mode: the one dim line of keys shows this long after the window opens, then only the disc."""
CLOSE_AFTER_S = 6.0
"""Bedtime mode: the window closes itself this long after the session ended (it is saved already)."""
BEDTIME_PROMPT = "#30363a"
"""Bedtime mode: the line being said, barely there (the voice carries it; it is readable if looked for)."""
BEDTIME_SHEET = f"""
QWidget {{ background: {BEDTIME_BACKGROUND}; color: #2a3033; }}
QLabel#prompt {{ color: {BEDTIME_PROMPT}; font-size: 17pt; }}
QLabel#keys {{ color: #22282b; font-size: 9pt; }}
QLabel#banner {{ color: #8c877d; font-size: 13pt; background: #080a0b; border: 1px solid #121719; }}
"""
"""Bedtime mode on top of the usual style: near black, nothing that glows. The care words (where to find
help) stay readable: someone who needs them is awake."""


def fitting_size(width: int, height: int) -> tuple[int, int]:
    """The window's size, shrunk to fit the screen's free area (a 1366×768 laptop shows all of it)."""
    screen = QApplication.primaryScreen()
    if screen is None:
        return width, height
    free = screen.availableGeometry()
    return min(width, free.width() - 24), min(height, free.height() - 48)


class SessionWindow(QWidget):
    """One session on screen. ``await window.run_live(task)`` shows it until the runner is done."""

    def __init__(self, runner: SessionRunner, lang: str, *, fps: float = FPS, close_at_end: bool = False,
                 snapshot: Path | None = None) -> None:
        super().__init__()
        self.runner = runner
        self.lang = lang
        self.close_at_end = close_at_end
        self.snapshot_path = snapshot
        self.snapshot_error: str | None = None
        self.task: asyncio.Task | None = None
        self.frame_listeners: list[Callable[[float], None]] = []
        self.shown_beats = 0
        self.frame_ms = np.zeros(FRAME_LOG)
        self.frames = 0
        self._closed = asyncio.Event()
        self._close_requests = 0
        self._beats_seen = -1
        self._spectral_seen: dict[str, float] = {}
        self._beat_hr_seen = 0
        self._baseline_end: float | None = None
        self._pending_marks: list[float] = []
        self._prompt_shown: str | None = None
        self._prompt_since = 0.0
        self._texts: dict[str, str] = {}
        self._finished = False
        self._beats_counted = 0
        self._beat_wall = time.monotonic()
        """Wall time the beat count last moved: a fast, busy simulation lags its own clock without a hole."""
        self.stall_wall_s = 1.0
        """How long (wall seconds) no beat may arrive before "no signal" is said (tests set 0: session time only)."""
        self._hr_t_drawn: float | None = None
        self.zones = ZoneTally()
        """Coherence updates per zone during the exercise's steps: "time in coherence", live."""
        self.help_dialog: Any = None
        self._marker_source = MarkerSource.KEY
        self.bedtime = bool(getattr(runner.state, "bedtime", False))
        """Bedtime mode: near black, a dim disc only; the window closes itself at the end."""
        self._opened_at = time.monotonic()
        self.setWindowTitle(f"{runner.script.title} · biofeedback")
        self.setStyleSheet(style.STYLE_SHEET + (BEDTIME_SHEET if self.bedtime else ""))
        self.resize(*fitting_size(1180, 780))
        self._build()
        if self.bedtime:
            self._enter_bedtime()
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(max(1, int(1000 / fps)))
        self._timer.timeout.connect(self.frame)
        runner.subscribe(self._on_event)

    # --- layout ------------------------------------------------------------------------------
    def _build(self) -> None:
        lang = self.lang
        root = QVBoxLayout(self)
        root.setContentsMargins(28, 20, 28, 20)
        root.setSpacing(14)

        top = QHBoxLayout()
        self.header = QLabel(self.runner.script.title)
        self.header.setObjectName("header")
        self.status = QLabel("")
        self.status.setObjectName("status")
        self.status.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        top.addWidget(self.header, 1)
        top.addWidget(self.status)
        root.addLayout(top)

        self.notice = QLabel(tr(lang, "rhythm_irregular"))
        self.notice.setObjectName("notice")
        self.notice.setWordWrap(True)
        self.notice.setVisible(False)
        root.addWidget(self.notice)
        self.banner = QLabel("")
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.setVisible(False)
        root.addWidget(self.banner)
        self.summary = QLabel("")
        self.summary.setObjectName("notice")
        self.summary.setWordWrap(True)
        self.summary.setVisible(False)
        root.addWidget(self.summary)

        middle = self._middle = QHBoxLayout()
        middle.setSpacing(32)
        self.pacer = PacerWidget({k: tr(lang, k) for k in ("breathe_in", "breathe_out", "breathe_free")}
                                 | {"per_min": tr(lang, "gui_per_min"), "paused": tr(lang, "pacer_paused"),
                                    "paused_hint": tr(lang, "pacer_paused_hint")})
        self.breath_ring = BreathRing(lang)
        self.prompt = QLabel("")
        self.prompt.setObjectName("prompt")
        self.prompt.setWordWrap(True)
        self.prompt.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.prompt.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.prompt.setMinimumHeight(160)
        self._fade = QGraphicsOpacityEffect(self.prompt)
        self._fade.setOpacity(1.0)
        self.prompt.setGraphicsEffect(self._fade)
        middle.addWidget(self.pacer, 2)
        middle.addWidget(self.prompt, 3)
        root.addLayout(middle, 5)

        self.curves = CurvesPanel(lang)
        self.curves.setMinimumHeight(200)
        root.addWidget(self.curves, 4)

        controls = QHBoxLayout()
        controls.setSpacing(10)
        self.buttons: dict[str, QPushButton] = {}
        space = tr(lang, "gui_key_space")
        for name, label, key, action in (
            ("pause", tr(lang, "gui_pause"), space, self.toggle_pause),
            ("too_much", tr(lang, "gui_too_much"), "g", self.runner.too_much),
            ("next", tr(lang, "gui_next"), "n", self.runner.next_step),
            ("resume", tr(lang, "gui_resume_exercise"), "r", self.runner.resume),
            ("stop", tr(lang, "gui_stop"), "q", self._stop_or_close),
            ("marker", say_marker(lang, "button"), "m", lambda: self.mark(MarkerSource.BUTTON)),
            ("help", tr(lang, "gui_help"), "h", self.show_help),
            ("fullscreen", tr(lang, "gui_fullscreen"), "f", self.toggle_fullscreen),
        ):
            button = QPushButton(f"{label}  ({key})")
            button.setObjectName(name)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys go to the shortcuts, never twice
            button.clicked.connect(lambda _=False, act=action: act())
            self.buttons[name] = button
            if name == "help":
                controls.addStretch(1)
            controls.addWidget(button)
        root.addLayout(controls)
        self.marker_field = MarkerField(lang, self._record_marker, self.setFocus)
        root.addWidget(self.marker_field)
        self.buttons["resume"].setVisible(False)
        self.disclaimer = QLabel(tr(lang, "gui_not_medical"))
        self.disclaimer.setObjectName("keys")
        self.disclaimer.setWordWrap(True)
        root.addWidget(self.disclaimer)

        for keys, action in (
            (("Space",), self.toggle_pause), (("G",), self.runner.too_much), (("N",), self.runner.next_step),
            (("R",), self.runner.resume), (("H", "F1"), self.show_help),
            (("Q",), self._stop_or_close), (("F", "F11"), self.toggle_fullscreen), (("Escape",), self._escape),
            (("M",), self.mark),
        ):
            for key in keys:
                shortcut = QShortcut(QKeySequence(key), self)
                shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
                shortcut.activated.connect(action)

    def _enter_bedtime(self) -> None:
        """Bedtime: no header, numbers, curves, status or buttons (the keys still work); the disc in the
        middle with the line being said barely visible under it, and a dim line of keys for a few seconds."""
        hidden: list[QWidget] = [self.header, self.status, self.notice, self.curves, self.disclaimer, *self.buttons.values()]
        for widget in hidden:
            widget.setVisible(False)
        self.pacer.bedtime = True
        root = self.layout()
        assert isinstance(root, QVBoxLayout)
        self._middle.removeWidget(self.prompt)
        self.prompt.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.prompt.setMinimumHeight(90)
        root.insertWidget(root.indexOf(self._middle) + 1, self.prompt, 1)
        self.hint = QLabel(tr(self.lang, "bedtime_keys"))
        self.hint.setObjectName("keys")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        root.addWidget(self.hint)

    # --- controls ----------------------------------------------------------------------------
    def show_help(self) -> None:
        """Where to find help, over the window; the exercise goes on (reading it is never a failure)."""
        from sessions.gui.help_dialog import HelpDialog

        if self.help_dialog is None:
            self.help_dialog = HelpDialog(self.lang, self)
        self.help_dialog.show()
        self.help_dialog.raise_()

    def mark(self, source: MarkerSource = MarkerSource.KEY) -> None:
        """m: mark this moment; a quiet field offers a word for it (not in bedtime mode: no typing in the dark)."""
        if self._finished:
            return
        self._marker_source = source
        self.marker_field.begin(self.runner.now(), ask_word=not self.bedtime)

    def _record_marker(self, label: str | None, at: float) -> None:
        self.runner.add_marker(label, self._marker_source, at=at)

    def toggle_pause(self) -> None:
        if not self._finished:
            self.runner.toggle_pause()

    def toggle_fullscreen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()

    def _escape(self) -> None:
        """Esc leaves full screen; otherwise it stops (with the closing grounding), as in the terminal;
        once the session is over it closes the window."""
        if self.marker_field.open:
            self.marker_field.finish(keep_word=False)  # Esc leaves the word out, never stops the exercise
        elif self.isFullScreen():
            self.showNormal()
        elif self._finished:
            self.close()
        else:
            self.runner.stop()

    def _stop_or_close(self) -> None:
        """q: stop (or finish care); once the session is over, close the window."""
        if self._finished:
            self.close()
        else:
            self.runner.stop()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        if self.task is None or self.task.done():
            self._closed.set()
            event.accept()
            return
        self._close_requests += 1
        if self._close_requests == 1:
            # Closing mid-exercise is a stop: the short grounding still plays, never silence.
            self.runner.stop()
            self._set_text(self.status, "status", tr(self.lang, "gui_stopping"))
            event.ignore()
        else:
            self.task.cancel()
            self._closed.set()
            event.accept()

    # --- events from the runner (must be fast and never raise) ----------------------------
    def _on_event(self, kind: EventKind, t: float, data: dict[str, Any]) -> None:
        if kind is EventKind.STEP:
            self._pending_marks.append(t)

    # --- one frame -----------------------------------------------------------------------------
    def current_phase(self) -> BreathPhase | None:
        """Where the breath clock is now, by the source's (wall) clock, between the runner's ticks."""
        s = self.runner.state
        if s.pacer is None or s.paused:
            return s.pacer
        ahead = max(0.0, self.runner.now() - s.t)
        return self.runner.pacer_phase_at(s.t + min(ahead, 1.0))

    def frame(self) -> None:
        started = time.perf_counter()
        try:
            self._draw()
        except Exception:  # noqa: BLE001 - a drawing slip must never end someone's exercise
            log.exception("A frame of the session window failed; the session goes on.")
        self.frame_ms[self.frames % FRAME_LOG] = (time.perf_counter() - started) * 1000.0
        self.frames += 1
        for listener in self.frame_listeners:
            listener(started)

    def _draw_bedtime(self) -> None:
        """Bedtime: the dim disc (dimmer still as the tone fades), the barely visible line, care's words."""
        s = self.runner.state
        fade = self.runner.pacer_fade_at(s.t)
        self.pacer.brightness = 0.5 + 0.5 * fade  # a faint glow stays: the dark is not for everyone
        self.pacer.show_phase(self.current_phase(), s.paused)
        banner = s.banner or ""
        if self._texts.get("banner") != banner:
            self._set_text(self.banner, "banner", banner)
            self.banner.setMinimumHeight(self.banner.heightForWidth(max(self.banner.width(), self.width() - 56)))
        if self.banner.isVisible() != bool(banner):
            self.banner.setVisible(bool(banner))
        if s.prompt != self._prompt_shown:
            self._prompt_shown = s.prompt
            self._prompt_since = time.monotonic()
            self.prompt.setText(s.prompt)
        fade_in = min(1.0, 0.2 + 0.8 * (time.monotonic() - self._prompt_since) / PROMPT_FADE_S)
        if fade_in != self._fade.opacity():
            self._fade.setOpacity(fade_in)
        if self.hint.isVisible() and time.monotonic() - self._opened_at > BEDTIME_HINT_S:
            self.hint.setVisible(False)
        self.shown_beats = s.beats

    def _draw(self) -> None:
        if self.bedtime:
            self._draw_bedtime()
            return
        s = self.runner.state
        lang = self.lang
        self.pacer.ring = None if self._finished else self.breath_ring.frame(self.runner, time.monotonic())
        self.pacer.show_phase(None if self._finished else self.current_phase(), s.paused)

        while self._pending_marks:
            self.curves.mark(self._pending_marks.pop(0))
        self._draw_beats(s)  # first: the beats still to draw are older than a break at s.t
        self._draw_gaps(s)
        # No beat for a while on the session clock: values now are stale (or a busy, fast simulation lags its
        # clock); none is drawn until beats come again, so nothing is drawn inside a hole or across it.
        fresh = s.last_beat_t is None or s.t - s.last_beat_t <= NO_SIGNAL_S
        if s.beats != self._beats_seen and fresh:
            self._beats_seen = s.beats
            for key in PER_BEAT_CURVES:
                self.curves.add(key, s.t, s.value(key))
        for key in PER_SPECTRUM_CURVES:
            value = s.value(key)
            if value is not None and value != self._spectral_seen.get(key) and fresh:
                self._spectral_seen[key] = value
                self.curves.add(key, s.t, value)
                if key == "coherence" and s.phase is SessionPhase.STEP:
                    self.zones.add(value)
        if s.baseline_hr is not None:
            self.curves.set_baseline(HR_CURVE, s.baseline_hr)
            self.curves.set_baseline("rmssd_ms", s.baseline_rmssd)
            if self._baseline_end is None:
                self._baseline_end = s.t
                self.curves.set_baseline("coherence", self.curves.baseline_coherence(0.0, s.t))
        self.curves.show_zone(s.value("coherence"), self.zones.shares())
        self.curves.show_values({key: s.value(key) for key in self.curves.specs})
        self._draw_care(s)
        self.curves.refresh()
        self.shown_beats = s.beats

        self._set_text(self.header, "header", self.header_text())

        if self._close_requests == 0 and not self._finished:
            self._set_text(self.status, "status", self.status_text())
        if s.prompt != self._prompt_shown:
            self._prompt_shown = s.prompt
            self._prompt_since = time.monotonic()
            self.prompt.setText(s.prompt)
        fade = min(1.0, 0.2 + 0.8 * (time.monotonic() - self._prompt_since) / PROMPT_FADE_S)
        if fade != self._fade.opacity():
            self._fade.setOpacity(fade)
        pause = tr(lang, "gui_resume" if s.paused else "gui_pause")
        self._set_text(self.buttons["pause"], "pause", f"{pause}  ({tr(lang, 'gui_key_space')})")

    def _draw_gaps(self, s: LiveState) -> None:
        """A gap in every curve while the link, the skin contact or the beats are gone."""
        if s.link != "connected" or s.contact == "not_detected" or self.signal_lost_s() is not None:
            self.curves.add_break(s.t)
        if s.beats != self._beats_counted:
            self._beats_counted, self._beat_wall = s.beats, time.monotonic()

    def _draw_care(self, s: LiveState) -> None:
        """Care and stopping look calm: no curves and no numbers, the words that matter stay on screen.
        Once the session is over the buttons that did something are gone and stay gone."""
        quiet = s.quiet_view
        if self.curves.isVisible() == quiet:
            self.curves.setVisible(not quiet)
        if self.notice.isVisible() != (s.irregular_rhythm and not quiet):
            self.notice.setVisible(s.irregular_rhythm and not quiet)
        banner = s.banner or (tr(self.lang, "gui_alert") if s.alert else "")
        if self._texts.get("banner") != banner:
            self._set_text(self.banner, "banner", banner)
            # Tall enough for every wrapped line: these are the words that must be read whole.
            self.banner.setMinimumHeight(self.banner.heightForWidth(max(self.banner.width(), self.width() - 56)))
        if self.banner.isVisible() != bool(banner):
            self.banner.setVisible(bool(banner))
        if self._finished:
            return
        if self.buttons["resume"].isVisible() != s.can_resume:
            self.buttons["resume"].setVisible(s.can_resume)
        for name in ("too_much", "next"):  # nothing to skip or to call too much once care has begun
            if self.buttons[name].isVisible() == quiet:
                self.buttons[name].setVisible(not quiet)
        finish = s.phase is SessionPhase.CARE
        self._set_text(self.buttons["stop"], "stop", f"{tr(self.lang, 'gui_finish' if finish else 'gui_stop')}  (q)")

    def _draw_beats(self, s: LiveState) -> None:
        """Heart rate beat to beat: the points added since the last frame, a hole at each flagged beat."""
        new = min(s.beat_hr_count - self._beat_hr_seen, len(s.beat_hr))
        self._beat_hr_seen = s.beat_hr_count
        for i in range(len(s.beat_hr) - new, len(s.beat_hr)):
            t, bpm = s.beat_hr[i]
            if self._hr_t_drawn is not None and t - self._hr_t_drawn > NO_SIGNAL_S:
                # Beats came back after a hole, seen by a frame or not (a fast replay jumps over it): a gap in
                # every curve. Judged on the beat times themselves, never on how often frames are drawn.
                for key in self.curves.history:
                    self.curves.add_hole(key, self._hr_t_drawn + NO_SIGNAL_S)
            self._hr_t_drawn = t
            if math.isfinite(bpm):
                self.curves.add(HR_CURVE, t, bpm)
            else:
                self.curves.add_hole(HR_CURVE, t)

    def header_text(self) -> str:
        """The exercise's title, and the step and time left (or the quiet start)."""
        s, lang = self.runner.state, self.lang
        header = self.runner.script.title
        if s.phase is SessionPhase.CARE:
            header += f"     {tr(lang, 'care_title')}"
        elif s.step_id is not None and s.step_index is not None and s.phase is SessionPhase.STEP:
            left = max(0.0, (s.step_max_s or 0.0) - s.step_elapsed)
            header += (f"     {s.step_title} · {tr(lang, 'step')} {s.step_index + 1}/{len(self.runner.script.steps)}"
                       f" · {tr(lang, 'gui_left', clock=clock(left))}")
        elif s.phase is SessionPhase.BASELINE:
            header += f"     {tr(lang, 'baseline')}"
        return header

    def signal_lost_s(self) -> float | None:
        """Seconds since the last beat when that is longer than :data:`NO_SIGNAL_S` (else None)."""
        s = self.runner.state
        if s.last_beat_t is None or s.phase is SessionPhase.DONE:
            return None
        quiet = s.t - s.last_beat_t
        if s.beats != self._beats_counted:
            self._beats_counted, self._beat_wall = s.beats, time.monotonic()
        # Both clocks must agree: the session clock says no beat for a while, and none arrived for a second
        # of wall time (at --speed 60 on a busy machine beats lag the clock by seconds while still arriving).
        stalled = time.monotonic() - self._beat_wall >= self.stall_wall_s
        return quiet if quiet > NO_SIGNAL_S and stalled else None

    def status_text(self) -> str:
        s = self.runner.state
        lang = self.lang
        simulated = s.source_kind == "simulated" and s.link == "connected"
        parts = [tr(lang, "link_simulated" if simulated else "link_" + s.link)]
        lost = self.signal_lost_s()
        if lost is not None and s.link == "connected":
            # The link may stand while no beat comes (a strap off the skin, a hole in a file): say that.
            parts = [tr(lang, "no_signal", clock=f"{lost:.0f} s" if lost < 90 else f"{lost / 60:.0f} min")]
        elif s.link == "connected" and s.contact in ("detected", "not_detected"):
            parts.append(tr(lang, "gui_contact_ok" if s.contact == "detected" else "gui_contact_lost"))
        if s.battery_pct is not None:
            parts.append(tr(lang, "gui_battery", pct=s.battery_pct))
        if s.paused:
            parts.append(tr(lang, "paused"))
        return "   ·   ".join(parts)

    def _set_text(self, widget: Any, key: str, text: str) -> None:
        if self._texts.get(key) != text:
            self._texts[key] = text
            widget.setText(text)

    # --- the session's life --------------------------------------------------------------------
    async def run_live(self, task: asyncio.Task) -> None:
        """Show the window and draw until the runner is done (or the window is closed twice).

        At the end the last values stay on screen, the timer stops (nothing moves any more) and
        the snapshot is taken if one was asked for. :meth:`linger` then keeps the window open.
        """
        self.task = task
        self._opened_at = time.monotonic()
        if self.bedtime and not self.close_at_end:
            self.showFullScreen()  # in bed the screen is the room's only light: all of it near black
        else:
            self.show()
        self.frame()
        self._timer.start()
        closed = asyncio.ensure_future(self._closed.wait())
        try:
            await asyncio.wait({task, closed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not closed.done():
                closed.cancel()
        self._timer.stop()
        if self.marker_field.open:
            self.marker_field.finish(keep_word=True)  # the session ends: the marker keeps what was typed
        self._finished = True
        if task.done() and not task.cancelled() and task.exception() is None:
            self.frame()  # the last values and the last grounding line
            self._fade.setOpacity(1.0)
            if not self.bedtime:  # bedtime: no end screen, the dim disc stays until the window closes itself
                self._set_text(self.status, "status", tr(self.lang, "gui_done"))
                self.pacer.show_phase(None)  # no breath frozen half way: the disc rests, "breathe as you like"
                self.summary.setText(self.end_summary(task.result()))
                self.summary.setVisible(True)
            for name in ("pause", "too_much", "next", "resume", "stop", "marker"):  # nothing left for them to do
                self.buttons[name].setVisible(False)
            if self.snapshot_path is not None:
                self.save_snapshot(self.snapshot_path)
        else:
            self.close()

    def end_summary(self, result: Any) -> str:
        """One line at the end: how long, calm and heart rate from start to end, time in high coherence,
        and the resonance assessment's result (it used to show only in the terminal)."""
        lang = self.lang
        parts = [tr(lang, "end_summary", minutes=tr(lang, "minutes_n", n=f"{result.duration_s / 60:.0f}"))]
        if result.calm_start is not None and result.calm_end is not None:
            parts.append(tr(lang, "end_calm", start=f"{result.calm_start:.0f}", end=f"{result.calm_end:.0f}"))
        s = self.runner.state
        now = s.value(HR_CURVE)
        if s.baseline_hr is not None and now is not None:
            parts.append(tr(lang, "end_hr", start=f"{s.baseline_hr:.0f}", end=f"{now:.0f}"))
        zones = self.zones.shares()
        if zones is not None:
            parts.append(tr(lang, "end_coherence", pct=f"{100 * zones.in_coherence:.0f}"))
        if any(step.assessment_rate is not None for step in self.runner.script.steps):
            rate = result.resonance_rate
            parts.append(tr(lang, "end_resonance", rate=f"{rate:.1f}") if rate is not None
                         else tr(lang, "end_resonance_none"))
        return " · ".join(parts)

    async def linger(self) -> None:
        """Keep the finished session on screen until the person closes it (or close it now)."""
        if self.close_at_end or not self.isVisible():
            self.close()
            return
        if self.bedtime:
            # Saved already: the window goes by itself, quietly, whoever may be asleep by now.
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._closed.wait(), CLOSE_AFTER_S)
            self.close()
            return
        await self._closed.wait()

    def save_snapshot(self, path: Path) -> bool:
        """A picture of the window for a therapist: PNG (or JPEG by suffix), written 0600."""
        QApplication.sendPostedEvents()  # pending layout requests first: the picture shows what a person sees
        data = picture_bytes(self, Path(path).suffix)
        if data is None:
            self.snapshot_error = "the picture could not be encoded"
            return False
        try:
            write_private(path, data)
        except OSError as err:
            self.snapshot_error = err.strerror or str(err)
            log.error("Could not write the snapshot %s: %s", path, err)
            return False
        return True

    def frame_times_ms(self) -> np.ndarray:
        n = min(self.frames, FRAME_LOG)
        return self.frame_ms[:n].copy() if self.frames <= FRAME_LOG else self.frame_ms.copy()
