"""The session record: private files, WAL, readable while written, and what a crash leaves."""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sessions.cli import main
from sessions.errors import UserError
from sessions.review.record import load_record
from sessions.salvage import salvage_session
from sessions.source_options import open_replay
from sessions.store import (
    PAYLOAD_FORMAT_FROM_RR,
    PAYLOAD_FORMAT_STRAP,
    SessionReader,
    SessionWriter,
    fresh_session_path,
    list_sessions,
    resolve_session,
)
from tests.sessionkit import run_session

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def sessions_dir(data_dir):
    return data_dir / "sessions"


def test_files_are_private_and_in_wal_mode(sessions_dir):
    sid, path = fresh_session_path()
    writer = SessionWriter(path, {"script": "safe-place"})
    writer.beat(1.0, 800)
    writer.commit()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(sessions_dir.stat().st_mode) == 0o700
    for extra in sessions_dir.iterdir():
        assert stat.S_IMODE(extra.stat().st_mode) == 0o600, extra
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    writer.close()


def test_two_sessions_in_one_second_get_distinct_ids(data_dir):
    a, pa = fresh_session_path()
    SessionWriter(pa, {}).close()
    b, pb = fresh_session_path()
    assert a != b and pa != pb


def test_reader_sees_committed_data_while_the_writer_goes_on(data_dir):
    _, path = fresh_session_path()
    writer = SessionWriter(path, {"script": "x"}, commit_interval_s=1000)
    writer.beat(0.8, 820)
    writer.event(0.8, "step", {"step": "baseline"})
    writer.commit()
    writer.beat(1.6, 830)  # not committed yet
    with SessionReader(path) as reader:
        assert [b[2] for b in reader.beats()] == [820]
        assert reader.events("step")[0][2] == {"step": "baseline"}
        assert not reader.summary().complete
    writer.close(end_reason="completed")
    with SessionReader(path) as reader:
        assert len(reader.beats()) == 2 and reader.summary().complete
        assert reader.meta["end_reason"] == "completed"


def test_commits_follow_session_time_as_well_as_wall_time(data_dir):
    _, path = fresh_session_path()
    writer = SessionWriter(path, {}, commit_interval_s=2.0)
    for i in range(10):
        writer.beat(i * 1.0, 1024)  # ten seconds of session time in far less wall time
    with SessionReader(path) as reader:
        assert len(reader.beats()) >= 8
    writer.close()


def test_resolving_sessions(data_dir):
    with pytest.raises(UserError, match="no recorded sessions yet"):
        resolve_session(None)
    sid, path = fresh_session_path()
    SessionWriter(path, {"script": "grounding"}).close()
    assert resolve_session(None) == path == resolve_session(sid)
    with pytest.raises(UserError, match="no session with id 'nope'"):
        resolve_session("nope")
    assert [s.script for s in list_sessions()] == ["grounding"]


