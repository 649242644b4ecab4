"""``biofeedback sessions``: the recorded sessions, one in detail, or deleting one."""

from __future__ import annotations

import argparse
import json
import sys

from rich.console import Console
from rich.table import Table

from sessions import metric_registry as registry
from sessions import settings
from sessions.errors import UserError
from sessions.events import Event, EventKind, parse_kind
from sessions.literal_text import literal
from sessions.phases import phases
from sessions.salvage import SalvagedReader, open_session
from sessions.store import check_deletable, delete_session_file, list_sessions, resolve_session


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sessions",
        help="list recorded sessions, show one, or delete one",
        description="Recorded sessions live in your data folder (one SQLite file each, readable only by you).",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run_list)
    inner = p.add_subparsers(dest="action", metavar="ACTION")
    show = inner.add_parser("show", help="metadata, per-phase summary and events of one session")
    show.add_argument("id", nargs="?", help="session id or file (default: the latest)")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.set_defaults(func=run_show)
    delete = inner.add_parser("delete", help="delete a session for good")
    delete.add_argument("id", help="session id or file")
    delete.add_argument("--yes", action="store_true", help="do not ask (for scripts)")
    delete.set_defaults(func=run_delete)


_LIST_WORDS = {
    "en": {"damaged": "{name} is damaged ({reason}); `biofeedback sessions show {id}` shows what can be recovered.",
           "none": "No sessions recorded yet. Try: biofeedback run --simulate --speed 20",
           "title": "Recorded sessions", "unfinished": " (unfinished)"},
    "nl": {"damaged": "{name} is beschadigd ({reason}); `biofeedback sessions show {id}` laat zien wat er te redden is.",
           "none": "Nog geen sessies opgenomen. Probeer: biofeedback run --simulate --speed 20",
           "title": "Opgenomen sessies", "unfinished": " (niet afgemaakt)"},
}
_LIST_COLUMNS = {"en": ("id", "start", "exercise", "lang", "source", "minutes", "beats"),
                 "nl": ("id", "begin", "oefening", "taal", "bron", "minuten", "slagen")}


def run_list(args: argparse.Namespace) -> int:
    damaged: list = []
    sessions = list_sessions(damaged)
    if args.json:
        print(json.dumps([s.to_json() for s in sessions], indent=1))
        return 0
    console = Console()
    lang = "nl" if settings.current().language == "nl" else "en"
    words = _LIST_WORDS[lang]
    for path, reason in damaged:
        text = words["damaged"].format(name=path.name, reason=reason, id=path.name.removesuffix(".biofeedback.sqlite"))
        console.print(f"[yellow]{literal(text)}[/]")
    if not sessions:
        if not damaged:
            console.print(words["none"])
        return 0
    table = Table(title=words["title"])
    for col, right in zip(_LIST_COLUMNS[lang], (False, False, False, False, False, True, True)):
        table.add_column(col, justify="right" if right else "left", no_wrap=col in ("id", "start", "begin"))
    for s in sessions:
        table.add_row(s.id + ("" if s.complete else words["unfinished"]), s.started_at.replace("T", " ")[:16],
                      literal(s.script or "–"), literal(s.language or "–"), literal(s.source),
                      f"{s.duration_s / 60:.1f}", str(s.beats))
    console.print(table)
    return 0


def _event_text(kind: EventKind | str, data: dict) -> str:
    if kind is EventKind.PROMPT:
        return f"“{data.get('text', '')}”"
    if kind is EventKind.STEP:
        return str(data.get("step"))
    return ", ".join(f"{k}={v}" for k, v in data.items() if v is not None and k != "text")


def run_show(args: argparse.Namespace) -> int:
    path = resolve_session(args.id)
    with open_session(path) as reader:
        summary = reader.summary()
        phase_list = phases(reader)
        events = [Event(t, parse_kind(kind), data) for t, kind, data in reader.events()]
        meta = reader.meta
        problems = reader.problems if isinstance(reader, SalvagedReader) or reader.problems else None
    if args.json:
        print(json.dumps({
            **summary.to_json(), "meta": meta, **({"damaged": problems} if problems is not None else {}),
            "phases": [p.to_json() for p in phase_list],
            "events": [{"t": round(t, 3), "kind": k, "data": d} for t, k, d in events],
        }, indent=1))
        return 0
    console = Console()
    console.print(f"[bold]{literal(summary.id)}[/]  {literal(meta.get('title', summary.script))} ({literal(summary.language)}) · "
                  f"{literal(summary.started_at)} · {summary.duration_s / 60:.1f} min · {summary.beats} beats · "
                  f"source {literal(summary.source)}"
                  + ("" if summary.complete else "  [yellow](unfinished: the session did not close normally)[/]"))
    if problems is not None:
        console.print(f"[bold yellow]This file is damaged; shown below is what could be recovered: "
                      f"{summary.beats} beats, {len(phase_list)} phases, {len(events)} events, "
                      f"up to {int(summary.duration_s) // 60:02d}:{int(summary.duration_s) % 60:02d}.[/]")
        for problem in problems:
            console.print(f"[yellow]  · {literal(problem)}[/]")
    table = Table(title="Phases")
    for col in ("phase", "from", "min", *(m.titled("en") for m in registry.PER_PHASE)):
        table.add_column(col, justify="left" if col == "phase" else "right")
    for ph in phase_list:
        table.add_row(literal(ph.name), f"{ph.start / 60:.1f}", f"{(ph.end - ph.start) / 60:.1f}",
                      *(m.format(ph.means.get(m.key)) for m in registry.PER_PHASE))
    console.print(table)
    shown = [e for e in events if e.kind not in (EventKind.PROMPT, EventKind.LINK)
             or e.data.get("state") in ("disconnected", "reconnected")]
    ev = Table(title="Events")
    ev.add_column("time", justify="right")
    ev.add_column("kind")
    ev.add_column("detail")
    for t, kind, data in shown:
        ev.add_row(f"{int(t) // 60:02d}:{int(t) % 60:02d}", literal(kind), literal(_event_text(kind, data)))
    console.print(ev)
    return 0


def run_delete(args: argparse.Namespace) -> int:
    path = resolve_session(args.id)
    check_deletable(path)
    if not args.yes:
        if not sys.stdin.isatty():
            raise UserError(f"deleting {path.name} needs a confirmation; add --yes to delete without asking.")
        answer = input(f"Delete {path.name} for good? [y/N] ").strip().lower()
        if answer not in ("y", "yes", "j", "ja"):
            print("Nothing deleted.")
            return 1
    delete_session_file(path)
    print(f"Deleted {path.name}.")
    return 0
