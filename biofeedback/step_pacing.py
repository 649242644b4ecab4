"""Prompt pacing and safety: when the next line is said, when a step ends, and when to stop pushing.

Why it is built this way:

* **The body sets the tempo, the script sets the bounds.** A step never ends before its minimum
  (a prompt needs time to land) and never runs past its maximum (a stuck session is worse than a
  slightly early one). In between, a settled body moves on sooner and an aroused body gets more
  time and slower prompts.
* **Safety is a separate, conservative detector.** :class:`DistressDetector` looks for *sustained*
  distress: heart rate well above the person's own baseline for about 10 s, or RMSSD collapsing
  while heart rate is up. One artefact beat or a 3-second bump (a cough, turning over) must not
  interrupt someone's exercise, but a real rise must be answered within 20 s. It has hysteresis
  (a lower "clear" threshold that must hold for 30 s) so it does not flap.
* **Distress changes the plan, not just a colour.** :class:`StepPacer` answers it by slowing the
  prompts, jumping to the script's grounding step, and telling the runner to say that stopping
  is fine. After that grounding the session ends unless the person chooses to resume.
* **Stop never ends in silence.** ``StepPacer.stop()`` switches to a short stop-grounding sequence
  and reports ``DONE`` only when its last line has had time to be said. A second stop skips to the
  closing line, not past it.
* **Time and readings are passed in**, so the same code runs live, on a replay, and in tests.
  The runner turns every returned :class:`StepEvent` into speech/text and a recorded event.

Readings use plain numbers: heart rate in bpm, RMSSD in ms, calm score in 0..1 (the runner
scales the HRV engine's calm score into that range). A quiet baseline phase (:class:`BaselinePhase`,
about 1-2 minutes of breathing as you are) opens each session and provides the reference values.
"""

from __future__ import annotations

import enum
import math
import statistics
from collections import deque
from dataclasses import dataclass
from typing import Literal, Sequence

Advance = Literal["time", "settled", "calm"]


@dataclass(frozen=True, slots=True)
class BodyReading:
    """One reading (per beat or per second). Any value may be None while unknown."""

    t: float
    hr_bpm: float | None = None
    rmssd_ms: float | None = None
    calm: float | None = None
    """Calm score scaled to 0..1."""


