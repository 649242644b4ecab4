"""Rhythm check: atrial fibrillation is flagged within about a minute; ectopy and sinus arrhythmia are not."""

from __future__ import annotations

import numpy as np
import pytest

from bench.realdata import mit_available, mit_record
from biofeedback.rhythm import RhythmCheck, RhythmConfig, irregular_stretches
from devices.simulator import Glitches, Person, SimulatedHeart, person_profile


def beats_of(person: Person, seconds: float, seed: int = 3) -> tuple[list[float], list[float]]:
    heart = SimulatedHeart(person, seed=seed)
    t: list[float] = []
    rr: list[float] = []
    while not t or t[-1] < seconds:
        b = heart.next_beat(None)
        t.append(b.t)
        rr.append(b.rr_s * 1000)
    return t, rr


def test_af_is_flagged_within_a_minute_and_stays_flagged():
    t, rr = beats_of(person_profile("af"), 300)
    rc = RhythmCheck()
    states = [rc.add(a, b) for a, b in zip(t, rr, strict=True)]
    first = next(i for i, s in enumerate(states) if s.irregular)
    assert t[first] <= 60.0
    assert states[first].since_t == t[first]
    assert np.mean([s.irregular for s in states[first:]]) > 0.9
    flips = sum(a.irregular != b.irregular for a, b in zip(states, states[1:], strict=False))
    assert flips <= 5  # a steady verdict, not a flicker the person would read as news
    assert states[-1].score > RhythmConfig().on_share


@pytest.mark.parametrize("name", ["follows", "ignores", "fast", "mayer", "stress"])
def test_sinus_rhythm_is_never_flagged(name):
    t, rr = beats_of(person_profile(name), 600)
    assert irregular_stretches(t, rr) == []


@pytest.mark.parametrize("glitches", [
    Glitches(bigeminy=((60.0, 240.0),)),
    Glitches(ectopic_per_min=8.0),
    Glitches(ectopic_per_min=4.0, bigeminy=((100.0, 60.0), (300.0, 90.0))),
], ids=["bigeminy", "frequent-ectopics", "mixed"])
def test_ectopy_is_not_af(glitches):
    t, rr = beats_of(Person(glitches=glitches), 480)
    assert irregular_stretches(t, rr) == []


def test_trigeminy_is_not_af():
    # normal, premature, compensatory pause, repeated: three RR clusters that recur every third beat
    rng = np.random.default_rng(1)
    rr, t, now = [], [], 0.0
    for i in range(600):
        base = 850 + 20 * np.sin(2 * np.pi * now / 4.5) + rng.normal(0, 5)
        r = (base, 0.62 * base, 1.38 * base)[i % 3]
        now += r / 1000
        rr.append(r)
        t.append(now)
    assert irregular_stretches(t, rr) == []


def test_offline_stretches_match_the_live_state():
    t_af, rr_af = beats_of(person_profile("af"), 180, seed=8)
    t_s, rr_s = beats_of(person_profile("follows"), 240, seed=8)
    t = t_s + [t_s[-1] + x for x in t_af] + [t_s[-1] + t_af[-1] + x for x in t_s]
    rr = rr_s + rr_af + rr_s
    rc = RhythmCheck()
    live = [rc.add(a, b).irregular for a, b in zip(t, rr, strict=True)]
    stretches = irregular_stretches(t, rr)
    assert len(stretches) == 1
    start, end = stretches[0]
    assert all(flag == (start <= x < end) for x, flag in zip(t, live, strict=True))
    af_start, af_end = t_s[-1], t_s[-1] + t_af[-1]
    assert af_start < start <= af_start + 60.0  # found within a minute ...
    assert af_end <= end <= af_end + 60.0  # ... and let go within a minute after it ends


def test_a_gap_starts_the_history_afresh():
    rc = RhythmCheck()
    t = 0.0
    for _ in range(100):
        t += 0.8
        rc.add(t, 800.0)
    n_before = len(rc._flags)
    rc.add(t + 60.0, 800.0)  # the strap was off for a minute
    assert n_before > 0 and len(rc._flags) == 0


# --- real recordings: MIT-BIH rhythm labels ---------------------------------------------------------------

needs_mit = pytest.mark.skipif(not mit_available(), reason="MIT-BIH ECG records not found in ../shared/data/mitdb-ecg")


def _flagged_share(num: int, rhythm: str) -> float:
    rec = mit_record(num)
    rc = RhythmCheck()
    flags = np.array([rc.add(t, r).irregular for t, r in zip(rec.beat_t.tolist(), rec.rr_ms.tolist(), strict=True)])
    sel = np.array([x == rhythm for x in rec.rhythm])
    return float(flags[sel].mean())


@needs_mit
@pytest.mark.parametrize("num", [201, 203, 219, 221])
def test_mitbih_af_is_flagged(num):
    assert _flagged_share(num, "(AFIB") >= 0.8


@needs_mit
@pytest.mark.parametrize("num", [100, 116, 119, 121])
def test_mitbih_sinus_with_ectopy_is_not_flagged(num):
    # 119: ventricular bigeminy and trigeminy; 116: frequent PVCs; 100 and 121: sinus with a few ectopics.
    rec = mit_record(num)
    stretches = irregular_stretches(rec.beat_t.tolist(), rec.rr_ms.tolist())
    flagged = sum(end - start for start, end in stretches)
    assert flagged <= 0.05 * rec.duration_s  # at most a minute and a half in 30
    assert all(end - start < 30.0 for start, end in stretches)  # and never most of a minute


def test_real_polar_h10_with_frequent_pvcs_is_not_af(polar_h10_file):
    # 10 minutes from a real strap whose wearer has runs close to trigeminy/bigeminy (detectPVC example data).
    import csv

    with polar_h10_file.open() as fh:
        rr = [float(x) for row in csv.DictReader(fh) for x in row["rr_ms"].split()]
    t = (np.cumsum(rr) / 1000).tolist()
    assert irregular_stretches(t, rr) == []
