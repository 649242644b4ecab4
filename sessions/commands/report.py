"""``biofeedback report [ID] [-o FILE.html|.pdf|.png] [--lang nl|en]``: a report a person can read."""

from __future__ import annotations

import argparse
from pathlib import Path

from sessions.extras import require
from sessions.store import resolve_session


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report", help="write a report of a session (HTML, PDF or PNG)",
        description="The timeline, the per-phase table, the artefact share, the whole-session HRV (Kubios-grade) and a "
                    "summary in plain words. HTML files carry their images inside, so the file stands alone. "
                    "No medical claims: the report says what the numbers are not.",
    )
    p.add_argument("id", nargs="?", help="session id or file (default: the latest)")
    p.add_argument("-o", "--output", type=Path, metavar="FILE", help="FILE.html, FILE.pdf or FILE.png "
                   "(default: ID-report.html in the current folder)")
    p.add_argument("--lang", choices=("nl", "en"), help="language (default: the session's)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    require("review", "the report", ("matplotlib",))
    path = resolve_session(args.id)
    from sessions.review.record import load_record
    from sessions.review.report import write_report

    record = load_record(path)
    out = args.output or Path(f"{record.id}-report.html")
    for written in write_report(record, out, args.lang):
        print(f"Wrote {written}")
    return 0
