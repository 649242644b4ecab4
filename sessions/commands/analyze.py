"""``biofeedback analyze FILE``: whole-recording HRV and the flagged beats of an RR file or an ECG.

Reads the Kubios text layout (one RR in ms per line, ``#`` comments), a CSV with an ``rr_ms`` or
``rr`` column, a recorded session (by file or id), or an ECG: a WFDB record (``100.hea`` or
``100``, ``--lead``), a CSV with a time and an ECG column, or (``--ecg``) a session's ECG. From an
ECG the beats are detected and classified as live (:func:`biofeedback.beat_morphology.analyze_ecg`)
and ``--json`` lists each.
``--no-correct`` computes on the series exactly as given; otherwise flagged beats are left out of
the metrics (see :mod:`biofeedback.artefacts`).
``--json`` prints one JSON object on stdout; the progress bar (long files, terminal only) goes to
stderr. Values are computed at the file's own resolution (see :mod:`biofeedback.whole_recording`).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from biofeedback.artefacts import BeatLabel, LabelledBeat
from biofeedback.beat_morphology import EcgAnalysis, analyze_ecg
from biofeedback.hrv import MS_PER_TICK, analyze_recording
from biofeedback.rhythm import irregular_stretches, within
from biofeedback.spectral import DEFAULT_METHOD, METHODS
from biofeedback.whole_recording import recording_metrics
from devices.rr_files import read_rr_file
from sessions.commands.analyze_ecg_input import EcgRecording, is_ecg_csv, read_ecg_csv, read_wfdb, wfdb_header
from sessions.errors import UserError
from sessions.store import SQLITE_MAGIC, SUFFIX, SessionReader, is_session_file, resolve_session


PROGRESS_MIN_BEATS = 20_000


@dataclass
class Series:
    rr_ms: list[float]
    beat_t: list[float] | None
    after_gap: list[bool] | None
    resolution_ms: float


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "analyze",
        help="HRV metrics and flagged beats of an RR file",
        description="Whole-recording HRV (time domain, Lomb-Scargle or Welch spectrum, Poincaré, DFA, "
                    "sample entropy, triangular index, TINN, SDANN/SDNN index over 5-minute segments) and "
                    "the beats flagged as ectopic or artefact, at the file's own resolution. Reads "
                    "one-RR-per-line text (Kubios layout), a CSV with an rr_ms or rr column, a recorded session, "
                    "or an ECG: a WFDB record (NNN.hea or NNN) or a CSV with a time column (t_s, time_ns, ...) "
                    "and an ECG column (ecg_uV or ecg_mV), whose beats are detected and classified first. "
                    "Definitions: docs/metrics.md.",
    )
    p.add_argument("file", metavar="FILE", help="RR file (text or CSV), recorded session, or ECG (WFDB or CSV)")
    p.add_argument("--lead", type=int, default=0, metavar="N", help="the ECG lead of a WFDB record (default 0)")
    p.add_argument("--ecg", action="store_true",
                   help="for a recorded session: its ECG (a Polar H10's) instead of the strap's RR")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument("--no-correct", action="store_true", help="compute on the series exactly as given")
    p.add_argument("--spectrum", choices=METHODS, default=DEFAULT_METHOD,
                   help="lomb: fast Lomb-Scargle on the NN series (default); welch: Kubios's route "
                        "(4 Hz cubic resampling, 300-s detrended Welch segments)")
    p.add_argument("--segments", action="store_true",
                   help="also list the metrics of every 5-minute segment (with --json)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def read_session_rr(path: Path) -> Series:
    """RR (ms, exact: whole ticks x 1000/1024), beat times and gap flags of a recorded session."""
    with SessionReader(path) as reader:
        beats = reader.beats()
    if not beats:
        raise UserError(f"{path.name}: the session holds no beats to analyse.")
    rr = [b[2] * MS_PER_TICK for b in beats]
    return Series(rr, [b[1] for b in beats], [bool(b[3]) for b in beats], MS_PER_TICK)


def damaged_session(path: Path) -> bool:
    """A session file (by its name) that no longer starts like one: cut off in its first bytes or
    overwritten there. Read as RR text it would give a misleading 'not a number' error."""
    if not path.name.endswith((SUFFIX, ".sqlite")) or not path.is_file() or is_session_file(path):
        return False
    with path.open("rb") as fh:
        head = fh.read(len(SQLITE_MAGIC))
    return True if not head.startswith(b"#") else SQLITE_MAGIC.startswith(head)


def load_series(path: Path) -> Series:
    """The RR series at its own resolution: a file's ms (or µs) as written, a session's ticks."""
    if not path.exists() and not path.suffix and "/" not in str(path):
        return read_session_rr(resolve_session(str(path)))  # a session id
    if is_session_file(path):
        return read_session_rr(path)
    if damaged_session(path):
        session_id = path.name.removesuffix(SUFFIX).removesuffix(".sqlite")
        raise UserError(f"{path.name} is a damaged session file (its start is cut off or overwritten), so it cannot "
                        f"be analysed; `biofeedback sessions show {session_id}` tries to recover what it still holds.")
    rec = read_rr_file(path)
    return Series(rec.rr_ms, None, None, rec.resolution_ms)


@contextmanager
def _progress(total: int, show: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr for a long file (only when stderr is a terminal)."""
    if not show:
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(transient=True, console=Console(stderr=True)) as bar:
        task = bar.add_task("labelling beats", total=total)
        yield lambda done, _total: bar.update(task, completed=done)


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def load_ecg(path: Path, lead: int) -> EcgRecording | None:
    """The ECG a path names (WFDB record or ECG CSV), or None when it is not an ECG."""
    hea = wfdb_header(path)
    if hea is not None:
        return read_wfdb(hea, lead)
    if is_ecg_csv(path):
        return read_ecg_csv(path)
    return None


