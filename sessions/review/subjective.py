"""The person's side of a session in the review and the report: their ratings (before → after), the markers
dropped during it (by them or their therapist), and the therapist's notes written afterwards.

Why apart from the HRV tables: these are words and numbers a person gave, not measurements; they are shown
as given, next to the body's numbers, never blended into them. The private line of a rating and the
therapist's notes appear only in the person's own review and report (never on the broker or in exports).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sessions.events import EventKind, RatingWhen
from sessions.formatting import clock
from sessions.ratings import Rating
from sessions.review.phase_table import phase_label
from sessions.review.record import Record

MARKER_COLOUR = "#17202a"
"""Near black, thin and half see-through on the timeline: the coherence curve is purple, distress red."""
WORDS_ON_TIMELINE = 6
"""Up to this many markers carry their word on the report's timeline; more carry their number (#), which the
markers' table lists with the word: thirty words above one timeline cannot be read."""

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "ratings_title": "How it felt",
        "ratings_note": "The person's own ratings, 0-10, as they gave them before and after the exercise.",
        "what": "", "before": "before", "after": "after",
        "sud": "Distress (SUD)", "vividness": "Vividness",
        "came_up": "What came up (their own words)",
        "markers_title": "Markers",
        "markers_note": "Moments marked during the session: m in the window or terminal, or the therapist following live.",
        "time": "Time", "step": "Step", "label": "Label", "who": "By",
        "by_key": "person", "by_button": "person", "by_therapist": "therapist",
        "notes_title": "Therapist's notes",
        "sud_change": "Distress {a} before, {b} after (0-10, as rated).",
        "sud_only_before": "Distress {a} before (0-10, as rated; no rating after).",
        "sud_only_after": "Distress {b} after (0-10, as rated).",
        "vivid": "Vividness of the imagery {v} of 10.",
        "continued": "{title} (continued)",
    },
    "nl": {
        "ratings_title": "Hoe het voelde",
        "ratings_note": "De eigen cijfers van de persoon, 0-10, zoals gegeven voor en na de oefening.",
        "what": "", "before": "voor", "after": "na",
        "sud": "Spanning (SUD)", "vividness": "Levendigheid",
        "came_up": "Wat er bovenkwam (eigen woorden)",
        "markers_title": "Markeringen",
        "markers_note": "Momenten die tijdens de sessie gemarkeerd zijn: m in het venster of de terminal, of de "
                        "therapeut die live meekeek.",
        "time": "Tijd", "step": "Stap", "label": "Label", "who": "Door",
        "by_key": "persoon", "by_button": "persoon", "by_therapist": "therapeut",
        "notes_title": "Notities van de therapeut",
        "sud_change": "Spanning {a} vooraf, {b} achteraf (0-10, eigen cijfer).",
        "sud_only_before": "Spanning {a} vooraf (0-10, eigen cijfer; geen cijfer achteraf).",
        "sud_only_after": "Spanning {b} achteraf (0-10, eigen cijfer).",
        "vivid": "Levendigheid van de verbeelding {v} van de 10.",
        "continued": "{title} (vervolg)",
    },
}


def word(lang: str, key: str, **kw: Any) -> str:
    return WORDS.get(lang, WORDS["en"])[key].format(**kw)


@dataclass(frozen=True)
class Marker:
    t: float
    label: str
    source: str
    step: str


def ratings(record: Record) -> dict[RatingWhen, Rating]:
    """The last rating given before and after (a later one replaces an earlier one of the same kind)."""
    out: dict[RatingWhen, Rating] = {}
    for _t, _k, data in record.events_of(EventKind.RATING):
        rating = Rating.from_event(data)
        if rating is not None:
            out[rating.when] = rating
    return out


def markers(record: Record, lang: str) -> list[Marker]:
    """Every marker with the step it fell in (by its title, in the review's language)."""
    out = []
    for t, _k, data in sorted(record.events_of(EventKind.MARKER), key=lambda e: e[0]):
        step = next((p for p in record.phases if p.start <= t < p.end), record.phases[-1] if record.phases else None)
        out.append(Marker(t, str(data.get("label") or "marker"), str(data.get("source") or "key"),
                          phase_label(step, lang) if step is not None else "–"))
    return out


def rating_sentences(record: Record, lang: str) -> list[str]:
    """One or two sentences for the plain summary: distress before → after, vividness."""
    got = ratings(record)
    before, after = got.get(RatingWhen.BEFORE), got.get(RatingWhen.AFTER)
    a = before.sud if before else None
    b = after.sud if after else None
    out = []
    if a is not None and b is not None:
        out.append(word(lang, "sud_change", a=a, b=b))
    elif a is not None:
        out.append(word(lang, "sud_only_before", a=a))
    elif b is not None:
        out.append(word(lang, "sud_only_after", b=b))
    if after is not None and after.vividness is not None:
        out.append(word(lang, "vivid", v=after.vividness))
    return out


def ratings_table(record: Record, lang: str) -> tuple[list[str], list[list[str]]] | None:
    """Rows: distress and vividness, columns before and after; None without ratings."""
    got = ratings(record)
    if not got:
        return None
    before, after = got.get(RatingWhen.BEFORE), got.get(RatingWhen.AFTER)
    f = lambda v: "–" if v is None else str(v)
    body = [[word(lang, "sud"), f(before.sud if before else None), f(after.sud if after else None)]]
    if after is not None and after.vividness is not None:
        body.append([word(lang, "vividness"), "–", f(after.vividness)])
    return [word(lang, "what"), word(lang, "before"), word(lang, "after")], body


def came_up(record: Record) -> str | None:
    after = ratings(record).get(RatingWhen.AFTER)
    return after.note if after is not None else None


def numbered(record: Record) -> bool:
    """The timeline shows the markers' numbers instead of their words (and the table a # column)."""
    return len(record.events_of(EventKind.MARKER)) > WORDS_ON_TIMELINE


def markers_table(record: Record, lang: str) -> tuple[list[str], list[list[str]]] | None:
    found = markers(record, lang)
    if not found:
        return None
    header = [word(lang, "time"), word(lang, "step"), word(lang, "label"), word(lang, "who")]
    body = [[clock(m.t), m.step, m.label, word(lang, f"by_{m.source}") if m.source in ("key", "button",
             "therapist") else m.source] for m in found]
    if numbered(record):
        return ["#", *header], [[str(i), *row] for i, row in enumerate(body, start=1)]
    return header, body


def notes(record: Record) -> list[tuple[str, str]]:
    return list(getattr(record, "notes", None) or [])


def draw_markers(axes: list[Any], record: Record) -> None:
    """Markers on the report's timeline: a thin line through every panel, the word (or, for many, the number
    of the table's row) on top; a number close to the one before it sits one row higher, so none overlap."""
    events = sorted(record.events_of(EventKind.MARKER), key=lambda e: e[0])
    if not axes or not events:
        return
    by_number = numbered(record)
    span = max(record.duration_s, max(t for t, _k, _d in events), 1.0)
    last_t, row = -span, 0
    for i, (t, _k, data) in enumerate(events, start=1):
        for ax in axes:
            ax.axvline(t / 60, color=MARKER_COLOUR, lw=0.6, alpha=0.55, ls="-", zorder=4)
        row = 1 - row if (t - last_t) / span < 0.025 else 0
        last_t = t
        axes[0].text(t / 60, 1.02 + 0.11 * row, str(i) if by_number else str(data.get("label") or "marker"),
                     transform=axes[0].get_xaxis_transform(), fontsize=6 if by_number else 6.5, color=MARKER_COLOUR,
                     ha="center", va="bottom", clip_on=False)
