"""Which system call made each namespace, and in which process.

The engine reports each process's namespaces as they change (NamespaceChange: kind, old and new inode, via).
Three different stories hide behind "a new pid namespace":
- clone/clone3 with CLONE_NEWPID: the child is born in it (teach, crun, bubblewrap);
- unshare(CLONE_NEWPID): the caller never enters it; every child it creates afterwards is born in it, the first
  as pid 1 (runc's init stage 1, `unshare --fork --pid`) — so the inode first shows on the child, "via clone",
  although unshare made it;
- setns: an existing namespace is joined, nothing is created (dockerd entering the container's network).
`namespace_origins(events)` tells them apart, one NamespaceOrigin per namespace inode the trace shows being
created or joined (the host's own namespaces are left out).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from tracer.decoders import Trait, syscalls_with
from tracer.events import NAMESPACE_ORDER, Event, NamespaceChange, ProcessVia, Syscall
from tracer.insights.common import Replay, base_kind, replay
from tracer.xlat.clone import FLAG_OF_NAMESPACE, namespaces_of

PROCESS_SYSCALLS = syscalls_with(Trait.PROCESS)
OWN_NAMESPACE_SYSCALLS = syscalls_with(Trait.OWN_NAMESPACES)


@dataclass
class NamespaceOrigin:
    kind: str  # mnt, uts, ipc, net, pid, user, cgroup, time
    inode: int
    #: The syscall that made (or joined) it: clone, clone3, unshare, setns, or "inherited"/"execve".
    syscall: str
    #: The process that made the call, and its label ("12818 (runc:[1:CHILD])").
    pid: int
    process: str
    seq: int
    created: bool
    flags: list[str] = field(default_factory=list)
    #: For unshare(CLONE_NEWPID/NEWTIME): the first process that lives in it (the caller's first child after the call).
    first_member: int | None = None

    @property
    def flag(self) -> str:
        """The CLONE_NEW* flag of this kind of namespace."""
        return FLAG_OF_NAMESPACE.get(self.kind, "")

    def describe(self) -> str:
        flag = self.flag
        if self.syscall in PROCESS_SYSCALLS:
            text = f"{self.syscall}({flag}) in {self.process}, the child is born in it"
        elif self.syscall == "unshare":
            text = f"unshare({flag}) in {self.process}"
            if self.first_member is not None and self.first_member != self.pid:
                text += f"; its child {self.first_member} is the first member"
        elif self.syscall == "setns":
            text = f"setns in {self.process} (joined, not created)"
        else:
            text = f"{self.syscall} in {self.process}"
        return text


def namespace_origins(events: Iterable[Event]) -> list[NamespaceOrigin]:
    origins: dict[int, NamespaceOrigin] = {}
    last_call: dict[int, Syscall] = {}  # pid -> its last successful unshare/setns
    unshared: dict[tuple[int, str], Syscall] = {}  # (pid, kind) -> unshare that made a for-children namespace
    state: Replay | None = None
    host: dict[str, int] = {}
    for event, state in replay(events):
        if not host:
            host = state.table.host_namespaces()
        if isinstance(event, Syscall) and event.error is None and event.name in OWN_NAMESPACE_SYSCALLS:
            last_call[event.pid] = event
            if event.name == "unshare":
                for kind in namespaces_of(event.args.get("flags") or []):
                    if kind in ("pid", "time"):
                        unshared[(event.pid, kind)] = event
            continue
        if not isinstance(event, NamespaceChange) or event.new is None:
            continue
        kind = base_kind(event.kind)
        if event.new in origins or host.get(kind) == event.new:
            continue
        origins[event.new] = _origin(event, kind, state, last_call, unshared)
    order = {kind: i for i, kind in enumerate(NAMESPACE_ORDER)}
    return sorted(origins.values(), key=lambda o: (o.seq, order.get(o.kind, 99)))


def _origin(
    event: NamespaceChange,
    kind: str,
    state: Replay,
    last_call: dict[int, Syscall],
    unshared: dict[tuple[int, str], Syscall],
) -> NamespaceOrigin:
    flag = FLAG_OF_NAMESPACE.get(kind)
    if event.via in OWN_NAMESPACE_SYSCALLS:
        call = last_call.get(event.pid)
        flags = list(call.args.get("flags") or call.args.get("nstype") or []) if call is not None else []
        return NamespaceOrigin(
            kind,
            event.new or 0,
            event.via,
            event.pid,
            state.label(event.pid),
            call.seq if call is not None else event.seq,
            event.via == "unshare",
            flags,
            first_member=event.pid if event.via == "unshare" else None,
        )
    if event.via in PROCESS_SYSCALLS:
        proc = state.table.processes.get(event.pid)
        flags = list(proc.flags) if proc is not None else []
        creator = (
            proc.creator if proc is not None and proc.creator is not None else (proc.ppid if proc else None)
        )
        if flag in flags:
            via = proc.via if proc is not None and proc.via in (ProcessVia.CLONE, ProcessVia.CLONE3) else event.via
            return NamespaceOrigin(
                kind,
                event.new or 0,
                via,
                creator or event.pid,
                state.label(creator),
                proc.start_seq if proc is not None else event.seq,
                True,
                flags,
                first_member=event.pid,
            )
        made = unshared.get((creator, kind)) if creator is not None else None
        if made is not None:
            return NamespaceOrigin(
                kind,
                event.new or 0,
                "unshare",
                made.pid,
                state.label(made.pid),
                made.seq,
                True,
                list(made.args.get("flags") or []),
                first_member=event.pid,
            )
        return NamespaceOrigin(
            kind,
            event.new or 0,
            "inherited",
            creator or event.pid,
            state.label(creator),
            event.seq,
            False,
            flags,
            first_member=event.pid,
        )
    return NamespaceOrigin(
        kind, event.new or 0, event.via, event.pid, state.label(event.pid), event.seq, False
    )


def first_by_kind(origins: Iterable[NamespaceOrigin]) -> dict[str, NamespaceOrigin]:
    """The first namespace of each kind the trace shows created (else joined), in teaching order."""
    out: dict[str, NamespaceOrigin] = {}
    for origin in sorted(origins, key=lambda o: (not o.created, o.seq)):
        out.setdefault(origin.kind, origin)
    order = {kind: i for i, kind in enumerate(NAMESPACE_ORDER)}
    return dict(sorted(out.items(), key=lambda item: order.get(item[0], 99)))

