"""The plain-language summary: a few sentences a non-specialist understands, and no medical claims.

Each sentence is chosen by a rule on the per-phase means and stated against the person's own starting
level (never against population norms: the numbers describe this session, not a person's health).
"""

from __future__ import annotations

import numpy as np

from biofeedback.heart_rate import settled_from
from sessions.events import EventKind, StepKind
from sessions.review.phase_table import PhaseRow, phase_label
from sessions.review.record import Record
from sessions.review.words import say

SAME_BPM = 2.0
"""Heart-rate changes smaller than this are called 'close to the starting level' (beat noise and drift)."""
SETTLED_HOLD_S = 60.0
"""'Settled from minute m': HR stays below the starting level for at least this long from then on."""


def _settled_from(record: Record, level: float) -> float | None:
    """First time from which the 5-s heart rate stayed below ``level`` for ``SETTLED_HOLD_S``."""
    return settled_from(record.metric_t, record.metrics["hr_bpm"], level - SAME_BPM / 2, SETTLED_HOLD_S)


def plain_summary(record: Record, rows: list[PhaseRow], lang: str) -> list[str]:
    """Sentences for the top of the report (and the window's status line)."""
    if len(record.beat_t) < 30 or not rows:
        return [say(lang, "no_data")]
    out: list[str] = []
    level = record.baseline_hr()
    steps = [r for r in rows if r.kind != StepKind.BASELINE and r.means["hr_bpm"] is not None]
    hr = [(r, float(r.means["hr_bpm"] or 0.0)) for r in steps]
    if level is not None and hr:
        lowest, low = min(hr, key=lambda p: p[1])
        d = level - low
        if d >= SAME_BPM:
            out.append(say(lang, "settled_below", d=d, phase=f"‘{phase_label(lowest, lang)}’"))
            when = _settled_from(record, level)
            if when is not None and when > 0:
                out.append(say(lang, "settled_when", m=max(1.0, when / 60.0)))
        elif max(abs(level - v) for _, v in hr) < SAME_BPM:
            out.append(say(lang, "settled_same", d=SAME_BPM))
        else:
            highest, high = max(hr, key=lambda p: p[1])
            out.append(say(lang, "settled_above", d=high - level, phase=f"‘{phase_label(highest, lang)}’"))
    rmssd = [(r, r.means["rmssd_ms"]) for r in rows]
    first = next((v for _, v in rmssd if v is not None), None)
    last = next((r.means["rmssd_ms"] for r in reversed(steps) if r.means["rmssd_ms"] is not None), None)
    first_row = next((r for r, v in rmssd if v is not None), None)
    last_row = next((r for r in reversed(steps) if r.means["rmssd_ms"] is not None), None)
    if first is not None and last is not None and first_row is not last_row:
        if last > first * 1.1:
            out.append(say(lang, "rmssd_up", a=first, b=last))
        elif last < first * 0.9:
            out.append(say(lang, "rmssd_down", a=first, b=last))
    coh = [(r, float(r.means["coherence"] or 0.0)) for r in steps if r.means["coherence"] is not None]
    if coh:
        out.append(say(lang, "coh_best", phase=f"‘{phase_label(max(coh, key=lambda p: p[1])[0], lang)}’"))
    calm = record.metrics["calm"][~np.isnan(record.metrics["calm"])]
    if len(calm) >= 4:
        k = max(1, len(calm) // 20)
        out.append(say(lang, "calm_change", a=float(np.mean(calm[:k])), b=float(np.mean(calm[-k:]))))
    distress = record.events_of(EventKind.DISTRESS)
    if distress:
        out.append(say(lang, "distress_note", n=len(distress)))
    return out
