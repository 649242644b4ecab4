"""PMD data notifications to ECG and ACC chunks on the session clock, without drift.

Shared by the real strap and the simulated H10: both hand every data notification, with its
arrival time on the session clock, to :meth:`PmdStream.feed` and pass on what comes back.

Two clocks meet here. The strap stamps each frame with the strap-clock time (ns) of its last
sample; the host knows when the notification arrived. Three things make the naive mapping wrong:

- Arrival is late by the BLE latency (a connection interval, the host's scheduling, sometimes a
  backlog of seconds) and latency only ever *adds* delay. So the offset between the clocks is the
  *lower envelope* of ``arrival - strap time``, not its mean (:class:`StrapClock`).
- The strap's crystal runs tens of ppm off the host's: 50 ppm is 0.36 s over a 2-h session. The
  envelope's slope is that rate error; it is fitted over the last ten minutes (the lower convex
  hull of per-10-s minima, the edge under their mean x, as in Moon et al.'s skew estimation), so
  it follows slow changes and never drifts.
- A stream's samples are evenly spaced on the strap, so they must be here too: every stream keeps
  a rigid grid (its period followed from the frames' own timestamps: the H10's "130 Hz" is about
  130.05 Hz on its clock, and wanders). The grid is steered toward the clock mapping by
  adjusting its period a little (at most 0.2 %), never by a step, so consecutive samples are
  exactly ``1/fs`` apart, where ``fs`` is the chunk's.

A frame whose timestamp is a whole number of sample periods later than expected followed lost
notifications: its chunk is marked ``after_gap`` and a ``gap`` link event (with ``stream``) says
how many samples are missing; the grid runs on. A timestamp that fits no sample count (the strap
clock jumped, or was restarted) starts everything afresh, also marked. Pure: no bleak, no I/O.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field

from devices.pmd import NS_PER_S, DataFrame, MalformedPmd, MeasurementType, decode_data_frame
from devices.stream import AccChunk, EcgChunk, LinkEvent, LinkState, StreamItem

log = logging.getLogger(__name__)

BLOCK_S = 10.0
"""The clock envelope keeps the earliest-arriving frame of every 10 s of strap time."""
WINDOW_BLOCKS = 60
"""... over the last ten minutes: long enough to measure a few ppm, short enough to follow temperature."""
MIN_SPAN_S = 120.0
"""Before the envelope spans two minutes, its slope is noise: the rate error is taken as 0 till then."""
MAX_SKEW = 500e-6
"""No crystal pair is 500 ppm apart; a steeper envelope is a clock jump or a backlog, not a rate."""
STEER_TAU_S = 10.0
"""The grid closes its distance to the clock mapping with this time constant ..."""
MAX_SLEW = 0.002
"""... changing its period by at most 0.2 % (2 ms per second) to do so."""
RESYNC_S = 1.0
"""A grid more than a second off the clock mapping starts afresh (marked as a gap)."""
EARLY_LIMIT_S = 0.5
"""A frame mapped to more than this after its arrival cannot be: the strap clock jumped."""
MAX_LOST_S = 60.0
"""Lost notifications within a connection: up to a minute is counted as missing samples."""
RATE_TOLERANCE = 0.02
"""A frame spacing more than 2 % off the nominal rate is not believed."""
PERIOD_FRAMES = 64
"""The sample period is averaged over about this many frames (30 s of ECG)."""
DEFAULT_RATES = {MeasurementType.ECG: 130.0, MeasurementType.ACC: 50.0}


class StrapClock:
    """Strap-clock nanoseconds to session seconds, from frames' (timestamp, arrival) pairs."""

    def __init__(self) -> None:
        self._ns0: int | None = None
        self._blocks: deque[tuple[float, float]] = deque(maxlen=WINDOW_BLOCKS)
        self._block_start = 0.0
        self._current: tuple[float, float] | None = None
        self._line: tuple[float, float] | None = None  # (offset c, skew d): session = x + c + d*x

    @property
    def ready(self) -> bool:
        return self._ns0 is not None

    def reset(self) -> None:
        """Forget everything (the strap clock jumped): the next frame anchors the mapping again."""
        self._ns0, self._current, self._line = None, None, None
        self._blocks.clear()

    def _x(self, strap_ns: int) -> float:
        assert self._ns0 is not None
        return (strap_ns - self._ns0) / NS_PER_S

    def observe(self, strap_ns: int, arrival: float) -> None:
        """One frame: the strap time of its last sample and when it arrived (session seconds)."""
        if self._ns0 is None:
            self._ns0 = strap_ns
            self._block_start = 0.0
        x = self._x(strap_ns)
        y = arrival - x
        if self._current is None or x - self._block_start >= BLOCK_S:
            if self._current is not None:
                self._blocks.append(self._current)
            self._block_start = x
            self._current = (x, y)
            self._line = None
        elif y < self._current[1]:
            self._current = (x, y)
            self._line = None

    def skew_ppm(self) -> float:
        return self._fit()[1] * 1e6

    def to_session(self, strap_ns: int) -> float:
        c, d = self._fit()
        x = self._x(strap_ns)
        return x + c + d * x

    def _fit(self) -> tuple[float, float]:
        if self._line is None:
            points = list(self._blocks) + ([self._current] if self._current is not None else [])
            if not points:
                raise RuntimeError("the strap clock has seen no frame yet")
            self._line = _envelope(points)
        return self._line


