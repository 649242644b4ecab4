"""Colours and the style sheet: dark, low contrast, warm text; made for a dim bedroom at night.

No pure white and no saturated red anywhere: bright spots on a dark screen feel like a flash.
Inhale and exhale differ in hue (cool blue in, warm sand out) and in motion (growing, shrinking).
"""

from __future__ import annotations

from sessions import metric_registry as registry

BACKGROUND = "#0b1014"
PANEL = "#10171c"
BORDER = "#1d272e"
TEXT = "#a9a397"
TEXT_DIM = "#5f6b73"
PROMPT = "#d8d1c1"
INHALE = "#5b97ae"
EXHALE = "#b39166"
BASELINE = "#4d5a62"
STEP_MARK = "#1f2a31"
ZONE_LINE = "#2c3a42"
"""The coherence zones' borders: barely there, read only when looked for."""

CURVES = {m.key: m.gui_colour for m in registry.CURVES}
"""Curve colours on the dark background, from the metric registry."""

PROMPT_POINT_SIZE = 26
NUMBER_POINT_SIZE = 12

STYLE_SHEET = f"""
QWidget {{ background: {BACKGROUND}; color: {TEXT}; font-size: 11pt; }}
QLabel#prompt {{ color: {PROMPT}; font-size: {PROMPT_POINT_SIZE}pt; }}
QLabel#header {{ color: {TEXT}; font-size: 13pt; }}
QLabel#status {{ color: {TEXT}; font-size: 12pt; }}
QLabel#keys {{ color: {TEXT_DIM}; font-size: 10pt; }}
QLabel#notice, QLabel#banner {{ color: {TEXT}; font-size: 12pt; background: {PANEL}; border: 1px solid {BORDER};
                 border-radius: 6px; padding: 10px 14px; }}
QLabel#banner {{ color: {PROMPT}; font-size: 14pt; }}
QPushButton {{
    background: {PANEL}; color: {TEXT}; border: 1px solid {BORDER}; border-radius: 6px;
    padding: 8px 14px;
}}
QPushButton:hover {{ border-color: {TEXT_DIM}; }}
QPushButton:focus {{ outline: none; }}
QPushButton#too_much {{ color: {PROMPT}; }}
QListWidget {{ background: {PANEL}; border: 1px solid {BORDER}; font-size: 12pt; }}
QListWidget::item {{ padding: 8px; }}
QListWidget::item:selected {{ background: #1b2830; color: {PROMPT}; }}
"""


def qcolor(hex_colour: str, alpha: int = 255):
    """A QColor (imported late: this module is also read without Qt installed)."""
    from PySide6.QtGui import QColor

    c = QColor(hex_colour)
    c.setAlpha(alpha)
    return c


def mix(a: str, b: str, k: float):
    """The colour ``k`` of the way from ``a`` to ``b`` (0..1), as a QColor."""
    from PySide6.QtGui import QColor

    ca, cb = QColor(a), QColor(b)
    k = min(1.0, max(0.0, k))
    return QColor(round(ca.red() + (cb.red() - ca.red()) * k), round(ca.green() + (cb.green() - ca.green()) * k),
                  round(ca.blue() + (cb.blue() - ca.blue()) * k))
