"""``biofeedback clients``: several clients on one computer, each with their own folder (see :mod:`sessions.clients`).

A person alone never needs this command; a therapist adds a code per client, and every other command
then works for the client chosen with ``--client CODE`` (or the one used last).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sessions import clients, settings
from sessions.errors import UserError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "clients",
        help="clients on this computer: list, add, use, export, delete",
        description="Keep clients apart on one computer: each has a pseudonymous code (K7, client-12; never a "
        "name) and a folder of their own with their sessions, profile, personal scripts and plan. Every command "
        "takes --client CODE; without it the client used last is used. Without any clients everything stays "
        "in the main folder, as for a person alone.",
    )
    p.set_defaults(func=_list, json=False)
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    ls = actions.add_parser("list", help="the clients on this computer, and which one is in use")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.set_defaults(func=_list)
    add = actions.add_parser("add", help="add a client (a code, never a name)")
    add.add_argument("code", metavar="CODE", help=f"the new client's code ({clients.CODE_RULE})")
    add.add_argument("--use", action="store_true", help="use this client from now on")
    add.set_defaults(func=_add)
    use = actions.add_parser("use", help="use this client from now on (or --none: the main folder again)")
    use.add_argument("code", metavar="CODE", nargs="?", help="the client's code")
    use.add_argument("--none", action="store_true", help="no client: back to the main folder, as for a person alone")
    use.set_defaults(func=_use)
    exp = actions.add_parser("export", help="everything of one client in one zip file (private, mode 0600)",
                             description="Write the client's folder (sessions, profile, personal scripts, plan, "
                             "diary) into one zip file the client can take along. It names the client only by "
                             "the code; the file is readable only by you.")
    exp.add_argument("code", metavar="CODE", help="the client's code")
    exp.add_argument("-o", "--output", metavar="FILE", required=True, help="the zip file to write (.zip)")
    exp.set_defaults(func=_export)
    rm = actions.add_parser("delete", help="erase a client and all their data from this computer",
                            description="Erase the client's folder: sessions, profile, personal scripts, plan, "
                            "diary and therapist unlocks. Export first if the client wants to keep them.")
    rm.add_argument("code", metavar="CODE", help="the client's code")
    rm.add_argument("--yes", action="store_true", help="do not ask (for scripts)")
    rm.set_defaults(func=_delete)


def _root() -> Path:
    return settings.current().root_dir


def _list(args: argparse.Namespace) -> int:
    root = _root()
    codes = clients.known_clients(root)
    active = clients.last_client(root)
    if args.json:
        rows = [{**clients.client_summary(root, c), "in_use": c == active} for c in codes]
        json.dump({"clients": rows, "in_use": active}, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    if not codes:
        print("No clients on this computer: everything is kept in the main folder. "
              "A therapist adds one with `biofeedback clients add CODE`.")
        return 0
    for code in codes:
        row = clients.client_summary(root, code)
        last = row["last_session"]
        when = f", last {str(last)[:4]}-{str(last)[4:6]}-{str(last)[6:8]}" if last else ""
        mark = "* " if code == active else "  "
        print(f"{mark}{code}: {row['sessions']} session(s), {row['personal_scripts']} personal script file(s){when}")
    print("* in use" if active else "No client in use: commands use the main folder until `biofeedback clients use CODE`.")
    return 0


def _add(args: argparse.Namespace) -> int:
    root = _root()
    folder = clients.add_client(root, args.code)
    if args.use:
        clients.remember_client(root, args.code)
    print(f"Added client {args.code} ({folder}).")
    print("In use now." if args.use else f"Work for them with --client {args.code}, or `biofeedback clients use "
          f"{args.code}`.")
    return 0


def _use(args: argparse.Namespace) -> int:
    root = _root()
    if args.none == (args.code is not None):
        raise UserError("Give a client's code, or --none for the main folder (not both).")
    if args.none:
        clients.remember_client(root, None)
        print("No client in use: commands use the main folder.")
        return 0
    clients.resolve_client(root, clients.check_code(args.code))
    clients.remember_client(root, args.code)
    print(f"Client {args.code} is in use.")
    return 0


def _export(args: argparse.Namespace) -> int:
    out, count = clients.export_client(_root(), clients.check_code(args.code), Path(args.output))
    print(f"Exported client {args.code}: {count} file(s) in {out} (readable only by you). It contains health "
          "data: hand it over in person or encrypted.")
    return 0


def _delete(args: argparse.Namespace) -> int:
    root = _root()
    code = clients.check_code(args.code)
    folder = clients.require_client(root, code)
    if not args.yes:
        if not sys.stdin.isatty():
            raise UserError(f"deleting client {code} needs a confirmation; add --yes to delete without asking.")
        summary = clients.client_summary(root, code)
        answer = input(f"Erase client {code} ({summary['sessions']} session(s), profile, scripts) for good? "
                       f"Type the code to confirm: ").strip()
        if answer != code:
            print("Nothing deleted.")
            return 1
    count = clients.delete_client(root, code)
    print(f"Deleted client {code}: {count} file(s) erased with their folder {folder}.")
    return 0
