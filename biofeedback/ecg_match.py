"""The strap's beats checked against the beats its own ECG shows (a Polar H10 streams both).

Why keep the strap's RR as the beat times: they come in 1/1024 s, finer than the 130-Hz ECG
samples (7.7 ms), and they are what every other strap gives, so the metrics stay comparable. The
ECG adds what RR cannot know: a beat's shape. Each strap beat is paired with the ECG beat within
``tolerance_s`` (60 ms); when the ECG calls it ventricular, supraventricular or fusion (V, S, F)
the beat is ectopic for the artefact handling, even at sinus timing, where no RR rule can see it.

A strap beat waits until the ECG has been analysed past it (``covered``) or, when the ECG lags or
stopped, at most ``max_wait_s``; then it goes on with the ECG's verdict or none. Beats leave in the
order they came. The cross-check counts ECG beats the strap did not report and strap beats the ECG
did not show while it was clean (covered, no ECG gap nearby, not noise).

Pure: times in seconds on the session clock, passed in.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from dataclasses import dataclass

ECTOPIC_CLASSES = frozenset({"V", "S", "F"})
"""ECG classes that make a beat ectopic (AAMI: ventricular, supraventricular, fusion). Q is noise."""


@dataclass(frozen=True, slots=True)
class MatchConfig:
    tolerance_s: float = 0.06
    """A strap beat and an ECG beat this close are the same beat."""
    max_wait_s: float = 2.0
    """A strap beat goes on without the ECG's verdict after this long (the ECG lags or stopped)."""
    clean_margin_s: float = 1.0
    """A strap beat within this of an ECG gap, or of its start, is not held against the ECG."""


@dataclass(frozen=True, slots=True)
class StrapBeat:
    index: int
    t: float
    rr_ticks: int
    after_gap: bool


@dataclass(frozen=True, slots=True)
class MatchedBeat:
    """A strap beat released to the artefact handling, with the ECG's class (None: the ECG did not see it)."""

    beat: StrapBeat
    ecg_label: str | None
    ecg_t: float | None

    @property
    def ectopic(self) -> bool:
        return self.ecg_label in ECTOPIC_CLASSES


@dataclass(frozen=True, slots=True)
class OrphanEcgBeat:
    """A beat in the ECG with no strap beat within the tolerance."""

    t: float
    label: str


class BeatMatcher:
    """Pairs strap beats with ECG beats; see the module docstring."""

    def __init__(self, config: MatchConfig | None = None) -> None:
        self.cfg = config or MatchConfig()
        self._strap: deque[StrapBeat] = deque()
        self._ecg: deque[tuple[float, str]] = deque()
        self.covered = float("-inf")
        """ECG beats before this session time are all known."""
        self._clean_from = float("inf")
        """The ECG has run without a gap since this time (inf: no ECG yet)."""
        self.orphans: list[OrphanEcgBeat] = []
        """ECG beats with no strap beat, not yet taken by :meth:`take_orphans`."""
        self.ecg_only = 0
        """ECG beats the strap did not report, so far."""
        self.strap_only = 0
        """Strap beats the ECG did not show while it was clean, so far."""
        self.matched = 0

    def add_strap(self, index: int, t: float, rr_ticks: int, after_gap: bool = False) -> None:
        self._strap.append(StrapBeat(index, t, rr_ticks, after_gap))

    def add_ecg(self, t: float, label: str) -> None:
        self._ecg.append((t, label))

    def ecg_covered(self, t: float) -> None:
        """Every ECG beat before ``t`` has been added (the detector's delay already subtracted)."""
        self.covered = max(self.covered, t)

    def ecg_gap(self, t: float) -> None:
        """The ECG starts (again) at ``t`` after lost frames or a reconnect."""
        self._clean_from = t

    def release(self, now: float) -> list[MatchedBeat]:
        """Strap beats whose verdict is known (or that waited long enough), in order."""
        out: list[MatchedBeat] = []
        tol = self.cfg.tolerance_s
        while self._strap:
            beat = self._strap[0]
            known = beat.t + tol <= self.covered
            if not known and now - beat.t < self.cfg.max_wait_s:
                break
            self._strap.popleft()
            self._drop_before(beat.t - tol)
            hit = self._nearest(beat.t)
            if hit is not None:
                self.matched += 1
                out.append(MatchedBeat(beat, hit[1], hit[0]))
            else:
                if known and self._clean(beat.t):
                    self.strap_only += 1
                out.append(MatchedBeat(beat, None, None))
        if not self._strap:
            # No strap beat waits: ECG beats long past cannot be matched any more.
            self._drop_before(min(now, self.covered) - self.cfg.max_wait_s - tol)
        return out

    def flush(self) -> list[MatchedBeat]:
        """At the end: everything still waiting, with what the ECG has."""
        return self.release(float("inf"))

    def take_orphans(self) -> list[OrphanEcgBeat]:
        out, self.orphans = self.orphans, []
        return out

    def _clean(self, t: float) -> bool:
        return t >= self._clean_from + self.cfg.clean_margin_s

    def _drop_before(self, t: float) -> None:
        while self._ecg and self._ecg[0][0] < t:
            et, label = self._ecg.popleft()
            self.ecg_only += 1
            self.orphans.append(OrphanEcgBeat(et, label))

    def _nearest(self, t: float) -> tuple[float, str] | None:
        tol = self.cfg.tolerance_s
        best: tuple[float, str] | None = None
        for et, label in self._ecg:
            if et > t + tol:
                break
            if abs(et - t) <= tol and (best is None or abs(et - t) < abs(best[0] - t)):
                best = (et, label)
        if best is None:
            return None
        # Beats before the match are orphans; the match itself is used up.
        while self._ecg and self._ecg[0][0] < best[0]:
            et, label = self._ecg.popleft()
            self.ecg_only += 1
            self.orphans.append(OrphanEcgBeat(et, label))
        self._ecg.popleft()
        return best


class SampleClock:
    """Session time of an ECG sample by its index, from the chunks it came in.

    The strap's sample rate is nominal (the H10's "130 Hz" is about 130.16 Hz): counting samples
    at 130 Hz from the start drifts by seconds an hour, while each chunk's last-sample time is on
    the session clock. A sample's time is its chunk's time minus the samples after it.
    """

    def __init__(self, keep: int = 64) -> None:
        self._chunks: deque[tuple[int, float, float]] = deque(maxlen=keep)  # (index of last sample, t, fs)
        self.samples = 0

    def add(self, n: int, t_last: float, fs: float) -> None:
        self.samples += n
        self._chunks.append((self.samples - 1, t_last, fs))

    def time_of(self, index: int) -> float:
        if not self._chunks:
            raise ValueError("no ECG chunk yet")
        lasts = [c[0] for c in self._chunks]
        k = min(bisect_left(lasts, index), len(lasts) - 1)
        last, t, fs = self._chunks[k]
        return t - (last - index) / fs
