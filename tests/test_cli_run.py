"""`biofeedback run`, `sessions` and `scripts` as a person types them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


from sessions.cli import main

REPO = Path(__file__).resolve().parents[1]


def test_simulated_session_runs_headless_and_is_listed(data_dir, capsys):
    assert main(["run", "--simulate", "--speed", "1000", "--duration", "150", "--lang", "nl"]) == 0
    out = capsys.readouterr().out
    assert "Dit is een hulpmiddel om te ontspannen" in out  # the not-a-treatment line comes first
    assert "— stap: Rustige start" in out and "— stap: Aankomen" in out and "gestopt: de ingestelde tijd is om" in out
    assert " beats" not in out and "reason=" not in out  # a Dutch session speaks Dutch
    assert "Sessie bewaard" in out
    assert main(["sessions", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert len(listed) == 1 and listed[0]["script"] == "safe-place" and listed[0]["language"] == "nl"
    assert listed[0]["complete"] and listed[0]["beats"] > 150
    assert main(["sessions", "show", listed[0]["id"], "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    kinds = {e["kind"] for e in shown["events"]}
    assert {"step", "pacer_rate", "prompt", "stop", "grounding", "link", "done", "baseline"} <= kinds
    assert [p["name"] for p in shown["phases"]][:2] == ["Rustige start", "Aankomen"]  # titles, in Dutch
    assert shown["phases"][0]["hr_bpm"] is not None  # metrics are kept from the start, not only after 64 s
    # At 1000x the loop cannot keep up with wall time: the exercise must follow the data, not the
    # wall clock, so the heart is recorded up to the end of the exercise.
    done_t = [e["t"] for e in shown["events"] if e["kind"] == "done"][0]
    assert shown["duration_s"] >= done_t - 3


def test_replay_of_a_recorded_session_and_of_the_polar_file(data_dir, polar_h10_file, capsys):
    assert main(["run", "--replay", str(polar_h10_file), "--speed", "1000", "--script", "resonance-assessment"]) == 0
    capsys.readouterr()
    assert main(["sessions", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)[0]
    assert first["source"] == "replay" and first["beats"] == 798
    assert main(["stream", "--replay", first["id"], "--speed", "1000", "--json"]) == 0
    rr = [v for line in capsys.readouterr().out.splitlines() for v in json.loads(line).get("rr_ms", [])]
    assert len(rr) == 798


def test_therapist_only_script_is_refused_without_advertising_the_flag(data_dir, capsys):
    assert main(["run", "--simulate", "--script", "nightmare-rehearsal"]) == 2
    err = capsys.readouterr().err
    assert "--therapist" not in err and "together with your therapist" in err


def test_unknown_script_is_one_sentence(data_dir, capsys):
    assert main(["run", "--simulate", "--script", "beach"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("biofeedback run:") and "\n" not in err


def test_no_strap_and_no_flag_says_how_to_pair_or_simulate(data_dir):
    env = {**os.environ, "BIOFEEDBACK_DATA_DIR": str(data_dir)}
    proc = subprocess.run([sys.executable, "-m", "sessions", "run"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "--simulate" in proc.stderr


def test_delete_asks_unless_yes(data_dir, capsys):
    assert main(["run", "--simulate", "--speed", "1000", "--duration", "20"]) == 0
    capsys.readouterr()
    assert main(["sessions", "--json"]) == 0
    sid = json.loads(capsys.readouterr().out)[0]["id"]
    assert main(["sessions", "delete", sid]) == 2  # not a terminal: refuses without --yes
    assert "--yes" in capsys.readouterr().err
    assert main(["sessions", "delete", sid, "--yes"]) == 0
    assert not list((data_dir / "sessions").glob("*.sqlite*"))


def test_a_strap_that_never_comes_leaves_no_empty_record(data_dir, monkeypatch, capsys):
    import sessions.commands.run as run_cmd
    from tests.test_ble_retry import _strap

    async def nothing(target, timeout):
        return None

    async def strap_not_found(args, duration_s=None):
        return _strap(find=nothing)

    monkeypatch.setattr(run_cmd, "open_source", strap_not_found)
    assert main(["run", "--device", "Polar H10"]) == 2
    assert "no strap matching 'Polar H10'" in capsys.readouterr().err
    assert not list((data_dir / "sessions").glob("*.sqlite*"))


def test_a_second_ctrl_c_quits_and_says_what_was_kept(data_dir):
    import signal
    import time

    env = {**os.environ, "BIOFEEDBACK_DATA_DIR": str(data_dir)}
    proc = subprocess.Popen([sys.executable, "-m", "sessions", "run", "--simulate", "--headless", "--speed", "20",
                             "--lang", "en", "--no-audio"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:  # wait until the session is really under way
        if "quiet start" in line.lower() or "we begin" in line.lower():
            break
    proc.send_signal(signal.SIGINT)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in out
    assert "What was recorded so far is kept" in out
    assert list((data_dir / "sessions").glob("*.sqlite"))


def test_sparkline_draws_low_to_high():
    from sessions.terminal_view import sparkline

    assert sparkline([1.0, 2.0, 3.0]) == "▁▅█"
    assert sparkline([5.0, 5.0]) == "▄▄"
