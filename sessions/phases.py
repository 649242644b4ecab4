"""Per-phase summaries of a recorded session: how the body did during each step."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sessions import metric_registry as registry
from sessions.events import EventKind
from sessions.store import SessionReader

if TYPE_CHECKING:
    from sessions.salvage import SalvagedReader

PHASE_FIELDS = tuple(m.key for m in registry.PER_PHASE)
"""Averaged per phase: the registry's ``per_phase`` metrics."""


@dataclass
class Phase:
    name: str
    kind: str
    start: float
    end: float
    means: dict[str, float | None]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "start_s": round(self.start, 1), "end_s": round(self.end, 1),
                **{k: (None if v is None else round(v, 3)) for k, v in self.means.items()}}


def phases(reader: SessionReader | SalvagedReader) -> list[Phase]:
    """Phases from the record's ``step`` events; metrics rows averaged within each."""
    steps = reader.events(EventKind.STEP.value)
    metrics = reader.metrics()
    end_t = reader.summary().duration_s
    out: list[Phase] = []
    for i, (t, _kind, data) in enumerate(steps):
        stop = steps[i + 1][0] if i + 1 < len(steps) else end_t
        rows = [m for mt, m in metrics if t <= mt < stop]
        means: dict[str, float | None] = {}
        for key in PHASE_FIELDS:
            values = [r[key] for r in rows if isinstance(r.get(key), (int, float)) and math.isfinite(r[key])]
            means[key] = sum(values) / len(values) if values else None
        out.append(Phase(data.get("title") or data.get("step", "?"), data.get("kind", "?"), t, stop, means))
    return out
