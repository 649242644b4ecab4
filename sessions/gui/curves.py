"""The calm curves: the registry's live curves (heart rate beat to beat, RMSSD, coherence, calm).

Which curves, their names, units, number formats and colours come from
:data:`sessions.metric_registry.CURVES`. Heart rate is drawn beat to beat (the wave that rises on
the inhale and falls on the exhale), joined across a flagged beat or two and open where no NN beat
came for a while; its title shows the short median, the number a person recognises as their heart
now. Each curve draws from a preallocated :class:`CurveHistory`; the window's frame timer calls
:meth:`CurvesPanel.refresh`, which touches a curve only when its history moved (about once a beat),
so a two-hour history costs nothing between beats. The person's baseline level is a quiet dashed
line; step starts are faint vertical marks.
"""

from __future__ import annotations

import math
import statistics

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from biofeedback.coherence_zones import HIGH_FROM, LOW_BELOW, Zone, ZoneShares, zone
from sessions import metric_registry as registry
from sessions.gui import style
from sessions.i18n import tr
from sessions.gui.history import CurveHistory

CAPACITY = 16384  # points per curve: 4.5 h at one point a beat; older points fall off


class CurvesPanel(pg.GraphicsLayoutWidget):
    """Four small plots in a 2x2 grid with linked time axes (minutes)."""

    def __init__(self, lang: str, parent=None) -> None:
        pg.setConfigOptions(antialias=True, background=style.BACKGROUND, foreground=style.TEXT_DIM)
        super().__init__(parent)
        self.setBackground(style.BACKGROUND)
        self.specs = {m.key: m for m in registry.CURVES}
        self.names = {m.key: m.name(lang) for m in registry.CURVES}
        self.history = {key: CurveHistory(CAPACITY) for key in self.specs}
        self.plots: dict[str, pg.PlotItem] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self._drawn = {key: -1 for key in self.history}
        self._titles: dict[str, str] = {}
        self._baselines: dict[str, pg.InfiniteLine] = {}
        self._marks: list[float] = []
        self._zone_text = ""
        """What the coherence title adds: the zone now and the time in high (:meth:`show_zone`)."""
        first = None
        for i, key in enumerate(self.specs):
            plot = self.addPlot(row=i // 2, col=i % 2)
            plot.setMenuEnabled(False)
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
            plot.showGrid(x=False, y=False)
            plot.getAxis("left").setWidth(38)
            plot.getAxis("bottom").setLabel("min")  # the time axis, in minutes of the session
            for side in ("left", "bottom"):
                axis = plot.getAxis(side)
                axis.enableAutoSIPrefix(False)  # early in a session the minutes axis would read "min (x0.001)"
                axis.setPen(pg.mkPen(style.BORDER))
                axis.setTextPen(pg.mkPen(style.TEXT_DIM))
            curve = plot.plot(pen=pg.mkPen(self.specs[key].gui_colour, width=2), connect="finite")
            curve.setClipToView(True)
            curve.setDownsampling(auto=True, method="mean")
            if first is None:
                first = plot
                plot.setLimits(xMin=0)  # the session starts at minute 0, never a tick at 0.1
            else:
                plot.setXLink(first)
            self.plots[key] = plot
            self.curves[key] = curve
            self._set_title(key, None)
        self.plots["calm"].setYRange(0, 100, padding=0.02)
        self.plots["calm"].enableAutoRange(axis="y", enable=False)
        self.plots["coherence"].setLimits(yMin=0)
        for level in (LOW_BELOW, HIGH_FROM):  # the zones' borders: low below the first, high above the second
            self.plots["coherence"].addItem(pg.InfiniteLine(pos=level, angle=0, movable=False, pen=pg.mkPen(
                style.ZONE_LINE, width=1, style=Qt.PenStyle.DotLine)), ignoreBounds=True)
        self.set_baseline("calm", 50.0)
        self.zone_words = {z: tr(lang, f"zone_{z.value}") for z in Zone}
        self.zone_time_word = tr(lang, "zone_time", pct="{pct}")

    # --- data in ---------------------------------------------------------------------------
    def add(self, key: str, t_s: float, value: float | None) -> None:
        """A point; a missing value (None, NaN) is a gap in the curve, never a ramp drawn across it."""
        if value is None or not math.isfinite(value):
            self.history[key].add_break(t_s / 60.0)
        else:
            self.history[key].append(t_s / 60.0, value)

    def add_hole(self, key: str, t_s: float) -> None:
        """A flagged beat: a hole in one curve (the line is not drawn across it)."""
        self.history[key].add_break(t_s / 60.0)

    def add_break(self, t_s: float) -> None:
        """The link or skin contact was lost: every curve shows a hole here."""
        for history in self.history.values():
            history.add_break(t_s / 60.0)

    def set_baseline(self, key: str, level: float | None) -> None:
        if level is None or not math.isfinite(level) or key in self._baselines:
            return
        line = pg.InfiniteLine(
            pos=level, angle=0, movable=False, pen=pg.mkPen(style.BASELINE, width=1, style=Qt.PenStyle.DashLine)
        )
        self.plots[key].addItem(line, ignoreBounds=False)
        self._baselines[key] = line

    def baseline_coherence(self, t_start_s: float, t_end_s: float) -> float | None:
        """Median coherence over the baseline phase (the runner keeps its own; this one is for drawing)."""
        t, v = self.history["coherence"].view()
        sel = [float(x) for tt, x in zip(t, v) if t_start_s / 60.0 <= tt <= t_end_s / 60.0]
        return statistics.median(sel) if sel else None

    def mark(self, t_s: float) -> None:
        """A faint vertical line where a step starts."""
        x = t_s / 60.0
        if self._marks and abs(self._marks[-1] - x) < 1e-6:
            return
        self._marks.append(x)
        for plot in self.plots.values():
            plot.addItem(
                pg.InfiniteLine(pos=x, angle=90, movable=False, pen=pg.mkPen(style.STEP_MARK, width=1)),
                ignoreBounds=True,
            )

    # --- drawing ---------------------------------------------------------------------------
    def show_zone(self, ratio: float | None, shares: ZoneShares | None) -> None:
        """Coherence as people know it: the zone now (low / medium / high) and the time in high so far."""
        z = zone(ratio)
        text = "" if z is None else f"  ·  <b>{self.zone_words[z]}</b>"
        if shares is not None:
            text += "  ·  " + self.zone_time_word.format(pct=f"{100 * shares.in_coherence:.0f}")
        if text != self._zone_text:
            self._zone_text = text
            self._titles.pop("coherence", None)

    def _set_title(self, key: str, value: float | None) -> None:
        spec = self.specs[key]
        text = f"{self.names[key]}  <b>{spec.format(value)}</b> {spec.unit}".rstrip()
        if key == "coherence":
            text += self._zone_text
        if self._titles.get(key) != text:
            self._titles[key] = text
            self.plots[key].setTitle(text, color=spec.gui_colour, size="11pt")

    def show_values(self, values: dict[str, float | None]) -> None:
        for key, value in values.items():
            self._set_title(key, value)

    def refresh(self) -> bool:
        """Redraw the curves whose history moved; True when anything was redrawn."""
        moved = False
        for key, hist in self.history.items():
            if hist.version != self._drawn[key]:
                self._drawn[key] = hist.version
                t, v = hist.view()
                self.curves[key].setData(t, v)
                self._keep_span(key, v)
                moved = True
        return moved

    def _keep_span(self, key: str, v: np.ndarray) -> None:
        """At least the registry's ``min_span`` on the y axis, centred on the data (auto range beyond it)."""
        span = self.specs[key].min_span
        if span is None or not len(v):
            return
        finite = v[np.isfinite(v)]
        if not len(finite):
            return
        lo, hi = float(finite.min()), float(finite.max())
        plot = self.plots[key]
        if hi - lo >= span:
            plot.enableAutoRange(axis="y", enable=True)
            return
        mid = (hi + lo) / 2
        lo = max(0.0, mid - span / 2)
        plot.setYRange(lo, lo + span, padding=0.05)

    def title_text(self, key: str) -> str:
        return self._titles.get(key, "")
