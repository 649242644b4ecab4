"""The follower's window for ``biofeedback watch``: one row of live curves per session.

A therapist glances at it from another room: heart rate and calm over the session for each
person followed, the current numbers with their units, the step by its title, distress and care in
a warm red (and a red frame), and whether the session is live, finished (and why) or lost. Redrawn twice a second from
what the MQTT follower keeps (:class:`sessions.mqtt.follow.Following`); it never talks to the
broker itself.
"""

from __future__ import annotations

import asyncio
import html
import time
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from sessions.gui.style import BACKGROUND, CURVES, STYLE_SHEET, TEXT, TEXT_DIM
from sessions.commands.watch import care_text, count_text, end_text, step_title, values_text
from sessions.exercises.titles import script_title
from sessions.i18n import tr
from sessions.private_files import picture_bytes, write_private
from sessions.mqtt.follow import Following

ALERT = "#e07a5f"
STATE_COLOURS = {"online": "#7ea288", "offline": TEXT_DIM, "lost": "#b39166", "quiet": "#b39166"}


class WatchWindow(QWidget):
    """Curves of every followed session; ``await run_until(task)`` shows it while ``task`` runs."""

    def __init__(self, following: Following, lang: str) -> None:
        super().__init__()
        self.following = following
        self.lang = lang
        self.closed = asyncio.Event()
        self.setWindowTitle(tr(lang, "watch_title"))
        self.setStyleSheet(STYLE_SHEET)
        self.resize(1000, 640)
        layout = QVBoxLayout(self)
        self.header = QLabel(tr(lang, "watch_window_waiting"))
        self.header.setObjectName("header")
        layout.addWidget(self.header)
        pg.setConfigOptions(antialias=True)
        self.plots = pg.GraphicsLayoutWidget()
        self.plots.setBackground(BACKGROUND)
        layout.addWidget(self.plots, 1)
        self._rows: dict[str, tuple[pg.PlotItem, pg.PlotDataItem, pg.PlotItem, pg.PlotDataItem]] = {}
        self.lines: dict[str, pg.LabelItem] = {}  # per session, above its curves: the numbers now, distress and care
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.refresh)
        self._timer.start(500)

    def _row(self, sid: str):
        if sid not in self._rows:
            r = 2 * len(self._rows)
            self.lines[sid] = self.plots.addLabel("", row=r, col=0, colspan=2, justify="left")
            hr_plot = self.plots.addPlot(row=r + 1, col=0)
            calm_plot = self.plots.addPlot(row=r + 1, col=1)
            self.plots.ci.layout.setColumnStretchFactor(0, 3)
            self.plots.ci.layout.setColumnStretchFactor(1, 2)
            calm_plot.setYRange(0, 100)
            hr_plot.setLimits(minYRange=10)  # a beat or two of wobble is not drawn as a dramatic swing
            calm_plot.setXLink(hr_plot)
            for plot in (hr_plot, calm_plot):
                plot.showGrid(x=False, y=True, alpha=0.15)
                for axis in ("left", "bottom"):
                    plot.getAxis(axis).enableAutoSIPrefix(False)
                    plot.getAxis(axis).setTextPen(TEXT_DIM)
                    plot.getAxis(axis).setPen(TEXT_DIM)
            hr = hr_plot.plot(pen=pg.mkPen(CURVES["hr_now_bpm"], width=2), connect="finite")
            calm = calm_plot.plot(pen=pg.mkPen(CURVES["calm"], width=2), connect="finite")
            self._rows[sid] = (hr_plot, hr, calm_plot, calm)
        return self._rows[sid]

    def refresh(self, now: float | None = None) -> None:
        now = time.time() if now is None else now
        sessions = sorted(self.following.sessions.values(), key=lambda s: s.sid)
        if sessions:
            self.header.setText(count_text(len(sessions), self.lang))
        for s in sessions:
            hr_plot, hr, calm_plot, calm = self._row(s.sid)
            state = s.shown_state(now)
            colour = STATE_COLOURS.get(state, TEXT)
            label = " · ".join(x for x in (tr(self.lang, "state_" + state) if state in STATE_COLOURS else "?",
                                           end_text(s, self.lang)) if x)
            step = step_title(s.script, s.metrics.get("step"), self.lang) if s.metrics.get("step") is not None else ""
            # Titles are rich text: what came over the wire is escaped, never read as markup.
            e = html.escape
            detail = " · ".join(x for x in (script_title(s.script, self.lang) if s.script else "", step) if x)
            values = values_text(s, self.lang) or "–"
            alert = care_text(s, self.lang)
            hr_plot.setTitle(f"<span style='color:{colour}; font-size:11pt'><span style='font-weight:bold'>{e(s.sid)}"
                             f"</span> · {e(label)}</span><span style='color:{TEXT}'>  {e(detail)}</span>")
            calm_plot.setTitle(f"<span style='color:{TEXT_DIM}'>{e(tr(self.lang, 'calm'))} (0-100)</span>")
            alert_html = f"<span style='color:{ALERT}; font-weight:bold'>   {e(alert)}</span>" if alert else ""
            self.lines[s.sid].setText(f"<span style='color:{TEXT}'>{tr(self.lang, 'watch_now')}: {e(values)}</span>"
                                      + alert_html, size="10pt")
            hr_plot.setLabel("left", f"{tr(self.lang, 'gui_hr')} (bpm)", color=TEXT_DIM)
            for plot in (hr_plot, calm_plot):
                plot.setLabel("bottom", tr(self.lang, 'watch_time_min'), color=TEXT_DIM)
            if s.distress or s.in_care:
                for plot in (hr_plot, calm_plot):
                    plot.getViewBox().setBorder(pg.mkPen(ALERT, width=2))
            if s.curve:
                t = [p[0] / 60.0 for p in s.curve]
                hr.setData(t, [float("nan") if p[1] is None else p[1] for p in s.curve])
                calm.setData(t, [float("nan") if p[2] is None else p[2] for p in s.curve])

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.closed.set()
        super().closeEvent(event)

    async def run_until(self, task: asyncio.Task) -> None:
        self.show()
        closing = asyncio.ensure_future(self.closed.wait())
        try:
            await asyncio.wait({task, closing}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            closing.cancel()
        self.refresh()

    def save(self, path: Path) -> None:
        self.refresh()
        data = picture_bytes(self, path.suffix)
        if data is not None:
            write_private(path, data)
