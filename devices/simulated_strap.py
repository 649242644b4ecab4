"""The simulated strap: a :class:`~devices.simulator.SimulatedHeart` behind real 0x2A37 payloads.

It behaves like a Polar H10 as far as the app can see: a notification about once a second with the
RR values detected since the last one (up to 9, as fit in a 20-byte payload), HR=0 and a junk RR
while it locks on, contact loss (the link drops 25 s into a loss of contact), link drops and the
same link events the real strap code emits. Everything passes through the same decoder and beat
timing as the real strap.

With ``strap="h10"`` it is a Polar H10: between heart-rate notifications it also serves the PMD
frames of :mod:`devices.simulated_pmd` (ECG on every beat the heart made, chest movement from its
breathing), which go through the real strap's :class:`~devices.pmd_stream.PmdStream`.
"""

from __future__ import annotations

from typing import Any

import logging
import random
from collections.abc import AsyncIterator

import numpy as np

from devices.backoff import Backoff
from devices.hrm import encode_hrm
from devices.notifications import NotificationProcessor
from devices.pmd_stream import PmdStream
from devices.simulated_pmd import ACC_SETTINGS, ECG_SETTINGS, SimulatedPmd
from devices.simulator import Person, SimBeat, SimulatedHeart
from devices.source import HeartSource, PlaybackClock
from devices.stream import TICKS_PER_SECOND, Contact, LinkEvent, LinkState, StreamItem

log = logging.getLogger(__name__)

MAX_RR_PER_NOTIFICATION = 9
CONTACT_LOSS_LINK_DROP_S = 25.0
DETECTION_DELAY_S = 0.06


