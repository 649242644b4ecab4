"""Exports other tools open: Kubios RR text, CSV (beats, corrected series, metrics, events), EDF+, BIDS physio.

Every file is health data and is created readable by its owner only (0600). Each writer returns the
paths it wrote, so the command can list them.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from sessions.errors import UserError
from sessions.events import EventKind
from sessions.private_files import write_private
from sessions.review.record import METRIC_FIELDS, Record
from sessions.review.signals import corrected, metric_on_grid, nn_signals

FORMATS = ("kubios", "csv", "edf", "bids")
SIGNAL_HZ = 4.0
EDF_RECORD_S = 5.0
EDF_ANNOTATION_BYTES = 40
"""What pyedflib (EDFlib) keeps of one annotation, in UTF-8 bytes: longer texts are written in pieces."""
CONTINUED = "…"
"""Ends a piece of an annotation that goes on in the next one (same onset), and starts that next piece."""
EDF_NO_DATA = -32768
"""The digital value reserved for 'no signal' in every EDF signal (see :func:`export_edf`)."""
PACKAGE = "biofeedback-imagery"


def software_version() -> str:
    """``biofeedback-imagery 0.1.0``, from the installed package's metadata."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{PACKAGE} {version(PACKAGE)}"
    except PackageNotFoundError:
        return f"{PACKAGE} (version unknown: not installed)"


def source_kind(record: Record) -> str:
    """'ble', 'simulated', 'replay' or '?', as the record's meta says."""
    src = record.meta.get("source")
    kind = src.get("kind") if isinstance(src, dict) else src
    return str(kind or "?")


def equipment(record: Record) -> str:
    """What made the data, in words: a simulated or replayed session is never called a chest strap."""
    kind = source_kind(record)
    if kind == "simulated":
        return "simulated heart (biofeedback simulator), no sensor"
    if kind == "replay":
        return "replay of a recorded RR file (original sensor unknown)"
    if kind == "ble":
        return "Bluetooth Heart Rate Service chest strap"
    return "unknown source"


def _need_beats(record: Record) -> None:
    if len(record.beat_t) < 2:
        raise UserError(f"session {record.id} holds too few beats to export.")


# --- Kubios --------------------------------------------------------------------------------------

def export_kubios(record: Record, path: Path) -> list[Path]:
    """One RR interval in ms per line, as the strap sent them (Kubios does its own correction).

    ``#`` lines say where the strap was lost: the RR after a gap is real, but the time between is not
    in the series, so a tool that sums RR to get time will be off by the gaps listed.
    """
    _need_beats(record)
    lines = [f"# biofeedback session {record.id}: {record.title}", f"# started {record.meta.get('started_at', '?')}",
             "# RR intervals in ms, raw (artefacts not corrected), one per line"]
    for a, b in record.link_gaps():
        lines.append(f"# strap signal lost from {a:.1f} s to {b:.1f} s")
    lines += [f"{v:.3f}" for v in record.rr_ms]
    return [write_private(path, ("\n".join(lines) + "\n").encode())]


# --- CSV -----------------------------------------------------------------------------------------

def _csv_bytes(header: list[str], rows) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode()


