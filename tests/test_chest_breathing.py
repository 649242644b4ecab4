"""Breathing from the chest accelerometer, on real BIDMC breathing turned into H10-like acceleration."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from scipy import signal

from bench.bench_chest_breathing import FS, Synth, inhale_truth, run_record, score, synthesize
from bench.realdata import bidmc_available
from biofeedback.chest_breathing import ChestBreathing, PacerHistory
from devices.stream import AccChunk
from sessions.strap_signals import ChestBreath
from biofeedback.pacer import BreathPacer
from devices.chest_motion import chest_acc

needs_bidmc = pytest.mark.skipif(not bidmc_available(), reason="BIDMC recordings not found beside the repository")
RECORDS = (2, 8, 12)


def _feed(acc: np.ndarray, t: np.ndarray, chunk: int | np.ndarray = 25, est: ChestBreathing | None = None):
    est = est or ChestBreathing(FS)
    sizes = np.full(len(t), chunk) if np.isscalar(chunk) else np.asarray(chunk)
    breaths, lo, k = [], 0, 0
    while lo < len(t):
        hi = min(lo + int(sizes[k % len(sizes)]), len(t))
        breaths += est.feed(float(t[hi - 1]), acc[lo:hi])
        lo, k = hi, k + 1
    return est, breaths


@pytest.fixture(scope="module")
def clean() -> dict[int, Synth]:
    return {n: synthesize(n, with_motion=False) for n in RECORDS}


@needs_bidmc
def test_rate_matches_the_annotated_breaths(clean):
    for n, syn in clean.items():
        s = score(run_record(syn).ours)
        assert s.median_abs <= 0.5, (n, s)
        assert s.within1_pct >= 90.0, (n, s)
        assert s.unknown_pct <= 10.0, (n, s)


@needs_bidmc
def test_phase_says_inhale_while_the_chest_impedance_rises(clean):
    for n, syn in clean.items():
        sos = signal.butter(2, 0.5, fs=FS, output="sos")
        rising = np.gradient(signal.sosfiltfilt(sos, syn.resp)) > 0
        est = ChestBreathing(FS)
        agree = total = 0
        for lo in range(0, len(syn.t), 10):
            hi = min(lo + 10, len(syn.t))
            est.feed(float(syn.t[hi - 1]), syn.acc[lo:hi])
            label, progress = est.phase(float(syn.t[hi - 1]))
            if label is None or syn.t[hi - 1] < 60:
                continue  # which way is in is established from the first breaths' shapes (about 25 s)
            assert 0.0 <= progress <= 1.0
            total += 1
            agree += (label == "inhale") == bool(rising[hi - 1])
        assert total > 0.8 * (len(syn.t) - 60 * FS) / 10, n  # known most of the time
        assert agree / total >= 0.8, (n, agree / total)  # an inverted sign gives about 0.2


@needs_bidmc
def test_motion_bursts_are_ignored_not_counted():
    syn = synthesize(8, with_motion=True)
    res = run_record(syn)
    assert res.false_in_motion == 0  # no breath overlaps a burst
    # While a burst is under way the estimator says so and gives no rate; it comes back afterwards.
    est = ChestBreathing(FS)
    flagged, rates_after = [], []
    for lo in range(0, len(syn.t), 10):
        hi = min(lo + 10, len(syn.t))
        est.feed(float(syn.t[hi - 1]), syn.acc[lo:hi])
        tk = float(syn.t[hi - 1])
        for s, d in syn.motion:
            if s + 0.5 <= tk <= s + d - 0.5:
                flagged.append(est.moving and est.rate_per_min is None)
            if s + d + 25 <= tk <= s + d + 30:
                rates_after.append(est.rate_per_min)
    assert np.mean(flagged) >= 0.9
    assert all(r is not None for r in rates_after)
    assert score(res.ours).median_abs <= 0.5


@needs_bidmc
def test_a_strap_at_another_angle_gives_the_same_rate(clean):
    syn = clean[12]
    rot = _rotation(np.radians([35.0, -60.0, 140.0]))
    turned = np.rint(syn.acc @ rot.T).astype(int)
    a, _ = _feed(syn.acc, syn.t)
    b, _ = _feed(turned, syn.t)
    ra, rb = _rates(syn.acc, syn.t), _rates(turned, syn.t)
    both = [(x, y) for x, y in zip(ra, rb, strict=True) if x is not None and y is not None]
    assert len(both) > 0.8 * len(ra)
    assert np.median([abs(x - y) for x, y in both]) < 0.2
    assert a.rate_per_min is not None and b.rate_per_min is not None


def _rotation(angles: np.ndarray) -> np.ndarray:
    out = np.eye(3)
    for axis, ang in enumerate(angles):
        c, s = math.cos(ang), math.sin(ang)
        m = np.eye(3)
        i, j = [(1, 2), (2, 0), (0, 1)][axis]
        m[i, i], m[i, j], m[j, i], m[j, j] = c, -s, s, c
        out = m @ out
    return out


def _rates(acc: np.ndarray, t: np.ndarray) -> list[float | None]:
    est, out = ChestBreathing(FS), []
    for lo in range(0, len(t), 250):
        hi = min(lo + 250, len(t))
        est.feed(float(t[hi - 1]), acc[lo:hi])
        out.append(est.rate_per_min)
    return out


@needs_bidmc
def test_chunk_sizes_do_not_change_the_breaths(clean):
    syn = clean[2]
    n = int(240 * FS)
    acc, t = syn.acc[:n], syn.t[:n]
    _, one = _feed(acc, t, 2)
    _, big = _feed(acc, t, 73)
    _, mixed = _feed(acc, t, np.random.default_rng(3).integers(1, 120, 500))
    assert len(one) > 50
    for other in (big, mixed):
        assert len(other) == len(one)
        assert max(abs(x.start - y.start) + abs(x.end - y.end) for x, y in zip(one, other, strict=True)) < 1e-6


def _paced_person(pacer_rate: float, person_rate: float, lag_s: float, seconds: float = 120.0):
    """A person breathing at ``person_rate`` (lagging the pacer by ``lag_s`` when the rates match).

    The lung volume is the pacer's fill curve raised to 1.5: it lingers near the exhaled level, as
    breathing does (positive skewness in 24 of 26 BIDMC records).
    """
    t = np.arange(0.0, seconds, 1.0 / FS)
    pacer = BreathPacer(pacer_rate, t0=0.0)
    history = PacerHistory()
    fill = np.empty(len(t))
    for i, tk in enumerate(t):
        history.add(float(tk), pacer.advance(float(tk)).phase.phase)
        if person_rate == pacer_rate:
            fill[i] = pacer.phase_at(float(tk)).fill if tk < lag_s else BreathPacer(pacer_rate).phase_at(tk - lag_s).fill
        else:
            fill[i] = 0.5 - 0.5 * math.cos(2 * math.pi * person_rate / 60.0 * tk)
    beats = np.arange(0.5, seconds, 0.9)
    acc = chest_acc(t, fill ** 1.5, beats.tolist(), rng=np.random.default_rng(5), posture="reclined")
    return t, acc, history


def test_follow_sees_a_small_lag_when_the_breath_follows_the_pacer():
    t, acc, history = _paced_person(6.0, 6.0, lag_s=0.6, seconds=300.0)
    est, _ = _feed(acc, t)
    f = est.follow(6.0, history)
    assert f is not None
    lag_s, rate_match = f
    assert abs(lag_s - 0.6) < 0.75, f  # 7.5 % of a 10-s breath
    assert abs(rate_match - 1.0) < 0.05
    assert f.following and f.consistency > 0.9


def test_follow_sees_a_clear_mismatch_when_the_breath_does_not():
    t, acc, history = _paced_person(6.0, 14.0, lag_s=0.0)
    est, _ = _feed(acc, t)
    f = est.follow(6.0, history)
    assert f is not None
    assert f.rate_match > 2.0
    assert not f.following


def test_rejects_an_impossible_sample_rate_and_restarts_after_a_gap():
    with pytest.raises(ValueError, match="Hz"):
        ChestBreathing(1.0)
    t, acc, _ = _paced_person(10.0, 10.0, lag_s=0.0, seconds=80.0)
    est, _ = _feed(acc, t)
    assert est.rate_per_min is not None and abs(est.rate_per_min - 10.0) < 0.5
    est.feed(float(t[-1]) + 5.0, acc[:25])  # five seconds lost: no rate across the gap
    assert est.rate_per_min is None


@needs_bidmc
def test_which_way_is_in_is_right_from_the_first_breaths(clean):
    """Each cycle's shape says it within about half a minute, and it is never the wrong way on these records."""
    for n, syn in clean.items():
        est, first = ChestBreathing(FS), None
        for lo in range(0, len(syn.t), 25):
            hi = min(lo + 25, len(syn.t))
            est.feed(float(syn.t[hi - 1]), syn.acc[lo:hi])
            u = est.inhale_axis
            assert (u is not None) == est.direction_established
            if u is None:
                continue
            first = float(syn.t[hi - 1]) if first is None else first
            assert float(np.dot(u, syn.inhale_truth)) > 0, (n, syn.t[hi - 1])
        assert first is not None and first <= 45.0, (n, first)


