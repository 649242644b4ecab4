"""A simulated person's heart: the physiology behind the simulated strap.

Beat by beat (integral-pulse-frequency style, heart rate evaluated mid-beat):

    HR(t) = mean(t) + stress(t) + VLF(t) + LF(t) - A(t) * cos(2 pi phi_breath(t)) + noise

- ``mean(t)`` settles exponentially from ``start_hr`` toward ``resting_hr``; the clock of that
  settling runs at full speed while the person breathes slowly (<= 8/min), slower otherwise.
- Respiratory sinus arrhythmia ``A`` grows as breathing slows toward the person's resonance
  frequency (a Lorentzian gain, up to ``resonance_gain`` times the spontaneous amplitude): the
  several-fold growth of HR oscillation that resonance breathing is known for (Lehrer).
- Breathing follows the pacer with a first-order lag (profile ``follows``) or keeps its own slowly
  wandering rate (``ignores``). A stress episode raises HR, speeds breathing and collapses HRV.
- Glitches a real strap shows: premature (ectopic) beats alone or in bigeminy runs, missed and
  extra detections. Contact loss and link drops are handled by the strap around this model.
- Persons real recordings showed the app it must not be fooled by: ``fast`` breathes 18-22/min;
  ``mayer`` has slow heart-rate swings (``lf_hz`` 0.07 Hz, Mayer-like) larger than its RSA and
  unrelated to breathing; ``af`` is in atrial fibrillation: every RR drawn independently around the
  mean (``af_cv``), irregularly irregular, with no RSA.

Deterministic for a seed; costs a few microseconds per beat.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np


@dataclass(frozen=True)
class StressEpisode:
    onset_s: float
    duration_s: float = 120.0
    ramp_s: float = 12.0
    hr_rise_bpm: float = 28.0
    hrv_factor: float = 0.15  # RSA and LF shrink to this share at the peak of stress
    breathing_rate: float = 20.0


@dataclass(frozen=True)
class Glitches:
    ectopic_per_min: float = 0.0
    bigeminy: tuple[tuple[float, float], ...] = ()  # (start_s, duration_s)
    missed_per_min: float = 0.0
    extra_per_min: float = 0.0
    contact_loss: tuple[tuple[float, float], ...] = ()
    link_drops: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True)
class Person:
    resting_hr: float = 58.0
    start_hr: float = 74.0
    settle_tau_s: float = 240.0
    rsa_bpm: float = 2.5
    resonance_hz: float = 0.1
    resonance_gain: float = 4.0
    resonance_width_hz: float = 0.03
    spontaneous_rate: float = 12.0
    follows_pacer: bool = True
    follow_tau_s: float = 6.0
    breath_wander: float = 0.15
    """Random walk of the own breathing rate, breaths/min per sqrt(s) (pulled back over about a minute)."""
    lf_bpm: float = 1.0
    lf_hz: float = 0.1
    """Frequency of the slow (LF, Mayer-like) heart-rate swing, unrelated to breathing."""
    vlf_bpm: float = 1.2
    beat_noise_bpm: float = 0.5
    stress: StressEpisode | None = None
    glitches: Glitches = field(default_factory=Glitches)
    af_cv: float = 0.0
    """Atrial fibrillation when > 0: each RR is drawn independently (log-normal, this coefficient of
    variation) around the mean heart rate; no RSA, no LF swing. The AF episodes of MIT-BIH 201, 203,
    219 and 221 have RR coefficients of variation of 0.18-0.32."""


PROFILES: dict[str, Person] = {
    "follows": Person(),
    "ignores": Person(follows_pacer=False, spontaneous_rate=13.0, settle_tau_s=600.0),
    "stress": Person(stress=StressEpisode(onset_s=240.0)),
    "fast": Person(spontaneous_rate=20.0, breath_wander=0.08, start_hr=78.0, resting_hr=66.0),
    "mayer": Person(spontaneous_rate=14.0, rsa_bpm=1.5, lf_bpm=5.0, lf_hz=0.07),
    "af": Person(resting_hr=100.0, start_hr=104.0, af_cv=0.25, rsa_bpm=0.0, lf_bpm=0.0, vlf_bpm=0.6),
}


def person_profile(name: str, **overrides: Any) -> Person:
    """A named profile (``follows``, ``ignores``, ``stress``, ``fast``, ``mayer``, ``af``) with optional overrides."""
    try:
        person = PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown person profile '{name}'; choose one of {', '.join(PROFILES)}") from None
    return replace(person, **overrides) if overrides else person


@dataclass(frozen=True, slots=True)
class SimBeat:
    t: float          # time of the beat that ends this interval
    rr_s: float       # the interval as the strap detects it
    kind: str         # normal, ectopic, compensatory, missed, extra
    breath_rate: float
    breath_phase: float = 0.0  # 0-1 at ``t`` (0: end of exhale), for the simulated ECG and chest movement
    morphology: str = "normal"  # the beat's ECG: normal, ventricular, supraventricular; "none": a spurious detection
    hidden_t: tuple[float, ...] = ()  # beats the heart made inside this interval that the strap missed


class SimulatedHeart:
    """Generates detected beats one at a time; the pacer rate is read at every beat."""

    def __init__(self, person: Person, seed: int = 0) -> None:
        self.p = person
        self.rng = np.random.default_rng(seed)
        self.t = 0.0
        self.breath_phase = float(self.rng.uniform(0, 1))
        self.breath_rate = person.spontaneous_rate
        self._wander = 0.0
        self._relax_s = 0.0
        self._vlf = 0.0
        self._lf_phase = float(self.rng.uniform(0, 2 * math.pi))
        self._pending: list[SimBeat] = []
        self._kind_rng = np.random.default_rng(seed + 7)  # its own stream: RR stay as they were without it

    # --- physiology -------------------------------------------------------------------------
    def stress_level(self, t: float) -> float:
        s = self.p.stress
        if s is None or t < s.onset_s:
            return 0.0
        rise = min(1.0, (t - s.onset_s) / s.ramp_s)
        end = s.onset_s + s.duration_s
        fall = 1.0 if t < end else max(0.0, 1.0 - (t - end) / (3 * s.ramp_s))
        return rise * fall

    def rsa_gain(self, breath_hz: float) -> float:
        p = self.p
        x = (breath_hz - p.resonance_hz) / p.resonance_width_hz
        return 1.0 + (p.resonance_gain - 1.0) / (1.0 + x * x)

    def mean_hr(self) -> float:
        p = self.p
        return p.resting_hr + (p.start_hr - p.resting_hr) * math.exp(-self._relax_s / p.settle_tau_s)

    def _advance_breathing(self, dt: float, pacer_rate: float | None, stress: float) -> None:
        p = self.p
        self._wander += (-self._wander * dt / 60.0) + self.rng.normal(0, p.breath_wander) * math.sqrt(dt)
        own = p.spontaneous_rate + self._wander
        target = pacer_rate if (p.follows_pacer and pacer_rate) else own
        if stress > 0 and p.stress is not None:
            target = target + (p.stress.breathing_rate - target) * stress
        self.breath_rate += (target - self.breath_rate) * (1 - math.exp(-dt / p.follow_tau_s))
        self.breath_phase = (self.breath_phase + self.breath_rate / 60.0 * dt) % 1.0
        slow = self.breath_rate <= 8.0 and stress == 0
        self._relax_s += dt * (1.0 if slow else 0.35)
        self._vlf += (-self._vlf * dt / 40.0) + self.p.vlf_bpm * math.sqrt(2 * dt / 40.0) * self.rng.normal()

    def _hr_at(self, t: float, phase: float, stress: float) -> float:
        p = self.p
        hrv = 1.0 - (1.0 - p.stress.hrv_factor) * stress if p.stress else 1.0
        rsa = p.rsa_bpm * self.rsa_gain(self.breath_rate / 60.0) * hrv
        lf = p.lf_bpm * hrv * math.sin(2 * math.pi * p.lf_hz * t + self._lf_phase)
        rise = p.stress.hr_rise_bpm * stress if p.stress else 0.0
        return self.mean_hr() + rise + self._vlf + lf - rsa * math.cos(2 * math.pi * phase)

    def _true_rr(self, pacer_rate: float | None) -> float:
        stress = self.stress_level(self.t)
        rr = 60.0 / self._hr_at(self.t, self.breath_phase, stress)
        # Evaluate once more at mid-beat so the modulation is sampled where the beat is built.
        mid_phase = (self.breath_phase + self.breath_rate / 60.0 * rr / 2) % 1.0
        hr = self._hr_at(self.t + rr / 2, mid_phase, stress) + self.rng.normal(0, self.p.beat_noise_bpm)
        rr = 60.0 / min(220.0, max(30.0, hr))
        if self.p.af_cv > 0:
            # Irregularly irregular: the atria no longer pace the ventricles, so each interval is a
            # fresh draw (log-normal keeps it positive), bounded to what a ventricle can do.
            sigma = math.sqrt(math.log(1.0 + self.p.af_cv ** 2))
            rr = min(1.6, max(0.3, rr * math.exp(float(self.rng.normal(-0.5 * sigma * sigma, sigma)))))
        self._advance_breathing(rr, pacer_rate, stress)
        self.t += rr
        return rr

    # --- detected beats, glitches included --------------------------------------------------
    def _in(self, windows: tuple[tuple[float, float], ...]) -> bool:
        return any(start <= self.t < start + dur for start, dur in windows)

    def _ectopic_pair(self, pacer_rate: float | None) -> SimBeat:
        """A premature beat and its compensatory pause; together they span two sinus intervals."""
        t0, phase0 = self.t, self.breath_phase
        r1 = self._true_rr(pacer_rate)
        r2 = self._true_rr(pacer_rate)
        premature = r1 * float(self.rng.uniform(0.55, 0.7))
        self._pending.append(SimBeat(t0 + r1 + r2, r1 + r2 - premature, "compensatory", self.breath_rate, self.breath_phase))
        shape = "ventricular" if self._kind_rng.random() < 0.6 else "supraventricular"
        phase = (phase0 + self.breath_rate / 60.0 * premature) % 1.0
        return SimBeat(t0 + premature, premature, "ectopic", self.breath_rate, phase, shape)

    def next_beat(self, pacer_rate: float | None = None) -> SimBeat:
        if self._pending:
            return self._pending.pop(0)
        g = self.p.glitches
        if self._in(g.bigeminy):  # sinus and premature beats alternate: short, long, short, long
            return self._ectopic_pair(pacer_rate)
        rr = self._true_rr(pacer_rate)
        per_beat = rr / 60.0
        if g.ectopic_per_min and self.rng.random() < g.ectopic_per_min * per_beat:
            beat = SimBeat(self.t, rr, "normal", self.breath_rate, self.breath_phase)
            first = self._ectopic_pair(pacer_rate)
            self._pending.insert(0, first)
            return beat
        if g.missed_per_min and self.rng.random() < g.missed_per_min * per_beat:
            hidden = self.t
            rr2 = self._true_rr(pacer_rate)
            return SimBeat(self.t, rr + rr2, "missed", self.breath_rate, self.breath_phase, hidden_t=(hidden,))
        if g.extra_per_min and self.rng.random() < g.extra_per_min * per_beat:
            split = float(self.rng.uniform(0.3, 0.7))
            self._pending.append(SimBeat(self.t, rr * (1 - split), "extra", self.breath_rate, self.breath_phase))
            return SimBeat(self.t - rr * (1 - split), rr * split, "extra", self.breath_rate, self.breath_phase, "none")
        return SimBeat(self.t, rr, "normal", self.breath_rate, self.breath_phase)
