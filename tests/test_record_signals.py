"""The H10's ECG and accelerometer in the record: one row per frame, crash-safe, damage counted, old records fine."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import numpy as np
import pytest

from bench.realdata import read_pmd_capture
from devices import pmd
from sessions.review.record import load_record
from sessions.salvage import open_session, salvage_session
from sessions.store import SCHEMA_VERSION, SessionReader, SessionWriter, fresh_session_path



def real_ecg_notifications(count: int) -> list[bytes]:
    """The first ``count`` PMD ECG notifications a real H10 sent (see ../shared/data/README.md)."""
    return read_pmd_capture()[:count]


def acc_frames(count: int, fs: float = 50.0) -> list[tuple[bytes, list[tuple[int, int, int]]]]:
    """Delta-compressed ACC frames as the H10 sends them, of a slow chest movement under gravity."""
    out, k = [], 0
    for f in range(count):
        samples = []
        for _ in range(36):
            ph = 2 * np.pi * 0.2 * k / fs
            samples.append((int(30 * np.sin(ph)), int(-990 + 8 * np.cos(ph)), int(120 + 25 * np.sin(ph))))
            k += 1
        out.append((pmd.encode_delta_frame(pmd.MeasurementType.ACC, 10**9 * f, 0x01, samples, 16), samples))
    return out


def write_h10_record(frames: int = 40) -> tuple[Path, list[np.ndarray], list[list[tuple[int, int, int]]]]:
    _sid, path = fresh_session_path()
    writer = SessionWriter(path, {"script": "safe-place"})
    ecg_truth, acc_truth = [], []
    t = ta = 0.0
    for payload, (acc_payload, acc) in zip(real_ecg_notifications(frames), acc_frames(frames), strict=True):
        samples = np.array(pmd.decode_data_frame(payload).samples)[:, 0]
        t += len(samples) / 130.0
        writer.signal_frame(t, "ecg", 130.0, samples.tolist(), payload)
        ta += len(acc) / 50.0
        writer.signal_frame(ta, "acc", 50.0, acc, acc_payload)
        ecg_truth.append(samples)
        acc_truth.append(acc)
    writer.beat(1.0, 800)
    writer.ecg_beat(1.002, "N", 0)
    writer.ecg_beat(1.7, "V", None)
    writer.close()
    return path, ecg_truth, acc_truth


def test_ecg_and_acc_come_back_sample_exact_one_row_per_frame(data_dir):
    path, ecg, acc = write_h10_record()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    db = sqlite3.connect(path)
    assert db.execute("SELECT COUNT(*), MIN(format), MAX(format) FROM signal_frames").fetchone() == (80, "pmd", "pmd")
    db.close()
    with SessionReader(path) as reader:
        assert reader.meta["schema_version"] == SCHEMA_VERSION == 3
        assert reader.meta["signals_format"]["ecg"] == "uV"
    rec = load_record(path)
    assert rec.ecg is not None and rec.acc is not None and rec.problems is None
    assert np.array_equal(rec.ecg.values, np.concatenate(ecg))
    assert np.array_equal(rec.acc.values, np.array([s for frame in acc for s in frame]))
    assert rec.acc.values.shape[1] == 3
    assert rec.ecg.fs == 130.0 and np.allclose(np.diff(rec.ecg.t), 1 / 130.0)
    assert rec.ecg_labels.tolist() == ["N"]
    assert rec.ecg_beat_labels.tolist() == ["N", "V"]


def test_samples_without_a_payload_are_packed(data_dir):
    _sid, path = fresh_session_path()
    writer = SessionWriter(path, {})
    writer.signal_frame(0.5, "ecg", 130.0, [1, -2, 8_000_000, -8_000_000])
    writer.signal_frame(0.6, "acc", 25.0, [(1, 2, 3), (-4, -5, -1000)], b"\x02not a frame")
    writer.close()
    db = sqlite3.connect(path)
    assert [r[0] for r in db.execute("SELECT format FROM signal_frames")] == ["i32", "i32"]
    db.close()
    rec = load_record(path)
    assert rec.ecg.values.tolist() == [1, -2, 8_000_000, -8_000_000]
    assert rec.acc.values.tolist() == [[1, 2, 3], [-4, -5, -1000]]


@pytest.mark.parametrize("damage", ["UPDATE signal_frames SET data = X'00ff' WHERE rowid = 3",
                                    "UPDATE signal_frames SET n = 5 WHERE rowid = 4",
                                    "UPDATE signal_frames SET t = 'x' WHERE rowid = 5"])
def test_a_damaged_frame_is_skipped_and_counted(data_dir, damage):
    path, ecg, _acc = write_h10_record(10)
    db = sqlite3.connect(path)
    db.execute(damage)
    db.commit()
    db.close()
    rec = load_record(path)
    assert rec.problems and any("signal_frames" in p for p in rec.problems), rec.problems
    total = len(rec.ecg.values) + len(rec.acc.values)
    assert total in (sum(map(len, ecg)) + 10 * 36 - 73, sum(map(len, ecg)) + 10 * 36 - 36)


def test_a_cut_off_record_still_gives_its_ecg(data_dir):
    path, ecg, _acc = write_h10_record(200)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    salvage = salvage_session(path)
    got = salvage.signal_frames["ecg"]
    assert 0 < len(got) < 200
    for (_t, fs, _gap, samples), truth in zip(got, ecg, strict=False):
        assert fs == 130.0 and np.array_equal(samples, truth)


def test_older_records_without_the_tables_open_as_before(data_dir):
    _sid, path = fresh_session_path()
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE payloads (t REAL NOT NULL, payload BLOB NOT NULL);
        CREATE TABLE beats (idx INTEGER PRIMARY KEY, t REAL NOT NULL, rr_ticks INTEGER NOT NULL,
                            after_gap INTEGER NOT NULL DEFAULT 0, label TEXT);
        CREATE TABLE metrics (t REAL NOT NULL, data TEXT NOT NULL);
        CREATE TABLE events (t REAL NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL);
        INSERT INTO meta VALUES ('schema_version', '2'), ('started_at', '"2026-01-01T10:00:00+01:00"'),
                                ('ended_at', '"2026-01-01T10:05:00+01:00"');
        INSERT INTO beats VALUES (0, 0.8, 832, 0, 'normal'), (1, 1.6, 846, 0, 'normal');
    """)
    db.close()
    reader = open_session(path)
    assert isinstance(reader, SessionReader) and reader.signal_frames("ecg") == [] and reader.ecg_beats() == []
    reader.close()
    rec = load_record(path)
    assert rec.ecg is None and rec.acc is None and rec.ecg_labels is None and rec.problems is None
    path.write_bytes(path.read_bytes()[:-100] + b"\0" * 100)
    assert not any("missing" in p for p in salvage_session(path).problems)
