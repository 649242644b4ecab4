"""What a newcomer meets when something is missing or wrong: one sentence with what to do, a non-zero
exit, no traceback: a data folder that cannot be one, an extra that is not installed (with the exact
pip command for this installation), and a display Qt cannot open (the terminal view instead of exit 134).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from sessions import extras, settings
from sessions.cli import main

READING_COMMANDS = (["sessions"], ["sessions", "show"], ["review"], ["report"], ["trends"],
                    ["export", "--format", "csv", "-o", "x.csv"])


@pytest.mark.parametrize("argv", READING_COMMANDS, ids=lambda a: " ".join(a))
def test_a_data_folder_that_is_a_file_is_said_not_taken_for_no_sessions(tmp_path, monkeypatch, capsys, argv):
    (tmp_path / "file").write_text("not a folder")
    for folder in (tmp_path / "file", tmp_path / "file" / "below"):
        monkeypatch.setenv("BIOFEEDBACK_DATA_DIR", str(folder))
        assert main(argv) == 2
        out = capsys.readouterr()
        assert "No sessions" not in out.out and "Traceback" not in out.err
        assert "is a file, not a folder" in out.err and out.err.count("\n") == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write any folder")
def test_a_data_folder_that_cannot_be_created_is_said(tmp_path, monkeypatch, capsys):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    monkeypatch.setenv("BIOFEEDBACK_DATA_DIR", str(locked / "data"))
    assert main(["sessions"]) == 2
    assert "cannot be created" in capsys.readouterr().err


def test_a_new_data_folder_is_simply_empty_and_commands_without_data_ignore_a_broken_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BIOFEEDBACK_DATA_DIR", str(tmp_path / "new"))
    assert main(["sessions"]) == 0 and "No sessions recorded yet" in capsys.readouterr().out
    assert not (tmp_path / "new").exists()  # reading never creates the folder
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("BIOFEEDBACK_DATA_DIR", str(tmp_path / "file"))
    assert main(["decode", "0048"]) == 0  # the strap decoder needs no data folder
    assert settings.data_dir_problem(tmp_path) is None


MISSING = [
    ("matplotlib", ["report"], "review"),
    ("matplotlib", ["trends", "-o", "t.png"], "review"),
    ("pyedflib", ["export", "--format", "edf", "-o", "x.edf"], "review"),
    ("pyqtgraph", ["review"], "gui"),
    ("aiomqtt", ["watch", "--mqtt", "mqtt://localhost"], "mqtt"),
]


@pytest.mark.parametrize("module,argv,extra", MISSING, ids=lambda v: v if isinstance(v, str) else " ".join(v))
def test_a_missing_extra_gives_the_exact_pip_command(monkeypatch, capsys, module, argv, extra):
    monkeypatch.setitem(sys.modules, module, None)  # `import module` now fails as if it were not installed
    assert main(argv) == 2
    err = capsys.readouterr().err
    command = extras.install_command(extra)
    assert f"'{extra}' extra ({module} is not installed)" in err and command in err
    assert command.startswith(sys.executable) and f"[{extra}]" in command and "Traceback" not in err


def test_the_pip_command_names_the_source_folder_this_app_was_installed_from():
    folder = extras._source_folder()
    command = extras.install_command("gui")
    if folder is not None:  # installed with `pip install .` / `-e .` (the README's way)
        assert Path(folder, "pyproject.toml").exists() and f"{folder}[gui]" in command
    else:
        assert "biofeedback-imagery[gui]" in command
    # The command really is what pip takes: a dry run resolves it without installing anything.
    args = shlex.split(command)[-1]
    probe = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "--no-index",
                            "--no-build-isolation", args], capture_output=True, text=True, timeout=300)
    assert "Invalid requirement" not in probe.stderr


def test_without_a_loadable_qt_platform_the_run_falls_back_to_the_terminal(tmp_path):
    """A display Qt cannot open (here: an X display that does not exist, the xcb plugin) used to abort
    the process with SIGABRT (exit 134) before the session began."""
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "DISPLAY": ":97", "BIOFEEDBACK_DATA_DIR": str(tmp_path / "d")}
    env.pop("WAYLAND_DISPLAY", None)
    done = subprocess.run([sys.executable, "-m", "sessions", "run", "--simulate", "--duration", "3", "--speed", "60",
                           "--no-audio", "--lang", "en"], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-800:]
    assert "the session runs in the terminal instead" in done.stderr
    assert "Saved" in done.stdout or "saved" in done.stdout.lower()


def test_the_session_list_speaks_the_persons_language(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BIOFEEDBACK_DATA_DIR", str(tmp_path / "new"))
    monkeypatch.setenv("LC_ALL", "nl_NL.UTF-8")
    assert main(["sessions"]) == 0 and "Nog geen sessies opgenomen" in capsys.readouterr().out
    monkeypatch.setenv("LC_ALL", "en_GB.UTF-8")
    assert main(["sessions"]) == 0 and "No sessions recorded yet" in capsys.readouterr().out
