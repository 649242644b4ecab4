"""Exercises as data: the script model, where scripts are found, and a validator that names the line.

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
* **Imagery is not only pictures.** Each step has a lead text plus variants per sense (``sight``,
  ``sound``, ``touch`` for touch and temperature, ``body`` for body sensation). Every ``imagery``
  step must offer the three non-visual senses, so someone who "cannot visualise" is served. The
  runner picks which variants to say with ``Step.lines(senses)``.
* **Safety is structural.** Every script ends with a ``grounding`` step (the runner also jumps
  there on distress). Scripts with heavier themes set ``therapist_only = true`` and must carry a
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
    kind = "imagery"               # breathing | imagery | grounding | assessment
    min_s = 60
    max_s = 180
    typical_s = 90                 # optional; default halfway between min and max
    advance = "settled"            # time | settled | calm
    calm_above = 0.6               # only with advance = "calm" (calm score 0..1)
    pacer = { rate = "follow", ratio = "4:6" }   # rate: follow | resonance | off | 4-20 breaths/min
    text = ["Said first.", "Another line."]      # a string or a list of strings
    then = ["Said after the senses."]            # optional
    [steps.senses]                 # sight, sound, touch, body
    sound = "..."
"""

from __future__ import annotations

import locale
import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import platformdirs

from biofeedback.pacer import MAX_RATE, MIN_RATE, PacerSetting, parse_ratio
from biofeedback.step_pacer import AdvanceMode, StepTiming, speech_seconds
from sessions.errors import UserError
from sessions.events import StepKind

LANGUAGES = ("nl", "en")
LANGUAGE_NAMES = {"nl": "Dutch", "en": "English"}
SENSES = ("sight", "sound", "touch", "body")
NON_VISUAL_SENSES = ("sound", "touch", "body")
STEP_KINDS = ("breathing", "imagery", "grounding", "assessment")
ADVANCE_MODES = ("time", "settled", "calm")
DEFAULT_SCRIPT_ID = "safe-place"
"""What ``biofeedback run`` plays without ``--script``: never a therapist-only script."""
RESERVED_IDS = ("common",)

_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class ScriptError(UserError):
    """A script (or common-text) file that cannot be used; the message names file, line and field."""

    def __init__(self, message: str, path: Path | None = None, line: int | None = None, field: str | None = None):
        super().__init__(message)
        self.path = path
        self.line = line
        self.field = field


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    id: str
    kind: str
    min_s: float
    max_s: float
    typical_s: float | None
    advance: str
    calm_above: float | None
    pacer: PacerSetting
    text: tuple[str, ...]
    senses: Mapping[str, str]
    then: tuple[str, ...] = ()
    title: str = ""
    """What a person reads for this step (review, report, transcript); the id stays for data."""

    def lines(self, senses: Sequence[str] = SENSES) -> tuple[str, ...]:
        """What to say, in order: the lead text, the chosen sense variants (in the order given), the rest.

        Pass ``NON_VISUAL_SENSES`` (or any order) for someone who does not think in pictures.
        """
        chosen = tuple(self.senses[s] for s in senses if s in self.senses)
        return self.text + chosen + self.then

    def timing(self, senses: Sequence[str] = SENSES) -> StepTiming:
        """The step's timing for :class:`biofeedback.step_pacer.StepPacer` (prompt times from word counts)."""
        return StepTiming(
            min_s=self.min_s,
            max_s=self.max_s,
            typical_s=self.typical_s,
            advance=self.advance,  # type: ignore[arg-type]
            calm_above=self.calm_above,
            prompt_s=tuple(speech_seconds(line) for line in self.lines(senses)),
        )

    @property
    def assessment_rate(self) -> float | None:
        """For an assessment step: the breathing rate it tests."""
        return self.pacer.rate if self.kind == "assessment" else None


