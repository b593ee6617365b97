"""Predicate builders for milestones: small functions that find events in a trace.

Each builder returns a `Finder`: a function from a `TraceView` to the seq numbers of the events that show something
(an exec of a program, a syscall with certain arguments, a process that is pid 1 of a new pid namespace, ...). The
scenario modules combine them into their ordered milestone lists. Finders never raise on odd events: a field the
tracer could not read simply does not match.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from scenarios.base import TraceView
from tracer.decoders import Trait, syscalls_with
from tracer.events import Exec, Exit, Ipc, NamespaceChange, ProcessStarted, Syscall

Finder = Callable[[TraceView], list[int]]
ArgsPredicate = Callable[[dict[str, Any]], bool]

#: Syscalls that create processes; the `flags` of clone and clone3 may carry CLONE_NEW* bits (fork and vfork have
#: none, so they never match a flag predicate).
CLONE_SYSCALLS = tuple(sorted(syscalls_with(Trait.PROCESS)))
#: Every way to make a mount, old API and new.
MOUNT_SYSCALLS = tuple(sorted(syscalls_with(Trait.MOUNT)))


# Small helpers ---------------------------------------------------------------------------------------------------


def _base(path: str | None) -> str:
    return os.path.basename(path or "")


def flags_of(args: dict[str, Any], key: str = "flags") -> list[str]:
    value = args.get(key)
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str):
        return [part.strip() for part in value.split("|")]
    return []


def has_flags(*names: str, key: str = "flags") -> ArgsPredicate:
    """Args whose flag list holds every one of `names`."""
    return lambda args: all(name in flags_of(args, key) for name in names)


def has_new_namespace_flag(args: dict[str, Any]) -> bool:
    return any(flag.startswith("CLONE_NEW") for flag in flags_of(args))


def arg_is(key: str, *values: str) -> ArgsPredicate:
    return lambda args: args.get(key) in values


def mentions(*needles: str) -> ArgsPredicate:
    """Args in which some string value (or flag name) contains one of `needles`."""

    def strings(value: Any) -> Iterable[str]:
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for item in value.values():
                yield from strings(item)
        elif isinstance(value, list | tuple):
            for item in value:
                yield from strings(item)

    return lambda args: any(needle in text for text in strings(args) for needle in needles)


def _same_path(a: str, b: str) -> bool:
    # /var/run is a symlink to /run on current systems; traces may show either spelling.
    def norm(p: str) -> str:
        p = os.path.normpath(p)
        return "/run" + p[len("/var/run") :] if p == "/var/run" or p.startswith("/var/run/") else p

    return norm(a) == norm(b)


def exec_nspid(view: TraceView, event: Exec) -> list[int]:
    """The pids of the exec'ing process, host first: from the event, else from the process table."""
    if event.nspid:
        return list(event.nspid)
    proc = view.table.processes.get(event.pid)
    return list(proc.nspid) if proc is not None else []


def _in_new_pid_namespace(view: TraceView, nspid: list[int], ns: dict[str, int]) -> bool:
    host = view.table.host_namespaces().get("pid")
    if len(nspid) > 1:
        return True
    return host is not None and ns.get("pid") is not None and ns.get("pid") != host


# Builders ----------------------------------------------------------------------------------------------------


def exec_of(*names: str, argv: Callable[[list[str]], bool] | None = None) -> Finder:
    """Successful execs of a program named `names` (basename of the path or of argv[0]); `argv` filters further."""

    def find(view: TraceView) -> list[int]:
        out = []
        for e in view.events:
            if not isinstance(e, Exec):
                continue
            named = not names or _base(e.path) in names or (e.argv and _base(e.argv[0]) in names)
            if named and (argv is None or argv(list(e.argv))):
                out.append(e.seq)
        return out

    return find


def runc_command(subcommand: str) -> Finder:
    """Execs of `runc ... SUBCOMMAND ...` (create, start, delete, run)."""
    return exec_of("runc", argv=lambda argv: subcommand in argv[1:])


def runc_init() -> Finder:
    """runc re-running itself as `runc init` (exec of /proc/self/exe, then again from a protected copy: a
    detached read-only bind mount, whose path reads "/", or a sealed memfd)."""

    def is_init(event: Exec) -> bool:
        argv = list(event.argv)
        if argv[1:2] != ["init"]:
            return False
        return (
            "runc" in _base(argv[0])
            or "runc" in event.path
            or event.path.startswith(("/proc/self/", "memfd:"))
        )

    return lambda view: [e.seq for e in view.events if isinstance(e, Exec) and is_init(e)]


def syscall(*names: str, where: ArgsPredicate | None = None, ok: bool | None = True) -> Finder:
    """Syscalls named `names` whose args satisfy `where`; `ok` True/False keeps successes/failures, None both."""

    def find(view: TraceView) -> list[int]:
        out = []
        for e in view.events:
            if not isinstance(e, Syscall) or e.name not in names:
                continue
            if ok is not None and (e.error is None) != ok:
                continue
            try:
                if where is not None and not where(e.args or {}):
                    continue
            except (TypeError, AttributeError, KeyError):
                continue
            out.append(e.seq)
        return out

    return find


def new_namespaces_by(*names: str) -> Finder:
    """Calls of `names` (unshare, clone, clone3) that ask for new namespaces (any CLONE_NEW* flag)."""
    return syscall(*names, where=has_new_namespace_flag)


def process_created_with(*flag_names: str) -> Finder:
    """Processes created with all of `flag_names` (from ProcessStarted, or the clone call that made them)."""

    def find(view: TraceView) -> list[int]:
        out = [
            e.seq
            for e in view.events
            if isinstance(e, ProcessStarted) and all(f in e.flags for f in flag_names) and e.via != "attach"
        ]
        return sorted(set(out) | set(syscall(*CLONE_SYSCALLS, where=has_flags(*flag_names))(view)))

    return find


