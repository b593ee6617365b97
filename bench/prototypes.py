"""Measurement prototypes of the hot-path changes proposed in docs/performance.md and not (yet) made.

Each is a context manager that patches module attributes in this process only, so the profile can measure
what a change would gain before anyone writes it properly. None of this is used by boxtrace itself. The
prototypes of the changes that were measured here and then made for real (direct libc ptrace calls, one
prebuilt JSON encoder with a buffered recorder) were removed with the change: the engine as it is has them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from bench.measure import patched


@contextlib.contextmanager
def plain_console() -> Iterator[None]:
    """ConsoleView writes a syscall's line as a plain string (format_call) when it is not on a terminal,
    instead of building a rich Text and taking .plain; the indentation is cached per pid."""
    import viz.console as console
    from tracer.decoders import format_call
    from tracer.events import Syscall

    original = console.ConsoleView.__call__

    def call(self: Any, event: Any) -> None:
        if not (isinstance(event, Syscall) and self._plain):
            original(self, event)
            return
        self.table.add(event)
        self._events.append(event)
        self._syscalls += 1
        table = self.table
        prefix = console._indent(table, event.pid) + console.describe_pid(table, event.pid)
        if event.tid != event.pid:
            prefix += f"/{event.tid}"
        line = f"{prefix} {format_call(event.name, event.args, event.ret, event.error)}"
        if event.notes:
            line += "  # " + ", ".join(f"{k}={v}" for k, v in event.notes.items())
        self.console.file.write(line + "\n")

    with patched(console.ConsoleView, "__call__", call):
        yield


@contextlib.contextmanager
def emit_after_resume() -> Iterator[None]:
    """Events produced while handling a syscall or seccomp stop reach the sinks after the tracee is resumed
    (the engine still reads everything it needs from the stopped tracee first), so the recorder and console
    work overlaps the tracee's run instead of lengthening its stop."""
    from tracer.engine import Tracer

    def deferring(method: Any) -> Any:
        def handler(self: Any, tracee: Any) -> None:
            held: list[Any] = []
            builder = self.builder  # tracer.builder.EventBuilder: every event goes through its sink
            sink = builder._sink
            builder._sink = held.append
            try:
                method(self, tracee)
            finally:
                builder._sink = sink
                for event in held:
                    sink(event)

        return handler

    with (
        patched(Tracer, "_on_syscall_stop", deferring(Tracer._on_syscall_stop)),
        patched(Tracer, "_on_seccomp_stop", deferring(Tracer._on_seccomp_stop)),
    ):
        yield


PROTOTYPES = {
    "plain-console": plain_console,
    "emit-after-resume": emit_after_resume,
}


@contextlib.contextmanager
def applied(names: tuple[str, ...]) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        for name in names:
            stack.enter_context(PROTOTYPES[name]())
        yield
