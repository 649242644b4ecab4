"""The ``run`` flag for Lab Streaming Layer and the hook that attaches its outlets to a session (see sessions.addons)."""

from __future__ import annotations

import argparse
import re
from typing import Any

from sessions.errors import UserError

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
DEFAULT_NAME = "biofeedback"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Lab Streaming Layer (optional: for a lab's recorder)")
    group.add_argument("--lsl", nargs="?", const=DEFAULT_NAME, metavar="NAME",
                       help="publish this session as LSL streams on the local network: beats (RR ms and label), "
                            "heart rate and metrics at 1 Hz, the strap's ECG and chest acceleration when it sends "
                            f"them, and the exercise's events as markers; stream names start with NAME (default "
                            f"{DEFAULT_NAME}); needs the 'lsl' extra")


def attach(runner: Any, args: argparse.Namespace, lang: str, console: Any):
    name = getattr(args, "lsl", None)
    if name is None:
        return None
    if not NAME.match(name):
        raise UserError("--lsl NAME takes 1-32 letters, digits, '_', '.' or '-', starting with a letter or digit.")
    from sessions.lsl.outlets import LslPublisher, load_pylsl

    return LslPublisher(runner, load_pylsl(), name=name, lang=lang, console=console)
