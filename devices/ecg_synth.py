"""A chest-strap ECG synthesised beat by beat, for the simulated Polar H10.

Why a waveform model and not a replayed recording: the simulated person's beats (sinus rhythm
modulated by breathing, premature beats, a strap's missed detections) are the ground truth the
app's R-peak detection and beat classification are checked against, so the ECG must put a wave on
exactly those beats. Each beat is a sum of Gaussian waves (P, Q, R, S, T; McSharry et al.'s ECGSYN
idea without the dynamics), placed at the beat time:

- **normal** (sinus): small upright P 160 ms before R, narrow QRS (about 80 ms), upright T whose
  delay follows the heart rate (QT ~ 0.4 * sqrt(RR), Bazett);
- **ventricular** (PVC): no P, a wide (about 160 ms) tall QRS and a T of opposite polarity;
- **supraventricular** (PAC): premature, normal QRS, an odd (inverted, earlier) P.

The look is a Polar H10's chest lead: R of 0.6-1.4 mV (a person's own), a deep S, no mains hum
(the strap filters it). Breathing swings the QRS amplitude by about 10 % (the heart's axis moves
with the diaphragm) and the baseline wanders with breathing and slowly on its own; white noise of
a few µV is the electrodes'. Values are int µV, as the H10 sends them. Cheap: a frame of 73
samples costs the few beats that reach into it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

# (name, delay from R in s, width (sigma) in s, amplitude as a share of the person's R)
_Wave = tuple[str, float, float, float]
NORMAL: tuple[_Wave, ...] = (
    ("P", -0.160, 0.022, 0.10), ("Q", -0.028, 0.009, -0.09), ("R", 0.0, 0.011, 1.0),
    ("S", 0.026, 0.010, -0.30), ("T", 0.0, 0.045, 0.26),
)
VENTRICULAR: tuple[_Wave, ...] = (
    ("R", 0.0, 0.030, 1.45), ("S", 0.070, 0.028, -0.55), ("T", 0.0, 0.060, -0.40),
)
SUPRAVENTRICULAR: tuple[_Wave, ...] = (
    ("P", -0.120, 0.018, -0.08), ("Q", -0.028, 0.009, -0.09), ("R", 0.0, 0.011, 0.97),
    ("S", 0.026, 0.010, -0.30), ("T", 0.0, 0.045, 0.24),
)
MORPHOLOGIES = {"normal": NORMAL, "ventricular": VENTRICULAR, "supraventricular": SUPRAVENTRICULAR}
REACH_S = (-0.25, 0.75)
"""A beat's waves lie within this window around its R peak."""


@dataclass(frozen=True, slots=True)
class EcgBeat:
    t: float           # the R peak, seconds on the simulated session's clock
    morphology: str    # normal, ventricular, supraventricular
    rr_s: float        # the interval before it (sets the T wave's delay)


class EcgSynth:
    """Stateful: :meth:`samples` for consecutive sample times; beats are added as the heart makes them."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.r_uv = float(rng.uniform(600.0, 1400.0))
        self.noise_uv = float(rng.uniform(4.0, 10.0))
        self.wander_uv = float(rng.uniform(30.0, 90.0))
        self._beats: list[EcgBeat] = []
        self._drift = 0.0
        self._last_t: float | None = None

    def add_beat(self, beat: EcgBeat) -> None:
        if beat.morphology not in MORPHOLOGIES:
            raise ValueError(f"unknown beat morphology {beat.morphology!r}")
        self._beats.append(beat)

    def samples(self, t: NDArray[np.float64], breath_phase: NDArray[np.float64], *, contact: bool = True) -> NDArray[np.int64]:
        """Int µV at times ``t`` (increasing, after earlier calls') with the breathing phase (0-1) at each."""
        if len(t) == 0:
            return np.zeros(0, dtype=np.int64)
        noise = self.rng.normal(0.0, self.noise_uv, len(t))
        if not contact:  # electrodes off the skin: the strap sends near-flat noise
            self._last_t = float(t[-1])
            return np.asarray(np.rint(noise * 3), dtype=np.int64)
        out = np.zeros(len(t))
        t0, t1 = float(t[0]), float(t[-1])
        self._beats = [b for b in self._beats if b.t + REACH_S[1] >= t0 - 1.0]
        for beat in self._beats:
            if beat.t + REACH_S[0] > t1 or beat.t + REACH_S[1] < t0:
                continue
            lo, hi = np.searchsorted(t, [beat.t + REACH_S[0], beat.t + REACH_S[1]])
            dt = t[lo:hi] - beat.t
            qt = 0.4 * math.sqrt(max(0.3, min(2.0, beat.rr_s)))
            for name, at, width, share in MORPHOLOGIES[beat.morphology]:
                if name == "T":
                    at = qt - (0.12 if beat.morphology == "ventricular" else 0.10)
                out[lo:hi] += share * np.exp(-0.5 * ((dt - at) / width) ** 2)
        phase = 2 * math.pi * breath_phase
        out *= self.r_uv * (1.0 + 0.10 * np.sin(phase))
        dt_s = np.diff(t, prepend=t0 if self._last_t is None else self._last_t)
        steps = self.rng.normal(0.0, 1.0, len(t)) * np.sqrt(np.maximum(dt_s, 0.0) / 20.0) * 40.0
        drift = self._drift + np.cumsum(steps - self._drift * dt_s / 20.0)
        self._drift = float(drift[-1])
        out += self.wander_uv * np.cos(phase) + drift + noise
        self._last_t = t1
        return np.asarray(np.rint(out), dtype=np.int64)
