"""The measured breath as a ring against the pacer's disc: its shape, its words, and the live window with a
simulated Polar H10 (the ring there, moving with the chest), a plain strap and bedtime (no ring)."""

from __future__ import annotations

import math
import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("qasync")

from PySide6.QtGui import QImage  # noqa: E402

from devices.simulated_strap import SimulatedStrap  # noqa: E402
from devices.simulator import person_profile  # noqa: E402
from sessions.events import SessionPhase  # noqa: E402
from sessions.exercises import load_common, load_script  # noqa: E402
from sessions.gui import style  # noqa: E402
from sessions.gui.breath_ring import RING_COLOUR, BreathRing, follow_words, lung_fill  # noqa: E402
from sessions.gui.window import SessionWindow  # noqa: E402
from sessions.runner import SessionRunner  # noqa: E402
from sessions.store import SessionWriter  # noqa: E402
from tests.sessionkit import run_in_window  # noqa: E402


def test_the_lung_curve_turns_without_a_step():
    assert lung_fill(None, 0.5) is None
    assert lung_fill("inhale", 0.0) == pytest.approx(0.0) and lung_fill("inhale", 1.0) == pytest.approx(1.0)
    assert lung_fill("exhale", 0.0) == pytest.approx(1.0) and lung_fill("exhale", 1.0) == pytest.approx(0.0)
    rising = [lung_fill("inhale", p) for p in np.linspace(0, 1, 50)]
    assert all(b > a for a, b in zip(rising, rising[1:]))


@pytest.mark.parametrize(("args", "en", "nl"), [
    ((True, 0.3, 101.0), "you're breathing with the pacer", "je ademt mee met de ademgids"),
    ((False, 0.2, 125.0), "you're breathing a little faster than the pacer", "je ademt wat sneller dan de ademgids"),
    ((False, 0.2, 80.0), "you're breathing a little slower than the pacer", "je ademt wat langzamer dan de ademgids"),
    ((False, 1.5, 100.0), "your breath comes 1.5 s after the pacer", "je adem komt 1,5 s na de ademgids"),
    ((False, -2.25, 98.0), "your breath is 2.2 s ahead of the pacer", "je adem loopt 2,2 s voor op de ademgids"),
    ((False, 0.3, 100.0), "finding the pacer's rhythm", "je zoekt het ritme van de ademgids"),
    ((None, 0.3, 100.0), "", ""),
])
def test_following_is_said_plainly_in_both_languages(args, en, nl):
    assert follow_words("en", *args) == en and follow_words("nl", *args) == nl


def _fake_runner(phase):
    state = SimpleNamespace(t=10.0, quiet_view=False, pacer=object(), following=True,
                            value=lambda key: {"pacer_phase_lag_s": 0.2, "pacer_rate_match": 100.0}.get(key))
    return SimpleNamespace(state=state, now=lambda: 10.0, chest_phase_at=lambda t: phase[0])


def test_the_ring_eases_fades_and_is_absent_without_a_chest_signal():
    phase = [(None, 0.0)]
    runner, ring = _fake_runner(phase), BreathRing("en")
    assert all(ring.frame(runner, k / 30) is None for k in range(30))  # a plain strap: never a ring
    phase[0] = ("inhale", 0.1)
    views = [ring.frame(runner, 1 + k / 30) for k in range(40)]
    assert views[0].alpha < 0.05 and 0 < views[5].alpha < views[20].alpha and views[-1].alpha == 1.0
    assert views[-1].words == "you're breathing with the pacer"
    phase[0] = ("exhale", 0.05)  # a late-confirmed turn: the target jumps from a fifth to nearly full
    jump = [ring.frame(runner, 1 + (40 + k) / 30).fill for k in range(30)]
    assert max(np.diff([views[-1].fill] + jump)) < 0.15 and jump[-1] == pytest.approx(lung_fill("exhale", 0.05), abs=0.02)
    phase[0] = (None, 0.0)  # moving: the ring fades out within a second and is gone
    out = [ring.frame(runner, 1 + (70 + k) / 30) for k in range(40)]
    assert out[10] is not None and out[10].alpha < 1.0 and out[-1] is None


