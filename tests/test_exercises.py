"""Exercise scripts: every shipped script loads, the safety rules hold, broken files are named precisely."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

import sessions.exercises as ex
from sessions.exercises.toml_lines import _key_lines
from biofeedback.baseline import Baseline
from biofeedback.body import BodyReading
from biofeedback.step_pacer import StepEventKind, StepPacer
from sessions.errors import UserError
from sessions.exercises import (
    DEFAULT_SCRIPT_ID,
    LANGUAGES,
    NON_VISUAL_SENSES,
    SENSES,
    ScriptError,
    discover,
    list_scripts,
    load_common,
    load_script,
    load_script_file,
)

SHIPPED = sorted({p.name.split(".")[0] for p in ex.builtin_scripts_dir().glob("*.toml")} - {"common"})


@pytest.fixture(autouse=True)
def user_dir(user_scripts) -> Path:
    """Every test gets its own empty user scripts folder (never the real one)."""
    return user_scripts


GOOD = textwrap.dedent(
    """\
    id = "my-beach"
    language = "en"
    title = "My beach"
    purpose = "A beach of my own."
    duration_min = 3
    therapist_only = false

    [[steps]]
    id = "sand"
    kind = "imagery"
    min_s = 60
    max_s = 120
    pacer = { rate = "follow", ratio = "4:6" }
    text = [
      "Imagine a beach.",
      "It is quiet.",
    ]
    [steps.senses]
    sound = "Waves."
    touch = "Warm sand."
    body = "Heavy legs."

    [[steps]]
    id = "back"
    kind = "grounding"
    min_s = 30
    max_s = 90
    text = "Feel the chair."
    """
)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# --- the shipped scripts ------------------------------------------------------------------


def test_the_expected_exercises_are_shipped():
    for sid in ("safe-place", "safe-place-bedtime", "train-ride", "coat-rack", "grounding",
                "resonance-assessment", "nightmare-rehearsal"):
        assert sid in SHIPPED


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("sid", SHIPPED)
def test_every_shipped_script_loads_and_follows_the_safety_rules(sid, lang):
    s = load_script_file(ex.builtin_scripts_dir() / f"{sid}.{lang}.toml")
    assert (s.id, s.language) == (sid, lang)
    # Evening rituals end with a bridge to sleep, daytime exercises with grounding.
    assert s.steps[-1].kind == ("sleep" if s.bedtime else "grounding") and s.grounding_step == len(s.steps) - 1
    assert s.bedtime == (sid in ("train-ride", "coat-rack", "safe-place-bedtime"))
    for step in s.steps:
        if step.kind == "imagery":
            assert set(SENSES) == set(step.senses)  # the shipped ones offer all five, smell included
            assert all(line for line in step.lines(NON_VISUAL_SENSES))
            assert not set(step.lines(NON_VISUAL_SENSES)) & {step.senses.get("sight")}
    if s.therapist_only:
        assert s.warning and len(s.warning) > 40


@pytest.mark.parametrize("sid", SHIPPED)
def test_dutch_and_english_versions_share_their_structure(sid):
    nl, en = (load_script_file(ex.builtin_scripts_dir() / f"{sid}.{lang}.toml") for lang in ("nl", "en"))
    assert nl.therapist_only == en.therapist_only and nl.duration_min == en.duration_min
    assert [(s.id, s.kind, s.min_s, s.max_s, s.typical_s, s.advance, s.pacer) for s in nl.steps] == [
        (s.id, s.kind, s.min_s, s.max_s, s.typical_s, s.advance, s.pacer) for s in en.steps
    ]
    assert [sorted(s.senses) for s in nl.steps] == [sorted(s.senses) for s in en.steps]
    assert nl.title != en.title  # really translated


@pytest.mark.parametrize("lang", LANGUAGES)
def test_common_texts_exist_and_the_stop_grounding_ends_in_words(lang):
    c = load_common(lang)
    assert c.language == lang
    assert len(c.stop_grounding) >= 3 and c.stop_grounding[-1].endswith(".")
    assert 20 <= sum(c.stop_timing()) <= 120  # short, but not abrupt
    assert any("stop" in line.lower() for line in c.distress)  # says that stopping is fine
    assert c.baseline and c.recovered and c.therapist_notice
    assert ("medical" if lang == "en" else "medische") in c.disclaimer


def test_the_resonance_assessment_walks_the_five_rates_two_minutes_each():
    s = load_script("resonance-assessment", "en")
    rates = [st.assessment_rate for st in s.steps if st.kind == "assessment"]
    assert rates == [6.5, 6.0, 5.5, 5.0, 4.5]
    for st in s.steps:
        if st.kind == "assessment":
            assert st.min_s == st.max_s == 120 and st.advance == "time"


def test_the_default_is_safe_and_therapist_only_scripts_come_last():
    assert not load_script(DEFAULT_SCRIPT_ID, "en").therapist_only
    for lang in LANGUAGES:
        listed = list_scripts(lang)
        assert listed[0].id == DEFAULT_SCRIPT_ID
        flags = [s.therapist_only for s in listed]
        assert flags == sorted(flags) and flags[-1]


def test_therapist_only_scripts_are_refused_without_therapist_mode():
    with pytest.raises(UserError, match="therapist") as err:
        load_script("nightmare-rehearsal", "nl")
    assert "\n" not in str(err.value)
    s = load_script("nightmare-rehearsal", "nl", therapist_mode=True)
    assert s.therapist_only and s.warning


def test_missing_scripts_and_languages_get_one_clear_sentence(user_dir):
    with pytest.raises(UserError, match="no script called 'nope'"):
        load_script("nope", "en")
    with pytest.raises(UserError, match="not available"):
        load_script("safe-place", "de")
    write(user_dir, "only-en.en.toml", GOOD.replace("my-beach", "only-en"))
    with pytest.raises(UserError, match="--lang en"):
        load_script("only-en", "nl")


def test_a_shipped_script_runs_through_the_step_pacer():
    s = load_script("coat-rack", "nl")
    common = load_common("nl")
    p = StepPacer(s.timings(NON_VISUAL_SENSES), grounding_step=s.grounding_step, stop_lines=common.stop_timing(),
                  baseline=Baseline(62.0, 45.0))
    p.start(0.0)
    t, events = 0.0, []
    while not p.done and t < 3600:
        t += 1.0
        events += p.update(t, BodyReading(t, 62.0, 45.0, None))
    assert events[-1].kind is StepEventKind.DONE and events[-1].reason == "completed"
    prompts = [e for e in events if e.kind is StepEventKind.PROMPT]
    said = {(e.step, e.line) for e in prompts} | {(0, 0)}
    for i, step in enumerate(s.steps):
        assert {(i, k) for k in range(len(step.lines(NON_VISUAL_SENSES)))} <= said
    assert sum(st.min_s for st in s.steps) <= t <= sum(st.max_s for st in s.steps)


# --- user scripts -------------------------------------------------------------------------


def test_a_user_script_is_found_and_can_override_a_shipped_one(user_dir):
    write(user_dir, "my-beach.en.toml", GOOD)
    s = load_script("my-beach", "en")
    # Two senses per step, in the person's order, rotated by the offset the script gives each step.
    assert s.user and s.steps[0].lines() == ("Imagine a beach.", "It is quiet.", "Waves.", "Warm sand.")
    assert s.steps[0].lines(offset=4) == ("Imagine a beach.", "It is quiet.", "Heavy legs.", "Waves.")
    write(user_dir, "mine.toml", GOOD.replace("my-beach", "safe-place").replace("My beach", "Mine"))
    assert load_script("safe-place", "en").title == "Mine"
    assert load_script("safe-place", "nl").title == "Een veilige plek"


def broken(user_dir, old: str, new: str, name="my-beach.en.toml") -> ScriptError:
    assert old in GOOD
    path = write(user_dir, name, GOOD.replace(old, new, 1))
    with pytest.raises(ScriptError) as err:
        load_script_file(path)
    return err.value


def line_of(text: str, needle: str, start: int = 0) -> int:
    return text[: text.index(needle, start)].count("\n") + 1


@pytest.mark.parametrize(
    ("old", "new", "needle", "field"),
    [
        ("min_s = 60", 'min_s = "sixty"', 'min_s = "sixty"', "min_s"),
        ("max_s = 120", "max_s = 20", "max_s = 20", "max_s"),
        ('kind = "imagery"', 'kind = "dream"', 'kind = "dream"', "kind"),
        ('ratio = "4:6"', 'ratio = "9:1"', "pacer = {", "pacer.ratio"),
        ('touch = "Warm sand."', 'tuoch = "Warm sand."', "tuoch", "senses.tuoch"),
        ('body = "Heavy legs."', "", "[steps.senses]", "senses"),
        ('language = "en"', 'language = "fr"', 'language = "fr"', "language"),
        ('title = "My beach"', "", None, "title"),
        ('id = "back"', 'id = "sand"', 'id = "sand"\nkind = "grounding"', "id"),
        ('kind = "grounding"', 'kind = "breathing"', 'kind = "breathing"', "kind"),
        ("therapist_only = false", "therapist_only = true", None, "meta.warning"),
        ("duration_min = 3", "duration_min = 40", "duration_min", "duration_min"),
    ],
)
def test_a_broken_user_script_names_file_line_and_field(user_dir, old, new, needle, field):
    err = broken(user_dir, old, new)
    text = (user_dir / "my-beach.en.toml").read_text()
    msg = str(err)
    assert str(user_dir / "my-beach.en.toml") in msg
    assert f"'{field}'" in msg
    expected = 1 if needle is None else line_of(text, needle)
    assert err.line == expected and f"line {expected}:" in msg
    assert msg.endswith(".") and "\n" not in msg
    if "steps" in (err.field or ""):
        assert "step " in msg  # says which step, counted from 1


def test_a_missing_step_field_points_at_the_step(user_dir):
    err = broken(user_dir, "max_s = 90\n", "")
    text = (user_dir / "my-beach.en.toml").read_text()
    second = text.index("[[steps]]", text.index("[[steps]]") + 1)
    assert err.line == line_of(text, "[[steps]]", second) and "step 2 ('back')" in str(err)


def test_text_that_cannot_be_said_within_max_is_refused(user_dir):
    err = broken(user_dir, 'text = "Feel the chair."', "text = " + repr(["word " * 200]).replace("'", '"'))
    assert "'max_s'" in str(err) and "takes about" in str(err)


def test_a_toml_syntax_error_becomes_one_sentence_with_its_line(user_dir):
    err = broken(user_dir, 'title = "My beach"', 'title = "My beach')
    assert err.line == 3
    msg = str(err)
    assert "line 3" in msg and "not valid TOML" in msg and "\n" not in msg


def test_a_broken_user_file_is_reported_not_hidden(user_dir):
    write(user_dir, "safe-place.en.toml", GOOD.replace("my-beach", "safe-place").replace("min_s = 60", "min_s = -1"))
    cat = discover()
    assert len(cat.problems) == 1 and "min_s" in str(cat.problems[0])
    assert ("safe-place", "en") in cat.scripts  # the shipped one is still listed ...
    with pytest.raises(ScriptError, match="min_s"):  # ... but asking for it says what is wrong with yours
        load_script("safe-place", "en")
    assert load_script("grounding", "en").id == "grounding"


def test_line_finder_skips_multiline_strings_and_arrays():
    text = textwrap.dedent(
        '''\
        id = "x"
        purpose = """
        min_s = 5
        """
        [[steps]]
        text = [
          "a = b",
          "[not a table]",
        ]
        min_s = 1
        [steps.senses]
        sound = "s"
        [[steps]]
        min_s = 2
        '''
    )
    pos = _key_lines(text)
    assert pos["id"] == 1 and "min_s" not in pos
    assert pos["steps[0]"] == 5 and pos["steps[0].text"] == 6 and pos["steps[0].min_s"] == 10
    assert pos["steps[0].senses.sound"] == 12 and pos["steps[1].min_s"] == 14


def test_every_shipped_step_has_a_title_in_its_own_language_and_user_steps_may_leave_it_out(tmp_path):
    from sessions.exercises import load_script, load_script_file

    nl = load_script("safe-place", "nl")
    en = load_script("safe-place", "en")
    assert [s.title for s in nl.steps][:2] == ["Aankomen", "De plek vinden"]
    assert [s.title for s in en.steps][:2] == ["Arriving", "Finding the place"]
    assert all(s.title and s.title != s.id for s in nl.steps)
    own = tmp_path / "quiet-evening.en.toml"
    own.write_text(en.source.read_text().replace('id = "safe-place"', 'id = "quiet-evening"')
                   .replace('title = "Arriving"\n', ""))
    assert load_script_file(own).steps[0].title == "Arrive"  # from the id


# --- the texts of care (issue 14) ---------------------------------------------------------

def _raw(name: str) -> dict:
    """A shipped file as plain TOML, so these checks hold whatever the loader keeps."""
    import tomllib

    return tomllib.loads((ex.builtin_scripts_dir() / name).read_text(encoding="utf-8"))


CARE_LISTS = ("too_much_ack", "distress", "care_orientation", "care_grounding", "care_settled", "care_closing",
              "aroused_start", "resume_ack", "recovered", "stop_grounding")
EVERYDAY = [sid for sid in SHIPPED if not load_script_file(ex.builtin_scripts_dir() / f"{sid}.en.toml").therapist_only]
PROMISES_SLEEP = ("let sleep come", "sleep may come", "sleep will come", "you will sleep", "fall asleep",
                  "laat de slaap", "slaap mag komen", "slaap komt", "je zult slapen", "in slaap vallen")


def _lines(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("sid", EVERYDAY)
def test_every_everyday_opening_says_the_person_may_stop_when_it_gets_too_much(sid, lang):
    # The heart cannot see freezing or dissociation; the person can, so the first step tells them.
    first = load_script(sid, lang).steps[0]
    too_much = "too much" if lang == "en" else "te veel"
    assert any("stop" in line.lower() and too_much in line.lower() for line in first.text), first.text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_after_a_nightmare_is_a_short_eyes_open_grounding_without_quiet_start(lang):
    assert _raw(f"after-nightmare.{lang}.toml")["quiet_start"] is False
    s = load_script("after-nightmare", lang)
    assert getattr(s, "quiet_start", False) is False
    assert not s.therapist_only and {st.kind for st in s.steps} == {"grounding"}
    assert all(st.pacer.mode in ("off", "follow") for st in s.steps)  # never slow pacing
    assert 180 <= sum(st.typical_s or (st.min_s + st.max_s) / 2 for st in s.steps) <= 300  # three to five minutes
    said = " ".join(line for st in s.steps for line in st.text).lower()
    needed = ("eyes open", "light", "dream", "feet") if lang == "en" else ("ogen open", "lamp", "droom", "voeten")
    for words in needed:
        assert words in said
    assert not any(p in said for p in PROMISES_SLEEP)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_care_texts_open_the_eyes_first_never_promise_sleep_and_name_where_help_is(lang):
    c = _raw(f"common.{lang}.toml")
    for key in CARE_LISTS:
        lines = _lines(c[key])
        assert lines and all(line.strip() for line in lines), key
        for line in lines:
            low = line.lower()
            assert not any(p in low for p in PROMISES_SLEEP), (key, line)
            # Say what to do, never what the heart does (that can feed health anxiety).
            assert not re.search(r"\b(heart|hart|hartslag)\b", low), (key, line)
    eyes = "eyes" if lang == "en" else "ogen"
    assert eyes in _lines(c["distress"])[0].lower() and eyes in _lines(c["care_orientation"])[0].lower()
    assert eyes in " ".join(_lines(c["too_much_ack"])).lower()
    assert 2 <= len(c["too_much_ack"]) <= 3 and len(c["care_settled"]) == 2 and 2 <= len(c["aroused_start"]) <= 3
    assert 8 <= len(c["care_grounding"]) <= 12 and 5 <= len(c["care_closing"]) <= 8
    closing = " ".join(c["care_closing"])
    help_words = ("GP", "out-of-hours", "113", "112") if lang == "en" else ("huisarts", "huisartsenpost", "113",
                                                                             "0800-0113", "112")
    for word in help_words:
        assert word in closing, word
    assert "sleepy" in closing or "slaperig" in closing  # stimulus control: back to bed only when sleepy


def test_dutch_and_english_care_texts_say_the_same_number_of_things():
    nl, en = _raw("common.nl.toml"), _raw("common.en.toml")
    assert {k: len(_lines(nl[k])) for k in CARE_LISTS} == {k: len(_lines(en[k])) for k in CARE_LISTS}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_resonance_assessment_never_asks_for_shallower_breathing_against_air_hunger(lang):
    s = load_script("resonance-assessment", lang)
    said = " ".join(line for st in s.steps for line in st.text).lower()
    assert "shallow" not in said and "minder diep" not in said
    assert ("own pace" if lang == "en" else "eigen tempo") in said  # the way out: breathe at your own pace
    first_rate = next(st for st in s.steps if st.kind == "assessment")
    assert ("first minute" if lang == "en" else "eerste minuut") in " ".join(first_rate.text).lower()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_help_numbers_in_the_care_closing_are_said_digit_by_digit(lang):
    from sessions.audio.speech import spoken_numbers

    said = spoken_numbers(" ".join(_raw(f"common.{lang}.toml")["care_closing"]))
    assert "1 1 2" in said and "1 1 3" in said  # not "one hundred and twelve"
    assert re.search(r"(?<![\d-])\d{3}(?![\d-])", said) is None
    if lang == "nl":
        assert "0800-0113" in said  # espeak-ng already says a number with a leading zero digit by digit
    assert spoken_numbers("Breathe 6.5 times a minute, for 1000 steps.") == "Breathe 6.5 times a minute, for 1000 steps."
