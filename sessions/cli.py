"""The ``biofeedback`` command: subcommands live in :mod:`sessions.commands`."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from devices.errors import DeviceError
from sessions.commands import COMMANDS
from sessions.errors import UserError
from sessions import settings

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
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"sessions.commands.{name}").register(sub)
    return parser


def _setup_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


NO_DATA_FOLDER = frozenset({"decode", "scan", "stream", "help", "scripts", "watch"})
"""Commands that never read or write the data folder (a broken one must not stop them)."""


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    settings.configure(settings.Settings.from_environment())
    try:
        problem = None if args.command in NO_DATA_FOLDER else settings.data_dir_problem(settings.current().data_dir)
        if problem is not None:
            raise UserError(problem)
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