@dataclass(frozen=True)
class Script:
    id: str
    language: str
    title: str
    purpose: str
    duration_min: float
    therapist_only: bool
    steps: tuple[Step, ...]
    warning: str | None = None
    notes: str | None = None
    source: Path | None = None
    user: bool = False
    """True when the file came from the user's config dir."""

    @property
    def grounding_step(self) -> int:
        """Index of the step the runner jumps to on distress: the closing grounding step."""
        return len(self.steps) - 1

    def timings(self, senses: Sequence[str] = SENSES) -> tuple[StepTiming, ...]:
        return tuple(s.timing(senses) for s in self.steps)

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "language": self.language,
            "title": self.title,
            "purpose": self.purpose,
            "duration_min": self.duration_min,
            "therapist_only": self.therapist_only,
            "steps": len(self.steps),
            "source": "user" if self.user else "builtin",
            "path": str(self.source) if self.source else None,
        }


@dataclass(frozen=True)
class CommonTexts:
    """The fixed texts the runner needs, per language (from ``common.<lang>.toml``)."""

    language: str
    disclaimer: str
    """This is a relaxation tool, not a medical treatment."""
    baseline: tuple[str, ...]
    """The baseline-phase instruction: breathe as you are for a minute or two."""
    distress: tuple[str, ...]
    """Said when distress is detected: slowing down, grounding, stopping is fine."""
    recovered: tuple[str, ...]
    """Said when the body has settled again after distress."""
    stop_grounding: tuple[str, ...]
    """Said after stop: a short grounding that ends in calm sentences."""
    therapist_notice: str
    """Shown before any therapist-only script, in addition to its own warning."""

    def stop_timing(self) -> tuple[float, ...]:
        """Seconds per stop-grounding line, for ``StepPacer(stop_lines=...)``."""
        return tuple(speech_seconds(line) for line in self.stop_grounding)


# --------------------------------------------------------------------------------------------
# Finding lines in TOML text
# --------------------------------------------------------------------------------------------

_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'')


def _norm_key(key: str) -> list[str]:
    return [p.strip().strip('"').strip("'") for p in key.split(".")]


def _key_lines(text: str) -> dict[str, int]:
    """Map dotted paths (``steps[2].senses.sound``, 0-based) to the 1-based line defining them.

    A small scanner, not a parser: it knows table headers, arrays of tables, dotted keys, and
    skips the insides of multi-line strings and arrays. Good enough to point a person at a line.
    """
    positions: dict[str, int] = {}
    counts: dict[str, int] = {}
    current: list[str] = []
    skip_until: str | None = None
    depth = 0

    def resolve(parts: list[str]) -> list[str]:
        out: list[str] = []
        plain: list[str] = []
        for p in parts:
            plain.append(p)
            key = ".".join(plain)
            out.append(f"{p}[{counts[key] - 1}]" if key in counts else p)
        return out

    for n, raw in enumerate(text.splitlines(), 1):
        if skip_until is not None:
            if skip_until in raw:
                skip_until = None
            continue
        line = _STRINGS.sub('""', raw.split("#", 1)[0] if '"' not in raw and "'" not in raw else raw)
        if depth > 0:
            depth += line.count("[") + line.count("{") - line.count("]") - line.count("}")
            depth = max(depth, 0)
            continue
        s = raw.strip()
        if not s or s.startswith("#"):
            continue
        if m := re.match(r"^\[\[\s*(.+?)\s*\]\]", s):
            parts = _norm_key(m.group(1))
            plain = ".".join(parts)
            counts[plain] = counts.get(plain, 0) + 1
            current = resolve(parts)
            positions[".".join(current)] = n
            continue
        if m := re.match(r"^\[\s*(.+?)\s*\]", s):
            current = resolve(_norm_key(m.group(1)))
            positions[".".join(current)] = n
            continue
        if m := re.match(r"^([A-Za-z0-9_\-\.\"' ]+?)\s*=\s*(.*)$", s):
            path = ".".join(current + _norm_key(m.group(1)))
            positions.setdefault(path, n)
            value = m.group(2)
            for quote in ('"""', "'''"):
                if value.startswith(quote) and value.count(quote) == 1:
                    skip_until = quote
            if skip_until is None:
                v = _STRINGS.sub('""', value)
                depth = max(v.count("[") + v.count("{") - v.count("]") - v.count("}"), 0)
    return positions


def _locate(positions: Mapping[str, int], path: str) -> int:
    while path:
        if path in positions:
            return positions[path]
        path = path.rsplit(".", 1)[0] if "." in path else ""
    return 1


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


