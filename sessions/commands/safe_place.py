"""``biofeedback safe-place``: build your own safe place, in the terminal, in a window, or with flags.

In a terminal with no answers given, a short guide asks the questions one by one (Enter skips, or
keeps the earlier answer shown in brackets; a ``-`` clears it). The flags set just the answers they
name and keep the rest (for scripts and tests); ``--show`` / ``--json`` print what is stored,
``--clear`` removes it, ``--window`` opens :mod:`sessions.gui.safe_place_dialog`. Everything is
stored only in the local profile (see :mod:`sessions.safe_place`).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import textwrap
from collections.abc import Callable

from sessions.errors import UserError
from sessions.exercises import LANGUAGES, SENSES, default_language
from sessions.profile import load_profile, profile_path
from sessions.safe_place import (
    PROFILE_KEY,
    TEXT_FIELDS,
    SafePlace,
    check_answer,
    clear_safe_place,
    load_safe_place,
    parse_senses,
    save_safe_place,
)
from sessions.safe_place_texts import QUESTIONS, say

log = logging.getLogger(__name__)

Ask = Callable[[str], str]
Say = Callable[[str], None]

WIDTH = 76
YES = frozenset({"j", "ja", "y", "yes"})
NO = frozenset({"n", "nee", "no"})
CLEAR = "-"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "safe-place",
        help="build your own safe place (real or imagined, with every sense) for the imagery exercises",
        description="Build your own safe place: where it is, what you hear, smell and feel there, and a word for "
        "it. In a terminal without answers a short guide asks the questions one by one; the flags set just the "
        "answers they name and keep the others (an empty TEXT clears one). Stored only on this computer.",
    )
    p.add_argument("--lang", choices=LANGUAGES, default=None, help="language (default: from your system)")
    for name, what in (("place", "where your safe place is (a real or imagined place)"),
                       ("sound", "what you hear there"), ("smell", "what you smell there"),
                       ("touch", "what you feel on your skin"), ("temperature", "how warm or cool it is"),
                       ("sight", "what you see there, if anything"), ("anchor", "a word for your place")):
        p.add_argument(f"--{name}", metavar="TEXT", default=None, help=what)
    real = p.add_mutually_exclusive_group()
    real.add_argument("--real", dest="real", action="store_const", const=True, default=None,
                      help="it is a real place")
    real.add_argument("--imagined", dest="real", action="store_const", const=False, help="it is an imagined place")
    p.add_argument("--senses", metavar="LIST", default=None,
                   help=f"the senses that work for you, comma-separated, from {','.join(SENSES)} (or 1-5)")
    action = p.add_mutually_exclusive_group()
    action.add_argument("--show", action="store_true", help="show your safe place")
    action.add_argument("--json", action="store_true", help="print your safe place as JSON")
    action.add_argument("--clear", action="store_true", help="remove your safe place")
    action.add_argument("--window", action="store_true", help="fill it in in a window instead of the terminal")
    p.add_argument("--yes", action="store_true", help="with --clear: do not ask")
    p.set_defaults(func=run)


def stdin_is_tty() -> bool:
    """Whether a person can answer questions here (tests replace this)."""
    return sys.stdin is not None and sys.stdin.isatty()


def read_line(prompt: str) -> str:
    """One answer typed by the person (tests replace this, or ``builtins.input``)."""
    return input(prompt)


def _cmd() -> str:
    from sessions.commands.run import command_name

    return command_name()


def _wrap(text: str) -> str:
    return textwrap.fill(text, width=WIDTH, break_on_hyphens=False)


def run(args: argparse.Namespace) -> int:
    lang = args.lang or default_language()
    changes = _flag_changes(args, lang)
    if args.clear:
        if changes:
            raise UserError(say(lang, "clear_alone"))
        return _clear(lang, args.yes)
    if args.window:
        if changes:
            raise UserError(say(lang, "window_alone"))
        return _window(lang)
    current = load_safe_place()
    if changes:
        place = (current or SafePlace()).with_answers(lang, **changes)
        save_safe_place(place)
        if not (args.show or args.json):
            _print_saved(place, lang)
        current = load_safe_place()
    if args.json:
        json.dump(current.to_dict() if current else None, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    if args.show:
        if current:
            print("\n".join(describe(current, lang)))
        else:
            print(_wrap(say(lang, "none_stored")))
            print(f"  {_cmd()} safe-place")
        return 0
    if changes:
        return 0
    if not stdin_is_tty():
        raise UserError(say(lang, "no_terminal"))
    return _interactive(lang, current)


def _flag_changes(args: argparse.Namespace, lang: str) -> dict[str, object]:
    changes: dict[str, object] = {}
    for name in TEXT_FIELDS:
        value = getattr(args, name, None)
        if value is not None:
            changes[name] = check_answer(name, value, lang, flag=True)
    if args.real is not None:
        changes["real"] = args.real
    if args.senses is not None:
        changes["senses"] = parse_senses(args.senses, lang)
    return changes


def _interactive(lang: str, current: SafePlace | None) -> int:
    try:
        place = guide(lang, current)
    except KeyboardInterrupt:
        print(file=sys.stderr)
        print(say(lang, "interrupted"), file=sys.stderr)
        return 130
    except EOFError:
        print(file=sys.stderr)
        print(say(lang, "eof"), file=sys.stderr)
        return 1
    print()
    if place == (current or SafePlace()):
        print(say(lang, "unchanged"))
        return 0
    save_safe_place(place)
    _print_saved(place, lang)
    return 0


def _print_saved(place: SafePlace, lang: str) -> None:
    if place.is_empty:
        print(say(lang, "cleared"))
        return
    print("\n".join(describe(place, lang)))
    print()
    print(_wrap(say(lang, "saved", path=profile_path())))
    print(_wrap(say(lang, "used")))
    print(f"  {_cmd()} run --script safe-place")  # on a line of its own: copied whole


def describe(place: SafePlace | None, lang: str) -> list[str]:
    """The safe place as a person reads it: one line per answer given, the senses last."""
    lines = [say(lang, "summary")]
    place = place or SafePlace()
    rows: list[tuple[str, str]] = []
    kind = say(lang, "real_is_true") if place.real is True else say(lang, "real_is_false") if place.real is False else ""
    for name in QUESTIONS:
        if name == "real":
            continue
        value = getattr(place, name)
        if name == "place" and kind:
            value = f"{value} ({kind})" if value else f"({kind})"
        if value:
            rows.append((say(lang, f"label_{name}"), value))
    if not rows:
        lines.append(f"  {say(lang, 'nothing_given')}")
    rows.append((say(lang, "label_senses"), _sense_list(place.senses, lang)))
    width = max(len(label) for label, _ in rows) + 2
    lines += [f"  {label:<{width}}{value}" for label, value in rows]
    return lines


def _sense_list(senses: tuple[str, ...], lang: str) -> str:
    return ", ".join(say(lang, f"sense_short_{s}") for s in senses)


# --- the guide ----------------------------------------------------------------------------------

def guide(lang: str, current: SafePlace | None, ask: Ask | None = None, out: Say | None = None) -> SafePlace:
    """Ask the questions one by one and return the new safe place (nothing is saved here).

    Enter skips a question, or keeps the earlier answer (shown in brackets); ``-`` clears it. A mistake
    is said and the question asked again. Ctrl-C and the end of input propagate (KeyboardInterrupt, EOFError).
    """
    ask = ask or read_line
    out = out or print
    before = current or SafePlace()
    out(say(lang, "title"))
    out("")
    out(_wrap(say(lang, "intro")))
    out("")
    out(_wrap(say(lang, "skip_hint") + (" " + say(lang, "keep_hint") if current else "")))
    answers: dict[str, object] = {}
    for name in QUESTIONS:
        out("")
        if name == "real":
            answers["real"] = _ask_real(lang, before.real, ask, out)
        else:
            answers[name] = _ask_text(lang, name, getattr(before, name), ask, out)
    out("")
    answers["senses"] = _ask_senses(lang, before.senses, ask, out)
    return before.with_answers(lang, **answers)


def _prompt(old: str) -> str:
    return f"[{old}] > " if old else "> "


def _ask_text(lang: str, name: str, old: str, ask: Ask, out: Say) -> str:
    out(say(lang, f"q_{name}"))
    out(f"  ({say(lang, f'ex_{name}')})")
    while True:
        answer = ask(_prompt(old)).strip()
        if not answer:
            return old
        if answer == CLEAR:
            return ""
        try:
            return check_answer(name, answer, lang)
        except UserError as err:
            out(str(err))


def _ask_real(lang: str, old: bool | None, ask: Ask, out: Say) -> bool | None:
    yes, no = say(lang, "yes_no").split("/")
    out(f"{say(lang, 'q_real')} ({say(lang, 'yes_no')})")
    while True:
        answer = ask(_prompt({True: yes, False: no, None: ""}[old])).strip().lower()
        if not answer:
            return old
        if answer == CLEAR:
            return None
        if answer in YES:
            return True
        if answer in NO:
            return False
        out(say(lang, "bad_yes_no"))


def _ask_senses(lang: str, old: tuple[str, ...], ask: Ask, out: Say) -> tuple[str, ...]:
    out(say(lang, "q_senses"))
    for n, sense in enumerate(SENSES, 1):
        out(f"  {n}  {say(lang, f'sense_{sense}')}")
    keep = old != SENSES
    current = _sense_list(old, lang)
    out(_wrap(say(lang, "senses_hint_keep") if keep else say(lang, "senses_hint")))
    while True:
        answer = ask(_prompt(current if keep else "")).strip()
        if not answer:
            return old
        if answer == CLEAR:
            return SENSES
        try:
            return parse_senses(answer, lang)
        except UserError as err:
            out(str(err))


# --- clearing and the window ---------------------------------------------------------------------

def _clear(lang: str, yes: bool) -> int:
    if PROFILE_KEY not in load_profile():
        print(say(lang, "nothing_to_clear"))
        return 0
    if not yes:
        if not stdin_is_tty():
            raise UserError(say(lang, "clear_needs_yes"))
        try:
            answer = read_line(say(lang, "clear_ask")).strip().lower()
        except EOFError:
            answer = ""
        if answer not in YES:
            print(say(lang, "not_cleared"))
            return 0
    clear_safe_place()
    print(say(lang, "cleared"))
    return 0


def _window(lang: str) -> int:
    from sessions.gui import display_available, gui_installed

    if not gui_installed():
        raise UserError(say(lang, "no_gui", cmd=_cmd()))
    if not display_available():
        raise UserError(say(lang, "no_display", cmd=_cmd()))
    from sessions.gui.safe_place_dialog import edit_safe_place

    current = load_safe_place()
    place = edit_safe_place(lang, current)
    if place is None or place == (current or SafePlace()):
        print(say(lang, "unchanged"))
        return 0
    save_safe_place(place)
    _print_saved(place, lang)
    return 0
