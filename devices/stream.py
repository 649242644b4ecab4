"""The items a heartbeat source yields: samples and link/status events."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

TICKS_PER_SECOND = 1024
"""RR intervals travel as integer ticks of 1/1024 s; convert only at the edges."""


def ticks_to_ms(ticks: int) -> float:
    """RR ticks (1/1024 s) to milliseconds, exactly (no rounding)."""
    return ticks * 1000.0 / TICKS_PER_SECOND


def ms_to_ticks(ms: float) -> int:
    """Milliseconds to the nearest whole tick (for files that stored RR in ms)."""
    return int(round(ms * TICKS_PER_SECOND / 1000.0))


class Contact(enum.Enum):
    """Sensor contact as the Heart Rate Measurement flags report it."""

    DETECTED = "detected"
    NOT_DETECTED = "not_detected"
    UNSUPPORTED = "unsupported"


@dataclass(frozen=True, slots=True)
class HeartSample:
    """One notification's worth of heart data, after decoding and beat timing.

    ``rr_ticks`` holds the RR intervals that are passed on as beats; ``beat_t`` the time (seconds
    since the stream started) of the beat that ends each of them. ``rejected_rr_ticks`` are RR
    values the strap sent but that are not beats (start-up HR=0, outside 20-300 bpm); they are
    kept for the record, never used. ``after_gap`` marks the first sample after a break in the
    RR chain (link loss, contact loss, rejected RR): no interval spans a gap.
    """

    t: float
    hr_bpm: int
    contact: Contact
    energy_kj: int | None
    rr_ticks: tuple[int, ...]
    beat_t: tuple[float, ...]
    payload: bytes = b""
    rejected_rr_ticks: tuple[int, ...] = ()
    after_gap: bool = False

    @property
    def rr_ms(self) -> tuple[float, ...]:
        return tuple(ticks_to_ms(r) for r in self.rr_ticks)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "t": round(self.t, 4),
            "hr_bpm": self.hr_bpm,
            "rr_ms": [round(ticks_to_ms(r), 3) for r in self.rr_ticks],
            "rr_ticks": list(self.rr_ticks),
            "beat_t": [round(b, 4) for b in self.beat_t],
            "contact": self.contact.value,
            "energy_kj": self.energy_kj,
        }
        if self.rejected_rr_ticks:
            out["rejected_rr_ticks"] = list(self.rejected_rr_ticks)
        if self.after_gap:
            out["after_gap"] = True
        if self.payload:
            out["payload"] = self.payload.hex()
        return out


class LinkState(str, enum.Enum):
    """Kinds of status event a source can emit."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    DEVICE_INFO = "device_info"
    CONTACT_LOST = "contact_lost"
    CONTACT_RESTORED = "contact_restored"
    DISCONNECTED = "disconnected"
    RECONNECTING = "reconnecting"
    RECONNECTED = "reconnected"
    GAP = "gap"
    MALFORMED = "malformed"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class LinkEvent:
    """A status event in the stream (link state, contact, gaps, device info)."""

    t: float
    kind: LinkState
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"t": round(self.t, 4), "event": self.kind.value, **self.detail}


StreamItem = HeartSample | LinkEvent
