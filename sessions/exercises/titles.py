"""An exercise's title in the reader's language, for views that only have its id (trends, watch).

A Dutch reader should read "Veilige plek", not "safe-place": the shipped catalogue has the title in
each language; a person's own script has its own title (in the one language it was written in, or as
recorded with the session); anything else (e.g. another computer's own script, seen over MQTT) stays
its id. The catalogue is read once per scripts folder: the watch view asks twice a second.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from sessions.errors import UserError
from sessions.exercises.catalogue import discover, user_scripts_dir

log = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def _titles(user_folder: str) -> dict[tuple[str, str], str]:
    try:
        catalogue = discover()
    except (UserError, OSError) as err:
        log.warning("Exercise titles unavailable (%s); ids are shown instead.", err)
        return {}
    return {key: script.title for key, script in catalogue.scripts.items() if script.title}


def script_title(script_id: str | None, lang: str, recorded: str | None = None) -> str:
    """The title to show for ``script_id`` to a reader of ``lang``; ``recorded`` is the title kept with the
    session (used when the catalogue has none in ``lang``); "–" when there is no id at all."""
    if not script_id:
        return recorded or "–"
    titles = _titles(str(user_scripts_dir()))
    title = titles.get((script_id, lang))
    if title:
        return title
    if recorded:
        return recorded
    other = [t for (sid, _), t in sorted(titles.items()) if sid == script_id]
    return other[0] if other else script_id
