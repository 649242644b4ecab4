"""The subjective side of the trends: distress before → after per session and exercise, the diary's nightmares
per week, the plan's days practised, and the person's own norm band of resting RMSSD, in --json and the figure."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta

import pytest

from sessions.cli import main
from sessions.review.subjective_trends import norm_band, per_exercise, weeks
from sessions.review.trends import TrendRow
from sessions.diary import DiaryEntry
from sessions.plan import Plan

MON = datetime(2026, 1, 5, 20, 0)


def row(day: int, script: str, rmssd: float | None, before: int | None = None, after: int | None = None,
        vivid: int | None = None) -> TrendRow:
    return TrendRow(f"s{day}", MON + timedelta(days=day), script, 12.0, 5.0, rmssd, None, "ble", None,
                    before, after, vivid)


ROWS = [row(0, "safe-place", 30, 6, 3, 7), row(1, "safe-place", 34, 5, 4, 8), row(2, "coat-rack", 40, 4, None),
        row(8, "safe-place", 38, 7, 2, 6), row(40, "safe-place", 60, 3, 3)]


def test_the_norm_band_is_the_persons_own_median_and_iqr_over_the_last_weeks():
    assert norm_band(ROWS) is None  # 40 days on, only one session lies in the last four weeks
    band = norm_band(ROWS[:4])
    assert band is not None and band.sessions == 4
    assert (band.low, band.median, band.high) == pytest.approx((33.0, 36.0, 38.5))


def test_weeks_carry_distress_nightmares_and_days_practised_and_exercises_their_change():
    plan = Plan("safe-place", MON.time(), days=(0, 1, 2, 3, 4))
    diary = [DiaryEntry(MON.date(), 2, 8), DiaryEntry(MON.date() + timedelta(days=1), 0),
             DiaryEntry(MON.date() + timedelta(days=7), 1, 4)]
    got = {w["week"]: w for w in weeks(ROWS, diary, plan)}
    first = got["2026-W02"]
    assert first["sud_before"] == 5.0 and first["sud_after"] == 3.5 and first["adherence"]["text"] == "2 of 5 days"
    assert first["nightmares"] == 2 and first["nightmare_intensity"] == 8.0 and first["diary_nights"] == 2
    assert got["2026-W03"]["nightmares"] == 1 and got["2026-W03"]["adherence"]["done_days"] == 1
    ex = {e["script"]: e for e in per_exercise(ROWS, "en")}
    assert ex["safe-place"]["sessions"] == 4 and ex["safe-place"]["sud_change"] == pytest.approx(-2.2)
    assert ex["coat-rack"]["sud_change"] is None


def test_trends_json_and_figure_from_real_records(data_dir, tmp_path, capsys, monkeypatch):
    from sessions import rating_flow
    import builtins

    answers = iter(["6", "2", "7", ""] * 2)
    monkeypatch.setattr(rating_flow, "terminal_can_ask", lambda: True)
    monkeypatch.setattr(builtins, "input", lambda prompt="": next(answers))
    for seed in ("1", "2"):
        assert main(["run", "--simulate", "--speed", "1000", "--duration", "150", "--seed", seed, "--headless"]) == 0
    assert main(["diary", "add", "--nightmares", "3", "--intensity", "6"]) == 0
    assert main(["plan", "set", "--script", "safe-place", "--per-week", "3", "--at", "20:00"]) == 0
    capsys.readouterr()
    out = tmp_path / "trends.png"
    assert main(["trends", "--json", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    got = json.loads(text[: text.rindex("}") + 1])
    assert [(s["sud_before"], s["sud_after"], s["vividness"]) for s in got["sessions"]] == [(6, 2, 7)] * 2
    assert got["per_exercise"][0]["sud_change"] == -4.0
    this_week = got["weeks"][-1]
    assert this_week["adherence"]["text"] == "1 of 3 days"  # two sessions on one day are one day practised
    assert any(w.get("nightmares") == 3 for w in got["weeks"])
    assert got["plan"]["per_week"] == 3 and got["norm_band"] is None  # two sessions: too few for a usual range
    shots = os.environ.get("BIOFEEDBACK_SCREENSHOTS")
    if shots:
        (tmp_path / "trends.png").replace(os.path.join(shots, "trends-subjective.png"))
