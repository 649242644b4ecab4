"""Where scripts are found (shipped, the user's own, a client's personal ones), the person's language,
and loading by id.

A user script with the same id and language replaces the shipped one, except that a shipped
therapist-only script is never replaced by a user copy that is not itself therapist-only. A
client's personal scripts (``<client folder>/scripts/``, written with ``biofeedback scripts new``)
come last; they never take a shipped script's id, and alone they run only as the therapist allowed
(:func:`sessions.therapist.home_use`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


from sessions.errors import UserError
from sessions import settings

from sessions.exercises.model import (
    ADVANCE_MODES,
    CommonTexts,
    DEFAULT_SCRIPT_ID,
    LANGUAGES,
    LANGUAGE_NAMES,
    NON_VISUAL_SENSES,
    SENSES,
    STEP_KINDS,
    Script,
    ScriptError,
    Step,
)
from sessions.exercises.validator import load_common_file, load_script_file, parse_script


def builtin_scripts_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "scripts"


def user_scripts_dir() -> Path:
    """The user's own scripts (:attr:`sessions.settings.Settings.scripts_dir`)."""
    return settings.current().scripts_dir


def personal_scripts_dir() -> Path | None:
    """The active client's personal scripts, or None for the person alone (theirs are in the user scripts)."""
    current = settings.current()
    return current.data_dir / "scripts" if current.client is not None else None


def default_language() -> str:
    """``nl`` when the environment's locale is Dutch, else ``en`` (read once, see :mod:`sessions.settings`)."""
    return settings.current().language


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


class OverrideRefused(ScriptError):
    """A user copy that would turn a shipped therapist-only script into an everyday one: not used.

    Listed with the other problems (``biofeedback scripts`` shows it), but it does not make the
    shipped script unusable: :func:`load_script` goes on with the shipped one.
    """


def _would_open_the_gate(shipped: Script, copy: Script) -> bool:
    return not shipped.user and shipped.therapist_only and not copy.therapist_only


def _refuse_override(path: Path, script: Script, shipped: Script) -> OverrideRefused:
    from sessions.exercises.toml_lines import _key_lines, _locate

    try:
        line = _locate(_key_lines(path.read_text(encoding="utf-8")), "therapist_only")
    except (OSError, UnicodeDecodeError):
        line = 1
    return OverrideRefused(
        f"{path}, line {line}: field 'therapist_only' must be true in a copy of '{script.id}', which is meant for "
        f"use with a therapist only; this copy is not used and the shipped '{shipped.title}' stays.",
        path,
        line,
        "therapist_only",
    )


def _refuse_personal(path: Path, script: Script) -> OverrideRefused:
    from sessions.exercises.toml_lines import _key_lines, _locate

    try:
        line = _locate(_key_lines(path.read_text(encoding="utf-8")), "id")
    except (OSError, UnicodeDecodeError):
        line = 1
    return OverrideRefused(f"{path}, line {line}: field 'id' is '{script.id}', the id of a shipped exercise; a personal "
                       "script needs an id of its own (such as my-safe-place), so it is not used.", path, line, "id")


def discover(user_dir: Path | None = None) -> Catalog:
    """Shipped scripts, then the user's (a user script with the same id and language replaces the shipped one),
    then the active client's personal ones.

    Except: a shipped therapist-only script is never replaced by a user copy that is not itself
    therapist-only (else copying a file would open the therapist gate); such a copy is refused. A personal
    script never takes a shipped script's id.
    """
    cat = Catalog()
    folders = [(builtin_scripts_dir(), False), (user_dir if user_dir is not None else user_scripts_dir(), True)]
    personal = personal_scripts_dir()
    if personal is not None:
        folders.append((personal, True))
    shipped_ids: set[str] = set()
    for folder, user in folders:
        for path in _script_files(folder):
            try:
                script = load_script_file(path, user=user)
            except ScriptError as err:
                cat.problems.append(err)
                continue
            if not user:
                shipped_ids.add(script.id)
            if script.personal is not None and script.id in shipped_ids:
                cat.problems.append(_refuse_personal(path, script))
                continue
            shipped = cat.scripts.get((script.id, script.language))
            if user and shipped is not None and _would_open_the_gate(shipped, script):
                cat.problems.append(_refuse_override(path, script, shipped))
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
        if isinstance(err, OverrideRefused):
            continue  # the shipped therapist-only script stays, and is refused below without therapist mode
        if err.path is not None and err.path.name.startswith(f"{script_id}."):
            if script is None or script.source != err.path:
                raise err
    if script is None:
        other = [lg for (sid, lg) in cat.scripts if sid == script_id]
        if other:
            names = " or ".join(LANGUAGE_NAMES[lg] for lg in other)
            raise UserError(
                f"The script '{script_id}' exists in {names} but not in {LANGUAGE_NAMES[lang]}; try --lang {other[0]}."
            )
        raise UserError(f"There is no script called '{script_id}'; 'biofeedback scripts --lang {lang}' lists them.")
    if script.personal is not None and not therapist_mode:
        from sessions.therapist import home_use  # the gate module imports this package's model

        return home_use(script)
    if script.therapist_only and not therapist_mode:
        raise UserError(
            f"The script '{script_id}' is meant to be done together with a therapist only, so it does not start "
            "on its own here; please use it together with your therapist."
        )
    return script


__all__ = [
    "ADVANCE_MODES",
    "Catalog",
    "OverrideRefused",
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
    "personal_scripts_dir",
    "user_scripts_dir",
]
