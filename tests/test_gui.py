"""The live session window, offscreen: a whole simulated session on screen, the controls, the pacer,
the pairing dialog, ``--snapshot``, and the PySide6 signal refcount trap.

Screenshots go to $BIOFEEDBACK_SCREENSHOTS (or the test's tmp folder) and are checked for content.
"""

from __future__ import annotations

import asyncio
import gc
import math
import os
import stat
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("pyqtgraph")
pytest.importorskip("qasync")

import numpy as np  # noqa: E402
from PySide6.QtCore import QObject, Qt, Signal  # noqa: E402
from PySide6.QtGui import QImage  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from biofeedback.pacer import BreathPacer  # noqa: E402
from devices.ble_strap import FoundStrap  # noqa: E402
from devices.errors import BluetoothUnavailable  # noqa: E402
from devices.simulated_strap import SimulatedStrap  # noqa: E402
from devices.simulator import person_profile  # noqa: E402
from sessions.cli import main  # noqa: E402
from sessions.exercises import load_common, load_script  # noqa: E402
from sessions.events import EventKind
from sessions.gui import display_available, style  # noqa: E402
from sessions.gui.app import run_in_qt  # noqa: E402
from sessions.gui.history import CurveHistory  # noqa: E402
from sessions.gui.pacer_widget import PacerWidget  # noqa: E402
from sessions.gui.pairing import PairingDialog, ordered, signal_bars  # noqa: E402
from sessions.gui.window import SessionWindow  # noqa: E402
from sessions.runner import SessionRunner  # noqa: E402
from sessions.store import SessionReader, SessionWriter  # noqa: E402
from tests.sessionkit import run_in_window  # noqa: E402


def _runner(tmp_path: Path, lang: str = "en", speed: float | None = 150.0, duration_s: float | None = 200.0,
            script: str = "safe-place") -> SessionRunner:
    source = SimulatedStrap(person_profile("follows"), seed=3, speed=speed)
    writer = SessionWriter(tmp_path / f"gui-{lang}.biofeedback.sqlite", {"script": script, "language": lang})
    return SessionRunner(source, load_script(script, lang), load_common(lang), writer, duration_s=duration_s)


def _colours_near(img: QImage, hex_colour: str, tol: int = 40, step: int = 3) -> int:
    """How many sampled pixels are close to a colour: curves drawn, pacer present."""
    target = style.qcolor(hex_colour)
    n = 0
    for y in range(0, img.height(), step):
        for x in range(0, img.width(), step):
            c = img.pixelColor(x, y)
            if abs(c.red() - target.red()) + abs(c.green() - target.green()) + abs(c.blue() - target.blue()) < tol:
                n += 1
    return n


def _tinted(img: QImage, warm: bool, step: int = 3) -> int:
    """Sampled pixels that are clearly cool (blue over red) or warm (red over blue) and not dark."""
    n = 0
    for y in range(0, img.height(), step):
        for x in range(0, img.width(), step):
            c = img.pixelColor(x, y)
            if c.red() + c.green() + c.blue() > 200 and ((c.red() - c.blue() > 30) if warm else (c.blue() - c.red() > 30)):
                n += 1
    return n


def _distinct_colours(img: QImage, step: int = 4) -> int:
    return len({img.pixel(x, y) for y in range(0, img.height(), step) for x in range(0, img.width(), step)})


# --- pure parts ----------------------------------------------------------------------------------

