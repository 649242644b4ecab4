"""Personal scripts: a client's own safe place or rewritten nightmare, written from a short template.

Why templates and not a form: the therapist writes with the client, in the client's own words, and
a plain text file with a few ``<<...>>`` parts to replace is what a therapist can read, change and
keep; the validator names the line of any part still to fill in, so an unfinished script is never
said aloud. The rehearsal template is therapist-only by construction (``[meta] personal =
"rehearsal"`` refuses ``therapist_only = false``).
"""

from __future__ import annotations

import os
from pathlib import Path

from sessions.errors import UserError
from sessions.exercises.model import _ID_RE, LANGUAGES, PERSONAL_KINDS
from sessions.private_files import private_folder

DEFAULT_IDS = {"safe-place": "my-safe-place", "rehearsal": "my-new-dream"}


def templates_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "templates"


def template_text(kind: str, lang: str, script_id: str) -> str:
    if kind not in PERSONAL_KINDS or lang not in LANGUAGES:
        raise UserError(f"There is no template '{kind}' in '{lang}'; choose {' or '.join(PERSONAL_KINDS)}.")
    text = (templates_dir() / f"{kind}.{lang}.toml").read_text(encoding="utf-8")
    return text.replace("__ID__", script_id)


def check_name(name: str) -> str:
    if not _ID_RE.fullmatch(name) or name == "common":
        raise UserError(f"'{name}' cannot name a script; use lowercase letters, digits and dashes (like my-safe-place).")
    return name


def write_personal(kind: str, lang: str, name: str | None, folder: Path, root: Path | None,
                   taken: set[str]) -> Path:
    """Write the template for ``kind`` into ``folder`` as ``<id>.<lang>.toml`` (0600); never overwrites.

    ``taken``: ids of shipped exercises, which a personal script may not take.
    """
    script_id = check_name(name or DEFAULT_IDS[kind])
    if script_id in taken:
        raise UserError(f"'{script_id}' is a shipped exercise; give the personal script a name of its own with --name "
                        f"(like my-{script_id}).")
    path = folder / f"{script_id}.{lang}.toml"
    text = template_text(kind, lang, script_id).encode("utf-8")
    private_folder(folder, root)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        raise UserError(f"{path} already exists (nothing was overwritten); edit it, or choose another --name.") from None
    with os.fdopen(fd, "wb") as fh:
        os.fchmod(fd, 0o600)
        fh.write(text)
    return path