def export_csv(record: Record, path: Path) -> list[Path]:
    """FILE_beats.csv, FILE_corrected.csv, FILE_metrics.csv, FILE_events.csv beside ``path``."""
    _need_beats(record)
    stem = path.with_suffix("") if path.suffix.lower() == ".csv" else path
    out = []
    nn = record.nn_mask
    beats = ((i, f"{t:.4f}", int(r), f"{ms:.3f}", int(g), lab, f"{ms:.3f}" if ok else "")
             for i, (t, r, ms, g, lab, ok) in enumerate(zip(record.beat_t, record.rr_ticks, record.rr_ms,
                                                             record.after_gap, record.labels, nn)))
    out.append(write_private(Path(f"{stem}_beats.csv"), _csv_bytes(
        ["idx", "t_s", "rr_ticks_1024", "rr_ms", "after_gap", "label", "nn_ms"], beats)))
    ct, cms = corrected(record)
    out.append(write_private(Path(f"{stem}_corrected.csv"), _csv_bytes(
        ["t_s", "rr_ms"], ((f"{a:.4f}", f"{b:.3f}") for a, b in zip(ct, cms)))))
    mrows = ((f"{t:.3f}", *("" if np.isnan(record.metrics[k][i]) else f"{record.metrics[k][i]:.6g}" for k in METRIC_FIELDS))
             for i, t in enumerate(record.metric_t))
    out.append(write_private(Path(f"{stem}_metrics.csv"), _csv_bytes(["t_s", *METRIC_FIELDS], mrows)))
    erows = ((f"{t:.3f}", kind, json.dumps(shareable(kind, data), ensure_ascii=False)) for t, kind, data in record.events)
    out.append(write_private(Path(f"{stem}_events.csv"), _csv_bytes(["t_s", "kind", "data"], erows)))
    return out


# --- EDF+ ----------------------------------------------------------------------------------------

def shareable(kind: EventKind | str, data: dict) -> dict:
    """An event as it may leave in an export: a line woven from the person's own safe place (its id
    names an ``own-`` line) keeps only its id; the person's own words stay in the local record."""
    if kind is EventKind.PROMPT and ".own-" in str(data.get("id", "")):
        return {**data, "text": f"[{data['id']}]"}
    if kind is EventKind.RATING:
        # The line "did something unpleasant come up?" is private: the numbers leave, the words stay here.
        return {k: v for k, v in data.items() if k != "note"}
    return data


def annotation_text(kind: EventKind | str, data: dict) -> str:
    """The event in a few words, whole (no cut: the EDF writer splits, see :func:`edf_annotation_pieces`)."""
    data = shareable(kind, data)
    if kind is EventKind.PROMPT:
        text = f"prompt: {data.get('text', '')}"
    elif kind in (EventKind.STEP, EventKind.STEP_END):
        text = f"{kind} {data.get('step', '')}"
    elif kind is EventKind.PACER_RATE:
        text = f"pacer {data.get('rate')}/min"
    elif kind is EventKind.LINK:
        text = f"link {data.get('state', '')}"
    elif kind in (EventKind.GROUNDING, EventKind.DONE, EventKind.STOP):
        text = f"{kind} {data.get('reason', '')}".strip()
    elif kind is EventKind.MARKER:
        text = f"marker: {data.get('label') or 'marker'}" + (" (therapist)" if data.get("source") == "therapist" else "")
    elif kind is EventKind.RATING:
        parts = [f"{name} {data[name]}" for name in ("sud", "vividness") if isinstance(data.get(name), int)]
        text = f"rating {data.get('when', '')}: {', '.join(parts) or 'skipped'}"
    else:
        text = str(kind)
    return " ".join(text.split())


def edf_annotation_pieces(text: str, limit: int = EDF_ANNOTATION_BYTES) -> list[str]:
    """``text`` as annotations of at most ``limit`` UTF-8 bytes each, none cut silently.

    EDFlib keeps 40 bytes of an annotation; a longer text becomes several annotations at the same
    onset, each but the last ending in '…' and each but the first starting with '…', so a reader sees
    it was cut and can join the pieces again (:func:`join_edf_annotations`).
    """
    if len(text.encode()) <= limit:
        return [text]
    mark = len(CONTINUED.encode())
    pieces: list[str] = []
    rest = text
    while rest:
        room = limit - (mark if pieces else 0)
        if len(rest.encode()) > room:
            room -= mark
        n = len(rest)
        while len(rest[:n].encode()) > room:
            n -= 1
        head, rest = rest[:n], rest[n:]
        pieces.append((CONTINUED if pieces else "") + head + (CONTINUED if rest else ""))
    return pieces


