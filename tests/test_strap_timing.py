"""Beat timing under what hosts and straps really do: late bursts, swapped order, duplicates, no HR field.

The payloads are the simulated strap's own (real 0x2A37 bytes at their arrival times), re-delivered
the way a stalled host, a reordering stack or a duplicating one would, through the real
:class:`~devices.notifications.NotificationProcessor`. The RR values are intact in every case, so
nothing may be invented (gaps), reordered in time (beats going backwards) or counted twice.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import cache

import numpy as np

from devices.hrm import encode_hrm, parse_hrm
from devices.notifications import HR_ABSENT_PROBLEM, NotificationProcessor
from devices.simulated_strap import SimulatedStrap
from devices.simulator import Person
from devices.stream import HeartSample, LinkEvent, LinkState

Delivery = list[tuple[float, bytes]]


@cache
def strap_payloads(seconds: float = 900.0, seed: int = 5) -> tuple[tuple[float, bytes], ...]:
    """What the simulated strap sent, with the time each notification reached the host."""
    async def run() -> list[tuple[float, bytes]]:
        strap = SimulatedStrap(Person(), seed=seed, speed=None, duration_s=seconds)
        return [(i.t, i.payload) for i in [item async for item in strap] if isinstance(i, HeartSample)]
    return tuple(asyncio.run(run()))


def with_stalls(delivery: Delivery, seed: int = 1, every_s: tuple[float, float] = (15.0, 40.0),
                stall_s: tuple[float, float] = (3.0, 5.0)) -> Delivery:
    """The host stalls 3-5 s now and then; what came meanwhile is delivered in a burst at its end."""
    rng = np.random.default_rng(seed)
    out = []
    start = float(rng.uniform(*every_s))
    end = start + float(rng.uniform(*stall_s))
    burst = 0
    for t, payload in delivery:
        while t >= end:
            start = end + float(rng.uniform(*every_s))
            end = start + float(rng.uniform(*stall_s))
            burst = 0
        if t >= start:
            burst += 1
            out.append((end + 0.002 * burst, payload))
        else:
            out.append((t, payload))
    return out


def with_swaps(delivery: Delivery, every: int = 37) -> Delivery:
    """Now and then two notifications reach the host in swapped order."""
    out = list(delivery)
    for k in range(every, len(out) - 1, every):
        (t0, p0), (t1, p1) = out[k], out[k + 1]
        out[k], out[k + 1] = (t0, p1), (t1, p0)
    return out


def with_duplicates(delivery: Delivery, every: int = 25) -> Delivery:
    """Every 25th notification is delivered twice."""
    out = []
    for k, (t, payload) in enumerate(delivery):
        out.append((t, payload))
        if k % every == every - 1:
            out.append((t + 0.003, payload))
    return out


@dataclass
class Outcome:
    beats: int
    false_gaps: int
    backwards: int
    rr: list[int]
    beat_t: list[float]
    hr_absent_events: int
    hr: list[int]

    def figures(self, reference: Outcome) -> str:
        return (f"gaps {self.false_gaps}, backwards {self.backwards}, beats {self.beats} "
                f"(reference {reference.beats}, {self.beats - reference.beats:+d})")


def through_pipeline(delivery: Delivery) -> Outcome:
    proc = NotificationProcessor()
    items = [item for t, payload in delivery for item in proc.process(t, payload)]
    samples = [i for i in items if isinstance(i, HeartSample)]
    beat_t = [b for s in samples for b in s.beat_t]
    return Outcome(
        beats=len(beat_t),
        false_gaps=sum(1 for i in items if isinstance(i, LinkEvent) and i.kind is LinkState.GAP),
        backwards=int(np.sum(np.diff(beat_t) <= 0)),
        rr=[r for s in samples for r in s.rr_ticks],
        beat_t=beat_t,
        hr_absent_events=sum(1 for i in items if isinstance(i, LinkEvent) and i.kind is LinkState.MALFORMED
                             and i.detail.get("problem") == HR_ABSENT_PROBLEM),
        hr=[s.hr_bpm for s in samples if s.rr_ticks],
    )


def _reference() -> Outcome:
    ref = through_pipeline(list(strap_payloads()))
    assert ref.false_gaps == 0 and ref.backwards == 0 and ref.beats > 800
    return ref


def test_host_stalls_of_3_to_5_s_invent_no_gap_and_keep_every_beat_in_order():
    ref = _reference()
    stalled = with_stalls(list(strap_payloads()))
    assert sum(1 for (a, _), (b, _) in zip(stalled, strap_payloads(), strict=True) if a - b > 2.5) >= 20
    got = through_pipeline(stalled)
    assert got.false_gaps == 0, got.figures(ref)
    assert got.backwards == 0, got.figures(ref)
    assert got.rr == ref.rr
    # The strap's clock still places each beat: a burst does not move beats to its arrival (seconds
    # late). What differs is only which notifications the offset learned from (tens of ms).
    moved = np.abs(np.array(got.beat_t) - np.array(ref.beat_t))
    assert moved.max() < 0.15 and np.median(moved) < 0.01


def test_swapped_arrival_order_invents_no_gap_and_no_backwards_beat():
    ref = _reference()
    for delivery in (with_swaps(list(strap_payloads())), with_swaps(with_stalls(list(strap_payloads())), every=5)):
        got = through_pipeline(delivery)
        assert got.false_gaps == 0, got.figures(ref)
        assert got.backwards == 0, got.figures(ref)
        assert got.beats == ref.beats
        assert sorted(got.rr) == sorted(ref.rr)


def test_duplicate_notifications_are_not_beats():
    ref = _reference()
    got = through_pipeline(with_duplicates(list(strap_payloads())))
    assert got.beats == ref.beats, got.figures(ref)
    assert got.rr == ref.rr and got.false_gaps == 0 and got.backwards == 0


def test_duplicates_inside_a_burst_are_not_beats_either():
    ref = _reference()
    got = through_pipeline(with_duplicates(with_stalls(list(strap_payloads()), seed=2), every=3))
    assert got.beats == ref.beats, got.figures(ref)
    assert got.false_gaps == 0 and got.backwards == 0


def test_identical_payloads_a_second_apart_are_both_beats():
    """At a steady heart rate two notifications can be byte for byte the same: the chain tells them apart."""
    delivery = [(1.0 + k + 0.02, encode_hrm(60, [1024])) for k in range(30)]
    got = through_pipeline(delivery)
    assert got.beats == 30 and got.false_gaps == 0


def test_real_rr_loss_is_still_a_gap():
    """Notifications keep coming on time but some RR never arrive: that is a gap, after the burst tolerance."""
    delivery = list(strap_payloads(300.0))
    lost = [(t, encode_hrm(parse_hrm(p)[0].hr_bpm, ())) if 100 <= t < 104 else (t, p)  # type: ignore[union-attr]
            for t, p in delivery]
    got = through_pipeline(lost)
    assert got.false_gaps == 1 and got.backwards == 0


def _without_hr(delivery: Delivery) -> Delivery:
    out = []
    for t, payload in delivery:
        m, _ = parse_hrm(payload)
        assert m is not None
        out.append((t, encode_hrm(0, m.rr_ticks, m.contact, m.energy_kj)))
    return out


def test_a_strap_without_heart_rate_field_still_gives_beats_and_says_so_once():
    ref = _reference()
    got = through_pipeline(_without_hr(list(strap_payloads())))
    assert got.hr_absent_events == 1
    # Only the few notifications before it is recognised are not beats.
    assert got.beats >= ref.beats - 12
    assert got.rr == ref.rr[ref.beats - got.beats:]
    assert got.false_gaps == 0 and got.backwards == 0
    assert 40 <= min(got.hr) and max(got.hr) <= 120  # heart rate from the RR


def test_hr_zero_while_locking_on_is_still_not_beats():
    proc = NotificationProcessor()
    items = [i for k in range(3) for i in proc.process(1.0 + k, encode_hrm(0, [800]))]
    items += proc.process(4.0, encode_hrm(72, [830]))
    beats = [b for i in items if isinstance(i, HeartSample) for b in i.beat_t]
    assert len(beats) == 1 and not proc.hr_absent


async def test_a_whole_session_with_a_strap_without_heart_rate_field_shows_heart_rate(tmp_path, monkeypatch):
    """The simulated strap, its HR field forced to 0 throughout, through the real runner and record."""
    import devices.simulated_strap as simulated
    from sessions.events import EventKind
    from tests.sessionkit import run_session

    monkeypatch.setattr(simulated, "encode_hrm", lambda hr, rr=(), *a, **kw: encode_hrm(0, rr, *a, **kw))
    ran = await run_session(tmp_path, duration_s=240.0)
    assert ran.runner.state.beats > 150
    assert ran.runner.state.values["hr_now_bpm"] is not None
    said = [data for _t, _kind, data in ran.events(EventKind.LINK) if data.get("problem") == HR_ABSENT_PROBLEM]
    assert len(said) == 1