def read_session_ecg(ref: Path) -> EcgRecording:
    """A recorded session's ECG on the session clock (the frames a Polar H10 sent)."""
    from sessions.signal_blobs import trace

    path = resolve_session(str(ref)) if not ref.exists() else ref
    if not is_session_file(path):
        raise UserError(f"{path.name} is not a recorded session; --ecg reads the ECG a session recorded.")
    with SessionReader(path) as reader:
        ecg = trace("ecg", reader.signal_frames("ecg"))
    if ecg is None or len(ecg) < 2:
        raise UserError(f"{path.name}: the session recorded no ECG (only a Polar H10 sends one); "
                        "analyse its beats without --ecg.")
    return EcgRecording(np.asarray(ecg.values, dtype=float), ecg.fs, np.asarray(ecg.t, dtype=float),
                        f"the session's ECG ({ecg.fs:.2f} Hz)")


def run(args: argparse.Namespace) -> int:
    path = Path(args.file)
    ecg = read_session_ecg(path) if args.ecg else load_ecg(path, args.lead)
    if ecg is not None:
        return run_ecg(args, path, ecg)
    series = load_series(path)
    correct = not args.no_correct
    show = len(series.rr_ms) >= PROGRESS_MIN_BEATS and sys.stderr.isatty() and not args.quiet
    with _progress(len(series.rr_ms), show) as progress:
        result = analyze_recording(series.rr_ms, series.beat_t, series.after_gap, correct=correct,
                                   resolution_ms=series.resolution_ms, spectral_method=args.spectrum,
                                   progress=progress)
    flagged = result.flagged
    by_type = Counter(b.label.value for b in flagged)
    out: dict[str, Any] = {"file": str(path), "corrected": correct, "spectrum": result.spectral_method}
    out.update({k: _clean(v) for k, v in result.metrics.items()})
    out["artifacts"] = {
        "count": len(flagged),
        "share_pct": 100.0 * len(flagged) / len(result.beats) if result.beats else 0.0,
        "indices": [b.index for b in flagged],
        "by_type": {k: by_type.get(k, 0) for k in (lab.value for lab in BeatLabel if not lab.is_nn)},
    }
    if args.segments and result.segments is not None:
        out["segments"] = [{k: _clean(v) for k, v in row.items()} for row in result.segments.rows()]
    if args.json:
        print(json.dumps(out))
        return 0
    _print_human(out, flagged)
    return 0


ROWS: tuple[tuple[str, str, str], ...] = (
    ("beats", "n_beats", ""), ("NN used", "n_nn", ""), ("duration", "duration_s", " s"),
    ("resolution", "resolution_ms", " ms"), ("mean NN", "mean_nn_ms", " ms"), ("mean HR", "mean_hr_bpm", " bpm"),
    ("min HR (5-beat mean)", "min_hr_bpm", " bpm"),
    ("max HR (5-beat mean)", "max_hr_bpm", " bpm"), ("SDNN", "sdnn_ms", " ms"), ("RMSSD", "rmssd_ms", " ms"),
    ("pNN50", "pnn50_pct", " %"), ("HRV triangular index", "tri_index", ""), ("TINN", "tinn_ms", " ms"),
    ("SDANN (5 min)", "sdann_ms", " ms"), ("SDNN index (5 min)", "sdnn_index_ms", " ms"),
    ("VLF", "vlf_ms2", " ms²"), ("LF", "lf_ms2", " ms²"), ("HF", "hf_ms2", " ms²"), ("LF/HF", "lf_hf", ""),
    ("LF n.u.", "lf_nu", ""), ("HF n.u.", "hf_nu", ""), ("LF %", "lf_pct", " %"), ("HF %", "hf_pct", " %"),
    ("LF peak", "lf_peak_hz", " Hz"), ("HF peak", "hf_peak_hz", " Hz"),
    ("SD1", "sd1_ms", " ms"), ("SD2", "sd2_ms", " ms"), ("SD2/SD1", "sd2_sd1", ""),
    ("DFA α1", "dfa_alpha1", ""), ("DFA α2", "dfa_alpha2", ""), ("sample entropy", "sampen", ""),
)


