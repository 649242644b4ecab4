"""Looking at a session leaves the record as it was: no `-wal`, no `-shm`, not one byte changed.

The commands run as a person types them (real processes) on a session recorded by a real
`biofeedback run`; afterwards the sessions folder must hold exactly the files it held before.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sessions.store import SessionReader, SessionWriter, fresh_session_path, list_sessions
from tests.test_store import write_version_1_record

REPO = Path(__file__).resolve().parents[1]

READ_ONLY_COMMANDS = {
    "sessions": ["sessions"],
    "sessions --json": ["sessions", "--json"],
    "sessions show": ["sessions", "show", "{id}"],
    "sessions show --json": ["sessions", "show", "{id}", "--json"],
    "analyze": ["analyze", "{id}"],
    "review": ["review", "{id}", "--screenshot", "{out}/review.png"],
    "report": ["report", "{id}", "-o", "{out}/report.html"],
    "export csv": ["export", "{id}", "--format", "csv", "-o", "{out}/x"],
    "export edf": ["export", "{id}", "--format", "edf", "-o", "{out}/x.edf"],
    "trends": ["trends"],
    "trends --json": ["trends", "--json"],
    "stream --replay": ["stream", "--replay", "{id}", "--speed", "1000", "--json"],
}


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sessions", *args], cwd=cwd, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)


def _snapshot(folder: Path) -> dict[str, str]:
    """Every file in the folder with a hash of its bytes."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """A finished session recorded by the real `run` command: (environment, sessions folder, id)."""
    root = tmp_path_factory.mktemp("readonly")
    env = {**os.environ, "BIOFEEDBACK_DATA_DIR": str(root / "data"), "QT_QPA_PLATFORM": "offscreen",
           "PYTHONPATH": str(REPO)}  # this checkout, also where a command runs in another folder
    done = _cli(["run", "--simulate", "--speed", "1000", "--duration", "120", "--headless"], env, REPO)
    assert done.returncode == 0, done.stdout
    folder = root / "data" / "sessions"
    (path,) = folder.glob("*.biofeedback.sqlite")
    return env, folder, path.name.removesuffix(".biofeedback.sqlite")


def test_a_finished_session_is_a_single_file(recorded):
    _env, folder, sid = recorded
    assert sorted(p.name for p in folder.iterdir()) == [f"{sid}.biofeedback.sqlite"]


@pytest.mark.parametrize("name", sorted(READ_ONLY_COMMANDS))
def test_read_only_commands_leave_the_sessions_folder_as_it_was(recorded, tmp_path, name):
    env, folder, sid = recorded
    mine = tmp_path / "data" / "sessions"  # a copy of the record, untouched by the other commands
    shutil.copytree(folder, mine)
    env = {**env, "BIOFEEDBACK_DATA_DIR": str(tmp_path / "data")}
    before = _snapshot(mine)
    args = [a.format(id=sid, out=tmp_path) for a in READ_ONLY_COMMANDS[name]]
    done = _cli(args, env, tmp_path)
    assert done.returncode == 0, done.stdout
    assert _snapshot(mine) == before


def test_an_old_wal_mode_record_is_read_without_creating_files(data_dir):
    folder = data_dir / "sessions"
    folder.mkdir(parents=True)
    path = folder / "20260101-100000.biofeedback.sqlite"
    write_version_1_record(path)  # WAL mode kept at close, as before
    before = _snapshot(folder)
    with SessionReader(path) as reader:
        assert [b[2] for b in reader.beats()] == [832, 846] and reader.summary().complete
    assert [s.beats for s in list_sessions()] == [2]
    assert _snapshot(folder) == before


def test_a_session_being_written_is_still_read_live(data_dir):
    """The reader of a record in progress (WAL beside it) sees each commit as it comes."""
    _, path = fresh_session_path()
    writer = SessionWriter(path, {"script": "x"}, commit_interval_s=1000)
    writer.beat(0.8, 820)
    writer.commit()
    with SessionReader(path) as reader:
        assert len(reader.beats()) == 1
        writer.beat(1.6, 830)
        writer.commit()
        assert len(reader.beats()) == 2
    writer.close()
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_a_session_closed_while_someone_reads_it_stays_whole(data_dir):
    """A reader attached at the writer's close keeps the file in WAL mode (its -wal and -shm stay, and
    later readers read through them); nothing is lost."""
    _, path = fresh_session_path()
    writer = SessionWriter(path, {"script": "x"})
    writer.beat(0.8, 820)
    writer.commit()
    with SessionReader(path) as reader:
        assert len(reader.beats()) == 1
        writer.beat(1.6, 830)
        writer.close(end_reason="completed")  # cannot leave WAL mode now: the reader holds the file
        assert len(reader.beats()) == 2
    with SessionReader(path) as reader:
        assert [b[2] for b in reader.beats()] == [820, 830] and reader.summary().complete
