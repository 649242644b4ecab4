"""When and how ``run`` asks for the ratings (see :mod:`sessions.ratings`), and where they are kept.

Asked: in the window as a small dialog, in a terminal as prompts. Not asked: with ``--no-ratings``, for a
replay of a recording (not the person's own session), with no one there (stdin not a terminal and no
window, e.g. a service or a pipe: skipped silently), and after a bedtime session (the person may be asleep;
the before-rating, one number while they are still choosing to start, is asked).

The before-rating is recorded at time 0; the after-rating is added to the record once it is safely
closed (:func:`sessions.store.append_event`), so closing the terminal during the question loses nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path
from typing import Any

from rich.console import Console

from sessions.errors import UserError
from sessions.events import EventKind, RatingWhen, StepKind, event_data
from sessions.exercises import Script
from sessions.ratings import Rating, advice, ask_terminal, needs_advice, terminal_can_ask, text
from sessions.store import append_event

log = logging.getLogger(__name__)


def is_imagery(script: Script) -> bool:
    """Vividness is asked when the exercise had imagery steps."""
    return any(step.kind == StepKind.IMAGERY for step in script.steps)


class RatingAsker:
    """``mode``: ``"window"``, ``"terminal"`` or None (nothing asked)."""

    def __init__(self, lang: str, mode: str | None, *, imagery: bool, bedtime: bool) -> None:
        self.lang, self.mode, self.imagery, self.bedtime = lang, mode, imagery, bedtime

    @classmethod
    def for_run(cls, args: argparse.Namespace, lang: str, script: Script, window: str | None,
                bedtime: bool) -> RatingAsker:
        mode: str | None = None
        if getattr(args, "no_ratings", False) or getattr(args, "replay", None):
            mode = None
        elif window == "screen":
            mode = "window"
        elif window is None and terminal_can_ask():
            mode = "terminal"
        return cls(lang, mode, imagery=is_imagery(script), bedtime=bedtime)

    async def ask(self, when: RatingWhen, before: Rating | None = None, parent: Any = None) -> Rating | None:
        if self.mode is None or (when is RatingWhen.AFTER and self.bedtime):
            return None
        if self.mode == "window":
            from sessions.gui.rating_dialog import ask_rating

            return await ask_rating(self.lang, when, imagery=self.imagery, before=before, parent=parent)
        # input() would block the loop; nothing else runs yet (before) or any more (after), but a thread keeps it clean.
        return await asyncio.to_thread(ask_terminal, when, self.lang, imagery=self.imagery)

    async def after(self, path: Path, t: float, before: Rating | None, console: Console, parent: Any = None) -> None:
        """The after-rating, added to the closed record; the advice when something came up (the window's
        dialog shows it itself)."""
        rating = await self.ask(RatingWhen.AFTER, before, parent)
        if rating is None:
            return
        try:
            append_event(path, t, EventKind.RATING.value, event_data(EventKind.RATING, rating.data()))
        except UserError as err:
            log.error("The rating was not kept: %s", err)
            return
        if self.mode == "terminal":
            console.print(text(self.lang, "thanks"), highlight=False)
            if needs_advice(before, rating):
                console.print(advice(self.lang), highlight=False, soft_wrap=True)
