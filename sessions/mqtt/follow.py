"""What a watcher knows about the sessions it follows, built from the messages it receives.

Pure bookkeeping (no I/O), so the ``watch`` command, the benchmark and tests share it.

Anyone who can publish on the broker can send anything, so every message is checked against the
schema (:mod:`sessions.mqtt.schema`) before a view sees it: strict JSON (no NaN or Infinity, no
number too long to be one of ours, bounded size and depth), each known field of its declared type,
numbers finite and bounded, text short and printable, vocabulary from the enums. A message that
fails is dropped and counted (:attr:`Following.dropped`); fields the schema does not know are left
out. The number of sessions followed is bounded (:data:`MAX_SESSIONS`).

A prefix may hold ``+`` levels (a therapist follows ``biofeedback/+``: every client they may read,
each publishing under ``biofeedback/<code>``); a session is then known by its key ``<code>/<session id>``,
and what a ``+`` matched must look like a client code.
"""

from __future__ import annotations

import json
import logging
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sessions.clients import CODE_RE as CLIENT_CODE
from sessions.events import EVENTS, EventKind, GroundingReason, SessionPhase, StepKind
from sessions.metric_registry import PUBLISHED
from sessions.mqtt.config import SESSION_ID
from sessions.mqtt.schema import EVENT_FIELDS, LINK_STATES, Topic

log = logging.getLogger(__name__)

QUIET_AFTER_S = 15.0  # online but no metrics for this long: shown as "no data"
MAX_MESSAGE_BYTES = 16 * 1024
"""Ours are a few hundred bytes."""
MAX_SESSIONS = 64
"""Sessions followed at once; beyond it the longest-finished one makes room, or the newcomer is dropped."""
MAX_NUMBER = 1e11
"""Wall-clock seconds (ts, about 1.8e9) fit; anything bigger is not one of ours."""
MAX_INT_DIGITS = 15
MAX_TEXT = 64
STATES = frozenset({"online", "offline"})
PHASES = frozenset(p.value for p in SessionPhase)


class Invalid(ValueError):
    """A message that does not follow the schema; the text says why (it names the field)."""


def _number(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            and abs(value) <= MAX_NUMBER)


