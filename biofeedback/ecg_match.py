"""The strap's beats checked against the beats its own ECG shows (a Polar H10 streams both).

Why keep the strap's RR as the beat times: they come in 1/1024 s, finer than the 130-Hz ECG
samples (7.7 ms), and they are what every other strap gives, so the metrics stay comparable. The
ECG adds what RR cannot know: a beat's shape. Each strap beat is paired with the ECG beat within
``tolerance_s`` (60 ms) of where it should be; when the ECG calls it ventricular, supraventricular
or fusion (V, S, F) the beat is ectopic for the artefact handling, even at sinus timing, where no
RR rule can see it.

Where a strap beat "should be" in the ECG: the strap's beat times are anchored to when its
notifications arrive, so they sit a steady 50-300 ms after the R peak (more at the start, less once
the beat timing has seen a prompt notification), while the ECG's times are the R peaks. The offset
is found by voting (the offset that pairs most waiting strap beats with an ECG beat, within a
plausible range), then followed as the median of the last pairs' offsets. A beat right after a
paired one is expected at that ECG beat plus its own RR, which is exact even when the beat timing
has nudged that one beat's time. Three misses in a row while the ECG is clean start a new vote.

A strap beat waits until the ECG has been analysed past it (``covered``) or, when the ECG lags or
stopped, at most ``max_wait_s``; then it goes on with the ECG's verdict or none. Beats leave in the
order they came. The cross-check counts ECG beats the strap did not report and strap beats the ECG
did not show while it was clean (covered, offset known, no ECG gap nearby).

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
    offset_range_s: tuple[float, float] = (-0.4, 0.6)
    """Strap beat time minus R-peak time, as far as a vote looks."""
    offset_prior_s: float = 0.1
    """Between equally good offsets, the one nearest this wins (a regular rhythm repeats every beat)."""
    vote_beats: int = 8
    """Strap beats a vote looks at."""
    min_votes: int = 4
    """Pairs a vote needs (fewer when fewer strap beats are there to vote, but never under 60 %)."""
    track_pairs: int = 15
    """The offset is the median of this many recent pairs."""
    misses_to_revote: int = 3
    same_rr_s: float = 0.03
    """The strap's RR and the ECG's between two paired beats agree this closely when both saw the same beats."""


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
    ecg_clear: bool = False
    """The ECG is sure this is a normal sinus beat on time, and the strap's RR ending at it matches the
    ECG's (so the strap saw the same two beats): RR rules may be overruled here."""

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
        self._ecg: deque[tuple[float, str, bool]] = deque()  # (time, class, clearly normal)
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
        self.offset: float | None = None
        """Strap beat time minus ECG beat time, once found."""
        self._residuals: deque[float] = deque(maxlen=self.cfg.track_pairs)
        self._prev_ecg_t: float | None = None
        """The ECG time of the previous strap beat, when it was paired (its successor is expected one RR on)."""
        self._misses = 0
        self._orphans_then = 0  # ECG-only beats counted when the last pair was made (none since: the same two beats)
        self._hold_until = -float("inf")

    def add_strap(self, index: int, t: float, rr_ticks: int, after_gap: bool = False) -> None:
        self._strap.append(StrapBeat(index, t, rr_ticks, after_gap))

    def add_ecg(self, t: float, label: str, clear: bool = False) -> None:
        self._ecg.append((t, label, clear))

    def ecg_covered(self, t: float) -> None:
        """Every ECG beat before ``t`` has been added (the detector's delay already subtracted)."""
        self.covered = max(self.covered, t)

    def hold_until(self, t: float) -> None:
        """Strap beats wait for the ECG until session time ``t`` even past ``max_wait_s`` (the classifier
        is learning the beat shape and will label what it has seen); ``-inf`` ends the hold."""
        self._hold_until = t

    def ecg_gap(self, t: float) -> None:
        """The ECG starts (again) at ``t`` after lost frames or a reconnect."""
        self._clean_from = t
        self._prev_ecg_t = None

    def release(self, now: float) -> list[MatchedBeat]:
        """Strap beats whose verdict is known (or that waited long enough), in order."""
        out: list[MatchedBeat] = []
        tol = self.cfg.tolerance_s
        while self._strap:
            beat = self._strap[0]
            if self.offset is None:
                self._vote()
            expected = self._expected(beat)
            known = expected is not None and expected + tol <= self.covered
            if not known and (now - beat.t < self.cfg.max_wait_s or now < self._hold_until):
                break
            self._strap.popleft()
            if expected is None:
                self._prev_ecg_t = None
                out.append(MatchedBeat(beat, None, None))
                continue
            self._drop_before(expected - tol)
            hit = self._nearest(expected)
            if hit is not None:
                self.matched += 1
                self._misses = 0
                same_rr = (self._prev_ecg_t is not None and not beat.after_gap and self.ecg_only == self._orphans_then
                           and abs(hit[0] - self._prev_ecg_t - beat.rr_ticks / 1024.0) <= self.cfg.same_rr_s)
                self._prev_ecg_t = hit[0]
                self._orphans_then = self.ecg_only
                self._residuals.append(beat.t - hit[0])
                self.offset = float(sorted(self._residuals)[len(self._residuals) // 2])
                out.append(MatchedBeat(beat, hit[1], hit[0], hit[2] and same_rr))
                continue
            self._prev_ecg_t = None
            if known and self._clean(expected):
                self.strap_only += 1
                self._misses += 1
                if self._misses >= self.cfg.misses_to_revote:
                    self._forget_offset()
            out.append(MatchedBeat(beat, None, None))
        if not self._strap:
            # No strap beat waits: ECG beats long past cannot be matched any more.
            self._drop_before(min(now, self.covered) - self.cfg.max_wait_s - self.cfg.offset_range_s[1] - tol)
        return out

    def _expected(self, beat: StrapBeat) -> float | None:
        """Where in the ECG this strap beat should be (None: no offset known yet)."""
        if self._prev_ecg_t is not None and not beat.after_gap:
            return self._prev_ecg_t + beat.rr_ticks / 1024.0
        return None if self.offset is None else beat.t - self.offset

    def _forget_offset(self) -> None:
        self.offset = None
        self._residuals.clear()
        self._prev_ecg_t = None
        self._misses = 0

    def _vote(self) -> None:
        """Find the offset that pairs most of the waiting strap beats with ECG beats."""
        cfg = self.cfg
        reach = cfg.tolerance_s - cfg.offset_range_s[0]  # a voter's every possible partner is analysed
        voters = [b.t for b in list(self._strap)[:cfg.vote_beats] if b.t + reach <= self.covered]
        ecg = [e[0] for e in self._ecg]
        if len(voters) < 2 or not ecg:
            return
        lo, hi = cfg.offset_range_s
        best: tuple[int, float, float] | None = None  # (votes, -distance from the prior, offset)
        for st in voters:
            for et in ecg:
                d = st - et
                if not lo <= d <= hi:
                    continue
                votes = sum(1 for v in voters if _has_near(ecg, v - d, cfg.tolerance_s))
                key = (votes, -abs(d - cfg.offset_prior_s), d)
                if best is None or key[:2] > best[:2]:
                    best = key
        if best is None:
            return
        needed = max(min(cfg.min_votes, len(voters)), int(0.6 * len(voters) + 0.999))
        if best[0] >= needed:
            self.offset = best[2]

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
            et, label, _ = self._ecg.popleft()
            self.ecg_only += 1
            self.orphans.append(OrphanEcgBeat(et, label))

    def _nearest(self, t: float) -> tuple[float, str, bool] | None:
        tol = self.cfg.tolerance_s
        best: tuple[float, str, bool] | None = None
        for e in self._ecg:
            et = e[0]
            if et > t + tol:
                break
            if abs(et - t) <= tol and (best is None or abs(et - t) < abs(best[0] - t)):
                best = e
        if best is None:
            return None
        self._drop_before(best[0])  # beats before the match are orphans; the match itself is used up
        self._ecg.popleft()
        return best


def _has_near(times: list[float], t: float, tol: float) -> bool:
    k = bisect_left(times, t - tol)
    return k < len(times) and times[k] <= t + tol


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

    def skip(self, n: int) -> None:
        """``n`` samples that never came (lost frames): counted, so later indices keep their times."""
        self.samples += max(0, n)

    def time_of(self, index: int) -> float:
        if not self._chunks:
            raise ValueError("no ECG chunk yet")
        lasts = [c[0] for c in self._chunks]
        k = min(bisect_left(lasts, index), len(lasts) - 1)
        last, t, fs = self._chunks[k]
        return t - (last - index) / fs
