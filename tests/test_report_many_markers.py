"""A session a therapist marked thirty times, with long notes: the report's extra pages flow onto as many pages as
they need (the markers' table goes on under "… (continued)" with its header), nothing runs into the footer or off
the page, every marker is listed once with its number, and the timeline carries the numbers, not thirty words."""

from __future__ import annotations

import pytest

from sessions.cli import main
from sessions.events import EventKind
from sessions.review.record import load_record
from sessions.store import add_note, append_event, resolve_session

pytest.importorskip("matplotlib")

from sessions.review import report, subjective  # noqa: E402 - after the skip

WORDS = ["hotspot", "rescript starts", "tears", "calmer now", "a long word for a moment that mattered a lot here"]


@pytest.fixture
def marked_30(data_dir, monkeypatch):
    monkeypatch.setenv("LC_ALL", "en_GB.UTF-8")
    assert main(["run", "--simulate", "--speed", "1000", "--duration", "300", "--headless", "--no-ratings"]) == 0
    path = resolve_session(None)
    for i in range(30):
        append_event(path, 10.0 + 12.0 * i, EventKind.MARKER.value,
                     {"label": f"{WORDS[i % len(WORDS)]} {i + 1}", "source": "therapist" if i % 2 else "key"})
    append_event(path, 0.0, EventKind.RATING.value, {"when": "before", "sud": 6, "vividness": None, "note": None})
    for n in range(4):
        add_note(path, f"Note {n + 1}: " + "the client chose the ending herself, and stayed with it. " * 6
                 + "\nSecond line of the note.")
    return load_record(path)


def _texts(fig) -> list[tuple[str, float]]:
    """Every string on a page with the bottom of where it is drawn (figure fraction)."""
    fig.canvas.draw()
    inverse = fig.transFigure.inverted()
    out = []
    for text in fig.texts:
        out.append((text.get_text(), inverse.transform(text.get_window_extent().p0)[1]))
    for ax in fig.axes:
        for table in ax.tables:
            for cell in table.get_celld().values():
                out.append((cell.get_text().get_text(), inverse.transform(cell.get_window_extent().p0)[1]))
    return out


@pytest.mark.parametrize("lang, continued", [("en", "Markers (continued)"), ("nl", "Markeringen (vervolg)")])
def test_thirty_markers_and_long_notes_flow_onto_more_pages_and_stay_above_the_footer(marked_30, lang, continued):
    content = report.build_content(marked_30, lang)
    pages = report.comparison_pages(content)
    assert len(pages) >= 2
    from sessions.review.words import say

    footer, footer_top = say(lang, "what_not"), 0.045 + 0.001
    everything = []
    for fig in pages:
        texts = _texts(fig)
        body = [(t, y) for t, y in texts if t.strip() and t not in footer]
        assert body and min(y for _t, y in body) > footer_top, "a line runs into the footer or off the page"
        everything += [t for t, _y in texts]
    assert sum(t == continued for t in everything) >= 1
    for i in range(30):
        assert everything.count(f"{WORDS[i % len(WORDS)]} {i + 1}") == 1  # each marker once, none lost at a break
    numbered = []  # the # column of the markers' table, page after page, row after row
    for fig in pages:
        for ax in fig.axes:
            for table in ax.tables:
                cells = table.get_celld()
                if cells[0, 0].get_text().get_text() == "#":
                    numbered += [cells[r, 0].get_text().get_text() for r in sorted(r for r, c in cells if c == 0 and r)]
    assert numbered == [str(i) for i in range(1, 31)]
    assert sum(t == "#" for t in everything) >= 2  # the header again on the next page
    assert sum("Second line of the note." in t for t in everything) == 4  # a note's own line break is kept


def test_the_timeline_numbers_many_markers_and_words_a_few(marked_30):
    from matplotlib.figure import Figure

    from sessions.review.timeline import draw_timeline

    fig = Figure(figsize=(8.27, 11.69))
    axes = draw_timeline(fig, marked_30, "en", rect=(0.1, 0.1, 0.86, 0.7))
    subjective.draw_markers(axes, marked_30)
    shown = [t.get_text() for t in axes[0].texts]
    assert [str(i) for i in range(1, 31)] == [t for t in shown if t.isdigit()]
    assert not any(t.startswith("hotspot") for t in shown)
    header, body = subjective.markers_table(marked_30, "en")
    assert header[0] == "#" and body[0][0] == "1" and body[-1][0] == "30"


def test_the_pdf_and_png_have_a_page_more_for_the_markers(marked_30, tmp_path):
    assert main(["report", "--lang", "nl", "-o", str(tmp_path / "r.png")]) == 0
    pngs = sorted(p.name for p in tmp_path.glob("r*.png"))
    assert len(pngs) == 2 + len(report.comparison_pages(report.build_content(marked_30, "nl"))) + 1
