"""Trends over sessions: one row per session, in order, and the figure."""

from __future__ import annotations

import json


from sessions.cli import main


def test_trends_rows_and_figure(data_dir, tmp_path, capsys):
    assert main(["trends", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["sessions"] == []
    for seed in ("1", "2"):
        assert main(["run", "--simulate", "--speed", "1000", "--duration", "240", "--seed", seed,
                     "--script", "safe-place-bedtime"]) == 0
    (data_dir / "sessions" / "29990101-000000.biofeedback.sqlite").write_bytes(b"")  # damaged: left out
    capsys.readouterr()
    assert main(["trends", "--json", "-o", str(tmp_path / "t.png")]) == 0
    out = capsys.readouterr().out
    rows = json.loads(out[: out.rindex("}") + 1])["sessions"]
    assert len(rows) == 2 and rows[0]["started_at"] <= rows[1]["started_at"]
    for r in rows:
        assert 3.5 < r["minutes"] < 6 and r["rmssd_rest_ms"] > 5 and r["calm_change"] is not None
    assert (tmp_path / "t.png").read_bytes()[:4] == b"\x89PNG"


def test_trends_figure_one_session_no_assessment_and_replays_not_yours(data_dir, tmp_path, capsys, polar_h10_file,
                                                                     monkeypatch):
    """One own session: no empty resonance panel, a date axis of about a week (not years); a replay of a
    recording is left out (and said so) unless asked for; each exercise has its own marker."""
    from datetime import timedelta

    import matplotlib.dates as mdates

    from sessions.review.trends import trend_rows, trends_figure

    assert main(["run", "--simulate", "--speed", "1000", "--duration", "120", "--seed", "3"]) == 0
    assert main(["run", "--replay", str(polar_h10_file), "--speed", "1000"]) == 0
    capsys.readouterr()
    assert main(["trends", "--json"]) == 0
    out = capsys.readouterr().out
    rows = json.loads(out[: out.rindex("}") + 1])["sessions"]
    assert [r["source"] for r in rows] == ["simulated"] and rows[0]["own"] is True
    assert main(["trends"]) == 0
    assert "1 replay of a recording is left out" in capsys.readouterr().out
    assert main(["trends", "--json", "--include-replays"]) == 0
    assert sorted(r["source"] for r in json.loads(capsys.readouterr().out)["sessions"]) == ["replay", "simulated"]

    own = [r for r in trend_rows() if r.own]
    fig = trends_figure(own, "en")
    assert len(fig.axes) == 3, "calm, RMSSD and minutes; no resonance panel without an assessment"
    lo, hi = fig.axes[0].get_xlim()
    assert 6 <= hi - lo <= 9, "one session sits in a week-wide axis"
    assert lo < mdates.date2num(own[0].started) < hi
    fig.savefig(tmp_path / "one.png")

    # two exercises: two markers, a legend naming both, and the resonance panel once a rate is known
    other = own[0].__class__(**{**own[0].__dict__, "id": "x", "script": "coat-rack", "resonance_rate": 6.0,
                                "started": own[0].started + timedelta(days=2)})
    fig = trends_figure([own[0], other], "nl")
    assert len(fig.axes) == 4
    markers = {line.get_marker() for line in fig.axes[0].get_lines() if line.get_linestyle() == "None"}
    assert len(markers) == 2
    # ... named by the exercises' Dutch titles for a Dutch reader, not by their ids (issue 16)
    from sessions.exercises import load_script

    titles = {load_script(own[0].script, "nl").title, load_script("coat-rack", "nl").title}
    assert {t.get_text() for t in fig.legends[0].get_texts()} == titles and "Een veilige plek" in titles
    monkeypatch.setenv("COLUMNS", "160")  # a title on one line, as in a terminal of 120 columns and more
    assert main(["trends", "--lang", "nl"]) == 0
    table = capsys.readouterr().out
    assert "Een veilige plek" in table and "safe-place" not in table


def test_two_sessions_a_hair_apart_do_not_look_like_a_swing():
    """RMSSD at rest 27.416 and 27.425 ms: the axis spans at least 10 ms, not 0.01 ms."""
    from datetime import datetime, timedelta

    from sessions.review.trends import TrendRow, trends_figure

    day = datetime(2026, 3, 2, 21, 0)
    rows = [TrendRow(id=f"s{i}", started=day + timedelta(days=i), script="safe-place", minutes=11.0,
                     calm_change=30.0 + i / 100, rmssd_rest=27.416 + i * 0.009, resonance_rate=6.0, source="simulated")
            for i in range(2)]
    fig = trends_figure(rows, "nl")
    spans = [ax.get_ylim()[1] - ax.get_ylim()[0] for ax in fig.axes[:3]]
    assert spans[0] >= 20 and spans[1] >= 10 and spans[2] >= 1.0
