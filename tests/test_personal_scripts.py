"""Personal scripts: written from a template in the client's folder, checked like the shipped ones (file, line,
field), a rehearsal therapist-only by construction, and done alone only as the therapist allowed it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sessions import clients, settings
from sessions.errors import UserError
from sessions.exercises import ScriptError, discover, load_script, load_script_file
from sessions.exercises.personal import templates_dir
from sessions.therapist import TherapistGateClosed, open_gate, set_home, set_passphrase, home_allowance

from tests.test_clients import _cli, _captured, _ok, _refused  # noqa: F401  (the in-process command line)

PASSPHRASE = "lavender harbour at noon"
_FILL = re.compile(r"<<[^\n]*?>>")


def _fill(path: Path, home: bool = False) -> Path:
    """Fill every <<...>> with its example (the words after the colon), as a therapist would with the client's."""
    text = _FILL.sub(lambda m: m.group(0)[2:-2].split(": ", 1)[-1], path.read_text(encoding="utf-8"))
    if home:
        text = re.sub(r"(?m)^# (home_\w+ =)", r"\1", text)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def k7(data_dir) -> Path:
    """Client K7 in use, with a therapist passphrase set on the computer."""
    clients.add_client(data_dir, "K7")
    clients.add_client(data_dir, "K8")
    set_passphrase(PASSPHRASE)
    clients.remember_client(data_dir, "K7")  # for the command line
    settings.configure(settings.Settings.from_environment().for_client("K7"))  # for calls in this test
    return data_dir / "clients" / "K7"


@pytest.fixture
def secret(tmp_path) -> str:
    path = tmp_path / "pp.txt"
    path.write_text(PASSPHRASE + "\n")
    path.chmod(0o600)
    return str(path)


@pytest.mark.parametrize("kind", ["safe-place", "rehearsal"])
def test_templates_are_checked_until_filled_in_and_then_valid_in_both_languages(tmp_path, kind):
    steps = {}
    for lang in ("nl", "en"):
        path = tmp_path / f"mine.{lang}.toml"
        path.write_text((templates_dir() / f"{kind}.{lang}.toml").read_text().replace("__ID__", "mine"))
        with pytest.raises(ScriptError) as err:
            load_script_file(path)
        message = str(err.value)
        line = err.value.line
        assert message.startswith(f"{path}, line {line}: ") and "still has a part to fill in (<<" in message
        assert "<<" in path.read_text().splitlines()[line - 1]
        script = load_script_file(_fill(path))
        assert script.personal == kind and script.language == lang and script.therapist_only == (kind == "rehearsal")
        assert not any("<<" in t or "__ID__" in t for st in script.steps for t in (*st.text, *st.senses.values()))
        steps[lang] = [(s.id, s.kind, sorted(s.senses)) for s in script.steps]
    assert steps["nl"] == steps["en"]  # the same exercise in both languages: same steps, same senses


def test_a_personal_rehearsal_cannot_be_made_everyday(tmp_path):
    path = tmp_path / "mine.en.toml"
    path.write_text((templates_dir() / "rehearsal.en.toml").read_text().replace("__ID__", "mine"))
    _fill(path)
    path.write_text(path.read_text().replace("therapist_only = true", "therapist_only = false"))
    with pytest.raises(ScriptError) as err:
        load_script_file(path)
    assert err.value.field == "therapist_only" and "must be true in a personal rehearsal" in str(err.value)
    assert path.read_text().splitlines()[err.value.line - 1] == "therapist_only = false"


def test_scripts_new_writes_into_the_clients_own_folder_and_check_names_the_line(k7):
    proc = _ok("scripts", "new", "--from", "safe-place", "--lang", "nl")
    path = k7 / "scripts" / "my-safe-place.nl.toml"
    assert f"scripts check {path}" in proc.stdout and path.stat().st_mode & 0o777 == 0o600
    assert "still has a part to fill in" in _refused("scripts", "check", str(path))
    assert "already exists" in _refused("scripts", "new", "--from", "safe-place", "--lang", "nl")
    assert "shipped exercise" in _refused("scripts", "new", "--from", "rehearsal", "--name", "safe-place")
    assert "lowercase letters" in _refused("scripts", "new", "--from", "rehearsal", "--name", "Mijn Droom")
    _fill(path)
    assert "valid everyday script" in _ok("scripts", "check", str(path)).stdout
    # the client's catalogue has it; the other client's does not
    assert ("my-safe-place", "nl") in discover().scripts
    listed = json.loads(_ok("--client", "K8", "scripts", "--json", "--lang", "nl").stdout)
    assert "my-safe-place" not in [s["id"] for s in listed["scripts"]]


