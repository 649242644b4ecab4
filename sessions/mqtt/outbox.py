"""A bounded outbox between the session (which must never wait) and the sender (which may).

Two bounded lanes kept in one order: metrics, whose oldest are dropped first when the broker is
away (the newest sample is what a watcher wants), and events, far fewer and worth keeping longer.
``put`` is O(1) and never blocks; the sender takes the oldest message of either lane.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Outgoing:
    seq: int
    topic: str
    payload: bytes
    qos: int
    retain: bool = False


class Outbox:
    def __init__(self, max_metrics: int = 120, max_events: int = 2000) -> None:
        self._metrics: deque[Outgoing] = deque()
        self._events: deque[Outgoing] = deque()
        self.max_metrics = max_metrics
        self.max_events = max_events
        self._seq = itertools.count()
        self.dropped_metrics = 0
        self.dropped_events = 0
        self.ready = asyncio.Event()

    def __len__(self) -> int:
        return len(self._metrics) + len(self._events)

    def put(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False, *, metric: bool = False) -> None:
        msg = Outgoing(next(self._seq), topic, payload, qos, retain)
        lane, limit = (self._metrics, self.max_metrics) if metric else (self._events, self.max_events)
        lane.append(msg)
        if len(lane) > limit:
            lane.popleft()
            if metric:
                self.dropped_metrics += 1
            else:
                self.dropped_events += 1
        self.ready.set()

    def peek(self) -> Outgoing | None:
        m = self._metrics[0] if self._metrics else None
        e = self._events[0] if self._events else None
        if m is None or (e is not None and e.seq < m.seq):
            return e
        return m

    def pop(self, msg: Outgoing) -> None:
        """Remove ``msg`` once sent (it may have been dropped meanwhile: then nothing happens)."""
        for lane in (self._metrics, self._events):
            if lane and lane[0] is msg:
                lane.popleft()
                break
        if not len(self):
            self.ready.clear()
