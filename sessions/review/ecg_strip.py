"""The review window's ECG strip: the strap's own ECG under the RR tachogram, each beat with its class.

Why: a flagged beat in the tachogram raises the question "was that really an extra beat?"; the ECG
under it, on the same time axis, answers it at a glance, and the class letter says what the ECG
classifier decided (V ventricular, S supraventricular, F fusion, Q unclassifiable; normal beats
are a small dot, so the unusual ones stand out). Only sessions with a Polar H10's ECG have it.

pyqtgraph is imported inside, like the rest of the review window.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sessions.review.record import Record

CLASSES = ("V", "S", "F", "Q")
TITLES = {"en": "ECG (mV)", "nl": "ECG (mV)"}
KEY = {"en": "V ventricular · S supraventricular · F fusion · Q unclassifiable · dot: normal",
       "nl": "V ventriculair · S supraventriculair · F fusie · Q niet te beoordelen · punt: normaal"}


def strip_data(record: Record) -> tuple[np.ndarray, np.ndarray, list[tuple[float, float, str]]] | None:
    """(minutes, mV) of the ECG with NaN across lost frames, and (minute, mV at the beat, class) per ECG beat."""
    ecg = record.ecg
    if ecg is None or not len(ecg):
        return None
    t = ecg.t.astype(float)
    mv = ecg.values.astype(float) / 1000.0
    breaks = np.flatnonzero(np.diff(t) > 3.0 / ecg.fs)  # a lost frame: no line drawn across it
    if len(breaks):
        t = np.insert(t, breaks + 1, np.nan)
        mv = np.insert(mv, breaks + 1, np.nan)
    beats: list[tuple[float, float, str]] = []
    if record.ecg_beat_t is not None and record.ecg_beat_labels is not None:
        at = np.interp(record.ecg_beat_t, ecg.t, ecg.values.astype(float)) / 1000.0
        beats = [(float(bt) / 60.0, float(v), str(lab))
                 for bt, v, lab in zip(record.ecg_beat_t, at, record.ecg_beat_labels, strict=True)]
    return t / 60.0, mv, beats


def add_ecg_strip(graphs: Any, record: Record, row: int, lang: str, link_to: Any, axis_px: int) -> Any | None:
    """A plot in ``graphs`` at ``row`` with the ECG and its beat classes, time-linked to ``link_to``; None without ECG."""
    import pyqtgraph as pg

    from sessions.review.window import DARK, PLOT_COL, panel_label  # the review window's dark palette

    data = strip_data(record)
    if data is None:
        return None
    minutes, mv, beats = data
    plot = graphs.addPlot(row=row, col=PLOT_COL)
    panel_label(graphs, row, TITLES.get(lang, TITLES["en"]), str(DARK["ecg"]))
    plot.getAxis("left").setWidth(axis_px)
    plot.setMouseEnabled(x=True, y=False)
    plot.showGrid(x=True, y=True, alpha=0.2)
    plot.setXLink(link_to)
    plot.setDownsampling(auto=True, mode="peak")  # a 2-hour ECG is almost a million samples
    plot.setClipToView(True)
    plot.plot(minutes, mv, pen=pg.mkPen(DARK["ecg"], width=1), connect="finite")
    normal = [(m, v) for m, v, lab in beats if lab == "N"]
    if normal:
        xs, ys = zip(*normal, strict=True)
        plot.plot(xs, ys, pen=None, symbol="o", symbolSize=3, symbolBrush=DARK["ecg_N"], symbolPen=None)
    for m, v, lab in beats:
        if lab != "N":
            text = pg.TextItem(lab, color=DARK[f"ecg_{lab}"] if lab in CLASSES else DARK["ecg_N"], anchor=(0.5, 1.0))
            text.setPos(m, v)
            plot.addItem(text)
    plot.setTitle(KEY.get(lang, KEY["en"]), size="8pt")
    finite = mv[np.isfinite(mv)]
    if finite.size:
        lo, hi = np.percentile(finite, [0.1, 99.9])
        pad = 0.15 * (hi - lo or 1.0)
        plot.setYRange(lo - pad, hi + 2 * pad, padding=0)
    return plot
