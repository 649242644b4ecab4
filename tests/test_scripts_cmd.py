"""``biofeedback scripts``: the listing a person and a therapist see."""

from __future__ import annotations

import argparse
import json

import pytest

from sessions.commands import COMMANDS, scripts


@pytest.fixture(autouse=True)
def user_dir(user_scripts):
    return user_scripts


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    scripts.register(sub)
    args = parser.parse_args(["scripts", *argv])
    return args.func(args)


def test_registered_as_a_command():
    assert "scripts" in COMMANDS


def test_json_lists_every_script_with_its_flags(capsys):
    assert run("--lang", "nl", "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["language"] == "nl" and out["default"] == "safe-place"
    by_id = {s["id"]: s for s in out["scripts"]}
    assert by_id["nightmare-rehearsal"]["therapist_only"] is True
    assert by_id["safe-place"]["therapist_only"] is False
    assert by_id["safe-place"]["title"] == "Een veilige plek"
    assert all({"id", "title", "duration_min", "purpose"} <= set(s) for s in out["scripts"])
    assert out["scripts"][-1]["therapist_only"]


def test_table_marks_therapist_only_and_says_it_is_no_treatment(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    assert run("--lang", "en") == 0
    out = capsys.readouterr().out
    assert "A safe place" in out and "The coat rack" in out
    assert "therapist only" in out
    assert "not a medical treatment" in out


def test_language_follows_the_locale_by_default(capsys, monkeypatch):
    for var in ("LC_ALL", "LC_MESSAGES", "LANGUAGE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "nl_NL.UTF-8")
    run("--json")
    assert json.loads(capsys.readouterr().out)["language"] == "nl"


def test_broken_user_scripts_are_reported_but_do_not_hide_the_rest(capsys, user_dir, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    (user_dir / "oops.en.toml").write_text('id = "oops"\nlanguage = "en"\ntitle = \n', encoding="utf-8")
    assert run("--lang", "en") == 0
    captured = capsys.readouterr()
    assert "A safe place" in captured.out
    assert "oops.en.toml" in captured.err and "line 3" in captured.err
