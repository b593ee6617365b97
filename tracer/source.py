"""What a display is handed to show a live trace: an event source, and what a finished trace reports.

A viewer (the TUI) must not build the engine itself: the CLI builds the source (`tracer.session.SessionSource`)
and hands it over. The viewer only runs it into a sink on the thread that will own ptrace and asks it to stop from
anywhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from tracer.events import Event, Status

#: Where a source puts each event, in order, on the tracing thread.
EventSink = Callable[[Event], None]


@dataclass(frozen=True, slots=True)
class TraceResult:
    """How a trace ended: the launched command's exit code (None if there was none), the status, the counts."""

    exit_code: int | None
    status: Status
    events: int
    processes: int


class EventSource(Protocol):
    """A live trace a viewer can run and stop."""

    #: What is traced, in a few words ("sh -c ...", "attached to 1234").
    description: str
    #: True when the source starts a program (it forks: the viewer keeps SIGCONT at its default meanwhile).
    launches: bool
    #: The file the traced program's stdout and stderr go to, when redirected; None otherwise.
    program_output: str | None
    #: The recording being written, if any.
    recording_path: str | None

    def run(self, sink: EventSink) -> TraceResult:
        """Trace to the end on the calling thread, passing every event to `sink`."""
        ...

    def request_stop(self) -> None:
        """Ask the trace to end, from any thread: launched tracees are killed, attached ones detached."""
        ...
