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
from sessions.review.timeline import BEATS_UNDER, MARKS, PANELS, SHADES, instantaneous_hr
from sessions.review.words import say


def build_window(record: Record, lang: str | None = None):
    """The main window, built but not shown (the caller shows it or grabs a screenshot)."""
    import pyqtgraph as pg
    from pyqtgraph.Qt import QtCore, QtWidgets

    lang = lang or record.language
    pg.setConfigOptions(antialias=False, background="w", foreground="#333333")
    win = QtWidgets.QMainWindow()
    win.setWindowTitle(f"{say(lang, 'review_title')}: {record.title} · {record.id}")
    central = QtWidgets.QWidget()
    layout = QtWidgets.QVBoxLayout(central)
    rows = phase_rows(record)
    text = QtWidgets.QLabel(" ".join(plain_summary(record, rows, lang)))
    text.setWordWrap(True)
    layout.addWidget(text)
    split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
    graphs = pg.GraphicsLayoutWidget()
    split.addWidget(graphs)
    minutes = lambda a: np.asarray(a, dtype=float) / 60.0
    plots: list[Any] = []
    end_min = max(record.duration_s / 60.0, 0.1)
    prompts = minutes([t for t, _k, _d in record.events_of(EventKind.PROMPT)])
    for i, (key, colour) in enumerate(PANELS):
        plot = graphs.addPlot(row=i, col=0)
        plot.setLabel("left", table_title(registry.spec(key), lang))
        plot.setMouseEnabled(x=True, y=False)
        plot.showGrid(x=True, y=True, alpha=0.2)
        if plots:
            plot.setXLink(plots[0])
        if i < len(PANELS) - 1:
            plot.getAxis("bottom").setStyle(showValues=False)
        for j, p in enumerate(record.phases):
            region = pg.LinearRegionItem((p.start / 60, p.end / 60), movable=False,
                                         brush=pg.mkBrush(SHADES[j % 2]), pen=pg.mkPen(None))
            region.setZValue(-20)
            plot.addItem(region)
        for a, b in record.link_gaps():
            gap = pg.LinearRegionItem((a / 60, b / 60), movable=False, brush=pg.mkBrush("#bdc3c7"), pen=pg.mkPen(None))
            gap.setZValue(-10)
            plot.addItem(gap)
        for kind, mark_colour in MARKS.items():
            for t, _k, _d in record.events_of(kind):
                pen = pg.mkPen(mark_colour, width=1.5, style=QtCore.Qt.PenStyle.DashLine)
                plot.addItem(pg.InfiniteLine(t / 60, angle=90, pen=pen))
        y = record.metrics[key]
        ok = ~np.isnan(y)
        plot.plot(minutes(record.metric_t[ok]), y[ok], pen=pg.mkPen(colour, width=2),
                  stepMode=None, connect="finite")
        if key == BEATS_UNDER and len(record.beat_t):
            _beats(plot, record, prompts, lang)
        plots.append(plot)
    plots[-1].setLabel("bottom", say(lang, "time_min"))
    plots[0].setXRange(0, end_min, padding=0.01)
    header, body = table_cells(rows, lang)
    table = QtWidgets.QTableWidget(len(body), len(header))
    table.setHorizontalHeaderLabels(header)
    for i_row, row in enumerate(body):
        for c, cell in enumerate(row):
            item = QtWidgets.QTableWidgetItem(cell)
            if c:
                item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
            table.setItem(i_row, c, item)
    table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
    table.resizeColumnsToContents()
    split.addWidget(table)
    split.setSizes([620, 200])
    layout.addWidget(split)
    foot = QtWidgets.QLabel(say(lang, "what_not"))
    foot.setWordWrap(True)
    foot.setStyleSheet("color: #666666; font-size: 10px;")
    layout.addWidget(foot)
    win.setCentralWidget(central)
    win.resize(1200, 900)
    win.plots = plots  # for tests and screenshots
    win.phase_table = table
    return win


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
    """Every beat's heart rate dotted under the curve, artefacts as crosses, prompts and phase names on top."""
    import pyqtgraph as pg

    bt, bh = instantaneous_hr(record)
    nn = record.nn_mask
    plot.plot(bt[nn], bh[nn], pen=None, symbol="o", symbolSize=2, symbolBrush="#e6b0aa", symbolPen=None)
    art = record.artefact_mask
    if art.any():
        plot.plot(bt[art], np.clip(bh[art], 30, 200), pen=None, symbol="x", symbolSize=7,
                  symbolBrush="#000000", symbolPen=pg.mkPen("#000000"))
    top = float(np.nanpercentile(bh[nn], 99.5)) + 3 if nn.any() else 100.0
    if len(prompts):
        plot.plot(prompts, np.full(len(prompts), top), pen=None, symbol="t", symbolSize=7,
                  symbolBrush="#5d6d7e", symbolPen=None)
    for p in record.phases:
        label = pg.TextItem(phase_label(p.name, lang), color="#34495e", anchor=(0, 0))
        label.setPos(p.start / 60, top + 4)
        plot.addItem(label)
    if nn.sum() > 10:
        lo, hi = np.percentile(bh[nn], [0.5, 99.5])
        plot.setYRange(lo - 5, hi + 8, padding=0)
