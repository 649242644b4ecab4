"""The person's own safe place: where it is, what they hear, smell and feel there, and a word for it.

Why: in imagery work a therapist builds the safe place *with* the client rather than handing them a
stock beach: a place that is the person's own (real or imagined) carries more than any general one.
It is built from every sense, not only pictures: many people see little or nothing in their mind's
eye, yet hear the waves or feel the sun on their skin clearly, and imagery is not only images.
``biofeedback safe-place`` (the terminal guide, or the window in :mod:`sessions.gui.safe_place_dialog`)
asks for the answers; the exercises weave them into their ``[steps.own]`` lines (``{place}``,
``{sound}`` …, see ``docs/scripts.md``) and say only the senses the person chose.

Private: stored only in the local profile (:mod:`sessions.profile`, a JSON file with mode 0600) and
never published. The MQTT publisher (:mod:`sessions.mqtt`) does not read the profile; it sends a fixed
whitelist of metrics and event fields, and prompt events (the only place the woven lines appear,
in the session's own local recording) are private kinds that are never sent (``PRIVATE_KINDS`` in
:mod:`sessions.events`). The log names a field that was dropped, never what the person wrote.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sessions.errors import UserError
from sessions.exercises.model import SENSES
from sessions.profile import forget_profile, load_profile, save_profile
from sessions.safe_place_texts import WORDS, say

log = logging.getLogger(__name__)

PROFILE_KEY = "safe_place"
TEXT_FIELDS = ("place", "sight", "sound", "smell", "touch", "temperature", "anchor")
"""The free-text answers, each also a placeholder in the scripts' ``[steps.own]`` lines."""
MAX_CHARS = 80

_LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_ARTICLES = frozenset({"de", "het", "een", "mijn", "the", "a", "an", "my"})


def check_answer(field: str, text: str, lang: str = "en", flag: bool = False) -> str:
    """``text`` as stored (ends trimmed), or :class:`UserError` naming the field in ``lang``.

    One line, at most :data:`MAX_CHARS` characters, no ``{`` or ``}`` (a script fills the answer into
    a line with placeholders). Other control characters are dropped: they would only garble a terminal.
    ``flag``: the answer came from the command line, so the sentence names the option too.
    """
    if not isinstance(text, str):
        raise TypeError(f"{field} must be text, not {type(text).__name__}")
    name = f"'{say(lang, f'field_{field}')}'" + (f" (--{field})" if flag else "")
    if any(c in _LINE_BREAKS for c in text.strip()):
        raise UserError(say(lang, "one_line", field=name))
    text = _CONTROL.sub("", text).replace("\t", " ").strip()
    if "{" in text or "}" in text:
        raise UserError(say(lang, "braces", field=name))
    if len(text) > MAX_CHARS:
        raise UserError(say(lang, "too_long", field=name, n=len(text)))
    return text


def check_senses(senses: Iterable[str], lang: str = "en") -> tuple[str, ...]:
    """The senses in their usual order, each once; :class:`UserError` for an unknown one or none."""
    chosen = set()
    for sense in senses:
        if sense not in SENSES:
            raise UserError(say(lang, "bad_sense", word=sense))
        chosen.add(sense)
    if not chosen:
        raise UserError(say(lang, "no_senses"))
    return tuple(s for s in SENSES if s in chosen)


def _sense_words() -> dict[str, str]:
    """Every word a person may type for a sense, in either language, and its number (1-5)."""
    words = {str(n): s for n, s in enumerate(SENSES, 1)}
    for sense in SENSES:
        words[sense] = sense
        for texts in WORDS.values():
            words[texts[f"sense_short_{sense}"].lower()] = sense
    words.update({"see": "sight", "seeing": "sight", "pictures": "sight", "beelden": "sight", "kijken": "sight",
                  "hear": "sound", "hearing": "sound", "ruik": "smell", "smelling": "smell", "geur": "smell",
                  "feel": "touch", "skin": "touch", "huid": "touch", "voel": "touch",
                  "lichaam": "body", "lijf": "body", "inside": "body", "binnen": "body"})
    return words