def join_edf_annotations(onsets, texts) -> list[tuple[float, str]]:
    """The inverse of :func:`edf_annotation_pieces` over a file's annotations (in file order)."""
    out: list[tuple[float, str]] = []
    for onset, text in zip(onsets, texts):
        if out and out[-1][1].endswith(CONTINUED) and text.startswith(CONTINUED) and out[-1][0] == onset:
            out[-1] = (onset, out[-1][1][: -len(CONTINUED)] + text[len(CONTINUED):])
        else:
            out.append((float(onset), str(text)))
    return out


BIDS_EVENT_KINDS = frozenset({EventKind.STEP, EventKind.PROMPT, EventKind.DISTRESS, EventKind.GROUNDING,
                              EventKind.PACER_RATE, EventKind.LINK, EventKind.PAUSE, EventKind.RESUME, EventKind.STOP,
                              EventKind.DONE, EventKind.RHYTHM, EventKind.MARKER, EventKind.RATING})
"""Events a BIDS events.tsv carries (the others are detail of the record)."""


EDF_SIGNALS = (  # label, unit, physical min/max, source
    ("HR", "bpm", 20.0, 250.0, "hr"),
    ("RR", "ms", 200.0, 3000.0, "rr"),
    ("HR mean 60s", "bpm", 20.0, 250.0, "hr_bpm"),
    ("RMSSD 60s", "ms", 0.0, 500.0, "rmssd_ms"),
    ("Coherence", "ratio", 0.0, 50.0, "coherence"),
    ("Calm", "score", 0.0, 100.0, "calm"),
    ("Pacer rate", "1/min", 0.0, 30.0, "pacer_rate"),
)


def export_edf(record: Record, path: Path) -> list[Path]:
    """EDF+: HR and RR (4 Hz, corrected series), the 5-s metrics, and every event as an annotation.

    Gaps: EDF has no 'missing' value. Two ways exist: EDF+D (discontinuous: data records only where
    there is data) or one reserved digital value. This writes EDF+C with the **digital minimum
    (-32768) reserved for 'no signal'** in every signal, because (1) pyedflib, the writer, writes only
    continuous files, (2) a 5-s record holds 20 HR samples and one metric sample, so EDF+D would drop
    the whole record, real beats included, wherever any signal is missing, and (3) the metrics are
    missing at other times than HR (RMSSD needs its first 60 s). The physical minimum is one unit below
    the lowest reading kept (HR 19 bpm, RR 199 ms, the metrics -1), so a real reading never maps to
    -32768, and each hole is also named in
    an annotation 'no signal' with its duration (HR/RR holes) so a viewer that draws the floor still
    says why. Read back with ``readSignal(i, digital=True) == -32768`` as NaN.
    """
    import pyedflib

    _need_beats(record)
    t, hr, rr = nn_signals(record, SIGNAL_HZ)
    n_records = int(np.ceil((len(t)) / (SIGNAL_HZ * EDF_RECORD_S)))
    n_fast = int(n_records * SIGNAL_HZ * EDF_RECORD_S)
    grid_slow = np.arange(n_records) * EDF_RECORD_S
    data: list[np.ndarray] = []
    headers: list[dict[str, str | int | float | None]] = []
    transducer = "chest strap" if source_kind(record) == "ble" else source_kind(record)
    for label, unit, lo, hi, src in EDF_SIGNALS:
        if src in ("hr", "rr"):
            y = np.full(n_fast, np.nan)
            y[: len(t)] = hr if src == "hr" else rr
            fs = SIGNAL_HZ
        else:
            y = metric_on_grid(record, src, grid_slow + EDF_RECORD_S)  # the value known at the record's end
            fs = 1.0 / EDF_RECORD_S
        floor = lo - 1.0  # the physical minimum, one unit below any reading: digital -32768 is 'no signal' only
        step = (hi - floor) / 65535.0
        scaled = np.round((np.clip(np.nan_to_num(y, nan=lo), lo, hi) - floor) / step) + EDF_NO_DATA
        data.append(np.where(np.isnan(y), EDF_NO_DATA, scaled).astype(np.int32))
        headers.append({"label": label, "dimension": unit, "sample_frequency": fs, "physical_min": floor,
                        "physical_max": hi, "digital_min": EDF_NO_DATA, "digital_max": 32767, "transducer": transducer,
                        "prefilter": ""})
    for y, header in _raw_signals(record, n_records * EDF_RECORD_S, transducer):
        data.append(y)
        headers.append(header)
    tmp = path.with_name(path.name + ".part")
    write_private(tmp, b"")  # private before pyedflib writes into it
    writer = pyedflib.EdfWriter(str(tmp), len(data), file_type=pyedflib.FILETYPE_EDFPLUS)
    try:
        with warnings.catch_warnings():  # 5-s records are deliberate: 4 Hz and 0.2 Hz both fit exactly
            warnings.simplefilter("ignore", UserWarning)
            writer.setDatarecordDuration(EDF_RECORD_S)
        writer.setSignalHeaders(headers)
        writer.setPatientName("X")  # no name in health data that leaves the app
        writer.setEquipment({"ble": "HRS_chest_strap"}.get(source_kind(record), source_kind(record)))  # 'simulated', 'replay'
        writer.setTechnician("")
        writer.setRecordingAdditional(software_version().replace(" ", "_"))
        if record.started is not None:
            writer.setStartdatetime(record.started.replace(tzinfo=None))
        notes = [(max(0.0, float(onset)), -1.0, annotation_text(kind, d)) for onset, kind, d in record.events]
        notes += [(a, b - a, "no signal") for a, b in _holes(t, hr)]
        pieces = [(onset, dur, piece) for onset, dur, text in notes for piece in edf_annotation_pieces(text)]
        # EDFlib stores as many annotations per data record as there are annotation signals: room for all
        writer.set_number_of_annotation_signals(min(64, max(1, int(np.ceil(len(pieces) / max(n_records, 1))) + 1)))
        writer.writeSamples(data, digital=True)
        for onset, dur, piece in pieces:
            writer.writeAnnotation(onset, dur, piece)
    finally:
        writer.close()
    os.replace(tmp, path)
    return [path]


