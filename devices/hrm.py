"""Decoding the Bluetooth Heart Rate Measurement characteristic (0x2A37).

Layout (Bluetooth Heart Rate Service 1.0): a flags byte, then the heart rate, then the optional
fields in order.

- bit 0: heart rate format, 0 = uint8, 1 = uint16 little-endian
- bits 1-2: sensor contact; bit 2 says the feature is supported, bit 1 that contact is detected
- bit 3: energy expended present (uint16 LE, kJ)
- bit 4: RR intervals present (uint16 LE each, 1/1024 s), as many as fit in the rest
- bits 5-7: reserved for future use; ignored, as the spec asks

Policy for malformed payloads (a strap must never crash the stream):

===================  =====================================================================
kind                 what the lenient decoder does
===================  =====================================================================
``empty``            no sample; counted
``truncated_hr``     no sample (no trustworthy heart rate); counted
``truncated_energy`` heart rate kept; energy and RR dropped (the rest cannot be aligned)
``odd_rr_bytes``     heart rate kept; all RR of that payload dropped (a misaligned RR would
                     be a wrong beat; a missing one is only a gap, which is marked)
``empty_rr``         heart rate kept; the RR flag was set but no RR followed
``trailing_bytes``   everything kept; extra bytes after the last field ignored
===================  =====================================================================

Each kind is counted in :attr:`HrmDecoder.problems` and logged once (with its first payload).
"""

from __future__ import annotations

from typing import Any

import logging
from collections import Counter
from dataclasses import dataclass

from devices.stream import Contact, ticks_to_ms

log = logging.getLogger(__name__)

HEART_RATE_SERVICE_UUID = "0000180d-0000-1000-8000-00805f9b34fb"
HEART_RATE_MEASUREMENT_UUID = "00002a37-0000-1000-8000-00805f9b34fb"
BODY_SENSOR_LOCATION_UUID = "00002a38-0000-1000-8000-00805f9b34fb"
BATTERY_SERVICE_UUID = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"

BODY_SENSOR_LOCATIONS = {0: "other", 1: "chest", 2: "wrist", 3: "finger", 4: "hand", 5: "ear_lobe", 6: "foot"}

FLAG_HR_UINT16 = 0x01
FLAG_CONTACT_DETECTED = 0x02
FLAG_CONTACT_SUPPORTED = 0x04
FLAG_ENERGY = 0x08
FLAG_RR = 0x10

PROBLEM_TEXT = {
    "empty": "the payload is empty (no flags byte)",
    "truncated_hr": "the heart rate field is cut short",
    "truncated_energy": "the flags announce energy expended but its 2 bytes are missing",
    "odd_rr_bytes": "the RR interval bytes are an odd number (each RR takes 2 bytes)",
    "empty_rr": "the flags announce RR intervals but none follow",
    "trailing_bytes": "there are bytes after the last announced field",
}
FATAL_PROBLEMS = frozenset({"empty", "truncated_hr"})


@dataclass(frozen=True, slots=True)
class HeartRateMeasurement:
    """One decoded 0x2A37 payload. RR stays in integer 1/1024-s ticks."""

    hr_bpm: int
    contact: Contact
    energy_kj: int | None
    rr_ticks: tuple[int, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "hr_bpm": self.hr_bpm,
            "contact": self.contact.value,
            "energy_kj": self.energy_kj,
            "rr_ticks": list(self.rr_ticks),
            "rr_ms": [round(ticks_to_ms(r), 3) for r in self.rr_ticks],
        }


class MalformedPayload(ValueError):
    """A payload that does not follow the Heart Rate Measurement layout."""

    def __init__(self, kind: str, payload: bytes):
        self.kind = kind
        self.payload = bytes(payload)
        super().__init__(f"{PROBLEM_TEXT[kind]} (payload {self.payload.hex() or '<empty>'})")


def _contact(flags: int) -> Contact:
    if not flags & FLAG_CONTACT_SUPPORTED:
        return Contact.UNSUPPORTED
    return Contact.DETECTED if flags & FLAG_CONTACT_DETECTED else Contact.NOT_DETECTED


def parse_hrm(payload: bytes) -> tuple[HeartRateMeasurement | None, str | None]:
    """Decode leniently: the best measurement the payload supports and the problem, if any."""
    data = bytes(payload)
    if not data:
        return None, "empty"
    flags = data[0]
    pos = 1
    if flags & FLAG_HR_UINT16:
        if len(data) < 3:
            return None, "truncated_hr"
        hr = int.from_bytes(data[1:3], "little")
        pos = 3
    else:
        if len(data) < 2:
            return None, "truncated_hr"
        hr = data[1]
        pos = 2
    contact = _contact(flags)

    energy: int | None = None
    if flags & FLAG_ENERGY:
        if len(data) < pos + 2:
            return HeartRateMeasurement(hr, contact, None, ()), "truncated_energy"
        energy = int.from_bytes(data[pos : pos + 2], "little")
        pos += 2

    rr: tuple[int, ...] = ()
    problem = None
    rest = data[pos:]
    if flags & FLAG_RR:
        if not rest:
            problem = "empty_rr"
        elif len(rest) % 2:
            problem = "odd_rr_bytes"
        else:
            rr = tuple(int.from_bytes(rest[i : i + 2], "little") for i in range(0, len(rest), 2))
    elif rest:
        problem = "trailing_bytes"
    return HeartRateMeasurement(hr, contact, energy, rr), problem


def decode_hrm(payload: bytes) -> HeartRateMeasurement:
    """Decode strictly: raise :class:`MalformedPayload` on any deviation from the layout."""
    measurement, problem = parse_hrm(payload)
    if problem is not None:
        raise MalformedPayload(problem, payload)
    assert measurement is not None
    return measurement


def encode_hrm(
    hr_bpm: int,
    rr_ticks: tuple[int, ...] | list[int] = (),
    contact: Contact = Contact.DETECTED,
    energy_kj: int | None = None,
) -> bytes:
    """Build a 0x2A37 payload the way a strap does (used by the simulator and replays)."""
    flags = 0
    body = bytearray()
    if hr_bpm > 255:
        flags |= FLAG_HR_UINT16
        body += int(hr_bpm).to_bytes(2, "little")
    else:
        body.append(int(hr_bpm))
    if contact is Contact.DETECTED:
        flags |= FLAG_CONTACT_SUPPORTED | FLAG_CONTACT_DETECTED
    elif contact is Contact.NOT_DETECTED:
        flags |= FLAG_CONTACT_SUPPORTED
    if energy_kj is not None:
        flags |= FLAG_ENERGY
        body += int(energy_kj).to_bytes(2, "little")
    if rr_ticks:
        flags |= FLAG_RR
        for r in rr_ticks:
            body += int(r).to_bytes(2, "little")
    return bytes([flags]) + bytes(body)


class HrmDecoder:
    """Lenient decoder for a live stream: counts problems, logs each kind once, never raises."""

    def __init__(self) -> None:
        self.problems: Counter[str] = Counter()

    def decode(self, payload: bytes) -> tuple[HeartRateMeasurement | None, str | None]:
        measurement, problem = parse_hrm(payload)
        if problem is not None:
            if not self.problems[problem]:
                log.warning("Malformed heart rate payload: %s (payload %s); counting further ones quietly.",
                            PROBLEM_TEXT[problem], bytes(payload).hex() or "<empty>")
            self.problems[problem] += 1
        return measurement, problem
