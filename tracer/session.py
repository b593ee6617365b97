"""One trace from start to end: the engine, the recording and any live consumers, wired together.

`TraceSession` is what the CLI, the TUI worker and the notebooks call. It owns the recorder so that every event
reaches the file before any consumer sees it, and it redacts nothing itself: decoders already replaced environment
values unless the user asked for them.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tracer.engine import TraceOptions, Tracer
from tracer.events import Event
from tracer.recording import Recorder
from tracer.source import EventSink, TraceResult

if TYPE_CHECKING:
    from tracer.pipeline import ChannelWriter

Sink = EventSink


class TraceSession:
    """Trace `command` (launch mode) and/or `attach` pids, fanning events out to the recorder and sinks."""

    def __init__(
        self,
        command: Sequence[str] | None = None,
        attach: Sequence[int] | None = None,
        options: TraceOptions | None = None,
        output: str | Path | None = None,
        sinks: Sequence[Sink] = (),
        *,
        separate_process: bool = False,
    ) -> None:
        self.command = list(command or [])
        self.attach = list(attach or [])
        self.options = options or TraceOptions()
        self.output = output
        self.sinks = list(sinks)
        self._recorder: Recorder | None = None
        self.tracer = Tracer(self._dispatch, self.options)
        #: With `separate_process` the tracer runs in a forked child and the events are built, recorded and
        #: shown here, on the other CPU (tracer/pipeline.py). For a single-threaded caller such as the CLI:
        #: forking a process that runs other threads (a TUI) could copy a lock some thread holds.
        self._child = None
        if separate_process:
            from tracer.pipeline import ChildTrace

            self._child = ChildTrace(self.tracer, _redirect_events)

    def _dispatch(self, event: Event) -> None:
        if self._recorder is not None:
            self._recorder.write(event)
        for sink in self.sinks:
            sink(event)

    def _flush(self) -> None:
        for sink in self.sinks:
            flush = getattr(sink, "flush", None)
            if flush is not None:
                flush()

    def run(self) -> TraceResult:
        """Run to the end on the calling thread (the thread that will own ptrace)."""
        if self.output is not None:
            self._recorder = Recorder(self.output)
        try:
            if self._child is not None:
                return self._child.run(self.command or None, self.attach or None, self._dispatch, self._flush)
            return self.tracer.run(self.command or None, self.attach or None)
        finally:
            if self._recorder is not None:
                self._recorder.close()
                self._recorder = None

    def request_stop(self, reason: str = "interrupted", forward: int | None = None) -> None:
        if self._child is not None:
            self._child.request_stop(reason, forward)
            return
        self.tracer.request_stop(reason, forward)


def _redirect_events(tracer: Tracer, writer: ChannelWriter) -> None:
    """In the tracer's child process: its events and syscalls go to the pipe to the parent instead of the sinks."""
    tracer.send_events_to(writer.event, writer.syscall)


class SessionSource:
    """A `TraceSession` as an `tracer.source.EventSource`: what the CLI hands the TUI for a live trace.

    With `redirect_output` the traced program's stdin, stdout and stderr go to a file (beside the recording, or a
    temporary one) so that it cannot write over a full-screen display.
    """

    def __init__(self, command: Sequence[str] | None, attach: Sequence[int] | None, options: TraceOptions,
                 output: str | Path | None = None, *, redirect_output: bool = True) -> None:
        self.command = list(command or [])
        self.attach = list(attach or [])
        self.options = options
        self.recording_path = str(output) if output is not None else None
        if redirect_output and options.output_path is None:
            if output is not None:
                options.output_path = f"{output}.out"
            else:
                handle = tempfile.NamedTemporaryFile(prefix="boxtrace-", suffix=".out", delete=False)  # noqa: SIM115
                handle.close()
                options.output_path = handle.name
        self.program_output: str | None = options.output_path
        self.launches = bool(self.command)
        if self.command:
            what = " ".join(self.command)
            self.description = f"{what} (attached to {', '.join(map(str, self.attach))})" if self.attach else what
        else:
            self.description = "attached to " + ", ".join(map(str, self.attach))
        self._session: TraceSession | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def run(self, sink: EventSink) -> TraceResult:
        session = TraceSession(self.command or None, self.attach or None, self.options, self.recording_path,
                               sinks=[sink])
        with self._lock:
            self._session = session
            stop_now = self._stop.is_set()
        if stop_now:
            session.request_stop("interrupted")
        return session.run()

    def request_stop(self) -> None:
        with self._lock:
            self._stop.set()
            session = self._session
        if session is not None:
            session.request_stop("interrupted")


def trace_to_list(command: Sequence[str] | None = None, attach: Sequence[int] | None = None,
                  options: TraceOptions | None = None, output: str | Path | None = None) -> tuple[TraceResult, list[Event]]:
    """Trace and return the events in memory too (tests and notebooks)."""
    events: list[Event] = []
    session = TraceSession(command, attach, options, output, sinks=[events.append])
    result = session.run()
    return result, events
