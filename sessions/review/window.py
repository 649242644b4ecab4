"""The interactive review window (pyqtgraph): the session's curves on linked time axes, the steps
shaded and named, events marked, and the per-phase table below. Zoom and pan with the mouse (wheel
zooms time, drag pans; right-click 'View All' resets); all panels follow the same time axis.

Qt and pyqtgraph are imported here only, so the core CLI runs without them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sessions.private_files import picture_bytes, write_private
from sessions import metric_registry as registry
from sessions.events import EventKind
from sessions.review.phase_table import phase_label, phase_rows, table_cells, table_title
from sessions.review.record import Record
from sessions.review.summary import plain_summary
from sessions.review import subjective
from sessions.review.timeline import (BEATS_UNDER, MARKS, PANELS, baselines, fitted_labels, instantaneous_hr,
                                     legend_text, off_scale, pause_bands, shown_series, signal_gaps)
from sessions.review.words import say


AXIS_PX = 40
"""Width of every panel's left axis (values only), so the step-name row and the panels share one time axis."""
LABEL_PX = 92
"""Width of the column of panel names left of the axes ("coherentie", "(slagen/min)" at 8-9 pt)."""
PLOT_COL = 1
"""The panels' column in the layout; column 0 holds their names."""
DARK = {
    "shades": ("#0f161b", "#142029"), "gap": "#2b3135", "paused": "#3b3422", "baseline": "#8a9aa5",
    "flagged": "#e6e1d3", "prompt": "#8aa0b0", "nn": "#b5837c", "names": "#a9a397", "legend": "#a9a397",
    "foot": "#6f7b83", "ecg": "#8fb3c9", "ecg_N": "#a9a397", "ecg_V": "#e07a5f", "ecg_S": "#e6a15c",
    "ecg_F": "#b39ddb", "ecg_Q": "#8a9aa5",
}
"""The review window in the live window's dark colours (the printed report stays light)."""
TABLE_SHEET = """
QTableWidget { background: #10171c; alternate-background-color: #131d24; gridline-color: #1d272e; font-size: 10pt; }
QHeaderView::section { background: #0b1014; color: #a9a397; border: none; border-bottom: 1px solid #1d272e;
                       padding: 2px 4px; font-size: 9pt; }
"""


