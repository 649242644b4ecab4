"""Breathing measured from the chest accelerometer (Polar H10 ACC), breath by breath, as it streams.

Why: breathing inferred from the heart (RSA, :mod:`biofeedback.breathing_rate`) is guesswork in many
people; a chest strap's accelerometer sees the chest tilt with every breath (Bates et al. 2010; the
approach of Every Breath You Take). This module turns the H10's 3-axis stream into what the pacer's
guide and the window need: the phase now, each breath, the rate, its depth, whether the person is
moving, and how closely they follow the pacer.

API (stable; the session runner calls it)::

    est = ChestBreathing(fs)                       # fs: the ACC sample rate (25-200 Hz)
    breaths = est.feed(t_last_s, samples_mg)       # (n, 3) mG, t of the last sample; completed breaths
    est.phase(t)        -> ("inhale" | "exhale" | None, progress 0..1)
    est.rate_per_min    -> float | None            # from the last few breaths; None while unsure
    est.rate_window     -> (start_s, end_s) | None # the span of breaths the rate is from
    est.depth           -> float | None            # last breath's depth / the typical depth (1 = usual)
    est.moving          -> bool                    # motion is being ignored right now
    est.direction_established -> bool              # which way is in is clear (else no phase, no follow)
    est.inhale_axis     -> (3,) array | None       # the way the chest's signal moves on an inhale (sensor axes)
    est.learn_from_pacer(pacer_rate_per_min, pacer_phase_at[, pacer_inhale_fraction]) -> +1 | -1 | 0
    est.follow(pacer_rate_per_min, pacer_phase_at[, pacer_inhale_fraction]) -> Following | None
    PacerHistory()      # keeps the pacer's phase over the last 90 s, so follow() can look back

How, and why so:

1. **Filter** (causal): low-pass 1 Hz (breathing up to 40/min; heartbeat bumps and noise out); a slow
   running mean (12 s) is the gravity vector; what remains is the breathing motion, in 3-D.
2. **Orientation-agnostic axis**: the main axis of that motion (the top eigenvector of its running
   covariance over about 20 s), renewed every 0.5 s on a fixed sample grid (so the cut of the stream
   into chunks changes nothing), its sign kept continuous. Projected on it, the chest's motion is one
   signal, whatever the angle of the strap and the posture.
3. **Which way is in**: lung volume lingers at the exhaled level (the end-expiratory pause) and peaks
   briefly. Each cycle between two like turns votes with its own shape: the share of its time spent
   below its mid-range, less a half (positive: the projection's positive way is the inhale). The way in
   is *established* once eight cycles (four breaths) have a median of at least 0.04 with four in five
   on its side, and stays so while a weaker margin holds (0.02, two in three); otherwise it is not
   established, and then there is no phase, no following and no ring in the window. The running
   skewness used before was swayed by sighs and changes of depth (the way in was wrong at some time
   in 18 of 26 BIDMC records, now 4); the quicker half is no cue at all (the inhale is the quicker
   half in only 12 of 26). When the pacer runs and the turns fit it closely under one way only
   (:meth:`learn_from_pacer`), that way holds for 20 s, unless the shape clearly says the other. The
   BIDMC breathing of a few people (15, 26, 27; 13 later on) lingers at the top, not the bottom:
   there the shape alone says the wrong way, and only the pacer can set it right. The strap's axes are fixed
   to the body, so gravity and the way the chest tilts on an inhale would be a third cue, but Polar
   publishes the H10's axis convention only as a picture we could not check, so it is not assumed.
4. **Breaths**: turning points with hysteresis (a quarter of the typical breath's size), so noise
   and small ripples are not breaths; a breath runs from one inhale start (volume minimum) to the
   next. Times are corrected for the low-pass filter's delay. Confirmation lags a turn by the
   time the chest needs to move the hysteresis away from it (typically 0.3-0.8 s).
5. **Motion** (turning over, sitting up): high-frequency energy above 2 Hz (RMS over 0.4 s above
   25 mG; heartbeat bumps and sensor noise stay under 10 mG) or the posture leaving the gravity
   baseline by more than 8 deg. While moving nothing counts; once the movement is quiet and the posture
   steady (within 3 deg of its last second) for 2 s the estimator starts
   clean (gravity, and after a posture change also the axis and the sign, learned afresh; breaths
   resume after 4 s of settling).
6. **Rate**: 60 / mean interval between the last four inhale ends (at least three intervals, within
   the last 60 s, none across motion or a gap); the top of a breath is crisp where its start is vague
   (the end-expiratory pause). None when breathing has not been seen for 2.5 typical breaths, while
   moving or settling.

Bench: ``.venv/bin/python bench/bench_chest_breathing.py`` (BIDMC respiration turned into H10-like
acceleration by :mod:`devices.chest_motion`, scored against the annotators' breaths).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import signal

from biofeedback.pacer import DEFAULT_INHALE_FRACTION

FloatArray = NDArray[np.float64]
Phase = Literal["inhale", "exhale"]


@dataclass(frozen=True, slots=True)
class ChestBreathingConfig:
    lowpass_hz: float = 0.5
    gravity_tau_s: float = 12.0
    axis_tau_s: float = 20.0
    axis_every_s: float = 0.5
    dwell_cycles: int = 12
    dwell_min_cycles: int = 8
    dwell_known: float = 0.04
    dwell_share: float = 0.8
    dwell_kept: float = 0.02
    dwell_kept_share: float = 0.65
    pacer_min_turns: int = 8
    pacer_consistency: float = 0.8
    pacer_max_lag: float = 0.15
    pacer_hold_s: float = 20.0
    hysteresis_share: float = 0.25
    hysteresis_floor_mg: float = 0.5
    rms_weight: float = 0.5
    min_breath_s: float = 1.2
    max_breath_s: float = 30.0
    rate_breaths: int = 4
    rate_min_breaths: int = 3
    rate_max_age_s: float = 60.0
    stale_breaths: float = 2.5
    motion_hf_hz: float = 2.0
    motion_hf_tau_s: float = 0.4
    motion_hf_mg: float = 25.0
    motion_tilt_deg: float = 8.0
    motion_quiet_s: float = 2.0
    steady_deg: float = 3.0
    settle_s: float = 4.0
    same_posture_deg: float = 10.0
    gap_s: float = 0.5


@dataclass(frozen=True, slots=True)
class Breath:
    """One completed breath: inhale start to the next inhale start (session seconds)."""

    start: float
    end: float
    inhale_s: float
    depth_mg: float
    """Peak-to-trough motion along the breathing axis (mG); compare breaths, not people."""

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def rate_per_min(self) -> float:
        return 60.0 / self.duration


class Following(tuple[float, float]):
    """How closely the breath follows the pacer: unpacks as ``(lag_s, rate_match)``.

    ``lag_s``: how late the person's inhale starts after the pacer's (negative: ahead), circular mean
    over the last breaths; ``rate_match``: measured rate / pacer rate (1 = the same). Also
    ``lag_fraction`` (of the pacer's breath, -0.5..0.5), ``consistency`` (0..1, how steady the lag is)
    and ``following`` (rate within 10 %, lag within a quarter breath, consistency >= 0.7).
    """

    lag_fraction: float
    consistency: float

    def __new__(cls, lag_s: float, rate_match: float, lag_fraction: float, consistency: float) -> Following:
        self = super().__new__(cls, (lag_s, rate_match))
        self.lag_fraction = lag_fraction
        self.consistency = consistency
        return self

    @property
    def lag_s(self) -> float:
        return self[0]

    @property
    def rate_match(self) -> float:
        return self[1]

    @property
    def following(self) -> bool:
        return abs(self.rate_match - 1.0) <= 0.1 and abs(self.lag_fraction) <= 0.25 and self.consistency >= 0.7


class PacerHistory:
    """The pacer's phase (0..1, 0 = inhale start) over the last ``keep_s``, to look back at breath starts.

    :meth:`biofeedback.pacer.BreathPacer.phase_at` cannot look back; the runner adds the phase it shows
    on each tick and passes this object to :meth:`ChestBreathing.follow`.
    """

    def __init__(self, keep_s: float = 90.0) -> None:
        self._keep = keep_s
        self._t: deque[float] = deque()
        self._unwrapped: deque[float] = deque()

    def add(self, t: float, phase: float) -> None:
        if self._t and t <= self._t[-1]:
            return
        if self._unwrapped:
            last = self._unwrapped[-1]
            step = (phase - last) % 1.0  # the pacer only moves forward
            value = last + step
        else:
            value = phase % 1.0
        self._t.append(t)
        self._unwrapped.append(value)
        while self._t and self._t[0] < t - self._keep:
            self._t.popleft()
            self._unwrapped.popleft()

    def __call__(self, t: float) -> float:
        if not self._t:
            raise ValueError("no pacer phase recorded yet")
        ts, vs = self._t, self._unwrapped
        if t <= ts[0]:
            return vs[0] % 1.0
        if t >= ts[-1]:
            return vs[-1] % 1.0
        i = bisect_left(ts, t)
        t0, t1, v0, v1 = ts[i - 1], ts[i], vs[i - 1], vs[i]
        return (v0 + (v1 - v0) * (t - t0) / (t1 - t0)) % 1.0


def _ema_coeff(tau_s: float, fs: float) -> float:
    return math.exp(-1.0 / (tau_s * fs))


_UPPER = ((0, 0, 0, 1, 1, 2), (0, 1, 2, 1, 2, 2))
"""The six distinct entries of a 3x3 covariance (row, column indices), as it is filtered."""


def _symmetric(upper: FloatArray) -> FloatArray:
    """The 3x3 covariance from its six :data:`_UPPER` entries."""
    m = np.zeros((3, 3))
    m[_UPPER] = upper
    m[(_UPPER[1], _UPPER[0])] = upper
    return m


class ChestBreathing:
    """Streaming breathing estimator for a chest accelerometer (see the module docstring)."""

    def __init__(self, fs: float, config: ChestBreathingConfig | None = None) -> None:
        if not 10.0 <= fs <= 1000.0:
            raise ValueError(f"accelerometer rate {fs} Hz is outside 10-1000 Hz")
        self.fs = float(fs)
        self.cfg = cfg = config or ChestBreathingConfig()
        self._lp_sos = signal.butter(2, cfg.lowpass_hz, fs=fs, output="sos")
        self._hp_sos = signal.butter(2, cfg.motion_hf_hz, "highpass", fs=fs, output="sos")
        self._delay_s = math.sqrt(2.0) / (2.0 * math.pi * cfg.lowpass_hz)  # the low-pass's group delay
        self._a_g = _ema_coeff(cfg.gravity_tau_s, fs)
        self._a_cov = _ema_coeff(cfg.axis_tau_s, fs)
        self._a_hf = _ema_coeff(cfg.motion_hf_tau_s, fs)
        self._grid = max(1, int(round(cfg.axis_every_s * fs)))
        self._n = 0  # samples seen, for the axis grid
        self._last_t: float | None = None
        self._lp_zi: FloatArray | None = None
        self._hp_zi: FloatArray | None = None
        self._hf_ms = 0.0
        self._gf: FloatArray | None = None
        self._a_gf = _ema_coeff(1.0, fs)
        self._moving = False
        self._quiet_since: float | None = None
        self._g_before_motion: FloatArray | None = None
        self.breaths: deque[Breath] = deque(maxlen=64)
        self._depths: deque[float] = deque(maxlen=10)
        self._axis = np.zeros(3)
        self._polarity = 1.0
        self._polarity_known = False
        self._cov: FloatArray = np.zeros((3, 3))
        self._cov_before_motion: FloatArray | None = None
        self._swings: deque[float] = deque(maxlen=8)
        self._extremes: deque[tuple[float, int, int]] = deque(maxlen=64)  # (t, kind, segment) of each turn
        self._seg = 0
        self._dwell: deque[float] = deque(maxlen=cfg.dwell_cycles)  # each cycle's dwell asymmetry (see _cycle_dwell)
        self._trace: list[float] = []  # the projection since the last-but-one turn, for the cycle's shape
        self._trace_i0 = 0  # global sample index of _trace[0]
        self._turn_idx: deque[int] = deque(maxlen=2)  # sample indices of the last two turns (this run)
        self._pacer_vote: tuple[float, float] | None = None  # (sign, until t) from breathing with the pacer
        self._restart(None, 0.0, same_posture=False)

    # ---------------------------------------------------------------- state resets

    def _restart(self, g: FloatArray | None, t: float, *, same_posture: bool) -> None:
        """A clean start: at the beginning, after a gap, after motion (keeping the axis if posture held)."""
        self._g = None if g is None else g.copy()
        lam = 0.0
        if same_posture and np.any(self._axis) and self._cov_before_motion is not None:
            self._cov = self._cov_before_motion  # what the motion added is not breathing
            lam = float(np.linalg.eigvalsh(self._cov)[2])
        else:
            self._cov = np.zeros((3, 3))
            self._dwell.clear()
            self._pacer_vote = None
            self._polarity_known = False
        self._settle_until = t + self.cfg.settle_s
        self._seg += 1
        self._mode = 0  # 0: no turning point yet, +1: rising (tracking a max), -1: falling (tracking a min)
        self._hi = (t, -math.inf, 0)  # (t, value, global sample index)
        self._lo = (t, math.inf, 0)
        self._forget_shape()
        self._last_ext: tuple[float, float, int] | None = None  # (t, value, kind) kind +1 max, -1 min
        self._last_vol_min: tuple[float, float] | None = None
        self._last_vol_max: tuple[float, float] | None = None
        self._lambda = lam
        self._cov_before_motion = None
        if not same_posture:
            self._swings.clear()

    # ---------------------------------------------------------------- feeding

    def feed(self, t_last_s: float, samples_mg: FloatArray | NDArray[np.int64] | list[list[int]]) -> list[Breath]:
        """Take ``(n, 3)`` samples (mG) whose last one is at ``t_last_s``; returns breaths completed in them."""
        x = np.asarray(samples_mg, dtype=float).reshape(-1, 3)
        n = len(x)
        if n == 0:
            return []
        t = t_last_s - (n - 1 - np.arange(n)) / self.fs
        if self._last_t is not None:
            fresh = t > self._last_t + 0.25 / self.fs
            if not np.all(fresh):  # overlap or a repeated chunk: keep only what is new
                x, t = x[fresh], t[fresh]
                n = len(x)
                if n == 0:
                    return []
            if t[0] - self._last_t > 1.0 / self.fs + self.cfg.gap_s:
                self._restart(None, float(t[0]), same_posture=False)
                self._moving = False
        self._last_t = float(t[-1])
        if self._lp_zi is None or self._hp_zi is None:
            self._lp_zi = signal.sosfilt_zi(self._lp_sos)[:, :, None] * x[0][None, None, :]
            self._hp_zi = np.zeros((self._hp_sos.shape[0], 2, 3))
        lp, self._lp_zi = signal.sosfilt(self._lp_sos, x, axis=0, zi=self._lp_zi)
        hp, self._hp_zi = signal.sosfilt(self._hp_sos, x, axis=0, zi=self._hp_zi)
        hf_ms, _ = signal.lfilter([1.0 - self._a_hf], [1.0, -self._a_hf], np.sum(hp * hp, axis=1),
                                  zi=[self._a_hf * self._hf_ms])
        self._hf_ms = float(hf_ms[-1]) if len(hf_ms) else self._hf_ms
        hf_rms = np.sqrt(hf_ms)
        # A fast gravity (1 s) tells a posture still changing from one that has settled.
        if self._gf is None:
            self._gf = lp[0].copy()
        a = self._a_gf
        gf, _ = signal.lfilter([1.0 - a], [1.0, -a], lp, axis=0, zi=(a * self._gf)[None, :])
        self._gf = gf[-1].copy()
        cos_f = np.einsum("ij,ij->i", lp, gf) / (np.linalg.norm(lp, axis=1) * np.linalg.norm(gf, axis=1) + 1e-9)
        unsteady = (hf_rms > self.cfg.motion_hf_mg) | (cos_f < math.cos(math.radians(self.cfg.steady_deg)))
        out: list[Breath] = []
        lo = 0
        while lo < n:
            lo = self._segment(t, lp, hf_rms, unsteady, lo, out)
        return out

    def _gravity(self, lp: FloatArray) -> FloatArray:
        if self._g is None:
            self._g = lp[0].copy()
        a = self._a_g
        g, _ = signal.lfilter([1.0 - a], [1.0, -a], lp, axis=0, zi=(a * self._g)[None, :])
        return np.asarray(g, dtype=float)

    def _segment(self, t: FloatArray, lp: FloatArray, hf_rms: FloatArray, unsteady: NDArray[np.bool_], lo: int,
                 out: list[Breath]) -> int:
        """Process samples from ``lo`` up to the next clean restart; returns where it stopped."""
        cfg = self.cfg
        g = self._gravity(lp[lo:])
        cosang = np.einsum("ij,ij->i", lp[lo:], g) / (np.linalg.norm(lp[lo:], axis=1) * np.linalg.norm(g, axis=1) + 1e-9)
        tilted = cosang < math.cos(math.radians(cfg.motion_tilt_deg))
        raw = (hf_rms[lo:] > cfg.motion_hf_mg) | tilted
        moving = np.zeros(len(raw), dtype=bool)
        stop = len(raw)
        busy = unsteady[lo:].tolist()
        for k, r in enumerate(raw.tolist()):
            tk = float(t[lo + k])
            if (r and not self._moving) or (self._moving and busy[k]):
                if not self._moving:
                    self._moving = True
                    self._g_before_motion = self._g_before_motion if self._g_before_motion is not None else g[max(k - 1, 0)]
                self._quiet_since = None
            elif self._moving:
                if self._quiet_since is None:
                    self._quiet_since = tk
                elif tk - self._quiet_since >= cfg.motion_quiet_s:
                    stop = k
                    break
            moving[k] = self._moving
        seg = slice(lo, lo + stop)
        self._g = g[stop - 1].copy() if stop > 0 else self._g
        if stop > 0:
            self._track(t[seg], lp[seg] - g[:stop], moving[:stop], out)
        if stop < len(raw):  # motion is over: start clean from here
            r = lo + stop
            before = self._g_before_motion
            now = lp[r]
            same = before is not None and float(np.dot(before, now)) / (
                float(np.linalg.norm(before) * np.linalg.norm(now)) + 1e-9) > math.cos(math.radians(cfg.same_posture_deg))
            self._moving = False
            self._quiet_since = None
            self._g_before_motion = None
            self._restart(now, float(t[r]), same_posture=same)
        return lo + stop

    def _track(self, t: FloatArray, bp: FloatArray, moving: NDArray[np.bool_], out: list[Breath]) -> None:
        """Axis, projection, sign and turning points over samples with no restart among them."""
        n = len(t)
        a = self._a_cov
        prods = bp[:, _UPPER[0]] * bp[:, _UPPER[1]]
        zi = (a * self._cov[_UPPER])[None, :]
        cov6, _ = signal.lfilter([1.0 - a], [1.0, -a], prods, axis=0, zi=zi)
        if self._cov_before_motion is None and moving.any():
            k0 = int(np.argmax(moving))
            before = cov6[k0 - 1] if k0 > 0 else self._cov[_UPPER]
            self._cov_before_motion = _symmetric(before)
        self._cov = _symmetric(cov6[-1])
        # The axis on the global sample grid.
        idx = self._n + np.arange(n)
        self._n += n
        axes = np.empty((n, 3))
        lams = np.empty(n)
        grid = np.flatnonzero(idx % self._grid == 0)
        axis, lam = self._axis, self._lambda
        start = 0
        for k in grid.tolist():
            axes[start:k] = axis
            lams[start:k] = lam
            w, v = np.linalg.eigh(_symmetric(cov6[k]))
            new = v[:, 2]
            if float(np.dot(new, axis)) < 0:
                new = -new
            axis, lam = new, float(w[2])
            start = k
        axes[start:] = axis
        lams[start:] = lam
        self._axis, self._lambda = axis, lam
        proj = np.einsum("ij,ij->i", bp, axes)
        self._turning_points(t, proj, lams, moving, idx, out)

    def _forget_shape(self) -> None:
        """The current run of turns is broken (restart, motion): the next cycle's shape starts afresh."""
        self._trace.clear()
        self._turn_idx.clear()

    def _cycle_dwell(self, i_end: int) -> None:
        """The shape of the cycle that ends at the turn at sample ``i_end``: which half the chest dwells in.

        From the previous same-kind turn to this one, the share of samples below the cycle's mid-range, less
        a half: positive when the projection lingers low and peaks briefly. Lung volume lingers at the
        exhaled level (the end-expiratory pause), so positive means the projection's positive direction is
        the inhale. Each cycle counts on its own scale, so a sigh or a slow change of depth does not
        outvote the rest (the running skewness used before did; it got the way in wrong for minutes).
        """
        if len(self._turn_idx) == 2:
            seg = np.asarray(self._trace[max(0, self._turn_idx[0] - self._trace_i0):i_end - self._trace_i0 + 1])
            if len(seg) >= 4:
                lo, hi = float(seg.min()), float(seg.max())
                if hi > lo:
                    self._dwell.append(float(np.mean(seg < 0.5 * (lo + hi))) - 0.5)
        self._turn_idx.append(i_end)
        cut = self._turn_idx[0] - self._trace_i0
        if cut > 0:  # keep the projection from the last-but-one turn on
            del self._trace[:cut]
            self._trace_i0 += cut

    def _shape_vote(self) -> tuple[float, float, int]:
        """(median dwell asymmetry, share of cycles on its side, cycles) over the recent cycles."""
        n = len(self._dwell)
        if n == 0:
            return 0.0, 0.0, 0
        d = np.asarray(self._dwell)
        med = float(np.median(d))
        side = 1.0 if med >= 0 else -1.0
        return med, float(np.mean(d * side > 0)), n

    def _decide_direction(self, t: float) -> None:
        """Which way is in, and whether that is established: the breath's shape, and the pacer when followed.

        Shape: established once at least ``dwell_min_cycles`` cycles have a median asymmetry of at least
        ``dwell_known`` with ``dwell_share`` of them on its side; it stays established while the evidence
        keeps a weaker margin (``dwell_kept``, ``dwell_kept_share``) and is lost (no phase, no ring) when it
        does not. Pacer: when the turns fit the pacer closely under one direction only (see
        :meth:`learn_from_pacer`), that direction holds for ``pacer_hold_s``, unless the shape clearly says
        the other (then neither: someone breathing against the pacer is not told they follow it).
        """
        cfg = self.cfg
        med, share, n = self._shape_vote()
        side = 1.0 if med >= 0 else -1.0
        shape = 0.0
        if n >= cfg.dwell_min_cycles and abs(med) >= cfg.dwell_known and share >= cfg.dwell_share:
            shape = side
        elif self._polarity_known and n >= cfg.dwell_min_cycles and med * self._polarity >= cfg.dwell_kept and \
                share >= cfg.dwell_kept_share:
            shape = self._polarity  # established before: a weaker margin keeps it
        pacer = 0.0
        if self._pacer_vote is not None and t <= self._pacer_vote[1]:
            pacer = self._pacer_vote[0]
        if pacer and shape and pacer != shape:
            sign = 0.0
        else:
            sign = pacer or shape
        if not sign:
            self._polarity_known = False
            return
        if sign != self._polarity:
            # Volume minima and maxima swap: forget the half-built breath.
            self._last_vol_min = self._last_vol_max = None
        self._polarity = sign
        self._polarity_known = True

    def learn_from_pacer(self, pacer_rate_per_min: float, pacer_phase_at: Callable[[float], float],
                         pacer_inhale_fraction: float = DEFAULT_INHALE_FRACTION) -> int:
        """Direction from the pacer when the person clearly follows it: returns the sign voted (0: none).

        Under each direction in turn, each recent turn is set against where the pacer would put it (a
        volume minimum at the pacer's inhale start, a maximum at its turn). Someone who follows fits one
        direction closely (consistency >= ``pacer_consistency``, mean lag within ``pacer_max_lag`` of a
        breath) and the other not at all (its minima and maxima fall about half a breath apart). No vote
        when neither or both fit: someone breathing at their own rate or against the pacer is not given
        the pacer's direction. The vote holds ``pacer_hold_s``; call this as the pacer runs.
        """
        cfg = self.cfg
        now = self._last_t
        if now is None or pacer_rate_per_min <= 0 or self._moving or self.settling:
            return 0
        turns = [(t, k) for t, k, seg in self._extremes if seg == self._seg and t >= now - self.cfg.rate_max_age_s]
        turns = turns[-2 * cfg.rate_breaths - 2:]
        if len(turns) < cfg.pacer_min_turns:
            return 0
        phases = np.asarray([pacer_phase_at(t) for t, _ in turns])
        kinds = np.asarray([k for _, k in turns])
        fits = []
        for sign in (1.0, -1.0):
            expected = np.where(kinds * sign > 0, pacer_inhale_fraction, 0.0)
            vec = np.mean(np.exp(2j * np.pi * (phases - expected)))
            fits.append(abs(vec) >= cfg.pacer_consistency and abs(np.angle(vec)) / (2 * np.pi) <= cfg.pacer_max_lag)
        if fits[0] == fits[1]:
            return 0
        vote = 1.0 if fits[0] else -1.0
        self._pacer_vote = (vote, now + cfg.pacer_hold_s)
        self._decide_direction(now)
        return int(vote)

    def _turning_points(self, t: FloatArray, proj: FloatArray, lams: FloatArray, moving: NDArray[np.bool_],
                        idx: NDArray[np.int64], out: list[Breath]) -> None:
        """Turning points with hysteresis; each closes a cycle whose shape votes on the direction."""
        cfg = self.cfg
        rms_share = cfg.hysteresis_share * 2.0 * math.sqrt(2.0) * cfg.rms_weight
        swing_h = self._swing_hysteresis()
        max_trace = int(2 * cfg.max_breath_s * self.fs)
        for tk, x, lam, mv, ik in zip(t.tolist(), proj.tolist(), lams.tolist(), moving.tolist(), idx.tolist(), strict=True):
            if mv or tk < self._settle_until:
                if mv:
                    self._mode = 0
                    self._hi, self._lo = (tk, -math.inf, ik), (tk, math.inf, ik)
                    self._last_vol_min = self._last_vol_max = None
                    self._forget_shape()
                continue
            if not self._trace:
                self._trace_i0 = ik
            self._trace.append(x)
            if len(self._trace) > max_trace:  # no turn for two of the longest breaths: start the shape afresh
                self._forget_shape()
            h = max(cfg.hysteresis_floor_mg, rms_share * math.sqrt(max(lam, 0.0)), swing_h)
            if self._mode >= 0 and x > self._hi[1]:
                self._hi = (tk, x, ik)
            if self._mode <= 0 and x < self._lo[1]:
                self._lo = (tk, x, ik)
            if self._mode >= 0 and x < self._hi[1] - h:
                self._turn(self._hi, +1, out)
                self._mode, self._lo = -1, (tk, x, ik)
                swing_h = self._swing_hysteresis()
            elif self._mode <= 0 and x > self._lo[1] + h:
                self._turn(self._lo, -1, out)
                self._mode, self._hi = 1, (tk, x, ik)
                swing_h = self._swing_hysteresis()

    def _swing_hysteresis(self) -> float:
        """A share of the typical swing between turns (0 until three swings are known)."""
        return self.cfg.hysteresis_share * float(np.median(self._swings)) if len(self._swings) >= 3 else 0.0

    def _turn(self, ext: tuple[float, float, int], kind: int, out: list[Breath]) -> None:
        t_ext, value, i_ext = ext
        if self._trace and i_ext >= self._trace_i0:
            self._cycle_dwell(i_ext)
            self._decide_direction(t_ext)
        self._extreme(t_ext, value, kind, out)

    def _extreme(self, t_ext: float, value: float, kind: int, out: list[Breath]) -> None:
        t_true = t_ext - self._delay_s
        self._extremes.append((t_true, kind, self._seg))
        if self._last_ext is not None and self._last_ext[2] != kind:
            self._swings.append(abs(value - self._last_ext[1]))
        self._last_ext = (t_true, value, kind)
        vol = value * self._polarity
        if kind * self._polarity > 0:  # a volume maximum: the end of an inhale
            self._last_vol_max = (t_true, vol)
            return
        prev = self._last_vol_min
        peak = self._last_vol_max
        self._last_vol_min = (t_true, vol)
        if prev is None or peak is None or not prev[0] < peak[0] < t_true:
            return
        duration = t_true - prev[0]
        if not self.cfg.min_breath_s <= duration <= self.cfg.max_breath_s:
            return
        depth = peak[1] - 0.5 * (prev[1] + vol)
        b = Breath(prev[0], t_true, peak[0] - prev[0], depth)
        self.breaths.append(b)
        self._depths.append(depth)
        out.append(b)

    # ---------------------------------------------------------------- what the session reads

    @property
    def moving(self) -> bool:
        return self._moving

    @property
    def direction_established(self) -> bool:
        """Which way is in is clear now (from the breath's shape, or the pacer while it is followed)."""
        return self._polarity_known and not self._moving and not self.settling

    @property
    def inhale_axis(self) -> FloatArray | None:
        """The unit vector (sensor axes) the breathing signal moves along on an inhale; None unless established."""
        return self._axis * self._polarity if self.direction_established else None

    @property
    def settling(self) -> bool:
        return self._last_t is not None and self._last_t < self._settle_until

    def _recent(self) -> list[Breath]:
        if self._last_t is None or self._moving or self.settling or not self.breaths:
            return []
        now = self._last_t
        recent = [b for b in self.breaths if b.end >= now - self.cfg.rate_max_age_s][-self.cfg.rate_breaths:]
        if len(recent) < self.cfg.rate_min_breaths:
            return []
        typical = float(np.median([b.duration for b in recent]))
        if now - recent[-1].end > self.cfg.stale_breaths * typical + self._delay_s + 1.0:
            return []
        return recent

    def _rate_span(self) -> tuple[float, float, float] | None:
        """(rate, first, last turn used): intervals between inhale ends, sharper than inhale starts.

        Lung volume lingers at the bottom (the end-expiratory pause), so the exact moment an inhale
        starts is vague while the turn at the top is crisp. Until the sign is known, both turns count.
        """
        if not self._recent():
            return None
        now = self._last_t
        assert now is not None
        kinds = (int(self._polarity),) if self._polarity_known else (1, -1)
        intervals: list[float] = []
        first, last = math.inf, -math.inf
        for kind in kinds:
            turns = [(t, seg) for t, k, seg in self._extremes if k == kind and t >= now - self.cfg.rate_max_age_s]
            pairs = [(a, b) for (a, sa), (b, sb) in zip(turns, turns[1:], strict=False) if sa == sb]
            pairs = [(a, b) for a, b in pairs if self.cfg.min_breath_s <= b - a <= self.cfg.max_breath_s]
            pairs = pairs[-self.cfg.rate_breaths:]
            if len(pairs) < self.cfg.rate_min_breaths:
                continue
            intervals += [b - a for a, b in pairs]
            first, last = min(first, pairs[0][0]), max(last, pairs[-1][1])
        if not intervals:
            return None
        return 60.0 / float(np.mean(intervals)), first, last

    @property
    def rate_per_min(self) -> float | None:
        span = self._rate_span()
        return None if span is None else span[0]

    @property
    def rate_window(self) -> tuple[float, float] | None:
        """The span of the turns the rate is from (session seconds)."""
        span = self._rate_span()
        return None if span is None else (span[1], span[2])

    @property
    def depth(self) -> float | None:
        if len(self._depths) < 3 or not self._recent():
            return None
        typical = float(np.median(self._depths))
        return self._depths[-1] / typical if typical > 0 else None

    def phase(self, t: float) -> tuple[Phase | None, float]:
        """Inhale or exhale at ``t`` (at or after the last sample fed) and how far into it (0..1).

        A turn is confirmed only once the chest has moved back by the hysteresis, so the phase runs on
        from the last confirmed turn with the person's usual inhale and exhale durations: past the
        expected turn it already says the other half (the display does not wait for confirmation).
        """
        if self._moving or self.settling or not self._polarity_known or self._last_ext is None:
            return None, 0.0
        t_ext, _, kind = self._last_ext
        recent = list(self.breaths)[-self.cfg.rate_breaths:]
        if not recent or t - t_ext > self.cfg.max_breath_s:
            return None, 0.0
        inhaling = kind * self._polarity < 0  # the last confirmed turn was a volume minimum
        inhale = float(np.median([b.inhale_s for b in recent]))
        exhale = float(np.median([b.duration - b.inhale_s for b in recent]))
        first, second = (inhale, exhale) if inhaling else (exhale, inhale)
        elapsed = t - t_ext
        if elapsed >= first > 0:  # the expected turn has passed: the other half has begun
            inhaling = not inhaling
            progress = (elapsed - first) / second if second > 0 else 0.0
        else:
            progress = elapsed / first if first > 0 else 0.0
        return ("inhale" if inhaling else "exhale"), min(max(progress, 0.0), 0.99)

    def follow(self, pacer_rate_per_min: float, pacer_phase_at: Callable[[float], float],
               pacer_inhale_fraction: float = DEFAULT_INHALE_FRACTION) -> Following | None:
        """Lag of the person's breath behind the pacer's, and measured/pacer rate (None if unsure).

        ``pacer_phase_at(t)`` gives the pacer's phase (0..1, 0 = inhale start) at past times within the
        last minute (see :class:`PacerHistory`). Both turns count: each inhale start against the pacer's
        (phase 0) and each inhale end against the pacer's turn (``pacer_inhale_fraction``); the end is
        the crisper of the two.
        """
        rate = self.rate_per_min
        recent = self._recent()
        if rate is None or not recent or pacer_rate_per_min <= 0 or not self._polarity_known:
            return None
        fractions = [((pacer_phase_at(b.start) + 0.5) % 1.0) - 0.5 for b in recent]
        fractions += [((pacer_phase_at(b.start + b.inhale_s) - pacer_inhale_fraction + 0.5) % 1.0) - 0.5 for b in recent]
        vec = np.mean(np.exp(2j * np.pi * np.asarray(fractions)))
        lag_fraction = float(np.angle(vec) / (2.0 * np.pi))
        period = 60.0 / pacer_rate_per_min
        return Following(lag_fraction * period, rate / pacer_rate_per_min, lag_fraction, float(abs(vec)))
