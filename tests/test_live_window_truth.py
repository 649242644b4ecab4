"""The live window tells the truth (issue 16): a 40-s hole in a real Polar H10 recording is a gap in
every curve and "no signal" in the status, a missing value is never a ramp, the first beat does not
spike the start, pause is said on the disc, the end screen has a summary and no live buttons, the
pairing dialog speaks to a window user, and coherence comes as zones with the time in high.
Real recording, real runner, real window rendered offscreen.
"""

from __future__ import annotations

import asyncio
import math
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("pyqtgraph")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from biofeedback.coherence_zones import Zone, shares, zone  # noqa: E402
from devices.errors import BluetoothUnavailable  # noqa: E402
from devices.replay import Replay  # noqa: E402
from devices.simulated_strap import SimulatedStrap  # noqa: E402
from devices.simulator import person_profile  # noqa: E402
from sessions.exercises import load_common, load_script  # noqa: E402
from sessions.gui.app import run_in_qt  # noqa: E402
from sessions.gui.pairing import PairingDialog  # noqa: E402
from sessions.gui.window import SessionWindow  # noqa: E402
from sessions.runner import SessionRunner  # noqa: E402
from sessions.store import SessionWriter  # noqa: E402
from tests.h10kit import HOLE, polar_with_hole  # noqa: E402


def _window(tmp_path: Path, source, lang: str = "en", duration_s: float | None = 200.0, script: str = "safe-place"):
    writer = SessionWriter(tmp_path / f"w-{lang}.biofeedback.sqlite", {"script": script, "language": lang})
    runner = SessionRunner(source, load_script(script, lang), load_common(lang), writer, duration_s=duration_s)
    return runner, SessionWindow(runner, lang, close_at_end=True)


async def _live(runner, window):
    task = asyncio.ensure_future(runner.run())
    await window.run_live(task)
    result = await task
    runner.writer.close(end_reason=result.reason)
    return result


def test_a_hole_in_a_real_recording_is_a_gap_and_no_signal_not_a_line_or_a_connected_strap(qapp, tmp_path):
    runner, window = _window(tmp_path, Replay.from_file(polar_with_hole(tmp_path), speed=None))
    # A frame at every 5-s row, whatever the machine's speed; at full speed the replay jumps over the hole,
    # so the frame after it must notice from the beats alone.
    runner.subscribe(lambda kind, t, data: window.frame() if kind.value == "metrics" else None)
    run_in_qt(_live(runner, window))
    # Every curve has a gap (NaN) somewhere inside the hole, and no point drawn in it.
    crossed = []
    for key, history in window.curves.history.items():
        t, v = history.view()
        inside = (t * 60 > HOLE[0] + 1) & (t * 60 < HOLE[1] - 1)
        assert not (inside & ~np.isnan(v)).any(), f"{key}: a point inside the hole"
        before, after = t * 60 <= HOLE[0] + 1, t * 60 >= HOLE[1] - 1
        if before.any() and after.any():
            last_before = int(before.nonzero()[0].max())
            first_after = int(after.nonzero()[0].min())
            assert any(math.isnan(x) for x in v[last_before:first_after + 1]), f"{key}: a line across the hole"
            crossed.append(key)
    assert len(crossed) >= 4 and crossed == list(window.curves.history), crossed  # every curve was checked across it
    # The first beat (421 ms, 142 bpm) is not drawn: the curve starts where the heart is (about 90 bpm).
    t, v = window.curves.history["hr_now_bpm"].view()
    first = [x for x in v[:5] if math.isfinite(x)]
    assert first and max(first) < 110
    # With the last beat 40 s old (as a live strap's clock runs on through a hole) the status says so,
    # never "strap connected · skin contact".
    s = runner.state
    window.stall_wall_s = 0.0  # judged on session time alone, however fast this machine ran the replay
    s.phase, s.t = type(s.phase).STEP, s.last_beat_t + 40.0
    assert window.status_text().startswith("no signal for 40 s") and "skin contact" not in window.status_text()
    s.t = s.last_beat_t + 2.0
    assert "skin contact" in window.status_text()