def _raw_signals(record: Record, span_s: float, transducer: str) -> list[tuple[np.ndarray, dict[str, Any]]]:
    """The strap's own ECG (µV) and chest acceleration (mG, x/y/z) at their own rates, when it streamed them.

    Samples are placed on a uniform grid at the nominal rate on the session clock (the strap's true rate
    differs a little, e.g. the H10's 130.16 Hz: the recorded sample times carry that, the grid does
    not drift), linearly between the two recorded samples around each grid point; where no sample lies
    within two periods (a lost frame, before the first) the digital minimum says 'no signal'. The
    physical range is the recording's own minimum and maximum (so no reading is clipped), one unit
    below the minimum reserved for 'no signal'."""
    out: list[tuple[np.ndarray, dict[str, Any]]] = []
    for trace, labels, unit in ((record.ecg, ("ECG",), "uV"), (record.acc, ("ACC x", "ACC y", "ACC z"), "mG")):
        if trace is None or len(trace) < 2:
            continue
        fs = float(round(trace.fs))
        if fs * EDF_RECORD_S != round(fs * EDF_RECORD_S):
            continue  # a rate that does not fill whole 5-s records: not written rather than resampled badly
        grid = np.arange(int(round(span_s * fs))) / fs
        values = trace.values.reshape(len(trace), -1).astype(float)
        i = np.clip(np.searchsorted(trace.t, grid), 1, len(trace.t) - 1)
        near = np.minimum(np.abs(trace.t[i] - grid), np.abs(trace.t[i - 1] - grid)) <= 2.0 / fs
        for c, label in enumerate(labels):
            y = np.interp(grid, trace.t, values[:, c])
            # Whole units (EDF keeps 8 characters of a limit), one unit below the lowest reading: -32768 is
            # 'no signal' only.
            lo, hi = float(np.floor(values[:, c].min())), float(np.ceil(values[:, c].max()))
            floor = lo - 1.0
            step = (hi - floor) / 65535.0
            digital = np.round((np.clip(y, lo, hi) - floor) / step) + EDF_NO_DATA
            out.append((np.where(near, digital, EDF_NO_DATA).astype(np.int32),
                        {"label": label, "dimension": unit, "sample_frequency": fs, "physical_min": floor,
                         "physical_max": hi, "digital_min": EDF_NO_DATA, "digital_max": 32767,
                         "transducer": f"{transducer} ECG" if label == "ECG" else f"{transducer} accelerometer",
                         "prefilter": ""}))
    return out


