"""One table of the metrics a person, a therapist or a researcher sees: where each comes from and where it goes.

Why: a metric used to be named in a dozen places (the runner's row, the live state, the window's
curves, the terminal, the record's columns, the phase table, the report's panels, the MQTT payload,
the watch view, two word lists) and forgetting one failed silently. Now each is one
:class:`MetricSpec` line in :data:`METRICS`, and every one of those places loops over the specs
with the flag it needs. Adding a metric shown everywhere = the engine that computes it + one line
here (+ a test).

Where a value comes from (``source``):

* ``beat:<attr>``: an attribute of :class:`biofeedback.hrv.BeatMetrics`, after every labelled beat;
* ``spectral:<attr>``: an attribute of :class:`biofeedback.hrv.SpectralMetrics`, every 5 s;
* ``session``: set by the runner itself (calm score, pacer rate, breathing rate, heart rate now).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class MetricSpec:
    key: str
    """Column of the record's metrics rows and key of :attr:`sessions.runner.LiveState.values`."""
    wire: str
    """Short key in the MQTT metrics payload, the watch view and the window's curves."""
    source: str
    label: Mapping[str, str]
    """Short name a person reads, per language (``en``, ``nl``)."""
    unit: str = ""
    fmt: str = "{:.0f}"
    digits: int = 1
    """Decimals when published."""
    colour: str = "#7f8c8d"
    """On the report's white page."""
    gui_colour: str = "#9aa5ab"
    """On the live window's dark background."""
    live: bool = False
    """A number in the live window and the terminal view."""
    curve: bool = False
    """A curve in the live window."""
    recorded: bool = True
    """A column of the 5-s metrics rows in the record (and so of the CSV export)."""
    per_phase: bool = False
    """A column of the per-phase table (mean per step, change against the quiet start)."""
    change: bool = False
    """The per-phase table also shows its change against the quiet start."""
    report: bool = False
    """A panel of the report's and the review window's timeline."""
    published: bool = False
    """In the MQTT metrics payload (1 Hz) and the watch view."""
    min_span: float | None = None
    """The live curve's y axis spans at least this much, so beat noise does not look dramatic."""
    variability: bool = False
    """A heart rate variability figure: meaningless, and withheld, while the rhythm is too irregular (AF)."""

    def name(self, lang: str) -> str:
        return self.label.get(lang) or self.label["en"]

    def titled(self, lang: str) -> str:
        """The name with its unit, for a table header or an axis: ``heart rate (bpm)``."""
        unit = {"/min": "/min"}.get(self.unit, self.unit)
        return f"{self.name(lang)} ({unit})" if unit else self.name(lang)

    def format(self, value: float | None) -> str:
        """The value as a person reads it: '–' when unknown."""
        if value is None or not isinstance(value, (int, float)) or not math.isfinite(value):
            return "–"
        return self.fmt.format(value)

    def publish(self, value: Any) -> float | int | None:
        """The value rounded for the wire; None for anything that is not a finite number."""
        if value is None or isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return None
        return round(float(value), self.digits) if self.digits else int(round(value))


def _l(en: str, nl: str) -> Mapping[str, str]:
    return {"en": en, "nl": nl}


METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("hr_now_bpm", "hr", "session", _l("heart rate", "hartslag"), "bpm", digits=1,
               colour="#c0392b", gui_colour="#b07f7a", live=True, curve=True, published=True, min_span=16.0),
    MetricSpec("hr_bpm", "hr60", "beat:hr_bpm", _l("heart rate, 60-s mean", "hartslag, gemiddelde 60 s"), "bpm",
               colour="#c0392b", per_phase=True, change=True, report=True),
    MetricSpec("mean_nn_ms", "nn", "beat:mean_nn_ms", _l("mean NN", "gemiddeld NN"), "ms"),
    MetricSpec("rmssd_ms", "rmssd", "beat:rmssd_ms", _l("RMSSD", "RMSSD"), "ms", colour="#2471a3",
               gui_colour="#7ea288", live=True, curve=True, per_phase=True, change=True, report=True, published=True,
               variability=True, min_span=20.0),
    MetricSpec("sdnn_ms", "sdnn", "beat:sdnn_ms", _l("SDNN", "SDNN"), "ms", per_phase=True, variability=True),
    MetricSpec("pnn50_pct", "pnn50", "beat:pnn50_pct", _l("pNN50", "pNN50"), "%", "{:.1f}", variability=True),
    MetricSpec("coherence", "coh", "spectral:coherence", _l("coherence", "coherentie"), fmt="{:.2f}", digits=2,
               colour="#7d3c98", gui_colour="#7d8fb3", live=True, curve=True, per_phase=True, report=True,
               published=True, min_span=2.0),
    MetricSpec("dominant_hz", "fdom", "spectral:dominant_hz", _l("dominant frequency", "dominante frequentie"), "Hz",
               "{:.3f}", digits=3),
    MetricSpec("breathing_rate", "br", "session", _l("breathing rate", "ademtempo"), "/min", "{:.1f}",
               colour="#16a085"),
    MetricSpec("breathing_confidence", "brq", "session", _l("breathing-rate confidence", "betrouwbaarheid ademtempo"),
               fmt="{:.2f}", digits=2),
    MetricSpec("lf_ms2", "lf", "spectral:lf_ms2", _l("LF power", "LF-vermogen"), "ms²"),
    MetricSpec("hf_ms2", "hf", "spectral:hf_ms2", _l("HF power", "HF-vermogen"), "ms²"),
    MetricSpec("calm", "calm", "session", _l("calm", "kalmte"), fmt="{:.0f}", colour="#1e8449", gui_colour="#c0ae86",
               live=True, curve=True, per_phase=True, change=True, report=True, published=True),
    MetricSpec("pacer_rate", "pacer", "session", _l("pacer", "ademgids"), "/min", "{:.1f}", digits=2,
               colour="#7f8c8d", report=True, published=True),
    # Measured by a Polar H10's chest accelerometer (None with any other strap, and while the person moves).
    MetricSpec("chest_breathing_rate", "cbr", "session", _l("breathing rate, measured", "ademtempo, gemeten"), "/min",
               "{:.1f}", colour="#117a65", gui_colour="#8fb3a8", published=True),
    MetricSpec("breath_depth", "bdepth", "session", _l("breath depth, against the usual", "ademdiepte, tegen de gewone"),
               fmt="{:.2f}", digits=2),
    MetricSpec("pacer_phase_lag_s", "plag", "session", _l("lag behind the pacer", "achterstand op de ademgids"), "s",
               "{:.1f}", digits=2, published=True),
    MetricSpec("pacer_rate_match", "pmatch", "session",
               _l("measured rate against the pacer", "gemeten tempo tegen de ademgids"), "%", "{:.0f}", digits=0,
               published=True),
    # The strap's beats checked against its own ECG (counts since the start).
    MetricSpec("ecg_only_beats", "ecgonly", "session", _l("beats only in the ECG", "slagen alleen in het ECG"),
               fmt="{:.0f}", digits=0),
    MetricSpec("strap_only_beats", "straponly", "session", _l("strap beats not in the ECG", "bandslagen niet in het ECG"),
               fmt="{:.0f}", digits=0),
    MetricSpec("ecg_ectopic_beats", "ecgect", "session", _l("ectopic beats by ECG", "extra slagen volgens het ECG"),
               fmt="{:.0f}", digits=0),
)

BY_KEY: Mapping[str, MetricSpec] = {m.key: m for m in METRICS}
BY_WIRE: Mapping[str, MetricSpec] = {m.wire: m for m in METRICS}

RECORDED = tuple(m for m in METRICS if m.recorded)
LIVE = tuple(m for m in METRICS if m.live)
CURVES = tuple(m for m in METRICS if m.curve)
PER_PHASE = tuple(m for m in METRICS if m.per_phase)
REPORT = tuple(m for m in METRICS if m.report)
PUBLISHED = tuple(m for m in METRICS if m.published)
VARIABILITY = tuple(m.key for m in METRICS if m.variability)
FROM_BEAT = tuple((m.key, m.source.partition(":")[2]) for m in METRICS if m.source.startswith("beat:"))
FROM_SPECTRAL = tuple((m.key, m.source.partition(":")[2]) for m in METRICS if m.source.startswith("spectral:"))


def spec(key: str) -> MetricSpec:
    """The spec of a record column or a wire key."""
    found = BY_KEY.get(key) or BY_WIRE.get(key)
    if found is None:
        raise KeyError(f"no metric {key!r} in sessions.metric_registry.METRICS")
    return found


def values_from(obj: Any, pairs: tuple[tuple[str, str], ...]) -> dict[str, float | None]:
    """The registry's values read off an engine result (NaN and infinities become None)."""
    out: dict[str, float | None] = {}
    for key, attr in pairs:
        v = getattr(obj, attr)
        out[key] = float(v) if isinstance(v, (int, float)) and math.isfinite(v) else None
    return out
