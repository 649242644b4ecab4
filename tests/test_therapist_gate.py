"""The therapist gate holds: not by a public flag, a copied script, a take-home recording, a wrong or missing
passphrase, or a hand-edited unlock list; the therapist's passphrase opens it. Real files, real processes."""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from sessions.errors import UserError
from sessions.exercises import ScriptError, builtin_scripts_dir, discover, load_script, load_script_file
from sessions.therapist import (
    MIN_LENGTH,
    TherapistGateClosed,
    check_passphrase,
    gate_path,
    home_recording,
    set_passphrase,
    set_unlocked,
    therapist_intro,
)

REPO = Path(__file__).resolve().parents[1]
RIGHT = "lavender harbour at noon"
WRONG = "lavender harbour at nine"
NIGHTMARE = "nightmare-rehearsal"


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``biofeedback ARGS`` as its own process, with no terminal (stdin is not a tty)."""
    return subprocess.run([sys.executable, "-m", "sessions", *args], cwd=REPO, env={**os.environ, **(env or {})},
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)


def _secret(folder: Path, text: str, name: str) -> str:
    path = folder / name
    path.write_text(text + "\n", encoding="utf-8")
    path.chmod(0o600)
    return str(path)


@pytest.fixture
def secrets_dir(tmp_path) -> Path:
    folder = tmp_path / "secrets"
    folder.mkdir(mode=0o700)
    return folder


@pytest.fixture
def right(secrets_dir) -> str:
    return _secret(secrets_dir, RIGHT, "right.txt")


@pytest.fixture
def wrong(secrets_dir) -> str:
    return _secret(secrets_dir, WRONG, "wrong.txt")


def _sessions(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "sessions").glob("*.sqlite*")) if (data_dir / "sessions").exists() else []


def _one_sentence(err: str) -> str:
    err = err.strip()
    assert "Traceback" not in err and "\n" not in err, err
    return err


# --- the stored secret ----------------------------------------------------------------------------------------


def test_set_passphrase_stores_only_a_slow_salted_hash_in_a_private_file(data_dir, right):
    proc = _cli("therapist", "set-passphrase", "--new-passphrase-file", right)
    assert proc.returncode == 0, proc.stderr
    path = gate_path()
    assert path.parent == data_dir and path.stat().st_mode & 0o777 == 0o600
    raw = path.read_bytes()
    for form in (RIGHT.encode(), RIGHT.encode().hex().encode(), RIGHT.upper().encode()):
        assert form not in raw
    stored = json.loads(raw)
    assert stored["kdf"] == "scrypt" and stored["n"] >= 2**17 and len(bytes.fromhex(stored["salt"])) >= 16
    check_passphrase(RIGHT)  # the stored hash verifies the right one...
    with pytest.raises(TherapistGateClosed):
        check_passphrase(WRONG)  # ...and not a near miss
    # a second computer with the same passphrase stores a different hash (own salt)
    first = stored["verifier"]
    path.unlink()
    set_passphrase(RIGHT)
    assert json.loads(path.read_text())["verifier"] != first


def test_short_passphrases_are_refused_and_changing_needs_the_current_one(data_dir, secrets_dir, right, wrong):
    short = _secret(secrets_dir, "x" * (MIN_LENGTH - 1), "short.txt")
    proc = _cli("therapist", "set-passphrase", "--new-passphrase-file", short)
    assert proc.returncode == 2 and "too short" in _one_sentence(proc.stderr)
    assert not gate_path().exists()
    assert _cli("therapist", "set-passphrase", "--new-passphrase-file", right).returncode == 0
    # changing it with a wrong current passphrase changes nothing
    proc = _cli("therapist", "set-passphrase", "--passphrase-file", wrong, "--new-passphrase-file", wrong)
    assert proc.returncode == 2 and "not the therapist passphrase" in _one_sentence(proc.stderr)
    check_passphrase(RIGHT)
    # without any way to ask (no terminal, no file) it refuses rather than hang or read stdin
    proc = _cli("therapist", "set-passphrase", "--new-passphrase-file", wrong)
    assert proc.returncode == 2 and "--passphrase-file" in _one_sentence(proc.stderr)
    check_passphrase(RIGHT)


def test_the_passphrase_is_asked_twice_without_echo_on_a_terminal(data_dir):
    """A real pseudo-terminal: the typed passphrase never comes back on the screen."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "sessions", "therapist", "set-passphrase"], cwd=REPO,
                            stdin=follower, stdout=follower, stderr=follower, start_new_session=True)
    os.close(follower)
    seen = b""

    def read_until(marker: bytes) -> None:
        nonlocal seen
        deadline = time.monotonic() + 120  # a hang guard only, nothing is timed
        while marker not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 1.0)
            if ready:
                try:
                    seen += os.read(leader, 4096)
                except OSError:
                    break
        assert marker in seen, seen

    try:
        read_until(b"New therapist passphrase: ")
        os.write(leader, RIGHT.encode() + b"\n")
        read_until(b"again: ")
        os.write(leader, RIGHT.encode() + b"\n")
        read_until(b"Therapist passphrase set")
        assert proc.wait(timeout=120) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(leader)
    assert RIGHT.encode() not in seen
    check_passphrase(RIGHT)


