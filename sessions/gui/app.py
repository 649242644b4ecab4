"""One event loop for Qt and asyncio: a qasync loop that bleak, aiomqtt and the runner share."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


def qt_application(offscreen: bool = False):
    """The process's QApplication (made once). ``offscreen`` renders without a display."""
    if offscreen:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(["biofeedback"])
    assert isinstance(app, QApplication)
    # The window decides when the session is over; closing it must not stop the loop under the runner.
    app.setQuitOnLastWindowClosed(False)
    app.setApplicationName("biofeedback")
    return app


def run_in_qt(coro: Coroutine[Any, Any, T], *, offscreen: bool = False) -> T:
    """Run ``coro`` to the end in a qasync loop: Qt's events and asyncio's tasks on one thread."""
    import qasync

    app = qt_application(offscreen)
    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        return runner.run(coro)
