"""The care sequence: what happens when it gets too much, until the person is settled or chooses.

Why it is its own sequence and not the script's last step: that step was written for a calm ending
("let sleep come", praise for the safe place) and ended the session 90-150 s later however aroused
the person still was. Care instead:

1. **opens** with the words that fit why it started: an acknowledgement when the person pressed
   "this is too much", eyes-open orientation when the body showed distress, a kind word when the
   quiet start showed the body far more awake than usual for this person;
2. **orients** (eyes open, look around, feet) and then **grounds**, cycling slow lines, for as long
   as it takes: until the body has settled (the caller says so, after at least ``min_s``) or for at
   most ``max_s`` (about five minutes);
3. once settled, **offers the choice** (back to the exercise, or finish) for ``choice_s``;
4. **closes**: it was too much for now, nothing was done wrong, what to do next, where to get help.

The person may at any time go back to the exercise (the caller's resume) or finish (``close``).
Time is passed in; lines are spaced by their speaking time times ``tempo`` (slower than usual), so
no line is overwritten by the next one in the same moment.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class CareStage(enum.StrEnum):
    OPENING = "opening"
    ORIENTATION = "orientation"
    GROUNDING = "grounding"
    SETTLED = "settled"
    CLOSING = "closing"


class CareOrigin(enum.StrEnum):
    """Why care began."""

    BODY = "body"
    """Sustained distress in the body's signals."""
    ASKED = "asked"
    """The person pressed "this is too much"."""
    AROUSED_START = "aroused_start"
    """Today's quiet start was far above the person's own resting level."""


@dataclass(frozen=True, slots=True)
class CareTiming:
    """Seconds each line needs (speaking time plus a pause), per part of the sequence."""

    opening: dict[CareOrigin, tuple[float, ...]]
    orientation: tuple[float, ...]
    grounding: tuple[float, ...]
    settled: tuple[float, ...]
    closing: tuple[float, ...]

    def __post_init__(self) -> None:
        if not self.grounding or not self.closing:
            raise ValueError("care needs grounding lines and a closing: it never ends in silence")


@dataclass(frozen=True, slots=True)
class CareConfig:
    tempo: float = 1.5
    """Lines are spaced by their speaking time times this: slower than the exercise."""
    min_s: float = 60.0
    """Grounding lasts at least this long before a settled body may end it."""
    max_s: float = 300.0
    """At most this much grounding; then the closing, settled or not."""
    choice_s: float = 45.0
    """After the settled lines, how long the choice stays open before the closing."""


@dataclass(frozen=True, slots=True)
class CareLine:
    t: float
    stage: CareStage
    line: int
    """Index into that stage's lines (for the opening: into the origin's opening lines)."""


class CareRun:
    """One care sequence. ``due(t)`` returns the lines whose time has come, in order."""

    def __init__(self, t0: float, origin: CareOrigin, timing: CareTiming, config: CareConfig | None = None) -> None:
        self.origin = origin
        self.timing = timing
        self.config = config or CareConfig()
        self.t0 = t0
        self.stage = CareStage.OPENING
        self._line = 0
        self._next_t = t0
        self._said = 0  # grounding lines said so far (they cycle)
        self._grounding_t0: float | None = None
        self._settled_t: float | None = None
        self.finished = False
        if not self._lines(CareStage.OPENING):
            self._enter(CareStage.ORIENTATION, t0)

    def _lines(self, stage: CareStage) -> tuple[float, ...]:
        t = self.timing
        return {
            CareStage.OPENING: t.opening.get(self.origin, ()),
            CareStage.ORIENTATION: t.orientation,
            CareStage.GROUNDING: t.grounding,
            CareStage.SETTLED: t.settled,
            CareStage.CLOSING: t.closing,
        }[stage]

    def _enter(self, stage: CareStage, t: float) -> None:
        self.stage = stage
        self._line = 0
        self._next_t = max(t, self._next_t)
        if stage is CareStage.GROUNDING:
            self._grounding_t0 = self._next_t

    @property
    def settled(self) -> bool:
        return self._settled_t is not None

    @property
    def may_settle(self) -> bool:
        """Grounding has lasted long enough for a settled body to end it."""
        return (self.stage is CareStage.GROUNDING and self._grounding_t0 is not None
                and self._next_t - self._grounding_t0 >= self.config.min_s)

    def settle(self, t: float) -> None:
        """The body has settled (the caller judged it): say so and offer the choice."""
        if self.stage in (CareStage.OPENING, CareStage.ORIENTATION, CareStage.GROUNDING) and not self.settled:
            self._enter(CareStage.SETTLED if self._lines(CareStage.SETTLED) else CareStage.CLOSING, t)
            self._settled_t = self._next_t  # when the settled words are said: the choice is open from then

    def close(self, t: float) -> None:
        """Finish now: straight to the closing (a second call skips to its last line)."""
        if self.stage is CareStage.CLOSING:
            self._line = max(self._line, len(self.timing.closing) - 1)
            self._next_t = t
            return
        self.stage = CareStage.CLOSING
        self._line = 0
        self._next_t = t

    def due(self, t: float) -> list[CareLine]:
        out: list[CareLine] = []
        while not self.finished and t >= self._next_t:
            if self._advance_stage(t):
                continue
            lines = self._lines(self.stage)
            index = self._said % len(lines) if self.stage is CareStage.GROUNDING else self._line
            out.append(CareLine(self._next_t, self.stage, index))
            self._next_t += lines[index] * self.config.tempo
            self._line += 1
            if self.stage is CareStage.GROUNDING:
                self._said += 1
        return out

    def _advance_stage(self, t: float) -> bool:
        """Move to the next stage when this one's lines are said; True when the stage changed."""
        lines = self._lines(self.stage)
        stage = self.stage
        if stage is CareStage.GROUNDING:
            assert self._grounding_t0 is not None
            if self._next_t - self._grounding_t0 >= self.config.max_s:
                self._enter(CareStage.CLOSING, self._next_t)
                return True
            return False
        if self._line < len(lines):
            return False
        if stage is CareStage.OPENING:
            self._enter(CareStage.ORIENTATION if self._lines(CareStage.ORIENTATION) else CareStage.GROUNDING, self._next_t)
        elif stage is CareStage.ORIENTATION:
            self._enter(CareStage.GROUNDING, self._next_t)
        elif stage is CareStage.SETTLED:
            assert self._settled_t is not None
            end = self._settled_t + self.config.choice_s
            if t < end:
                self._next_t = max(self._next_t, end)  # the choice stays open until then
            else:
                self.stage, self._line = CareStage.CLOSING, 0
        else:  # the closing is said: done
            self.finished = True
        return True
