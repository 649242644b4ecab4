"""Text from a file (a script's title, a prompt, a problem message) shown exactly as written.

rich reads ``[word]`` as markup (a ``[/]`` in a title even raises) and a terminal obeys ANSI
escapes; a user's file must be able to do neither. Control characters are shown escaped
(``\\x1b``, ``\\x00``), newlines and tabs stay.
"""

from __future__ import annotations

import re

from rich.markup import escape

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def plain(text: object) -> str:
    """``text`` with control characters (ANSI escapes, NUL, ...) written as visible escapes."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def literal(text: object) -> str:
    """``text`` for rich markup: control characters escaped, and shown literally (no markup)."""
    return escape(plain(text))
