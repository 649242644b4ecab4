"""Random damage to everything a file can hand us (issue 19): RR text files, notification CSVs, script
TOML and session records. Property: never a traceback (only the one-sentence errors), and nothing that
was readable is lost."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from devices.errors import ReplayFileError
from devices.replay import payloads_from_recording
from devices.rr_files import HR_MAX_BPM, RR_MAX_MS, RR_MIN_MS, read_rr_file
from sessions.errors import UserError
from sessions.exercises import load_script_file
from sessions.exercises.model import ScriptError
from sessions.store import SessionReader, SessionWriter

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

numbers = st.one_of(
    st.integers(-10**20, 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", " ", "abc", "1e308", "1e15", "70000", "-5", "0", "nan", "inf", "800", "812.5", "0.8"]),
)
junk = st.text(st.characters(codec="utf-8"), max_size=30)


def _tmp(suffix: str, data: bytes) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="bf-fuzz-"))
    path = folder / f"f{suffix}"
    path.write_bytes(data)
    return path


def _check_rr(path: Path) -> None:
    try:
        rec = read_rr_file(path)
    except ReplayFileError as err:
        assert len(str(err).splitlines()) <= 1
        return
    assert rec.rr_ms and all(RR_MIN_MS <= v <= RR_MAX_MS for v in rec.rr_ms)
    for note in rec.notifications or []:
        assert note.hr_bpm is None or 0 <= note.hr_bpm <= HR_MAX_BPM
    payloads = payloads_from_recording(rec)  # bounded work: limits keep this small
    assert len(payloads) <= len(rec.rr_ms) + sum(rec.rr_ms) / 1000 + 2


@FUZZ
@given(st.lists(st.one_of(numbers, junk), max_size=40))
def test_rr_text_files(lines):
    path = _tmp(".txt", "\n".join(lines).encode("utf-8", "surrogatepass"))
    try:
        _check_rr(path)
    finally:
        shutil.rmtree(path.parent)


@FUZZ
@given(st.lists(st.lists(st.one_of(numbers, junk), max_size=4), max_size=30),
       st.sampled_from(["t_s,hr_bpm,rr_ms", "rr_ms", "rr_ms,t_s", "time;rr", "hr,rr,t"]))
def test_notification_csvs(rows, header):
    text = header + "\n" + "\n".join(",".join(cell.replace("\n", " ") for cell in row) for row in rows)
    path = _tmp(".csv", text.encode("utf-8", "surrogatepass"))
    try:
        _check_rr(path)
    finally:
        shutil.rmtree(path.parent)


@FUZZ
@given(st.lists(st.integers(int(RR_MIN_MS), int(RR_MAX_MS)), min_size=1, max_size=200))
def test_every_plausible_rr_is_read_back(values):
    path = _tmp(".txt", "\n".join(map(str, values)).encode())
    try:
        assert read_rr_file(path).rr_ms == [float(v) for v in values]
    finally:
        shutil.rmtree(path.parent)


SCRIPT = (b'id = "fuzz"\nlanguage = "en"\ntitle = "Fuzz"\npurpose = "Testing."\nduration_min = 1\n\n'
          b'[[steps]]\nid = "one"\ntitle = "One"\nkind = "grounding"\nmin_s = 50\nmax_s = 70\ntext = ["Feet."]\n')


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(SCRIPT) - 1), st.binary(min_size=0, max_size=3)), max_size=4),
       st.sampled_from([b"", b"\xef\xbb\xbf", b"x = " + b"[" * 2000, b"\x00"]))
def test_script_toml(edits, prefix):
    data = bytearray(SCRIPT)
    for pos, new in edits:
        data[pos:pos + 1] = new
    path = _tmp(".en.toml", prefix + bytes(data))
    try:
        load_script_file(path, user=True)
    except ScriptError as err:
        assert str(err)
    finally:
        shutil.rmtree(path.parent)


@pytest.fixture(scope="module")
def record(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("rec") / "base.biofeedback.sqlite"
    writer = SessionWriter(path, {"script": "safe-place", "language": "en", "source": {"kind": "simulated"}})
    for i in range(400):
        t = 0.8 * (i + 1)
        writer.payload(t, b"\x10\x4b\x33\x03")
        writer.beat(t, 819)
        writer.label(i, "normal")
        if i % 6 == 0:
            writer.metrics(t, {"hr_bpm": 73.0, "rmssd_ms": 30.0, "step": "one"})
            writer.event(t, "prompt", {"step": "one", "line": i, "text": "Feet."})
    writer.close(end_reason="completed")
    return path


def _counts(path: Path) -> tuple[int, int, int]:
    with closing(SessionReader(path)) as reader:
        return len(reader.beats()), len(reader.metrics()), len(reader.events())


cells = st.one_of(st.none(), st.integers(-2**63, 2**63 - 1), st.floats(), st.text(max_size=20), st.binary(max_size=8))


@FUZZ
@given(st.sampled_from([("beats", "t"), ("beats", "rr_ticks"), ("beats", "idx"), ("beats", "label"),
                        ("metrics", "t"), ("metrics", "data"), ("events", "t"), ("events", "kind"),
                        ("events", "data"), ("meta", "value")]), st.integers(1, 60), cells)
def test_one_damaged_cell_loses_only_its_row(record, where, row, value):
    from sessions.review.record import load_record

    table, column = where
    folder = Path(tempfile.mkdtemp(prefix="bf-fuzz-"))
    path = folder / record.name
    try:
        shutil.copyfile(record, path)
        before = _counts(path)
        with closing(sqlite3.connect(path)) as db:
            try:
                db.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = ?", (value, row))  # noqa: S608
                db.commit()
            except sqlite3.IntegrityError:  # NOT NULL, a duplicate key: the writer's schema refuses it
                return
        after = _counts(path)
        assert all(a >= b - 1 for a, b in zip(after, before))
        load_record(path)  # the review, report and export read through this
    finally:
        shutil.rmtree(folder)


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 10**7), st.integers(0, 7)), min_size=1, max_size=3))
def test_flipped_bits_in_a_closed_record_never_raise_a_traceback(record, flips):
    """1-3 flipped bits anywhere: the listing still lists, show and the review read what they can."""
    from sessions import settings as app_settings
    from sessions.cli import main
    from sessions.review.record import load_record
    from sessions.store import list_sessions

    folder = app_settings.current().sessions_dir
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / record.name
    try:
        data = bytearray(record.read_bytes())
        for pos, bit in flips:
            data[pos % len(data)] ^= 1 << bit
        path.write_bytes(bytes(data))
        damaged: list = []
        listed = list_sessions(damaged)
        assert len(listed) + len(damaged) == 1
        try:
            load_record(path)
        except UserError:
            pass
        assert main(["sessions", "show", str(path), "--json"]) in (0, 2)
    finally:
        path.unlink()
