"""The one interface every heartbeat source offers: an async iterator of stream items.

``async for item in source`` yields :class:`~devices.stream.HeartSample` and
:class:`~devices.stream.LinkEvent` until the source ends (a replay runs out), is closed, or fails
with a :class:`~devices.errors.DeviceError` before it ever produced a beat.

``set_pacer_rate`` tells the source what the breathing pacer currently asks; a real strap ignores
it, the simulated person may follow it. Nothing else downstream can tell the sources apart.
"""

from __future__ import annotations

import abc
import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from devices.stream import StreamItem


class HeartSource(abc.ABC):
    """Base class of strap, simulator and replay."""

    name = "source"
    payload_format: str = "ble-hrm-0x2a37"
    """How its payloads are laid out, recorded with a session (a replay of an RR file says so)."""

    def __init__(self) -> None:
        self._closed = asyncio.Event()

    def __aiter__(self) -> AsyncIterator[StreamItem]:
        return self.items()

    @abc.abstractmethod
    def items(self) -> AsyncIterator[StreamItem]:
        """The stream itself (an async generator)."""

    def set_pacer_rate(self, breaths_per_min: float | None) -> None:  # noqa: B027 - optional hook, not abstract
        """What the pacer asks now; only the simulated person listens."""

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    async def aclose(self) -> None:
        """Ask the stream to end; the iterator finishes after its current item."""
        self._closed.set()

    def describe(self) -> dict[str, Any]:
        """What the record keeps about the source (kind and settings, nothing personal)."""
        return {"kind": self.name}

    def now(self) -> float:
        """The stream's current time (seconds since start, on the same axis as the items)."""
        return 0.0


class PlaybackClock:
    """Maps a source's own timeline to wall time at ``speed`` times real time.

    ``speed`` of ``None`` or ``0`` means as fast as possible (no waiting at all).
    """

    def __init__(self, speed: float | None = 1.0, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.speed = speed if speed and speed > 0 else None
        self._monotonic = monotonic
        self._wall0: float | None = None
        self._last_t = 0.0
        self._waiting_for: float | None = None

    def now(self) -> float:
        """Where the playback is: while it waits for the next item, the wall clock's position (scaled by
        speed, never past that item), so a hole in a recording passes in time as a strap gone quiet
        would; otherwise the time of the latest item released, so a consumer that falls behind a fast
        playback never sees time run ahead of the data it has been given."""
        target = self._waiting_for
        if target is None or self.speed is None or self._wall0 is None:
            return self._last_t
        wall = (self._monotonic() - self._wall0) * self.speed
        return max(self._last_t, min(target, wall))

    def set_speed(self, speed: float | None) -> None:
        """Change speed from the current position on, without a jump (e.g. fast through a baseline)."""
        here = self.now()
        self.speed = speed if speed and speed > 0 else None
        if self.speed is not None:
            self._wall0 = self._monotonic() - here / self.speed

    async def wait_until(self, t: float, closed: asyncio.Event | None = None) -> None:
        """Wait until the item at ``t`` is due, then count it as released."""
        if self._wall0 is None:
            self._wall0 = self._monotonic() - (t / self.speed if self.speed else 0.0)
        delay = self._wall0 + t / self.speed - self._monotonic() if self.speed else 0.0
        if delay <= 0:
            self._last_t = max(self._last_t, t)
            await asyncio.sleep(0)  # stay cooperative even at full speed
            return
        self._waiting_for = t
        due = False
        try:
            if closed is None:
                await asyncio.sleep(delay)
            else:
                try:
                    await asyncio.wait_for(closed.wait(), delay)
                except TimeoutError:
                    pass
            due = not (closed is not None and closed.is_set())
        finally:
            # Closed or cancelled early: the playback stopped where the wall clock was, the item was never released.
            here = t if due else self.now()
            self._waiting_for = None
            self._last_t = max(self._last_t, here)
