"""SIGTERM and SIGHUP (a shutdown, a closed terminal) finish the record within a few seconds of session
time, the grounding cut short to its last line (issue 19). Real processes at real time."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sessions.store import SessionReader

REPO = Path(__file__).resolve().parents[1]


def _wait_for_line(proc: subprocess.Popen, start: str, timeout: float = 60.0) -> str:
    """Reads stdout until a line starting with ``start`` (bounded, so a broken run fails instead of hanging)."""
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if ready:
            line = proc.stdout.readline()
            if line.startswith(start):
                return line
            if not line and proc.poll() is not None:
                break
    raise AssertionError(f"the session never printed a line starting with {start!r}")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
@pytest.mark.parametrize("source", ["simulate", "replay"])
def test_a_shutdown_signal_ends_on_the_last_grounding_line_within_seconds(tmp_path, sig, source, polar_h10_file):
    env = {**os.environ, "BIOFEEDBACK_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200", "PYTHONUNBUFFERED": "1"}
    how = ["--simulate"] if source == "simulate" else ["--replay", str(polar_h10_file)]
    proc = subprocess.Popen([sys.executable, "-m", "sessions", "run", *how, "--headless", "--lang", "en"],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_line(proc, "[00:0")  # the session is running
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert "Traceback" not in err, err
    files = list((tmp_path / "data" / "sessions").glob("*.sqlite"))
    assert len(files) == 1
    with SessionReader(files[0]) as reader:
        stops = reader.events("stop")
        done = reader.events("done")
        prompts = reader.events("prompt")
        assert reader.meta.get("ended_at")
    assert stops and stops[0][2]["reason"] == "signal" and done
    assert done[0][0] - stops[0][0] <= 15.0  # session time, not the minute of the full grounding
    assert prompts and prompts[-1][0] >= stops[0][0]  # it still ends on a grounding line
