"""A recorded session loaded once into arrays, for every view of the review (window, report, exports).

A 2-hour session is about 8 500 beats, 1 400 metric rows and a few hundred events: reading them all
up front takes a few tens of milliseconds and keeps every view free of SQL.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from biofeedback.artefacts import TICKS_PER_SECOND
from biofeedback.rhythm import irregular_stretches, within
from sessions import metric_registry as registry
from sessions.events import Event, EventKind, parse_kind
from sessions.phases import PHASE_FIELDS, Phase, phases
from sessions.salvage import SalvagedReader, open_session
from sessions.signal_blobs import ACC, ECG, SignalTrace, trace
from sessions.store import SessionSummary

METRIC_FIELDS = tuple(m.key for m in registry.RECORDED)
"""The record's metric columns, from :data:`sessions.metric_registry.METRICS` (older records lack new ones: NaN)."""
NN_LABELS = ("normal", "gap")
"""Labels whose RR the metrics use (see :attr:`biofeedback.artefacts.BeatLabel.is_nn`)."""


@dataclass
class Record:
    id: str
    path: Path
    meta: dict[str, Any]
    summary: SessionSummary
    beat_t: np.ndarray          # s since start, time of the beat ending each RR
    rr_ticks: np.ndarray        # as the strap sent it, 1/1024 s
    after_gap: np.ndarray       # bool
    labels: np.ndarray          # str ('' when the session ended before the beat was labelled)
    metric_t: np.ndarray
    metrics: dict[str, np.ndarray]  # NaN where a row had no value
    events: list[Event]
    phases: list[Phase]
    problems: list[str] | None = None  # set when the file was damaged and this is what was recovered
    payloads: int | None = None
    ecg: SignalTrace | None = None
    """The strap's ECG (times s, µV) when it streamed one (a Polar H10), else None."""
    acc: SignalTrace | None = None
    """The chest accelerometer (times s, (n, 3) mG) when streamed, else None."""
    ecg_labels: np.ndarray | None = None
    """The ECG's class per strap beat ('N', 'V', 'S', 'F', 'Q'; '' where the ECG had none), or None without ECG."""
    ecg_beat_t: np.ndarray | None = None
    """Every beat the ECG showed (s) with its class in :attr:`ecg_beat_labels`, strap beat or not; None without ECG."""
    ecg_beat_labels: np.ndarray | None = None
    notes: list[tuple[str, str]] = field(default_factory=list)
    """The therapist's notes ``(written at, text)``, added after the session (``biofeedback notes``)."""
    _gaps: list[tuple[float, float]] | None = field(default=None, repr=False)

    @property
    def rr_ms(self) -> np.ndarray:
        return self.rr_ticks * (1000.0 / TICKS_PER_SECOND)

    @property
    def nn_mask(self) -> np.ndarray:
        return np.isin(self.labels, NN_LABELS)

    @property
    def artefact_mask(self) -> np.ndarray:
        return ~self.nn_mask & (self.labels != "")

    @property
    def duration_s(self) -> float:
        return float(self.summary.duration_s)

    @property
    def language(self) -> str:
        return self.meta.get("language") or "en"

    @property
    def title(self) -> str:
        return str(self.meta.get("title") or self.meta.get("script") or self.id)

    @property
    def started(self) -> datetime | None:
        try:
            return datetime.fromisoformat(str(self.meta.get("started_at")))
        except ValueError:
            return None

    def events_of(self, *kinds: EventKind) -> list[Event]:
        return [e for e in self.events if e.kind in kinds]

    def link_gaps(self) -> list[tuple[float, float]]:
        """(start, end) of every stretch without the strap: a lost link until it came back."""
        if self._gaps is None:
            gaps, lost = [], None
            for t, _kind, data in self.events_of(EventKind.LINK):
                state = data.get("state")
                if state in ("disconnected", "reconnecting") and lost is None:
                    lost = t
                elif state in ("connected", "reconnected") and lost is not None:
                    gaps.append((lost, t))
                    lost = None
            if lost is not None:
                gaps.append((lost, self.duration_s))
            self._gaps = gaps
        return self._gaps

    def irregular_stretches(self) -> list[tuple[float, float]]:
        """(start, end) of the stretches the rhythm check called too irregular for HRV: from the record's
        ``rhythm`` events, or (older records) the same check run over its beats."""
        events = self.events_of(EventKind.RHYTHM)
        if not events:
            if not len(self.beat_t):
                return []
            return irregular_stretches(self.beat_t.tolist(), self.rr_ms.tolist())
        out: list[tuple[float, float]] = []
        start: float | None = None
        for t, _k, data in events:
            if data.get("irregular") and start is None:
                start = t
            elif not data.get("irregular") and start is not None:
                out.append((start, t))
                start = None
        if start is not None:
            out.append((start, self.duration_s))
        return out

    @property
    def hrv_mask(self) -> np.ndarray:
        """The beats HRV is computed from: NN, and outside irregular-rhythm stretches."""
        stretches = self.irregular_stretches()
        if not stretches:
            return self.nn_mask
        return self.nn_mask & ~np.asarray(within(self.beat_t.tolist(), stretches), dtype=bool)

    def baseline_hr(self) -> float | None:
        """The starting level: the recorded baseline, else the first phase's mean."""
        for _t, _k, data in self.events_of(EventKind.BASELINE):
            if isinstance(data.get("hr_bpm"), (int, float)):
                return float(data["hr_bpm"])
        if self.phases and self.phases[0].means.get("hr_bpm") is not None:
            return self.phases[0].means["hr_bpm"]
        return None