def parse_senses(text: str, lang: str = "en") -> tuple[str, ...]:
    """Senses typed by a person: numbers (1-5) or words in either language, commas or spaces between."""
    words = _sense_words()
    picked = []
    for token in re.split(r"[,;\s]+", text.strip().lower()):
        if not token:
            continue
        if token not in words:
            raise UserError(say(lang, "bad_sense", word=token))
        picked.append(words[token])
    return check_senses(picked, lang)


def _lower_first(text: str, place: bool) -> str:
    """Lower-case the first letter of an answer that will stand inside a sentence, unless it looks like a name.

    Kept simple: only the first word changes, and only when it reads as an ordinary capitalised word
    (``Het strand`` becomes ``het strand``, ``IJskoud`` ``ijskoud``; ``NU`` and ``I`` stay). A place whose words all
    start with a capital (``Texel``, ``Central Park``) is taken for a name, unless it starts with an article.
    """
    first = text.split(" ", 1)[0]
    width = 2 if first.startswith("IJ") else 1  # the Dutch IJ is one letter: IJskoud, IJmuiden
    rest = first[width:]
    if not first[:1].isupper() or first == "I" or (rest and (not rest[0].islower() or rest.isupper())):
        return text
    if place and first.lower() not in _ARTICLES and all(w[:1].isupper() for w in text.split() if w[:1].isalpha()):
        return text
    return text[:width].lower() + text[width:]


_OWN_WORDS = {"mijn": "je", "m'n": "je", "my": "your", "mijzelf": "jezelf", "myself": "yourself"}
_OWN_WORD_RE = re.compile(r"(?<![\w'])(" + "|".join(re.escape(w) for w in _OWN_WORDS) + r")(?![\w'])", re.IGNORECASE)
_NO_ANSWER = {"niets", "niks", "geen", "geen idee", "weet ik niet", "weet niet", "nee", "nvt", "n.v.t.",
              "nothing", "none", "no", "no idea", "don't know", "dont know", "n/a", "-", "?"}
"""Answers that say there is nothing: a line woven from them ("Perhaps you see nothing.") would jar."""


def clean_for_sentence(field: str, text: str) -> str:
    """An answer ready to be filled into a line: whitespace collapsed, no closing period, no capital at
    the start; the person's "my garden" said back to them as "your garden" (the voice speaks to them);
    "nothing" or "don't know" count as not given."""
    text = " ".join(text.split()).rstrip(" .…")
    if text.lower().rstrip("!") in _NO_ANSWER:
        return ""
    text = _OWN_WORD_RE.sub(lambda m: _OWN_WORDS[m.group(1).lower()], text)
    return _lower_first(text, place=field == "place") if text else text


