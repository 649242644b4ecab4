"""The whole loop on the simulated person: pacer, prompts, safety and the record (at full speed)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from devices.simulator import Glitches, Person, StressEpisode
from sessions.exercises import LANGUAGES, discover
from tests.sessionkit import run_session


async def test_a_person_who_follows_reaches_resonance_and_settles(tmp_path):
    ran = await run_session(tmp_path, "train-ride", "en", "follows")
    r = ran.result
    assert r.reason == "completed"
    rates = [rate for _, rate in r.pacer_history]
    assert rates[0] >= 12  # starts near the person's own breathing (about 14/min)
    assert abs(rates[-1] - 6.0) <= 0.5  # ... and ends at the simulated resonance (0.1 Hz)
    assert all(b <= a for a, b in zip(rates, rates[1:]))  # only ever slower for someone who follows
    assert r.calm_start is not None and r.calm_end > r.calm_start + 15
    # Steps move on before their maximum when the body has settled.
    ends = ran.events("step_end")
    assert any(e[2]["reason"] in ("settled", "calm") for e in ends)
    starts = {e[2]["step"]: e[0] for e in ran.events("step")}
    script_steps = ran.runner.script.steps
    early = [s for s in script_steps[:-1] if s.id in starts and any(
        e[2]["step"] == s.id and e[0] - starts[s.id] < s.max_s - 1 for e in ends)]
    assert len(early) >= len(script_steps) // 2


async def test_a_person_who_ignores_the_pacer_is_not_dragged_along(tmp_path):
    ran = await run_session(tmp_path, "safe-place", "en", "ignores")
    rates = [rate for _, rate in ran.result.pacer_history]
    own = 13.0  # the 'ignores' profile breathes at about 13/min
    assert min(rates) >= own - 1.5
    assert ran.result.reason == "completed"


async def test_distress_brings_care_that_stays_until_the_body_settles_and_closes_with_help(tmp_path):
    onset = 300.0
    person = replace(Person(), stress=StressEpisode(onset_s=onset, duration_s=150))
    ran = await run_session(tmp_path, "safe-place", "en", person)
    common = ran.runner.common
    grounding = [e for e in ran.events("grounding") if e[2]["reason"] == "distress"]
    assert ran.events("distress") and grounding
    start = grounding[0][0]
    assert onset < start <= onset + 20
    prompts = [(t, d["text"]) for t, _, d in ran.events("prompt") if t >= start]
    texts = [p for _, p in prompts]
    # Eyes open first, then orientation, then grounding lines for as long as the body needs ...
    assert texts[0] == common.distress[0] and "Open your eyes" in texts[0]
    assert texts[len(common.distress)] == common.care_orientation[0]
    care = {d["stage"]: t for t, _, d in ran.events("care")}
    assert care["start"] == start and care["settled"] > onset + 150  # the stress lasted 150 s: care stayed
    grounding_lines = [t for t, p in prompts if p in common.care_grounding]
    assert grounding_lines and grounding_lines[-1] > onset + 150
    # ... and no exercise step after it; it closes with what to do next and where to find help.
    assert not [e for e in ran.events("step") if e[0] > start]
    assert texts[-len(common.care_closing):] == list(common.care_closing)
    assert any("112" in p for p in texts[-len(common.care_closing):])
    assert ran.result.reason == "distress"
    # Nothing a calm ending says is said to an aroused person.
    closing_step = ran.runner.script.steps[-1]
    assert not set(closing_step.lines()) & set(texts)


async def test_too_much_is_acknowledged_on_screen_at_once(tmp_path):
    seen = {}

    def press(runner, kind, t, data):
        if kind == "step" and data["index"] == 1 and "pressed" not in seen:
            seen["pressed"] = t
            runner.too_much()
            seen["prompt"], seen["banner"], seen["phase"] = runner.state.prompt, runner.state.banner, runner.state.phase
            seen["quiet"] = runner.state.quiet_view

    ran = await run_session(tmp_path, "safe-place", "nl", "follows", control=press)
    ack = ran.runner.common.too_much_ack
    assert seen["prompt"] == ack[0] and seen["banner"] == " ".join(ack)  # in the same call, not a tick later
    assert seen["phase"] == "care" and seen["quiet"]  # no curves or numbers now
    first = [e for e in ran.events("prompt") if e[0] >= seen["pressed"]][0]
    assert first[0] == seen["pressed"] and first[2]["text"] == ack[0]
    assert ran.result.reason == "too_much"


async def test_with_no_sound_every_care_line_is_on_screen_for_its_minimum_time(tmp_path):
    from sessions.runner import reading_seconds

    def press(runner, kind, t, data):
        if kind == "step" and data["index"] == 1:
            runner.too_much()

    ran = await run_session(tmp_path, "coat-rack", "en", "follows", control=press)
    start = ran.events("care")[0][0]
    shown = [(t, d["text"]) for t, _, d in ran.events("prompt") if t >= start]
    assert len(shown) > 10
    for (t0, text), (t1, _) in zip(shown, shown[1:]):
        assert t1 - t0 >= reading_seconds(text) - 1e-6, text


async def test_the_person_can_go_back_to_the_exercise(tmp_path):
    seen = {}

    def control(runner, kind, t, data):
        if kind == "step" and data["index"] == 1 and "pressed" not in seen:
            seen["pressed"] = t
            runner.too_much()
        elif kind == "care" and data["stage"] == "settled" and "resumed" not in seen:
            seen["resumed"] = t
            assert runner.state.can_resume
            runner.resume()

    ran = await run_session(tmp_path, "safe-place", "en", "follows", control=control)
    assert "resumed" in seen
    steps_after = [d for t, _, d in ran.events("step") if t >= seen["resumed"]]
    assert steps_after[0]["index"] == 1  # the interrupted step, from its start
    assert ran.result.reason == "completed"
    texts = [d["text"] for t, _, d in ran.events("prompt") if t >= seen["resumed"]]
    assert texts[0] == ran.runner.common.resume_ack[0]


async def test_an_aroused_start_is_recognised_against_the_stored_baseline(tmp_path):
    # The person's usual resting level is 58 bpm; tonight they start at 74 (the simulated person's start).
    stored = {"hr_bpm": 58.0, "rmssd_ms": 40.0, "coherence": 0.5}
    ran = await run_session(tmp_path, "safe-place", "en", "follows", stored_baseline=stored)
    (t, _, base), = ran.events("baseline")
    assert base["aroused"] is True and base["stored_hr_bpm"] == 58.0 and base["hr_bpm"] > 68
    assert t <= 35.0  # recognised early in the quiet start, not after 75-120 s of silence
    care = ran.events("care")
    assert care[0][2] == {"stage": "start", "origin": "aroused_start"} and care[0][0] == t
    texts = [d["text"] for tt, _, d in ran.events("prompt") if tt >= t]
    assert texts[0] == ran.runner.common.aroused_start[0]
    assert ran.runner.steps.detector.baseline.hr_bpm == 58.0  # distress judged against the stored level


async def test_after_a_nightmare_there_is_no_quiet_start(tmp_path):
    ran = await run_session(tmp_path, "after-nightmare", "en", "stress")
    steps = ran.events("step")
    assert steps[0][0] == 0.0 and steps[0][2]["kind"] != "baseline"
    assert ran.events("baseline") == []


async def test_no_distress_without_stress(tmp_path):
    ran = await run_session(tmp_path, "coat-rack", "nl", "follows", seed=3)
    assert ran.events("distress") == []


async def test_stop_ends_with_grounding_never_silence(tmp_path):
    def press_stop(runner, kind, t, data):
        if kind == "step" and data["index"] == 1:
            runner.stop()

    ran = await run_session(tmp_path, "safe-place", "nl", "follows", control=press_stop)
    assert ran.result.reason == "stopped"
    stop_t = ran.events("stop")[0][0]
    after = [e for e in ran.events("prompt") if e[0] >= stop_t]
    stop_lines = ran.runner.common.stop_grounding
    assert [e[2]["text"] for e in after][-len(stop_lines):] == list(stop_lines)
    assert ran.events("done")[0][0] > after[-1][0]  # the last line had its time before the end


async def test_this_is_too_much_goes_to_grounding_at_once(tmp_path):
    def too_much(runner, kind, t, data):
        if kind == "step" and data["index"] == 2:
            runner.too_much()

    ran = await run_session(tmp_path, "coat-rack", "en", "follows", control=too_much)
    asked = ran.events("grounding")
    assert asked[0][2]["reason"] == "asked"
    steps = [e[2]["step"] for e in ran.events("step")]
    assert len(steps) == 4  # baseline and steps 0-2: care follows, not the script's closing step
    assert ran.events("care")[0][2]["origin"] == "asked"


async def test_resonance_assessment_picks_the_simulated_resonance(tmp_path):
    ran = await run_session(tmp_path, "resonance-assessment", "en", "follows")
    trials = ran.events("assessment_trial")
    assert [t[2]["rate"] for t in trials] == [6.5, 6.0, 5.5, 5.0, 4.5]
    assert ran.result.resonance_rate == pytest.approx(6.0, abs=0.5)
    # The person whose resonance is slower gets a slower rate.
    slow = replace(Person(), resonance_hz=0.083)
    ran_slow = await run_session(tmp_path, "resonance-assessment", "en", slow, seed=2)
    assert ran_slow.result.resonance_rate < ran.result.resonance_rate


def _all_scripts():
    catalog = discover()
    return sorted({(sid, lang) for (sid, lang) in catalog.scripts})


@pytest.mark.parametrize("script,lang", _all_scripts())
async def test_every_exercise_runs_to_its_end(tmp_path, script, lang):
    assert lang in LANGUAGES
    ran = await run_session(tmp_path, script, lang, "follows")
    assert ran.result.reason == "completed"
    recorded = [e[2]["step"] for e in ran.events("step")]
    quiet_start = ["baseline"] if ran.runner.script.quiet_start else []
    assert recorded == quiet_start + [s.id for s in ran.runner.script.steps]
    kinds = {k for _, k, _ in ran.events()}
    assert {"step", "prompt", "link", "done"} <= kinds
    assert not quiet_start or {"baseline", "pacer_rate"} <= kinds
    assert ran.result.beats > 300


async def test_next_step_skips_the_baseline_and_steps_but_never_the_closing_grounding(tmp_path):
    presses = []

    def skip_everything(runner, kind, t, data):
        if kind in ("step", "metrics") and len(presses) < 40:
            presses.append(t)
            runner.next_step()

    ran = await run_session(tmp_path, "grounding", "en", "follows", control=skip_everything)
    ends = ran.events("step_end")
    assert sum(e[2]["reason"] == "skipped" for e in ends) == len(ran.runner.script.steps) - 1
    assert ends[-1][2]["step"] == ran.runner.script.steps[-1].id and ends[-1][2]["reason"] != "skipped"
    assert ran.events("step")[1][0] < 10  # the quiet start was skipped at once


async def test_a_prompt_still_being_spoken_holds_the_steps_but_not_the_pacer_or_safety(tmp_path):
    """The speech add-on's hook: while it says 'busy', lines and step ends wait; nothing else does."""
    def busy_for_30_s_in_the_first_step(runner, kind, t, data):
        if kind == "session_start":
            runner.prompt_hold = lambda: 80.0 <= runner.state.t < 110.0

    plain = await run_session(tmp_path / "a", "grounding", "en", "follows", seed=5)
    held = await run_session(tmp_path / "b", "grounding", "en", "follows", seed=5, control=busy_for_30_s_in_the_first_step)
    prompts_plain = [e[0] for e in plain.events("prompt") if e[2]["step"] not in ("baseline",)]
    prompts_held = [e[0] for e in held.events("prompt") if e[2]["step"] not in ("baseline",)]
    late = [b - a for a, b in zip(prompts_plain, prompts_held) if a > 80]
    assert late and all(25 <= d <= 35 for d in late[:3])  # the next lines came 30 s later
    # The pacer kept its own clock: the first rate it set is at the same time in both.
    assert plain.events("pacer_rate")[0][0] == pytest.approx(held.events("pacer_rate")[0][0], abs=0.5)