# --- run --therapist --------------------------------------------------------------------------------------------


def _run_therapist(script: str, passphrase_file: str | None, *extra: str) -> subprocess.CompletedProcess[str]:
    args = ["run", "--simulate", "--speed", "1000", "--duration", "20", "--headless", "--script", script,
            "--lang", "en", "--therapist", *extra]
    env = {}
    if passphrase_file:
        env["BIOFEEDBACK_THERAPIST_PASSPHRASE_FILE"] = passphrase_file
    return _cli(*args, env=env)


def test_without_the_flag_the_refusal_does_not_advertise_it(data_dir):
    proc = _cli("run", "--simulate", "--headless", "--script", NIGHTMARE, "--lang", "en")
    err = _one_sentence(proc.stderr)
    assert proc.returncode == 2 and "--therapist" not in err and "together with your therapist" in err
    assert _sessions(data_dir) == []


def test_the_flag_alone_opens_nothing_when_no_passphrase_is_set(data_dir, right):
    for script in (NIGHTMARE, "safe-place"):  # therapist mode itself needs the therapist
        proc = _run_therapist(script, right)
        assert proc.returncode == 2 and "has not been set up" in _one_sentence(proc.stderr)
    proc = _run_therapist(NIGHTMARE, None)  # and with no way to ask, it says how, without hanging
    assert proc.returncode == 2 and "--passphrase-file" in _one_sentence(proc.stderr)
    assert _sessions(data_dir) == []


def test_a_wrong_passphrase_or_a_script_not_unlocked_keeps_it_closed(data_dir, right, wrong):
    set_passphrase(RIGHT)
    proc = _run_therapist(NIGHTMARE, right)  # right passphrase, but never unlocked for this client
    assert proc.returncode == 2 and "has not been unlocked" in _one_sentence(proc.stderr)
    assert _cli("therapist", "unlock", NIGHTMARE, "--passphrase-file", right).returncode == 0
    proc = _run_therapist(NIGHTMARE, wrong)
    assert proc.returncode == 2 and "not the therapist passphrase" in _one_sentence(proc.stderr)
    proc = _run_therapist(NIGHTMARE, None, "--passphrase-file", wrong)
    assert proc.returncode == 2 and "not the therapist passphrase" in _one_sentence(proc.stderr)
    assert _sessions(data_dir) == []
    assert WRONG not in gate_path().read_text() and RIGHT not in gate_path().read_text()


def test_a_hand_edited_unlock_list_does_not_unlock(data_dir, right):
    set_passphrase(RIGHT)
    stored = json.loads(gate_path().read_text())
    stored["unlocked"] = [NIGHTMARE]
    gate_path().write_text(json.dumps(stored))
    proc = _run_therapist(NIGHTMARE, right)
    warning, refusal = proc.stderr.strip().splitlines()
    assert "changed by hand" in warning
    assert proc.returncode == 2 and "has not been unlocked" in _one_sentence(refusal)
    assert _sessions(data_dir) == []


def test_damaged_settings_keep_it_closed_with_one_sentence(data_dir, right):
    set_passphrase(RIGHT)
    stored = json.loads(gate_path().read_text())
    for key, value in (("n", 2**40), ("salt", "not hex"), ("verifier", None)):
        gate_path().write_text(json.dumps({**stored, key: value}))
        with pytest.raises(TherapistGateClosed, match="damaged"):
            check_passphrase(RIGHT)
    gate_path().write_text("{")
    proc = _run_therapist(NIGHTMARE, right)
    assert proc.returncode == 2 and "cannot be read" in _one_sentence(proc.stderr)


