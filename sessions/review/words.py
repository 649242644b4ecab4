"""Words of the review, report, exports and trends in Dutch and English.

Kept beside the review code rather than in :mod:`sessions.i18n` because they are many and only the
review uses them; missing keys fall back to :func:`sessions.i18n.tr` (shared words) and then English.
"""

from __future__ import annotations

from sessions.i18n import tr

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "report_title": "Session report", "phase": "phase", "from_min": "from (min)", "minutes": "minutes",
        "hr": "heart rate (bpm)", "rmssd": "RMSSD (ms)", "sdnn": "SDNN (ms)", "coherence": "coherence",
        "calm": "calm (0-100)", "pacer_rate": "pacer (breaths/min)", "vs_baseline": "vs. baseline",
        "hr_short": "HR", "calm_short": "calm", "baseline_phase": "Quiet start",
        "timeline": "Over time", "phases": "Phase by phase", "summary": "In plain words",
        "hrv_full": "Heart rate variability of the whole session", "artefacts": "Beats and artefacts",
        "what_not": "What these numbers are not: this is a relaxation exercise, not a medical test. "
                    "The numbers describe this session only; they do not diagnose, predict or treat anything, "
                    "and a low or high value is not good or bad in itself. Talk to a doctor about any worry "
                    "about your heart.",
        "artefact_share": "{n} of {total} beats ({pct:.1f} %) were flagged as artefacts or irregular beats and "
                          "left out of the numbers.",
        "gaps": "The strap signal was lost {n} times, {s:.0f} s in total; nothing was filled in for those gaps.",
        "gaps_one": "The strap signal was lost once, for {s:.0f} s; nothing was filled in for that gap.",
        "irregular": "The heart rhythm was very irregular {times}, {m:.1f} min in total (purple bands); heart rate "
                     "variability means nothing there, so those stretches are left out of it. Irregular rhythms have "
                     "many causes; if this happens often, it is worth asking a doctor.",
        "damaged": "This file was damaged; the report shows what could be recovered: {what}",
        "unfinished": "The session did not close normally; the report covers what was saved.",
        "settled_below": "Your heart rate settled {d:.0f} bpm below your starting level during {phase}.",
        "settled_above": "Your heart rate was {d:.0f} bpm above your starting level during {phase}.",
        "settled_same": "Your heart rate stayed close to your starting level throughout (within {d:.0f} bpm).",
        "settled_when": "It first stayed below the starting level from about minute {m:.0f}.",
        "rmssd_up": "The beat-to-beat variation (RMSSD) rose from {a:.0f} to {b:.0f} ms, which usually goes with a "
                    "calmer body.",
        "rmssd_down": "The beat-to-beat variation (RMSSD) went from {a:.0f} to {b:.0f} ms.",
        "coh_best": "Your heart rhythm followed your breathing most smoothly during {phase}.",
        "calm_change": "The calm score went from {a:.0f} at the start (the quiet start; 50 is your own starting "
                       "level) to {b:.0f} during {phase}.",
        "distress_note": "There were {n} moments when your heart rate rose sharply; the exercise slowed down and "
                         "offered grounding. That is part of how the exercise works, not a failure.",
        "distress_note_one": "There was one moment when your heart rate rose sharply; the exercise slowed down and "
                             "offered grounding. That is part of how the exercise works, not a failure.",
        "asked_note": "You pressed “this is too much” {n} times; each time the exercise paused for grounding. Saying "
                      "so is part of how the exercise works, not a failure.",
        "asked_note_one": "You pressed “this is too much” once; the exercise paused for grounding. Saying so is part "
                          "of how the exercise works, not a failure.",
        "untrusted": "{pct:.0f} % of the beats were flagged (more than {limit:.0f} %): the heart rate variability "
                     "numbers of this session can't be trusted, because too few clean beats are left and the "
                     "gaps between them distort the measures. A loose or dry strap is the usual cause.",
        "no_data": "Too few beats were recorded to say anything about this session.",
        "started": "started", "duration": "duration", "source": "source", "script": "exercise",
        "source_simulated": "simulated strap", "source_replay": "replay of a recording", "source_ble": "chest strap",
        "metric": "measure", "value": "value", "time_domain": "time domain", "freq_domain": "frequency domain (ms²)",
        "nonlinear": "non-linear", "step_shading": "steps", "prompt": "prompt", "distress": "distress",
        "grounding": "grounding", "link_gap": "signal lost", "irregular_band": "very irregular rhythm",
        "artefact": "artefact beat",
        "trends_title": "Trends over your sessions", "date": "date", "calm_change_col": "calm change",
        "rmssd_rest": "RMSSD at rest (ms)", "resonance": "resonance rate (/min)", "practised": "minutes practised",
        "week": "week", "no_sessions": "No sessions recorded yet.",
        "hrv_method": "Computed on the NN intervals at the record's own resolution (beats flagged as artefacts left "
                      "out; no values invented across signal gaps); frequency powers in ms² by Lomb-Scargle on the "
                      "uneven series. Definitions next to Kubios's: docs/metrics.md.",
        "hrv_too_short": "The session is too short for this part of the analysis.",
        "per_phase_note": "Means of the 5-second values within each phase; the change is against the quiet start.",
        "review_title": "Review", "time_min": "time (min)",
        "legend": "▼ {prompt}   × {artefact} ({off})   red dashes: {distress}   orange dashes: {grounding}   "
                  "dotted line: {level}   grey band: {gap}   yellow band: {paused}   purple band: {irregular}   "
                  "alternating bands: {steps}",
        "analysis": "The beats in detail", "tachogram": "RR tachogram (NN beats; × flagged)",
        "psd": "Power spectrum (Lomb-Scargle) with the VLF, LF and HF bands and their peaks",
        "frequency_hz": "frequency (Hz)", "rr_histogram": "RR histogram (triangular index {tri:.1f})",
        "beats": "beats", "hr_range": "heart rate: mean {mean:.0f}, min {lo:.0f}, max {hi:.0f} bpm",
        "paused_band": "paused", "level_line": "your starting level (calm: 50)",
        "off_scale": "at the edge with ↑/↓ n: off the scale",
        "page": "page", "nn_used": "{nn} NN intervals used", "times_one": "once", "times_n": "{n} times",
        "replays_left_out_one": "1 replay of a recording is left out (not your own sessions; --include-replays shows it).",
        "replays_left_out_n": "{n} replays of recordings are left out (not your own sessions; --include-replays shows them).",
        "replay_mark": "replay", "exercise": "exercise", "source_col": "source",
        "cmp_title": "Quiet start, practice and end", "cmp_part": "part", "cmp_minutes": "min",
        "cmp_hr": "heart rate (bpm)", "cmp_coherence": "coherence", "cmp_high": "time in high coherence",
        "cmp_quiet_start": "Quiet start", "cmp_practice": "Practice", "cmp_end": "End of the practice (last 2 min)",
        "cmp_note": "Means of the 5-s values shown live. Coherence zones: low below 0.5, medium 0.5-1, high from 1.",
        "res_title": "The resonance assessment per rate", "res_rate": "rate (/min)", "res_lf": "LF power (ms²)",
        "res_peak": "peak (/min)", "res_swing": "heart-rate swing (bpm)", "res_chosen": "◀ chosen",
        "res_note": "Chosen: the rate with the largest heart-rate swing per breath and coherence, weighed equally; "
                    "of rates that score about the same, the faster one (easier to keep up).",
    },
    "nl": {
        "report_title": "Sessieverslag", "phase": "fase", "from_min": "vanaf (min)", "minutes": "minuten",
        "hr": "hartslag (slagen/min)", "rmssd": "RMSSD (ms)", "sdnn": "SDNN (ms)", "coherence": "coherentie",
        "calm": "kalmte (0-100)", "pacer_rate": "ademtempo (per min)", "vs_baseline": "t.o.v. start",
        "hr_short": "hartslag", "calm_short": "kalmte", "baseline_phase": "Rustige start",
        "timeline": "In de tijd", "phases": "Fase voor fase", "summary": "In gewone woorden",
        "hrv_full": "Hartslagvariabiliteit van de hele sessie", "artefacts": "Slagen en artefacten",
        "what_not": "Wat deze getallen niet zijn: dit is een ontspanningsoefening, geen medisch onderzoek. "
                    "De getallen beschrijven alleen deze sessie; ze stellen geen diagnose, voorspellen niets en "
                    "behandelen niets, en een lage of hoge waarde is op zichzelf niet goed of slecht. Bespreek "
                    "zorgen over je hart met een arts.",
        "artefact_share": "{n} van de {total} slagen ({pct:.1f} %) zijn gemarkeerd als artefact of onregelmatige slag "
                          "en niet meegeteld.",
        "gaps": "Het signaal van de band viel {n} keer weg, samen {s:.0f} s; voor die gaten is niets ingevuld.",
        "gaps_one": "Het signaal van de band viel één keer weg, {s:.0f} s; voor dat gat is niets ingevuld.",
        "irregular": "Het hartritme was {times} erg onregelmatig, samen {m:.1f} min (paarse banden); daar zegt "
                     "hartslagvariabiliteit niets, dus die stukken tellen niet mee. Een onregelmatig ritme kan veel "
                     "oorzaken hebben; gebeurt dit vaker, vraag dan je huisarts ernaar.",
        "damaged": "Dit bestand was beschadigd; het verslag toont wat er te redden was: {what}",
        "unfinished": "De sessie is niet normaal afgesloten; het verslag toont wat bewaard is.",
        "settled_below": "Je hartslag kwam tijdens {phase} {d:.0f} slagen per minuut onder je beginniveau.",
        "settled_above": "Je hartslag lag tijdens {phase} {d:.0f} slagen per minuut boven je beginniveau.",
        "settled_same": "Je hartslag bleef de hele tijd dicht bij je beginniveau (binnen {d:.0f} slagen per minuut).",
        "settled_when": "Vanaf ongeveer minuut {m:.0f} bleef hij onder het beginniveau.",
        "rmssd_up": "De variatie van slag tot slag (RMSSD) steeg van {a:.0f} naar {b:.0f} ms; dat hoort meestal bij "
                    "een rustiger lichaam.",
        "rmssd_down": "De variatie van slag tot slag (RMSSD) ging van {a:.0f} naar {b:.0f} ms.",
        "coh_best": "Je hartritme volgde je ademhaling het soepelst tijdens {phase}.",
        "calm_change": "De kalmtescore ging van {a:.0f} aan het begin (de rustige start; 50 is je eigen "
                       "beginniveau) naar {b:.0f} tijdens {phase}.",
        "distress_note": "Er waren {n} momenten waarop je hartslag sterk steeg; de oefening ging toen langzamer en "
                         "hielp je om te gronden. Dat hoort bij hoe de oefening werkt; het is geen mislukking.",
        "distress_note_one": "Er was één moment waarop je hartslag sterk steeg; de oefening ging toen langzamer en "
                             "hielp je om te gronden. Dat hoort bij hoe de oefening werkt; het is geen mislukking.",
        "asked_note": "Je drukte {n} keer op ‘dit is te veel’; elke keer pauzeerde de oefening om te gronden. Dat "
                      "aangeven hoort bij hoe de oefening werkt; het is geen mislukking.",
        "asked_note_one": "Je drukte één keer op ‘dit is te veel’; de oefening pauzeerde om te gronden. Dat aangeven "
                          "hoort bij hoe de oefening werkt; het is geen mislukking.",
        "untrusted": "{pct:.0f} % van de slagen is gemarkeerd (meer dan {limit:.0f} %): de cijfers voor "
                     "hartslagvariabiliteit van deze sessie zijn niet betrouwbaar, omdat er te weinig schone slagen "
                     "over zijn en de gaten ertussen de maten vertekenen. Meestal zit de band los of is hij te droog.",
        "no_data": "Er zijn te weinig slagen opgenomen om iets over deze sessie te zeggen.",
        "started": "begonnen", "duration": "duur", "source": "bron", "script": "oefening",
        "source_simulated": "gesimuleerde band", "source_replay": "herhaling van een opname", "source_ble": "borstband",
        "metric": "maat", "value": "waarde", "time_domain": "tijdsdomein", "freq_domain": "frequentiedomein (ms²)",
        "nonlinear": "niet-lineair", "step_shading": "stappen", "prompt": "tekst", "distress": "onrust",
        "grounding": "gronden", "link_gap": "signaal weg", "irregular_band": "erg onregelmatig ritme",
        "artefact": "artefactslag",
        "trends_title": "Verloop over je sessies", "date": "datum", "calm_change_col": "verandering kalmte",
        "rmssd_rest": "RMSSD in rust (ms)", "resonance": "resonantietempo (/min)", "practised": "minuten geoefend",
        "week": "week", "no_sessions": "Nog geen sessies opgenomen.",
        "hrv_method": "Berekend op de NN-intervallen met de eigen resolutie van de opname (als artefact gemarkeerde "
                      "slagen weggelaten; niets verzonnen over signaalgaten); vermogens in ms² met Lomb-Scargle op de "
                      "ongelijk verdeelde reeks. De definities naast die van Kubios: docs/metrics.md.",
        "hrv_too_short": "De sessie is te kort voor dit deel van de analyse.",
        "per_phase_note": "Gemiddelden van de 5-secondewaarden binnen elke fase; de verandering is t.o.v. de rustige "
                          "start.",
        "review_title": "Terugkijken", "time_min": "tijd (min)",
        "legend": "▼ {prompt}   × {artefact} ({off})   rode streepjes: {distress}   oranje streepjes: {grounding}   "
                  "stippellijn: {level}   grijze band: {gap}   gele band: {paused}   paarse band: {irregular}   "
                  "afwisselende banden: {steps}",
        "analysis": "De slagen in detail", "tachogram": "RR-tachogram (NN-slagen; × gemarkeerd)",
        "psd": "Vermogensspectrum (Lomb-Scargle) met de VLF-, LF- en HF-banden en hun pieken",
        "frequency_hz": "frequentie (Hz)", "rr_histogram": "RR-histogram (driehoeksindex {tri:.1f})",
        "beats": "slagen", "hr_range": "hartslag: gemiddeld {mean:.0f}, min {lo:.0f}, max {hi:.0f} slagen/min",
        "paused_band": "gepauzeerd", "level_line": "je beginniveau (kalmte: 50)",
        "off_scale": "aan de rand met ↑/↓ n: buiten de schaal",
        "page": "pagina", "nn_used": "{nn} NN-intervallen gebruikt", "times_one": "één keer", "times_n": "{n} keer",
        "replays_left_out_one": "1 afgespeelde opname is weggelaten (niet je eigen sessies; --include-replays toont hem).",
        "replays_left_out_n": "{n} afgespeelde opnames zijn weggelaten (niet je eigen sessies; --include-replays toont ze).",
        "replay_mark": "afgespeeld", "exercise": "oefening", "source_col": "bron",
        "cmp_title": "Rustige start, oefening en einde", "cmp_part": "deel", "cmp_minutes": "min",
        "cmp_hr": "hartslag (slagen/min)", "cmp_coherence": "coherentie", "cmp_high": "tijd in hoge coherentie",
        "cmp_quiet_start": "Rustige start", "cmp_practice": "Oefening", "cmp_end": "Einde van de oefening (laatste 2 min)",
        "cmp_note": "Gemiddelden van de 5-secondenwaarden die je live zag. Coherentiezones: laag onder 0,5, middel 0,5-1, "
                    "hoog vanaf 1.",
        "res_title": "De resonantiemeting per tempo", "res_rate": "tempo (/min)", "res_lf": "LF-vermogen (ms²)",
        "res_peak": "piek (/min)", "res_swing": "schommeling hartslag (slagen/min)", "res_chosen": "◀ gekozen",
        "res_note": "Gekozen: het tempo met de grootste schommeling van de hartslag per ademhaling en de hoogste "
                    "coherentie, even zwaar gewogen; van tempo's die ongeveer gelijk scoren het snelste "
                    "(makkelijker vol te houden).",
    },
}


def say(lang: str | None, key: str, **fmt: object) -> str:
    """The text for ``key`` in ``lang`` (English when missing), formatted with ``fmt``."""
    lang = lang if lang in WORDS else "en"
    text = WORDS[lang].get(key) or WORDS["en"].get(key)
    if text is None:
        return tr(lang, key, **fmt)
    return text.format(**fmt) if fmt else text
