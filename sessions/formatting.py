"""How numbers and times read in every view (terminal, window, watch): the same everywhere."""

from __future__ import annotations

from typing import Any


def number(value: Any, pattern: str = "{:.0f}") -> str:
    """A value as text, or an en dash while it is not known."""
    if value is None:
        return "–"
    return pattern.format(value) if isinstance(value, (int, float)) else str(value)


def clock(seconds: Any) -> str:
    """Seconds as mm:ss (– when unknown)."""
    if not isinstance(seconds, (int, float)):
        return "–"
    seconds = max(0, int(seconds))
    return f"{seconds // 60:02d}:{seconds % 60:02d}"