def clone_parent() -> Finder:
    """Children made with CLONE_PARENT: their real parent is their creator's parent (runc init's stages)."""
    by_flags = process_created_with("CLONE_PARENT")

    def find(view: TraceView) -> list[int]:
        seqs = set(by_flags(view))
        for e in view.events:
            if (
                isinstance(e, ProcessStarted)
                and e.creator is not None
                and e.creator != e.ppid
                and e.via != "attach"
            ):
                seqs.add(e.seq)
        return sorted(seqs)

    return find


def namespace_changes(*kinds: str, via: Iterable[str] = ()) -> Finder:
    """NamespaceChange events of `kinds` (all kinds when empty), made by `via` (any when empty)."""
    vias = tuple(via)
    return lambda view: [
        e.seq
        for e in view.events
        if isinstance(e, NamespaceChange) and (not kinds or e.kind in kinds) and (not vias or e.via in vias)
    ]


def exec_in_new_pid_namespace(*names: str, pid1: bool = True) -> Finder:
    """Execs inside a pid namespace other than the host's; with `pid1`, only by the namespace's pid 1."""

    def find(view: TraceView) -> list[int]:
        out = []
        for e in view.events:
            if not isinstance(e, Exec):
                continue
            if names and _base(e.path) not in names and not (e.argv and _base(e.argv[0]) in names):
                continue
            nspid = exec_nspid(view, e)
            proc = view.table.processes.get(e.pid)
            ns = dict(e.ns) or (dict(proc.ns) if proc is not None else {})
            if not _in_new_pid_namespace(view, nspid, ns):
                continue
            if pid1 and not (len(nspid) > 1 and nspid[-1] == 1):
                continue
            out.append(e.seq)
        return out

    return find


def process_is_pid1_of_new_namespace() -> Finder:
    """Processes that start life as pid 1 of a new pid namespace."""
    return lambda view: [
        e.seq
        for e in view.events
        if isinstance(e, ProcessStarted) and len(e.nspid) > 1 and e.nspid[-1] == 1 and e.via != "attach"
    ]


def connect_to(*paths: str, preexisting: bool = False) -> Finder:
    """Connections to an AF_UNIX socket at one of `paths` (a connect syscall, or an Ipc event).

    With `preexisting`, connections found in the socket table at attach time count too.
    """

    def find(view: TraceView) -> list[int]:
        out = []
        for e in view.events:
            if isinstance(e, Syscall) and e.name == "connect" and e.error is None:
                target = (e.args or {}).get("path")
            elif isinstance(e, Ipc) and (preexisting or not e.preexisting):
                target = e.path
            else:
                continue
            if isinstance(target, str) and any(_same_path(target, p) for p in paths):
                out.append(e.seq)
        return out

    return find


def launch_exited_ok() -> Finder:
    """The launched command's exit, when its code is 0."""

    def find(view: TraceView) -> list[int]:
        launched = {p.pid for p in view.table.history if p.via == "launch"}
        return [e.seq for e in view.events if isinstance(e, Exit) and e.pid in launched and e.code == 0]

    return find


def all_exited(ignore: Iterable[str] = ()) -> Finder:
    """The last Exit, when every process started during the trace has exited.

    Attached daemons are not counted, nor processes whose program's basename is in `ignore` (e.g. a shim that
    lingers after the client is done).
    """
    skip = set(ignore)

    def find(view: TraceView) -> list[int]:
        started = [p for p in view.table.history if p.via != "attach" and _base(p.executable) not in skip]
        if not started or any(p.exit is None or p.exit.detached for p in started):
            return []
        return [max(p.exit.seq for p in started if p.exit is not None)]

    return find


def all_of(*finders: Finder) -> Finder:
    """Found only when every finder finds something; then the union of their seqs."""

    def find(view: TraceView) -> list[int]:
        results = [f(view) for f in finders]
        return sorted(set().union(*results)) if all(results) else []

    return find


def any_of(*finders: Finder) -> Finder:
    """The union of what the finders find."""
    return lambda view: sorted(set().union(*(f(view) for f in finders)))


def cgroup_writes() -> Finder:
    """Syscalls that touch cgroup files (joining a cgroup, setting limits)."""
    return syscall(
        "openat",
        "open",
        "write",
        "mkdir",
        "mkdirat",
        "openat2",
        where=mentions("/sys/fs/cgroup", "cgroup.procs"),
    )


def privilege_drops() -> Finder:
    """Capability and syscall limits: bounding-set drops, capset, no_new_privs, seccomp filters."""
    return any_of(
        syscall("capset"),
        syscall("prctl", where=mentions("PR_CAPBSET_DROP", "PR_SET_NO_NEW_PRIVS", "PR_SET_SECCOMP")),
        # Only a filter being installed: runc's libseccomp also probes (GET_ACTION_AVAIL, NULL programs).
        syscall("seccomp", where=lambda args: args.get("operation") == "SECCOMP_SET_MODE_FILTER"
                and isinstance(args.get("program"), str) and bool(args.get("program"))),
    )


def mount_of_type(fstype: str) -> Finder:
    return syscall("mount", where=arg_is("fstype", fstype))


def namespaces_created_by_clone() -> Finder:
    """clone/clone3 calls (or the processes they made) that carry CLONE_NEW* flags."""

    def find(view: TraceView) -> list[int]:
        seqs = set(new_namespaces_by(*CLONE_SYSCALLS)(view))
        for e in view.events:
            if (
                isinstance(e, ProcessStarted)
                and e.via != "attach"
                and any(f.startswith("CLONE_NEW") for f in e.flags)
            ):
                seqs.add(e.seq)
        return sorted(seqs)

    return find
