"""The timeline figure of the report (matplotlib, no display needed): the same picture as the window.

HR (with the artefact beats marked), RMSSD, coherence, calm and the pacer rate on one time axis in
minutes; the steps shaded and named; prompts as ticks, distress, grounding and link gaps marked.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sessions import metric_registry as registry
from sessions.events import NO_SIGNAL_S, EventKind
from sessions.review.phase_table import calm_at_start, phase_label, phase_rows, table_title
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
GAP = "#bdc3c7"
PAUSED = "#f7dc6f"
"""Paused stretches (between a pause and its resume), drawn as bands like the gaps."""
BASELINE_LINE = "#5d6d7e"
"""The dotted line of the person's starting level (HR and RMSSD of the quiet start, calm 50)."""
LABEL_FONT = 6.5
CHAR_EM = 0.62
"""A generous average character width in em, so an estimated label is never narrower than the drawn one."""


def fitted_labels(spans: list[tuple[float, float, str]], units_per_char: float) -> list[tuple[float, str]]:
    """(centre, text) of each phase label that fits inside its own phase: the whole name, else shortened
    with "…" (at least three letters), else left out. Labels inside their own phases never overlap."""
    out = []
    for a, b, text in spans:
        room = int((b - a) / units_per_char) - 1
        if room >= len(text):
            out.append(((a + b) / 2, text))
        elif room >= 4:
            out.append(((a + b) / 2, text[:room - 1].rstrip() + "…"))
    return out


