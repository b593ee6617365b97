"""The tracer in a process of its own: the ptrace thread stops, reads and resumes; events are built elsewhere.

Why: on a `--filter all` trace every syscall costs two stops, and each stop waits for whatever the tracer does
before it resumes the tracee. In one process that is the ptrace calls plus building the event, JSON-encoding and
writing it and rendering its console line, all under one GIL (a thread would not help). Here the tracer runs in a
forked child that does only the ptrace work, the decoders' memory reads (which need the tracee stopped) and the
bookkeeping; it hands each syscall over as a plain tuple, in batches through a pipe, and the parent builds the
`Syscall` events and feeds the recorder and the console view, on the other CPU. Measured in docs/performance.md.

The protocol (child -> parent) is length-prefixed pickled frames: `(BATCH, items)` where an item is either a
syscall record (a tuple, see `record_of` and `event_of`) or any other `Event`; then one `(RESULT, TraceResult)` or
`(ERROR, exception)`. Stop requests go the other way through a small control pipe and SIGUSR1 (see `ChildTrace`).
Order is kept: every event goes through the one queue in the order the tracer produced it.

The parent is never the tracer: a child that dies (killed, crashed) leaves attached daemons detached by the kernel
and launched tracees killed by PTRACE_O_EXITKILL, as a crashed single-process boxtrace would; the parent reports it.
"""

from __future__ import annotations

import collections
import ctypes
import fcntl
import gc
import operator
import os
import pickle
import signal
import struct
import threading
from collections.abc import Callable
from dataclasses import fields
from typing import Any

from tracer.decoders import raw_syscall_event
from tracer.events import Category, Event, Syscall
from tracer.source import TraceResult

BATCH = 0
RESULT = 1
ERROR = 2

_LENGTH = struct.Struct("<I")
#: Items waiting in the child before the tracer thread itself writes them out (about 30 KB of pickle).
BATCH_ITEMS = 256
#: How long an item may wait in the child when the trace goes quiet (a flusher thread sends it then).
FLUSH_INTERVAL = 0.02
#: A bigger pipe lets the tracer run ahead of a parent that is briefly busy (F_SETPIPE_SZ, Linux).
PIPE_SIZE = 1 << 20
_F_SETPIPE_SZ = 1031
_PR_SET_PDEATHSIG = 1

_SYSCALL_FIELDS = tuple(f.name for f in fields(Syscall))
_syscall_fields = operator.attrgetter(*_SYSCALL_FIELDS)
_CATEGORY = {str(c): c for c in Category}


def record_of(event: Syscall) -> tuple[Any, ...]:
    """A Syscall as a tuple of its fields in declaration order (cheap to pickle: builtins only). The engine sends
    its syscalls in this form itself (Tracer.send_events_to); this is for a Syscall event that reaches the sink."""
    values = _syscall_fields(event)
    # Category is a StrEnum: pickled by value it would be re-created through Enum.__call__ on the other side.
    return (*values[:9], str(values[9]), *values[10:])


def event_of(record: tuple[Any, ...]) -> Syscall:
    """The Syscall a record describes (the same event: same fields, same JSON): a `record_of` tuple, or the
    registers of a call without decoder (see Tracer.send_events_to)."""
    if len(record) == 9:
        return raw_syscall_event(*record)
    values = list(record)
    values[9] = _CATEGORY.get(values[9], values[9])
    return Syscall(*values)


