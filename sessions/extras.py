"""Optional parts (pip extras) and the exact command that installs a missing one.

Why: ``report``, ``review``, ``trends -o``, ``export --format edf`` and ``watch``'s window need an
extra the core install leaves out. A person who meets that should get one sentence with a command
they can paste, for *this* installation: the same Python (so it lands in the same virtualenv) and,
when the app was installed from a source folder, that folder rather than a package name.
"""

from __future__ import annotations

import importlib
import json
import shlex
import sys
from importlib import metadata
from urllib.parse import unquote, urlparse

from sessions.errors import UserError

DISTRIBUTION = "biofeedback-imagery"
EXTRAS = {
    "review": ("matplotlib", "pyedflib", "pandas", "neurokit2"),
    "gui": ("PySide6", "pyqtgraph", "qasync"),
    "mqtt": ("aiomqtt",),
    "lsl": ("pylsl",),
    "web": ("aiohttp",),
}
"""The modules each extra brings (as pyproject.toml lists them), checked by import."""


def _source_folder() -> str | None:
    """The folder the app was installed from (``pip install .`` or ``-e .``), if it was."""
    # Every copy pip knows of, not only the first: a source folder's own ``*.egg-info`` can come first
    # on sys.path and does not say where the installation came from.
    for dist in metadata.distributions(name=DISTRIBUTION):
        try:
            url = json.loads(dist.read_text("direct_url.json") or "{}").get("url", "")
        except (ValueError, AttributeError):
            continue
        parsed = urlparse(url)
        if parsed.scheme == "file" and parsed.path:
            return unquote(parsed.path)
    return None


def install_command(extra: str) -> str:
    """The command that adds ``extra`` to this installation, ready to paste."""
    folder = _source_folder()
    target = f"{folder}[{extra}]" if folder else f"{DISTRIBUTION}[{extra}]"
    return f"{shlex.quote(sys.executable)} -m pip install {shlex.quote(target)}"


def missing(extra: str, modules: tuple[str, ...] | None = None) -> str | None:
    """The first of ``modules`` (default: all of ``extra``'s) that cannot be imported, or None."""
    for name in EXTRAS[extra] if modules is None else modules:
        try:
            importlib.import_module(name)
        except ImportError:
            return name
    return None


def require(extra: str, what: str, modules: tuple[str, ...] | None = None) -> None:
    """Raise one sentence: ``what`` needs ``extra``, which module is missing, the command that installs it."""
    name = missing(extra, modules)
    if name is not None:
        raise UserError(f"{what} needs the '{extra}' extra ({name} is not installed); install it with: "
                        f"{install_command(extra)}")
