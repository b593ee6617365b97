"""The process table: a pure fold over the event stream.

Feed it events one by one (live) or all at once (a recording) and it answers the questions every consumer asks:
which processes exist, who made whom and how, what each one ran, in which namespaces it lives and which pid it has
inside its own pid namespace, and which events belong to it. It knows nothing of how any of this is shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from tracer.events import (
    End,
    Event,
    Exec,
    Exit,
    Header,
    Ipc,
    NamespaceChange,
    ProcessStarted,
    Syscall,
    ThreadStarted,
)


@dataclass
class Process:
    """Everything the trace says about one process (thread group)."""

    pid: int
    ppid: int
    creator: int | None
    via: str
    flags: list[str]
    comm: str
    start_seq: int
    start_t: float
    ns: dict[str, int] = field(default_factory=dict)
    nspid: list[int] = field(default_factory=list)
    execs: list[Exec] = field(default_factory=list)
    threads: set[int] = field(default_factory=set)
    children: list[int] = field(default_factory=list)
    #: seq numbers of every event of this process (syscalls, execs, namespace changes, signals, exit).
    event_seqs: list[int] = field(default_factory=list)
    exit: Exit | None = None
    argv: list[str] | None = None
    exe: str | None = None

    @property
    def executable(self) -> str:
        """The program the process runs now: its last exec's path, else what it was attached/launched as."""
        if self.execs:
            return self.execs[-1].path
        return self.exe or self.comm

    @property
    def current_argv(self) -> list[str]:
        if self.execs:
            return self.execs[-1].argv
        return self.argv or [self.comm]

    @property
    def pid_in_namespace(self) -> int:
        """The pid this process sees for itself (last NSpid entry); equals pid in the host pid namespace."""
        return self.nspid[-1] if self.nspid else self.pid

    @property
    def alive(self) -> bool:
        return self.exit is None


class ProcessTable:
    """Folds events into processes. `add` one event at a time; `from_events` for a whole recording."""

    def __init__(self) -> None:
        self.header: Header | None = None
        self.processes: dict[int, Process] = {}
        #: Every process that ever had a given pid (pids are reused); `processes` holds the latest.
        self.history: list[Process] = []
        self.roots: list[int] = []
        self.events_by_seq: dict[int, Event] = {}
        self.ipc: list[Ipc] = []
        self.end: End | None = None
        self._thread_owner: dict[int, int] = {}
        #: The namespaces each root process started in (its `ns` follows it as it unshares and setns's).
        self._root_ns: dict[int, dict[str, int]] = {}

    @classmethod
    def from_events(cls, events: Iterable[Event]) -> ProcessTable:
        table = cls()
        for event in events:
            table.add(event)
        return table

    def add(self, event: Event) -> None:
        self.events_by_seq[event.seq] = event
        if isinstance(event, Header):
            self.header = event
        elif isinstance(event, ProcessStarted):
            self._add_process(event)
        elif isinstance(event, ThreadStarted):
            self._thread_owner[event.tid] = event.pid
            if (proc := self.processes.get(event.pid)) is not None:
                proc.threads.add(event.tid)
        elif isinstance(event, Exec):
            proc = self._owner(event.pid, event)
            if proc is not None:
                proc.execs.append(event)
                proc.ns = dict(event.ns) or proc.ns
                proc.nspid = list(event.nspid) or proc.nspid
                proc.comm = event.comm or proc.comm
                proc.event_seqs.append(event.seq)
        elif isinstance(event, NamespaceChange):
            proc = self._owner(event.pid, event)
            if proc is not None and event.new is not None:
                proc.ns[event.kind] = event.new
                proc.event_seqs.append(event.seq)
        elif isinstance(event, Exit):
            proc = self.processes.get(event.pid)
            if proc is not None:
                proc.exit = event
                proc.event_seqs.append(event.seq)
        elif isinstance(event, Ipc):
            self.ipc.append(event)
            if (proc := self.processes.get(event.pid)) is not None:
                proc.event_seqs.append(event.seq)
        elif isinstance(event, End):
            self.end = event
        else:
            pid = getattr(event, "pid", None)
            if isinstance(pid, int) and (proc := self.processes.get(pid)) is not None:
                proc.event_seqs.append(event.seq)

    def _owner(self, pid: int, event: Event) -> Process | None:
        return self.processes.get(pid)

    def _add_process(self, event: ProcessStarted) -> None:
        proc = Process(
            pid=event.pid,
            ppid=event.ppid,
            creator=event.creator,
            via=event.via,
            flags=list(event.flags),
            comm=event.comm,
            start_seq=event.seq,
            start_t=event.t,
            ns=dict(event.ns),
            nspid=list(event.nspid),
            threads=set(event.threads),
            argv=event.argv,
            exe=event.exe,
        )
        proc.event_seqs.append(event.seq)
        self.processes[event.pid] = proc
        self.history.append(proc)
        parent = self.processes.get(event.ppid)
        if parent is not None and parent is not proc:
            parent.children.append(event.pid)
        else:
            self.roots.append(event.pid)
            self._root_ns.setdefault(event.pid, dict(event.ns))

    # Questions consumers ask -------------------------------------------------------------------------------

    def syscalls_of(self, pid: int) -> list[Syscall]:
        proc = self.processes.get(pid)
        if proc is None:
            return []
        return [e for s in proc.event_seqs if isinstance(e := self.events_by_seq[s], Syscall)]

    def ancestors(self, pid: int) -> list[int]:
        """Parents from the nearest up, stopping at the first process not in the trace."""
        chain: list[int] = []
        seen = {pid}
        proc = self.processes.get(pid)
        while proc is not None and proc.ppid in self.processes and proc.ppid not in seen:
            chain.append(proc.ppid)
            seen.add(proc.ppid)
            proc = self.processes[proc.ppid]
        return chain

    def descendants(self, pid: int) -> list[int]:
        out: list[int] = []
        stack = list(self.processes[pid].children) if pid in self.processes else []
        seen: set[int] = set()
        while stack:
            child = stack.pop()
            if child in seen:
                continue
            seen.add(child)
            out.append(child)
            stack.extend(self.processes[child].children if child in self.processes else [])
        return out

    def host_namespaces(self) -> dict[str, int]:
        """The tracer's own namespaces (the "host" side of every boundary)."""
        if self.header is not None and self.header.host_ns:
            return dict(self.header.host_ns)
        if self.roots:
            return dict(self._root_ns[self.roots[0]])
        return {}

    def new_namespaces(self, pid: int) -> dict[str, int]:
        """The namespaces of `pid` that differ from the host's (kind -> inode)."""
        host = self.host_namespaces()
        proc = self.processes.get(pid)
        if proc is None:
            return {}
        return {kind: inode for kind, inode in proc.ns.items() if host.get(kind) != inode}

    def thread_owner(self, tid: int) -> int:
        return self._thread_owner.get(tid, tid)
