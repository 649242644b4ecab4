"""Prompt pacing: when the next line is said, when a step ends, and when to stop pushing.

Why it is built this way:

* **The body sets the tempo, the script sets the bounds.** A step never ends before its minimum
  (a prompt needs time to land) and never runs past its maximum (a stuck session is worse than a
  slightly early one). In between, a settled body moves on sooner and an aroused body gets more
  time and slower prompts.
* **Distress changes the plan, not just a colour.** :class:`StepPacer` answers the
  :class:`~biofeedback.distress.DistressDetector` by slowing the prompts, jumping to the script's
  grounding step, and telling the runner to say that stopping is fine.
* **Stop never ends in silence.** ``StepPacer.stop()`` switches to a short stop-grounding sequence
  and reports ``DONE`` only when its last line has had time to be said. A second stop skips to the
  closing line, not past it.
* **Time and readings are passed in**, so the same code runs live, on a replay, and in tests.
  The runner turns every returned :class:`StepEvent` into speech/text and a recorded event.
* **Reasons are a vocabulary.** Why a step ended, why the session is done and where distress came
  from are enums (:class:`StepEndReason`, :class:`DoneReason`, :class:`DistressSource`); their values
  are what the record stores.
"""

from __future__ import annotations

import enum
import math
import statistics
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from biofeedback.baseline import Baseline, BaselinePhase
from biofeedback.body import BodyReading, BodyState, known
from biofeedback.care import CareConfig, CareOrigin, CareRun, CareStage, CareTiming
from biofeedback.distress import DistressConfig, DistressDetector, DistressState
from biofeedback.prompt_timing import DEFAULT_MAX_QUIET_S, estimate_speech_s, hold_delay_s

Advance = Literal["time", "settled", "calm"]


class AdvanceMode(enum.StrEnum):
    """How a step may end: on time, early once the body settled, or when calm holds (``Advance``'s values)."""

    TIME = "time"
    SETTLED = "settled"
    CALM = "calm"


class StepEndReason(enum.StrEnum):
    """Why a step ended (recorded in ``step_end`` events)."""

    TIME = "time"
    SETTLED = "settled"
    CALM = "calm"
    MAX = "max"
    DISTRESS = "distress"
    STOP = "stop"
    SKIPPED = "skipped"
    RESUME = "resume"
    SLEEP_TIMER = "sleep_timer"
    """Bedtime mode: the sleep timer ran out (see :meth:`StepPacer.finish`)."""


class DoneReason(enum.StrEnum):
    """Why the session's timeline ended (recorded in the ``done`` event)."""

    COMPLETED = "completed"
    STOPPED = "stopped"
    DISTRESS = "distress"
    """After care that the body's distress started."""
    TOO_MUCH = "too_much"
    """After care the person asked for ("this is too much")."""
    AROUSED = "aroused"
    """After care for a start far above the person's resting level, when the body did not settle."""
    SLEEP_TIMER = "sleep_timer"
    """Bedtime mode: the sleep timer ran out and the session ended quietly, without more words."""


class DistressSource(enum.StrEnum):
    """Where a distress episode came from: the body's signals, or the person asking."""

    BODY = "body"
    ASKED = "asked"