def _envelope(points: list[tuple[float, float]]) -> tuple[float, float]:
    """The line under every point that is closest to them on average: the lower-hull edge under their mean x."""
    if points[-1][0] - points[0][0] < MIN_SPAN_S:
        return min(y for _, y in points[-3:]), 0.0
    hull: list[tuple[float, float]] = []
    for p in points:  # sorted by x: Andrew's monotone chain, lower half
        while len(hull) >= 2 and _cross(hull[-2], hull[-1], p) <= 0:
            hull.pop()
        hull.append(p)
    mean_x = sum(x for x, _ in points) / len(points)
    d = 0.0
    for (x1, y1), (x2, y2) in zip(hull, hull[1:]):
        if x1 <= mean_x <= x2 and x2 > x1:
            d = (y2 - y1) / (x2 - x1)
            break
    d = max(-MAX_SKEW, min(MAX_SKEW, d))
    return min(y - d * x for x, y in points), d


def _cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


@dataclass
class _Grid:
    """One measurement's sample numbering on the strap clock, and the grid it is emitted on.

    The H10's sample clock is not its timestamp clock: over a 2-h ride the ECG's period in strap
    time wandered by 400 ppm (7.6881-7.6913 ms). So the period is followed over the last minute
    or so of frames (an average of their spacing), and each frame's own timestamp says where its
    last sample lies.
    """

    nominal_hz: float
    active: bool = False
    after_gap: bool = False
    k_last: int = 0
    last_ts: int = 0
    period: float = 0.0
    segment_frames: int = 0
    # the emitted grid on the session clock: sample k_e was given time t_e
    k_e: int = 0
    t_e: float = 0.0
    frames: int = 0
    last_payload: bytes = b""
    lost_samples: int = 0
    gaps: list[tuple[float, int, str]] = field(default_factory=list)

    def start(self, k_last: int, ts: int) -> None:
        self.active, self.k_last, self.last_ts = True, k_last, ts
        self.period, self.segment_frames = NS_PER_S / self.nominal_hz, 1

    def advance(self, k_last: int, ts: int) -> None:
        observed = (ts - self.last_ts) / (k_last - self.k_last)
        if abs(observed * self.nominal_hz / NS_PER_S - 1) <= RATE_TOLERANCE:
            self.segment_frames += 1
            self.period += (observed - self.period) / min(self.segment_frames, PERIOD_FRAMES)
        self.k_last, self.last_ts = k_last, ts


