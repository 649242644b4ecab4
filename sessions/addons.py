"""Optional parts of a running session: sound, MQTT, Lab Streaming Layer. Each lives in its own package and may be absent.

An add-on module offers ``add_arguments(parser)`` (its ``run`` flags) and
``attach(runner, args, lang, console)``, which returns an async context manager (or None when the
flags leave it off). It is entered once the runner exists and exited when the session ends, so it
can start its own tasks on the event loop. An add-on must never make the session fail: its errors
are logged and the session goes on.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import logging
from typing import Any

log = logging.getLogger(__name__)

ADDON_MODULES = ("sessions.audio.addon", "sessions.mqtt.addon", "sessions.lsl.addon")


def _available() -> list[Any]:
    mods = []
    for name in ADDON_MODULES:
        try:
            if importlib.util.find_spec(name) is None:
                continue
        except ModuleNotFoundError:
            continue
        mods.append(importlib.import_module(name))
    return mods


def add_addon_arguments(parser: argparse.ArgumentParser) -> None:
    for mod in _available():
        mod.add_arguments(parser)


@contextlib.asynccontextmanager
async def attached_addons(runner: Any, args: argparse.Namespace, lang: str, console: Any):
    async with contextlib.AsyncExitStack() as stack:
        for mod in _available():
            manager = mod.attach(runner, args, lang, console)
            if manager is not None:
                await stack.enter_async_context(manager)
        yield