# --------------------------------------------------------------------------------------------
# Steps
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StepTiming:
    """The timing half of a script step (the text half lives in ``sessions``).

    ``prompt_s``: for each line of the step, the seconds it needs (speaking time plus a pause);
    the next line is due that long after the previous one, longer while aroused. ``typical_s``: when
    the step ends if the body is neither settled nor aroused. ``advance``: ``time`` ends at
    ``typical_s`` whatever the body does; ``settled`` may end early (from ``min_s``) once the body
    has settled; ``calm`` waits (up to ``max_s``) for the calm score to stay above ``calm_above``.
    """

    min_s: float
    max_s: float
    typical_s: float | None = None
    advance: Advance = "settled"
    calm_above: float | None = None
    prompt_s: tuple[float, ...] = ()
    by_hand: bool = False
    """In therapist mode a narrative step moves on only when the therapist says so (``skip``)."""
    quiet_s: tuple[float, ...] = ()
    """The quiet part of each line's slot in ``prompt_s`` (the rest is speech); empty = all of it is speech."""
    hold_s: tuple[float, ...] = ()
    """Speaking time of the step's hold lines, said when the step runs on after its lines (cycled)."""
    max_quiet_s: float = DEFAULT_MAX_QUIET_S
    """The longest silence the script allows; a hold line comes well before it."""
    tail_s: float | None = None
    """The least quiet the last line needs before the step may end (None: its whole slot). Lines are
    spread over the step's typical length; a body that settled need not wait out the spread."""

    def __post_init__(self) -> None:
        if not 0 < self.min_s <= self.max_s:
            raise ValueError("a step needs 0 < min_s <= max_s")
        if self.typical_s is not None and not self.min_s <= self.typical_s <= self.max_s:
            raise ValueError("typical_s must lie between min_s and max_s")
        if self.advance == "calm" and (self.calm_above is None or not 0 < self.calm_above <= 1):
            raise ValueError("advance = calm needs calm_above in 0..1")

    @property
    def nominal_s(self) -> float:
        return self.typical_s if self.typical_s is not None else (self.min_s + self.max_s) / 2


@dataclass(frozen=True, slots=True)
class PacingConfig:
    settle_s: float = 20.0
    """How long the body must stay settled before a step may end early."""
    settled_calm: float = 0.6
    """Calm score that counts as settled (when a calm score is available)."""
    settled_hr_rise_bpm: float = 5.0
    settled_hr_spread_bpm: float = 6.0
    """Without a calm score: settled = HR within baseline + 5 and its spread within 6 bpm over settle_s."""
    aroused_hr_rise_bpm: float = 8.0
    aroused_calm: float = 0.3
    aroused_tempo: float = 1.4
    """Prompt gaps are stretched by this factor while aroused ..."""
    distress_tempo: float = 1.8
    """... and by this one after distress."""
    aroused_start_bpm: float = 12.0
    aroused_start_frac: float = 0.15
    """The quiet start counts as aroused when its heart rate is above the stored resting level by
    min(this many bpm, this fraction of it): care first, and distress judged against the stored level."""
    aroused_early_s: float = 30.0
    """With a stored resting level, a quiet start that is clearly aroused (the median heart rate of the
    last readings above the aroused-start threshold) ends after this long, not after 75-120 s."""
    alert_only: bool = False
    """Therapist mode: distress is recorded and shown to the therapist, but the exercise is not switched
    (moderate arousal is expected in this work), and imagery steps move on only by hand."""
    care: CareConfig = field(default_factory=CareConfig)


class Phase(enum.Enum):
    BASELINE = "baseline"
    STEP = "step"
    CARE = "care"
    """The care sequence (:mod:`biofeedback.care`): after distress, "too much", or an aroused start."""
    STOPPING = "stopping"
    DONE = "done"


class StepEventKind(enum.Enum):
    """What the runner must do next (say a line, start a step, ...); not the record's event kinds."""

    BASELINE_START = "baseline_start"
    BASELINE_DONE = "baseline_done"
    STEP_START = "step_start"
    PROMPT = "prompt"
    STEP_END = "step_end"
    DISTRESS = "distress"
    """Distress noticed (or "too much" asked): stop slowing the breath (``ResonanceGuide.hold``); care
    follows (CARE_START), except in therapist mode, where it is an alert only."""
    CARE_START = "care_start"
    CARE_PROMPT = "care_prompt"
    CARE_SETTLED = "care_settled"
    """The body settled during care: the choice (back to the exercise, or finish) is open."""
    RECOVERED = "recovered"
    STOP = "stop"
    STOP_PROMPT = "stop_prompt"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class StepEvent:
    """Something the runner must act on and record.

    ``step``: index into the script's steps (None outside steps); ``line``: index of the prompt
    line (PROMPT, STOP_PROMPT); ``reason``: why a step ended (time, settled, calm, max, distress,
    stop) or why the session is done (completed, stopped, distress).
    """

    t: float
    kind: StepEventKind
    step: int | None = None
    line: int | None = None
    reason: StepEndReason | DoneReason | DistressSource | None = None
    baseline: Baseline | None = None
    care_stage: CareStage | None = None
    origin: CareOrigin | None = None
    """Why care began (CARE_START, CARE_PROMPT)."""
    aroused: bool = False
    """BASELINE_DONE: the quiet start was far above the stored resting level."""


