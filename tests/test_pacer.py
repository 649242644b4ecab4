"""The breathing pacer: continuous phase, rate changes only at breath ends, a guide that follows the body."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biofeedback.pacer import (
    BodySignal,
    BreathPacer,
    GuideConfig,
    PacerSetting,
    RateTrial,
    ResonanceGuide,
    parse_ratio,
    pick_resonance_rate,
    score_resonance_trials,
)

# --- the breath clock ---------------------------------------------------------------------


def test_phase_and_halves_at_a_fixed_rate():
    p = BreathPacer(6.0, "4:6")  # 10 s breaths: 4 s in, 6 s out
    assert p.phase_at(0.0).inhaling and p.phase_at(0.0).fill == pytest.approx(0.0)
    assert p.phase_at(2.0).phase == pytest.approx(0.2)
    assert p.phase_at(3.9).inhaling
    assert not p.phase_at(4.1).inhaling
    assert p.phase_at(4.0).fill == pytest.approx(1.0)
    assert p.phase_at(12.0).breath == 1 and p.phase_at(12.0).phase == pytest.approx(0.2)


def test_phase_at_looks_ahead_without_moving_the_clock():
    p = BreathPacer(6.0)
    p.phase_at(35.0)
    assert p.breath == 0
    tick = p.advance(35.0)
    assert tick.boundaries == (10.0, 20.0, 30.0)


def test_rate_request_waits_for_the_end_of_the_breath():
    p = BreathPacer(6.0)
    p.advance(3.0)
    p.request_rate(12.0)
    assert p.rate == 6.0 and p.pending_rate == 12.0
    assert p.phase_at(9.99).rate == 6.0  # the breath in progress keeps its length
    tick = p.advance(10.5)
    assert tick.boundaries == (10.0,)
    assert [(c.t, c.old_rate, c.new_rate) for c in tick.changes] == [(10.0, 6.0, 12.0)]
    assert tick.phase.rate == 12.0 and tick.phase.phase == pytest.approx(0.1)


def test_latest_request_wins_and_cancelling_works():
    p = BreathPacer(6.0)
    p.request_rate(8.0)
    p.request_rate(6.0)
    assert p.pending_rate is None
    assert p.advance(25.0).changes == ()


def test_time_must_not_go_back():
    p = BreathPacer(6.0)
    p.advance(5.0)
    with pytest.raises(ValueError):
        p.advance(4.0)


@settings(max_examples=60, deadline=None)
@given(
    start=st.floats(4, 20),
    requests=st.lists(st.tuples(st.floats(0, 120), st.floats(2, 25), st.sampled_from([None, "1:1", "4:6", 0.3])), max_size=12),
)
def test_phase_is_continuous_and_changes_only_at_breath_ends(start, requests):
    p = BreathPacer(start)
    requests = sorted(requests, key=lambda r: r[0])
    dt = 0.05
    t, last, boundaries = 0.0, p.phase_at(0.0), []
    i = 0
    while t < 130:
        t = round(t + dt, 10)
        while i < len(requests) and requests[i][0] <= t:
            p.request_rate(requests[i][1], requests[i][2])
            i += 1
        tick = p.advance(t)
        boundaries += tick.boundaries
        for c in tick.changes:
            assert c.t in tick.boundaries  # a change happens exactly at a breath end
        ph = tick.phase
        assert 4.0 <= ph.rate <= 20.0
        if tick.boundaries:
            assert ph.breath == last.breath + len(tick.boundaries)
            assert ph.phase < 0.5  # wrapped to the start of a new breath
        else:
            assert ph.breath == last.breath and ph.rate == last.rate
            assert ph.phase > last.phase  # monotonic within a breath
        # the lung curve never jumps, even across rate and ratio changes
        max_slope = math.pi / 2 / (min(ph.inhale_fraction, 1 - ph.inhale_fraction) * 60 / 20)
        assert abs(ph.fill - last.fill) <= max_slope * dt * 2.5 + 1e-9
        last = ph
    assert all(b2 > b1 for b1, b2 in zip(boundaries, boundaries[1:]))


def test_ratio_parsing():
    assert parse_ratio("4:6") == pytest.approx(0.4)
    assert parse_ratio("1:1") == pytest.approx(0.5)
    assert parse_ratio(0.45) == pytest.approx(0.45)
    for bad in ("1:9", "a:b", "0:3", True, "4-6"):
        with pytest.raises(ValueError):
            parse_ratio(bad)


def test_pacer_setting_checks_its_own_consistency():
    assert PacerSetting("fixed", 6.5).rate == 6.5
    with pytest.raises(ValueError):
        PacerSetting("fixed", None)
    with pytest.raises(ValueError):
        PacerSetting("fixed", 30.0)
    with pytest.raises(ValueError):
        PacerSetting("follow", 6.0)


# --- the guide ----------------------------------------------------------------------------


def run_guide(guide: ResonanceGuide, body, until: float, dt: float = 0.5, every: float = 5.0):
    """Drive the guide with a simulated body: body(t, pacer_rate) -> BodySignal."""
    decisions, changes = [], []
    t, next_obs = 0.0, 0.0
    while t < until:
        t = round(t + dt, 9)
        if t >= next_obs:
            guide.observe(body(t, guide.rate))
            next_obs += every
        tick, ds = guide.advance(t)
        decisions += ds
        changes += tick.changes
    return decisions, changes


def follower(t, rate):
    return BodySignal(dominant_hz=rate / 60.0, coherence=0.6, breathing_rate=rate)


def test_guide_starts_near_the_persons_rate():
    assert ResonanceGuide(breathing_rate=13.1).rate == 13.0
    assert ResonanceGuide(breathing_rate=None).rate == 11.0  # a gentle default (issue 12: 10-12/min)
    assert ResonanceGuide(breathing_rate=35.0).rate == 20.0  # bounds
    assert ResonanceGuide(breathing_rate=5.5, resonance_rate=4.0).rate == 5.5
    g = ResonanceGuide(breathing_rate=None, resonance_rate=5.0)
    assert g.target == 5.0


def test_guide_slows_in_small_spaced_steps_while_the_body_follows():
    g = ResonanceGuide(breathing_rate=12.0, resonance_rate=6.0)
    decisions, changes = run_guide(g, follower, until=900)
    assert decisions[0].action == "start"
    slows = [d for d in decisions if d.action == "slow"]
    # Small steps: 1/min above 10/min, 0.5/min below (where each step is felt more).
    assert slows and all(d.old_rate - d.new_rate <= (1.0 if d.old_rate > 10 else 0.5) + 1e-9 for d in slows)
    assert any(d.old_rate - d.new_rate > 0.5 for d in slows) and any(d.old_rate <= 10 for d in slows)
    assert g.rate == 6.0  # reached the stored resonance rate ...
    assert min(c.new_rate for c in changes) == 6.0  # ... and never went past it
    for a, b in zip(changes, changes[1:]):
        assert b.t - a.t >= 30.0 - 1e-9  # not more often than every 30 s ...
        assert b.breath - a.breath >= 3  # ... and every 3 breaths


def test_guide_does_not_slow_while_the_body_is_not_following():
    g = ResonanceGuide(breathing_rate=10.0)
    decisions, _ = run_guide(g, lambda t, r: BodySignal(dominant_hz=0.3, coherence=0.2), until=300)
    assert [d.action for d in decisions] == ["start"]
    assert g.rate == 10.0


def test_guide_holds_without_an_estimate():
    g = ResonanceGuide(breathing_rate=10.0)
    decisions, _ = run_guide(g, lambda t, r: BodySignal(), until=300)
    assert [d.action for d in decisions] == ["start"]


def test_guide_backs_off_when_the_body_stops_following():
    # This body follows the pacer down to 10/min; slower than that the heart keeps its own 12/min rhythm.
    def body(t, rate):
        return BodySignal(dominant_hz=(rate if rate >= 10.0 else 12.0) / 60.0, coherence=0.5)

    g = ResonanceGuide(breathing_rate=12.0)
    decisions, changes = run_guide(g, body, until=900)
    assert min(c.new_rate for c in changes) == 9.5  # it tried one step further ...
    backs = [d for d in decisions if d.action == "back_off"]
    assert backs and all(d.old_rate == 9.5 and d.new_rate == 10.0 for d in backs)  # ... and came back up
    # one miss only holds; the step back needs a second miss in a row
    first_slow_to_9_5 = next(d for d in decisions if d.action == "slow" and d.new_rate == 9.5)
    assert backs[0].t - first_slow_to_9_5.t >= 2 * 30.0


def test_guide_backs_off_when_coherence_collapses():
    def body(t, rate):
        return BodySignal(dominant_hz=rate / 60.0, coherence=0.8 if rate >= 8.0 else 0.2)

    g = ResonanceGuide(breathing_rate=9.0)
    decisions, changes = run_guide(g, body, until=600)
    assert min(c.new_rate for c in changes) >= 7.5
    assert any(d.action == "back_off" and d.reason == "coherence dropped" for d in decisions)


def test_hold_freezes_the_rate():
    g = ResonanceGuide(breathing_rate=12.0)
    d = g.hold(True, 0.0)
    assert d is not None and d.action == "hold"
    assert g.hold(True, 1.0) is None
    decisions, _ = run_guide(g, follower, until=300)
    assert [x.action for x in decisions] == ["start"] and g.rate == 12.0
    assert g.hold(False, 300.0).action == "release"


def test_guide_step_size_is_configurable():
    g = ResonanceGuide(breathing_rate=8.0, config=GuideConfig(step=0.25))
    decisions, _ = run_guide(g, follower, until=200)
    assert all(abs(d.old_rate - d.new_rate) == 0.25 for d in decisions if d.action == "slow")


# --- resonance assessment -----------------------------------------------------------------


def test_pick_resonance_rate_prefers_largest_oscillation_and_coherence():
    trials = [
        (6.5, 8.0, 0.40),
        (6.0, 10.0, 0.55),
        (5.5, 14.0, 0.70),
        (5.0, 12.0, 0.60),
        (4.5, 9.0, 0.50),
    ]
    assert pick_resonance_rate(trials) == 5.5
    assert pick_resonance_rate([RateTrial(*t) for t in trials]) == 5.5


def test_pick_resonance_rate_weighs_both_measures():
    # 5.0 has the biggest swing but poor coherence; 6.0 is best on both together.
    assert pick_resonance_rate([(6.0, 11.0, 0.8), (5.0, 12.0, 0.3), (5.5, 6.0, 0.5)]) == 6.0


def test_pick_resonance_rate_breaks_near_ties_toward_the_faster_rate():
    assert pick_resonance_rate([(5.0, 10.0, 0.60), (5.5, 10.0, 0.595)]) == 5.5


def test_pick_resonance_rate_skips_unusable_trials():
    assert pick_resonance_rate([(6.0, float("nan"), 0.9), (5.0, 5.0, 0.3)]) == 5.0
    assert score_resonance_trials([]) == []
    with pytest.raises(ValueError):
        pick_resonance_rate([(6.0, None, 0.5)])


def test_guide_never_starts_below_the_target():
    # A slow spectral peak (ectopic beats, Mayer waves) is not a breathing rate to start from.
    assert ResonanceGuide(breathing_rate=5.5, resonance_rate=6.0).rate == 6.0
    assert ResonanceGuide(breathing_rate=11.2, resonance_rate=6.0).rate == 11.0


# --- the safe start (issue 12) ----------------------------------------------------------------


@pytest.mark.parametrize("rate", [None, float("nan"), 4.2, 2.0])
def test_unknown_or_implausible_rate_starts_at_the_gentle_default(rate):
    # Below about 5/min at rest an "RSA rate" is a slow heart-rate swing, not breathing.
    g = ResonanceGuide(breathing_rate=rate, resonance_rate=6.0)
    assert g.rate == 11.0
    assert 10.0 <= g.start_rate <= 12.0


def test_an_unconfident_rate_is_treated_as_unknown():
    assert ResonanceGuide(breathing_rate=19.0, breathing_confidence=0.1).rate == 11.0
    assert ResonanceGuide(breathing_rate=19.0, breathing_confidence=0.9).rate == 19.0
    assert ResonanceGuide(breathing_rate=19.0).rate == 19.0  # no confidence given: the caller vouches


def test_a_person_breathing_20_is_never_asked_for_less_than_18_in_the_first_minute():
    # The body follows perfectly (the guide's most eager case): steps are still at most 1/min per 30 s.
    g = ResonanceGuide(t0=0.0, breathing_rate=20.0, breathing_confidence=0.8, resonance_rate=6.0)
    _, changes = run_guide(g, follower, until=60.0, dt=0.25)
    assert g.start_rate == 20.0
    rates = [20.0] + [c.new_rate for c in changes]
    assert min(rates) >= 18.0
    assert changes, "the guide does slow down while the body follows"


@settings(max_examples=40, deadline=None)
@given(start=st.floats(5.0, 30.0), target=st.floats(4.0, 8.0))
def test_the_pacer_never_jumps_more_than_1_per_half_minute(start, target):
    g = ResonanceGuide(breathing_rate=start, breathing_confidence=1.0, resonance_rate=target)
    _, changes = run_guide(g, follower, until=600.0)
    for a, b in zip(changes, changes[1:], strict=False):
        assert b.t - a.t >= 30.0 - 1e-9
    assert all(abs(c.new_rate - c.old_rate) <= 1.0 + 1e-9 for c in changes)


def test_a_default_start_catches_up_with_a_fast_breather_in_steps():
    # Unknown at the start (default 11/min); later the estimator is confident the person breathes 20/min.
    g = ResonanceGuide(breathing_rate=None, resonance_rate=6.0)
    assert g.rate == 11.0
    fast = lambda t, rate: BodySignal(dominant_hz=20 / 60, coherence=0.3, breathing_rate=20.0)  # noqa: E731
    decisions, changes = run_guide(g, fast, until=400)
    ups = [d for d in decisions if d.action == "step_up"]
    assert ups and all(0 < d.new_rate - d.old_rate <= 1.0 for d in ups)
    assert g.rate >= 18.0  # caught up to within the margin ...
    assert max(c.new_rate for c in changes) <= 20.0  # ... and never past the person
    for a, b in zip(changes, changes[1:], strict=False):
        assert b.t - a.t >= 30.0 - 1e-9


def test_a_fixed_rate_far_away_is_reached_in_steps_of_at_most_one_per_minute():
    from biofeedback.pacer import ramp_rates

    assert ramp_rates(12.0, 6.5) == [11.08, 10.17, 9.25, 8.33, 7.42, 6.5]
    assert ramp_rates(6.0, 6.5) == [6.5]
    assert ramp_rates(6.0, 6.0) == [6.0]
    steps = [12.0, *ramp_rates(12.0, 4.5)]
    assert all(abs(b - a) <= 1.0 + 1e-9 for a, b in zip(steps, steps[1:]))
