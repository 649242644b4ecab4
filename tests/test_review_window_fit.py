"""The review window as a person sees it (issue 16): the phase table fits a 1366×768 laptop without a
horizontal scroll in Dutch and English, the panels' names never run into each other, the ECG strip is
drawn in the window's dark palette, and a missing value or a hole in a real recording is a gap in every
curve (never a ramp) and a grey band. Real H10 recording with 40 s taken out, a simulated H10 session,
real windows rendered offscreen.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("pyqtgraph")

from devices.replay import Replay  # noqa: E402
from devices.simulated_strap import SimulatedStrap  # noqa: E402
from devices.simulator import person_profile  # noqa: E402
from sessions.exercises import load_common, load_script  # noqa: E402
from sessions.review.record import load_record  # noqa: E402
from sessions.review.timeline import PANELS, shown_series, signal_gaps  # noqa: E402
from sessions.runner import SessionRunner  # noqa: E402
from sessions.store import SessionWriter  # noqa: E402
from tests.conftest import POLAR_H10  # noqa: E402
from tests.h10kit import HOLE, polar_with_hole  # noqa: E402

LAPTOP = (1200, 720)
"""The review window's size on a 1366×768 screen (its 1200×900 shrunk to the free area)."""


def _record(folder: Path, source, name: str, lang: str = "en", duration_s: float | None = None):
    path = folder / f"{name}.biofeedback.sqlite"
    writer = SessionWriter(path, {"script": "safe-place", "language": lang, "source": source.describe()})
    runner = SessionRunner(source, load_script("safe-place", lang), load_common(lang), writer, duration_s=duration_s)
    result = asyncio.run(runner.run())
    writer.close(end_reason=result.reason)
    return load_record(path)


@pytest.fixture(scope="module")
def h10_session(tmp_path_factory):
    """Eleven minutes on a simulated Polar H10: every step, so every row of the phase table, and an ECG."""
    strap = SimulatedStrap(person_profile("follows"), seed=4, speed=None, strap="h10")
    return _record(tmp_path_factory.mktemp("h10"), strap, "h10", duration_s=600.0)


@pytest.fixture(scope="module")
def hole_session(tmp_path_factory):
    if not POLAR_H10.exists():
        pytest.skip(f"real Polar H10 recording not found at {POLAR_H10}")
    folder = tmp_path_factory.mktemp("hole")
    return _record(folder, Replay.from_file(polar_with_hole(folder), speed=None), "hole")


def _window(qapp, record, lang):
    from sessions.review.window import build_window

    win = build_window(record, lang)
    win.resize(*LAPTOP)
    win.show()
    for _ in range(3):
        qapp.processEvents()
    return win


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_phase_table_fits_a_laptop_without_scrolling_sideways(qapp, h10_session, lang):
    win = _window(qapp, h10_session, lang)
    table = win.phase_table
    assert table.rowCount() == len(h10_session.phases) >= 7
    widths = sum(table.columnWidth(c) for c in range(table.columnCount()))
    assert widths <= table.viewport().width() and not table.horizontalScrollBar().isVisible()
    header = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert ("hartslag\n(slagen/min)" if lang == "nl" else "heart rate\n(bpm)") in header  # unit under its name
    win.close()


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_panel_names_never_run_into_each_other(qapp, h10_session, lang):
    """Every visible panel name (and any axis title) has its own place: no two overlap on screen."""
    win = _window(qapp, h10_session, lang)
    plots = [*win.plots, win.ecg_strip]
    shown = []
    for plot in plots:
        axis = plot.getAxis("left")
        if axis.label.isVisible() and axis.label.toPlainText().strip():
            shown.append((axis.label.toPlainText(), axis.label.sceneBoundingRect()))
    for label in getattr(win, "panel_labels", []):
        shown.append((label.text, label.sceneBoundingRect()))
    names = " ".join(text for text, _ in shown)
    for word in (("hartslag", "RMSSD", "coherentie", "kalmte", "ademtempo", "ECG") if lang == "nl"
                 else ("heart rate", "RMSSD", "coherence", "calm", "pacer", "ECG")):
        assert word in names
    for i, (a, ra) in enumerate(shown):
        for b, rb in shown[i + 1:]:
            assert not ra.intersects(rb), f"{a!r} runs into {b!r}"
    win.close()


