"""From raw 0x2A37 payloads to stream items: decode, reject non-beats, time beats, mark gaps.

Every source (strap, simulator, replay) feeds its payloads through one
:class:`NotificationProcessor`, so they behave the same downstream.

Two things a host or a strap does that are not the heart:

- A host may deliver a notification twice. A payload identical to the one before it, arriving
  within ``DUPLICATE_WINDOW_S``, is a duplicate. A genuine repeat (same HR and RR at a steady
  heart rate) comes a strap's cadence later, about a second: counted, its RR extend the chain up
  to its arrival, as a duplicate's cannot (they would end about a notification's span after it).
  A genuine repeat could only arrive that soon if the one before it was late (a burst after a host
  stall), where the two cannot be told apart: a duplicate is the likelier, and it is dropped.
- Some straps never fill the heart-rate field (HR 0 throughout) yet send good RR. HR 0 with RR
  is a strap locking on for its first seconds; after ``HR_ABSENT_AFTER`` such notifications in a
  row, all in range, the RR are beats: said once (a ``malformed`` link event with problem
  ``hr_absent`` and a warning), and the heart rate is taken from the RR.
"""

from __future__ import annotations

import logging

from devices.beat_timing import BeatTimer
from devices.hrm import HrmDecoder
from devices.stream import Contact, HeartSample, LinkEvent, LinkState, StreamItem, TICKS_PER_SECOND

log = logging.getLogger(__name__)

MIN_RR_TICKS = int(0.2 * TICKS_PER_SECOND)  # 300 bpm: faster is not a heartbeat
MAX_RR_TICKS = int(3.0 * TICKS_PER_SECOND)  # 20 bpm: slower is a missed notification, not a beat
DUPLICATE_WINDOW_S = 0.5
"""A strap notifies about once a second: the same payload again sooner is a suspect duplicate."""
HR_ABSENT_AFTER = 5
"""Notifications in a row with HR 0 and good RR before the RR are taken as beats."""
HR_ABSENT_PROBLEM = "hr_absent"
HR_ABSENT_TEXT = "the strap's heart-rate field is 0 throughout; heart rate is taken from its RR intervals"


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
        self._previous: tuple[float, bytes] | None = None
        self.duplicates = 0
        self._hr_zero_run = 0
        self.hr_absent = False

    def mark_gap(self, t: float, reason: str) -> None:
        """The RR chain is broken at ``t`` (link lost, rejected RR); the next beat re-anchors."""
        if self._gap_since is None:
            self._gap_since = self._last_beat_t if self._last_beat_t is not None else t
            self._gap_reason = reason
        self.timer.reset()

    def _is_duplicate(self, t: float, payload: bytes, rr_ticks: tuple[int, ...]) -> bool:
        previous, self._previous = self._previous, (t, payload)
        return (previous is not None and bool(rr_ticks) and payload == previous[1]
                and 0 <= t - previous[0] <= DUPLICATE_WINDOW_S)

    def _hr_field_absent(self, t: float, hr_bpm: int, rr_ticks: tuple[int, ...], contact: Contact) -> list[StreamItem]:
        """Counts HR-0 notifications with good RR; says once when the strap's HR field is absent."""
        if hr_bpm:
            self._hr_zero_run = 0
            self.hr_absent = False
            return []
        plausible = bool(rr_ticks) and contact is not Contact.NOT_DETECTED and all(
            MIN_RR_TICKS <= rr <= MAX_RR_TICKS for rr in rr_ticks)
        self._hr_zero_run = self._hr_zero_run + 1 if plausible else 0
        if self.hr_absent or self._hr_zero_run < HR_ABSENT_AFTER:
            return []
        self.hr_absent = True
        log.warning("Heart rate: %s.", HR_ABSENT_TEXT)
        return [LinkEvent(t, LinkState.MALFORMED, {"problem": HR_ABSENT_PROBLEM, "text": HR_ABSENT_TEXT})]

    def _contact_change(self, t: float, contact: Contact) -> list[StreamItem]:
        out: list[StreamItem] = []
        if contact is not self._contact:
            if contact is Contact.NOT_DETECTED:
                out.append(LinkEvent(t, LinkState.CONTACT_LOST))
                self.mark_gap(t, "contact lost")
            elif self._contact is Contact.NOT_DETECTED:
                out.append(LinkEvent(t, LinkState.CONTACT_RESTORED))
            self._contact = contact
        return out

    def process(self, t: float, payload: bytes) -> list[StreamItem]:
        out: list[StreamItem] = []
        measurement, problem = self.decoder.decode(payload)
        if problem is not None:
            out.append(LinkEvent(t, LinkState.MALFORMED, {"problem": problem, "payload": bytes(payload).hex()}))
        if measurement is None:
            return out

        contact = measurement.contact
        if self._is_duplicate(t, bytes(payload), measurement.rr_ticks):
            self.duplicates += 1
            log.debug("Duplicate notification %s at t=%.3f ignored", bytes(payload).hex(), t)
            out.append(HeartSample(t=t, hr_bpm=measurement.hr_bpm, contact=contact, energy_kj=measurement.energy_kj,
                                   rr_ticks=(), beat_t=(), payload=bytes(payload)))
            return out
        out += self._contact_change(t, contact)
        out += self._hr_field_absent(t, measurement.hr_bpm, measurement.rr_ticks, contact)

        accepted: list[int] = []
        rejected: list[int] = []
        for rr in measurement.rr_ticks:
            # HR=0 is the strap still locking on: its RR values are not beats yet (unless it never sends HR).
            locking_on = measurement.hr_bpm == 0 and not self.hr_absent
            if locking_on or not MIN_RR_TICKS <= rr <= MAX_RR_TICKS or contact is Contact.NOT_DETECTED:
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
                    "end": round(max(beat_t[0] - accepted[0] / TICKS_PER_SECOND, self._gap_since), 4),
                    "reason": self._gap_reason,
                }))
                after_gap = True
            self._gap_since = None
            self._last_beat_t = beat_t[-1]
        hr = measurement.hr_bpm
        if self.hr_absent and not hr and accepted:
            hr = int(round(60 * TICKS_PER_SECOND * len(accepted) / sum(accepted)))
        out.append(HeartSample(
            t=t,
            hr_bpm=hr,
            contact=contact,
            energy_kj=measurement.energy_kj,
            rr_ticks=tuple(accepted),
            beat_t=beat_t,
            payload=bytes(payload),
            rejected_rr_ticks=tuple(rejected),
            after_gap=after_gap,
        ))
        return out
