"""Writing the user's health data: every file private (0600) from its first byte.

One place for it, so that no output (report, export, WAV, picture, profile) is briefly readable
by others, and a file that already existed with a looser mode is tightened too.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from sessions.errors import UserError

log = logging.getLogger(__name__)


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


def replace_private(path: str | Path, data: bytes) -> Path:
    """Write ``path`` whole or not at all: a reader sees the old or the new content, never half.

    The temporary file has a name of its own (several processes may replace the same file at
    once) and sits in the same folder, so the rename is atomic; it is 0600 from its first byte.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def private_folder(path: str | Path, root: str | Path | None = None) -> Path:
    """``path`` (and ``root``, the data root it lies in) as folders only this user can enter: 0700
    whatever the umask, owned by this user and writable by no one else.

    A folder others can write is refused in one sentence rather than used: another user could
    have planted a symbolic link or a file in it already.
    """
    path = Path(path)
    chain = [path]
    if root is not None and Path(root) in path.parents:
        chain = [Path(root), *[p for p in reversed(path.parents) if Path(root) in p.parents], path]
    for folder in chain:
        try:
            folder.mkdir(parents=True, mode=0o700)
            os.chmod(folder, 0o700)  # mkdir's mode is masked by the umask; this one is not
        except FileExistsError:
            pass
        except OSError as err:
            raise UserError(f"Cannot create the data folder {folder}: {err.strerror or err}; "
                            "set BIOFEEDBACK_DATA_DIR to a folder you can write.") from None
        _check_private(folder)
    return path


def _check_private(folder: Path) -> None:
    try:
        info = os.stat(folder)
    except OSError as err:
        raise UserError(f"Cannot use the data folder {folder}: {err.strerror or err}.") from None
    if not stat.S_ISDIR(info.st_mode):
        raise UserError(f"The data folder {folder} is a file, not a folder; move it away or set "
                        "BIOFEEDBACK_DATA_DIR to another folder.")
    if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise UserError(f"The data folder {folder} can be written by others, so health data cannot be kept "
                        f"private there; run `chmod 700 {folder}` (as its owner) or set BIOFEEDBACK_DATA_DIR.")


@contextlib.contextmanager
def locked(lock_path: str | Path) -> Iterator[None]:
    """Hold an exclusive lock (``flock`` on a private lock file) for a read-modify-write.

    The lock file stays (removing it would let two processes lock two different files); the
    kernel releases the lock when the holder exits, also when it crashes.
    """
    try:  # never through a planted symbolic link
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError as err:
        raise UserError(f"Cannot use the lock file {lock_path}: {err.strerror or err}; "
                        "if it is a symbolic link, remove it.") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def read_secret_file(name: str | Path, what: str) -> str:
    """The first line of a file holding a secret (a password, a passphrase), for ``--...-file`` options.

    One clear sentence when it cannot be read or is empty; a warning when others may read it."""
    path = Path(name)
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise UserError(f"Cannot read the {what} file {name}: {err.strerror or err}.") from None
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        log.warning("The %s file %s can be read by others; chmod 600 it.", what, name)
    lines = text.splitlines()
    if not lines or not lines[0]:
        raise UserError(f"The {what} file {name} is empty; put the {what.split()[-1]} on its first line.")
    return lines[0]


def picture_bytes(widget: Any, suffix: str) -> bytes | None:
    """A Qt widget rendered as PNG (or JPEG by suffix) in memory; None if it could not be encoded."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    fmt = "JPG" if suffix.lower() in (".jpg", ".jpeg") else "PNG"
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    ok = widget.grab().save(buf, fmt)
    buf.close()
    return bytes(data.data()) if ok else None
