"""The practice plan and the diary as a person uses them: set, show "n of m days", the reminder due or not on
the clock it is given, the systemd timer's text, notify-send called with the words, and the nightmare diary.

No notification daemon can run here (no session bus with a desktop), so notify-send is a small program on
PATH that writes down its arguments; the real notify-send takes the same ones."""

from __future__ import annotations

import json
import os
import stat
from datetime import date, datetime, time, timedelta

import pytest

from sessions.cli import main
from sessions.commands import plan as plan_cmd
from sessions.plan import Plan, adherence, crontab_line, due, on_calendar, timer_units

MON = datetime(2026, 1, 5, 8, 0)  # a Monday


def test_due_only_on_a_planned_day_after_the_time_and_until_practised():
    p = Plan("safe-place", time(19, 30), days=(0, 2, 4))
    done: list = []
    assert not due(p, done, MON.replace(hour=19, minute=29))
    assert due(p, done, MON.replace(hour=19, minute=30))
    assert not due(p, done, MON + timedelta(days=1, hours=12))  # Tuesday: not planned
    done = [(MON.replace(hour=7), "safe-place")]
    assert not due(p, done, MON.replace(hour=20))  # practised this morning
    assert due(p, [(MON.replace(hour=7), "train-ride")], MON.replace(hour=20))  # another exercise does not count


def test_days_a_week_remind_every_day_until_the_weeks_number_is_done():
    p = Plan("safe-place", time(9, 0), per_week=2)
    done = [(MON.replace(hour=10), "safe-place"), (MON + timedelta(days=1, hours=2), "safe-place")]
    assert due(p, done[:1], MON + timedelta(days=2, hours=4))
    assert not due(p, done, MON + timedelta(days=2, hours=4))
    assert adherence(p, done + [(MON.replace(hour=22), "safe-place")], MON.date()).text() == "2 of 2 days"
    week = Plan("safe-place", time(9, 0), days=tuple(range(7)))
    assert adherence(week, done, MON.date()).text("nl") == "2 van 7 dagen"


def test_the_timer_runs_plan_remind_at_the_planned_days_and_the_crontab_line_says_the_same():
    p = Plan("safe-place", time(19, 5), days=(0, 6))
    units = timer_units(p, ["/opt/bf/bin/biofeedback", "--client", "K7", "plan", "remind"], "biofeedback-practice-K7")
    timer = units["biofeedback-practice-K7.timer"]
    assert "OnCalendar=Mon,Sun *-*-* 19:05:00" in timer and "Persistent=true" in timer
    assert "ExecStart=/opt/bf/bin/biofeedback --client K7 plan remind" in units["biofeedback-practice-K7.service"]
    assert on_calendar(Plan("x", time(7, 0), per_week=3)) == "*-*-* 07:00:00"
    assert crontab_line(p, ["bf", "plan", "remind"]) == "5 19 * * 1,0 bf plan remind"


@pytest.fixture
def fake_notify(tmp_path, monkeypatch):
    folder = tmp_path / "bin"
    folder.mkdir()
    log = tmp_path / "notified.txt"
    prog = folder / "notify-send"
    prog.write_text(f"#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\" >> {log}; done\n")
    prog.chmod(0o700)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    return log


def test_plan_set_show_remind_and_clear_from_the_command_line(data_dir, fake_notify, monkeypatch, capsys):
    monkeypatch.setattr(plan_cmd, "_systemd_user", lambda: False)  # the crontab path; the timer text is tested above
    assert main(["plan", "set", "--script", "safe-place", "--days", "mo,di,we,th,fr,sa,su", "--at", "00:00",
                 "--remind"]) == 0
    out = capsys.readouterr().out
    assert "Planned: safe-place" in out and "crontab -e" in out and "plan remind" in out
    assert stat.S_IMODE(os.stat(data_dir / "plan.json").st_mode) == 0o600
    assert main(["plan", "remind"]) == 0  # planned every day from midnight, nothing done: due
    assert fake_notify.read_text().splitlines()[1] == "Time to practise"
    assert "safe-place is planned for 00:00" in fake_notify.read_text()
    assert main(["run", "--simulate", "--speed", "1000", "--duration", "120", "--headless"]) == 0
    capsys.readouterr()
    fake_notify.unlink()
    assert main(["plan", "remind"]) == 0 and not fake_notify.exists()  # done today: quiet
    assert main(["plan", "show", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["this_week"]["done_days"] == 1 and shown["this_week"]["planned_days"] == 7 and not shown["due_now"]
    assert main(["plan", "clear"]) == 0 and not (data_dir / "plan.json").exists()


def test_plan_mistakes_are_one_sentence(data_dir, capsys):
    assert main(["plan", "set", "--script", "beach", "--days", "mo", "--at", "19:00"]) == 2
    for argv, said in ((["--days", "monday,funday", "--at", "19:00"], "'funday' is not a day"),
                       (["--per-week", "3", "--at", "25:00"], "HH:MM")):
        with pytest.raises(SystemExit) as stop:  # argparse's own exit: usage and one sentence
            main(["plan", "set", "--script", "safe-place", *argv])
        assert stop.value.code == 2
        err = capsys.readouterr().err
        assert said in err and "Traceback" not in err


def test_the_diary_keeps_one_entry_per_night_and_sums_the_weeks(data_dir, capsys):
    assert main(["diary", "add", "--nightmares", "2", "--intensity", "7", "--date", "2026-01-05"]) == 0
    assert main(["diary", "add", "--nightmares", "1", "--intensity", "5", "--date", "2026-01-06"]) == 0
    assert main(["diary", "add", "--nightmares", "0", "--date", "2026-01-06"]) == 0  # corrected: that night was quiet
    assert main(["diary", "add", "--nightmares", "1", "--intensity", "3", "--date", "2026-01-13"]) == 0
    capsys.readouterr()
    assert main(["diary", "show", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["weeks"] == [{"week": "2026-W02", "nightmares": 2, "mean_intensity": 7.0, "nights": 2},
                              {"week": "2026-W03", "nightmares": 1, "mean_intensity": 3.0, "nights": 1}]
    assert stat.S_IMODE(os.stat(data_dir / "diary.jsonl").st_mode) == 0o600
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    assert main(["diary", "add", "--nightmares", "1", "--date", tomorrow]) == 2
    assert main(["diary", "add", "--nightmares", "1", "--intensity", "11"]) == 2
    assert "Traceback" not in capsys.readouterr().err
