"""Which part of a container launch each process plays, named from what the trace saw.

A process's *role* ("Docker Engine (dockerd)", "runc create", "runc init", "container entrypoint", "sh") comes from
its program (the exec path's basename or argv[0], since runc and dockerd re-exec themselves as /proc/self/exe), its
argv (runc's subcommand, the shim's `start`), and what ran just before it: a forked child that has not exec'd yet
still runs its creator's program, and the first program exec'd after runc init is the container's entrypoint.

A process that execs has several *phases*, one per program image: phase 0 is what it was created, launched or
attached as, phase i the program of its i-th successful exec. `RoleBook` names every phase of every process in one
pass over the process table (creators start before their children, so each child finds its creator's role
resolved); `role_of(table, pid)` answers for a process's current program.

The rules are data (`ROLE_RULES`, `KNOWN_SOCKETS`); the first rule that matches wins.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
import weakref
from bisect import bisect_right
from dataclasses import dataclass

from tracer.events import Syscall
from tracer.processes import Process, ProcessTable

#: Kinds of role, used for colours and legends. `external` is a process seen only through a socket path.
ROLE_KINDS: tuple[str, ...] = (
    "client",
    "daemon",
    "shim",
    "runtime",
    "init",
    "entrypoint",
    "hook",
    "tool",
    "shell",
    "program",
    "external",
)

#: Names of runc init's three stages, in order (runc's libcontainer/nsexec/nsexec.c names them with prctl).
RUNC_INIT_STAGES: tuple[str, ...] = ("runc:[0:PARENT]", "runc:[1:CHILD]", "runc:[2:INIT]")

#: Namespace kinds that describe a process's children, not the process: left out when comparing with the host.
FOR_CHILDREN_KINDS = frozenset({"pid_for_children", "time_for_children"})

_RUNC_STAGE = re.compile(r"^runc:\[(\d):\w+\]$")


@dataclass(frozen=True, slots=True)
class Role:
    """A component of the launch: `name` is shown, `kind` picks colours; `detail` tells instances apart
    (a runc init stage, the shim's `start` invocation)."""

    name: str
    kind: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.name} ({self.detail})" if self.detail else self.name


@dataclass(frozen=True, slots=True)
class RoleRule:
    """One way to recognise a role. Every condition given must hold; empty conditions always hold.

    - programs: glob patterns for the basename of the exec path or of argv[0];
    - argv_any: glob patterns of which at least one argv element must match;
    - subcommands: the first argv word (after argv[0]) found in this set is the subcommand; `{sub}` in `name`
      is replaced by it (runc create, runc start);
    - details: argv words that, when present, become the role's detail (the shim's `start`, `delete`);
    - after_kinds: the previous phase of the same process had a role of one of these kinds;
    - new_namespaces: the process runs in a pid or mount namespace that is not the host's.
    `{argv0}` in `name` is replaced by argv[0]'s basename.
    """

    name: str
    kind: str
    programs: tuple[str, ...] = ()
    argv_any: tuple[str, ...] = ()
    subcommands: tuple[str, ...] = ()
    details: tuple[str, ...] = ()
    after_kinds: tuple[str, ...] = ()
    new_namespaces: bool = False
    path_glob: str | None = None
    #: At most this many argv words (podman's pause process is podman exec'd with argv[0] alone).
    max_argv: int | None = None


_RUNC_SUBCOMMANDS = ("create", "start", "delete", "run", "exec", "kill", "state", "pause", "resume", "update",
                     "checkpoint", "restore", "ps", "events", "spec", "list", "features")
