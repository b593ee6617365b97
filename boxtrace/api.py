"""boxtrace's public Python API in one place: load a trace, fold it, find its milestones, draw it, trace anew.

    from boxtrace import api

    recording = api.load("docker")              # a shipped recording by scenario name, or any .jsonl path
    table = api.processes(recording)            # ProcessTable: who made whom, namespaces, pids inside and out
    for result in api.milestones(recording):    # what the scenario says its trace must show, and where it does
        print(result.milestone.title, result.seqs[:1])
    svg = api.architecture_svg(recording)       # the component diagram (needs Graphviz's dot)

Everything here is wiring: each function calls the library module that does the work, so the notebooks, the docs
and your own scripts use the same code as the CLI. Modules that pull in ptrace, Graphviz or networkx are imported
only when a function needs them.
"""

from __future__ import annotations

import importlib
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scenarios import SCENARIO_MODULES, get_scenario
from scenarios.base import Milestone, MilestoneResult, Scenario
from tracer.events import (
    CATEGORIES,
    NAMESPACE_KINDS,
    End,
    Event,
    Exec,
    Exit,
    Fault,
    Header,
    Ipc,
    MountSnapshot,
    NamespaceChange,
    Notice,
    ProcessStarted,
    Signal,
    Syscall,
    ThreadStarted,
)
from tracer.processes import Process, ProcessTable
from tracer.recording import Recording, RecordingError, iter_recording, load_recording, save_recording

if TYPE_CHECKING:
    from scenarios.runner import ScenarioRun
    from viz.model import TraceModel

__all__ = [
    "CATEGORIES",
    "NAMESPACE_KINDS",
    "SCENARIO_NAMES",
    "End",
    "Event",
    "Exec",
    "Exit",
    "Fault",
    "Header",
    "Ipc",
    "Milestone",
    "MilestoneResult",
    "MountSnapshot",
    "NamespaceChange",
    "Notice",
    "Process",
    "ProcessStarted",
    "ProcessTable",
    "Recording",
    "RecordingError",
    "Scenario",
    "Signal",
    "Syscall",
    "ThreadStarted",
    "architecture_svg",
    "events",
    "get_scenario",
    "insights",
    "iter_recording",
    "load",
    "load_recording",
    "milestones",
    "model",
    "processes",
    "recording_path",
    "role_book",
    "save_recording",
    "sequence_mermaid",
    "spec",
    "what_if",
    "trace",
    "tree_svg",
]

#: Scenario names in teaching order (teach, teach-rootless, unshare, runc, crun, containerd, docker).
SCENARIO_NAMES: tuple[str, ...] = tuple(SCENARIO_MODULES)

#: Names re-exported from modules that are heavy to import (ptrace, Graphviz, networkx): loaded on first use.
_LAZY: dict[str, str] = {
    "TraceSession": "tracer.session",
    "trace_to_list": "tracer.session",
    "TraceOptions": "tracer.engine",
    "TraceResult": "tracer.engine",
    "trace_scenario": "scenarios.runner",
    "ScenarioNotReady": "scenarios.runner",
    "format_call": "tracer.decoders",
    "explain": "tracer.decoders.explain",
    "build_model": "viz.model",
    "role_path": "viz.model",
    "RoleBook": "viz.roles",
    "role_of": "viz.roles",
    "print_recording": "viz.console",
    "render_event": "viz.console",
    "render_summary": "viz.console",
    "export": "viz.export",
    "ExportError": "viz.export",
    "render_compare": "viz.compare",
    "compare_markdown": "viz.compare",
    "Insights": "tracer.insights",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'boxtrace.api' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted({*__all__, *_LAZY})


# Recordings ---------------------------------------------------------------------------------------------------


def recording_path(scenario: str) -> Path:
    """Where the recording shipped with boxtrace for `scenario` lives (scenarios/recordings/NAME.jsonl)."""
    return get_scenario(scenario).recording_path()


def load(source: str | Path) -> Recording:
    """A recording from a file, or, given a scenario name such as "docker", the one shipped with boxtrace."""
    path = Path(source)
    if not path.exists() and (str(source) in SCENARIO_MODULES or "-what-if-" in str(source)):
        path = recording_path(str(source))
    return load_recording(path)


def events(recording: Recording) -> list[Event]:
    """The header followed by every event: what ProcessTable, milestones and the diagrams are folded from."""
    return [recording.header, *recording.events]


def processes(recording: Recording) -> ProcessTable:
    """The process table of a recording (tracer.processes.ProcessTable.from_events)."""
    return ProcessTable.from_events(events(recording))


def role_book(table: ProcessTable) -> Any:
    """Which component (Docker CLI, runc init, container entrypoint...) each phase of each process is."""
    from viz.roles import role_book as _role_book

    return _role_book(table)


def milestones(recording: Recording, scenario: str | None = None) -> list[MilestoneResult]:
    """The scenario's milestones evaluated on the recording (the scenario named in its header by default)."""
    name = scenario or recording.header.scenario
    if name is None:
        raise ValueError("this recording names no scenario: pass scenario=NAME")
    return get_scenario(name).evaluate(events(recording))


def insights(recording: Recording) -> Any:
    """tracer.insights.Insights of a recording: id maps, cgroups, capabilities, seccomp, mount trees."""
    from tracer.insights import Insights

    return Insights.from_events(events(recording))


def spec(recording: Recording) -> Any:
    """tracer.insights.spec.SpecReport: the OCI bundle's promises beside what the trace shows (`boxtrace spec`)."""
    from tracer.insights.spec import spec_report

    return spec_report(events(recording))


def what_if(recording: Recording) -> list[Any]:
    """tracer.inject_story.FaultStory for each injected fault: what the runtime did next, sentence by sentence."""
    from tracer.inject_story import fault_stories

    return fault_stories(events(recording))


# Diagrams -----------------------------------------------------------------------------------------------------


def model(recording: Recording) -> TraceModel:
    """The networkx graphs the diagrams are drawn from (viz.model.build_model)."""
    from viz.model import build_model

    return build_model(processes(recording))


def _exported(recording: Recording, view: str, fmt: str, theme: str) -> str:
    from viz.export import export

    with tempfile.TemporaryDirectory(prefix="boxtrace-") as tmp:
        output = export(recording, view, fmt, theme, Path(tmp) / f"{view}.{fmt}")
        return output.read_text(encoding="utf-8")


def architecture_svg(recording: Recording, theme: str = "light") -> str:
    """The architecture diagram as SVG text (what `boxtrace export --view architecture` writes)."""
    return _exported(recording, "architecture", "svg", theme)


def tree_svg(recording: Recording, theme: str = "light") -> str:
    """The process tree diagram as SVG text."""
    return _exported(recording, "tree", "svg", theme)


def sequence_mermaid(recording: Recording, theme: str = "light") -> str:
    """The launch as a Mermaid sequenceDiagram (text)."""
    return _exported(recording, "sequence", "mmd", theme)


# Tracing ------------------------------------------------------------------------------------------------------


def trace(scenario: str, output: str | Path | None = None) -> ScenarioRun:
    """Trace a scenario for real (root and its prerequisites needed): check, prepare, launch, clean up.

    Raises scenarios.runner.ScenarioNotReady, with the reason and the fix, when `check()` says no.
    """
    from scenarios.runner import trace_scenario

    return trace_scenario(get_scenario(scenario), output=output)