def _holes(t: np.ndarray, y: np.ndarray) -> list[tuple[float, float]]:
    missing = np.isnan(y)
    out, start = [], None
    for ti, m in zip(t, missing):
        if m and start is None:
            start = ti
        elif not m and start is not None:
            out.append((float(start), float(ti)))
            start = None
    if start is not None:
        out.append((float(start), float(t[-1])))
    return out


# --- BIDS physio ---------------------------------------------------------------------------------

BIDS_VERSION = "1.8.0"


def bids_stem(record: Record, subject: str) -> str:
    return f"sub-{subject}_ses-{bids_session(record)}_task-{bids_task(record)}"


def bids_task(record: Record) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", str(record.meta.get("script") or "biofeedback")) or "biofeedback"


def bids_session(record: Record) -> str:
    return re.sub(r"[^0-9]", "", record.id)[:14] or "1"


def _bids_dataset_files(root: Path, subject: str) -> list[Path]:
    """dataset_description.json, README and participants.tsv at the dataset's root (kept when there)."""
    out = []
    desc = root / "dataset_description.json"
    if not desc.exists():
        out.append(write_private(desc, json.dumps({
            "Name": "biofeedback sessions", "BIDSVersion": BIDS_VERSION, "DatasetType": "raw",
            "GeneratedBy": [{"Name": PACKAGE, "Version": software_version().split(" ", 1)[1]}],
        }, indent=1).encode()))
    readme = root / "README"
    if not readme.exists():
        out.append(write_private(readme, (
            "HRV biofeedback sessions exported by biofeedback-imagery.\n"
            "Each session: heart rate, RR interval and the app's 5-s metrics at 4 Hz (beh/*_physio.tsv.gz, "
            "n/a where there was no signal) and the session's steps, prompts and safety events (beh/*_events.tsv).\n").encode()))
    parts = root / "participants.tsv"
    rows = parts.read_text().splitlines() if parts.exists() else ["participant_id"]
    if f"sub-{subject}" not in rows[1:]:
        out.append(write_private(parts, ("\n".join([*rows, f"sub-{subject}"]) + "\n").encode()))
    return out


BIDS_EVENTS_SIDECAR = {
    "onset": {"Description": "Time of the event since the session's start", "Units": "s"},
    "duration": {"Description": "How long a step lasted (n/a for instant events)", "Units": "s"},
    "trial_type": {"Description": "The kind of event: step, prompt, distress, grounding, pacer_rate, link, pause, "
                                  "resume, stop, done, rhythm, marker (a moment marked by the person or the "
                                  "therapist), rating (the person's 0-10 distress and vividness, before or after)"},
    "value": {"Description": "The event in words, whole (a step's id, a prompt's text, a reason)"},
}


