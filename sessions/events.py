"""The session's event vocabulary: every kind of event the runner records, with its declared fields.

Why one module: the record, the views, the exports and the MQTT publisher all read events. With
free strings a typo or a renamed field fails silently in one of them; here a kind is an enum
member, each kind declares its fields (name, type, and whether it may leave the machine), the
runner's :func:`event_data` checks what it records against the declaration, the record reader
turns stored kinds back into members (:func:`parse_kind`), and the MQTT allow-list is derived from
the ``published`` flags. Nothing outside this module compares an event kind with a string
(``tests/test_vocabulary.py`` checks the source for it).

Also here: the session's phases as a person sees them (:class:`SessionPhase`) and the kinds of a
script's steps (:class:`StepKind`). Why a step ended, why a session is done and where distress
came from are enums of the pacing logic in :mod:`biofeedback.step_pacer`.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

log = logging.getLogger(__name__)


class EventKind(enum.StrEnum):
    """What happened; the value is what the record stores."""

    SESSION_START = "session_start"
    STEP = "step"
    STEP_END = "step_end"
    BASELINE = "baseline"
    PROMPT = "prompt"
    PACER_RATE = "pacer_rate"
    PACER_DECISION = "pacer_decision"
    DISTRESS = "distress"
    GROUNDING = "grounding"
    CARE = "care"
    RECOVERED = "recovered"
    STOP = "stop"
    DONE = "done"
    PAUSE = "pause"
    RESUME = "resume"
    LINK = "link"
    RHYTHM = "rhythm"
    RESONANCE_RATE = "resonance_rate"
    ASSESSMENT_TRIAL = "assessment_trial"
    BREATH = "breath"
    """A breath measured by the chest accelerometer (a Polar H10): its length, depth and inhale share."""
    ECG = "ecg_stream"
    """The strap's ECG started, stopped or came back (a Polar H10's PMD stream)."""
    MARKER = "marker"
    """A moment marked by the person (key m), the therapist following live, or a button: a short label."""
    RATING = "rating"
    """The person's own rating before or after the exercise: distress (SUD 0-10), vividness, a private line."""
    METRICS = "metrics"
    """The 5-s metrics row, passed to views; it is stored as a row of its own, not as an event."""


class MarkerSource(enum.StrEnum):
    """Who dropped a marker."""

    KEY = "key"
    """The person, with the m key (window or terminal)."""
    THERAPIST = "therapist"
    """The therapist following live (the watch page's buttons, over the broker)."""
    BUTTON = "button"
    """A button in the session window."""


MARKER_LABEL_MAX = 60
"""A marker's label is a word or a few ("hotspot", "rescript starts"), never a note."""
DEFAULT_MARKER_LABEL = "marker"


def marker_label(label: str | None) -> str:
    """``label`` made safe for the record and the views: printable, one line, at most 60 characters;
    empty becomes ``"marker"``."""
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in (label or "")).split())
    return text[:MARKER_LABEL_MAX].rstrip() or DEFAULT_MARKER_LABEL


class RatingWhen(enum.StrEnum):
    """When the person rated: before the exercise or after it."""

    BEFORE = "before"
    AFTER = "after"


NO_SIGNAL_S = 5.0
"""No beat for this long (session time) is no signal: the window and the terminal say "no signal for …" and
leave a gap in the curves, whether or not the link still stands (a strap off the skin keeps sending empty
notifications), and the review draws no line across such a stretch."""


class SessionPhase(enum.StrEnum):
    """Where the session is, as the views show it."""

    STARTING = "starting"
    BASELINE = "baseline"
    STEP = "step"
    CARE = "care"
    """After distress, "this is too much", or an aroused start: orientation and grounding until settled."""
    STOPPING = "stopping"
    DONE = "done"


class StepKind(enum.StrEnum):
    """The kinds of a script's steps (and the quiet start, which the record stores as a step too)."""

    BASELINE = "baseline"
    BREATHING = "breathing"
    IMAGERY = "imagery"
    GROUNDING = "grounding"
    ASSESSMENT = "assessment"
    SLEEP = "sleep"
    """The closing step of an evening ritual: a bridge to sleep, not a return to the room."""


class GroundingReason(enum.StrEnum):
    """Why grounding began: the body, the person asking, or a stop."""

    DISTRESS = "distress"
    ASKED = "asked"
    AROUSED = "aroused_start"
    STOP = "stop"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    types: tuple[type, ...]
    published: bool = False
    """May leave the machine (MQTT): numbers and fixed vocabulary only, never free text."""


def _f(*types: type, published: bool = False) -> FieldSpec:
    return FieldSpec(types + (type(None),), published)


NUM = (int, float)
TEXT = (str,)

