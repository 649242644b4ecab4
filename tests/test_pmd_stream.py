"""PMD timestamps onto the session clock: 2 h of a real H10's ECG notifications, replayed with BLE
latency (a minimum, a connection interval's wait, host delays, backlogs of up to 1.5 s) and a strap
crystal 60 ppm off the host's. Truth is the strap's own timestamp scaled by that rate error."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from devices import pmd
from devices.pmd_stream import PmdStream
from devices.stream import AccChunk, EcgChunk, LinkEvent, LinkState

try:
    from tests.test_pmd import STREAM, read_stream
except ImportError:
    from test_pmd import STREAM, read_stream

needs_data = pytest.mark.skipif(not STREAM.exists(), reason="the shared Polar H10 data is not here")

MIN_LATENCY_S = 0.004


def _timestamps(frames: list[bytes]) -> np.ndarray:
    return np.array([struct.unpack_from("<Q", f, 1)[0] for f in frames], dtype=np.int64)


def _arrivals(ts: np.ndarray, ppm: float, seed: int = 3, start_s: float = 5.0) -> tuple[np.ndarray, np.ndarray]:
    """(true session time of each frame's last sample, its arrival): latency >= the minimum, in order."""
    rng = np.random.default_rng(seed)
    true = (ts - ts[0]) / 1e9 * (1 + ppm * 1e-6) + start_s
    latency = MIN_LATENCY_S + rng.uniform(0, 0.030, len(ts)) + rng.exponential(0.005, len(ts))
    backlog = rng.random(len(ts)) < 0.005
    latency[backlog] += rng.uniform(0.1, 1.5, int(backlog.sum()))
    return true, np.maximum.accumulate(true + latency)  # a backlog delays the frames behind it too


def _run(frames: list[bytes], arrivals: np.ndarray) -> tuple[PmdStream, list[EcgChunk], list[LinkEvent]]:
    stream = PmdStream()
    chunks: list[EcgChunk] = []
    events: list[LinkEvent] = []
    for payload, arrival in zip(frames, arrivals):
        for item in stream.feed(float(arrival), payload):
            if isinstance(item, EcgChunk):
                chunks.append(item)
            elif isinstance(item, LinkEvent):
                events.append(item)
    return stream, chunks, events


@pytest.fixture(scope="module")
def real_frames() -> list[bytes]:
    if not STREAM.exists():
        pytest.skip("the shared Polar H10 data is not here")
    return read_stream()


@needs_data
@pytest.mark.parametrize("ppm", [-60.0, 45.0])
def test_two_hours_of_real_ecg_stay_within_a_few_ms_of_truth(real_frames, ppm):
    ts = _timestamps(real_frames)
    true, arrivals = _arrivals(ts, ppm)
    stream, chunks, events = _run(real_frames, arrivals)
    assert len(chunks) == len(real_frames) == 12_355 and not events
    err = np.array([c.t for c in chunks]) - true
    # Offset from the earliest arrivals: the mapping runs late by the minimum latency (unknowable), plus
    # a few ms while the first minutes teach it the envelope, and within 3 ms of that for the rest.
    excess = err - MIN_LATENCY_S
    settled = excess[321:]  # after three minutes
    assert -0.003 <= excess.min() and excess.max() <= 0.007, (excess.min(), excess.max())
    assert np.all(np.abs(settled) <= 0.003), (settled.min(), settled.max())
    assert abs(np.median(settled)) < 0.001
    assert abs(stream.clock.skew_ppm() - ppm) < 3
    # Once settled, no chunk's last sample lies after the arrival of its notification (within the 3 ms above); while the envelope
    # is still being learnt, the grid is steered (not stepped) and may trail by a few ms.
    t = np.array([c.t for c in chunks])
    assert np.all(t[321:] <= arrivals[321:] + 0.003) and np.all(t <= arrivals + 0.004)


@needs_data
def test_samples_are_exactly_one_period_apart_across_chunks(real_frames):
    frames = real_frames[:3000]
    _, arrivals = _arrivals(_timestamps(frames), 30.0)
    _, chunks, _ = _run(frames, arrivals)
    for a, b in zip(chunks, chunks[1:]):
        first_of_b = b.t - (len(b.samples_uv) - 1) / b.fs
        assert first_of_b - a.t == pytest.approx(1 / b.fs, abs=1e-9)
        assert not b.after_gap
    fs = np.array([c.fs for c in chunks[200:]])
    assert np.all(np.abs(fs - 130.05) < 0.1)  # the H10's "130 Hz" as its samples really come, on the host's clock


@needs_data
def test_lost_notifications_are_a_marked_gap_and_the_grid_runs_on(real_frames):
    frames = real_frames[:2000]
    true, arrivals = _arrivals(_timestamps(frames), 20.0)
    keep = [i for i in range(len(frames)) if i != 700 and not 1500 <= i < 1503]
    _, chunks, events = _run([frames[i] for i in keep], arrivals[keep])
    gaps = [e for e in events if e.kind is LinkState.GAP]
    assert [(g.detail["stream"], g.detail["missing_samples"], g.detail["reason"]) for g in gaps] == [
        ("ecg", 73, "lost notification"), ("ecg", 219, "lost notification")]
    marked = [keep[i] for i, c in enumerate(chunks) if c.after_gap]
    assert marked == [701, 1503]
    err = np.array([c.t for c in chunks]) - true[keep]
    assert np.all(np.abs(err - MIN_LATENCY_S) < 0.007)
    # Across the gap the grid continues: the chunk after it lies exactly 73 + 73 samples after the one before.
    before, after = chunks[keep.index(699)], chunks[keep.index(701)]
    assert after.t - before.t == pytest.approx(146 / after.fs, abs=2e-4)


@needs_data
def test_a_strap_clock_jump_restarts_the_timing_and_is_marked(real_frames):
    frames = [bytearray(f) for f in real_frames[:1500]]
    true, arrivals = _arrivals(_timestamps([bytes(f) for f in frames]), 0.0)
    for f in frames[800:]:  # the strap's clock set forward by 3.3 s: no sample count explains it
        struct.pack_into("<Q", f, 1, struct.unpack_from("<Q", f, 1)[0] + 3_300_000_000)
    _, chunks, events = _run([bytes(f) for f in frames], arrivals)
    gaps = [e for e in events if e.kind is LinkState.GAP]
    assert len(gaps) == 1 and gaps[0].detail["reason"] == "strap clock jump"
    assert [i for i, c in enumerate(chunks) if c.after_gap] == [800]
    err = np.array([c.t for c in chunks]) - true
    assert np.all(np.abs(err[1121:] - MIN_LATENCY_S) < 0.003)  # three minutes later it is as good as before
    assert np.all(np.abs(err[800:] - MIN_LATENCY_S) < 0.045)  # and never worse than one latency


@needs_data
def test_a_reconnect_marks_the_next_chunk_and_a_duplicate_or_broken_frame_is_not_a_chunk(real_frames):
    stream = PmdStream()
    _, arrivals = _arrivals(_timestamps(real_frames[:40]), 0.0)
    out = [stream.feed(float(a), f) for a, f in zip(arrivals[:20], real_frames[:20])]
    assert stream.feed(float(arrivals[19]) + 0.001, real_frames[19]) == []  # delivered twice
    bad = stream.feed(float(arrivals[20]), real_frames[20][:12])
    assert len(bad) == 1 and bad[0].kind is LinkState.MALFORMED and bad[0].detail["stream"] == "pmd"
    stream.link_lost()
    out = stream.feed(float(arrivals[30]), real_frames[30])
    assert len(out) == 1 and isinstance(out[0], EcgChunk) and out[0].after_gap
    assert out[0].t == pytest.approx(arrivals[30] - 0.004, abs=0.04)


def test_acc_delta_frames_come_out_in_mg_at_the_started_rate():
    stream = PmdStream()
    stream.expect(pmd.MeasurementType.ACC, 50.0)
    rng = np.random.default_rng(1)
    strap0, chunks = 10**15, []
    for j in range(200):
        samples = [(int(rng.integers(-50, 50)), int(rng.integers(-50, 50)), 1000 + int(rng.integers(-30, 30))) for _ in range(36)]
        ts = strap0 + round((j + 1) * 36 * 20_000_000 * (1 + 40e-6))  # 50 Hz, a strap 40 ppm fast
        frame = pmd.encode_delta_frame(pmd.MeasurementType.ACC, ts, 0x01, samples, 16)
        arrival = 2.0 + (j + 1) * 36 * 0.02 + 0.01 + float(rng.uniform(0, 0.03))
        (item,) = stream.feed(arrival, frame)
        assert isinstance(item, AccChunk) and list(item.samples_mg) == samples
        chunks.append(item)
    assert all(abs(c.fs - 50.0 / (1 + 40e-6)) < 0.05 for c in chunks[20:])
    assert chunks[-1].t == pytest.approx(2.0 + 200 * 36 * 0.02 + 0.01, abs=0.005)
