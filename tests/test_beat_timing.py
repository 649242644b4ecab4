"""Beat times: back-dated at the start and after gaps, chained in between, never drifting."""

from __future__ import annotations

import numpy as np
import pytest

from devices.beat_timing import BeatTimer
from devices.hrm import encode_hrm
from devices.notifications import NotificationProcessor
from devices.stream import Contact, HeartSample, LinkEvent, LinkState


def test_first_notification_is_back_dated_from_arrival():
    times, gap = BeatTimer().place(10.0, (1024, 512))
    assert times == (9.5, 10.0)
    assert not gap


def test_chained_beats_keep_exact_rr_spacing():
    timer = BeatTimer()
    timer.place(10.0, (1024,))
    times, gap = timer.place(11.2, (1024,))
    assert times == (11.0,) and not gap


def test_a_beat_is_never_placed_after_its_arrival():
    timer = BeatTimer()
    timer.place(10.0, (1024,))
    times, _ = timer.place(10.5, (1024,))  # chained would be 11.0, but it arrived at 10.5
    assert times == (10.5,)


def test_lost_rr_is_a_gap_and_re_anchors():
    timer = BeatTimer()
    timer.place(10.0, (1024,))
    times, gap = timer.place(20.0, (1024,))
    assert gap and times == (20.0,)


def _simulate_strap(true_beats: np.ndarray, clock_ppm: float, seed: int = 3):
    """Notifications once a second carrying the beats of that second, RR on a skewed strap clock."""
    rng = np.random.default_rng(seed)
    # The strap quantises beat *times* on its own clock, so tick rounding telescopes, not accumulates.
    strap_ticks = np.round(true_beats * (1 + clock_ppm * 1e-6) * 1024).astype(np.int64)
    ticks = np.diff(strap_ticks)
    out = []
    k = 1
    for second in np.arange(true_beats[0] + 1.0, true_beats[-1], 1.0):
        arrival = second + rng.uniform(0.005, 0.05)  # BLE latency
        batch = []
        while k < len(true_beats) and true_beats[k] <= second:
            batch.append(int(ticks[k - 1]))
            k += 1
        out.append((float(arrival), tuple(batch)))
    return out


@pytest.mark.parametrize("ppm", [-50.0, 0.0, 50.0])
def test_no_drift_over_three_hours_with_a_skewed_strap_clock(ppm):
    rng = np.random.default_rng(7)
    rr = 60.0 / (62 + 6 * np.sin(np.arange(12000) * 0.6)) + rng.normal(0, 0.02, 12000)
    beats = np.concatenate([[0.0], np.cumsum(rr)])
    timer = BeatTimer()
    placed, truth = [], []
    k = 1
    for arrival, batch in _simulate_strap(beats, ppm):
        times, gap = timer.place(arrival, batch)
        assert not gap
        placed.extend(times)
        truth.extend(beats[k:k + len(batch)])
        k += len(batch)
    err = np.array(placed) - np.array(truth)
    assert beats[-1] > 3 * 3600 * 0.95
    # After the first minute every beat lies within 80 ms of the truth (latency floor plus the
    # unknowable phase of the beat within its notification), the last hour as well as the first.
    assert np.abs(err[60:]).max() < 0.08, (ppm, np.abs(err[60:]).max())
    assert abs(err[-1000:].mean() - err[60:1060].mean()) < 0.02
    # Intervals between placed beats are the strap's own RR (to the tick) except where a
    # notification proved the chain late and pulled it back, which is rare and small.
    step = np.abs(np.diff(placed) - np.diff(truth))
    assert np.percentile(step, 95) < 0.001
    assert step.max() < 0.06


def test_startup_hr_zero_and_absurd_rr_are_not_beats():
    proc = NotificationProcessor()
    items = proc.process(1.0, encode_hrm(0, [53]))  # locking on
    items += proc.process(2.0, encode_hrm(70, [90]))  # 11 ms: no heart beats that fast
    items += proc.process(3.0, encode_hrm(70, [880, 860]))
    samples = [i for i in items if isinstance(i, HeartSample)]
    assert [s.rr_ticks for s in samples] == [(), (), (880, 860)]
    assert [s.rejected_rr_ticks for s in samples] == [(53,), (90,), ()]
    # A break before the very first beat is no gap.
    assert not samples[-1].after_gap
    assert not any(isinstance(i, LinkEvent) and i.kind is LinkState.GAP for i in items)


def test_a_rejected_rr_between_good_ones_drops_the_neighbours_in_its_payload_and_marks_a_gap():
    proc = NotificationProcessor()
    proc.process(1.0, encode_hrm(70, [880]))
    items = proc.process(2.0, encode_hrm(70, [870, 4000, 860]))
    sample = items[-1]
    assert sample.rr_ticks == (860,)
    assert sample.rejected_rr_ticks == (870, 4000)
    assert sample.after_gap
    gap = [i for i in items if isinstance(i, LinkEvent) and i.kind is LinkState.GAP]
    assert len(gap) == 1 and gap[0].detail["reason"] == "rejected RR"


def test_contact_loss_and_return_are_events_and_the_chain_restarts():
    proc = NotificationProcessor()
    proc.process(1.0, encode_hrm(70, [880]))
    lost = proc.process(2.0, encode_hrm(0, [], contact=Contact.NOT_DETECTED))
    assert [i.kind for i in lost if isinstance(i, LinkEvent)] == [LinkState.CONTACT_LOST]
    back = proc.process(9.0, encode_hrm(70, [870]))
    kinds = [i.kind for i in back if isinstance(i, LinkEvent)]
    assert kinds == [LinkState.CONTACT_RESTORED, LinkState.GAP]
    sample = back[-1]
    assert sample.after_gap and sample.beat_t == (9.0,)
    gap = [i for i in back if isinstance(i, LinkEvent) and i.kind is LinkState.GAP][0]
    assert gap.detail["start"] == 1.0 and gap.detail["end"] == pytest.approx(9.0 - 870 / 1024, abs=1e-3)


def test_malformed_payload_is_an_event_not_an_exception():
    proc = NotificationProcessor()
    items = proc.process(1.0, b"\x10\x48\x19")
    assert items[0].kind is LinkState.MALFORMED and items[0].detail["problem"] == "odd_rr_bytes"
    assert isinstance(items[1], HeartSample) and items[1].hr_bpm == 0x48 and items[1].rr_ticks == ()
