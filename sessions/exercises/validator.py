"""The script validator: every problem named by file, line and field, in one sentence.

Unknown keys are errors too: a typo such as ``max_sec`` would otherwise silently fall back to a default.
"""

from __future__ import annotations

import math
import os
import re
import stat
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any


from biofeedback.pacer import MAX_RATE, MIN_RATE, PacerMode, PacerSetting, parse_ratio
from biofeedback.step_pacer import AdvanceMode
from sessions.events import StepKind

from sessions.exercises.model import (
    ADVANCE_MODES,
    CommonTexts,
    HomeVersion,
    IMAGERY_SENSES,
    LANGUAGES,
    PERSONAL_KINDS,
    PLACEHOLDERS,
    RESERVED_IDS,
    SENSES,
    SENSES_PER_STEP,
    STEP_KINDS,
    Script,
    ScriptError,
    Step,
)
from sessions.exercises.model import _ID_RE, placeholders_in
from biofeedback.prompt_timing import AFTER_INVITATION, AFTER_LINE, DEFAULT_MAX_QUIET_S, estimate_speech_s
from sessions.exercises.toml_lines import _key_lines, _locate


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
            rng = (
                f"between {lo:g} and {hi:g}"
                if lo is not None and hi is not None
                else f"at least {lo:g}"
                if lo is not None
                else f"at most {hi:g}"
            )
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


MAX_SCRIPT_BYTES = 1024 * 1024
"""A script is a few kilobytes; a megabyte is far beyond any real one and still reads at once."""


