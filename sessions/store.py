"""The session record: one SQLite file per session, written as the session goes.

Why SQLite: one file a person can copy, WAL so a reader (review, MQTT watch) never blocks the
writer, and a crash or power cut loses at most the last uncommitted seconds (we commit at least
every ``commit_interval_s``; ``synchronous=NORMAL`` in WAL mode keeps every committed
transaction across an application crash, and all but the last few across a power cut).

A clean close folds the WAL back and leaves rollback-journal mode, so a finished session is one
file. Readers open read-only and create nothing beside a record: a record with no ``-wal`` beside
it is not being written (writers only ever create new files), so it is opened ``immutable``; one
with a ``-wal`` (being written, or left by a crash) is read through that WAL as SQLite does.

Schema version 2 (readers take 1 as well): the ``beats.corrected_ticks`` column of version 1 was
never filled and is gone (the corrected series is not one value per beat: a run of flagged beats
becomes as many equal intervals as fit its span, see :func:`biofeedback.artefacts.corrected_series`,
and the review rebuilds it from the raw RR and labels); meta ``payload_format`` says how to read
the ``payloads`` blobs (absent in version 1: :data:`PAYLOAD_FORMAT_STRAP`).

Schema version 3 adds what a Polar H10 streams besides its RR: ``signal_frames`` (the ECG and the chest
accelerometer, one row per PMD frame, see :mod:`sessions.signal_blobs`) and ``ecg_beats`` (every beat
the ECG showed, its class N, V, S, F or Q, and the strap beat it matched, if any). Records of versions
1 and 2 have neither and open everywhere as before; a session without ECG writes no such rows.

After the session, two things are added to a finished record (in one short transaction, rollback
journal, the file stays one file): the after-rating, asked once the record is safely closed, and
therapist notes (table ``notes``, :func:`add_note`). Neither happens while a review reads the file.

Files are the user's health data: created with mode 0600 in a 0700 folder under the user's data
directory (``BIOFEEDBACK_DATA_DIR`` overrides it, for tests and portable installs).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


from devices.source import HeartSource
from sessions.errors import UserError
from sessions.private_files import private_folder
from sessions import settings
from sessions import signal_blobs

log = logging.getLogger(__name__)

SCHEMA_VERSION = 3
SUFFIX = ".biofeedback.sqlite"

PAYLOAD_FORMAT_STRAP = "ble-hrm-0x2a37"
"""Heart Rate Measurement notifications (Bluetooth GATT 0x2A37) as a strap or the simulator sent them."""
PAYLOAD_FORMAT_FROM_RR = "ble-hrm-0x2a37-from-rr-file"
"""The same byte layout, built by a replay from an RR file or notification log: the heart rate is
derived from RR where the file had none, and a bare RR list gets one notification per second."""
PAYLOAD_FORMATS = (PAYLOAD_FORMAT_STRAP, PAYLOAD_FORMAT_FROM_RR)
"""What this version can decode (all through :func:`devices.hrm.parse_hrm`)."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS payloads (t REAL NOT NULL, payload BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS beats (
    idx INTEGER PRIMARY KEY,      -- 0-based position in the session's RR series
    t REAL NOT NULL,              -- time of the beat that ends the interval, s since start
    rr_ticks INTEGER NOT NULL,    -- RR as the strap sent it, 1/1024 s
    after_gap INTEGER NOT NULL DEFAULT 0,
    label TEXT                    -- artefact label (filled a beat or two later)
);
CREATE TABLE IF NOT EXISTS metrics (t REAL NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (t REAL NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_kind ON events(kind);
CREATE TABLE IF NOT EXISTS signal_frames (
    t REAL NOT NULL,              -- session time of the frame's last sample
    kind TEXT NOT NULL,           -- 'ecg' (µV) or 'acc' (x, y, z in mG)
    fs REAL NOT NULL,             -- samples per second
    n INTEGER NOT NULL,           -- samples in the frame
    format TEXT NOT NULL,         -- 'pmd' (the notification as received) or 'i32' (int32 LE, channels interleaved)
    after_gap INTEGER NOT NULL DEFAULT 0,
    data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS ecg_beats (
    t REAL NOT NULL,              -- R peak found in the ECG, s since start
    label TEXT NOT NULL,          -- the ECG's class: N, V, S, F or Q
    beat_idx INTEGER              -- the strap beat it is (beats.idx), NULL when the strap reported none there
);
"""


def data_dir() -> Path:
    """Where recordings live (created 0700 on first use): see :mod:`sessions.settings`."""
    return settings.current().sessions_dir


SQLITE_MAGIC = b"SQLite format 3\x00"
"""The first bytes of every SQLite file, so of every session record."""


def is_session_file(path: Path) -> bool:
    """True for an SQLite file (a recorded session), judged by its header."""
    try:
        with Path(path).open("rb") as fh:
            return fh.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


def _private_dir(path: Path) -> Path:
    """The folder, 0700 whatever the umask (with the data root above it); refused if others can write it."""
    return private_folder(path, settings.current().data_dir)


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


def new_session_writer(meta: dict[str, Any], *, payload_format: str = PAYLOAD_FORMAT_STRAP) -> tuple[str, "SessionWriter"]:
    """A writer on a new file named by the start time; sessions started in the same second (or
    millisecond, by several processes) each get their own, as the exclusive create is retried."""
    base = new_session_id()
    for n in range(1, 1000):
        session_id = base if n == 1 else f"{base}-{n}"
        try:
            return session_id, SessionWriter(session_path(session_id), meta, payload_format=payload_format)
        except FileExistsError:
            continue
    raise UserError(f"{data_dir()}: a thousand sessions started this second; try again.")


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=_jsonable)


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if hasattr(value, "value"):  # enums
        return value.value
    raise TypeError(f"cannot store {type(value).__name__} in a session record")


def payload_format_of(source: HeartSource) -> str:
    """The payload format a heart source produces (see :attr:`devices.source.HeartSource.payload_format`)."""
    return source.payload_format


UNREADABLE = (sqlite3.DatabaseError, UnicodeDecodeError)
"""What reading a damaged record raises: SQLite's errors, and a column name that is not UTF-8 (a flipped
bit in the schema), which the sqlite3 module decodes strictly."""


def _open_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection that creates no ``-wal`` or ``-shm`` beside a finished record."""
    wal = path.with_name(path.name + "-wal")
    flags = "mode=ro" if wal.exists() else "mode=ro&immutable=1"
    db = sqlite3.connect(f"{path.resolve().as_uri()}?{flags}", uri=True)
    db.text_factory = text_or_bytes
    return db


def text_or_bytes(raw: bytes) -> str | bytes:
    """A TEXT cell as str, or its bytes when it is not UTF-8 (a flipped bit): the row is then judged
    unreadable by the reader, instead of the whole query failing."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw


class SessionWriter:
    """Appends to a session file; commits at least every ``commit_interval_s`` seconds.

    ``payload_format`` is recorded in the meta (see :data:`PAYLOAD_FORMATS`); pass
    ``payload_format_of(source)`` so a replay of an RR file is marked as such.
    """

    def __init__(self, path: Path, meta: dict[str, Any], *, commit_interval_s: float = 2.0,
                 payload_format: str = PAYLOAD_FORMAT_STRAP, checkpoint_interval_s: float = 60.0) -> None:
        self.path = Path(path)
        self.failed: str | None = None
        """Why recording stopped (disk full, ...); the session goes on without its record from then."""
        self.kept_until_t = 0.0
        """Session time up to which the record is committed."""
        _private_dir(self.path.parent)
        self.db: sqlite3.Connection | None = None
        try:
            self._create(payload_format, meta)
        except FileExistsError:
            raise
        except (OSError, sqlite3.Error) as err:
            if self.db is not None:
                self.db.close()
            delete_session_file(self.path)
            raise UserError(f"Cannot record in {self.path.parent}: {_reason(err)}; free some space or set "
                            "BIOFEEDBACK_DATA_DIR to a folder you can write.") from None
        self.commit_interval_s = commit_interval_s
        self.checkpoint_interval_s = checkpoint_interval_s
        self._last_commit = time.monotonic()
        self._last_commit_t = 0.0
        self._last_checkpoint_t = 0.0
        self._next_beat = 0

    def _create(self, payload_format: str, meta: dict[str, Any]) -> None:
        old_umask = os.umask(0o077)  # the -wal and -shm files must be private too
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW, 0o600)
            os.close(fd)
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(SCHEMA)
        finally:
            os.umask(old_umask)
        self.db.execute("BEGIN")
        started = datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
        header = {"schema_version": SCHEMA_VERSION, "started_at": started, "payload_format": payload_format,
                  "signals_format": signal_blobs.SIGNALS_FORMAT}
        for key, value in {**header, **meta}.items():
            self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, _json(value)))
        self.db.execute("COMMIT")
        self.db.execute("BEGIN")

    @property
    def _conn(self) -> sqlite3.Connection:
        if self.db is None:
            raise RuntimeError(f"{self.path.name}: the session record is already closed")
        return self.db

    def _write(self, sql: str, params: tuple[Any, ...], t: float | None = None) -> None:
        """One append; a full disk or a vanished folder stops the record (once, said once), never the session."""
        if self.failed is not None:
            return
        try:
            self._conn.execute(sql, params)
            if t is not None:
                self._maybe_commit(t)
        except (sqlite3.Error, OSError) as err:
            self._fail(err)

    def _fail(self, err: BaseException) -> None:
        self.failed = _reason(err)
        log.error("Recording stopped: %s; the session goes on to its end, and %s keeps everything up to %s.",
                  self.failed, self.path.name, _clock(self.kept_until_t))
        with contextlib.suppress(sqlite3.Error):
            self._conn.execute("ROLLBACK")

    def failure_note(self) -> str | None:
        """One sentence for the end of the run when the record stopped early, else None."""
        if self.failed is None:
            return None
        return (f"The record stopped early ({self.failed}); {self.path.name} keeps the session up to "
                f"{_clock(self.kept_until_t)}.")

    # --- appends ------------------------------------------------------------------------
    def payload(self, t: float, payload: bytes) -> None:
        self._write("INSERT INTO payloads VALUES (?, ?)", (t, payload), t)

    def beat(self, t: float, rr_ticks: int, after_gap: bool = False) -> int:
        idx = self._next_beat
        self._next_beat += 1
        self._write("INSERT INTO beats (idx, t, rr_ticks, after_gap) VALUES (?, ?, ?, ?)",
                    (idx, t, int(rr_ticks), int(after_gap)), t)
        return idx

    def label(self, idx: int, label: str) -> None:
        self._write("UPDATE beats SET label = ? WHERE idx = ?", (label, idx))

    def ecg_beat(self, t: float, label: str, beat_idx: int | None) -> None:
        """A beat the ECG showed, its class, and the strap beat it matched (None: the strap reported none)."""
        self._write("INSERT INTO ecg_beats VALUES (?, ?, ?)", (t, label, beat_idx), t)

    def signal_frame(self, t: float, kind: str, fs: float, samples: Any, payload: bytes = b"",
                     after_gap: bool = False) -> None:
        """One ECG or ACC frame (see :mod:`sessions.signal_blobs`): the payload as received when it holds
        exactly these samples, else the samples packed."""
        if self.failed is not None or not len(samples):
            return
        fmt, blob = signal_blobs.encode(kind, samples, payload)
        self._write("INSERT INTO signal_frames VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (t, kind, float(fs), len(samples), fmt, int(after_gap), blob), t)

    def metrics(self, t: float, data: dict[str, Any]) -> None:
        self._write("INSERT INTO metrics VALUES (?, ?)", (t, _json(data)), t)

    def event(self, t: float, kind: str, data: dict[str, Any] | None = None) -> None:
        self._write("INSERT INTO events VALUES (?, ?, ?)", (t, kind, _json(data or {})), t)

    def set_meta(self, key: str, value: Any) -> None:
        self._write("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, _json(value)))

    # --- durability ---------------------------------------------------------------------
    def _maybe_commit(self, t: float) -> None:
        # Every few seconds of wall time, and of session time too: a session replayed at speed
        # then loses no more of its own timeline to a crash than a live one would.
        if (time.monotonic() - self._last_commit >= self.commit_interval_s
                or t - self._last_commit_t >= self.commit_interval_s):
            self.commit(t)

    def commit(self, t: float | None = None) -> None:
        self._conn.execute("COMMIT")
        self._last_commit = time.monotonic()
        if t is not None:
            self._last_commit_t = self.kept_until_t = t
            if t - self._last_checkpoint_t >= self.checkpoint_interval_s:
                # The main file holds the data, not only the -wal: a copy of "the session file" is the
                # session, and damage to the WAL costs at most the last minute. PASSIVE: never waits for a reader.
                self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                self._last_checkpoint_t = t
        self._conn.execute("BEGIN")

    def close(self, **final_meta: Any) -> None:
        if self.db is None:
            return
        for key, value in final_meta.items():
            self.set_meta(key, value)
        self.set_meta("ended_at", datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds"))
        if self.failed is None:
            try:
                self._conn.execute("COMMIT")
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                self._leave_wal()
            except (sqlite3.Error, OSError) as err:
                self._fail(err)
        with contextlib.suppress(sqlite3.Error):
            self._conn.close()
        self.db = None

    def _leave_wal(self) -> None:
        """One file from now on. A reader still attached keeps the file in WAL mode (it is read
        through its WAL then, as while it was written); closing does not wait long for it."""
        self._conn.execute("PRAGMA busy_timeout=200")
        try:
            mode = self._conn.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
        except sqlite3.OperationalError as err:  # "database is locked": another connection reads it
            mode = str(err)
        if mode != "delete":
            log.info("%s stays in WAL mode at close (%s)", self.path.name, mode)


NOTES_SCHEMA = "CREATE TABLE IF NOT EXISTS notes (written_at TEXT NOT NULL, text TEXT NOT NULL)"
"""Therapist notes, added after the session (``biofeedback notes``): kept in the record, never exported."""
NOTE_MAX = 4000


@contextlib.contextmanager
def _amended(path: Path) -> Iterator[sqlite3.Connection]:
    """A finished record opened to add a row (a rating after the session, a therapist's note): one
    transaction, the file stays 0600 and one file; a failure says so in one sentence, the record is untouched."""
    path = Path(path)
    if not path.is_file() or path.is_symlink() or not is_session_file(path):
        raise UserError(f"{path}: not a session record; nothing was added.")
    if path.with_name(path.name + "-wal").exists():
        raise UserError(f"{path.name} is still being recorded (or was cut off); add to it once the session is over.")
    old_umask = os.umask(0o077)  # the rollback journal beside it must be private too
    db: sqlite3.Connection | None = None
    try:
        db = sqlite3.connect(path, isolation_level=None, timeout=2.0)
        db.execute("BEGIN IMMEDIATE")
        yield db
        db.execute("COMMIT")
    except (sqlite3.Error, OSError) as err:
        if db is not None:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
        raise UserError(f"{path.name}: could not be written ({_reason(err)}); nothing was added.") from None
    finally:
        if db is not None:
            db.close()
        os.umask(old_umask)


def append_event(path: Path, t: float, kind: str, data: dict[str, Any]) -> None:
    """One event added to a finished record (the rating asked once the record was safely closed)."""
    with _amended(path) as db:
        db.execute("INSERT INTO events VALUES (?, ?, ?)", (float(t), kind, _json(data)))


def add_note(path: Path, text: str, written_at: datetime | None = None) -> str:
    """A therapist's note added to a session's record; returns the time it was written (ISO, local)."""
    text = text.strip()
    if not text:
        raise UserError("the note is empty; nothing was added.")
    if len(text) > NOTE_MAX:
        raise UserError(f"the note has {len(text)} characters; keep it under {NOTE_MAX} (add a second note for more).")
    when = (written_at or datetime.now().astimezone()).isoformat(timespec="seconds")
    with _amended(path) as db:
        db.execute(NOTES_SCHEMA)
        db.execute("INSERT INTO notes VALUES (?, ?)", (when, text))
    return when


def _reason(err: BaseException) -> str:
    if isinstance(err, OSError):
        return str(err.strerror or err)
    return str(err)


def _clock(t: float) -> str:
    return f"{int(t) // 60:02d}:{int(t) % 60:02d}"


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
        self.problems: list[str] = []
        """Rows skipped because a cell holds what the writer never writes (a flipped bit, an edit)."""
        try:
            self.db = _open_read_only(self.path)
            self.meta = self._read_meta()
        except UNREADABLE as err:
            raise DamagedSession(self.path, str(err)) from None
        self.id = self.path.name.removesuffix(SUFFIX)

    def _read_meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = {}
        for key, value in self.db.execute("SELECT key, value FROM meta"):
            try:
                meta[str(key)] = json.loads(value)
            except (TypeError, ValueError, RecursionError):
                self._skipped("meta", f"the value of {key!r} is unreadable")
        return meta

    def _skipped(self, table: str, what: str) -> None:
        self.problems.append(f"{table}: {what}; left out")
        if len(self.problems) == 1:
            log.warning("%s is damaged (%s: %s); reading the rest", self.path.name, table, what)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "SessionReader":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def beats(self) -> list[tuple[int, float, int, bool, str | None]]:
        """(idx, t, rr_ticks, after_gap, label) per beat, also from version-1 files with their extra column.

        A row whose cells are not what the writer writes is skipped and counted in :attr:`problems`."""
        out = []
        bad = 0
        for row in self.db.execute("SELECT idx, t, rr_ticks, after_gap, label FROM beats ORDER BY idx"):
            beat = valid_beat(row)
            if beat is None:
                bad += 1
            else:
                out.append(beat)
        if bad:
            self._skipped("beats", f"{bad} unreadable beat rows")
        return out

    def _columns(self, table: str) -> set[str]:
        return table_columns(self.db, table)

    def ecg_beats(self) -> list[tuple[float, str, int | None]]:
        """``(t, class, strap beat idx or None)`` per beat the ECG showed (older records, or no ECG: empty)."""
        if not self._columns("ecg_beats"):
            return []
        out, bad = valid_ecg_beats(self.db.execute("SELECT t, label, beat_idx FROM ecg_beats ORDER BY rowid"))
        if bad:
            self._skipped("ecg_beats", f"{bad} unreadable rows")
        return out

    @property
    def has_signals(self) -> bool:
        """The record has the ECG/ACC table (version 3 on), whether or not a strap filled it."""
        return bool(self._columns("signal_frames"))

    def signal_frames(self, kind: str) -> list[tuple[float, float, bool, Any]]:
        """``(t, fs, after_gap, samples)`` per recorded frame of ``kind`` ('ecg', 'acc'), in order; a
        damaged row is skipped and counted in :attr:`problems`. Older records have none."""
        if not self.has_signals:
            return []
        rows = self.db.execute("SELECT t, kind, fs, n, format, after_gap, data FROM signal_frames WHERE kind = ? "
                               "ORDER BY rowid", (kind,))
        out, bad = valid_signal_frames(rows)
        if bad:
            self._skipped("signal_frames", f"{bad} unreadable {kind.upper()} frames")
        return out

    @property
    def payload_format(self) -> str:
        return str(self.meta.get("payload_format", PAYLOAD_FORMAT_STRAP))

    def payloads(self) -> Iterator[tuple[float, bytes]]:
        """The strap's notifications as recorded; raises :class:`UserError` for a format this version cannot read."""
        check_payload_format(self.path, self.payload_format)  # here, not at the first row: before any replay starts
        return (row for row in self.db.execute("SELECT t, payload FROM payloads ORDER BY rowid")
                if _is_time(row[0]) and isinstance(row[1], bytes))

    def metrics(self) -> list[tuple[float, dict[str, Any]]]:
        out = []
        for t, data in self.db.execute("SELECT t, data FROM metrics ORDER BY rowid"):
            parsed = _json_object(data)
            if _is_time(t) and parsed is not None:
                out.append((float(t), parsed))
            else:
                self._skipped("metrics", f"the row at {t!r} is unreadable")
        return out

    def events(self, kind: str | None = None) -> list[tuple[float, str, dict[str, Any]]]:
        # Filtered here, not by the kind index: a damaged index page must not hide the table's rows.
        out = []
        for t, k, data in self.db.execute("SELECT t, kind, data FROM events ORDER BY rowid"):
            if kind and k != kind:
                continue
            parsed = _json_object(data)
            if _is_time(t) and isinstance(k, str) and parsed is not None:
                out.append((float(t), k, parsed))
            else:
                self._skipped("events", f"the row at {t!r} is unreadable")
        return out

    def notes(self) -> list[tuple[str, str]]:
        """``(written at, text)`` of the therapist's notes, oldest first (none in a record without notes)."""
        if not self._columns("notes"):
            return []
        out = []
        for when, body in self.db.execute("SELECT written_at, text FROM notes ORDER BY rowid"):
            if isinstance(when, str) and isinstance(body, str):
                out.append((when, body))
            else:
                self._skipped("notes", "a note is unreadable")
        return out

    def summary(self) -> SessionSummary:
        (beats, last_beat, bad), = self.db.execute(
            "SELECT COUNT(*) FILTER (WHERE ok), MAX(t) FILTER (WHERE ok), COUNT(*) FILTER (WHERE NOT ok) FROM "
            "(SELECT t, typeof(t) IN ('real', 'integer') AND typeof(rr_ticks) = 'integer' AS ok FROM beats)")
        if bad and not any(p.startswith("beats:") for p in self.problems):
            self._skipped("beats", f"{bad} unreadable beat rows")
        (last_payload,), = self.db.execute("SELECT MAX(t) FROM payloads WHERE typeof(t) IN ('real', 'integer')")
        duration = max(_finite(last_beat), _finite(last_payload))
        source = self.meta.get("source", {})
        return SessionSummary(
            id=self.id, path=self.path, started_at=str(self.meta.get("started_at", "?")),
            script=_text_or_none(self.meta.get("script")), language=_text_or_none(self.meta.get("language")),
            source=str(source.get("kind", "?")) if isinstance(source, dict) else str(source),
            duration_s=duration, beats=beats, complete="ended_at" in self.meta,
        )


def _is_time(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _finite(value: Any) -> float:
    return float(value) if _is_time(value) else 0.0


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _json_object(text: Any) -> dict[str, Any] | None:
    """A stored JSON object, or None when the cell holds anything else."""
    try:
        value = json.loads(text)
    except (TypeError, ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def valid_beat(row: tuple[Any, ...]) -> tuple[int, float, int, bool, str | None] | None:
    """A beats row as the writer writes it, or None (an RR of 1/1024 s to 64 s, a finite time)."""
    idx, t, ticks, gap, label = row
    if isinstance(idx, int) and _is_time(t) and isinstance(ticks, int) and 0 < ticks < 65536 and isinstance(gap, int):
        return idx, float(t), ticks, bool(gap), label if isinstance(label, str) else None  # a damaged label: relabelled
    return None


def table_columns(db: sqlite3.Connection, table: str) -> set[str]:
    """The columns of ``table`` (empty when the record has no such table: an older schema version)."""
    return {str(row[1]) for row in db.execute(f"PRAGMA table_info({table})")}


def valid_ecg_beats(rows: Any) -> tuple[list[tuple[float, str, int | None]], int]:
    """``(t, label, beat_idx)`` rows as the writer writes them, and how many were not."""
    out, bad = [], 0
    for t, label, idx in rows:
        if _is_time(t) and label in ECG_CLASSES and (idx is None or isinstance(idx, int)):
            out.append((float(t), str(label), idx))
        else:
            bad += 1
    return out, bad


ECG_CLASSES = frozenset({"N", "V", "S", "F", "Q"})
"""The ECG's beat classes (AAMI): normal, ventricular, supraventricular, fusion, unclassifiable."""


def valid_signal_frames(rows: Any) -> tuple[list[tuple[float, float, bool, Any]], int]:
    """Signal-frame rows ``(t, kind, fs, n, format, after_gap, data)`` decoded, and how many were unreadable."""
    out, bad = [], 0
    for t, kind, fs, n, fmt, gap, data in rows:
        samples = signal_blobs.decode(kind, fmt, data, n) if _is_time(t) and _is_time(fs) and fs > 0 else None
        if samples is None or not isinstance(gap, int):
            bad += 1
        else:
            out.append((float(t), float(fs), bool(gap), samples))
    return out, bad


class DamagedSession(UserError):
    """A session file that SQLite cannot read as a whole (cut off, overwritten, not a record).

    The message says what is wrong and where to see what can still be recovered; the caller that
    wants the recoverable part uses :func:`sessions.salvage.open_session`.
    """

    def __init__(self, path: Path, reason: str) -> None:
        self.path, self.reason = Path(path), reason
        session_id = self.path.name.removesuffix(SUFFIX)
        super().__init__(f"{self.path.name}: not a readable session record ({reason}); "
                         f"`biofeedback sessions show {session_id}` shows what can be recovered.")


def check_payload_format(path: Path, payload_format: str) -> None:
    """Refuse, in one sentence, payloads this version cannot decode (the record itself is left as it is)."""
    if payload_format not in PAYLOAD_FORMATS:
        raise UserError(f"{Path(path).name} holds strap data in a format this version cannot read "
                        f"({payload_format!r}; it reads {', '.join(PAYLOAD_FORMATS)}), so it cannot be replayed; "
                        "its beats, metrics and events can still be viewed.")


def delete_session_file(path: Path) -> None:
    """Remove a session file with its WAL and shared-memory companions."""
    for extra in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        extra.unlink(missing_ok=True)


def check_deletable(path: Path) -> None:
    """Only a session record is deleted by ``sessions delete``: its name ends in :data:`SUFFIX`, and it
    lies in the sessions folder (where a record damaged beyond its header may go too) or starts like an
    SQLite file; anything else is refused in one sentence."""
    path = Path(path)
    in_folder = path.resolve().parent == data_dir().resolve()
    if (path.is_symlink() or not path.is_file() or not path.name.endswith(SUFFIX)
            or not (in_folder or is_session_file(path))):
        raise UserError(f"{path} is not a session record (those are files named *{SUFFIX}); nothing deleted.")


def list_sessions(damaged: list[tuple[Path, str]] | None = None) -> list[SessionSummary]:
    """Readable sessions, oldest first; unreadable files go to ``damaged`` as (path, reason)."""
    folder = data_dir()
    out = []
    for path in sorted(folder.glob(f"*{SUFFIX}")) if folder.exists() else []:
        try:
            with closing(SessionReader(path)) as reader:
                out.append(reader.summary())
        except (UserError, *UNREADABLE) as err:
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
