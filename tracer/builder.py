"""The event builder: turns facts about a process tree into the typed event stream.

Whoever watches the processes (the ptrace engine live, the strace importer from a log) tells an `EventBuilder` what
happened, in the order it happened; the builder stamps each event with its sequence number and time, keeps the
process and namespace model (which processes exist, in which namespaces, with which pids), derives the
NamespaceChange events from namespace sets, and hands every event to one sink. It reads nothing from /proc and
calls no ptrace: the caller reads the facts (the engine from /proc while the tracee is stopped, the importer from
the log), so both sources describe processes by the same rules.

    builder = EventBuilder(sink)                       # seq from 0, t = seconds since the builder was made
    builder.header(command, mode=Mode.LAUNCH, ...)     # or emit(Header(builder.next_seq(), 0.0, ...)) of its own
    builder.process_started(pid, ppid=..., creator=..., via=ProcessVia.CLONE, ns=..., nspid=..., diff_from=parent)
    builder.thread_started(pid, tid, creator=..., flags=[...])
    builder.exec(pid, path=..., argv=[...], env=..., comm=..., syscall="execve", ns=..., diff_via=...)
    builder.namespaces_read(pid, ns, NamespaceVia.UNSHARE)  # after unshare/setns: one NamespaceChange per kind
    builder.mount_snapshot(pid, "after-pivot_root", lines)  # once per process and moment (see claim_mount_moment)
    builder.notice(Level.WARNING, "...")
    builder.exited(pid, code=0)
    builder.ended(exit_code, Status.COMPLETED)

Events the model does not need (Syscall, Signal, Ipc, Fault, BundleConfig, ...) are built by the caller with
`next_seq()` and `now()` and passed to `emit()`. A source with its own timeline (an strace log) passes a `clock`
that returns the time of the line being folded, and may start the numbering elsewhere with `first_seq`.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tracer.events import (
    End,
    Event,
    Exec,
    Exit,
    Header,
    Level,
    Mode,
    MountSnapshot,
    NamespaceChange,
    NamespaceVia,
    Notice,
    ProcessStarted,
    ProcessVia,
    Status,
    ThreadStarted,
)
from tracer.namespaces import namespace_changes

Sink = Callable[[Event], None]
Clock = Callable[[], float]


@dataclass(slots=True)
class ProcessState:
    """What the builder knows of one live process (thread group)."""

    pid: int
    #: kind -> namespace id (an inode live; a synthetic number when imported).
    ns: dict[str, int] = field(default_factory=dict)
    #: The pid in every pid namespace, from the tracer's down to the process's own.
    nspid: list[int] = field(default_factory=list)
    caps: dict[str, str] | None = None
    ppid: int = 0
    comm: str = ""
    #: Running before the trace began (attached to), not born during it.
    attached: bool = False
    #: Mount-table moments already captured for this process (see MountSnapshot).
    mount_moments: set[str] = field(default_factory=set)


class EventBuilder:
    """Owns the sequence numbers, the clock, the sink and the process/namespace model of one trace."""

    def __init__(self, sink: Sink, clock: Clock | None = None, first_seq: int = 0) -> None:
        self._sink = sink
        self._seq = first_seq
        self._t0 = time.monotonic()
        self._clock = clock
        #: Live processes by pid.
        self.procs: dict[int, ProcessState] = {}
        #: Every process the trace has seen start (the End event's count).
        self.process_count = 0
        #: While finishing (see defer_sink_errors): the first error the sink raised.
        self.sink_error: Exception | None = None

    # Stamps -----------------------------------------------------------------------------------------------

    @property
    def seq(self) -> int:
        """The number the next event will get (so also: how many events were numbered, from first_seq 0)."""
        return self._seq

    def next_seq(self) -> int:
        seq = self._seq
        self._seq += 1
        return seq

    def now(self) -> float:
        """Seconds since the trace began, to the microsecond (or the source's own clock)."""
        if self._clock is not None:
            return self._clock()
        return round(time.monotonic() - self._t0, 6)

    def emit(self, event: Event) -> None:
        self._sink(event)

    def redirect(self, sink: Sink) -> None:
        """Send the events to another sink from now on (the tracer's child process: the pipe to its parent)."""
        self._sink = sink

    def defer_sink_errors(self) -> None:
        """From now on a failing sink (stdout closed under us, a full disk) does not raise: letting go of the
        tracees comes first. The first error is kept in `sink_error` for the caller to raise afterwards."""
        sink = self._sink

        def deferring(event: Event) -> None:
            try:
                sink(event)
            except Exception as error:  # noqa: BLE001 - the caller re-raises it after the clean-up
                if self.sink_error is None:
                    self.sink_error = error

        self._sink = deferring

    def header(self, command: list[str], *, mode: Mode, filter: str, scenario: str | None, attached: list[int],
               host_ns: dict[str, int], seccomp: bool) -> None:
        """The first event of a live trace: this kernel and machine, the wall-clock start, what is traced how."""
        release = platform.release()
        self.emit(
            Header(
                seq=self.next_seq(),
                t=0.0,
                kernel=release.split("-")[0],
                arch=platform.machine(),
                wsl="microsoft" in release.lower(),
                command=command,
                started=datetime.now(UTC).isoformat(timespec="seconds"),
                mode=mode,
                filter=filter,
                scenario=scenario,
                attached=attached,
                host_ns=host_ns,
                seccomp=seccomp,
            )
        )

    def notice(self, level: Level, message: str, pid: int | None = None) -> None:
        self.emit(Notice(self.next_seq(), self.now(), level=level, message=message, pid=pid))

    def ended(self, exit_code: int | None, status: Status) -> End:
        """The last event: its `events` counts every numbered event, itself included (from first_seq 0)."""
        seq = self.next_seq()
        end = End(seq, self.now(), events=seq + 1, processes=self.process_count, exit_code=exit_code, status=status)
        self.emit(end)
        return end

    # Processes --------------------------------------------------------------------------------------------

    def track(self, pid: int, ns: dict[str, int], nspid: list[int], caps: dict[str, str] | None = None,
              *, ppid: int = 0, comm: str = "", attached: bool = False) -> ProcessState:
        """Know a process without announcing it (the engine's own set-up child, a process met at its exec)."""
        state = ProcessState(pid, ns, nspid, caps=caps, ppid=ppid, comm=comm, attached=attached)
        self.procs[pid] = state
        return state

    def process_started(
        self,
        pid: int,
        *,
        ppid: int,
        creator: int | None,
        via: ProcessVia,
        ns: dict[str, int],
        nspid: list[int],
        caps: dict[str, str] | None = None,
        comm: str = "",
        argv: list[str] | None = None,
        exe: str | None = None,
        flags: Iterable[str] = (),
        threads: list[int] | None = None,
        attached: bool = False,
        announce: bool = True,
        diff_from: int | None = None,
    ) -> ProcessState:
        """A new process (or one attached to): counted and tracked; with `announce` a ProcessStarted event, then
        with `diff_from` (its creator's pid) a NamespaceChange for every namespace it does not share with it."""
        state = self.track(pid, ns, nspid, caps, ppid=ppid, comm=comm, attached=attached)
        self.process_count += 1
        if not announce:
            return state
        self.emit(
            ProcessStarted(
                self.next_seq(),
                self.now(),
                pid=pid,
                ppid=ppid,
                creator=creator,
                via=via,
                flags=list(flags),
                comm=comm,
                exe=exe,
                argv=argv,
                ns=ns,
                nspid=nspid,
                threads=threads if threads is not None else [],
                caps=caps,
            )
        )
        creator_state = self.procs.get(diff_from) if diff_from is not None else None
        if creator_state is not None:
            self.namespace_diff(pid, creator_state.ns, ns, NamespaceVia(via))
        return state

    def thread_started(self, pid: int, tid: int, *, creator: int | None, flags: Iterable[str] = ()) -> None:
        self.emit(ThreadStarted(self.next_seq(), self.now(), pid=pid, tid=tid, creator=creator, flags=list(flags)))

    def exec(
        self,
        pid: int,
        *,
        path: str,
        argv: list[str],
        env: list[str] | None,
        comm: str,
        syscall: str = "execve",
        old_tid: int | None = None,
        ns: dict[str, int] | None = None,
        nspid: list[int] | None = None,
        caps: dict[str, str] | None = None,
        diff: bool = False,
    ) -> ProcessState:
        """A process ran a new program. `ns`, `nspid` and `caps` as read after the exec replace the model's (with
        ns None all three are kept); with `diff`, a NamespaceChange for every namespace the exec moved it to."""
        state = self.procs.get(pid)
        if state is None:
            state = self.track(pid, dict(ns or {}), list(nspid or []), caps)
        old_ns = state.ns
        if ns is not None:
            state.ns = ns
            state.nspid = nspid if nspid is not None else state.nspid
            state.caps = caps
        state.comm = comm
        self.emit(
            Exec(
                self.next_seq(),
                self.now(),
                pid=pid,
                path=path,
                argv=argv,
                env=env,
                comm=comm,
                ns=state.ns,
                nspid=state.nspid,
                old_tid=old_tid,
                syscall=syscall,
                caps=state.caps,
            )
        )
        if diff:
            self.namespace_diff(pid, old_ns, state.ns, NamespaceVia(syscall))
        return state

    def exited(self, pid: int, *, code: int | None = None, signal: str | None = None,
               detached: bool = False) -> ProcessState | None:
        """A process ended (or was let go of, `detached`): forgotten, and an Exit event. Returns its last state."""
        state = self.procs.pop(pid, None)
        self.emit(Exit(self.next_seq(), self.now(), pid=pid, code=code, signal=signal, detached=detached))
        return state

    def forget(self, pid: int) -> ProcessState | None:
        """Drop a process from the model without an event (one whose life is not part of the story)."""
        return self.procs.pop(pid, None)

    # Namespaces -------------------------------------------------------------------------------------------

    def namespaces_read(self, pid: int, ns: dict[str, int], via: NamespaceVia) -> None:
        """The process's namespaces now (after unshare, setns, ...): a NamespaceChange for each kind that moved.
        A process the model does not know is ignored."""
        state = self.procs.get(pid)
        if state is None:
            return
        self.namespace_diff(pid, state.ns, ns, via)
        state.ns = ns

    def namespace_diff(self, pid: int, old: dict[str, int], new: dict[str, int], via: NamespaceVia) -> None:
        """One NamespaceChange per kind whose id differs between `old` and `new` (tracer.namespaces' rule)."""
        for kind, before, inode in namespace_changes(old, new):
            self.emit(NamespaceChange(self.next_seq(), self.now(), pid=pid, kind=kind, old=before, new=inode,
                                      via=via))

    # Mount tables -----------------------------------------------------------------------------------------

    def has_mount_moment(self, pid: int, moment: str) -> bool:
        state = self.procs.get(pid)
        return state is not None and moment in state.mount_moments

    def claim_mount_moment(self, pid: int, moment: str) -> bool:
        """True once per known process and moment: the caller then reads the table and calls mount_snapshot
        (a table that cannot be read is not tried again)."""
        state = self.procs.get(pid)
        if state is None or moment in state.mount_moments:
            return False
        state.mount_moments.add(moment)
        return True

    def mount_snapshot(self, pid: int, moment: str, mountinfo: list[str]) -> None:
        self.emit(MountSnapshot(self.next_seq(), self.now(), pid=pid, moment=moment, mountinfo=mountinfo))
