"""The record at the edges (issue 19): checkpoints, full disks, unusable folders, same-moment starts,
deleting only sessions, and privacy on a shared machine."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import threading

import pytest

from sessions import settings
from sessions.cli import main
from sessions.errors import UserError
from sessions.store import SUFFIX, SessionReader, SessionWriter, new_session_writer


def _beats(writer: SessionWriter, seconds: float, start: float = 0.0) -> None:
    t = start
    while t < start + seconds:
        t += 0.8
        writer.payload(t, b"\x10\x4b\x33\x03")
        writer.beat(t, 819)


def test_a_long_session_lives_in_the_main_file_not_only_in_the_wal(data_dir, tmp_path):
    _, writer = new_session_writer({"script": "safe-place"})
    _beats(writer, 130.0)
    # What a person copies while it is being written, or after a crash: the .sqlite alone.
    copy = tmp_path / "copy.sqlite"
    shutil.copyfile(writer.path, copy)
    with sqlite3.connect(copy) as db:
        (kept,), = db.execute("SELECT COUNT(*) FROM beats")
    db.close()
    assert kept >= 60 / 0.8  # at least the first minute, checkpointed at 60 s of session time
    writer.close()
    assert not writer.path.with_name(writer.path.name + "-wal").exists()


def test_sessions_started_at_the_same_moment_each_get_their_own_file(data_dir):
    barrier = threading.Barrier(8)
    made: list = []
    errors: list = []

    def start() -> None:
        barrier.wait()
        try:
            made.append(new_session_writer({"script": "safe-place"}))
        except Exception as err:  # noqa: BLE001 - the test counts every failure
            errors.append(err)

    threads = [threading.Thread(target=start) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    assert len({sid for sid, _ in made}) == 8
    for _, writer in made:
        writer.close()


def test_delete_refuses_a_file_that_is_not_a_session(data_dir, tmp_path, capsys):
    precious = tmp_path / "thesis.sqlite"
    with sqlite3.connect(precious) as db:
        db.execute("CREATE TABLE t (x)")
    db.close()
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    disguised = tmp_path / f"notes{SUFFIX}"
    disguised.write_text("mine too")
    for path in (precious, notes, disguised):
        assert main(["sessions", "delete", str(path), "--yes"]) != 0
        assert path.exists()
        assert "not a session record" in capsys.readouterr().err
    sid, writer = new_session_writer({"script": "safe-place"})
    writer.close()
    assert main(["sessions", "delete", sid, "--yes"]) == 0
    assert not writer.path.exists()


def test_the_data_root_is_private_whatever_the_umask(data_dir):
    old = os.umask(0)
    try:
        _, writer = new_session_writer({"script": "safe-place"})
        writer.close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((data_dir / "sessions").stat().st_mode) == 0o700
    assert stat.S_IMODE(writer.path.stat().st_mode) == 0o600


def test_a_data_root_others_can_write_is_refused_in_one_sentence(data_dir, capsys):
    data_dir.mkdir()
    os.chmod(data_dir, 0o777)
    assert main(["run", "--simulate", "--speed", "1000", "--duration", "30"]) != 0
    err = capsys.readouterr().err.strip()
    assert "can be written by others" in err and len(err.splitlines()) == 1
    assert not (data_dir / "sessions").exists()


def test_a_data_folder_that_is_a_file_is_one_sentence(data_dir, capsys):
    data_dir.write_text("not a folder")
    assert main(["run", "--simulate", "--speed", "1000", "--duration", "30"]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err and str(data_dir) in err
    assert data_dir.read_text() == "not a folder"


def test_a_planted_symlink_is_never_followed_by_the_profile(data_dir, tmp_path):
    from sessions.profile import profile_path, save_profile

    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    os.chmod(victim, 0o644)
    data_dir.mkdir(mode=0o700)
    path = profile_path()
    for name in ("profile.tmp", f"{path.name}.tmp", f".{path.name}.tmp", f".{path.name}.lock"):
        link = path.with_name(name)
        if not link.exists():
            link.symlink_to(victim)
    with pytest.raises(UserError, match="symbolic link"):
        save_profile({"resonance_rate": 6.0})
    path.with_name(f".{path.name}.lock").unlink()
    save_profile({"resonance_rate": 6.0})
    assert victim.read_text() == "precious" and stat.S_IMODE(victim.stat().st_mode) == 0o644


def test_a_full_disk_mid_session_still_ends_in_the_grounding_and_says_what_was_kept(data_dir, monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "300")
    create = SessionWriter._create

    def tiny_disk(self, *args, **kwargs):
        create(self, *args, **kwargs)
        (pages,), = self.db.execute("PRAGMA page_count")
        self.db.execute(f"PRAGMA max_page_count = {pages + 2}")  # SQLite's own 'database or disk is full'

    monkeypatch.setattr(SessionWriter, "_create", tiny_disk)
    assert main(["run", "--simulate", "--speed", "1000", "--duration", "150", "--lang", "en"]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert "stopped: the set duration is over" in captured.out and "over: stopped" in captured.out
    assert "The record stopped early (database or disk is full)" in captured.out
    path = next((data_dir / "sessions").glob(f"*{SUFFIX}"))
    with SessionReader(path) as reader:
        assert len(reader.beats()) > 10  # what came before the disk filled is kept


def test_a_full_disk_at_the_start_is_one_sentence(data_dir, monkeypatch, capsys):
    def no_space(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(SessionWriter, "_create", no_space)
    assert main(["run", "--simulate", "--speed", "1000", "--duration", "30"]) != 0
    err = capsys.readouterr().err.strip()
    assert "No space left on device" in err and len(err.splitlines()) == 1
    assert not list((data_dir / "sessions").glob("*"))
    settings.configure(None)
