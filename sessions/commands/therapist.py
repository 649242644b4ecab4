"""``biofeedback therapist``: the therapist sets a passphrase on the client's computer and unlocks scripts.

Done together, in the room: the passphrase is typed without echo (twice when it is new) and stored
only as a slow hash (see :mod:`sessions.therapist`); ``unlock`` and ``lock`` need it, ``status``
does not (it shows whether a passphrase is set and which scripts are unlocked).
"""

from __future__ import annotations

import argparse
import sys

from sessions.errors import UserError
from sessions.exercises import discover
from sessions.therapist import (
    MIN_LENGTH,
    add_passphrase_argument,
    gate_path,
    is_set,
    read_passphrase,
    read_passphrase_file,
    recorded_unlocks,
    set_passphrase,
    set_unlocked,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "therapist",
        help="for the therapist: set a passphrase and unlock therapist-only exercises for this client",
        description="Therapist-only exercises start only in therapist mode (run --therapist), which asks for the "
        "therapist's passphrase. Set it here on the client's computer, together, and unlock the exercises "
        "you mean to do with this client. The passphrase is stored only as a slow hash.",
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
    return 0
