"""The timeline figure of the report (matplotlib, no display needed): the same picture as the window.

HR (with the artefact beats marked), RMSSD, coherence, calm and the pacer rate on one time axis in
minutes; the steps shaded and named; prompts as ticks, distress, grounding and link gaps marked.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sessions import metric_registry as registry
from sessions.events import EventKind
from sessions.review.phase_table import phase_label, table_title
from sessions.review.record import Record
from sessions.review.words import say

PANELS = tuple((m.key, m.colour) for m in registry.REPORT)
"""(key, colour) of each panel: the registry's ``report`` metrics."""
SHADES = ("#f4f6f7", "#e8f0f8")
IRREGULAR = "#c39bd3"
"""Stretches of very irregular rhythm (left out of HRV)."""
STEPPED = "pacer_rate"
"""Drawn as steps (the pacer changes at breath ends), not as a line."""
BEATS_UNDER = "hr_bpm"
"""The panel under which every beat's heart rate is dotted, with artefacts marked."""
MARKS = {EventKind.DISTRESS: "#e74c3c", EventKind.GROUNDING: "#e67e22"}


def instantaneous_hr(record: Record) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(divide="ignore"):
        return record.beat_t / 60.0, 60000.0 / np.maximum(record.rr_ms, 1.0)


def draw_timeline(fig, record: Record, lang: str, *, rect=(0.09, 0.06, 0.88, 0.9)) -> list:
    """Draws the panels into ``fig`` inside ``rect`` (left, bottom, width, height); returns the axes."""
    left, bottom, width, height = rect
    n = len(PANELS)
    gap = 0.012
    h = (height - gap * (n - 1)) / n
    axes: list[Any] = []
    for i in range(n):
        ax = fig.add_axes((left, bottom + (n - 1 - i) * (h + gap), width, h), sharex=axes[0] if axes else None)
        axes.append(ax)
    end_min = max(record.duration_s / 60.0, 0.1)
    gaps = record.link_gaps()
    irregular = record.irregular_stretches()
    for ax, (key, colour) in zip(axes, PANELS):
        _backdrop(ax, record, gaps)
        for a, b in irregular:
            ax.axvspan(a / 60, b / 60, color=IRREGULAR, alpha=0.35, lw=0, zorder=1)
        y = record.metrics[key]
        ok = ~np.isnan(y)
        if key == STEPPED:
            if ok.any():
                ax.step(record.metric_t[ok] / 60, y[ok], where="post", color=colour, lw=1.5, zorder=3)
        else:
            ax.plot(record.metric_t[ok] / 60, y[ok], color=colour, lw=1.5, zorder=3)
        if key == BEATS_UNDER and len(record.beat_t):
            _beats(ax, record)
        ax.set_ylabel(table_title(registry.spec(key), lang), fontsize=7)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3, lw=0.5)
        ax.set_xlim(0, end_min)
        if ax is not axes[-1]:
            ax.tick_params(labelbottom=False)
    top = axes[0]
    for p in record.phases:
        if (p.end - p.start) / 60 >= end_min * 0.03:
            top.text((p.start + p.end) / 120, 1.08, phase_label(p.name, lang), transform=top.get_xaxis_transform(),
                     ha="center", va="bottom", fontsize=6.5, color="#34495e", clip_on=False)
    axes[-1].set_xlabel(say(lang, "time_min"), fontsize=8)
    return axes


def _backdrop(ax, record: Record, gaps: list[tuple[float, float]]) -> None:
    """Phases shaded, link gaps greyed, distress and grounding marked."""
    for j, p in enumerate(record.phases):
        ax.axvspan(p.start / 60, p.end / 60, color=SHADES[j % 2], lw=0, zorder=0)
    for a, b in gaps:
        ax.axvspan(a / 60, b / 60, color="#bdc3c7", alpha=0.8, lw=0, zorder=1)
    for kind, c in MARKS.items():
        for t, _k, _d in record.events_of(kind):
            ax.axvline(t / 60, color=c, lw=1.2, ls="--", zorder=2)


def _beats(ax, record: Record) -> None:
    """Every beat's heart rate dotted under the curve, artefacts as crosses, prompts as ticks on top."""
    bt, bh = instantaneous_hr(record)
    nn = record.nn_mask
    ax.plot(bt[nn], bh[nn], ".", ms=1.2, color="#e6b0aa", zorder=2)
    lo, hi = 30.0, 200.0
    valid = bh[nn]
    if len(valid) > 10:
        lo, hi = np.percentile(valid, [0.5, 99.5])
        lo, hi = lo - 5, hi + 5
        ax.set_ylim(lo, hi)
    art = record.artefact_mask
    if art.any():  # drawn at the edge when far outside, so none is hidden
        ax.plot(bt[art], np.clip(bh[art], lo + 0.5, hi - 0.5), "x", ms=3, color="#000000", mew=0.7, zorder=4)
    for t, _k, _d in record.events_of(EventKind.PROMPT):
        ax.plot([t / 60], [1.0], marker="v", ms=3, color="#5d6d7e", transform=ax.get_xaxis_transform(),
                clip_on=False, zorder=5)


def legend_text(lang: str) -> str:
    return say(lang, "legend", prompt=say(lang, "prompt"), artefact=say(lang, "artefact"), distress=say(lang, "distress"),
               grounding=say(lang, "grounding"), gap=say(lang, "link_gap"), irregular=say(lang, "irregular_band"))