def test_the_right_passphrase_opens_an_unlocked_script_and_asks_if_the_therapist_is_there(data_dir, right):
    assert _cli("therapist", "set-passphrase", "--new-passphrase-file", right).returncode == 0
    proc = _cli("therapist", "unlock", NIGHTMARE, "--passphrase-file", right)
    assert proc.returncode == 0, proc.stderr
    status = _cli("therapist", "status")
    assert status.returncode == 0 and NIGHTMARE in status.stdout and RIGHT not in status.stdout
    proc = _run_therapist(NIGHTMARE, right)
    assert proc.returncode == 0, proc.stderr
    assert "Is your therapist with you now?" in proc.stdout
    notes = load_script(NIGHTMARE, "en", therapist_mode=True).notes
    assert notes and " ".join(notes.split()[:6]) in " ".join(proc.stdout.split())
    assert len(_sessions(data_dir)) >= 1
    # locked again: closed again
    assert _cli("therapist", "lock", NIGHTMARE, "--passphrase-file", right).returncode == 0
    assert _run_therapist(NIGHTMARE, right).returncode == 2


def test_unlock_needs_the_passphrase_and_a_therapist_only_script(data_dir, right, wrong):
    set_passphrase(RIGHT)
    proc = _cli("therapist", "unlock", NIGHTMARE, "--passphrase-file", wrong)
    assert proc.returncode == 2 and "not the therapist passphrase" in _one_sentence(proc.stderr)
    assert _cli("therapist", "unlock", "safe-place", "--passphrase-file", right).returncode == 2
    assert _cli("therapist", "unlock", "beach", "--passphrase-file", right).returncode == 2
    assert check_passphrase(RIGHT) == []


def test_the_intro_asks_the_question_and_shows_the_notes_in_both_languages():
    for lang, question in (("en", "Is your therapist with you now?"), ("nl", "Is je therapeut nu bij je?")):
        script = load_script(NIGHTMARE, lang, therapist_mode=True)
        lines = therapist_intro(script, lang)
        assert lines[0] == question and script.notes and script.notes in lines[1]
        assert therapist_intro(load_script("safe-place", lang), lang) == []


# --- a user copy -------------------------------------------------------------------------------------------------


def _user_copy(user_scripts: Path, lang: str, therapist_only: bool) -> Path:
    text = (builtin_scripts_dir() / f"{NIGHTMARE}.{lang}.toml").read_text(encoding="utf-8")
    assert "therapist_only = true" in text
    path = user_scripts / f"{NIGHTMARE}.{lang}.toml"
    path.write_text(text.replace("therapist_only = true", f"therapist_only = {str(therapist_only).lower()}"))
    return path


def test_a_user_copy_that_is_not_therapist_only_cannot_replace_the_shipped_one(user_scripts, data_dir):
    path = _user_copy(user_scripts, "en", therapist_only=False)
    cat = discover()
    kept = cat.scripts[(NIGHTMARE, "en")]
    assert kept.therapist_only and not kept.user and kept.source != path
    refused = [p for p in cat.problems if p.path == path]
    assert len(refused) == 1 and refused[0].field == "therapist_only" and refused[0].line == 6
    with pytest.raises(UserError, match="together with your therapist"):
        load_script(NIGHTMARE, "en")
    proc = _cli("run", "--simulate", "--headless", "--script", NIGHTMARE, "--lang", "en")
    assert proc.returncode == 2 and "together with your therapist" in _one_sentence(proc.stderr)
    assert _sessions(data_dir) == []
    listing = _cli("scripts", "--lang", "en", env={"COLUMNS": "300"})
    assert listing.returncode == 0
    assert f"{path}, line 6" in " ".join(listing.stderr.split()) and "not used" in listing.stderr


def test_a_therapist_only_user_copy_is_used_and_still_gated(user_scripts):
    path = _user_copy(user_scripts, "nl", therapist_only=True)
    script = load_script(NIGHTMARE, "nl", therapist_mode=True)
    assert script.user and script.source == path
    with pytest.raises(UserError, match="samen met|together"):
        load_script(NIGHTMARE, "nl")