def _ok(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


# --------------------------------------------------------------------------------------------
# Baseline
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Baseline:
    """The person's resting reference for this session."""

    hr_bpm: float
    rmssd_ms: float | None = None


class BaselinePhase:
    """The quiet opening phase: breathe as you are, no pacer, no prompts.

    It ends after ``min_s`` once heart rate has been steady for the last ``steady_s`` (spread of
    the per-second heart rate within ``steady_bpm``), and at ``max_s`` in any case. The baseline
    is the median heart rate and RMSSD of the second half of the phase (the first half often still
    carries the walk to the bed or the fiddling with the strap).
    """

    def __init__(self, min_s: float = 60.0, max_s: float = 120.0, steady_s: float = 30.0, steady_bpm: float = 8.0):
        if not 0 < min_s <= max_s:
            raise ValueError("baseline needs 0 < min_s <= max_s")
        self.min_s, self.max_s, self.steady_s, self.steady_bpm = min_s, max_s, steady_s, steady_bpm
        self._t0: float | None = None
        self._readings: list[BodyReading] = []
        self.result: Baseline | None = None
        self.done = False

    def start(self, t: float) -> None:
        self._t0 = t

    def update(self, t: float, reading: BodyReading | None = None) -> bool:
        """Feed a reading; True once the phase is over (``result`` then holds the baseline, or None
        when no usable heart rate came in: the safety detector then cannot run)."""
        if self._t0 is None:
            self._t0 = t
        if self.done:
            return True
        if reading is not None:
            self._readings.append(reading)
        elapsed = t - self._t0
        if elapsed >= self.max_s or (elapsed >= self.min_s and self._steady(t)):
            self.done = True
            self.result = self._compute(t)
        return self.done

    def end_early(self) -> None:
        """The person skipped the quiet start: it ends at the next update, with what it has."""
        self.min_s = self.max_s = 0.0

    def _steady(self, t: float) -> bool:
        recent = [r.hr_bpm for r in self._readings if r.t >= t - self.steady_s and _ok(r.hr_bpm)]
        if len(recent) < max(5, int(self.steady_s / 2)):
            return False
        return max(recent) - min(recent) <= self.steady_bpm

    def _compute(self, t: float) -> Baseline | None:
        assert self._t0 is not None
        half = self._t0 + (t - self._t0) / 2
        late = [r for r in self._readings if r.t >= half] or self._readings
        hrs = [r.hr_bpm for r in late if _ok(r.hr_bpm) and r.hr_bpm > 0]
        if not hrs:
            return None
        rm = [r.rmssd_ms for r in late if _ok(r.rmssd_ms) and r.rmssd_ms > 0]
        return Baseline(statistics.median(hrs), statistics.median(rm) if rm else None)


# --------------------------------------------------------------------------------------------
# Distress
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DistressConfig:
    rise_bpm: float = 15.0
    rise_frac: float = 0.25
    """Heart rate counts as high above baseline + min(rise_bpm, rise_frac x baseline)."""
    sustain_s: float = 10.0
    """How long the evidence must cover before distress is declared."""
    window_s: float = 12.0
    """Evidence window; within it at least ``share`` of the readings must be high."""
    share: float = 0.8
    rmssd_frac: float = 0.5
    """RMSSD counts as collapsed below this fraction of baseline ..."""
    rmssd_hr_rise_bpm: float = 8.0
    """... when heart rate is also up by at least this much."""
    clear_rise_bpm: float = 8.0
    """Distress clears once heart rate stays below baseline + this ..."""
    clear_s: float = 30.0
    """... for this long (the hysteresis)."""
    max_gap_s: float = 4.0
    """Readings further apart than this break the evidence (no strap, no judgement)."""
    settled_window_s: float = 180.0
    settled_skip_s: float = 30.0
    settled_quantile: float = 0.25
    """Someone who has settled well below the session's baseline is judged against where they
    settled: the lower quartile of heart rate over the last 3 minutes (leaving out the last 30 s,
    which may already be the rise). A rise from 60 to 85 bpm is alarming even if the baseline was 75."""


class DistressState(enum.Enum):
    CALM = "calm"
    DISTRESS = "distress"


class DistressDetector:
    """Sustained-distress detector with hysteresis; feed it readings, read back transitions.

    ``update(reading)`` returns ``DistressState.DISTRESS`` at the moment distress starts,
    ``DistressState.CALM`` at the moment it clears, and None otherwise; ``state`` holds the
    current state. Without a baseline it never fires (it cannot tell high from normal).
    """

    def __init__(self, baseline: Baseline | None, config: DistressConfig | None = None) -> None:
        self.baseline = baseline
        self.config = config or DistressConfig()
        self.state = DistressState.CALM
        self._window: deque[tuple[float, bool]] = deque()
        self._calm_since: float | None = None
        self.onset_t: float | None = None
        self._history: deque[tuple[float, float]] = deque()

    @property
    def reference_hr(self) -> float:
        """The resting level a rise is measured from: the baseline, or lower where the person settled."""
        assert self.baseline is not None
        cfg = self.config
        if not self._history:
            return self.baseline.hr_bpm
        end = self._history[-1][0] - cfg.settled_skip_s
        settled = sorted(hr for t, hr in self._history if t <= end)
        if len(settled) < 30 or end - self._history[0][0] < 60.0:
            return self.baseline.hr_bpm
        return min(self.baseline.hr_bpm, settled[int(cfg.settled_quantile * (len(settled) - 1))])

    @property
    def high_hr(self) -> float:
        """Heart rate above which a reading counts as distress evidence."""
        b = self.reference_hr
        return b + min(self.config.rise_bpm, self.config.rise_frac * b)

    def _evidence(self, r: BodyReading) -> bool | None:
        b, cfg = self.baseline, self.config
        assert b is not None
        if not _ok(r.hr_bpm) or r.hr_bpm <= 0:
            return None
        if r.hr_bpm > self.high_hr:
            return True
        if b.rmssd_ms and _ok(r.rmssd_ms) and r.rmssd_ms < cfg.rmssd_frac * b.rmssd_ms:
            return r.hr_bpm > b.hr_bpm + cfg.rmssd_hr_rise_bpm
        return False

    def update(self, reading: BodyReading) -> DistressState | None:
        if self.baseline is None:
            return None
        cfg = self.config
        ev = self._evidence(reading)
        if ev is None:
            return None
        t = reading.t
        if self.state is DistressState.CALM:
            self._history.append((t, float(reading.hr_bpm)))
            while self._history and self._history[0][0] < t - cfg.settled_window_s:
                self._history.popleft()
        if self._window and t - self._window[-1][0] > cfg.max_gap_s:
            self._window.clear()
        self._window.append((t, ev))
        while self._window and self._window[0][0] < t - cfg.window_s:
            self._window.popleft()

        if self.state is DistressState.CALM:
            span = t - self._window[0][0]
            high = sum(1 for _, e in self._window if e)
            if span >= cfg.sustain_s - 1e-9 and ev and high >= cfg.share * len(self._window):
                self.state = DistressState.DISTRESS
                self.onset_t = t
                self._calm_since = None
                return DistressState.DISTRESS
            return None

        assert self.baseline is not None
        below = reading.hr_bpm < self.baseline.hr_bpm + cfg.clear_rise_bpm
        if below and self.baseline.rmssd_ms and _ok(reading.rmssd_ms):
            below = reading.rmssd_ms >= cfg.rmssd_frac * self.baseline.rmssd_ms
        if not below:
            self._calm_since = None
            return None
        if self._calm_since is None:
            self._calm_since = t
        if t - self._calm_since >= cfg.clear_s:
            self.state = DistressState.CALM
            self._window.clear()
            self._calm_since = None
            return DistressState.CALM
        return None


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


class Phase(enum.Enum):
    BASELINE = "baseline"
    STEP = "step"
    GROUNDING = "grounding"
    """The script's grounding step, jumped to because of distress."""
    STOPPING = "stopping"
    DONE = "done"


class EventKind(enum.Enum):
    BASELINE_START = "baseline_start"
    BASELINE_DONE = "baseline_done"
    STEP_START = "step_start"
    PROMPT = "prompt"
    STEP_END = "step_end"
    DISTRESS = "distress"
    """Say the distress message (stopping is fine) and stop slowing the breath (``ResonanceGuide.hold``);
    the prompts slow down by themselves and the grounding step follows (unless already grounding)."""
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
    kind: EventKind
    step: int | None = None
    line: int | None = None
    reason: str = ""
    baseline: Baseline | None = None


@dataclass
class _StepRun:
    index: int
    t0: float
    next_line: int = 0
    next_line_t: float = 0.0
    settled_since: float | None = None


class StepPacer:
    """The session's timeline: baseline, then the script's steps, with distress and stop handling.

    ``steps``: the timings of the script's steps; ``grounding_step``: the index of the step to jump
    to on distress (by convention the script's closing grounding step); ``stop_lines``: seconds per
    line of the stop-grounding text. Pass ``baseline`` to skip the baseline phase (e.g. a second
    exercise in the same sitting). Call ``start(t)``, then ``update(t, reading)`` regularly (at
    least once a second); each call returns the events that became due.
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
        self._baseline_phase = None if baseline is not None else (baseline_phase or BaselinePhase())
        self.baseline: Baseline | None = baseline
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
        self._distressed = False

    # -- public -------------------------------------------------------------------------------

    @property
    def step(self) -> int | None:
        return self._run.index if self._run is not None and self.phase in (Phase.STEP, Phase.GROUNDING) else None

    @property
    def done(self) -> bool:
        return self.phase is Phase.DONE

    def start(self, t: float) -> list[StepEvent]:
        self._t = t
        if self._baseline_phase is not None:
            self._baseline_phase.start(t)
            return [StepEvent(t, EventKind.BASELINE_START)]
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
            if self._baseline_phase.update(t, reading):
                self.baseline = self._baseline_phase.result
                self.detector = DistressDetector(self.baseline, self._distress_cfg)
                events.append(StepEvent(t, EventKind.BASELINE_DONE, baseline=self.baseline))
                events += self._start_step(0, t)
            return events
        if self.phase is Phase.STOPPING:
            return events + self._stopping(t)

        if reading is not None:
            change = self.detector.update(reading)
            if change is DistressState.DISTRESS:
                events += self._on_distress(t)
            elif change is DistressState.CALM:
                self._distressed = False
                events.append(StepEvent(t, EventKind.RECOVERED, step=self.step))
        events += self._tick_step(t)
        return events

    def stop(self, t: float) -> list[StepEvent]:
        """The person pressed stop: switch to the stop grounding (a second stop skips to its last line)."""
        if self.phase is Phase.DONE:
            return []
        if self.phase is Phase.STOPPING:
            if self._stop_line < len(self.stop_lines) - 1:
                self._stop_line = len(self.stop_lines) - 1
                self._stop_next_t = t
            return self._stopping(t)
        events = []
        if self._run is not None and self.phase in (Phase.STEP, Phase.GROUNDING):
            events.append(StepEvent(t, EventKind.STEP_END, step=self._run.index, reason="stop"))
        self.phase = Phase.STOPPING
        self._stop_t0 = t
        self._stop_line = 0
        self._stop_next_t = t
        events.append(StepEvent(t, EventKind.STOP))
        return events + self._stopping(t)

    def skip(self, t: float) -> list[StepEvent]:
        """The person asked for the next step (never past the closing grounding)."""
        if self.phase is Phase.BASELINE and self._baseline_phase is not None:
            self._baseline_phase.end_early()
            return self.update(t)
        run = self._run
        if self.phase is not Phase.STEP or run is None or run.index >= self.grounding_step:
            return []
        return [StepEvent(t, EventKind.STEP_END, step=run.index, reason="skipped")] + self._start_step(run.index + 1, t)

    def ground_now(self, t: float) -> list[StepEvent]:
        """The person said "this is too much": the same answer as to distress, at once."""
        if self.phase in (Phase.DONE, Phase.STOPPING) or self._run is None:
            return self.stop(t) if self.phase is Phase.BASELINE else []
        return self._on_distress(t, reason="asked")

    def resume(self, t: float) -> list[StepEvent]:
        """After a distress grounding, go back to the step that was interrupted (the person chose to)."""
        if self.resume_step is None or self.phase is not Phase.GROUNDING:
            return []
        index, self.resume_step = self.resume_step, None
        events = []
        if self._run is not None:
            events.append(StepEvent(t, EventKind.STEP_END, step=self._run.index, reason="resume"))
        self._distressed = False
        self.phase = Phase.STEP
        return events + self._start_step(index, t)

    # -- internals ----------------------------------------------------------------------------

    def _remember(self, r: BodyReading) -> None:
        self._recent.append(r)
        horizon = r.t - max(self.config.settle_s, 15.0) - 1.0
        while self._recent and self._recent[0].t < horizon:
            self._recent.popleft()

    def body_state(self, t: float) -> Literal["settled", "aroused", "neutral", "unknown"]:
        """How the body looks right now (last few seconds), against the baseline."""
        cfg = self.config
        recent = [r for r in self._recent if r.t >= t - 10.0]
        if not recent:
            return "unknown"
        calms = [r.calm for r in recent if _ok(r.calm)]
        hrs = [r.hr_bpm for r in recent if _ok(r.hr_bpm) and r.hr_bpm > 0]
        b = self.baseline
        if b is not None and hrs and statistics.median(hrs) > b.hr_bpm + cfg.aroused_hr_rise_bpm:
            return "aroused"
        if calms and statistics.median(calms) < cfg.aroused_calm:
            return "aroused"
        if calms and statistics.median(calms) >= cfg.settled_calm:
            return "settled"
        if not calms and b is not None and hrs:
            window = [r.hr_bpm for r in self._recent if r.t >= t - cfg.settle_s and _ok(r.hr_bpm) and r.hr_bpm > 0]
            if (
                statistics.median(hrs) <= b.hr_bpm + cfg.settled_hr_rise_bpm
                and max(window) - min(window) <= cfg.settled_hr_spread_bpm
            ):
                return "settled"
        return "neutral" if (calms or hrs) else "unknown"

    def _calm_above(self, t: float, level: float) -> bool:
        recent = [r.calm for r in self._recent if r.t >= t - 10.0 and _ok(r.calm)]
        return bool(recent) and statistics.median(recent) >= level

    def _start_step(self, index: int, t: float) -> list[StepEvent]:
        self._run = _StepRun(index, t, 0, t)
        if self.phase is not Phase.GROUNDING:
            self.phase = Phase.STEP
        events = [StepEvent(t, EventKind.STEP_START, step=index)]
        return events + self._prompts(t)

    def _prompts(self, t: float) -> list[StepEvent]:
        run = self._run
        assert run is not None
        timing = self.steps[run.index]
        events = []
        while run.next_line < len(timing.prompt_s) and t >= run.next_line_t:
            events.append(StepEvent(run.next_line_t, EventKind.PROMPT, step=run.index, line=run.next_line))
            run.next_line_t += timing.prompt_s[run.next_line] * self.tempo
            run.next_line += 1
        return events

    def _tick_step(self, t: float) -> list[StepEvent]:
        run = self._run
        assert run is not None
        timing = self.steps[run.index]
        state = self.body_state(t)
        if self._distressed:
            self.tempo = self.config.distress_tempo
        elif state == "aroused":
            self.tempo = self.config.aroused_tempo
        else:
            self.tempo = 1.0
        events = self._prompts(t)
        elapsed = t - run.t0
        all_said = run.next_line >= len(timing.prompt_s) and t >= run.next_line_t

        if state == "settled" or (timing.advance == "calm" and self._calm_above(t, timing.calm_above or 1.0)):
            run.settled_since = run.settled_since if run.settled_since is not None else t
        else:
            run.settled_since = None
        settled_long = run.settled_since is not None and t - run.settled_since >= self.config.settle_s

        reason = None
        if elapsed >= timing.max_s:
            reason = "max"
        elif elapsed >= timing.min_s and all_said:
            if timing.advance == "time":
                reason = "time" if elapsed >= timing.nominal_s else None
            elif timing.advance == "calm":
                reason = "calm" if settled_long else None
            else:  # settled
                if settled_long:
                    reason = "settled"
                elif elapsed >= timing.nominal_s and state != "aroused" and not self._distressed:
                    reason = "time"
        if reason is None:
            return events
        events.append(StepEvent(t, EventKind.STEP_END, step=run.index, reason=reason))
        if self.phase is Phase.GROUNDING:
            self.phase = Phase.DONE
            events.append(StepEvent(t, EventKind.DONE, reason="distress"))
        elif run.index + 1 < len(self.steps):
            events += self._start_step(run.index + 1, t)
        else:
            self.phase = Phase.DONE
            events.append(StepEvent(t, EventKind.DONE, reason="completed"))
        return events

    def _on_distress(self, t: float, reason: str = "body") -> list[StepEvent]:
        self._distressed = True
        self.tempo = self.config.distress_tempo
        run = self._run
        assert run is not None
        events = [StepEvent(t, EventKind.DISTRESS, step=run.index, reason=reason)]
        if self.phase is Phase.GROUNDING or run.index == self.grounding_step:
            return events  # already grounding: slow down and say it, nothing to jump to
        self.resume_step = run.index
        events.append(StepEvent(t, EventKind.STEP_END, step=run.index, reason="distress"))
        self.phase = Phase.GROUNDING
        return events + self._start_step(self.grounding_step, t)

    def _stopping(self, t: float) -> list[StepEvent]:
        events = []
        while self._stop_line < len(self.stop_lines) and t >= self._stop_next_t:
            events.append(StepEvent(self._stop_next_t, EventKind.STOP_PROMPT, line=self._stop_line))
            self._stop_next_t += self.stop_lines[self._stop_line]
            self._stop_line += 1
        if self._stop_line >= len(self.stop_lines) and t >= self._stop_next_t:
            self.phase = Phase.DONE
            events.append(StepEvent(t, EventKind.DONE, reason="stopped"))
        return events


def speech_seconds(text: str, words_per_minute: float = 110.0, pause_s: float = 4.0) -> float:
    """Rough time a line needs: calm speech (slower than conversation) plus a pause to let it land."""
    words = len(text.split())
    return words * 60.0 / words_per_minute + pause_s


__all__ = [
    "Advance",
    "Baseline",
    "BaselinePhase",
    "BodyReading",
    "DistressConfig",
    "DistressDetector",
    "DistressState",
    "EventKind",
    "Phase",
    "PacingConfig",
    "StepEvent",
    "StepPacer",
    "StepTiming",
    "speech_seconds",
]
