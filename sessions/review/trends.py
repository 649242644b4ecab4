"""Trends over days and weeks: per session the calm change, RMSSD at rest, resonance rate and minutes
practised, as rows (table/JSON) and a figure. Damaged files are left out with a warning, never fatal."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from sessions.errors import UserError
from sessions.events import EventKind, StepKind
from sessions.review.record import load_record
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

    def to_json(self) -> dict[str, Any]:
        r = lambda v, n=1: None if v is None else round(v, n)
        return {"id": self.id, "started_at": self.started.isoformat() if self.started else None, "script": self.script,
                "minutes": r(self.minutes), "calm_change": r(self.calm_change), "rmssd_rest_ms": r(self.rmssd_rest),
                "resonance_rate": r(self.resonance_rate, 2)}


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
    return TrendRow(rec.id, rec.started, rec.meta.get("script"), rec.duration_s / 60.0, change, rest, rate)


def trend_rows() -> list[TrendRow]:
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
        year, week, _ = r.started.isocalendar()
        key = f"{year}-W{week:02d}"
        weeks[key] = weeks.get(key, 0.0) + r.minutes
    return sorted(weeks.items())


def trends_figure(rows: list[TrendRow], lang: str):
    from matplotlib.figure import Figure

    from sessions.review.words import say

    fig = Figure(figsize=(9, 8), dpi=100)
    axes = fig.subplots(4, 1)
    fig.suptitle(say(lang, "trends_title"), fontsize=13, weight="bold")
    dated = [r for r in rows if r.started is not None]
    x = [r.started for r in dated]
    for ax, attr, word, colour in ((axes[0], "calm_change", "calm_change_col", "#1e8449"),
                                   (axes[1], "rmssd_rest", "rmssd_rest", "#2471a3"),
                                   (axes[2], "resonance_rate", "resonance", "#7d3c98")):
        pts = [(xi, getattr(r, attr)) for xi, r in zip(x, dated) if getattr(r, attr) is not None]
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", color=colour, ms=4)
        ax.set_ylabel(say(lang, word), fontsize=8)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=7)
    axes[0].axhline(0, color="#999999", lw=0.8)
    weeks = weekly_minutes(dated)
    axes[3].bar([w for w, _ in weeks], [m for _, m in weeks], color="#7f8c8d")
    axes[3].set_ylabel(say(lang, "practised"), fontsize=8)
    axes[3].set_xlabel(say(lang, "week"), fontsize=8)
    axes[3].tick_params(labelsize=7)
    fig.subplots_adjust(hspace=0.45, top=0.92, bottom=0.08)
    return fig
