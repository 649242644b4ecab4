"""The plain-language summary: a few sentences a non-specialist understands, and no medical claims.

Each sentence is chosen by a rule on the per-phase means and stated against the person's own starting
level (never against population norms: the numbers describe this session, not a person's health).
"""

from __future__ import annotations

from biofeedback.heart_rate import settled_from
from biofeedback.step_pacer import DistressSource
from sessions.events import EventKind, StepKind
from sessions.review.phase_table import CALM, PhaseRow, calm_at_start, phase_label
from sessions.review.record import Record
from sessions.review.subjective import rating_sentences
from sessions.review.words import say

SAME_BPM = 2.0
"""Heart-rate changes smaller than this are called 'close to the starting level' (beat noise and drift)."""
UNTRUSTED_SHARE = 0.20
"""Above this share of flagged beats the summary says the HRV numbers can't be trusted."""
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
        out += _heart_rate(record, level, hr, lang)
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
    start = calm_at_start(rows)
    last_calm = next((r for r in reversed(steps) if r.means.get(CALM) is not None), None)
    if start is not None and last_calm is not None:
        out.append(say(lang, "calm_change", a=start, b=last_calm.means[CALM], phase=f"‘{phase_label(last_calm, lang)}’"))
    out += _care(record, lang)
    out += rating_sentences(record, lang)
    share = flagged_share(record)
    if share is not None and share > UNTRUSTED_SHARE:
        out.append(say(lang, "untrusted", pct=100.0 * share, limit=100.0 * UNTRUSTED_SHARE))
    return out

def flagged_share(record: Record) -> float | None:
    """The share of labelled beats flagged as artefacts or irregular (None without labelled beats)."""
    labelled = int((record.labels != "").sum())
    return None if not labelled else float(record.artefact_mask.sum()) / labelled

def _heart_rate(record: Record, level: float, hr: list[tuple[PhaseRow, float]], lang: str) -> list[str]:
    """Settled below, rose above, or stayed close: whichever change from the starting level was the larger."""
    (lowest, low), (highest, high) = min(hr, key=lambda p: p[1]), max(hr, key=lambda p: p[1])
    down, up = level - low, high - level
    if down >= SAME_BPM and down >= up:
        out = [say(lang, "settled_below", d=down, phase=f"‘{phase_label(lowest, lang)}’")]
        when = _settled_from(record, level)
        if when is not None and when > 0:
            out.append(say(lang, "settled_when", m=max(1.0, when / 60.0)))
        return out
    if up >= SAME_BPM:
        return [say(lang, "settled_above", d=up, phase=f"‘{phase_label(highest, lang)}’")]
    return [say(lang, "settled_same", d=SAME_BPM)]

def _care(record: Record, lang: str) -> list[str]:
    """The body's distress and the person's own "this is too much" are told apart: a press is not a rise.
    Both are recorded as ``distress`` events (``source`` says which) when care begins."""
    body = [d for _t, _k, d in record.events_of(EventKind.DISTRESS) if d.get("source") != DistressSource.ASKED]
    asked = [d for _t, _k, d in record.events_of(EventKind.DISTRESS) if d.get("source") == DistressSource.ASKED]
    out = []
    if body:
        out.append(say(lang, "distress_note_one" if len(body) == 1 else "distress_note", n=len(body)))
    if asked:
        out.append(say(lang, "asked_note_one" if len(asked) == 1 else "asked_note", n=len(asked)))
    return out
