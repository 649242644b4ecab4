"""The per-phase table: mean HR, RMSSD, SDNN, coherence and calm per step, with the change against
the quiet start (the baseline phase), which is what "did I settle, and when" is measured against."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sessions import metric_registry as registry
from sessions.events import StepKind
from sessions.phases import Phase
from sessions.review.record import Record
from sessions.review.words import say

COLUMNS = tuple(m.key for m in registry.PER_PHASE)
"""The registry's ``per_phase`` metrics; those marked ``change`` also get a column against the quiet start."""
CALM_AT_BASELINE = 50.0
CALM = "calm"
WORD_OF = {"hr_bpm": "hr", "rmssd_ms": "rmssd", "sdnn_ms": "sdnn", "pacer_rate": "pacer_rate"}
"""Registry keys whose review word (``sessions.review.words``) carries the unit already."""


@dataclass
class PhaseRow:
    name: str
    kind: str
    start: float
    end: float
    means: dict[str, float | None]
    change: dict[str, float | None]  # mean minus the baseline phase's mean (None in the baseline itself)

    @property
    def minutes(self) -> float:
        return (self.end - self.start) / 60.0

    def to_json(self) -> dict[str, Any]:
        r = lambda v: None if v is None else round(v, 3)
        return {"phase": self.name, "kind": self.kind, "start_s": round(self.start, 1), "end_s": round(self.end, 1),
                **{k: r(v) for k, v in self.means.items()}, **{f"{k}_change": r(v) for k, v in self.change.items()}}


def phase_rows(record: Record) -> list[PhaseRow]:
    base = next((p for p in record.phases if p.kind == StepKind.BASELINE), None)
    rows = []
    for p in record.phases:
        change: dict[str, float | None] = {}
        for key in COLUMNS:
            v, b = p.means.get(key), base.means.get(key) if base else None
            if key == CALM and b is None and base is not None:
                b = CALM_AT_BASELINE  # the calm score is defined as 50 at the person's baseline
            change[key] = None if (p is base or v is None or b is None) else v - b
        rows.append(PhaseRow(p.name, p.kind, p.start, p.end, {k: p.means.get(k) for k in COLUMNS}, change))
    return rows


def calm_at_start(rows: list[PhaseRow]) -> float | None:
    """The calm score "at the start", defined once for the summary, the table and the plot: the quiet
    start's mean, which is 50 by definition when the quiet start has no calm values of its own."""
    base = next((r for r in rows if r.kind == StepKind.BASELINE), None)
    if base is not None:
        v = base.means.get(CALM)
        return CALM_AT_BASELINE if v is None else v
    return next((r.means[CALM] for r in rows if r.means.get(CALM) is not None), None)


def phase_label(row_or_name: PhaseRow | Phase | str, lang: str) -> str:
    """How a person reads a phase name: the quiet start in the reader's language (the record keeps it in
    the session's), steps by their title (older records have only the step id)."""
    if isinstance(row_or_name, (PhaseRow, Phase)) and row_or_name.kind == StepKind.BASELINE:
        return say(lang, "baseline_phase")
    name = row_or_name.name if isinstance(row_or_name, (PhaseRow, Phase)) else row_or_name
    return say(lang, "baseline_phase") if name == StepKind.BASELINE else name.replace("-", " ")


def fmt(value: float | None, spec: str = "{:.0f}", signed: bool = False) -> str:
    if value is None:
        return "–"
    text = spec.format(value)
    if text.lstrip("-").strip("0.,") == "":  # "-0" and "-0.0" are read as zero
        text = text.lstrip("-")
    if signed and value >= 0 and not text.startswith("-"):
        text = "+" + text
    return text.replace("-", "−")


def table_cells(rows: list[PhaseRow], lang: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows as text, shared by the report and the review window."""
    vs = say(lang, "vs_baseline")
    header = [say(lang, "phase"), say(lang, "from_min"), say(lang, "minutes")]
    for m in registry.PER_PHASE:
        header += [table_title(m, lang)] + ([vs] if m.change else [])
    body = []
    for r in rows:
        cells = [phase_label(r, lang), f"{r.start / 60:.1f}", f"{r.minutes:.1f}"]
        for m in registry.PER_PHASE:
            value = r.means.get(m.key)
            if m.key == CALM and value is None and r.kind == StepKind.BASELINE:
                value = CALM_AT_BASELINE  # as calm_at_start: the same number in summary, table and plot
            cells.append(fmt(value, m.fmt))
            if m.change:
                cells.append(fmt(r.change.get(m.key), m.fmt, signed=True))
        body.append(cells)
    return header, body


def table_title(m: registry.MetricSpec, lang: str) -> str:
    """A column's title: the review's own word where it has one (e.g. "heart rate (bpm)"), else the registry's."""
    word = say(lang, WORD_OF.get(m.key, m.key))
    return word if word != WORD_OF.get(m.key, m.key) else m.titled(lang)