def export_bids(record: Record, path: Path, subject: str = "01") -> list[Path]:
    """A BIDS dataset at ``path``: dataset_description.json, README, participants.tsv, and for the session
    ``sub-S/ses-D/beh/<stem>_physio.tsv.gz`` (no header row, 'n/a' for holes) with its JSON sidecar and
    ``<stem>_events.tsv`` with its sidecar. Exporting more sessions into the same folder adds to the dataset."""
    _need_beats(record)
    if not re.fullmatch(r"[A-Za-z0-9]+", subject):
        raise UserError(f"the BIDS subject label must be letters and digits only, not '{subject}'.")
    if path.exists() and not path.is_dir():
        raise UserError(f"{path}: with --format bids the output is a folder, and this is a file.")
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    out = _bids_dataset_files(path, subject)
    beh = path / f"sub-{subject}" / f"ses-{bids_session(record)}" / "beh"
    beh.mkdir(parents=True, exist_ok=True, mode=0o700)
    stem = bids_stem(record, subject)
    t, hr, rr = nn_signals(record, SIGNAL_HZ)
    cols = {"heart_rate": hr, "rr_interval": rr,
            **{k: metric_on_grid(record, k, t) for k in ("rmssd_ms", "coherence", "calm", "pacer_rate")}}
    buf = io.StringIO()
    stacked = np.column_stack(list(cols.values()))
    for row in stacked:
        buf.write("\t".join("n/a" if np.isnan(v) else f"{v:.4f}" for v in row) + "\n")
    physio = write_private(beh / f"{stem}_physio.tsv.gz", gzip.compress(buf.getvalue().encode(), mtime=0))
    sidecar = {
        "TaskName": bids_task(record),
        "SamplingFrequency": SIGNAL_HZ,
        "StartTime": 0.0,
        "Columns": list(cols),
        "heart_rate": {
            "Description": "Heart rate from the time-preserving corrected RR series (runs of flagged "
            "beats replaced by equal intervals over the same time), linearly interpolated; "
            "n/a where there was no signal",
            "Units": "bpm",
        },
        "rr_interval": {
            "Description": "RR interval of the same corrected series, interpolated as heart_rate",
            "Units": "ms",
        },
        "rmssd_ms": {"Description": "RMSSD over the last 60 s, updated every 5 s", "Units": "ms"},
        "coherence": {"Description": "HeartMath-style coherence ratio over the last 64 s, every 5 s", "Units": "ratio"},
        "calm": {"Description": "Calm score, 50 at the session's baseline", "Units": "score 0-100"},
        "pacer_rate": {"Description": "Breathing pacer rate shown", "Units": "breaths/min"},
        "Manufacturer": equipment(record),
        "SoftwareVersions": software_version(),
        "SessionStart": record.meta.get("started_at"),
    }
    side = write_private(beh / f"{stem}_physio.json", json.dumps(sidecar, indent=1, ensure_ascii=False).encode())
    ev = io.StringIO()
    ev.write("onset\tduration\ttrial_type\tvalue\n")
    for i, (t0, kind, d) in enumerate(record.events):
        if kind not in BIDS_EVENT_KINDS:
            continue
        dur = "n/a"
        if kind is EventKind.STEP:
            nxt = next((e.t for e in record.events[i + 1 :] if e.kind is EventKind.STEP), record.duration_s)
            dur = f"{nxt - t0:.3f}"
        value = annotation_text(kind, d).replace("\t", " ") or "n/a"
        ev.write(f"{max(0.0, t0):.3f}\t{dur}\t{kind}\t{value}\n")
    events = write_private(beh / f"{stem}_events.tsv", ev.getvalue().encode())
    ev_side = write_private(beh / f"{stem}_events.json", json.dumps(BIDS_EVENTS_SIDECAR, indent=1).encode())
    return [*out, physio, side, events, ev_side]


def export(record: Record, fmt: str, path: Path, *, subject: str = "01") -> list[Path]:
    if fmt not in FORMATS:
        raise UserError(f"unknown export format '{fmt}'; choose one of {', '.join(FORMATS)}.")
    if fmt != "bids" and not path.parent.exists():
        raise UserError(f"{path.parent}: no such folder.")
    if fmt == "kubios":
        return export_kubios(record, path)
    if fmt == "csv":
        return export_csv(record, path)
    if fmt == "edf":
        return export_edf(record, path)
    return export_bids(record, path, subject)
