"""Ratings as a person meets them: asked in the terminal before and after (Enter skips), kept in the
record, advice when something unpleasant came up, nothing asked of someone not at a terminal or falling
asleep, and the small dialog in the window."""

from __future__ import annotations

import builtins
import json

import pytest

from sessions import rating_flow
from sessions.cli import main
from sessions.events import RatingWhen
from sessions.ratings import Rating, ask_terminal, clean_note, needs_advice, parse_score


def scripted(answers):
    it = iter(answers)

    def ask(prompt: str) -> str:
        print(prompt)  # as input() shows it
        try:
            return next(it)
        except StopIteration:
            raise EOFError from None
    return ask


def test_terminal_prompts_take_numbers_skip_on_enter_and_ask_again_after_a_typo():
    said: list[str] = []
    r = ask_terminal(RatingWhen.AFTER, "en", imagery=True, ask=scripted(["eleven", "4", "", "  a face\tin the dark "]),
                     say=said.append)
    assert r == Rating(RatingWhen.AFTER, 4, None, "a face in the dark")
    assert any("whole number from 0 to 10" in s for s in said)
    assert ask_terminal(RatingWhen.BEFORE, "nl", imagery=False, ask=scripted([""]), say=said.append) is None
    assert ask_terminal(RatingWhen.AFTER, "en", imagery=False, ask=scripted(["3"]), say=said.append) == Rating(
        RatingWhen.AFTER, 3)  # Ctrl-D at the note keeps what was given


def test_advice_when_something_came_up_distress_is_high_or_rose_clearly():
    before = Rating(RatingWhen.BEFORE, 2)
    assert needs_advice(before, Rating(RatingWhen.AFTER, 1, note="my father's voice"))
    assert needs_advice(None, Rating(RatingWhen.AFTER, 7))
    assert needs_advice(before, Rating(RatingWhen.AFTER, 5))
    assert not needs_advice(before, Rating(RatingWhen.AFTER, 4, 8))
    assert not needs_advice(before, None)
    with pytest.raises(ValueError):
        parse_score("11")
    assert clean_note("   ") is None and len(clean_note("x" * 900) or "") == 500


def _run_with_answers(monkeypatch, capsys, answers, *extra):
    monkeypatch.setattr(rating_flow, "terminal_can_ask", lambda: True)
    monkeypatch.setattr(builtins, "input", scripted(answers))
    code = main(["run", "--simulate", "--speed", "1000", "--duration", "150", "--headless", *extra])
    out = capsys.readouterr().out
    assert main(["sessions", "show", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    return code, out, [e for e in shown["events"] if e["kind"] == "rating"]


def test_a_session_asks_before_and_after_keeps_both_and_gives_advice(data_dir, monkeypatch, capsys):
    code, out, ratings = _run_with_answers(monkeypatch, capsys, ["3", "8", "6", "a face came back"], "--lang", "nl")
    assert code == 0
    before, after = ratings
    assert before["t"] == 0 and before["data"] == {"when": "before", "sud": 3, "vividness": None, "note": None}
    assert after["data"] == {"when": "after", "sud": 8, "vividness": 6, "note": "a face came back"}
    assert after["t"] > 100  # at the end of the session
    assert "Hoe gespannen of onrustig voel je je nu?" in out and "Kwam er iets naars naar boven?" in out
    assert "vertel het je therapeut" in out and "113" in out


def test_nothing_is_asked_with_no_ratings_or_without_a_terminal(data_dir, monkeypatch, capsys):
    code, out, ratings = _run_with_answers(monkeypatch, capsys, ["3"], "--no-ratings")
    assert code == 0 and ratings == [] and "How tense" not in out
    from sessions import ratings
    monkeypatch.setattr(rating_flow, "terminal_can_ask", ratings.terminal_can_ask)  # pytest's stdin: no terminal
    monkeypatch.setattr(builtins, "input", scripted(["3"]))
    assert main(["run", "--simulate", "--speed", "1000", "--duration", "150", "--headless"]) == 0
    assert "How tense" not in capsys.readouterr().out


def test_bedtime_asks_before_but_never_after(data_dir, monkeypatch, capsys):
    code, out, ratings = _run_with_answers(monkeypatch, capsys, ["5", "2"], "--bedtime")
    assert code == 0 and [r["data"]["when"] for r in ratings] == ["before"]
    assert "And now?" not in out


def test_the_before_rating_comes_once_the_strap_is_chosen_and_not_at_all_when_none_is(data_dir, monkeypatch, capsys):
    """'How do you feel now' belongs to starting: asked after the strap is chosen (in the window: after the pairing
    dialog), right before the quiet start; a strap or recording that cannot be had asks nothing first."""
    from sessions.commands import run as run_cmd

    order: list[str] = []
    real_open = run_cmd.open_source

    async def opened(args, **kw):
        order.append("strap")
        return await real_open(args, **kw)

    answers = scripted(["4", "", "", ""])

    def answer(prompt: str) -> str:
        order.append("asked")
        return answers(prompt)

    monkeypatch.setattr(run_cmd, "open_source", opened)
    monkeypatch.setattr(rating_flow, "terminal_can_ask", lambda: True)
    monkeypatch.setattr(builtins, "input", answer)
    assert main(["run", "--simulate", "--speed", "1000", "--duration", "150", "--headless"]) == 0
    assert order[:2] == ["strap", "asked"]
    capsys.readouterr()
    order.clear()
    assert main(["run", "--replay", "no-such-recording.csv", "--headless"]) == 2
    assert order == ["strap"] and "How tense" not in capsys.readouterr().out
