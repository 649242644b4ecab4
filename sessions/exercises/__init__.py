"""Exercises as data: the script model (``model``), a validator that names the line (``validator``, with
``toml_lines``), and where scripts are found (``catalogue``).

Why it is built this way:

* **Scripts are TOML files**, one per exercise and language (``<id>.<lang>.toml``), shipped in
  ``sessions/scripts/`` and also read from the user's config dir
  (``platformdirs.user_config_dir("biofeedback")/scripts/*.toml``). A therapist can write or adapt
  an exercise without touching code; a user script with the same id and language replaces the
  shipped one.
* **Validation names file, line and field.** A therapist editing a text file must be told *where*
  the problem is. ``tomllib`` gives no positions for values, so :func:`_key_lines` scans the text
  for table headers and keys to find the line; TOML syntax errors carry a line already and are
  reworded into one sentence. Unknown keys are errors too: a typo such as ``max_sec`` would
  otherwise silently fall back to a default.
* **Imagery is not only pictures.** Each step has a lead text plus an invitation per sense (``sight``,
  ``sound``, ``smell``, ``touch`` for touch and temperature, ``body`` for body sensation). Every
  ``imagery`` step must offer sound, touch and body, so someone who "cannot visualise" is served.
  A step says two of them, rotated from step to step among the senses the person chose
  (``Script.prompts_for``), so that no step sounds like a checklist; lines woven from the person's
  own safe place (``[steps.own]``) replace the general ones when every answer they name was given.
  The full format is in ``docs/scripts.md``.
* **Safety is structural.** Every script ends with a ``grounding`` step, or for an evening ritual
  (``bedtime = true``) with a ``sleep`` step: a bridge to sleep, not "come back into the room".
  Scripts with heavier themes set ``therapist_only = true`` and must carry a
  ``[meta] warning``; :func:`load_script` refuses them without therapist mode, and they are never
  the default.
* **Fixed texts live in data too**: ``common.<lang>.toml`` holds the relaxation-tool line, the
  baseline instruction, the distress message, and the stop grounding (which ends in calm
  sentences, never silence). These are read only from the shipped package: safety wording is not
  something a user script can replace by accident.

Script file format (all durations in seconds, except ``duration_min``)::

    id = "safe-place"              # lowercase letters, digits, dashes; "common" is reserved
    language = "en"                # nl | en
    title = "A safe place"
    purpose = "One sentence on what it is for."
    duration_min = 12              # approximate, excluding the 1-2 minute baseline
    therapist_only = false

    [meta]                         # required with therapist_only = true
    warning = "Shown (and said) before the exercise starts."

    [[steps]]
    id = "arrive"
    title = "Arriving"             # optional; shown to people (the id is for data and files)
    kind = "imagery"               # breathing | imagery | grounding | assessment | sleep
    min_s = 60
    max_s = 180
    typical_s = 90                 # optional; default halfway between min and max
    advance = "settled"            # time | settled | calm
    calm_above = 0.6               # only with advance = "calm" (calm score 0..1)
    pacer = { rate = "follow", ratio = "4:6" }   # rate: follow | resonance | off | 4-20 breaths/min
    text = ["Said first.", "Another line."]      # a string or a list of strings
    then = ["Said after the senses."]            # optional
    [steps.senses]                 # sight, sound, smell, touch, body
    sound = "..."
"""

from __future__ import annotations

from sessions.exercises.catalogue import (Catalog, builtin_scripts_dir, check_language, default_language, discover,
                                          list_scripts, load_common, load_script, user_scripts_dir)
from sessions.exercises.model import (ADVANCE_MODES, DEFAULT_SCRIPT_ID, IMAGERY_SENSES, LANGUAGE_NAMES, LANGUAGES,
                                      NON_VISUAL_SENSES, PLACEHOLDERS, RESERVED_IDS, SENSES, SENSES_PER_STEP, STEP_KINDS,
                                      CommonTexts, Prompt, Script, ScriptError, Step, spoken_lines)
from sessions.exercises.validator import load_common_file, load_script_file, parse_script

__all__ = [
    "ADVANCE_MODES", "DEFAULT_SCRIPT_ID", "IMAGERY_SENSES", "LANGUAGE_NAMES", "LANGUAGES", "NON_VISUAL_SENSES",
    "PLACEHOLDERS", "Prompt", "RESERVED_IDS", "SENSES", "SENSES_PER_STEP", "STEP_KINDS", "Catalog", "CommonTexts",
    "Script", "ScriptError", "Step", "spoken_lines", "builtin_scripts_dir", "check_language",
    "default_language", "discover", "list_scripts", "load_common", "load_common_file", "load_script",
    "load_script_file", "parse_script", "user_scripts_dir",
]
