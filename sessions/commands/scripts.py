"""``biofeedback scripts``: which exercises there are, in which language, and how long they take.

Therapist-only exercises are listed (a therapist needs to find them) but marked, sorted last, and
never the default; running one needs the therapist (see :mod:`sessions.therapist`). Files that fail to load are reported with
file, line and field, but do not hide the scripts that are fine.
"""

from __future__ import annotations

import argparse
import json
import sys

from sessions.exercises import (
    DEFAULT_SCRIPT_ID,
    LANGUAGES,
    default_language,
    discover,
    load_common,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "scripts",
        help="list the exercise scripts",
        description="List the exercise scripts (shipped ones and your own from the config dir).",
    )
    p.add_argument("--lang", choices=LANGUAGES, default=None, help="language (default: from your locale)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    lang = args.lang or default_language()
    catalog = discover()
    scripts = catalog.for_language(lang)
    if args.json:
        out = {
            "language": lang,
            "default": DEFAULT_SCRIPT_ID,
            "scripts": [s.summary() for s in scripts],
            "problems": [str(p) for p in catalog.problems],
        }
        json.dump(out, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0

    from rich.console import Console

    from sessions.i18n import tr
    from sessions.literal_text import literal
    from sessions.therapist import listing_mark
    from rich.table import Table

    console = Console()
    table = Table(title=tr(lang, "scripts_title"), title_justify="left")
    table.add_column("id", style="bold", no_wrap=True)
    table.add_column(tr(lang, "col_title"))
    table.add_column("min", justify="right", no_wrap=True)
    table.add_column(tr(lang, "col_purpose"))
    for s in scripts:
        sid = s.id + (f" ({tr(lang, 'default')})" if s.id == DEFAULT_SCRIPT_ID else "")
        if s.user:
            sid += f" ({tr(lang, 'yours')})"
        title = literal(s.title)
        if s.therapist_only:
            title = f"{title}\n[yellow]{listing_mark(lang)}[/yellow]"
        table.add_row(literal(sid), title, f"~{s.duration_min:g}", literal(s.purpose))
    console.print(table)
    console.print(load_common(lang).disclaimer, style="dim")
    err = Console(stderr=True)
    for problem in catalog.problems:
        err.print(f"[yellow]Skipped:[/yellow] {literal(problem)}", markup=True, highlight=False)
    return 0
