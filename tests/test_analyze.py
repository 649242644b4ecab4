from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sessions.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _series():
    i = np.arange(400)
    rr = (900 + 60 * np.sin(2 * np.pi * i / 5) + 30 * np.sin(2 * np.pi * i / 40)).round().astype(int)
    rr[200:202] = [550, 1250]  # one ectopic beat and its pause
    return [round(x * 1.024) * 1000 / 1024 for x in rr]  # whole ticks of 1/1024 s, as a strap sends


def _run_json(capsys, *args):
    assert main(["analyze", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_kubios_text_json(tmp_path, capsys):
    rr = _series()
    f = tmp_path / "rr.txt"
    f.write_text("# exported RR\n" + "\n".join(str(x) for x in rr) + "\n")
    out = _run_json(capsys, str(f))
    assert out["n_beats"] == len(rr)
    assert out["artifacts"]["indices"] == [200, 201]
    assert out["artifacts"]["by_type"]["ectopic"] == 1 and out["artifacts"]["count"] == 2
    nn = np.array(rr[:200] + rr[202:], float)
    assert out["mean_nn_ms"] == pytest.approx(nn.mean(), rel=1e-3)
    for k in ("sdnn_ms", "rmssd_ms", "pnn50_pct", "lf_ms2", "hf_ms2", "lf_hf"):
        assert out[k] is not None and out[k] >= 0
    raw = _run_json(capsys, str(f), "--no-correct")
    a = np.array(rr, float)
    d = np.diff(a)
    assert raw["artifacts"]["count"] == 0
    assert raw["sdnn_ms"] == pytest.approx(a.std(ddof=1), rel=1e-6)
    assert raw["rmssd_ms"] == pytest.approx(np.sqrt(np.mean(d * d)), rel=1e-6)
    assert raw["pnn50_pct"] == pytest.approx(100 * np.mean(np.abs(d) > 50), rel=1e-6)
    assert raw["rmssd_ms"] > out["rmssd_ms"] + 5  # the ectopic beat inflates uncorrected RMSSD


def test_csv_and_human_output(tmp_path, capsys):
    f = tmp_path / "rr.csv"
    f.write_text("t_s,rr_ms\n" + "\n".join(f"{i},{x}" for i, x in enumerate(_series())) + "\n")
    assert main(["analyze", str(f)]) == 0
    text = capsys.readouterr().out
    assert "RMSSD" in text and "Flagged beats: 2 of 400" in text


def test_bad_file_one_sentence_with_line(tmp_path, capsys):
    f = tmp_path / "bad.txt"
    f.write_text("800\n810\nabc\n")
    assert main(["analyze", str(f)]) == 2
    err = capsys.readouterr().err.strip()
    assert "line 3" in err and len(err.splitlines()) == 1


def test_foreign_sqlite_file_is_a_clear_error(tmp_path, capsys):
    f = tmp_path / "s.sqlite"
    sqlite3.connect(f).execute("create table t(x)").connection.close()
    assert main(["analyze", str(f)]) == 2
    assert "not a readable session record" in capsys.readouterr().err


def test_recorded_session_is_analysed_from_its_beats(tmp_path, capsys, monkeypatch):
    from sessions.store import SessionWriter

    monkeypatch.setenv("BIOFEEDBACK_DATA_DIR", str(tmp_path))
    series = _series()
    writer = SessionWriter(tmp_path / "sessions" / "20260101-220000.biofeedback.sqlite", {"script": "x"})
    t = 0.0
    for ms in series:
        t += ms / 1000
        writer.beat(t, round(ms * 1.024))
    writer.close()
    assert main(["analyze", "20260101-220000", "--json", "--no-correct"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n_beats"] == len(series)
    assert out["rmssd_ms"] == pytest.approx(np.sqrt(np.mean(np.diff(series) ** 2)), rel=2e-3)


def test_module_subprocess(tmp_path):
    f = tmp_path / "rr.txt"
    f.write_text("\n".join(str(x) for x in _series()))
    p = subprocess.run([sys.executable, "-m", "sessions", "analyze", str(f), "--json"],
                       cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["artifacts"]["indices"] == [200, 201]
