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
from sessions.gui import style

TURN_S = 0.8


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

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
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
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawEllipse(centre, radius, radius)
        text_top = h - text_h
        painter.setFont(self._font_word)
        painter.setPen(style.qcolor(style.PROMPT if p is not None else style.TEXT_DIM))
        painter.drawText(QRectF(0, text_top, w, 36), Qt.AlignmentFlag.AlignCenter, word)
        painter.setFont(self._font_rate)
        painter.setPen(style.qcolor(style.TEXT_DIM))
        painter.drawText(QRectF(0, text_top + 36, w, 24), Qt.AlignmentFlag.AlignCenter, rate)
        painter.end()
