"""Prompt pacing and safety: step bounds, the body's tempo, distress within 20 s, stop with grounding."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biofeedback.baseline import Baseline, BaselinePhase
from biofeedback.body import BodyReading
from biofeedback.distress import DistressDetector, DistressState
from biofeedback.step_pacer import Phase, StepEventKind, StepPacer, StepTiming, speech_seconds

BASE = Baseline(hr_bpm=62.0, rmssd_ms=45.0)


def drive(pacer: StepPacer, hr, until: float, dt: float = 1.0, calm=None, rmssd=None, t0: float = 0.0):
    """Feed per-second readings from functions of time; returns all events."""
    events = []
    t = t0
    while t < until and not pacer.done:
        t = round(t + dt, 9)
        reading = BodyReading(
            t,
            hr(t) if callable(hr) else hr,
            (rmssd(t) if callable(rmssd) else rmssd) if rmssd is not None else 45.0,
            (calm(t) if callable(calm) else calm) if calm is not None else None,
        )
        events += pacer.update(t, reading)
    return events


def ends(events):
    return [(e.step, e.t, e.reason) for e in events if e.kind is StepEventKind.STEP_END]


def one_step(**kw) -> StepPacer:
    timing = StepTiming(**{"min_s": 60, "max_s": 180, "typical_s": 100, "prompt_s": (10, 10), **kw})
    return StepPacer([timing, StepTiming(20, 40, prompt_s=(5,))], grounding_step=1, stop_lines=(5, 5), baseline=BASE)


# --- step timing --------------------------------------------------------------------------


def test_settled_body_moves_on_after_the_minimum_not_before():
    p = one_step()
    p.start(0.0)
    ev = drive(p, 60.0, 400)  # at rest: HR at baseline, steady
    first = ends(ev)[0]
    assert first[0] == 0 and first[2] == "settled" and first[1] == 60.0


def test_aroused_body_holds_the_step_until_its_maximum():
    p = one_step()
    p.start(0.0)
    ev = drive(p, 73.0, 400)  # +11 bpm: aroused, though not distress
    assert not [e for e in ev if e.kind is StepEventKind.DISTRESS]
    assert ends(ev)[0] == (0, 180.0, "max")


def test_neutral_body_moves_on_at_the_typical_time():
    p = one_step()
    p.start(0.0)
    ev = drive(p, lambda t: 64.0 + (4.0 if int(t) % 8 < 4 else -4.0), 400)  # restless, not high
    assert ends(ev)[0] == (0, 100.0, "time")


def test_time_only_steps_ignore_the_body():
    for hr in (60.0, 73.0):
        p = one_step(advance="time")
        p.start(0.0)
        assert ends(drive(p, hr, 400))[0] == (0, 100.0, "time")


def test_calm_steps_wait_for_the_calm_score():
    p = one_step(advance="calm", calm_above=0.7)
    p.start(0.0)
    ev = drive(p, 66.0, 400, calm=lambda t: 0.5 if t < 90 else 0.8)
    step_end = ends(ev)[0]
    assert step_end[2] == "calm" and 90 + 20 <= step_end[1] <= 90 + 20 + 10
    p = one_step(advance="calm", calm_above=0.7)
    p.start(0.0)
    assert ends(drive(p, 66.0, 400, calm=0.5))[0] == (0, 180.0, "max")


@settings(max_examples=40, deadline=None)
@given(
    min_s=st.integers(10, 120),
    extra=st.integers(0, 200),
    level=st.sampled_from([55.0, 62.0, 66.0, 72.0, 76.0]),
    noise=st.integers(0, 10),
)
def test_steps_stay_within_min_and_max(min_s, extra, level, noise):
    timing = StepTiming(min_s, min_s + extra, prompt_s=(4.0,) * 3)
    p = StepPacer([timing] * 3, grounding_step=2, stop_lines=(5,), baseline=BASE)
    p.start(0.0)
    ev = drive(p, lambda t: level + (noise if int(t) % 3 == 0 else 0), 3 * (min_s + extra) + 50)
    starts = {e.step: e.t for e in ev if e.kind is StepEventKind.STEP_START} | {0: 0.0}
    for step, t_end, reason in ends(ev):
        if reason == "distress":
            continue
        assert timing.min_s <= t_end - starts[step] <= timing.max_s


def test_prompts_come_in_order_and_slow_down_while_aroused():
    timing = StepTiming(30, 200, prompt_s=(10, 10, 10, 10))
    calm_p = StepPacer([timing], grounding_step=0, stop_lines=(5,), baseline=BASE)
    calm_p.start(0.0)
    ev = drive(calm_p, 62.0, 60)
    calm_times = [e.t for e in ev if e.kind is StepEventKind.PROMPT]
    assert [e.line for e in ev if e.kind is StepEventKind.PROMPT] == [1, 2, 3]  # line 0 came with start()
    assert calm_times == [10.0, 20.0, 30.0]
    up = StepPacer([timing], grounding_step=0, stop_lines=(5,), baseline=BASE)
    up.start(0.0)
    ev = drive(up, 73.0, 60)
    slow_times = [e.t for e in ev if e.kind is StepEventKind.PROMPT]
    assert slow_times[-1] > calm_times[-1] + 5


def test_speech_seconds_grows_with_words():
    assert speech_seconds("one two") < speech_seconds("one two three four five six seven")


# --- baseline -----------------------------------------------------------------------------


def test_baseline_phase_opens_the_session_and_sets_the_reference():
    p = StepPacer([StepTiming(30, 60, prompt_s=(5,))], grounding_step=0, stop_lines=(5,))
    ev = p.start(0.0)
    assert ev[0].kind is StepEventKind.BASELINE_START and p.phase is Phase.BASELINE
    ev = drive(p, lambda t: 75.0 if t < 40 else 61.0, 200, rmssd=50.0)
    done = next(e for e in ev if e.kind is StepEventKind.BASELINE_DONE)
    assert 60.0 <= done.t <= 120.0
    assert done.baseline.hr_bpm == 61.0 and done.baseline.rmssd_ms == 50.0
    assert p.detector.baseline == done.baseline


def test_baseline_waits_for_a_steady_heart_but_not_forever():
    ph = BaselinePhase(min_s=60, max_s=120)
    ph.start(0.0)
    t = 0
    while not ph.update(float(t), BodyReading(float(t), 60.0 + (15 if t % 2 else 0))):
        t += 1
    assert t == 120 and ph.result is not None


def test_baseline_without_heart_data_disables_the_detector_instead_of_guessing():
    ph = BaselinePhase(min_s=60, max_s=90)
    ph.start(0.0)
    for t in range(0, 100):
        ph.update(float(t), BodyReading(float(t), None))
    assert ph.done and ph.result is None
    d = DistressDetector(None)
    assert all(d.update(BodyReading(t, 180.0)) is None for t in range(60))


# --- distress -----------------------------------------------------------------------------


def feed(detector: DistressDetector, hr, until: float, dt: float = 1.0, rmssd=None, t0=0.0):
    out = []
    t = t0
    while t < until:
        r = BodyReading(t, hr(t), rmssd(t) if rmssd else None)
        change = detector.update(r)
        if change is not None:
            out.append((t, change))
        t = round(t + dt, 9)
    return out


@settings(max_examples=80, deadline=None)
@given(
    base=st.floats(50, 85),
    rise=st.floats(22, 50),
    ramp=st.floats(0, 6),
    onset=st.floats(20, 100),
    dt=st.sampled_from([0.5, 0.8, 1.0]),
    wobble=st.floats(0, 3),
)
def test_distress_fires_within_20_s_of_a_sustained_rise(base, rise, ramp, onset, dt, wobble):
    d = DistressDetector(Baseline(base, 40.0))

    def hr(t):
        frac = 0.0 if t < onset else 1.0 if ramp == 0 else min((t - onset) / ramp, 1.0)
        return base + rise * frac + (wobble if int(t / dt) % 2 else -wobble)

    out = feed(d, hr, onset + 60, dt)
    assert out and out[0][1] is DistressState.DISTRESS
    assert onset < out[0][0] <= onset + 20


@settings(max_examples=80, deadline=None)
@given(
    base=st.floats(50, 85),
    height=st.floats(10, 120),
    length=st.floats(0.5, 3.0),
    at=st.floats(20, 60),
    dt=st.sampled_from([0.5, 1.0]),
)
def test_a_brief_bump_does_not_fire(base, height, length, at, dt):
    d = DistressDetector(Baseline(base, 40.0))
    out = feed(d, lambda t: base + height if at <= t < at + length else base + 2, 120, dt)
    assert out == []


def test_a_single_artefact_beat_does_not_fire():
    d = DistressDetector(BASE)
    # per-beat HR at ~1 Hz with one absurd value and one dropout every 7 s
    def hr(t):
        if int(t) % 7 == 0:
            return 220.0
        return 63.0

    assert feed(d, hr, 120) == []


def test_rmssd_collapse_with_a_raised_heart_rate_counts_as_distress():
    d = DistressDetector(BASE)  # 62 bpm, RMSSD 45 ms
    out = feed(d, lambda t: 62.0 if t < 30 else 72.0, 90, rmssd=lambda t: 45.0 if t < 30 else 15.0)
    assert out and out[0][1] is DistressState.DISTRESS and out[0][0] <= 30 + 20
    # RMSSD alone (heart rate calm) is not enough: breathing slowly also moves RMSSD around
    d = DistressDetector(BASE)
    assert feed(d, lambda t: 63.0, 90, rmssd=lambda t: 15.0) == []


def test_distress_has_hysteresis_and_does_not_flap():
    d = DistressDetector(BASE)  # high above 77 bpm, clears below 70 bpm for 30 s
    hr = lambda t: 62.0 if t < 10 else 90.0 if t < 60 else (79.0 if int(t) % 6 < 3 else 74.0) if t < 120 else 64.0
    out = feed(d, hr, 240)
    assert [s for _, s in out] == [DistressState.DISTRESS, DistressState.CALM]
    assert out[1][0] >= 150  # cleared only after 30 s below the clear level


# --- distress in the session --------------------------------------------------------------


def script_like() -> StepPacer:
    steps = [StepTiming(60, 120, prompt_s=(10,))] * 4 + [StepTiming(45, 90, typical_s=60, prompt_s=(8, 8, 8))]
    return StepPacer(steps, grounding_step=4, stop_lines=(6, 6, 6), baseline=BASE)


def test_distress_slows_down_and_switches_to_care_within_20_s():
    p = script_like()
    p.start(0.0)
    onset = 130.0
    ev = drive(p, lambda t: 62.0 if t < onset else min(62.0 + (t - onset) * 8, 100.0), 900)
    kinds = [e.kind for e in ev]
    i = kinds.index(StepEventKind.DISTRESS)
    assert onset < ev[i].t <= onset + 20
    assert ev[i + 1].kind is StepEventKind.STEP_END and ev[i + 1].reason == "distress"
    care_start = ev[i + 2]
    assert care_start.kind is StepEventKind.CARE_START and care_start.origin == "body"
    assert care_start.t - onset <= 20
    assert p.tempo > 1.0
    assert kinds.count(StepEventKind.DISTRESS) == 1
    # The body never settles here: care keeps grounding for its five minutes, then closes; it does not
    # fall silent after the script's last step as it used to.
    care = [e for e in ev if e.kind is StepEventKind.CARE_PROMPT]
    grounding = [e for e in care if e.care_stage == "grounding"]
    assert grounding[-1].t - grounding[0].t >= 280
    assert care[-1].care_stage == "closing"
    assert ev[-1].kind is StepEventKind.DONE and ev[-1].reason == "distress"
    assert not [e for e in ev[i:] if e.kind is StepEventKind.STEP_START]


def test_care_ends_sooner_once_the_body_settles_and_offers_the_choice():
    p = script_like()
    p.start(0.0)
    ev = drive(p, lambda t: 62.0 if t < 130 or t > 170 else 100.0, 900)
    kinds = [e.kind for e in ev]
    assert StepEventKind.CARE_SETTLED in kinds
    settled = ev[kinds.index(StepEventKind.CARE_SETTLED)]
    assert settled.t < 130 + 300  # before the five minutes are up
    assert ev[-1].kind is StepEventKind.DONE and ev[-1].reason == "distress"


def test_after_distress_the_person_may_resume():
    p = script_like()
    p.start(0.0)
    ev = drive(p, lambda t: 62.0 if t < 70 else 100.0, 110)
    interrupted = next(e.step for e in ev if e.kind is StepEventKind.DISTRESS)
    assert p.phase is Phase.CARE and p.resume_step == interrupted and p.can_resume
    ev = p.resume(111.0)
    assert ev[0].kind is StepEventKind.STEP_START
    assert ev[0].step == interrupted and p.step == interrupted and p.phase is Phase.STEP


def test_distress_during_the_closing_step_also_brings_care():
    p = script_like()
    p.start(0.0)
    drive(p, lambda t: 62.0, 245.0)
    assert p.step == 4
    ev = drive(p, lambda t: 100.0, 400, t0=245.0)
    assert [e.kind for e in ev if e.kind is StepEventKind.DISTRESS] == [StepEventKind.DISTRESS]
    assert StepEventKind.CARE_START in [e.kind for e in ev]
    assert not [e for e in ev if e.kind is StepEventKind.STEP_START]


def test_too_much_is_answered_at_once_and_stop_in_care_goes_to_the_care_closing():
    p = script_like()
    p.start(0.0)
    drive(p, 62.0, 75)
    ev = p.ground_now(75.5)
    assert [e.kind for e in ev][:3] == [StepEventKind.DISTRESS, StepEventKind.STEP_END, StepEventKind.CARE_START]
    assert ev[0].reason == "asked" and ev[2].origin == "asked" and ev[2].t == 75.5
    ev = p.stop(80.0)
    assert ev[0].kind is StepEventKind.CARE_PROMPT and ev[0].care_stage == "closing"
    ev = drive(p, 62.0, 200, t0=80.0)
    assert ev[-1].kind is StepEventKind.DONE and ev[-1].reason == "too_much"


def test_therapist_mode_alerts_without_switching():
    from biofeedback.step_pacer import PacingConfig

    steps = [StepTiming(min_s=40, max_s=90, prompt_s=(5,)) for _ in range(5)]
    p = StepPacer(steps, grounding_step=4, stop_lines=(6, 6, 6), baseline=BASE, config=PacingConfig(alert_only=True))
    p.start(0.0)
    ev = drive(p, lambda t: 62.0 if t < 30 else 100.0, 120)
    kinds = [e.kind for e in ev]
    assert StepEventKind.DISTRESS in kinds and StepEventKind.CARE_START not in kinds
    assert p.phase is Phase.STEP


def test_an_aroused_start_begins_with_care_and_is_judged_against_the_stored_level():
    stored = Baseline(hr_bpm=60.0, rmssd_ms=45.0)
    steps = [StepTiming(min_s=40, max_s=90, prompt_s=(5,)) for _ in range(5)]
    p = StepPacer(steps, grounding_step=4, stop_lines=(6, 6, 6), stored_baseline=stored,
                  baseline_phase=BaselinePhase(min_s=60, max_s=90))
    p.start(0.0)
    # Awake after a nightmare: 95 bpm in the quiet start, settling to 64 during care.
    ev = drive(p, lambda t: 95.0 if t < 100 else 64.0, 600)
    done = next(e for e in ev if e.kind is StepEventKind.BASELINE_DONE)
    assert done.aroused and done.baseline is not None and done.baseline.hr_bpm == 95.0
    care = next(e for e in ev if e.kind is StepEventKind.CARE_START)
    assert care.origin == "aroused_start" and care.t == done.t
    assert care.t <= 32.0  # clearly aroused: no minute or two of silence first
    assert p.detector.baseline == stored  # distress is judged against the person's own resting level
    # Settled: the exercise begins with its first step.
    starts = [e for e in ev if e.kind is StepEventKind.STEP_START]
    assert starts and starts[0].step == 0 and starts[0].t > care.t


def test_no_quiet_start_after_a_nightmare():
    steps = [StepTiming(min_s=40, max_s=90, prompt_s=(5,)) for _ in range(2)]
    p = StepPacer(steps, grounding_step=1, stop_lines=(6,), quiet_start=False)
    ev = p.start(0.0)
    assert ev[0].kind is StepEventKind.STEP_START and ev[0].step == 0


def test_a_step_by_hand_waits_for_the_therapist():
    steps = [StepTiming(min_s=40, max_s=90, prompt_s=(5,), by_hand=True), StepTiming(min_s=40, max_s=90)]
    p = StepPacer(steps, grounding_step=1, stop_lines=(6,), baseline=BASE)
    p.start(0.0)
    drive(p, 62.0, 400)
    assert p.step == 0
    ev = p.skip(401.0)
    assert ev[-1].kind is StepEventKind.STEP_START and ev[-1].step == 1


# --- stop ---------------------------------------------------------------------------------


def test_stop_ends_with_the_stop_grounding_not_silence():
    p = script_like()
    p.start(0.0)
    drive(p, 62.0, 75)
    ev = p.stop(75.5)
    assert [e.kind for e in ev] == [StepEventKind.STEP_END, StepEventKind.STOP, StepEventKind.STOP_PROMPT]
    assert ev[0].reason == "stop" and ev[2].line == 0
    assert p.phase is Phase.STOPPING and not p.done
    ev = drive(p, 62.0, 200, t0=75.5)
    lines = [e.line for e in ev if e.kind is StepEventKind.STOP_PROMPT]
    assert lines == [1, 2]
    done = ev[-1]
    assert done.kind is StepEventKind.DONE and done.reason == "stopped"
    assert done.t >= 75.5 + 18  # the last line had its time


def test_stop_during_baseline_also_grounds():
    p = StepPacer([StepTiming(30, 60, prompt_s=(5,))], grounding_step=0, stop_lines=(4, 4))
    p.start(0.0)
    ev = p.stop(10.0)
    assert [e.kind for e in ev] == [StepEventKind.STOP, StepEventKind.STOP_PROMPT]


def test_a_second_stop_skips_to_the_closing_line_but_not_past_it():
    p = script_like()
    p.start(0.0)
    p.stop(5.0)
    ev = p.stop(6.0)
    assert [(e.kind, e.line) for e in ev] == [(StepEventKind.STOP_PROMPT, 2)]
    assert not p.done
    ev = p.update(12.0)
    assert ev[-1].kind is StepEventKind.DONE
    assert p.stop(13.0) == []


def test_stop_lines_are_required():
    with pytest.raises(ValueError):
        StepPacer([StepTiming(30, 60)], grounding_step=0, stop_lines=())
