"""Reconnect backoff: quick first retries, then patient ones, with jitter so straps don't sync."""

from __future__ import annotations

import random


class Backoff:
    """Exponential delays ``initial * factor**n`` capped at ``maximum``, +/- ``jitter`` share."""

    def __init__(self, initial: float = 1.0, factor: float = 2.0, maximum: float = 30.0,
                 jitter: float = 0.1, rng: random.Random | None = None) -> None:
        if initial <= 0 or factor < 1 or maximum < initial:
            raise ValueError("backoff needs initial > 0, factor >= 1 and maximum >= initial")
        self.initial, self.factor, self.maximum, self.jitter = initial, factor, maximum, jitter
        self._rng = rng or random.Random()
        self.attempt = 0

    def next_delay(self) -> float:
        base = min(self.maximum, self.initial * self.factor ** self.attempt)
        self.attempt += 1
        return base * (1 + self._rng.uniform(-self.jitter, self.jitter))

    def reset(self) -> None:
        self.attempt = 0