class _Checker:
    """Reads typed values out of a parsed TOML dict, raising ScriptError at the right line."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.positions = _key_lines(text)

    def fail(self, field: str, problem: str, step: tuple[int, str | None] | None = None) -> ScriptError:
        internal = field if step is None else f"steps[{step[0]}].{field}" if field else f"steps[{step[0]}]"
        line = _locate(self.positions, internal)
        where = ""
        if step is not None:
            where = f"step {step[0] + 1}" + (f" ('{step[1]}')" if step[1] else "") + ", "
        what = f"field '{field}' " if field else ""
        msg = f"{self.path}, line {line}: {where}{what}{problem}"
        if not msg.endswith("."):
            msg += "."
        return ScriptError(msg, self.path, line, internal)

    def unknown(self, table: Mapping[str, Any], allowed: Iterable[str], prefix: str = "", step=None) -> None:
        allowed = set(allowed)
        for key in table:
            if key not in allowed:
                known = ", ".join(sorted(allowed))
                raise self.fail(f"{prefix}{key}", f"is not a known field (known here: {known})", step)

    def text(self, table: Mapping[str, Any], key: str, *, required=True, prefix="", step=None) -> str | None:
        if key not in table:
            if required:
                raise self.fail(f"{prefix}{key}", "is missing", step)
            return None
        v = table[key]
        if not isinstance(v, str) or not v.strip():
            raise self.fail(f"{prefix}{key}", "must be a non-empty text in quotes", step)
        return " ".join(v.split())

    def lines(self, table: Mapping[str, Any], key: str, *, required=True, step=None) -> tuple[str, ...]:
        if key not in table:
            if required:
                raise self.fail(key, "is missing", step)
            return ()
        v = table[key]
        if isinstance(v, str):
            v = [v]
        if not isinstance(v, list) or not v or not all(isinstance(x, str) and x.strip() for x in v):
            raise self.fail(key, "must be a text or a list of non-empty texts", step)
        return tuple(" ".join(x.split()) for x in v)

    def number(self, table, key, *, required=True, lo=None, hi=None, unit="", step=None) -> float | None:
        if key not in table:
            if required:
                raise self.fail(key, "is missing", step)
            return None
        v = table[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise self.fail(key, f"must be a number{unit}, not {v!r}", step)
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            rng = f"between {lo:g} and {hi:g}" if lo is not None and hi is not None else f"at least {lo:g}" if lo is not None else f"at most {hi:g}"
            raise self.fail(key, f"must be {rng}{unit}, not {v:g}", step)
        return float(v)

    def choice(self, table, key, options, *, default=None, step=None, prefix="") -> str:
        if key not in table:
            if default is None:
                raise self.fail(f"{prefix}{key}", "is missing", step)
            return default
        v = table[key]
        if v not in options:
            raise self.fail(f"{prefix}{key}", f"must be one of {', '.join(options)}, not {v!r}", step)
        return v


def _read_toml(path: Path) -> tuple[dict[str, Any], str]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ScriptError(f"{path} is not UTF-8 text; save it as UTF-8.", path) from None
    except OSError as err:
        raise ScriptError(f"Cannot read {path}: {err.strerror or err}.", path) from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as err:
        msg = str(err)
        m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        reason = re.sub(r"\s*\(at line \d+, column \d+\)|\s*\(at end of document\)", "", msg).strip().rstrip(".")
        reason = reason[:1].lower() + reason[1:]
        if m:
            line = int(m.group(1))
            raise ScriptError(
                f"{path}, line {line}, column {m.group(2)}: this is not valid TOML ({reason}).", path, line
            ) from None
        line = text.count("\n") + 1
        raise ScriptError(f"{path}, line {line}: this is not valid TOML ({reason} at the end of the file).", path, line) from None


_TOP_KEYS = ("id", "language", "title", "purpose", "duration_min", "therapist_only", "meta", "steps")
_META_KEYS = ("warning", "notes", "author")
_STEP_KEYS = ("id", "title", "kind", "min_s", "max_s", "typical_s", "advance", "calm_above", "pacer", "text", "then", "senses")
_PACER_KEYS = ("rate", "ratio")


def _parse_pacer(ck: _Checker, raw: Any, step) -> PacerSetting:
    if raw is None:
        return PacerSetting("follow")
    if not isinstance(raw, dict):
        raise ck.fail("pacer", 'must be a table like { rate = "follow", ratio = "4:6" }', step)
    ck.unknown(raw, _PACER_KEYS, "pacer.", step)
    frac = 0.4
    if "ratio" in raw:
        try:
            frac = parse_ratio(raw["ratio"])
        except ValueError as err:
            raise ck.fail("pacer.ratio", str(err), step) from None
    rate = raw.get("rate", "follow")
    if isinstance(rate, str):
        if rate not in ("follow", "resonance", "off"):
            raise ck.fail("pacer.rate", f'must be "follow", "resonance", "off" or a number of breaths per minute, not {rate!r}', step)
        return PacerSetting(rate, None, frac)  # type: ignore[arg-type]
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not MIN_RATE <= rate <= MAX_RATE:
        raise ck.fail("pacer.rate", f"must lie between {MIN_RATE:g} and {MAX_RATE:g} breaths per minute, not {rate!r}", step)
    return PacerSetting("fixed", float(rate), frac)


def _parse_step(ck: _Checker, raw: Any, index: int, seen: set[str]) -> Step:
    if not isinstance(raw, dict):
        raise ck.fail(f"steps[{index}]", "must be a table ([[steps]])")
    sid = raw.get("id") if isinstance(raw.get("id"), str) else None
    where = (index, sid)
    ck.unknown(raw, _STEP_KEYS, step=where)
    sid = ck.text(raw, "id", step=where)
    assert sid is not None
    if not _ID_RE.match(sid):
        raise ck.fail("id", "must use lowercase letters, digits and dashes only", where)
    if sid in seen:
        raise ck.fail("id", f"repeats the id of an earlier step ('{sid}')", where)
    seen.add(sid)
    title = ck.text(raw, "title", required=False, step=where) or sid.replace("-", " ").capitalize()
    kind = ck.choice(raw, "kind", STEP_KINDS, step=where)
    min_s = ck.number(raw, "min_s", lo=5, hi=3600, unit=" of seconds", step=where)
    max_s = ck.number(raw, "max_s", lo=5, hi=3600, unit=" of seconds", step=where)
    assert min_s is not None and max_s is not None
    if max_s < min_s:
        raise ck.fail("max_s", f"must not be shorter than min_s ({min_s:g} s)", where)
    typical = ck.number(raw, "typical_s", required=False, lo=min_s, hi=max_s, unit=" of seconds", step=where)
    advance = ck.choice(raw, "advance", ADVANCE_MODES, default="settled", step=where)
    calm_above = ck.number(raw, "calm_above", required=False, lo=0.05, hi=1.0, step=where)
    if advance == AdvanceMode.CALM and calm_above is None:
        raise ck.fail("calm_above", 'is needed with advance = "calm" (a calm score between 0 and 1)', where)
    if advance != AdvanceMode.CALM and calm_above is not None:
        raise ck.fail("calm_above", 'only applies with advance = "calm"', where)
    pacer = _parse_pacer(ck, raw.get("pacer"), where)
    if kind == "assessment" and pacer.mode != "fixed":
        raise ck.fail("pacer.rate", "of an assessment step must be a number of breaths per minute", where)
    text = ck.lines(raw, "text", step=where)
    then = ck.lines(raw, "then", required=False, step=where)
    senses_raw = raw.get("senses", {})
    if not isinstance(senses_raw, dict):
        raise ck.fail("senses", "must be a table ([steps.senses]) with sight, sound, touch and body", where)
    ck.unknown(senses_raw, SENSES, "senses.", where)
    senses = {s: ck.text(senses_raw, s, required=False, prefix="senses.", step=where) for s in SENSES if s in senses_raw}
    if kind == "imagery":
        missing = [s for s in NON_VISUAL_SENSES if s not in senses]
        if missing:
            raise ck.fail(
                "senses",
                f"of an imagery step must include {', '.join(NON_VISUAL_SENSES)} (missing: {', '.join(missing)}), "
                "so that people who do not think in pictures are served too",
                where,
            )
    step = Step(sid, kind, min_s, max_s, typical, advance, calm_above, pacer, text, dict(senses), then,  # type: ignore[arg-type]
                title=title)
    needed = sum(step.timing().prompt_s)
    if needed > max_s:
        raise ck.fail(
            "max_s", f"is {max_s:g} s, but saying all of this step's text takes about {needed:.0f} s; shorten the text or raise max_s", where
        )
    return step


def parse_script(path: Path, data: Mapping[str, Any], text: str, *, user: bool = False) -> Script:
    """Validate an already-parsed script; ``text`` is the file's text (for line numbers)."""
    ck = _Checker(path, text)
    ck.unknown(data, _TOP_KEYS)
    sid = ck.text(data, "id")
    assert sid is not None
    if not _ID_RE.match(sid):
        raise ck.fail("id", "must use lowercase letters, digits and dashes only (like safe-place)")
    if sid in RESERVED_IDS:
        raise ck.fail("id", f"'{sid}' is reserved for the shared texts")
    language = ck.choice(data, "language", LANGUAGES)
    title = ck.text(data, "title")
    purpose = ck.text(data, "purpose")
    duration = ck.number(data, "duration_min", lo=1, hi=120, unit=" of minutes")
    therapist_only = data.get("therapist_only", False)
    if not isinstance(therapist_only, bool):
        raise ck.fail("therapist_only", "must be true or false")
    meta = data.get("meta", {})
    if not isinstance(meta, dict):
        raise ck.fail("meta", "must be a table ([meta])")
    ck.unknown(meta, _META_KEYS, "meta.")
    warning = ck.text(meta, "warning", required=therapist_only, prefix="meta.")
    notes = ck.text(meta, "notes", required=False, prefix="meta.")
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise ck.fail("steps", "is missing: a script needs at least one [[steps]] table")
    seen: set[str] = set()
    steps = tuple(_parse_step(ck, raw, i, seen) for i, raw in enumerate(raw_steps))
    if steps[-1].kind != StepKind.GROUNDING:
        last = len(steps) - 1
        raise ck.fail("kind", 'of the last step must be "grounding": every exercise ends with a short grounding', (last, steps[-1].id))
    lo, hi = sum(s.min_s for s in steps) / 60, sum(s.max_s for s in steps) / 60
    assert duration is not None
    if not lo / 1.25 <= duration <= hi * 1.25:
        raise ck.fail("duration_min", f"says {duration:g} minutes, but the steps take {lo:.0f} to {hi:.0f} minutes")
    assert title and purpose
    return Script(sid, language, title, purpose, duration, therapist_only, steps, warning, notes, path, user)


