"""An old profile.json with a volume that is NaN, -1 or 5 (issue 16): the next session plays at a sane
volume with one notice, the mended value is written back, and no NaN is ever written to profile.json."""

from __future__ import annotations

import argparse
import json
import logging

import pytest

from sessions.audio.addon import audio_choice
from sessions.profile import load_profile, profile_path, save_profile


def _old_profile(text: str) -> None:
    profile_path().parent.mkdir(parents=True, exist_ok=True)
    profile_path().write_text(text, encoding="utf-8")


def _no_flags() -> argparse.Namespace:
    return argparse.Namespace(audio=None, volume=None)


@pytest.mark.parametrize(("stored", "expected"), [("NaN", 0.8), ("Infinity", 0.8), ("-1", 0.0), ("5", 1.0),
                                                  ('"loud"', 0.8), ("true", 0.8), ("0.3", 0.3)])
def test_an_old_remembered_volume_is_mended_once_and_written_back(data_dir, caplog, stored, expected):
    _old_profile('{"resonance_rate": 5.5, "audio": {"on": true, "volume": %s}}' % stored)
    with caplog.at_level(logging.WARNING):
        on, volume = audio_choice(_no_flags())
    assert on and volume == expected
    notices = [r for r in caplog.records if r.levelno >= logging.WARNING]
    text = profile_path().read_text(encoding="utf-8")
    json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} written to profile.json"))
    if stored == "0.3":
        assert not notices
        return
    assert len(notices) == 1, [r.getMessage() for r in notices]
    written = json.loads(text)["audio"]["volume"]
    assert written == (None if stored in ("NaN", "Infinity") else expected)  # NaN is stored as unknown
    assert json.loads(text)["resonance_rate"] == 5.5
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert audio_choice(_no_flags()) == (True, expected)  # the next session: no second notice
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_nan_anywhere_in_an_old_profile_is_read_as_unknown_and_never_written(data_dir, caplog):
    _old_profile('{"resonance_rate": NaN, "baseline": {"hr": 61.0, "rmssd": -Infinity}, "first_run_seen": true}')
    with caplog.at_level(logging.WARNING):
        profile = load_profile()
    assert profile["resonance_rate"] is None and profile["baseline"] == {"hr": 61.0, "rmssd": None}
    assert profile["first_run_seen"] is True
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1
    strict = json.loads(profile_path().read_text(encoding="utf-8"), parse_constant=lambda c: pytest.fail(c))
    assert strict["baseline"] == {"hr": 61.0, "rmssd": None}
    # A NaN handed to save is stored as unknown, the file stays plain JSON.
    saved = save_profile({"resonance_rate": float("nan"), "audio": {"on": True, "volume": float("inf")}})
    assert saved["resonance_rate"] is None and saved["audio"]["volume"] is None
    json.loads(profile_path().read_text(encoding="utf-8"), parse_constant=lambda c: pytest.fail(c))
    assert audio_choice(_no_flags()) == (True, 0.8)
