"""The LSL outlets of one session: beats, 1-Hz metrics, ECG, chest acceleration and event markers.

Why these shapes: a lab aligns our streams with others by time stamp, so every sample carries the
moment it happened on LSL's clock (a beat its R peak, an ECG chunk its last sample, a marker its
event), not the moment it was pushed. The session's clock and LSL's are both the monotonic clock,
so one offset taken when the session starts maps one onto the other without drift; with ``--speed
N`` the session runs N times faster than the lab's clock and its time stamps do too.

Each stream's ``source_id`` is ``<name>-<session>-<stream>``: random per session (it says nothing
about the person) and stable for the whole session, so a recorder that loses a stream picks it up
again. The markers carry only what may leave the machine (:mod:`sessions.events`' published
fields, the shipped scripts' step and line ids), never a prompt's text or a user's own step names.
Outlets are fed from the runner's loop; pushing never blocks, and a failing push is logged and
dropped, never the session.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import secrets
from importlib import metadata
from pathlib import Path
from typing import Any

from biofeedback.artefacts import BeatLabel, LabelledBeat
from devices.stream import AccChunk, EcgChunk, StreamItem
from sessions import extras
from sessions import metric_registry as registry
from sessions.errors import UserError
from sessions.events import EventKind
from sessions.mqtt import schema

log = logging.getLogger(__name__)

LABEL_CODES = {label: code for code, label in enumerate(BeatLabel)}
"""The beats stream's ``label`` channel: 0 normal, 1 ectopic, 2 missed, 3 extra, 4 long, 5 short, 6 gap."""
METRICS_HZ = 1.0
LINGER_S = 0.3
"""At the end: a moment for connected inlets to take the last samples before the outlets close."""
QUIET_CONFIG = "[log]\nlevel = -2\n[multicast]\nResolveScope = machine\n"
"""Without a lab's own configuration: liblsl's log errors only (its INFO lines on stderr would run through
the terminal view), and the streams are announced to this computer only. LSL has no authentication, so
health data goes further only where a lab's own lsl_api.cfg says so (a recorder on another computer)."""
CONFIG_PLACES = (Path("lsl_api.cfg"), Path.home() / "lsl_api" / "lsl_api.cfg", Path("/etc/lsl_api/lsl_api.cfg"))
"""Where liblsl looks for a lab's own configuration; when one is there (or LSLAPICFG), it is left alone."""

TEXTS = {
    "en": "LSL: publishing {streams} as '{name}' (session {sid}); ECG and chest movement follow when the strap sends them.",
    "nl": "LSL: {streams} worden gepubliceerd als '{name}' (sessie {sid}); ECG en borstbeweging volgen als de band "
          "ze stuurt.",
}
STREAM_WORDS = {"en": "beats, metrics and events", "nl": "slagen, meetwaarden en gebeurtenissen"}


def load_pylsl() -> Any:
    """pylsl, or one sentence with the exact command that installs it."""
    try:
        import pylsl
    except ImportError:
        extras.require("lsl", "--lsl", ("pylsl",))
        raise  # require raised already; kept for the type checker
    except (RuntimeError, OSError) as exc:  # the wheel's liblsl did not load on this system
        raise UserError(f"--lsl: pylsl is installed but its liblsl library does not load ({exc}); reinstall it with: "
                        f"{extras.install_command('lsl')}") from exc
    _quiet(pylsl)
    return pylsl


def _quiet(pylsl: Any) -> None:
    if os.environ.get("LSLAPICFG") or any(p.is_file() for p in CONFIG_PLACES):
        return
    try:
        pylsl.set_config_content(QUIET_CONFIG)
    except Exception:  # noqa: BLE001 - too late once liblsl has started: its log stays as it is
        log.debug("liblsl's configuration was already loaded; its log level stays.")