def _read_regular_file(path: Path) -> bytes:
    """The bytes of a regular file of at most :data:`MAX_SCRIPT_BYTES`.

    Opened non-blocking and checked before reading: a FIFO or device named ``*.toml`` would
    otherwise block ``scripts`` and ``run`` forever.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as err:
        raise ScriptError(f"Cannot read {path}: {err.strerror or err}.", path) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ScriptError(f"{path} is not a regular file; a script must be a plain text file.", path)
        if info.st_size > MAX_SCRIPT_BYTES:
            raise ScriptError(
                f"{path} is {info.st_size} bytes, more than a script can be ({MAX_SCRIPT_BYTES}); check the file.", path
            )
        with os.fdopen(os.dup(fd), "rb") as fh:
            return fh.read(MAX_SCRIPT_BYTES + 1)[:MAX_SCRIPT_BYTES]
    except OSError as err:
        raise ScriptError(f"Cannot read {path}: {err.strerror or err}.", path) from None
    finally:
        os.close(fd)


def _read_toml(path: Path) -> tuple[dict[str, Any], str]:
    raw = _read_regular_file(path)
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark, as some editors write, is fine
    except UnicodeDecodeError:
        raise ScriptError(f"{path} is not UTF-8 text; save it as UTF-8.", path) from None
    try:
        return tomllib.loads(text), text
    except RecursionError:
        raise ScriptError(f"{path}: tables or lists are nested too deeply; a script needs only a few levels.",
                          path) from None
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
        raise ScriptError(
            f"{path}, line {line}: this is not valid TOML ({reason} at the end of the file).", path, line
        ) from None


_TOP_KEYS = ("id", "language", "title", "purpose", "duration_min", "therapist_only", "quiet_start", "bedtime",
             "max_quiet_s", "meta", "steps")
_META_KEYS = ("warning", "notes", "author", "personal", "home_version", "home_warning", "home_closing", "home_help")
_HOME_KEYS = ("home_warning", "home_closing", "home_help")
_STEP_KEYS = (
    "id",
    "title",
    "kind",
    "min_s",
    "max_s",
    "typical_s",
    "advance",
    "calm_above",
    "pacer",
    "text",
    "then",
    "senses",
    "hold",
    "own",
)
_OWN_KEYS = ("text", *SENSES)
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
        modes: dict[str, PacerMode] = {"follow": "follow", "resonance": "resonance", "off": "off"}
        if rate not in modes:
            raise ck.fail(
                "pacer.rate",
                f'must be "follow", "resonance", "off" or a number of breaths per minute, not {rate!r}',
                step,
            )
        return PacerSetting(modes[rate], None, frac)
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not MIN_RATE <= rate <= MAX_RATE:
        raise ck.fail(
            "pacer.rate", f"must lie between {MIN_RATE:g} and {MAX_RATE:g} breaths per minute, not {rate!r}", step
        )
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
    hold = ck.lines(raw, "hold", required=False, step=where)
    senses_raw = raw.get("senses", {})
    if not isinstance(senses_raw, dict):
        raise ck.fail("senses", f"must be a table ([steps.senses]) with {', '.join(SENSES)}", where)
    ck.unknown(senses_raw, SENSES, "senses.", where)
    senses = {
        s: ck.text(senses_raw, s, required=False, prefix="senses.", step=where) for s in SENSES if s in senses_raw
    }
    if kind == "imagery":
        missing = [s for s in IMAGERY_SENSES if s not in senses]
        if missing:
            raise ck.fail(
                "senses",
                f"of an imagery step must include {', '.join(IMAGERY_SENSES)} (missing: {', '.join(missing)}), "
                "so that people who do not think in pictures are served too",
                where,
            )
    for s_name, line in senses.items():
        if line is not None and placeholders_in(line):
            raise ck.fail(f"senses.{s_name}", "has a {placeholder}; those belong in [steps.own]", where)
    own_text, own = _parse_own(ck, raw.get("own"), senses, where)
    step = Step(
        id=sid,
        kind=StepKind(kind),
        min_s=min_s,
        max_s=max_s,
        typical_s=typical,
        advance=AdvanceMode(advance),
        calm_above=calm_above,
        pacer=pacer,
        text=text,
        senses={k: v for k, v in senses.items() if v is not None},
        then=then,
        title=title,
        own_text=own_text,
        own=own,
        hold=hold,
    )
    needed = _least_time(step)
    if needed > max_s:
        raise ck.fail(
            "max_s",
            f"is {max_s:g} s, but saying this step's text with the least quiet after each line takes about "
            f"{needed:.0f} s; shorten the text or raise max_s",
            where,
        )
    return step


def _least_time(step: Step) -> float:
    """The longest a step's lines can take at the least quiet: its lead (the longer of its general and
    woven lead), the two longest sense invitations, and its closing lines."""
    def line_s(text: str, rule) -> float:
        return estimate_speech_s(text) + rule.min_s

    lead = max(sum(line_s(t, AFTER_LINE) for t in step.text), sum(line_s(t, AFTER_LINE) for t in step.own_text))
    invitations = sorted((line_s(t, AFTER_INVITATION) for t in (*step.senses.values(), *step.own.values())),
                         reverse=True)
    return lead + sum(invitations[:SENSES_PER_STEP]) + sum(line_s(t, AFTER_LINE) for t in step.then)


def _parse_own(ck: _Checker, raw: Any, senses: Mapping[str, str | None], where) -> tuple[tuple[str, ...], dict[str, str]]:
    """``[steps.own]``: lines woven from the person's safe place; only known placeholders, and a woven
    sense only where the step offers the general one (said when an answer is missing)."""
    if raw is None:
        return (), {}
    if not isinstance(raw, dict):
        raise ck.fail("own", "must be a table ([steps.own]) with text and senses", where)
    ck.unknown(raw, _OWN_KEYS, "own.", where)
    own_text = ck.lines(raw, "text", required=False, step=where) if "text" in raw else ()
    own = {s: ck.text(raw, s, prefix="own.", step=where) for s in SENSES if s in raw}
    for key, lines in (("text", own_text), *((s, (line,)) for s, line in own.items())):
        for line in lines:
            assert line is not None
            unknown = [n for n in placeholders_in(line) if n not in PLACEHOLDERS]
            if unknown or "{" in _strip_placeholders(line) or "}" in _strip_placeholders(line):
                names = ", ".join("{" + n + "}" for n in PLACEHOLDERS)
                raise ck.fail(f"own.{key}", f"uses an unknown placeholder (known: {names})", where)
        if key != "text" and key not in senses:
            raise ck.fail(f"own.{key}", f"needs the general line senses.{key} too (said when an answer is missing)",
                          where)
    return own_text, {k: v for k, v in own.items() if v is not None}


def _strip_placeholders(line: str) -> str:
    for name in PLACEHOLDERS:
        line = line.replace("{" + name + "}", "")
    return line


FILL_IN = re.compile(r"<<[^\n]*?>>")
"""A part of a template still to be filled in (``biofeedback scripts new``): never said aloud."""


def _unfilled(ck: _Checker, text: str) -> None:
    """The first ``<<...>>`` left in a script's values, named by line and field (comments may mention them)."""
    for n, raw in enumerate(text.splitlines(), 1):
        if raw.lstrip().startswith("#") or not (m := FILL_IN.search(raw)):
            continue
        field = max((k for k, line in ck.positions.items() if line <= n), key=lambda k: ck.positions[k], default="")
        step = re.match(r"steps\[(\d+)\]\.?(.*)", field)
        where = f"step {int(step.group(1)) + 1}, field '{step.group(2) or 'text'}'" if step else f"field '{field}'"
        part = m.group(0) if len(m.group(0)) <= 64 else m.group(0)[:60].rsplit(" ", 1)[0] + " …>>"
        raise ScriptError(f"{ck.path}, line {n}: {where} still has a part to fill in ({part}); fill it in, in the "
                          "client's own words where it is said aloud.", ck.path, n, field)


