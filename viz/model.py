"""Graphs of a trace for the diagram views: processes, component roles, connections and namespace groups.

Two networkx MultiDiGraphs come out of one ProcessTable (itself a fold over the events):

- `processes`: one node per process (threads are never nodes), edges creator -> child labelled with how the
  child was made (`clone(CLONE_PARENT)`, `clone(CLONE_NEWNS|...)`, `vfork()`), and `ipc` edges for AF_UNIX
  connections (client -> the process listening on that path). Repeated identical leaf children of one parent
  (a shell loop running /bin/true 2000 times) fold into one node with a count; each node carries its key
  syscalls in order, runs of the same call folded ("x37") and the list capped with "+N more".
- `architecture`: one node per (role, namespace group): Docker CLI, dockerd, containerd, the shim, runc create,
  runc init, the entrypoint... Edges are the transitions between them, labelled with the decisive calls: the
  namespace calls the source made since its previous transition (`unshare(...)`, `pivot_root(".", ".")`), then
  the transition itself (`clone(CLONE_PARENT)`, `execve("/bin/sh")`, `connect(/run/docker.sock)`).

Namespace groups (architecture only): each phase of a process, from its creation or an exec, is placed by the
namespace inodes it began with, never moved by a later unshare or setns. Inodes that differ from the header's
`host_ns` key a container group; a group whose new namespaces are a strict subset of another's encloses it (a
program exec'd after an unshare, then a child of it in one more new namespace). runc never shows one: stage 1
(runc:[1:CHILD]) unshares mnt/uts/ipc/net without an exec, so it stays in the host group, and runc init's stage 2
and the entrypoint share one group of all five. Process nodes carry the group key of the namespaces the process
had last (`group`).

Everything is one pass over each process's events: building from a 100,000-event trace takes well under a
second once the table exists.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import networkx as nx

from tracer.decoders import Trait, format_call, syscalls_with
from tracer.events import NAMESPACE_ORDER, Event, Exec, NamespaceChange, NamespaceVia, ProcessVia, Syscall
from tracer.processes import Process, ProcessTable
from tracer.xlat.clone import namespaces_of
from viz.roles import (
    DOCKER_MANAGED_CONTAINERD_SOCKET,
    FOR_CHILDREN_KINDS,
    Phase,
    RoleBook,
    known_socket_role,
    normalize_socket_path,
    socket_options,
)

if TYPE_CHECKING:
    from tracer.insights import Note

#: Key syscall lines shown inside a process node before "+N more".
MAX_NODE_SYSCALLS = 12
#: Insight notes kept on one node (Insights.diagram_notes: id map, cgroup, capabilities, seccomp, root).
MAX_NODE_NOTES = 6
#: Leaf siblings with the same role, program and namespaces fold into one node from this many on.
FOLD_MIN = 2
#: Longest syscall line kept inside a node.
MAX_CALL_CHARS = 72

#: Calls that change what a process sees: shown on the edge of the transition that follows them.
DECISIVE_SYSCALLS = syscalls_with(Trait.OWN_NAMESPACES, Trait.ROOT)

#: clone flags worth naming on an edge; the rest (CLONE_SETTLS, CLONE_CHILD_SETTID...) are plumbing.
SHOWN_CLONE_FLAGS = frozenset({"CLONE_PARENT", "CLONE_VFORK", "CLONE_VM", "CLONE_INTO_CGROUP", "CLONE_NEWTIME",
                               "CLONE_NEWCGROUP", "CLONE_NEWNS", "CLONE_NEWUTS", "CLONE_NEWIPC", "CLONE_NEWUSER",
                               "CLONE_NEWPID", "CLONE_NEWNET"})

HOST_GROUP = "host"

CLONE_SYSCALLS = syscalls_with(Trait.PROCESS)

#: Calls that move the calling process itself into other namespaces (unshare, setns): noted on its node.
MOVE_SYSCALLS = syscalls_with(Trait.OWN_NAMESPACES)


@dataclass
class NamespaceGroup:
    """Processes that share one set of non-host namespaces ("host" when there are none)."""

    key: str
    namespaces: dict[str, int]
    parent: str | None = None
    children: list[str] = field(default_factory=list)

    @property
    def is_host(self) -> bool:
        return not self.namespaces

    def label(self, groups: dict[str, NamespaceGroup], detail: bool = False) -> str:
        """"container: new pid, mnt, uts, ipc, net namespaces" (a nested group names only what it adds); with
        `detail`, each kind's inode number follows on its own line."""
        if self.is_host:
            return "host namespaces"
        shown = dict(self.namespaces)
        prefix = "container"
        if self.parent is not None and self.parent != HOST_GROUP:
            outer = groups[self.parent].namespaces
            shown = {k: v for k, v in shown.items() if outer.get(k) != v}
            prefix = "nested"
        kinds = _ordered(shown)
        word = "namespace" if len(kinds) == 1 else "namespaces"
        text = f"{prefix}: new {', '.join(kind for kind, _ in kinds)} {word}"
        if detail:
            text += "\n" + ", ".join(f"{kind} {inode}" for kind, inode in kinds)
        return text


