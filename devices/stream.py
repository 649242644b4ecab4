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


@dataclass(frozen=True, slots=True)
class EcgChunk:
    """Raw ECG samples a strap streamed (the Polar H10's PMD ECG), already on the session clock.

    ``t`` is the session time of the *last* sample; sample ``i`` of ``n`` lies at
    ``t - (n - 1 - i) / fs``. ``payload`` is the PMD notification as received (the record keeps it
    as one blob per frame); ``after_gap`` marks the first chunk after lost frames or a reconnect.
    """

    t: float
    fs: float
    samples_uv: tuple[int, ...]
    payload: bytes = b""
    after_gap: bool = False

    def times(self) -> tuple[float, ...]:
        n = len(self.samples_uv)
        return tuple(self.t - (n - 1 - i) / self.fs for i in range(n))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"t": round(self.t, 4), "ecg_fs": self.fs, "ecg_uv": list(self.samples_uv)}
        if self.after_gap:
            out["after_gap"] = True
        return out


@dataclass(frozen=True, slots=True)
class AccChunk:
    """Chest accelerometer samples (x, y, z in mG) a strap streamed, on the session clock.

    Timing as :class:`EcgChunk`: ``t`` is the session time of the last sample.
    """

    t: float
    fs: float
    samples_mg: tuple[tuple[int, int, int], ...]
    payload: bytes = b""
    after_gap: bool = False

    def times(self) -> tuple[float, ...]:
        n = len(self.samples_mg)
        return tuple(self.t - (n - 1 - i) / self.fs for i in range(n))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"t": round(self.t, 4), "acc_fs": self.fs, "acc_mg": [list(s) for s in self.samples_mg]}
        if self.after_gap:
            out["after_gap"] = True
        return out


StreamItem = HeartSample | LinkEvent | EcgChunk | AccChunk
"""What a source yields. Consumers that do not use ECG or ACC skip those chunks."""
