"""The therapist gate: therapist-only scripts open per client, and only with the therapist's passphrase.

Why a passphrase and not a signed client file: a signature is only as strong as the place its
public key is trusted from, and on the person's own computer that place is a file the person can
replace, so it would add key handling (a key pair per therapist, a crypto package, files to carry
over) without holding better. A passphrase the therapist types on the client's computer, in the
room, needs nothing else, works offline, and is exactly the question asked at every therapist
start: *is the therapist here?* What is stored (``therapist.json`` in the data root, mode 0600) is
a salt, the scrypt parameters and a verifier; never the passphrase. One passphrase serves every
client on the computer; what the therapist unlocked and allowed at home is kept per client: in
``therapist.json`` for the person alone, in the client's own folder (``unlocks.json``) for a client
(see :mod:`sessions.clients`). Each list carries an HMAC keyed by a second half of the same slow
derivation (for a client, over the client's code too), so adding a script to it by hand, or copying
another client's file, does not unlock it.

Home use (``therapist allow-home``): which personal scripts a client may run alone, how often a
day, and the exact text the therapist allowed (a changed file is no longer allowed). It is checked
when the client starts a script alone, without the passphrase, so only what is recorded can be
checked there, not its HMAC; the HMAC is checked whenever the therapist next gives the passphrase.

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
from collections.abc import Callable
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
_GRANTS_FILE = "unlocks.json"

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
    """``therapist.json`` in the data root: the passphrase (and the person alone's unlocks)."""
    return settings.current().root_dir / _FILE_NAME


def grants_path() -> Path:
    """Where this client's unlocks and home allowances are kept (the gate file for the person alone)."""
    return _grants_file(settings.current().client)


def _grants_file(client: str | None) -> Path:
    """Where ``client``'s grants are kept: their folder's ``unlocks.json``, or the gate file for the person alone."""
    return settings.current().for_client(client).data_dir / _GRANTS_FILE if client is not None else gate_path()


@dataclass(frozen=True)
class _Keys:
    verifier: bytes
    mac_key: bytes


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> _Keys:
    out = hashlib.scrypt(passphrase.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=64)
    return _Keys(out[:32], out[32:])


def _mac(keys: _Keys, unlocked: list[str], client: str | None = None) -> str:
    """The unlocked list's HMAC; a client's binds their code too (another client's file does not fit)."""
    payload: Any = sorted(unlocked) if client is None else [client, sorted(unlocked)]
    return hmac.new(keys.mac_key, json.dumps(payload).encode("utf-8"), hashlib.sha256).hexdigest()


def _home_mac(keys: _Keys, home: dict[str, Any], client: str | None) -> str:
    payload = json.dumps(["home", client, home], sort_keys=True).encode("utf-8")
    return hmac.new(keys.mac_key, payload, hashlib.sha256).hexdigest()


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


def _save(keys: _Keys, salt: bytes, grants: Grants, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> None:
    """The gate file with the person alone's grants (``grants`` are theirs, written into it)."""
    data = {
        "version": 1,
        "kdf": "scrypt",
        "n": n,
        "r": r,
        "p": p,
        "salt": salt.hex(),
        "verifier": keys.verifier.hex(),
        **grants.signed(keys, None),
    }
    path = gate_path()
    private_folder(path.parent)
    replace_private(path, (json.dumps(data, indent=2) + "\n").encode("utf-8"))


def _save_grants(keys: _Keys, grants: Grants, client: str | None) -> None:
    """``client``'s grants, in their own folder (for the person alone: into the gate file)."""
    if client is None:
        data = _load()
        assert data is not None
        _save(keys, bytes.fromhex(data["salt"]), grants, int(data["n"]), int(data["r"]), int(data["p"]))
        return
    path = _grants_file(client)
    private_folder(path.parent, settings.current().root_dir)
    body = {"version": 1, "client": client, **grants.signed(keys, client)}
    replace_private(path, (json.dumps(body, indent=2) + "\n").encode("utf-8"))


@dataclass
class Grants:
    """What the therapist opened for one client: scripts unlocked for therapist mode, and scripts allowed at home.

    ``home`` maps a script id to ``{"max_per_day": N or None, "files": {lang: sha256}}``.
    """

    unlocked: list[str] = dataclasses.field(default_factory=list)
    home: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)

    def signed(self, keys: _Keys, client: str | None) -> dict[str, Any]:
        unlocked = sorted(set(self.unlocked))
        return {"unlocked": unlocked, "mac": _mac(keys, unlocked, client),
                "home": self.home, "home_mac": _home_mac(keys, self.home, client)}


def _read_grants(client: str | None) -> dict[str, Any]:
    """The stored grants of ``client`` (unverified); {} when there are none."""
    if client is None:
        return _load() or {}
    path = _grants_file(client)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as err:
        log.warning("Ignoring the unreadable unlocks file %s (%s).", path, err)
        return {}
    return data if isinstance(data, dict) else {}


def is_set() -> bool:
    return _load() is not None


def recorded_unlocks() -> list[str]:
    """The scripts the file says are unlocked for the active client (not verified: that needs the passphrase)."""
    unlocked = _read_grants(settings.current().client).get("unlocked", [])
    return [str(s) for s in unlocked] if isinstance(unlocked, list) else []


def recorded_home() -> dict[str, dict[str, Any]]:
    """The personal scripts the active client may run alone, as recorded (not verified: see the module's note)."""
    home = _read_grants(settings.current().client).get("home", {})
    if not isinstance(home, dict):
        return {}
    return {str(k): v for k, v in home.items() if isinstance(v, dict)}


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


def _verified_grants(keys: _Keys, client: str | None, data: dict[str, Any] | None = None) -> Grants:
    """The grants of ``client`` whose HMAC holds; a part changed by hand is ignored (with a warning)."""
    if data is None:
        data = _read_grants(client)
    raw_unlocked = data.get("unlocked", [])
    unlocked = [str(s) for s in raw_unlocked] if isinstance(raw_unlocked, list) else []
    where = _grants_file(client)
    if data.get("client", client) != client or not hmac.compare_digest(_mac(keys, unlocked, client),
                                                                         str(data.get("mac", ""))):
        if unlocked:
            log.warning("The list of unlocked scripts in %s was changed by hand; it is ignored.", where)
        unlocked = []
    home = data.get("home", {})
    if not isinstance(home, dict) or not hmac.compare_digest(_home_mac(keys, home, client), str(data.get("home_mac", ""))):
        if home:
            log.warning("The scripts allowed at home in %s were changed by hand; they are ignored.", where)
        home = {}
    return Grants(unlocked, home)


def check_passphrase(passphrase: str) -> list[str]:
    """Raises :class:`TherapistGateClosed` unless it is the therapist's passphrase; returns the unlocked scripts."""
    _data, keys = _verify(passphrase)
    return _verified_grants(keys, settings.current().client).unlocked


def set_passphrase(new: str, current: str | None = None) -> None:
    """Set (or change) the passphrase; changing it needs the current one. Unlocked scripts stay unlocked."""
    if len(new) < MIN_LENGTH:
        raise UserError(f"That passphrase is too short; use at least {MIN_LENGTH} characters (a few words work well).")
    with locked(_lock_path()):
        alone = Grants()
        clients: dict[str, Grants] = {}
        if is_set():
            if current is None:
                raise TherapistGateClosed("A therapist passphrase is already set; changing it needs the current one.")
            data, keys = _verify(current)
            alone = _verified_grants(keys, None, data)
            clients = {code: _verified_grants(keys, code) for code in _clients_with_grants()}
        salt = secrets.token_bytes(16)
        new_keys = _derive(new, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
        _save(new_keys, salt, alone)
        for code, grants in clients.items():  # every client's lists, signed again with the new key
            _save_grants(new_keys, grants, code)


def _clients_with_grants() -> list[str]:
    from sessions.clients import known_clients

    return [c for c in known_clients(settings.current().root_dir) if _grants_file(c).is_file()]


def _change_grants(passphrase: str, change: Callable[[Grants], None]) -> Grants:
    """Verify the passphrase, apply ``change`` to the active client's verified grants, and store them signed."""
    with locked(_lock_path()):
        _data, keys = _verify(passphrase)
        client = settings.current().client
        grants = _verified_grants(keys, client)
        change(grants)
        _save_grants(keys, grants, client)
        return grants


def set_unlocked(passphrase: str, script_id: str, unlocked: bool) -> list[str]:
    """Unlock (or lock) ``script_id`` for this client; returns the unlocked scripts after the change."""
    def change(grants: Grants) -> None:
        current = set(grants.unlocked)
        if unlocked:
            current.add(script_id)
        else:
            current.discard(script_id)
        grants.unlocked = sorted(current)

    return _change_grants(passphrase, change).unlocked


def set_home(passphrase: str, script_id: str, allowance: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Allow ``script_id`` at home for this client (``allowance``: max_per_day and the allowed files' hashes),
    or take it back (None); returns what is allowed at home after the change."""
    def change(grants: Grants) -> None:
        if allowance is None:
            grants.home.pop(script_id, None)
        else:
            grants.home[script_id] = allowance

    return _change_grants(passphrase, change).home


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


# ------------------------------------------------------------------------------------------
# Personal scripts at home
# ------------------------------------------------------------------------------------------


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def home_allowance(script_files: dict[str, Path], max_per_day: int | None) -> dict[str, Any]:
    """What ``allow-home`` records: how often a day, and the text allowed (each language file's hash)."""
    return {"max_per_day": max_per_day, "files": {lang: file_digest(path) for lang, path in sorted(script_files.items())}}


def alone_today(script_id: str, today: str | None = None) -> int:
    """Sessions of ``script_id`` the active client began alone today (not in therapist mode)."""
    from contextlib import closing
    from datetime import datetime

    from sessions.store import SUFFIX, UNREADABLE, SessionReader, data_dir

    day = today or datetime.now().strftime("%Y%m%d")
    folder = data_dir()
    count = 0
    for path in sorted(folder.glob(f"{day}-*{SUFFIX}")) if folder.is_dir() else []:
        try:
            with closing(SessionReader(path)) as reader:
                meta = reader.meta
        except (UserError, *UNREADABLE) as err:  # a record damaged beyond its meta names no script
            log.info("Not counting %s: %s", path.name, err)
            continue
        if meta.get("script") == script_id and not meta.get("therapist_mode"):
            count += 1
    return count


def home_use(script: Script, *, count_today: bool = True) -> Script:
    """A personal script as the client may run it alone, or one sentence saying why not.

    Alone means: the therapist allowed it (``therapist allow-home``) in exactly this text, and not more
    often today than they said; a therapist-only one also needs its home version, which is then what is
    said (its home warning first, closing and help last) in an everyday session with care and distress
    detection as usual. On a computer where no therapist set a passphrase, a person's own everyday
    scripts are theirs to run.
    """
    allowed = recorded_home().get(script.id)
    if allowed is None:
        if not script.therapist_only and not is_set():
            return script
        raise UserError(f"Your therapist has not (yet) made '{script.id}' one to do on your own, so it does not start "
                        "alone here; do it together with your therapist, or ask them about it.")
    digest = (allowed.get("files") or {}).get(script.language)
    if script.source is None or digest != file_digest(script.source):
        raise UserError(f"'{script.id}' has changed since your therapist allowed it at home ({script.source}), so it "
                        "does not start alone; your therapist can look at it and allow it again.")
    limit = allowed.get("max_per_day")
    if count_today and isinstance(limit, int) and alone_today(script.id) >= limit:
        times = "once" if limit == 1 else f"{limit} times"
        raise UserError(f"You have done '{script.id}' {times} today, as often as your therapist suggested; "
                        "tomorrow is another day (a shipped exercise such as grounding is always there).")
    if script.therapist_only:
        if script.home is None:
            raise UserError(f"'{script.id}' has no home version, so it does not start alone; your therapist can add one.")
        return dataclasses.replace(home_recording(script), therapist_only=False)
    return script
