"""Finding lines in TOML text: ``tomllib`` gives no positions for values, so the validator asks here.

A small scanner of table headers and keys (strings skipped), good enough to point a therapist editing
a script at the right line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping



_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'')


def _norm_key(key: str) -> list[str]:
    return [p.strip().strip('"').strip("'") for p in key.split(".")]


def _key_lines(text: str) -> dict[str, int]:
    """Map dotted paths (``steps[2].senses.sound``, 0-based) to the 1-based line defining them.

    A small scanner, not a parser: it knows table headers, arrays of tables, dotted keys, and
    skips the insides of multi-line strings and arrays. Good enough to point a person at a line.
    """
    positions: dict[str, int] = {}
    counts: dict[str, int] = {}
    current: list[str] = []
    skip_until: str | None = None
    depth = 0

    def resolve(parts: list[str]) -> list[str]:
        out: list[str] = []
        plain: list[str] = []
        for p in parts:
            plain.append(p)
            key = ".".join(plain)
            out.append(f"{p}[{counts[key] - 1}]" if key in counts else p)
        return out

    for n, raw in enumerate(text.splitlines(), 1):
        if skip_until is not None:
            if skip_until in raw:
                skip_until = None
            continue
        line = _STRINGS.sub('""', raw.split("#", 1)[0] if '"' not in raw and "'" not in raw else raw)
        if depth > 0:
            depth += line.count("[") + line.count("{") - line.count("]") - line.count("}")
            depth = max(depth, 0)
            continue
        s = raw.strip()
        if not s or s.startswith("#"):
            continue
        if m := re.match(r"^\[\[\s*(.+?)\s*\]\]", s):
            parts = _norm_key(m.group(1))
            plain = ".".join(parts)
            counts[plain] = counts.get(plain, 0) + 1
            current = resolve(parts)
            positions[".".join(current)] = n
            continue
        if m := re.match(r"^\[\s*(.+?)\s*\]", s):
            current = resolve(_norm_key(m.group(1)))
            positions[".".join(current)] = n
            continue
        if m := re.match(r"^([A-Za-z0-9_\-\.\"' ]+?)\s*=\s*(.*)$", s):
            path = ".".join(current + _norm_key(m.group(1)))
            positions.setdefault(path, n)
            value = m.group(2)
            for quote in ('"""', "'''"):
                if value.startswith(quote) and value.count(quote) == 1:
                    skip_until = quote
            if skip_until is None:
                v = _STRINGS.sub('""', value)
                depth = max(v.count("[") + v.count("{") - v.count("]") - v.count("}"), 0)
    return positions


def _locate(positions: Mapping[str, int], path: str) -> int:
    while path:
        if path in positions:
            return positions[path]
        path = path.rsplit(".", 1)[0] if "." in path else ""
    return 1
