"""The subjective side of the trends, next to the HRV: distress before → after and vividness per session and
per exercise, nightmares per week from the diary, adherence to the plan ("5 of 7 days"), and the person's own
norm band (median and interquartile range of their resting RMSSD over the last weeks).

Why a norm band of their own: population norms say little about one person (RMSSD varies several-fold between
healthy people); a session is read against the person's own usual range, and the band moves with them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import mean
from typing import TYPE_CHECKING, Any

import numpy as np

from sessions.diary import DiaryEntry, iso_week, weekly

if TYPE_CHECKING:
    from sessions.plan import Plan
    from sessions.review.trends import TrendRow

NORM_WEEKS = 4
NORM_MIN_SESSIONS = 3
SUD_BEFORE, SUD_AFTER = "#c0392b", "#2471a3"

WORDS = {
    "en": {"sud": "distress 0-10\n(before ○, after ●)", "nightmares": "nightmares\nper week", "band": "your usual range",
           "adherence": "practised"},
    "nl": {"sud": "spanning 0-10\n(voor ○, na ●)", "nightmares": "nachtmerries\nper week", "band": "je gewone bereik",
           "adherence": "geoefend"},
}


@dataclass(frozen=True)
class NormBand:
    median: float
    low: float
    high: float
    sessions: int
    since: datetime

    def to_json(self) -> dict[str, Any]:
        return {"metric": "rmssd_rest_ms", "median": round(self.median, 1), "q1": round(self.low, 1),
                "q3": round(self.high, 1), "sessions": self.sessions, "weeks": NORM_WEEKS,
                "since": self.since.date().isoformat()}


def norm_band(rows: Sequence[TrendRow]) -> NormBand | None:
    """Median and IQR of the resting RMSSD over the last :data:`NORM_WEEKS` weeks before the latest session
    (None with fewer than :data:`NORM_MIN_SESSIONS` such sessions: too few to call anything usual)."""
    dated = [r for r in rows if r.started is not None and r.rmssd_rest is not None and r.own]
    if not dated:
        return None
    latest = max(r.started for r in dated if r.started is not None)
    since = latest - timedelta(weeks=NORM_WEEKS)
    values = [float(r.rmssd_rest) for r in dated if r.started is not None and r.started > since and r.rmssd_rest]
    if len(values) < NORM_MIN_SESSIONS:
        return None
    q1, med, q3 = np.percentile(values, [25, 50, 75])
    return NormBand(float(med), float(q1), float(q3), len(values), since)


def _mean(values: list[int]) -> float | None:
    return round(mean(values), 1) if values else None


def weeks(rows: Sequence[TrendRow], diary: list[DiaryEntry], plan: Plan | None) -> list[dict[str, Any]]:
    """Per ISO week: minutes, sessions, mean distress before and after, vividness, nightmares and their
    intensity (diary), and the days practised of the plan's days."""
    from sessions.plan import adherence

    out: dict[str, dict[str, Any]] = {}
    by_week: dict[str, list[TrendRow]] = {}
    for r in rows:
        if r.started is not None:
            by_week.setdefault(iso_week(r.started.date()), []).append(r)
    for key, got in by_week.items():
        out[key] = {"week": key, "sessions": len(got), "minutes": round(sum(r.minutes for r in got), 1),
                    "sud_before": _mean([r.sud_before for r in got if r.sud_before is not None]),
                    "sud_after": _mean([r.sud_after for r in got if r.sud_after is not None]),
                    "vividness": _mean([r.vividness for r in got if r.vividness is not None])}
        if plan is not None:
            first = min(r.started for r in got if r.started is not None)
            practised = [(r.started, r.script) for r in got if r.started is not None]
            a = adherence(plan, practised, first.date())
            out[key]["adherence"] = {"done_days": a.done, "planned_days": a.planned, "text": a.text()}
    for key, n, intensity, nights in weekly(diary):
        row = out.setdefault(key, {"week": key, "sessions": 0, "minutes": 0.0})
        row.update({"nightmares": n, "nightmare_intensity": None if intensity is None else round(intensity, 1),
                    "diary_nights": nights})
    return [out[k] for k in sorted(out)]


