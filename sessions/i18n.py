"""Interface words in Dutch and English (exercise texts live in the script files)."""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "step": "step", "baseline": "quiet start: breathe as you are", "pacer": "pacer",
        "breathe_in": "breathe in", "breathe_out": "breathe out", "breathe_free": "breathe as you like",
        "coherence": "coherence", "calm": "calm", "rest": "rest",
        "link_connected": "strap connected", "link_connecting": "connecting…", "link_disconnected": "strap lost",
        "link_reconnecting": "reconnecting…",
        "keys": "q stop · g this is too much · space pause · n next step", "paused": "paused",
        "stopping_hint": "Stopping… a short grounding follows (Ctrl-C again to quit at once).",
        "saved": "Session saved", "review_hint": "Look back with: biofeedback sessions show {id}",
        "scripts_title": "Exercises (English)", "col_title": "title", "col_purpose": "purpose",
        "default": "default", "yours": "yours", "therapist_only": "with a therapist only: needs --therapist",
    },
    "nl": {
        "step": "stap", "baseline": "rustige start: adem zoals je ademt", "pacer": "ademtempo",
        "breathe_in": "adem in", "breathe_out": "adem uit", "breathe_free": "adem zoals je wilt",
        "coherence": "coherentie", "calm": "kalmte", "rest": "rust",
        "link_connected": "band verbonden", "link_connecting": "verbinden…", "link_disconnected": "band kwijt",
        "link_reconnecting": "opnieuw verbinden…",
        "keys": "q stoppen · g dit is te veel · spatie pauze · n volgende stap", "paused": "gepauzeerd",
        "stopping_hint": "We stoppen… er volgt een korte grounding (nogmaals Ctrl-C om meteen te stoppen).",
        "saved": "Sessie bewaard", "review_hint": "Terugkijken: biofeedback sessions show {id}",
        "scripts_title": "Oefeningen (Nederlands)", "col_title": "titel", "col_purpose": "doel",
        "default": "standaard", "yours": "van jou", "therapist_only": "alleen met een therapeut: vraagt --therapist",
    },
}


def tr(lang: str, key: str, **fmt: object) -> str:
    text = WORDS.get(lang, WORDS["en"]).get(key) or WORDS["en"].get(key, key)
    return text.format(**fmt) if fmt else text
