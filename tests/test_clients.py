"""Two clients on one computer stay apart: sessions, profile (baseline, resonance rate, senses, safe place,
volume) and therapist unlocks; the person alone sees nothing change. The real command line (in this
process: starting Python for each of some fifty commands would be most of the test), real files."""

from __future__ import annotations

import argparse
import json
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from sessions import clients, settings
from sessions.cli import build_parser, main

PASSPHRASE = "lavender harbour at noon"
_capture: pytest.CaptureFixture[str] | None = None


@dataclass
class _Done:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture(autouse=True)
def _captured(capsys):
    global _capture
    _capture = capsys
    yield
    _capture = None


def _cli(*args: str) -> _Done:
    """``biofeedback ARGS`` as :func:`sessions.cli.main` runs it (stdin is not a terminal under pytest)."""
    assert _capture is not None
    _capture.readouterr()
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse refusing an option
        code = int(exc.code or 0)
    out = _capture.readouterr()
    return _Done(code, out.out, out.err)


def _ok(*args: str) -> _Done:
    proc = _cli(*args)
    assert proc.returncode == 0, proc.stderr
    return proc


def _refused(*args: str) -> str:
    proc = _cli(*args)
    err = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    return err[-1]


def _short_run(*extra: str) -> None:
    # 150 s of session time: the quiet start ends, so a resting baseline is stored
    _ok("run", "--simulate", "--headless", "--speed", "60", "--duration", "150", "--no-audio", *extra)


def _profile(folder: Path) -> dict:
    return json.loads((folder / "profile.json").read_text())


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def root(data_dir) -> Path:
    return data_dir


def test_two_clients_keep_sessions_profile_and_unlocks_apart(root, tmp_path):
    _short_run()  # the person alone, before any client exists: the main folder, no word about clients
    alone_before = _profile(root)
    assert "client" not in _cli("sessions").stderr
    for code in ("K7", "K8"):
        _ok("clients", "add", code)
    _short_run("--client", "K7", "--volume", "0.3", "--person", "follows")
    _short_run("--volume", "0.9", "--person", "ignores", "--client", "K8")  # --client after the options too
    _ok("--client", "K7", "safe-place", "--lang", "en", "--place", "the bench by the lake", "--sound",
        "water lapping", "--senses", "sound,touch,body")
    _ok("safe-place", "--client", "K8", "--lang", "en", "--place", "my grandmother's kitchen", "--senses",
        "smell,touch,body")
    k7, k8 = (root / "clients" / code for code in ("K7", "K8"))
    # sessions: one each, in their own folder; the person alone's one stays in the main folder
    assert len(list((k7 / "sessions").glob("*.sqlite"))) == 1
    assert len(list((k8 / "sessions").glob("*.sqlite"))) == 1
    assert len(list((root / "sessions").glob("*.sqlite"))) == 1
    listed = json.loads(_ok("--client", "K7", "sessions", "--json").stdout)
    assert [s["id"] for s in listed] == [p.name.split(".")[0] for p in (k7 / "sessions").glob("*.sqlite")]
    # profile: baseline from their own session, their own volume, safe place and senses
    p7, p8 = _profile(k7), _profile(k8)
    assert p7["baseline"]["session"] == listed[0]["id"] and p8["baseline"]["session"] != listed[0]["id"]
    assert (p7["audio"]["volume"], p8["audio"]["volume"]) == (0.3, 0.9)
    assert p7["safe_place"]["place"] == "the bench by the lake" and p7["safe_place"]["senses"] == ["sound", "touch", "body"]
    assert p8["safe_place"]["place"] == "my grandmother's kitchen" and "sound" not in p8["safe_place"]["senses"]
    # a resonance rate stored for one client is that client's only
    from sessions.profile import load_profile, save_profile

    base = settings.Settings.from_environment()
    settings.configure(base.for_client("K7"))
    save_profile({"resonance_rate": 5.5})
    settings.configure(base.for_client("K8"))
    assert "resonance_rate" not in load_profile()
    settings.configure(base)
    assert _profile(root) == alone_before  # the person alone's profile is untouched by both clients
    # unlocks: one passphrase for the computer, the unlocked exercise for K7 only
    secret = tmp_path / "pp.txt"
    secret.write_text(PASSPHRASE + "\n")
    secret.chmod(0o600)
    _ok("therapist", "set-passphrase", "--new-passphrase-file", str(secret))
    _ok("therapist", "unlock", "nightmare-rehearsal", "--client", "K7", "--passphrase-file", str(secret))
    assert "nightmare-rehearsal" in _ok("--client", "K7", "therapist", "status").stdout
    assert "Unlocked for this client: none" in _ok("--client", "K8", "therapist", "status").stdout
    assert "has not been unlocked" in _refused("run", "--client", "K8", "--therapist", "--script",
                                               "nightmare-rehearsal", "--lang", "en", "--simulate", "--headless",
                                               "--passphrase-file", str(secret))
    # every folder and file of a client is private
    for path in [root / "clients", k7, *k7.rglob("*")]:
        assert _mode(path) == (0o700 if path.is_dir() else 0o600), path


