"""The session runner: one loop from heartbeats to pacer, prompts, safety and the record.

Data flow (see DESIGN.md): source items -> record (payloads, beats) -> HRV engine (labels, per-beat
metrics, 5-s spectra) -> calm score, breathing guide and step pacer -> events -> record and views.

Time is the source's own axis (seconds since start), so a simulated or replayed session at any
speed runs exactly the same logic as a live one. ``advance(t)`` is driven by every item and by a
10 Hz ticker (so prompts and the pacer go on while a strap is reconnecting). Pause freezes the
exercise's clock (prompts, steps, pacer) while recording goes on.

Views (terminal, GUI, MQTT) read :class:`LiveState` and get every recorded event through
``listeners``; nothing in here waits on them.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from biofeedback.calm import Baseline as CalmBaseline, CalmTracker
from biofeedback.hrv import BeatMetrics, HrvConfig, HrvEngine, SpectralMetrics
from biofeedback.pacer import BodySignal, BreathPhase, ResonanceGuide, pick_resonance_rate, RateTrial
from biofeedback.step_pacing import Baseline, BaselinePhase, BodyReading, EventKind, StepEvent, StepPacer
from devices.source import HeartSource
from devices.stream import HeartSample, LinkEvent, LinkState
from sessions.exercises import SENSES, CommonTexts, Script
from sessions.i18n import tr
from sessions.store import SessionWriter

log = logging.getLogger(__name__)

TICK_S = 0.1
METRICS_EVERY_S = 5.0
BASELINE_MIN_S = 75.0
BASELINE_MAX_S = 120.0
LINK_EVENTS_RECORDED = {
    LinkState.CONNECTED, LinkState.DISCONNECTED, LinkState.RECONNECTING, LinkState.RECONNECTED,
    LinkState.CONTACT_LOST, LinkState.CONTACT_RESTORED, LinkState.GAP, LinkState.DEVICE_INFO,
    LinkState.MALFORMED, LinkState.ENDED,
}


@dataclass
class LiveState:
    """What a view shows right now. Updated in place by the runner."""

    t: float = 0.0
    phase: str = "starting"  # baseline, step, grounding, stopping, done
    step_index: int | None = None
    step_id: str | None = None
    step_kind: str | None = None
    step_started: float = 0.0
    step_max_s: float | None = None
    prompt: str = ""
    prompt_t: float = 0.0
    pacer: BreathPhase | None = None
    pacer_rate: float | None = None
    hr_bpm: float | None = None
    rmssd_ms: float | None = None
    coherence: float | None = None
    calm: float | None = None
    breathing_rate: float | None = None
    baseline_hr: float | None = None
    baseline_rmssd: float | None = None
    link: str = "connecting"
    contact: str | None = None
    battery_pct: int | None = None
    distress: bool = False
    paused: bool = False
    beats: int = 0
    artefacts: int = 0
    rr_ms: float | None = None
    """The latest RR as the strap sent it (raw, also when it is flagged)."""
    mqtt: str | None = None
    """Publishing to a follower: None (off), 'connecting', 'connected', 'retrying', 'failed'."""
    done_reason: str | None = None


@dataclass
class RunResult:
    reason: str
    duration_s: float
    beats: int
    artefacts: int
    resonance_rate: float | None = None
    calm_start: float | None = None
    calm_end: float | None = None
    pacer_history: list[tuple[float, float]] = field(default_factory=list)
    calm_history: list[tuple[float, float]] = field(default_factory=list)


Listener = Callable[[str, float, dict[str, Any]], None]


class SessionRunner:
    """Runs one exercise on one heart source, recording everything as it goes."""

    def __init__(
        self,
        source: HeartSource,
        script: Script,
        common: CommonTexts,
        writer: SessionWriter,
        *,
        senses: Sequence[str] = SENSES,
        duration_s: float | None = None,
        resonance_rate: float | None = None,
        stored_baseline: dict[str, float] | None = None,
        hrv_config: HrvConfig | None = None,
    ) -> None:
        self.source = source
        self.script = script
        self.common = common
        self.writer = writer
        self.senses = tuple(senses)
        self.duration_s = duration_s
        self.resonance_rate = resonance_rate
        self.engine = HrvEngine(hrv_config)
        stored = _calm_baseline(stored_baseline)
        self.calm: CalmTracker | None = CalmTracker(stored) if stored else None
        self._baseline_coherence: list[float] = []
        # The baseline lasts at least 75 s so that the 64-s spectrum (breathing rate from RSA, where
        # the pacer starts) is known when it ends.
        self.steps = StepPacer(script.timings(self.senses), grounding_step=script.grounding_step,
                               stop_lines=common.stop_timing(),
                               baseline_phase=BaselinePhase(min_s=BASELINE_MIN_S, max_s=BASELINE_MAX_S))
        self.guide: ResonanceGuide | None = None
        self.state = LiveState()
        self.listeners: list[Listener] = []
        self.result: RunResult | None = None
        self._t = 0.0                # source time of the last advance
        self._paused_total = 0.0     # exercise clock = source time - paused time
        self._paused_at: float | None = None
        self._spectral: SpectralMetrics | None = None
        self._beat_metrics: BeatMetrics | None = None
        self._nn_hr: deque[tuple[float, float]] = deque(maxlen=4000)
        self._assessment: list[RateTrial] = []
        self._assessment_window: tuple[float, float] | None = None
        self._assessment_coh: list[float] = []
        self._pacer_visible = False
        self._started = False
        self._stop_requested: str | None = None
        self._new_reading: BodyReading | None = None
        self._next_row = METRICS_EVERY_S
        self._pacer_history: list[tuple[float, float]] = []
        self._calm_history: list[tuple[float, float]] = []
        self.prompt_hold: Callable[[], bool] | None = None
        """Set by a speech add-on: while it returns True (a prompt is still being spoken past its
        allotted time) the step clock waits, so the next line and the step's end wait for it; the
        pacer, safety and recording go on."""
        self._held_total = 0.0
        self._held_at: float | None = None
        self._last_steps_t = 0.0

    # --- controls (keyboard, GUI, tests) -----------------------------------------------------
    def stop(self, reason: str = "user") -> None:
        """Stop: the exercise ends with a short grounding, never in silence."""
        self._handle(self.steps.stop(self._steps_t()), reason=reason)

    def too_much(self) -> None:
        """"This is too much": grounding now, and the reassurance that stopping is fine."""
        self._handle(self.steps.ground_now(self._steps_t()))

    def next_step(self) -> None:
        self._handle(self.steps.skip(self._steps_t()))

    def toggle_pause(self) -> None:
        if self._paused_at is None:
            self._paused_at = self._t
            self.state.paused = True
            self._record("pause", self._t, {})
        else:
            self._paused_total += self._t - self._paused_at
            self._paused_at = None
            self.state.paused = False
            self._record("resume", self._t, {})

    # --- main loop ---------------------------------------------------------------------------
    async def run(self) -> RunResult:
        ticker = asyncio.create_task(self._ticker())
        try:
            self._start()
            async for item in self.source:
                self._on_item(item)
                self.advance(item.t)
                if self.steps.done:
                    break
            else:
                # The source ran out (a replay ended): finish the exercise's closing lines on the clock.
                if not self.steps.done:
                    if self.state.phase not in ("stopping",):
                        self._handle(self.steps.stop(self._steps_t()), reason="source ended")
                    t = limit = self._t
                    limit += 600.0  # the closing lines take well under a minute
                    while not self.steps.done and t < limit:
                        t += 1.0
                        self.advance(t)
        finally:
            ticker.cancel()
            await self.source.aclose()
        return self._finish()

    def _start(self) -> None:
        self._started = True
        self._record("session_start", 0.0, {"script": self.script.id, "language": self.script.language,
                                            "source": self.source.describe()})
        self._handle(self.steps.start(0.0))

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            self.advance(max(self._t, self.source.now()))
            if self.steps.done:
                return

    def _logic_t(self) -> float:
        paused_now = (self._t - self._paused_at) if self._paused_at is not None else 0.0
        return self._t - self._paused_total - paused_now

    def exercise_time(self, source_t: float) -> float:
        """The exercise clock (the pacer's time axis) at source time ``source_t`` (for look-ahead)."""
        return source_t - (self._t - self._logic_t())

    def _steps_t(self) -> float:
        """The step clock: the exercise clock minus the time prompts held it (see ``prompt_hold``).

        Kept monotone by hand: the subtraction can round a held clock one ulp backwards."""
        lt = self._logic_t()
        t = lt - self._held_total - ((lt - self._held_at) if self._held_at is not None else 0.0)
        self._last_steps_t = max(self._last_steps_t, t)
        return self._last_steps_t

    def _update_hold(self, lt: float) -> None:
        try:
            busy = self.prompt_hold is not None and bool(self.prompt_hold())
        except Exception:  # noqa: BLE001 - a speech add-on must never stall or break the session
            log.exception("prompt_hold failed; the steps go on.")
            busy = False
        if busy and self._held_at is None:
            self._held_at = lt
        elif not busy and self._held_at is not None:
            self._held_total += lt - self._held_at
            self._held_at = None

    def advance(self, t: float) -> None:
        """Bring the exercise up to source time ``t`` (idempotent; time never goes back)."""
        if t < self._t or not self._started:
            return
        self._t = t
        self.state.t = t
        if self.duration_s is not None and t >= self.duration_s and self._stop_requested is None:
            self._stop_requested = "duration"
            self.stop(reason="duration reached")
        if self._paused_at is not None:
            return
        lt = self._logic_t()
        reading, self._new_reading = self._new_reading, None
        self._update_hold(lt)
        self._handle(self.steps.update(self._steps_t(), reading))
        if self.guide is not None:
            tick, decisions = self.guide.advance(lt)
            self.state.pacer = tick.phase if self._pacer_visible else None
            for d in decisions:
                self._record("pacer_decision", t, {"action": d.action, "from": d.old_rate, "to": d.new_rate, "reason": d.reason})
            for change in tick.changes:
                self._pacer_history.append((t, change.new_rate))
                self._record("pacer_rate", t, {"rate": change.new_rate, "from": change.old_rate,
                                               "inhale_fraction": round(change.inhale_fraction, 3)})
            rate = self.guide.rate if self._pacer_visible else None
            if rate != self.state.pacer_rate:
                self.state.pacer_rate = rate
                self.source.set_pacer_rate(rate)

    # --- heart data --------------------------------------------------------------------------
    def _on_item(self, item: HeartSample | LinkEvent) -> None:
        if isinstance(item, LinkEvent):
            self._on_link(item)
            return
        self.writer.payload(item.t, item.payload)
        self.state.contact = item.contact.value
        for rr, bt in zip(item.rr_ticks, item.beat_t):
            after_gap = item.after_gap and bt == item.beat_t[0]
            self.writer.beat(bt, rr, after_gap)
            for beat in self.engine.add_beat(bt, rr, after_gap):
                self._on_labelled(beat)
        spectral = self.engine.spectral_due(item.t)
        if spectral is not None:
            self._on_spectral(spectral)
        if item.t >= self._next_row:
            self._write_metrics(item.t)
            while self._next_row <= item.t:
                self._next_row += METRICS_EVERY_S

    def _on_labelled(self, beat: Any) -> None:
        self.writer.label(beat.index, beat.label.value)
        self.state.beats += 1
        self.state.rr_ms = beat.rr_ms
        if not beat.is_nn:
            self.state.artefacts += 1
        else:
            self._nn_hr.append((beat.t, 60000.0 / beat.rr_ms))
        m = self.engine.metrics
        if m is None or m.n_nn < 2:
            return
        self._beat_metrics = m
        self.state.hr_bpm = m.hr_bpm
        self.state.rmssd_ms = m.rmssd_ms if m.n_diff else None
        calm = None
        # The safety detector needs heart rate now, not the 60-s mean: median of the last 5 NN beats.
        recent = [self._nn_hr[i][1] for i in range(-min(5, len(self._nn_hr)), 0)]  # no copy of the deque per beat
        hr_now = sorted(recent)[len(recent) // 2] if recent else m.hr_bpm
        if self.calm is not None:
            calm = self.calm.update(beat.t, m.hr_bpm, m.rmssd_ms if m.n_diff else None)
        self.state.calm = calm
        self._new_reading = BodyReading(beat.t - (self._t - self._logic_t()), hr_now,
                                        m.rmssd_ms if m.n_diff else None,
                                        None if calm is None else calm / 100.0)

    def _on_spectral(self, s: SpectralMetrics) -> None:
        self._spectral = s
        self.state.coherence = s.coherence
        if self.state.phase == "baseline" and math.isfinite(s.coherence):
            self._baseline_coherence.append(s.coherence)
        if self.calm is not None and math.isfinite(s.coherence):
            self.state.calm = self.calm.update(s.t, coherence=s.coherence)
        self.state.breathing_rate = s.breathing_rate_bpm
        if self.guide is not None:
            recent = self.engine.recent_dominant_hz()
            self.guide.observe(BodySignal(recent if recent is not None else s.dominant_hz, s.coherence, s.breathing_rate_bpm))
        if self._assessment_window is not None and s.t >= self._assessment_window[0]:
            self._assessment_coh.append(s.coherence)

    def _write_metrics(self, t: float) -> None:
        """A row every 5 s: time domain always, the spectrum once 64 s of beats are in."""
        m = self._beat_metrics
        s = self._spectral if self._spectral is not None and self._spectral.t > t - METRICS_EVERY_S - 0.5 else None
        row = {
            "hr_bpm": m.hr_bpm if m else None,
            "mean_nn_ms": m.mean_nn_ms if m else None,
            "rmssd_ms": m.rmssd_ms if m and m.n_diff else None,
            "sdnn_ms": m.sdnn_ms if m and m.n_nn > 2 else None,
            "pnn50_pct": m.pnn50_pct if m and m.n_diff else None,
            "coherence": s.coherence if s else None,
            "dominant_hz": s.dominant_hz if s else None,
            "breathing_rate": s.breathing_rate_bpm if s else None,
            "lf_ms2": s.lf_ms2 if s else None,
            "hf_ms2": s.hf_ms2 if s else None,
            "calm": self.state.calm,
            "pacer_rate": self.state.pacer_rate,
            "step": self.state.step_id,
            "artefacts": self.state.artefacts,
            "beats": self.state.beats,
        }
        row = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
        if self.state.calm is not None:
            self._calm_history.append((t, self.state.calm))
        self.writer.metrics(t, row)
        self._emit("metrics", t, row)

    def _on_link(self, ev: LinkEvent) -> None:
        kind = ev.kind
        if kind is LinkState.DEVICE_INFO:
            self.state.battery_pct = ev.detail.get("battery_pct")
        elif kind in (LinkState.CONNECTED, LinkState.RECONNECTED):
            self.state.link = "connected"
        elif kind in (LinkState.DISCONNECTED, LinkState.RECONNECTING):
            self.state.link = "reconnecting" if kind is LinkState.RECONNECTING else "disconnected"
        elif kind is LinkState.CONTACT_LOST:
            self.state.contact = "not_detected"
        if kind in LINK_EVENTS_RECORDED:
            self._record("link", ev.t, {"state": kind.value, **ev.detail})

    # --- exercise events ---------------------------------------------------------------------
    def _handle(self, events: list[StepEvent], reason: str | None = None) -> None:
        t = self._t
        for ev in events:
            kind = ev.kind
            if kind is EventKind.BASELINE_START:
                self.state.phase = "baseline"
                self._record("step", t, {"step": "baseline", "title": tr(self.script.language, "baseline_title"),
                                         "index": -1, "kind": "baseline"})
                self._say(t, self.common.baseline, "baseline")
            elif kind is EventKind.BASELINE_DONE:
                self._on_baseline(t, ev.baseline)
            elif kind is EventKind.STEP_START:
                self._on_step_start(t, ev.step)
            elif kind is EventKind.PROMPT:
                if self.state.phase in ("stopping", "done"):
                    continue  # a stop came in while this batch was being handled: its lines win
                step = self.script.steps[ev.step]
                self._say(t, (step.lines(self.senses)[ev.line],), step.id, ev.line)
            elif kind is EventKind.STEP_END:
                self._on_step_end(t, ev.step, ev.reason)
            elif kind is EventKind.DISTRESS:
                self.state.distress = True
                if self.guide is not None:
                    d = self.guide.hold(True, t)
                    if d:
                        self._record("pacer_decision", t, {"action": d.action, "from": d.old_rate, "to": d.new_rate, "reason": d.reason})
                self._record("distress", t, {"source": ev.reason or "body", "hr_bpm": self.state.hr_bpm,
                                             "baseline_hr": self.state.baseline_hr, "rmssd_ms": self.state.rmssd_ms})
                self._record("grounding", t, {"reason": "asked" if ev.reason == "asked" else "distress"})
                self._say(t, self.common.distress, "distress")
            elif kind is EventKind.RECOVERED:
                self.state.distress = False
                self._record("recovered", t, {})
                self._say(t, self.common.recovered, "recovered")
            elif kind is EventKind.STOP:
                self.state.phase = "stopping"
                self._pacer_visible = self.guide is not None
                if self.guide is not None:
                    self.guide.hold(True, self._logic_t())  # no more slowing while winding down
                self._record("stop", t, {"reason": reason or "user"})
                self._record("grounding", t, {"reason": "stop"})
            elif kind is EventKind.STOP_PROMPT:
                self._say(t, (self.common.stop_grounding[ev.line],), "stop", ev.line)
            elif kind is EventKind.DONE:
                self.state.phase = "done"
                self.state.done_reason = ev.reason
                self._record("done", t, {"reason": ev.reason})

    def _on_baseline(self, t: float, baseline: Baseline | None) -> None:
        if baseline is not None:
            self.state.baseline_hr = baseline.hr_bpm
            self.state.baseline_rmssd = baseline.rmssd_ms
            if baseline.rmssd_ms:
                coh = sorted(self._baseline_coherence)
                self.calm = CalmTracker(CalmBaseline(baseline.hr_bpm, baseline.rmssd_ms,
                                                     coh[len(coh) // 2] if coh else 0.0))
        self._record("baseline", t, {"hr_bpm": baseline.hr_bpm if baseline else None,
                                     "rmssd_ms": baseline.rmssd_ms if baseline else None,
                                     "breathing_rate": self.state.breathing_rate})

    def _on_step_start(self, t: float, index: int) -> None:
        step = self.script.steps[index]
        s = self.state
        s.phase = "grounding" if self.steps.phase.value == "grounding" else "step"
        s.step_index, s.step_id, s.step_kind, s.step_started, s.step_max_s = index, step.id, step.kind, t, step.max_s
        self._record("step", t, {"step": step.id, "title": step.title, "index": index, "kind": step.kind,
                                 "max_s": step.max_s})
        self._apply_pacer(t, step)

    def _on_step_end(self, t: float, index: int, reason: str) -> None:
        step = self.script.steps[index]
        self._record("step_end", t, {"step": step.id, "index": index, "reason": reason})
        if step.kind == "assessment" and self._assessment_window is not None:
            self._close_assessment(t, step.assessment_rate)

    def _apply_pacer(self, t: float, step: Any) -> None:
        setting = step.pacer
        lt = self._logic_t()
        if setting.mode == "off":
            self._pacer_visible = False
            return
        if self.guide is None:
            self.guide = ResonanceGuide(t0=lt, breathing_rate=self.state.breathing_rate,
                                        resonance_rate=self.resonance_rate, inhale_fraction=setting.inhale_fraction)
            self._pacer_history.append((t, self.guide.rate))
            self._record("pacer_rate", t, {"rate": self.guide.rate, "from": None,
                                           "inhale_fraction": round(setting.inhale_fraction, 3)})
        self._pacer_visible = True
        if setting.mode == "follow":
            d = self.guide.hold(False, lt)
        else:
            rate = setting.rate if setting.mode == "fixed" else (self.resonance_rate or 6.0)
            d = self.guide.hold(True, lt)
            self.guide.pacer.request_rate(rate, setting.inhale_fraction)
            if step.kind == "assessment":
                # Measure from the second breath at the new rate on.
                start = self.guide.pacer.breath_end + 60.0 / rate
                self._assessment_window = (start + (t - lt), math.inf)
                self._assessment_coh = []
        if d is not None:
            self._record("pacer_decision", t, {"action": d.action, "from": d.old_rate, "to": d.new_rate, "reason": d.reason})

    def _close_assessment(self, t: float, rate: float | None) -> None:
        start, _ = self._assessment_window or (t, t)
        self._assessment_window = None
        if rate is None:
            return
        swing = _hr_swing([(bt, hr) for bt, hr in self._nn_hr if start <= bt <= t], rate)
        coh = sum(self._assessment_coh) / len(self._assessment_coh) if self._assessment_coh else math.nan
        trial = RateTrial(rate, swing, coh)
        self._assessment.append(trial)
        self._record("assessment_trial", t, {"rate": rate, "hr_peak_to_trough_bpm": swing, "coherence": coh})

    # --- output ------------------------------------------------------------------------------
    def _say(self, t: float, lines: Sequence[str], where: str, line: int | None = None) -> None:
        for i, text in enumerate(lines):
            self.state.prompt = text
            self.state.prompt_t = t
            self._record("prompt", t, {"step": where, "line": line if line is not None else i, "text": text})

    def _record(self, kind: str, t: float, data: dict[str, Any]) -> None:
        self.writer.event(t, kind, data)
        self._emit(kind, t, data)

    def _emit(self, kind: str, t: float, data: dict[str, Any]) -> None:
        for listener in self.listeners:
            try:
                listener(kind, t, data)
            except Exception:  # noqa: BLE001 - a view must never break the session
                log.exception("A session view failed on a %s event; the session goes on.", kind)

    def _finish(self) -> RunResult:
        self.engine.flush()
        rate = None
        if self._assessment:
            rate = pick_resonance_rate(self._assessment)
            self._record("resonance_rate", self._t, {"rate": rate,
                                                     "trials": [[tr.rate, tr.hr_peak_to_trough_bpm, tr.coherence] for tr in self._assessment]})
        calm = [c for _, c in self._calm_history]
        self.result = RunResult(
            reason=self.state.done_reason or self._stop_requested or "ended",
            duration_s=self._t, beats=self.state.beats, artefacts=self.state.artefacts,
            resonance_rate=rate, calm_start=calm[0] if calm else None, calm_end=calm[-1] if calm else None,
            pacer_history=list(self._pacer_history), calm_history=list(self._calm_history),
        )
        return self.result


def _calm_baseline(stored: dict[str, Any] | None) -> CalmBaseline | None:
    """A stored baseline from an earlier session, if it is usable."""
    try:
        return CalmBaseline.from_dict(stored) if stored else None
    except (KeyError, TypeError, ValueError):
        log.warning("Ignoring an unusable stored baseline: %s", stored)
        return None


def _hr_swing(points: list[tuple[float, float]], rate: float) -> float:
    """Mean peak-to-trough heart rate over the breaths at ``rate`` (bpm)."""
    if len(points) < 4:
        return math.nan
    period = 60.0 / rate
    t0 = points[0][0]
    swings = []
    window: list[float] = []
    edge = t0 + period
    for t, hr in points:
        if t >= edge:
            if len(window) >= 3:
                swings.append(max(window) - min(window))
            window = []
            while t >= edge:
                edge += period
        window.append(hr)
    return sum(swings) / len(swings) if swings else math.nan
