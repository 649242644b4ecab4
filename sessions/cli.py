"""The ``biofeedback`` command: subcommands live in :mod:`sessions.commands`."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from devices.errors import DeviceError
from sessions.commands import COMMANDS
from sessions.errors import UserError
from sessions import clients, settings

log = logging.getLogger("biofeedback")

DESCRIPTION = """\
HRV biofeedback with guided imagery. A chest strap (any Bluetooth Heart Rate Service strap,
e.g. Polar H10) streams heartbeats; a breathing pacer and imagery prompts follow your body.
No strap at hand? Every command that needs one also takes --simulate.

This is a relaxation tool, not a medical device: it diagnoses and treats nothing.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="biofeedback",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    parser.add_argument("--client", metavar="CODE", default=None, help=CLIENT_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"sessions.commands.{name}").register(sub)
    _add_client_option(sub)
    return parser


CLIENT_HELP = ("work for this client: a pseudonymous code such as K7, never a name (default: the client used last; "
               "`biofeedback clients` lists them)")


def _add_client_option(sub: argparse._SubParsersAction) -> None:
    """``--client CODE`` on every subcommand, at every level, so it may come before or after the subcommand.

    Suppressed by default: a subcommand that was not given it leaves the value given before it alone.
    """
    seen: set[int] = set()
    for parser in sub.choices.values():
        if id(parser) in seen:
            continue  # an alias of a subcommand already done
        seen.add(id(parser))
        if not any("--client" in action.option_strings for action in parser._actions):
            parser.add_argument("--client", metavar="CODE", default=argparse.SUPPRESS, help=CLIENT_HELP)
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                _add_client_option(action)


def _setup_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


NO_DATA_FOLDER = frozenset({"decode", "scan", "stream", "help", "scripts", "watch"})
"""Commands that never read or write the data folder (a broken one must not stop them)."""
NO_CLIENT = frozenset({"decode", "scan", "stream", "help", "watch", "clients"})
"""Commands that touch no client's data (``clients`` chooses among them itself)."""


def _choose_client(args: argparse.Namespace) -> None:
    """Make the client's folder current (``--client CODE``, else the one used last) and say which, first.

    Said on stderr, so that ``--json`` output stays JSON; said only where clients exist, so a person
    alone never reads about them.
    """
    base = settings.Settings.from_environment()
    settings.configure(base)
    requested = args.client
    if args.command in NO_CLIENT:
        return
    if requested is None and not clients.known_clients(base.root_dir):
        return
    code = clients.resolve_client(base.root_dir, None if requested is None else clients.check_code(requested))
    if code is not None:
        if requested is not None:
            clients.remember_client(base.root_dir, code)
        settings.configure(base.for_client(code))
        print(f"{'cliënt' if _lang(args, base) == 'nl' else 'client'} {code}", file=sys.stderr)
    elif _lang(args, base) == "nl":
        print("cliënt: geen (de hoofdmap; kies er een met `biofeedback clients use CODE`)", file=sys.stderr)
    else:
        print("client: none (the main folder; `biofeedback clients use CODE` chooses one)", file=sys.stderr)


def _lang(args: argparse.Namespace, base: settings.Settings) -> str:
    """The language the command speaks: its --lang where it has one, else the settings'."""
    lang = getattr(args, "lang", None)
    return lang if lang in ("nl", "en") else base.language


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    settings.configure(settings.Settings.from_environment())
    try:
        problem = None if args.command in NO_DATA_FOLDER else settings.data_dir_problem(settings.current().data_dir)
        if problem is not None:
            raise UserError(problem)
        _choose_client(args)
        return int(args.func(args) or 0)
    except (UserError, DeviceError) as err:
        print(f"biofeedback {args.command}: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Stopped.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `biofeedback stream ... | head` closes the pipe early: that is not an error.
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
