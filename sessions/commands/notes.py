"""``biofeedback notes [ID] [--add TEXT | --edit] [--show]``: a therapist's notes on a session, kept in its record.

Why in the record: the notes belong to that session and go where it goes (a client's export, a delete); they
are shown in the review and the report and never leave in the research exports or over the broker.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import tempfile
from pathlib import Path

from sessions.errors import UserError
from sessions.practice_texts import language, say
from sessions.store import SessionReader, add_note, resolve_session


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "notes", help="a therapist's notes on a session (kept in the session's own file, never exported)",
        description="Show the notes on a session, add one (--add TEXT), or write a longer one in your editor "
                    "(--edit, uses $VISUAL or $EDITOR). Notes are added, never overwritten; they appear in "
                    "`biofeedback review` and `biofeedback report`.",
    )
    p.add_argument("id", nargs="?", help="session id or file (default: the latest)")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--add", metavar="TEXT", help="add this note")
    what.add_argument("--edit", action="store_true", help="write a note in $VISUAL or $EDITOR")
    p.add_argument("--show", action="store_true", help="show the notes (also after --add/--edit; the default)")
    p.add_argument("--lang", choices=("nl", "en"), default=None, help="language (default: from your system)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    lang = language(getattr(args, "lang", None))
    path = resolve_session(args.id)
    with SessionReader(path) as reader:
        notes, session_id = reader.notes(), reader.id
    text = args.add
    if args.edit:
        text = _from_editor(session_id, notes, lang)
        if not text:
            print(say(lang, "note_empty"))
    if text:
        when = add_note(path, text)
        print(say(lang, "note_added", id=session_id, when=when[:16].replace("T", " ")))
        notes.append((when, text.strip()))
    if args.show or text is None:
        _show(session_id, notes, lang)
    return 0


def _show(session_id: str, notes: list[tuple[str, str]], lang: str) -> None:
    if not notes:
        print(say(lang, "no_notes", id=session_id))
        return
    print(say(lang, "notes_on", id=session_id))
    for when, body in notes:
        print(f"{when[:16].replace('T', ' ')}  {body}")


def _from_editor(session_id: str, notes: list[tuple[str, str]], lang: str = "en") -> str:
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if not editor:
        raise UserError(say(lang, "no_editor"))
    header = say(lang, "edit_header", id=session_id) + "".join(
        f"#   {w[:16].replace('T', ' ')}  {b}\n" for w, b in notes)
    fd, name = tempfile.mkstemp(prefix="biofeedback-note-", suffix=".txt")  # 0600, removed below
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(header + "\n")
        try:
            code = subprocess.call([*shlex.split(editor), name])
        except OSError as err:
            raise UserError(say(lang, "editor_failed", editor=editor, why=err.strerror)) from None
        if code != 0:
            raise UserError(say(lang, "editor_error", editor=editor, code=code))
        written = Path(name).read_text(encoding="utf-8", errors="replace")
    finally:
        Path(name).unlink(missing_ok=True)
    return "\n".join(line for line in written.splitlines() if not line.startswith("#")).strip()