def app_version() -> str:
    try:
        return metadata.version(extras.DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown"


def _nan(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return math.nan
    return float(value)


class LslPublisher:
    """Async context manager: the outlets live from the session's start to its end."""

    def __init__(self, runner: Any, lsl: Any, *, name: str = "biofeedback", lang: str = "en", console: Any = None,
                 session_id: str | None = None) -> None:
        self.runner = runner
        self.lsl = lsl
        self.name = name
        self.lang = lang if lang in TEXTS else "en"
        self.console = console
        self.sid = session_id or secrets.token_hex(4)
        self.keys = [m.key for m in registry.METRICS]
        self.origin = 0.0
        self.device: dict[str, str] = {}
        """The strap's manufacturer and model as its link event told them (for the ECG and ACC streams)."""
        self.outlets: dict[str, Any] = {}
        self.pushed: dict[str, int] = {}
        self._next_metrics = 0.0
        self._unsubscribe: list[Any] = []

    # --- stream descriptions -------------------------------------------------------------------------------
    def source_id(self, stream: str) -> str:
        return f"{self.name}-{self.sid}-{stream}"

    def _info(self, stream: str, kind: str, channels: list[tuple[str, str, str]], rate: float, fmt: Any,
              device: bool = False) -> Any:
        info = self.lsl.StreamInfo(f"{self.name}-{stream}", kind, len(channels), rate, fmt, self.source_id(stream))
        desc = info.desc()
        acq = desc.append_child("acquisition")
        acq.append_child_value("software", extras.DISTRIBUTION)
        acq.append_child_value("version", app_version())
        acq.append_child_value("session", self.sid)
        source = self.runner.state.source_kind
        acq.append_child_value("source", source)
        if device:  # ECG and ACC come only from Polar's PMD service: a real, simulated or replayed H10
            maker, model = {"simulated": ("simulated", "simulated H10"),
                            "replay": ("replayed recording", "H10 (replayed)")}.get(source, ("Polar", "H10"))
            acq.append_child_value("manufacturer", self.device.get("manufacturer") or maker)
            acq.append_child_value("model", self.device.get("model") or model)
        chans = desc.append_child("channels")
        for label, unit, ctype in channels:
            ch = chans.append_child("channel")
            ch.append_child_value("label", label)
            ch.append_child_value("unit", unit)
            ch.append_child_value("type", ctype)
        return info

    def _open(self, stream: str, info: Any) -> Any:
        outlet = self.lsl.StreamOutlet(info)
        self.outlets[stream] = outlet
        self.pushed[stream] = 0
        return outlet

    def _open_fixed(self) -> None:
        lsl = self.lsl
        beats = self._info("RR", "RR", [("RR", "ms", "RR"), ("label", "code", "BeatLabel"), ("NN", "bool", "NN")],
                           lsl.IRREGULAR_RATE, lsl.cf_double64)
        labels = beats.desc().append_child("labels")
        for label, code in LABEL_CODES.items():
            labels.append_child_value(label.value, str(code))
        self._open("RR", beats)
        specs = {m.key: m for m in registry.METRICS}
        self._open("metrics", self._info("metrics", "HRV", [(k, specs[k].unit or "none", k) for k in self.keys],
                                         METRICS_HZ, lsl.cf_double64))
        markers = self._info("markers", "Markers", [("event", "json", "Marker")], lsl.IRREGULAR_RATE, lsl.cf_string)
        markers.desc().append_child_value("format", 'one JSON object per event: {"kind": ..., "t": session s, ...}')
        self._open("markers", markers)

    def _open_signal(self, stream: str, fs: float) -> Any:
        fs = float(round(fs)) if fs >= 1 else fs  # the nominal rate (130, 50 Hz); chunk time stamps carry the true one
        if stream == "ECG":
            info = self._info("ECG", "ECG", [("ECG", "microvolts", "ECG")], fs, self.lsl.cf_float32, device=True)
        else:
            info = self._info("ACC", "Accelerometer", [(f"ACC_{a}", "mG", "Acceleration") for a in "XYZ"], fs,
                              self.lsl.cf_float32, device=True)
        return self._open(stream, info)

    # --- the context --------------------------------------------------------------------------------------
    async def __aenter__(self) -> "LslPublisher":
        self.origin = self.lsl.local_clock() - self.runner.now()
        self._open_fixed()
        self._unsubscribe = [self.runner.subscribe(self.on_event), self.runner.subscribe_signals(self.on_signal)]
        self.runner.set_addon_status("lsl", "publishing")
        log.info("LSL outlets open: %s", ", ".join(self.source_id(s) for s in self.outlets))
        if self.console is not None:
            self.console.print(TEXTS[self.lang].format(streams=STREAM_WORDS[self.lang], name=self.name, sid=self.sid),
                               style="dim", highlight=False)
        return self

    async def __aexit__(self, *exc: Any) -> None:
        for undo in self._unsubscribe:
            undo()
        self._unsubscribe = []
        if any(o.have_consumers() for o in self.outlets.values()):
            await asyncio.sleep(LINGER_S)
        self.outlets.clear()  # liblsl closes an outlet when its last reference goes
        self.runner.set_addon_status("lsl", None)

    # --- fed by the runner ----------------------------------------------------------------------------------
    def _push(self, stream: str, sample: list[Any], t: float) -> None:
        self.outlets[stream].push_sample(sample, self.origin + t)
        self.pushed[stream] += 1

    def on_signal(self, x: StreamItem | LabelledBeat) -> None:
        if isinstance(x, LabelledBeat):
            self._push("RR", [x.rr_ms, float(LABEL_CODES[x.label]), 1.0 if x.is_nn else 0.0], x.t)
            return
        if isinstance(x, EcgChunk) and x.samples_uv:
            outlet = self.outlets.get("ECG") or self._open_signal("ECG", x.fs)
            outlet.push_chunk(x.samples_uv, self.origin + x.t)  # one channel: the samples as they are
            self.pushed["ECG"] += len(x.samples_uv)
        elif isinstance(x, AccChunk) and x.samples_mg:
            outlet = self.outlets.get("ACC") or self._open_signal("ACC", x.fs)
            outlet.push_chunk([a for s in x.samples_mg for a in s], self.origin + x.t)  # multiplexed X, Y, Z
            self.pushed["ACC"] += len(x.samples_mg)
        self._metrics_due(x.t)

    def _metrics_due(self, t: float) -> None:
        """One row per whole second of session time, stamped on that second; after a gap, no invented rows."""
        if t < self._next_metrics:
            return
        k = math.floor(t * METRICS_HZ) / METRICS_HZ
        values = self.runner.state.values
        self._push("metrics", [_nan(values.get(key)) for key in self.keys], k)
        self._next_metrics = k + 1.0 / METRICS_HZ

    def on_event(self, kind: EventKind, t: float, data: dict[str, Any]) -> None:
        if kind is EventKind.LINK:
            self.device.update({k: str(data[k]) for k in ("manufacturer", "model") if data.get(k)})
        payload = self.marker(kind, t, data)
        if payload is not None:
            self._push("markers", [json.dumps(payload, separators=(",", ":"), allow_nan=False)], t)

    def marker(self, kind: EventKind, t: float, data: dict[str, Any]) -> dict[str, Any] | None:
        """What may leave the machine of one event (None: nothing, e.g. the 5-s metrics row)."""
        user = bool(getattr(self.runner.script, "user", False))
        if kind is EventKind.PROMPT:
            # When a line was said, by its stable id (a shipped script's); never its text.
            said: dict[str, Any] = {"kind": kind.value, "t": round(t, 3), "line": data.get("line")}
            if not user:
                said.update(step=data.get("step"), id=data.get("id"))
            return said
        if kind is EventKind.BREATH:
            return {"kind": kind.value, "t": round(t, 3), **{k: data.get(k) for k in ("duration_s", "rate", "inhale_s")}}
        payload = schema.event_payload(kind, t, data, 0.0)
        if payload is None:
            return None
        payload.pop("ts", None)
        payload["t"] = round(t, 3)
        if user:
            index = self.runner.state.step_index
            alias = schema.script_alias(getattr(self.runner.script, "id", None), self.sid)
            payload = schema.without_user_ids(payload, alias, index + 1 if isinstance(index, int) else None)
        return payload
