"""What the review and the report show: step names that never overprint, a complete legend, starting-level
lines, pauses as bands, off-scale beats counted, and a summary that is right for a press, a rise and bad data."""

from __future__ import annotations

import asyncio
import copy
import os

import numpy as np
import pytest

from devices.simulator import Glitches, Person, StressEpisode
from sessions.events import Event, EventKind
from sessions.review.phase_table import calm_at_start, fmt, phase_rows, table_cells
from sessions.review.record import load_record
from sessions.review.report import build_content
from sessions.review.summary import plain_summary
from sessions.review.timeline import PANELS, PAUSED, baselines, draw_timeline, fitted_labels, legend_text
from tests.sessionkit import run_session

PERSON = Person(stress=StressEpisode(onset_s=260.0, duration_s=90.0),
                glitches=Glitches(ectopic_per_min=2.0, link_drops=((150.0, 25.0),)))


@pytest.fixture(scope="module")
def path(tmp_path_factory):
    return asyncio.run(run_session(tmp_path_factory.mktemp("content"), "safe-place", "en", PERSON, seed=3)).path


@pytest.fixture
def rec(path):
    return load_record(path)


def _figure():
    from matplotlib.figure import Figure

    return Figure(figsize=(8.27, 11.69), dpi=100)


def test_step_names_sit_in_their_own_row_inside_their_steps_and_never_overlap(rec):
    fig = _figure()
    axes = draw_timeline(fig, rec, "nl", rect=(0.1, 0.1, 0.86, 0.5))
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    top = axes[0].get_window_extent(renderer)
    names = [t for ax in fig.axes if ax not in axes for t in ax.texts]
    assert len(names) >= 3
    boxes = sorted((t.get_window_extent(renderer) for t in names), key=lambda b: b.x0)
    for a, b in zip(boxes, boxes[1:]):
        assert a.x1 <= b.x0, "two step names overlap"
    assert all(b.y0 >= top.y1 + 2 for b in boxes), "a step name sits over the panel where the prompt marks are"
    x_of = axes[0].transData.transform
    for text, box in zip(sorted(names, key=lambda t: t.get_window_extent(renderer).x0), boxes):
        phase = next(p for p in rec.phases if p.start / 60 <= text.get_position()[0] <= p.end / 60)
        assert x_of((phase.start / 60, 0))[0] - 1 <= box.x0 and box.x1 <= x_of((phase.end / 60, 0))[0] + 1


def test_a_name_too_long_for_its_step_is_shortened_or_left_out():
    spans = [(0.0, 10.0, "Arriving"), (10.0, 13.0, "Looking around"), (13.0, 14.0, "Coming back")]
    placed = fitted_labels(spans, units_per_char=0.5)
    assert placed == [(5.0, "Arriving"), (11.5, "Look…")]


def test_the_legend_names_every_mark_and_band_in_both_languages(rec):
    en, nl = legend_text("en"), legend_text("nl")
    for word in ("▼", "×", "red dashes", "orange dashes", "dotted line", "grey band", "yellow band", "purple band",
                 "steps", "off the scale", "paused"):
        assert word in en
    for word in ("rode streepjes", "stippellijn", "gele band", "gepauzeerd", "buiten de schaal"):
        assert word in nl


def test_starting_levels_are_drawn_and_calm_at_the_start_is_one_number(rec):
    rows = phase_rows(rec)
    start = calm_at_start(rows)
    levels = baselines(rec)
    assert levels["hr_bpm"] == pytest.approx(rec.baseline_hr()) and levels["calm"] == start
    fig = _figure()
    axes = draw_timeline(fig, rec, "en")
    keys = [k for k, _c in PANELS]
    calm_ax = axes[keys.index("calm")]
    flat = [ln.get_ydata()[0] for ln in calm_ax.get_lines() if len(set(ln.get_ydata())) == 1 and ln.get_linestyle() == ":"]
    assert flat == [pytest.approx(start)]
    summary = " ".join(plain_summary(rec, rows, "en"))
    assert f"from {start:.0f} at the start" in summary
    header, body = table_cells(rows, "en")
    assert body[0][header.index("calm (0-100)")] == f"{start:.0f}"


def test_pauses_are_drawn_as_bands(rec):
    rec.events.extend([Event(200.0, EventKind.PAUSE, {}), Event(230.0, EventKind.RESUME, {})])
    fig = _figure()
    axes = draw_timeline(fig, rec, "en")
    from matplotlib.colors import to_hex

    spans = [p for p in axes[0].patches if to_hex(p.get_facecolor(), keep_alpha=False) == PAUSED]
    assert len(spans) == 1
    x0, x1 = spans[0].get_x(), spans[0].get_x() + spans[0].get_width()
    assert (x0, x1) == (pytest.approx(200 / 60), pytest.approx(230 / 60))


def test_flagged_beats_off_the_scale_are_counted_at_the_edge(rec):
    fig = _figure()
    axes = draw_timeline(fig, rec, "en")
    lo, hi = axes[0].get_ylim()
    hr = 60000.0 / rec.rr_ms[rec.artefact_mask]
    above = int((hr > hi - 0.5).sum())
    assert above > 0, "the ectopic beats' pauses lie far off the scale"
    assert f"↑ {above} ×" in [t.get_text().strip() for t in axes[0].texts]


def test_a_too_much_press_is_not_called_a_rise(rec):
    rec.events = [Event(t, k, {**d, "source": "asked"}) if k == EventKind.DISTRESS else Event(t, k, d)
                  for t, k, d in rec.events]
    en = " ".join(plain_summary(rec, phase_rows(rec), "en"))
    nl = " ".join(plain_summary(rec, phase_rows(rec), "nl"))
    assert "rose sharply" not in en and "“this is too much” once" in en
    assert "sterk steeg" not in nl and "één keer op ‘dit is te veel’" in nl


