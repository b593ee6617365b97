"""What every insight needs: a running process table, process names, pid translation and the entrypoint.

Insights are folds over the event stream in order. `Replay` walks the events once and keeps, at each event,
the process table as it was at that moment (a pid written into cgroup.procs names the process alive then, not
a later one that reused the number) and each process's current name (`prctl(PR_SET_NAME)` renames runc's init
stages `runc:[0:PARENT]`, `runc:[1:CHILD]`, `runc:[2:INIT]`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from tracer.events import Event, Exec, Header, ProcessStarted, Syscall
from tracer.processes import Process, ProcessTable

#: Programs that set a container up rather than being the container's own program (basename of path or
#: argv[0]).
RUNTIME_PROGRAMS = frozenset(
    {
        "runc",
        "crun",
        "runsc",
        "youki",
        "exe",  # runc's /proc/self/exe re-exec
        "containerd-shim-runc-v2",
        "containerd-shim",
        "docker-init",
        "unshare",
        "nsenter",
        "chroot",
        "setpriv",
        "capsh",
        "newuidmap",
        "newgidmap",
    }
)


def base_kind(kind: str) -> str:
    """pid_for_children -> pid, time_for_children -> time: the namespace is the same object."""
    return kind.removesuffix("_for_children")


@dataclass
class Replay:
    """The process table and process names as they are at the current event of a walk over a trace."""

    table: ProcessTable = field(default_factory=ProcessTable)
    names: dict[int, str] = field(default_factory=dict)

    def add(self, event: Event) -> None:
        self.table.add(event)
        if isinstance(event, ProcessStarted):
            self.names[event.pid] = event.comm
        elif isinstance(event, Exec):
            self.names[event.pid] = event.comm or os.path.basename(event.path)
        elif isinstance(event, Syscall) and event.name == "prctl" and event.error is None:
            if event.args.get("option") == "PR_SET_NAME" and isinstance(event.args.get("name"), str):
                self.names[event.pid] = event.args["name"]

    def label(self, pid: int | None) -> str:
        """`12819 (runc:[2:INIT])`, or `12819 [ns pid 1] (sh)` inside another pid namespace."""
        if pid is None:
            return "?"
        proc = self.table.processes.get(pid)
        inner = proc.pid_in_namespace if proc is not None else pid
        text = f"{pid} [ns pid {inner}]" if inner != pid else str(pid)
        name = self.names.get(pid)
        return f"{text} ({name})" if name else text

    def pid_seen_by(self, viewer: int, number: int) -> int | None:
        """The host pid of the process `viewer` calls `number` (pids in syscall arguments and in files such as
        cgroup.procs or /proc/N/uid_map are in the caller's pid namespace)."""
        return pid_seen_by(self.table, viewer, number)

    def host_pid_namespace(self) -> int | None:
        return self.table.host_namespaces().get("pid")


def replay(events: Iterable[Event]) -> Iterator[tuple[Event, Replay]]:
    """Yield each event with the state as it is once that event has been folded in."""
    state = Replay()
    for event in events:
        state.add(event)
        yield event, state


def pid_seen_by(table: ProcessTable, viewer: int, number: int) -> int | None:
    """See Replay.pid_seen_by. NSpid lists a process's pid in each pid namespace from the host's down; a
    viewer `depth` levels down (len of its own NSpid) sees entry depth-1 of a process below it."""
    me = table.processes.get(viewer)
    depth = len(me.nspid) if me is not None and me.nspid else 1
    if depth == 1:
        return number if number in table.processes else None
    for proc in table.processes.values():
        if len(proc.nspid) >= depth and proc.nspid[depth - 1] == number:
            return proc.pid
    return None


def creator_chain(table: ProcessTable, pid: int) -> Iterator[tuple[int, int | None]]:
    """(pid, before) for the process and then each creator up the chain: what a creator did counts for the
    process only before `before`, the seq at which it created the next process down (None: any time). The kernel's
    rule for what a child inherits (its cgroup, its seccomp filters)."""
    seen: set[int] = set()
    current: int | None = pid
    before: int | None = None
    while current is not None and current not in seen:
        seen.add(current)
        yield current, before
        proc = table.processes.get(current)
        if proc is None:
            return
        before = proc.start_seq
        current = proc.creator if proc.creator is not None else None


def in_new_pid_namespace(table: ProcessTable, proc: Process, ns: dict[str, int] | None = None) -> bool:
    """True for a process whose pid namespace is not the host's (or that has more than one NSpid entry)."""
    if len(proc.nspid) > 1:
        return True
    host = table.host_namespaces().get("pid")
    current = (ns or proc.ns).get("pid")
    return host is not None and current is not None and current != host


def is_runtime_program(path: str, argv: list[str]) -> bool:
    names = {os.path.basename(path or "")}
    if argv:
        names.add(os.path.basename(argv[0]))
    return bool(names & RUNTIME_PROGRAMS) or any(name.startswith("runc:[") for name in names)


@dataclass(frozen=True)
class Entrypoint:
    """The container's own program: the first exec inside a new pid namespace that is not a runtime binary."""

    exec: Exec
    #: Seconds from the start of the launch (the launched command, else the first event) to this exec.
    after: float
    #: The pid the program has inside its pid namespace (1 for a container's init).
    inner_pid: int


def find_entrypoint(events: Iterable[Event]) -> Entrypoint | None:
    start: float | None = None
    launched = False
    for event, state in replay(events):
        if isinstance(event, Header):
            continue
        if start is None:
            start = event.t
        if isinstance(event, ProcessStarted) and event.via == "launch" and not launched:
            start, launched = event.t, True  # in docker mode the clock starts when the CLI is launched
        if not isinstance(event, Exec):
            continue
        proc = state.table.processes.get(event.pid)
        if proc is None or not in_new_pid_namespace(state.table, proc, event.ns):
            continue
        if is_runtime_program(event.path, event.argv):
            continue
        inner = event.nspid[-1] if event.nspid else proc.pid_in_namespace
        return Entrypoint(event, round(event.t - (start or 0.0), 6), inner)
    return None


def human_bytes(value: int) -> str:
    """256 MiB for 268435456; exact binary units when they divide evenly, else one decimal."""
    units = ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB")
    size = float(value)
    unit = 0
    while size >= 1024 and unit < len(units) - 1:
        size /= 1024
        unit += 1
    if unit == 0:
        return f"{value} bytes"
    return f"{size:.0f} {units[unit]}" if size == int(size) else f"{size:.1f} {units[unit]}"
