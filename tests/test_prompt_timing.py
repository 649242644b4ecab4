"""Prompts that breathe: lines spread over a step, quiet after invitations, two rotated senses per step,
lines woven from the person's own safe place, hold lines when a step runs on, and the rules the
validator keeps (smell, [steps.own], bedtime and its bridge to sleep)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from biofeedback.baseline import Baseline
from biofeedback.body import BodyReading
from biofeedback.prompt_timing import (AFTER_INVITATION, AFTER_LINE, estimate_speech_s, hold_delay_s,
                                       spread_quiet)
from biofeedback.step_pacer import StepEventKind, StepPacer, StepTiming
from sessions.exercises import ScriptError, load_script_file, spoken_lines

SCRIPT = textwrap.dedent(
    """\
    id = "my-garden"
    language = "en"
    title = "My garden"
    purpose = "A garden of my own."
    duration_min = 8
    max_quiet_s = 30

    [[steps]]
    id = "arrive"
    kind = "imagery"
    min_s = 60
    max_s = 180
    typical_s = 120
    text = ["Go to your garden."]
    then = ["Take it in."]
    hold = ["Stay as long as you like."]
    [steps.senses]
    sight = "What can you see?"
    sound = "What can you hear?"
    smell = "What can you smell?"
    touch = "What do you feel on your skin?"
    body = "How does your body feel?"
    [steps.own]
    text = ["Go to {place}."]
    sound = "Perhaps you hear {sound}."
    smell = "Perhaps there's the smell of {smell}, {temperature} air."

    [[steps]]
    id = "stay"
    kind = "imagery"
    min_s = 60
    max_s = 180
    typical_s = 120
    text = ["Stay here a while."]
    [steps.senses]
    sight = "The light is soft."
    sound = "Sounds come and go."
    smell = "A familiar smell."
    touch = "The air is mild."
    body = "Your shoulders can drop."

    [[steps]]
    id = "last"
    kind = "imagery"
    min_s = 60
    max_s = 180
    typical_s = 120
    text = ["One more moment."]
    [steps.senses]
    sound = "One sound to take with you."
    touch = "One feeling to take with you."
    body = "How your body feels here."
    smell = "One smell to take with you."

    [[steps]]
    id = "back"
    kind = "grounding"
    min_s = 30
    max_s = 90
    text = "Feel the chair."
    """
)


@pytest.fixture
def script(tmp_path: Path):
    path = tmp_path / "my-garden.en.toml"
    path.write_text(SCRIPT, encoding="utf-8")
    return load_script_file(path)


def load_text(tmp_path: Path, text: str):
    path = tmp_path / "x.en.toml"
    path.write_text(text, encoding="utf-8")
    return load_script_file(path)


# --- spreading quiet ------------------------------------------------------------------------------


def test_quiet_fills_the_typical_length_with_more_after_invitations():
    speech = [4.0, 5.0, 5.0, 3.0]
    inv = [False, True, True, False]
    quiet = spread_quiet(speech, inv, 90.0, max_quiet_s=40.0)
    assert sum(speech) + sum(quiet) == pytest.approx(90.0)
    assert quiet[1] >= AFTER_INVITATION.min_s and quiet[2] >= AFTER_INVITATION.min_s
    assert quiet[0] >= AFTER_LINE.min_s and quiet[1] > quiet[0]
    assert max(quiet) <= 40.0


def test_quiet_never_passes_the_longest_silence_nor_drops_below_its_minimum():
    # Far too much room: every pause stops at the cap (the step runs short rather than falls silent).
    quiet = spread_quiet([3.0, 3.0], [True, False], 600.0, max_quiet_s=30.0)
    assert quiet == (30.0, 30.0)
    # Far too little: pauses shrink to their minimum, never to nothing.
    quiet = spread_quiet([20.0, 20.0], [True, False], 30.0, max_quiet_s=30.0)
    assert quiet == (AFTER_INVITATION.min_s, AFTER_LINE.min_s)


def test_speaking_time_counts_words_at_calm_speed_and_a_second_between_sentences():
    one = estimate_speech_s("one two three four five six seven eight nine ten")
    two = estimate_speech_s("one two three four five. six seven eight nine ten")
    assert one == pytest.approx(5.0)  # 10 words at 120 words/min
    assert two == pytest.approx(6.0)


# --- senses: two per step, rotated, the person's own --------------------------------------------


def test_each_step_says_two_senses_rotated_so_every_chosen_sense_comes_up(script):
    said = [[p.id.split(".")[1] for p in script.prompts_for(i) if p.invitation] for i in range(3)]
    assert all(len(s) == 2 for s in said)
    assert said[0] != said[1]
    assert {s for step in said for s in step} == {"sight", "sound", "smell", "touch", "body"}


def test_only_the_persons_senses_are_said(script):
    chosen = ("sound", "smell")
    for i in range(3):
        senses = {p.id.split(".")[1] for p in script.prompts_for(i, chosen) if p.invitation}
        assert senses == {"sound", "smell"}


def test_own_answers_are_woven_in_only_where_every_named_answer_was_given(script):
    own = {"place": "my grandmother's garden", "sound": "the bees in the lavender", "smell": "cut grass"}
    prompts = script.prompts_for(0, ("sound", "smell"), own)
    texts = [p.text for p in prompts]
    assert texts[0] == "Go to my grandmother's garden."
    assert "Perhaps you hear the bees in the lavender." in texts
    # {temperature} was not given: the general smell line is said instead of a half-filled one.
    assert "What can you smell?" in texts
    ids = [p.id for p in prompts]
    assert ids == ["arrive.own-text.1", "arrive.own-sound", "arrive.smell", "arrive.then.1"]
    assert not any("{" in t for t in texts)


def test_every_line_a_script_can_say_has_a_unique_stable_id(script):
    lines = spoken_lines(script, own={"place": "the dunes", "sound": "waves"})
    ids = [p.id for p in lines]
    assert len(ids) == len(set(ids))
    assert {"arrive.text.1", "arrive.sight", "arrive.smell", "arrive.own-text.1", "arrive.own-sound",
            "arrive.then.1", "arrive.hold.1", "back.text.1"} <= set(ids)
    assert "arrive.own-smell" not in ids  # needs {temperature}, not given


# --- timing in the step pacer -------------------------------------------------------------------


def run_steps(timings, seconds: float, calm: float | None = None):
    pacer = StepPacer(list(timings), grounding_step=len(timings) - 1, stop_lines=(5.0,),
                      baseline=Baseline(hr_bpm=62.0, rmssd_ms=45.0))
    events = pacer.start(0.0)
    t = 0.0
    while t < seconds and not pacer.done:
        t = round(t + 1.0, 6)
        events += pacer.update(t, BodyReading(t, 63.0, 45.0, calm))
    return events


def test_lines_come_across_the_whole_step_with_room_after_each_invitation(script):
    timings = script.timings()
    events = run_steps(timings, 200.0)
    first = [e for e in events if e.kind is StepEventKind.PROMPT and e.step == 0]
    prompts = script.prompts_for(0)
    times = [e.t for e in first]
    assert len(times) == len(prompts)
    gaps = [b - a for a, b in zip(times, times[1:])]
    for k, gap in enumerate(gaps):
        speech = estimate_speech_s(prompts[k].text)
        rule = AFTER_INVITATION if prompts[k].invitation else AFTER_LINE
        assert gap - speech >= rule.min_s - 1.0  # the pacer ticks once a second
        assert gap - speech <= script.max_quiet_s + 1.0
    # No burst followed by a long silence: the last line comes in the last third of the step.
    assert times[-1] - times[0] >= 0.5 * timings[0].typical_s


def test_a_step_that_runs_on_says_a_hold_line_before_the_silence_grows_too_long(script):
    timings = list(script.timings(common_hold=("Take your time.",)))
    # The body stays neither settled nor aroused and the step may run to its maximum: keep it going.
    timings[0] = StepTiming(**{**{f: getattr(timings[0], f) for f in timings[0].__dataclass_fields__},
                               "typical_s": 180.0, "advance": "time", "min_s": 180.0})
    events = run_steps(timings, 185.0)
    lines = [e for e in events if e.kind is StepEventKind.PROMPT and e.step == 0]
    n = len(script.prompts_for(0))
    holds = [e for e in lines if e.line >= n]
    assert holds, "no hold line while the step ran on"
    said = [e.t for e in lines]
    speech = [estimate_speech_s(p.text) for p in script.prompts_for(0)] + [2.0] * len(holds)
    silences = [b - (a + s) for a, b, s in zip(said, said[1:], speech)]
    assert max(silences) <= script.max_quiet_s + 1.0
    assert holds[0].t - said[n - 1] >= hold_delay_s(script.max_quiet_s) - 1.0


# --- the validator ------------------------------------------------------------------------------


def test_smell_is_a_sense_and_an_unknown_placeholder_is_named(tmp_path):
    bad = SCRIPT.replace('sound = "Perhaps you hear {sound}."', 'sound = "Perhaps you hear {noise}."')
    with pytest.raises(ScriptError) as err:
        load_text(tmp_path, bad)
    assert "own.sound" in str(err.value) and "{noise}" not in str(err.value).split("known:")[1]
    assert "line" in str(err.value)


def test_a_placeholder_outside_own_lines_is_refused(tmp_path):
    bad = SCRIPT.replace('sight = "What can you see?"', 'sight = "What can you see at {place}?"')
    with pytest.raises(ScriptError, match="belong in \\[steps.own\\]"):
        load_text(tmp_path, bad)


def test_a_bedtime_script_ends_with_a_bridge_to_sleep_and_only_it_may(tmp_path):
    bedtime = SCRIPT.replace('max_quiet_s = 30', 'max_quiet_s = 30\nbedtime = true')
    with pytest.raises(ScriptError, match='must be "sleep"'):
        load_text(tmp_path, bedtime)
    ok = load_text(tmp_path, bedtime.replace('id = "back"\nkind = "grounding"', 'id = "back"\nkind = "sleep"'))
    assert ok.bedtime and ok.steps[-1].kind == "sleep"
    with pytest.raises(ScriptError, match='"sleep" only with bedtime'):
        load_text(tmp_path, SCRIPT.replace('id = "back"\nkind = "grounding"', 'id = "back"\nkind = "sleep"'))


def test_a_step_whose_lines_cannot_fit_even_at_the_least_quiet_is_refused(tmp_path):
    long_line = " ".join(["word"] * 400)
    bad = SCRIPT.replace('text = ["Stay here a while."]', f'text = ["{long_line}"]')
    with pytest.raises(ScriptError, match="least quiet"):
        load_text(tmp_path, bad)
