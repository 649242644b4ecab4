"""Issue 17 end to end: two clients on one computer practise, rate, get markers from their therapist
following both in a real browser over a real mosquitto (per-client users and ACL, TLS), and get
reports and trends that keep them apart.

Each client's ``run`` has a terminal (a pty) for its ratings, answered when asked; the therapist's
``watch --web`` page is driven by Debian's chromium. Pictures go to $BIOFEEDBACK_SCREENSHOTS (else a
temp folder): the page, and each client's report as the client sees it.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from sessions.store import SessionReader
from tests.browser import SHOTS, driver, have_browser, screenshot, wait_for
from tests.mosquitto_broker import Practice, have_mosquitto
from tests.test_web_watch import _start_watch, _text, _tile

pytest.importorskip("aiomqtt")
pytest.importorskip("aiohttp")
pytestmark = [pytest.mark.skipif(not have_mosquitto(), reason="needs mosquitto (Debian package)"),
              pytest.mark.skipif(not have_browser(), reason="needs chromium, chromium-driver and selenium")]

REPO = Path(__file__).resolve().parents[1]
ANSWERS = {"K7": (b"6\n", b"3\n7\n\n"), "Q2": (b"5\n", b"4\n2\nan old memory came up\n")}
WORDS = {"K7": "hotspot", "Q2": "rescripting starts"}
SEEDS = {"K7": 1, "Q2": 2}  # two different (simulated) people


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "sessions", *args]


class Client:
    """One client's ``run`` with a terminal for its ratings: the before-rating at once, the after-rating when asked."""

    def __init__(self, practice: Practice, code: str) -> None:
        self.code = code
        master, slave = pty.openpty()
        self.master = master
        self.proc = subprocess.Popen(
            _cli("--client", code, "run", "--simulate", "--seed", str(SEEDS[code]), "--speed", "10", "--duration", "300",
                 "--no-audio", "--headless",
                 *practice.flags(code, f"bf/{code}"), "--mqtt-session", code.lower(), "--accept-markers", "--lang", "en"),
            cwd=REPO, env=practice.env(), stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        os.close(slave)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        os.write(master, ANSWERS[code][0])

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    def finish(self) -> str:
        wait_for(lambda: any("How was it?" in line for line in self.lines) or self.proc.poll() is not None, 180,
                 f"{self.code} asks how it was")
        os.write(self.master, ANSWERS[self.code][1])
        self.proc.wait(timeout=60)
        self._reader.join(timeout=10)
        os.close(self.master)
        assert self.proc.returncode == 0, self.proc.stderr.read() if self.proc.stderr else ""
        return "".join(self.lines)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def practice(tmp_path):
    p = Practice(tmp_path, {"dr-a": ["K7", "Q2"]})
    for code in ("K7", "Q2"):
        out = subprocess.run(_cli("clients", "add", code), cwd=REPO, env=p.env(), capture_output=True, text=True,
                             timeout=60)
        assert out.returncode == 0, out.stderr
    with p.broker:
        yield p


def _run_cli(practice: Practice, *args: str) -> str:
    out = subprocess.run(_cli(*args), cwd=REPO, env=practice.env(), capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_two_clients_rate_get_their_therapists_markers_and_stay_apart(practice, tmp_path):
    from selenium.webdriver.common.by import By

    watch, url = _start_watch(practice)
    clients = [Client(practice, code) for code in ("K7", "Q2")]
    d = driver(tmp_path / "chromium")
    try:
        d.get(url)
        wait_for(lambda: len(d.find_elements(By.CSS_SELECTOR, "section.tile")) == 2, 90, "a tile per client")
        for code, word in WORDS.items():
            key = f"{code}/{code.lower()}"
            wait_for(lambda key=key: _text(d, key, ".time") not in ("", "–"), 60, f"{code} is live")
            tile = _tile(d, key)
            tile.find_element(By.CSS_SELECTOR, "input").send_keys(word)
            tile.find_element(By.CSS_SELECTOR, "button").click()
            wait_for(lambda key=key: _tile(d, key).find_element(By.CSS_SELECTOR, ".mark-status")
                     .get_attribute("data-state") == "recorded", 30, f"{code}'s session confirms its marker")
        screenshot(d, "e2e-watch-web-two-clients.png")
        outs = {c.code: c.finish() for c in clients}
    finally:
        d.quit()
        for c in clients:
            c.kill()
        if watch.poll() is None:
            watch.terminate()
        watch.wait(timeout=60)
    for code, out in outs.items():
        assert "Session saved" in out and "MQTT: connected to mqtts://" + code in out, out[-600:]
    # Each record holds its own ratings and only its own therapist's marker.
    for code in ("K7", "Q2"):
        files = sorted((practice.tmp / "data" / "clients" / code / "sessions").glob("*.sqlite"))
        assert len(files) == 1
        with SessionReader(files[0]) as reader:
            assert [(e[2]["label"], e[2]["source"]) for e in reader.events("marker")] == [(WORDS[code], "therapist")]
            ratings = {e[2]["when"]: e[2] for e in reader.events("rating")}
        before, after = (int(a.split(b"\n")[0]) for a in ANSWERS[code])
        assert ratings["before"]["sud"] == before and ratings["after"]["sud"] == after
    assert not list((practice.tmp / "data" / "sessions").glob("*.sqlite"))  # nothing landed outside a client
    # Trends and reports: each client's own numbers and words, nothing of the other's.
    for code, other in (("K7", "Q2"), ("Q2", "K7")):
        trends = json.loads(_run_cli(practice, "--client", code, "trends", "--json"))  # "client K7" goes to stderr
        (row,) = trends["sessions"]
        before, after = (int(a.split(b"\n")[0]) for a in ANSWERS[code])
        assert (row["sud_before"], row["sud_after"]) == (before, after)
        report = tmp_path / f"report-{code}.html"
        _run_cli(practice, "--client", code, "report", "-o", str(report), "--lang", "en")
        html = report.read_text()
        assert WORDS[code] in html and WORDS[other] not in html
        SHOTS.mkdir(parents=True, exist_ok=True)
        _run_cli(practice, "--client", code, "report", "-o", str(SHOTS / f"e2e-report-{code}.png"), "--lang", "en")
    assert "an old memory came up" not in (tmp_path / "report-K7.html").read_text()
