"""One trace from start to end: the engine, the recording and any live consumers, wired together.

`TraceSession` is what the CLI, the TUI worker and the notebooks call. It owns the recorder so that every event
reaches the file before any consumer sees it, and it redacts nothing itself: decoders already replaced environment
values unless the user asked for them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from tracer.engine import TraceOptions, Tracer, TraceResult
from tracer.events import Event
from tracer.recording import Recorder

Sink = Callable[[Event], None]


class TraceSession:
    """Trace `command` (launch mode) and/or `attach` pids, fanning events out to the recorder and sinks."""

    def __init__(
        self,
        command: Sequence[str] | None = None,
        attach: Sequence[int] | None = None,
        options: TraceOptions | None = None,
        output: str | Path | None = None,
        sinks: Sequence[Sink] = (),
    ) -> None:
        self.command = list(command or [])
        self.attach = list(attach or [])
        self.options = options or TraceOptions()
        self.output = output
        self.sinks = list(sinks)
        self._recorder: Recorder | None = None
        self.tracer = Tracer(self._dispatch, self.options)

    def _dispatch(self, event: Event) -> None:
        if self._recorder is not None:
            self._recorder.write(event)
        for sink in self.sinks:
            sink(event)

    def run(self) -> TraceResult:
        """Run to the end on the calling thread (the thread that will own ptrace)."""
        if self.output is not None:
            self._recorder = Recorder(self.output)
        try:
            return self.tracer.run(self.command or None, self.attach or None)
        finally:
            if self._recorder is not None:
                self._recorder.close()
                self._recorder = None

    def request_stop(self, reason: str = "interrupted", forward: int | None = None) -> None:
        self.tracer.request_stop(reason, forward)


def trace_to_list(command: Sequence[str] | None = None, attach: Sequence[int] | None = None,
                  options: TraceOptions | None = None, output: str | Path | None = None) -> tuple[TraceResult, list[Event]]:
    """Trace and return the events in memory too (tests and notebooks)."""
    events: list[Event] = []
    session = TraceSession(command, attach, options, output, sinks=[events.append])
    result = session.run()
    return result, events