def build_window(record: Record, lang: str | None = None):
    """The main window, built but not shown (the caller shows it or grabs a screenshot)."""
    import pyqtgraph as pg
    from pyqtgraph.Qt import QtCore, QtWidgets

    from sessions.gui import style

    lang = lang or record.language
    pg.setConfigOptions(antialias=False, background=style.BACKGROUND, foreground=style.TEXT)
    win = QtWidgets.QMainWindow()
    win.setStyleSheet(style.STYLE_SHEET + TABLE_SHEET)
    win.setWindowTitle(f"{say(lang, 'review_title')}: {record.title} · {record.id}")
    central = QtWidgets.QWidget()
    layout = QtWidgets.QVBoxLayout(central)
    rows = phase_rows(record)
    text = QtWidgets.QLabel(" ".join(plain_summary(record, rows, lang)))
    text.setWordWrap(True)
    layout.addWidget(text)
    win.personal = _personal_label(layout, record, lang)
    split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
    graphs = pg.GraphicsLayoutWidget()
    split.addWidget(graphs)
    minutes = lambda a: np.asarray(a, dtype=float) / 60.0
    plots: list[Any] = []
    end_min = max(record.duration_s / 60.0, 0.1)
    prompts = minutes([t for t, _k, _d in record.events_of(EventKind.PROMPT)])
    levels = baselines(record)
    gaps = signal_gaps(record)
    names = _step_row(graphs, record, lang, end_min)
    for i, (key, colour) in enumerate(PANELS):
        plot = graphs.addPlot(row=i + 1, col=PLOT_COL)
        panel_label(graphs, i + 1, table_title(registry.spec(key), lang), registry.spec(key).gui_colour or colour)
        plot.getAxis("left").setWidth(AXIS_PX)
        plot.setMouseEnabled(x=True, y=False)
        plot.showGrid(x=True, y=True, alpha=0.2)
        if plots:
            plot.setXLink(plots[0])
        if i < len(PANELS) - 1:
            plot.getAxis("bottom").setStyle(showValues=False)
        for j, p in enumerate(record.phases):
            region = pg.LinearRegionItem((p.start / 60, p.end / 60), movable=False,
                                         brush=pg.mkBrush(DARK["shades"][j % 2]), pen=pg.mkPen(None))
            region.setZValue(-20)
            plot.addItem(region)
        for bands, band_colour in ((gaps, DARK["gap"]), (pause_bands(record), DARK["paused"])):
            for a, b in bands:
                band = pg.LinearRegionItem((a / 60, b / 60), movable=False, brush=pg.mkBrush(band_colour),
                                           pen=pg.mkPen(None))
                band.setZValue(-10)
                plot.addItem(band)
        if key in levels:
            level = pg.InfiniteLine(levels[key], angle=0,
                                    pen=pg.mkPen(DARK["baseline"], width=1, style=QtCore.Qt.PenStyle.DotLine))
            plot.addItem(level)
        for kind, mark_colour in MARKS.items():
            for at, _k, _d in record.events_of(kind):
                pen = pg.mkPen(mark_colour, width=1.5, style=QtCore.Qt.PenStyle.DashLine)
                plot.addItem(pg.InfiniteLine(at / 60, angle=90, pen=pen))
        _add_markers(plot, record, lang, with_labels=not plots)
        t, y = shown_series(record, key, gaps)  # a missing value or no signal is a break, never a ramp
        plot.plot(minutes(t), y, pen=pg.mkPen(registry.spec(key).gui_colour or colour, width=2),
                  stepMode=None, connect="finite")
        if key == BEATS_UNDER and len(record.beat_t):
            _beats(plot, record, prompts, lang)
        plots.append(plot)
    names.setXLink(plots[0])
    from sessions.review.ecg_strip import add_ecg_strip  # the strap's ECG under the tachogram (H10 sessions only)

    win_ecg = add_ecg_strip(graphs, record, len(PANELS) + 1, lang, plots[0], AXIS_PX)
    plots[-1].setLabel("bottom", say(lang, "time_min"))
    plots[0].setXRange(0, end_min, padding=0.01)
    header, body = table_cells(rows, lang)
    table = QtWidgets.QTableWidget(len(body), len(header))
    table.setHorizontalHeaderLabels([_two_lines(h) for h in header])  # narrow columns: the table fits 1366 px
    for i_row, row in enumerate(body):
        for c, cell in enumerate(row):
            item = QtWidgets.QTableWidgetItem(cell)
            if c:
                item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
            table.setItem(i_row, c, item)
    table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(22)  # compact rows: every phase visible on a laptop
    # Columns as wide as their header and cells in the style's font (the phase names whole where they fit).
    table.horizontalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
    split.addWidget(table)
    layout.addWidget(split)
    legend = QtWidgets.QLabel(legend_text(lang))
    legend.setWordWrap(True)
    legend.setStyleSheet(f"color: {DARK['legend']}; font-size: 9pt;")
    layout.addWidget(legend)
    foot = QtWidgets.QLabel(say(lang, "what_not"))
    foot.setWordWrap(True)
    foot.setStyleSheet(f"color: {DARK['foot']}; font-size: 9pt;")
    layout.addWidget(foot)
    text.setStyleSheet("font-size: 10pt;")
    win.setCentralWidget(central)
    width, height = _fitting(1200, 900)
    win.resize(width, height)
    # The table as tall as its rows (header included, up to 12 rows), kept at any window height: a 1366×768
    # laptop shows every phase; the curves get the rest, and the divider still moves.
    table.setMinimumHeight(table.horizontalHeader().sizeHint().height() + 22 * min(len(body), 12) + 4
                           + table.horizontalScrollBar().sizeHint().height())  # room for it when narrow
    split.setSizes([max(200, height - table.minimumHeight()), table.minimumHeight()])
    win.plots = plots  # for tests and screenshots
    win.phase_table = table
    win.legend = legend
    win.step_names = names
    win.ecg_strip = win_ecg
    win.panel_labels = graphs.panel_labels
    return win


MARKER_GUI = "#c39bd3"
"""Markers in the dark review window: a soft violet, apart from distress (red) and grounding marks."""


def _add_markers(plot: Any, record: Record, lang: str, with_labels: bool) -> None:
    """The markers: a line through every panel, the word on the top one."""
    import pyqtgraph as pg

    for m in subjective.markers(record, lang):
        plot.addItem(pg.InfiniteLine(m.t / 60, angle=90, pen=pg.mkPen(MARKER_GUI, width=1.5),
                                     label=m.label if with_labels else None,
                                     labelOpts={"position": 0.8, "color": MARKER_GUI, "fill": (11, 16, 20, 220)}))


def _personal_label(layout: Any, record: Record, lang: str) -> Any:
    """Their own words after the session and the therapist's notes under the summary (None without any)."""
    from pyqtgraph.Qt import QtWidgets

    from sessions.gui import style

    lines = _personal_lines(record, lang)
    if not lines:
        return None
    said = QtWidgets.QLabel("\n".join(lines))
    said.setWordWrap(True)
    said.setStyleSheet(f"color: {style.PROMPT}; font-size: 10pt;")
    layout.addWidget(said)
    return said


def _personal_lines(record: Record, lang: str) -> list[str]:
    """What the person said after (their own words) and the therapist's notes, under the summary."""
    out = []
    said = subjective.came_up(record)
    if said:
        out.append(f"{subjective.word(lang, 'came_up')}: {said}")
    for when, note in subjective.notes(record):
        out.append(f"{subjective.word(lang, 'notes_title')} ({when[:16].replace('T', ' ')}): {note}")
    return out


def _two_lines(header: str) -> str:
    """A column title on two lines, the unit (or the second word) under the name: "hartslag" over
    "(slagen/min)" is as clear and half as wide, so every column fits without scrolling."""
    if " (" in header:
        return header.replace(" (", "\n(", 1)
    name, _, rest = header.rpartition(" ")
    return f"{name}\n{rest}" if name and len(header) > 10 else header


