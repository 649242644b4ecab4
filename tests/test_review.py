"""Review: loading a record, the per-phase table, the plain summary, damaged files, and the window."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from devices.simulator import Glitches, Person, StressEpisode
from sessions.cli import main
from sessions.review.phase_table import phase_rows
from sessions.review.record import load_record
from sessions.review.summary import plain_summary
from sessions.store import SessionReader
from tests.sessionkit import run_session

RICH_PERSON = Person(stress=StressEpisode(onset_s=260.0, duration_s=90.0),
                     glitches=Glitches(ectopic_per_min=2.0, link_drops=((150.0, 25.0),)))


@pytest.fixture(scope="module")
def rich(tmp_path_factory):
    """A safe-place session with ectopic beats, a stress episode and a dropped link."""
    ran = asyncio.run(run_session(tmp_path_factory.mktemp("rich"), "safe-place", "en", RICH_PERSON, seed=3))
    return ran.path


@pytest.fixture
def data_dir(data_dir, monkeypatch):
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    return data_dir


def test_record_matches_the_file_and_marks_what_happened(rich):
    rec = load_record(rich)
    with SessionReader(rich) as reader:
        beats = reader.beats()
        assert len(rec.beat_t) == len(beats)
        assert rec.rr_ticks.tolist() == [b[2] for b in beats]
    assert rec.artefact_mask.sum() > 3, "the ectopic beats are there to be marked"
    assert rec.events_of("distress") and rec.events_of("grounding")
    (a, b), = rec.link_gaps()
    assert 140 < a < 160 and 5 < b - a < 60
    assert rec.duration_s >= rec.events[-1][0]


def test_phase_table_changes_are_against_the_quiet_start(rich):
    rows = phase_rows(load_record(rich))
    base = rows[0]
    assert base.kind == "baseline" and all(v is None for v in base.change.values())
    for r in rows[1:]:
        if r.means["hr_bpm"] is not None:
            assert r.change["hr_bpm"] == pytest.approx(r.means["hr_bpm"] - base.means["hr_bpm"])
        if r.means["calm"] is not None:  # calm is 50 at the baseline by definition
            assert r.change["calm"] == pytest.approx(r.means["calm"] - 50.0)


def test_plain_summary_speaks_of_settling_and_distress_in_both_languages(rich):
    rec = load_record(rich)
    rows = phase_rows(rec)
    lowest = min((r for r in rows[1:] if r.means["hr_bpm"] is not None), key=lambda r: r.means["hr_bpm"])
    drop = rec.baseline_hr() - lowest.means["hr_bpm"]
    en = plain_summary(rec, rows, "en")
    assert f"settled {drop:.0f} bpm below your starting level during ‘{lowest.name}’" in en[0]
    assert any("rose sharply" in s for s in en)
    nl = plain_summary(rec, rows, "nl")
    assert f"{drop:.0f} slagen per minuut onder je beginniveau" in nl[0]
    assert not any(word in " ".join(en).lower() for word in ("diagnos", "healthy", "disease", "cure"))


def _copy_session(src, data_dir, name):
    data_dir.mkdir(parents=True, exist_ok=True)
    dst = data_dir / "sessions"
    dst.mkdir(exist_ok=True)
    target = dst / f"{name}.biofeedback.sqlite"
    shutil.copy(src, target)
    return target


def test_a_cut_off_file_shows_what_can_be_recovered(rich, data_dir, capsys):
    target = _copy_session(rich, data_dir, "20250101-120000")
    full = len(load_record(target).beat_t)
    with open(target, "r+b") as fh:  # a copy that stopped halfway (full disk, pulled USB stick)
        fh.truncate(target.stat().st_size // 2)
    rec = load_record(target)
    assert rec.problems, "the damage is reported"
    assert 0 < len(rec.beat_t) < full
    assert np.all(np.diff(rec.beat_t) > 0)
    assert main(["sessions"]) == 0
    assert "20250101-120000.biofeedback.sqlite is damaged" in capsys.readouterr().out
    assert main(["sessions", "show", "20250101-120000"]) == 0
    out = capsys.readouterr().out
    assert "what could be recovered" in out and f"{len(rec.beat_t)} beats" in out
    assert main(["report", "20250101-120000", "-o", str(data_dir / "r.html")]) == 0
    assert "was damaged" in (data_dir / "r.html").read_text()


def test_an_empty_or_foreign_file_gets_one_clear_sentence(data_dir, capsys):
    folder = data_dir / "sessions"
    folder.mkdir(parents=True)
    (folder / "20250101-000000.biofeedback.sqlite").write_bytes(b"")
    (folder / "20250102-000000.biofeedback.sqlite").write_bytes(b"PK\x03\x04 not a database at all" * 40)
    assert main(["sessions", "show", "20250101-000000"]) == 2
    assert "is empty" in capsys.readouterr().err
    assert main(["report", "20250102-000000", "-o", str(data_dir / "x.html")]) == 2
    err = capsys.readouterr().err
    assert "not a session record" in err and "Traceback" not in err
    assert main(["sessions", "delete", "20250102-000000", "--yes"]) == 0
    assert not (folder / "20250102-000000.biofeedback.sqlite").exists()


def test_a_session_cut_off_by_a_crash_reads_up_to_the_last_commit(data_dir):
    """A writer killed mid-session (no close, WAL left behind) leaves a usable, unfinished record."""
    path = data_dir / "sessions" / "20250103-000000.biofeedback.sqlite"
    code = f"""
import os
from sessions.store import SessionWriter
w = SessionWriter({str(path)!r}, {{"script": "safe-place", "language": "en"}}, commit_interval_s=1.0)
w.event(0.0, "step", {{"step": "baseline", "kind": "baseline"}})
t = 0.0
for i in range(300):
    t += 0.8
    w.beat(t, 819)
    w.label(i, "normal")
    if i % 6 == 5:
        w.metrics(t, {{"hr_bpm": 75.0, "rmssd_ms": 30.0, "calm": 50.0}})
os._exit(0)
"""
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ})
    rec = load_record(path)
    assert "ended_at" not in rec.meta
    assert 200 < len(rec.beat_t) <= 300
    assert main(["report", str(path), "-o", str(data_dir / "crash.html")]) == 0
    assert "did not close normally" in (data_dir / "crash.html").read_text()


def test_review_window_links_time_axes_and_lists_phases(rich, data_dir, tmp_path):
    pytest.importorskip("pyqtgraph")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from sessions.review.window import app, build_window

    rec = load_record(rich)
    qapp = app()
    win = build_window(rec, "nl")
    win.plots[0].setXRange(3.0, 5.0, padding=0)
    qapp.processEvents()
    lo, hi = win.plots[-1].viewRange()[0]
    assert lo == pytest.approx(3.0, abs=0.01) and hi == pytest.approx(5.0, abs=0.01)
    assert win.phase_table.rowCount() == len(rec.phases)
    assert win.phase_table.item(0, 0).text() == "Rustige start"
    win.close()
    shot = tmp_path / "review.png"
    assert main(["review", str(rich), "--screenshot", str(shot)]) == 0
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_mode & 0o777 == 0o600
