"""Beat classes from the ECG itself: the person's running QRS template against each new beat, live.

Why: from RR alone a ventricular beat at sinus timing, a fusion beat or a junctional run is
invisible (about 3 % of MIT-BIH's ectopic beats, see ``bench/bench_artefacts.py``). The QRS shape
sees them: a ventricular beat is wide and differently shaped whatever its timing.

How, per beat (causal: each beat is labelled from what came before it and its own QRS):

- the detector of :mod:`biofeedback.ecg` finds the R peak; the ECG (high-passed at 0.5 Hz) from
  ``pre_s`` before to ``post_s`` after it is the beat, its level taken off by the median of its PR
  stretch;
- the **template** is the sample-wise median of the last ``template_beats`` beats of normal shape.
  It is learned at the start from the first ``learn_beats`` beats: the largest group of beats that
  look alike (correlation above ``same_corr``), the narrowest when several are about as large (in
  bigeminy half the beats are ventricular, and they are the wide ones). Thirty non-premature beats
  in a row of one new shape replace it (the strap moved);
- features against the template, aligned by the best correlation within ±``shift_s``: the QRS
  correlation, its width ratio (spread of the squared slope: continuous even at 130 Hz, where a QRS
  is 10-15 samples), amplitude and area ratios, the P-wave correlation (``pre_s`` to ``p_end_s``
  before R) and the prematurity: this RR over the median of the last 9 RR between normal beats;
- the label: ``Q`` (unclassifiable: amplitude or area far outside the template's: noise, a lost
  contact), ``V`` (ventricular: unlike the template and not a small beat, or unlike or wide and
  premature), ``F`` (fusion: premature and only partly unlike), ``S`` (supraventricular: a normal
  QRS after a different P wave, a little premature), else ``N``. Shape is only judged while the
  last ``quality_beats`` beats matched the template well (``quality``): in a noisy stretch every
  beat looks odd, and calling them ventricular was most of the false alarms (MIT-BIH 105, 108).

With the RR-only labels (:func:`usable_rr`): an interval is left out of the metrics when it starts
or ends at an ectopic beat by either; an RR-only flag between two beats the ECG calls clearly
normal (normal shape, not premature) is overruled, which removes most of its false alarms in sinus
arrhythmia (record 113). On MIT-BIH 100-124 without the paced records, detected beats, one setting
(``bench/bench_ecg.py``): RR-only 94.2 % sensitivity at 99.50 % specificity, ECG + RR 96.0 % at
99.55 %; held out (the AF records outside AF) 90.2 % / 89.9 % against 94.7 % / 97.0 %.

What it cannot see: a supraventricular beat of normal shape and P wave at sinus timing (record
124's junctional beats are most of what is missed), atrial beats with a P wave too small to tell
at 130 Hz (left to the RR classifier, which sees the pause after them). The thresholds are one
setting for everyone, chosen on MIT-BIH 100-124 at 130 Hz without the paced records; the AF
records are the held-out check.

Latency: a beat is labelled as soon as the detector reports it and its ``post_s`` samples are in
(the detector's own latency, about 0.3 s); nothing waits for the next beat.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy import signal

from biofeedback.ecg import EcgDetectorConfig, RPeak, RPeakDetector

FloatArray = NDArray[np.float64]
LABELS = ("N", "V", "S", "F", "Q")
ECTOPIC = frozenset({"V", "S", "F"})


@dataclass(frozen=True, slots=True)
class MorphologyConfig:
    """One setting for everyone (see the module docstring and ``bench/bench_ecg.py --classes-only``)."""

    pre_s: float = 0.25
    p_end_s: float = 0.07  # the P wave: from pre_s to this long before R
    post_s: float = 0.2
    qrs_s: tuple[float, float] = (0.08, 0.1)  # the QRS part of the beat (before, after R) for shape
    shift_s: float = 0.04
    learn_beats: int = 12
    template_beats: int = 15
    same_corr: float = 0.9  # alike (learning, a new normal shape)
    n_corr: float = 0.9  # a normal shape (and a template beat) from here up
    v_corr: float = 0.5  # a ventricular shape below this, whatever its timing ...
    v_amp: float = 0.7  # ... if it is not a small beat (a weak QRS in noise) ...
    v_width: float = 1.2  # ... or it is wide
    wide: float = 1.8  # wide: a ventricular beat when premature
    f_corr: float = 0.75  # premature and unlike (n_corr > corr >= f_corr): named fusion, not ventricular
    v_premature: float = 0.9  # premature enough for an unlike or wide beat to count
    quality: float = 0.85  # shape is judged only when the last quality_beats matched the template this well
    quality_beats: int = 8
    s_p_corr: float = 0.0  # a normal QRS with a different P wave (below this correlation) ...
    s_premature: float = 0.95  # ... and this premature: supraventricular
    s_p_amp: float = 0.04  # ... when the template has a P wave this large (share of the QRS): none in AF
    clear_premature: float = 0.85  # an RR-only flag is overruled between normal beats no more premature
    noise_low: float = 0.2
    noise_high: float = 4.0
    ref_beats: int = 9
    relearn_beats: int = 30  # this many non-N beats in a row at sinus timing and alike: a new normal shape


@dataclass(frozen=True, slots=True)
class EcgBeat:
    """One beat from the ECG: where it is, what it is, and why.

    ``index``/``t_s`` count from the first sample fed (plus any ``gap``); ``label`` is one of N V S F Q;
    ``ectopic`` is True for V, S, F. ``corr``/``width``/``amplitude``/``area`` compare the QRS with the
    template (1.0 = the same); ``prematurity`` is the RR ending here over the reference RR (None when
    there is none: the first beat, after a gap); ``rr_s`` that RR; ``search_back`` when the detector
    found the beat late.
    """

    index: int
    t_s: float
    label: str
    ectopic: bool
    corr: float = 1.0
    width: float = 1.0
    amplitude: float = 1.0
    area: float = 1.0
    polarity_flip: bool = False
    p_corr: float = 1.0
    quality: float = 1.0
    prematurity: float | None = None
    rr_s: float | None = None
    search_back: bool = False


@dataclass(slots=True)
class _Shape:
    corr: float
    p_corr: float
    width: float
    amplitude: float
    area: float
    flip: bool


def _width(x: FloatArray) -> float:
    """The QRS's spread in samples: the standard deviation of time weighted by the squared slope
    (continuous even at 130 Hz, where a QRS is 10-15 samples; the slow P and T waves and the unit
    hardly count)."""
    d = np.diff(x)
    w = d * d
    total = float(w.sum())
    if total <= 0:
        return 0.0
    k = np.arange(d.size, dtype=np.float64)
    mean = float((k * w).sum()) / total
    return float(np.sqrt(((k - mean) ** 2 * w).sum() / total))


def _corr(a: FloatArray, b: FloatArray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    den = float(np.sqrt(np.dot(a, a) * np.dot(b, b)))
    return float(np.dot(a, b)) / den if den > 0 else 0.0


@dataclass(slots=True)
class EcgBeatClassifier:
    """Feed ECG samples (µV or any unit, any chunk size); get labelled beats, in time order.

    ``clf = EcgBeatClassifier(fs)``; ``beats = clf.feed(samples)`` returns the beats labelled by
    these samples (each within about 0.3-0.4 s of its R peak); ``clf.gap(missing_s)`` after a break
    in the stream (the detector starts afresh, the template is kept, no RR is taken across it).
    """

    fs: float
    config: MorphologyConfig = field(default_factory=MorphologyConfig)
    detector_config: EcgDetectorConfig = field(default_factory=EcgDetectorConfig)
    _det: RPeakDetector = field(init=False)
    _offset: int = 0  # samples before the current detector's first sample (gaps)
    _n: int = 0  # samples fed in all (plus gaps)
    _hp: FloatArray = field(init=False)
    _hp_zi: FloatArray | None = None
    _buf: deque[float] = field(init=False)
    _pending: list[RPeak] = field(default_factory=list)
    _learning: list[tuple[RPeak, FloatArray, float | None]] = field(default_factory=list)
    _normals: deque[FloatArray] = field(init=False)
    _template: FloatArray | None = None
    _t_width: float = 1.0
    _t_pp: float = 0.0
    _t_area: float = 0.0
    _t_sign: float = 1.0
    _t_p: float = 0.0
    _rr_ref: deque[float] = field(init=False)
    _last_beat: int | None = None
    _last_label: str = "N"
    _odd_run: list[FloatArray] = field(default_factory=list)
    _recent_corr: deque[float] = field(init=False)
    _pre: int = 0
    _post: int = 0
    _q0: int = 0
    _q1: int = 0
    _shift: int = 1

    def __post_init__(self) -> None:
        self._det = RPeakDetector(self.fs, self.detector_config)
        self._hp = signal.butter(1, 0.5 / (self.fs / 2), btype="highpass", output="sos")
        c = self.config
        self._pre = round(c.pre_s * self.fs)
        self._post = round(c.post_s * self.fs)
        self._q0 = self._pre - round(c.qrs_s[0] * self.fs)
        self._q1 = self._pre + round(c.qrs_s[1] * self.fs) + 1
        self._shift = max(1, round(c.shift_s * self.fs))
        self._buf = deque(maxlen=round(3.0 * self.fs) + self._pre + self._post)
        self._normals = deque(maxlen=c.template_beats)
        self._rr_ref = deque(maxlen=c.ref_beats)
        self._recent_corr = deque(maxlen=c.quality_beats)

    # --- the stream -------------------------------------------------------------------------------
    def feed(self, samples: FloatArray | list[float]) -> list[EcgBeat]:
        x = np.asarray(samples, dtype=np.float64)
        step = round(self.fs)  # the beat buffer holds 3 s: a long chunk goes in by the second
        if x.size > step:
            return [b for start in range(0, x.size, step) for b in self._feed(x[start:start + step])]
        return self._feed(x)

    def _feed(self, x: FloatArray) -> list[EcgBeat]:
        if x.size == 0:
            return []
        if self._hp_zi is None:
            self._hp_zi = signal.sosfilt_zi(self._hp) * x[0]
        hp, self._hp_zi = signal.sosfilt(self._hp, x, zi=self._hp_zi)
        self._buf.extend(hp.tolist())
        self._n += x.size
        self._pending.extend(self._det.feed(x))
        out: list[EcgBeat] = []
        while self._pending:
            peak = self._pending[0]
            index = peak.index + self._offset
            if index + self._post >= self._n:
                break  # the end of its beat is not in yet
            self._pending.pop(0)
            out.extend(self._beat(index, peak.search_back))
        return out

    def gap(self, missing_s: float = 0.0) -> list[EcgBeat]:
        """A break in the stream: label what can be labelled, restart detection, keep the template.

        ``missing_s`` (if known) keeps ``index``/``t_s`` on the caller's clock across the break.
        """
        out: list[EcgBeat] = []
        for peak in self._pending:
            out.extend(self._beat(peak.index + self._offset, peak.search_back))
        self._pending = []
        self._n += max(0, round(missing_s * self.fs))
        self._offset = self._n
        self._det = RPeakDetector(self.fs, self.detector_config)
        self._hp_zi = None
        self._buf.clear()
        self._last_beat = None
        return out

    def flush(self) -> list[EcgBeat]:
        """At the end of a recording: label the beats still waiting (and any still being learned)."""
        out = self.gap()
        if self._template is None and self._learning:
            out.extend(self._learn(force=True))
        return out

    # --- one beat -------------------------------------------------------------------------------
    def _cut(self, index: int) -> FloatArray | None:
        end = self._n  # one past the newest sample
        lo = len(self._buf) - (end - (index - self._pre))
        hi = lo + self._pre + self._post + 1
        if lo < 0 or hi > len(self._buf):
            return None
        x = np.fromiter((self._buf[i] for i in range(lo, hi)), float, hi - lo)
        return x - float(np.median(x[: max(1, self._q0)]))

    def _beat(self, index: int, search_back: bool) -> list[EcgBeat]:
        x = self._cut(index)
        if x is None:
            return []
        rr = None if self._last_beat is None else (index - self._last_beat) / self.fs
        self._last_beat = index
        if self._template is None:
            self._learning.append((RPeak(index, index / self.fs, search_back), x, rr))
            return self._learn(force=False) if len(self._learning) >= self.config.learn_beats else []
        return [self._label(index, search_back, x, rr)]

    def _learn(self, force: bool) -> list[EcgBeat]:
        """The first template: the largest group of alike beats (the narrower of two about as large)."""
        shapes = [x[self._q0:self._q1] for _, x, _ in self._learning]
        n = len(shapes)
        if n == 0:
            return []
        sim = np.array([[_corr(a, b) for b in shapes] for a in shapes])
        groups = [np.flatnonzero(sim[i] >= self.config.same_corr) for i in range(n)]
        widths = [_width(s) for s in shapes]
        best = max(range(n), key=lambda i: (len(groups[i]) >= 0.8 * max(len(g) for g in groups),
                                            -widths[i], len(groups[i])))
        if len(groups[best]) < 3 and not force:
            del self._learning[0]  # nothing alike yet (noise at the start): wait for more beats
            return []
        for i in groups[best]:
            self._normals.append(self._learning[int(i)][1])
        self._update_template()
        learned, self._learning = self._learning, []
        return [self._label(p.index, p.search_back, x, rr) for p, x, rr in learned]

    def _update_template(self) -> None:
        t = np.median(np.stack(list(self._normals)), axis=0)
        q = t[self._q0:self._q1]
        self._template = t
        self._t_width = max(0.5, _width(q))
        self._t_pp = float(q.max() - q.min()) or 1.0
        self._t_area = float(np.abs(q).sum()) or 1.0
        self._t_sign = 1.0 if q.max() >= -q.min() else -1.0
        pw = t[: self._pre - round(self.config.p_end_s * self.fs)]
        self._t_p = float(pw.max() - pw.min()) / self._t_pp

    def _shape(self, x: FloatArray) -> _Shape:
        assert self._template is not None
        tq = self._template[self._q0:self._q1]
        best, shift = -2.0, 0
        for s in range(-self._shift, self._shift + 1):
            lo, hi = self._q0 + s, self._q1 + s
            if lo < 0 or hi > x.size:
                continue
            c = _corr(x[lo:hi], tq)
            if c > best:
                best, shift = c, s
        q = x[self._q0 + shift:self._q1 + shift]
        sign = 1.0 if q.max() >= -q.min() else -1.0
        a, b = max(0, -shift), self._pre - round(self.config.p_end_s * self.fs)  # the P wave, aligned as the QRS
        p_corr = _corr(x[a + shift:b + shift], self._template[a:b])
        return _Shape(best, p_corr, _width(q) / self._t_width, float(q.max() - q.min()) / self._t_pp,
                      float(np.abs(q).sum()) / self._t_area, sign != self._t_sign)

    def _label(self, index: int, search_back: bool, x: FloatArray, rr: float | None) -> EcgBeat:
        sh = self._shape(x)
        ref = float(np.median(self._rr_ref)) if self._rr_ref else None
        prem = rr / ref if rr is not None and ref else None
        quality = float(np.median(self._recent_corr)) if self._recent_corr else 1.0
        label = self._decide(sh, 1.0 if prem is None else prem, quality)
        if prem is None or prem >= self.config.v_premature:
            self._recent_corr.append(sh.corr)  # on-time beats only: a run of ectopics is not noise
        self._learn_from(label, x, rr, prem, sh)
        return EcgBeat(index, index / self.fs, label, label in ECTOPIC, round(sh.corr, 3), round(sh.width, 3),
                       round(sh.amplitude, 3), round(sh.area, 3), sh.flip, round(sh.p_corr, 3), round(quality, 3),
                       None if prem is None else round(prem, 3), rr, search_back)

    def _decide(self, sh: _Shape, prem: float, quality: float) -> str:
        """The label from the shape features, the prematurity and how well recent beats matched."""
        c = self.config
        if sh.amplitude < c.noise_low or sh.amplitude > c.noise_high or sh.area > c.noise_high:
            return "Q"
        if quality >= c.quality:  # recent beats match the template: a different shape means something
            if sh.corr < c.v_corr and (sh.amplitude > c.v_amp or sh.width > c.v_width):
                return "V"
            if prem < c.v_premature and (sh.corr < c.n_corr or sh.width > c.wide):
                return "V" if sh.corr < c.f_corr or sh.width > c.wide else "F"
        if sh.corr >= c.n_corr and sh.p_corr < c.s_p_corr and prem < c.s_premature and self._t_p >= c.s_p_amp:
            return "S"
        return "N"

    def _learn_from(self, label: str, x: FloatArray, rr: float | None, prem: float | None, sh: _Shape) -> None:
        """Keep the template and the RR reference current; adopt a new normal shape when one lasts."""
        if label in ("N", "S") and sh.corr >= self.config.n_corr:
            self._normals.append(x)
            self._update_template()
            self._odd_run = []
        elif label in ("V", "F") and prem is not None and abs(prem - 1) < 0.15:
            self._odd_run.append(x)  # not premature: maybe the strap moved, maybe a slow ventricular run
            if len(self._odd_run) >= self.config.relearn_beats:
                run = self._odd_run
                if min(_corr(run[0][self._q0:self._q1], r[self._q0:self._q1]) for r in run) >= self.config.same_corr:
                    self._normals.clear()
                    self._normals.extend(run[-self.config.template_beats:])
                    self._update_template()
                self._odd_run = []
        else:
            self._odd_run = []
        if rr is not None and label == "N" and self._last_label == "N":
            self._rr_ref.append(rr)
        self._last_label = label


def classify_ecg(ecg: FloatArray | list[float], fs: float, config: MorphologyConfig | None = None,
                 chunk: int = 73) -> list[EcgBeat]:
    """The live classifier over a whole signal in notification-sized chunks (same labels as live)."""
    clf = EcgBeatClassifier(fs, config or MorphologyConfig())
    x = np.asarray(ecg, dtype=np.float64)
    out: list[EcgBeat] = []
    for start in range(0, x.size, chunk):
        out.extend(clf.feed(x[start:start + chunk]))
    out.extend(clf.flush())
    return sorted(out, key=lambda b: b.index)


_DEFAULT_CONFIG = MorphologyConfig()


def is_clear_normal(beat: EcgBeat, config: MorphologyConfig | None = None) -> bool:
    """The ECG is sure this is a normal sinus beat on time (normal shape, not premature): an RR-only flag
    on the RR ending here, when the beat before is such a beat too, is sinus arrhythmia (the live loop and
    :func:`usable_rr` overrule it)."""
    cfg = config or _DEFAULT_CONFIG
    return (beat.label == "N" and beat.corr >= cfg.n_corr
            and (beat.prematurity is None or beat.prematurity >= cfg.clear_premature))


def usable_rr(beats: Sequence[EcgBeat], rr_flagged: Sequence[bool] | None = None,
              config: MorphologyConfig | None = None) -> list[bool]:
    """Which RR between consecutive beats are NN intervals: ``out[k]`` is for beat k to beat k+1.

    Not usable: an RR that ends at an ectopic beat or starts at one (the coupling interval and the
    compensatory pause), or touches an unclassifiable beat. ``rr_flagged[k]`` is the RR-only label
    of the same interval (:mod:`biofeedback.artefacts`, which sees the pause after an atrial beat
    the QRS cannot show); it is followed unless both beats are clearly normal sinus beats by their
    ECG, which is where RR-only errs (sinus arrhythmia).
    """
    cfg = config or MorphologyConfig()
    out: list[bool] = []
    for k in range(len(beats) - 1):
        a, b = beats[k], beats[k + 1]
        bad = b.ectopic or a.ectopic or a.label == "Q" or b.label == "Q"
        if not bad and rr_flagged is not None and rr_flagged[k]:
            bad = not (is_clear_normal(a, cfg) and is_clear_normal(b, cfg))
        out.append(not bad)
    return out


GAP_S = 0.5
"""A jump in the time axis longer than this is a break in the recording (no RR is taken across it)."""


@dataclass
class EcgAnalysis:
    """A whole ECG's beats and the RR between them, ready for the whole-recording HRV.

    ``beats`` are in time order, ``beat_t[k]`` their times (s, on the caller's time axis). The RR
    lists hold one entry per pair of consecutive beats within one stretch of recording:
    ``rr_ms[i]`` ends at beat ``rr_beat[i]`` at ``rr_t[i]``; ``after_gap[i]`` marks the first RR
    after a break (no successive difference across it); ``usable[i]`` is True for an NN interval
    (:func:`usable_rr` of the ECG classes and the RR-only labels ``rr_flagged``).
    """

    beats: list[EcgBeat]
    beat_t: list[float]
    rr_ms: list[float]
    rr_t: list[float]
    rr_beat: list[int]
    after_gap: list[bool]
    usable: list[bool]
    rr_flagged: list[bool]


def analyze_ecg(samples: FloatArray | list[float], fs: float, times: FloatArray | list[float] | None = None,
                config: MorphologyConfig | None = None, chunk: int = 73) -> EcgAnalysis:
    """Detect and classify every beat of a recorded ECG, and label the RR between them.

    ``times`` (s per sample) places the beats on the recording's own clock and shows breaks (a jump
    of more than ``GAP_S``): the classifier is told of each (:meth:`EcgBeatClassifier.gap`), and no RR
    spans one. Without it the samples are taken as one unbroken stretch at ``fs``. The same code as
    live, so a file gives the labels a live session would have shown.
    """
    from biofeedback.artefacts import TICKS_PER_SECOND, classify_series

    x = np.asarray(samples, dtype=np.float64)
    t = np.arange(x.size) / fs if times is None else np.asarray(times, dtype=np.float64)
    if t.size != x.size:
        raise ValueError("one time per sample")
    starts = [0, *(np.flatnonzero(np.diff(t) > GAP_S) + 1).tolist()]
    ends = [*starts[1:], x.size]
    clf = EcgBeatClassifier(fs, config or MorphologyConfig())
    beats: list[EcgBeat] = []
    for a, b in zip(starts, ends, strict=True):
        if a:
            beats.extend(clf.gap())
        for c in range(a, b, chunk):
            beats.extend(clf.feed(x[c:min(b, c + chunk)]))
    beats.extend(clf.flush())
    beats.sort(key=lambda bt: bt.index)
    beats = [bt for bt in beats if bt.index < x.size]
    beat_t = [float(t[bt.index]) for bt in beats]
    stretch = np.searchsorted(np.asarray(starts), [bt.index for bt in beats], side="right") - 1
    pairs = [k for k in range(1, len(beats)) if stretch[k] == stretch[k - 1] and beat_t[k] > beat_t[k - 1]]
    rr_ms = [(beat_t[k] - beat_t[k - 1]) * 1000.0 for k in pairs]
    after_gap = [i > 0 and pairs[i - 1] != k - 1 for i, k in enumerate(pairs)]
    ticks = [max(1, round(ms * TICKS_PER_SECOND / 1000.0)) for ms in rr_ms]
    labelled = classify_series(ticks, [beat_t[k] for k in pairs], after_gap)
    flagged_by_pair = {k: not lb.is_nn for k, lb in zip(pairs, labelled, strict=True)}
    all_flags = [flagged_by_pair.get(k, False) for k in range(1, len(beats))]
    usable_all = usable_rr(beats, all_flags, config)
    return EcgAnalysis(beats, beat_t, rr_ms, [beat_t[k] for k in pairs], pairs, after_gap,
                       [usable_all[k - 1] for k in pairs], [flagged_by_pair[k] for k in pairs])
