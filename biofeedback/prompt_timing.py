"""When each spoken line of a step comes: spread across the step, with room to feel after an invitation.

Why it is built this way:

* **Quiet is part of the exercise.** A sensory invitation ("What can you smell there?") needs time to
  be answered inwardly: 10-15 s of quiet follow it; any other line gets at least a few seconds.
  Timing lines by a words-per-minute guess and a fixed pause gave bursts of prompts 2-8 s apart and
  then a minute or more of silence at the end of the step.
* **The step's typical length is filled, not front-loaded.** Whatever the step has left after its
  lines and their minimum pauses is spread over the pauses, more of it after invitations, and no
  pause grows past the script's longest allowed silence (``max_quiet_s``). When the lines do not fit,
  pauses shrink to their minimum and the step runs longer; the step never talks faster.
* **Seconds come from the voice itself** where one is known (the recording, the neural voice or
  espeak-ng's samples); :func:`estimate_speech_s` is the stand-in at the speaking rate the app asks
  for when there is no sound.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

SPEAKING_WPM = 120.0
"""Calm speech: slower than conversation (150-160 words/min)."""
SENTENCE_GAP_S = 1.0
"""Silence between two sentences of one line."""
_SENTENCE_END = re.compile(r"[.!?](?=\s+\S)")


@dataclass(frozen=True, slots=True)
class QuietRule:
    """Pauses after a line, in seconds: at least ``min_s``, ``preferred_s`` when there is room, and
    more (up to the script's longest silence) only when the step would otherwise fall quiet at the end."""

    min_s: float
    preferred_s: float
    weight: float
    """Share of any extra room this kind of line gets (invitations get more)."""


AFTER_INVITATION = QuietRule(min_s=10.0, preferred_s=12.0, weight=2.0)
AFTER_LINE = QuietRule(min_s=3.0, preferred_s=4.0, weight=1.0)
DEFAULT_MAX_QUIET_S = 40.0


def estimate_speech_s(text: str, wpm: float = SPEAKING_WPM) -> float:
    """Speaking time of ``text`` at ``wpm`` words per minute, with the pauses between its sentences."""
    words = len(text.split())
    sentences = 1 + len(_SENTENCE_END.findall(text.strip()))
    return words * 60.0 / wpm + SENTENCE_GAP_S * (sentences - 1)


def spread_quiet(speech_s: Sequence[float], invitation: Sequence[bool], span_s: float | None,
                 max_quiet_s: float = DEFAULT_MAX_QUIET_S) -> tuple[float, ...]:
    """The quiet after each line so that the lines fill ``span_s`` (the step's typical length).

    The last line's quiet is the silence before the step ends. Returns one pause per line; the line
    slots (speech + pause) add up to ``span_s`` when that is possible within the rules, else to the
    nearest they can.
    """
    if len(speech_s) != len(invitation):
        raise ValueError("one invitation flag per line")
    rules = [AFTER_INVITATION if inv else AFTER_LINE for inv in invitation]
    n = len(rules)
    if n == 0:
        return ()
    cap = [max(max_quiet_s, r.min_s) for r in rules]
    quiet = [min(r.preferred_s, c) for r, c in zip(rules, cap)]
    if span_s is None:
        return tuple(quiet)
    room = span_s - sum(speech_s) - sum(quiet)
    if room < 0:
        # Too little time: pauses shrink toward their minimum, evenly by the room each has to give.
        give = [q - r.min_s for q, r in zip(quiet, rules)]
        total = sum(give)
        share = min(1.0, -room / total) if total > 0 else 0.0
        return tuple(q - g * share for q, g in zip(quiet, give))
    # Water-filling: extra room by weight, no pause past its cap.
    open_ = [i for i in range(n) if quiet[i] < cap[i]]
    while room > 1e-9 and open_:
        weights = sum(rules[i].weight for i in open_)
        step = room / weights
        still = []
        for i in open_:
            add = min(step * rules[i].weight, cap[i] - quiet[i])
            quiet[i] += add
            room -= add
            if quiet[i] < cap[i] - 1e-9:
                still.append(i)
        open_ = still
    return tuple(quiet)


def hold_delay_s(max_quiet_s: float) -> float:
    """After a step's last line has had its time, how long the silence may grow before a hold line
    ("take your time") is said: well inside the longest silence the script allows."""
    return 0.75 * max_quiet_s