class SimulatedStrap(HeartSource):
    """A simulated person wearing a strap; ``speed`` > 1 runs faster than real time."""

    name = "simulated"

    def __init__(self, person: Person, *, seed: int = 0, speed: float | None = 1.0,
                 duration_s: float | None = None, profile: str = "custom", strap: str = "plain",
                 posture: str = "supine") -> None:
        super().__init__()
        if strap not in ("plain", "h10"):
            raise ValueError(f"unknown simulated strap '{strap}'; choose plain or h10")
        self.strap = strap
        self.pmd = SimulatedPmd(seed, posture=posture) if strap == "h10" else None
        self.pmd_stream = PmdStream()
        self.person = person
        self.profile = profile
        self.seed = seed
        self.heart = SimulatedHeart(person, seed)
        self.clock = PlaybackClock(speed)
        self.duration_s = duration_s
        self.processor = NotificationProcessor()
        self._rng = np.random.default_rng(seed + 1)
        self._pacer_rate: float | None = None
        self.beats: list[SimBeat] = []  # ground truth, for tests and the simulator's own checks
        self._pending: list[SimBeat] = []
        self._pmd_down = False

    def set_pacer_rate(self, breaths_per_min: float | None) -> None:
        self._pacer_rate = breaths_per_min

    def now(self) -> float:
        return self.clock.now()

    def describe(self) -> dict[str, Any]:
        return {"kind": self.name, "profile": self.profile, "seed": self.seed, "strap": self.strap}

    def _next_beat(self) -> None:
        beat = self.heart.next_beat(self._pacer_rate)
        self.beats.append(beat)
        self._pending.append(beat)
        if self.pmd is not None:
            self.pmd.add_beat(beat)

    def _device_info(self) -> dict[str, Any]:
        info: dict[str, Any] = {"battery_pct": 100, "body_location": "chest"}
        if self.pmd is not None:
            info["pmd"] = {"ecg": dict(ECG_SETTINGS), "acc": dict(ACC_SETTINGS)}
        return info

    async def _pmd_items(self, t: float) -> AsyncIterator[StreamItem]:
        """The H10's ECG and ACC frames that arrive before the heart-rate notification at ``t``."""
        assert self.pmd is not None
        while not self.beats or self.beats[-1].t < self.pmd.beats_needed_until:
            self._next_beat()
        for frame in self.pmd.frames_until(t, contact=not self._contact_lost(t)):
            if self._link_down(frame.arrival) is not None:
                self._pmd_down = True
                continue
            await self.clock.wait_until(frame.arrival, self._closed)
            if self.closed:
                return
            if self._pmd_down:
                self._pmd_down = False
                self.pmd_stream.link_lost()
            for item in self.pmd_stream.feed(frame.arrival, frame.payload):
                yield item

    def _link_down(self, t: float) -> tuple[float, float] | None:
        g = self.person.glitches
        windows = list(g.link_drops) + [
            (start + CONTACT_LOSS_LINK_DROP_S, dur - CONTACT_LOSS_LINK_DROP_S + 3.0)
            for start, dur in g.contact_loss if dur > CONTACT_LOSS_LINK_DROP_S
        ]
        for start, dur in windows:
            if start <= t < start + dur:
                return start, start + dur
        return None

    def _contact_lost(self, t: float) -> bool:
        return any(s <= t < s + d for s, d in self.person.glitches.contact_loss)

    async def items(self) -> AsyncIterator[StreamItem]:
        yield LinkEvent(0.0, LinkState.CONNECTING, {"target": "simulated strap", "attempt": 1})
        yield LinkEvent(0.0, LinkState.CONNECTED, {"address": "SIMULATED", "name": "Simulated strap"})
        yield LinkEvent(0.0, LinkState.DEVICE_INFO, self._device_info())
        recent_rr: list[float] = []
        t = 0.0
        n = 0
        was_down = False
        backoff = Backoff(rng=random.Random(self.seed))
        next_try = 0.0
        while not self.closed:
            t = n + 1.0 + float(self._rng.normal(0, 0.015))
            n += 1
            if self.duration_s is not None and t > self.duration_s:
                break
            if self.pmd is not None:
                async for item in self._pmd_items(t):
                    yield item
            await self.clock.wait_until(t, self._closed)
            if self.closed:
                break
            while not self._pending or self._pending[-1].t <= t - DETECTION_DELAY_S:
                self._next_beat()
            ready = [b for b in self._pending if b.t <= t - DETECTION_DELAY_S]
            self._pending = self._pending[len(ready):]

            down = self._link_down(t)
            if down is not None:
                if not was_down:
                    self.processor.mark_gap(t, "link lost")
                    yield LinkEvent(t, LinkState.DISCONNECTED, {"target": "simulated strap"})
                    was_down = True
                    backoff.reset()
                    next_try = t
                if t >= next_try:
                    delay = backoff.next_delay()
                    yield LinkEvent(t, LinkState.RECONNECTING, {"target": "simulated strap", "attempt": backoff.attempt})
                    next_try = t + delay
                continue
            if was_down:
                was_down = False
                yield LinkEvent(t, LinkState.RECONNECTED, {"address": "SIMULATED", "name": "Simulated strap"})
                yield LinkEvent(t, LinkState.DEVICE_INFO, self._device_info())

            if n <= 2:  # locking on: HR=0, then a junk RR the strap should not be trusted with
                payload = encode_hrm(0, [int(self._rng.integers(40, 160))] if n == 1 else [])
            elif self._contact_lost(t):
                payload = encode_hrm(0, [], contact=Contact.NOT_DETECTED)
            else:
                rr_ticks = [max(1, int(round(b.rr_s * TICKS_PER_SECOND))) for b in ready][-MAX_RR_PER_NOTIFICATION:]
                recent_rr = (recent_rr + [b.rr_s for b in ready])[-4:]
                hr = int(round(60.0 / (sum(recent_rr) / len(recent_rr)))) if recent_rr else 0
                payload = encode_hrm(hr, rr_ticks)
            for item in self.processor.process(t, payload):
                yield item
        yield LinkEvent(t, LinkState.ENDED, {"reason": "duration reached" if not self.closed else "closed"})
