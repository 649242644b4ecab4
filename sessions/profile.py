"""What the app remembers about the person between sessions: resonance rate and resting baseline.

No name, no identity: a small JSON file beside the recordings, mode 0600.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sessions.private_files import locked, private_folder, replace_private
from sessions.store import data_dir

log = logging.getLogger(__name__)


def profile_path() -> Path:
    return data_dir().parent / "profile.json"


def load_profile() -> dict[str, Any]:
    path = profile_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as err:
        log.warning("Ignoring an unreadable profile %s (%s); it will be rewritten.", path, err)
        return {}
    return data if isinstance(data, dict) else {}


def save_profile(updates: dict[str, Any]) -> dict[str, Any]:
    """Merge ``updates`` into the stored profile and write it atomically with mode 0600.

    Several sessions may end at the same moment: the read-merge-write holds a lock, so one
    session's update is never overwritten by another that read the profile before it.
    """
    path = profile_path()
    private_folder(path.parent)  # 0700 whatever the umask; refused if others can write it
    with locked(path.with_name(f".{path.name}.lock")):
        data = load_profile()
        data.update(updates)
        data["updated_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        replace_private(path, json.dumps(data, indent=2).encode("utf-8"))
    return data


def forget_profile(*keys: str) -> dict[str, Any]:
    """Remove ``keys`` from the stored profile (under the same lock as :func:`save_profile`, mode 0600).

    ``save_profile`` only merges: saving ``None`` would leave the key behind. This takes it out.
    """
    path = profile_path()
    private_folder(path.parent)
    with locked(path.with_name(f".{path.name}.lock")):
        data = load_profile()
        if not any(k in data for k in keys):
            return data
        for key in keys:
            data.pop(key, None)
        data["updated_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        replace_private(path, json.dumps(data, indent=2).encode("utf-8"))
    return data
