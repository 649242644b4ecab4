"""The session record: one SQLite file per session, written as the session goes.

Why SQLite: one file a person can copy, WAL so a reader (review, MQTT watch) never blocks the
writer, and a crash or power cut loses at most the last uncommitted seconds (we commit at least
every ``commit_interval_s``; ``synchronous=NORMAL`` in WAL mode keeps every committed
transaction across an application crash, and all but the last few across a power cut).

Files are the user's health data: created with mode 0600 in a 0700 folder under the user's data
directory (``BIOFEEDBACK_DATA_DIR`` overrides it, for tests and portable installs).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import platformdirs

from sessions.errors import UserError

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
SUFFIX = ".biofeedback.sqlite"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS payloads (t REAL NOT NULL, payload BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS beats (
    idx INTEGER PRIMARY KEY,      -- 0-based position in the session's RR series
    t REAL NOT NULL,              -- time of the beat that ends the interval, s since start
    rr_ticks INTEGER NOT NULL,    -- RR as the strap sent it, 1/1024 s
    after_gap INTEGER NOT NULL DEFAULT 0,
    label TEXT,                   -- artefact label (filled a beat or two later)
    corrected_ticks REAL          -- the value the metrics used
);
CREATE TABLE IF NOT EXISTS metrics (t REAL NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (t REAL NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_kind ON events(kind);
"""


def data_dir() -> Path:
    """Where recordings live (created 0700 on first use)."""
    base = os.environ.get("BIOFEEDBACK_DATA_DIR")
    path = Path(base) if base else Path(platformdirs.user_data_dir("biofeedback", appauthor=False))
    return path / "sessions"


def is_session_file(path: Path) -> bool:
    """True for an SQLite file (a recorded session), judged by its header."""
    try:
        with Path(path).open("rb") as fh:
            return fh.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def _private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def new_session_id(now: datetime | None = None) -> str:
    now = now or datetime.now().astimezone()
    return now.strftime("%Y%m%d-%H%M%S")


def session_path(session_id: str) -> Path:
    return data_dir() / f"{session_id}{SUFFIX}"


def fresh_session_path() -> tuple[str, Path]:
    """An id (start time to the second, suffixed when two sessions share a second) and its path."""
    _private_dir(data_dir())
    base = new_session_id()
    session_id, n = base, 1
    while session_path(session_id).exists():
        n += 1
        session_id = f"{base}-{n}"
    return session_id, session_path(session_id)


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=_jsonable)


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if hasattr(value, "value"):  # enums
        return value.value
    raise TypeError(f"cannot store {type(value).__name__} in a session record")


class SessionWriter:
    """Appends to a session file; commits at least every ``commit_interval_s`` seconds."""

    def __init__(self, path: Path, meta: dict[str, Any], *, commit_interval_s: float = 2.0) -> None:
        self.path = Path(path)
        _private_dir(self.path.parent)
        old_umask = os.umask(0o077)  # the -wal and -shm files must be private too
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            os.close(fd)
            self.db: sqlite3.Connection | None = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(SCHEMA)
        finally:
            os.umask(old_umask)
        self.commit_interval_s = commit_interval_s
        self._last_commit = time.monotonic()
        self._last_commit_t = 0.0
        self._next_beat = 0
        self.db.execute("BEGIN")
        started = datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
        for key, value in {"schema_version": SCHEMA_VERSION, "started_at": started, **meta}.items():
            self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, _json(value)))
        self.commit()

    # --- appends ------------------------------------------------------------------------
    def payload(self, t: float, payload: bytes) -> None:
        self.db.execute("INSERT INTO payloads VALUES (?, ?)", (t, payload))
        self._maybe_commit(t)

    def beat(self, t: float, rr_ticks: int, after_gap: bool = False) -> int:
        idx = self._next_beat
        self._next_beat += 1
        self.db.execute("INSERT INTO beats (idx, t, rr_ticks, after_gap) VALUES (?, ?, ?, ?)",
                        (idx, t, int(rr_ticks), int(after_gap)))
        self._maybe_commit(t)
        return idx

    def label(self, idx: int, label: str, corrected_ticks: float | None = None) -> None:
        self.db.execute("UPDATE beats SET label = ?, corrected_ticks = ? WHERE idx = ?",
                        (label, corrected_ticks, idx))

    def metrics(self, t: float, data: dict[str, Any]) -> None:
        self.db.execute("INSERT INTO metrics VALUES (?, ?)", (t, _json(data)))
        self._maybe_commit(t)

    def event(self, t: float, kind: str, data: dict[str, Any] | None = None) -> None:
        self.db.execute("INSERT INTO events VALUES (?, ?, ?)", (t, kind, _json(data or {})))
        self._maybe_commit(t)

    def set_meta(self, key: str, value: Any) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, _json(value)))

    # --- durability ---------------------------------------------------------------------
    def _maybe_commit(self, t: float) -> None:
        # Every few seconds of wall time, and of session time too: a session replayed at speed
        # then loses no more of its own timeline to a crash than a live one would.
        if (time.monotonic() - self._last_commit >= self.commit_interval_s
                or t - self._last_commit_t >= self.commit_interval_s):
            self.commit(t)

    def commit(self, t: float | None = None) -> None:
        self.db.execute("COMMIT")
        self._last_commit = time.monotonic()
        if t is not None:
            self._last_commit_t = t
        self.db.execute("BEGIN")

    def close(self, **final_meta: Any) -> None:
        if self.db is None:
            return
        for key, value in final_meta.items():
            self.set_meta(key, value)
        self.set_meta("ended_at", datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds"))
        self.db.execute("COMMIT")
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.db.close()
        self.db = None


@dataclass
class SessionSummary:
    id: str
    path: Path
    started_at: str
    script: str | None
    language: str | None
    source: str
    duration_s: float
    beats: int
    complete: bool

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "path": str(self.path), "started_at": self.started_at, "script": self.script,
                "language": self.language, "source": self.source, "duration_s": round(self.duration_s, 1),
                "beats": self.beats, "complete": self.complete}


