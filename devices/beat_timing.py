"""Beat times from RR intervals that arrive without timestamps.

A strap sends RR values about once a second but never says when the beats happened. Within a
contiguous run we chain the RR on the strap's own clock (exact to the tick) and anchor the chain
to arrival times on the host:

- The first RR after a start or a gap is *back-dated* from its notification's arrival: the last RR
  of the notification ends at the arrival time, the earlier ones before it.
- A chained beat can never lie after the arrival of the notification that carries it; if it would,
  the chain is shifted back to the arrival (this pulls the anchor toward the smallest latency seen).
- If the chain falls more than ``gap_tolerance_s`` behind the arrival time, RR values were lost
  (link or contact trouble): that is a gap, and the chain is re-anchored by back-dating.
- Strap and host clocks differ by tens of ppm; so that this never accumulates, the anchor creeps
  toward the smallest latency of the last ``window`` notifications by at most ``max_creep_s``
  (0.1 ms, i.e. 100 ppm) per notification. Slow on purpose: at a heart rate near 60 bpm the
  beats' phase within the 1-s notification cadence sweeps slowly, and a fast creep would chase
  it. Beat times match the RR chain to within a millisecond and never drift (tests: three hours
  at +/-50 ppm stay within 80 ms of the truth).
"""

from __future__ import annotations

from collections import deque

from devices.stream import TICKS_PER_SECOND


class BeatTimer:
    """Places each RR's ending beat on the stream's time axis (seconds since start)."""

    def __init__(self, gap_tolerance_s: float = 2.5, max_creep_s: float = 0.0001, window: int = 120):
        self.gap_tolerance_s = gap_tolerance_s
        self.max_creep_s = max_creep_s
        self._lags: deque[float] = deque(maxlen=window)
        self._last_beat: float | None = None

    def reset(self) -> None:
        """Forget the chain: the next RR is back-dated from its arrival (after any gap)."""
        self._last_beat = None
        self._lags.clear()

    @property
    def anchored(self) -> bool:
        return self._last_beat is not None

    def place(self, arrival: float, rr_ticks: tuple[int, ...]) -> tuple[tuple[float, ...], bool]:
        """Beat times for ``rr_ticks`` that arrived at ``arrival``; the flag says a gap came first."""
        if not rr_ticks:
            return (), False
        rr_s = [r / TICKS_PER_SECOND for r in rr_ticks]
        gap = False
        if self._last_beat is not None:
            times = []
            acc = self._last_beat
            for r in rr_s:
                acc += r
                times.append(acc)
            lag = arrival - times[-1]
            if lag > self.gap_tolerance_s:
                gap = True
            else:
                if lag < 0:
                    shift = lag
                else:
                    self._lags.append(lag)
                    shift = min(min(self._lags), self.max_creep_s) if len(self._lags) == self._lags.maxlen else 0.0
                if shift:
                    times = [b + shift for b in times]
                self._last_beat = times[-1]
                return tuple(times), False
        # Back-date from the arrival time.
        times = [arrival]
        for r in reversed(rr_s[1:]):
            times.append(times[-1] - r)
        times.reverse()
        self._last_beat = arrival
        self._lags.clear()
        return tuple(times), gap
