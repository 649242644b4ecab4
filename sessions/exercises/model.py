"""The exercise model: scripts, their steps (text per sense, timing, pacer), and the fixed common texts.

Steps are built with keywords and typed: a step's kind is a :class:`~sessions.events.StepKind`, how it
may end an :class:`~biofeedback.step_pacer.AdvanceMode`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


from biofeedback.care import CareOrigin, CareStage, CareTiming
from biofeedback.pacer import PacerSetting
from biofeedback.step_pacer import AdvanceMode, StepTiming, speech_seconds
from sessions.errors import UserError
from sessions.events import StepKind

LANGUAGES = ("nl", "en")
LANGUAGE_NAMES = {"nl": "Dutch", "en": "English"}
SENSES = ("sight", "sound", "touch", "body")
NON_VISUAL_SENSES = ("sound", "touch", "body")
STEP_KINDS = tuple(k.value for k in StepKind if k is not StepKind.BASELINE)
ADVANCE_MODES = tuple(m.value for m in AdvanceMode)
DEFAULT_SCRIPT_ID = "safe-place"
"""What ``biofeedback run`` plays without ``--script``: never a therapist-only script."""
RESERVED_IDS = ("common",)

_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class ScriptError(UserError):
    """A script (or common-text) file that cannot be used; the message names file, line and field."""

    def __init__(self, message: str, path: Path | None = None, line: int | None = None, field: str | None = None):
        super().__init__(message)
        self.path = path
        self.line = line
        self.field = field


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Step:
    id: str
    kind: StepKind
    min_s: float
    max_s: float
    typical_s: float | None
    advance: AdvanceMode
    calm_above: float | None
    pacer: PacerSetting
    text: tuple[str, ...]
    senses: Mapping[str, str]
    then: tuple[str, ...] = ()
    title: str = ""
    """What a person reads for this step (review, report, transcript); the id stays for data."""

    def lines(self, senses: Sequence[str] = SENSES) -> tuple[str, ...]:
        """What to say, in order: the lead text, the chosen sense variants (in the order given), the rest.

        Pass ``NON_VISUAL_SENSES`` (or any order) for someone who does not think in pictures.
        """
        chosen = tuple(self.senses[s] for s in senses if s in self.senses)
        return self.text + chosen + self.then

    def timing(self, senses: Sequence[str] = SENSES, *, by_hand: bool = False) -> StepTiming:
        """The step's timing for :class:`biofeedback.step_pacer.StepPacer` (prompt times from word counts).

        ``by_hand``: the therapist moves a narrative (imagery) step on; other kinds keep their clock."""
        return StepTiming(
            min_s=self.min_s,
            max_s=self.max_s,
            typical_s=self.typical_s,
            advance=self.advance.value,
            calm_above=self.calm_above,
            prompt_s=tuple(speech_seconds(line) for line in self.lines(senses)),
            by_hand=by_hand and self.kind is StepKind.IMAGERY,
        )

    @property
    def assessment_rate(self) -> float | None:
        """For an assessment step: the breathing rate it tests."""
        return self.pacer.rate if self.kind is StepKind.ASSESSMENT else None


@dataclass(frozen=True)
class HomeVersion:
    """What a therapist adds so that a therapist-only script may be rendered as a take-home recording.

    Alone at home there is no therapist, no distress detection and no stop grounding, so the
    recording must say so itself: its own warning first, its own closing and where to find help last.
    """

    warning: str
    closing: str
    help: str


@dataclass(frozen=True)
class Script:
    id: str
    language: str
    title: str
    purpose: str
    duration_min: float
    therapist_only: bool
    steps: tuple[Step, ...]
    warning: str | None = None
    notes: str | None = None
    source: Path | None = None
    user: bool = False
    """True when the file came from the user's config dir."""
    home: HomeVersion | None = None
    """Set when the script declares ``[meta] home_version = true`` (therapist-only scripts only)."""
    quiet_start: bool = True
    """False for an exercise that begins at once (after a nightmare: no minute of quiet first)."""

    @property
    def grounding_step(self) -> int:
        """Index of the step the runner jumps to on distress: the closing grounding step."""
        return len(self.steps) - 1

    def timings(self, senses: Sequence[str] = SENSES, *, by_hand: bool = False) -> tuple[StepTiming, ...]:
        return tuple(s.timing(senses, by_hand=by_hand) for s in self.steps)

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "language": self.language,
            "title": self.title,
            "purpose": self.purpose,
            "duration_min": self.duration_min,
            "therapist_only": self.therapist_only,
            "steps": len(self.steps),
            "source": "user" if self.user else "builtin",
            "path": str(self.source) if self.source else None,
        }


@dataclass(frozen=True)
class CommonTexts:
    """The fixed texts the runner needs, per language (from ``common.<lang>.toml``)."""

    language: str
    disclaimer: str
    """This is a relaxation tool, not a medical treatment."""
    baseline: tuple[str, ...]
    """The baseline-phase instruction: breathe as you are for a minute or two."""
    distress: tuple[str, ...]
    """Said when distress is detected: slowing down, grounding, stopping is fine."""
    recovered: tuple[str, ...]
    """Said when the body has settled again after distress."""
    stop_grounding: tuple[str, ...]
    """Said after stop: a short grounding that ends in calm sentences."""
    therapist_notice: str
    """Shown before any therapist-only script, in addition to its own warning."""
    too_much_ack: tuple[str, ...] = ()
    """Said and shown at once when the person presses "this is too much"."""
    care_orientation: tuple[str, ...] = ()
    care_grounding: tuple[str, ...] = ()
    """Said in a slow cycle during care, until the body settles (or about five minutes)."""
    care_settled: tuple[str, ...] = ()
    care_closing: tuple[str, ...] = ()
    """The closing after care: too much for now, nothing done wrong, what next, where to find help."""
    aroused_start: tuple[str, ...] = ()
    resume_ack: tuple[str, ...] = ()

    def stop_timing(self) -> tuple[float, ...]:
        """Seconds per stop-grounding line, for ``StepPacer(stop_lines=...)``."""
        return tuple(speech_seconds(line) for line in self.stop_grounding)

    def care_lines(self, stage: CareStage, origin: CareOrigin) -> tuple[str, ...]:
        """The lines of one part of the care sequence (the opening depends on why care began)."""
        if stage is CareStage.OPENING:
            return {CareOrigin.ASKED: self.too_much_ack, CareOrigin.BODY: self.distress,
                    CareOrigin.AROUSED_START: self.aroused_start}[origin]
        return {CareStage.ORIENTATION: self.care_orientation, CareStage.GROUNDING: self.care_grounding,
                CareStage.SETTLED: self.care_settled, CareStage.CLOSING: self.care_closing}[stage]

    def care_timing(self) -> CareTiming:
        """Seconds per line of each part of care, for ``StepPacer(care=...)``."""
        def secs(lines: tuple[str, ...]) -> tuple[float, ...]:
            return tuple(speech_seconds(line) for line in lines)

        return CareTiming(
            opening={origin: secs(self.care_lines(CareStage.OPENING, origin)) for origin in CareOrigin},
            orientation=secs(self.care_orientation), grounding=secs(self.care_grounding or self.stop_grounding),
            settled=secs(self.care_settled), closing=secs(self.care_closing or self.stop_grounding[-1:]),
        )
