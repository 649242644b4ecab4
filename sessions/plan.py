"""The practice plan: which exercise, on which days (or how many days a week), at what time; what was done.

Kept in ``plan.json`` in the active data folder (a client's own folder when a client is active), 0600.
Adherence counts days, not sessions: two sessions on a Monday are one day practised ("5 of 7 days"). A
day counts when the person's own session of the planned exercise started that day (replays of recordings
are not practice). The reminder is decided here on the clock it is given, so tests and the timer agree.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sessions import settings
from sessions.errors import UserError
from sessions.private_files import private_folder, replace_private
from sessions.practice_texts import DAY_NAMES, say

log = logging.getLogger(__name__)

DAYS = ("mo", "tu", "we", "th", "fr", "sa", "su")
DUTCH_DAYS = DAY_NAMES["nl"]
SYSTEMD_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Plan:
    script: str
    at: time
    days: tuple[int, ...] = ()
    """Weekdays, 0 = Monday (empty: :attr:`per_week` days of the person's choosing)."""
    per_week: int | None = None
    remind: bool = False
    language: str | None = None
    """The language the plan was set in: the reminder speaks it (a timer has no --lang and may have no locale)."""

    @property
    def planned_days(self) -> int:
        return len(self.days) if self.days else int(self.per_week or 0)

    def to_json(self) -> dict[str, Any]:
        return {"script": self.script, "at": self.at.strftime("%H:%M"), "days": [DAYS[d] for d in self.days],
                "per_week": self.per_week, "remind": self.remind, "language": self.language}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        language = data.get("language")
        return cls(str(data["script"]), parse_time(str(data["at"])), parse_days(",".join(data.get("days") or [])),
                   data.get("per_week"), bool(data.get("remind")), language if language in ("nl", "en") else None)

    def describe(self, lang: str = "en") -> str:
        """"A safe place · Mon, Wed, Fri at 19:30" / "Een veilige plek · ma, wo, vr om 19:30"."""
        from sessions.exercises.titles import script_title

        if len(self.days) == 7:
            when = say(lang, "every_day")
        elif self.days:
            when = ", ".join(DAY_NAMES.get(lang, DAY_NAMES["en"])[d] for d in self.days)
        else:
            when = say(lang, "per_week_one") if self.per_week == 1 else say(lang, "per_week", n=self.per_week)
        return f"{script_title(self.script, lang)} · {when} · {say(lang, 'at', time=self.at.strftime('%H:%M'))}"


def parse_days(text: str, lang: str = "en") -> tuple[int, ...]:
    """``"mo,we,fr"`` (English or Dutch two-letter days) -> (0, 2, 4)."""
    out = set()
    for part in (p.strip().lower() for p in text.split(",")):
        if not part:
            continue
        key = part[:2]
        if key in DAYS:
            out.add(DAYS.index(key))
        elif key in DUTCH_DAYS:
            out.add(DUTCH_DAYS.index(key))
        else:
            raise UserError(say(lang, "bad_day", part=part))
    return tuple(sorted(out))


def parse_time(text: str, lang: str = "en") -> time:
    m = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", text.strip())
    if m is None:
        raise UserError(say(lang, "bad_time", text=text))
    return time(int(m.group(1)), int(m.group(2)))


def plan_path() -> Path:
    return settings.current().data_dir / "plan.json"


def load_plan(lang: str = "en") -> Plan | None:
    path = plan_path()
    if not path.exists():
        return None
    try:
        return Plan.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError, UserError) as err:
        raise UserError(say(lang, "bad_plan", path=path, why=err)) from None


def save_plan(plan: Plan) -> Path:
    path = plan_path()
    private_folder(path.parent, settings.current().root_dir)
    return replace_private(path, json.dumps(plan.to_json(), indent=1).encode())


def clear_plan() -> bool:
    path = plan_path()
    existed = path.exists()
    path.unlink(missing_ok=True)
    return existed


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def days_done(plan: Plan, practised: list[tuple[datetime, str | None]], week_of: date) -> set[date]:
    """The days of ``week_of``'s week (Monday to Sunday) with a session of the planned exercise."""
    start = week_start(week_of)
    return {when.date() for when, script in practised
            if script == plan.script and start <= when.date() < start + timedelta(days=7)}


@dataclass(frozen=True)
class Adherence:
    week: date
    done: int
    planned: int

    def text(self, lang: str = "en") -> str:
        """"5 of 7 days" / "5 van 7 dagen" (days, not sessions: two on one day are one day practised)."""
        return say(lang, "days_of_one", done=self.done) if self.planned == 1 else say(
            lang, "days_of", done=self.done, planned=self.planned)

    def to_json(self) -> dict[str, Any]:
        return {"week": self.week.isoformat(), "done_days": self.done, "planned_days": self.planned}


def adherence(plan: Plan, practised: list[tuple[datetime, str | None]], week_of: date) -> Adherence:
    done = days_done(plan, practised, week_of)
    return Adherence(week_start(week_of), len(done), plan.planned_days)


def due(plan: Plan, practised: list[tuple[datetime, str | None]], now: datetime) -> bool:
    """A reminder is due at ``now``: past the planned time on a day to practise, and not yet practised today.

    With days a week instead of fixed days, every day is a day to practise until the week's number is done."""
    today = now.date()
    if now.time() < plan.at:
        return False
    done = days_done(plan, practised, today)
    if today in done:
        return False
    if plan.days:
        return today.weekday() in plan.days
    return len(done) < (plan.per_week or 0)


def practised_sessions() -> list[tuple[datetime, str | None]]:
    """(start, script) of the person's own sessions in the active folder (replays left out)."""
    from sessions.store import list_sessions

    out = []
    for s in list_sessions():
        if s.source == "replay":
            continue
        try:
            started = datetime.fromisoformat(s.started_at)
        except ValueError:
            continue
        out.append((started.replace(tzinfo=None), s.script))
    return out


# --- the reminder's timer ----------------------------------------------------------------------------

def on_calendar(plan: Plan) -> str:
    """systemd's OnCalendar for the plan: the planned days (every day for days a week) at the time."""
    days = ",".join(SYSTEMD_DAYS[d] for d in plan.days) + " " if plan.days else ""
    return f"{days}*-*-* {plan.at.strftime('%H:%M')}:00"


def timer_units(plan: Plan, command: list[str], unit: str) -> dict[str, str]:
    """The user service and timer that run ``plan remind`` at the planned times (Persistent: a reminder
    missed while the computer slept comes when it wakes, and is still only shown if not yet practised)."""
    exec_line = " ".join(_quoted(c) for c in command)
    return {
        f"{unit}.service": (
            "[Unit]\nDescription=biofeedback practice reminder (local only)\n\n"
            f"[Service]\nType=oneshot\nExecStart={exec_line}\n"),
        f"{unit}.timer": (
            "[Unit]\nDescription=biofeedback practice reminder at the planned time\n\n"
            f"[Timer]\nOnCalendar={on_calendar(plan)}\nPersistent=true\n\n"
            "[Install]\nWantedBy=timers.target\n"),
    }


def crontab_line(plan: Plan, command: list[str]) -> str:
    days = ",".join(str((d + 1) % 7) for d in plan.days) if plan.days else "*"
    return f"{plan.at.minute} {plan.at.hour} * * {days} {' '.join(_quoted(c) for c in command)}"


def _quoted(word: str) -> str:
    return word if re.fullmatch(r"[\w@%+=:,./-]+", word) else "'" + word.replace("'", "'\\''") + "'"
