"""One vocabulary for metrics and events: the checks that keep the code honest.

* No code outside the vocabulary modules compares a string with an event kind, a step-end reason,
  a done reason or a session phase (checked on the source: every ``==``, ``!=``, ``in`` and
  ``not in`` whose other side is a string literal naming one of them).
* Every metric of the registry reaches every place its flags name, and adding one is a registry
  line: a metric added at run time shows up in the record's columns, the phase table, the report
  panels, the terminal view, the curves and the MQTT payload.
* Every event the runner records is declared (an undeclared field is logged as an error).
"""

from __future__ import annotations

import ast
import importlib
import logging
from pathlib import Path

import pytest

from biofeedback.step_pacer import DoneReason, StepEndReason
from sessions.events import EVENTS, EventKind, SessionPhase, event_data

ROOT = Path(__file__).resolve().parents[1]
VOCABULARY_MODULES = {ROOT / "sessions" / "events.py", ROOT / "biofeedback" / "step_pacer.py"}
WORDS = ({k.value for k in EventKind} | {r.value for r in StepEndReason} | {r.value for r in DoneReason}
         | {p.value for p in SessionPhase})


def _string_comparisons(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        sides = [node.left, *node.comparators]
        for side in sides:
            consts = [side] if isinstance(side, ast.Constant) else (
                list(side.elts) if isinstance(side, (ast.Tuple, ast.List, ast.Set)) else [])
            for c in consts:
                if isinstance(c, ast.Constant) and isinstance(c.value, str) and c.value in WORDS:
                    found.append((node.lineno, c.value))
    return found


def test_no_string_event_kind_or_reason_is_compared_outside_the_vocabulary():
    offenders = []
    for package in ("sessions", "biofeedback"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path in VOCABULARY_MODULES:
                continue
            for line, word in _string_comparisons(ast.parse(path.read_text(), str(path))):
                offenders.append(f"{path.relative_to(ROOT)}:{line} compares with {word!r}")
    # Words that are also plain English in other vocabularies (a pacer mode "fixed", a link state
    # "connected") are not in WORDS; what is left must go through the enums.
    assert offenders == []


def test_the_check_itself_finds_a_string_comparison():
    tree = ast.parse('if kind == "distress" or reason in ("max", "time"): pass')
    assert [w for _, w in _string_comparisons(tree)] == ["distress", "max", "time"]


def test_an_undeclared_event_field_is_an_error_but_the_event_is_kept(caplog):
    with caplog.at_level(logging.ERROR, logger="sessions.events"):
        out = event_data(EventKind.STOP, {"reason": StepEndReason.STOP, "mood": "grim"})
    assert out == {"reason": "stop", "mood": "grim"}
    assert "undeclared field 'mood'" in caplog.text


def test_every_kind_is_declared():
    assert set(EVENTS) == set(EventKind)


async def test_a_simulated_session_records_only_declared_events(tmp_path, caplog):
    from tests.sessionkit import run_session

    with caplog.at_level(logging.ERROR, logger="sessions.events"):
        ran = await run_session(tmp_path, duration_s=200)
    assert ran.result.beats > 100
    assert [r for r in caplog.records if r.name == "sessions.events"] == []


@pytest.fixture
def extra_metric(monkeypatch):
    """One registry line, added at run time as a developer would add it to METRICS."""
    from sessions import metric_registry as registry

    line = registry.MetricSpec("n_nn", "nnn", "beat:n_nn", {"en": "NN beats", "nl": "NN-slagen"}, "",
                               live=True, curve=True, per_phase=True, report=True, published=True)
    metrics = registry.METRICS + (line,)
    monkeypatch.setattr(registry, "METRICS", metrics)
    for name, flag in (("RECORDED", "recorded"), ("LIVE", "live"), ("CURVES", "curve"), ("PER_PHASE", "per_phase"),
                       ("REPORT", "report"), ("PUBLISHED", "published")):
        monkeypatch.setattr(registry, name, tuple(m for m in metrics if getattr(m, flag)))
    monkeypatch.setattr(registry, "FROM_BEAT", registry.FROM_BEAT + (("n_nn", "n_nn"),))
    monkeypatch.setattr(registry, "BY_KEY", {m.key: m for m in metrics})
    yield line
    monkeypatch.undo()
    for mod in _registry_readers():
        importlib.reload(mod)


def _registry_readers():
    import sessions.mqtt.schema
    import sessions.phases
    import sessions.review.phase_table
    import sessions.review.record

    return (sessions.phases, sessions.review.record, sessions.review.phase_table, sessions.mqtt.schema)


async def test_a_metric_added_to_the_registry_reaches_the_record_the_table_and_the_wire(tmp_path, extra_metric):
    """What `the engine + one registry line` buys: the value is computed by the engine (BeatMetrics.n_nn)
    and every consumer that loops over the registry picks it up."""
    from tests.sessionkit import run_session

    for mod in _registry_readers():
        importlib.reload(mod)
    import sessions.mqtt.schema
    import sessions.review.phase_table
    import sessions.review.record

    ran = await run_session(tmp_path, duration_s=200)
    n_nn = ran.runner.state.value("n_nn")
    assert n_nn is not None and n_nn > 30
    assert sessions.mqtt.schema.metrics_payload(ran.runner.state, 800.0, 0.0)["nnn"] == n_nn
    record = sessions.review.record.load_record(ran.path)
    assert (record.metrics["n_nn"] > 0).any()
    header, _body = sessions.review.phase_table.table_cells(sessions.review.phase_table.phase_rows(record), "nl")
    assert "NN-slagen" in header

