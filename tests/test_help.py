"""Help, always one look away: ``biofeedback help``, the lines for the window and the terminal, the help dialog.

Screenshots of the dialog go to $BIOFEEDBACK_SCREENSHOTS (or the test's tmp folder) and are checked for content.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sessions.help_texts import TEXTS, help_lines, help_summary, help_title, not_medical_device

REPO = Path(__file__).resolve().parents[1]

# What each language must name (the most urgent, 112, included everywhere).
MUST_NAME = {
    "nl": ("huisarts", "huisartsenpost", "113 Zelfmoordpreventie", "0800-0113", "113.nl", "112",
           "geen medisch hulpmiddel", "nooit verkeerd"),
    "en": ("GP", "family doctor", "crisis line", "113", "0800-0113", "112", "911", "999", "not a medical device",
           "never wrong"),
}


def _help(lang: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sessions", "help", "--lang", lang], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_help_command_names_the_help_in_each_language(lang):
    proc = _help(lang)
    assert proc.returncode == 0 and proc.stderr == ""
    flat = " ".join(proc.stdout.split())
    for name in MUST_NAME[lang]:
        assert name in flat, name
    assert proc.stdout.startswith(help_title(lang))
    # wrapped for a terminal, never inside a phone number
    assert max(len(line) for line in proc.stdout.splitlines()) <= 76
    assert not re.search(r"0800-\n|0800\n-", proc.stdout)


def test_help_follows_the_locale_by_default():
    env = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LC_MESSAGES", "LANGUAGE")}
    env["LANG"] = "nl_NL.UTF-8"
    proc = subprocess.run([sys.executable, "-m", "sessions", "help"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "huisartsenpost" in proc.stdout


def test_the_lines_are_short_calm_paragraphs_not_a_checklist():
    for lang in ("nl", "en"):
        lines = help_lines(lang)
        assert lines[0] == not_medical_device(lang) and len(lines) == 1 + len(TEXTS[lang].paragraphs)
        for line in lines:
            assert not line.lstrip().startswith(("-", "*", "•")) and line.endswith((".", "?"))
            assert len(line.split()) <= 40  # a paragraph a tired person can read in one go
        assert sum(len(line.split()) for line in lines) <= 150
        # the most urgent help comes last, so it is where the eye lands
        assert "112" in lines[-1]
        assert "112" in help_summary(lang) and "113" in help_summary(lang)
    assert help_lines("de") == help_lines("en")


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_help_dialog_offscreen_screenshot(lang, tmp_path):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    pytest.importorskip("PySide6")
    from PySide6.QtWidgets import QApplication

    from sessions.gui import style
    from sessions.gui.help_dialog import HelpDialog

    app = QApplication.instance() or QApplication([])
    dialog = HelpDialog(lang)
    dialog.resize(640, 10)  # far too short: it must grow to fit every wrapped line
    dialog.show()
    app.processEvents()
    shown = " ".join(dialog.shown_text().split())
    for name in MUST_NAME[lang]:
        assert name in shown, name
    # every paragraph fits: wrapped, not cut off
    for label in [*dialog.paragraphs, dialog.not_medical]:
        assert label.height() >= label.heightForWidth(label.width()) > 0
        assert label.geometry().bottom() < dialog.height()
    folder = Path(os.environ.get("BIOFEEDBACK_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"help-{lang}.png"
    assert dialog.grab().save(str(path))
    from PySide6.QtGui import QImage

    img = QImage(str(path))
    assert img.width() >= 560 and img.height() >= 300
    corner = img.pixelColor(2, 2)
    assert corner.name() == style.qcolor(style.BACKGROUND).name()  # dark, as the session window
    lit = sum(1 for y in range(0, img.height(), 3) for x in range(0, img.width(), 3)
              if img.pixelColor(x, y).lightness() > 120)
    assert lit > 200  # the text is there
    assert all(img.pixelColor(x, y).lightness() < 240 for y in range(0, img.height(), 5)
               for x in range(0, img.width(), 5))  # no pure white: a dim bedroom at night
    dialog.close()
