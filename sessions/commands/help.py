"""``biofeedback help``: where to find help, and that this app is a relaxation tool, not a medical device."""

from __future__ import annotations

import argparse
import textwrap

from sessions.exercises import LANGUAGES, default_language, load_common
from sessions.help_texts import help_lines, help_title


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "help",
        help="where to find help (GP, after-hours, crisis line, emergency number)",
        description="Where to find help when it gets too much. This app is a relaxation tool, not a medical device.",
    )
    p.add_argument("topic", nargs="?", choices=("imagery",),
                   help="'imagery': what imagery is and isn't, and what to expect (shown before your first session)")
    p.add_argument("--lang", choices=LANGUAGES, default=None, help="language (default: from your system, else English)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    lang = args.lang or default_language()
    if getattr(args, "topic", None) == "imagery":
        common = load_common(lang)
        print("\n".join(textwrap.fill(line, width=76, break_on_hyphens=False) for line in common.first_run))
        return 0
    out = [help_title(lang), ""]
    for paragraph in help_lines(lang):
        out.extend(textwrap.wrap(paragraph, width=76, break_on_hyphens=False))
        out.append("")
    print("\n".join(out).rstrip())
    return 0
