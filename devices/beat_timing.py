"""Beat times from RR intervals that arrive without timestamps.

A strap sends RR values about once a second but never says when the beats happened. Within a
contiguous run we chain the RR on the strap's own clock (cumulative ticks, exact) and map that
clock to host time with one offset, anchored to arrival times:

- The first RR after a start or a gap is *back-dated* from its notification's arrival: the last RR
  of the notification ends at the arrival time, the earlier ones before it.
- Arrival is only an upper bound: the host may deliver a notification late (a busy laptop or BlueZ
  stalls for seconds, then delivers a burst). A notification that arrives more than
  ``gap_tolerance_s`` after its chained beats is *late*, and its beats stay on the chain. Only a
  lateness that persists for ``confirm_late_s`` of arrival time (the chain really fell behind: RR
  were lost) or one beyond ``max_late_s`` is a gap; then the chain is re-anchored by back-dating.
  A burst never lasts: its last notification is on time again.
- A notification that arrives *before* its chained beats proves the offset too late, or was
  delivered out of order. Its beats are held at its arrival; the offset moves back only when the
  next notification confirms it (a swapped pair does not), or at once when the step is tiny (the
  strap's clock drift).
- Strap and host clocks differ by tens of ppm; so that this never accumulates, the offset creeps
  toward the smallest latency of the last ``window`` on-time notifications by at most
  ``max_creep_s`` (0.1 ms, i.e. 100 ppm) per notification. Slow on purpose: at a heart rate near
  60 bpm the beats' phase within the 1-s notification cadence sweeps slowly, and a fast creep would
  chase it (tests: three hours at +/-50 ppm stay within 80 ms of the truth).
- Beat times never go backwards, across gaps too: a beat is placed at least ``MIN_STEP_S`` after
  the one before it.
"""

from __future__ import annotations

from collections import deque

from devices.stream import TICKS_PER_SECOND

MIN_STEP_S = 0.001
"""Beats are strictly increasing in time, at least this far apart."""


class BeatTimer:
    """Places each RR's ending beat on the stream's time axis (seconds since start)."""

    def __init__(self, gap_tolerance_s: float = 2.5, max_creep_s: float = 0.0001, window: int = 120, *,
                 max_late_s: float = 8.0, confirm_late_s: float = 3.0, early_step_s: float = 0.05) -> None:
        self.gap_tolerance_s = gap_tolerance_s
        self.max_creep_s = max_creep_s
        self.max_late_s = max_late_s
        self.confirm_late_s = confirm_late_s
        self.early_step_s = early_step_s
        self._lags: deque[float] = deque(maxlen=window)
        self._offset: float | None = None   # host time of the chain's strap time 0
        self._strap_ticks = 0               # strap time of the chain's last beat
        self._late_since: float | None = None
        self._early_lag: float | None = None
        self._floor: float | None = None    # the last beat placed, ever: nothing goes before it
        self.late_notifications = 0

    def reset(self) -> None:
        """Forget the chain: the next RR is back-dated from its arrival (after any gap)."""
        self._offset = None
        self._strap_ticks = 0
        self._lags.clear()
        self._late_since = None
        self._early_lag = None

    @property
    def anchored(self) -> bool:
        return self._offset is not None

    @property
    def late(self) -> bool:
        """The last notification came late (inside a burst after a host stall)."""
        return self._late_since is not None

    def lag_if_counted(self, arrival: float, rr_ticks: tuple[int, ...]) -> float | None:
        """How long after its chained last beat a notification with ``rr_ticks`` arrived (None unanchored)."""
        if self._offset is None or not rr_ticks:
            return None
        return arrival - (self._offset + (self._strap_ticks + sum(rr_ticks)) / TICKS_PER_SECOND)

    def place(self, arrival: float, rr_ticks: tuple[int, ...]) -> tuple[tuple[float, ...], bool]:
        """Beat times for ``rr_ticks`` that arrived at ``arrival``; the flag says a gap came first."""
        if not rr_ticks:
            return (), False
        lag = self.lag_if_counted(arrival, rr_ticks)
        if lag is None:
            return self._back_date(arrival, rr_ticks), False
        if lag > self.max_late_s:
            return self._back_date(arrival, rr_ticks), True
        if lag > self.gap_tolerance_s:
            self.late_notifications += 1
            if self._late_since is None:
                self._late_since = arrival
            elif arrival - self._late_since >= self.confirm_late_s:
                return self._back_date(arrival, rr_ticks), True
            self._early_lag = None
            return self._chain(arrival, rr_ticks), False
        self._late_since = None
        self._adjust_offset(lag)
        return self._chain(arrival, rr_ticks), False

    def _adjust_offset(self, lag: float) -> None:
        assert self._offset is not None
        if lag < 0:
            previous, self._early_lag = self._early_lag, lag
            if previous is not None:  # confirmed by a second early one: the offset is too late
                self._offset += max(lag, previous)
                self._lags.clear()
            elif lag >= -self.early_step_s:  # the clocks' drift: follow at once
                self._offset += lag
            return
        self._early_lag = None
        self._lags.append(lag)
        if len(self._lags) == self._lags.maxlen:
            self._offset += min(min(self._lags), self.max_creep_s)

    def _chain(self, arrival: float, rr_ticks: tuple[int, ...]) -> tuple[float, ...]:
        assert self._offset is not None
        times = []
        for r in rr_ticks:
            self._strap_ticks += r
            times.append(min(self._offset + self._strap_ticks / TICKS_PER_SECOND, arrival))
        return self._monotonic(times)

    def _back_date(self, arrival: float, rr_ticks: tuple[int, ...]) -> tuple[float, ...]:
        self._strap_ticks = sum(rr_ticks)
        self._offset = arrival - self._strap_ticks / TICKS_PER_SECOND
        self._lags.clear()
        self._late_since = None
        self._early_lag = None
        times = []
        acc = 0
        for r in rr_ticks:
            acc += r
            times.append(self._offset + acc / TICKS_PER_SECOND)
        return self._monotonic(times)

    def _monotonic(self, times: list[float]) -> tuple[float, ...]:
        floor = self._floor
        for i, b in enumerate(times):
            if floor is not None and b < floor + MIN_STEP_S:
                times[i] = b = floor + MIN_STEP_S
            floor = b
        self._floor = floor
        return tuple(times)