def _text(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= MAX_TEXT and value.isprintable()


def _step(value: Any) -> bool:
    """A step is named by its id or by its position."""
    return _text(value) or (isinstance(value, int) and _number(value))


def _one_of(words: frozenset[str]) -> Callable[[Any], bool]:
    return lambda value: isinstance(value, str) and value in words


def _typed(types: tuple[type, ...]) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        if isinstance(value, bool):
            return bool in types
        if isinstance(value, (int, float)):
            return isinstance(value, types) and _number(value)
        if isinstance(value, str):
            return str in types and _text(value)
        return False
    return check


STATUS_FIELDS: dict[str, Callable[[Any], bool]] = {
    "state": _one_of(STATES), "reason": _text, "script": _text, "since": _number, "v": _number,
}
METRICS_FIELDS: dict[str, Callable[[Any], bool]] = {
    "t": _number, "ts": _number, "rr": _number, "step": _step, "phase": _one_of(PHASES),
    **{m.wire: _number for m in PUBLISHED},
}
EVENT_CHECKS: dict[EventKind, dict[str, Callable[[Any], bool]]] = {
    kind: {"t": _number, "ts": _number, **{("step_kind" if name == "kind" else name): _typed(EVENTS[kind][name].types)
                                          for name in names}}
    for kind, names in EVENT_FIELDS.items()
}
KINDS = frozenset(k.value for k in EVENT_CHECKS)


def _reject_constant(name: str) -> Any:
    raise Invalid(f"{name} is not a number here")


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise Invalid(f"an integer of {len(text)} digits")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise Invalid(f"{text[:20]} overflows")
    return value


def parse(raw: bytes) -> dict[str, Any]:
    """The JSON object of a message, strictly; raises :class:`Invalid`."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise Invalid(f"{len(raw)} bytes")
    try:
        payload = json.loads(raw, parse_constant=_reject_constant, parse_int=_int, parse_float=_float)
    except RecursionError:
        raise Invalid("nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as err:
        raise Invalid(str(err)[:80]) from None
    if not isinstance(payload, dict):
        raise Invalid("not a JSON object")
    return payload


def _checked(payload: dict[str, Any], checks: dict[str, Callable[[Any], bool]], required: str | None) -> dict[str, Any]:
    """The known fields of ``payload``, each valid (None allowed but for ``required``); unknown ones left out."""
    out: dict[str, Any] = {}
    for name, check in checks.items():
        value = payload.get(name)
        if value is None:
            if name == required:
                raise Invalid(f"{name} missing")
        elif not check(value):
            raise Invalid(f"{name} is not valid")
        out[name] = value
    return out


def validate(topic: Topic, payload: dict[str, Any]) -> dict[str, Any]:
    """The message as the schema allows it; raises :class:`Invalid`."""
    if topic is Topic.STATUS:
        return _checked(payload, STATUS_FIELDS, "state")
    if topic is Topic.METRICS:
        return _checked(payload, METRICS_FIELDS, None)
    kind = payload.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        raise Invalid("unknown event kind")
    out = _checked(payload, EVENT_CHECKS[EventKind(kind)], None)
    if EventKind(kind) is EventKind.LINK and out.get("state") not in LINK_STATES:
        raise Invalid("unknown link state")
    out["kind"] = kind
    return out


@dataclass
class Followed:
    sid: str                        # the key: the session id, or ``<client>/<session id>`` under a ``+`` prefix
    state: str = "unknown"          # online, offline
    reason: str | None = None       # with offline: done or lost
    script: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    last_event: dict[str, Any] | None = None
    last_rx: float = 0.0            # wall time of the last message
    last_metrics_rx: float = 0.0
    seen_online: bool = False
    curve: list[tuple[float, float | None, float | None]] = field(default_factory=list)  # (t, hr, calm)
    distress: int = 0               # distress events seen (the body's or the person asking)
    last_distress_t: float | None = None
    in_care: bool = False           # grounding or care under way (until 'recovered', a new step or the end)
    had_care: bool = False
    stopping: bool = False          # after 'stop': the grounding that closes every session is not care
    end_reason: str | None = None   # the 'done' event's reason, else the 'stop' event's
    base: str = ""                  # its topics' common part, ``<prefix>/<session id>`` (where markers go)
    client: str | None = None       # what the prefix's ``+`` matched (a client code), if it has one

    def shown_state(self, now: float) -> str:
        if self.state == "offline":
            return "lost" if self.reason == "lost" else "offline"
        if self.state == "online" and self.last_metrics_rx and now - self.last_metrics_rx > QUIET_AFTER_S:
            return "quiet"
        return self.state


@dataclass
class Update:
    sid: str
    kind: Topic          # which topic it came on
    payload: dict[str, Any]
    delay_s: float | None = None


class Following:
    """Feed it ``(topic, payload bytes, wall time)``; it keeps one :class:`Followed` per session.

    Nothing it is fed raises: what does not follow the schema is dropped and counted in ``dropped``
    (by reason), with one warning the first time."""

    def __init__(self, prefix: str, max_curve: int = 3600, max_sessions: int = MAX_SESSIONS) -> None:
        self.prefix = prefix
        self.sessions: dict[str, Followed] = {}
        self.max_curve = max_curve
        self.max_sessions = max_sessions
        self.dropped: Counter[str] = Counter()

    def topics(self, sid: str | None = None) -> list[str]:
        who = sid or "+"
        return [f"{self.prefix}/{who}/{topic}" for topic in Topic]

    def _drop(self, why: str, detail: str, topic: str) -> None:
        if not sum(self.dropped.values()):
            log.warning("Dropped a message on %s that does not follow the schema (%s: %s); counting further ones "
                        "quietly.", topic[:120].encode("unicode_escape").decode(), why, detail)
        self.dropped[why] += 1

    def _session(self, sid: str) -> Followed | None:
        s = self.sessions.get(sid)
        if s is not None:
            return s
        if len(self.sessions) >= self.max_sessions:
            finished = [f for f in self.sessions.values() if f.state == "offline"]
            if not finished:
                return None
            del self.sessions[min(finished, key=lambda f: f.last_rx).sid]
        s = self.sessions[sid] = Followed(sid)
        return s

    def _key(self, topic: str) -> tuple[str, str, str | None] | None:
        """``(key, session id, client)`` of a session topic under our prefix; None when it is not one."""
        levels = topic.split("/")
        want = self.prefix.split("/")
        if len(levels) != len(want) + 2:
            return None
        matched = []
        for level, pattern in zip(levels, want):
            if pattern == "+":
                matched.append(level)
            elif level != pattern:
                return None
        sid = levels[-2]
        return "/".join([*matched, sid]), sid, (matched[-1] if matched else None)

    def handle(self, topic: str, raw: bytes, now: float) -> Update | None:
        found = self._key(topic)
        tail = topic.rpartition("/")[2]
        if found is None or tail not in set(Topic) or not found[1]:
            return None
        key, sid, client = found
        kind = Topic(tail)
        if not raw:
            return None  # a retained status being cleared
        if not SESSION_ID.match(sid) or (client is not None and not CLIENT_CODE.fullmatch(client)):
            self._drop("session id", "not one of ours", topic)
            return None
        try:
            payload = validate(kind, parse(raw))
        except Invalid as err:
            self._drop(str(kind), str(err), topic)
            return None
        s = self._session(key)
        if s is None:
            self._drop("too many sessions", f"{self.max_sessions} followed", topic)
            return None
        s.base, s.client = topic.rpartition("/")[0], client
        return self._apply(s, kind, payload, now)

    def _apply(self, s: Followed, kind: Topic, payload: dict[str, Any], now: float) -> Update:
        s.last_rx = now
        delay = None
        if kind is Topic.STATUS:
            s.state = payload["state"]
            s.reason = payload.get("reason")
            if s.state == "online":
                s.seen_online = True
                s.script = payload.get("script") or s.script
            return Update(s.sid, Topic.STATUS, payload)
        ts = payload.get("ts")
        if ts is not None:
            delay = now - ts
        if kind is Topic.METRICS:
            s.metrics = payload
            s.last_metrics_rx = now
            if s.state != "online":  # metrics flow: it is live (e.g. status lost in a broker restart)
                s.state, s.reason = "online", None
            s.curve.append((payload.get("t") or 0.0, payload.get("hr"), payload.get("calm")))
            if len(s.curve) > self.max_curve:
                del s.curve[: len(s.curve) - self.max_curve]
            return Update(s.sid, Topic.METRICS, payload, delay)
        s.last_event = payload
        self._note_event(s, EventKind(payload["kind"]), payload)
        return Update(s.sid, Topic.EVENTS, payload, delay)

    @staticmethod
    def _note_event(s: Followed, kind: EventKind, payload: dict[str, Any]) -> None:
        """What a view must show plainly: distress, care under way, and why the session ended."""
        if kind is EventKind.DISTRESS:
            s.distress += 1
            s.last_distress_t = payload.get("t")
        elif kind in (EventKind.GROUNDING, EventKind.CARE):
            if not (s.stopping or payload.get("reason") == GroundingReason.STOP):
                s.in_care = s.had_care = True
        elif kind is EventKind.STEP:
            s.in_care = payload.get("step_kind") == StepKind.GROUNDING and not s.stopping
            s.had_care = s.had_care or s.in_care
        elif kind is EventKind.RECOVERED:
            s.in_care = False
        elif kind is EventKind.DONE:
            s.in_care = False
            if isinstance(payload.get("reason"), str):
                s.end_reason = payload["reason"]
        elif kind is EventKind.STOP:
            s.stopping = True
            if s.end_reason is None and isinstance(payload.get("reason"), str):
                s.end_reason = payload["reason"]

    def all_finished(self) -> bool:
        """Every session seen online during this watch has gone offline (and there was one)."""
        live = [s for s in self.sessions.values() if s.seen_online]
        return bool(live) and all(s.state == "offline" for s in live)