def _metric_arrays(rows: list[tuple[float, dict[str, Any]]]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    t = np.array([r[0] for r in rows], dtype=float)
    out = {}
    for key in METRIC_FIELDS:
        col = np.full(len(rows), np.nan)
        for i, (_t, data) in enumerate(rows):
            v = data.get(key)
            if isinstance(v, (int, float)) and math.isfinite(v):
                col[i] = v
        out[key] = col
    return t, out


def load_record(path: Path) -> Record:
    """Everything the review needs from one session file (what can be recovered, when damaged)."""
    with open_session(path) as reader:
        summary = reader.summary()
        beats = reader.beats()
        rows = reader.metrics()
        events = [Event(t, parse_kind(kind), data) for t, kind, data in reader.events()]
        phase_list = phases(reader)
        problems = list(reader.problems) if isinstance(reader, SalvagedReader) or reader.problems else None
        payloads = reader.salvage.payloads if isinstance(reader, SalvagedReader) else None
        meta = dict(reader.meta)
        rid = reader.id
        ecg = trace(ECG, reader.signal_frames(ECG))
        acc = trace(ACC, reader.signal_frames(ACC))
        ecg_beats = reader.ecg_beats()
        notes = reader.notes() if hasattr(reader, "notes") else []
        if problems is not None or reader.problems:
            problems = list(reader.problems)
    ecg_labels = ecg_beat_t = ecg_beat_labels = None
    if ecg_beats:
        by_idx = {idx: label for _t, label, idx in ecg_beats if idx is not None}
        ecg_labels = np.array([by_idx.get(b[0], "") for b in beats] or [""], dtype=object).astype(str)[:len(beats)]
        ecg_beat_t = np.array([b[0] for b in ecg_beats], dtype=float)
        ecg_beat_labels = np.array([b[1] for b in ecg_beats], dtype=str)
    metric_t, metrics = _metric_arrays(rows)
    # The record's own duration counts beats and payloads; steps and the closing grounding can run on
    # after the heart data stopped, and the review shows them to the end.
    end = max([summary.duration_s] + [e[0] for e in events[-1:]])
    if end > summary.duration_s:
        summary.duration_s = end
        if phase_list:
            phase_list[-1].end = end
    return Record(
        id=rid, path=Path(path), meta=meta, summary=summary,
        beat_t=np.array([b[1] for b in beats], dtype=float),
        rr_ticks=np.array([b[2] for b in beats], dtype=np.int64),
        after_gap=np.array([bool(b[3]) for b in beats], dtype=bool),
        labels=np.array([b[4] or "" for b in beats], dtype=object).astype(str) if beats else np.array([], dtype=str),
        metric_t=metric_t, metrics=metrics, events=events, phases=phase_list, problems=problems, payloads=payloads,
        ecg=ecg, acc=acc, ecg_labels=ecg_labels, ecg_beat_t=ecg_beat_t, ecg_beat_labels=ecg_beat_labels,
        notes=notes,
    )


__all__ = ["Record", "load_record", "METRIC_FIELDS", "PHASE_FIELDS"]