# --- render-audio and the home version ---------------------------------------------------------------------------

HOME = textwrap.dedent(
    """\
    id = "new-dream"
    language = "en"
    title = "The new dream"
    purpose = "Practising the rewritten dream at home."
    duration_min = 1
    therapist_only = true

    [meta]
    warning = "Only with your therapist."
    notes = "Home version made on purpose."
    home_version = true
    home_warning = "You are listening to this alone. You can stop it whenever you like."
    home_closing = "That was enough for today. Open your eyes and look around the room."
    home_help = "If it gets too much, call your GP, or 113, or in danger 112."

    [[steps]]
    id = "arrive"
    kind = "breathing"
    min_s = 20
    max_s = 40
    typical_s = 20
    text = ["Breathe easily."]

    [[steps]]
    id = "close"
    kind = "grounding"
    min_s = 20
    max_s = 40
    typical_s = 20
    text = ["Feel your feet."]
    """
)


def test_render_audio_refuses_therapist_only_scripts_without_a_home_version(data_dir, tmp_path, right):
    set_passphrase(RIGHT)
    set_unlocked(RIGHT, NIGHTMARE, True)
    out = tmp_path / "take-home.wav"
    for extra in ((), ("--therapist", "--passphrase-file", right)):
        proc = _cli("render-audio", "--script", NIGHTMARE, "--lang", "en", "-o", str(out), *extra)
        assert proc.returncode == 2 and _one_sentence(proc.stderr)
        assert not out.exists()
    assert "no home version" in proc.stderr


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_render_audio_writes_a_home_version_only_with_the_passphrase(user_scripts, data_dir, tmp_path, right, wrong):
    (user_scripts / "new-dream.en.toml").write_text(HOME)
    out = tmp_path / "new-dream.wav"
    base = ("render-audio", "--script", "new-dream", "--lang", "en", "--rate", "6", "-o", str(out))
    proc = _cli(*base)  # no therapist
    assert proc.returncode == 2 and "--therapist" not in _one_sentence(proc.stderr)
    proc = _cli(*base, "--therapist", "--passphrase-file", right)  # no passphrase set yet
    assert proc.returncode == 2 and "has not been set up" in proc.stderr
    set_passphrase(RIGHT)
    set_unlocked(RIGHT, "new-dream", True)
    proc = _cli(*base, "--therapist", "--passphrase-file", wrong)
    assert proc.returncode == 2 and "not the therapist passphrase" in proc.stderr and not out.exists()
    proc = _cli(*base, "--therapist", "--passphrase-file", right)
    assert proc.returncode == 0, proc.stderr
    assert out.stat().st_mode & 0o777 == 0o600 and out.stat().st_size > 44
    # what the recording says: the home warning first, the closing and the help line last
    script = load_script("new-dream", "en", therapist_mode=True)
    said = [line for step in home_recording(script).steps for line in step.lines()]
    assert script.home is not None
    assert said[0] == script.home.warning
    assert said[-2:] == [script.home.closing, script.home.help]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ('home_help = "If it gets too much, call your GP, or 113, or in danger 112."\n', "meta.home_help"),
        ('home_closing = "That was enough for today. Open your eyes and look around the room."\n', "meta.home_closing"),
        ('home_warning = "You are listening to this alone. You can stop it whenever you like."\n', "meta.home_warning"),
        ("home_version = true\n", "meta.home_warning"),  # home texts without home_version = true
    ],
)
def test_a_home_version_needs_its_own_warning_closing_and_help(tmp_path, change, field):
    path = tmp_path / "new-dream.en.toml"
    path.write_text(HOME.replace(change, ""))
    with pytest.raises(ScriptError) as err:
        load_script_file(path)
    assert err.value.field == field and err.value.path == path
    assert str(err.value).startswith(f"{path}, line ") and field in str(err.value)
    assert err.value.line == (11 if change.startswith("home_version") else 8)  # the field's line, or [meta]'s


def test_home_version_only_on_therapist_only_scripts(tmp_path):
    path = tmp_path / "new-dream.en.toml"
    path.write_text(HOME.replace("therapist_only = true", "therapist_only = false"))
    with pytest.raises(ScriptError, match="home_version") as err:
        load_script_file(path)
    assert err.value.line == 11
