"""``biofeedback review [ID]``: the interactive review window of a recorded session (pyqtgraph)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from sessions.errors import UserError
from sessions.extras import require
from sessions.store import resolve_session


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "review", help="look back at a session in a window: curves, steps, events, per-phase table",
        description="Opens a window with heart rate, RMSSD, coherence, calm and the pacer rate over time, the "
                    "exercise's steps shaded and named, prompts, distress, grounding and signal gaps marked, and a "
                    "per-phase table. Wheel zooms, drag pans. Without a display, --screenshot writes the window to a PNG.",
    )
    p.add_argument("id", nargs="?", help="session id or file (default: the latest)")
    p.add_argument("--lang", choices=("nl", "en"), help="language (default: the session's)")
    p.add_argument("--screenshot", metavar="FILE.png", type=Path, help="render the window to a PNG instead of showing it")
    p.set_defaults(func=run)


def _has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
                or os.environ.get("QT_QPA_PLATFORM") in ("offscreen", "minimal") or sys.platform in ("darwin", "win32"))


def run(args: argparse.Namespace) -> int:
    require("gui", "the review window (`biofeedback report` writes the same picture to a file)")
    path = resolve_session(args.id)
    from sessions.review import window
    from sessions.review.record import load_record

    record = load_record(path)
    if record.problems is not None:
        print(f"{path.name} is damaged; showing what could be recovered: " + "; ".join(record.problems), file=sys.stderr)
    if args.screenshot:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        window.screenshot(record, args.screenshot, args.lang)
        print(f"Wrote {args.screenshot}")
        return 0
    if not _has_display():
        raise UserError("there is no display to open the window on; add --screenshot FILE.png, "
                        "or write a report with `biofeedback report`.")
    return window.show(record, args.lang)
