"""Artefact and ectopic-beat labelling of an RR series: live (causal, 1 beat look-ahead) and offline.

Every beat gets one :class:`BeatLabel` describing the RR interval that *ends* at it:

``normal``   an NN interval, used by the metrics;
``ectopic``  a premature beat: the RR ending at it is short *and* the next one is clearly longer
             (the "spike" shape of an ectopic beat and its compensatory pause);
``long``     a long RR: either the compensatory pause right after an ectopic beat, or an RR far
             above the reference that is no whole multiple of it;
``short``    an RR far below the reference that is not followed by a pause;
``missed``   an RR close to 2x (3x, ...) the reference: beats the strap did not report;
``extra``    a short RR that, with its neighbour, adds up to about one reference interval
             (a spurious detection splitting one interval in two);
``gap``      the first RR after a break in the stream (``after_gap``): a true interval, used for
             mean/SDNN, but no successive difference is taken across the gap.

Method (and why it is not Lipponen & Tarvainen 2019 as published)
-------------------------------------------------------------------
Kubios-style thresholds scale with the spread (quartile deviation) of recent successive
differences. When ectopic beats are frequent (bigeminy) that spread *is* the ectopics, the
threshold grows and absorbs them: on MIT-BIH (records 100-124 without the paced ones) neurokit2's
``signal_fixpeaks(method="kubios")`` finds 40.8 % of ectopic beats. Here the thresholds are fixed
fractions and the reference is the **median of the last 9 RR labelled normal** (flagged intervals
never enter it, so frequent ectopics cannot drag it). The RR ``rr[k]`` is flagged when

1. it is far from the reference: ``rr < (1 - short) * ref`` or ``rr > (1 + long) * ref``, or
2. it is a premature spike: ``rr[k] < (1 - drop) * rr[k-1]`` and ``rr[k+1] > (1 + rise) * rr[k]``, or
3. it is a moderately premature beat followed by a rise: ``rr[k] < (1 - premature) * ref`` and
   ``rr[k+1] > (1 + rise) * rr[k]``, or
4. it is the compensatory pause after a flagged beat: ``rr[k] > (1 + rise) * rr[k-1]``.

Requiring the *rise after* the drop (rules 2, 3) is what keeps specificity in sinus arrhythmia,
where RR changes by 20 % and more but smoothly (a drop is followed by a further drop or a plateau),
so the single-step thresholds can be low. A long RR alone (a vagal pause, a breath-hold) is only
flagged beyond ``long`` = 50 %. If ``reset_run`` intervals in a row are flagged (a real step of the
heart rate, or sustained bigeminy) the reference restarts from the median of their pair means,
which for bigeminy is the underlying sinus interval and for a step is the new rate.

The look-ahead is one RR (the label of a beat is known when the next beat arrives); the
streaming classifier and the offline function share :func:`_decide`, so both give identical
labels (the offline pass is the same decision applied to the whole list at once).

Setting (one for all records) chosen on the even-numbered MIT-BIH records only, as the highest
sensitivity whose specificity there was >= 99.7 %, then measured on the odd records (held out):
see ``bench/bench_artefacts.py``.

Correction
----------
Metrics use NN intervals only (flagged RR left out, no successive difference across them). For
spectra a time-preserving corrected series is built: each run of flagged RR of total duration T is
replaced by ``m = max(1, round(T / ref))`` equal intervals of T / m (an ectopic + pause pair
becomes two normal-looking beats, a missed beat is split, extra beats merge). The raw beats stay
in :class:`LabelledBeat` for the record.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median

TICKS_PER_SECOND = 1024
STARTUP_BEATS = 3
"""Beats collected before the first label: the first beat is labelled when the third arrives, so the
look-ahead stays within two beats even at the start (the reference is seeded from their pair means)."""


class BeatLabel(str, enum.Enum):
    NORMAL = "normal"
    ECTOPIC = "ectopic"
    MISSED = "missed"
    EXTRA = "extra"
    LONG = "long"
    SHORT = "short"
    GAP = "gap"

    @property
    def is_nn(self) -> bool:
        """True when the RR ending at this beat is usable as an NN interval."""
        return self in (BeatLabel.NORMAL, BeatLabel.GAP)


@dataclass(frozen=True, slots=True)
class ArtefactConfig:
    """Thresholds as fractions (see module docstring); one setting for everyone."""

    short: float = 0.30
    long: float = 0.50
    drop: float = 0.06
    rise: float = 0.20
    premature: float = 0.10
    ref_beats: int = 9
    reset_run: int = 8
    multiple_tol: float = 0.2  # |rr/ref - round(rr/ref)| below this for "missed"/"extra"
    pattern_gap: float = 0.04  # bigeminy/trigeminy: the short phase this far below every other RR
    pattern_match: float = 0.12  # ... its short RR within this of each other
    pattern_repeats: int = 3  # ... over this many earlier periods
    pattern_rise: float = 0.05  # the pause after a pattern ectopic: this much longer
    pattern_pause: float = 0.05  # trigeminy: the pause this much longer than the RR before the short one
    trend_step: float = 0.15  # an RR this close to a normal predecessor follows the trend
    history: int = 10


@dataclass(frozen=True, slots=True)
class LabelledBeat:
    """One beat with the RR ending at it, raw, and its label.

    ``index`` counts beats as fed (0-based), ``t`` is the beat time in seconds, ``rr_ticks`` the
    raw RR in 1/1024 s, ``ref_ticks`` the reference RR used to judge it (float ticks).
    """

    index: int
    t: float
    rr_ticks: int
    label: BeatLabel
    ref_ticks: float
    after_gap: bool = False

    @property
    def rr_ms(self) -> float:
        return self.rr_ticks * 1000.0 / TICKS_PER_SECOND

    @property
    def is_nn(self) -> bool:
        return self.label.is_nn


def _repeats(cfg: ArtefactConfig, rr: float, nxt: float, hist: Sequence[tuple[float, BeatLabel]]) -> bool:
    """``rr`` ends a run of bigeminy or trigeminy: a short-long pattern with period 2 or 3.

    Over the last ``pattern_repeats`` + 1 periods (the next RR included), the RR at this beat's
    phase are all shorter than every other RR by more than ``pattern_gap`` and agree with each
    other within ``pattern_match``. Sinus arrhythmia changes RR smoothly over a breath of 3-6
    beats and beat-to-beat jitter does not keep one phase short, so neither passes; a bigeminy
    with only 4 % prematurity does, although no single beat of it is far from its neighbours.
    """
    n = len(hist)
    seq = [r for r, _ in hist] + [rr, nxt]  # at most history + 2 values
    k = n  # this beat's index in seq
    for period in (2, 3):
        need = period * cfg.pattern_repeats
        if n < need + 1:
            return False
        dips = range(k - need, k + 1, period)
        if not all(seq[i] < (1 - cfg.pattern_gap) * 0.5 * (seq[i - 1] + seq[i + 1]) for i in dips):
            continue
        shorts = [seq[i] for i in dips]
        if max(shorts) > (1 + cfg.pattern_match) * min(shorts):
            continue
        if period == 2:
            return True
        # Trigeminy: each short RR is followed by a compensatory pause longer than the RR before
        # it; breathing at three beats a breath (sinus arrhythmia) has no such pause.
        if all(seq[i + 1] > (1 + cfg.pattern_pause) * seq[i - 1] for i in range(k - need, k + 1, period)):
            return True
    return False


def _decide_far(cfg: ArtefactConfig, rr: float, prev: float | None, nxt: float | None,
                ref: float, prev_flagged: bool) -> BeatLabel:
    """Rules for an RR far from the reference (short, extra, ectopic, missed, long)."""
    x = rr / ref
    rises = nxt is not None and nxt > (1 + cfg.rise) * rr
    if x < 1 - cfg.short:
        if (prev_flagged and prev is not None and prev / ref < 1 - cfg.short
                and abs((rr + prev) / ref - 1) < cfg.multiple_tol):
            return BeatLabel.EXTRA  # second half of a split interval
        if rises and nxt is not None and abs((rr + nxt) / ref - round((rr + nxt) / ref)) >= cfg.multiple_tol:
            return BeatLabel.ECTOPIC
        if nxt is not None and nxt / ref < 1 - cfg.short and abs((rr + nxt) / ref - 1) < cfg.multiple_tol:
            return BeatLabel.EXTRA
        return BeatLabel.ECTOPIC if rises else BeatLabel.SHORT
    m = round(x)
    if m >= 2 and abs(x - m) < cfg.multiple_tol * m / 2 and not prev_flagged:
        return BeatLabel.MISSED
    return BeatLabel.LONG


def _decide(cfg: ArtefactConfig, rr: float, nxt: float | None, ref: float,
            hist: Sequence[tuple[float, BeatLabel]]) -> BeatLabel:
    """The one decision both the live and the offline classifier use.

    ``hist`` holds the RR and labels of the beats before this one since the last gap (oldest
    first), ``nxt`` the next RR or None when no look-ahead is available.
    """
    prev = hist[-1][0] if hist else None
    prev_label = hist[-1][1] if hist else BeatLabel.NORMAL
    prev_flagged = not prev_label.is_nn
    x = rr / ref
    rises = nxt is not None and nxt > (1 + cfg.rise) * rr
    if x < 1 - cfg.short or x > 1 + cfg.long:
        follows = (prev is not None and not prev_flagged and abs(rr / prev - 1) < cfg.trend_step
                   and not rises)
        if not follows:
            return _decide_far(cfg, rr, prev, nxt, ref, prev_flagged)
    if rises and prev is not None and rr < (1 - cfg.drop) * prev:
        return BeatLabel.ECTOPIC
    if rises and x < 1 - cfg.premature:
        return BeatLabel.ECTOPIC
    if nxt is not None and _repeats(cfg, rr, nxt, hist):
        return BeatLabel.ECTOPIC
    if prev is not None and prev_flagged and x < 1 - cfg.premature and rr < (1 - cfg.rise) * prev:
        return BeatLabel.ECTOPIC  # premature again right after a pause: no time to recover
    if prev is not None and prev_flagged and rr > (1 + cfg.rise) * prev:
        return BeatLabel.LONG
    if prev is not None and prev_label is BeatLabel.ECTOPIC and rr > (1 + cfg.pattern_rise) * prev:
        return BeatLabel.LONG
    if (prev_flagged and prev is not None and prev / ref < 1 - cfg.short
            and abs((rr + prev) / ref - 1) < cfg.multiple_tol):
        return BeatLabel.EXTRA
    return BeatLabel.NORMAL


class ArtefactClassifier:
    """Streaming labeller: ``push(t, rr_ticks, after_gap)`` returns the beats whose label is final.

    Each beat is labelled when the next one arrives (one beat of delay); :meth:`flush` labels the
    last pending beat without look-ahead (at the end of a recording or before a gap).
    """

    def __init__(self, config: ArtefactConfig | None = None) -> None:
        self.cfg = config or ArtefactConfig()
        self._normals: deque[int] = deque(maxlen=self.cfg.ref_beats)
        self._pending: tuple[int, float, int, bool] | None = None  # index, t, rr, after_gap
        self._hist: deque[tuple[float, BeatLabel]] = deque(maxlen=self.cfg.history)  # since the last gap
        self._run: deque[int] = deque(maxlen=self.cfg.reset_run)
        self._count = 0
        self._startup: list[tuple[int, float, int, bool]] = []

    @property
    def reference_ticks(self) -> float | None:
        return float(median(self._normals)) if self._normals else None

    def push(self, t: float, rr_ticks: int, after_gap: bool = False) -> list[LabelledBeat]:
        rr_ticks = int(rr_ticks)
        if rr_ticks <= 0:
            raise ValueError(f"RR must be a positive number of ticks, got {rr_ticks}")
        idx = self._count
        self._count += 1
        out: list[LabelledBeat] = []
        if after_gap and self._pending is not None:
            out.extend(self._label_pending(None))
        if not self._normals:
            # Start-up: collect three beats, seed the reference from their pair means, then label them.
            self._startup.append((idx, t, rr_ticks, after_gap))
            if len(self._startup) < STARTUP_BEATS:
                return out
            self._seed()
            beats, self._startup = self._startup, []
            for b in beats:
                out.extend(self._advance(b))
            return out
        out.extend(self._advance((idx, t, rr_ticks, after_gap)))
        return out

    def _seed(self) -> None:
        # Median of pair means, not of RR: with frequent ectopics (bigeminy) the RR median is an
        # ectopic coupling interval, while short + pause pairs still average the sinus interval.
        rr = [r for _, _, r, _ in self._startup]
        pairs = [(a + b) / 2 for a, b in zip(rr[:-1], rr[1:], strict=True)] or rr
        self._normals.extend([int(round(median(pairs)))] * 3)

    def _advance(self, beat: tuple[int, float, int, bool]) -> list[LabelledBeat]:
        out: list[LabelledBeat] = []
        if beat[3] and self._pending is not None:
            out.extend(self._label_pending(None))
        if self._pending is not None:
            out.extend(self._label_pending(beat[2]))
        if beat[3]:
            self._hist.clear()
        self._pending = beat
        return out

    def flush(self) -> list[LabelledBeat]:
        """Label what is still pending, without look-ahead."""
        out: list[LabelledBeat] = []
        if self._startup:
            self._seed()
            beats, self._startup = self._startup, []
            for b in beats:
                out.extend(self._advance(b))
        if self._pending is not None:
            out.extend(self._label_pending(None))
        return out

    def _label_pending(self, nxt: int | None) -> list[LabelledBeat]:
        assert self._pending is not None
        idx, t, rr, gap = self._pending
        self._pending = None
        ref = float(median(self._normals))
        label = _decide(self.cfg, rr, nxt, ref, self._hist)
        if gap and label is BeatLabel.NORMAL:
            label = BeatLabel.GAP
        flagged = not label.is_nn
        if flagged:
            self._run.append(rr)
            if len(self._run) >= self.cfg.reset_run:
                runs = list(self._run)
                pair_means = [(a + b) / 2 for a, b in zip(runs[:-1], runs[1:], strict=True)]
                self._normals.clear()
                self._normals.extend([int(round(median(pair_means)))] * 3)
                self._run.clear()
        else:
            self._run.clear()
            self._normals.append(rr)
        self._hist.append((rr, label))
        return [LabelledBeat(idx, t, rr, label, ref, gap)]


def classify_series(rr_ticks: Sequence[int], beat_t: Sequence[float] | None = None,
                    after_gap: Sequence[bool] | None = None,
                    config: ArtefactConfig | None = None) -> list[LabelledBeat]:
    """Offline pass over a whole recording with the same decision as the live classifier.

    Beat times default to the cumulative sum of the RR. Labels are identical to feeding the beats
    one by one through :class:`ArtefactClassifier` and flushing at the end (the look-ahead the
    offline pass could use beyond that buys nothing measurable on MIT-BIH, and keeping one
    decision means a review shows exactly what the live loop saw).
    """
    clf = ArtefactClassifier(config)
    if beat_t is None:
        acc = 0
        beat_t = []
        for r in rr_ticks:
            acc += int(r)
            beat_t.append(acc / TICKS_PER_SECOND)
    out: list[LabelledBeat] = []
    for i, r in enumerate(rr_ticks):
        out.extend(clf.push(beat_t[i], int(r), bool(after_gap[i]) if after_gap is not None else False))
    out.extend(clf.flush())
    return out


def corrected_series(beats: Sequence[LabelledBeat]) -> tuple[list[float], list[float]]:
    """Time-preserving corrected series ``(beat_t, rr_ticks)`` for spectra (see module docstring).

    Flagged runs are replaced by equal intervals; ``gap`` beats start a new segment (their RR is
    kept). Returns float ticks.
    """
    t_out: list[float] = []
    rr_out: list[float] = []
    run: list[LabelledBeat] = []

    def close_run() -> None:
        if not run:
            return
        total = sum(b.rr_ticks for b in run)
        ref = run[0].ref_ticks
        m = max(1, round(total / ref))
        end_t = run[-1].t
        step = total / m
        for j in range(m):
            t_out.append(end_t - (m - 1 - j) * step / TICKS_PER_SECOND)
            rr_out.append(step)
        run.clear()

    for b in beats:
        if b.is_nn:
            close_run()
            t_out.append(b.t)
            rr_out.append(float(b.rr_ticks))
        else:
            if b.after_gap:
                close_run()
            run.append(b)
    close_run()
    return t_out, rr_out
