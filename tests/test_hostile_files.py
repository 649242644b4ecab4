"""Files a user hands us: every mistake or trick is one sentence, never a hang or a traceback (issue 19)."""

from __future__ import annotations

import argparse
import os
import threading

import pytest

from sessions.commands import scripts
from sessions.exercises import discover, load_script_file
from sessions.exercises.model import ScriptError


def _script(sid: str, title: str = "A test", prompt: str = "Breathe.") -> str:
    return (f'id = "{sid}"\nlanguage = "en"\ntitle = "{title}"\npurpose = "Testing."\nduration_min = 1\n\n'
            f'[[steps]]\nid = "one"\ntitle = "One"\nkind = "grounding"\nmin_s = 50\nmax_s = 70\n'
            f'text = ["{prompt}"]\n')


def run_scripts(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    scripts.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["scripts", *argv])
    return args.func(args)


def test_a_plain_user_script_loads(user_scripts):
    (user_scripts / "mine.en.toml").write_text(_script("mine"), encoding="utf-8")
    assert load_script_file(user_scripts / "mine.en.toml", user=True).title == "A test"


def test_a_fifo_named_toml_is_skipped_not_waited_on(user_scripts, capsys):
    os.mkfifo(user_scripts / "pipe.en.toml")
    (user_scripts / "mine.en.toml").write_text(_script("mine"), encoding="utf-8")
    result: list = []
    worker = threading.Thread(target=lambda: result.append(discover()), daemon=True)
    worker.start()
    worker.join(timeout=60)
    if worker.is_alive():  # release the reader that blocks on the FIFO, so the test run can end
        os.close(os.open(user_scripts / "pipe.en.toml", os.O_WRONLY | os.O_NONBLOCK))
        worker.join()
        pytest.fail("reading the scripts folder waited on a FIFO")
    cat = result[0]
    assert ("mine", "en") in cat.scripts
    assert any("pipe.en.toml" in str(p) and "not a regular file" in str(p) for p in cat.problems)


def test_a_huge_script_is_refused_in_one_sentence(user_scripts):
    path = user_scripts / "big.en.toml"
    path.write_text(_script("big") + "# " + "x" * (2 * 1024 * 1024) + "\n", encoding="utf-8")
    with pytest.raises(ScriptError, match="more than a script can be"):
        load_script_file(path, user=True)


def test_a_byte_order_mark_is_accepted(user_scripts):
    path = user_scripts / "bom.en.toml"
    path.write_bytes(b"\xef\xbb\xbf" + _script("bom").encode("utf-8"))
    assert load_script_file(path, user=True).id == "bom"