@dataclass(frozen=True)
class SafePlace:
    """A person's safe place. Text answers are ``""`` when not given; ``real`` is None when not said."""

    place: str = ""
    """Where it is: a short noun phrase ("het strand bij Zandvoort", "my grandmother's garden")."""
    real: bool | None = None
    """A real place (True) or an imagined one (False)."""
    sight: str = ""
    sound: str = ""
    smell: str = ""
    touch: str = ""
    """What the person feels on their skin."""
    temperature: str = ""
    anchor: str = ""
    """A word that takes them back there."""
    senses: tuple[str, ...] = SENSES
    """The senses that work for this person (at least one); the exercises invite only these."""

    def __post_init__(self) -> None:
        for name in TEXT_FIELDS:
            object.__setattr__(self, name, check_answer(name, getattr(self, name)))
        if self.real is not None and not isinstance(self.real, bool):
            raise TypeError(f"real must be True, False or None, not {self.real!r}")
        object.__setattr__(self, "senses", check_senses(self.senses))

    def with_answers(self, lang: str = "en", **changes: Any) -> SafePlace:
        """A copy with ``changes`` (field=value); a mistake is a :class:`UserError` in ``lang``."""
        checked: dict[str, Any] = {}
        for name, value in changes.items():
            if name in TEXT_FIELDS:
                checked[name] = check_answer(name, value, lang)
            elif name == "senses":
                checked[name] = check_senses(value, lang)
            elif name == "real":
                checked[name] = value
            else:
                raise TypeError(f"SafePlace has no field {name!r}")
        return dataclasses.replace(self, **checked)

    def placeholders(self) -> dict[str, str]:
        """The given answers by placeholder name (``place``, ``sound`` …), cleaned to sit inside a sentence."""
        out = {}
        for name in TEXT_FIELDS:
            value = clean_for_sentence(name, getattr(self, name))
            if value:
                out[name] = value
        return out

    @property
    def is_empty(self) -> bool:
        """Nothing said at all: no answer, real or imagined not said, and all senses (the default)."""
        return not any(getattr(self, n) for n in TEXT_FIELDS) and self.real is None and self.senses == SENSES

    def to_dict(self) -> dict[str, Any]:
        return {**{n: getattr(self, n) for n in ("place", "real", *TEXT_FIELDS[1:])}, "senses": list(self.senses)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SafePlace:
        """Tolerant: unknown keys are ignored; a value of the wrong type or that fails the checks counts as
        not given (and is logged by field name, never by content)."""
        if not isinstance(data, Mapping):
            log.warning("The stored safe place is not a mapping (%s); ignoring it.", type(data).__name__)
            return cls()
        kept: dict[str, Any] = {}
        for name in TEXT_FIELDS:
            value = data.get(name, "")
            if value is None or value == "":
                continue
            try:
                if not isinstance(value, str):
                    raise TypeError(type(value).__name__)
                kept[name] = check_answer(name, value)
            except (TypeError, UserError) as err:
                log.warning("Ignoring the stored safe-place answer '%s' (%s).", name,
                            f"not text: {err}" if isinstance(err, TypeError) else "it fails the checks")
        real = data.get("real")
        if isinstance(real, bool):
            kept["real"] = real
        elif real is not None:
            log.warning("Ignoring the stored safe-place field 'real' (not true, false or null).")
        kept["senses"] = _stored_senses(data.get("senses"))
        return cls(**kept)


def _stored_senses(raw: Any) -> tuple[str, ...]:
    if raw is None:
        return SENSES
    if not isinstance(raw, (list, tuple)):
        log.warning("Ignoring the stored safe-place senses (not a list); all senses are used.")
        return SENSES
    known = [s for s in raw if isinstance(s, str) and s in SENSES]
    if len(known) != len(raw):
        log.warning("Ignoring %d unknown stored safe-place sense(s).", len(raw) - len(known))
    if not known:
        log.warning("No known sense left in the stored safe place; all senses are used.")
        return SENSES
    return check_senses(known)


def load_safe_place() -> SafePlace | None:
    """The stored safe place, or None when there is none (or nothing in it)."""
    raw = load_profile().get(PROFILE_KEY)
    if raw is None:
        return None
    if not isinstance(raw, dict):
        log.warning("Ignoring the stored safe place: it is not a JSON object.")
        return None
    place = SafePlace.from_dict(raw)
    return None if place.is_empty else place


def save_safe_place(place: SafePlace) -> None:
    """Store ``place`` in the local profile (mode 0600); an empty one removes what was stored."""
    if place.is_empty:
        clear_safe_place()
        return
    save_profile({PROFILE_KEY: place.to_dict()})


def clear_safe_place() -> bool:
    """Remove the stored safe place from the profile; True when there was one."""
    had = PROFILE_KEY in load_profile()
    forget_profile(PROFILE_KEY)
    return had
