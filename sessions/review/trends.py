"""Trends over days and weeks: per session the calm change, RMSSD at rest, resonance rate and minutes
practised, as rows (table/JSON) and a figure. Damaged files are left out with a warning, never fatal.

Replays of a recording (``run --replay``) are someone's recorded heart, not the user's own practice: the
record's source says so, and they are left out of the trends unless asked for (``include_replays``)."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from sessions.diary import iso_week
from sessions.errors import UserError
from sessions.events import EventKind, StepKind
from sessions.events import RatingWhen
from sessions.review.record import load_record
from sessions.review import subjective_trends
from sessions.review.subjective import ratings
from sessions.store import data_dir, SUFFIX

log = logging.getLogger(__name__)


@dataclass
class TrendRow:
    id: str
    started: datetime | None
    script: str | None
    minutes: float
    calm_change: float | None   # calm at the end minus at the start (50 = the session's own baseline)
    rmssd_rest: float | None    # RMSSD during the quiet start
    resonance_rate: float | None
    source: str = "?"           # 'ble', 'simulated', 'replay' (the record's meta)
    title: str | None = None    # the exercise's title as recorded (in the session's language)
    sud_before: int | None = None  # the person's own distress rating, 0-10 (see sessions.ratings)
    sud_after: int | None = None
    vividness: int | None = None

    def shown_title(self, lang: str) -> str:
        """The exercise as a reader of ``lang`` knows it ("Een veilige plek"), not its id."""
        from sessions.exercises.titles import script_title

        return script_title(self.script, lang, self.title)

    @property
    def own(self) -> bool:
        """A session the user practised (a replay of a recording is not)."""
        return self.source != "replay"

    def to_json(self) -> dict[str, Any]:
        r = lambda v, n=1: None if v is None else round(v, n)
        return {"id": self.id, "started_at": self.started.isoformat() if self.started else None, "script": self.script,
                "minutes": r(self.minutes), "calm_change": r(self.calm_change), "rmssd_rest_ms": r(self.rmssd_rest),
                "resonance_rate": r(self.resonance_rate, 2), "source": self.source, "own": self.own,
                "sud_before": self.sud_before, "sud_after": self.sud_after, "vividness": self.vividness}


def trend_row(path: Path) -> TrendRow:
    rec = load_record(path)
    calm = rec.metrics["calm"][~np.isnan(rec.metrics["calm"])]
    change = None
    if len(calm) >= 4:
        k = max(1, len(calm) // 20)
        change = float(np.mean(calm[-k:]) - np.mean(calm[:k]))
    rest = None
    for _t, _k, d in rec.events_of(EventKind.BASELINE):
        if isinstance(d.get("rmssd_ms"), (int, float)) and math.isfinite(d["rmssd_ms"]):
            rest = float(d["rmssd_ms"])
    if rest is None and rec.phases and rec.phases[0].kind == StepKind.BASELINE:
        rest = rec.phases[0].means.get("rmssd_ms")
    rate = None
    for _t, _k, d in rec.events_of(EventKind.RESONANCE_RATE):
        if isinstance(d.get("rate"), (int, float)):
            rate = float(d["rate"])
    if rate is None and isinstance(rec.meta.get("resonance_rate_used"), (int, float)):
        rate = float(rec.meta["resonance_rate_used"])
    src = rec.meta.get("source")
    source = str((src.get("kind") if isinstance(src, dict) else src) or "?")
    title = rec.meta.get("title")
    rated = ratings(rec)
    before, after = rated.get(RatingWhen.BEFORE), rated.get(RatingWhen.AFTER)
    return TrendRow(rec.id, rec.started, rec.meta.get("script"), rec.duration_s / 60.0, change, rest, rate, source,
                    title if isinstance(title, str) and title else None, before.sud if before else None,
                    after.sud if after else None, after.vividness if after else None)


def trend_rows() -> list[TrendRow]:
    """Every readable session in the data folder, in order (replays included: see :attr:`TrendRow.own`)."""
    folder = data_dir()
    rows = []
    for path in sorted(folder.glob(f"*{SUFFIX}")) if folder.exists() else []:
        try:
            rows.append(trend_row(path))
        except UserError as err:
            log.warning("left out of the trends: %s", err)
    return rows


def weekly_minutes(rows: list[TrendRow]) -> list[tuple[str, float]]:
    weeks: dict[str, float] = {}
    for r in rows:
        if r.started is None:
            continue
        key = iso_week(r.started)
        weeks[key] = weeks.get(key, 0.0) + r.minutes
    return sorted(weeks.items())


MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
COLOURS = ("#1e8449", "#2471a3", "#7d3c98", "#b9770e", "#c0392b", "#17a589", "#5d6d7e", "#a04000")


MIN_SPAN = {"calm_change": 20.0, "rmssd_rest": 10.0, "resonance_rate": 1.0}
"""The least a panel's axis spans, so two sessions 0.01 ms apart do not look like a swing (units of the panel)."""