def _ring_pixels(img: QImage, pacer) -> int:
    """Points of the circle where the ring should be (in the pacer's own picture) that are drawn light, as the
    ring is, while 8 px inside and outside are not (a thin ring there, not a light area). The ring is a light
    line at 84 % opacity, so its pixels blend with what lies under it: dark background or the disc."""
    view = pacer.ring
    w, h = img.width(), img.height()
    r_max = max(20.0, min(w, h - 64) / 2.0 - 8.0)
    r_min = r_max * 0.28
    radius = r_min + view.fill * (r_max - r_min)
    cx, cy = w / 2.0, (h - 64) / 2.0 + 4.0

    def light(r: float, a: float, spread: int = 1) -> float:
        best = 0.0
        for dr in range(-spread, spread + 1):
            c = img.pixelColor(int(round(cx + (r + dr) * math.cos(a))), int(round(cy + (r + dr) * math.sin(a))))
            best = max(best, (c.red() + c.green() + c.blue()) / 3)
        return best

    assert style.qcolor(RING_COLOUR).lightness() > 180  # the test's premise: the ring is a light line
    n = 0
    for a in np.linspace(0, 2 * math.pi, 180, endpoint=False):
        n += light(radius, a) >= 150 and light(radius - 8, a, 0) < 150 and light(radius + 8, a, 0) < 150
    return n


def _window_session(tmp_path: Path, lang: str, strap: str, shots: Path | None, bedtime: bool = False):
    script = "safe-place-bedtime" if bedtime else "safe-place"
    source = SimulatedStrap(person_profile("follows"), seed=4, speed=150.0, strap=strap)
    writer = SessionWriter(tmp_path / f"ring-{lang}-{strap}-{bedtime}.biofeedback.sqlite",
                           {"script": script, "language": lang})
    runner = SessionRunner(source, load_script(script, lang), load_common(lang), writer, duration_s=330.0, bedtime=bedtime)
    window = SessionWindow(runner, lang, close_at_end=True)
    window.resize(1366, 768)
    seen: dict[str, object] = {"rings": 0, "frames": 0}

    def watch(_t: float) -> None:
        s = runner.state
        if s.phase is not SessionPhase.STEP or s.pacer is None or s.t < 200:
            return
        seen["frames"] += 1
        seen["ever_following"] = seen.get("ever_following", False) or s.following is True
        seen["rings"] += window.pacer.ring is not None
        view = window.pacer.ring
        with_pacer = view is not None and view.alpha == 1.0 and view.words == follow_words(lang, True, None, None)
        if "img" not in seen and (strap == "plain" or bedtime or with_pacer):
            seen["img"], seen["pacer"] = window.grab().toImage(), window.pacer.grab().toImage()
            seen["view"], seen["following"] = view, s.following
            if shots is not None:
                seen["img"].save(str(shots / f"live-breath-ring-{lang}{'-bedtime' if bedtime else ''}-{strap}.png"))

    run_in_window(runner, window, writer, watch)
    return window, seen


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_an_h10_draws_the_measured_breath_as_a_ring_and_says_how_it_follows(qapp, tmp_path, shots, lang):
    window, seen = _window_session(tmp_path, lang, "h10", shots)
    assert "img" in seen, "no frame with the ring and its words"
    assert seen["rings"] >= 0.9 * seen["frames"]
    # The ring is drawn where its fill says: the view seen live, painted again now (a live grab can race the
    # window's next frame on a busy machine, which would move the ring between reading and painting it).
    window.pacer.ring = seen["view"]
    assert _ring_pixels(window.pacer.grab().toImage(), SimpleNamespace(ring=seen["view"])) >= 120  # a whole circle
    # The simulated person breathes with the pacer, and the line says so (only while the runner says so too).
    assert seen["following"] is True or seen["ever_following"]


def test_a_plain_strap_and_bedtime_have_no_ring(qapp, tmp_path, shots):
    window, seen = _window_session(tmp_path, "en", "plain", shots)
    assert seen["frames"] > 0 and seen["rings"] == 0 and window.pacer.ring is None
    window, seen = _window_session(tmp_path, "en", "h10", shots, bedtime=True)
    assert seen["frames"] > 0 and seen["rings"] == 0