def test_the_ecg_strip_is_drawn_in_the_dark_palette(qapp, h10_session):
    from sessions.gui import style
    from sessions.review.window import DARK

    win = _window(qapp, h10_session, "nl")
    items = win.ecg_strip.listDataItems()
    line = items[0].opts["pen"].color()
    assert line.name() == DARK["ecg"] and line.lightness() > 120  # light on the dark panel, not a navy line
    import pyqtgraph as pg

    dots = pg.mkColor(items[1].opts["symbolBrush"])
    assert dots.lightness() > 120  # normal beats' dots visible too
    letters = [item for item in win.ecg_strip.items if type(item).__name__ == "TextItem"]
    assert all(pg.mkColor(item.color).lightness() > 100 for item in letters)
    img = win.grab().toImage()
    assert img.pixelColor(img.width() // 2, img.height() // 3).lightness() < 60 and style.BACKGROUND in win.styleSheet()
    win.close()


def test_a_hole_and_missing_values_are_gaps_never_ramps(qapp, hole_session):
    record = hole_session
    gaps = signal_gaps(record)
    assert any(a <= HOLE[0] + 1 and b >= HOLE[1] - 1 for a, b in gaps), gaps  # the hole is a grey band
    for key, _colour in PANELS:
        t, y = shown_series(record, key)
        inside = (t > HOLE[0] + 1) & (t < HOLE[1] - 1)
        assert not np.isfinite(y[inside]).any(), f"{key}: a value drawn inside the hole"
        before, after = np.flatnonzero(t <= HOLE[0]), np.flatnonzero(t >= HOLE[1])
        if before.size and after.size:
            assert np.isnan(y[before[-1]:after[0] + 1]).any(), f"{key}: a line across the hole"
        # every value the record lacks stays a break between its neighbours (no ramp over it)
        raw_t, raw = record.metric_t, record.metrics[key]
        for i in np.flatnonzero(np.isnan(raw[1:-1])) + 1:
            a, b = np.searchsorted(t, raw_t[i - 1]), np.searchsorted(t, raw_t[i + 1])
            assert np.isnan(y[a:b + 1]).any(), f"{key}: a ramp over the missing value at {raw_t[i]:.0f} s"
    assert np.isnan(record.metrics["rmssd_ms"]).any(), "this recording has missing RMSSD values to bridge"
    # ... and the window draws exactly that series (RMSSD, the panel the ramp was seen in)
    win = _window(qapp, record, "nl")
    keys = [k for k, _ in PANELS]
    curve = win.plots[keys.index("rmssd_ms")].listDataItems()[0]
    x, y = curve.getData()
    t, expected = shown_series(record, "rmssd_ms")
    assert np.allclose(x, t / 60.0) and np.array_equal(np.isnan(y), np.isnan(expected))
    band = [item for item in win.plots[0].items if type(item).__name__ == "LinearRegionItem"
            and item.getRegion()[0] <= HOLE[0] / 60 + 0.02 and item.getRegion()[1] >= HOLE[1] / 60 - 0.02]
    assert band, "the hole is not drawn as a band"
    win.close()


def test_the_quiet_start_is_named_in_the_readers_language_above_the_curves(qapp, h10_session):
    """A session recorded in English, read in Dutch: the step row says "Rustige start" like the table."""
    from matplotlib.figure import Figure

    from sessions.review.timeline import draw_timeline

    win = _window(qapp, h10_session, "nl")
    names = [item.toPlainText() for item in win.step_names.items if type(item).__name__ == "TextItem"]
    assert "Rustige start" in names and "Quiet start" not in names
    assert win.phase_table.item(0, 0).text() == "Rustige start"
    win.close()
    fig = Figure(figsize=(8, 10))
    draw_timeline(fig, h10_session, "nl")
    printed = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert "Rustige start" in printed and "Quiet start" not in printed