def _at_least(ax, span: float) -> None:
    lo, hi = ax.get_ylim()
    if hi - lo < span:
        mid = (lo + hi) / 2
        ax.set_ylim(mid - span / 2, mid + span / 2)


def trends_figure(rows: list[TrendRow], lang: str, weekly_summary: list[dict[str, Any]] | None = None):
    """Calm change, RMSSD at rest, (when any session assessed it) resonance rate, and minutes per week.

    Each exercise has its own marker and colour (legend on top); a grey line joins the sessions in time.
    The date axis spans at least a week, so one session sits in a readable week, not in a span of years.
    """
    from datetime import timedelta

    import matplotlib.dates as mdates
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    from sessions.review.words import say

    dated = [r for r in rows if r.started is not None]
    panels = [("calm_change", "calm_change_col"), ("rmssd_rest", "rmssd_rest")]
    if any(r.resonance_rate is not None for r in dated):  # no empty panel without an assessment
        panels.append(("resonance_rate", "resonance"))
    sud = subjective_trends.has_sud(dated)
    fig = Figure(figsize=(9, 2.1 * (len(panels) + 1 + sud) + 0.9), dpi=100)
    axes = list(fig.subplots(len(panels) + 1 + sud, 1))
    fig.suptitle(say(lang, "trends_title"), fontsize=13, weight="bold")
    scripts = list(dict.fromkeys(r.shown_title(lang) for r in dated))
    style = {sc: (MARKERS[i % len(MARKERS)], COLOURS[i % len(COLOURS)]) for i, sc in enumerate(scripts)}
    if dated:
        when = [r.started for r in dated if r.started is not None]
        first, last = min(when), max(when)
        pad = max(timedelta(days=3.5) - (last - first) / 2, (last - first) * 0.05, timedelta(hours=12))
        span = (first - pad, last + pad)
    for ax, (attr, word) in zip(axes, panels):
        pts = [(r.started, getattr(r, attr), r.shown_title(lang)) for r in dated if getattr(r, attr) is not None]
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], "-", color="#bbbbbb", lw=1, zorder=1)
            for sc in scripts:
                mine = [p for p in pts if p[2] == sc]
                if mine:
                    m, c = style[sc]
                    ax.plot([p[0] for p in mine], [p[1] for p in mine], m, color=c, ms=6, zorder=2, linestyle="none")
        ax.set_ylabel(say(lang, word), fontsize=8)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=7)
        if dated:
            ax.set_xlim(*span)
            locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))  # the same in both languages
    axes[0].axhline(0, color="#999999", lw=0.8)
    subjective_trends.draw_band(axes[1], dated, lang)
    for ax, (attr, _word) in zip(axes, panels):
        _at_least(ax, MIN_SPAN.get(attr, 0.0))
    if sud:
        ax = axes[len(panels)]
        subjective_trends.draw_sud(ax, dated, lang)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=7)
        if dated:
            ax.set_xlim(*span)
            ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=8))
            ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
    if scripts:
        handles = [Line2D([], [], marker=style[sc][0], color=style[sc][1], linestyle="none", ms=6, label=sc)
                   for sc in scripts]
        fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.955), ncol=min(4, len(scripts)),
                   fontsize=8, frameon=False, title=say(lang, "exercise"), title_fontsize=8)
    weeks = weekly_minutes(dated)
    axes[-1].bar([w for w, _ in weeks], [m for _, m in weeks], color="#7f8c8d", width=0.6)
    if weekly_summary:
        subjective_trends.draw_weekly_extras(axes[-1], [w for w, _ in weeks], weekly_summary, lang)
    if len(weeks) < 4:
        axes[-1].set_xlim(-2, 2 + len(weeks) - 1)  # a bar or two, not one bar filling the panel
    axes[-1].set_ylabel(say(lang, "practised"), fontsize=8)
    axes[-1].set_xlabel(say(lang, "week"), fontsize=8)
    axes[-1].tick_params(labelsize=7)
    fig.subplots_adjust(hspace=0.5, top=0.85 if len(scripts) <= 4 else 0.82, bottom=0.08)
    return fig
