"""Writing the user's health data: every file private (0600) from its first byte.

One place for it, so that no output (report, export, WAV, picture, profile) is briefly readable
by others, and a file that already existed with a looser mode is tightened too.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


@contextlib.contextmanager
def open_private(path: str | Path, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open ``path`` for writing (truncated), mode 0600 even if it existed before."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, mode) as fh:
        yield fh


def write_private(path: str | Path, data: bytes) -> Path:
    with open_private(path) as fh:
        fh.write(data)
    return Path(path)


def picture_bytes(widget: Any, suffix: str) -> bytes | None:
    """A Qt widget rendered as PNG (or JPEG by suffix) in memory; None if it could not be encoded."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    fmt = "JPG" if suffix.lower() in (".jpg", ".jpeg") else "PNG"
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    ok = widget.grab().save(buf, fmt)
    buf.close()
    return bytes(data) if ok else None
