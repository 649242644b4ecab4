"""The window's side of ratings and markers, offscreen: the calm rating dialog (scores, the private line, the
advice in place), and m in the session window marking the moment with an optional word."""

from __future__ import annotations

import asyncio
import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("qasync")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from devices.simulated_strap import SimulatedStrap  # noqa: E402
from devices.simulator import person_profile  # noqa: E402
from sessions.events import EventKind, RatingWhen  # noqa: E402
from sessions.exercises import load_common, load_script  # noqa: E402
from sessions.gui.rating_dialog import RatingDialog  # noqa: E402
from sessions.ratings import Rating  # noqa: E402
from sessions.runner import SessionRunner  # noqa: E402
from sessions.store import SessionReader, SessionWriter  # noqa: E402


def test_the_after_dialog_takes_scores_and_a_line_and_shows_the_advice_before_closing(qapp, shots):
    d = RatingDialog("nl", RatingWhen.AFTER, imagery=True, before=Rating(RatingWhen.BEFORE, 2))
    d.show()
    d.sud.group.button(7).click()
    d.vividness.group.button(5).click()
    d.note.setText("een gezicht in het donker")
    d.grab().save(os.path.join(shots, "rating-after-nl.png"))
    d.done_button.click()
    assert d.rating == Rating(RatingWhen.AFTER, 7, 5, "een gezicht in het donker")
    assert d.isVisible() and d.advice_label.isVisible() and "therapeut" in d.advice_label.text()
    d.grab().save(os.path.join(shots, "rating-advice-nl.png"))
    d.done_button.click()
    assert not d.isVisible()


def test_skip_keeps_nothing_and_before_asks_only_distress(qapp):
    d = RatingDialog("en", RatingWhen.BEFORE)
    assert d.vividness is None and d.note is None
    d.show()
    d.sud.group.button(4).click()
    d.skip_button.click()
    assert d.rating is None


def test_enter_after_choosing_a_score_is_done_not_a_second_click_on_the_score(qapp):
    """Qt presses the focused button of a dialog on Enter; a chosen score has the focus after a click, so Enter
    used to leave the dialog open. Enter is Done, with the score chosen."""
    d = RatingDialog("en", RatingWhen.BEFORE)
    d.show()
    QTest.mouseClick(d.sud.group.button(5), Qt.MouseButton.LeftButton)
    assert d.sud.group.button(5).hasFocus() or qapp.focusWidget() is None  # offscreen may not hand out focus
    QTest.keyClick(d.sud.group.button(5), Qt.Key.Key_Return)
    assert not d.isVisible() and d.rating == Rating(RatingWhen.BEFORE, 5)


def test_digit_keys_answer_one_question_after_the_other_and_nothing_looks_chosen_at_first(qapp, shots):
    d = RatingDialog("nl", RatingWhen.AFTER, imagery=True, before=Rating(RatingWhen.BEFORE, 5))
    d.show()
    d.activateWindow()
    assert d.sud.value is None and d.done_button.isDefault()
    assert not any(b.autoDefault() for b in d.sud.group.buttons() + [d.skip_button])
    QTest.keyClick(d, Qt.Key.Key_3)  # the first question, then the focus moves on to the next
    QTest.keyClick(d.vividness.group.button(0), Qt.Key.Key_7)
    assert (d.sud.value, d.vividness.value) == (3, 7)
    d.grab().save(os.path.join(shots, "rating-after-keys-nl.png"))
    QTest.keyClick(d.note, Qt.Key.Key_Return)
    assert not d.isVisible() and d.rating == Rating(RatingWhen.AFTER, 3, 7, None)


def test_escape_skips(qapp):
    d = RatingDialog("en", RatingWhen.AFTER)
    d.show()
    d.sud.choose(6)
    QTest.keyClick(d, Qt.Key.Key_Escape)
    assert not d.isVisible() and d.rating is None


def test_m_in_the_window_marks_the_moment_and_a_word_can_be_added(qapp, tmp_path, shots):
    from sessions.gui.window import SessionWindow

    source = SimulatedStrap(person_profile("follows"), seed=3, speed=60.0)
    path = tmp_path / "m.biofeedback.sqlite"
    writer = SessionWriter(path, {"script": "safe-place", "language": "en"})
    runner = SessionRunner(source, load_script("safe-place", "en"), load_common("en"), writer, duration_s=150.0)
    window = SessionWindow(runner, "en", close_at_end=True)
    pressed: list[float] = []

    async def drive():
        task = asyncio.create_task(runner.run())
        view = asyncio.create_task(window.run_live(task))
        while runner.state.t < 40:
            await asyncio.sleep(0.05)
        pressed.append(runner.now())
        QTest.keyClick(window, Qt.Key.Key_M)
        assert window.marker_field.isVisible()
        QTest.keyClicks(window.marker_field.edit, "hotspot")
        window.grab().save(os.path.join(shots, "window-marker-word.png"))
        await asyncio.sleep(0.3)
        QTest.keyClick(window.marker_field.edit, Qt.Key.Key_Return)
        assert not window.marker_field.isVisible()
        window.buttons["marker"].click()  # the button: a plain marker once the field times out or is left
        QTest.keyClick(window.marker_field.edit, Qt.Key.Key_Escape)
        await task
        await view

    _run_qt(drive)
    writer.close()
    with SessionReader(path) as reader:
        marks = reader.events(EventKind.MARKER.value)
    assert [(d["label"], d["source"]) for _t, _k, d in marks] == [("hotspot", "key"), ("marker", "button")]
    assert marks[0][0] == pytest.approx(pressed[0], abs=0.5)  # when m was pressed, not when Enter was


def _run_qt(coro_fn):
    from sessions.gui.app import run_in_qt

    async def main() -> int:
        await coro_fn()
        return 0

    assert run_in_qt(main(), offscreen=True) == 0
