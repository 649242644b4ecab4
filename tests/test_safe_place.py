"""The person's own safe place: the model, its storage in the private profile, the command (flags and the
terminal guide) and the window, offscreen.

Screenshots of the window go to $BIOFEEDBACK_SCREENSHOTS (or the test's tmp folder).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from sessions.cli import main
from sessions.commands import COMMANDS
from sessions.commands import safe_place as cmd
from sessions.errors import UserError
from sessions.exercises import SENSES
from sessions.profile import load_profile, profile_path, save_profile
from sessions.safe_place import (
    MAX_CHARS,
    SafePlace,
    clean_for_sentence,
    clear_safe_place,
    load_safe_place,
    parse_senses,
    save_safe_place,
)
from sessions.safe_place_texts import WORDS

BEACH = SafePlace(place="Het strand bij Zandvoort.", real=True, sound="  De golven   en meeuwen ", smell="Zout",
                  touch="warm zand onder mijn voeten", temperature="Lekker warm...", anchor="Rust",
                  senses=("touch", "sound", "body"))


# --- the model --------------------------------------------------------------------------------

def test_round_trip_keeps_every_field():
    again = SafePlace.from_dict(json.loads(json.dumps(BEACH.to_dict())))
    assert again == BEACH
    assert again.senses == ("sound", "touch", "body")  # in the usual order, whatever order was given
    assert BEACH.to_dict()["real"] is True and BEACH.to_dict()["sight"] == ""


def test_placeholders_are_cleaned_to_sit_inside_a_sentence():
    assert BEACH.placeholders() == {
        "place": "het strand bij Zandvoort",
        "sound": "de golven en meeuwen",
        "smell": "zout",
        "touch": "warm zand onder je voeten",
        "temperature": "lekker warm",
        "anchor": "rust",
    }
    assert "sight" not in BEACH.placeholders()  # not given, so a line naming {sight} is not used


@pytest.mark.parametrize("field, text, expected", [
    ("place", "Texel", "Texel"),                      # a name
    ("place", "Central Park.", "Central Park"),
    ("place", "De Veluwe", "de Veluwe"),             # an article, then a name
    ("place", "IJmuiden", "IJmuiden"),
    ("temperature", "IJskoud", "ijskoud"),           # the Dutch IJ is one letter
    ("place", "My grandmother's garden", "your grandmother's garden"),
    ("place", "A cabin in the woods", "a cabin in the woods"),
    ("sound", "I hear the sea", "I hear the sea"),
    ("anchor", "NU", "NU"),
    ("sound", "Golven", "golven"),
    ("sound", "golven\tbij   Scheveningen.", "golven bij Scheveningen"),
])
def test_first_letter_rule(field, text, expected):
    assert clean_for_sentence(field, text) == expected


def test_defaults_and_is_empty():
    empty = SafePlace()
    assert empty.is_empty and empty.senses == SENSES and empty.placeholders() == {}
    assert not SafePlace(real=False).is_empty
    assert not SafePlace(senses=("sound",)).is_empty
    assert not SafePlace(anchor="rust").is_empty


@pytest.mark.parametrize("changes, words", [
    ({"sound": "x" * (MAX_CHARS + 1)}, ("'what you hear'", "81", "80")),
    ({"place": "de {place}"}, ("'where your place is'", "{")),
    ({"touch": "zand\nzee"}, ("'what you feel on your skin'", "one line")),
    ({"senses": ()}, ("at least one sense",)),
    ({"senses": ("sound", "nose")}, ("'nose'",)),
])
def test_a_wrong_answer_is_one_sentence_naming_the_field(changes, words):
    with pytest.raises(UserError) as err:
        SafePlace().with_answers("en", **changes)
    message = str(err.value)
    for word in words:
        assert word in message
    assert "\n" not in message and message.endswith(".")


def test_the_sentence_is_in_the_persons_language():
    with pytest.raises(UserError, match="Je antwoord bij 'wat je ruikt' is 90 tekens lang; 80 is het maximum."):
        SafePlace().with_answers("nl", smell="a" * 90)
    with pytest.raises(UserError):
        SafePlace(anchor="a}b")  # also when built directly


def test_exactly_80_characters_is_fine():
    assert len(SafePlace(place="a" * MAX_CHARS).place) == MAX_CHARS


def test_from_dict_is_tolerant(caplog):
    data = {"place": 42, "sound": "de golven", "smell": "x" * 200, "touch": "{oops}", "real": "ja",
            "senses": ["sound", "nose", 7], "colour": "blue"}
    with caplog.at_level("WARNING"):
        place = SafePlace.from_dict(data)
    assert place == SafePlace(sound="de golven", senses=("sound",))
    logged = caplog.text
    assert "'place'" in logged and "'smell'" in logged and "'touch'" in logged and "'real'" in logged
    assert "x" * 20 not in logged and "oops" not in logged  # the field is named, never what the person wrote
    assert SafePlace.from_dict({"senses": "sound"}).senses == SENSES
    assert SafePlace.from_dict({"senses": []}).senses == SENSES
    assert SafePlace.from_dict([1, 2]).is_empty  # type: ignore[arg-type]


def test_parse_senses_takes_numbers_and_words_in_both_languages():
    assert parse_senses("2, 4") == ("sound", "touch")
    assert parse_senses("horen voelen lijf") == ("sound", "touch", "body")
    assert parse_senses("sight;smell,1") == ("sight", "smell")
    with pytest.raises(UserError, match="'9'"):
        parse_senses("2, 9")


# --- storage ----------------------------------------------------------------------------------

def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_save_load_clear_keeps_the_rest_of_the_profile(data_dir):
    save_profile({"resonance_rate": 5.5})
    assert load_safe_place() is None
    save_safe_place(BEACH)
    assert load_safe_place() == BEACH
    assert load_profile()["resonance_rate"] == 5.5
    assert _mode(profile_path()) == 0o600
    assert clear_safe_place() is True
    profile = load_profile()
    assert "safe_place" not in profile and profile["resonance_rate"] == 5.5  # taken out, not left as null
    assert clear_safe_place() is False
    assert _mode(profile_path()) == 0o600


def test_an_unreadable_stored_place_is_ignored(data_dir):
    save_profile({"safe_place": "het strand"})
    assert load_safe_place() is None
    save_profile({"safe_place": {"place": "het bos", "senses": ["nose"]}})
    assert load_safe_place() == SafePlace(place="het bos")


# --- the command with flags -------------------------------------------------------------------

def test_the_command_is_registered():
    assert "safe_place" in COMMANDS


def test_flags_write_the_profile_privately(data_dir, capsys):
    assert main(["safe-place", "--lang", "nl", "--place", "de tuin van mijn oma", "--imagined",
                 "--sound", "bijen", "--senses", "horen,touch"]) == 0
    out = capsys.readouterr().out
    assert "de tuin van mijn oma" in out and "een verzonnen plek" in out
    assert "run --script safe-place" in " ".join(out.split())
    path = profile_path()
    assert _mode(path) == 0o600
    stored = json.loads(path.read_text(encoding="utf-8"))["safe_place"]
    assert stored["place"] == "de tuin van mijn oma" and stored["real"] is False
    assert stored["senses"] == ["sound", "touch"]
    # other flags keep what was there; an empty TEXT clears just that answer
    assert main(["safe-place", "--smell", "rozen", "--sound", ""]) == 0
    place = load_safe_place()
    assert place == SafePlace(place="de tuin van mijn oma", real=False, smell="rozen", senses=("sound", "touch"))


def test_show_and_json(data_dir, capsys):
    assert main(["safe-place", "--show", "--lang", "en"]) == 0
    assert "haven't built a safe place" in capsys.readouterr().out
    assert main(["safe-place", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) is None
    save_safe_place(BEACH)
    assert main(["safe-place", "--show", "--lang", "nl"]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith("Je veilige plek:")
    assert "Het strand bij Zandvoort. (een echte plek)" in shown and "Temperatuur" in shown
    assert "horen, voelen, lijf" in shown
    assert main(["safe-place", "--show", "--lang", "en"]) == 0
    shown = capsys.readouterr().out
    assert "Your safe place:" in shown and "(a real place)" in shown and "sound, touch, body" in shown
    assert main(["safe-place", "--json"]) == 0
    assert SafePlace.from_dict(json.loads(capsys.readouterr().out)) == BEACH


def test_clear(data_dir, capsys, monkeypatch):
    save_safe_place(BEACH)
    monkeypatch.setattr(cmd, "stdin_is_tty", lambda: False)
    assert main(["safe-place", "--clear", "--lang", "en"]) == 2  # no terminal to confirm on: needs --yes
    assert "--yes" in capsys.readouterr().err
    assert load_safe_place() == BEACH
    monkeypatch.setattr(cmd, "stdin_is_tty", lambda: True)
    monkeypatch.setattr(cmd, "read_line", lambda prompt: "n")
    assert main(["safe-place", "--clear", "--lang", "nl"]) == 0
    assert "niets gewist" in capsys.readouterr().out and load_safe_place() == BEACH
    assert main(["safe-place", "--clear", "--yes", "--lang", "en"]) == 0
    assert "cleared" in capsys.readouterr().out
    assert "safe_place" not in load_profile() and _mode(profile_path()) == 0o600
    assert main(["safe-place", "--clear", "--yes", "--lang", "en"]) == 0
    assert "no safe place to clear" in capsys.readouterr().out


@pytest.mark.parametrize("argv, words", [
    (["--sound", "a{b}"], ("--sound", "{")),
    (["--anchor", "x" * 81], ("--anchor", "81")),
    (["--senses", "nose"], ("'nose'",)),
    (["--clear", "--yes", "--place", "bos"], ("--clear",)),
    (["--window", "--place", "bos"], ("--window",)),
])
def test_mistakes_are_one_sentence_and_save_nothing(data_dir, capsys, argv, words):
    assert main(["safe-place", "--lang", "en", *argv]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1
    for word in words:
        assert word in err
    assert load_safe_place() is None


def test_no_terminal_and_no_flags_says_what_to_do(data_dir, capsys, monkeypatch):
    monkeypatch.setattr(cmd, "stdin_is_tty", lambda: False)
    assert main(["safe-place", "--lang", "nl"]) == 2
    err = capsys.readouterr().err
    assert "geen terminal" in err and "--place" in err


def test_window_without_a_screen_says_the_terminal_works(data_dir, capsys, monkeypatch):
    import sessions.gui as gui

    monkeypatch.setattr(gui, "display_available", lambda: False)
    assert main(["safe-place", "--window", "--lang", "en"]) == 2
    assert "no screen" in capsys.readouterr().err
    monkeypatch.setattr(gui, "gui_installed", lambda: False)
    assert main(["safe-place", "--window", "--lang", "nl"]) == 2
    assert "pip install 'biofeedback-imagery[gui]'" in capsys.readouterr().err


# --- the terminal guide -----------------------------------------------------------------------

class Typist:
    """Types the answers in order; the end of the list is the end of input (EOFError)."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.prompts: list[str] = []

    def __call__(self, prompt: str) -> str:
        self.prompts.append(prompt)
        if not self.answers:
            raise EOFError
        return self.answers.pop(0)


