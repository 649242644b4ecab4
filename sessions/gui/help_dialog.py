"""The help screen: where to find help, over the session window, in the same dim style.

Shown with the window's help button or the h key (wired by the window). It does not pause or stop
the exercise by itself: reading where help is should never feel like failing the exercise. The text
comes from :mod:`sessions.help_texts`, the same as ``biofeedback help`` and the terminal view.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from sessions.gui import style
from sessions.help_texts import help_text

CLOSE = {"en": "Close", "nl": "Sluiten"}
WIDTH = 620


class HelpDialog(QDialog):
    """The help text in ``lang``: a title, the paragraphs, and the not-a-medical-device line last, dimmed."""

    def __init__(self, lang: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        text = help_text(lang)
        self.setWindowTitle(text.title)
        self.setStyleSheet(style.STYLE_SHEET)
        self.setFixedWidth(WIDTH)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 26, 32, 22)
        layout.setSpacing(14)
        title = QLabel(text.title)
        title.setObjectName("header")
        layout.addWidget(title)
        self.paragraphs: list[QLabel] = []
        for paragraph in text.paragraphs:
            label = QLabel(paragraph)
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setStyleSheet(f"color: {style.PROMPT}; font-size: 13pt;")
            layout.addWidget(label)
            self.paragraphs.append(label)
        self.not_medical = QLabel(text.not_medical)
        self.not_medical.setWordWrap(True)
        self.not_medical.setObjectName("keys")
        layout.addSpacing(6)
        layout.addWidget(self.not_medical)
        row = QHBoxLayout()
        row.addStretch(1)
        self.close_button = QPushButton(CLOSE.get(lang, CLOSE["en"]))
        self.close_button.clicked.connect(self.accept)
        self.close_button.setDefault(True)
        row.addWidget(self.close_button)
        layout.addLayout(row)

    def showEvent(self, event: QShowEvent) -> None:
        """Tall enough for every wrapped line (a top-level layout does not ask its labels' height for width)."""
        self.ensurePolished()
        layout = self.layout()
        if layout is not None:
            self.setMinimumHeight(layout.totalHeightForWidth(self.width()))
        super().showEvent(event)

    def shown_text(self) -> str:
        """Everything the dialog shows, in order (for the terminal fallback and for tests)."""
        return "\n".join([self.windowTitle(), *(p.text() for p in self.paragraphs), self.not_medical.text()])