def test_a_session_killed_mid_run_keeps_all_but_the_last_seconds(tmp_path):
    """kill -9 of a real `biofeedback run`: the file opens and holds the beats up to the end."""
    env = {**os.environ, "BIOFEEDBACK_DATA_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "sessions", "run", "--simulate", "--speed", "10", "--headless"],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    last_stamp = 0
    deadline = time.monotonic() + 60
    for line in proc.stdout:
        if line.startswith("[") and "]" in line:
            mm, ss = line[1:6].split(":")
            last_stamp = int(mm) * 60 + int(ss)
        if last_stamp >= 100 or time.monotonic() > deadline:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert last_stamp >= 100
    files = list((tmp_path / "sessions").glob("*.sqlite"))
    assert len(files) == 1
    with SessionReader(files[0]) as reader:
        beats = reader.beats()
        summary = reader.summary()
    assert not summary.complete
    # Printed at 100 s of session time; at speed 10 a 2-s commit interval is 2 s of session time too.
    assert beats[-1][1] >= last_stamp - 5
    rr = [b[2] for b in beats]
    assert all(400 < r < 1500 for r in rr)  # whole beats, nothing half-written


# --- what the record holds ---------------------------------------------------------------------

def write_version_1_record(path: Path) -> None:
    """A finished record as version 1 wrote it: a ``corrected_ticks`` column, no payload format,
    WAL mode kept at close (and no ``-wal`` left beside it)."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript("""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE payloads (t REAL NOT NULL, payload BLOB NOT NULL);
        CREATE TABLE beats (idx INTEGER PRIMARY KEY, t REAL NOT NULL, rr_ticks INTEGER NOT NULL,
                            after_gap INTEGER NOT NULL DEFAULT 0, label TEXT, corrected_ticks REAL);
        CREATE TABLE metrics (t REAL NOT NULL, data TEXT NOT NULL);
        CREATE TABLE events (t REAL NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL);
        INSERT INTO meta VALUES ('schema_version', '1'), ('started_at', '"2026-01-01T10:00:00+01:00"'),
                                ('script', '"safe-place"'), ('language', '"en"'),
                                ('ended_at', '"2026-01-01T10:05:00+01:00"');
        INSERT INTO payloads VALUES (1.0, X'104b4003'), (2.0, X'104b4e03');
        INSERT INTO beats VALUES (0, 0.8, 832, 0, 'normal', NULL), (1, 1.6, 846, 0, 'normal', NULL);
        INSERT INTO metrics VALUES (1.6, '{"hr_bpm": 73.2}');
    """)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def test_every_beat_column_holds_data_in_a_recorded_session(tmp_path):
    """No column is documented and left empty (``corrected_ticks`` was, in version 1)."""
    ran = asyncio.run(run_session(tmp_path, duration_s=90))
    db = sqlite3.connect(f"{ran.path.as_uri()}?mode=ro", uri=True)
    columns = [row[1] for row in db.execute("PRAGMA table_info(beats)")]
    (n,), = db.execute("SELECT COUNT(*) FROM beats")
    assert n > 60
    for column in columns:
        (filled,), = db.execute(f"SELECT COUNT({column}) FROM beats")  # counts the non-NULL values
        assert filled >= n - 2, f"beats.{column} is empty in {n - filled} of {n} beats"  # labels lag a beat or two
    db.close()


def test_a_version_1_record_is_read_as_before(tmp_path):
    path = tmp_path / "20260101-100000.biofeedback.sqlite"
    write_version_1_record(path)
    with SessionReader(path) as reader:
        assert reader.beats() == [(0, 0.8, 832, 0, "normal"), (1, 1.6, 846, 0, "normal")]
        assert reader.payload_format == PAYLOAD_FORMAT_STRAP  # what every version-1 payload was
        assert [t for t, _ in reader.payloads()] == [1.0, 2.0]
    record = load_record(path)
    assert record.rr_ticks.tolist() == [832, 846] and record.labels.tolist() == ["normal", "normal"]
    assert [b[2] for b in salvage_session(path).beats] == [832, 846]
    replay = open_replay(str(path), speed=None)
    assert len(replay.payloads) == 2 and replay.payload_format == PAYLOAD_FORMAT_STRAP


@pytest.fixture
def rr_file(tmp_path):
    path = tmp_path / "rest.txt"
    path.write_text("\n".join(str(800 + 40 * ((i % 5) - 2)) for i in range(150)) + "\n")
    return path


def test_the_record_says_what_format_its_payloads_are_in(sessions_dir, rr_file, capsys):
    def recorded(*args: str) -> Path:
        before = set(sessions_dir.glob("*.sqlite")) if sessions_dir.exists() else set()
        assert main(["run", *args, "--speed", "1000", "--duration", "40"]) == 0
        (new,) = set(sessions_dir.glob("*.sqlite")) - before
        return new

    first = recorded("--simulate")
    second = recorded("--replay", str(rr_file))
    third = recorded("--replay", str(second))
    formats = []
    for path in (first, second, third):
        with SessionReader(path) as reader:
            formats.append(reader.meta["payload_format"])
    # The strap's own notifications; notifications rebuilt from an RR file; and a replay of that
    # record keeps saying they were rebuilt.
    assert formats == [PAYLOAD_FORMAT_STRAP, PAYLOAD_FORMAT_FROM_RR, PAYLOAD_FORMAT_FROM_RR]


def test_a_record_in_an_unknown_payload_format_is_refused_in_one_sentence(sessions_dir, capsys):
    _, path = fresh_session_path()
    writer = SessionWriter(path, {"script": "safe-place"}, payload_format="ble-hrm-0x2a37-v9")
    writer.payload(1.0, b"\x10\x4b\x40\x03")
    writer.beat(0.8, 832)
    writer.close()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert main(["run", "--replay", str(path), "--speed", "1000"]) == 2
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1 and err.count(". ") == 0
    assert "ble-hrm-0x2a37-v9" in err and "cannot be replayed" in err
    # Nothing lost, nothing added: the record is as it was and its beats still read.
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert sorted(sessions_dir.iterdir()) == [path]
    with SessionReader(path) as reader:
        assert [b[2] for b in reader.beats()] == [832]