def load_script_file(path: Path | str, *, user: bool = False) -> Script:
    """Read and validate one script file; raises :class:`ScriptError` naming file, line and field."""
    path = Path(path)
    data, text = _read_toml(path)
    return parse_script(path, data, text, user=user)


_COMMON_KEYS = ("language", "disclaimer", "baseline", "distress", "recovered", "stop_grounding", "therapist_notice")


def load_common_file(path: Path | str) -> CommonTexts:
    path = Path(path)
    data, text = _read_toml(path)
    ck = _Checker(path, text)
    ck.unknown(data, _COMMON_KEYS)
    language = ck.choice(data, "language", LANGUAGES)
    disclaimer = ck.text(data, "disclaimer")
    notice = ck.text(data, "therapist_notice")
    assert disclaimer and notice
    return CommonTexts(
        language=language,
        disclaimer=disclaimer,
        baseline=ck.lines(data, "baseline"),
        distress=ck.lines(data, "distress"),
        recovered=ck.lines(data, "recovered"),
        stop_grounding=ck.lines(data, "stop_grounding"),
        therapist_notice=notice,
    )


# --------------------------------------------------------------------------------------------
# Discovery
# --------------------------------------------------------------------------------------------


def builtin_scripts_dir() -> Path:
    return Path(__file__).resolve().parent / "scripts"


