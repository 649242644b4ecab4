"""The therapist gate: therapist-only scripts open per client, and only with the therapist's passphrase.

Why a passphrase and not a signed client file: a signature is only as strong as the place its
public key is trusted from, and on the person's own computer that place is a file the person can
replace, so it would add key handling (a key pair per therapist, a crypto package, files to carry
over) without holding better. A passphrase the therapist types on the client's computer, in the
room, needs nothing else, works offline, and is exactly the question asked at every therapist
start: *is the therapist here?* What is stored (``therapist.json`` in the person's own data
folder, mode 0600) is a salt, the scrypt parameters and a verifier; never the passphrase. The
list of scripts the therapist unlocked for this client carries an HMAC keyed by a second half of
the same slow derivation, so adding a script to it by hand does not unlock it either.

What it is not: protection against the computer's owner setting out to break it (deleting the file
and setting a passphrase of their own would do). It makes sure that no public flag, no copied script
and no take-home recording opens a heavy exercise for someone alone at night.
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import hashlib
import hmac
import json
import logging
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sessions import settings
from sessions.errors import UserError
from sessions.exercises.model import HomeVersion, Script
from sessions.private_files import locked, private_folder, read_secret_file, replace_private

log = logging.getLogger(__name__)

PASSPHRASE_ENV = "BIOFEEDBACK_THERAPIST_PASSPHRASE_FILE"
MIN_LENGTH = 10
"""Shorter passphrases are refused: a slow hash cannot save one that is guessed in a few tries."""
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1
"""OWASP's minimum for scrypt (128 MiB, about 0.4 s of CPU): slow for a guesser, quick enough for a person."""
_MAXMEM = 256 * 2**20
_FILE_NAME = "therapist.json"

QUESTION = {"en": "Is your therapist with you now?", "nl": "Is je therapeut nu bij je?"}
NOTES_LABEL = {"en": "Notes for the therapist", "nl": "Notities voor de therapeut"}
LISTING_MARK = {"en": "with a therapist only", "nl": "alleen samen met een therapeut"}
"""How ``biofeedback scripts`` marks a therapist-only script (without advertising how to open it)."""


class TherapistGateClosed(UserError):
    """Therapist mode stays closed: no passphrase set, a wrong one, or the script not unlocked."""


def therapist_intro(script: Script, lang: str) -> list[str]:
    """What the window shows and the terminal prints at the start of a therapist-only script.

    The question first, then the script's notes for the therapist; nothing for everyday scripts.
    Pure (no I/O), so the runner, the window and the terminal all show the same lines.
    """
    if not script.therapist_only:
        return []
    lang = lang if lang in QUESTION else "en"
    lines = [QUESTION[lang]]
    if script.notes:
        lines.append(f"{NOTES_LABEL[lang]}: {script.notes}")
    return lines


def listing_mark(lang: str) -> str:
    return LISTING_MARK.get(lang, LISTING_MARK["en"])


def home_recording(script: Script) -> Script:
    """The script as the take-home recording says it: its home warning first, its closing and help line last."""
    home: HomeVersion | None = script.home
    if home is None:
        raise UserError(f"The script '{script.id}' has no home version.")
    steps = list(script.steps)
    steps[0] = dataclasses.replace(steps[0], text=(home.warning, *steps[0].text))
    steps[-1] = dataclasses.replace(steps[-1], then=(*steps[-1].then, home.closing, home.help))
    return dataclasses.replace(script, steps=tuple(steps))


# ------------------------------------------------------------------------------------------
# The stored gate
# ------------------------------------------------------------------------------------------


def gate_path() -> Path:
    """``therapist.json`` in the person's data folder (beside the profile)."""
    return settings.current().data_dir / _FILE_NAME


@dataclass(frozen=True)
class _Keys:
    verifier: bytes
    mac_key: bytes


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> _Keys:
    out = hashlib.scrypt(passphrase.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=64)
    return _Keys(out[:32], out[32:])


def _mac(keys: _Keys, unlocked: list[str]) -> str:
    return hmac.new(keys.mac_key, json.dumps(sorted(unlocked)).encode("utf-8"), hashlib.sha256).hexdigest()


def _load() -> dict[str, Any] | None:
    path = gate_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        raise TherapistGateClosed(f"The therapist settings in {path} cannot be read ({err}), so therapist mode "
                                  "stays closed.") from None
    if not isinstance(data, dict) or not {"salt", "verifier", "n", "r", "p"} <= set(data):
        raise TherapistGateClosed(f"The therapist settings in {path} are incomplete, so therapist mode stays closed.")
    return data