def _symmetric_person(pacer_rate: float, phase_of, seconds: float, posture: str = "supine"):
    """A lung curve with no dwell at either end (a pure cosine: the shape says nothing about which way is in)."""
    t = np.arange(0.0, seconds, 1.0 / FS)
    lung = 0.5 - 0.5 * np.cos(2 * np.pi * phase_of(t))
    acc = chest_acc(t, lung, np.arange(0.5, seconds, 0.9).tolist(), rng=np.random.default_rng(11), posture=posture)
    return t, acc, BreathPacer(pacer_rate, t0=0.0)


def _chest_stream(t: np.ndarray, acc: np.ndarray, pacer: BreathPacer, pacer_rate: float):
    """Feed 0.5-s AccChunks as the session does (the pacer's phase kept as it runs, a reading after each chunk,
    which lets the pacer vote); yields the chest and each chunk's time."""
    chest = ChestBreath(ChestBreathing(FS), PacerHistory())
    for lo in range(0, len(t), 25):
        hi = min(lo + 25, len(t))
        chest.pacer_seen(float(t[hi - 1]), pacer.advance(float(t[hi - 1])).phase.phase)
        chest.feed(AccChunk(float(t[hi - 1]), FS, tuple(tuple(int(v) for v in row) for row in acc[lo:hi])))
        chest.reading(float(t[hi - 1]), pacer_rate)
        yield chest, float(t[hi - 1])


