"""Reading what a damaged or half-written session file still holds.

A crash leaves a readable file (WAL keeps every committed transaction); this is for files cut short
by a full disk or an interrupted copy, or overwritten in part. :func:`open_session` is what every
view uses: the normal reader when the file is whole, the recovered part otherwise.
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
import tempfile
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sessions.errors import UserError
from sessions.store import (
    SUFFIX,
    UNREADABLE,
    DamagedSession,
    SessionReader,
    SessionSummary,
    _is_time,
    _json_object,
    is_session_file,
    table_columns,
    text_or_bytes,
    valid_beat,
    valid_ecg_beats,
    valid_signal_frames,
)

log = logging.getLogger(__name__)


@dataclass
class Salvage:
    """What could be read from a damaged or half-written file, table by table."""

    meta: dict[str, Any]
    beats: list[tuple[int, float, int, bool, str | None]]
    metrics: list[tuple[float, dict[str, Any]]]
    events: list[tuple[float, str, dict[str, Any]]]
    payloads: int
    problems: list[str]
    signal_frames: dict[str, list[tuple[float, float, bool, Any]]] = field(default_factory=dict)
    """Decoded ECG/ACC frames by kind (version-3 records with a Polar H10's signals)."""
    ecg_beats: list[tuple[float, str, int | None]] = field(default_factory=list)

    @property
    def anything(self) -> bool:
        return bool(self.beats or self.metrics or self.events)


_SALVAGE_QUERIES = {
    "meta": "SELECT rowid, key, value FROM meta WHERE rowid > ? ORDER BY rowid",
    "beats": "SELECT rowid, idx, t, rr_ticks, after_gap, label FROM beats WHERE rowid > ? ORDER BY rowid",
    "metrics": "SELECT rowid, t, data FROM metrics WHERE rowid > ? ORDER BY rowid",
    "events": "SELECT rowid, t, kind, data FROM events WHERE rowid > ? ORDER BY rowid",
    "payloads": "SELECT rowid, t FROM payloads WHERE rowid > ? ORDER BY rowid",
    "signal_frames": "SELECT rowid, t, kind, fs, n, format, after_gap, data FROM signal_frames WHERE rowid > ? ORDER BY rowid",
    "ecg_beats": "SELECT rowid, t, label, beat_idx FROM ecg_beats WHERE rowid > ? ORDER BY rowid",
}
OPTIONAL = frozenset({"signal_frames", "ecg_beats"})
"""Tables of schema version 3: an older record without them is not damaged."""


def _salvage_table(db: sqlite3.Connection, table: str, problems: list[str]) -> list[tuple]:
    """Every row SQLite can still reach, skipping ahead past unreadable pages (bounded probes)."""
    rows: list[tuple] = []
    last, skip, failures = -1, 1, 0
    while failures < 40:
        try:
            for row in db.execute(_SALVAGE_QUERIES[table], (last,)):
                rows.append(row[1:])
                last, skip = row[0], 1
            break
        except UNREADABLE as err:
            failures += 1
            if failures == 1:
                problems.append(f"{table}: unreadable after {len(rows)} rows ({err})")
            last += skip  # jump over the damaged stretch, further each time it fails again
            skip *= 4
            if last > 2 ** 62:
                break
    return rows


def salvage_session(path: Path) -> Salvage:
    """Read whatever a damaged or cut-off session file still holds; raises when nothing can be.

    A crash leaves a file whose committed transactions are all readable (WAL), so this is for files
    cut short by a full disk or a copy, or overwritten in part: SQLite reads the pages it can reach.
    """
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such session file.")
    size = path.stat().st_size
    if size == 0:
        raise UserError(f"{path.name} is empty: the session stopped before anything was written, "
                        "so there is nothing to recover.")
    if not is_session_file(path):
        raise UserError(f"{path.name} is not a session record (it does not start like an SQLite file); "
                        "nothing can be recovered from it.")
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="biofeedback-salvage-") as tmp:  # 0700, removed afterwards
        copy = _readable_copy(path, Path(tmp), problems)
        try:
            db = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
            db.text_factory = text_or_bytes
        except UNREADABLE as err:
            raise UserError(f"{path.name} cannot be opened ({err}); nothing can be recovered from it.") from None
        tables = _salvage_tables(db, problems)
    return _salvaged(path, tables, problems)


def _readable_copy(path: Path, folder: Path, problems: list[str]) -> Path:
    """A private copy SQLite will open: a file cut short still claims its full size in its header
    (bytes 28-31), which makes SQLite refuse every page; the copy claims only the pages present."""
    copy = folder / path.name
    shutil.copyfile(path, copy)
    wal = path.with_name(path.name + "-wal")
    if wal.exists():
        shutil.copyfile(wal, folder / wal.name)
    with copy.open("r+b") as fh:
        header = fh.read(100)
        if len(header) < 100:
            return copy
        page_size = int.from_bytes(header[16:18], "big")
        page_size = 65536 if page_size == 1 else page_size
        claimed = int.from_bytes(header[28:32], "big")
        present = copy.stat().st_size // page_size if page_size >= 512 else 0
        if present and claimed > present:
            problems.append(f"the file is cut short: {present} of {claimed} pages present")
            fh.seek(28)
            fh.write(present.to_bytes(4, "big"))
    return copy


