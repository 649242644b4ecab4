"""The profile between sessions: private, and safe when several sessions end at the same moment."""

from __future__ import annotations

import multiprocessing
import stat

from sessions.profile import load_profile, profile_path, save_profile

WRITERS = 6  # six sessions started together is where the race was seen
ROUNDS = 30


def _session_ending(n: int, barrier: multiprocessing.synchronize.Barrier) -> None:
    """One process saving its own part of the profile, over and over, as a session does at its end."""
    barrier.wait()
    for round_ in range(ROUNDS):
        save_profile({f"session_{n}": round_, "resonance_rate": 5.5 + n / 10})


def test_sessions_ending_together_lose_nothing(data_dir):
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(WRITERS)
    procs = [ctx.Process(target=_session_ending, args=(n, barrier)) for n in range(WRITERS)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
    # A process that died of FileNotFoundError (two sessions renaming the same temporary file)
    # exits with 1; a lost update (read, another writes, write back the old view) drops a key.
    assert [proc.exitcode for proc in procs] == [0] * WRITERS
    profile = load_profile()
    assert {k: v for k, v in profile.items() if k.startswith("session_")} == {
        f"session_{n}": ROUNDS - 1 for n in range(WRITERS)}
    assert profile["resonance_rate"] in {5.5 + n / 10 for n in range(WRITERS)}
    # No temporary file is left behind, and what is there is private.
    folder = profile_path().parent
    leftovers = sorted(p.name for p in folder.iterdir() if p.name.startswith("profile") or p.name.startswith("."))
    assert leftovers in (["profile.json"], [".profile.json.lock", "profile.json"])
    for path in folder.iterdir():
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_a_save_merges_into_what_is_there(data_dir):
    save_profile({"resonance_rate": 5.8})
    save_profile({"audio": {"on": True}})
    assert load_profile()["resonance_rate"] == 5.8 and load_profile()["audio"] == {"on": True}
    assert stat.S_IMODE(profile_path().stat().st_mode) == 0o600
