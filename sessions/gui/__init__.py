"""The live session window (pyqtgraph on PySide6, one event loop with asyncio via qasync).

Nothing here imports Qt at import time: the core command line works without the ``gui`` extra.
Import :mod:`sessions.gui.window` (and friends) only after :func:`gui_installed` said yes.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

GUI_MODULES = ("PySide6", "pyqtgraph", "qasync")
QT_PROBE_TIMEOUT_S = 20.0
_QT_PROBE = "from PySide6.QtWidgets import QApplication; QApplication(['biofeedback-probe'])"


def install_hint() -> str:
    """How to add the window to this installation, as a command to paste."""
    from sessions.extras import install_command

    return f"install the window with: {install_command('gui')}"


def pin_binding() -> None:
    """Make qasync and pyqtgraph use PySide6 even when PyQt5/PyQt6 is installed too.

    qasync picks the first binding it finds in the order PyQt5, PyQt6, PySide2, PySide6, and two Qt
    bindings loaded into one process fail with undefined Qt symbols. Only this process is affected.
    """
    os.environ["QT_API"] = "pyside6"
    os.environ["PYQTGRAPH_QT_LIB"] = "PySide6"


pin_binding()  # every module of this package imports Qt only after this line has run


def gui_installed() -> bool:
    """True when the ``gui`` extra (PySide6, pyqtgraph, qasync) can be imported."""
    try:
        return all(importlib.util.find_spec(name) is not None for name in GUI_MODULES)
    except (ImportError, ValueError):
        return False


def display_available(environ: dict[str, str] | None = None, platform: str | None = None) -> bool:
    """Whether a person could see a window here.

    On Linux and the BSDs that means an X11 or Wayland display; Qt's ``offscreen`` and ``minimal``
    platforms render for nobody, so they do not count. macOS and Windows always have a screen.
    """
    env = os.environ if environ is None else environ
    plat = sys.platform if platform is None else platform
    if env.get("QT_QPA_PLATFORM", "").split(":")[0] in ("offscreen", "minimal"):
        return False
    if plat.startswith(("win", "darwin")):
        return True
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def qt_platform_problem() -> str | None:
    """Why Qt cannot open a window here (one sentence), or None when it can.

    Why a separate process: when Qt's platform plugin cannot load (on Linux typically because
    ``libxcb-cursor0`` is missing, or the display is gone), Qt aborts the whole process (SIGABRT, exit
    134) and nothing can catch it. Trying once in a child costs about half a second and lets the app
    fall back to the terminal view instead of dying before the session starts.
    """
    try:
        probe = subprocess.run([sys.executable, "-c", _QT_PROBE], capture_output=True, text=True,
                               timeout=QT_PROBE_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"Qt could not be started ({err})"
    if probe.returncode == 0:
        return None
    lines = [ln.strip() for ln in probe.stderr.splitlines() if ln.strip()]
    plugin = next((ln for ln in lines if "platform plugin" in ln), None)
    detail = (plugin or (lines[-1] if lines else f"exit status {probe.returncode}")).removeprefix("qt.qpa.plugin: ")
    hint = " (on Debian/Ubuntu: sudo apt install libxcb-cursor0)" if "xcb" in detail else ""
    return f"the window cannot open on this display: {detail}{hint}"