def user_scripts_dir() -> Path:
    return Path(platformdirs.user_config_dir("biofeedback")) / "scripts"


def default_language() -> str:
    """``nl`` when the environment's locale is Dutch, else ``en``."""
    for var in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = os.environ.get(var)
        if value:
            return "nl" if value.lower().startswith("nl") else "en"
    try:
        loc = locale.getlocale()[0] or ""
    except ValueError:
        loc = ""
    return "nl" if loc.lower().startswith("nl") else "en"


def check_language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise UserError(f"Language '{lang}' is not available; choose one of {', '.join(LANGUAGES)}.")
    return lang


def load_common(lang: str) -> CommonTexts:
    """The fixed texts for ``lang``, from the shipped ``common.<lang>.toml``."""
    check_language(lang)
    texts = load_common_file(builtin_scripts_dir() / f"common.{lang}.toml")
    if texts.language != lang:
        raise ScriptError(f"common.{lang}.toml declares language '{texts.language}'.")
    return texts


@dataclass
class Catalog:
    """All scripts found, keyed by (id, language); ``problems`` holds files that failed to load."""

    scripts: dict[tuple[str, str], Script] = field(default_factory=dict)
    problems: list[ScriptError] = field(default_factory=list)

    def for_language(self, lang: str) -> list[Script]:
        """Scripts in ``lang``: everyday ones first (the default on top), therapist-only last."""
        found = [s for (_, lg), s in self.scripts.items() if lg == lang]
        return sorted(found, key=lambda s: (s.therapist_only, s.id != DEFAULT_SCRIPT_ID, s.duration_min, s.id))


