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
from sessions.store import SessionReader, add_note, resolve_session

EDIT_HEADER = ("# Write the note for session {id} below. Lines starting with # are left out;\n"
               "# an empty note adds nothing. Earlier notes on this session:\n")


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
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    path = resolve_session(args.id)
    with SessionReader(path) as reader:
        notes, session_id = reader.notes(), reader.id
    text = args.add
    if args.edit:
        text = _from_editor(session_id, notes)
        if not text:
            print("The note was empty; nothing was added.")
    if text:
        when = add_note(path, text)
        print(f"Note added to {session_id} ({when[:16].replace('T', ' ')}).")
        notes.append((when, text.strip()))
    if args.show or text is None:
        _show(session_id, notes)
    return 0


def _show(session_id: str, notes: list[tuple[str, str]]) -> None:
    if not notes:
        print(f"No notes on {session_id} yet; add one with `biofeedback notes {session_id} --add TEXT`.")
        return
    print(f"Notes on {session_id}:")
    for when, body in notes:
        print(f"{when[:16].replace('T', ' ')}  {body}")


def _from_editor(session_id: str, notes: list[tuple[str, str]]) -> str:
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if not editor:
        raise UserError("--edit needs an editor: set EDITOR (e.g. EDITOR=nano), or use --add \"TEXT\".")
    header = EDIT_HEADER.format(id=session_id) + "".join(f"#   {w[:16].replace('T', ' ')}  {b}\n" for w, b in notes)
    fd, name = tempfile.mkstemp(prefix="biofeedback-note-", suffix=".txt")  # 0600, removed below
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(header + "\n")
        try:
            code = subprocess.call([*shlex.split(editor), name])
        except OSError as err:
            raise UserError(f"the editor '{editor}' could not be started ({err.strerror}); check EDITOR.") from None
        if code != 0:
            raise UserError(f"the editor '{editor}' ended with an error ({code}); nothing was added.")
        written = Path(name).read_text(encoding="utf-8", errors="replace")
    finally:
        Path(name).unlink(missing_ok=True)
    return "\n".join(line for line in written.splitlines() if not line.startswith("#")).strip()