def signal_gaps(record: Record) -> list[tuple[float, float]]:
    """(start, end) in s of every stretch without a signal, merged: a lost link, a stretch the strap's stream
    marked as lost, and any hole of more than :data:`NO_SIGNAL_S` between two beats (a replay with a hole
    has no link event at all)."""
    spans = list(record.link_gaps())
    for _t, _k, data in record.events_of(EventKind.LINK):
        a, b = data.get("start"), data.get("end")
        if data.get("state") == "gap" and isinstance(a, (int, float)) and isinstance(b, (int, float)) and b > a:
            spans.append((float(a), float(b)))
    bt = record.beat_t
    if len(bt) > 1:
        holes = np.flatnonzero(np.diff(bt) > NO_SIGNAL_S)
        spans += [(float(bt[i]), float(bt[i + 1])) for i in holes]
    merged: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def shown_series(record: Record, key: str, gaps: list[tuple[float, float]] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(t in s, values) of a metric as it is drawn: a missing value is a break in the line (NaN), never a ramp
    from the last known value to the next; nothing is drawn inside a stretch without signal, and a break is
    put in every such stretch (and wherever rows are far apart), so no line bridges it."""
    t = np.asarray(record.metric_t, dtype=float)
    y = np.array(record.metrics[key], dtype=float)
    gaps = signal_gaps(record) if gaps is None else gaps
    breaks = [(a + b) / 2 for a, b in gaps]
    for a, b in gaps:
        y[(t > a) & (t < b)] = np.nan
    if len(t) > 2:
        step = np.diff(t)
        far = np.flatnonzero(step > max(4.0 * float(np.median(step)), 3.0 * NO_SIGNAL_S))
        breaks += [float(t[i] + step[i] / 2) for i in far]
    if breaks:
        at = np.searchsorted(t, breaks)
        t, y = np.insert(t, at, breaks), np.insert(y, at, np.nan)
    return t, y


def pause_bands(record: Record) -> list[tuple[float, float]]:
    """(start, end) in s of every pause, until its resume (or the end)."""
    out, since = [], None
    for t, kind, _d in record.events_of(EventKind.PAUSE, EventKind.RESUME):
        if kind == EventKind.PAUSE and since is None:
            since = t
        elif kind == EventKind.RESUME and since is not None:
            out.append((since, t))
            since = None
    if since is not None:
        out.append((since, record.duration_s))
    return out


def baselines(record: Record) -> dict[str, float]:
    """The starting level per panel: the quiet start's HR and RMSSD, and calm "at the start" as the summary
    and the table define it (:func:`sessions.review.phase_table.calm_at_start`)."""
    out: dict[str, float] = {}
    hr = record.baseline_hr()
    if hr is not None:
        out["hr_bpm"] = hr
    for _t, _k, data in record.events_of(EventKind.BASELINE):
        if isinstance(data.get("rmssd_ms"), (int, float)):
            out["rmssd_ms"] = float(data["rmssd_ms"])
    calm = calm_at_start(phase_rows(record))
    if calm is not None:
        out["calm"] = calm
    return out


def instantaneous_hr(record: Record) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(divide="ignore"):
        return record.beat_t / 60.0, 60000.0 / np.maximum(record.rr_ms, 1.0)


def draw_timeline(fig, record: Record, lang: str, *, rect=(0.09, 0.06, 0.88, 0.9)) -> list:
    """Draws the panels into ``fig`` inside ``rect`` (left, bottom, width, height); returns the axes."""
    left, bottom, width, height = rect
    label_h = LABEL_FONT * 1.6 / 72 / fig.get_figheight()
    height -= label_h + 0.012
    n = len(PANELS)
    gap = 0.012
    h = (height - gap * (n - 1)) / n
    axes: list[Any] = []
    for i in range(n):
        ax = fig.add_axes((left, bottom + (n - 1 - i) * (h + gap), width, h), sharex=axes[0] if axes else None)
        axes.append(ax)
    end_min = max(record.duration_s / 60.0, 0.1)
    gaps = signal_gaps(record)
    irregular = record.irregular_stretches()
    levels = baselines(record)
    for ax, (key, colour) in zip(axes, PANELS):
        _backdrop(ax, record, gaps)
        if key in levels:
            ax.axhline(levels[key], color=BASELINE_LINE, lw=0.9, ls=":", zorder=2)
        for a, b in irregular:
            ax.axvspan(a / 60, b / 60, color=IRREGULAR, alpha=0.35, lw=0, zorder=1)
        t, y = shown_series(record, key, gaps)
        if key == STEPPED:
            if np.isfinite(y).any():
                ax.step(t / 60, y, where="post", color=colour, lw=1.5, zorder=3)
        else:
            ax.plot(t / 60, y, color=colour, lw=1.5, zorder=3)
        if key == BEATS_UNDER and len(record.beat_t):
            _beats(ax, record)
        ax.set_ylabel(table_title(registry.spec(key), lang).replace(" (", "\n("), fontsize=7)  # fits a short panel
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3, lw=0.5)
        ax.set_xlim(0, end_min)
        if ax is not axes[-1]:
            ax.tick_params(labelbottom=False)
    # the step names in a row of their own above the panels: never over the prompt marks or each other
    row = fig.add_axes((left, bottom + height + 0.012, width, label_h), sharex=axes[0])
    row.axis("off")
    per_char = end_min / (width * fig.get_figwidth()) * LABEL_FONT * CHAR_EM / 72
    spans = [(p.start / 60, p.end / 60, phase_label(p, lang)) for p in record.phases]
    for x, text in fitted_labels(spans, per_char):
        row.text(x, 0.5, text, ha="center", va="center", fontsize=LABEL_FONT, color="#34495e", clip_on=False)
    axes[0].set_xlim(0, end_min)
    axes[-1].set_xlabel(say(lang, "time_min"), fontsize=8)
    return axes


def _backdrop(ax, record: Record, gaps: list[tuple[float, float]]) -> None:
    """Phases shaded, stretches without signal greyed, distress and grounding marked."""
    for j, p in enumerate(record.phases):
        ax.axvspan(p.start / 60, p.end / 60, color=SHADES[j % 2], lw=0, zorder=0)
    for a, b in gaps:
        ax.axvspan(a / 60, b / 60, color=GAP, alpha=0.8, lw=0, zorder=1)
    for a, b in pause_bands(record):
        ax.axvspan(a / 60, b / 60, color=PAUSED, alpha=0.45, lw=0, zorder=1)
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
    if art.any():  # drawn at the edge when far outside, so none is hidden, and counted there
        ax.plot(bt[art], np.clip(bh[art], lo + 0.5, hi - 0.5), "x", ms=3, color="#000000", mew=0.7, zorder=4)
        above, below = off_scale(bh[art], lo, hi)
        for count, y, va, arrow in ((above, 0.97, "top", "↑"), (below, 0.03, "bottom", "↓")):
            if count:
                ax.text(0.995, y, f"{arrow} {count} × ", transform=ax.transAxes, ha="right", va=va, fontsize=6,
                        color="#000000", bbox={"fc": "white", "ec": "none", "alpha": 0.8, "pad": 0.5}, zorder=6)
    for t, _k, _d in record.events_of(EventKind.PROMPT):
        ax.plot([t / 60], [1.0], marker="v", ms=3, color="#5d6d7e", transform=ax.get_xaxis_transform(),
                clip_on=False, zorder=5)


def off_scale(values: np.ndarray, lo: float, hi: float) -> tuple[int, int]:
    """How many flagged beats lie above and below the plotted range (drawn at its edge)."""
    return int((values > hi - 0.5).sum()), int((values < lo + 0.5).sum())


def legend_text(lang: str) -> str:
    return say(lang, "legend", prompt=say(lang, "prompt"), artefact=say(lang, "artefact"), distress=say(lang, "distress"),
               grounding=say(lang, "grounding"), gap=say(lang, "link_gap"), irregular=say(lang, "irregular_band"),
               paused=say(lang, "paused_band"), level=say(lang, "level_line"), steps=say(lang, "step_shading"),
               off=say(lang, "off_scale"))
