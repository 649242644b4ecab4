"""Topics and payloads (documented in :mod:`sessions.mqtt`): what may leave the machine, and nothing else.

Events pass an allow-list of kinds and fields derived from the vocabulary
(:func:`sessions.events.published_fields`), so a prompt's text or anything free-form can never be
published by accident when the runner grows new fields. Metrics are the registry's ``published``
ones (:data:`sessions.metric_registry.PUBLISHED`), under their wire keys.
"""

from __future__ import annotations

import enum
import hashlib
import json
import math
import secrets
from typing import Any

from sessions.events import PRIVATE_KINDS, EventKind, SessionPhase, StepKind, parse_kind, published_fields
from sessions.metric_registry import PUBLISHED

SCHEMA_VERSION = 1


class Topic(enum.StrEnum):
    """The three topics of a session, ``<prefix>/<session id>/<topic>``."""

    STATUS = "status"
    METRICS = "metrics"
    EVENTS = "events"

# kind -> fields that may be published (numbers or fixed vocabulary), from the event vocabulary.
EVENT_FIELDS: dict[EventKind, tuple[str, ...]] = {
    kind: published_fields(kind) for kind in EventKind if kind not in PRIVATE_KINDS
}
# Link states worth a therapist's attention (device info and malformed payloads are not).
LINK_STATES = {"connected", "disconnected", "reconnecting", "reconnected", "contact_lost", "contact_restored", "gap", "ended"}

# Home Assistant sensors: key in the metrics payload -> (name, unit, device class, icon).
HA_SENSORS = {
    "hr": ("Heart rate", "bpm", None, "mdi:heart-pulse"),
    "calm": ("Calm", "%", None, "mdi:meditation"),
    "step": ("Step", None, None, "mdi:format-list-numbered"),
}


def new_session_id() -> str:
    """Pseudonymous: random, so that it says nothing about who or when."""
    return secrets.token_hex(4)


def status_topic(prefix: str, sid: str) -> str:
    return f"{prefix}/{sid}/{Topic.STATUS}"


def metrics_topic(prefix: str, sid: str) -> str:
    return f"{prefix}/{sid}/{Topic.METRICS}"


def events_topic(prefix: str, sid: str) -> str:
    return f"{prefix}/{sid}/{Topic.EVENTS}"


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()


def _num(value: Any, digits: int) -> float | int | None:
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return round(float(value), digits) if digits else int(round(value))


def metrics_payload(state: Any, rr_ms: float | None, ts: float) -> dict[str, Any]:
    """One 1-Hz sample of a runner's :class:`LiveState`: the registry's published metrics by wire key."""
    out: dict[str, Any] = {"t": _num(state.t, 1), "ts": round(ts, 3), "rr": _num(rr_ms, 0)}
    for m in PUBLISHED:
        out[m.wire] = m.publish(state.value(m.key))
    out["step"] = state.step_id if state.phase is not SessionPhase.BASELINE else StepKind.BASELINE.value
    out["phase"] = state.phase.value if isinstance(state.phase, SessionPhase) else state.phase
    return out


def event_payload(kind: EventKind | str, t: float, data: dict[str, Any], ts: float) -> dict[str, Any] | None:
    """The published form of a recorded event, or None when it is not for publishing."""
    kind = parse_kind(kind) if not isinstance(kind, EventKind) else kind
    if not isinstance(kind, EventKind) or kind not in EVENT_FIELDS:
        return None
    fields = EVENT_FIELDS[kind]
    if kind is EventKind.LINK and data.get("state") not in LINK_STATES:
        return None
    out: dict[str, Any] = {"t": _num(t, 1), "ts": round(ts, 3), "kind": kind.value}
    for name in fields:
        value = data.get(name)
        if isinstance(value, float):
            value = _num(value, 2)
        elif value is not None and not isinstance(value, (int, str, bool)):
            continue
        if isinstance(value, str):
            value = value[:64]
        out["step_kind" if name == "kind" else name] = value  # "kind" names the event
    return out


def script_alias(script_id: str | None, sid: str) -> str | None:
    """What a user's own script is called on the wire: a short hash keyed by the session, so the id
    the person chose (a name, a place) never leaves the machine and two sessions cannot be linked by it."""
    if script_id is None:
        return None
    return "user-" + hashlib.sha256(f"{sid}:{script_id}".encode()).hexdigest()[:8]


def without_user_ids(payload: dict[str, Any], alias: str | None, position: int | None) -> dict[str, Any]:
    """A payload of a user's own script with its free-text ids replaced: the script by its alias, a step
    by its position in the script (``step-1`` for the first), the quiet start by its fixed name."""
    if "script" in payload:
        payload["script"] = alias
    step = payload.get("step")
    if isinstance(step, str) and step != StepKind.BASELINE.value:
        index = payload.get("index")
        number = index + 1 if isinstance(index, int) and not isinstance(index, bool) else position
        payload["step"] = None if number is None else f"step-{number}"  # text, as the vocabulary declares
    return payload


def online_payload(script: str | None, since: float) -> dict[str, Any]:
    return {"state": "online", "since": round(since, 1), "script": script, "v": SCHEMA_VERSION}


def offline_payload(reason: str) -> dict[str, Any]:
    return {"state": "offline", "reason": reason, "v": SCHEMA_VERSION}


def ha_discovery(prefix: str, sid: str, discovery_prefix: str = "homeassistant") -> list[tuple[str, bytes]]:
    """Retained discovery configs; stable ids, so a dashboard keeps its entities across sessions."""
    out = []
    for key, (name, unit, device_class, icon) in HA_SENSORS.items():
        config: dict[str, Any] = {
            "name": name,
            "unique_id": f"biofeedback_{key}",
            "object_id": f"biofeedback_{key}",
            "state_topic": metrics_topic(prefix, sid),
            "value_template": f"{{{{ value_json.{key} }}}}",
            "availability_topic": status_topic(prefix, sid),
            "availability_template": "{{ value_json.state }}",
            "payload_available": "online",
            "payload_not_available": "offline",
            "icon": icon,
            "device": {"identifiers": ["biofeedback"], "name": "Biofeedback", "model": "HRV biofeedback session"},
        }
        if unit:
            config["unit_of_measurement"] = unit
            config["state_class"] = "measurement"
        if device_class:
            config["device_class"] = device_class
        out.append((f"{discovery_prefix}/sensor/biofeedback/{key}/config", encode(config)))
    return out
