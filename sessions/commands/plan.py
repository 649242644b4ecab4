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

UNIT = "biofeedback-practice"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plan", help="a practice plan (which exercise, which days, what time) and a reminder",
                       description="Plan an exercise on fixed days (--days mo,we,fr) or a number of days a week "
                                   "(--per-week N) at a time (--at HH:MM); `plan show` says what was done this week.")
    what = p.add_subparsers(dest="plan_command", metavar="set|show|clear|remind", required=True)
    s = what.add_parser("set", help="set the plan (replaces the one there was)")
    s.add_argument("--script", required=True, help="the exercise (see `biofeedback scripts`)")
    when = s.add_mutually_exclusive_group(required=True)
    when.add_argument("--days", type=_days, metavar="mo,tu,…", help="the days to practise")
    when.add_argument("--per-week", type=int, metavar="N", choices=range(1, 8), help="days a week (1-7), any days")
    s.add_argument("--at", type=_time, required=True, metavar="HH:MM", help="the time of day")
    s.add_argument("--remind", action="store_true", help="a desktop notification at that time when not yet done")
    s.set_defaults(func=run_set)
    show = what.add_parser("show", help="the plan and what was done this week")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.set_defaults(func=run_show)
    clear = what.add_parser("clear", help="remove the plan and its reminder")
    clear.set_defaults(func=run_clear)
    remind = what.add_parser("remind", help="notify now if a planned session is due and not done (run by the timer)")
    remind.set_defaults(func=run_remind)


def _days(text: str) -> tuple[int, ...]:
    try:
        days = parse_days(text)
    except UserError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    if not days:
        raise argparse.ArgumentTypeError("give at least one day, e.g. mo,we,fr")
    return days


def _time(text: str) -> object:
    try:
        return parse_time(text)
    except UserError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def run_set(args: argparse.Namespace) -> int:
    from sessions.exercises import default_language, load_script

    load_script(args.script, default_language(), therapist_mode=True)  # an unknown exercise: one sentence here
    plan = Plan(args.script, args.at, args.days or (), args.per_week, args.remind)
    save_plan(plan)
    print(f"Planned: {plan.describe()}.")
    if plan.remind:
        print(install_reminder(plan))
    return 0


def run_show(args: argparse.Namespace) -> int:
    plan = load_plan()
    practised = practised_sessions()
    if plan is None:
        if args.json:
            print(json.dumps({"plan": None}))
        else:
            print("No plan yet; set one with `biofeedback plan set --script ID --days mo,we,fr --at 19:30`.")
        return 0
    week = adherence(plan, practised, date.today())
    if args.json:
        print(json.dumps({"plan": plan.to_json(), "this_week": week.to_json(),
                          "due_now": due(plan, practised, datetime.now())}, indent=1))
        return 0
    print(f"Plan: {plan.describe()}" + (" (with a reminder)" if plan.remind else ""))
    print(f"This week: {week.text()}.")
    return 0


def run_clear(args: argparse.Namespace) -> int:
    had = clear_plan()
    removed = remove_reminder()
    print("The plan is cleared" + (" and its reminder removed." if removed else ".") if had or removed
          else "There was no plan.")
    return 0


def run_remind(args: argparse.Namespace) -> int:
    plan = load_plan()
    if plan is None or not due(plan, practised_sessions(), datetime.now()):
        return 0
    title = "Time to practise"
    body = f"{plan.script} is planned for {plan.at.strftime('%H:%M')} and not done yet today."
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
    if shutil.which("systemctl") is None:
        return False
    try:
        return subprocess.call(["systemctl", "--user", "is-system-running"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=10) in (0, 1)
    except (OSError, subprocess.TimeoutExpired):
        return False


def install_reminder(plan: Plan) -> str:
    """Install the systemd user timer, or say the crontab line to add; returns the sentence to print."""
    command = remind_command()
    if not _systemd_user():
        return ("systemd --user is not running here, so add this line with `crontab -e` for the reminder:\n"
                + crontab_line(plan, command))
    folder = _units_dir()
    folder.mkdir(parents=True, exist_ok=True)
    name = _unit_name()
    for file, text in timer_units(plan, command, name).items():
        (folder / file).write_text(text, encoding="utf-8")
    for step in (["daemon-reload"], ["enable", "--now", f"{name}.timer"]):
        if subprocess.call(["systemctl", "--user", *step], timeout=30) != 0:
            return f"The reminder's timer is in {folder} but could not be started; try `systemctl --user {' '.join(step)}`."
    return f"Reminder set: a notification at {plan.at.strftime('%H:%M')} when the session is not done yet."


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
