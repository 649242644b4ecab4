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
