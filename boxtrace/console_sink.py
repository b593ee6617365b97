"""The console view of a live trace, built while the traced program runs instead of before it starts.

Starting a trace needs the engine and nothing that draws: rich and `viz.console` (about 20 ms of imports here) can
wait, and the end-of-run summary's modules (`tracer.insights`, `viz.insights_view`) are imported by
`ConsoleView.close` once the trace is over. So the CLI hands the session a `DeferredConsoleView`. Until the first
`ProcessStarted` event, which the engine emits once the launched command is seized (or a daemon attached), i.e.
after the first ptrace call, it only keeps events in a list. That event starts a helper thread which imports rich and builds the real `ConsoleView` while the tracee
runs, prints the events that waited (in order, under a lock the tracer thread takes only until then) and hands the
view over. The tracer thread does not wait for the imports, only, at most, for the helper to print the first lines,
and at the end (`finish`).

On a terminal the trace's lines and the program's own output appear as they are written, so a program that prints
at once could overtake the trace's first lines. There (`keep_order`) the first event after the launch, at which
the tracee is stopped, waits for the view: the imports overlap only the tracee's run up to that stop. Elsewhere
(a pipe, a file) Python buffers our output anyway and nothing waits.

The helper's work overlaps the trace only where a CPU is idle; elsewhere it competes with the tracer thread for the
interpreter (hence the short switch interval while it runs). Importing the summary's modules on the helper too was
measured and dropped: on the loaded 2-CPU machine it lengthened runc's in-trace time by a median 17% for no gain in
the whole command (docs/performance.md).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from tracer.events import Event, ProcessStarted

if TYPE_CHECKING:
    from viz.console import ConsoleView

#: While the helper imports, the interpreter switches threads this often (seconds) instead of every 5 ms, so a
#: tracee stopped meanwhile waits for the tracer thread at most about this long.
HELPER_SWITCH_INTERVAL = 0.0005


class DeferredConsoleView:
    """An event sink that becomes `make_view()` once a helper thread has built it (see the module docstring)."""

    def __init__(self, make_view: Callable[[], ConsoleView], *, keep_order: bool = False) -> None:
        self._make_view = make_view
        self._keep_order = keep_order
        self._view: ConsoleView | None = None
        self._pending: list[Event] = []
        self._helper: threading.Thread | None = None
        self._error: BaseException | None = None
        self._lock = threading.Lock()
        #: Set once the view has printed what waited (or the helper failed).
        self._ready = threading.Event()

    def __call__(self, event: Event) -> None:
        view = self._view
        if view is None:
            with self._lock:
                view = self._view
                if view is None:
                    self._pending.append(event)
                    if self._helper is None:
                        if isinstance(event, ProcessStarted):
                            self._start_helper()
                        return
                    if not self._keep_order:
                        return
            if view is None:
                self._wait_for_view()
                return
        view(event)

    def flush(self) -> None:
        """Write out what the view holds back (the tracer's pipeline calls this after each batch of events)."""
        view = self._view
        if view is not None:
            view.flush()

    def _wait_for_view(self) -> None:
        # The helper drains the list under the lock after this event was added to it: once ready, it is printed.
        # If the helper failed the events stay for finish(), which raises its error.
        self._ready.wait()

    def _start_helper(self) -> None:
        self._helper = threading.Thread(target=self._build, name="boxtrace-console", daemon=True)
        self._helper.start()

    def _build(self) -> None:
        interval = sys.getswitchinterval()
        sys.setswitchinterval(min(interval, HELPER_SWITCH_INTERVAL))
        try:
            view = self._make_view()
            with self._lock:
                self._drain(view)
                self._view = view
        except BaseException as error:  # noqa: BLE001 - handed to the tracer thread in finish()
            self._error = error
        finally:
            self._ready.set()
            sys.setswitchinterval(interval)

    def _drain(self, view: ConsoleView) -> None:
        pending, self._pending = self._pending, []
        for event in pending:
            view(event)

    def finish(self) -> ConsoleView:
        """The view with every event so far printed (waits for the helper; builds the view here if no process
        ever started)."""
        if self._helper is not None:
            self._helper.join()
            if self._error is not None:
                raise self._error
        with self._lock:
            if self._view is None:
                self._view = self._make_view()
            self._drain(self._view)
            return self._view

    def close(self, *, summary: bool = True) -> None:
        """Print what is still waiting, then close the view (with the end-of-run summary unless told not to)."""
        self.finish().close(summary=summary)
