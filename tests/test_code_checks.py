"""The checks that keep the code honest run with the tests: the linter (with its complexity limit) and the
type checker (strict on the pure computation and the device layer). Settings in ``pyproject.toml``."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str) -> str:
    exe = Path(sys.executable).with_name(name)
    found = str(exe) if exe.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[test]' brings it")
    return found


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)


def test_ruff_finds_nothing():
    proc = _run(_tool("ruff"), "check", "--no-cache", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_strict_on_the_computation_and_the_devices():
    proc = _run(_tool("mypy"), "--strict", "biofeedback", "devices")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_on_the_sessions():
    proc = _run(_tool("mypy"), "sessions")
    assert proc.returncode == 0, proc.stdout + proc.stderr
