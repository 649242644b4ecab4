"""What a person reads while building their own safe place, in Dutch and English.

Kept here rather than in :mod:`sessions.i18n`: the terminal guide (``biofeedback safe-place``), the
window (:mod:`sessions.gui.safe_place_dialog`) and the model's error sentences share these words,
and they belong together. Informal ("je"), short, warm: this is written for someone about to relax.
"""

from __future__ import annotations

QUESTIONS = ("place", "real", "sound", "smell", "touch", "temperature", "sight", "anchor")
"""The order of the questions (terminal and window), the senses last. Sight comes late and says that no
picture is fine too: imagery is not only pictures."""

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Your own safe place",
        "intro": "Here you build your own safe place: a real place or one you make up, somewhere you feel calm "
                 "and safe. Every sense counts, not just pictures: what you hear, smell or feel on your skin works "
                 "just as well. You can change it any time, and it stays on this computer only.",
        "skip_hint": "Press Enter to skip a question.",
        "keep_hint": "Your earlier answer is in [brackets]: Enter keeps it, a - clears it.",
        "dialog_hint": "Leave empty whatever you don't know or would rather not fill in.",
        # the questions (terminal and window)
        "q_place": "Where is your safe place?",
        "q_real": "Is it a real place?",
        "q_sound": "What do you hear there?",
        "q_smell": "What do you smell there?",
        "q_touch": "What do you feel on your skin?",
        "q_temperature": "How warm or cool is it there?",
        "q_sight": "Do you see anything too? (No picture is fine too.)",
        "q_anchor": "A word for your place, to take you back there:",
        "q_senses": "Which senses work for you?",
        "senses_hint": "Type numbers or words, separated by commas; Enter = all of them.",
        "senses_hint_keep": "Type numbers or words, separated by commas; Enter keeps your earlier choice.",
        "yes_no": "y/n",
        # examples (the window's placeholder texts)
        "ex_place": "e.g. the beach at dawn, my grandmother's garden",
        "ex_sound": "e.g. the waves, birds, wind in the trees",
        "ex_smell": "e.g. salt and sun cream, freshly cut grass",
        "ex_touch": "e.g. warm sand under your feet, a soft breeze",
        "ex_temperature": "e.g. pleasantly warm, cool and fresh",
        "ex_sight": "e.g. the sea sparkling, light through the leaves",
        "ex_anchor": "e.g. calm, sea, home",
        # real or imagined
        "real_label": "Real or imagined?",
        "real_true": "Real", "real_false": "Imagined", "real_open": "Leave it open",
        "real_is_true": "a real place", "real_is_false": "an imagined place",
        # the senses
        "sense_sight": "seeing (pictures)", "sense_sound": "hearing", "sense_smell": "smelling",
        "sense_touch": "feeling on your skin", "sense_body": "your body inside (breath, warmth, heaviness)",
        "sense_short_sight": "sight", "sense_short_sound": "sound", "sense_short_smell": "smell",
        "sense_short_touch": "touch", "sense_short_body": "body",
        # field names, in the middle of a sentence
        "field_place": "where your place is", "field_real": "real or imagined", "field_sight": "what you see",
        "field_sound": "what you hear", "field_smell": "what you smell", "field_touch": "what you feel on your skin",
        "field_temperature": "the temperature", "field_anchor": "your word", "field_senses": "your senses",
        # the summary
        "summary": "Your safe place:",
        "label_place": "Place", "label_sight": "Sight", "label_sound": "Sound", "label_smell": "Smell",
        "label_touch": "Touch", "label_temperature": "Temperature", "label_anchor": "Word", "label_senses": "Senses",
        "nothing_given": "(nothing filled in yet)",
        "saved": "Saved on this computer only ({path}).",
        "used": "The safe-place exercises now use your answers:",
        "none_stored": "You haven't built a safe place of your own yet. Make one with:",
        "unchanged": "Nothing changed.",
        # clearing
        "clear_ask": "Clear your safe place? [y/N] ",
        "cleared": "Your safe place is cleared; the exercises use the general lines again.",
        "not_cleared": "Nothing cleared.",
        "nothing_to_clear": "There was no safe place to clear.",
        "clear_needs_yes": "Clearing needs a confirmation; add --yes to clear without asking.",
        "clear_alone": "--clear can't be combined with answers; clear first, then give the new ones.",
        # leaving early
        "interrupted": "Stopped; nothing was saved.",
        "eof": "The input ended before you were done; nothing was saved.",
        # mistakes
        "no_terminal": "There is no terminal to ask the questions in; give your answers with --place, --sound and "
                       "so on (see --help), or run this in a terminal.",
        "too_long": "Your answer for {field} is {n} characters long; the limit is 80.",
        "braces": "Your answer for {field} can't contain {{ or }}.",
        "one_line": "Your answer for {field} has to fit on one line.",
        "bad_sense": "'{word}' isn't one of the senses; choose from 1-5 or sight, sound, smell, touch, body.",
        "no_senses": "Choose at least one sense that works for you.",
        "bad_yes_no": "Answer y (real) or n (imagined), or press Enter to skip.",
        "no_gui": "The window isn't installed (pip install 'biofeedback-imagery[gui]'); without it the questions "
                  "work in the terminal: {cmd} safe-place",
        "no_display": "There is no screen here to show a window on; the questions work in the terminal too: "
                      "{cmd} safe-place",
        "window_alone": "--window can't be combined with answers or other actions; fill them in in the window.",
        "save": "Save", "cancel": "Cancel",
    },
    "nl": {
        "title": "Je eigen veilige plek",
        "intro": "Hier bouw je je eigen veilige plek: een echte plek of een plek die je verzint, waar je je rustig "
                 "en veilig voelt. Alle zintuigen tellen mee, niet alleen beelden: wat je hoort, ruikt of op je "
                 "huid voelt is net zo goed. Je kunt het altijd weer veranderen, en het blijft alleen op deze "
                 "computer.",
        "skip_hint": "Druk op Enter om een vraag over te slaan.",
        "keep_hint": "Tussen [haken] staat je vorige antwoord: Enter houdt het, een - wist het.",
        "dialog_hint": "Laat leeg wat je niet weet of liever niet invult.",
        "q_place": "Waar is je veilige plek?",
        "q_real": "Bestaat die plek echt?",
        "q_sound": "Wat hoor je daar?",
        "q_smell": "Wat ruik je daar?",
        "q_touch": "Wat voel je op je huid?",
        "q_temperature": "Hoe warm of koel is het daar?",
        "q_sight": "Zie je ook iets? (Geen beeld is ook prima.)",
        "q_anchor": "Een woord voor je plek, om er snel naar terug te gaan:",
        "q_senses": "Welke zintuigen werken voor jou?",
        "senses_hint": "Typ nummers of woorden, met komma's ertussen; Enter = allemaal.",
        "senses_hint_keep": "Typ nummers of woorden, met komma's ertussen; Enter houdt je vorige keuze.",
        "yes_no": "j/n",
        "ex_place": "bijv. het strand bij Zandvoort, de tuin van mijn oma",
        "ex_sound": "bijv. de golven, vogels, de wind in de bomen",
        "ex_smell": "bijv. zout en zonnebrand, vers gemaaid gras",
        "ex_touch": "bijv. warm zand onder je voeten, een zacht briesje",
        "ex_temperature": "bijv. lekker warm, fris en koel",
        "ex_sight": "bijv. de zee die glinstert, licht door de bladeren",
        "ex_anchor": "bijv. rust, zee, thuis",
        "real_label": "Echt of verzonnen?",
        "real_true": "Echt", "real_false": "Verzonnen", "real_open": "Laat ik open",
        "real_is_true": "een echte plek", "real_is_false": "een verzonnen plek",
        "sense_sight": "zien (beelden)", "sense_sound": "horen", "sense_smell": "ruiken",
        "sense_touch": "voelen op je huid", "sense_body": "je lijf van binnen (adem, warmte, zwaarte)",
        "sense_short_sight": "zien", "sense_short_sound": "horen", "sense_short_smell": "ruiken",
        "sense_short_touch": "voelen", "sense_short_body": "lijf",
        "field_place": "waar je plek is", "field_real": "echt of verzonnen", "field_sight": "wat je ziet",
        "field_sound": "wat je hoort", "field_smell": "wat je ruikt", "field_touch": "wat je op je huid voelt",
        "field_temperature": "de temperatuur", "field_anchor": "je woord", "field_senses": "je zintuigen",
        "summary": "Je veilige plek:",
        "label_place": "Plek", "label_sight": "Zien", "label_sound": "Horen", "label_smell": "Ruiken",
        "label_touch": "Voelen", "label_temperature": "Temperatuur", "label_anchor": "Woord",
        "label_senses": "Zintuigen",
        "nothing_given": "(nog niets ingevuld)",
        "saved": "Alleen op deze computer bewaard ({path}).",
        "used": "De oefeningen met een veilige plek gebruiken nu jouw antwoorden:",
        "none_stored": "Je hebt nog geen eigen veilige plek. Maak er een met:",
        "unchanged": "Er is niets veranderd.",
        "clear_ask": "Je veilige plek wissen? [j/N] ",
        "cleared": "Je veilige plek is gewist; de oefeningen gebruiken weer de algemene zinnen.",
        "not_cleared": "Er is niets gewist.",
        "nothing_to_clear": "Er was geen veilige plek om te wissen.",
        "clear_needs_yes": "Wissen vraagt om een bevestiging; voeg --yes toe om te wissen zonder te vragen.",
        "clear_alone": "--clear gaat niet samen met antwoorden; wis eerst en geef daarna de nieuwe.",
        "interrupted": "Gestopt; er is niets bewaard.",
        "eof": "De invoer stopte voordat je klaar was; er is niets bewaard.",
        "no_terminal": "Er is geen terminal om de vragen in te stellen; geef je antwoorden mee met --place, --sound "
                       "enzovoort (zie --help), of start dit in een terminal.",
        "too_long": "Je antwoord bij {field} is {n} tekens lang; 80 is het maximum.",
        "braces": "Je antwoord bij {field} mag geen {{ of }} bevatten.",
        "one_line": "Je antwoord bij {field} moet op één regel passen.",
        "bad_sense": "'{word}' is geen van de zintuigen; kies uit 1-5 of zien, horen, ruiken, voelen, lijf.",
        "no_senses": "Kies minstens één zintuig dat voor jou werkt.",
        "bad_yes_no": "Antwoord met j (echt) of n (verzonnen), of druk op Enter om over te slaan.",
        "no_gui": "Het venster is niet geïnstalleerd (pip install 'biofeedback-imagery[gui]'); zonder venster "
                  "werken de vragen in de terminal: {cmd} safe-place",
        "no_display": "Er is hier geen scherm om een venster op te tonen; de vragen werken ook in de terminal: "
                      "{cmd} safe-place",
        "window_alone": "--window gaat niet samen met antwoorden of andere opdrachten; vul ze in het venster in.",
        "save": "Bewaren", "cancel": "Annuleren",
    },
}


def say(lang: str, key: str, **fmt: object) -> str:
    """The text ``key`` in ``lang`` (English for a language without it), formatted with ``fmt``."""
    text = WORDS.get(lang, WORDS["en"]).get(key) or WORDS["en"][key]
    return text.format(**fmt)