def test_display_detection_ignores_offscreen_and_needs_a_display_on_linux():
    assert not display_available({}, "linux")
    assert display_available({"DISPLAY": ":0"}, "linux")
    assert display_available({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert not display_available({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, "linux")
    assert display_available({}, "darwin") and display_available({}, "win32")


def test_curve_history_never_grows_and_keeps_the_newest_in_order():
    h = CurveHistory(5)
    base = h._t  # noqa: SLF001 - the one preallocated array
    for i in range(12):
        h.append(float(i), float(i * 10))
    assert not h.append(12.0, math.nan) and not h.append(12.0, None)
    t, v = h.view()
    assert list(t) == [7, 8, 9, 10, 11] and list(v) == [70, 80, 90, 100, 110]
    assert t.base is base and h._t is base  # noqa: SLF001 - a view, not a copy; nothing reallocated
    assert len(h) == 5 and h.last() == 110


def test_signal_emits_do_not_leak_references_to_true():
    """PySide6 6.12.0 on Python 3.11 drops a reference to True per Python-side emit (pyqtgraph emits
    on every setData); a live plot then aborts with a fatal error within seconds. Count directly."""
    import pyqtgraph as pg

    class Emitter(QObject):
        changed = Signal(object)

    e = Emitter()
    got = []
    e.changed.connect(got.append)
    curve = pg.PlotDataItem()
    # The garbage collector freeing other tests' objects also changes True's count: keep it out.
    gc.collect()
    gc.disable()
    try:
        before = sys.getrefcount(True)
        for i in range(40):  # well below True's refcount: a leak shows as a count, not a crash
            e.changed.emit(i)
            curve.setData([0.0, 1.0, 2.0], [i, i + 1.0, i])
        after = sys.getrefcount(True)
    finally:
        gc.enable()
    assert len(got) == 40
    assert after >= before, f"lost {before - after} references to True in 40 emits: a PySide6 refcount bug"


# --- the pacer -----------------------------------------------------------------------------------

def _render(widget) -> QImage:
    widget.resize(300, 320)
    return widget.grab().toImage()


def test_pacer_inhale_is_cool_and_growing_exhale_warm_and_shrinking(qapp, shots):
    pacer = BreathPacer(6.0, 0.4)  # 10-s breath: inhale 4 s, exhale 6 s
    w = PacerWidget({"breathe_in": "breathe in", "breathe_out": "breathe out", "breathe_free": "free", "per_min": "/min"})
    w.show_phase(pacer.phase_at(3.0))
    inhale = w.colour()
    img_in = _render(w)
    img_in.save(str(shots / "pacer-inhale.png"))
    w.show_phase(pacer.phase_at(8.5))
    exhale = w.colour()
    img_out = _render(w)
    img_out.save(str(shots / "pacer-exhale.png"))
    assert inhale.blue() > inhale.red() + 30 and exhale.red() > exhale.blue() + 30
    # The disc is larger near the top of the inhale than late in the exhale.
    assert _tinted(img_in, warm=False) > 1.5 * _tinted(img_out, warm=True) > 0
    assert _tinted(img_in, warm=True) == 0


def test_pacer_colour_never_jumps_at_the_turns():
    pacer = BreathPacer(6.0, 0.4)
    w = PacerWidget({"breathe_in": "", "breathe_out": "", "breathe_free": "", "per_min": ""})
    prev = None
    worst = 0
    for i in range(2000):  # 20 s at 100 frames/s, across four turns
        w.show_phase(pacer.phase_at(i / 100.0))
        c = w.colour()
        if prev is not None:
            worst = max(worst, abs(c.red() - prev.red()) + abs(c.green() - prev.green()) + abs(c.blue() - prev.blue()))
        prev = c
    assert worst <= 12, f"colour jumped by {worst} between two frames"


# --- a whole session in the window -----------------------------------------------------------------

def test_simulated_session_runs_in_the_window_end_to_end(qapp, tmp_path, shots):
    runner = _runner(tmp_path)
    window = SessionWindow(runner, "en", close_at_end=True)
    seen: dict[str, object] = {}

    def watch(_t: float) -> None:
        s = runner.state
        if "mid" not in seen and s.phase == "step" and s.pacer is not None and s.t > 150 and window.frames > 10:
            img = window.grab().toImage()
            img.save(str(shots / "session-mid.png"))
            seen["mid"] = img
            seen["mid_prompt"] = window.prompt.text()
            seen["mid_state_prompt"] = s.prompt

    def at_end() -> None:
        seen["end"] = window.grab().toImage()
        seen["end"].save(str(shots / "session-end.png"))

    # A frame at every 5-s metrics row besides the timer's: at least 40 frames in 200 s of session time.
    result = run_in_window(runner, window, runner.writer, watch, at_end)
    end = seen["end"]
    assert result.reason in ("duration reached", "stopped") and runner.state.phase == "done"
    assert window.frames > 30 and not window.isVisible()
    mid = seen["mid"]
    assert seen["mid_prompt"] == seen["mid_state_prompt"] and len(seen["mid_prompt"]) > 10  # the prompt is shown
    assert _distinct_colours(mid) > 30  # not blank
    for key in ("hr_now_bpm", "rmssd_ms", "calm"):
        assert len(window.curves.history[key]) > 30  # a point per frame with new beats (per beat for heart rate)
        assert _colours_near(mid, style.CURVES[key], 30) > 20, f"{key} curve not drawn"
    assert _tinted(mid, warm=False) + _tinted(mid, warm=True) > 50  # the pacer disc
    assert "bpm" in window.curves.title_text("hr_now_bpm") and "–" not in window.curves.title_text("hr_now_bpm")
    assert window.header.text().startswith(runner.script.title)
    assert _distinct_colours(end) > 30


def test_keys_pause_ground_skip_and_stop_the_session(qapp, tmp_path, shots):
    runner = _runner(tmp_path, lang="nl", speed=40.0, duration_s=None)
    window = SessionWindow(runner, "nl", close_at_end=True)
    pressed: list[str] = []
    seen: dict[str, object] = {}

    def press(_t: float) -> None:
        s = runner.state
        window.activateWindow()
        if not pressed and s.phase == "step":
            QTest.keyClick(window, Qt.Key.Key_Space)
            pressed.append("space")
        elif pressed == ["space"] and s.paused:
            window.grab().save(str(shots / "paused-nl.png"))
            QTest.keyClick(window, Qt.Key.Key_Space)
            pressed.append("space2")
        elif pressed == ["space", "space2"] and not s.paused:
            QTest.keyClick(window, Qt.Key.Key_N)
            pressed.append("n")
        elif pressed[-1:] == ["n"] and s.step_index == 1:
            QTest.keyClick(window, Qt.Key.Key_G)
            pressed.append("g")
        elif pressed[-1:] == ["g"] and s.distress:
            seen["care"] = (window.curves.isVisible(), window.banner.isVisible(), window.banner.text())
            window.grab().save(str(shots / "too-much-nl.png"))
            QTest.keyClick(window, Qt.Key.Key_Q)
            pressed.append("q")

    window.frame_listeners.append(press)

    result = run_in_qt(_in_window(runner, window))
    assert pressed == ["space", "space2", "n", "g", "q"]
    with SessionReader(runner.writer.path) as reader:
        kinds = [k for _, k, _ in reader.events()]
        ends = reader.events("step_end")
    assert "pause" in kinds and "resume" in kinds
    assert any(d.get("reason") in ("skipped", "skip") for _, _, d in ends)
    # "Too much": care at once, calm (no curves), its opening words stay on screen; q then finishes with
    # the care's own closing (what to do next, where to find help), not the stop grounding.
    assert seen["care"] == (False, True, " ".join(runner.common.too_much_ack))
    stages = [d["stage"] for _, k, d in reader_events(runner) if k == "care"]
    assert "distress" in kinds and stages[0] == "start" and "closing" in stages and result.reason == "too_much"
    assert window.buttons["pause"].text().startswith("Pauze")


async def _in_window(runner: SessionRunner, window: SessionWindow):
    """Run the session in the window to its end and close its record; the result."""
    task = asyncio.ensure_future(runner.run())
    await window.run_live(task)
    result = await task
    runner.writer.close(end_reason=result.reason)
    return result


def reader_events(runner):
    with SessionReader(runner.writer.path) as reader:
        return reader.events()


# --- pairing ---------------------------------------------------------------------------------------

def test_pairing_lists_by_signal_with_the_last_strap_first(qapp):
    found = [FoundStrap("AA:01", "Polar H10 1", -82), FoundStrap("AA:02", "Garmin HRM", -55),
             FoundStrap("AA:03", None, -70)]
    rows = ordered(found, {"address": "aa:01", "name": "Polar H10 1"})
    assert [r[0].address for r in rows] == ["AA:01", "AA:02", "AA:03"] and rows[0][1] and rows[0][2]
    assert [r[0].address for r in ordered(found, None)] == ["AA:02", "AA:03", "AA:01"]
    gone = ordered(found, {"address": "BB:09", "name": "old strap"})
    assert gone[0][0].address == "BB:09" and not gone[0][2]  # offered, marked as not seen now
    assert signal_bars(-50) == "▮▮▮▮" and signal_bars(-85) == "▮▯▯▯"

    async def scanner(_timeout: float):
        await asyncio.sleep(0.05)
        return found

    async def go():
        dialog = PairingDialog("en", {"address": "AA:01", "name": "Polar H10 1"}, scanner)
        dialog.show()
        dialog.rescan()
        await asyncio.sleep(0.3)
        texts = [dialog.list.item(i).text() for i in range(dialog.list.count())]
        dialog.list.setCurrentRow(1)
        dialog.connect_button.click()
        await dialog.done_event.wait()
        return texts, dialog.chosen

    texts, chosen = run_in_qt(go())
    assert "last used" in texts[0] and "-82 dBm" in texts[0] and "-55 dBm" in texts[1]
    assert "unnamed strap" in texts[2]
    assert chosen.address == "AA:02"


def test_pairing_without_bluetooth_says_so_and_can_be_cancelled(qapp):
    async def scanner(_timeout: float):
        raise BluetoothUnavailable("no Bluetooth adapter was found; plug in or enable one, or use --simulate.")

    async def go():
        dialog = PairingDialog("nl", None, scanner)
        dialog.show()
        dialog.rescan()
        await asyncio.sleep(0.1)
        message = dialog.message.text()
        dialog.cancel_button.click()
        await dialog.done_event.wait()
        return message, dialog.chosen

    message, chosen = run_in_qt(go())
    assert "Bluetooth" in message and chosen is None


# --- the command line ------------------------------------------------------------------------------

def test_run_with_snapshot_renders_the_window_without_a_display(data_dir, tmp_path, shots, capsys, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    picture = shots / "snapshot-cli.png"
    assert main(["run", "--simulate", "--speed", "300", "--duration", "130", "--lang", "en",
                 "--snapshot", str(picture)]) == 0
    out = capsys.readouterr().out
    assert "Session saved" in out and f"Picture of the window saved: {picture}" in out
    assert stat.S_IMODE(picture.stat().st_mode) == 0o600
    img = QImage(str(picture))
    assert img.width() > 800 and _distinct_colours(img) > 30


def test_snapshot_with_headless_is_a_user_error(data_dir, capsys, tmp_path):
    assert main(["run", "--simulate", "--headless", "--snapshot", str(tmp_path / "x.png")]) == 2
    assert "--headless" in capsys.readouterr().err
    assert main(["run", "--simulate", "--snapshot", str(tmp_path / "nope" / "x.png")]) == 2
    assert "no such folder" in capsys.readouterr().err


def test_a_lost_strap_leaves_a_hole_in_the_curves_not_a_line_across_it():
    from sessions.gui.history import CurveHistory

    h = CurveHistory(16)
    h.append(1.0, 70.0)
    h.add_break(2.0)
    h.add_break(2.5)  # one hole per loss, however many frames it lasts
    h.append(3.0, None)  # an unknown value is skipped, not a hole
    h.append(4.0, 72.0)
    t, v = h.view()
    assert list(t) == [1.0, 2.0, 4.0]
    assert v[0] == 70.0 and math.isnan(v[1]) and v[2] == 72.0


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_distress_in_the_window_is_calm_and_the_closing_stays_readable(qapp, tmp_path, shots, lang):
    """The stressed simulated person: care in the window (no curves, the opening words kept on screen),
    and a closing whose help lines stay readable as a whole. Pictures: distress-*.png, care-closing-*.png."""
    from dataclasses import replace

    from devices.simulator import Person, StressEpisode

    person = replace(Person(), stress=StressEpisode(onset_s=200.0, duration_s=150))
    source = SimulatedStrap(person, seed=3, speed=400.0)
    writer = SessionWriter(tmp_path / f"care-{lang}.biofeedback.sqlite", {"script": "safe-place", "language": lang})
    runner = SessionRunner(source, load_script("safe-place", lang), load_common(lang), writer)
    window = SessionWindow(runner, lang, close_at_end=True)
    seen: dict[str, object] = {}
    runner.subscribe(lambda kind, t, data: window.frame() if kind is EventKind.PROMPT else None)

    def watch(_t: float) -> None:
        s = runner.state
        care = runner.steps.care
        if "distress" not in seen and care is not None and care.stage == "orientation":
            QApplication.sendPostedEvents()
            window.grab().save(str(shots / f"distress-{lang}.png"))
            seen["distress"] = (window.curves.isVisible(), window.banner.isVisible(), window.banner.text())
        if "closing" not in seen and care is not None and care.stage == "closing" and s.banner:
            QApplication.sendPostedEvents()
            window.grab().save(str(shots / f"care-closing-{lang}.png"))
            seen["closing"] = (window.curves.isVisible(), window.banner.text(), window.buttons["stop"].text())

    window.frame_listeners.append(watch)

    result = run_in_qt(_in_window(runner, window))
    common = runner.common
    assert result.reason == "distress"
    assert seen["distress"] == (False, True, " ".join(common.distress))
    curves, banner, stop = seen["closing"]
    assert not curves and banner == " ".join(common.care_closing) and "112" in banner
    assert stop.startswith({"nl": "Afronden", "en": "Finish"}[lang])


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_help_opens_over_the_window_with_h(qapp, tmp_path, shots, lang):
    runner = _runner(tmp_path, lang=lang)
    window = SessionWindow(runner, lang, close_at_end=True)
    window.resize(1280, 800)
    window.show()
    window.activateWindow()
    qapp.processEvents()
    QTest.keyClick(window, Qt.Key.Key_H)
    dialog = window.help_dialog
    assert dialog is not None and dialog.isVisible()
    text = " ".join(p.text() for p in dialog.paragraphs)
    assert ("113" in text and "112" in text) if lang == "nl" else "112" in text
    qapp.processEvents()
    dialog.grab().save(str(shots / f"help-dialog-{lang}.png"))
    dialog.close()
    window.close()


def test_the_first_safe_place_session_in_a_window_offers_the_builder_once(qapp, data_dir):
    """Before the first safe-place session in a window the builder opens; what is saved is the person's
    own place from then on, and it is offered only once (Cancel skips it for good)."""
    from sessions.commands.run import _first_safe_place, _offer_safe_place, person_senses
    from sessions.gui.safe_place_dialog import SafePlaceDialog
    from sessions.profile import load_profile

    async def answer(fill: bool):
        task = asyncio.ensure_future(_offer_safe_place("nl", load_profile()))
        await asyncio.sleep(0.2)
        dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, SafePlaceDialog) and w.isVisible())
        if fill:
            dialog.fields["place"].setText("de tuin van mijn oma")
            dialog.fields["sound"].setText("de merel")
            dialog.save_button.click()
        else:
            dialog.cancel_button.click()
        return await task

    assert _first_safe_place(load_profile())
    profile = run_in_qt(answer(fill=True))
    assert not _first_safe_place(profile)
    senses, own = person_senses(load_profile())
    assert own["place"] == "de tuin van je oma" and own["sound"] == "de merel"


def test_the_bedtime_window_is_near_black_with_only_a_dim_pacer(qapp, tmp_path, shots):
    """Someone falling asleep: no curves, no numbers, nothing bright, and the window closes itself."""
    source = SimulatedStrap(person_profile("follows"), seed=3, speed=150.0)
    writer = SessionWriter(tmp_path / "bed.biofeedback.sqlite", {"script": "safe-place-bedtime", "language": "en"})
    runner = SessionRunner(source, load_script("safe-place-bedtime", "en"), load_common("en"), writer,
                           duration_s=200.0, bedtime=True)
    window = SessionWindow(runner, "en", close_at_end=True)
    window.resize(1366, 768)
    seen: dict[str, QImage] = {}

    def watch(_t: float) -> None:
        s = runner.state
        if "mid" not in seen and s.phase == "step" and s.pacer is not None and s.t > 150:
            seen["mid"] = window.grab().toImage()
            seen["mid"].save(str(shots / "bedtime-window.png"))

    run_in_window(runner, window, writer, watch)
    img = seen["mid"]
    assert not window.isVisible()  # closed itself
    lum = []
    for y in range(0, img.height(), 4):
        for x in range(0, img.width(), 4):
            c = img.pixelColor(x, y)
            lum.append(0.2126 * c.red() + 0.7152 * c.green() + 0.0722 * c.blue())
    lum_arr = np.asarray(lum)
    assert lum_arr.mean() < 25 and np.percentile(lum_arr, 99.5) < 90  # near-black, nothing bright
    for key in ("hr_now_bpm", "rmssd_ms", "calm"):
        assert _colours_near(img, style.CURVES[key], 30) == 0, f"{key} curve shown at bedtime"
