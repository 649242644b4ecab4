"""The watch page's curve store: what a page is sent after what it already has (no browser, no broker)."""

from __future__ import annotations

from sessions.web.tiles import CURVE_POINTS, Curves


def test_a_page_gets_only_the_points_after_its_last_oldest_first():
    curves = Curves()
    for t, rr, calm in ((1.0, 1000, 40), (2.0, 800, 50), (3.0, 750, None), (4.0, 3000, 60)):
        curves.add("K7/abc", {"t": t, "rr": rr, "calm": calm})
    curves.add("K7/abc", {"t": 2.0, "rr": 600, "calm": 10})  # a repeat after a reconnect: ignored
    assert curves.since("K7/abc", None) == [(1.0, 60.0, 40.0), (2.0, 75.0, 50.0), (3.0, 80.0, None), (4.0, None, 60.0)]
    assert curves.since("K7/abc", 2.0) == [(3.0, 80.0, None), (4.0, None, 60.0)]
    assert curves.since("K7/abc", 4.0) == []
    assert curves.since("K7/abc", 0.5) == curves.since("K7/abc", None)
    assert curves.since("Q2/def", None) == []


def test_the_curve_keeps_its_last_points_only():
    curves = Curves()
    for t in range(CURVE_POINTS + 10):
        curves.add("K7/abc", {"t": float(t), "rr": 1000, "calm": 50})
    kept = curves.since("K7/abc", None)
    assert len(kept) == CURVE_POINTS and kept[0][0] == 10.0
    assert [p[0] for p in curves.since("K7/abc", float(CURVE_POINTS + 7))] == [CURVE_POINTS + 8.0, CURVE_POINTS + 9.0]