_SHELLS = ("sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "busybox")

ROLE_RULES: tuple[RoleRule, ...] = (
    # The runtimes re-exec themselves; recognise them before anything looks at "what came before".
    RoleRule("runc init", "init", programs=("runc", "runc.*"), subcommands=("init",)),
    RoleRule("runc {sub}", "runtime", programs=("runc", "runc.*"), subcommands=_RUNC_SUBCOMMANDS),
    RoleRule("runc", "runtime", programs=("runc", "runc.*")),
    RoleRule("crun {sub}", "runtime", programs=("crun",), subcommands=_RUNC_SUBCOMMANDS),
    RoleRule("crun", "runtime", programs=("crun",)),
    RoleRule("teach runtime", "runtime", programs=("python*",),
             argv_any=("scenarios.teach_runtime", "*teach_runtime.py")),
    # The first program a runtime execs inside the new namespaces is the container's own process.
    RoleRule("container entrypoint", "entrypoint", after_kinds=("init",)),
    RoleRule("container entrypoint", "entrypoint", after_kinds=("runtime",), new_namespaces=True),
    RoleRule("Docker CLI", "client", programs=("docker",)),
    # podman: one program in several roles. conmon execs `podman ... container cleanup ID` when the container
    # exits; rootless podman leaves a pause process (podman with no arguments, or catatonit) holding its user
    # namespace.
    RoleRule("podman container cleanup", "hook", programs=("podman",), argv_any=("cleanup",)),
    RoleRule("podman pause process", "daemon", programs=("podman",), max_argv=1),
    RoleRule("podman pause process", "daemon", programs=("catatonit",)),
    RoleRule("podman", "client", programs=("podman",)),
    # podman asks `conmon --version` before starting the real monitor.
    RoleRule("conmon --version (probe)", "tool", programs=("conmon",), argv_any=("--version",)),
    RoleRule("conmon (container monitor)", "shim", programs=("conmon",)),
    RoleRule("{argv0} (setuid helper)", "tool", programs=("newuidmap", "newgidmap")),
    RoleRule("Docker Engine (dockerd)", "daemon", programs=("dockerd",)),
    RoleRule("containerd", "daemon", programs=("containerd",)),
    RoleRule("containerd-shim", "shim", programs=("containerd-shim*",), details=("start", "delete")),
    RoleRule("ctr (containerd CLI)", "client", programs=("ctr",)),
    RoleRule("libnetwork-setkey hook", "hook", programs=("libnetwork-setkey",)),
    RoleRule("docker-init", "init", programs=("docker-init", "tini")),
    RoleRule("docker-proxy", "daemon", programs=("docker-proxy",)),
    RoleRule("bubblewrap (bwrap)", "runtime", programs=("bwrap",)),
    RoleRule("unshare", "tool", programs=("unshare",)),
    RoleRule("chroot", "tool", programs=("chroot",)),
    RoleRule("nsenter", "tool", programs=("nsenter",)),
    RoleRule("ip", "tool", programs=("ip",)),
    # dockerd runs helpers by re-executing itself (/proc/self/exe set-ipv6 ...): name them by argv[0].
    RoleRule("{argv0} (re-exec)", "hook", path_glob="/proc/*/exe"),
    RoleRule("{argv0}", "shell", programs=_SHELLS),
)

#: Unix socket paths whose listener is known by role, for connections whose other end the trace did not see.
#: Glob patterns, matched after /var/run/ is folded into /run/ (one is a symlink to the other).
KNOWN_SOCKETS: tuple[tuple[str, str], ...] = (
    ("*/docker.sock", "Docker Engine (dockerd)"),
    ("/run/docker/libnetwork/*", "Docker Engine (dockerd)"),
    ("*/containerd.sock", "containerd"),
    ("*/containerd.sock.ttrpc", "containerd"),
    ("/run/containerd/s/*", "containerd-shim"),
    # conmon's attach socket in the container's bundle directory (bound as /proc/self/fd/N/attach).
    ("*/userdata/attach", "conmon (container monitor)"),
)

#: Options by which a daemon names the socket it connects to (dockerd --containerd=PATH): such connections are
#: usually made long before tracing starts.
CLIENT_SOCKET_OPTIONS: dict[str, tuple[str, ...]] = {
    "Docker Engine (dockerd)": ("--containerd",),
}

#: Where dockerd's own containerd listens when dockerd was not given --containerd.
DOCKER_MANAGED_CONTAINERD_SOCKET = "/run/docker/containerd/containerd.sock"


def normalize_socket_path(path: str) -> str:
    return "/run/" + path[len("/var/run/"):] if path.startswith("/var/run/") else path


def known_socket_role(path: str) -> str | None:
    """The role that listens on `path`, by the table above, or None."""
    path = normalize_socket_path(path)
    for pattern, role in KNOWN_SOCKETS:
        if fnmatch.fnmatchcase(path, pattern):
            return role
    return None


def socket_options(role_name: str, argv: list[str]) -> list[str]:
    """Socket paths named on a daemon's command line by the options in CLIENT_SOCKET_OPTIONS."""
    out: list[str] = []
    options = CLIENT_SOCKET_OPTIONS.get(role_name, ())
    for i, arg in enumerate(argv):
        for option in options:
            if arg.startswith(option + "="):
                out.append(arg.split("=", 1)[1])
            elif arg == option and i + 1 < len(argv):
                out.append(argv[i + 1])
    return out


def _basename(path: str | None) -> str:
    return posixpath.basename(path.rstrip("/")) if path else ""


def match_rule(rules: tuple[RoleRule, ...], path: str, argv: list[str], previous: Role | None,
               new_namespaces: bool) -> Role:
    """The role of a program image: the first matching rule, else the program's basename."""
    argv0 = _basename(argv[0]) if argv else ""
    names = {n for n in (_basename(path), argv0) if n}
    for rule in rules:
        if rule.programs and not any(fnmatch.fnmatchcase(n, p) for n in names for p in rule.programs):
            continue
        if rule.path_glob is not None and not fnmatch.fnmatchcase(path, rule.path_glob):
            continue
        if rule.argv_any and not any(fnmatch.fnmatchcase(a, p) for a in argv for p in rule.argv_any):
            continue
        if rule.after_kinds and (previous is None or previous.kind not in rule.after_kinds):
            continue
        if rule.new_namespaces and not new_namespaces:
            continue
        if rule.max_argv is not None and len(argv) > rule.max_argv:
            continue
        sub = ""
        if rule.subcommands:
            sub = next((a for a in argv[1:] if a in rule.subcommands), "")
            if not sub:
                continue
        detail = next((a for a in argv[1:] if a in rule.details), "") if rule.details else ""
        if rule.kind == "entrypoint":
            detail = _basename(path) or argv0
        name = rule.name.format(sub=sub, argv0=argv0 or _basename(path))
        return Role(name, rule.kind, detail)
    program = _basename(path) or argv0 or "?"
    return Role(program, "program")


@dataclass(slots=True)
class Phase:
    """One program image of one process: from its creation or an exec to the next exec or its end."""

    index: int
    role: Role
    #: seq of the event that began it (ProcessStarted or Exec).
    start_seq: int
    #: The namespaces the phase began in (kind -> inode).
    ns: dict[str, int]
    path: str
    argv: list[str]


class RoleBook:
    """Roles of every phase of every process in a table, computed once."""

    def __init__(self, table: ProcessTable, rules: tuple[RoleRule, ...] = ROLE_RULES) -> None:
        self.table = table
        self.rules = rules
        self.host = table.host_namespaces()
        self._phases: dict[int, list[Phase]] = {}
        #: pid -> processes that had that pid, in start order (pids are reused), with their start seqs.
        self._by_pid: dict[int, list[Process]] = {}
        self._starts: dict[int, list[int]] = {}
        for proc in table.history:
            self._by_pid.setdefault(proc.pid, []).append(proc)
            self._starts.setdefault(proc.pid, []).append(proc.start_seq)
        for proc in table.history:
            self._phases[id(proc)] = self._resolve(proc)

    # Lookups -----------------------------------------------------------------------------------------------

    def phases(self, proc: Process) -> list[Phase]:
        return self._phases[id(proc)]

    def role(self, proc: Process) -> Role:
        """The role of the process's current (last) program."""
        return self._phases[id(proc)][-1].role

    def phase_at(self, proc: Process, seq: int) -> Phase:
        """The phase `proc` was in when event `seq` happened."""
        return _phase_at(self._phases[id(proc)], seq)

    def process_at(self, pid: int, seq: int) -> Process | None:
        """The process that had `pid` when event `seq` happened (the latest one started before it)."""
        starts = self._starts.get(pid)
        if not starts:
            return None
        index = bisect_right(starts, seq) - 1
        return self._by_pid[pid][index] if index >= 0 else None

    def creator_of(self, proc: Process) -> Process | None:
        """The process that called fork/clone (differs from the parent under CLONE_PARENT)."""
        if proc.via in ("launch", "attach"):
            return None
        pid = proc.creator if proc.creator is not None else proc.ppid
        creator = self.process_at(pid, proc.start_seq)
        return creator if creator is not proc else None

    def parent_of(self, proc: Process) -> Process | None:
        parent = self.process_at(proc.ppid, proc.start_seq)
        return parent if parent is not proc else None

    def is_new_namespace(self, ns: dict[str, int]) -> bool:
        return any(self.host.get(kind) not in (None, ns[kind]) for kind in ("pid", "mnt") if kind in ns)

    # Resolution --------------------------------------------------------------------------------------------

    def _resolve(self, proc: Process) -> list[Phase]:
        ns = dict(proc.ns)
        phases: list[Phase] = []
        start_ns = self._start_namespaces(proc)
        first = self._first_role(proc, start_ns)
        phases.append(Phase(0, first, proc.start_seq, start_ns, proc.exe or proc.comm, list(proc.argv or [])))
        for index, exec_event in enumerate(proc.execs, start=1):
            ns = dict(exec_event.ns) if exec_event.ns else ns
            role = match_rule(self.rules, exec_event.path, exec_event.argv, phases[-1].role,
                              self.is_new_namespace(ns))
            phases.append(Phase(index, role, exec_event.seq, ns, exec_event.path, list(exec_event.argv)))
        if any(phase.role.name == "runc init" for phase in phases):
            for phase in phases:
                if phase.role.name == "runc init" and not phase.role.detail:
                    # Exec'd as `runc init`: the first stage (it names itself runc:[0:PARENT]).
                    phase.role = Role("runc init", "init", RUNC_INIT_STAGES[0])
            self._name_stage_from_prctl(proc, phases)
        return phases

    def _start_namespaces(self, proc: Process) -> dict[str, int]:
        started = self.table.events_by_seq.get(proc.start_seq)
        ns = getattr(started, "ns", None)
        return dict(ns) if isinstance(ns, dict) and ns else dict(proc.ns)

    def _first_role(self, proc: Process, ns: dict[str, int]) -> Role:
        creator = self.creator_of(proc)
        if creator is None:
            return match_rule(self.rules, proc.exe or proc.comm, list(proc.argv or [proc.comm]), None,
                              self.is_new_namespace(ns))
        inherited = self.phase_at(creator, proc.start_seq).role
        if inherited.name == "runc init":
            # runc init's stages: each clone(CLONE_PARENT) makes the next one (nsexec.c's clone_parent).
            stage = _stage_index(inherited.detail)
            nxt = stage + 1 if "CLONE_PARENT" in proc.flags and stage is not None else stage
            if nxt is not None and nxt < len(RUNC_INIT_STAGES):
                return Role("runc init", "init", RUNC_INIT_STAGES[nxt])
        return inherited

    def _name_stage_from_prctl(self, proc: Process, phases: list[Phase]) -> None:
        """A runc init stage names itself with prctl(PR_SET_NAME, "runc:[1:CHILD]"): trust that over counting."""
        events = self.table.events_by_seq
        for seq in proc.event_seqs:
            event = events.get(seq)
            if isinstance(event, Syscall) and event.name == "prctl":
                name = event.args.get("name")
                if isinstance(name, str) and _RUNC_STAGE.match(name):
                    phase = _phase_at(phases, seq)
                    if phase.role.name == "runc init":
                        phase.role = Role("runc init", "init", name)


def _phase_at(phases: list[Phase], seq: int) -> Phase:
    if len(phases) == 1:
        return phases[0]
    starts = [p.start_seq for p in phases]
    return phases[max(bisect_right(starts, seq) - 1, 0)]


def _stage_index(detail: str) -> int | None:
    match = _RUNC_STAGE.match(detail)
    return int(match.group(1)) if match else None


_BOOKS: weakref.WeakKeyDictionary[ProcessTable, tuple[int, RoleBook]] = weakref.WeakKeyDictionary()


def role_book(table: ProcessTable) -> RoleBook:
    """The RoleBook of `table`, reused until the table grows (live traces keep adding events)."""
    size = len(table.events_by_seq)
    cached = _BOOKS.get(table)
    if cached is not None and cached[0] == size:
        return cached[1]
    book = RoleBook(table)
    _BOOKS[table] = (size, book)
    return book


def role_of(table: ProcessTable, pid: int) -> Role:
    """The role of the process `pid` now has (its last program)."""
    proc = table.processes.get(pid)
    if proc is None:
        return Role(str(pid), "external")
    return role_book(table).role(proc)

