"""What the pacing and safety logic reads of the body: one plain reading, and the states it is judged in.

Plain numbers (bpm, ms, a 0..1 calm score) rather than the HRV engine's objects, so the pacing
and safety code can be tested with hand-made readings and either side can change.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import TypeGuard


@dataclass(frozen=True, slots=True)
class BodyReading:
    """One reading (per beat or per second). Any value may be None while unknown."""

    t: float
    hr_bpm: float | None = None
    rmssd_ms: float | None = None
    calm: float | None = None
    """Calm score scaled to 0..1."""


class BodyState(enum.StrEnum):
    """How the body looks over the last few seconds, against the person's baseline."""

    SETTLED = "settled"
    AROUSED = "aroused"
    NEUTRAL = "neutral"
    UNKNOWN = "unknown"


def known(x: float | None) -> TypeGuard[float]:
    """A value that can be compared: present and finite."""
    return x is not None and math.isfinite(x)