def _follows_then_not(pacer_rate: float, lag_s: float, until: float, own_rate: float):
    """Lung phase that follows the pacer (``lag_s`` behind) until ``until``, then runs at ``own_rate`` from there.

    A pacer at a steady rate runs its phase evenly from 0 at its start (as :class:`BreathPacer` does)."""
    def phase_of(tt: np.ndarray) -> np.ndarray:
        paced = (tt - lag_s) * pacer_rate / 60.0
        return np.where(tt < until, paced, (until - lag_s) * pacer_rate / 60.0 + own_rate / 60.0 * (tt - until))
    return phase_of


def test_the_pacer_says_which_way_is_in_when_the_breath_follows_it():
    t, acc, history = _symmetric_person(6.0, _follows_then_not(6.0, 0.4, 1e9, 6.0), 150.0)
    truth = inhale_truth(acc, 0.5 - 0.5 * np.cos(2 * np.pi * _follows_then_not(6.0, 0.4, 1e9, 6.0)(t)))
    first = None
    for chest, tk in _chest_stream(t, acc, history, 6.0):
        u = chest.est.inhale_axis
        if u is not None:
            first = tk if first is None else first
            assert float(np.dot(u, truth)) > 0, tk  # the pacer's way, and the right one
    assert first is not None and first <= 80.0  # a few breaths with the pacer
    assert chest.now.direction_known and chest.now.following


