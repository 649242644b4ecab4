"""The texts as a person meets them: every Dutch and English session read through (what is said and
when), Dutch that holds no English, no raw ids in what a Dutch session prints, and the quiet the
design promises between lines."""

from __future__ import annotations

import re

import pytest

import sessions.exercises as ex
from biofeedback.prompt_timing import AFTER_INVITATION, estimate_speech_s
from sessions.exercises import LANGUAGES, SENSES, load_common, load_script, spoken_lines
from sessions.i18n import WORDS
from tests.sessionkit import run_session

SHIPPED = sorted({p.name.split(".")[0] for p in ex.builtin_scripts_dir().glob("*.toml")} - {"common"})
OWN = {"nl": {"place": "het strand bij Zandvoort", "sight": "de zon op het water", "sound": "het ruisen van de zee",
              "smell": "zout en zonnebrand", "touch": "warm zand onder mijn voeten", "temperature": "lekker warm",
              "anchor": "duin"},
       "en": {"place": "the beach at Whitby", "sight": "the sun on the water", "sound": "the waves rolling in",
              "smell": "salt and sun cream", "touch": "warm sand under my feet", "temperature": "pleasantly warm",
              "anchor": "dune"}}
WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)

# Words that are Dutch as much as English (or names, units), and may appear in both languages' texts.
SHARED = {
    "a", "ademgids", "app", "bed", "bel", "bpm", "dan", "de", "deze", "die", "gps", "hand", "handen", "hier", "hoe",
    "in", "is", "komt", "land", "mild", "min", "ms", "oké", "over", "plan", "rmssd", "slow", "stop", "warm", "water",
    "wind", "zand", "zoals", "zandvoort", "whitby", "huisarts", "kalm", "mail", "on", "ben", "been", "hart", "half",
    "nu", "of", "op", "om", "tot", "door", "want", "wat", "wie", "ons", "arm", "armen", "alarm", "band", "even",
    "hoop", "lamp", "moment", "motor", "persoon", "pauze", "perron", "rest", "station", "stations", "trein", "tent",
    "zee", "zon", "ik", "hem", "heel", "met", "als", "toe", "al", "ten", "mis", "bank", "bind", "boom", "dag", "gaat",
    "begin", "best", "hang", "later", "open", "perfect", "rails", "start", "warmer", "was", "we", "word", "diagnose",
    "online", "offline",
    # Technical names a Dutch text uses too.
    "broker", "mqtt", "mqtts", "tls", "ca", "cert", "ctrl", "esc", "espeak", "ng", "bluetooth", "polar",
}


def texts(lang: str) -> list[str]:
    """Everything a person reads or hears in ``lang``: every line of every script, titles, the shared
    texts and the interface words."""
    common = load_common(lang)
    out: list[str] = [common.disclaimer, common.therapist_notice, *common.first_run]
    for sid in SHIPPED:
        script = load_script(sid, lang, therapist_mode=True)
        out += [script.title, script.purpose, *(s.title for s in script.steps)]
        out += [p.text for p in spoken_lines(script, common, own=OWN[lang])]
        out += [x for x in (script.warning, script.notes) if x]
    out += [v for k, v in WORDS[lang].items()]
    return out


def vocabulary(lines: list[str]) -> set[str]:
    # Placeholders, command lines and flags are not words a person reads as language.
    cleaned = (re.sub(r"\{[^}]*\}( sessions show)?|--[\w-]+|(?i:\b[a-z]\b)", " ", line) for line in lines)
    return {w.lower() for line in cleaned for w in WORD.findall(line)}


