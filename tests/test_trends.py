"""Trends over sessions: one row per session, in order, and the figure."""

from __future__ import annotations

import json


from sessions.cli import main


def test_trends_rows_and_figure(data_dir, tmp_path, capsys):
    assert main(["trends", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    for seed in ("1", "2"):
        assert main(["run", "--simulate", "--speed", "1000", "--duration", "240", "--seed", seed,
                     "--script", "safe-place-bedtime"]) == 0
    (data_dir / "sessions" / "29990101-000000.biofeedback.sqlite").write_bytes(b"")  # damaged: left out
    capsys.readouterr()
    assert main(["trends", "--json", "-o", str(tmp_path / "t.png")]) == 0
    out = capsys.readouterr().out
    rows = json.loads(out[: out.rindex("]") + 1])
    assert len(rows) == 2 and rows[0]["started_at"] <= rows[1]["started_at"]
    for r in rows:
        assert 3.5 < r["minutes"] < 6 and r["rmssd_rest_ms"] > 5 and r["calm_change"] is not None
    assert (tmp_path / "t.png").read_bytes()[:4] == b"\x89PNG"
