"""The session runner: one loop from heartbeats to pacer, prompts, safety and the record.

Data flow (see DESIGN.md): source items -> record (payloads, beats) -> HRV engine (labels, per-beat
metrics, 5-s spectra) -> calm score, breathing guide and step pacer -> events -> record and views.

Time is the source's own axis (seconds since start), so a simulated or replayed session at any
speed runs exactly the same logic as a live one. ``advance(t)`` is driven by every item and by a
10 Hz ticker (so prompts and the pacer go on while a strap is reconnecting). Pause freezes the
exercise's clock (prompts, steps, pacer) while recording goes on.

Views and add-ons (terminal, GUI, sound, MQTT) use a narrow surface: the read-only
:attr:`SessionRunner.state`, :meth:`SessionRunner.subscribe` for every recorded event, the controls
(pause, too much, next, stop, resume) and a few queries (:meth:`~SessionRunner.pacer_phase_at`,
:attr:`~SessionRunner.prompt_tempo`, :attr:`~SessionRunner.breath_pacer`, :meth:`~SessionRunner.now`).
Nothing in here waits on them. Metric values go through :mod:`sessions.metric_registry`, event
kinds and their fields through :mod:`sessions.events`.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from biofeedback.artefacts import LabelledBeat
from biofeedback.baseline import Baseline, BaselinePhase
from biofeedback.bedtime import START_GRID, fade_gain, follow_fade
from biofeedback.body import BodyReading
from biofeedback.breathing_rate import BreathingEstimate, BreathingRateEstimator
from biofeedback.calm import CalmTracker
from biofeedback.heart_rate import HeartRateNow, hr_swing, median_or_none
from biofeedback.hrv import HrvConfig, HrvEngine, SpectralMetrics
from biofeedback.rhythm import RhythmCheck
from biofeedback.pacer import (RAMP_S, BodySignal, BreathPacer, BreathPhase, RateDecision, RateTrial, ResonanceGuide,
                               pick_resonance_rate, ramp_rates)
from biofeedback.care import CareOrigin, CareStage
from biofeedback.step_pacer import (DistressSource, DoneReason, PacingConfig, StepEvent, StepEventKind, StepPacer,
                                    StepTiming)
from devices.source import HeartSource, PlaybackClock
from devices.stream import AccChunk, EcgChunk, LinkEvent, LinkState, StreamItem
from sessions import metric_registry as registry
from sessions.events import EventKind, GroundingReason, MarkerSource, SessionPhase, StepKind, event_data, marker_label
from sessions.exercises import SENSES, CommonTexts, Prompt, Script, Step
from sessions.exercises.model import SpeechTime, estimated_speech
from sessions.i18n import tr
from sessions.store import SessionWriter
from sessions.strap_signals import ChestBreath, EcgBeats
from sessions.therapist import therapist_intro

log = logging.getLogger(__name__)

TICK_S = 0.1
METRICS_EVERY_S = 5.0
MIN_PROMPT_S = 3.0
"""No line is on screen for less than this (see :func:`reading_seconds`)."""
HOLE_AFTER_S = 3.0
"""The beat-to-beat heart-rate curve shows a hole where no NN beat came for this long."""
BREATHING_EVERY_S = 5.0
"""The breathing rate is estimated on its own 5-s clock from the first beats (it needs 32 s, the 64-s
coherence spectrum is later), so that it is known when the quiet start ends and the pacer begins."""
BASELINE_MIN_S = 75.0
BASELINE_MAX_S = 120.0
LINK_EVENTS_RECORDED = {
    LinkState.CONNECTED, LinkState.DISCONNECTED, LinkState.RECONNECTING, LinkState.RECONNECTED,
    LinkState.CONTACT_LOST, LinkState.CONTACT_RESTORED, LinkState.GAP, LinkState.DEVICE_INFO,
    LinkState.MALFORMED, LinkState.ENDED,
}


QUIET_ENDINGS = frozenset({DoneReason.DISTRESS, DoneReason.TOO_MUCH, DoneReason.AROUSED})
"""Endings after care keep the calm view; a completed or stopped session shows its curves again."""
BEAT_RING = 512
"""Beat-to-beat heart-rate points kept in :attr:`LiveState.beat_hr` for the live curve (a few minutes)."""


@dataclass
class LiveState:
    """What a view shows right now. Updated in place by the runner; views only read it."""

    t: float = 0.0
    phase: SessionPhase = SessionPhase.STARTING
    step_index: int | None = None
    step_id: str | None = None
    step_kind: str | None = None
    step_started: float = 0.0
    step_max_s: float | None = None
    step_title: str = ""
    step_elapsed: float = 0.0
    """Seconds into the current step on the step clock (it stands still while paused)."""
    source_kind: str = ""
    """``ble``, ``simulated`` or ``replay``: the views say a simulated strap is simulated."""
    prompt: str = ""
    prompt_t: float = 0.0
    pacer: BreathPhase | None = None
    values: dict[str, float | None] = field(default_factory=lambda: {m.key: None for m in registry.METRICS})
    """Every metric of :data:`sessions.metric_registry.METRICS` by key; None while unknown."""
    beat_hr: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=BEAT_RING))
    """(beat time s, beat-to-beat bpm) of the latest NN beats; NaN where none came for a while (a hole)."""
    beat_hr_count: int = 0
    """How many points were ever added to ``beat_hr`` (a view draws the ones it has not seen)."""
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
    last_beat_t: float | None = None
    """Source time of the latest beat: the views say "no signal for 40 s" and leave a gap when it is old."""
    addons: dict[str, str] = field(default_factory=dict)
    """Status of add-ons by name, e.g. ``{"mqtt": "connected"}`` (see :meth:`SessionRunner.set_addon_status`)."""
    banner: str | None = None
    """Words that stay on screen while they matter: the care's opening (why we stopped) and its closing
    (what to do next, where to find help)."""
    can_resume: bool = False
    """In care, once settled: the exercise can be resumed (key r, the window's button)."""
    alert: bool = False
    """Therapist mode: distress was noticed (shown to the therapist; the exercise goes on)."""
    irregular_rhythm: bool = False
    """The rhythm is too irregular for HRV to mean anything (e.g. atrial fibrillation): the calm score and
    coherence are not shown, the pacer goes on, and the views show one calm sentence."""
    done_reason: str | None = None
    following: bool | None = None
    """The chest accelerometer (a Polar H10) shows the breath following the pacer (None: not measured)."""
    bedtime: bool = False
    """Bedtime mode: the views show only a dim pacer (no numbers, no curves) and close themselves at the end."""

    def value(self, key: str) -> float | None:
        return self.values.get(key)

    @property
    def quiet_view(self) -> bool:
        """During care and stopping: no curves and no numbers, only the pacer (if any) and the words."""
        return self.phase in (SessionPhase.CARE, SessionPhase.STOPPING) or (
            self.phase is SessionPhase.DONE and self.done_reason in QUIET_ENDINGS)

    @property
    def pacer_rate(self) -> float | None:
        return self.values.get("pacer_rate")

    @property
    def mqtt(self) -> str | None:
        return self.addons.get("mqtt")


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


Listener = Callable[[EventKind, float, dict[str, Any]], None]


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
        therapist_mode: bool = False,
        own: Mapping[str, str] | None = None,
        speech_s: SpeechTime | None = None,
        bedtime: bool = False,
        sleep_timer_s: float | None = None,
    ) -> None:
        self.source = source
        self.bedtime = bool(bedtime)
        """Bedtime mode: a stop says ``stop_bedtime``, the pacer's tone fades out (:meth:`pacer_fade_at`),
        the pacer never starts faster than the person breathes."""
        self.sleep_timer_s = sleep_timer_s
        """Bedtime: the session ends on its own, quietly, at this session time (the tone fades out before it)."""
        self._awaiting_timer = False
        """The script's lines are over before the sleep timer: the pacer goes on quietly until it runs out."""
        self._stop_t: float | None = None
        self._fade_g, self._fade_t = 1.0, 0.0
        self._fade_end: float | None = None
        """The planned end the tone fades toward (source time; None: no fade now, e.g. in care)."""
        self.script = script
        self.common = common
        self.writer = writer
        self.senses = tuple(senses)
        self.own = dict(own or {})
        """The person's own safe-place answers, woven into the lines that name them."""
        self._prompts = tuple(script.prompts_for(i, self.senses, self.own) for i in range(len(script.steps)))
        self._holds = tuple(step.hold_prompts(common.hold) for step in script.steps)
        self.duration_s = duration_s
        self.resonance_rate = resonance_rate
        self.engine = HrvEngine(hrv_config)
        stored = _stored_baseline(stored_baseline)
        self.calm: CalmTracker | None = CalmTracker(stored) if stored else None
        self._baseline_coherence: list[float] = []
        self._heart = HeartRateNow()
        self._breathing = BreathingRateEstimator()
        self._breathing_estimate: BreathingEstimate | None = None
        self._rhythm = RhythmCheck()
        self._last_nn_t: float | None = None
        self._next_breathing = BREATHING_EVERY_S
        # The baseline lasts at least 75 s so that the 64-s spectrum (breathing rate from RSA, where
        # the pacer starts) is known when it ends.
        # Therapist mode: distress is an alert, and the therapist moves narrative steps on by hand.
        self.therapist_mode = therapist_mode and script.therapist_only
        timings = script.timings(self.senses, by_hand=self.therapist_mode, own=self.own,
                                 speech_s=speech_s or estimated_speech, common_hold=common.hold)
        self.steps = StepPacer(timings,
                               grounding_step=script.grounding_step, stop_lines=common.stop_timing(self.bedtime),
                               baseline_phase=BaselinePhase(min_s=BASELINE_MIN_S, max_s=BASELINE_MAX_S),
                               care=common.care_timing(), stored_baseline=stored, quiet_start=script.quiet_start,
                               config=PacingConfig(alert_only=self.therapist_mode))
        self._display: deque[tuple[str, str, int, str | None]] = deque()
        self._ramp: list[tuple[float, float]] = []
        """(exercise time, rate) still to request on the way to a script's fixed rate."""
        self._shown_until = -math.inf
        self.guide: ResonanceGuide | None = None
        self._state = LiveState(source_kind=source.name, bedtime=self.bedtime)
        self._step_started_at = 0.0
        self.listeners: list[Listener] = []
        self.signal_listeners: list[Callable[[StreamItem | LabelledBeat], None]] = []
        self.result: RunResult | None = None
        self._t = 0.0                # source time of the last advance
        self._paused_total = 0.0     # exercise clock = source time - paused time
        self._paused_at: float | None = None
        self._spectral: SpectralMetrics | None = None
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
        self._ecg: EcgBeats | None = None
        """The strap's ECG (a Polar H10), once its first chunk came: beats are paired with it."""
        self._chest: ChestBreath | None = None
        """Breathing measured by the chest accelerometer, once its first chunk came (None: not measured)."""
        self._ecg_ectopic = 0

    # --- the narrow surface views and add-ons use -------------------------------------------------
    @property
    def state(self) -> LiveState:
        """What a view shows now (read it, do not change it)."""
        return self._state

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(kind, t, data)`` for every recorded event and metrics row; returns the unsubscribe."""
        self.listeners.append(listener)
        return lambda: self.listeners.remove(listener) if listener in self.listeners else None

    def subscribe_signals(self, listener: Callable[[StreamItem | LabelledBeat], None]) -> Callable[[], None]:
        """Call ``listener(x)`` with every stream item once taken in (ECG and ACC chunks too) and every beat once
        labelled, for add-ons that pass the raw signals on (Lab Streaming Layer); returns the unsubscribe."""
        self.signal_listeners.append(listener)
        return lambda: self.signal_listeners.remove(listener) if listener in self.signal_listeners else None

    def _tap(self, x: StreamItem | LabelledBeat) -> None:
        for listener in tuple(self.signal_listeners):
            try:
                listener(x)
            except Exception:  # noqa: BLE001 - an add-on must never break the session
                log.exception("A signal listener failed; it is dropped and the session goes on.")
                self.signal_listeners.remove(listener)

    def now(self) -> float:
        """The source's clock (seconds on the session's axis), which may run ahead of ``state.t``."""
        return self.source.now()

    @property
    def playback_clock(self) -> PlaybackClock | None:
        """The clock of a simulated or replayed source (None for a strap), e.g. to fast-forward."""
        clock = getattr(self.source, "clock", None)
        return clock if isinstance(clock, PlaybackClock) else None

    @property
    def prompt_tempo(self) -> float:
        """How much slower than usual prompts come now (1 = normal; more while aroused or in distress)."""
        return self.steps.tempo

    @property
    def breath_pacer(self) -> BreathPacer | None:
        """The breath clock, for look-ahead queries (sound, drawing between ticks); None before it starts."""
        return self.guide.pacer if self.guide is not None else None

    def pacer_phase_at(self, source_t: float) -> BreathPhase | None:
        """Where the breath will be at source time ``source_t`` (>= ``state.t``), or None when hidden."""
        pacer = self.breath_pacer
        if pacer is None or self._state.pacer is None:
            return None
        try:
            return pacer.phase_at(self.exercise_time(source_t))
        except ValueError:
            return self._state.pacer

    def pacer_fade_at(self, source_t: float) -> float:
        """The pacer tone's gain (0-1) at source time ``source_t`` (>= ``state.t``).

        1 outside bedtime mode. In bedtime mode it fades over the last :data:`~biofeedback.bedtime.FADE_S`
        before the session's planned end (the sleep timer if set, else the script's typical length, or
        the stop's last line after a stop) and is 0 once the session is over. The end is re-estimated
        as steps end early or late; the gain follows it smoothly (:func:`~biofeedback.bedtime.follow_fade`)."""
        if not self.bedtime:
            return 1.0
        if self._state.phase is SessionPhase.DONE and not self._awaiting_timer:
            return 0.0
        return self._fade_toward(max(source_t, self._fade_t))

    def _fade_toward(self, t: float) -> float:
        g = self._fade_g
        if self._fade_end is None:
            target = 1.0  # care: the person is awake, the tone helps; it comes back slowly
        else:
            target = min(g, fade_gain(t, self._fade_end))  # never louder again on the way to sleep
        return follow_fade(g, target, t - self._fade_t)

    def _update_fade(self, t: float) -> None:
        """Once per advance: re-estimate the planned end and move the gain toward it."""
        if not self.bedtime or t < self._fade_t:
            return
        self._fade_end = self._planned_end(t)
        self._fade_g = self._fade_toward(t)
        self._fade_t = t

    def _planned_end(self, t: float) -> float | None:
        """When the session is expected to end (source time), or None in care (no end planned)."""
        phase = self._state.phase
        if phase is SessionPhase.CARE:
            return None
        if phase is SessionPhase.DONE and not self._awaiting_timer:
            return t
        if self.sleep_timer_s is not None:
            return self.sleep_timer_s
        if phase is SessionPhase.STOPPING:
            return (self._stop_t if self._stop_t is not None else t) + sum(self.steps.stop_lines)
        timings = self.steps.steps
        if phase is SessionPhase.STEP and self._state.step_index is not None:
            i = self._state.step_index
            left = max(0.0, _typical_s(timings[i]) - self._state.step_elapsed)
            return t + left + sum(_typical_s(st) for st in timings[i + 1:])
        left = max(0.0, BASELINE_MIN_S - self._steps_t()) if phase is SessionPhase.BASELINE else 0.0
        return t + left + sum(_typical_s(st) for st in timings)

    def set_addon_status(self, name: str, status: str | None) -> None:
        """An add-on reports how it is doing (shown in the views' status line)."""
        if status is None:
            self._state.addons.pop(name, None)
        else:
            self._state.addons[name] = status

    # --- controls (keyboard, GUI, tests) -----------------------------------------------------
    def stop(self, reason: str = "user") -> None:
        """Stop: the exercise ends with a short grounding, never in silence."""
        if self._awaiting_timer:
            # The exercise's lines are all said (the bridge to sleep was its end): a stop now only cuts
            # the quiet pacer short before the sleep timer.
            self._record(EventKind.STOP, self._t, reason=reason)
            self._done(self._t, DoneReason.COMPLETED)
            return
        self._handle(self.steps.stop(self._steps_t()), reason=reason)

    def too_much(self) -> None:
        """"This is too much": grounding now, and the reassurance that stopping is fine."""
        self._handle(self.steps.ground_now(self._steps_t()))

    def next_step(self) -> None:
        self._handle(self.steps.skip(self._steps_t()))

    def resume(self) -> None:
        """From care, go back to the step that was interrupted (the person chose to)."""
        if not self.steps.can_resume:
            return
        t = self._t
        self._record(EventKind.CARE, t, stage="resumed", origin=self._care_origin())
        self._display.clear()
        self._state.banner = None
        self._state.can_resume = False
        self._state.distress = False
        if self.guide is not None:
            d = self.guide.hold(False, self._logic_t())
            if d:
                self._record_decision(t, d)
        self._say(t, self.common.resume_ack, "care-resumed")
        self._handle(self.steps.resume(self._steps_t()))

    def add_marker(self, label: str | None = None, source: str = "key", *, at: float | None = None) -> None:
        """Mark this moment in the record (key m, the therapist's button over the broker): a short label
        at the session's current time. Call it from the event loop (views and add-ons run there).
        Nothing changes for the exercise; before the start or after the end it is ignored (logged).
        ``at``: the session time the moment was marked (the window asks for a word first), never later than now."""
        try:
            who = MarkerSource(source)
        except ValueError:
            log.warning("A marker from an unknown source %r is recorded as from a button.", source)
            who = MarkerSource.BUTTON
        if not self._started or getattr(self.writer, "db", True) is None or (self.over and at is None):
            # A marker asked for its word before the end is still kept while the record is open.
            log.info("A marker (%s) came outside the session and is not recorded.", who.value)
            return
        now = max(self._t, self._state.t)
        t = now if at is None else min(max(0.0, at), now)
        self._record(EventKind.MARKER, t, label=marker_label(label), source=who)

    def record_rating(self, data: Mapping[str, Any]) -> None:
        """The person's rating (``rating`` event: when, sud, vividness, note) at the session's current time:
        the before-rating is recorded at 0 before :meth:`run`."""
        self._record(EventKind.RATING, self._t, **data)

    def toggle_pause(self) -> None:
        if self._paused_at is None:
            self._paused_at = self._t
            self._state.paused = True
            self._record(EventKind.PAUSE, self._t)
        else:
            self._paused_total += self._t - self._paused_at
            self._paused_at = None
            self._state.paused = False
            self._record(EventKind.RESUME, self._t)

    # --- main loop ---------------------------------------------------------------------------
    async def run(self) -> RunResult:
        ticker = asyncio.create_task(self._ticker())
        try:
            self._start()
            async for item in self.source:
                self._on_item(item)
                if self.signal_listeners:
                    self._tap(item)
                self.advance(item.t)
                if self.over:
                    break
            else:
                # The source ran out (a replay ended): finish the exercise's closing lines on the clock.
                if not self.over:
                    if self._state.phase is not SessionPhase.STOPPING:
                        self.stop(reason="source ended")
                    t = limit = self._t
                    limit += 600.0  # the closing lines take well under a minute
                    while not self.over and t < limit:
                        t += 1.0
                        self.advance(t)
        finally:
            ticker.cancel()
            await self.source.aclose()
        return self._finish()

    @property
    def over(self) -> bool:
        """The session is over (in bedtime mode with a sleep timer, only once the timer ran out or a stop came)."""
        return self.steps.done and not self._awaiting_timer

    def _start(self) -> None:
        self._started = True
        self._record(EventKind.SESSION_START, 0.0, script=self.script.id, language=self.script.language,
                     source=str(self.source.describe()))
        intro = therapist_intro(self.script, self.script.language) if self.therapist_mode else []
        if intro:
            # "Is your therapist with you now?" said and shown, the therapist's notes on screen until the first step.
            self._state.banner = "\n".join(intro)
            self._say(0.0, intro[:1], "therapist")
        self._handle(self.steps.start(0.0))

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            self.advance(max(self._t, self.source.now()))
            if self.over:
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
        self._state.t = t
        if self.duration_s is not None and t >= self.duration_s and self._stop_requested is None:
            self._stop_requested = "duration"
            self.stop(reason="duration reached")
        if self.sleep_timer_s is not None and t >= self.sleep_timer_s and not self.over:
            self._sleep_timer_ran_out(t)
        self._update_fade(t)
        if self._paused_at is not None:
            return
        lt = self._logic_t()
        reading, self._new_reading = self._new_reading, None
        self._show_due(t)
        self._update_hold(lt)
        self._handle(self.steps.update(self._steps_t(), reading))
        self._state.step_elapsed = self._steps_t() - self._step_started_at
        if self.guide is not None:
            while self._ramp and lt >= self._ramp[0][0]:
                self.guide.pacer.request_rate(self._ramp.pop(0)[1])
            tick, decisions = self.guide.advance(lt)
            self._state.pacer = tick.phase if self._pacer_visible else None
            if self._chest is not None and self._state.pacer is not None:
                self._chest.pacer_seen(t, self._state.pacer.phase)
            for d in decisions:
                self._record_decision(t, d)
            for change in tick.changes:
                self._pacer_history.append((t, change.new_rate))
                self._record(EventKind.PACER_RATE, t, rate=change.new_rate, **{"from": change.old_rate},
                             inhale_fraction=round(change.inhale_fraction, 3))
            rate = self.guide.rate if self._pacer_visible else None
            if rate != self._state.pacer_rate:
                self._state.values["pacer_rate"] = rate
                self.source.set_pacer_rate(rate)

    # --- heart data --------------------------------------------------------------------------
    def _on_item(self, item: StreamItem) -> None:
        if isinstance(item, LinkEvent):
            self._on_link(item)
            return
        if isinstance(item, EcgChunk):
            self._on_ecg(item)
            return
        if isinstance(item, AccChunk):
            self._on_acc(item)
            return
        self.writer.payload(item.t, item.payload)
        self._state.contact = item.contact.value
        ecg = self._ecg if self._ecg is not None and self._ecg.live(item.t) else None
        for rr, bt in zip(item.rr_ticks, item.beat_t):
            after_gap = item.after_gap and bt == item.beat_t[0]
            idx = self.writer.beat(bt, rr, after_gap)
            if ecg is not None:
                ecg.matcher.add_strap(idx, bt, rr, after_gap)
            else:
                self._release_beats(item.t)  # whatever still waited for an ECG that stopped goes first
                for beat in self.engine.add_beat(bt, rr, after_gap):
                    self._on_labelled(beat)
        if ecg is not None:
            self._release_beats(item.t)
        if item.t >= self._next_breathing:
            self._update_breathing(item.t)
        spectral = self.engine.spectral_due(item.t)
        if spectral is not None:
            self._on_spectral(spectral)
        if item.t >= self._next_row:
            self._write_metrics(item.t)
            while self._next_row <= item.t:
                self._next_row += METRICS_EVERY_S

    # --- what a Polar H10 streams besides RR (see sessions/strap_signals.py) -----------------
    def _on_ecg(self, chunk: EcgChunk) -> None:
        self.writer.signal_frame(chunk.t, "ecg", chunk.fs, chunk.samples_uv, chunk.payload, chunk.after_gap)
        if self._ecg is None:
            self._ecg = EcgBeats()
            self._record(EventKind.ECG, chunk.t, state="started", fs=chunk.fs)
        elif chunk.after_gap or not self._ecg.live(chunk.t):
            self._record(EventKind.ECG, chunk.t, state="resumed", fs=chunk.fs)
        self._ecg.feed(chunk)
        self._release_beats(chunk.t)

    def _release_beats(self, now: float) -> None:
        """Strap beats the ECG has judged (or that waited long enough) go on to the artefact handling."""
        if self._ecg is None:
            return
        beats, orphans = self._ecg.release(now)
        self._take_matched(beats, orphans)

    def _take_matched(self, beats: Sequence[Any], orphans: Sequence[Any]) -> None:
        assert self._ecg is not None
        for o in orphans:
            self.writer.ecg_beat(o.t, o.label, None)
        for m in beats:
            b = m.beat
            if m.ecg_label is not None and m.ecg_t is not None:
                self.writer.ecg_beat(m.ecg_t, m.ecg_label, b.index)
                self._ecg_ectopic += m.ectopic
            for beat in self.engine.add_beat(b.t, b.rr_ticks, b.after_gap, m.ectopic, m.ecg_clear):
                self._on_labelled(beat)
        v = self._state.values
        v["ecg_only_beats"] = float(self._ecg.matcher.ecg_only)
        v["strap_only_beats"] = float(self._ecg.matcher.strap_only)
        v["ecg_ectopic_beats"] = float(self._ecg_ectopic)

    def _on_acc(self, chunk: AccChunk) -> None:
        self.writer.signal_frame(chunk.t, "acc", chunk.fs, chunk.samples_mg, chunk.payload, chunk.after_gap)
        if self._chest is None:
            self._chest = ChestBreath.create(chunk.fs)
        pacer = self._state.pacer_rate
        for breath in self._chest.feed(chunk):
            self._record_breath(breath, pacer)
        r = self._chest.reading(chunk.t, pacer)
        self._set_breath_values(r.rate_bpm, r.depth, r.phase_lag_s, r.rate_match)
        self._state.following = r.following if pacer is not None else None

    def chest_phase_at(self, t: float) -> tuple[str | None, float]:
        """The measured breath at source time ``t``: 'inhale'/'exhale' and how far into it (0-1), or (None, 0)
        without a chest accelerometer, while moving or before the breathing is clear (the window's ring)."""
        return self._chest.phase_at(t) if self._chest is not None else (None, 0.0)

    def _set_breath_values(self, rate: float | None, depth: float | None, lag: float | None, match: float | None) -> None:
        v = self._state.values
        v["chest_breathing_rate"], v["breath_depth"], v["pacer_phase_lag_s"] = rate, depth, lag
        v["pacer_rate_match"] = None if match is None else 100.0 * match

    def _record_breath(self, breath: Any, pacer: float | None) -> None:
        """One measured breath as an event at its end (review draws them; the rate is 60 / its length)."""
        duration = float(breath.duration)
        self._record(EventKind.BREATH, float(breath.end), duration_s=round(duration, 3),
                     rate=round(60.0 / duration, 2) if duration > 0 else None, depth=round(float(breath.depth_mg), 1),
                     inhale_s=round(float(breath.inhale_s), 3), pacer_rate=pacer)

    def measured_breathing(self) -> float | None:
        """The breathing rate the chest accelerometer measures now (None: no H10, moving, or not known yet)."""
        return self._state.values.get("chest_breathing_rate")

    def _on_labelled(self, beat: LabelledBeat) -> None:
        s = self._state
        self.writer.label(beat.index, beat.label.value)
        if self.signal_listeners:
            self._tap(beat)
        s.beats += 1
        s.rr_ms = beat.rr_ms
        s.last_beat_t = beat.t if s.last_beat_t is None else max(s.last_beat_t, beat.t)
        if not beat.is_nn:
            s.artefacts += 1
        # The stream's first RR runs from a beat the strap may have half seen and has nothing to be judged
        # against: it is kept and labelled, but not drawn or counted as the heart rate now.
        bpm = self._heart.add(beat.t, beat.rr_ms, beat.is_nn and beat.index > 0)
        if math.isfinite(bpm) or self._last_nn_t is None or beat.t - self._last_nn_t > HOLE_AFTER_S:
            # The curve joins NN beats across a flagged beat or two (a bigeminy still shows its wave) and
            # leaves a hole only where no NN beat came for a while.
            if not (s.beat_hr and math.isnan(s.beat_hr[-1][1]) and not math.isfinite(bpm)):
                s.beat_hr.append((beat.t, bpm))
                s.beat_hr_count += 1
        if math.isfinite(bpm):
            self._last_nn_t = beat.t
        s.values["hr_now_bpm"] = self._heart.bpm
        self._breathing.add(beat.t, beat.rr_ms, beat.is_nn)
        self._check_rhythm(beat)
        m = self.engine.metrics
        if m is None or m.n_nn < 2:
            return
        s.values.update(registry.values_from(m, registry.FROM_BEAT))
        if s.irregular_rhythm:
            s.values.update(dict.fromkeys(registry.VARIABILITY))  # not shown as if valid
        rmssd = s.values["rmssd_ms"]
        calm = None
        if self.calm is not None and not s.irregular_rhythm:
            calm = self.calm.update(beat.t, m.hr_bpm, rmssd)
        s.values["calm"] = calm
        # The safety detector needs heart rate now, not the 60-s mean: the short median.
        self._new_reading = BodyReading(beat.t - (self._t - self._logic_t()), self._heart.bpm or m.hr_bpm, rmssd,
                                        None if calm is None else calm / 100.0)

    def _on_spectral(self, sp: SpectralMetrics) -> None:
        s = self._state
        self._spectral = sp
        estimate = self._breathing_estimate
        if s.irregular_rhythm:
            # No coherence or calm shown as if valid while the rhythm is this irregular.
            s.values.update({key: None for key, _ in registry.FROM_SPECTRAL})
            s.values["calm"] = None
            return
        s.values.update(registry.values_from(sp, registry.FROM_SPECTRAL))
        if s.phase is SessionPhase.BASELINE and math.isfinite(sp.coherence):
            self._baseline_coherence.append(sp.coherence)
        if self.calm is not None and math.isfinite(sp.coherence):
            s.values["calm"] = self.calm.update(sp.t, coherence=sp.coherence)
        if self.guide is not None:
            recent = self.engine.recent_dominant_hz()
            # Only a confident breathing rate may pull the pacer; "unknown" is None, not a guess. Breathing
            # measured at the chest (an H10, not moving) is used instead of the estimate from RSA.
            measured = self.measured_breathing()
            own = measured if measured is not None else (estimate.rate_bpm if estimate is not None else None)
            self.guide.observe(BodySignal(recent if recent is not None else sp.dominant_hz, sp.coherence, own))
        if self._assessment_window is not None and sp.t >= self._assessment_window[0]:
            self._assessment_coh.append(sp.coherence)

    def _update_breathing(self, t: float) -> None:
        estimate = self._breathing_estimate = self._breathing.estimate(t)
        self._state.values["breathing_rate"] = estimate.rate_bpm
        self._state.values["breathing_confidence"] = estimate.confidence
        while self._next_breathing <= t:
            self._next_breathing += BREATHING_EVERY_S

    def _check_rhythm(self, beat: LabelledBeat) -> None:
        """Feed the rhythm check every beat (flagged ones too: AF is what a labeller flags); record changes."""
        state = self._rhythm.add(beat.t, beat.rr_ms)
        s = self._state
        if state.irregular != s.irregular_rhythm:
            s.irregular_rhythm = state.irregular
            if state.irregular:
                s.values["calm"] = None
                s.values.update(dict.fromkeys(registry.VARIABILITY))
                s.values.update({key: None for key, _ in registry.FROM_SPECTRAL})
            self._record(EventKind.RHYTHM, beat.t, irregular=state.irregular, score=round(state.score, 3))

    def _write_metrics(self, t: float) -> None:
        """A row every 5 s: every recorded metric of the registry (the spectrum once 64 s of beats are in)."""
        s = self._state
        fresh = self._spectral is not None and self._spectral.t > t - METRICS_EVERY_S - 0.5
        spectral_keys = {key for key, _ in registry.FROM_SPECTRAL}
        row: dict[str, Any] = {m.key: (s.values.get(m.key) if fresh or m.key not in spectral_keys else None)
                               for m in registry.RECORDED}
        row.update(step=s.step_id, artefacts=s.artefacts, beats=s.beats, irregular=s.irregular_rhythm)
        if s.values.get("calm") is not None:
            self._calm_history.append((t, float(s.values["calm"] or 0.0)))
        self.writer.metrics(t, row)
        self._emit(EventKind.METRICS, t, row)

    def _on_link(self, ev: LinkEvent) -> None:
        kind = ev.kind
        if kind is LinkState.DEVICE_INFO:
            self._state.battery_pct = ev.detail.get("battery_pct")
        elif kind in (LinkState.CONNECTED, LinkState.RECONNECTED):
            self._state.link = "connected"
        elif kind in (LinkState.DISCONNECTED, LinkState.RECONNECTING):
            self._state.link = "reconnecting" if kind is LinkState.RECONNECTING else "disconnected"
        elif kind is LinkState.CONTACT_LOST:
            self._state.contact = "not_detected"
        if kind in LINK_EVENTS_RECORDED:
            self._record(EventKind.LINK, ev.t, state=kind.value, **ev.detail)

    # --- exercise events ---------------------------------------------------------------------
    def _handle(self, events: list[StepEvent], reason: str | None = None) -> None:
        t = self._t
        for ev in events:
            handler = self._HANDLERS[ev.kind]
            handler(self, t, ev, reason)

    def _on_baseline_start(self, t: float, ev: StepEvent, reason: str | None) -> None:
        self._state.phase = SessionPhase.BASELINE
        self._record(EventKind.STEP, t, step=StepKind.BASELINE, title=tr(self.script.language, "baseline_title"),
                     index=-1, kind=StepKind.BASELINE)
        self._say(t, self.common.baseline, "baseline", ids=tuple(p.id for p in self.common.prompts("baseline")))

    def _on_prompt(self, t: float, ev: StepEvent, reason: str | None) -> None:
        if self._state.phase in (SessionPhase.STOPPING, SessionPhase.DONE) or ev.step is None or ev.line is None:
            return  # a stop came in while this batch was being handled: its lines win
        prompt = self.prompt_for(ev.step, ev.line)
        if prompt is not None:
            self._say(t, (prompt.text,), self.script.steps[ev.step].id, ev.line, ids=(prompt.id,))

    def prompt_for(self, step: int, line: int) -> Prompt | None:
        """Line ``line`` of step ``step`` as this person hears it; past the step's lines, its hold lines
        in turn (the step runs on)."""
        prompts = self._prompts[step]
        if line < len(prompts):
            return prompts[line]
        holds = self._holds[step]
        return holds[(line - len(prompts)) % len(holds)] if holds else None

    def _on_distress(self, t: float, ev: StepEvent, reason: str | None) -> None:
        self._state.distress = True
        self._state.alert = self.therapist_mode
        if self.guide is not None:
            d = self.guide.hold(True, t)
            if d:
                self._record_decision(t, d)
        source = ev.reason if isinstance(ev.reason, DistressSource) else DistressSource.BODY
        onset = self.steps.detector.onset if source is DistressSource.BODY else None
        if onset is not None:
            # What the detector decided on: its short-window heart rate, threshold and reference.
            self._record(EventKind.DISTRESS, t, source=source, hr_bpm=onset.hr_bpm, peak_hr_bpm=onset.peak_hr_bpm,
                         threshold_bpm=onset.threshold_bpm, reference_hr_bpm=onset.reference_hr_bpm,
                         baseline_hr=onset.baseline_hr_bpm, rmssd_ms=onset.rmssd_ms,
                         baseline_rmssd_ms=onset.baseline_rmssd_ms)
        else:
            self._record(EventKind.DISTRESS, t, source=source, hr_bpm=self._heart.bpm,
                         baseline_hr=self._state.baseline_hr, rmssd_ms=self._state.values.get("rmssd_ms"))

    def _on_care_start(self, t: float, ev: StepEvent, reason: str | None) -> None:
        """Care begins: what was still waiting to be shown is dropped, the opening words stay on screen."""
        origin = ev.origin or CareOrigin.BODY
        s = self._state
        s.phase = SessionPhase.CARE
        s.distress = origin is not CareOrigin.AROUSED_START
        self._display.clear()
        self._shown_until = -math.inf
        s.banner = " ".join(self.common.care_lines(CareStage.OPENING, origin)) or None
        s.can_resume = False
        if self.guide is not None:
            d = self.guide.hold(True, self._logic_t())
            if d:
                self._record_decision(t, d)
        self._record(EventKind.GROUNDING, t, reason={CareOrigin.ASKED: GroundingReason.ASKED,
                                                     CareOrigin.BODY: GroundingReason.DISTRESS,
                                                     CareOrigin.AROUSED_START: GroundingReason.AROUSED}[origin])
        self._record(EventKind.CARE, t, stage="start", origin=origin)

    def _on_care_prompt(self, t: float, ev: StepEvent, reason: str | None) -> None:
        if ev.care_stage is None or ev.line is None:
            return
        origin = ev.origin or CareOrigin.BODY
        lines = self.common.care_lines(ev.care_stage, origin)
        if not lines:
            return
        if ev.care_stage is CareStage.CLOSING and ev.line == 0:
            # The closing stays readable as a whole: what to do next, and where to find help.
            self._state.banner = " ".join(lines)
            self._state.can_resume = False
            self._record(EventKind.CARE, t, stage="closing", origin=origin)
        key = _CARE_KEYS.get(ev.care_stage)
        if ev.care_stage is CareStage.OPENING:
            key = {CareOrigin.ASKED: "too_much_ack", CareOrigin.BODY: "distress",
                   CareOrigin.AROUSED_START: "aroused_start"}[origin]
        k = ev.line % len(lines)
        self._say(t, (lines[k],), f"care-{ev.care_stage.value}", ev.line, ids=(f"common.{key}.{k + 1}",))

    def _on_care_settled(self, t: float, ev: StepEvent, reason: str | None) -> None:
        self._state.can_resume = self.steps.can_resume and ev.origin is not CareOrigin.AROUSED_START
        self._record(EventKind.CARE, t, stage="settled", origin=ev.origin or CareOrigin.BODY)

    def _care_origin(self) -> CareOrigin:
        care = self.steps.care
        return care.origin if care is not None else CareOrigin.BODY

    def _on_recovered(self, t: float, ev: StepEvent, reason: str | None) -> None:
        self._state.distress = False
        self._record(EventKind.RECOVERED, t)
        self._say(t, self.common.recovered, "recovered", ids=tuple(p.id for p in self.common.prompts("recovered")))

    def _on_stop(self, t: float, ev: StepEvent, reason: str | None) -> None:
        self._state.phase = SessionPhase.STOPPING
        self._display.clear()  # the stop's words come now, not after what was still waiting
        self._shown_until = -math.inf
        self._pacer_visible = self.guide is not None
        if self.guide is not None:
            self.guide.hold(True, self._logic_t())  # no more slowing while winding down
        self._stop_t = t
        self._record(EventKind.STOP, t, reason=reason or "user")
        self._record(EventKind.GROUNDING, t, reason=GroundingReason.STOP)

    def _on_stop_prompt(self, t: float, ev: StepEvent, reason: str | None) -> None:
        """A line of the stop: in bedtime mode the quiet bridge to sleep (``stop_bedtime``), never "open your
        eyes and look around the room"; else the grounding."""
        if ev.line is not None:
            key = "stop_bedtime" if self.bedtime and self.common.stop_bedtime else "stop_grounding"
            lines = self.common.stop_lines(self.bedtime)
            self._say(t, (lines[ev.line],), "stop", ev.line, ids=(f"common.{key}.{ev.line + 1}",))

    def _sleep_timer_ran_out(self, t: float) -> None:
        """The sleep timer's end: quietly, no more words (whoever set it may be asleep). In care or during a
        stop's lines nothing happens yet: they end on their own, and care is never cut short."""
        if self._awaiting_timer:
            self._done(t, DoneReason.SLEEP_TIMER)
        else:
            self._handle(self.steps.finish(self._steps_t(), DoneReason.SLEEP_TIMER))

    def _on_done(self, t: float, ev: StepEvent, reason: str | None) -> None:
        if ev.reason is DoneReason.COMPLETED and self.sleep_timer_s is not None and t < self.sleep_timer_s:
            # All lines said before the sleep timer: the pacer goes on, fading, until the timer ends it.
            self._awaiting_timer = True
            return
        self._done(t, ev.reason if isinstance(ev.reason, DoneReason) else DoneReason.COMPLETED)

    def _done(self, t: float, reason: DoneReason) -> None:
        self._awaiting_timer = False
        self._state.phase = SessionPhase.DONE
        self._state.done_reason = reason
        self._record(EventKind.DONE, t, reason=reason)

    def _on_baseline_done(self, t: float, ev: StepEvent, reason: str | None) -> None:
        baseline = ev.baseline
        s = self._state
        if baseline is not None:
            s.baseline_hr = baseline.hr_bpm
            s.baseline_rmssd = baseline.rmssd_ms
            if baseline.rmssd_ms:
                coherence = median_or_none(self._baseline_coherence) or 0.0
                self.calm = CalmTracker(Baseline(baseline.hr_bpm, baseline.rmssd_ms, coherence))
        stored = self.steps.stored_baseline
        self._record(EventKind.BASELINE, t, hr_bpm=baseline.hr_bpm if baseline else None,
                     rmssd_ms=baseline.rmssd_ms if baseline else None, breathing_rate=s.values.get("breathing_rate"),
                     stored_hr_bpm=stored.hr_bpm if stored else None, aroused=ev.aroused)

    def _on_step_start(self, t: float, ev: StepEvent, reason: str | None) -> None:
        assert ev.step is not None
        index = ev.step
        step = self.script.steps[index]
        s = self._state
        s.phase = SessionPhase.STEP
        s.banner, s.can_resume, s.distress = None, False, False
        s.step_index, s.step_id, s.step_kind, s.step_started, s.step_max_s = index, step.id, step.kind, t, step.max_s
        s.step_title, s.step_elapsed = step.title or step.id.replace("-", " "), 0.0
        self._step_started_at = self._steps_t()
        self._record(EventKind.STEP, t, step=step.id, title=step.title, index=index, kind=step.kind, max_s=step.max_s)
        self._apply_pacer(t, step)

    def _on_step_end(self, t: float, ev: StepEvent, reason: str | None) -> None:
        assert ev.step is not None
        step = self.script.steps[ev.step]
        self._record(EventKind.STEP_END, t, step=step.id, index=ev.step, reason=ev.reason)
        if step.kind == StepKind.ASSESSMENT and self._assessment_window is not None:
            self._close_assessment(t, step.assessment_rate)

    _HANDLERS: dict[StepEventKind, Callable[[SessionRunner, float, StepEvent, str | None], None]] = {
        StepEventKind.BASELINE_START: _on_baseline_start,
        StepEventKind.BASELINE_DONE: _on_baseline_done,
        StepEventKind.STEP_START: _on_step_start,
        StepEventKind.PROMPT: _on_prompt,
        StepEventKind.STEP_END: _on_step_end,
        StepEventKind.DISTRESS: _on_distress,
        StepEventKind.CARE_START: _on_care_start,
        StepEventKind.CARE_PROMPT: _on_care_prompt,
        StepEventKind.CARE_SETTLED: _on_care_settled,
        StepEventKind.RECOVERED: _on_recovered,
        StepEventKind.STOP: _on_stop,
        StepEventKind.STOP_PROMPT: _on_stop_prompt,
        StepEventKind.DONE: _on_done,
    }

    def _apply_pacer(self, t: float, step: Step) -> None:
        setting = step.pacer
        lt = self._logic_t()
        if setting.mode == "off":
            self._pacer_visible = False
            if self.guide is not None:
                # Nobody follows a hidden pacer: what the breathing does now says nothing about its rate.
                d = self.guide.hold(True, lt)
                if d is not None:
                    self._record_decision(t, d)
            return
        if self.guide is None:
            estimate = self._breathing_estimate
            own = estimate.rate_bpm if estimate else None
            confidence = estimate.confidence if estimate else None
            measured = self.measured_breathing()
            if measured is not None:
                # Measured at the chest beats the guess from the heart's rhythm: a confident start there.
                own, confidence = measured, 1.0
            if self.bedtime and own is not None and math.isfinite(own):
                # Bedtime: never faster than the person breathes (the guide rounds to its grid, so round down).
                own = math.floor(own / START_GRID + 1e-9) * START_GRID
            self.guide = ResonanceGuide(t0=lt, breathing_rate=own,
                                        breathing_confidence=confidence,
                                        resonance_rate=self.resonance_rate, inhale_fraction=setting.inhale_fraction)
            self._pacer_history.append((t, self.guide.rate))
            self._record(EventKind.PACER_RATE, t, rate=self.guide.rate, **{"from": None},
                         inhale_fraction=round(setting.inhale_fraction, 3))
        self._pacer_visible = True
        if setting.mode == "follow":
            self._ramp = []
            d = self.guide.hold(False, lt)
        else:
            rate = setting.rate if setting.mode == "fixed" and setting.rate else (self.resonance_rate or 6.0)
            d = self.guide.hold(True, lt)
            # Never a jump: far from the current rate, the new one is reached over a minute, 1/min at a time.
            rates = ramp_rates(self.guide.pacer.target_rate, rate)
            self.guide.pacer.request_rate(rates[0], setting.inhale_fraction)
            interval = RAMP_S / len(rates)
            self._ramp = [(lt + interval * k, r) for k, r in enumerate(rates[1:], start=1)]
            if step.kind == StepKind.ASSESSMENT:
                # Measure from the second breath at the new rate on, once the ramp has arrived.
                arrived = lt + RAMP_S if self._ramp else self.guide.pacer.breath_end
                start = max(arrived, self.guide.pacer.breath_end) + 60.0 / rate
                self._assessment_window = (start + (t - lt), math.inf)
                self._assessment_coh = []
        if d is not None:
            self._record_decision(t, d)

    def _close_assessment(self, t: float, rate: float | None) -> None:
        start, _ = self._assessment_window or (t, t)
        self._assessment_window = None
        if rate is None:
            return
        swing = hr_swing(self._heart.between(start, t), rate)
        coh = sum(self._assessment_coh) / len(self._assessment_coh) if self._assessment_coh else math.nan
        trial = RateTrial(rate, swing, coh)
        self._assessment.append(trial)
        self._record(EventKind.ASSESSMENT_TRIAL, t, rate=rate, hr_peak_to_trough_bpm=swing, coherence=coh)

    # --- output ------------------------------------------------------------------------------
    def _say(self, t: float, lines: Sequence[str], where: str, line: int | None = None,
             ids: Sequence[str] | None = None) -> None:
        """Lines to show and say: each stays on screen at least its reading time before the next replaces it
        (lines that come together used to overwrite each other in the same moment). ``ids``: the lines'
        stable ids (a recorded voice is found by them)."""
        for i, text in enumerate(lines):
            self._display.append((text, where, line if line is not None else i, ids[i] if ids else None))
        self._show_due(t)

    def _show_due(self, t: float) -> None:
        while self._display and t >= self._shown_until:
            text, where, line, pid = self._display.popleft()
            self._state.prompt = text
            self._state.prompt_t = t
            self._shown_until = t + reading_seconds(text)
            data: dict[str, Any] = {"step": where, "line": line, "text": text}
            if pid is not None:
                data["id"] = pid
            self._record(EventKind.PROMPT, t, **data)

    def _record_decision(self, t: float, d: RateDecision) -> None:
        self._record(EventKind.PACER_DECISION, t, action=d.action, **{"from": d.old_rate}, to=d.new_rate,
                     reason=d.reason)

    def _record(self, kind: EventKind, t: float, /, **data: Any) -> None:
        checked = event_data(kind, data)
        self.writer.event(t, kind.value, checked)
        self._emit(kind, t, checked)

    def _emit(self, kind: EventKind, t: float, data: dict[str, Any]) -> None:
        for listener in tuple(self.listeners):
            try:
                listener(kind, t, data)
            except Exception:  # noqa: BLE001 - a view must never break the session
                log.exception("A session view failed on a %s event; the session goes on.", kind.value)

    def _flush_display(self) -> None:
        """At the end nothing waits unseen: the last lines are shown (and recorded) in turn."""
        while self._display:
            self._shown_until = min(self._shown_until, self._t)
            self._show_due(self._t)

    def _finish(self) -> RunResult:
        self._flush_display()
        if self._ecg is not None:
            self._take_matched(*self._ecg.flush())
        # The last beat's label becomes final only now: record it like every other.
        for beat in self.engine.flush():
            self._on_labelled(beat)
        rate = None
        if self._assessment:
            rate = pick_resonance_rate(self._assessment)
            self._record(EventKind.RESONANCE_RATE, self._t, rate=rate,
                         trials=[[trial.rate, trial.hr_peak_to_trough_bpm, trial.coherence] for trial in self._assessment])
        calm = [c for _, c in self._calm_history]
        self.result = RunResult(
            reason=self._state.done_reason or self._stop_requested or "ended",
            duration_s=self._t, beats=self._state.beats, artefacts=self._state.artefacts,
            resonance_rate=rate, calm_start=calm[0] if calm else None, calm_end=calm[-1] if calm else None,
            pacer_history=list(self._pacer_history), calm_history=list(self._calm_history),
        )
        return self.result


_CARE_KEYS = {CareStage.ORIENTATION: "care_orientation", CareStage.GROUNDING: "care_grounding",
              CareStage.SETTLED: "care_settled", CareStage.CLOSING: "care_closing"}
"""The shared text each part of care says (the opening depends on why care began)."""


def reading_seconds(text: str) -> float:
    """How long a line stays on screen at least: calm reading (about 180 words a minute), never under 3 s."""
    return max(MIN_PROMPT_S, len(text.split()) * 60.0 / 180.0 + 1.0)


def _typical_s(timing: StepTiming) -> float:
    """How long a step usually takes: its typical length (mid-range without one), longer when its lines need it."""
    typical = timing.typical_s if timing.typical_s is not None else (timing.min_s + timing.max_s) / 2.0
    return max(timing.min_s, min(timing.max_s, max(typical, sum(timing.prompt_s))))


def _stored_baseline(stored: dict[str, Any] | None) -> Baseline | None:
    """A stored baseline from an earlier session, if it is usable."""
    try:
        return Baseline.from_dict(stored) if stored else None
    except (KeyError, TypeError, ValueError):
        log.warning("Ignoring an unusable stored baseline: %s", stored)
        return None
