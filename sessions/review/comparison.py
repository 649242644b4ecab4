"""Two tables a Kubios-minded reader looks for, from the recorded 5-s rows:

* the quiet start against the practice and the end (heart rate, RMSSD, SDNN, LF/HF, coherence and the
  time in high coherence): did the body settle, and did it stay settled;
* the resonance assessment per rate (LF power, the spectrum's peak, RMSSD, coherence, the heart rate's
  swing per breath), the chosen rate marked: why that rate was chosen.

Why from the 5-s rows and not re-analysed beats: they are what the person saw live and what the
phase table shows, so the report's numbers agree with each other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from biofeedback.coherence_zones import shares
from sessions.events import EventKind, StepKind
from sessions.review.record import Record
from sessions.review.words import say

END_S = 120.0
""""The end": the last two minutes before the closing step (or the session's end)."""
CLOSING = (StepKind.GROUNDING, StepKind.SLEEP)


@dataclass(frozen=True)
class Segment:
    key: str
    start: float
    end: float


def segments(record: Record) -> list[Segment]:
    """Quiet start, practice (every step between the quiet start and the closing), and the end of the practice."""
    base = next((p for p in record.phases if p.kind == StepKind.BASELINE), None)
    steps = [p for p in record.phases if p.kind not in (StepKind.BASELINE, *CLOSING)]
    out: list[Segment] = []
    if base is not None:
        out.append(Segment("cmp_quiet_start", base.start, base.end))
    if steps:
        start, end = steps[0].start, steps[-1].end
        out.append(Segment("cmp_practice", start, end))
        if end - start > 2 * END_S:
            out.append(Segment("cmp_end", end - END_S, end))
    return out


def _mean(record: Record, key: str, a: float, b: float) -> float | None:
    values = record.metrics.get(key)
    if values is None:
        return None
    sel = values[(record.metric_t >= a) & (record.metric_t < b)]
    sel = sel[np.isfinite(sel)]
    return float(sel.mean()) if len(sel) else None


def _lf_hf(record: Record, a: float, b: float) -> float | None:
    lf, hf = _mean(record, "lf_ms2", a, b), _mean(record, "hf_ms2", a, b)
    return lf / hf if lf is not None and hf else None


def _high_share(record: Record, a: float, b: float) -> float | None:
    coh = record.metrics.get("coherence")
    if coh is None:
        return None
    sel = coh[(record.metric_t >= a) & (record.metric_t < b)]
    got = shares(float(v) for v in sel)
    return None if got is None else got.in_coherence


def _fmt(value: float | None, pattern: str) -> str:
    return "–" if value is None or not math.isfinite(value) else pattern.format(value)


def comparison_table(record: Record, lang: str) -> tuple[list[str], list[list[str]]] | None:
    """(header, rows): one row per segment; None without a quiet start to compare with."""
    segs = segments(record)
    if len(segs) < 2:
        return None
    header = [say(lang, "cmp_part"), say(lang, "cmp_minutes"), say(lang, "cmp_hr"), "RMSSD (ms)", "SDNN (ms)", "LF/HF",
              say(lang, "cmp_coherence"), say(lang, "cmp_high")]
    body = []
    for s in segs:
        high = _high_share(record, s.start, s.end)
        body.append([say(lang, s.key), f"{(s.end - s.start) / 60:.1f}", _fmt(_mean(record, "hr_bpm", s.start, s.end), "{:.0f}"),
                     _fmt(_mean(record, "rmssd_ms", s.start, s.end), "{:.0f}"),
                     _fmt(_mean(record, "sdnn_ms", s.start, s.end), "{:.0f}"), _fmt(_lf_hf(record, s.start, s.end), "{:.2f}"),
                     _fmt(_mean(record, "coherence", s.start, s.end), "{:.2f}"),
                     _fmt(None if high is None else 100 * high, "{:.0f} %")])
    return header, body


def resonance_table(record: Record, lang: str) -> tuple[list[str], list[list[str]]] | None:
    """(header, rows): one row per rate tried, the chosen one marked; None without an assessment."""
    trials = record.events_of(EventKind.ASSESSMENT_TRIAL)
    if not trials:
        return None
    chosen_ev = record.events_of(EventKind.RESONANCE_RATE)
    chosen = chosen_ev[-1].data.get("rate") if chosen_ev else None
    header = [say(lang, "res_rate"), say(lang, "res_lf"), say(lang, "res_peak"), "RMSSD (ms)", say(lang, "cmp_coherence"),
              say(lang, "res_swing"), ""]
    body = []
    starts = [p for p in record.phases if p.kind == StepKind.ASSESSMENT]
    for ev in trials:
        rate = ev.data.get("rate")
        step = min(starts, key=lambda p: abs(p.end - ev.t)) if starts else None
        a, b = (step.start, step.end) if step is not None else (ev.t - 120.0, ev.t)
        peak_hz = _mean(record, "dominant_hz", a, b)
        body.append([_fmt(rate, "{:.1f}"), _fmt(_mean(record, "lf_ms2", a, b), "{:.0f}"),
                     _fmt(None if peak_hz is None else 60 * peak_hz, "{:.1f}"),
                     _fmt(_mean(record, "rmssd_ms", a, b), "{:.0f}"), _fmt(ev.data.get("coherence"), "{:.2f}"),
                     _fmt(ev.data.get("hr_peak_to_trough_bpm"), "{:.1f}"),
                     say(lang, "res_chosen") if chosen is not None and rate == chosen else ""])
    return header, body