def test_deep_nesting_is_one_sentence_and_the_other_scripts_still_list(user_scripts, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    (user_scripts / "deep.en.toml").write_text("x = " + "[" * 3000 + "]" * 3000 + "\n", encoding="utf-8")
    (user_scripts / "mine.en.toml").write_text(_script("mine", title="Mine here"), encoding="utf-8")
    assert run_scripts("--lang", "en") == 0
    captured = capsys.readouterr()
    assert "Mine here" in captured.out and "A safe place" in captured.out
    assert "deep.en.toml" in captured.err and "nested too deeply" in captured.err


def test_nul_bytes_in_a_problem_are_shown_escaped(user_scripts, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")
    (user_scripts / "nul.en.toml").write_bytes(b'id = "nul"\nlanguage = "en"\ntitle = \x00\n')
    (user_scripts / "ctl.en.toml").write_text(_script("bad id\\u0000\\u001b[31m"), encoding="utf-8")
    assert run_scripts("--lang", "en") == 0
    err = capsys.readouterr().err
    assert "nul.en.toml" in err and "ctl.en.toml" in err
    assert "\x00" not in err and "\x1b[31m" not in err


def test_markup_and_ansi_in_a_title_are_shown_literally(user_scripts, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    (user_scripts / "odd.en.toml").write_text(_script("odd", title="Sea [/] and [bold]sand\\u001b[31m"), encoding="utf-8")
    assert run_scripts("--lang", "en") == 0
    out = capsys.readouterr().out
    assert "Sea [/] and [bold]sand\\x1b[31m" in out
    assert "\x1b[31m" not in out


def test_markup_in_a_script_reaches_the_transcript_and_the_record_literally(user_scripts, data_dir, capsys, monkeypatch):
    from sessions.cli import main

    monkeypatch.setenv("COLUMNS", "300")
    (user_scripts / "odd.en.toml").write_text(
        _script("odd", title="Sea [/] side", prompt="Hear the [word] of the sea \\u001b[2J now."), encoding="utf-8")
    assert main(["run", "--simulate", "--speed", "1000", "--duration", "90", "--script", "odd", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "Hear the [word] of the sea \\x1b[2J now." in out and "\x1b[2J" not in out
    assert main(["sessions", "show"]) == 0
    assert "Sea [/] side" in capsys.readouterr().out


# --- RR files and notification logs -----------------------------------------------------------

def _stream(path) -> tuple[int, str]:
    from sessions.cli import main

    return main(["stream", "--replay", str(path), "--speed", "1000", "--json"]), ""


@pytest.mark.parametrize("text, line, words", [
    ("800\n810\n70000\n800\n790\n", 3, "70000 ms is not a heartbeat"),
    ("800\n810\n1e15\n800\n", 3, "is not a heartbeat"),
    ("800\n810\n1e308\n800\n", 3, "is not a heartbeat"),
    ("800\n810\n0.5\n800\n", 3, "0.5 ms is not a heartbeat"),
    ("t_s,hr_bpm,rr_ms\n0.5,70,800\n1.3,-5,810\n", 3, "heart rate -5 is outside"),
    ("t_s,hr_bpm,rr_ms\n0.5,70,800\n1.3,100000,810\n", 3, "heart rate 100000 is outside"),
    ("t_s,hr_bpm,rr_ms\n0.5,70,800\n1.3,71\n", 3, "no RR cell"),
    ("rr_ms,t_s\n800,0.5\n810\n", 3, "no time cell"),
    ("t_s,hr_bpm,rr_ms\n0.5,70,800\n1e9,70,810\n", 3, "time 1e+09 s is outside"),
    ("t_s,hr_bpm,rr_ms\n-3,70,800\n", 2, "time -3 s is outside"),
    ("t_s,hr_bpm,rr_ms\n0.5,70,800\n1.3,70,\"" + "8" * 140_000 + "\"\n", 3, "not readable as CSV"),
])
def test_an_implausible_rr_file_is_one_sentence_naming_the_line(tmp_path, capsys, data_dir, text, line, words):
    from sessions.cli import main

    path = tmp_path / ("rr.csv" if "," in text else "rr.txt")
    path.write_text(text, encoding="utf-8")
    assert main(["stream", "--replay", str(path), "--speed", "1000"]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert f"{path.name}, line {line}:" in err and words in err
    assert main(["run", "--replay", str(path), "--speed", "1000", "--duration", "30"]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"line {line}" in err


def test_values_at_the_limits_are_kept(tmp_path):
    from devices.rr_files import HR_MAX_BPM, RR_MAX_MS, RR_MIN_MS, TIME_MAX_S, read_rr_file

    path = tmp_path / "edge.csv"
    path.write_text(f"t_s,hr_bpm,rr_ms\n0,0,{RR_MIN_MS:g}\n{TIME_MAX_S:g},{HR_MAX_BPM},{RR_MAX_MS:g}\n", encoding="utf-8")
    rec = read_rr_file(path)
    assert rec.rr_ms == [RR_MIN_MS, RR_MAX_MS]
    assert rec.notifications is not None and [n.hr_bpm for n in rec.notifications] == [0, HR_MAX_BPM]