def test_one_body_distress_is_singular(rec):
    en = " ".join(plain_summary(rec, phase_rows(rec), "en"))
    assert "There was one moment when your heart rate rose sharply" in en and "(s)" not in en


def test_a_rise_larger_than_the_drop_is_told_as_a_rise(rec):
    level = rec.baseline_hr()
    changed = copy.deepcopy(rec)
    steps = [p for p in changed.phases if p.kind != "baseline"]
    steps[0].means["hr_bpm"] = level - 2.5
    steps[-1].means["hr_bpm"] = level + 25.0
    en = plain_summary(changed, phase_rows(changed), "en")
    assert "25 bpm above your starting level" in en[0]
    assert not any("below your starting level during" in s for s in en)


def test_many_flagged_beats_bring_a_caveat_with_the_threshold(rec):
    assert not any("can't be trusted" in s for s in plain_summary(rec, phase_rows(rec), "en"))
    rng = np.random.default_rng(1)
    labels = rec.labels.copy()
    labels[rng.random(len(labels)) < 0.64] = "ectopic"
    rec.labels = labels
    en = " ".join(plain_summary(rec, phase_rows(rec), "en"))
    assert "can't be trusted" in en and "more than 20 %" in en
    assert "niet betrouwbaar" in " ".join(plain_summary(rec, phase_rows(rec), "nl"))


def test_minus_zero_reads_as_zero_and_a_single_gap_is_singular(rec):
    assert fmt(-0.3, signed=True) == "0"
    assert "−" not in fmt(-0.04, "{:.1f}") and fmt(-1.2, "{:.0f}") == "−1"
    notes = " ".join(build_content(rec, "en").notes)
    assert "lost once" in notes and "(s)" not in notes
    assert "één keer weg" in " ".join(build_content(rec, "nl").notes)


def test_review_window_shows_the_legend_and_the_step_row(rec):
    pytest.importorskip("pyqtgraph")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from sessions.review.window import app, build_window

    app()
    win = build_window(rec, "nl")
    assert "stippellijn" in win.legend.text() and "gele band" in win.legend.text()
    assert win.phase_table.item(0, 0).text() == "Rustige start"
    assert win.step_names not in win.plots
    win.close()


def test_the_beats_in_detail_page_has_tachogram_spectrum_poincare_and_histogram(rec):
    from biofeedback.spectral import HF_BAND, LF_BAND
    from sessions.review.report import draw_analysis

    content = build_content(rec, "en")
    fig = _figure()
    tacho, psd, poincare, hist = draw_analysis(fig, content)
    assert tacho.get_ylabel() == "RR (ms)" and 500 < np.median(tacho.get_lines()[0].get_ydata()) < 1200
    m = content.hrv.metrics
    peaks = sorted(ln.get_xdata()[0] for ln in psd.get_lines() if ln.get_linestyle() == "--")
    assert peaks == [pytest.approx(m["lf_peak_hz"]), pytest.approx(m["hf_peak_hz"])]
    assert LF_BAND[0] <= peaks[0] < LF_BAND[1] <= peaks[1] < HF_BAND[1]
    labels = " ".join(t.get_text() for t in psd.texts)
    assert f"LF {m['lf_nu']:.0f} n.u." in labels and f"HF {m['hf_nu']:.0f} n.u." in labels
    assert f"SD1 {m['sd1_ms']:.0f} ms, SD2 {m['sd2_ms']:.0f} ms" in poincare.get_title(loc="left")
    assert f"triangular index {m['tri_index']:.1f}" in hist.get_title(loc="left")
    assert sum(p.get_height() for p in hist.patches) == content.hrv.nn
    assert any(f"max {m['max_hr_bpm']:.0f} bpm" in t.get_text() for t in fig.texts)
    assert {"LF (%)", "HF (%)", "LF (n.u.)", "mean HR (bpm)", "min HR (bpm)"} <= {n for _g, n, _v in content.hrv.rows()}



def test_html_report_is_responsive_and_carries_the_detail_image(path, tmp_path):
    from sessions.review.report import write_report

    out = tmp_path / "r.html"
    write_report(load_record(path), out, "en")
    html = out.read_text()
    assert '<meta name="viewport" content="width=device-width' in html
    assert "max-width: 100%" in html and "overflow-x: auto" in html
    assert html.count('<div class="scroll"><table>') == 3  # phases, quiet start vs practice, whole-session HRV
    assert html.count('src="data:image/png;base64,') == 2 and "The beats in detail" in html


def test_page_two_cells_hold_their_text_in_dutch(path):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.table import Table

    from sessions.review.report import page_two

    rec = load_record(path)
    rec.phases[1].name = "Naar je veilige plek en daar rusten"
    fig = page_two(build_content(rec, "nl"))
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    r = canvas.get_renderer()
    page = fig.bbox
    tables = [a for ax in fig.axes for a in ax.get_children() if isinstance(a, Table)]
    assert tables
    for table in tables:
        for cell in table.get_celld().values():
            box, text = cell.get_window_extent(r), cell.get_text().get_window_extent(r)
            if cell.get_text().get_text():
                assert box.x0 - 0.5 <= text.x0 and text.x1 <= box.x1 + 0.5, cell.get_text().get_text()
            assert page.x0 + 0.03 * page.width <= box.x0 and box.x1 <= page.x1 - 0.03 * page.width


def test_the_source_is_said_in_the_readers_language():
    from sessions.review.report import source_word

    assert source_word("simulated", "nl") == "gesimuleerde band"
    assert source_word("replay", "en") == "replay of a recording"
    assert source_word("something-new", "nl") == "something-new"
