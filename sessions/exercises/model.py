"""The exercise model: scripts, their steps (text per sense, timing, pacer), and the fixed common texts.

Steps are built with keywords and typed: a step's kind is a :class:`~sessions.events.StepKind`, how it
may end an :class:`~biofeedback.step_pacer.AdvanceMode`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


from biofeedback.care import CareOrigin, CareStage, CareTiming
from biofeedback.pacer import PacerSetting
from biofeedback.prompt_timing import AFTER_INVITATION, AFTER_LINE, DEFAULT_MAX_QUIET_S, estimate_speech_s, spread_quiet
from biofeedback.step_pacer import AdvanceMode, StepTiming, speech_seconds
from sessions.errors import UserError
from sessions.events import StepKind

LANGUAGES = ("nl", "en")
LANGUAGE_NAMES = {"nl": "Dutch", "en": "English"}
SENSES = ("sight", "sound", "smell", "touch", "body")
NON_VISUAL_SENSES = ("sound", "smell", "touch", "body")
"""For someone who does not think in pictures (``--no-pictures``)."""
IMAGERY_SENSES = ("sound", "touch", "body")
"""What every imagery step must offer, so that someone who "cannot visualise" is served."""
SENSES_PER_STEP = 2
"""Senses said per step: rotated from step to step, so no step sounds like a checklist."""
PLACEHOLDERS = ("place", "sight", "sound", "smell", "touch", "temperature", "anchor")
"""What a person's own safe place fills into ``[steps.own]`` lines (``{place}`` …)."""
_PLACEHOLDER_RE = re.compile(r"\{([a-z_]*)\}")
STEP_KINDS = tuple(k.value for k in StepKind if k is not StepKind.BASELINE)
ADVANCE_MODES = tuple(m.value for m in AdvanceMode)
DEFAULT_SCRIPT_ID = "safe-place"
"""What ``biofeedback run`` plays without ``--script``: never a therapist-only script."""
RESERVED_IDS = ("common",)
PERSONAL_KINDS = ("safe-place", "rehearsal")
"""What a personal script (``[meta] personal``) is: a safe place built together, or a rewritten nightmare."""

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


@dataclass(frozen=True, slots=True)
class Prompt:
    """One spoken line: its stable id (recorded voices, the record), its text, and whether it is a
    sensory invitation (10-15 s of quiet follow it)."""

    id: str
    text: str
    invitation: bool = False


SpeechTime = Callable[[Prompt], float]
"""Seconds a line takes to say (measured from the voice that says it, or estimated)."""


def estimated_speech(prompt: Prompt) -> float:
    return estimate_speech_s(prompt.text)


def placeholders_in(text: str) -> tuple[str, ...]:
    return tuple(_PLACEHOLDER_RE.findall(text))


