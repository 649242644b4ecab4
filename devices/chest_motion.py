"""A chest accelerometer as a Polar H10 would record it, synthesised from breathing and heartbeats.

Why: no real H10 accelerometer recording is at hand, but real respiration is (BIDMC chest impedance),
so the breathing estimator is scored on realistic acceleration derived from real breaths, and the
simulated H10 serves the same signal over PMD. The model follows how chest-worn accelerometers see
breathing in the literature (Bates et al., Physiol Meas 31:1375, 2010; Hung et al. 2008; the
Every-Breath-You-Take approach): the sternum *tilts* a little with each breath, which moves gravity
between the axes; translation matters much less at breathing frequencies.

The signal, per axis, in mG (what the H10 sends, quantised to 1 mG):

* **Gravity**, about 1000 mG, split over the axes by posture and by how the strap sits. Body frame:
  x toward the head, y toward the person's left, z out of the chest. The up vector (what a resting
  accelerometer reads) is ``(sin a, -cos a sin r, cos a cos r)`` for trunk elevation ``a`` (0 lying,
  90 deg upright) and roll ``r`` about the head-foot axis (0 supine, 90 left side, 180 prone, -90
  right side). The strap is rotated about the chest normal by a random angle (+-25 deg: straps slide)
  and tilted by the sternum's slope (5-20 deg); the sensor axes follow the body axes otherwise (the
  estimator does not rely on this).
* **Breathing as tilt**: the chest wall rotates with lung volume, about the left-right axis by 0.5-1.6
  deg from full exhale to full inhale (pump-handle motion) and about the head-foot axis by 30-60 % of
  that (bucket-handle), which gives a few to a few tens of mG on the axes across gravity, depending on
  posture (weakest lying on the side, as reported for chest sensors).
* **Breathing as translation**: the sternum moves 2-6 mm out and back (quiet breathing); its
  acceleration (about 1 mG for a smooth breath) is added along the chest normal. The displacement
  follows the breath low-passed at 0.8 Hz: soft tissue and the rib cage do not follow the corners of
  a source signal (clipped or spiky impedance traces are measurement artefacts, and their second
  derivative would otherwise dominate).
* **Heartbeats**: a seismocardiographic bump 60 ms after each beat (aortic valve opening after the R
  peak), a Gabor wavelet at 12-18 Hz lasting about 0.1 s (zero before the beat), 1-5 mG, mostly along the chest normal with a
  ballistocardiographic share along the head-foot axis; its size varies 20 % from beat to beat.
* **Noise**: white sensor noise of 1-3 mG per axis (the H10's datasheet-class MEMS at 50-200 Hz) and a
  slow drift of the strap's seat (a random walk of about 0.15 deg per minute, within 1 deg).
* **Motion bursts** (turning over in bed, sitting up): for the burst's duration, large irregular
  movement (sums of random 0.3-4 Hz sinusoids, 100-400 mG) while the posture moves smoothly to a new one,
  which holds afterwards: lying postures turn to another lying posture, upright ones lie down.

``breath`` may be on any scale: it is centred and scaled causally inside (a slow running mean and a
peak envelope), so a stream and a whole array agree and no future sample is used. The breath is
low-passed at 2 Hz first (a chest does not move faster; the derivative in the translation term would
otherwise amplify sensor noise in the breathing source).

Chunk-wise: :class:`ChestMotion` keeps all state (filters, random streams, recent beats), so calls with
consecutive ``t`` give exactly what one call on the joined arrays gives. :func:`chest_acc` is the
one-call form for whole arrays.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import signal

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

G_MG = 1000.0
POSTURES: dict[str, tuple[float, float]] = {
    # name: (trunk elevation deg, roll about the head-foot axis deg)
    "supine": (0.0, 0.0),
    "left": (0.0, 90.0),
    "right": (0.0, -90.0),
    "prone": (0.0, 180.0),
    "reclined": (40.0, 0.0),
    "sitting": (80.0, 0.0),
    "standing": (90.0, 0.0),
}
LYING = ("supine", "left", "right", "prone")
SCG_DELAY_S = 0.06
SCG_SIGMA_S = 0.025  # a bump is zero outside [beat, beat + 2 delay]: it never starts before its beat is known
BREATH_LOWPASS_HZ = 2.0
WALL_LOWPASS_HZ = 0.8
MEAN_TAU_S = 20.0
ENVELOPE_TAU_S = 30.0


def _rot(axis: int, angle_rad: float) -> FloatArray:
    c, s = math.cos(angle_rad), math.sin(angle_rad)
    m = np.eye(3)
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    m[i, i], m[i, j], m[j, i], m[j, j] = c, -s, s, c
    return m


def up_vector(elevation_deg: float | FloatArray, roll_deg: float | FloatArray) -> FloatArray:
    """The body-frame up vector for trunk elevation and roll (arrays broadcast to (n, 3))."""
    a = np.radians(np.asarray(elevation_deg, dtype=float))
    r = np.radians(np.asarray(roll_deg, dtype=float))
    return np.stack([np.sin(a), -np.cos(a) * np.sin(r), np.cos(a) * np.cos(r)], axis=-1)


@dataclass(frozen=True, slots=True)
class _Burst:
    start: float
    duration: float
    from_posture: tuple[float, float]
    to_posture: tuple[float, float]
    freqs: FloatArray  # (k,) Hz
    phases: FloatArray  # (k, 3)
    amps: FloatArray  # (k, 3) mG

    def jitter(self, t: FloatArray) -> FloatArray:
        """The irregular movement (n, 3) mG, tapered in and out with a sine window."""
        u = np.clip((t - self.start) / self.duration, 0.0, 1.0)
        taper = np.sin(np.pi * u) ** 2
        arg = 2.0 * np.pi * self.freqs[None, :, None] * t[:, None, None] + self.phases[None, :, :]
        return np.asarray(taper[:, None] * np.sum(self.amps[None, :, :] * np.sin(arg), axis=1), dtype=float)


class ChestMotion:
    """A stateful chest accelerometer: :meth:`samples` for consecutive chunks joins seamlessly.

    All randomness is drawn at construction or from per-purpose streams in sample order, so the
    output does not depend on how the time axis is cut into chunks.
    """

    def __init__(self, *, rng: np.random.Generator, posture: str = "supine",
                 motion: Sequence[tuple[float, float]] = ()) -> None:
        if posture not in POSTURES:
            raise ValueError(f"unknown posture {posture!r}; one of {', '.join(POSTURES)}")
        noise_rng, drift_rng, beat_rng, burst_rng = rng.spawn(4)
        self._noise_rng = noise_rng
        self._drift_rng = drift_rng
        self._beat_rng = beat_rng
        # The person and the strap.
        self.pitch_deg = float(rng.uniform(0.5, 1.6))
        self.roll_share = float(rng.uniform(0.3, 0.6) * rng.choice([-1.0, 1.0]))
        self.displacement_mm = float(rng.uniform(2.0, 6.0))
        self.scg_mg = float(rng.uniform(1.0, 5.0))
        self.scg_hz = float(rng.uniform(12.0, 18.0))
        self.noise_mg = float(rng.uniform(1.0, 3.0))
        self.strap_twist_deg = float(rng.uniform(-25.0, 25.0))
        self.sternum_slope_deg = float(rng.uniform(5.0, 20.0))
        self.mount = _rot(1, math.radians(self.sternum_slope_deg)) @ _rot(2, math.radians(self.strap_twist_deg))
        self.posture = posture
        self._bursts = self._plan_bursts(burst_rng, posture, motion)
        # Causal state.
        self._sos = signal.butter(2, BREATH_LOWPASS_HZ, fs=50.0, output="sos")  # refitted to fs on first call
        self._fs: float | None = None
        self._zi: FloatArray | None = None
        self._sos_tr = self._sos
        self._zi_tr: FloatArray | None = None
        self._mean: float | None = None
        self._env = 0.0
        self._last_t: float | None = None
        self._hist: list[tuple[float, float]] = []  # last two (t, displacement m) for the second difference
        self._drift = np.zeros(2)  # strap seat drift (deg) about the left-right and head-foot axes
        self._beats: list[float] = []
        self._beat_gain: dict[float, float] = {}

    @staticmethod
    def _plan_bursts(rng: np.random.Generator, posture: str,
                     motion: Sequence[tuple[float, float]]) -> list[_Burst]:
        bursts: list[_Burst] = []
        current = posture
        for start, duration in sorted(motion):
            if duration <= 0:
                raise ValueError("a motion burst needs a positive duration")
            if current in LYING:
                nxt = str(rng.choice([p for p in LYING if p != current]))
            else:
                nxt = str(rng.choice(["supine", "reclined"]))
            k = 6
            bursts.append(_Burst(
                float(start), float(duration), POSTURES[current], POSTURES[nxt],
                rng.uniform(0.3, 4.0, k), rng.uniform(0.0, 2 * np.pi, (k, 3)),
                rng.uniform(100.0, 400.0, (k, 3)) / math.sqrt(k)))
            current = nxt
        return bursts

    def posture_at(self, t: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Trunk elevation and roll (deg) at each time, moving smoothly through the bursts."""
        el0, ro0 = POSTURES[self.posture]
        el = np.full(len(t), el0)
        ro = np.full(len(t), ro0)
        for b in self._bursts:
            u = np.clip((t - b.start) / b.duration, 0.0, 1.0)
            s = u * u * (3.0 - 2.0 * u)  # smoothstep: no jolt at either end
            started = t >= b.start
            el = np.where(started, b.from_posture[0] + s * (b.to_posture[0] - b.from_posture[0]), el)
            ro = np.where(started, b.from_posture[1] + s * (b.to_posture[1] - b.from_posture[1]), ro)
        return el, ro

    def moving(self, t: FloatArray) -> NDArray[np.bool_]:
        """True where a motion burst is under way (for scoring)."""
        out = np.zeros(len(t), dtype=bool)
        for b in self._bursts:
            out |= (t >= b.start) & (t < b.start + b.duration)
        return out

    def _normalise(self, t: FloatArray, breath: FloatArray) -> FloatArray:
        fs = self._fs
        assert fs is not None
        if self._zi is None:
            self._zi = signal.sosfilt_zi(self._sos) * breath[0]
        lp, self._zi = signal.sosfilt(self._sos, breath, zi=self._zi)
        a_mean = math.exp(-1.0 / (MEAN_TAU_S * fs))
        a_env = math.exp(-1.0 / (ENVELOPE_TAU_S * fs))
        out = np.empty(len(lp))
        mean = float(lp[0]) if self._mean is None else self._mean
        env = self._env
        for i, x in enumerate(lp.tolist()):
            mean = a_mean * mean + (1.0 - a_mean) * x
            dev = x - mean
            env = max(abs(dev), env * a_env)
            out[i] = dev / env if env > 0 else 0.0
        self._mean, self._env = mean, env
        return out

    def _translation(self, t: FloatArray, b: FloatArray) -> FloatArray:
        """Acceleration (mG) of the chest wall along its normal, from the displacement's second difference.

        The difference is centred on the previous sample (one sample late, 5-40 ms, far below a breath),
        so each chunk needs only the two samples before it.
        """
        if self._zi_tr is None:
            self._zi_tr = signal.sosfilt_zi(self._sos_tr) * b[0]
        smooth, self._zi_tr = signal.sosfilt(self._sos_tr, b, zi=self._zi_tr)
        d = smooth * self.displacement_mm * 1e-3 / 2.0
        k = len(self._hist)
        tt = np.concatenate([[h[0] for h in self._hist], t])
        dd = np.concatenate([[h[1] for h in self._hist], d])
        acc = np.zeros(len(tt))
        if len(tt) >= 3:
            h = np.diff(tt)
            v = np.diff(dd) / h
            acc[1:-1] = np.diff(v) / (0.5 * (h[1:] + h[:-1]))
        self._hist = list(zip(tt[-2:].tolist(), dd[-2:].tolist(), strict=True))
        idx = np.arange(len(t)) + k - 1
        out = np.where(idx >= 1, acc[np.clip(idx, 0, len(acc) - 1)], 0.0)
        return np.asarray(out / 9.80665 * G_MG, dtype=float)

    def _drift_walk(self, n: int) -> FloatArray:
        fs = self._fs
        assert fs is not None
        step = 0.15 / math.sqrt(60.0 * fs)  # deg per sample: about 0.15 deg after a minute
        walk = self._drift[None, :] + np.cumsum(self._drift_rng.normal(0.0, step, (n, 2)), axis=0)
        walk = np.clip(walk, -1.0, 1.0)
        self._drift = walk[-1].copy()
        return np.asarray(walk, dtype=float)

    def _scg(self, t: FloatArray, beat_t: Sequence[float]) -> FloatArray:
        """Heartbeat bumps along (head-foot, left-right, chest normal), mG."""
        t0, t1 = float(t[0]), float(t[-1])
        for bt in beat_t:
            if bt not in self._beat_gain and bt > t0 - 2 * SCG_DELAY_S:
                self._beat_gain[bt] = 0.0  # gain drawn below in time order, so chunking cannot change it
        new = sorted(b for b, g in self._beat_gain.items() if g == 0.0)
        gains = self._beat_rng.normal(1.0, 0.2, len(new)).clip(0.4, 1.6)
        for b, g in zip(new, gains.tolist(), strict=True):
            self._beat_gain[b] = g
        out = np.zeros((len(t), 3))
        for bt, g in self._beat_gain.items():
            if bt + 2 * SCG_DELAY_S < t0 or bt > t1:
                continue
            lo, hi = np.searchsorted(t, [bt, bt + 2 * SCG_DELAY_S])
            dt = t[lo:hi] - (bt + SCG_DELAY_S)
            w = g * self.scg_mg * np.exp(-0.5 * (dt / SCG_SIGMA_S) ** 2) * np.cos(2 * np.pi * self.scg_hz * dt)
            out[lo:hi, 2] += w
            out[lo:hi, 0] += 0.4 * w
        # Forget beats whose bump is over.
        self._beat_gain = {b: g for b, g in self._beat_gain.items() if b + 2 * SCG_DELAY_S > t1}
        return out

    def samples(self, t: Sequence[float] | FloatArray, breath: Sequence[float] | FloatArray,
                beat_t: Sequence[float] = ()) -> IntArray:
        """(n, 3) int mG for sample times ``t`` (after any earlier call's), breathing ``breath``, beats ``beat_t``."""
        t = np.asarray(t, dtype=float)
        breath = np.asarray(breath, dtype=float)
        if t.ndim != 1 or breath.shape != t.shape:
            raise ValueError("t and breath must be 1-D arrays of the same length")
        if len(t) == 0:
            return np.zeros((0, 3), dtype=np.int64)
        if np.any(np.diff(t) <= 0) or (self._last_t is not None and t[0] <= self._last_t):
            raise ValueError("sample times must increase, also across calls")
        if self._fs is None:
            fs = 1.0 / float(np.median(np.diff(t))) if len(t) > 1 else 50.0
            self._fs = fs
            self._sos = signal.butter(2, min(BREATH_LOWPASS_HZ, 0.4 * fs), fs=fs, output="sos")
            self._sos_tr = signal.butter(2, min(WALL_LOWPASS_HZ, 0.4 * fs), fs=fs, output="sos")
        self._last_t = float(t[-1])
        b = self._normalise(t, breath)  # about -1 (exhaled) .. +1 (inhaled)
        el, ro = self.posture_at(t)
        drift = self._drift_walk(len(t))
        pitch = np.radians(self.pitch_deg * 0.5 * b + drift[:, 0])  # rotation about the left-right axis
        roll = np.radians(self.pitch_deg * self.roll_share * 0.5 * b + drift[:, 1])
        up = up_vector(el, ro)  # (n, 3) body frame, before the breath's tilt
        # Small rotations of the chest: about y (pitch) then x (roll), applied to the up vector.
        cy, sy, cx, sx = np.cos(pitch), np.sin(pitch), np.cos(roll), np.sin(roll)
        ux = cy * up[:, 0] - sy * up[:, 2]
        uz = sy * up[:, 0] + cy * up[:, 2]
        uy = cx * up[:, 1] + sx * uz
        uz = -sx * up[:, 1] + cx * uz
        body = G_MG * np.stack([ux, uy, uz], axis=1)
        body[:, 2] += self._translation(t, b)
        body += self._scg(t, beat_t)
        for burst in self._bursts:
            if t[-1] >= burst.start and t[0] <= burst.start + burst.duration:
                body += burst.jitter(t)
        sensor = body @ self.mount.T
        sensor += self._noise_rng.normal(0.0, self.noise_mg, (len(t), 3))
        return np.asarray(np.rint(sensor), dtype=np.int64)


def chest_acc(t: np.ndarray, breath: np.ndarray, beat_t: Sequence[float], *,
              rng: np.random.Generator, posture: str = "supine",
              motion: Sequence[tuple[float, float]] = ()) -> np.ndarray:
    """Whole arrays at once: (n, 3) int mG from sample times, a lung-volume proxy and beat times.

    See the module docstring for the model; :class:`ChestMotion` is the same for chunk-wise use.
    """
    return ChestMotion(rng=rng, posture=posture, motion=motion).samples(t, breath, beat_t)
