"""``biofeedback diary add --nightmares N [--intensity 0-10] [--date YYYY-MM-DD]`` and ``diary show``."""

from __future__ import annotations

import argparse
import json
from datetime import date, timedelta

from sessions.diary import DiaryEntry, add_entry, load_diary, weekly


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("diary", help="a short nightmare diary: how many, how intense (for the trends)",
                       description="Write down each morning how many nightmares you had that night and how "
                                   "intense they were. Kept only on this computer; the trends show it per week.")
    what = p.add_subparsers(dest="diary_command", metavar="add|show", required=True)
    add = what.add_parser("add", help="write down last night (or --date)")
    add.add_argument("--nightmares", type=int, required=True, metavar="N", help="how many nightmares (0 counts too)")
    add.add_argument("--intensity", type=int, metavar="0-10", help="how intense they were, 0-10")
    add.add_argument("--date", type=_day, metavar="YYYY-MM-DD", help="the night's date (default: last night)")
    add.set_defaults(func=run_add)
    show = what.add_parser("show", help="the entries and the weeks")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.set_defaults(func=run_show)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date; write it as YYYY-MM-DD") from None


def run_add(args: argparse.Namespace) -> int:
    day = args.date or date.today() - timedelta(days=1)
    add_entry(DiaryEntry(day, args.nightmares, args.intensity))
    print(f"Written down: {day.isoformat()}, {args.nightmares} nightmare{'s' if args.nightmares != 1 else ''}"
          + (f", intensity {args.intensity}" if args.intensity is not None else "") + ".")
    return 0


def run_show(args: argparse.Namespace) -> int:
    entries = load_diary()
    if args.json:
        print(json.dumps({"entries": [e.to_json() for e in entries],
                          "weeks": [{"week": w, "nightmares": n, "mean_intensity": None if i is None else round(i, 1),
                                     "nights": k} for w, n, i, k in weekly(entries)]}, indent=1))
        return 0
    if not entries:
        print("The diary is empty; write down a night with `biofeedback diary add --nightmares N`.")
        return 0
    for e in entries:
        print(f"{e.day.isoformat()}  {e.nightmares}" + ("" if e.intensity is None else f"  (intensity {e.intensity})"))
    for w, n, i, k in weekly(entries):
        print(f"{w}: {n} nightmares in {k} nights written down" + ("" if i is None else f", mean intensity {i:.1f}"))
    return 0