class SessionReader:
    """Read access to one session file (read-only; safe while it is being written)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise UserError(f"{self.path}: no such session file.")
        try:
            self.db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            self.meta = {k: json.loads(v) for k, v in self.db.execute("SELECT key, value FROM meta")}
        except sqlite3.DatabaseError as err:
            raise DamagedSession(self.path, str(err)) from None
        self.id = self.path.name.removesuffix(SUFFIX)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "SessionReader":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def beats(self) -> list[tuple[int, float, int, bool, str | None, float | None]]:
        return list(self.db.execute("SELECT idx, t, rr_ticks, after_gap, label, corrected_ticks FROM beats ORDER BY idx"))

    def payloads(self) -> Iterator[tuple[float, bytes]]:
        yield from self.db.execute("SELECT t, payload FROM payloads ORDER BY rowid")

    def metrics(self) -> list[tuple[float, dict[str, Any]]]:
        return [(t, json.loads(d)) for t, d in self.db.execute("SELECT t, data FROM metrics ORDER BY rowid")]

    def events(self, kind: str | None = None) -> list[tuple[float, str, dict[str, Any]]]:
        query = "SELECT t, kind, data FROM events" + (" WHERE kind = ?" if kind else "") + " ORDER BY rowid"
        return [(t, k, json.loads(d)) for t, k, d in self.db.execute(query, (kind,) if kind else ())]

    def summary(self) -> SessionSummary:
        (beats, last_beat), = self.db.execute("SELECT COUNT(*), MAX(t) FROM beats")
        (last_payload,), = self.db.execute("SELECT MAX(t) FROM payloads")
        duration = max(last_beat or 0.0, last_payload or 0.0)
        source = self.meta.get("source", {})
        return SessionSummary(
            id=self.id, path=self.path, started_at=self.meta.get("started_at", "?"),
            script=self.meta.get("script"), language=self.meta.get("language"),
            source=source.get("kind", "?") if isinstance(source, dict) else str(source),
            duration_s=duration, beats=beats, complete="ended_at" in self.meta,
        )


class DamagedSession(UserError):
    """A session file that SQLite cannot read as a whole (cut off, overwritten, not a record).

    The message says what is wrong and where to see what can still be recovered; the caller that
    wants the recoverable part uses :func:`salvage_session`.
    """

    def __init__(self, path: Path, reason: str) -> None:
        self.path, self.reason = Path(path), reason
        session_id = self.path.name.removesuffix(SUFFIX)
        super().__init__(f"{self.path.name}: not a readable session record ({reason}); "
                         f"`biofeedback sessions show {session_id}` shows what can be recovered.")


@dataclass
class Salvage:
    """What could be read from a damaged or half-written file, table by table."""

    meta: dict[str, Any]
    beats: list[tuple[int, float, int, bool, str | None, float | None]]
    metrics: list[tuple[float, dict[str, Any]]]
    events: list[tuple[float, str, dict[str, Any]]]
    payloads: int
    problems: list[str]

    @property
    def anything(self) -> bool:
        return bool(self.beats or self.metrics or self.events)


_SALVAGE_QUERIES = {
    "meta": "SELECT rowid, key, value FROM meta WHERE rowid > ? ORDER BY rowid",
    "beats": "SELECT rowid, idx, t, rr_ticks, after_gap, label, corrected_ticks FROM beats WHERE rowid > ? ORDER BY rowid",
    "metrics": "SELECT rowid, t, data FROM metrics WHERE rowid > ? ORDER BY rowid",
    "events": "SELECT rowid, t, kind, data FROM events WHERE rowid > ? ORDER BY rowid",
    "payloads": "SELECT rowid, t FROM payloads WHERE rowid > ? ORDER BY rowid",
}


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
        except sqlite3.DatabaseError as err:
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
        except sqlite3.DatabaseError as err:
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
                tables[table] = _salvage_table(db, table, problems)
            except sqlite3.DatabaseError as err:  # the schema itself is unreadable
                problems.append(f"{table}: missing ({err})")
                tables[table] = []
    return tables


def _salvaged(path: Path, tables: dict[str, list[tuple]], problems: list[str]) -> Salvage:
    meta: dict[str, Any] = {}
    for key, value in tables["meta"]:
        try:
            meta[key] = json.loads(value)
        except (TypeError, ValueError):
            problems.append(f"meta: value of {key!r} unreadable")
    metrics, events = [], []
    for t, data in tables["metrics"]:
        try:
            metrics.append((t, json.loads(data)))
        except (TypeError, ValueError):
            pass
    for t, kind, data in tables["events"]:
        try:
            events.append((t, kind, json.loads(data)))
        except (TypeError, ValueError):
            pass
    beats = [(i, t, r, bool(g), lab, c) for i, t, r, g, lab, c in tables["beats"]
             if isinstance(t, (int, float)) and isinstance(r, int)]
    if "ended_at" not in meta:
        problems.append("the session did not close normally (no end time recorded)")
    salvage = Salvage(meta, beats, metrics, events, len(tables["payloads"]), problems)
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

    def close(self) -> None:
        pass

    def __enter__(self) -> "SalvagedReader":
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def beats(self) -> list[tuple[int, float, int, bool, str | None, float | None]]:
        return list(self.salvage.beats)

    def metrics(self) -> list[tuple[float, dict[str, Any]]]:
        return list(self.salvage.metrics)

    def events(self, kind: str | None = None) -> list[tuple[float, str, dict[str, Any]]]:
        return [e for e in self.salvage.events if kind is None or e[1] == kind]

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
        reader.db.execute("SELECT COUNT(*), MAX(t) FROM beats").fetchone()
        reader.db.execute("SELECT COUNT(*) FROM metrics").fetchone()
        reader.db.execute("SELECT COUNT(*), MAX(length(data)) FROM events").fetchone()
        reader.db.execute("SELECT COUNT(*), MAX(t) FROM payloads").fetchone()
        return reader
    except sqlite3.DatabaseError as err:
        log.warning("%s is damaged (%s); reading what can be recovered", Path(path).name, err)
        reader.close()
        return SalvagedReader(path, salvage_session(path))


def delete_session_file(path: Path) -> None:
    """Remove a session file with its WAL and shared-memory companions."""
    for extra in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        extra.unlink(missing_ok=True)


def list_sessions(damaged: list[tuple[Path, str]] | None = None) -> list[SessionSummary]:
    """Readable sessions, oldest first; unreadable files go to ``damaged`` as (path, reason)."""
    folder = data_dir()
    out = []
    for path in sorted(folder.glob(f"*{SUFFIX}")) if folder.exists() else []:
        try:
            with closing(SessionReader(path)) as reader:
                out.append(reader.summary())
        except (UserError, sqlite3.DatabaseError) as err:
            log.info("Skipping %s: %s", path.name, err)
            if damaged is not None:
                reason = err.reason if isinstance(err, DamagedSession) else str(err)
                damaged.append((path, reason))
    return out


def resolve_session(ref: str | None) -> Path:
    """A session file from an id, a path, or (None) the latest session."""
    if ref is None:
        sessions = sorted(data_dir().glob(f"*{SUFFIX}")) if data_dir().exists() else []
        if not sessions:
            raise UserError("there are no recorded sessions yet; run one with `biofeedback run --simulate`.")
        return sessions[-1]
    candidate = Path(ref)
    if candidate.suffix == ".sqlite" or candidate.exists():
        if not candidate.exists():
            raise UserError(f"{candidate}: no such session file.")
        return candidate
    path = session_path(ref)
    if not path.exists():
        raise UserError(f"no session with id '{ref}'; `biofeedback sessions` lists them.")
    return path
