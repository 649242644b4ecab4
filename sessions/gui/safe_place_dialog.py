"""The safe-place window: the same intro and questions as ``biofeedback safe-place``, in the dark style.

``edit_safe_place(lang, current)`` shows it modally and returns the new :class:`SafePlace` (None when
the person cancels); nothing is saved here, the caller saves. From a window that already runs an
event loop (the live session window), make a :class:`SafePlaceDialog`, connect ``accepted`` and read
:attr:`SafePlaceDialog.result_place`, then ``open()`` it. Sized for a 1366×768 screen.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette, QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from sessions.errors import UserError
from sessions.exercises import SENSES
from sessions.gui import style
from sessions.safe_place import MAX_CHARS, TEXT_FIELDS, SafePlace
from sessions.safe_place_texts import QUESTIONS, say

log = logging.getLogger(__name__)

WIDTH = 780
MAX_HEIGHT = 700  # a 1366×768 screen less a task bar and the title bar

EXTRA_STYLE = f"""
QLineEdit {{ background: {style.PANEL}; color: {style.PROMPT}; border: 1px solid {style.BORDER};
             border-radius: 5px; padding: 6px 8px; }}
QLineEdit:focus {{ border-color: {style.TEXT_DIM}; }}
QLabel#question {{ color: {style.TEXT}; }}
QLabel#intro {{ color: {style.PROMPT}; font-size: 12pt; }}
QLabel#problem {{ color: {style.EXHALE}; }}
QRadioButton, QCheckBox {{ color: {style.TEXT}; spacing: 8px; }}
QRadioButton::indicator, QCheckBox::indicator {{ width: 14px; height: 14px; background: {style.PANEL};
             border: 1px solid {style.TEXT_DIM}; }}
QRadioButton::indicator {{ border-radius: 8px; }}
QCheckBox::indicator {{ border-radius: 3px; }}
QRadioButton::indicator:checked, QCheckBox::indicator:checked {{ background: {style.INHALE};
             border-color: {style.INHALE}; }}
QPushButton#save {{ color: {style.PROMPT}; }}
"""


class SafePlaceDialog(QDialog):
    """The questions as fields; Save checks the answers and keeps the dialog open on a mistake."""

    def __init__(self, lang: str, current: SafePlace | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lang = lang
        self.current = current or SafePlace()
        self.result_place: SafePlace | None = None
        self.setWindowTitle(say(lang, "title"))
        self.setStyleSheet(style.STYLE_SHEET + EXTRA_STYLE)
        self.setFixedWidth(WIDTH)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(30, 22, 30, 20)
        layout.setSpacing(10)

        title = QLabel(say(lang, "title"))
        title.setObjectName("header")
        self.intro = QLabel(say(lang, "intro"))
        self.intro.setObjectName("intro")
        self.intro.setWordWrap(True)
        hint = QLabel(say(lang, "dialog_hint"))
        hint.setObjectName("status")
        hint.setWordWrap(True)
        layout.addWidget(title)
        layout.addWidget(self.intro)
        layout.addWidget(hint)
        layout.addSpacing(4)

        form = QFormLayout()
        form.setHorizontalSpacing(16)
        form.setVerticalSpacing(8)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        self.fields: dict[str, QLineEdit] = {}
        self.labels: list[QLabel] = []
        for name in QUESTIONS:
            label = QLabel(say(lang, "real_label") if name == "real" else say(lang, f"q_{name}"))
            label.setObjectName("question")
            label.setWordWrap(True)
            label.setFixedWidth(260)
            self.labels.append(label)
            if name == "real":
                form.addRow(label, self._real_row())
                continue
            edit = QLineEdit(getattr(self.current, name))
            edit.setMaxLength(MAX_CHARS)
            edit.setPlaceholderText(say(lang, f"ex_{name}"))
            self._dim_placeholder(edit)
            self.fields[name] = edit
            form.addRow(label, edit)
        layout.addLayout(form)

        layout.addSpacing(6)
        senses_label = QLabel(say(lang, "q_senses"))
        senses_label.setObjectName("question")
        layout.addWidget(senses_label)
        grid = QGridLayout()
        grid.setHorizontalSpacing(24)
        grid.setVerticalSpacing(6)
        self.senses: dict[str, QCheckBox] = {}
        for i, sense in enumerate(SENSES):
            box = QCheckBox(say(lang, f"sense_{sense}"))
            box.setChecked(sense in self.current.senses)
            self.senses[sense] = box
            row, col = (i // 2, i % 2) if sense != "body" else (2, 0)
            grid.addWidget(box, row, col, 1, 2 if sense == "body" else 1)
        layout.addLayout(grid)

        self.problem = QLabel("")
        self.problem.setObjectName("problem")
        self.problem.setWordWrap(True)
        self.problem.hide()
        layout.addWidget(self.problem)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton(say(lang, "cancel"))
        self.save_button = QPushButton(say(lang, "save"))
        self.save_button.setObjectName("save")
        self.save_button.setDefault(True)
        self.cancel_button.clicked.connect(self.reject)
        self.save_button.clicked.connect(self.save)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.save_button)
        layout.addSpacing(4)
        layout.addLayout(buttons)

    def _real_row(self) -> QWidget:
        row = QWidget()
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(18)
        self.real_group = QButtonGroup(self)
        self.real_buttons: dict[bool | None, QRadioButton] = {}
        for value, key in ((True, "real_true"), (False, "real_false"), (None, "real_open")):
            button = QRadioButton(say(self.lang, key))
            self.real_group.addButton(button)
            self.real_buttons[value] = button
            box.addWidget(button)
        box.addStretch(1)
        self.real_buttons[self.current.real].setChecked(True)
        return row

    @staticmethod
    def _dim_placeholder(edit: QLineEdit) -> None:
        palette = edit.palette()
        palette.setColor(QPalette.ColorRole.PlaceholderText, style.qcolor(style.TEXT_DIM))
        edit.setPalette(palette)

    def showEvent(self, event: QShowEvent) -> None:
        self.fit()
        super().showEvent(event)

    def fit(self) -> None:
        """Tall enough for every wrapped line (as the help dialog), never taller than a small screen."""
        self.ensurePolished()
        layout = self.layout()
        if layout is not None:
            layout.activate()
            self.setMinimumHeight(min(layout.totalHeightForWidth(self.width()), MAX_HEIGHT))
            self.resize(self.width(), self.minimumHeight())

    def real(self) -> bool | None:
        return next(value for value, button in self.real_buttons.items() if button.isChecked())

    def place(self) -> SafePlace:
        """The answers as filled in; a mistake is a :class:`UserError` in the dialog's language."""
        answers: dict[str, object] = {name: self.fields[name].text() for name in TEXT_FIELDS}
        answers["real"] = self.real()
        answers["senses"] = tuple(s for s, box in self.senses.items() if box.isChecked())
        return self.current.with_answers(self.lang, **answers)

    def save(self) -> None:
        try:
            self.result_place = self.place()
        except UserError as err:
            self.problem.setText(str(err))
            self.problem.show()
            self.fit()  # one line more: grow rather than squeeze the questions
            return
        self.accept()


def edit_safe_place(lang: str, current: SafePlace | None, parent: QWidget | None = None) -> SafePlace | None:
    """Show the dialog (modal) and return the safe place filled in, or None when the person cancels."""
    from sessions.gui.app import qt_application

    qt_application()
    dialog = SafePlaceDialog(lang, current, parent)
    accepted = dialog.exec() == QDialog.DialogCode.Accepted
    return dialog.result_place if accepted else None