def fill_own(text: str, own: Mapping[str, str]) -> str | None:
    """``text`` with the person's answers filled in, or None when it names an answer they did not give."""
    names = placeholders_in(text)
    if any(not own.get(n) for n in names):
        return None
    return _PLACEHOLDER_RE.sub(lambda m: own[m.group(1)], text)


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
    own_text: tuple[str, ...] = ()
    """Lead lines woven from the person's own safe place (replace ``text`` when every answer is given)."""
    own: Mapping[str, str] = field(default_factory=dict)
    """Per sense: the invitation woven from the person's own answers (replaces the general one)."""
    hold: tuple[str, ...] = ()
    """Said when the step runs on after its lines; empty: the shared hold lines."""

    def chosen_senses(self, senses: Sequence[str] = SENSES, offset: int = 0) -> tuple[str, ...]:
        """The senses this step says: the first :data:`SENSES_PER_STEP` it offers of the person's
        senses, counted from ``offset`` round the person's list (the script moves the offset on from
        step to step, so each chosen sense comes up in turn)."""
        if not senses:
            return ()
        start = offset % len(senses)
        turn = [*senses[start:], *senses[:start]]
        return tuple([s for s in turn if s in self.senses][:SENSES_PER_STEP])

    def prompts(self, senses: Sequence[str] = SENSES, own: Mapping[str, str] | None = None,
                offset: int = 0) -> tuple[Prompt, ...]:
        """What to say, in order: the lead lines, two sensory invitations, the rest.

        ``own``: the person's safe-place answers (:data:`PLACEHOLDERS`); a woven line is used only
        when every answer it names was given, else the general line is said.
        """
        own = own or {}
        lead = [fill_own(line, own) for line in self.own_text] if own and self.own_text else []
        if lead and all(line is not None for line in lead):
            out = [Prompt(f"{self.id}.own-text.{n}", line) for n, line in enumerate(lead, 1) if line]
        else:
            out = [Prompt(f"{self.id}.text.{n}", line) for n, line in enumerate(self.text, 1)]
        for sense in self.chosen_senses(senses, offset):
            woven = fill_own(self.own[sense], own) if own and sense in self.own else None
            if woven is not None:
                out.append(Prompt(f"{self.id}.own-{sense}", woven, invitation=True))
            else:
                out.append(Prompt(f"{self.id}.{sense}", self.senses[sense], invitation=True))
        out += [Prompt(f"{self.id}.then.{n}", line) for n, line in enumerate(self.then, 1)]
        return tuple(out)

    def lines(self, senses: Sequence[str] = SENSES, own: Mapping[str, str] | None = None,
              offset: int = 0) -> tuple[str, ...]:
        """The texts of :meth:`prompts`."""
        return tuple(p.text for p in self.prompts(senses, own, offset))

    def hold_prompts(self, common_hold: Sequence[str] = ()) -> tuple[Prompt, ...]:
        if self.hold:
            return tuple(Prompt(f"{self.id}.hold.{n}", line) for n, line in enumerate(self.hold, 1))
        return tuple(Prompt(f"common.hold.{n}", line) for n, line in enumerate(common_hold, 1))

    def timing(self, prompts: Sequence[Prompt] | None = None, *, by_hand: bool = False,
               speech_s: SpeechTime = estimated_speech, holds: Sequence[Prompt] = (),
               max_quiet_s: float = DEFAULT_MAX_QUIET_S) -> StepTiming:
        """The step's timing for :class:`biofeedback.step_pacer.StepPacer`: each line's slot is its
        speaking time plus the quiet :func:`~biofeedback.prompt_timing.spread_quiet` gives it across
        the step's typical length.

        ``by_hand``: the therapist moves a narrative (imagery) step on; other kinds keep their clock."""
        prompts = tuple(self.prompts() if prompts is None else prompts)
        speech = [speech_s(p) for p in prompts]
        quiet = spread_quiet(speech, [p.invitation for p in prompts], self.typical_s, max_quiet_s)
        tail = None
        if prompts:
            tail = (AFTER_INVITATION if prompts[-1].invitation else AFTER_LINE).min_s
        return StepTiming(
            min_s=self.min_s,
            max_s=self.max_s,
            typical_s=self.typical_s,
            advance=self.advance.value,
            calm_above=self.calm_above,
            prompt_s=tuple(s + q for s, q in zip(speech, quiet)),
            by_hand=by_hand and self.kind is StepKind.IMAGERY,
            quiet_s=quiet,
            hold_s=tuple(speech_s(p) for p in holds),
            max_quiet_s=max_quiet_s,
            tail_s=tail,
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
    bedtime: bool = False
    """An evening ritual: bedtime mode by default, and its last step is a bridge to sleep."""
    max_quiet_s: float = DEFAULT_MAX_QUIET_S
    """The longest silence between two spoken lines."""
    personal: str | None = None
    """``safe-place`` or ``rehearsal`` for a client's personal script (``[meta] personal``), written from a
    template with ``biofeedback scripts new``; alone it runs only as the therapist allowed it at home."""

    @property
    def grounding_step(self) -> int:
        """Index of the step the runner jumps to on distress: the closing step (grounding, or for an
        evening ritual its bridge to sleep)."""
        return len(self.steps) - 1

    def sense_offset(self, index: int) -> int:
        """Where step ``index`` starts in the person's senses: each earlier step that offers senses
        moved it on by :data:`SENSES_PER_STEP`, so every chosen sense comes up in turn."""
        return SENSES_PER_STEP * sum(1 for s in self.steps[:index] if s.senses)

    def prompts_for(self, index: int, senses: Sequence[str] = SENSES,
                    own: Mapping[str, str] | None = None) -> tuple[Prompt, ...]:
        return self.steps[index].prompts(senses, own, self.sense_offset(index))

    def timings(self, senses: Sequence[str] = SENSES, *, by_hand: bool = False,
                own: Mapping[str, str] | None = None, speech_s: SpeechTime = estimated_speech,
                common_hold: Sequence[str] = ()) -> tuple[StepTiming, ...]:
        return tuple(
            step.timing(self.prompts_for(i, senses, own), by_hand=by_hand, speech_s=speech_s,
                        holds=step.hold_prompts(common_hold), max_quiet_s=self.max_quiet_s)
            for i, step in enumerate(self.steps))

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "language": self.language,
            "title": self.title,
            "purpose": self.purpose,
            "duration_min": self.duration_min,
            "therapist_only": self.therapist_only,
            "steps": len(self.steps),
            "bedtime": self.bedtime,
            "source": "user" if self.user else "builtin",
            "personal": self.personal,
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
    first_run: tuple[str, ...] = ()
    """Before the very first session: what imagery is and isn't, and what to expect."""
    hold: tuple[str, ...] = ()
    """Said when a step runs on after its lines, before the silence grows too long."""
    stop_bedtime: tuple[str, ...] = ()
    """Said after a stop in bedtime mode: a quiet bridge to sleep, not "look around the room"."""

    def stop_lines(self, bedtime: bool = False) -> tuple[str, ...]:
        """What a stop says: the bedtime bridge in bedtime mode (when there is one), else the grounding."""
        return self.stop_bedtime if bedtime and self.stop_bedtime else self.stop_grounding

    def stop_timing(self, bedtime: bool = False) -> tuple[float, ...]:
        """Seconds per stop line, for ``StepPacer(stop_lines=...)``."""
        return tuple(speech_seconds(line) for line in self.stop_lines(bedtime))

    def prompts(self, key: str) -> tuple[Prompt, ...]:
        """The lines of one shared text, with their ids (``common.<key>.<n>``)."""
        value = getattr(self, key)
        lines = (value,) if isinstance(value, str) else tuple(value)
        return tuple(Prompt(f"common.{key}.{n}", line) for n, line in enumerate(lines, 1))

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


COMMON_SPOKEN = ("baseline", "hold", "too_much_ack", "distress", "care_orientation", "care_grounding",
                 "care_settled", "care_closing", "aroused_start", "resume_ack", "recovered", "stop_grounding",
                 "stop_bedtime")
"""The shared texts a session may say aloud."""


def spoken_lines(script: Script, common: CommonTexts | None = None,
                 own: Mapping[str, str] | None = None) -> list[Prompt]:
    """Every line ``script`` can say, each once: all sense variants of every step, its hold lines, and
    (with ``common``) the shared texts; with ``own`` (a person's safe-place answers) also the lines
    woven from them that those answers can fill. For recording a voice and for checking texts; a
    session says only a part of them."""
    out: dict[str, Prompt] = {}

    def add(pid: str, text: str | None, invitation: bool = False) -> None:
        if text is not None:
            out.setdefault(pid, Prompt(pid, text, invitation))

    for step in script.steps:
        for p in step.prompts(senses=()):
            out.setdefault(p.id, p)
        for sense, line in step.senses.items():
            add(f"{step.id}.{sense}", line, True)
        if own:
            for n, line in enumerate(step.own_text, 1):
                add(f"{step.id}.own-text.{n}", fill_own(line, own))
            for sense, line in step.own.items():
                add(f"{step.id}.own-{sense}", fill_own(line, own), True)
        for p in step.hold_prompts():
            out.setdefault(p.id, p)
    if common is not None:
        for key in COMMON_SPOKEN:
            for p in common.prompts(key):
                out.setdefault(p.id, p)
    return list(out.values())