@dataclass
class TraceModel:
    """What the diagram views draw, built once per recording."""

    table: ProcessTable
    book: RoleBook
    processes: nx.MultiDiGraph
    architecture: nx.MultiDiGraph
    groups: dict[str, NamespaceGroup]
    #: process node id of every process (folded members point at their folded node).
    node_of: dict[int, str]
    #: The learner insights of the trace (tracer.insights.Insights) the node notes come from; None when the model
    #: was built without them.
    insights: Any = None


def _ordered(ns: dict[str, int]) -> list[tuple[str, int]]:
    rank = {kind: i for i, kind in enumerate(NAMESPACE_ORDER)}
    return sorted(ns.items(), key=lambda item: (rank.get(item[0], len(rank)), item[0]))


def new_namespaces(ns: dict[str, int], host: dict[str, int]) -> dict[str, int]:
    """The namespaces in `ns` that are not the host's (the *_for_children kinds left out)."""
    return dict(_ordered({k: v for k, v in ns.items() if k not in FOR_CHILDREN_KINDS and host.get(k) not in (None, v)}))


def group_key(ns: dict[str, int], host: dict[str, int]) -> str:
    new = new_namespaces(ns, host)
    if not new:
        return HOST_GROUP
    return "ns:" + ",".join(f"{kind}={inode}" for kind, inode in _ordered(new))


def build_groups(keys: Iterable[tuple[str, dict[str, int]]]) -> dict[str, NamespaceGroup]:
    """Groups from (key, namespaces) pairs, each nested in the largest other group whose namespaces it contains."""
    groups: dict[str, NamespaceGroup] = {HOST_GROUP: NamespaceGroup(HOST_GROUP, {})}
    for key, ns in keys:
        if key not in groups:
            groups[key] = NamespaceGroup(key, dict(ns))
    items = {key: set(g.namespaces.items()) for key, g in groups.items()}
    for key, group in groups.items():
        if group.is_host:
            continue
        mine = items[key]
        best = HOST_GROUP
        for other, theirs in items.items():
            if other != key and theirs and theirs < mine and len(theirs) > len(items[best]):
                best = other
        group.parent = best
        groups[best].children.append(key)
    return groups


# Labels -------------------------------------------------------------------------------------------------------


def short_path(path: str, limit: int = 40) -> str:
    if len(path) <= limit:
        return path
    return "…/" + "/".join(path.rstrip("/").split("/")[-2:])[-(limit - 2):]


def clone_label(via: str, flags: list[str], exit_signal: str | None = None) -> str:
    """`clone(CLONE_PARENT)`, `clone3(CLONE_NEWPID|...)`, `vfork()`: how a child came to be. A clone with no
    flag worth showing shows its exit signal (`clone(SIGCHLD)`, a fork in all but name)."""
    shown = [f for f in flags if f in SHOWN_CLONE_FLAGS or f.startswith("0x")]
    if not shown and exit_signal and via in (ProcessVia.CLONE, ProcessVia.CLONE3):
        shown = [exit_signal]
    return f"{via}({'|'.join(shown)})"


def exec_label(event: Exec) -> str:
    path = event.path or (event.argv[0] if event.argv else "?")
    return f'{event.syscall}("{short_path(path)}")'


