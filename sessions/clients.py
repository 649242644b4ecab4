"""Clients on one computer: a pseudonymous code each, and a folder of their own under the data root.

Why folders and not a column in every record: a client's data must be easy to hand over whole
(``clients export``) and to erase without trace (``clients delete``), and every part of the app
that reads ``settings.current().data_dir`` (recordings, profile, therapist unlocks, voices) becomes
per client without knowing clients exist. The person alone keeps using the data root as before.

Layout::

    <root>/last_client                 the code used last (0600), used when --client is not given
    <root>/therapist.json              the therapist's passphrase (a slow hash), shared by all clients
    <root>/clients/<CODE>/             0700: sessions/, profile.json, scripts/, unlocks.json, plan.json ...

A code is a pseudonym (K7, client-12), never a name: it ends up in file paths, exports and the
first line of every command's output.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import stat
import zipfile
from datetime import datetime, timezone
from pathlib import Path

from sessions.errors import UserError
from sessions.private_files import open_private, private_folder, replace_private

log = logging.getLogger(__name__)

CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{1,23}")
CODE_RULE = ("a client code is 2-24 letters, digits, '-' or '_', starting with a letter or digit: a pseudonym "
             "such as K7, never a name")
CLIENTS = "clients"
LAST_CLIENT = "last_client"
EXPORT_MANIFEST = "export.json"


def check_code(code: str) -> str:
    """``code`` when it is a valid client code; else one sentence saying what a code may be."""
    if not CODE_RE.fullmatch(code):
        raise UserError(f"'{code}' is not a client code; {CODE_RULE}.")
    return code


def clients_dir(root: Path) -> Path:
    return root / CLIENTS


def client_dir(root: Path, code: str) -> Path:
    return clients_dir(root) / check_code(code)


def known_clients(root: Path) -> list[str]:
    """The codes of the clients on this computer, sorted (folders whose name is not a code are ignored)."""
    folder = clients_dir(root)
    if not folder.is_dir():
        return []
    return sorted((p.name for p in folder.iterdir() if p.is_dir() and not p.is_symlink() and CODE_RE.fullmatch(p.name)),
                  key=str.casefold)


def _known_sentence(root: Path) -> str:
    codes = known_clients(root)
    return f"known clients: {', '.join(codes)}" if codes else "there are no clients yet"


def require_client(root: Path, code: str) -> Path:
    """The folder of an existing client; else one sentence naming the known codes and how to add one."""
    folder = client_dir(root, code)
    if not folder.is_dir():
        raise UserError(f"There is no client '{code}' on this computer ({_known_sentence(root)}); "
                        f"add one with `biofeedback clients add {code}`.")
    return folder


def add_client(root: Path, code: str) -> Path:
    """Create a client's folder (0700, with the root above it); refused when the code, or one that differs
    only in upper/lower case, is taken (they would be the same folder on some file systems)."""
    check_code(code)
    clash = [c for c in known_clients(root) if c.casefold() == code.casefold()]
    if clash:
        raise UserError(f"The client '{clash[0]}' already exists; choose another code.")
    folder = client_dir(root, code)
    private_folder(folder, root)
    return folder


def last_client(root: Path) -> str | None:
    """The code used last, if that client still exists (a damaged or stale file is ignored)."""
    try:
        code = (root / LAST_CLIENT).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not CODE_RE.fullmatch(code) or not client_dir(root, code).is_dir():
        return None
    return code


def remember_client(root: Path, code: str | None) -> None:
    """Remember ``code`` for the next command (None: the person alone again)."""
    path = root / LAST_CLIENT
    if code is None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return
    private_folder(root)
    replace_private(path, f"{code}\n".encode("utf-8"))


def resolve_client(root: Path, requested: str | None) -> str | None:
    """The client a command works for: ``--client CODE`` (which must exist), else the remembered one."""
    if requested is not None:
        require_client(root, requested)
        return requested
    return last_client(root)


# ------------------------------------------------------------------------------------------
# Export and delete
# ------------------------------------------------------------------------------------------


def _files(folder: Path) -> list[Path]:
    """Every regular file under ``folder`` (no symbolic links followed; lock files are empty and left out)."""
    out = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not (Path(dirpath) / d).is_symlink())
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.is_symlink() or not path.is_file() or name.endswith(".lock"):
                continue
            out.append(path)
    return out


def export_client(root: Path, code: str, out: Path) -> tuple[Path, int]:
    """A zip of the client's folder (mode 0600) with a small manifest: the code and dates, nothing else.

    Entries sit under ``<CODE>/`` and keep mode 0600, so unpacking them elsewhere keeps them private.
    Returns the file and the number of files in it.
    """
    folder = require_client(root, code)
    out = Path(out)
    if out.exists():
        raise UserError(f"{out} already exists; choose another file name (nothing was overwritten).")
    if folder.resolve() in out.resolve().parents:
        raise UserError(f"{out} lies inside the client's own folder; write the export somewhere else.")
    if not out.parent.is_dir():
        raise UserError(f"The folder {out.parent} does not exist; create it or choose another place for the export.")
    files = _files(folder)
    manifest = {
        "client": code,
        "exported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "files": len(files),
        "format": "biofeedback client export 1",
    }
    try:
        with open_private(out) as fh, zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            _write_entry(zf, f"{code}/{EXPORT_MANIFEST}", (json.dumps(manifest, indent=2) + "\n").encode("utf-8"))
            for path in files:
                info = zipfile.ZipInfo.from_file(path, f"{code}/{path.relative_to(folder).as_posix()}")
                info.external_attr = (stat.S_IFREG | 0o600) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                with path.open("rb") as src, zf.open(info, "w") as dst:
                    shutil.copyfileobj(src, dst)
    except OSError as err:
        with contextlib.suppress(FileNotFoundError):
            out.unlink()
        raise UserError(f"Cannot write the export {out}: {err.strerror or err}.") from None
    return out, len(files)


def _write_entry(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=datetime.now().timetuple()[:6])
    info.external_attr = (stat.S_IFREG | 0o600) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, data)


def client_summary(root: Path, code: str) -> dict[str, object]:
    """What ``clients list`` shows: sessions, personal scripts, and the last session's date (from its file name)."""
    folder = client_dir(root, code)
    records = sorted((folder / "sessions").glob("*.biofeedback.sqlite")) if (folder / "sessions").is_dir() else []
    scripts = sorted((folder / "scripts").glob("*.toml")) if (folder / "scripts").is_dir() else []
    last = records[-1].name.split(".")[0] if records else None
    return {"client": code, "sessions": len(records), "personal_scripts": len(scripts), "last_session": last}


def delete_client(root: Path, code: str) -> int:
    """Erase the client's folder and every trace of the code on this computer; returns the files removed."""
    folder = require_client(root, code)
    count = len(_files(folder))

    def fail(_func: object, path: str, _exc: object) -> None:
        raise UserError(f"Could not delete {path}; nothing else of the client was kept on purpose, "
                        f"so run `biofeedback clients delete {code} --yes` again or remove {folder} by hand.")

    shutil.rmtree(folder, onerror=fail)
    if last_client(root) is None:
        remember_client(root, None)  # the remembered code named this client (or nothing): forget it
    return count
