"""Running whole sessions at full speed on the simulated person, for the closed-loop tests, and in the
live window (offscreen) for the window tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from devices.simulated_strap import SimulatedStrap
from devices.simulator import Person, person_profile
from sessions.events import EventKind
from sessions.exercises import SENSES, load_common, load_script
from sessions.runner import RunResult, SessionRunner
from sessions.store import SessionReader, SessionWriter


@dataclass
class Ran:
    result: RunResult
    runner: SessionRunner
    path: Path

    def events(self, kind: str | None = None):
        with SessionReader(self.path) as reader:
            return reader.events(kind)


async def run_session(tmp_path: Path, script: str = "safe-place", lang: str = "en", person: Person | str = "follows",
                      *, seed: int = 1, duration_s: float | None = None, senses=SENSES, control=None,
                      stored_baseline: dict | None = None, therapist_mode: bool = False,
                      own: dict[str, str] | None = None) -> Ran:
    person_obj = person_profile(person) if isinstance(person, str) else person
    source = SimulatedStrap(person_obj, seed=seed, speed=None)
    path = tmp_path / f"{script}-{lang}-{seed}.biofeedback.sqlite"
    writer = SessionWriter(path, {"script": script, "language": lang, "source": source.describe()})
    runner = SessionRunner(source, load_script(script, lang, therapist_mode=True), load_common(lang), writer,
                           senses=senses, duration_s=duration_s, stored_baseline=stored_baseline,
                           therapist_mode=therapist_mode, own=own)
    if control is not None:
        runner.listeners.append(lambda kind, t, data: control(runner, kind, t, data))
    result = await runner.run()
    writer.close(end_reason=result.reason)
    return Ran(result, runner, path)


def run_in_window(runner: SessionRunner, window, writer: SessionWriter, watch: Callable[[float], None] | None = None,
                  at_end: Callable[[], None] | None = None) -> RunResult:
    """Run the session live in ``window`` as the app does (``watch`` sees every frame), then let the window go
    and close the record; ``at_end`` runs once the session is over, before the window goes.

    Besides the window's 30-Hz timer (whose frame count depends on how busy the machine is), a frame is drawn
    at every 5-s metrics row: at least one frame per 5 s of session time, however loaded the machine.
    """
    import asyncio

    from sessions.gui.app import run_in_qt

    if watch is not None:
        window.frame_listeners.append(watch)
    runner.subscribe(lambda kind, t, data: window.frame() if kind is EventKind.METRICS else None)

    async def go() -> RunResult:
        task = asyncio.ensure_future(runner.run())
        await window.run_live(task)
        result = await task
        if at_end is not None:
            at_end()
        await window.linger()
        writer.close(end_reason=result.reason)
        return result

    return run_in_qt(go())
