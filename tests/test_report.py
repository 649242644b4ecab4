"""The report: stands alone, speaks plainly in nl/en, carries the full offline HRV, and renders."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess

import numpy as np
import pytest

from biofeedback.hrv import analyze_recording
from sessions.cli import main
from sessions.review.offline_hrv import offline_hrv
from sessions.review.record import load_record
from tests.sessionkit import run_session


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    return asyncio.run(run_session(tmp_path_factory.mktemp("rep"), "safe-place-bedtime", "nl", seed=5)).path


def test_html_report_stands_alone_in_dutch(session, tmp_path):
    out = tmp_path / "r.html"
    assert main(["report", str(session), "-o", str(out)]) == 0
    html = out.read_text()
    assert out.stat().st_mode & 0o777 == 0o600
    assert re.search(r'<img [^>]*src="data:image/png;base64,', html)
    assert not re.search(r'src="(?!data:)', html) and "<link" not in html and "<script" not in html
    assert "In gewone woorden" in html and "geen medisch onderzoek" in html
    assert "Fase voor fase" in html and "Rustige start" in html
    assert "LF (ms²)" in html and "SampEn" in html


def test_english_override_and_pdf_pages_render(session, tmp_path):
    out = tmp_path / "r.pdf"
    assert main(["report", str(session), "-o", str(out), "--lang", "en"]) == 0
    assert out.read_bytes()[:5] == b"%PDF-"
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) not installed")
    subprocess.run(["pdftoppm", "-png", "-r", "40", str(out), str(tmp_path / "page")], check=True)
    # summary and timeline, tables, quiet start vs practice (this session has a quiet start), the beats in detail
    assert len(list(tmp_path.glob("page-*.png"))) == 4


def test_png_report_writes_one_image_per_page(session, tmp_path):
    assert main(["report", str(session), "-o", str(tmp_path / "r.png")]) == 0
    assert all((tmp_path / n).exists() for n in ("r.png", "r-2.png", "r-3.png"))


def test_offline_hrv_agrees_with_our_analyzer_and_is_in_ms2(session):
    rec = load_record(session)
    hrv = offline_hrv(rec)
    ours = analyze_recording(rec.rr_ms.tolist(), rec.beat_t.tolist(), rec.after_gap.tolist())
    assert hrv.time["mean NN (ms)"] == pytest.approx(ours.metrics["mean_nn_ms"], rel=0.01)
    assert hrv.time["SDNN (ms)"] == pytest.approx(ours.metrics["sdnn_ms"], rel=0.05)
    assert hrv.time["RMSSD (ms)"] == pytest.approx(ours.metrics["rmssd_ms"], rel=0.05)
    # normalize=False: powers in ms², same order as the RR variance, not unitless fractions
    assert hrv.frequency["total power (ms²)"] > 10
    assert hrv.frequency["HF (ms²)"] < np.var(rec.rr_ms[rec.nn_mask]) * 2
    assert 0.3 < hrv.nonlinear["DFA α1"] < 2.0 and hrv.nonlinear["SD1 (ms)"] > 0


def test_report_rejects_an_unknown_format(session, tmp_path, capsys):
    assert main(["report", str(session), "-o", str(tmp_path / "r.docx")]) == 2
    assert ".html, .pdf or .png" in capsys.readouterr().err