def _fmt(v: Any, unit: str) -> str:
    if v is None:
        return "-"
    if isinstance(v, int):
        return f"{v}{unit}"
    digits = 3 if unit in (" Hz", "") or abs(v) < 10 else 1
    return f"{v:.{digits}f}{unit}"


def _print_human(out: dict[str, Any], flagged: list[LabelledBeat]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    t = Table(title=f"{Path(out['file']).name} ({'corrected' if out['corrected'] else 'as given'})",
              caption=f"spectrum: {out['spectrum']}")
    t.add_column("metric")
    t.add_column("value", justify="right")
    for name, key, unit in ROWS:
        if key in out:
            t.add_row(name, _fmt(out[key], unit))
    console.print(t)
    if out.get("sampen_exact") == 0.0:
        console.print("Sample entropy: long file, pooled over evenly spaced blocks (see docs/metrics.md).")
    if out.get("irregular_stretches"):
        console.print(f"Very irregular rhythm (e.g. atrial fibrillation): {out['irregular_stretches']} stretch(es), "
                      f"{out['irregular_s'] / 60:.1f} min, left out of the HRV above.")
    art = out["artifacts"]
    kinds = ", ".join(f"{k} {v}" for k, v in art["by_type"].items() if v) or "none"
    console.print(f"Flagged beats: {art['count']} of {out['n_beats']} ({art['share_pct']:.1f} %): {kinds}")
    if flagged:
        shown = flagged[:40]
        console.print("  " + ", ".join(f"#{b.index} {b.label.value} {b.rr_ms:.0f} ms" for b in shown)
                      + (f", ... ({len(flagged) - len(shown)} more)" if len(flagged) > len(shown) else ""))


# --- from an ECG ------------------------------------------------------------------------------------
def ecg_metrics(an: EcgAnalysis, correct: bool, spectral_method: str, name: str = "the ECG") -> dict[str, Any]:
    """The whole-recording HRV of the NN intervals an ECG gives, as :func:`analyze_recording` does for RR."""
    if not an.rr_ms:
        raise UserError(f"{name}: no two heartbeats in a row were found; is it an ECG lead, and was the strap on?")
    rr = np.asarray(an.rr_ms)
    t = np.asarray(an.rr_t)
    gaps = np.asarray(an.after_gap, bool)
    nn = np.asarray(an.usable, bool) if correct else np.ones(len(rr), bool)
    irregular = irregular_stretches(an.rr_t, an.rr_ms) if correct else []
    if irregular:
        nn &= ~np.asarray(within(an.rr_t, irregular), dtype=bool)
    metrics, _ = recording_metrics(rr, t, gaps, nn, spectral_method=spectral_method)
    metrics["irregular_stretches"] = len(irregular)
    metrics["irregular_s"] = float(sum(b - a for a, b in irregular))
    return metrics


def _why(an: EcgAnalysis, i: int) -> str:
    """Why RR ``i`` is not NN: it ends at an ectopic beat, follows one (the pause), touches an
    unclassifiable beat, or the RR-only labels flag it."""
    end, start = an.beats[an.rr_beat[i]], an.beats[an.rr_beat[i] - 1]
    if end.ectopic:
        return "ectopic"
    if start.ectopic:
        return "after_ectopic"
    if "Q" in (start.label, end.label):
        return "unclassifiable"
    return "rr_only"


def run_ecg(args: argparse.Namespace, path: Path, ecg: EcgRecording) -> int:
    an = analyze_ecg(ecg.samples_uv, ecg.fs, ecg.t_s)
    correct = not args.no_correct
    metrics = ecg_metrics(an, correct, args.spectrum, path.name)
    classes = Counter(b.label for b in an.beats)
    flagged = [i for i, ok in enumerate(an.usable) if not ok] if correct else []
    out: dict[str, Any] = {"file": str(path), "source": "ecg", "ecg": ecg.what, "fs_hz": ecg.fs,
                           "corrected": correct, "spectrum": args.spectrum}
    out.update({k: _clean(v) for k, v in metrics.items()})
    out["resolution_ms"] = 1000.0 / ecg.fs
    out["classes"] = {k: classes.get(k, 0) for k in ("N", "V", "S", "F", "Q")}
    out["artifacts"] = {
        "count": len(flagged),
        "share_pct": 100.0 * len(flagged) / len(an.rr_ms),
        "indices": flagged,
        "by_type": dict(Counter(_why(an, i) for i in flagged)),
    }
    out["beats"] = [{"t_s": round(t, 4), "label": b.label} for b, t in zip(an.beats, an.beat_t, strict=True)]
    if args.json:
        print(json.dumps(out))
        return 0
    _print_human(out, [])
    shown = [f"{t:.2f} s {b.label}" for b, t in zip(an.beats, an.beat_t, strict=True) if b.label != "N"]
    print(f"ECG: {ecg.what}, {len(an.beats)} beats: " + ", ".join(f"{k} {v}" for k, v in out["classes"].items()))
    if shown:
        print("  " + ", ".join(shown[:40]) + (f", ... ({len(shown) - 40} more)" if len(shown) > 40 else ""))
    return 0
