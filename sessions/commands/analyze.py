"""``biofeedback analyze FILE``: whole-recording HRV and the flagged beats of an RR file.

Reads the Kubios text layout (one RR in ms per line, ``#`` comments), a CSV with an ``rr_ms`` or
``rr`` column, or a recorded session (by file or id). ``--no-correct`` computes on the series exactly as
given; otherwise flagged beats are left out of the metrics (see :mod:`biofeedback.artefacts`).
``--json`` prints one JSON object on stdout; the human table and the progress bar go to stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from pathlib import Path

from biofeedback.artefacts import TICKS_PER_SECOND, ArtefactClassifier, BeatLabel, LabelledBeat
from biofeedback.hrv import HrvConfig, analyze_recording
from devices.rr_files import read_rr_file
from sessions.errors import UserError
from sessions.store import SessionReader, is_session_file, resolve_session

PROGRESS_MIN_BEATS = 20_000


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "analyze",
        help="HRV metrics and flagged beats of an RR file",
        description="Whole-recording HRV (mean NN, SDNN, RMSSD, pNN50, LF/HF by Lomb-Scargle) and the "
                    "beats flagged as ectopic or artefact. Reads one-RR-per-line text (Kubios layout) "
                    "or a CSV with an rr_ms or rr column.",
    )
    p.add_argument("file", metavar="FILE", help="RR file (text or CSV) or recorded session")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument("--no-correct", action="store_true", help="compute on the series exactly as given")
    p.set_defaults(func=run)


def read_session_rr(path: Path) -> tuple[list[int], list[float] | None, list[bool] | None]:
    """RR ticks, beat times and gap flags of a recorded session, as the strap sent them."""
    with SessionReader(path) as reader:
        beats = reader.beats()
    if not beats:
        raise UserError(f"{path.name}: the session holds no beats to analyse.")
    return [b[2] for b in beats], [b[1] for b in beats], [bool(b[3]) for b in beats]


def load_series(path: Path) -> tuple[list[int], list[float] | None, list[bool] | None]:
    if not path.exists() and not path.suffix and "/" not in str(path):
        return read_session_rr(resolve_session(str(path)))  # a session id
    if is_session_file(path):
        return read_session_rr(path)
    rec = read_rr_file(path)
    ticks = [max(1, round(v * TICKS_PER_SECOND / 1000.0)) for v in rec.rr_ms]
    return ticks, None, None


def _classify_with_progress(ticks: list[int], show: bool) -> list[LabelledBeat]:
    from rich.progress import Progress

    clf = ArtefactClassifier(HrvConfig().artefacts)
    out: list[LabelledBeat] = []
    acc = 0
    with Progress(transient=True, disable=not show, console=_err_console()) as progress:
        task = progress.add_task("labelling beats", total=len(ticks))
        for i, r in enumerate(ticks):
            acc += r
            out.extend(clf.push(acc / TICKS_PER_SECOND, r))
            if i % 2000 == 0:
                progress.update(task, completed=i)
        out.extend(clf.flush())
        progress.update(task, completed=len(ticks))
    return out


def _err_console():
    from rich.console import Console

    return Console(stderr=True)


def _clean(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def run(args: argparse.Namespace) -> int:
    path = Path(args.file)
    ticks, beat_t, gaps = load_series(path)
    correct = not args.no_correct
    result = analyze_recording(ticks, beat_t, gaps, correct=correct)
    if correct and len(ticks) >= PROGRESS_MIN_BEATS and sys.stderr.isatty():
        # Long file: the labelling pass again, visibly (cheap; the result is identical).
        _classify_with_progress(ticks, show=True)
    flagged = result.flagged
    by_type = Counter(b.label.value for b in flagged)
    out = {"file": str(path), "corrected": correct}
    out.update({k: _clean(v) for k, v in result.metrics.items()})
    out["artifacts"] = {
        "count": len(flagged),
        "share_pct": 100.0 * len(flagged) / len(result.beats) if result.beats else 0.0,
        "indices": [b.index for b in flagged],
        "by_type": {k: by_type.get(k, 0) for k in (l.value for l in BeatLabel if not l.is_nn)},
    }
    if args.json:
        print(json.dumps(out))
        return 0
    _print_human(out, flagged)
    return 0


def _print_human(out: dict, flagged: list[LabelledBeat]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    t = Table(title=f"{Path(out['file']).name} ({'corrected' if out['corrected'] else 'as given'})")
    t.add_column("metric")
    t.add_column("value", justify="right")

    def fmt(v, unit=""):
        return "-" if v is None else f"{v:.1f}{unit}" if isinstance(v, float) else f"{v}{unit}"

    rows = [("beats", fmt(out["n_beats"])), ("NN used", fmt(out["n_nn"])),
            ("duration", fmt(out["duration_s"], " s")), ("mean NN", fmt(out["mean_nn_ms"], " ms")),
            ("mean HR", fmt(out["mean_hr_bpm"], " bpm")), ("SDNN", fmt(out["sdnn_ms"], " ms")),
            ("RMSSD", fmt(out["rmssd_ms"], " ms")), ("pNN50", fmt(out["pnn50_pct"], " %")),
            ("LF", fmt(out["lf_ms2"], " ms²")), ("HF", fmt(out["hf_ms2"], " ms²")),
            ("LF/HF", "-" if out["lf_hf"] is None else f"{out['lf_hf']:.2f}")]
    for name, value in rows:
        t.add_row(name, value)
    console.print(t)
    art = out["artifacts"]
    kinds = ", ".join(f"{k} {v}" for k, v in art["by_type"].items() if v) or "none"
    console.print(f"Flagged beats: {art['count']} of {out['n_beats']} ({art['share_pct']:.1f} %): {kinds}")
    if flagged:
        shown = flagged[:40]
        console.print("  " + ", ".join(f"#{b.index} {b.label.value} {b.rr_ms:.0f} ms" for b in shown)
                      + (f", ... ({len(flagged) - len(shown)} more)" if len(flagged) > len(shown) else ""))
