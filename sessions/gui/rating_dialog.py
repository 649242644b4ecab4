"""The small, calm rating dialog before and after an exercise: 0-10 as a row of buttons, an optional line.

Every question may be left open; Skip (or Esc, or closing it) records nothing. After the exercise, when
something unpleasant came up or distress is high, the same dialog shows the advice before it closes.
Shown without blocking the event loop: ``await ask_rating(...)``.

For a tired person at the keyboard: a digit key chooses that score (for the question in focus, then the
next one takes the focus), Enter is always Done (never a click on the score that has the focus, as Qt
does by default for buttons in a dialog), Esc is Skip; the focus and Done are visible on the dark screen.
"""

from __future__ import annotations

import asyncio
import logging

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent, QShowEvent
from PySide6.QtWidgets import (QButtonGroup, QDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout,
                               QWidget)

from sessions.events import RatingWhen
from sessions.gui import style
from sessions.ratings import NOTE_MAX, Rating, advice, clean_note, needs_advice, text

log = logging.getLogger(__name__)

WIDTH = 640
EXTRA_STYLE = f"""
QLabel#question {{ color: {style.TEXT}; font-size: 12pt; }}
QLabel#advice {{ color: {style.PROMPT}; font-size: 12pt; }}
QDialog#rating {{ border: 1px solid {style.ZONE_LINE}; }}
QPushButton:focus {{ border-color: {style.TEXT}; }}
QPushButton:default {{ border-color: {style.INHALE}; color: {style.PROMPT}; }}
QPushButton#score {{ min-width: 34px; max-width: 34px; padding: 6px 0; }}
QPushButton#score:checked {{ background: {style.INHALE}; color: {style.BACKGROUND}; border-color: {style.INHALE}; }}
QPushButton#score:checked:focus {{ border-color: {style.PROMPT}; }}
QLineEdit {{ background: {style.PANEL}; color: {style.PROMPT}; border: 1px solid {style.BORDER};
             border-radius: 5px; padding: 6px 8px; }}
"""


class ScoreRow(QWidget):
    """0 to 10 as eleven buttons; none chosen means skipped."""

    def __init__(self) -> None:
        super().__init__()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        for value in range(11):
            button = QPushButton(str(value))
            button.setObjectName("score")
            button.setCheckable(True)
            button.setAutoDefault(False)  # Enter means Done, not "press the score that has the focus"
            self.group.addButton(button, value)
            row.addWidget(button)
        row.addStretch(1)

    @property
    def value(self) -> int | None:
        chosen = self.group.checkedId()
        return chosen if chosen >= 0 else None

    def choose(self, value: int) -> None:
        button = self.group.button(value)
        if button is not None:
            button.setChecked(True)

    def has_focus(self) -> bool:
        return any(b.hasFocus() for b in self.group.buttons())

    def take_focus(self) -> None:
        (self.group.checkedButton() or self.group.button(0)).setFocus()


class RatingDialog(QDialog):
    """The before- or after-rating; :attr:`rating` is set on Done (None when skipped or empty)."""

    def __init__(self, lang: str, when: RatingWhen, *, imagery: bool = False, before: Rating | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lang, self.when, self.before = lang, when, before
        self.rating: Rating | None = None
        self.advice_shown = False
        self._asked: list[QWidget] = []
        """The questions' widgets, put away once answered to make room for the advice."""
        title = text(lang, "before_title" if when is RatingWhen.BEFORE else "after_title")
        self.setObjectName("rating")
        self.setWindowTitle(title)
        self.setStyleSheet(style.STYLE_SHEET + EXTRA_STYLE)
        self.setFixedWidth(WIDTH)
        layout = self._layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 22, 28, 20)
        layout.setSpacing(10)
        header = QLabel(title)
        header.setObjectName("header")
        layout.addWidget(header)
        self.sud = self._question("sud_before" if when is RatingWhen.BEFORE else "sud_after")
        self.vividness = self._question("vividness") if when is RatingWhen.AFTER and imagery else None
        self.note: QLineEdit | None = None
        if when is RatingWhen.AFTER:
            layout.addWidget(self._label(text(lang, "note"), "question"))
            self.note = QLineEdit()
            self._asked.append(self.note)
            self.note.setMaxLength(NOTE_MAX)
            layout.addWidget(self.note)
        self.advice_label = self._label("", "advice")
        self.advice_label.setVisible(False)
        layout.addWidget(self.advice_label)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.skip_button = QPushButton(text(lang, "skip"))
        self.done_button = QPushButton(text(lang, "ok"))
        self.skip_button.setAutoDefault(False)
        self.done_button.setDefault(True)
        self.skip_button.clicked.connect(self.reject)
        self.done_button.clicked.connect(self.done_clicked)
        buttons.addWidget(self.skip_button)
        buttons.addWidget(self.done_button)
        layout.addSpacing(4)
        layout.addLayout(buttons)

    def _label(self, words: str, name: str) -> QLabel:
        label = QLabel(words)
        label.setObjectName(name)
        label.setWordWrap(True)
        if name == "question":
            self._asked.append(label)
        return label

    def _question(self, key: str) -> ScoreRow:
        self._layout.addWidget(self._label(text(self.lang, key), "question"))
        row = ScoreRow()
        self._asked.append(row)
        self._layout.addWidget(row)
        return row

    def fit(self) -> None:
        """Tall enough for every wrapped line (a word-wrapped label's height needs the width first)."""
        self._layout.activate()
        self.setMinimumHeight(self._layout.totalHeightForWidth(self.width()))
        self.resize(self.width(), self.minimumHeight())

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        self.fit()
        super().showEvent(event)
        self.done_button.setFocus()  # a focus ring on "0" would look like a score already given

    def rows(self) -> list[ScoreRow]:
        return [row for row in (self.sud, self.vividness) if row is not None]

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        """A digit chooses that score for the question in focus (else the first one not answered) and moves on."""
        key = event.key()
        if Qt.Key.Key_0.value <= key <= Qt.Key.Key_9.value and not self.advice_shown:
            rows = self.rows()
            row = next((r for r in rows if r.has_focus()), next((r for r in rows if r.value is None), rows[-1]))
            row.choose(key - Qt.Key.Key_0.value)
            later = rows[rows.index(row) + 1:]
            if later:
                later[0].take_focus()
            elif self.note is not None:
                self.note.setFocus()
            else:
                self.done_button.setFocus()
            return
        super().keyPressEvent(event)

    def done_clicked(self) -> None:
        if self.advice_shown:
            self.accept()
            return
        rating = Rating(self.when, self.sud.value, self.vividness.value if self.vividness else None,
                        clean_note(self.note.text()) if self.note is not None else None)
        self.rating = None if rating.empty else rating
        if self.when is RatingWhen.AFTER and needs_advice(self.before, self.rating):
            # The advice in the same calm dialog: the person reads it, then closes it.
            self.advice_shown = True
            self.advice_label.setText(advice(self.lang))
            for widget in self._asked:
                widget.setVisible(False)
            self.advice_label.setVisible(True)
            self.skip_button.setVisible(False)
            self.fit()
            return
        self.accept()


async def ask_rating(lang: str, when: RatingWhen, *, imagery: bool = False, before: Rating | None = None,
                     parent: QWidget | None = None) -> Rating | None:
    """Show the dialog and wait for it without blocking the event loop; None when skipped."""
    dialog = RatingDialog(lang, when, imagery=imagery, before=before, parent=parent)
    done: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def finished(code: int) -> None:
        if not done.done():
            done.set_result(code)

    dialog.finished.connect(finished)
    dialog.open()
    await done
    return dialog.rating
