"""Trace a scenario from start to end: check, prepare, launch under the tracer, clean up.

Used by `boxtrace demo`, `make recordings` (python -m scenarios.record), the tests and the notebooks, so all of them
trace a scenario the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from scenarios.base import Scenario
from tracer.engine import TraceOptions
from tracer.events import Event
from tracer.session import TraceSession
from tracer.source import TraceResult


class ScenarioNotReady(Exception):
    """The machine cannot run this scenario; the message says why and how to fix it."""


@dataclass
class ScenarioRun:
    result: TraceResult
    events: list[Event]
    output: Path | None


def trace_scenario(
    scenario: Scenario,
    output: str | Path | None = None,
    options: TraceOptions | None = None,
    sinks: Sequence[Callable[[Event], None]] = (),
    on_session: Callable[[TraceSession], None] | None = None,
) -> ScenarioRun:
    """Trace one scenario for real. Raises ScenarioNotReady when `scenario.check()` says no."""
    readiness = scenario.check()
    if not readiness.ready:
        raise ScenarioNotReady(f"{scenario.name}: {readiness.reason} {readiness.fix}".strip())
    scenario.prepare()
    launch = scenario.launch()
    base = options or TraceOptions()
    if scenario.inject and not base.inject:
        from tracer.inject import parse_rule

        base = replace(base, inject=tuple(parse_rule(rule) for rule in scenario.inject))
    options = replace(
        base,
        scenario=scenario.name,
        run_as=launch.user if launch.user is not None else base.run_as,
        env=launch.env if launch.env is not None else base.env,
        cwd=launch.cwd or base.cwd,
    )
    events: list[Event] = []
    session = TraceSession(launch.command, launch.attach_pids, options, output, sinks=[events.append, *sinks])
    if on_session is not None:
        on_session(session)
    try:
        result = session.run()
    finally:
        scenario.cleanup()
    return ScenarioRun(result, events, Path(output) if output else None)