def test_a_missing_value_is_a_gap_not_a_ramp(qapp):
    from sessions.gui.curves import CurvesPanel

    panel = CurvesPanel("en")
    for i, value in enumerate([20.0, 21.0, None, None, 35.0]):
        panel.add("rmssd_ms", i * 12.0, value)
    t, v = panel.history["rmssd_ms"].view()
    assert math.isnan(v[2]) and list(v[[0, 1, 3]]) == [20.0, 21.0, 35.0] and len(v) == 4


def test_pause_is_said_on_the_disc_and_the_end_screen_sums_up_with_no_live_buttons(qapp, tmp_path):
    runner, window = _window(tmp_path, SimulatedStrap(person_profile("follows"), seed=3, speed=None), duration_s=260.0)
    seen: dict[str, object] = {}

    def on_metrics(kind, t, data):
        if kind.value != "metrics":
            return
        s = runner.state
        if "paused" not in seen and s.phase == "step" and s.pacer is not None:
            window.toggle_pause()
            window.frame()
            seen["paused"] = (window.pacer.paused, window.pacer.words["paused"], window.grab().toImage())
            window.toggle_pause()
        window.frame()

    runner.subscribe(on_metrics)
    result = run_in_qt(_live(runner, window))
    paused, word, _img = seen["paused"]
    assert paused and word == "paused"
    assert window.pacer.phase is None  # the disc rests at the end, no breath frozen half way
    assert window.summary.isVisible() and window.summary.text().startswith(f"{result.duration_s / 60:.0f} min saved")
    assert "calm" in window.summary.text() and "heart rate" in window.summary.text()
    for name in ("pause", "too_much", "next", "resume", "stop"):
        assert not window.buttons[name].isVisible(), name
    window.frame()  # a stray frame after the end changes none of that
    assert not window.buttons["too_much"].isVisible() and window.pacer.phase is None
    QTest.keyClick(window, Qt.Key.Key_Q)  # q closes the finished window
    assert not window.isVisible()


def test_the_resonance_assessment_shows_its_result_in_the_window(qapp, tmp_path):
    runner, window = _window(tmp_path, SimulatedStrap(person_profile("follows"), seed=2, speed=None),
                             duration_s=None, script="resonance-assessment")
    result = run_in_qt(_live(runner, window))
    text = window.summary.text()
    # The simulated person follows the pacer and has a clear resonance (as in test_report_comparison).
    assert result.resonance_rate is not None and f"resonance rate: {result.resonance_rate:.1f}/min" in text, text
    assert "no clear resonance rate" not in text


@pytest.mark.parametrize("lang,expect", [("en", "Look again"), ("nl", "Opnieuw zoeken")])
def test_pairing_without_bluetooth_never_tells_a_window_user_to_use_a_flag(qapp, lang, expect):
    async def scanner(_timeout: float):
        raise BluetoothUnavailable("no Bluetooth adapter was found; plug in or enable a Bluetooth LE adapter, "
                                   "or use --simulate.")

    async def go():
        dialog = PairingDialog(lang, None, scanner)
        dialog.show()
        dialog.rescan()
        await asyncio.sleep(0.1)
        state = dialog.message.text(), dialog.connect_button.isEnabled(), dialog.list.count()
        dialog.cancel_button.click()
        await dialog.done_event.wait()
        return state

    message, connect_enabled, rows = run_in_qt(go())
    assert "--simulate" not in message and expect in message
    assert rows == 0 and not connect_enabled  # nothing to connect to


def test_coherence_zones_and_time_in_coherence():
    assert [zone(x) for x in (0.2, 0.5, 0.99, 1.0, 4.0)] == [Zone.LOW, Zone.MEDIUM, Zone.MEDIUM, Zone.HIGH, Zone.HIGH]
    assert zone(None) is None and zone(math.nan) is None
    got = shares([0.2, None, 0.7, 1.5, 2.0])
    assert got is not None and got.updates == 4 and (got.low, got.medium, got.high) == (0.25, 0.25, 0.5)
    assert shares([None, math.nan]) is None
