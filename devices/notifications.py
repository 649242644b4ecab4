"""From raw 0x2A37 payloads to stream items: decode, reject non-beats, time beats, mark gaps.

Every source (strap, simulator, replay) feeds its payloads through one
:class:`NotificationProcessor`, so they behave the same downstream.
"""

from __future__ import annotations

import logging

from devices.beat_timing import BeatTimer
from devices.hrm import HrmDecoder
from devices.stream import Contact, HeartSample, LinkEvent, LinkState, StreamItem, TICKS_PER_SECOND

log = logging.getLogger(__name__)

MIN_RR_TICKS = int(0.2 * TICKS_PER_SECOND)  # 300 bpm: faster is not a heartbeat
MAX_RR_TICKS = int(3.0 * TICKS_PER_SECOND)  # 20 bpm: slower is a missed notification, not a beat


class NotificationProcessor:
    """Turns (arrival time, payload) into samples and status events, never raising."""

    def __init__(self, timer: BeatTimer | None = None) -> None:
        self.decoder = HrmDecoder()
        self.timer = timer or BeatTimer()
        self._contact: Contact | None = None
        self._gap_since: float | None = None
        self._gap_reason = ""
        self.rejected_rr = 0
        self._last_beat_t: float | None = None  # the last beat passed on; a gap starts there

    def mark_gap(self, t: float, reason: str) -> None:
        """The RR chain is broken at ``t`` (link lost, rejected RR); the next beat re-anchors."""
        if self._gap_since is None:
            self._gap_since = self._last_beat_t if self._last_beat_t is not None else t
            self._gap_reason = reason
        self.timer.reset()

    def process(self, t: float, payload: bytes) -> list[StreamItem]:
        out: list[StreamItem] = []
        measurement, problem = self.decoder.decode(payload)
        if problem is not None:
            out.append(LinkEvent(t, LinkState.MALFORMED, {"problem": problem, "payload": bytes(payload).hex()}))
        if measurement is None:
            return out

        contact = measurement.contact
        if contact is not self._contact:
            if contact is Contact.NOT_DETECTED:
                out.append(LinkEvent(t, LinkState.CONTACT_LOST))
                self.mark_gap(t, "contact lost")
            elif self._contact is Contact.NOT_DETECTED:
                out.append(LinkEvent(t, LinkState.CONTACT_RESTORED))
            self._contact = contact

        accepted: list[int] = []
        rejected: list[int] = []
        for rr in measurement.rr_ticks:
            # HR=0 is the strap still locking on: its RR values are not beats yet.
            if measurement.hr_bpm == 0 or not MIN_RR_TICKS <= rr <= MAX_RR_TICKS or contact is Contact.NOT_DETECTED:
                rejected.append(rr)
                # Drop what was accepted before it: no interval may span the rejected one.
                if accepted:
                    rejected[:0] = accepted
                    accepted.clear()
                self.mark_gap(t, "rejected RR")
            else:
                accepted.append(rr)
        if rejected:
            self.rejected_rr += len(rejected)
            log.debug("Rejected RR %s (HR %s) at t=%.2f", rejected, measurement.hr_bpm, t)

        beat_t, lost = self.timer.place(t, tuple(accepted))
        if lost and self._gap_since is None:
            self._gap_since, self._gap_reason = self._last_beat_t, "RR lost"
        after_gap = False
        if accepted:
            if self._gap_since is not None and self._last_beat_t is not None:
                # The interval that ends at beat_t[0] starts after the gap: it spans nothing.
                out.append(LinkEvent(t, LinkState.GAP, {
                    "start": round(self._gap_since, 4),
                    "end": round(beat_t[0] - accepted[0] / TICKS_PER_SECOND, 4),
                    "reason": self._gap_reason,
                }))
                after_gap = True
            self._gap_since = None
            self._last_beat_t = beat_t[-1]
        out.append(HeartSample(
            t=t,
            hr_bpm=measurement.hr_bpm,
            contact=contact,
            energy_kj=measurement.energy_kj,
            rr_ticks=tuple(accepted),
            beat_t=beat_t,
            payload=bytes(payload),
            rejected_rr_ticks=tuple(rejected),
            after_gap=after_gap,
        ))
        return out
