"""Skip the quiet baseline of a simulated or replayed session, then go on in real time.

For the soak test, the benchmarks and demos: the window's costly part (a moving pacer, curves with
history) only starts after the 75-120 s baseline. The source plays as fast as possible until the
first exercise step, then its clock continues at ``speed`` from where it is.
"""

from __future__ import annotations

from typing import Any

from sessions.events import EventKind, StepKind
from sessions.runner import SessionRunner


def fast_forward_to_exercise(runner: SessionRunner, speed: float = 1.0) -> None:
    clock = runner.playback_clock
    if clock is None:
        raise ValueError("only a simulated or replayed session can be fast-forwarded")
    clock.set_speed(None)

    def on_event(kind: EventKind, t: float, data: dict[str, Any]) -> None:
        if kind is EventKind.STEP and data.get("kind") != StepKind.BASELINE and clock.speed is None:
            clock.set_speed(speed)

    runner.subscribe(on_event)
