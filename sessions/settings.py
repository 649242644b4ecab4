"""The app's configuration, read once at the entry point and handed down.

Why: the data folder, the user's scripts folder, the language and the speech engine used to be looked
up from the environment wherever they were needed, so a test or a second entry point had to patch
functions deep inside. Now :func:`sessions.cli.main` reads them once
(:meth:`Settings.from_environment`) and makes them current (:func:`configure`); code below asks
:func:`current`. Library use without the CLI (tests, benchmarks) gets the environment's settings on
first use.

Clients: with a client active (``--client CODE``, see :mod:`sessions.clients`) :attr:`Settings.data_dir`
is that client's folder ``<root>/clients/<CODE>/``, so everything that already asks ``current().data_dir``
(recordings, profile, therapist unlocks, voices) is per client without knowing it; :attr:`Settings.root_dir`
stays the data root. Without a client nothing moves: a person alone never thinks about clients.

Environment (all optional):

``BIOFEEDBACK_DATA_DIR``     the data root: ``sessions/`` and ``profile.json`` of the person alone, and
                             ``clients/<CODE>/`` per client (default: the platform's user data dir,
                             e.g. ``~/.local/share/biofeedback``)
``BIOFEEDBACK_SCRIPTS_DIR``  your own exercise scripts (default: ``<user config dir>/biofeedback/scripts``)
``LC_ALL``, ``LC_MESSAGES``, ``LANG``, ``LANGUAGE``  Dutch when the first one set starts with ``nl``
``BIOFEEDBACK_SPEECH``       the speech engine's program (default ``espeak-ng``)
"""

from __future__ import annotations

import locale
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import platformdirs

LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE")


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    """The active folder: recordings in ``sessions/``, the profile beside them (a client's own folder
    when a client is active, else the data root)."""
    scripts_dir: Path
    """The user's own exercise scripts (shared by everyone on this computer)."""
    language: str
    """``nl`` or ``en``: the default for every command's ``--lang``."""
    speech_engine: str = "espeak-ng"
    client: str | None = None
    """The active client's code, or None for the person alone."""
    root: Path | None = None
    """The data root when a client is active (None: ``data_dir`` is the root)."""

    @property
    def sessions_dir(self) -> Path:
        return self.data_dir / "sessions"

    @property
    def root_dir(self) -> Path:
        """The data root: ``clients/`` and the therapist's passphrase live here."""
        return self.root if self.root is not None else self.data_dir

    @property
    def personal_scripts_dir(self) -> Path:
        """Where personal scripts are written: the client's ``scripts/``, or for the person alone the user scripts."""
        return self.data_dir / "scripts" if self.client is not None else self.scripts_dir

    def for_client(self, code: str | None) -> Settings:
        """The same settings with ``code`` active (None: the person alone, at the data root)."""
        root = self.root_dir
        if code is None:
            return replace(self, data_dir=root, client=None, root=None)
        return replace(self, data_dir=root / "clients" / code, client=code, root=root)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        base = env.get("BIOFEEDBACK_DATA_DIR")
        scripts = env.get("BIOFEEDBACK_SCRIPTS_DIR")
        return cls(
            data_dir=Path(base) if base else Path(platformdirs.user_data_dir("biofeedback", appauthor=False)),
            scripts_dir=Path(scripts) if scripts else Path(platformdirs.user_config_dir("biofeedback")) / "scripts",
            language=_language(env),
            speech_engine=env.get("BIOFEEDBACK_SPEECH") or "espeak-ng",
        )


def _language(env: Mapping[str, str]) -> str:
    """``nl`` when the environment's locale is Dutch, else ``en``."""
    for var in LOCALE_VARIABLES:
        value = env.get(var)
        if value:
            return "nl" if value.lower().startswith("nl") else "en"
    try:
        loc = locale.getlocale()[0] or ""
    except ValueError:
        loc = ""
    return "nl" if loc.lower().startswith("nl") else "en"


def data_dir_problem(folder: Path) -> str | None:
    """Why ``folder`` cannot hold the data (one sentence), or None when it can or can be created.

    Why: a data folder that is a file, or lies under something that cannot be a folder, made the
    reading commands say "no sessions yet" and exit 0, as if nothing were wrong.
    """
    if folder.exists():
        return None if folder.is_dir() else (f"the data folder {folder} is a file, not a folder; move it away or "
                                             "set BIOFEEDBACK_DATA_DIR to another folder.")
    parent = folder.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        return (f"the data folder {folder} cannot exist: {parent} is a file, not a folder; "
                "set BIOFEEDBACK_DATA_DIR to a folder you can write.")
    if not os.access(parent, os.W_OK | os.X_OK):
        return (f"the data folder {folder} cannot be created: {parent} cannot be written; "
                "set BIOFEEDBACK_DATA_DIR to a folder you can write.")
    return None


_current: Settings | None = None


def configure(settings: Settings | None) -> None:
    """Make ``settings`` current (None: read the environment again on next use)."""
    global _current
    _current = settings


def current() -> Settings:
    """The settings the entry point configured, or the environment's on first use."""
    global _current
    if _current is None:
        _current = Settings.from_environment()
    return _current