class PmdStream:
    """Turns PMD data notifications into :class:`EcgChunk` / :class:`AccChunk` (and ``gap`` events)."""

    def __init__(self, clock: StrapClock | None = None) -> None:
        self.clock = clock or StrapClock()
        self._grids: dict[int, _Grid] = {}
        self.malformed = 0

    def expect(self, measurement: MeasurementType, rate_hz: float) -> None:
        """The rate a measurement was started with (frames do not carry it)."""
        grid = self._grids.get(int(measurement))
        if grid is None or grid.nominal_hz != rate_hz:
            self._grids[int(measurement)] = _Grid(float(rate_hz), after_gap=grid is not None and grid.frames > 0)

    def link_lost(self) -> None:
        """The link dropped: every stream starts a new segment, its first chunk marked ``after_gap``."""
        for grid in self._grids.values():
            if grid.active:
                grid.active, grid.after_gap = False, True

    def grid(self, measurement: MeasurementType) -> _Grid | None:
        return self._grids.get(int(measurement))

    def feed(self, arrival: float, payload: bytes) -> list[StreamItem]:
        """One data notification that arrived at ``arrival`` (session seconds); never raises."""
        try:
            frame = decode_data_frame(payload)
        except MalformedPmd as err:
            self.malformed += 1
            if self.malformed <= 3 or self.malformed % 100 == 0:
                log.warning("Unreadable PMD frame #%d: %s", self.malformed, err)
            return [LinkEvent(arrival, LinkState.MALFORMED, {"stream": "pmd", "problem": str(err), "count": self.malformed})]
        kind = MeasurementType(frame.measurement)
        grid = self._grids.get(int(kind))
        if grid is None:
            grid = self._grids[int(kind)] = _Grid(DEFAULT_RATES.get(kind, 50.0))
        if grid.active and payload == grid.last_payload:
            return []  # the host delivered a notification twice: the strap sent it once
        grid.last_payload = bytes(payload)
        out: list[StreamItem] = []
        if grid.active:
            self._place_continuing(grid, frame, arrival, out)
        if not grid.active:
            self._start_segment(grid, frame, arrival)
        grid.frames += 1
        out.append(self._chunk(kind, grid, frame, payload))
        return out

    # --- placing a frame on its grid ------------------------------------------------------------
    def _start_segment(self, grid: _Grid, frame: DataFrame, arrival: float) -> None:
        if self.clock.ready and not self._plausible(frame.timestamp_ns, arrival):
            self._clock_jumped()
        grid.start(len(frame.samples) - 1, frame.timestamp_ns)
        self.clock.observe(frame.timestamp_ns, arrival)
        grid.k_e, grid.t_e = grid.k_last, self.clock.to_session(frame.timestamp_ns)

    def _plausible(self, strap_ns: int, arrival: float) -> bool:
        lateness = arrival - self.clock.to_session(strap_ns)
        return -EARLY_LIMIT_S <= lateness <= MAX_LOST_S

    def _clock_jumped(self) -> None:
        log.info("The strap's clock jumped; PMD timing starts afresh")
        self.clock.reset()
        for grid in self._grids.values():
            if grid.active:
                grid.active, grid.after_gap = False, True

    def _place_continuing(self, grid: _Grid, frame: DataFrame, arrival: float, out: list[StreamItem]) -> None:
        n = len(frame.samples)
        period = grid.period
        k_last = grid.k_last + n
        residual = frame.timestamp_ns - (grid.last_ts + n * period)
        missing = round(residual / period)
        fits = abs(residual - missing * period) <= period / 2
        if missing and not (fits and 0 < missing * period <= MAX_LOST_S * NS_PER_S):
            self._mark_gap(grid, frame, arrival, out, 0, "strap clock jump")
            self._clock_jumped()
            return
        if not self._plausible(frame.timestamp_ns, arrival):
            self._mark_gap(grid, frame, arrival, out, 0, "strap clock jump")
            self._clock_jumped()
            return
        if missing:
            self._mark_gap(grid, frame, arrival, out, missing, "lost notification")
            grid.after_gap = True
            k_last += missing
        grid.advance(k_last, frame.timestamp_ns)
        self.clock.observe(frame.timestamp_ns, arrival)

    def _mark_gap(self, grid: _Grid, frame: DataFrame, arrival: float, out: list[StreamItem], missing: int,
                  reason: str) -> None:
        name = _stream_name(frame.measurement)
        grid.lost_samples += missing
        grid.gaps.append((arrival, missing, reason))
        log.info("PMD %s gap at %.2f s: %s (%d samples)", name, arrival, reason, missing)
        out.append(LinkEvent(arrival, LinkState.GAP, {
            "stream": name,
            "start": round(grid.t_e, 4),
            "end": round(grid.t_e + (missing + 1) / grid.nominal_hz, 4) if missing else round(arrival, 4),
            "missing_samples": missing,
            "reason": reason,
        }))

    def _session_period(self, grid: _Grid) -> float:
        return grid.period / NS_PER_S * (1.0 + self.clock.skew_ppm() * 1e-6)

    def _chunk(self, kind: MeasurementType, grid: _Grid, frame: DataFrame, payload: bytes) -> EcgChunk | AccChunk:
        """Emit the frame on the steered grid: continuous with the last chunk, closing in on the clock mapping."""
        steps = grid.k_last - grid.k_e
        nominal = self._session_period(grid)
        if steps <= 0:  # a segment's first chunk: it defines the grid
            period, t = nominal, grid.t_e
        else:
            target = self.clock.to_session(grid.last_ts)
            predicted = grid.t_e + steps * nominal
            err = target - predicted
            if abs(err) > RESYNC_S:
                grid.after_gap = True
                period, t = nominal, target
            else:
                span = steps * nominal
                step = max(-MAX_SLEW * span, min(MAX_SLEW * span, err * min(1.0, span / STEER_TAU_S)))
                period = (predicted + step - grid.t_e) / steps
                t = grid.t_e + steps * period
        grid.k_e, grid.t_e = grid.k_last, t
        after_gap, grid.after_gap = grid.after_gap, False
        fs = 1.0 / period
        if kind is MeasurementType.ECG:
            return EcgChunk(t, fs, tuple(s[0] for s in frame.samples), payload, after_gap)
        return AccChunk(t, fs, tuple((s[0], s[1], s[2]) for s in frame.samples), payload, after_gap)


def _stream_name(measurement: int) -> str:
    return {MeasurementType.ECG: "ecg", MeasurementType.ACC: "acc"}.get(MeasurementType(measurement), "pmd")