def test_a_copied_unlock_file_does_not_unlock_another_client(root, tmp_path):
    from sessions.therapist import check_passphrase, set_passphrase, set_unlocked

    for code in ("K7", "K8"):
        clients.add_client(root, code)
    base = settings.Settings.from_environment()
    set_passphrase(PASSPHRASE)
    settings.configure(base.for_client("K7"))
    assert set_unlocked(PASSPHRASE, "nightmare-rehearsal", True) == ["nightmare-rehearsal"]
    copied = json.loads((root / "clients" / "K7" / "unlocks.json").read_text())
    copied["client"] = "K8"
    (root / "clients" / "K8" / "unlocks.json").write_text(json.dumps(copied))
    settings.configure(base.for_client("K8"))
    assert check_passphrase(PASSPHRASE) == []  # the HMAC binds K7's code
    # a new passphrase keeps every client's unlocks (signed again), and the old one no longer opens anything
    settings.configure(base)
    set_passphrase("a brand new passphrase", PASSPHRASE)
    settings.configure(base.for_client("K7"))
    assert check_passphrase("a brand new passphrase") == ["nightmare-rehearsal"]
    settings.configure(base)


def test_client_option_errors_are_one_sentence(root):
    assert "there are no clients yet" in _refused("--client", "K9", "sessions")
    _ok("clients", "add", "K7")
    _ok("clients", "add", "client-12")
    line = _refused("sessions", "--client", "K9")
    assert "no client 'K9'" in line and "client-12, K7" in line and "clients add K9" in line
    for bad in ("Jan Jansen", "_x", "a", "x" * 25, "../K7", "K7/..", "K7\n"):
        assert "2-24 letters, digits" in _refused("clients", "add", bad)
        assert "never a name" in _refused(f"--client={bad}", "sessions")
    assert "already exists" in _refused("clients", "add", "k7")  # one folder on a case-blind disk
    assert "Give a client's code" in _refused("clients", "use")


def test_the_last_client_is_remembered_and_said_first(root):
    _ok("clients", "add", "K7")
    _ok("clients", "add", "K8", "--use")
    assert _ok("sessions").stderr.splitlines()[0] == "client K8"
    assert _ok("--client", "K7", "sessions").stderr.splitlines()[0] == "client K7"
    assert _ok("sessions", "--json").stderr.splitlines()[0] == "client K7"  # stdout stays JSON
    assert json.loads(_ok("sessions", "--json").stdout) == []
    assert "* K7" in _ok("clients", "list").stdout
    _ok("clients", "use", "--none")
    assert _ok("sessions").stderr.startswith("client: none")
    assert not (root / "last_client").exists()
    assert json.loads(_ok("clients", "list", "--json").stdout)["in_use"] is None
    # commands that touch no client's data say nothing about clients
    assert "client" not in _ok("decode", "0010").stderr + _ok("help").stderr


def test_export_holds_the_clients_folder_privately_and_nothing_else(root, tmp_path):
    _ok("clients", "add", "K7")
    _ok("clients", "add", "K8")
    _short_run("--client", "K7")
    _ok("safe-place", "--client", "K8", "--place", "the attic")
    out = tmp_path / "K7.zip"
    _ok("clients", "export", "K7", "-o", str(out))
    assert _mode(out) == 0o600
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        manifest = json.loads(zf.read("K7/export.json"))
        modes = {stat.S_IMODE(i.external_attr >> 16) for i in zf.infolist()}
        record = next(n for n in names if n.endswith(".biofeedback.sqlite"))
        assert zf.read(record) == next((root / "clients" / "K7" / "sessions").glob("*.sqlite")).read_bytes()
    assert all(n.startswith("K7/") for n in names) and "K7/profile.json" in names
    assert not any(".lock" in n for n in names)
    assert set(manifest) == {"client", "exported_at", "files", "format"} and manifest["client"] == "K7"
    assert str(root) not in out.read_bytes().decode("latin-1")  # no path (and so no user name) inside
    assert modes == {0o600}
    assert "already exists" in _refused("clients", "export", "K7", "-o", str(out))
    inside = root / "clients" / "K7" / "copy.zip"
    assert "inside the client's own folder" in _refused("clients", "export", "K7", "-o", str(inside))


def test_delete_asks_and_leaves_nothing_of_the_client_behind(root):
    _ok("clients", "add", "K7")
    _ok("clients", "add", "K8")
    _ok("safe-place", "--client", "K8", "--place", "the attic")
    _ok("clients", "use", "K7")
    _short_run()
    assert "needs a confirmation" in _refused("clients", "delete", "K7")
    assert (root / "clients" / "K7" / "sessions").is_dir()
    _ok("clients", "delete", "K7", "--yes")
    assert not (root / "clients" / "K7").exists()
    assert not (root / "last_client").exists()  # K7 was the remembered client
    hits = [p for p in root.rglob("*") if p.is_file() and b"K7" in p.read_bytes()]
    assert hits == []
    assert _profile(root / "clients" / "K8")["safe_place"]["place"] == "the attic"
    assert "no client 'K7'" in _refused("clients", "delete", "K7", "--yes")


def _all_parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _all_parsers(sub, (*path, name))


def test_every_subcommand_takes_client_once_in_its_help():
    parsers = list(_all_parsers(build_parser()))
    assert len(parsers) > 25
    for path, parser in parsers:
        options = [a for a in parser._actions if "--client" in a.option_strings]
        assert len(options) == 1, path
        assert parser.format_help().count("--client CODE ") == 1, path
    args = build_parser().parse_args(["--client", "K7", "therapist", "unlock", "x"])
    assert args.client == "K7"
    args = build_parser().parse_args(["therapist", "unlock", "x", "--client", "K8"])
    assert args.client == "K8"
