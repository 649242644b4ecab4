"""The simulated Polar H10's PMD side: ECG and chest-acceleration frames, byte for byte as an H10 sends them.

The simulated person's beats and breathing (:mod:`devices.simulator`) become an ECG
(:mod:`devices.ecg_synth`) and chest movement (:mod:`devices.chest_motion`); they are cut into the
frames a real H10 notifies (ECG: raw frames of 73 samples of 24-bit µV; ACC: delta-compressed
frames at 50 Hz, 8 G, 16 bit) and stamped with a strap clock of its own: a 2019-ish epoch, a
crystal some tens of ppm off the session clock, and a sample clock 350 ppm fast as the real
strap's is. Each frame arrives a BLE latency after its last sample. The strap code's own
:class:`~devices.pmd_stream.PmdStream` puts them back on the session clock, so the simulated H10
tests the same path as the real one.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from devices import pmd
from devices.chest_motion import ChestMotion
from devices.ecg_synth import REACH_S, EcgBeat, EcgSynth
from devices.simulator import SimBeat

ECG_FRAME = 73
ACC_FRAME = 36
ECG_HZ = 130.0
ACC_HZ = 50.0
SAMPLE_CLOCK = 1.00035
"""The H10's sample clock runs about 350 ppm fast (its "130 Hz" is 130.05 Hz on its own clock)."""
STRAP_EPOCH_NS = 599_616_554_640_998_550
"""An H10 whose clock was never set counts from about 2019 (ns since 2000-01-01)."""
ECG_SETTINGS = {"sample_rate": 130, "resolution": 14}
ACC_SETTINGS = {"sample_rate": 50, "resolution": 16, "range": 8}


@dataclass(frozen=True, slots=True)
class PmdFrame:
    arrival: float   # session seconds when the notification reaches the host
    payload: bytes


class SimulatedPmd:
    """Frames for a simulated person; feed it every beat (:meth:`add_beat`) before asking for frames."""

    def __init__(self, seed: int, *, posture: str = "supine", motion: tuple[tuple[float, float], ...] = ()) -> None:
        rng = np.random.default_rng(seed + 11)
        ecg_rng, chest_rng, self._latency_rng = rng.spawn(3)
        self.ecg = EcgSynth(ecg_rng)
        self.chest = ChestMotion(rng=chest_rng, posture=posture, motion=motion)
        self.ppm = float(rng.uniform(-40.0, 40.0))
        self.ns0 = STRAP_EPOCH_NS + int(rng.integers(0, 10**12))
        self._knots_t: list[float] = []
        self._knots_phase: list[float] = []  # unwrapped breathing phase at each beat
        self._beat_t: list[float] = []
        self._next = {pmd.MeasurementType.ECG: 0, pmd.MeasurementType.ACC: 0}
        self._queue: list[tuple[float, int, bytes]] = []
        self._made = 0

    @property
    def beats_needed_until(self) -> float:
        """Beats must be known up to here before the next frames can be made."""
        ecg_end = (self._next[pmd.MeasurementType.ECG] + ECG_FRAME) / (ECG_HZ * SAMPLE_CLOCK)
        acc_end = (self._next[pmd.MeasurementType.ACC] + ACC_FRAME) / (ACC_HZ * SAMPLE_CLOCK)
        return max(ecg_end, acc_end) + REACH_S[1] + 0.1

    def add_beat(self, beat: SimBeat) -> None:
        if self._knots_t and beat.t <= self._knots_t[-1]:
            return
        phase = beat.breath_phase
        if self._knots_phase:
            last = self._knots_phase[-1]
            phase = last + ((phase - last) % 1.0)
        self._knots_t.append(beat.t)
        self._knots_phase.append(phase)
        for hidden in beat.hidden_t:
            self.ecg.add_beat(EcgBeat(hidden, "normal", beat.rr_s / 2))
            self._beat_t.append(hidden)
        if beat.morphology != "none":
            self.ecg.add_beat(EcgBeat(beat.t, beat.morphology, beat.rr_s))
            self._beat_t.append(beat.t)

    def _phase(self, t: np.ndarray) -> np.ndarray:
        if not self._knots_t:
            return np.zeros(len(t))
        return np.asarray(np.interp(t, self._knots_t, self._knots_phase) % 1.0, dtype=np.float64)

    def _strap_ns(self, t: float) -> int:
        return self.ns0 + round(t * (1.0 + self.ppm * 1e-6) * 1e9)

    def _make(self, kind: pmd.MeasurementType, contact: bool) -> None:
        fs, n = (ECG_HZ, ECG_FRAME) if kind is pmd.MeasurementType.ECG else (ACC_HZ, ACC_FRAME)
        k0 = self._next[kind]
        t = (k0 + np.arange(n)) / (fs * SAMPLE_CLOCK)
        self._next[kind] = k0 + n
        ts = self._strap_ns(float(t[-1]))
        phase = self._phase(t)
        if kind is pmd.MeasurementType.ECG:
            uv = self.ecg.samples(t, phase, contact=contact)
            frame = pmd.DataFrame(kind, ts, 0, tuple((int(v),) for v in uv))
            payload = pmd.encode_raw_frame(frame)
        else:
            beats = [b for b in self._beat_t if t[0] - 0.5 <= b <= t[-1]]
            breath = -np.cos(2 * np.pi * phase)  # lung volume: lowest at the end of exhale (phase 0)
            mg = self.chest.samples(t, breath, beats)
            payload = pmd.encode_delta_frame(kind, ts, 0x01, [(int(x), int(y), int(z)) for x, y, z in mg], 16)
            self._beat_t = [b for b in self._beat_t if b >= t[-1] - 1.0]
        arrival = float(t[-1]) + 0.006 + float(self._latency_rng.uniform(0.0, 0.025))
        self._made += 1
        heapq.heappush(self._queue, (arrival, self._made, payload))

    def frames_until(self, limit: float, contact: bool = True) -> list[PmdFrame]:
        """Frames that arrive up to ``limit``, in arrival order (beats must be added up to :attr:`beats_needed_until`)."""
        for kind, fs, n in ((pmd.MeasurementType.ECG, ECG_HZ, ECG_FRAME), (pmd.MeasurementType.ACC, ACC_HZ, ACC_FRAME)):
            while (self._next[kind] + n - 1) / (fs * SAMPLE_CLOCK) <= limit:
                self._make(kind, contact)
        out: list[PmdFrame] = []
        while self._queue and self._queue[0][0] <= limit:
            arrival, _, payload = heapq.heappop(self._queue)
            out.append(PmdFrame(arrival, payload))
        return out
