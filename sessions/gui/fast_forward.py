"""Skip the quiet baseline of a simulated or replayed session, then go on in real time.

For the soak test, the benchmarks and demos: the window's costly part (a moving pacer, curves with
history) only starts after the 75-120 s baseline. The source plays as fast as possible until the
first exercise step, then its clock continues at ``speed`` from where it is.
"""

from __future__ import annotations

from typing import Any

from devices.source import PlaybackClock


def fast_forward_to_exercise(runner: Any, speed: float = 1.0) -> None:
    clock: PlaybackClock = runner.source.clock
    clock.set_speed(None)

    def on_event(kind: str, t: float, data: dict[str, Any]) -> None:
        if kind == "step" and data.get("kind") != "baseline" and clock.speed is None:
            clock.set_speed(speed)

    runner.listeners.append(on_event)
