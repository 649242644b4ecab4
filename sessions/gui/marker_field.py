"""The window's marker: m (or the button) marks this moment; a small field offers to name it with a word.

Why a field and not a dialog: the exercise goes on (pacer, words, recording); the field sits quietly at the
bottom, Enter keeps the word, Esc or a few seconds without typing keep the plain "marker". The marker's
time is the moment m was pressed, not the moment the word was typed.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QWidget

from sessions.events import MARKER_LABEL_MAX

IDLE_MS = 8000
"""Untouched this long, the field closes and the marker keeps its plain label."""

TEXTS = {
    "en": {"button": "Marker", "ask": "Marked. A word for it? (Enter keeps it, Esc leaves it plain)",
           "placeholder": "e.g. hotspot", "done": "Marker kept"},
    "nl": {"button": "Markering", "ask": "Gemarkeerd. Een woord erbij? (Enter bewaart het, Esc laat het zo)",
           "placeholder": "bijv. hotspot", "done": "Markering bewaard"},
}


def say(lang: str, key: str) -> str:
    return TEXTS.get(lang, TEXTS["en"])[key]


class _Line(QLineEdit):
    def __init__(self, on_escape: Callable[[], None]) -> None:
        super().__init__()
        self._on_escape = on_escape

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        if event.key() == Qt.Key.Key_Escape:
            self._on_escape()
            return
        super().keyPressEvent(event)


class MarkerField(QWidget):
    """Hidden until :meth:`begin`; calls ``record(label, at)`` exactly once per marker."""

    def __init__(self, lang: str, record: Callable[[str | None, float], None],
                 give_focus_back: Callable[[], None]) -> None:
        super().__init__()
        self.lang = lang
        self._record = record
        self._give_back = give_focus_back
        self._at: float | None = None
        self._idle = QTimer(self)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel(say(lang, "ask"))
        self.label.setObjectName("keys")
        self.edit = _Line(lambda: self.finish(keep_word=False))
        self.edit.setMaxLength(MARKER_LABEL_MAX)
        self.edit.setPlaceholderText(say(lang, "placeholder"))
        self.edit.setFixedWidth(220)
        self.edit.returnPressed.connect(lambda: self.finish(keep_word=True))
        self.edit.textEdited.connect(lambda _text: self._idle.start())
        row.addWidget(self.label)
        row.addWidget(self.edit)
        row.addStretch(1)
        self._idle.setSingleShot(True)
        self._idle.setInterval(IDLE_MS)
        self._idle.timeout.connect(lambda: self.finish(keep_word=True))
        self.setVisible(False)

    @property
    def open(self) -> bool:
        return self._at is not None

    def begin(self, at: float, ask_word: bool = True) -> None:
        """Mark ``at`` (session time). A marker still waiting for its word is kept first, as it is."""
        if self._at is not None:
            self.finish(keep_word=True)
        if not ask_word:
            self._record(None, at)
            return
        self._at = at
        self.edit.clear()
        self.setVisible(True)
        self.edit.setFocus()
        self._idle.start()

    def finish(self, keep_word: bool) -> None:
        at, self._at = self._at, None
        self._idle.stop()
        if at is None:
            return
        word = self.edit.text() if keep_word else ""
        self.edit.clear()
        self.setVisible(False)
        self._give_back()
        self._record(word or None, at)
