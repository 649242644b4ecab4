"""Replays of real and hand-written RR files, and the errors a bad file gets."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from devices.errors import ReplayFileError
from devices.replay import Replay
from devices.rr_files import read_rr_file
from devices.stream import HeartSample, LinkState


async def _items(source):
    return [i async for i in source]


async def test_real_polar_h10_replays_every_rr_in_order(polar_h10_file):
    rows = [line.split(",") for line in polar_h10_file.read_text().splitlines()[1:]]
    expected_ms = [int(v) for row in rows for v in row[2].split()]
    items = await _items(Replay.from_file(polar_h10_file, speed=None))
    samples = [i for i in items if isinstance(i, HeartSample)]
    assert len(samples) == len(rows) == 600
    got = [r for s in samples for r in s.rr_ticks]
    assert len(got) == 798
    # Each value is the strap's tick count; the file rounded it to ms.
    assert [round(r * 1000 / 1024) for r in got] == expected_ms
    assert [s.t for s in samples] == [float(row[0]) for row in rows]
    assert items[-1].kind is LinkState.ENDED
    beat_t = np.array([b for s in samples for b in s.beat_t])
    assert np.all(np.diff(beat_t) > 0)


async def test_replay_speed_is_respected():
    payload_times = [0.0, 1.0, 2.0]
    from devices.replay import TimedPayload
    from devices.hrm import encode_hrm

    source = Replay([TimedPayload(t, encode_hrm(60, [1024])) for t in payload_times], speed=10)
    start = time.monotonic()
    await _items(source)
    assert 0.15 < time.monotonic() - start < 1.0


async def test_bare_rr_file_becomes_one_notification_a_second(tmp_path):
    path = tmp_path / "kubios.txt"
    rr = [800, 810, 790, 1200, 400, 805] * 20
    path.write_text("# exported RR, ms\n" + "\n".join(map(str, rr)) + "\n")
    samples = [i for i in await _items(Replay.from_file(path, speed=None)) if isinstance(i, HeartSample)]
    got = [round(r * 1000 / 1024) for s in samples for r in s.rr_ticks]
    assert got == rr
    assert len(samples) == math.ceil(sum(rr) / 1000)
    assert all(len(s.rr_ticks) <= 2 for s in samples)


def test_rr_in_seconds_is_recognised(tmp_path):
    path = tmp_path / "seconds.txt"
    path.write_text("0.812\n0.799\n0.830\n")
    assert read_rr_file(path).rr_ms == pytest.approx([812, 799, 830])


def test_csv_with_rr_column(tmp_path):
    path = tmp_path / "beats.csv"
    path.write_text("time,rr\n0.8,800\n1.61,810\n")
    rec = read_rr_file(path)
    assert rec.rr_ms == [800, 810] and rec.lines == [2, 3]
    assert [n.t for n in rec.notifications] == [0.8, 1.61]


@pytest.mark.parametrize("content,message", [
    ("800\n810\nabc\n", r"rr\.txt, line 3: 'abc' is not a number"),
    ("800\n-5\n", r"rr\.txt, line 2: RR interval -5 is not positive"),
    ("# only a comment\n", r"rr\.txt: holds no RR intervals"),
    ("", r"rr\.txt: holds no RR intervals"),
    ("t_s,hr_bpm,beats\n0.1,60,800\n", r"line 1: no 'rr_ms' or 'rr' column"),
    ("t_s,rr_ms\n1.0,800\n0.5,800\n", r"line 3: time 0.5 goes back"),
    ("t_s,rr_ms\n1.0,800\nx,800\n", r"line 3: 'x' is not a number; the time column must hold seconds"),
])
def test_bad_files_get_one_sentence_with_the_line(tmp_path, content, message):
    path = tmp_path / "rr.txt"
    path.write_text(content)
    with pytest.raises(ReplayFileError, match=message):
        read_rr_file(path)


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(ReplayFileError, match="no such file"):
        read_rr_file(tmp_path / "nope.txt")
    bad = tmp_path / "bin.txt"
    bad.write_bytes(b"800\n\xff\xfe\n")
    with pytest.raises(ReplayFileError, match="line 2: not UTF-8"):
        read_rr_file(bad)
    db = tmp_path / "s.sqlite"
    db.write_bytes(b"SQLite format 3\x00" + bytes(100))
    with pytest.raises(ReplayFileError, match="recorded session"):
        read_rr_file(db)
