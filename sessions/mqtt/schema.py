"""Topics and payloads (documented in :mod:`sessions.mqtt`): what may leave the machine, and nothing else.

Events pass a whitelist of kinds and fields, so a prompt's text or anything free-form can never be
published by accident when the runner grows new fields.
"""

from __future__ import annotations

import json
import math
import secrets
from typing import Any

SCHEMA_VERSION = 1

# kind -> fields that may be published (all numbers or fixed vocabulary from the code and scripts).
EVENT_FIELDS: dict[str, tuple[str, ...]] = {
    "session_start": ("script",),
    "step": ("step", "index", "kind", "max_s"),
    "step_end": ("step", "index", "reason"),
    "baseline": ("hr_bpm", "rmssd_ms", "breathing_rate"),
    "pacer_rate": ("rate",),
    "distress": ("source", "hr_bpm", "baseline_hr"),
    "grounding": ("reason",),
    "recovered": (),
    "stop": ("reason",),
    "done": ("reason",),
    "pause": (),
    "resume": (),
    "link": ("state",),
    "resonance_rate": ("rate",),
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
    return f"{prefix}/{sid}/status"


def metrics_topic(prefix: str, sid: str) -> str:
    return f"{prefix}/{sid}/metrics"


def events_topic(prefix: str, sid: str) -> str:
    return f"{prefix}/{sid}/events"


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()


def _num(value: Any, digits: int) -> float | int | None:
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return round(float(value), digits) if digits else int(round(value))


def metrics_payload(state: Any, rr_ms: float | None, ts: float) -> dict[str, Any]:
    """One 1-Hz sample of a runner's :class:`LiveState`."""
    return {
        "t": _num(state.t, 1), "ts": round(ts, 3),
        "hr": _num(state.hr_bpm, 1), "rr": _num(rr_ms, 0), "rmssd": _num(state.rmssd_ms, 1),
        "coh": _num(state.coherence, 2), "calm": _num(state.calm, 1), "pacer": _num(state.pacer_rate, 2),
        "step": state.step_id if state.phase != "baseline" else "baseline", "phase": state.phase,
    }


def event_payload(kind: str, t: float, data: dict[str, Any], ts: float) -> dict[str, Any] | None:
    """The published form of a recorded event, or None when it is not for publishing."""
    fields = EVENT_FIELDS.get(kind)
    if fields is None:
        return None
    if kind == "link" and data.get("state") not in LINK_STATES:
        return None
    out: dict[str, Any] = {"t": _num(t, 1), "ts": round(ts, 3), "kind": kind}
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