def _salvage_tables(db: sqlite3.Connection, problems: list[str]) -> dict[str, list[tuple]]:
    with closing(db):
        tables: dict[str, list[tuple]] = {}
        for table in _SALVAGE_QUERIES:
            try:
                if table in OPTIONAL and not table_columns(db, table):
                    tables[table] = []
                    continue
                tables[table] = _salvage_table(db, table, problems)
            except UNREADABLE as err:  # the schema itself is unreadable
                problems.append(f"{table}: missing ({err})")
                tables[table] = []
    return tables


def _signal_frames(rows: list[tuple], problems: list[str]) -> dict[str, list[tuple[float, float, bool, Any]]]:
    frames: dict[str, list[tuple[float, float, bool, Any]]] = {}
    for kind in ("ecg", "acc"):
        frames[kind], bad = valid_signal_frames([r for r in rows if r[1] == kind])
        if kind == "ecg":
            bad += sum(1 for r in rows if r[1] not in ("ecg", "acc"))
        if bad:
            problems.append(f"signal_frames: {bad} unreadable {kind.upper()} frames left out")
    return frames


def _salvaged(path: Path, tables: dict[str, list[tuple]], problems: list[str]) -> Salvage:
    meta: dict[str, Any] = {}
    for key, value in tables["meta"]:
        try:
            meta[key] = json.loads(value)
        except (TypeError, ValueError):
            problems.append(f"meta: value of {key!r} unreadable")
    metrics, events = [], []
    for t, data in tables["metrics"]:
        parsed = _json_object(data)
        if _is_time(t) and parsed is not None:
            metrics.append((float(t), parsed))
    for t, kind, data in tables["events"]:
        parsed = _json_object(data)
        if _is_time(t) and isinstance(kind, str) and parsed is not None:
            events.append((float(t), kind, parsed))
    beats = [b for b in (valid_beat(row) for row in tables["beats"]) if b is not None]
    for table, kept in (("metrics", metrics), ("events", events), ("beats", beats)):
        if len(kept) < len(tables[table]):
            problems.append(f"{table}: {len(tables[table]) - len(kept)} unreadable rows left out")
    if "ended_at" not in meta:
        problems.append("the session did not close normally (no end time recorded)")
    frames = _signal_frames(tables["signal_frames"], problems)
    ecg_beats, bad = valid_ecg_beats(tables["ecg_beats"])
    if bad:
        problems.append(f"ecg_beats: {bad} unreadable rows left out")
    salvage = Salvage(meta, beats, metrics, events, len(tables["payloads"]), problems, frames, ecg_beats)
    if not salvage.anything and not meta:
        raise UserError(f"{path.name} is damaged beyond repair: no beats, metrics or events can be read.")
    return salvage


class SalvagedReader:
    """The :class:`SessionReader` interface over a :class:`Salvage`, so every view works on it."""

    def __init__(self, path: Path, salvage: Salvage) -> None:
        self.path = Path(path)
        self.id = self.path.name.removesuffix(SUFFIX)
        self.salvage = salvage
        self.meta = salvage.meta

    @property
    def problems(self) -> list[str]:
        return self.salvage.problems

    def close(self) -> None:
        pass

    def __enter__(self) -> "SalvagedReader":
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def beats(self) -> list[tuple[int, float, int, bool, str | None]]:
        return list(self.salvage.beats)

    def metrics(self) -> list[tuple[float, dict[str, Any]]]:
        return list(self.salvage.metrics)

    def events(self, kind: str | None = None) -> list[tuple[float, str, dict[str, Any]]]:
        return [e for e in self.salvage.events if kind is None or e[1] == kind]

    def signal_frames(self, kind: str) -> list[tuple[float, float, bool, Any]]:
        return list(self.salvage.signal_frames.get(kind, []))

    def ecg_beats(self) -> list[tuple[float, str, int | None]]:
        return list(self.salvage.ecg_beats)

    def summary(self) -> SessionSummary:
        s = self.salvage
        ends = [b[1] for b in s.beats[-1:]] + [m[0] for m in s.metrics[-1:]] + [e[0] for e in s.events[-1:]]
        source = self.meta.get("source", {})
        return SessionSummary(
            id=self.id, path=self.path, started_at=self.meta.get("started_at", "?"),
            script=self.meta.get("script"), language=self.meta.get("language"),
            source=source.get("kind", "?") if isinstance(source, dict) else str(source),
            duration_s=max(ends, default=0.0), beats=len(s.beats), complete=False,
        )


def open_session(path: Path) -> SessionReader | SalvagedReader:
    """A reader for a session file, falling back to what can be recovered when it is damaged.

    Reads every table once up front when the file is healthy (cheap: a 2-hour session is a few
    thousand rows), so damage deep in a table is found here rather than halfway through a view.
    """
    try:
        reader = SessionReader(path)
    except DamagedSession:
        return SalvagedReader(path, salvage_session(path))
    try:
        # The same queries the views run (an index page can be damaged while a plain count still works).
        from_meta = len(reader.problems)
        reader.summary()
        reader.beats()
        reader.metrics()
        reader.events()
        reader.db.execute("SELECT COUNT(*), MAX(t), MAX(length(payload)) FROM payloads").fetchone()
        reader.ecg_beats()
        if reader.has_signals:  # touched, not decoded: the views decode them once
            reader.db.execute("SELECT COUNT(*), MAX(t), MAX(length(data)), MAX(kind) FROM signal_frames").fetchone()
        del reader.problems[from_meta:]  # the views read the tables again and count each skipped row once
        return reader
    except UNREADABLE as err:
        log.warning("%s is damaged (%s); reading what can be recovered", Path(path).name, err)
        reader.close()
        return SalvagedReader(path, salvage_session(path))
