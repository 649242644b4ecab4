"""What ``plan``, ``diary`` and ``notes`` say, in Dutch and English.

Why a table of their own: these commands are read by a client at home (the reminder pops up on their
screen, the diary is filled in half awake) and by their therapist; each language is written as a native
speaker would say it, not translated word for word, so the sentences differ in shape, not only in words.
"""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        # plan
        "planned": "Planned: {plan}.",
        "plan_line": "Plan: {plan}",
        "with_reminder": " (with a reminder)",
        "this_week": "This week: {done}.",
        "no_plan": "No plan yet; set one with `biofeedback plan set --script ID --days mo,we,fr --at 19:30`.",
        "cleared": "The plan is cleared.",
        "cleared_reminder": "The plan is cleared and its reminder removed.",
        "no_plan_to_clear": "There was no plan.",
        "every_day": "every day",
        "per_week": "{n} days a week, any days you like",
        "per_week_one": "1 day a week, any day you like",
        "at": "at {time}",
        "days_of": "{done} of {planned} days",
        "days_of_one": "{done} of 1 day",
        "remind_title": "Time to practise",
        "remind_body": "“{title}” was planned for {time} and is not done yet today.",
        "remind_crontab": "systemd --user is not running here, so add this line with `crontab -e` for the reminder:",
        "remind_not_started": "The reminder's timer is in {folder} but could not be started; "
                              "try `systemctl --user {step}`.",
        "remind_set": "Reminder set: a notification at {time} when the exercise is not done yet that day.",
        "bad_day": "'{part}' is not a day; write days as mo,tu,we,th,fr,sa,su (Dutch ma,di,wo,do,vr,za,zo works too).",
        "no_day": "--days: give at least one day, e.g. mo,we,fr.",
        "bad_time": "'{text}' is not a time of day; write it as HH:MM, e.g. 19:30.",
        "bad_plan": "{path}: the plan cannot be read ({why}); set it again with `biofeedback plan set`.",
        # diary
        "written": "Written down for the night from {day} to {next}: {what}.",
        "nightmares_0": "no nightmares",
        "nightmares_1": "1 nightmare",
        "nightmares_n": "{n} nightmares",
        "intensity": "intensity {i}",
        "diary_empty": "The diary is empty; write down a night with `biofeedback diary add --nightmares N`.",
        "week_line": "Week {week} of {year}: {what} in {nights}",
        "nights_1": "1 night written down",
        "nights_n": "{n} nights written down",
        "mean_intensity": "mean intensity {i}",
        "bad_count": "--nightmares {n}: give the number of nightmares that night (0-{most}).",
        "bad_intensity": "--intensity {i}: give how intense they were, from 0 to 10.",
        "future": "--date {day} lies in the future; give the date of the evening the night began.",
        "bad_date": "--date {text}: not a date; write it as YYYY-MM-DD, e.g. 2026-01-05.",
        # notes
        "note_empty": "The note was empty; nothing was added.",
        "note_added": "Note added to {id} ({when}).",
        "no_notes": "No notes on {id} yet; add one with `biofeedback notes {id} --add TEXT`.",
        "notes_on": "Notes on {id}:",
        "edit_header": "# Write the note for session {id} below. Lines starting with # are left out;\n"
                       "# an empty note adds nothing. Earlier notes on this session:\n",
        "no_editor": "--edit needs an editor: set EDITOR (e.g. EDITOR=nano), or use --add \"TEXT\".",
        "editor_failed": "the editor '{editor}' could not be started ({why}); check EDITOR.",
        "editor_error": "the editor '{editor}' ended with an error ({code}); nothing was added.",
    },
    "nl": {
        "planned": "Gepland: {plan}.",
        "plan_line": "Plan: {plan}",
        "with_reminder": " (met herinnering)",
        "this_week": "Deze week: {done}.",
        "no_plan": "Nog geen plan; maak er een met `biofeedback plan set --script ID --days ma,wo,vr --at 19:30`.",
        "cleared": "Het plan is gewist.",
        "cleared_reminder": "Het plan is gewist en de herinnering staat uit.",
        "no_plan_to_clear": "Er was geen plan.",
        "every_day": "elke dag",
        "per_week": "{n} dagen per week, naar keuze",
        "per_week_one": "1 dag per week, naar keuze",
        "at": "om {time}",
        "days_of": "{done} van {planned} dagen",
        "days_of_one": "{done} van 1 dag",
        "remind_title": "Tijd om te oefenen",
        "remind_body": "‘{title}’ stond gepland om {time} en is vandaag nog niet gedaan.",
        "remind_crontab": "systemd --user draait hier niet; zet voor de herinnering deze regel erbij met `crontab -e`:",
        "remind_not_started": "De timer voor de herinnering staat in {folder}, maar kon niet starten; "
                              "probeer `systemctl --user {step}`.",
        "remind_set": "Herinnering aan: om {time} een melding als de oefening die dag nog niet gedaan is.",
        "bad_day": "'{part}' is geen dag; schrijf de dagen als ma,di,wo,do,vr,za,zo (Engels mo,tu,we,th,fr,sa,su "
                   "mag ook).",
        "no_day": "--days: geef minstens één dag, bijvoorbeeld ma,wo,vr.",
        "bad_time": "'{text}' is geen tijdstip; schrijf het als UU:MM, bijvoorbeeld 19:30.",
        "bad_plan": "{path}: het plan is onleesbaar ({why}); stel het opnieuw in met `biofeedback plan set`.",
        "written": "Genoteerd voor de nacht van {day} op {next}: {what}.",
        "nightmares_0": "geen nachtmerries",
        "nightmares_1": "1 nachtmerrie",
        "nightmares_n": "{n} nachtmerries",
        "intensity": "intensiteit {i}",
        "diary_empty": "Het dagboek is nog leeg; noteer een nacht met `biofeedback diary add --nightmares N`.",
        "week_line": "Week {week} van {year}: {what} in {nights}",
        "nights_1": "1 genoteerde nacht",
        "nights_n": "{n} genoteerde nachten",
        "mean_intensity": "gemiddelde intensiteit {i}",
        "bad_count": "--nightmares {n}: geef het aantal nachtmerries van die nacht (0-{most}).",
        "bad_intensity": "--intensity {i}: geef aan hoe heftig ze waren, van 0 tot 10.",
        "future": "--date {day} ligt in de toekomst; geef de datum van de avond waarop de nacht begon.",
        "bad_date": "--date {text}: geen datum; schrijf hem als JJJJ-MM-DD, bijvoorbeeld 2026-01-05.",
        "note_empty": "De notitie was leeg; er is niets toegevoegd.",
        "note_added": "Notitie toegevoegd aan {id} ({when}).",
        "no_notes": "Nog geen notities bij {id}; voeg er een toe met `biofeedback notes {id} --add TEKST`.",
        "notes_on": "Notities bij {id}:",
        "edit_header": "# Schrijf hieronder de notitie bij sessie {id}. Regels die met # beginnen, vallen weg;\n"
                       "# een lege notitie voegt niets toe. Eerdere notities bij deze sessie:\n",
        "no_editor": "--edit heeft een editor nodig: stel EDITOR in (bijvoorbeeld EDITOR=nano) of gebruik --add \"TEKST\".",
        "editor_failed": "de editor '{editor}' kon niet starten ({why}); controleer EDITOR.",
        "editor_error": "de editor '{editor}' stopte met een fout ({code}); er is niets toegevoegd.",
    },
}

DAY_NAMES = {"en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), "nl": ("ma", "di", "wo", "do", "vr", "za", "zo")}


def say(lang: str, key: str, **fmt: object) -> str:
    """The sentence ``key`` in ``lang`` (English when the language has none), filled in with ``fmt``."""
    words = TEXTS.get(lang, TEXTS["en"])
    return (words.get(key) or TEXTS["en"][key]).format(**fmt)


def number(value: float, lang: str) -> str:
    """One decimal, with the decimal comma a Dutch reader expects."""
    shown = f"{value:.1f}"
    return shown.replace(".", ",") if lang == "nl" else shown


def language(asked: str | None) -> str:
    """``--lang`` when given, else the settings' language (the locale, as the other commands do)."""
    if asked:
        return asked
    from sessions import settings

    return settings.current().language
