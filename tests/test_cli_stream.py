"""The stream, decode and scan commands as a person runs them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sessions.cli import main

REAL = "105819030f03 1055db02b302 103b5304 10482c03 10495e039603 164d1603 164e1b031203 104ed202c802 065a".split()


def test_decode_json_matches_the_captures(capsys):
    assert main(["decode", "--json", *REAL]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["hr_bpm"] for r in rows] == [88, 85, 59, 72, 73, 77, 78, 78, 90]
    assert rows[0] == {"hr_bpm": 88, "contact": "unsupported", "energy_kj": None,
                       "rr_ticks": [793, 783], "rr_ms": [774.414, 764.648]}
    assert rows[5]["contact"] == "detected" and rows[8]["rr_ticks"] == []


def test_decode_malformed_says_what_is_wrong_and_fails(capsys):
    assert main(["decode", "105819030f03", "104819", "zz"]) == 1
    captured = capsys.readouterr()
    assert "HR 88 bpm" in captured.out
    assert "104819: the RR interval bytes are an odd number" in captured.err
    assert "'zz' is not hex bytes" in captured.err


def test_stream_replay_prints_all_798_rr(polar_h10_file, capsys):
    assert main(["stream", "--replay", str(polar_h10_file), "--speed", "1000", "--json"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    rr = [v for o in lines if "rr_ms" in o for v in o["rr_ms"]]
    assert len(rr) == 798
    assert lines[-1]["event"] == "ended"


def test_stream_simulate_two_minutes_at_speed(capsys):
    assert main(["stream", "--simulate", "--seconds", "120", "--speed", "600", "--json"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    samples = [o for o in lines if "hr_bpm" in o]
    assert 115 <= len(samples) <= 121
    assert set(samples[5]) >= {"t", "hr_bpm", "rr_ms", "contact"}
    assert all(o["t"] <= 120 for o in lines)
    assert all(45 <= o["hr_bpm"] <= 100 for o in samples[3:])


def test_stream_human_output_and_stress_profile(capsys):
    assert main(["stream", "--simulate", "--person", "stress", "--seconds", "5", "--speed", "1000"]) == 0
    out = capsys.readouterr().out
    assert "[connected]" in out and "HR" in out and "contact detected" in out


def test_person_without_simulate_is_refused(capsys):
    assert main(["stream", "--replay", "x.txt", "--person", "stress"]) == 2
    assert "--person only applies to --simulate" in capsys.readouterr().err


def test_bad_replay_file_is_one_sentence(tmp_path, capsys):
    bad = tmp_path / "rr.txt"
    bad.write_text("800\nnope\n")
    assert main(["stream", "--replay", str(bad)]) == 2
    err = capsys.readouterr().err
    assert (
        err.strip()
        == "biofeedback stream: rr.txt, line 2: 'nope' is not a number; each RR interval must be a number of milliseconds."
    )


@pytest.mark.parametrize("argv", [["scan", "--timeout", "1"], ["stream", "--device", "Polar H10"], ["stream"]])
def test_no_bluetooth_here_is_one_sentence_without_traceback(argv):
    # This machine (and CI) has no BlueZ on the host: the real "Bluetooth unavailable" path.
    proc = subprocess.run([sys.executable, "-m", "sessions", *argv], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f"biofeedback {argv[0]}: ") and ("Bluetooth" in last or "bluetoothd" in last)


def test_help_lists_the_commands():
    proc = subprocess.run([sys.executable, "-m", "sessions", "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    for name in ("stream", "decode", "scan"):
        assert name in proc.stdout