async def test_a_fast_breather_is_met_at_their_own_rate_not_at_six(tmp_path):
    """Someone breathing 18-22/min is never asked for less than 18/min in the pacer's first minute."""
    ran = await run_session(tmp_path, "safe-place", "en", "fast", duration_s=400)
    history = ran.result.pacer_history
    start_t = history[0][0]
    first_minute = [rate for t, rate in history if t <= start_t + 60.0]
    assert min(first_minute) >= 18.0
    steps = [b - a for (_, a), (_, b) in zip(history, history[1:])]
    assert all(abs(d) <= 1.0 for d in steps)  # no jumps: at most 1/min a step
    gaps = [t2 - t1 for (t1, _), (t2, _) in zip(history, history[1:])]
    assert all(g >= 29.0 for g in gaps)  # ... and at most one step per half minute


async def test_slow_heart_rate_swings_are_not_taken_for_breathing(tmp_path):
    """The 'mayer' person has 0.07 Hz swings (4/min) larger than their RSA at about 14/min."""
    ran = await run_session(tmp_path, "safe-place", "en", "mayer", duration_s=300)
    start = ran.result.pacer_history[0][1]
    assert start >= 12.0
    with_rate = [m["breathing_rate"] for _, m in _metrics(ran) if m.get("breathing_rate") is not None]
    assert with_rate and min(with_rate) > 10.0  # never the slow wave's 4/min