EVENTS: Mapping[EventKind, Mapping[str, FieldSpec]] = {
    EventKind.SESSION_START: {"script": _f(*TEXT, published=True), "language": _f(*TEXT), "source": _f(*TEXT),
                              "payload_format": _f(*TEXT)},
    EventKind.STEP: {"step": _f(*TEXT, published=True), "title": _f(*TEXT), "index": _f(int, published=True),
                     "kind": _f(*TEXT, published=True), "max_s": _f(*NUM, published=True)},
    EventKind.STEP_END: {"step": _f(*TEXT, published=True), "index": _f(int, published=True),
                         "reason": _f(*TEXT, published=True)},
    EventKind.BASELINE: {"hr_bpm": _f(*NUM, published=True), "rmssd_ms": _f(*NUM, published=True),
                         "breathing_rate": _f(*NUM, published=True), "stored_hr_bpm": _f(*NUM),
                         "aroused": _f(bool, published=True)},
    EventKind.PROMPT: {"step": _f(*TEXT), "line": _f(int), "text": _f(*TEXT), "id": _f(*TEXT)},
    EventKind.PACER_RATE: {"rate": _f(*NUM, published=True), "from": _f(*NUM), "inhale_fraction": _f(*NUM)},
    EventKind.PACER_DECISION: {"action": _f(*TEXT), "from": _f(*NUM), "to": _f(*NUM), "reason": _f(*TEXT)},
    EventKind.DISTRESS: {"source": _f(*TEXT, published=True), "hr_bpm": _f(*NUM, published=True),
                         "peak_hr_bpm": _f(*NUM, published=True), "threshold_bpm": _f(*NUM, published=True),
                         "reference_hr_bpm": _f(*NUM), "baseline_hr": _f(*NUM, published=True),
                         "rmssd_ms": _f(*NUM), "baseline_rmssd_ms": _f(*NUM)},
    EventKind.GROUNDING: {"reason": _f(*TEXT, published=True)},
    EventKind.CARE: {"stage": _f(*TEXT, published=True), "origin": _f(*TEXT, published=True)},
    EventKind.RECOVERED: {},
    EventKind.STOP: {"reason": _f(*TEXT, published=True)},
    EventKind.DONE: {"reason": _f(*TEXT, published=True)},
    EventKind.PAUSE: {},
    EventKind.RESUME: {},
    EventKind.LINK: {"state": _f(*TEXT, published=True), "battery_pct": _f(int), "name": _f(*TEXT),
                     "address": _f(*TEXT), "reason": _f(*TEXT), "seconds": _f(*NUM), "attempt": _f(int),
                     "detail": _f(*TEXT), "manufacturer": _f(*TEXT), "model": _f(*TEXT), "firmware": _f(*TEXT),
                     "location": _f(*TEXT), "hex": _f(*TEXT), "error": _f(*TEXT), "gap_s": _f(*NUM),
                     "delay_s": _f(*NUM)},
    EventKind.RHYTHM: {"irregular": _f(bool, published=True), "score": _f(*NUM)},
    EventKind.RESONANCE_RATE: {"rate": _f(*NUM, published=True), "trials": _f(list)},
    EventKind.ASSESSMENT_TRIAL: {"rate": _f(*NUM), "hr_peak_to_trough_bpm": _f(*NUM), "coherence": _f(*NUM)},
    EventKind.BREATH: {"duration_s": _f(*NUM), "rate": _f(*NUM), "depth": _f(*NUM), "inhale_s": _f(*NUM),
                       "phase_lag_s": _f(*NUM), "pacer_rate": _f(*NUM)},
    EventKind.ECG: {"state": _f(*TEXT, published=True), "fs": _f(*NUM), "classifier": _f(*TEXT)},
    EventKind.MARKER: {"label": _f(*TEXT), "source": _f(*TEXT, published=True)},
    EventKind.RATING: {"when": _f(*TEXT, published=True), "sud": _f(int, published=True),
                       "vividness": _f(int, published=True), "note": _f(*TEXT)},
    EventKind.METRICS: {},
}
"""Every kind's fields. LINK is open-ended (a strap's details vary): undeclared fields are kept there."""

PRIVATE_KINDS = frozenset({EventKind.PROMPT, EventKind.PACER_DECISION, EventKind.ASSESSMENT_TRIAL, EventKind.METRICS,
                           EventKind.BREATH})
"""Never published as events: a prompt carries free text; the others are detail for the record (metrics
are published on their own topic, the measured breathing with them)."""

OPEN_KINDS = frozenset({EventKind.LINK, EventKind.METRICS})
"""Kinds whose payload may carry fields beyond the declared ones (device details, the metrics row)."""


def published_fields(kind: EventKind) -> tuple[str, ...]:
    """The fields of ``kind`` that may be published (the MQTT allow-list is built from this)."""
    return tuple(name for name, spec in EVENTS[kind].items() if spec.published)


def event_data(kind: EventKind, data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` checked against the declaration of ``kind``: enum values become their plain value.

    An undeclared field or a wrong type is a programming slip: it is logged as an error (tests fail
    on it, see ``conftest.py``) and the event is still recorded, because losing a person's record
    over a slip would be worse."""
    spec = EVENTS[kind]
    out: dict[str, Any] = {}
    for name, value in data.items():
        if isinstance(value, enum.Enum):
            value = value.value
        field = spec.get(name)
        if field is None and kind not in OPEN_KINDS:
            log.error("Event %s has an undeclared field %r; add it to sessions.events.EVENTS.", kind.value, name)
        elif field is not None and not isinstance(value, field.types):
            log.error("Event %s field %r has type %s, declared %s.", kind.value, name, type(value).__name__,
                      "/".join(t.__name__ for t in field.types))
        out[name] = value
    return out


def parse_kind(kind: str) -> EventKind | str:
    """A stored kind as a member; a kind this version does not know (a newer file) stays a string."""
    try:
        return EventKind(kind)
    except ValueError:
        return kind


class Event(NamedTuple):
    """One recorded event as the record reader returns it."""

    t: float
    kind: EventKind | str
    data: dict[str, Any]
