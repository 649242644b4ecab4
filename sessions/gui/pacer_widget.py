"""The breathing pacer: a disc that grows while you breathe in and shrinks while you breathe out.

Why a disc: it can be followed half-asleep from the corner of an eye. Inhale and exhale differ three
ways (growing vs shrinking, cool blue vs warm sand, the word), and the colour turns over 0.8 s at
each turn, so nothing on screen ever jumps. The size follows the pacer's smooth lung curve.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFont, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from biofeedback.pacer import BreathPhase
from sessions.gui import breath_ring, style

TURN_S = 0.8
BEDTIME_BACKGROUND = "#040506"
"""Bedtime mode: near black, a hair lighter than black so the screen does not read as "off"."""
BEDTIME_LEVEL = 0.3
"""Bedtime mode: the disc at this share of its daytime colour (a dim glow, never a light in the room)."""


def _smooth(k: float) -> float:
    k = min(1.0, max(0.0, k))
    return k * k * (3.0 - 2.0 * k)


class PacerWidget(QWidget):
    """Draws one :class:`BreathPhase`; ``show_phase`` is called by the window's frame timer."""

    def __init__(self, words: dict[str, str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.words = words  # breathe_in, breathe_out, breathe_free, per_min
        self.phase: BreathPhase | None = None
        self.paused = False
        self.bedtime = False
        """Bedtime mode: a dim disc on near black, no words and no numbers (the voice carries them)."""
        self.brightness = 1.0
        """Bedtime mode: how much of the dim disc shows (0-1); follows the fading tone, never to nothing."""
        self.ring: breath_ring.RingView | None = None
        """The breath a Polar H10's chest accelerometer measures, drawn as a ring on the disc's scale (day only)."""
        self.setMinimumSize(220, 220)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._font_word = QFont()
        self._font_word.setPointSize(17)
        self._font_rate = QFont()
        self._font_rate.setPointSize(10)

    def show_phase(self, phase: BreathPhase | None, paused: bool = False) -> None:
        self.phase = phase
        self.paused = paused
        self.update()

    def colour(self):
        """Current disc colour: the half's hue, reached over the first TURN_S after each turn."""
        p = self.phase
        if p is None:
            return style.qcolor(style.TEXT_DIM)
        period = p.breath_end - p.breath_start
        turn = p.breath_start + p.inhale_fraction * period
        since = (p.t - p.breath_start) if p.inhaling else (p.t - turn)
        start, end = (style.EXHALE, style.INHALE) if p.inhaling else (style.INHALE, style.EXHALE)
        return style.mix(start, end, _smooth(since / TURN_S))

    def _paint_bedtime(self, painter: QPainter) -> None:
        """Bedtime: only the disc, dim, growing and shrinking; a still faint glow while there is no pacer."""
        painter.fillRect(self.rect(), style.qcolor(BEDTIME_BACKGROUND))
        w, h = self.width(), self.height()
        r_max = max(20.0, 0.8 * (min(w, h) / 2.0 - 8.0))  # a smaller light than by day
        r_min = r_max * 0.28
        centre = QPointF(w / 2.0, h / 2.0)
        p = self.phase
        level = BEDTIME_LEVEL * min(1.0, max(0.0, self.brightness))
        if p is None:
            radius, level = r_min + 0.35 * (r_max - r_min), level * 0.45
            hue = style.qcolor(style.TEXT_DIM)
        else:
            radius = r_min + p.fill * (r_max - r_min)
            hue = self.colour()
            if self.paused:
                level *= 0.6
        colour = style.mix(BEDTIME_BACKGROUND, hue.name(), level)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawEllipse(centre, radius, radius)

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        if self.bedtime:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            self._paint_bedtime(painter)
            painter.end()
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), style.qcolor(style.BACKGROUND))
        w, h = self.width(), self.height()
        text_h = 64
        r_max = max(20.0, min(w, h - text_h) / 2.0 - 8.0)
        r_min = r_max * 0.28
        centre = QPointF(w / 2.0, (h - text_h) / 2.0 + 4.0)
        painter.setPen(QPen(style.qcolor(style.BORDER), 2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawEllipse(centre, r_max, r_max)
        p = self.phase
        if p is None:
            word, rate = self.words["breathe_free"], ""
            radius = r_min + 0.35 * (r_max - r_min)
            colour = style.qcolor(style.TEXT_DIM, 90)
        else:
            word = self.words["breathe_in"] if p.inhaling else self.words["breathe_out"]
            rate = f"{p.rate:.1f} {self.words['per_min']}"
            radius = r_min + p.fill * (r_max - r_min)
            colour = self.colour()
            colour.setAlpha(120 if self.paused else 210)
            if self.paused:  # the disc stands still: say so where the eye is, not "breathe in" frozen
                word = self.words.get("paused", word)
                rate = self.words.get("paused_hint", rate)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawEllipse(centre, radius, radius)
        breath_ring.paint(painter, centre, r_min, r_max, self.ring)
        if self.ring is not None and self.ring.words:
            rate = f"{rate}  ·  {self.ring.words}" if rate else self.ring.words
        text_top = h - text_h
        painter.setFont(self._font_word)
        painter.setPen(style.qcolor(style.PROMPT if p is not None else style.TEXT_DIM))
        painter.drawText(QRectF(0, text_top, w, 36), Qt.AlignmentFlag.AlignCenter, word)
        painter.setFont(self._font_rate)
        painter.setPen(style.qcolor(style.TEXT_DIM))
        painter.drawText(QRectF(0, text_top + 36, w, 24), Qt.AlignmentFlag.AlignCenter, rate)
        painter.end()