async def test_atrial_fibrillation_is_flagged_and_hrv_feedback_withheld(tmp_path):
    ran = await run_session(tmp_path, "safe-place", "en", "af", duration_s=300)
    rhythm = ran.events("rhythm")
    assert rhythm and rhythm[0][2]["irregular"] is True and rhythm[0][0] <= 60.0
    after = [m for t, m in _metrics(ran) if t > rhythm[0][0] + 1.0]
    assert after and all(m["calm"] is None and m["coherence"] is None and m["rmssd_ms"] is None for m in after)
    assert all(m["hr_bpm"] is not None for m in after)  # heart rate itself is still shown
    assert all(m["irregular"] for m in after)
    assert ran.result.pacer_history  # the pacer goes on by itself
    assert ran.runner.state.irregular_rhythm


async def test_frequent_ectopy_is_not_atrial_fibrillation(tmp_path):
    person = replace(Person(), glitches=Glitches(ectopic_per_min=6.0, bigeminy=((120.0, 60.0),)))
    ran = await run_session(tmp_path, "safe-place", "en", person, duration_s=300)
    assert ran.events("rhythm") == []


def _metrics(ran):
    from sessions.store import SessionReader

    with SessionReader(ran.path) as reader:
        return reader.metrics()


async def test_the_assessment_ramps_into_its_first_rate_without_a_jump(tmp_path):
    ran = await run_session(tmp_path, "resonance-assessment", "en", "follows")
    rates = [d["rate"] for _, _, d in ran.events("pacer_rate")]
    assert rates[0] > 7.5  # it started near the person's own breathing
    assert all(abs(b - a) <= 1.0 + 1e-9 for a, b in zip(rates, rates[1:]))