def _save(keys: _Keys, salt: bytes, unlocked: list[str],
          n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> None:
    data = {
        "version": 1,
        "kdf": "scrypt",
        "n": n,
        "r": r,
        "p": p,
        "salt": salt.hex(),
        "verifier": keys.verifier.hex(),
        "unlocked": sorted(set(unlocked)),
        "mac": _mac(keys, sorted(set(unlocked))),
    }
    path = gate_path()
    private_folder(path.parent)
    replace_private(path, (json.dumps(data, indent=2) + "\n").encode("utf-8"))


def is_set() -> bool:
    return _load() is not None


def recorded_unlocks() -> list[str]:
    """The scripts the file says are unlocked (not verified: that needs the passphrase)."""
    data = _load()
    return list(data.get("unlocked", [])) if data else []


def _verify(passphrase: str) -> tuple[dict[str, Any], _Keys]:
    data = _load()
    if data is None:
        raise TherapistGateClosed(
            "Therapist mode has not been set up on this computer, so it stays closed; your therapist sets it up "
            "with you."
        )
    try:
        keys = _derive(passphrase, bytes.fromhex(data["salt"]), int(data["n"]), int(data["r"]), int(data["p"]))
        verifier = bytes.fromhex(data["verifier"])
    except (TypeError, ValueError, MemoryError):
        raise TherapistGateClosed(f"The therapist settings in {gate_path()} are damaged, so therapist mode stays "
                                  "closed.") from None
    if not hmac.compare_digest(keys.verifier, verifier):
        raise TherapistGateClosed(
            "That is not the therapist passphrase for this computer, so therapist mode stays closed."
        )
    return data, keys


def _verified_unlocks(data: dict[str, Any], keys: _Keys) -> list[str]:
    unlocked = [str(s) for s in data.get("unlocked", [])]
    if not hmac.compare_digest(_mac(keys, unlocked), str(data.get("mac", ""))):
        log.warning("The list of unlocked scripts in %s was changed by hand; it is ignored.", gate_path())
        return []
    return unlocked


def check_passphrase(passphrase: str) -> list[str]:
    """Raises :class:`TherapistGateClosed` unless it is the therapist's passphrase; returns the unlocked scripts."""
    data, keys = _verify(passphrase)
    return _verified_unlocks(data, keys)


def set_passphrase(new: str, current: str | None = None) -> None:
    """Set (or change) the passphrase; changing it needs the current one. Unlocked scripts stay unlocked."""
    if len(new) < MIN_LENGTH:
        raise UserError(f"That passphrase is too short; use at least {MIN_LENGTH} characters (a few words work well).")
    with locked(_lock_path()):
        unlocked: list[str] = []
        if is_set():
            if current is None:
                raise TherapistGateClosed("A therapist passphrase is already set; changing it needs the current one.")
            data, keys = _verify(current)
            unlocked = _verified_unlocks(data, keys)
        salt = secrets.token_bytes(16)
        _save(_derive(new, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P), salt, unlocked)


def set_unlocked(passphrase: str, script_id: str, unlocked: bool) -> list[str]:
    """Unlock (or lock) ``script_id`` for this client; returns the unlocked scripts after the change."""
    with locked(_lock_path()):
        data, keys = _verify(passphrase)
        current = set(_verified_unlocks(data, keys))
        if unlocked:
            current.add(script_id)
        else:
            current.discard(script_id)
        _save(keys, bytes.fromhex(data["salt"]), sorted(current), int(data["n"]), int(data["r"]), int(data["p"]))
        return sorted(current)


def _lock_path() -> Path:
    path = gate_path()
    private_folder(path.parent)
    return path.with_name(f".{path.name}.lock")


def open_gate(script: Script, passphrase: str) -> None:
    """Therapist mode for ``script``: the passphrase must be right and a therapist-only script unlocked here."""
    unlocked = check_passphrase(passphrase)
    if script.therapist_only and script.id not in unlocked:
        raise TherapistGateClosed(
            f"The script '{script.id}' has not been unlocked for this client, so therapist mode stays closed for it; "
            f"the therapist unlocks it with 'biofeedback therapist unlock {script.id}'."
        )


# ------------------------------------------------------------------------------------------
# Asking for the passphrase
# ------------------------------------------------------------------------------------------


def add_passphrase_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--passphrase-file",
        metavar="FILE",
        help=f"read the therapist passphrase from the first line of FILE (else from ${PASSPHRASE_ENV}, else it is "
        "asked for without echo; never on the command line)",
    )


def read_passphrase_file(name: str) -> str:
    return read_secret_file(name, "passphrase")


def read_passphrase(passphrase_file: str | None, prompt: str = "Therapist passphrase: ") -> str:
    """From ``--passphrase-file``, else the file named by the environment, else asked on the terminal (no echo)."""
    name = passphrase_file or os.environ.get(PASSPHRASE_ENV)
    if name:
        return read_passphrase_file(name)
    if not sys.stdin.isatty():
        raise TherapistGateClosed(
            f"Therapist mode needs the therapist passphrase and there is no terminal to ask it on; give "
            f"--passphrase-file FILE or set {PASSPHRASE_ENV}."
        )
    try:
        return getpass.getpass(prompt)
    except EOFError:
        raise TherapistGateClosed("No passphrase was given, so therapist mode stays closed.") from None