@pytest.fixture
def terminal(monkeypatch):
    monkeypatch.setattr(cmd, "stdin_is_tty", lambda: True)

    def typing(*answers: str) -> Typist:
        typist = Typist(*answers)
        monkeypatch.setattr(cmd, "read_line", typist)
        return typist

    return typing


# place, real, sound, smell, touch, temperature, sight, anchor, senses
def test_the_guide_asks_and_saves(data_dir, capsys, terminal):
    typist = terminal("Het bos achter ons huis", "j", "vogels", "", "mos onder mijn handen", "koel",
                      "", "stil", "9", "2, 4, 5")
    assert main(["safe-place", "--lang", "nl"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "Hier bouw je je eigen veilige plek" in out and "niet alleen beelden" in out
    assert "alleen op deze computer" in out
    assert "Wat ruik je daar?" in out and "Wat voel je op je huid?" in out
    assert "'9' is geen van de zintuigen" in out  # asked again, not thrown out
    assert "run --script safe-place" in out
    assert len(typist.prompts) == 10 and typist.answers == []
    assert load_safe_place() == SafePlace(place="Het bos achter ons huis", real=True, sound="vogels",
                                          touch="mos onder mijn handen", temperature="koel", anchor="stil",
                                          senses=("sound", "touch", "body"))
    assert _mode(profile_path()) == 0o600


def test_enter_keeps_an_existing_answer_and_a_dash_clears_it(data_dir, capsys, terminal):
    save_safe_place(BEACH)
    typist = terminal("", "", "", "-", "", "", "de zee", "", "")
    assert main(["safe-place", "--lang", "en"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "Enter keeps it" in out
    assert f"[{BEACH.place}] > " in typist.prompts and "[y] > " in typist.prompts
    assert "[sound, touch, body] > " in typist.prompts
    expected = SafePlace(place=BEACH.place, real=True, sound=BEACH.sound, smell="", touch=BEACH.touch,
                         temperature=BEACH.temperature, sight="de zee", anchor=BEACH.anchor,
                         senses=("sound", "touch", "body"))
    assert load_safe_place() == expected


def test_only_enter_changes_nothing(data_dir, capsys, terminal):
    save_safe_place(BEACH)
    before = profile_path().read_bytes()
    terminal(*[""] * 9)
    assert main(["safe-place", "--lang", "nl"]) == 0
    assert "niets veranderd" in capsys.readouterr().out
    assert profile_path().read_bytes() == before


def test_a_mistake_is_asked_again(data_dir, capsys, terminal):
    terminal("het {strand}", "het strand", "misschien", "n", *[""] * 7)
    assert main(["safe-place", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "can't contain { or }" in out and "Answer y (real) or n (imagined)" in out
    assert load_safe_place() == SafePlace(place="het strand", real=False)


def test_end_of_input_saves_nothing(data_dir, capsys, terminal):
    save_safe_place(BEACH)
    terminal("een heel andere plek", "n", "stilte")  # then the input ends
    assert main(["safe-place", "--lang", "en"]) == 1
    err = capsys.readouterr().err
    assert "nothing was saved" in err and "Traceback" not in err
    assert load_safe_place() == BEACH


def test_ctrl_c_saves_nothing(data_dir, capsys, monkeypatch):
    monkeypatch.setattr(cmd, "stdin_is_tty", lambda: True)
    answers = iter(["de bergen", "j"])

    def typing(prompt: str) -> str:
        try:
            return next(answers)
        except StopIteration:
            raise KeyboardInterrupt from None

    monkeypatch.setattr("builtins.input", typing)  # the default reader goes through input()
    assert main(["safe-place", "--lang", "nl"]) == 130
    assert "Gestopt; er is niets bewaard." in capsys.readouterr().err
    assert load_safe_place() is None and not profile_path().exists()


def test_every_text_is_in_both_languages():
    assert set(WORDS["nl"]) == set(WORDS["en"])
    for key, en in WORDS["en"].items():
        assert WORDS["nl"][key].strip() and en.strip(), key
    assert WORDS["nl"]["intro"] != WORDS["en"]["intro"]


# --- the window, offscreen --------------------------------------------------------------------

@pytest.fixture
def qt():
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    pytest.importorskip("PySide6")
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication([])


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_dialog_fill_in_and_save(qt, shots, lang):
    from PySide6.QtGui import QImage

    from sessions.gui import style
    from sessions.gui.safe_place_dialog import SafePlaceDialog

    dialog = SafePlaceDialog(lang, SafePlace(sound="de golven"))
    dialog.show()
    qt.processEvents()
    assert dialog.fields["sound"].text() == "de golven"
    assert dialog.real_buttons[None].isChecked()
    assert all(box.isChecked() for box in dialog.senses.values())
    assert dialog.width() <= 1366 and dialog.height() <= 700  # fits a 1366×768 screen
    for label in dialog.labels + [dialog.intro]:  # wrapped, never cut off
        assert label.height() >= label.heightForWidth(label.width()) > 0
    dialog.fields["place"].setText("Het strand bij Zandvoort")
    dialog.fields["anchor"].setText("rust")
    dialog.fields["sound"].setText("")
    dialog.real_buttons[True].setChecked(True)
    dialog.senses["sight"].setChecked(False)
    dialog.senses["smell"].setChecked(False)
    path = shots / f"safe_place_dialog_{lang}.png"
    assert dialog.grab().save(str(path))
    img = QImage(str(path))
    assert img.pixelColor(2, 2).name() == style.qcolor(style.BACKGROUND).name()  # the dark style
    dialog.save_button.click()
    qt.processEvents()
    assert dialog.result() == dialog.DialogCode.Accepted
    assert dialog.result_place == SafePlace(place="Het strand bij Zandvoort", real=True, anchor="rust",
                                            senses=("sound", "touch", "body"))


def test_dialog_keeps_a_mistake_open_and_says_why(qt):
    from sessions.gui.safe_place_dialog import SafePlaceDialog

    dialog = SafePlaceDialog("nl", None)
    dialog.show()
    qt.processEvents()
    height = dialog.height()
    for box in dialog.senses.values():
        box.setChecked(False)
    dialog.save_button.click()
    qt.processEvents()
    assert dialog.isVisible() and dialog.result_place is None
    assert dialog.problem.isVisible() and "minstens één zintuig" in dialog.problem.text()
    assert dialog.height() > height  # grew for the sentence rather than squeeze the questions
    for label in dialog.labels:
        assert label.height() >= label.heightForWidth(label.width())
    dialog.senses["touch"].setChecked(True)
    dialog.fields["smell"].setText("zout {x}")
    dialog.save_button.click()
    assert "mag geen { of } bevatten" in dialog.problem.text() and dialog.result_place is None
    dialog.fields["smell"].setText("zout")
    dialog.save_button.click()
    assert dialog.result_place == SafePlace(smell="zout", senses=("touch",))


def test_edit_safe_place_returns_none_on_cancel(qt, monkeypatch):
    from PySide6.QtWidgets import QDialog

    from sessions.gui import safe_place_dialog

    monkeypatch.setattr(safe_place_dialog.SafePlaceDialog, "exec", lambda self: QDialog.DialogCode.Rejected)
    assert safe_place_dialog.edit_safe_place("en", BEACH) is None

    def fill_and_save(self):
        self.fields["sight"].setText("de zee")
        self.save()
        return QDialog.DialogCode.Accepted if self.result_place else QDialog.DialogCode.Rejected

    monkeypatch.setattr(safe_place_dialog.SafePlaceDialog, "exec", fill_and_save)
    assert safe_place_dialog.edit_safe_place("en", BEACH) == SafePlace(**{**BEACH.to_dict(), "sight": "de zee",
                                                                           "senses": BEACH.senses})


def test_window_command_saves_what_the_dialog_returns(data_dir, capsys, monkeypatch, qt):
    import sessions.gui as gui
    from sessions.gui import safe_place_dialog

    monkeypatch.setattr(gui, "display_available", lambda: True)
    monkeypatch.setattr(safe_place_dialog, "edit_safe_place", lambda lang, current: SafePlace(place="het bos"))
    assert main(["safe-place", "--window", "--lang", "en"]) == 0
    assert load_safe_place() == SafePlace(place="het bos")
    monkeypatch.setattr(safe_place_dialog, "edit_safe_place", lambda lang, current: None)
    assert main(["safe-place", "--window", "--lang", "en"]) == 0
    assert "Nothing changed" in capsys.readouterr().out and load_safe_place() == SafePlace(place="het bos")


def test_the_persons_own_words_are_said_back_to_them():
    """The voice speaks to the person: their "my grandmother's garden" comes back as "your …", and an
    answer that says there is nothing is not woven into a line at all."""
    from sessions.safe_place import SafePlace

    got = SafePlace(place="De tuin van mijn oma", sight="niets", sound="My dog snoring",
                    touch="m'n zachte deken", smell="no idea").placeholders()
    assert got == {"place": "de tuin van je oma", "sound": "your dog snoring", "touch": "je zachte deken"}