def test_no_english_word_in_a_dutch_text():
    """An English word in Dutch text is a word of the English texts that turns up in the Dutch ones."""
    dutch, english = vocabulary(texts("nl")), vocabulary(texts("en"))
    leaked = sorted((dutch & english) - SHARED)
    assert not leaked, f"English words in Dutch texts: {leaked}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_claims_of_safety_and_no_darkness_imagery(lang):
    said = " ".join(p.text for sid in SHIPPED
                    for p in spoken_lines(load_script(sid, lang, therapist_mode=True), load_common(lang))).lower()
    banned = {"en": ("it is safe", "it's safe", "you are safe", "you're safe", "grows darker", "darker and darker",
                     "slam"),
              "nl": ("het is veilig", "je bent veilig", "wordt donkerder", "donkerder en donkerder", "dichtvallen",
                     "tik-tik", "hoor de", "zie hoe", "allebei is goed", "je reist alleen maar")}[lang]
    found = [b for b in banned if b in said]
    assert not found, found


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_first_run_explains_imagery_honestly(lang):
    first = " ".join(load_common(lang).first_run).lower()
    assert len(load_common(lang).first_run) >= 4
    words = {"nl": ("zien", "voelen", "horen", "stop", "hulp"), "en": ("see", "feel", "hear", "stop", "help")}[lang]
    assert all(w in first for w in words), first


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_safe_place_offers_smell_and_weaves_in_the_persons_own_place(lang):
    script = load_script("safe-place", lang)
    said = [p for i in range(len(script.steps)) for p in script.prompts_for(i, SENSES, OWN[lang])]
    texts_ = " ".join(p.text for p in said)
    assert OWN[lang]["place"] in texts_ and OWN[lang]["anchor"] in texts_
    assert any(p.id.endswith("smell") for p in said)
    assert "{" not in texts_


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("sid", SHIPPED)
async def test_a_whole_session_leaves_room_after_invitations_and_never_falls_silent(tmp_path, sid, lang):
    ran = await run_session(tmp_path, sid, lang, "follows", own=OWN[lang])
    script = ran.runner.script
    steps = {e[2]["step"]: e[0] for e in ran.events("step") if e[2]["step"] != "baseline"}
    first_step = min(steps.values())
    said = [(t, d) for t, _, d in ran.events("prompt") if t >= first_step]
    assert said, "nothing was said"
    invitations = {p.id for p in spoken_lines(script, own=OWN[lang]) if p.invitation}
    silences = []
    for (t0, d0), (t1, _) in zip(said, said[1:]):
        silence = t1 - (t0 + estimate_speech_s(d0["text"]))
        silences.append(silence)
        if d0.get("id") in invitations:
            assert silence >= AFTER_INVITATION.min_s - 1.5, (d0["id"], silence)
    end = ran.result.duration_s
    silences.append(end - (said[-1][0] + estimate_speech_s(said[-1][1]["text"])))
    assert max(silences) <= script.max_quiet_s + 2.0, max(silences)
    # Every sense the person chose comes up, as far as the imagery steps have room (two each).
    imagery = sum(1 for s in script.steps if s.kind == "imagery")
    if imagery:
        used = {d["id"].split(".")[1].removeprefix("own-") for _, d in said if d.get("id") in invitations}
        assert len(used) == min(len(SENSES), 2 * imagery), used


@pytest.fixture(scope="module")
def voices():
    import shutil

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    from sessions.audio.speech import open_speech

    return {lang: open_speech(lang) for lang in LANGUAGES}


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("sid", SHIPPED)
def test_every_rendered_exercise_breathes_too(sid, lang, voices):
    """The audio timeline of ``render-audio`` (real espeak-ng): no two lines closer than the least
    pause, a second between sentences, no silence longer than the script allows, and the person's
    own safe place woven in."""
    from sessions.audio.render import render_exercise
    from sessions.exercises.model import spoken_lines as lines_of

    script = load_script(sid, lang, therapist_mode=True)
    if script.therapist_only and script.home is None:
        pytest.skip("not rendered: a therapist-only script without a home version")
    r = render_exercise(script, voices[lang], 6.0, SENSES, own=OWN[lang], hold_lines=load_common(lang).hold)
    invitations = {p.id for p in lines_of(script, own=OWN[lang]) if p.invitation}
    phrases = r.phrases
    assert phrases
    for a, b in zip(phrases, phrases[1:]):
        gap = b.t - a.end
        if a.id == b.id:
            assert gap >= 0.99, (a.text, b.text, gap)  # sentences of one line
        elif a.id in invitations:
            assert gap >= AFTER_INVITATION.min_s - 0.5, (a.id, gap)
        else:
            assert gap >= 2.0, (a.id, gap)
        assert gap <= script.max_quiet_s + 10.0, (a.id, b.id, gap)  # + at most a breath at 6/min
    assert r.duration_s - phrases[-1].end <= script.max_quiet_s + 10.0
    if sid.startswith("safe-place"):
        said = " ".join(p.text for p in phrases)
        assert OWN[lang]["place"] in said and OWN[lang]["anchor"] in said