@dataclass
class _StepRun:
    index: int
    t0: float
    next_line: int = 0
    next_line_t: float = 0.0
    settled_since: float | None = None
    speech_end: float = 0.0
    """When the last line said in this step stops sounding (its slot minus its quiet)."""
    holds: int = 0


class StepPacer:
    """The session's timeline: baseline, then the script's steps, with distress and stop handling.

    ``steps``: the timings of the script's steps; ``grounding_step``: the index of the script's
    closing grounding step (never skipped past); ``stop_lines``: seconds per line of the
    stop-grounding text. Pass ``baseline`` to skip the baseline phase (e.g. a second exercise in the
    same sitting), or ``quiet_start=False`` for an exercise that has none (after a nightmare: no
    minute of quiet first). ``stored_baseline`` is the person's resting level from earlier sessions:
    a quiet start far above it begins with care, and distress is then judged against it. ``care``:
    the seconds per line of the care sequence. Call ``start(t)``, then ``update(t, reading)``
    regularly (at least once a second); each call returns the events that became due.
    """

    def __init__(
        self,
        steps: Sequence[StepTiming],
        *,
        grounding_step: int,
        stop_lines: Sequence[float],
        baseline: Baseline | None = None,
        baseline_phase: BaselinePhase | None = None,
        distress: DistressConfig | None = None,
        config: PacingConfig | None = None,
        care: CareTiming | None = None,
        stored_baseline: Baseline | None = None,
        quiet_start: bool = True,
    ) -> None:
        if not steps:
            raise ValueError("a session needs at least one step")
        if not 0 <= grounding_step < len(steps):
            raise ValueError("grounding_step must index a step")
        if not stop_lines:
            raise ValueError("the stop grounding needs at least one line: a stop never ends in silence")
        self.steps = tuple(steps)
        self.grounding_step = grounding_step
        self.stop_lines = tuple(stop_lines)
        self.config = config or PacingConfig()
        self._distress_cfg = distress
        self._baseline_phase = (None if baseline is not None or not quiet_start
                                else (baseline_phase or BaselinePhase()))
        self.stored_baseline = stored_baseline
        baseline = baseline if baseline is not None or quiet_start else stored_baseline
        self.baseline: Baseline | None = baseline
        self.care_timing = care or CareTiming(opening={}, orientation=(), grounding=self.stop_lines,
                                              settled=(), closing=self.stop_lines[-1:])
        self._care: CareRun | None = None
        self._care_calm_since: float | None = None
        self.detector = DistressDetector(baseline, distress)
        self.phase = Phase.BASELINE
        self.tempo = 1.0
        self.resume_step: int | None = None
        self._run: _StepRun | None = None
        self._recent: deque[BodyReading] = deque()
        self._stop_t0 = 0.0
        self._stop_line = 0
        self._stop_next_t = 0.0
        self._t = -math.inf
        self._started_t = 0.0
        self._distressed = False

    # -- public -------------------------------------------------------------------------------

    @property
    def step(self) -> int | None:
        return self._run.index if self._run is not None and self.phase is Phase.STEP else None

    @property
    def care(self) -> CareRun | None:
        """The care sequence under way (None outside care)."""
        return self._care if self.phase is Phase.CARE else None

    @property
    def can_resume(self) -> bool:
        """In care, with an exercise step to go back to."""
        return self.phase is Phase.CARE and self.resume_step is not None

    @property
    def done(self) -> bool:
        return self.phase is Phase.DONE

    def start(self, t: float) -> list[StepEvent]:
        self._t = t
        self._started_t = t
        if self._baseline_phase is not None:
            self._baseline_phase.start(t)
            return [StepEvent(t, StepEventKind.BASELINE_START)]
        return self._start_step(0, t)

    def update(self, t: float, reading: BodyReading | None = None) -> list[StepEvent]:
        """Advance to ``t`` with an optional new reading; returns the events now due."""
        if t < self._t:
            raise ValueError("time went backwards")
        self._t = t
        events: list[StepEvent] = []
        if reading is not None:
            self._remember(reading)
        if self.phase is Phase.DONE:
            return events
        if self.phase is Phase.BASELINE:
            assert self._baseline_phase is not None
            if self._clearly_aroused(t):
                self._baseline_phase.end_early()  # no minute or two of silence for someone this awake
            if self._baseline_phase.update(t, reading):
                return events + self._after_quiet_start(t, self._baseline_phase.result)
            return events
        if self.phase is Phase.STOPPING:
            return events + self._stopping(t)
        if self.phase is Phase.CARE:
            if reading is not None:
                self.detector.update(reading)
            return events + self._tick_care(t)

        if reading is not None:
            change = self.detector.update(reading)
            if change is DistressState.DISTRESS:
                events += self._on_distress(t)
            elif change is DistressState.CALM:
                self._distressed = False
                events.append(StepEvent(t, StepEventKind.RECOVERED, step=self.step))
        events += self._tick_step(t)
        return events

    def stop(self, t: float) -> list[StepEvent]:
        """The person pressed stop: switch to the stop grounding (a second stop skips to its last line).

        In care, stop goes to the care's own closing (it says where to get help), not the stop grounding."""
        if self.phase is Phase.DONE:
            return []
        if self.phase is Phase.CARE and self._care is not None:
            self._care.close(t)
            self.resume_step = None
            return self._tick_care(t)
        if self.phase is Phase.STOPPING:
            if self._stop_line < len(self.stop_lines) - 1:
                self._stop_line = len(self.stop_lines) - 1
                self._stop_next_t = t
            return self._stopping(t)
        events = []
        if self._run is not None and self.phase is Phase.STEP:
            events.append(StepEvent(t, StepEventKind.STEP_END, step=self._run.index, reason=StepEndReason.STOP))
        self.phase = Phase.STOPPING
        self._stop_t0 = t
        self._stop_line = 0
        self._stop_next_t = t
        events.append(StepEvent(t, StepEventKind.STOP))
        return events + self._stopping(t)

    def finish(self, t: float, reason: DoneReason = DoneReason.SLEEP_TIMER) -> list[StepEvent]:
        """End now, without a stop grounding: a sleep timer ran out. Whoever set it may be asleep, and
        a voice saying "we are stopping" would wake them. Not during care or a stop's lines (they
        end on their own, and care must never be cut short): then nothing happens."""
        if self.phase in (Phase.DONE, Phase.CARE, Phase.STOPPING):
            return []
        events = []
        if self._run is not None and self.phase is Phase.STEP:
            events.append(StepEvent(t, StepEventKind.STEP_END, step=self._run.index, reason=StepEndReason.SLEEP_TIMER))
        self.phase = Phase.DONE
        events.append(StepEvent(t, StepEventKind.DONE, reason=reason))
        return events

    def skip(self, t: float) -> list[StepEvent]:
        """The person asked for the next step (never past the closing grounding)."""
        if self.phase is Phase.BASELINE and self._baseline_phase is not None:
            self._baseline_phase.end_early()
            return self.update(t)
        run = self._run
        if self.phase is not Phase.STEP or run is None or run.index >= self.grounding_step:
            return []
        ended = StepEvent(t, StepEventKind.STEP_END, step=run.index, reason=StepEndReason.SKIPPED)
        return [ended] + self._start_step(run.index + 1, t)

    def ground_now(self, t: float) -> list[StepEvent]:
        """The person said "this is too much": care at once, whatever the exercise was doing (also in
        therapist mode: the person's word counts more than any setting)."""
        if self.phase in (Phase.DONE, Phase.STOPPING, Phase.CARE):
            return []
        return self._on_distress(t, reason=DistressSource.ASKED)

    def resume(self, t: float) -> list[StepEvent]:
        """From care, go back to the step that was interrupted (the person chose to)."""
        if self.resume_step is None or self.phase is not Phase.CARE:
            return []
        index, self.resume_step = self.resume_step, None
        self._care = None
        self._distressed = False
        self.detector = DistressDetector(self.baseline, self._distress_cfg)  # a fresh judgement from here on
        self.phase = Phase.STEP
        return self._start_step(index, t)

    # -- internals ----------------------------------------------------------------------------

    def _remember(self, r: BodyReading) -> None:
        self._recent.append(r)
        horizon = r.t - max(self.config.settle_s, 15.0) - 1.0
        while self._recent and self._recent[0].t < horizon:
            self._recent.popleft()

    def body_state(self, t: float) -> BodyState:
        """How the body looks right now (last few seconds), against the baseline."""
        cfg = self.config
        recent = [r for r in self._recent if r.t >= t - 10.0]
        if not recent:
            return BodyState.UNKNOWN
        calms = [r.calm for r in recent if known(r.calm)]
        hrs = [r.hr_bpm for r in recent if known(r.hr_bpm) and r.hr_bpm > 0]
        b = self.baseline
        if b is not None and hrs and statistics.median(hrs) > b.hr_bpm + cfg.aroused_hr_rise_bpm:
            return BodyState.AROUSED
        if calms and statistics.median(calms) < cfg.aroused_calm:
            return BodyState.AROUSED
        if calms and statistics.median(calms) >= cfg.settled_calm:
            return BodyState.SETTLED
        if not calms and b is not None and hrs:
            window = [r.hr_bpm for r in self._recent if r.t >= t - cfg.settle_s and known(r.hr_bpm) and r.hr_bpm > 0]
            if (
                statistics.median(hrs) <= b.hr_bpm + cfg.settled_hr_rise_bpm
                and max(window) - min(window) <= cfg.settled_hr_spread_bpm
            ):
                return BodyState.SETTLED
        return BodyState.NEUTRAL if (calms or hrs) else BodyState.UNKNOWN

    def _calm_above(self, t: float, level: float) -> bool:
        recent = [r.calm for r in self._recent if r.t >= t - 10.0 and known(r.calm)]
        return bool(recent) and statistics.median(recent) >= level

    def _start_step(self, index: int, t: float) -> list[StepEvent]:
        self._run = _StepRun(index, t, 0, t)
        self.phase = Phase.STEP
        events = [StepEvent(t, StepEventKind.STEP_START, step=index)]
        return events + self._prompts(t)

    def _prompts(self, t: float) -> list[StepEvent]:
        run = self._run
        assert run is not None
        timing = self.steps[run.index]
        events = []
        while run.next_line < len(timing.prompt_s) and t >= run.next_line_t:
            events.append(StepEvent(run.next_line_t, StepEventKind.PROMPT, step=run.index, line=run.next_line))
            quiet = timing.quiet_s[run.next_line] if timing.quiet_s else 0.0
            run.speech_end = run.next_line_t + timing.prompt_s[run.next_line] - quiet
            run.next_line_t += timing.prompt_s[run.next_line] * self.tempo
            run.next_line += 1
        return events

    def _hold(self, t: float) -> list[StepEvent]:
        """The step runs on after its lines (the body is not settled yet): a short hold line before the
        silence grows longer than the script allows. Its line index counts on after the step's lines."""
        run = self._run
        assert run is not None
        timing = self.steps[run.index]
        if timing.by_hand or not timing.hold_s or run.next_line < len(timing.prompt_s):
            return []
        due = max(run.next_line_t, run.speech_end + hold_delay_s(timing.max_quiet_s) * self.tempo)
        if t < due:
            return []
        k = run.holds
        run.holds += 1
        run.speech_end = due + timing.hold_s[k % len(timing.hold_s)]
        return [StepEvent(due, StepEventKind.PROMPT, step=run.index, line=len(timing.prompt_s) + k)]

    def _tick_step(self, t: float) -> list[StepEvent]:
        run = self._run
        assert run is not None
        timing = self.steps[run.index]
        state = self.body_state(t)
        if self._distressed:
            self.tempo = self.config.distress_tempo
        elif state is BodyState.AROUSED:
            self.tempo = self.config.aroused_tempo
        else:
            self.tempo = 1.0
        events = self._prompts(t)
        elapsed = t - run.t0
        all_said = run.next_line >= len(timing.prompt_s) and (
            t >= run.next_line_t if timing.tail_s is None or not timing.prompt_s
            else t >= run.speech_end + timing.tail_s * self.tempo)

        if state is BodyState.SETTLED or (timing.advance == "calm" and self._calm_above(t, timing.calm_above or 1.0)):
            run.settled_since = run.settled_since if run.settled_since is not None else t
        else:
            run.settled_since = None
        settled_long = run.settled_since is not None and t - run.settled_since >= self.config.settle_s

        reason: StepEndReason | None = None
        if timing.by_hand:
            pass  # the therapist moves on (skip), whatever the clock says
        elif elapsed >= timing.max_s:
            reason = StepEndReason.MAX
        elif elapsed >= timing.min_s and all_said:
            if timing.advance == "time":
                reason = StepEndReason.TIME if elapsed >= timing.nominal_s else None
            elif timing.advance == "calm":
                reason = StepEndReason.CALM if settled_long else None
            else:  # settled
                if settled_long:
                    reason = StepEndReason.SETTLED
                elif elapsed >= timing.nominal_s and state is not BodyState.AROUSED and not self._distressed:
                    reason = StepEndReason.TIME
        if reason is None:
            return events + self._hold(t)
        events.append(StepEvent(t, StepEventKind.STEP_END, step=run.index, reason=reason))
        if run.index + 1 < len(self.steps):
            events += self._start_step(run.index + 1, t)
        else:
            self.phase = Phase.DONE
            events.append(StepEvent(t, StepEventKind.DONE, reason=DoneReason.COMPLETED))
        return events

    def _on_distress(self, t: float, reason: DistressSource = DistressSource.BODY) -> list[StepEvent]:
        self._distressed = True
        self.tempo = self.config.distress_tempo
        run = self._run
        events = [StepEvent(t, StepEventKind.DISTRESS, step=self.step, reason=reason)]
        if self.config.alert_only and reason is DistressSource.BODY:
            return events  # therapist mode: an alert, the therapist decides
        if run is not None and self.phase is Phase.STEP:
            self.resume_step = run.index
            events.append(StepEvent(t, StepEventKind.STEP_END, step=run.index, reason=StepEndReason.DISTRESS))
        origin = CareOrigin.ASKED if reason is DistressSource.ASKED else CareOrigin.BODY
        return events + self._start_care(t, origin)

    def _aroused_threshold(self) -> float | None:
        stored, cfg = self.stored_baseline, self.config
        if stored is None:
            return None
        return stored.hr_bpm + min(cfg.aroused_start_bpm, cfg.aroused_start_frac * stored.hr_bpm)

    def _clearly_aroused(self, t: float) -> bool:
        """Early in the quiet start: heart rate already far above this person's stored resting level."""
        threshold = self._aroused_threshold()
        if threshold is None or t - self._started_t < self.config.aroused_early_s:
            return False
        hrs = [r.hr_bpm for r in self._recent if r.t >= t - 20.0 and known(r.hr_bpm)]
        return len(hrs) >= 10 and statistics.median(hrs) > threshold

    def _after_quiet_start(self, t: float, measured: Baseline | None) -> list[StepEvent]:
        """The quiet start is over: its baseline, and either the first step or, when the body is far
        more awake than this person's stored resting level, care first (judged against that level)."""
        self.baseline = measured
        stored, threshold = self.stored_baseline, self._aroused_threshold()
        aroused = measured is not None and threshold is not None and measured.hr_bpm > threshold
        if aroused:
            self.baseline = stored
        self.detector = DistressDetector(self.baseline, self._distress_cfg)
        events = [StepEvent(t, StepEventKind.BASELINE_DONE, baseline=measured, aroused=aroused)]
        if aroused:
            self.resume_step = 0
            return events + self._start_care(t, CareOrigin.AROUSED_START)
        return events + self._start_step(0, t)

    def _start_care(self, t: float, origin: CareOrigin) -> list[StepEvent]:
        self.phase = Phase.CARE
        self._care = CareRun(t, origin, self.care_timing, self.config.care)
        self._care_calm_since = None
        return [StepEvent(t, StepEventKind.CARE_START, origin=origin)] + self._tick_care(t)

    def _tick_care(self, t: float) -> list[StepEvent]:
        care = self._care
        assert care is not None
        events = []
        if not care.settled and care.may_settle and self._calm_for(t) >= self.config.settle_s:
            care.settle(t)
            events.append(StepEvent(t, StepEventKind.CARE_SETTLED, origin=care.origin))
        for line in care.due(t):
            events.append(StepEvent(line.t, StepEventKind.CARE_PROMPT, line=line.line, care_stage=line.stage,
                                    origin=care.origin))
        if care.finished:
            if care.origin is CareOrigin.AROUSED_START and care.settled and self.resume_step is not None:
                return events + self.resume(t)  # settled after an aroused start: the exercise begins
            self.phase = Phase.DONE
            self._care = None
            done = {CareOrigin.BODY: DoneReason.DISTRESS, CareOrigin.ASKED: DoneReason.TOO_MUCH,
                    CareOrigin.AROUSED_START: DoneReason.AROUSED}[care.origin]
            events.append(StepEvent(t, StepEventKind.DONE, reason=done))
        return events

    def _calm_for(self, t: float) -> float:
        """How long the body has looked settled (or at least not aroused, with distress cleared)."""
        state = self.body_state(t)
        calm = (state in (BodyState.SETTLED, BodyState.NEUTRAL)
                and self.detector.state is DistressState.CALM)
        if not calm:
            self._care_calm_since = None
            return 0.0
        if self._care_calm_since is None:
            self._care_calm_since = t
        return t - self._care_calm_since

    def _stopping(self, t: float) -> list[StepEvent]:
        events = []
        while self._stop_line < len(self.stop_lines) and t >= self._stop_next_t:
            events.append(StepEvent(self._stop_next_t, StepEventKind.STOP_PROMPT, line=self._stop_line))
            self._stop_next_t += self.stop_lines[self._stop_line]
            self._stop_line += 1
        if self._stop_line >= len(self.stop_lines) and t >= self._stop_next_t:
            self.phase = Phase.DONE
            events.append(StepEvent(t, StepEventKind.DONE, reason=DoneReason.STOPPED))
        return events


def speech_seconds(text: str, pause_s: float = 4.0) -> float:
    """Time a line of fixed text needs when no voice measured it: calm speech plus a pause to let it land
    (the shared texts: care, stop; a step's lines are spread by :mod:`biofeedback.prompt_timing`)."""
    return estimate_speech_s(text) + pause_s
