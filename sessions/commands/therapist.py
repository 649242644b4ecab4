"""``biofeedback therapist``: the therapist sets a passphrase on the client's computer and unlocks scripts.

Done together, in the room: the passphrase is typed without echo (twice when it is new) and stored
only as a slow hash (see :mod:`sessions.therapist`); ``unlock`` and ``lock`` need it, ``status``
does not (it shows whether a passphrase is set and which scripts are unlocked).
"""

from __future__ import annotations

import argparse
import sys

from sessions.errors import UserError
from sessions.exercises import Script, discover
from sessions.therapist import (
    MIN_LENGTH,
    add_passphrase_argument,
    gate_path,
    home_allowance,
    is_set,
    read_passphrase,
    read_passphrase_file,
    recorded_home,
    recorded_unlocks,
    set_home,
    set_passphrase,
    set_unlocked,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "therapist",
        help="for the therapist: a passphrase, therapist-only exercises unlocked and personal scripts allowed alone",
        description="Therapist-only exercises start only in therapist mode (run --therapist), which asks for the "
        "therapist's passphrase. Set it here on the client's computer, together, and unlock the exercises "
        "you mean to do with this client. The passphrase is stored only as a slow hash; one passphrase serves "
        "every client on this computer, while unlocks and home allowances are kept per client (--client CODE).",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    setp = actions.add_parser(
        "set-passphrase",
        help="set or change the therapist passphrase (asked twice, without echo)",
        description=f"Set the therapist passphrase (at least {MIN_LENGTH} characters). Changing it asks the "
        "current one first.",
    )
    add_passphrase_argument(setp)
    setp.add_argument("--new-passphrase-file", metavar="FILE",
                      help="read the new passphrase from the first line of FILE instead of asking (for automation)")
    setp.set_defaults(func=_set_passphrase)
    for name, verb in (("unlock", "unlock"), ("lock", "lock again")):
        q = actions.add_parser(name, help=f"{verb} a therapist-only exercise for this client (needs the passphrase)")
        q.add_argument("script", metavar="SCRIPT", help="the exercise id (see `biofeedback scripts`)")
        add_passphrase_argument(q)
        q.set_defaults(func=_unlock if name == "unlock" else _lock)
    st = actions.add_parser("status", help="whether a passphrase is set, and which exercises are unlocked")
    st.set_defaults(func=_status)
    home = actions.add_parser(
        "allow-home", help="let this client do one of their personal scripts alone (needs the passphrase)",
        description="Let the client do a personal script (see `biofeedback scripts new`) alone, at most N times a "
        "day. What you allow is this text: if the file changes, it is no longer allowed until you allow it again. "
        "A therapist-only (rehearsal) script needs its home version first ([meta] home_version = true with "
        "home_warning, home_closing and home_help).")
    home.add_argument("script", metavar="SCRIPT", help="the personal script's id")
    home.add_argument("--max-per-day", type=_per_day, metavar="N", default=None,
                      help="at most N sessions a day alone (1-10; default: no limit)")
    add_passphrase_argument(home)
    home.set_defaults(func=_allow_home)
    nohome = actions.add_parser("disallow-home", help="take back doing a personal script alone (needs the passphrase)")
    nohome.add_argument("script", metavar="SCRIPT", help="the personal script's id")
    add_passphrase_argument(nohome)
    nohome.set_defaults(func=_disallow_home)
    from sessions.commands.therapist_broker import add_parser as add_broker_config

    add_broker_config(actions)


def _new_passphrase(args: argparse.Namespace) -> str:
    if args.new_passphrase_file:
        return read_passphrase_file(args.new_passphrase_file)
    if not sys.stdin.isatty():
        raise UserError("There is no terminal to ask the new passphrase on; give --new-passphrase-file FILE.")
    import getpass

    first = getpass.getpass("New therapist passphrase: ")
    if len(first) < MIN_LENGTH:
        raise UserError(f"That passphrase is too short; use at least {MIN_LENGTH} characters (a few words work well).")
    if getpass.getpass("The same passphrase again: ") != first:
        raise UserError("The two passphrases differ; nothing was changed.")
    return first


def _set_passphrase(args: argparse.Namespace) -> int:
    current = None
    if is_set():
        current = read_passphrase(args.passphrase_file, "Current therapist passphrase: ")
    set_passphrase(_new_passphrase(args), current)
    print(f"Therapist passphrase {'changed' if current else 'set'} (stored as a slow hash in {gate_path()}).")
    return 0


def _therapist_only(script_id: str) -> None:
    found = [s for (sid, _), s in discover().scripts.items() if sid == script_id]
    if not found:
        raise UserError(f"There is no script called '{script_id}'; 'biofeedback scripts' lists them.")
    if not any(s.therapist_only for s in found):
        raise UserError(f"The script '{script_id}' is an everyday exercise; it needs no unlocking.")


def _unlock(args: argparse.Namespace) -> int:
    _therapist_only(args.script)
    unlocked = set_unlocked(read_passphrase(args.passphrase_file), args.script, True)
    print(f"Unlocked for this client: {', '.join(unlocked)}. Start it with: biofeedback run --therapist "
          f"--script {args.script}")
    return 0


def _lock(args: argparse.Namespace) -> int:
    unlocked = set_unlocked(read_passphrase(args.passphrase_file), args.script, False)
    print(f"'{args.script}' is locked again. Unlocked for this client: {', '.join(unlocked) or 'none'}.")
    return 0


def _status(args: argparse.Namespace) -> int:
    if not is_set():
        print("No therapist passphrase is set on this computer: therapist-only exercises stay closed.")
        return 0
    unlocked = recorded_unlocks()
    print(f"A therapist passphrase is set ({gate_path()}).")
    print(f"Unlocked for this client: {', '.join(unlocked) or 'none'} (each start still asks the passphrase).")
    home = recorded_home()
    allowed = [f"{sid} ({_per_day_text(a.get('max_per_day'))})" for sid, a in sorted(home.items())]
    print(f"Allowed alone: {', '.join(allowed) or 'none'}.")
    return 0


def _per_day(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of sessions a day (1-10)") from None
    if not 1 <= n <= 10:
        raise argparse.ArgumentTypeError(f"{n} sessions a day is outside 1-10")
    return n


def _per_day_text(limit: object) -> str:
    return f"at most {limit} a day" if isinstance(limit, int) else "no daily limit"


def _personal_files(script_id: str) -> dict[str, Script]:
    """The personal script ``script_id`` per language, as the catalogue finds it; one sentence when it is not one."""
    catalog = discover()
    found = {lang: s for (sid, lang), s in catalog.scripts.items() if sid == script_id}
    broken = [p for p in catalog.problems if p.path is not None and p.path.name.startswith(f"{script_id}.")]
    if broken:
        raise broken[0]
    if not found:
        raise UserError(f"There is no script called '{script_id}'; 'biofeedback scripts' lists them.")
    if not all(s.personal for s in found.values()):
        raise UserError(f"'{script_id}' is not a personal script; only a client's own scripts (biofeedback scripts "
                        "new) can be allowed at home.")
    missing_home = [lang for lang, s in found.items() if s.therapist_only and s.home is None]
    if missing_home:
        path = found[missing_home[0]].source
        raise UserError(f"'{script_id}' is for use with a therapist and has no home version yet; in {path} remove the "
                        "# before home_version, home_warning, home_closing and home_help, read them through, and "
                        "allow it again.")
    return found


def _allow_home(args: argparse.Namespace) -> int:
    found = _personal_files(args.script)
    files = {lang: s.source for lang, s in found.items() if s.source is not None}
    home = set_home(read_passphrase(args.passphrase_file), args.script, home_allowance(files, args.max_per_day))
    print(f"'{args.script}' may now be done alone by this client ({_per_day_text(args.max_per_day)}; "
          f"{', '.join(sorted(files))}). Allowed alone: {', '.join(sorted(home))}.")
    print("If the file changes, it is no longer allowed until you allow it again.")
    return 0


def _disallow_home(args: argparse.Namespace) -> int:
    home = set_home(read_passphrase(args.passphrase_file), args.script, None)
    print(f"'{args.script}' is no longer to be done alone. Allowed alone: {', '.join(sorted(home)) or 'none'}.")
    return 0