def test_the_pacer_does_not_give_a_direction_to_someone_who_does_not_follow_it():
    t, acc, history = _symmetric_person(6.0, lambda tt: 14.0 / 60.0 * tt, 150.0)
    for chest, tk in _chest_stream(t, acc, history, 6.0):
        assert not chest.est.direction_established, tk  # own rate, no shape to go by: nothing to show
        assert chest.phase_at(tk) == (None, 0.0) and not chest.now.following


def test_the_ring_waits_for_the_way_in_and_goes_when_it_is_lost():
    """A breath whose shape says nothing: no ring at first; it comes once the breath follows the pacer, with
    its line, and fades out once the person breathes at their own rate again and the pacer's word expires."""
    pytest.importorskip("PySide6")
    from sessions.gui.breath_ring import BreathRing

    t, acc, history = _symmetric_person(6.0, _follows_then_not(6.0, 0.4, 120.0, 13.0), 200.0)
    ring, seen = BreathRing("en"), []
    for chest, tk in _chest_stream(t, acc, history, 6.0):
        now = chest.now
        state = SimpleNamespace(t=tk, quiet_view=False, pacer=object(), following=now.following, value=lambda key, r=now: {
            "pacer_phase_lag_s": r.phase_lag_s, "pacer_rate_match": None if r.rate_match is None else 100 * r.rate_match}[key])
        runner = SimpleNamespace(state=state, now=lambda tk=tk: tk, chest_phase_at=chest.phase_at)
        seen.append((tk, ring.frame(runner, tk)))
    early = [v for tk, v in seen if tk < 25.0]
    assert early and all(v is None for v in early)  # nothing yet: the breath's shape does not say which way is in
    shown = [(tk, v) for tk, v in seen if v is not None and v.alpha == 1.0]
    assert shown and shown[0][0] < 100.0 and any(v.words == "you're breathing with the pacer" for _, v in shown)
    assert all(v is None for tk, v in seen if tk > 170.0)  # gone again once the pacer no longer says it


@needs_bidmc
def test_on_a_faint_real_breath_the_ring_comes_late_and_only_the_right_way():
    """BIDMC 17: a breath whose shape says which way is in only faintly. No ring for the first breaths; then a
    ring, and whenever there is one the estimator's way in is the real one (no pacer here)."""
    pytest.importorskip("PySide6")
    from sessions.gui.breath_ring import BreathRing

    syn = synthesize(17, with_motion=False)
    chest, ring, shown = ChestBreath(ChestBreathing(FS), PacerHistory()), BreathRing("en"), []
    for lo in range(0, len(syn.t), 25):
        hi = min(lo + 25, len(syn.t))
        tk = float(syn.t[hi - 1])
        chest.feed(AccChunk(tk, FS, tuple(tuple(int(v) for v in row) for row in syn.acc[lo:hi])))
        chest.reading(tk, None)
        state = SimpleNamespace(t=tk, quiet_view=False, pacer=None, following=None, value=lambda key: None)
        view = ring.frame(SimpleNamespace(state=state, now=lambda tk=tk: tk, chest_phase_at=chest.phase_at), tk)
        if view is not None:
            shown.append(tk)
        u = chest.est.inhale_axis
        assert u is None or float(np.dot(u, syn.inhale_truth)) > 0, tk
    assert shown and shown[0] > 40.0  # not from the first breaths
    assert len(shown) > 0.4 * len(range(0, len(syn.t), 25))  # but for much of the record