def connect_label(path: str) -> str:
    return f"connect({short_path(path, 48)})"


def decisive_label(event: Syscall) -> str:
    args = event.args
    if event.name == "unshare":
        return f"unshare({'|'.join(args.get('flags') or []) or '0'})"
    if event.name == "setns":
        kinds = args.get("nstype") or []
        what = args.get("namespace") or "|".join(kinds) or "0"
        return f"setns({what})"
    if event.name == "pivot_root":
        return f'pivot_root("{args.get("new_root")}", "{args.get("put_old")}")'
    if event.name == "chroot":
        return f'chroot("{short_path(str(args.get("path")))}")'
    return f"{event.name}()"


def exec_line(event: Exec) -> str:
    argv = ", ".join(f'"{a}"' if len(a) <= 30 else f'"{a[:27]}..."' for a in event.argv[:4])
    more = ", ..." if len(event.argv) > 4 else ""
    return f'{event.syscall}("{event.path}", [{argv}{more}]) = 0'


def _cut(text: str, limit: int = MAX_CALL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fold_repeats(items: list[Any], key: Callable[[Any], Any] = lambda item: item, max_period: int = 4,
                 min_repeats: int = 3) -> list[tuple[list[Any], int]]:
    """Split `items` into (block, repeats): a block of up to `max_period` items whose keys repeat back to back.
    A single item folds from 2 repeats on, a longer block from `min_repeats` (a shell loop's clone, wait4, ...)."""
    keys = [key(item) for item in items]
    out: list[tuple[list[Any], int]] = []
    i, n = 0, len(items)
    while i < n:
        found = None
        for period in range(1, min(max_period, n - i) + 1):
            block = keys[i:i + period]
            repeats = 1
            while keys[i + repeats * period:i + (repeats + 1) * period] == block:
                repeats += 1
            if repeats >= (2 if period == 1 else min_repeats):
                found = (period, repeats)
                break
        period, repeats = found or (1, 1)
        out.append((items[i:i + period], repeats))
        i += period * repeats
    return out


def _call_key(event: Event) -> str:
    return "exec" if isinstance(event, Exec) else getattr(event, "name", "")


def _call_line(event: Event) -> tuple[str, str]:
    if isinstance(event, Exec):
        return "process", _cut(exec_line(event))
    assert isinstance(event, Syscall)
    return event.category, _cut(format_call(event.name, event.args, event.ret, event.error))


def key_syscalls(events: list[Event], limit: int = MAX_NODE_SYSCALLS) -> tuple[list[tuple[str, str]], int]:
    """(category, line) for the key calls in order, and how many lines were left out ("+N more"). Key: every
    call outside the `other` category and every exec; thread creations are left out (threads are folded).
    Repeats fold: one call repeated becomes one line "×N", a repeated block of calls is followed by a line
    saying how often it ran."""
    calls: list[Event] = []
    for event in events:
        if isinstance(event, Exec):
            calls.append(event)
        elif isinstance(event, Syscall) and event.category != "other":
            if event.name in CLONE_SYSCALLS and "CLONE_THREAD" in (event.args.get("flags") or ()):
                continue
            calls.append(event)
    lines: list[tuple[str, str]] = []
    total = 0
    full = False
    for block, repeats in fold_repeats(calls, key=_call_key, max_period=3):
        wanted = len(block) + (1 if len(block) > 1 else 0)
        total += wanted
        full = full or len(lines) + wanted > limit
        if full:
            continue
        if len(block) == 1:
            category, text = _call_line(block[0])
            lines.append((category, text + (f"  ×{repeats}" if repeats > 1 else "")))
        else:
            lines.extend(_call_line(event) for event in block)
            lines.append(("other", f"  ↑ these {len(block)} calls ×{repeats}"))
    return lines, total - len(lines)


# Building -----------------------------------------------------------------------------------------------------


@dataclass
class _Transition:
    seq: int
    kind: str  # spawn | exec
    child: Process | None = None
    exec_index: int = 0


@dataclass
class _ProcessFacts:
    """What one pass over a process's events finds."""

    key_events: list[Event] = field(default_factory=list)
    decisive: list[Syscall] = field(default_factory=list)
    spawned: list[tuple[int, Process]] = field(default_factory=list)
    #: Successful clone/clone3/fork/vfork calls, by seq (their exit comes after the child's start event).
    clones: list[Syscall] = field(default_factory=list)
    #: Successful unshare/setns calls and the namespace changes they made, in order.
    moves: list[Syscall] = field(default_factory=list)
    changes: list[NamespaceChange] = field(default_factory=list)


def move_notes(calls: list[Syscall], changes: list[NamespaceChange], host: dict[str, int],
               creators: dict[int, int]) -> list[tuple[int, str]]:
    """(seq, note) for each successful unshare or setns a process made to itself. A process stays drawn in the
    namespaces it began in, so the note says where it went: "unshare: own mnt, uts, ipc, net namespaces; new pid
    namespace for its children" (from the flags: pid and time apply to children only, and the kernel shows no
    pid_for_children link until the first child exists), "setns: joins pid 768's net namespace", "setns: back
    into the host's net namespace" (from the namespace change the trace recorded after the call)."""
    notes: list[tuple[int, str]] = []
    seen: set[int] = set()

    def made_by(call: Syscall, via: NamespaceVia) -> list[NamespaceChange]:
        """The changes the trace recorded right after `call`: one run of back-to-back events."""
        run: list[NamespaceChange] = []
        for change in changes:
            if change.seq <= call.seq:
                continue
            if change.via != via or (run and change.seq != run[-1].seq + 1):
                break
            run.append(change)
        return run

    for call in calls:
        if call.name == "unshare":
            kinds = namespaces_of(call.args.get("flags") or [])
            own = [k for k in NAMESPACE_ORDER if k in kinds and k not in ("pid", "time")]
            children = [k for k in NAMESPACE_ORDER if k in kinds and k in ("pid", "time")]
            parts = [f"own {', '.join(own)} {'namespace' if len(own) == 1 else 'namespaces'}"] if own else []
            if children:
                parts.append(f"new {' and '.join(children)} namespace for its children")
            if parts:
                notes.append((call.seq, "unshare: " + "; ".join(parts)))
            seen.update(c.new for c in made_by(call, NamespaceVia.UNSHARE) if c.new is not None)
            continue
        joined = made_by(call, NamespaceVia.SETNS)
        for change in joined:
            if change.new is None or change.kind.endswith("_for_children"):
                continue
            if host.get(change.kind) == change.new:
                where = f"back into the host's {change.kind} namespace"
            elif change.new in seen:
                where = f"back into its earlier {change.kind} namespace"
            elif change.new in creators:
                where = f"joins pid {creators[change.new]}'s {change.kind} namespace"
            else:
                where = f"joins an existing {change.kind} namespace"
            notes.append((call.seq, f"setns: {where}"))
        seen.update(c.new for c in joined if c.new is not None)
    return notes


class _Builder:
    def __init__(self, table: ProcessTable, notes: dict[int, list[Note]] | None = None) -> None:
        self.table = table
        self.book = RoleBook(table)
        self.host = table.host_namespaces()
        #: pid -> insight notes (tracer.insights.Note), in the order things happened.
        self.notes: dict[int, list[Note]] = notes or {}
        self.facts: dict[int, _ProcessFacts] = {id(p): _ProcessFacts() for p in table.history}
        #: normalized socket path -> (seq, process) of each successful bind.
        self.binders: dict[str, list[tuple[int, Process]]] = {}
        #: namespace inode -> pid of the first process seen entering it by clone or unshare (its creator).
        self.creators: dict[int, int] = {}
        self._by_role: dict[str, list[Process]] | None = None
        self._connections: list[dict[str, Any]] | None = None
        self._scan()

    def _scan(self) -> None:
        events = self.table.events_by_seq
        for proc in self.table.history:
            facts = self.facts[id(proc)]
            creator = self.book.creator_of(proc)
            if creator is not None:
                self.facts[id(creator)].spawned.append((proc.start_seq, proc))
            for seq in proc.event_seqs:
                event = events.get(seq)
                if isinstance(event, Exec):
                    facts.key_events.append(event)
                elif isinstance(event, NamespaceChange):
                    if event.via in (NamespaceVia.UNSHARE, NamespaceVia.SETNS):
                        facts.changes.append(event)
                    if event.via != NamespaceVia.SETNS and event.new is not None:
                        self.creators.setdefault(event.new, proc.pid)
                elif isinstance(event, Syscall):
                    if event.category != "other":
                        facts.key_events.append(event)
                    if event.error is None:
                        if event.name in CLONE_SYSCALLS:
                            facts.clones.append(event)
                        elif event.name in DECISIVE_SYSCALLS:
                            facts.decisive.append(event)
                            if event.name in MOVE_SYSCALLS:
                                facts.moves.append(event)
                        elif event.name == "bind" and event.args.get("path"):
                            bound = (event.notes or {}).get("path") or event.args["path"]
                            path = normalize_socket_path(str(bound))
                            self.binders.setdefault(path, []).append((event.seq, proc))

    def is_own(self, proc: Process, phase: Phase) -> bool:
        """False for a phase 0 that only continues its creator's program (a fork before its exec)."""
        creator = self.book.creator_of(proc)
        if phase.index or creator is None:
            return True
        theirs = self.book.phase_at(creator, proc.start_seq)
        return (theirs.role, group_key(theirs.ns, self.host)) != (phase.role, group_key(phase.ns, self.host))

    def creation_label(self, child: Process) -> str:
        """How `child` was made, from its start event and, when found, the creator's clone call."""
        signal = None
        creator = self.book.creator_of(child)
        if creator is not None and child.via in (ProcessVia.CLONE, ProcessVia.CLONE3):
            clones = self.facts[id(creator)].clones
            i = bisect_right([c.seq for c in clones], child.start_seq)
            if i < len(clones):
                signal = clones[i].args.get("exit_signal")
        return clone_label(child.via, child.flags, signal if isinstance(signal, str) else None)

    def notes_of(self, proc: Process, *, slide: bool = False) -> list[Note]:
        """The insight notes of this process (not of an earlier or later one with the same pid)."""
        end = proc.exit.seq if proc.exit is not None else None
        return [
            n for n in self.notes.get(proc.pid, ())
            if n.seq >= proc.start_seq and (end is None or n.seq <= end) and (n.slide or not slide)
        ]

    # Who listens where -------------------------------------------------------------------------------------

    def listener(self, path: str, seq: int) -> tuple[Process | None, str | None]:
        """The process listening on `path` at `seq` (a binder in the trace, else a process with the role the
        path is known for), or (None, role name) when the trace has no such process."""
        norm = normalize_socket_path(path)
        bound = [p for s, p in self.binders.get(norm, ()) if s <= seq] or [p for _, p in self.binders.get(norm, ())]
        if bound:
            return bound[-1], None
        role = known_socket_role(path)
        if role is None:
            return None, None
        if self._by_role is None:
            self._by_role = {}
            for proc in self.table.history:
                for name in {phase.role.name for phase in self.book.phases(proc)}:
                    self._by_role.setdefault(name, []).append(proc)
        candidates = [p for p in self._by_role.get(role, ()) if self.book.phase_at(p, seq).role.name == role]
        attached = [p for p in candidates if p.via == "attach"]
        if attached or candidates:
            return (attached or candidates)[0], None
        return None, role

    def connections(self) -> list[dict[str, Any]]:
        """Every connection: traced connects, socket-table finds, and daemons' configured sockets."""
        if self._connections is None:
            self._connections = self._find_connections()
        return self._connections

    def _find_connections(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        seen: set[tuple[int, str]] = set()
        for ipc in self.table.ipc:
            client = self.book.process_at(ipc.pid, ipc.seq)
            if client is None:
                continue
            if ipc.peer_pid is not None:
                server, role = self.book.process_at(ipc.peer_pid, ipc.seq), None
            else:
                server, role = self.listener(ipc.path, ipc.seq)
            seen.add((id(client), normalize_socket_path(ipc.path)))
            out.append({"client": client, "server": server, "server_role": role, "path": ipc.path,
                        "seq": ipc.seq, "preexisting": ipc.preexisting, "inferred": False})
        for proc in self.table.history:
            phase0 = self.book.phases(proc)[0]
            paths = socket_options(phase0.role.name, phase0.argv)
            if not paths and phase0.role.name == "Docker Engine (dockerd)":
                managed = [c for c in self.table.history
                           if c.ppid == proc.pid and self.book.role(c).name == "containerd"]
                paths = [DOCKER_MANAGED_CONTAINERD_SOCKET] if managed else []
            for path in paths:
                if (id(proc), normalize_socket_path(path)) in seen:
                    continue
                server, role = self.listener(path, proc.start_seq)
                out.append({"client": proc, "server": server, "server_role": role, "path": path,
                            "seq": proc.start_seq, "preexisting": True, "inferred": True})
        return out

    # The process graph -------------------------------------------------------------------------------------

    def process_graph(self) -> tuple[nx.MultiDiGraph, dict[int, str]]:
        graph = nx.MultiDiGraph(kind="processes")
        node_of: dict[int, str] = {}
        used: set[str] = set()
        ids: dict[int, str] = {}
        for proc in self.table.history:
            node_id = f"p{proc.pid}" if f"p{proc.pid}" not in used else f"p{proc.pid}.{proc.start_seq}"
            used.add(node_id)
            ids[id(proc)] = node_id
        creators = {id(c): self.book.creator_of(c) for c in self.table.history}
        has_children = {id(c) for c in creators.values() if c is not None}
        # Fold identical leaf siblings: same creator, role, program and namespaces.
        folds: dict[tuple[Any, ...], list[Process]] = {}
        for proc in self.table.history:
            creator = creators[id(proc)]
            if creator is None or id(proc) in has_children:
                continue
            role = self.book.role(proc)
            key = (id(creator), role.name, role.detail, proc.executable, group_key(proc.ns, self.host))
            folds.setdefault(key, []).append(proc)
        folded_into: dict[int, Process] = {}
        members: dict[int, list[Process]] = {}
        for group in folds.values():
            if len(group) >= FOLD_MIN:
                members[id(group[0])] = group
                for proc in group:
                    folded_into[id(proc)] = group[0]
        for proc in self.table.history:
            head = folded_into.get(id(proc), proc)
            node_of[proc.pid] = ids[id(head)]
            if head is not proc:
                continue
            graph.add_node(ids[id(proc)], **self._process_attrs(proc, members.get(id(proc), [proc])))
        for proc in self.table.history:
            if folded_into.get(id(proc), proc) is not proc:
                continue
            creator = creators[id(proc)]
            if creator is None:
                continue
            src = ids[id(folded_into.get(id(creator), creator))]
            count = len(members.get(id(proc), [proc]))
            attrs: dict[str, Any] = {"kind": "spawn", "via": proc.via, "flags": list(proc.flags),
                                     "label": self.creation_label(proc), "count": count,
                                     "seq": proc.start_seq}
            parent = self.book.parent_of(proc)
            if parent is not None and parent is not creator:
                attrs["parent"] = ids[id(parent)]
                attrs["label"] += f" (parent {parent.pid})"
            graph.add_edge(src, ids[id(proc)], **attrs)
        aggregated: dict[tuple[str, str, str, bool], dict[str, Any]] = {}
        for conn in self.connections():
            client = conn["client"]
            src = ids[id(folded_into.get(id(client), client))]
            server = conn["server"]
            if server is not None:
                dst = ids[id(folded_into.get(id(server), server))]
            else:
                dst = "sock:" + normalize_socket_path(conn["path"])
                if dst not in graph:
                    graph.add_node(dst, **_external_attrs(conn["path"], conn["server_role"]))
            ipc_key = (src, dst, normalize_socket_path(conn["path"]), conn["preexisting"])
            if ipc_key in aggregated:
                aggregated[ipc_key]["count"] += 1
                continue
            aggregated[ipc_key] = {"kind": "ipc", "path": conn["path"], "label": connect_label(conn["path"]),
                               "preexisting": conn["preexisting"], "inferred": conn["inferred"], "count": 1,
                               "seq": conn["seq"]}
        for (src, dst, _, _), attrs in aggregated.items():
            graph.add_edge(src, dst, **attrs)
        return graph, node_of

    def _process_attrs(self, proc: Process, members: list[Process]) -> dict[str, Any]:
        role = self.book.role(proc)
        lines, more = key_syscalls(self.facts[id(proc)].key_events)
        phases = self.book.phases(proc)
        exit_text = None
        if proc.exit is not None:
            if proc.exit.detached:
                exit_text = "left running"
            elif proc.exit.signal:
                exit_text = f"killed by {proc.exit.signal}"
            else:
                exit_text = f"exit {proc.exit.code}"
        return {
            "kind": "process",
            "pid": proc.pid,
            "nspid": proc.pid_in_namespace,
            "executable": proc.executable,
            "argv": list(proc.current_argv),
            "role": role.name,
            "role_kind": role.kind,
            "detail": role.detail,
            "roles": _dedupe([str(p.role) for p in phases if self.is_own(proc, p)]),
            "group": group_key(proc.ns, self.host),
            "new_namespaces": new_namespaces(proc.ns, self.host),
            "via": proc.via,
            "threads": len(proc.threads),
            "syscalls": lines,
            "syscalls_more": more,
            "count": len(members),
            "members": [m.pid for m in members],
            "exit": exit_text,
            "start_seq": proc.start_seq,
            "notes": [n.text for n in self.notes_of(proc)][:MAX_NODE_NOTES],
        }

    # The architecture graph --------------------------------------------------------------------------------

    def architecture_graph(self) -> tuple[nx.MultiDiGraph, dict[str, NamespaceGroup]]:
        graph = nx.MultiDiGraph(kind="architecture")
        group_ns: dict[str, dict[str, int]] = {}

        def node_for(proc: Process, phase: Phase, own: bool = True) -> str:
            key = group_key(phase.ns, self.host)
            group_ns.setdefault(key, new_namespaces(phase.ns, self.host))
            node_id = f"{phase.role.name}@{key}"
            if node_id not in graph:
                graph.add_node(node_id, kind="role", role=phase.role.name, role_kind=phase.role.kind, group=key,
                               details=[], pids=[], programs=[], order=phase.start_seq, notes=[])
            attrs = graph.nodes[node_id]
            if phase.role.detail and phase.role.detail not in attrs["details"]:
                attrs["details"].append(phase.role.detail)
            if own and proc.pid not in attrs["pids"]:
                attrs["pids"].append(proc.pid)
                if phase.path and phase.path not in attrs["programs"]:
                    attrs["programs"].append(phase.path)
                if phase.argv and not attrs.get("argv"):
                    attrs["argv"] = list(phase.argv)
            return node_id

        edges: dict[tuple[str, str, str, str], dict[str, Any]] = {}

        def add(src: str, dst: str, kind: str, lines: list[str], seq: int, **extra: Any) -> None:
            if src == dst:
                return
            label = "\n".join(lines)
            key = (src, dst, kind, label)
            if key in edges:
                edges[key]["count"] += 1
                return
            edges[key] = {"kind": kind, "label": label, "lines": lines, "count": 1, "seq": seq, **extra}

        is_own = self.is_own

        for proc in self.table.history:
            phases = self.book.phases(proc)
            nodes = [node_for(proc, phase, is_own(proc, phase)) for phase in phases]
            facts = self.facts[id(proc)]
            transitions = [_Transition(seq, "spawn", child=child) for seq, child in facts.spawned]
            transitions += [_Transition(e.seq, "exec", exec_index=i) for i, e in enumerate(proc.execs, start=1)]
            transitions.sort(key=lambda t: t.seq)
            decisive = facts.decisive
            d = 0
            for transition in transitions:
                before: list[str] = []
                while d < len(decisive) and decisive[d].seq < transition.seq:
                    before.append(decisive_label(decisive[d]))
                    d += 1
                if transition.kind == "exec":
                    i = transition.exec_index
                    add(nodes[i - 1], nodes[i], "exec", [*before, exec_label(proc.execs[i - 1])], transition.seq)
                else:
                    child = transition.child
                    assert child is not None
                    src = nodes[self.book.phase_at(proc, transition.seq).index]
                    first = self.book.phases(child)[0]
                    dst = node_for(child, first, is_own(child, first))
                    add(src, dst, "spawn", [*before, self.creation_label(child)], transition.seq)
        for conn in self.connections():
            client: Process = conn["client"]
            src = node_for(client, self.book.phase_at(client, conn["seq"]), False)
            server: Process | None = conn["server"]
            if server is not None:
                dst = node_for(server, self.book.phase_at(server, conn["seq"]), False)
            else:
                role = conn["server_role"]
                dst = f"{role}@external" if role else "sock:" + normalize_socket_path(conn["path"])
                if dst not in graph:
                    graph.add_node(dst, **_external_attrs(conn["path"], role), details=[],
                                   pids=[], programs=[], order=conn["seq"])
            add(src, dst, "ipc", [connect_label(conn["path"])], conn["seq"], path=conn["path"],
                preexisting=conn["preexisting"], inferred=conn["inferred"])
        for (src, dst, _, _), attrs in sorted(edges.items(), key=lambda item: item[1]["seq"]):
            graph.add_edge(src, dst, **attrs)
        # Each insight note goes on the component the process was when it happened (runc init drops the
        # capabilities, not the entrypoint it becomes).
        for proc in self.table.history:
            # Where the process went first: it is drawn in the namespaces it began in.
            facts = self.facts[id(proc)]
            for seq, text in move_notes(facts.moves, facts.changes, self.host, self.creators):
                phase = self.book.phase_at(proc, seq)
                notes = graph.nodes[node_for(proc, phase, is_own(proc, phase))].setdefault("notes", [])
                if text not in notes and len(notes) < MAX_NODE_NOTES:
                    notes.append(text)
            if proc.pid in self.notes:
                for note in self.notes_of(proc, slide=True):
                    phase = self.book.phase_at(proc, note.seq)
                    notes = graph.nodes[node_for(proc, phase, is_own(proc, phase))].setdefault("notes", [])
                    if note.text not in notes and len(notes) < MAX_NODE_NOTES:
                        notes.append(note.text)
        groups = build_groups(group_ns.items())
        graph.graph["groups"] = groups
        return graph, groups


def _dedupe(items: list[str]) -> list[str]:
    out: list[str] = []
    for item in items:
        if not out or out[-1] != item:
            out.append(item)
    return out


def _external_attrs(path: str, role: str | None) -> dict[str, Any]:
    return {"kind": "external", "role": role or path, "role_kind": "external", "path": path,
            "group": HOST_GROUP}


def build_model(source: ProcessTable | Iterable[Event], insights: Any = None, *, notes: bool = True) -> TraceModel:
    """The process and architecture graphs of a trace (a ProcessTable, or events including the header).

    Nodes carry the learner insights as short `notes` ("uid 0 → host 65534 (1 id)", "caps: 14 kept, 26 dropped",
    "seccomp: default ERRNO(EPERM), 87 denied, 292 allowed"): from `insights` (tracer.insights.Insights) when
    given, else computed here from the table's events; `notes=False` leaves them out."""
    table = source if isinstance(source, ProcessTable) else ProcessTable.from_events(source)
    notes_of: dict[int, list[Note]] | None = None
    if notes:
        from tracer.insights import Insights, relevant_events

        if insights is None:
            insights = Insights.from_events(relevant_events(table.events_by_seq.values()))
        notes_of = insights.diagram_notes()
    builder = _Builder(table, notes_of)
    processes, node_of = builder.process_graph()
    architecture, groups = builder.architecture_graph()
    return TraceModel(table, builder.book, processes, architecture, groups, node_of, insights if notes else None)


def role_path(graph: nx.MultiDiGraph, roles: list[str]) -> list[str] | None:
    """Architecture nodes following each other along edges whose roles are `roles` in order, or None."""
    by_role: dict[str, list[str]] = {}
    for node, attrs in graph.nodes(data=True):
        by_role.setdefault(attrs.get("role", ""), []).append(node)
    paths: list[list[str]] = [[n] for n in by_role.get(roles[0], [])]
    for role in roles[1:]:
        nxt: list[list[str]] = []
        for path in paths:
            for target in by_role.get(role, []):
                if nx.has_path(graph, path[-1], target):
                    nxt.append([*path, target])
        paths = nxt
    return paths[0] if paths else None

