"""Whole-recording HRV (``biofeedback analyze``, the report): exact, any length, Kubios's set.

Exact by construction: RR come in as milliseconds (floats) at the resolution they were recorded
in (a file's ms or µs, a strap's 1/1024-s ticks converted exactly: ticks x 0.9765625 is a
binary fraction) and every metric is computed from those values. Only the ectopic-beat
classifier, which works on integer ticks, sees them rounded to 1/1024 s; it decides labels,
never values. ``correct=False`` therefore reproduces the textbook formulas on the series as
given (see ``docs/metrics.md``).

Everything is vectorised and O(N) or O(N log N) (spectra: :mod:`biofeedback.spectral`;
DFA, SampEn: :mod:`biofeedback.nonlinear`; histogram measures: :mod:`biofeedback.geometric`;
5-minute segments, SDANN, SDNN index: :mod:`biofeedback.long_term`), so a 24-hour Holter file
(100 000 beats) takes seconds and bounded memory. The classifier pass is the one per-beat loop;
``progress(done, total)`` is called every ``PROGRESS_EVERY`` beats of it.

Successive differences are taken between consecutive NN intervals only: never across a flagged
beat or a gap (``after_gap``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from biofeedback.artefacts import TICKS_PER_SECOND, ArtefactClassifier, ArtefactConfig, BeatLabel, LabelledBeat
from biofeedback.geometric import geometric_metrics
from biofeedback.long_term import Segments, sdann_sdnni, segments
from biofeedback.nonlinear import nonlinear_metrics
from biofeedback.rhythm import irregular_stretches, within
from biofeedback.spectral import DEFAULT_METHOD, frequency_metrics

FloatArray = NDArray[np.float64]
Progress = Callable[[int, int], None]
PROGRESS_EVERY = 10_000
NN50_MS = 50.0


@dataclass
class RecordingAnalysis:
    beats: list[LabelledBeat]
    metrics: dict[str, float]
    segments: Segments | None = None
    spectral_method: str = DEFAULT_METHOD

    @property
    def flagged(self) -> list[LabelledBeat]:
        return [b for b in self.beats if not b.is_nn]


def to_ticks(rr_ms: FloatArray) -> list[int]:
    """RR in whole 1/1024-s ticks (at least 1), for the classifier only."""
    ticks: list[int] = np.maximum(1, np.rint(rr_ms * (TICKS_PER_SECOND / 1000.0))).astype(np.int64).tolist()
    return ticks


def label_beats(rr_ms: FloatArray, beat_t: FloatArray, gaps: NDArray[np.bool_], correct: bool,
                config: ArtefactConfig | None = None, progress: Progress | None = None) -> list[LabelledBeat]:
    """Labels from the live classifier (same decision as :func:`classify_series`), or all normal."""
    ticks = to_ticks(rr_ms)
    t_list: list[float] = beat_t.tolist()
    g_list: list[bool] = gaps.tolist()
    n = len(ticks)
    if not correct:
        return [LabelledBeat(i, t_list[i], ticks[i], BeatLabel.GAP if g_list[i] else BeatLabel.NORMAL,
                             float(ticks[i]), g_list[i]) for i in range(n)]
    clf = ArtefactClassifier(config)
    out: list[LabelledBeat] = []
    for i in range(n):
        out.extend(clf.push(t_list[i], ticks[i], g_list[i]))
        if progress is not None and i % PROGRESS_EVERY == 0:
            progress(i, n)
    out.extend(clf.flush())
    if progress is not None:
        progress(n, n)
    return out


def time_metrics(rr: FloatArray, consecutive: NDArray[np.bool_]) -> dict[str, float]:
    """Mean NN, SDNN (ddof=1), RMSSD, pNN50 (|diff| > 50 ms, % of differences), mean HR."""
    n = len(rr)
    d = np.diff(rr)[consecutive[1:]] if n > 1 else np.zeros(0)
    mean = float(rr.mean()) if n else math.nan
    return {
        "mean_nn_ms": mean,
        "mean_hr_bpm": 60000.0 / mean if n else math.nan,
        "sdnn_ms": float(rr.std(ddof=1)) if n > 1 else math.nan,
        "rmssd_ms": float(np.sqrt(np.mean(d * d))) if len(d) else math.nan,
        "pnn50_pct": float(100.0 * np.count_nonzero(np.abs(d) > NN50_MS) / len(d)) if len(d) else math.nan,
        "n_diff": len(d),
    }


def recording_metrics(rr: FloatArray, t: FloatArray, gaps: NDArray[np.bool_], nn_mask: NDArray[np.bool_],
                      spectral_method: str = DEFAULT_METHOD) -> tuple[dict[str, float], Segments | None]:
    """Every whole-recording metric from RR (ms), beat times, gap flags and which beats are NN.

    The one place the metrics are computed: ``analyze`` (after labelling) and the session report
    (with the labels the live session recorded) both call it, so they show the same numbers.
    """
    nn = rr[nn_mask]
    # consecutive[k]: NN k and the NN before it are neighbours in the record, no gap between
    prev_nn = np.concatenate(([False], nn_mask[:-1]))
    consecutive_all = nn_mask & prev_nn & ~gaps
    consecutive = consecutive_all[nn_mask]
    metrics: dict[str, float] = {"n_beats": len(rr), "n_nn": len(nn), "duration_s": float(rr.sum() / 1000.0)}
    metrics.update(time_metrics(nn, consecutive))
    if not len(nn):
        return metrics, None
    metrics.update(geometric_metrics(nn))
    pairs = (rr[np.flatnonzero(consecutive_all) - 1], rr[consecutive_all])
    metrics.update(nonlinear_metrics(nn, pairs))
    metrics.update(frequency_metrics(t[nn_mask], nn, spectral_method))
    elapsed = t[nn_mask] - t[0] + rr[0] / 1000.0
    seg = segments(elapsed, nn, consecutive)
    sdann, sdnni = sdann_sdnni(seg)
    metrics.update({"n_segments": len(seg.n_nn), "sdann_ms": sdann, "sdnn_index_ms": sdnni})
    return metrics, seg


def analyze_recording(rr_ms: Sequence[float] | FloatArray, beat_t: Sequence[float] | FloatArray | None = None,
                      after_gap: Sequence[bool] | NDArray[np.bool_] | None = None, correct: bool = True,
                      config: ArtefactConfig | None = None, *, resolution_ms: float | None = None,
                      spectral_method: str = DEFAULT_METHOD,
                      progress: Progress | None = None) -> RecordingAnalysis:
    """Whole-recording metrics. ``correct=False``: the series exactly as given.

    ``rr_ms``: RR in ms at the recording's own resolution (``resolution_ms``, for display only).
    ``beat_t`` defaults to the cumulative sum of the RR (in seconds).
    """
    rr = np.asarray(rr_ms, dtype=float)
    if len(rr) == 0:
        raise ValueError("no RR intervals")
    if not np.all(rr > 0):
        raise ValueError("RR intervals must be positive")
    t = np.asarray(beat_t, float) if beat_t is not None else np.cumsum(rr) / 1000.0
    gaps = np.asarray(after_gap, bool) if after_gap is not None else np.zeros(len(rr), bool)
    beats = label_beats(rr, t, gaps, correct, config, progress)
    nn_mask = np.fromiter((b.is_nn for b in beats), bool, len(beats))
    # Stretches too irregular for HRV (atrial fibrillation) are left out of it, as in the live session.
    irregular = irregular_stretches(t.tolist(), rr.tolist()) if correct else []
    if irregular:
        nn_mask &= ~np.asarray(within(t.tolist(), irregular), dtype=bool)
    metrics, seg = recording_metrics(rr, t, gaps, nn_mask, spectral_method=spectral_method)
    metrics["irregular_stretches"] = len(irregular)
    metrics["irregular_s"] = float(sum(b - a for a, b in irregular))
    metrics["resolution_ms"] = resolution_ms if resolution_ms is not None else math.nan
    return RecordingAnalysis(beats, metrics, seg, spectral_method)