async def test_a_start_near_the_usual_level_is_not_called_aroused(tmp_path):
    stored = {"hr_bpm": 70.0, "rmssd_ms": 30.0, "coherence": 0.5}
    ran = await run_session(tmp_path, "safe-place", "en", "follows", stored_baseline=stored, duration_s=200)
    (t, _, base), = ran.events("baseline")
    assert base["aroused"] is False and t >= 75.0 and ran.events("care") == []


async def test_the_step_clock_stands_still_while_paused(tmp_path):
    seen: dict[str, float] = {}

    def control(runner, kind, t, data):
        s = runner.state
        if kind == "step" and data["index"] == 1 and "paused_at" not in seen:
            seen["paused_at"] = t
            runner.toggle_pause()
            seen["elapsed"] = s.step_elapsed
        elif kind == "metrics" and "paused_at" in seen and "resumed" not in seen and t > seen["paused_at"] + 60:
            seen["elapsed_later"] = s.step_elapsed
            seen["resumed"] = t
            runner.toggle_pause()

    ran = await run_session(tmp_path, "safe-place", "en", "follows", control=control, duration_s=400)
    assert seen["elapsed_later"] == seen["elapsed"]  # 60 s paused: the step's time left did not run down
    assert ran.runner.state.step_elapsed >= 0.0
