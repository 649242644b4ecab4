"""Report and review for a person and a researcher (issue 16): the quiet start against the practice and
its end, the resonance assessment per rate with the chosen rate marked, both in the HTML and the PDF;
the review window dark like the live one, with every phase of the table visible at 1366×768."""

from __future__ import annotations

import asyncio
import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from sessions.review.comparison import comparison_table, resonance_table  # noqa: E402
from sessions.review.record import load_record  # noqa: E402
from tests.sessionkit import run_session  # noqa: E402


@pytest.fixture(scope="module")
def assessment(tmp_path_factory):
    ran = asyncio.run(run_session(tmp_path_factory.mktemp("res"), script="resonance-assessment", lang="nl", seed=2))
    return ran, load_record(ran.path)


def test_the_resonance_table_has_every_rate_and_marks_the_chosen_one(assessment):
    ran, record = assessment
    header, body = resonance_table(record, "nl")
    assert [row[0] for row in body] == ["6.5", "6.0", "5.5", "5.0", "4.5"]
    marked = [row[0] for row in body if row[-1]]
    assert ran.result.resonance_rate is not None and marked == [f"{ran.result.resonance_rate:.1f}"]
    assert "LF-vermogen (ms²)" in header and all(row[1] != "–" and float(row[3]) > 0 for row in body)


def test_the_comparison_table_sets_the_quiet_start_against_the_practice_and_its_end(assessment):
    _ran, record = assessment
    header, body = comparison_table(record, "en")
    assert [row[0] for row in body] == ["Quiet start", "Practice", "End of the practice (last 2 min)"]
    assert header[-1] == "time in high coherence" and all(row[-1].endswith("%") for row in body)
    hr = [float(row[2]) for row in body]
    assert hr[2] < hr[0]  # the simulated person settles over the assessment: the table shows it
    assert resonance_table(record, "en") is not None


def test_both_tables_are_in_the_html_and_the_pdf(assessment, tmp_path):
    pytest.importorskip("matplotlib")
    from sessions.review.report import write_report

    _ran, record = assessment
    html = write_report(record, tmp_path / "r.html", "en")[0].read_text()
    assert "The resonance assessment per rate" in html and "◀ chosen" in html and "Quiet start, practice and end" in html
    pdf = write_report(record, tmp_path / "r.pdf", "en")[0]
    from matplotlib.backends.backend_pdf import PdfPages  # noqa: F401 - the PDF was written with it

    assert pdf.read_bytes().count(b"/Type /Page") - pdf.read_bytes().count(b"/Type /Pages") == 4


def test_a_session_without_a_quiet_start_or_assessment_has_no_empty_tables(tmp_path):
    ran = asyncio.run(run_session(tmp_path, script="after-nightmare", lang="en", seed=1))
    record = load_record(ran.path)
    assert resonance_table(record, "en") is None
    assert comparison_table(record, "en") is None


def test_the_review_window_is_dark_and_shows_every_phase_at_1366x768(qapp, assessment):
    pytest.importorskip("pyqtgraph")
    from sessions.gui import style
    from sessions.review.window import build_window

    _ran, record = assessment
    win = build_window(record, "nl")
    win.resize(1366, 768)
    win.show()
    qapp.processEvents()
    table = win.phase_table
    visible = [table.visualItemRect(table.item(r, 0)).bottom() <= table.viewport().height()
               for r in range(table.rowCount())]
    assert table.rowCount() >= 7 and all(visible)
    img = win.grab().toImage()
    corner = img.pixelColor(img.width() // 2, img.height() // 3)  # inside the curves
    assert corner.lightness() < 60 and style.BACKGROUND in win.styleSheet()
    win.close()
