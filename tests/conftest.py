"""Shared fixtures: where the real recordings live (../shared/data beside the repository)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Qt renders offscreen in tests (CI has no display; a developer's own display stays untouched).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("BIOFEEDBACK_SHARED_DATA", REPO.parent / "shared" / "data"))
POLAR_H10 = SHARED_DATA / "polar-h10" / "notifications.csv"
MITDB = SHARED_DATA / "mitdb"


@pytest.fixture(autouse=True)
def own_folders(tmp_path_factory, monkeypatch):
    """No test touches the real user's recordings or scripts: each gets its own data and scripts folder,
    and the settings are read afresh (as :func:`sessions.cli.main` does) from the environment it sets."""
    from sessions import settings

    base = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("BIOFEEDBACK_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("BIOFEEDBACK_SCRIPTS_DIR", str(base / "scripts"))
    settings.configure(None)
    yield base
    settings.configure(None)


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    """A fresh data folder (recordings in ``data_dir / "sessions"``, the profile beside them)."""
    from sessions import settings

    folder = tmp_path / "data"
    monkeypatch.setenv("BIOFEEDBACK_DATA_DIR", str(folder))
    settings.configure(None)
    return folder


@pytest.fixture
def user_scripts(tmp_path, monkeypatch) -> Path:
    """An empty folder for the user's own scripts, made current."""
    from sessions import settings

    folder = tmp_path / "user-scripts"
    folder.mkdir()
    monkeypatch.setenv("BIOFEEDBACK_SCRIPTS_DIR", str(folder))
    settings.configure(None)
    return folder


@pytest.fixture
def shots(tmp_path) -> Path:
    """Where screenshots go: $BIOFEEDBACK_SCREENSHOTS, to look at them afterwards, or else the test's own folder."""
    folder = Path(os.environ.get("BIOFEEDBACK_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def polar_h10_file() -> Path:
    if not POLAR_H10.exists():
        pytest.skip(f"real Polar H10 recording not found at {POLAR_H10}")
    return POLAR_H10


@pytest.fixture(scope="session")
def mitdb_dir() -> Path:
    if not MITDB.exists():
        pytest.skip(f"MIT-BIH beat labels not found at {MITDB}")
    return MITDB
