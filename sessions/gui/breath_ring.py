"""The breath the chest accelerometer measures, as a ring against the pacer's disc, and in plain words.

Why a ring: the disc is what to follow; the ring is what you do. When they grow and shrink together
you see it without reading a number, the way Every Breath You Take shows it. The ring's size follows
the measured breath's own lung curve (inhale: growing, exhale: shrinking) on the disc's scale, eased
so a turn the estimator confirms late never makes it jump, and it fades in and out when the measured
breath comes and goes (a plain strap, moving, turning over: no ring, the window is as before), and
while the estimator has not established which way is in (:attr:`biofeedback.chest_breathing.ChestBreathing.
direction_established`): at the start, on a breath whose shape does not say it, after a change of
posture. A ring moving against the breath would be worse than none, so it and its line wait, and the
ring fades out again if that certainty is lost.
One short line says how the breath goes with the pacer, held a few seconds so it does not flicker.
No ring in bedtime mode: there only the dim disc.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QPainter, QPen

from sessions.gui import style
from sessions.practice_texts import number

EASE_S = 0.25
"""The ring reaches a new size with this time constant (a late-confirmed turn glides, never jumps)."""
FADE_S = 1.0
"""The ring fades in or out over this long when the measured breath appears or goes."""
WORDS_HOLD_S = 4.0
"""A new sentence about following stays at least this long (session seconds: real seconds live)."""
RING_COLOUR = "#e8e2d4"
RATE_BAND = 0.10
"""Rate within 10 % of the pacer's counts as the same (as :mod:`biofeedback.chest_breathing` judges following)."""
LAG_WORTH_SAYING_S = 0.8

WORDS = {
    "en": {"with": "you're breathing with the pacer", "faster": "you're breathing a little faster than the pacer",
           "slower": "you're breathing a little slower than the pacer", "behind": "your breath comes {s} s after the pacer",
           "ahead": "your breath is {s} s ahead of the pacer", "finding": "finding the pacer's rhythm"},
    "nl": {"with": "je ademt mee met de ademgids", "faster": "je ademt wat sneller dan de ademgids",
           "slower": "je ademt wat langzamer dan de ademgids", "behind": "je adem komt {s} s na de ademgids",
           "ahead": "je adem loopt {s} s voor op de ademgids", "finding": "je zoekt het ritme van de ademgids"},
}


def lung_fill(kind: str | None, progress: float) -> float | None:
    """How full the lungs are (0-1) from inhale/exhale and how far into it; None when not measured."""
    if kind is None:
        return None
    p = min(1.0, max(0.0, progress))
    rise = 0.5 - 0.5 * math.cos(math.pi * p)
    return rise if kind == "inhale" else 1.0 - rise


def follow_words(lang: str, following: bool | None, lag_s: float | None, rate_match_pct: float | None) -> str:
    """One plain sentence about the breath and the pacer ('' when there is nothing to say yet)."""
    words = WORDS.get(lang, WORDS["en"])
    if following is None:
        return ""
    if following:
        return words["with"]
    if rate_match_pct is not None and abs(rate_match_pct / 100.0 - 1.0) > RATE_BAND:
        return words["faster" if rate_match_pct > 100.0 else "slower"]
    if lag_s is not None and abs(lag_s) >= LAG_WORTH_SAYING_S:
        return words["behind" if lag_s > 0 else "ahead"].format(s=number(abs(lag_s), lang))
    return words["finding"] if rate_match_pct is not None else ""


@dataclass
class RingView:
    """What the pacer widget draws: the ring's fill (0-1 on the disc's scale), its opacity and the line."""

    fill: float
    alpha: float
    words: str = ""


class BreathRing:
    """Per frame: the measured breath from the runner, eased and faded, and the line about following."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.fill: float | None = None
        self.alpha = 0.0
        self.words = ""
        self._words_at = -math.inf
        self._last: float | None = None

    def frame(self, runner: Any, now: float) -> RingView | None:
        """``now``: the wall clock (monotonic s). None while there is no ring to draw (and never was)."""
        state = runner.state
        ahead = max(0.0, runner.now() - state.t)
        kind, progress = runner.chest_phase_at(state.t + min(ahead, 1.0))
        target = lung_fill(kind, progress)
        dt = 0.0 if self._last is None else min(0.5, max(0.0, now - self._last))
        self._last = now
        if target is not None:
            self.fill = target if self.fill is None else self.fill + (target - self.fill) * (1.0 - math.exp(-dt / EASE_S))
        self.alpha = min(1.0, max(0.0, self.alpha + (dt / FADE_S if target is not None else -dt / FADE_S)))
        if self.fill is None or self.alpha <= 0.0:
            self.words = ""
            return None
        said = "" if target is None or state.quiet_view or state.pacer is None else follow_words(
            self.lang, state.following, state.value("pacer_phase_lag_s"), state.value("pacer_rate_match"))
        if said != self.words and (state.t - self._words_at >= WORDS_HOLD_S or not self.words):
            self.words, self._words_at = said, state.t
        return RingView(self.fill, self.alpha, self.words)


def paint(painter: QPainter, centre: QPointF, r_min: float, r_max: float, ring: RingView | None) -> None:
    """The ring on the disc's scale: a thin light circle, over the disc and the rim."""
    if ring is None or ring.alpha <= 0.0:
        return
    radius = r_min + ring.fill * (r_max - r_min)
    pen = QPen(style.qcolor(RING_COLOUR, int(round(215 * ring.alpha))), 3.0)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawEllipse(centre, radius, radius)
