"""Every output the app writes is private from its first byte, also over an older, looser file."""

from __future__ import annotations

import os
import stat

from sessions.private_files import open_private, replace_private, write_private


def test_a_new_file_is_0600_even_with_a_permissive_umask(tmp_path):
    old = os.umask(0)
    try:
        path = write_private(tmp_path / "report.html", b"<html>")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.read_bytes() == b"<html>"


def test_an_existing_world_readable_file_is_tightened_and_truncated(tmp_path):
    path = tmp_path / "sp_nl.wav"
    path.write_bytes(b"old and longer content")
    path.chmod(0o644)
    with open_private(path) as fh:
        fh.write(b"new")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.read_bytes() == b"new"


def test_a_replaced_file_is_private_whole_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "profile.json"
    path.write_bytes(b"old")
    path.chmod(0o644)
    old = os.umask(0)
    try:
        replace_private(path, b"new content")
    finally:
        os.umask(old)
    assert path.read_bytes() == b"new content" and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["profile.json"]
