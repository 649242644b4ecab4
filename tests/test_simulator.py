"""The simulated strap: plausible physiology, a body that answers the pacer, glitches like a real one."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from devices.simulated_strap import SimulatedStrap
from devices.simulator import PROFILES, Glitches, Person, SimulatedHeart, StressEpisode, person_profile
from devices.stream import HeartSample, LinkEvent, LinkState


async def _run(person: Person, seconds: float, pacer: float | None = None, seed: int = 4):
    strap = SimulatedStrap(person, seed=seed, speed=None, duration_s=seconds)
    strap.set_pacer_rate(pacer)
    return strap, [item async for item in strap]


def _rr(items, start=0.0, end=np.inf):
    samples = [i for i in items if isinstance(i, HeartSample) and start <= i.t < end]
    t = np.array([b for s in samples for b in s.beat_t])
    rr = np.array([r for s in samples for r in s.rr_ticks]) / 1024.0
    return t, rr


def _dominant_hz(t, rr):
    """Peak of the HR oscillation spectrum (RR resampled at 4 Hz)."""
    grid = np.arange(t[0], t[-1], 0.25)
    x = np.interp(grid, t, rr)
    x = (x - x.mean()) * np.hanning(len(x))
    spec = np.abs(np.fft.rfft(x, 8 * len(x))) ** 2
    f = np.fft.rfftfreq(8 * len(x), 0.25)
    band = (f > 0.04) & (f < 0.5)
    return f[band][np.argmax(spec[band])]


async def test_same_seed_same_heart_and_different_seed_differs():
    _, a = await _run(Person(), 60, seed=9)
    _, b = await _run(Person(), 60, seed=9)
    _, c = await _run(Person(), 60, seed=10)
    payloads = lambda items: [i.payload for i in items if isinstance(i, HeartSample)]
    assert payloads(a) == payloads(b)
    assert payloads(a) != payloads(c)


async def test_about_one_notification_a_second_with_plausible_values():
    _, items = await _run(person_profile("follows"), 120)
    samples = [i for i in items if isinstance(i, HeartSample)]
    assert 115 <= len(samples) <= 121
    t, rr = _rr(items)
    assert 0.6 < rr.min() and rr.max() < 1.4  # 43-100 bpm
    hr = [s.hr_bpm for s in samples if s.hr_bpm]
    assert 50 <= min(hr) and max(hr) <= 95
    rmssd = np.sqrt(np.mean(np.diff(rr * 1000) ** 2))
    assert 15 < rmssd < 120
    assert max(len(s.rr_ticks) for s in samples) <= 9
    assert samples[0].hr_bpm == 0 and samples[0].rejected_rr_ticks  # locking on, junk refused


async def test_rsa_grows_several_fold_at_resonance():
    def swing(pacer):
        heart = SimulatedHeart(replace(Person(), start_hr=58.0, beat_noise_bpm=0, vlf_bpm=0, lf_bpm=0), seed=2)
        hr = np.array([60 / heart.next_beat(pacer).rr_s for _ in range(700)])[300:]
        return np.percentile(hr, 97) - np.percentile(hr, 3)

    assert swing(6.0) > 3 * swing(None)


async def test_breathing_follows_the_pacer_or_ignores_it_by_profile():
    _, follows = await _run(person_profile("follows"), 300, pacer=6.0)
    _, ignores = await _run(person_profile("ignores"), 300, pacer=6.0)
    assert _dominant_hz(*_rr(follows, 120)) == pytest.approx(0.1, abs=0.015)
    assert _dominant_hz(*_rr(ignores, 120)) == pytest.approx(13.0 / 60, abs=0.04)


async def test_heart_settles_toward_rest_while_breathing_slowly():
    _, items = await _run(person_profile("follows"), 900, pacer=6.0)
    _, first = _rr(items, 0, 60)
    _, last = _rr(items, 840)
    assert 60 / last.mean() < 60 / first.mean() - 8


async def test_stress_episode_raises_hr_and_collapses_hrv():
    person = Person(stress=StressEpisode(onset_s=200, duration_s=100))
    _, items = await _run(person, 320, pacer=6.0)
    _, before = _rr(items, 140, 200)
    _, during = _rr(items, 230, 290)
    assert 60 / during.mean() > 60 / before.mean() + 15
    rmssd = lambda rr: np.sqrt(np.mean(np.diff(rr * 1000) ** 2))
    assert rmssd(during) < 0.5 * rmssd(before)
    _, onset = _rr(items, 200, 220)
    assert 60 / onset[-3:].mean() > 60 / before.mean() + 10  # most of the rise within 20 s


async def test_bigeminy_alternates_short_and_long_and_truth_is_kept():
    person = Person(glitches=Glitches(bigeminy=((60, 30),)))
    strap, items = await _run(person, 120)
    kinds = [b.kind for b in strap.beats if 62 < b.t < 88]
    assert kinds.count("ectopic") >= 10
    assert all(a != b for a, b in zip(kinds, kinds[1:]))  # premature, pause, premature, ...
    t, rr = _rr(items, 62, 88)
    short_long = np.diff(rr)
    assert np.all(np.abs(short_long) > 0.15)


async def test_isolated_ectopics_missed_and_extra_beats_appear_at_their_rates():
    person = Person(glitches=Glitches(ectopic_per_min=2, missed_per_min=1, extra_per_min=1))
    strap, _ = await _run(person, 600)
    counts = {k: sum(b.kind == k for b in strap.beats) for k in ("ectopic", "missed", "extra")}
    assert 10 <= counts["ectopic"] <= 35
    assert 3 <= counts["missed"] <= 20
    assert 6 <= counts["extra"] <= 40  # an extra detection splits one interval in two


async def test_long_contact_loss_drops_the_link_reconnects_and_marks_the_gap():
    person = Person(glitches=Glitches(contact_loss=((40, 35),)))
    _, items = await _run(person, 120)
    kinds = [i.kind for i in items if isinstance(i, LinkEvent)]
    order = [LinkState.CONTACT_LOST, LinkState.DISCONNECTED, LinkState.RECONNECTING,
             LinkState.RECONNECTED, LinkState.GAP]
    positions = [kinds.index(k) for k in order]
    assert positions == sorted(positions)
    gap = next(i for i in items if isinstance(i, LinkEvent) and i.kind is LinkState.GAP)
    assert 37.5 <= gap.detail["start"] <= 40 and gap.detail["end"] >= 75
    t, rr = _rr(items)
    assert not np.any((t > 41) & (t < 75))  # nothing invented during the loss
    after = [i for i in items if isinstance(i, HeartSample) and i.rr_ticks and i.t > 75][0]
    assert after.after_gap


async def test_link_drop_without_contact_loss():
    person = Person(glitches=Glitches(link_drops=((30, 10),)))
    _, items = await _run(person, 60)
    kinds = [i.kind for i in items if isinstance(i, LinkEvent)]
    assert LinkState.DISCONNECTED in kinds and LinkState.RECONNECTED in kinds
    assert LinkState.CONTACT_LOST not in kinds
    samples = [i for i in items if isinstance(i, HeartSample)]
    assert not any(30 <= s.t < 40 for s in samples)


def test_unknown_profile_is_a_clear_error():
    with pytest.raises(ValueError, match="follows, ignores, stress"):
        person_profile("sleepy")


# --- persons that real recordings taught us about (issue 12) ------------------------------------


def _band_power(t, rr, lo, hi):
    grid = np.arange(t[0], t[-1], 0.25)
    x = np.interp(grid, t, rr)
    x = (x - x.mean()) * np.hanning(len(x))
    spec = np.abs(np.fft.rfft(x, 8 * len(x))) ** 2
    f = np.fft.rfftfreq(8 * len(x), 0.25)
    return float(spec[(f >= lo) & (f <= hi)].sum())


def test_new_persons_are_named_profiles():
    assert {"fast", "mayer", "af"} <= set(PROFILES)


async def test_fast_breather_breathes_18_to_22_and_the_heart_shows_it():
    strap, items = await _run(person_profile("fast"), 300)
    rates = [b.breath_rate for b in strap.beats if b.t > 30]
    assert 18.0 <= min(rates) and max(rates) <= 22.0
    assert _dominant_hz(*_rr(items, 60)) == pytest.approx(20.0 / 60, abs=0.04)


async def test_mayer_person_swings_slowly_more_than_with_its_breathing():
    strap, items = await _run(person_profile("mayer"), 300)
    t, rr = _rr(items, 30)
    breathing_hz = np.mean([b.breath_rate for b in strap.beats if b.t > 30]) / 60
    assert breathing_hz == pytest.approx(14.0 / 60, abs=0.03)
    slow = _band_power(t, rr, 0.05, 0.09)
    rsa = _band_power(t, rr, breathing_hz - 0.03, breathing_hz + 0.03)
    assert slow > 3 * rsa  # the largest HR swing is not breathing
    assert _dominant_hz(t, rr) == pytest.approx(0.07, abs=0.01)


async def test_af_person_is_irregularly_irregular_without_rsa():
    _, items = await _run(person_profile("af"), 300)
    t, rr = _rr(items, 30)
    assert 90 <= 60 / rr.mean() <= 115
    assert 0.12 <= rr.std() / rr.mean() <= 0.3
    x = rr - rr.mean()
    lag1 = np.dot(x[1:], x[:-1]) / np.dot(x, x)
    assert abs(lag1) < 0.15  # each interval independent of the last: no rhythm to predict
    rmssd, sdnn = np.sqrt(np.mean(np.diff(rr) ** 2)), rr.std()
    assert rmssd / sdnn == pytest.approx(np.sqrt(2), abs=0.2)  # white, unlike sinus rhythm (< 1)
    sinus = (await _run(person_profile("follows"), 300))[1]
    ts, rrs = _rr(sinus, 30)
    assert np.sqrt(np.mean(np.diff(rrs) ** 2)) / rrs.std() < 1.0