def _script_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.toml") if not p.name.startswith("common."))


def discover(user_dir: Path | None = None) -> Catalog:
    """Shipped scripts, then the user's (a user script with the same id and language replaces the shipped one)."""
    cat = Catalog()
    for folder, user in ((builtin_scripts_dir(), False), (user_dir if user_dir is not None else user_scripts_dir(), True)):
        for path in _script_files(folder):
            try:
                script = load_script_file(path, user=user)
            except ScriptError as err:
                cat.problems.append(err)
                continue
            cat.scripts[(script.id, script.language)] = script
    return cat


def list_scripts(lang: str, user_dir: Path | None = None) -> list[Script]:
    """Valid scripts in ``lang`` (therapist-only ones included, marked by their flag, listed last)."""
    check_language(lang)
    return discover(user_dir).for_language(lang)


def load_script(script_id: str, lang: str, therapist_mode: bool = False, user_dir: Path | None = None) -> Script:
    """The script ``script_id`` in ``lang``; refuses therapist-only scripts without ``therapist_mode``.

    Raises :class:`UserError` with one clear sentence when the script is missing, broken (file,
    line and field), or therapist-only.
    """
    check_language(lang)
    cat = discover(user_dir)
    script = cat.scripts.get((script_id, lang))
    # A broken user file that looks like this script must not be silently replaced by the shipped one.
    for err in cat.problems:
        if err.path is not None and err.path.name.startswith(f"{script_id}."):
            if script is None or script.source != err.path:
                raise err
    if script is None:
        other = [lg for (sid, lg) in cat.scripts if sid == script_id]
        if other:
            names = " or ".join(LANGUAGE_NAMES[lg] for lg in other)
            raise UserError(
                f"The script '{script_id}' exists in {names} but not in {LANGUAGE_NAMES[lang]}; "
                f"try --lang {other[0]}."
            )
        raise UserError(f"There is no script called '{script_id}'; 'biofeedback scripts --lang {lang}' lists them.")
    if script.therapist_only and not therapist_mode:
        raise UserError(
            f"The script '{script_id}' is meant for use with a therapist only, so it needs therapist mode "
            "(--therapist); please use it together with your therapist."
        )
    return script


__all__ = [
    "ADVANCE_MODES",
    "Catalog",
    "CommonTexts",
    "DEFAULT_SCRIPT_ID",
    "LANGUAGES",
    "NON_VISUAL_SENSES",
    "SENSES",
    "STEP_KINDS",
    "Script",
    "ScriptError",
    "Step",
    "builtin_scripts_dir",
    "check_language",
    "default_language",
    "discover",
    "list_scripts",
    "load_common",
    "load_common_file",
    "load_script",
    "load_script_file",
    "parse_script",
    "user_scripts_dir",
]
