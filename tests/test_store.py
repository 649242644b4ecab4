"""The session record: private files, WAL, readable while written, and what a crash leaves."""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sessions.errors import UserError
from sessions.store import SessionReader, SessionWriter, fresh_session_path, list_sessions, resolve_session

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("BIOFEEDBACK_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data" / "sessions"


def test_files_are_private_and_in_wal_mode(data_dir):
    sid, path = fresh_session_path()
    writer = SessionWriter(path, {"script": "safe-place"})
    writer.beat(1.0, 800)
    writer.commit()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    for extra in data_dir.iterdir():
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
