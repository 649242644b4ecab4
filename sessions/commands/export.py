"""``biofeedback export [ID] --format kubios|csv|edf|bids -o PATH``: the session for other tools."""

from __future__ import annotations

import argparse
from pathlib import Path

from sessions.extras import require
from sessions.store import resolve_session

FORMATS = ("kubios", "csv", "edf", "bids")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export", help="export a session for Kubios, spreadsheets, EDF viewers or BIDS",
        description="kubios: RR text (one interval in ms per line, raw). csv: PATH_beats.csv (raw RR, labels, NN), "
                    "PATH_corrected.csv, PATH_metrics.csv, PATH_events.csv. edf: EDF+ with HR, RR and the 5-s "
                    "metrics as signals (no signal = the digital minimum, named in 'no signal' annotations) and every "
                    "event as an annotation. bids: PATH is a BIDS dataset folder (dataset_description.json, "
                    "sub-S/ses-D/beh/..._physio.tsv.gz and _events.tsv with their JSON sidecars); export more "
                    "sessions into the same folder to add them. "
                    "Files are readable by you only.",
    )
    p.add_argument("id", nargs="?", help="session id or file (default: the latest)")
    p.add_argument("--format", required=True, choices=FORMATS)
    p.add_argument("-o", "--output", required=True, type=Path, metavar="PATH")
    p.add_argument("--subject", default="01", help="with --format bids: the subject label (default 01)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.format == "edf":
        require("review", "EDF+ export", ("pyedflib",))
    path = resolve_session(args.id)
    from sessions.review.exports import export
    from sessions.review.record import load_record

    for written in export(load_record(path), args.format, args.output, subject=args.subject):
        print(f"Wrote {written}")
    return 0
