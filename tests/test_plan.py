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
    monkeypatch.setenv("LC_ALL", "en_GB.UTF-8")
    monkeypatch.setattr(plan_cmd, "_systemd_user", lambda: False)  # the crontab path; the timer text is tested above
    assert main(["plan", "set", "--script", "safe-place", "--days", "mo,di,we,th,fr,sa,su", "--at", "00:00",
                 "--remind"]) == 0
    out = capsys.readouterr().out
    assert "Planned: A safe place · every day · at 00:00." in out and "crontab -e" in out and "plan remind" in out
    assert stat.S_IMODE(os.stat(data_dir / "plan.json").st_mode) == 0o600
    assert main(["plan", "remind"]) == 0  # planned every day from midnight, nothing done: due
    assert fake_notify.read_text().splitlines()[1] == "Time to practise"
    assert "“A safe place” was planned for 00:00 and is not done yet today." in fake_notify.read_text()
    assert main(["run", "--simulate", "--speed", "1000", "--duration", "120", "--headless"]) == 0
    capsys.readouterr()
    fake_notify.unlink()
    assert main(["plan", "remind"]) == 0 and not fake_notify.exists()  # done today: quiet
    assert main(["plan", "show", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["this_week"]["done_days"] == 1 and shown["this_week"]["planned_days"] == 7 and not shown["due_now"]
    assert main(["plan", "clear"]) == 0 and not (data_dir / "plan.json").exists()


def test_plan_mistakes_are_one_sentence_in_the_persons_language(data_dir, capsys):
    assert main(["plan", "set", "--script", "beach", "--days", "mo", "--at", "19:00"]) == 2
    assert "no script called 'beach'" in capsys.readouterr().err
    for argv, said in ((["--days", "monday,funday", "--at", "19:00", "--lang", "en"], "'funday' is not a day"),
                       (["--per-week", "3", "--at", "25:00", "--lang", "en"], "HH:MM, e.g. 19:30"),
                       (["--days", ",", "--at", "19:00", "--lang", "en"], "give at least one day"),
                       (["--days", "ma,funday", "--at", "19:00", "--lang", "nl"], "'funday' is geen dag"),
                       (["--days", "ma", "--at", "7.30", "--lang", "nl"], "'7.30' is geen tijdstip; schrijf het als UU:MM")):
        assert main(["plan", "set", "--script", "safe-place", *argv]) == 2
        err = capsys.readouterr().err
        assert said in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (data_dir / "plan.json").exists()  # nothing half set


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


def test_plan_and_reminder_speak_dutch_and_the_reminder_keeps_the_plans_language(data_dir, fake_notify, monkeypatch,
                                                                                  capsys):
    """Set in Dutch, the timer's `plan remind` (no --lang, an English locale) still speaks Dutch."""
    monkeypatch.setenv("LC_ALL", "en_GB.UTF-8")
    monkeypatch.setattr(plan_cmd, "_systemd_user", lambda: False)
    assert main(["plan", "set", "--script", "safe-place", "--days", "ma,di,wo,do,vr,za,zo", "--at", "00:00",
                 "--remind", "--lang", "nl"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Gepland: Een veilige plek · elke dag · om 00:00.\n")
    assert "systemd --user draait hier niet" in out and "crontab -e" in out
    assert json.loads((data_dir / "plan.json").read_text())["language"] == "nl"
    assert main(["plan", "remind"]) == 0
    assert fake_notify.read_text().splitlines()[1:] == ["Tijd om te oefenen",
                                                       "‘Een veilige plek’ stond gepland om 00:00 en is vandaag nog niet gedaan."]
    assert main(["plan", "show", "--lang", "nl"]) == 0
    assert capsys.readouterr().out.splitlines() == ["Plan: Een veilige plek · elke dag · om 00:00 (met herinnering)",
                                                    "Deze week: 0 van 7 dagen."]
    assert main(["plan", "set", "--script", "safe-place", "--per-week", "1", "--at", "19:30", "--lang", "nl"]) == 0
    assert main(["plan", "show"]) == 0  # the locale's language: English
    assert capsys.readouterr().out.splitlines()[-2:] == [
        "Plan: A safe place · 1 day a week, any day you like · at 19:30", "This week: 0 of 1 day."]
    assert main(["plan", "clear", "--lang", "nl"]) == 0 and main(["plan", "clear", "--lang", "nl"]) == 0
    assert capsys.readouterr().out.splitlines() == ["Het plan is gewist.", "Er was geen plan."]


def test_the_diary_speaks_dutch_with_counts_a_person_would_write(data_dir, monkeypatch, capsys):
    monkeypatch.setenv("LC_ALL", "nl_NL.UTF-8")  # no --lang: the system's language
    for n, extra in ((2, ["--intensity", "7"]), (1, ["--intensity", "6"]), (0, [])):
        assert main(["diary", "add", "--nightmares", str(n), "--date", f"2026-01-0{5 + (2 - n)}", *extra]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "Genoteerd voor de nacht van 2026-01-05 op 2026-01-06: 2 nachtmerries, intensiteit 7.",
        "Genoteerd voor de nacht van 2026-01-06 op 2026-01-07: 1 nachtmerrie, intensiteit 6.",
        "Genoteerd voor de nacht van 2026-01-07 op 2026-01-08: geen nachtmerries."]
    assert main(["diary", "show"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "Week 2 van 2026: 3 nachtmerries (gemiddelde intensiteit 6,5) in 3 genoteerde nachten")
    assert main(["diary", "show", "--lang", "en"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "Week 2 of 2026: 3 nightmares (mean intensity 6.5) in 3 nights written down")
    assert main(["diary", "add", "--nightmares", "1", "--date", "5-1-2026"]) == 2
    assert main(["diary", "add", "--nightmares", "30"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == ["biofeedback diary: --date 5-1-2026: geen datum; schrijf hem als JJJJ-MM-DD, bijvoorbeeld 2026-01-05.",
                   "biofeedback diary: --nightmares 30: geef het aantal nachtmerries van die nacht (0-20)."]