def per_exercise(rows: Sequence[TrendRow], lang: str) -> list[dict[str, Any]]:
    """Per exercise: sessions, minutes, mean distress before and after and its mean change, vividness."""
    groups: dict[str, list[TrendRow]] = {}
    for r in rows:
        groups.setdefault(r.script or "?", []).append(r)
    out = []
    for script, got in groups.items():
        pairs = [r.sud_after - r.sud_before for r in got if r.sud_before is not None and r.sud_after is not None]
        out.append({"script": script, "title": got[0].shown_title(lang), "sessions": len(got),
                    "minutes": round(sum(r.minutes for r in got), 1),
                    "sud_before": _mean([r.sud_before for r in got if r.sud_before is not None]),
                    "sud_after": _mean([r.sud_after for r in got if r.sud_after is not None]),
                    "sud_change": _mean(pairs), "vividness": _mean([r.vividness for r in got if r.vividness is not None])})
    return out


def trends_json(rows: Sequence[TrendRow], lang: str, diary: list[DiaryEntry], plan: Plan | None) -> dict[str, Any]:
    band = norm_band(rows)
    return {"sessions": [r.to_json() for r in rows], "per_exercise": per_exercise(rows, lang),
            "weeks": weeks(rows, diary, plan), "norm_band": band.to_json() if band else None,
            "plan": plan.to_json() if plan else None}


def word(lang: str, key: str) -> str:
    return WORDS.get(lang, WORDS["en"])[key]


def draw_band(ax: Any, rows: Sequence[TrendRow], lang: str) -> None:
    band = norm_band(rows)
    if band is not None:
        ax.axhspan(band.low, band.high, color="#85c1e9", alpha=0.25, lw=0, zorder=0, label=word(lang, "band"))
        ax.axhline(band.median, color="#5dade2", lw=0.8, ls=":", zorder=0)
        ax.legend(loc="upper left", fontsize=7, frameon=False)


def draw_sud(ax: Any, rows: Sequence[TrendRow], lang: str) -> None:
    """Distress before (open) and after (filled) each session, joined by a line: down is calmer."""
    for r in rows:
        if r.started is None:
            continue
        if r.sud_before is not None and r.sud_after is not None:
            ax.plot([r.started, r.started], [r.sud_before, r.sud_after], color="#999999", lw=1, zorder=1)
        if r.sud_before is not None:
            ax.plot([r.started], [r.sud_before], "o", mfc="white", color=SUD_BEFORE, ms=6, zorder=2)
        if r.sud_after is not None:
            ax.plot([r.started], [r.sud_after], "o", color=SUD_AFTER, ms=6, zorder=2)
    ax.set_ylim(-0.5, 10.5)
    ax.set_ylabel(word(lang, "sud"), fontsize=8)


def has_sud(rows: Sequence[TrendRow]) -> bool:
    return any(r.sud_before is not None or r.sud_after is not None for r in rows)


def draw_weekly_extras(ax: Any, week_keys: list[str], summary: list[dict[str, Any]], lang: str) -> None:
    """On the minutes-per-week panel: the days practised of the plan over each bar, and nightmares per week
    on a second axis (diamonds)."""
    by_week = {w["week"]: w for w in summary}
    for i, key in enumerate(week_keys):
        a = by_week.get(key, {}).get("adherence")
        if a:
            ax.annotate(f"{a['done_days']}/{a['planned_days']}", (i, 0), xytext=(0, 2), textcoords="offset points",
                        ha="center", va="bottom", fontsize=7, color="#1e8449")
    nights = [(i, by_week[k]["nightmares"]) for i, k in enumerate(week_keys) if "nightmares" in by_week.get(k, {})]
    if nights:
        twin = ax.twinx()
        twin.plot([i for i, _ in nights], [n for _, n in nights], "D-", color="#7d3c98", ms=5, lw=1)
        twin.set_ylabel(word(lang, "nightmares"), fontsize=8, color="#7d3c98")
        twin.set_ylim(bottom=0)
        twin.tick_params(labelsize=7)