class ChannelWriter:
    """The child's end: queues events in order and writes them to the parent in batches."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._items: collections.deque[Any] = collections.deque()
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self.broken = False
        self._flusher = threading.Thread(target=self._flush_while_open, name="pipeline-flush", daemon=True)
        self._flusher.start()

    def event(self, event: Event) -> None:
        self._items.append(record_of(event) if type(event) is Syscall else event)
        if len(self._items) >= BATCH_ITEMS:
            self.flush()

    def syscall(self, record: tuple[Any, ...]) -> None:
        items = self._items
        items.append(record)
        if len(items) >= BATCH_ITEMS:
            self.flush()

    def _flush_while_open(self) -> None:
        while not self._closed.wait(FLUSH_INTERVAL):
            if self._items:
                self.flush()

    def flush(self) -> None:
        with self._lock:
            items = self._items
            batch = []
            pop = items.popleft
            while items:
                batch.append(pop())
            if batch:
                self._send((BATCH, batch))

    def _send(self, message: tuple[int, Any]) -> None:
        if self.broken:
            return
        data = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
        view = memoryview(_LENGTH.pack(len(data)) + data)
        try:
            while view:
                view = view[os.write(self._fd, view):]
        except OSError:  # the parent is gone (EPIPE): the trace goes on to its clean end, unseen
            self.broken = True

    def finish(self, kind: int, payload: Any) -> None:
        self._closed.set()
        self._flusher.join()
        self.flush()
        with self._lock:
            try:
                self._send((kind, payload))
            except (pickle.PicklingError, TypeError, AttributeError):
                self._send((ERROR, RuntimeError(repr(payload))))
        os.close(self._fd)


class ChildTrace:
    """Runs `tracer.run(command, attach)` in a forked child and feeds its events to `dispatch` in this process.

    `tracer` is built in the parent (so that its clock and its options are the parent's) and used in the child
    only; `redirect(tracer, writer)` points its output at the child's channel (`writer.event`, `writer.syscall`). `request_stop` may be called
    from any thread or a signal handler of the parent."""

    def __init__(self, tracer: Any, redirect: Callable[[Any, ChannelWriter], None]) -> None:
        self._tracer = tracer
        self._redirect = redirect
        self._pid: int | None = None
        self._control: int | None = None
        self._stops: list[tuple[str, int | None]] = []

    def run(self, command: list[str] | None, attach: list[int] | None, dispatch: Callable[[Event], None],
            after_batch: Callable[[], None] | None = None) -> TraceResult:
        """Trace to the end; `dispatch` gets every event here, `after_batch` is called after each batch of them
        (a consumer that buffers its output writes it then: a batch is at most FLUSH_INTERVAL old)."""
        read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
        control_read, control_write = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        try:
            fcntl.fcntl(write_fd, _F_SETPIPE_SZ, PIPE_SIZE)
        except OSError:
            pass  # a smaller pipe only makes the tracer wait for the parent sooner
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the tracer: never returns
            os.close(read_fd)
            os.close(control_write)
            self._child(parent, write_fd, control_read, command, attach)
        os.close(write_fd)
        os.close(control_read)
        self._pid = pid
        self._control = control_write
        for reason, forward in self._stops:  # asked to stop before the child existed
            self._send_stop(reason, forward)
        try:
            return self._read(read_fd, dispatch, after_batch)
        finally:
            os.close(read_fd)
            os.close(control_write)
            self._control = None

    def request_stop(self, reason: str = "interrupted", forward: int | None = None) -> None:
        if self._pid is None:
            self._stops.append((reason, forward))
            return
        self._send_stop(reason, forward)

    def _send_stop(self, reason: str, forward: int | None) -> None:
        control = self._control
        if control is None or self._pid is None:
            return
        line = f"{forward or 0}\t{reason}\n".encode()
        try:
            os.write(control, line)
            os.kill(self._pid, signal.SIGUSR1)
        except (BlockingIOError, BrokenPipeError, ProcessLookupError):
            pass

    # The parent ---------------------------------------------------------------------------------------------

    def _read(self, fd: int, dispatch: Callable[[Event], None], after_batch: Callable[[], None] | None) -> TraceResult:
        result: TraceResult | None = None
        error: BaseException | None = None
        sink_error: Exception | None = None
        # The parent builds many small acyclic objects (events, their dicts): as in the engine, the cyclic
        # collector's passes over the growing heap would only cost time. Only when this is the main thread.
        pause_gc = threading.current_thread() is threading.main_thread() and gc.isenabled()
        if pause_gc:
            gc.freeze()
            gc.disable()
        stream = os.fdopen(os.dup(fd), "rb", buffering=PIPE_SIZE)
        try:
            read = stream.read
            while True:
                head = read(4)
                if len(head) < 4:
                    break
                (size,) = _LENGTH.unpack(head)
                kind, payload = pickle.loads(read(size))
                if kind == BATCH:
                    for item in payload:
                        event = event_of(item) if type(item) is tuple else item
                        if sink_error is None:
                            try:
                                dispatch(event)
                            except Exception as failed:  # noqa: BLE001 - raised once the tracer has let go
                                sink_error = failed
                                self._send_stop(f"the tracer failed: {failed!r}; letting go of every tracee",
                                                None)
                        else:
                            try:
                                dispatch(event)
                            except Exception:  # noqa: BLE001, S110 - the first error is the one reported
                                pass
                    if after_batch is not None and sink_error is None:
                        try:
                            after_batch()
                        except Exception as failed:  # noqa: BLE001 - as for dispatch
                            sink_error = failed
                            self._send_stop(f"the tracer failed: {failed!r}; letting go of every tracee", None)
                elif kind == RESULT:
                    result = payload
                elif kind == ERROR:
                    error = payload
        finally:
            stream.close()
            status = self._reap()
            if pause_gc:
                gc.enable()
                gc.unfreeze()
        if error is not None:
            raise error
        if sink_error is not None:
            raise sink_error
        if result is None:
            from tracer.engine import TraceError

            raise TraceError(f"the tracer process ended without finishing the trace ({_describe(status)})")
        return result

    def _reap(self) -> int:
        pid = self._pid
        if pid is None:
            return 0
        while True:
            try:
                _, status = os.waitpid(pid, 0)
                return status
            except InterruptedError:
                continue
            except ChildProcessError:
                return 0

    # The child ----------------------------------------------------------------------------------------------

    def _child(self, parent: int, write_fd: int, control_fd: int, command: list[str] | None,
               attach: list[int] | None) -> None:
        code = 0
        try:
            # The parent handles Ctrl-C, SIGTERM and SIGHUP and passes stop requests on (the launched command
            # gets its default handlers back before exec). If the parent dies, the trace ends cleanly: detach
            # the daemons, kill what was launched.
            for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                signal.signal(number, signal.SIG_IGN)
            tracer = self._tracer
            signal.signal(signal.SIGUSR1, lambda *_: _read_stops(control_fd, tracer))
            signal.signal(signal.SIGUSR2, lambda *_: tracer.request_stop("boxtrace ended"))
            _libc().prctl(_PR_SET_PDEATHSIG, signal.SIGUSR2, 0, 0, 0)
            if os.getppid() != parent:
                tracer.request_stop("boxtrace ended")
            writer = ChannelWriter(write_fd)
            self._redirect(tracer, writer)
            try:
                result = tracer.run(command, attach)
            except BaseException as error:  # noqa: BLE001 - handed to the parent, which raises it
                error.__traceback__ = None
                writer.finish(ERROR, error)
                code = 1
            else:
                writer.finish(RESULT, result)
        finally:
            os._exit(code)


def _read_stops(fd: int, tracer: Any) -> None:
    try:
        data = os.read(fd, 4096)
    except (BlockingIOError, OSError):
        return
    for line in data.decode(errors="replace").splitlines():
        forward, _, reason = line.partition("\t")
        number = int(forward or 0)
        tracer.request_stop(reason or "interrupted", number or None)


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    if os.WIFEXITED(status):
        return f"exit status {os.WEXITSTATUS(status)}"
    return "unknown status"


_LIBC: Any = None


def _libc() -> Any:
    global _LIBC
    if _LIBC is None:
        _LIBC = ctypes.CDLL(None, use_errno=True)
    return _LIBC
