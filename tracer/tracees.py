"""What the engine knows of each tracee (one thread it follows), and the options and errors of a trace.

Shared by the stop loop (tracer/engine.py), launching (tracer/launch.py) and attaching (tracer/attach.py); it
calls no ptrace.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from tracer.decoders.base import SyscallContext
from tracer.events import Category, Mode
from tracer.inject import InjectRule

#: The signal of a syscall-stop under PTRACE_O_TRACESYSGOOD (SIGTRAP with bit 7 set).
SYSCALL_STOP = signal.SIGTRAP | 0x80


class TraceError(Exception):
    """A trace that cannot start or go on. The message is one sentence for the user, with the fix."""


@dataclass
class TraceOptions:
    filter: str = "container"  # container | all
    show_env: bool = False
    #: Use the seccomp-bpf filter for launched tracees (None: whenever a command is launched with filter
    #: container, the docker CLI in docker mode included; attached daemons never carry it).
    seccomp: bool | None = None
    #: Extra syscall names to record with --filter container (`-e NAME,...`).
    extra_syscalls: tuple[str, ...] = ()
    #: Where the launched command's stdin/stdout/stderr go: None inherits ours, a path redirects (the TUI).
    output_path: str | None = None
    run_as: tuple[int, int] | None = None
    env: dict[str, str] | None = None
    cwd: str | None = None
    #: Attach to the descendants of the given pids too.
    attach_tree: bool = True
    #: After the launched command exits, keep following the other new processes this long (seconds).
    grace: float | None = None
    scenario: str | None = None
    mode: Mode | None = None
    #: What-if faults to inject (tracer/inject.py): the chosen calls fail with an errno without running.
    inject: tuple[InjectRule, ...] = ()
    #: Which processes a fault may hit (tracer.inject.container_scope for `boxtrace docker`); None: any.
    inject_scope: Callable[[int], bool] | None = None



@dataclass(slots=True)
class Pending:
    nr: int
    name: str
    args: dict[str, Any]
    category: Category
    started: float
    notes: dict[str, Any] | None
    argv: list[str] | None = None
    env: list[str] | None = None
    #: Kept only for syscalls whose decoder reads results at the exit stop (pipe2's fds, wait4's status).
    context: SyscallContext | None = None
    raw: list[str] | None = None
    #: The what-if rule that makes this call fail (set at entry: the kernel will not run it).
    injected: InjectRule | None = None
    #: A call without decoder (`--filter all`): its registers, turned into hex args only when the event is built.
    regs: tuple[int, ...] | None = None


class TraceeState(Enum):
    """Where a tracee is in the stop state machine (one value where there were five booleans)."""

    #: Named by its parent's fork event or seized at attach; its first stop has not been seen yet.
    EXPECTED = "expected"
    #: Stopped before any parent's event named it (a new child's first stop can come first); that stop is
    #: being handled now.
    ADOPTED = "adopted"
    #: Its first stop came before its parent's fork event: kept stopped until that event names it.
    HELD = "held"
    #: Running between syscalls.
    RUNNING = "running"
    #: At or after a syscall-entry stop (full stops): the exit stop comes next.
    IN_SYSCALL = "in-syscall"
    #: After a seccomp stop: stepping once with PTRACE_SYSCALL to the syscall-exit stop to read the return value.
    TO_EXIT_STOP = "to-exit-stop"


#: The states in which a tracee has not yet been let go after its first stop.
AWAITING_FIRST_STOP = frozenset({TraceeState.EXPECTED, TraceeState.ADOPTED})
#: The states in which a tracee stays stopped until its parent's fork event arrives.
HELD = frozenset({TraceeState.ADOPTED, TraceeState.HELD})


class Origin(Enum):
    """How a tracee came under the tracer; decides what is recorded, how it stops and what happens at the end."""

    #: Launched by boxtrace, before its exec: its syscalls are boxtrace's own set-up, not the traced program's.
    SETUP = "setup"
    #: Part of the tree boxtrace launched (it may carry the seccomp filter and is killed if it outlives the trace).
    LAUNCHED = "launched"
    #: A thread of a process that was running before the trace (a daemon): followed quietly, detached at the end.
    ATTACHED = "attached"
    #: Born during the trace from an attached process (a shim, runc): followed, detached at the end.
    DESCENDANT = "descendant"


@dataclass(slots=True)
class Tracee:
    tid: int
    tgid: int
    #: Stop at every syscall (PTRACE_SYSCALL) rather than only at seccomp/ptrace events (PTRACE_CONT).
    full_stops: bool
    state: TraceeState = TraceeState.EXPECTED
    origin: Origin = Origin.DESCENDANT
    pending: Pending | None = None
    #: Syscalls left to follow at every stop after it moved a control file onto fd 0-2 (see _watch_low_fd).
    watch: int = 0

    @property
    def held(self) -> bool:
        return self.state in HELD

    @property
    def before_exec(self) -> bool:
        return self.origin is Origin.SETUP

    @property
    def launched(self) -> bool:
        return self.origin is Origin.SETUP or self.origin is Origin.LAUNCHED

    @property
    def attached(self) -> bool:
        return self.origin is Origin.ATTACHED


def child_origin(parent: Origin, is_thread: bool) -> Origin:
    """A new thread shares its process's origin, except that set-up ends at the launched process's exec (its
    threads count as launched); a new process of an attached daemon is a descendant."""
    if parent is Origin.SETUP:
        return Origin.SETUP if not is_thread else Origin.LAUNCHED
    if parent is Origin.ATTACHED:
        return Origin.ATTACHED if is_thread else Origin.DESCENDANT
    return parent
