"""Coherence the way people know it: low, medium and high zones, and the time spent in each.

Why: a bare ratio ("coherence 2.22") means nothing to the person breathing, and noise in it looks
dramatic. HeartMath's devices show the same ratio (power around the spectrum's peak over the rest,
64 s updated every 5 s) as three coloured zones and report the share of the session's updates in
each. The thresholds here are one setting for everyone, on this app's ratio, at the level of
HeartMath's easiest challenge level, where steady paced breathing alone reaches "high": that is
what a beginner's biofeedback should reward. They are this app's choice, not HeartMath's table.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable
from dataclasses import dataclass


class Zone(str, enum.Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


LOW_BELOW = 0.5
"""Coherence ratios below this are the low zone."""
HIGH_FROM = 1.0
"""Coherence ratios from this up are the high zone (between: medium)."""


def zone(ratio: float | None) -> Zone | None:
    """The zone of one coherence ratio; None while it is unknown (not a number, or negative)."""
    if ratio is None or not math.isfinite(ratio) or ratio < 0:
        return None
    if ratio < LOW_BELOW:
        return Zone.LOW
    return Zone.MEDIUM if ratio < HIGH_FROM else Zone.HIGH


@dataclass(frozen=True, slots=True)
class ZoneShares:
    """The share (0-1) of known coherence updates in each zone, and how many updates that was."""

    low: float
    medium: float
    high: float
    updates: int

    @property
    def in_coherence(self) -> float:
        """"Time in coherence": the share in the high zone, as HeartMath reports it."""
        return self.high


def shares(ratios: Iterable[float | None]) -> ZoneShares | None:
    """Shares per zone over a series of 5-s coherence updates; None when none was known.

    Each update counts once (they come every 5 s), unknown ones are left out rather than counted low.
    """
    tally = ZoneTally()
    for ratio in ratios:
        tally.add(ratio)
    return tally.shares()


class ZoneTally:
    """Live time in each zone: fed each new coherence update, read at any moment."""

    def __init__(self) -> None:
        self._counts = {z: 0 for z in Zone}

    def add(self, ratio: float | None) -> Zone | None:
        z = zone(ratio)
        if z is not None:
            self._counts[z] += 1
        return z

    def shares(self) -> ZoneShares | None:
        n = sum(self._counts.values())
        if n == 0:
            return None
        c = self._counts
        return ZoneShares(c[Zone.LOW] / n, c[Zone.MEDIUM] / n, c[Zone.HIGH] / n, n)
