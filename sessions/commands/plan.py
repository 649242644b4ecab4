"""``biofeedback plan set|show|clear|remind``: a practice plan and its reminder, all on this computer.

The reminder is ``plan remind`` run at the planned time by a systemd user timer (``plan set --remind``
installs it; without ``systemd --user`` it prints the crontab line to add). It shows a desktop notification
(``notify-send``) only when a planned session is due and not yet done, else nothing; without notify-send it
prints one line. Nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

from sessions import settings
from sessions.errors import UserError
from sessions.plan import (Plan, adherence, clear_plan, crontab_line, due, load_plan, parse_days, parse_time,
                           practised_sessions, save_plan, timer_units)
from sessions.practice_texts import language, say

UNIT = "biofeedback-practice"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plan", help="a practice plan (which exercise, which days, what time) and a reminder",
                       description="Plan an exercise on fixed days (--days mo,we,fr) or a number of days a week "
                                   "(--per-week N) at a time (--at HH:MM); `plan show` says what was done this week.")
    what = p.add_subparsers(dest="plan_command", metavar="set|show|clear|remind", required=True)
    s = what.add_parser("set", help="set the plan (replaces the one there was)")
    s.add_argument("--script", required=True, help="the exercise (see `biofeedback scripts`)")
    when = s.add_mutually_exclusive_group(required=True)
    when.add_argument("--days", metavar="mo,tu,…", help="the days to practise (mo,tu,we,th,fr,sa,su or ma,di,wo,do,vr,za,zo)")
    when.add_argument("--per-week", type=int, metavar="N", choices=range(1, 8), help="days a week (1-7), any days")
    s.add_argument("--at", required=True, metavar="HH:MM", help="the time of day")
    s.add_argument("--remind", action="store_true", help="a desktop notification at that time when not yet done")
    s.set_defaults(func=run_set)
    show = what.add_parser("show", help="the plan and what was done this week")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.set_defaults(func=run_show)
    clear = what.add_parser("clear", help="remove the plan and its reminder")
    clear.set_defaults(func=run_clear)
    remind = what.add_parser("remind", help="notify now if a planned session is due and not done (run by the timer)")
    remind.set_defaults(func=run_remind)
    for parser in (s, show, clear, remind):
        parser.add_argument("--lang", choices=("nl", "en"), default=None,
                            help="language (default: the plan's for remind, else from your system)")


def run_set(args: argparse.Namespace) -> int:
    from sessions.exercises import load_script

    lang = language(args.lang)
    days = parse_days(args.days, lang) if args.days is not None else ()
    if args.days is not None and not days:
        raise UserError(say(lang, "no_day"))
    at = parse_time(args.at, lang)
    load_script(args.script, lang, therapist_mode=True)  # an unknown exercise: one sentence here
    plan = Plan(args.script, at, days, args.per_week, args.remind, lang)
    save_plan(plan)
    print(say(lang, "planned", plan=plan.describe(lang)))
    if plan.remind:
        print(install_reminder(plan, lang))
    return 0


def run_show(args: argparse.Namespace) -> int:
    lang = language(args.lang)
    plan = load_plan(lang)
    practised = practised_sessions()
    if plan is None:
        print(json.dumps({"plan": None}) if args.json else say(lang, "no_plan"))
        return 0
    week = adherence(plan, practised, date.today())
    if args.json:
        print(json.dumps({"plan": plan.to_json(), "this_week": week.to_json(),
                          "due_now": due(plan, practised, datetime.now())}, indent=1))
        return 0
    print(say(lang, "plan_line", plan=plan.describe(lang)) + (say(lang, "with_reminder") if plan.remind else ""))
    print(say(lang, "this_week", done=week.text(lang)))
    return 0


def run_clear(args: argparse.Namespace) -> int:
    lang = language(args.lang)
    had = clear_plan()
    removed = remove_reminder()
    print(say(lang, "cleared_reminder" if removed else "cleared" if had else "no_plan_to_clear"))
    return 0


def run_remind(args: argparse.Namespace) -> int:
    """Run by the timer, with no one at the terminal: the plan's own language unless --lang says otherwise."""
    plan = load_plan(language(args.lang))
    if plan is None or not due(plan, practised_sessions(), datetime.now()):
        return 0
    from sessions.exercises.titles import script_title

    lang = args.lang or plan.language or language(None)
    at = plan.at.strftime("%H:%M")
    title = say(lang, "remind_title")
    body = say(lang, "remind_body", title=script_title(plan.script, lang), time=at)
    client = settings.current().client
    if client:
        title += f" ({client})"
    notify(title, body)
    return 0


def notify(title: str, body: str) -> None:
    """A desktop notification through notify-send (the freedesktop notification service), else one line."""
    program = shutil.which("notify-send")
    if program is not None:
        try:
            if subprocess.call([program, "--app-name=biofeedback", title, body], timeout=10) == 0:
                return
        except (OSError, subprocess.TimeoutExpired):
            pass
    print(f"{title}: {body}")


def remind_command() -> list[str]:
    """How the timer calls this program again (with the client, when one is active)."""
    exe = shutil.which("biofeedback")
    cmd = [exe] if exe else [sys.executable, "-m", "sessions"]
    client = settings.current().client
    return [*cmd, *(["--client", client] if client else []), "plan", "remind"]


def _unit_name() -> str:
    client = settings.current().client
    return f"{UNIT}-{client}" if client else UNIT


def _units_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "systemd" / "user"


def _systemd_user() -> bool:
    """A user manager that can run the timer: it says so on stdout ("running", or "degraded" when some other
    unit failed). Its exit code alone cannot tell: without a session bus it also exits 1, and the timer's
    files would be written where nothing ever starts them."""
    if shutil.which("systemctl") is None:
        return False
    try:
        said = subprocess.run(["systemctl", "--user", "is-system-running"], capture_output=True, text=True,
                              timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return False
    return said in ("running", "degraded")


def install_reminder(plan: Plan, lang: str = "en") -> str:
    """Install the systemd user timer, or say the crontab line to add; returns the sentence to print."""
    command = remind_command()
    if not _systemd_user():
        return say(lang, "remind_crontab") + "\n" + crontab_line(plan, command)
    folder = _units_dir()
    folder.mkdir(parents=True, exist_ok=True)
    name = _unit_name()
    for file, text in timer_units(plan, command, name).items():
        (folder / file).write_text(text, encoding="utf-8")
    for step in (["daemon-reload"], ["enable", "--now", f"{name}.timer"]):
        if subprocess.call(["systemctl", "--user", *step], timeout=30) != 0:
            return say(lang, "remind_not_started", folder=folder, step=" ".join(step))
    return say(lang, "remind_set", time=plan.at.strftime("%H:%M"))


def remove_reminder() -> bool:
    folder, name = _units_dir(), _unit_name()
    files = [folder / f"{name}.timer", folder / f"{name}.service"]
    if not any(f.exists() for f in files):
        return False
    if _systemd_user():
        subprocess.call(["systemctl", "--user", "disable", "--now", f"{name}.timer"], stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL, timeout=30)
    for f in files:
        f.unlink(missing_ok=True)
    return True
