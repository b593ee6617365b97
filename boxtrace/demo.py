"""`boxtrace demo`: prepare a scenario, trace it live, and show it (TUI on a terminal, console otherwise).

With --replay, the shipped recording of the scenario is shown instead: no root, no Docker, for a classroom.
"""

from __future__ import annotations

import copy
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from boxtrace.errors import UserError
from boxtrace.outputs import check_output
from boxtrace.stopping import install_stop_handlers

if TYPE_CHECKING:
    from tracer.session import TraceSession


def default_scenario() -> str:
    """docker when a Docker engine answers, else runc (the issue's rule)."""
    from scenarios.daemons import docker_answers

    return "docker" if docker_answers(timeout=3.0) else "runc"


def run_demo(name: str | None, *, output: str | None, tui: bool, replay: bool, what_if: str | None = None,
             inject: tuple = (), present: bool = False, export_dir: Path | None = None) -> int:
    from scenarios import UnknownScenario, get_scenario

    if name is None:
        name = "docker" if replay else default_scenario()
    if what_if:
        name = f"{name}-what-if-{what_if}"
    try:
        scenario = get_scenario(name)
    except UnknownScenario as error:
        raise UserError(str(error), code=2) from None
    if inject:
        from tracer.inject import InjectRule

        scenario = copy.copy(scenario)  # the registry's object stays as it is
        scenario.inject = tuple(scenario.inject) + tuple(r.text if isinstance(r, InjectRule) else r for r in inject)
    if replay:
        return _replay(scenario.recording_path(), tui=tui, present=present, export_dir=export_dir)
    # Whether root is needed is the scenario's to say (teach-rootless runs as anyone), exactly as in
    # `boxtrace scenarios`, which shows the same check().
    readiness = scenario.check()
    if not readiness.ready:
        hint = f"; `boxtrace demo {name} --replay` shows the shipped recording" if os.geteuid() != 0 else ""
        raise UserError(f"the {name} scenario cannot run here: {readiness.reason} {readiness.fix}".strip() + hint)
    out = Path(output) if output else Path.cwd() / f"boxtrace-{name}.jsonl"
    check_output(str(out))
    if tui:
        return _live_tui(scenario, out, present=present, export_dir=export_dir)
    return _live_console(scenario, out)


def _replay(path: Path, *, tui: bool, present: bool = False, export_dir: Path | None = None) -> int:
    from tracer.recording import load_recording

    if not path.exists():
        raise UserError(f"no shipped recording at {path}: run `sudo make recordings` to make it")
    recording = load_recording(path)
    if tui:
        from scenarios import lesson_for
        from viz.tui.app import run_recording_tui

        return run_recording_tui(recording, lesson_for(recording.header.scenario), present=present,
                                 export_dir=export_dir)
    from rich.console import Console

    from viz.console import print_recording

    print_recording(Console(highlight=False), [recording.header, *recording.events])
    return 0


def _live_console(scenario, out: Path) -> int:
    from boxtrace.console_sink import DeferredConsoleView
    from scenarios.runner import trace_scenario

    def make_view():  # on the helper thread, once the first process is traced (see boxtrace.console_sink)
        from rich.console import Console

        from viz.console import ConsoleView

        console = Console(highlight=False)
        console.print(f"[bold]{scenario.name}[/]: {scenario.summary}")
        return ConsoleView(console)

    view = DeferredConsoleView(make_view, keep_order=sys.stdout.isatty())

    def on_session(session: TraceSession) -> None:
        install_stop_handlers(session.request_stop)

    try:
        run = trace_scenario(scenario, output=out, sinks=[view], on_session=on_session)
    except BaseException:
        view.close(summary=False)  # the error is reported; a summary of a trace that never ran says nothing
        raise
    view.close()
    view.finish().console.print(f"recording written to {out}")
    return run.result.exit_code or 0


def _live_tui(scenario, out: Path, *, present: bool = False, export_dir: Path | None = None) -> int:
    from tracer.engine import TraceOptions
    from tracer.session import SessionSource
    from viz.tui.app import run_live_tui

    scenario.prepare()
    launch = scenario.launch()
    from tracer.inject import parse_rule

    options = replace(TraceOptions(), scenario=scenario.name, run_as=launch.user, env=launch.env, cwd=launch.cwd,
                      inject=tuple(parse_rule(rule) for rule in scenario.inject))
    try:
        code = run_live_tui(SessionSource(launch.command, launch.attach_pids, options, str(out)), scenario,
                            present=present, export_dir=export_dir)
    finally:
        scenario.cleanup()
    print(f"recording written to {out}", file=sys.stderr)
    return code
