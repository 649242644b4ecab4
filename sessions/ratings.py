"""The person's own ratings around an exercise: distress (SUD 0-10) before and after, vividness of the
imagery after, and one optional private line ("did something unpleasant come up?") with kind advice.

Why here and not in the runner: the ratings are asked outside the exercise (before the strap's session
starts, after its record is safely closed), in the terminal or in a small dialog; the runner and the record
only store them as ``rating`` events. The texts are written for someone who may be shaken: short, warm,
one thing at a time, and always skippable.

Bedtime mode asks only the before-rating (one number while the person is still choosing to start); after
the session nothing is asked: someone drifting off to sleep must not be woken by a question.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sessions.events import RatingWhen
from sessions.help_texts import help_text

log = logging.getLogger(__name__)

NOTE_MAX = 500
"""The private line is one line: a few words about what came up, not a diary."""
HIGH_SUD = 7
"""An after-SUD at or above this (or a rise of :data:`SUD_RISE` or more) brings the advice too."""
SUD_RISE = 3


@dataclass(frozen=True, slots=True)
class Rating:
    """One rating as recorded (``rating`` event). Any field may be missing: every question is skippable."""

    when: RatingWhen
    sud: int | None = None
    vividness: int | None = None
    note: str | None = None

    @property
    def empty(self) -> bool:
        return self.sud is None and self.vividness is None and not self.note

    def data(self) -> dict[str, Any]:
        """The ``rating`` event's fields."""
        return {"when": self.when, "sud": self.sud, "vividness": self.vividness, "note": self.note or None}

    @classmethod
    def from_event(cls, data: dict[str, Any]) -> Rating | None:
        """A stored ``rating`` event back as a rating (None when it is not one this version understands)."""
        try:
            when = RatingWhen(str(data.get("when")))
        except ValueError:
            return None
        note = data.get("note")
        return cls(when, score(data.get("sud")), score(data.get("vividness")),
                   note if isinstance(note, str) and note.strip() else None)


def score(value: Any) -> int | None:
    """A 0-10 score, or None for anything else (a damaged or foreign record must not break the review)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 10:
        return value
    return None


def clean_note(text: str | None) -> str | None:
    """The private line as stored: one line, printable, at most :data:`NOTE_MAX` characters; empty is None."""
    if not text:
        return None
    line = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return line[:NOTE_MAX] or None


def needs_advice(before: Rating | None, after: Rating | None) -> bool:
    """Something unpleasant came up (the person wrote a line), distress is high after, or it rose clearly."""
    if after is None:
        return False
    if after.note:
        return True
    if after.sud is None:
        return False
    rose = before is not None and before.sud is not None and after.sud - before.sud >= SUD_RISE
    return after.sud >= HIGH_SUD or rose


TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "before_title": "Before you begin",
        "after_title": "How was it?",
        "sud_before": "How tense or upset do you feel right now? 0 is completely calm, 10 is the worst you can imagine.",
        "sud_after": "And now? How tense or upset do you feel? 0 is completely calm, 10 is the worst you can imagine.",
        "vividness": "How vivid were the images, sounds or feelings? 0 is not at all, 10 is as if you were there.",
        "note": "Did something unpleasant come up? A few words, only for you and your therapist (you may leave it empty).",
        "skip_hint": "Enter skips a question.",
        "skip": "Skip",
        "ok": "Done",
        "not_a_score": "Please type a whole number from 0 to 10, or press Enter to skip.",
        "advice": "Thank you for telling. What you feel now is allowed, and it will ease. Take a moment: feel your "
                  "feet on the floor, look around and name three things you can see, breathe out slowly. Write down "
                  "what came up and tell your therapist at your next appointment. If it stays with you or keeps "
                  "coming back, or feels like too much to carry until then, contact your therapist sooner.",
        "thanks": "Thank you.",
    },
    "nl": {
        "before_title": "Voordat je begint",
        "after_title": "Hoe ging het?",
        "sud_before": "Hoe gespannen of onrustig voel je je nu? 0 is helemaal rustig, 10 is het ergste dat je je kunt "
                      "voorstellen.",
        "sud_after": "En nu? Hoe gespannen of onrustig voel je je? 0 is helemaal rustig, 10 is het ergste dat je je "
                     "kunt voorstellen.",
        "vividness": "Hoe levendig waren de beelden, geluiden of gevoelens? 0 is helemaal niet, 10 is alsof je er "
                     "echt was.",
        "note": "Kwam er iets naars naar boven? Een paar woorden, alleen voor jou en je therapeut (leeg laten mag).",
        "skip_hint": "Met Enter sla je een vraag over.",
        "skip": "Overslaan",
        "ok": "Klaar",
        "not_a_score": "Typ een heel getal van 0 tot 10, of druk op Enter om over te slaan.",
        "advice": "Fijn dat je het vertelt. Wat je nu voelt mag er zijn, en het zakt weer. Neem even de tijd: voel je "
                  "voeten op de grond, kijk om je heen en noem drie dingen die je ziet, adem rustig uit. Schrijf op "
                  "wat er bovenkwam en vertel het je therapeut bij je volgende afspraak. Blijft het hangen, komt het "
                  "steeds terug of is het te veel om zo lang mee te dragen? Neem dan eerder contact op met je "
                  "therapeut.",
        "thanks": "Dank je.",
    },
}


def text(lang: str, key: str) -> str:
    return TEXTS.get(lang, TEXTS["en"])[key]


def advice(lang: str) -> str:
    """What to do now, when to tell the therapist, and where help is (the app's one help summary)."""
    return f"{text(lang, 'advice')} {help_text(lang).summary}"


def parse_score(answer: str) -> int | None:
    """``"7"`` -> 7; empty -> None (skipped); anything else raises ValueError."""
    answer = answer.strip()
    if not answer:
        return None
    value = int(answer)
    if not 0 <= value <= 10:
        raise ValueError(answer)
    return value


Ask = Callable[[str], str]
Say = Callable[[str], None]


def ask_terminal(when: RatingWhen, lang: str, *, imagery: bool, ask: Ask | None = None,
                 say: Say | None = None) -> Rating | None:
    """The rating as prompts in the terminal (Enter skips each question; Ctrl-D or Ctrl-C skips the rest).

    ``ask``/``say``: the terminal's ``input``/``print`` unless given."""
    ask = ask or input
    say = say or print
    say(f"{text(lang, 'before_title' if when is RatingWhen.BEFORE else 'after_title')} ({text(lang, 'skip_hint')})")
    questions: list[tuple[str, str]] = [("sud", "sud_before" if when is RatingWhen.BEFORE else "sud_after")]
    if when is RatingWhen.AFTER:
        if imagery:
            questions.append(("vividness", "vividness"))
        questions.append(("note", "note"))
    answers: dict[str, Any] = {}
    try:
        for field, key in questions:
            answers[field] = _ask_one(field, text(lang, key), lang, ask, say)
    except (EOFError, KeyboardInterrupt):
        say("")
    rating = Rating(when, answers.get("sud"), answers.get("vividness"), clean_note(answers.get("note")))
    return None if rating.empty else rating


def _ask_one(field: str, question: str, lang: str, ask: Ask, say: Say) -> int | str | None:
    if field == "note":
        return ask(f"{question}\n> ")
    for _ in range(3):
        try:
            return parse_score(ask(f"{question}\n> "))
        except ValueError:
            say(text(lang, "not_a_score"))
    return None


def terminal_can_ask() -> bool:
    """Prompts need a person at a terminal: with stdin not a terminal (a service, a pipe) they are skipped."""
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):
        return False
