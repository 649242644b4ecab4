"""``biofeedback diary add --nightmares N [--intensity 0-10] [--date YYYY-MM-DD]`` and ``diary show``.

Said in the person's language (``--lang``, else the system's): it is filled in at home, often half awake.
"""

from __future__ import annotations

import argparse
import json
from datetime import date, timedelta

from sessions.diary import DiaryEntry, add_entry, load_diary, weekly
from sessions.errors import UserError
from sessions.practice_texts import language, number, say


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("diary", help="a short nightmare diary: how many, how intense (for the trends)",
                       description="Write down each morning how many nightmares you had that night and how "
                                   "intense they were. Kept only on this computer; the trends show it per week.")
    what = p.add_subparsers(dest="diary_command", metavar="add|show", required=True)
    add = what.add_parser("add", help="write down last night (or --date)")
    add.add_argument("--nightmares", type=int, required=True, metavar="N", help="how many nightmares (0 counts too)")
    add.add_argument("--intensity", type=int, metavar="0-10", help="how intense they were, 0-10")
    add.add_argument("--date", metavar="YYYY-MM-DD",
                     help="the date of the evening the night began (default: last night)")
    add.set_defaults(func=run_add)
    show = what.add_parser("show", help="the entries and the weeks")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.set_defaults(func=run_show)
    for parser in (add, show):
        parser.add_argument("--lang", choices=("nl", "en"), default=None, help="language (default: from your system)")


def _day(text: str, lang: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UserError(say(lang, "bad_date", text=text)) from None


def nightmares(n: int, lang: str) -> str:
    """"no nightmares", "1 nightmare", "3 nightmares" (and the Dutch)."""
    return say(lang, "nightmares_0" if n == 0 else "nightmares_1" if n == 1 else "nightmares_n", n=n)


def run_add(args: argparse.Namespace) -> int:
    lang = language(args.lang)
    day = _day(args.date, lang) if args.date is not None else date.today() - timedelta(days=1)
    add_entry(DiaryEntry(day, args.nightmares, args.intensity), lang)
    what = nightmares(args.nightmares, lang)
    if args.intensity is not None:
        what += ", " + say(lang, "intensity", i=args.intensity)
    print(say(lang, "written", day=day.isoformat(), next=(day + timedelta(days=1)).isoformat(), what=what))
    return 0


def run_show(args: argparse.Namespace) -> int:
    lang = language(args.lang)
    entries = load_diary()
    if args.json:
        print(json.dumps({"entries": [e.to_json() for e in entries],
                          "weeks": [{"week": w, "nightmares": n, "mean_intensity": None if i is None else round(i, 1),
                                     "nights": k} for w, n, i, k in weekly(entries)]}, indent=1))
        return 0
    if not entries:
        print(say(lang, "diary_empty"))
        return 0
    for e in entries:
        line = f"{e.day.isoformat()}  {nightmares(e.nightmares, lang)}"
        print(line if e.intensity is None else f"{line}, {say(lang, 'intensity', i=e.intensity)}")
    for key, n, mean, k in weekly(entries):
        year, week = key.split("-W")
        what = nightmares(n, lang) + ("" if mean is None else f" ({say(lang, 'mean_intensity', i=number(mean, lang))})")
        nights = say(lang, "nights_1" if k == 1 else "nights_n", n=k)
        print(say(lang, "week_line", week=int(week), year=year, what=what, nights=nights))
    return 0
