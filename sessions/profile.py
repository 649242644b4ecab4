"""What the app remembers about the person between sessions: resonance rate and resting baseline.

No name, no identity: a small JSON file beside the recordings, mode 0600.
"""

from __future__ import annotations

import json
import logging
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sessions.private_files import locked, private_folder, replace_private
from sessions.store import data_dir

log = logging.getLogger(__name__)


def profile_path() -> Path:
    return data_dir().parent / "profile.json"


def _read(path: Path) -> tuple[dict[str, Any], int]:
    """The stored profile and how many numbers in it were not numbers (NaN, infinity), read as None."""
    bad: list[str] = []

    def not_a_number(token: str) -> None:
        bad.append(token)

    try:
        data = json.loads(path.read_text(encoding="utf-8"), parse_constant=not_a_number)
    except FileNotFoundError:
        return {}, 0
    except (OSError, ValueError) as err:
        log.warning("Ignoring an unreadable profile %s (%s); it will be rewritten.", path, err)
        return {}, 0
    return (data if isinstance(data, dict) else {}), len(bad)


def _write(path: Path, data: dict[str, Any]) -> dict[str, Any]:
    """Plain JSON only: a NaN would make the file unreadable to strict readers and silence the next session."""
    clean: dict[str, Any] = _finite({**data, "updated_at": datetime.now(timezone.utc).isoformat(timespec="seconds")})
    replace_private(path, json.dumps(clean, indent=2, allow_nan=False).encode("utf-8"))
    return clean


def _finite(value: Any) -> Any:
    """``value`` with every NaN or infinity replaced by None (unknown), however deep."""
    if isinstance(value, float) and not math.isfinite(value):
        log.warning("A value that is not a number was not written to the profile; it is stored as unknown.")
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def load_profile() -> dict[str, Any]:
    """The stored profile; a NaN or infinity an older version wrote is read as unknown, said once and
    written back cleaned, so no later session acts on it."""
    path = profile_path()
    data, bad = _read(path)
    if bad:
        log.warning("The profile %s held %d value(s) that are not numbers; they are treated as unknown.", path, bad)
        private_folder(path.parent)
        with locked(path.with_name(f".{path.name}.lock")):
            data = _write(path, _read(path)[0])
    return data


def save_profile(updates: dict[str, Any]) -> dict[str, Any]:
    """Merge ``updates`` into the stored profile and write it atomically with mode 0600.

    Several sessions may end at the same moment: the read-merge-write holds a lock, so one
    session's update is never overwritten by another that read the profile before it.
    """
    path = profile_path()
    private_folder(path.parent)  # 0700 whatever the umask; refused if others can write it
    with locked(path.with_name(f".{path.name}.lock")):
        data, _ = _read(path)
        data.update(updates)
        data = _write(path, data)
    return data


def forget_profile(*keys: str) -> dict[str, Any]:
    """Remove ``keys`` from the stored profile (under the same lock as :func:`save_profile`, mode 0600).

    ``save_profile`` only merges: saving ``None`` would leave the key behind. This takes it out.
    """
    path = profile_path()
    private_folder(path.parent)
    with locked(path.with_name(f".{path.name}.lock")):
        data, _ = _read(path)
        if not any(k in data for k in keys):
            return data
        for key in keys:
            data.pop(key, None)
        data = _write(path, data)
    return data
