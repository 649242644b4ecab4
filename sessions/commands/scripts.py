"""``biofeedback scripts``: which exercises there are, in which language, and how long they take;
``scripts new`` writes a personal script from a template, ``scripts check`` validates a script file.

Therapist-only exercises are listed (a therapist needs to find them) but marked, sorted last, and
never the default; running one needs the therapist (see :mod:`sessions.therapist`). A client's
personal scripts say whether the client may do them alone, and how often. Files that fail to load
are reported with file, line and field, but do not hide the scripts that are fine.
"""

from __future__ import annotations

import argparse
import json
import sys

from pathlib import Path

from sessions import settings
from sessions.errors import UserError
from sessions.exercises import (
    DEFAULT_SCRIPT_ID,
    LANGUAGES,
    Script,
    builtin_scripts_dir,
    default_language,
    discover,
    load_common,
    load_script_file,
)
from sessions.exercises.model import PERSONAL_KINDS
from sessions.exercises.personal import write_personal
from sessions.therapist import home_use, recorded_home


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "scripts",
        help="list the exercise scripts",
        description="List the exercise scripts (shipped ones and your own from the config dir).",
    )
    p.add_argument("--lang", choices=LANGUAGES, default=None, help="language (default: from your locale)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run)
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    new = actions.add_parser(
        "new", help="write a personal script from a template (a safe place, or a rewritten nightmare)",
        description="For the therapist, with the client: writes a short template into the client's own scripts "
        "folder. Replace every <<...>> with the client's own words, then check it with `biofeedback scripts check "
        "FILE`. A rehearsal script is for use with the therapist only.")
    new.add_argument("--from", dest="kind", required=True, choices=PERSONAL_KINDS,
                     help="safe-place: the safe place you built together; rehearsal: the rewritten nightmare")
    new.add_argument("--lang", choices=LANGUAGES, default=None, help="language (default: from your locale)")
    new.add_argument("--name", metavar="NAME", help="the script's id and file name, lowercase with dashes "
                     "(default: my-safe-place or my-new-dream)")
    new.set_defaults(func=run_new)
    check = actions.add_parser("check", help="validate a script file like the shipped ones (file, line and field)")
    check.add_argument("file", metavar="FILE", help="the script file (.toml)")
    check.set_defaults(func=run_check)


ALONE = {
    "en": {"yes": "you may do this alone", "limit": "alone: at most {n} a day", "no": "with your therapist",
           "title": "Your own exercises"},
    "nl": {"yes": "mag je alleen doen", "limit": "alleen: hooguit {n} keer per dag", "no": "samen met je therapeut",
           "title": "Je eigen oefeningen"},
}


def home_status(script: Script) -> dict[str, object]:
    """Whether the active client may do a personal script alone: ``{"alone": bool, "max_per_day": N or None}``."""
    try:
        home_use(script, count_today=False)
    except UserError:
        return {"alone": False, "max_per_day": None}
    limit = recorded_home().get(script.id, {}).get("max_per_day")
    return {"alone": True, "max_per_day": limit if isinstance(limit, int) else None}


def _alone_text(lang: str, status: dict[str, object]) -> str:
    words = ALONE.get(lang, ALONE["en"])
    if not status["alone"]:
        return words["no"]
    return words["limit"].format(n=status["max_per_day"]) if status["max_per_day"] else words["yes"]


def run(args: argparse.Namespace) -> int:
    lang = args.lang or default_language()
    catalog = discover()
    scripts = catalog.for_language(lang)
    if args.json:
        out = {
            "language": lang,
            "default": DEFAULT_SCRIPT_ID,
            "scripts": [{**s.summary(), **({"home": home_status(s)} if s.personal else {})} for s in scripts],
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
        if s.personal:
            title = f"{title}\n[cyan]{_alone_text(lang, home_status(s))}[/cyan]"
        elif s.therapist_only:
            title = f"{title}\n[yellow]{listing_mark(lang)}[/yellow]"
        table.add_row(literal(sid), title, f"~{s.duration_min:g}", literal(s.purpose))
    console.print(table)
    console.print(load_common(lang).disclaimer, style="dim")
    err = Console(stderr=True)
    for problem in catalog.problems:
        err.print(f"[yellow]Skipped:[/yellow] {literal(problem)}", markup=True, highlight=False)
    return 0


def _shipped_ids() -> set[str]:
    """The ids of the shipped exercises (their file names' first part), which a personal script may not take."""
    return {p.name.split(".")[0] for p in builtin_scripts_dir().glob("*.toml")}


def run_new(args: argparse.Namespace) -> int:
    lang = args.lang or default_language()
    current = settings.current()
    path = write_personal(args.kind, lang, args.name, current.personal_scripts_dir,
                          current.root_dir if current.client else None, _shipped_ids())
    print(f"Written: {path}")
    print("Replace every <<...>> in it with the client's own words, then check it with:")
    print(f"  biofeedback scripts check {path}")
    script_id = path.name.split(".")[0]
    if args.kind == "rehearsal":
        print(f"It is for use with you only: biofeedback therapist unlock {script_id}, then biofeedback run "
              f"--therapist --script {script_id}.")
    else:
        print(f"Do it together with: biofeedback run --therapist --script {script_id}; the client does it alone "
              f"once you allow it: biofeedback therapist allow-home {script_id}.")
    return 0


def run_check(args: argparse.Namespace) -> int:
    path = Path(args.file)
    script = load_script_file(path, user=True)
    if script.personal and script.id in _shipped_ids():
        raise UserError(f"{path}: the id '{script.id}' is a shipped exercise's; give the personal script an id of its "
                        "own (such as my-safe-place).")
    kind = "therapist-only" if script.therapist_only else "everyday"
    home = ", with a home version" if script.home else ""
    print(f"{path} is a valid {kind} script{home}: '{script.title}' ({script.language}), {len(script.steps)} steps, "
          f"about {script.duration_min:g} minutes.")
    return 0
