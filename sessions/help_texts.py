"""Where to find help, in Dutch and English: one text for ``biofeedback help``, the window and the terminal.

Why one place: the help screen, the terminal view, the window's "not a medical device" line and the
distress closing must name the same people and numbers; a number changed here changes everywhere.
Written to be read by someone who is upset, at night: short, warm, one thing per paragraph, never
a checklist. Dutch names the Dutch services (huisarts, huisartsenpost, 113 Zelfmoordpreventie, 112);
English cannot know where the reader lives, so it names the kinds of help and the common numbers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HelpText:
    title: str
    not_medical: str
    """The "relaxation tool, not a medical device" sentence (also shown in the window)."""
    paragraphs: tuple[str, ...]
    """What follows it: that asking is never wrong, then who to ask, the most urgent last."""
    summary: str
    """One line naming the help, for a banner or a closing that cannot show the whole text."""


TEXTS = {
    "nl": HelpText(
        title="Hulp is nooit ver weg",
        not_medical="Deze app helpt je ontspannen, maar is geen medisch hulpmiddel: hij stelt geen diagnose en "
        "behandelt niets.",
        paragraphs=(
            "Wordt het je te veel, nu of later? Het is nooit verkeerd om hulp te vragen. Je hoeft het niet alleen "
            "te dragen.",
            "Overdag kun je terecht bij je huisarts. 's Avonds, 's nachts en in het weekend bel je de huisartsenpost.",
            "Denk je aan zelfdoding, of maak je je zorgen om iemand anders? Praat erover met 113 Zelfmoordpreventie: "
            "bel 113 of gratis 0800-0113, of chat op 113.nl. Dat kan dag en nacht.",
            "Is er direct gevaar? Bel dan 112.",
        ),
        summary="Hulp vragen is nooit verkeerd: je huisarts, de huisartsenpost, 113 (gratis 0800-0113), "
        "en bij direct gevaar 112.",
    ),
    "en": HelpText(
        title="Help is never far away",
        not_medical="This app helps you relax, but it is not a medical device: it doesn't diagnose or treat "
        "anything.",
        paragraphs=(
            "If things feel like too much, now or later, it is never wrong to ask for help. You don't have to "
            "carry it alone.",
            "Your GP or family doctor is a good person to talk to first. Outside their opening hours, their "
            "out-of-hours service can help.",
            "If you are thinking about ending your life, or you are worried about someone else, call a crisis line "
            "where you live. In the Netherlands that is 113, or 0800-0113 free of charge, day and night.",
            "If anyone is in immediate danger, call the emergency number: 112 in Europe, 911 in North America, "
            "999 in the UK.",
        ),
        summary="It is never wrong to ask for help: your GP, a crisis line where you live (in the Netherlands "
        "113 or 0800-0113), and in immediate danger 112, 911 or 999.",
    ),
}


def help_text(lang: str) -> HelpText:
    """The help text in ``lang`` (English for a language without one)."""
    return TEXTS.get(lang, TEXTS["en"])


def help_lines(lang: str) -> list[str]:
    """The help screen's lines, in order: the not-a-medical-device sentence, then the paragraphs (no title)."""
    text = help_text(lang)
    return [text.not_medical, *text.paragraphs]


def help_title(lang: str) -> str:
    return help_text(lang).title


def not_medical_device(lang: str) -> str:
    """The sentence the window shows (and the terminal prints): a relaxation tool, not a medical device."""
    return help_text(lang).not_medical


def help_summary(lang: str) -> str:
    """One line naming the help, for a banner or the distress closing."""
    return help_text(lang).summary