def panel_label(graphs: Any, row: int, text: str, colour: str) -> Any:
    """The panel's name level in a column of its own left of the panel, its unit on a second line: rotated
    titles ran into each other on short panels ("RMSSD" into "hartslag"), and a name inside the panel
    would cover the curve."""
    name, _, unit = text.partition(" (")
    html = f"<span style='color:{colour}'>{name}</span>"
    if unit:
        html += f"<br><span style='color:{DARK['legend']}; font-size:8pt'>({unit}</span>"
    label = graphs.addLabel(html, row=row, col=0, justify="right", size="9pt")
    graphs.ci.layout.setColumnFixedWidth(0, LABEL_PX)
    graphs.panel_labels = [*getattr(graphs, "panel_labels", []), label]  # for tests and screenshots
    return label


def _fitting(width: int, height: int) -> tuple[int, int]:
    """The window's size, shrunk to the screen's free area (a 1366×768 laptop shows the whole table)."""
    from pyqtgraph.Qt import QtWidgets

    screen = QtWidgets.QApplication.primaryScreen()
    if screen is None:
        return width, height
    free = screen.availableGeometry()
    return min(width, free.width() - 24), min(height, free.height() - 48)


def app():
    from pyqtgraph.Qt import QtWidgets

    return QtWidgets.QApplication.instance() or QtWidgets.QApplication([])


def screenshot(record: Record, path, lang: str | None = None) -> None:
    """Renders the window off screen into a PNG (QT_QPA_PLATFORM=offscreen needs no display)."""
    qapp = app()
    win = build_window(record, lang)
    win.show()
    qapp.processEvents()
    data = picture_bytes(win, path.suffix)
    win.close()
    if data is None:
        from sessions.errors import UserError

        raise UserError(f"{path}: could not write the screenshot.")
    write_private(path, data)


def show(record: Record, lang: str | None = None) -> int:
    qapp = app()
    win = build_window(record, lang)
    win.show()
    return qapp.exec()


def _beats(plot, record: Record, prompts: np.ndarray, lang: str) -> None:
    """Every beat's heart rate dotted under the curve, artefacts as crosses, prompts on top."""
    import pyqtgraph as pg

    bt, bh = instantaneous_hr(record)
    nn = record.nn_mask
    plot.plot(bt[nn], bh[nn], pen=None, symbol="o", symbolSize=2, symbolBrush=DARK["nn"], symbolPen=None)
    art = record.artefact_mask
    lo, hi = (float(v) for v in np.percentile(bh[nn], [0.5, 99.5])) if nn.sum() > 10 else (30.0, 200.0)
    lo, hi = lo - 5, hi + 8
    if art.any():  # at the edge when off the scale, and counted there
        plot.plot(bt[art], np.clip(bh[art], lo + 0.5, hi - 0.5), pen=None, symbol="x", symbolSize=7,
                  symbolBrush=DARK["flagged"], symbolPen=pg.mkPen(DARK["flagged"]))
    top = hi - 2
    if len(prompts):
        plot.plot(prompts, np.full(len(prompts), top), pen=None, symbol="t", symbolSize=7,
                  symbolBrush=DARK["prompt"], symbolPen=None)
    plot.setYRange(lo, hi, padding=0)
    if art.any():
        above, below = off_scale(bh[art], lo, hi)
        for count, y, arrow in ((above, hi, "↑"), (below, lo, "↓")):
            if count:
                note = pg.TextItem(f"{arrow} {count} ×", color=DARK["flagged"], anchor=(1, 0 if arrow == "↑" else 1))
                note.setPos(record.duration_s / 60, y)
                plot.addItem(note)


def _step_row(graphs, record: Record, lang: str, end_min: float):
    """The step names in a row of their own above the panels (shortened or left out where the step is too
    narrow at the window's first width), so they never cover the prompt marks or each other."""
    import pyqtgraph as pg

    row = graphs.addPlot(row=0, col=PLOT_COL)
    row.hideAxis("bottom")
    axis = row.getAxis("left")
    axis.setWidth(AXIS_PX)  # the same width as the panels' axes, so the names sit over their steps
    axis.setStyle(showValues=False)
    axis.setPen(pg.mkPen(None))
    row.setMouseEnabled(x=True, y=False)
    row.setMaximumHeight(24)
    row.setMinimumHeight(24)  # the names whole (descenders too) beside the taller two-line panel names
    row.setYRange(0, 1, padding=0)
    per_char = end_min / 1000.0 * 7.5  # minutes per character at about 1000 px of plot and 7.5-px characters
    spans = [(p.start / 60, p.end / 60, phase_label(p, lang)) for p in record.phases]
    for x, text in fitted_labels(spans, per_char):
        label = pg.TextItem(text, color=DARK["names"], anchor=(0.5, 0.5))
        label.setPos(x, 0.5)
        row.addItem(label)
    return row