def parse_script(path: Path, data: Mapping[str, Any], text: str, *, user: bool = False) -> Script:
    """Validate an already-parsed script; ``text`` is the file's text (for line numbers)."""
    ck = _Checker(path, text)
    _unfilled(ck, text)
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
    if not isinstance(data.get("quiet_start", True), bool):
        raise ck.fail("quiet_start", "must be true or false")
    bedtime = data.get("bedtime", False)
    if not isinstance(bedtime, bool):
        raise ck.fail("bedtime", "must be true or false")
    max_quiet = ck.number(data, "max_quiet_s", required=False, lo=20, hi=600, unit=" of seconds")
    meta = data.get("meta", {})
    if not isinstance(meta, dict):
        raise ck.fail("meta", "must be a table ([meta])")
    ck.unknown(meta, _META_KEYS, "meta.")
    warning = ck.text(meta, "warning", required=therapist_only, prefix="meta.")
    notes = ck.text(meta, "notes", required=False, prefix="meta.")
    home = _parse_home(ck, meta, therapist_only)
    personal = _parse_personal(ck, meta, therapist_only)
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise ck.fail("steps", "is missing: a script needs at least one [[steps]] table")
    seen: set[str] = set()
    steps = tuple(_parse_step(ck, raw, i, seen) for i, raw in enumerate(raw_steps))
    last = len(steps) - 1
    for i, step in enumerate(steps[:-1]):
        if step.kind == StepKind.SLEEP:
            raise ck.fail("kind", '"sleep" is only for the last step of a bedtime script', (i, step.id))
    if bedtime and steps[-1].kind != StepKind.SLEEP:
        raise ck.fail(
            "kind",
            'of the last step of a bedtime script must be "sleep": an evening ritual ends with a bridge to sleep, '
            'not with "come back into the room"',
            (last, steps[-1].id),
        )
    if not bedtime and steps[-1].kind != StepKind.GROUNDING:
        hint = ' ("sleep" only with bedtime = true)' if steps[-1].kind == StepKind.SLEEP else ""
        raise ck.fail(
            "kind",
            f'of the last step must be "grounding": every exercise ends with a short grounding{hint}',
            (last, steps[-1].id),
        )
    lo, hi = sum(s.min_s for s in steps) / 60, sum(s.max_s for s in steps) / 60
    assert duration is not None
    if not lo / 1.25 <= duration <= hi * 1.25:
        raise ck.fail("duration_min", f"says {duration:g} minutes, but the steps take {lo:.0f} to {hi:.0f} minutes")
    assert title and purpose
    return Script(sid, language, title, purpose, duration, therapist_only, steps, warning, notes, path, user, home=home,
                  quiet_start=bool(data.get("quiet_start", True)), bedtime=bedtime,
                  max_quiet_s=max_quiet if max_quiet is not None else DEFAULT_MAX_QUIET_S, personal=personal)


def _parse_personal(ck: _Checker, meta: Mapping[str, Any], therapist_only: bool) -> str | None:
    """``[meta] personal``: what kind of personal script this is; a rehearsal is therapist-only by construction."""
    if "personal" not in meta:
        return None
    kind = ck.choice(meta, "personal", PERSONAL_KINDS, prefix="meta.")
    if kind == "rehearsal" and not therapist_only:
        raise ck.fail("therapist_only", "must be true in a personal rehearsal script (meta.personal = \"rehearsal\"): "
                      "a rewritten nightmare is rehearsed with the therapist, or at home only as they allowed it")
    return kind


def _parse_home(ck: _Checker, meta: Mapping[str, Any], therapist_only: bool) -> HomeVersion | None:
    """``[meta] home_version = true`` with its own warning, closing and help line, or nothing at all."""
    declared = meta.get("home_version", False)
    if not isinstance(declared, bool):
        raise ck.fail("meta.home_version", "must be true or false")
    if not declared:
        for key in _HOME_KEYS:
            if key in meta:
                raise ck.fail(f"meta.{key}", "only applies with home_version = true")
        return None
    if not therapist_only:
        raise ck.fail("meta.home_version", "only applies to therapist-only scripts (therapist_only = true)")
    warning, closing, help_line = (ck.text(meta, key, prefix="meta.") for key in _HOME_KEYS)
    assert warning and closing and help_line
    return HomeVersion(warning, closing, help_line)


def load_script_file(path: Path | str, *, user: bool = False) -> Script:
    """Read and validate one script file; raises :class:`ScriptError` naming file, line and field."""
    path = Path(path)
    data, text = _read_toml(path)
    try:
        return parse_script(path, data, text, user=user)
    except RecursionError:
        raise ScriptError(f"{path}: tables or lists are nested too deeply; a script needs only a few levels.",
                          path) from None


_COMMON_KEYS = (
    "language",
    "disclaimer",
    "baseline",
    "distress",
    "recovered",
    "stop_grounding",
    "therapist_notice",
    "too_much_ack",
    "care_orientation",
    "care_grounding",
    "care_settled",
    "care_closing",
    "aroused_start",
    "resume_ack",
    "first_run",
    "hold",
    "stop_bedtime",
)


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
        too_much_ack=ck.lines(data, "too_much_ack"),
        care_orientation=ck.lines(data, "care_orientation"),
        care_grounding=ck.lines(data, "care_grounding"),
        care_settled=ck.lines(data, "care_settled"),
        care_closing=ck.lines(data, "care_closing"),
        aroused_start=ck.lines(data, "aroused_start"),
        resume_ack=ck.lines(data, "resume_ack"),
        first_run=ck.lines(data, "first_run", required=False),
        hold=ck.lines(data, "hold", required=False),
        stop_bedtime=ck.lines(data, "stop_bedtime", required=False),
    )