def test_a_personal_script_never_takes_a_shipped_id(k7):
    _ok("scripts", "new", "--from", "safe-place", "--lang", "en")
    mine = _fill(k7 / "scripts" / "my-safe-place.en.toml")
    taken = mine.with_name("mine.en.toml")
    taken.write_text(mine.read_text().replace('id = "my-safe-place"', 'id = "grounding"'))
    problems = [str(p) for p in discover().problems]
    assert any(p.startswith(f"{taken}, line ") and "the id of a shipped exercise" in p for p in problems)
    assert load_script("grounding", "en").personal is None  # the shipped one stays


def test_alone_only_as_the_therapist_allowed_exactly_this_text(k7, secret):
    _ok("scripts", "new", "--from", "safe-place", "--lang", "en")
    path = _fill(k7 / "scripts" / "my-safe-place.en.toml")
    run = ("run", "--script", "my-safe-place", "--lang", "en", "--simulate", "--headless", "--speed", "60",
           "--duration", "20", "--no-audio")
    assert "has not (yet) made 'my-safe-place' one to do on your own" in _refused(*run)
    open_gate(load_script("my-safe-place", "en", therapist_mode=True), PASSPHRASE)  # with the therapist: fine
    assert "with your therapist" in _ok("scripts", "--lang", "en").stdout
    _ok("therapist", "allow-home", "my-safe-place", "--max-per-day", "2", "--passphrase-file", secret)
    assert "alone: at most 2 a day" in _ok("scripts", "--lang", "en").stdout.replace("\n", " ")
    listed = {s["id"]: s for s in json.loads(_ok("scripts", "--json", "--lang", "en").stdout)["scripts"]}
    assert listed["my-safe-place"]["home"] == {"alone": True, "max_per_day": 2} and "home" not in listed["grounding"]
    _ok(*run)
    _ok(*run)
    assert "2 times today" in _refused(*run)  # the third alone today
    # K8 may not do K7's script (it is not even theirs)
    assert "no script called 'my-safe-place'" in _refused("--client", "K8", *run)
    # the text changed since: no longer allowed until the therapist looks again
    path.write_text(path.read_text().replace("Wiggle your fingers", "Stretch your fingers"))
    settings.configure(settings.Settings.from_environment().for_client("K7"))
    with pytest.raises(UserError, match="has changed since your therapist allowed it"):
        load_script("my-safe-place", "en")
    _ok("therapist", "disallow-home", "my-safe-place", "--passphrase-file", secret, "--client", "K7")
    with pytest.raises(UserError, match="has not \\(yet\\) made"):
        load_script("my-safe-place", "en")


def test_a_personal_rehearsal_needs_the_gate_or_its_home_version(k7, secret):
    _ok("scripts", "new", "--from", "rehearsal", "--lang", "nl")
    path = _fill(k7 / "scripts" / "my-new-dream.nl.toml")
    script = load_script("my-new-dream", "nl", therapist_mode=True)
    assert script.therapist_only and script.personal == "rehearsal"
    with pytest.raises(TherapistGateClosed, match="has not been unlocked"):
        open_gate(script, PASSPHRASE)
    _ok("therapist", "unlock", "my-new-dream", "--passphrase-file", secret)
    open_gate(script, PASSPHRASE)
    settings.configure(settings.Settings.from_environment().for_client("K8"))  # unlocked for K7 only
    with pytest.raises(UserError):
        load_script("my-new-dream", "nl", therapist_mode=True)
    settings.configure(settings.Settings.from_environment().for_client("K7"))
    with pytest.raises(UserError, match="has not \\(yet\\)"):
        load_script("my-new-dream", "nl")  # alone: not without the therapist's say
    assert "no home version yet" in _refused("therapist", "allow-home", "my-new-dream", "--passphrase-file", secret)
    _fill(path, home=True)
    _ok("therapist", "allow-home", "my-new-dream", "--max-per-day", "1", "--passphrase-file", secret)
    alone = load_script("my-new-dream", "nl")
    home = load_script_file(path).home
    assert home is not None and not alone.therapist_only
    said = [line for step in alone.steps for line in step.lines()]
    assert said[0] == home.warning and said[-2:] == [home.closing, home.help]


def test_a_hand_edited_home_allowance_is_noticed_when_the_therapist_comes(k7, secret, caplog):
    from sessions.therapist import check_passphrase, recorded_home

    _ok("scripts", "new", "--from", "safe-place", "--lang", "en")
    path = _fill(k7 / "scripts" / "my-safe-place.en.toml")
    stored = json.loads((k7 / "unlocks.json").read_text()) if (k7 / "unlocks.json").exists() else {}
    stored.update({"client": "K7", "home": {"my-safe-place": home_allowance({"en": path}, None)}})
    (k7 / "unlocks.json").write_text(json.dumps(stored))
    assert "my-safe-place" in recorded_home()  # alone, without the passphrase, only the record can be read
    check_passphrase(PASSPHRASE)
    assert "changed by hand" in caplog.text
    assert set_home(PASSPHRASE, "other", None) == {}  # the next change by the therapist drops it
