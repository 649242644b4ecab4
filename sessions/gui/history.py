"""Preallocated curve history: appends never allocate, and the plot always gets one contiguous view.

Each value is written twice, at ``i`` and ``i + capacity``, so the last ``n`` values are always the
slice ``[head - n + capacity : head + capacity]`` of one array: no copy, no concatenation, no
growth, whatever the session's length. When full, the oldest values fall off.
"""

from __future__ import annotations

import math

import numpy as np


class CurveHistory:
    """A fixed-capacity (t, value) history for one curve."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._t = np.zeros(2 * capacity)
        self._v = np.zeros(2 * capacity)
        self._head = 0   # next write position in 0..capacity-1
        self._n = 0
        self.version = 0  # bumps on every change: a view redraws only when it moved

    def __len__(self) -> int:
        return self._n

    def append(self, t: float, value: float | None) -> bool:
        """Add a point; ``None`` and non-finite values are skipped (a gap is no number)."""
        if value is None or not math.isfinite(value):
            return False
        i = self._head
        self._t[i] = self._t[i + self.capacity] = t
        self._v[i] = self._v[i + self.capacity] = value
        self._head = (i + 1) % self.capacity
        self._n = min(self._n + 1, self.capacity)
        self.version += 1
        return True

    def add_break(self, t: float) -> None:
        """A deliberate hole (the strap was gone): drawn as a gap, not as a line across it."""
        if self._n and not math.isfinite(self._v[(self._head - 1) % self.capacity]):
            return  # one break is enough
        i = self._head
        self._t[i] = self._t[i + self.capacity] = t
        self._v[i] = self._v[i + self.capacity] = math.nan
        self._head = (i + 1) % self.capacity
        self._n = min(self._n + 1, self.capacity)
        self.version += 1

    def extend(self, t: np.ndarray, values: np.ndarray) -> None:
        for a, b in zip(np.asarray(t, float), np.asarray(values, float)):
            self.append(float(a), float(b))

    def view(self) -> tuple[np.ndarray, np.ndarray]:
        """Read-only views of the stored points, oldest first (valid until the next append)."""
        end = self._head + self.capacity
        start = end - self._n
        t, v = self._t[start:end], self._v[start:end]
        t.flags.writeable = False
        v.flags.writeable = False
        return t, v

    def last(self) -> float | None:
        if not self._n:
            return None
        return float(self._v[(self._head - 1) % self.capacity])
