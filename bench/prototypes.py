"""Measurement prototypes of the hot-path changes proposed in docs/performance.md.

Each is a context manager that patches module attributes in this process only, so the profile can measure
what a change would gain before anyone writes it properly. None of this is used by boxtrace itself; the real
changes belong in tracer/engine.py, tracer/ptrace_api.py, tracer/recording.py and viz/console.py.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import struct
from collections.abc import Iterator
from typing import Any

from bench.profile_engine import patched


@contextlib.contextmanager
def direct_ptrace() -> Iterator[None]:
    """get_syscall_info and resume through one ctypes call each (restype c_long) and struct.unpack_from,
    instead of python-ptrace's wrapper (set_errno, c_long(result)) and ctypes field access."""
    from ptrace import PtraceError

    import tracer.ptrace_api as pt

    libc = ctypes.CDLL(None, use_errno=True)
    raw = libc.ptrace
    raw.argtypes = (ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p)
    raw.restype = ctypes.c_long
    buffer = ctypes.create_string_buffer(88)
    address = ctypes.addressof(buffer)
    entry = struct.Struct("<Q6Q")
    exit_ = struct.Struct("<qB")
    info_cls = pt.SyscallInfo
    request = pt.PTRACE_GET_SYSCALL_INFO

    def fail(tid: int) -> PtraceError:
        err = ctypes.get_errno()
        return PtraceError(f"ptrace error {err}", errno=err, pid=tid)

    def get_syscall_info(tid: int) -> Any:
        if raw(request, tid, 88, address) == -1:
            raise fail(tid)
        op = buffer.raw[0]
        if op == 1 or op == 3:
            nr, *args = entry.unpack_from(buffer, 24)
            return info_cls(op, nr, tuple(args))
        if op == 2:
            rval, is_error = exit_.unpack_from(buffer, 24)
            return info_cls(op, rval=rval, is_error=bool(is_error))
        return info_cls(op)

    def resume(req: int, tid: int, signal: int = 0) -> None:
        if raw(req, tid, None, signal) == -1:
            raise fail(tid)

    with patched(pt, "get_syscall_info", get_syscall_info), patched(pt, "resume", resume):
        yield


@contextlib.contextmanager
def fast_recorder() -> Iterator[None]:
    """encode_event with one prebuilt JSONEncoder (json.dumps builds a new encoder per call when given
    separators/default), one write per event, and a 64 KiB buffer flushed at close, not a flush per line."""
    import tracer.recording as recording
    import tracer.session as session

    encoder = json.JSONEncoder(separators=(",", ":"), default=str)

    def encode_event(event: Any) -> str:
        return encoder.encode(event.to_json())

    class BufferedRecorder(recording.Recorder):
        def __init__(self, target: Any) -> None:
            self._file = open(target, "w", encoding="utf-8", buffering=65536)  # noqa: SIM115
            self._owns = True

        def write(self, event: Any) -> None:
            self._file.write(encode_event(event) + "\n")

    with patched(recording, "encode_event", encode_event), patched(session, "Recorder", BufferedRecorder):
        yield


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
            self._emit = held.append
            try:
                method(self, tracee)
            finally:
                del self._emit
                for event in held:
                    self._sink(event)

        return handler

    with (
        patched(Tracer, "_on_syscall_stop", deferring(Tracer._on_syscall_stop)),
        patched(Tracer, "_on_seccomp_stop", deferring(Tracer._on_seccomp_stop)),
    ):
        yield


PROTOTYPES = {
    "direct-ptrace": direct_ptrace,
    "fast-recorder": fast_recorder,
    "plain-console": plain_console,
    "emit-after-resume": emit_after_resume,
}


@contextlib.contextmanager
def applied(names: tuple[str, ...]) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        for name in names:
            stack.enter_context(PROTOTYPES[name]())
        yield
