"""``biofeedback trends [--json] [-o FILE]``: how sessions went over days and weeks."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sessions.errors import UserError
from sessions.extras import require
from sessions.private_files import open_private


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "trends", help="calm change, RMSSD at rest, resonance rate and minutes practised over your sessions",
        description="One row per session (table or --json), and with -o a figure (.png, .pdf or .svg) of the same "
                    "over days, with the minutes practised per week. --json also carries per exercise and per week the "
                    "distress ratings before and after, the nightmare diary, the days practised of the plan, and your "
                    "own usual range of resting RMSSD (median and IQR over the last 4 weeks).",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("-o", "--output", type=Path, metavar="FILE", help="write the figure to FILE (.png/.pdf/.svg)")
    p.add_argument("--lang", choices=("nl", "en"), default="en")
    p.add_argument("--include-replays", action="store_true",
                   help="also count replays of recordings (run --replay), which are left out as not your own")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.output:
        if args.output.suffix.lower() not in (".png", ".pdf", ".svg"):
            raise UserError(f"{args.output.name}: the figure can be written as .png, .pdf or .svg.")
        require("review", "the trends figure (-o)", ("matplotlib",))
    from sessions.review.trends import trend_rows
    from sessions.review.words import say

    rows = trend_rows()
    replays = sum(1 for r in rows if not r.own)
    if not args.include_replays:
        rows = [r for r in rows if r.own]
    from sessions.diary import load_diary
    from sessions.plan import load_plan
    from sessions.review.subjective_trends import trends_json

    summary = trends_json(rows, args.lang, load_diary(), load_plan())
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        from rich.console import Console
        from rich.table import Table

        console = Console()
        if not rows:
            console.print(say(args.lang, "no_sessions"))
        else:
            table = Table(title=say(args.lang, "trends_title"))
            for key in ("date", "script", "practised", "calm_change_col", "rmssd_rest", "resonance"):
                table.add_column(say(args.lang, key), justify="left" if key in ("date", "script") else "right")
            f = lambda v, p="{:.1f}": "–" if v is None else p.format(v)
            for r in rows:
                table.add_row(r.started.strftime("%Y-%m-%d %H:%M") if r.started else r.id,
                              r.shown_title(args.lang) + ("" if r.own else f" ({say(args.lang, 'replay_mark')})"),
                              f(r.minutes), f(r.calm_change, "{:+.0f}"), f(r.rmssd_rest, "{:.0f}"), f(r.resonance_rate))
            console.print(table)
        if replays and not args.include_replays:
            console.print(say(args.lang, "replays_left_out_one" if replays == 1 else "replays_left_out_n", n=replays))
    if args.output:
        if not rows:
            raise UserError("there are no sessions to draw yet.")
        from sessions.review.trends import trends_figure

        fig = trends_figure(rows, args.lang, summary["weeks"])
        with open_private(args.output) as fh:
            fig.savefig(fh, format=args.output.suffix.lower().lstrip("."))
        print(f"Wrote {args.output}")
    return 0
