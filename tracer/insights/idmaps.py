"""User-namespace id maps: who "root inside" is outside.

A new user namespace starts with no ids mapped: its processes are the overflow user (nobody, 65534) even to
themselves. /proc/PID/uid_map and gid_map are written once each ("0 1000 1": inside uid 0 is outside uid 1000,
one id), by a process in the parent user namespace or by the process itself (one line mapping its own outside
id, as `unshare --map-root-user` does; user_namespaces(7)), and an unprivileged writer must first write "deny" to
/proc/PID/setgroups. The
decoder keeps the content of these writes; here they become facts per user namespace:

    in user namespace 4026532177, uid 0 is host uid 65534 (1 id)

The PID in the path is in the writer's pid namespace; it is translated to the traced process and so to the
user namespace it lives in (its `ns["user"]` at that moment).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from tracer.events import Event, Syscall
from tracer.insights.common import Replay, replay
from tracer.processes import ProcessTable

_MAP_FILE = re.compile(r"^/proc/(self|thread-self|\d+)(?:/task/(\d+))?/(uid_map|gid_map|setgroups)$")


@dataclass(frozen=True, slots=True)
class IdRange:
    """One line of a map: `count` ids from `inside` stand for ids from `outside` in the parent namespace."""

    inside: int
    outside: int
    count: int

    def describe(self, kind: str, where: str) -> str:
        if self.count == 1:
            return f"{kind} {self.inside} is {where}{kind} {self.outside} (1 id)"
        return (
            f"{kind}s {self.inside}-{self.inside + self.count - 1} are {where}{kind}s "
            f"{self.outside}-{self.outside + self.count - 1} ({self.count} ids)"
        )

    def to_outside(self, value: int) -> int | None:
        return self.outside + value - self.inside if self.inside <= value < self.inside + self.count else None


def parse_map(text: str) -> list[IdRange] | None:
    """Ranges from a map's text ("0 1000 1\\n1 100000 65536"); None when a line is not three numbers
    (the kernel refuses such a write with EINVAL)."""
    ranges: list[IdRange] = []
    for line in text.strip().splitlines():
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            return None
        ranges.append(IdRange(*(int(p) for p in parts)))
    return ranges


@dataclass
class IdMapWrite:
    """One write to uid_map, gid_map or setgroups."""

    seq: int
    writer: int
    file: str  # uid_map | gid_map | setgroups
    data: str | None
    #: The process the file belongs to (host pid), when it was traced.
    target: int | None
    #: Its user namespace at the time of the write.
    user_ns: int | None
    ok: bool
    error: str | None = None


@dataclass
class UserNamespaceMaps:
    """The id maps of one user namespace as the trace shows them."""

    inode: int | None
    uid_map: list[IdRange] | None = None
    gid_map: list[IdRange] | None = None
    setgroups: str | None = None  # "deny" or "allow" as written
    #: True when the writer lived in the host's user namespace (the outside ids are host ids).
    outside_is_host: bool = True
    seqs: list[int] = field(default_factory=list)

    def uid_outside(self, uid: int) -> int | None:
        return _outside(self.uid_map, uid)

    def gid_outside(self, gid: int) -> int | None:
        return _outside(self.gid_map, gid)

    def facts(self) -> list[str]:
        where = "host " if self.outside_is_host else "parent-namespace "
        name = f"user namespace {self.inode}" if self.inode else "a user namespace"
        lines: list[str] = []
        for kind, ranges in (("uid", self.uid_map), ("gid", self.gid_map)):
            for item in ranges or []:
                lines.append(f"in {name}, {item.describe(kind, where)}")
        if self.setgroups == "deny":
            lines.append(f"in {name}, setgroups denied (needed before an unprivileged gid_map)")
        elif self.setgroups:
            lines.append(f"in {name}, setgroups {self.setgroups}")
        if self.uid_map is None:
            lines.append(
                f"in {name}, no uid map was written: every uid inside shows as the overflow uid 65534"
            )
        return lines


    def picture(self) -> list[str]:
        """The maps drawn as arrows, inside ids on the left, outside ids on the right, one line per range:

            user namespace 4026532175 -> host
              uid  0        --> 999             (1 id)
              uids 1-65536  --> 100000-165535   (65536 ids)
        """
        rows: list[tuple[str, str, str]] = []
        for kind, ranges in (("uid", self.uid_map), ("gid", self.gid_map)):
            for item in ranges or []:
                last = item.count - 1
                inside = f"{item.inside}" if item.count == 1 else f"{item.inside}-{item.inside + last}"
                outside = f"{item.outside}" if item.count == 1 else f"{item.outside}-{item.outside + last}"
                label = kind if item.count == 1 else f"{kind}s"
                rows.append((f"{label} {inside}", outside, f"({item.count} id{'s' if item.count != 1 else ''})"))
        if not rows:
            return []
        left = max(len(r[0]) for r in rows)
        right = max(len(r[1]) for r in rows)
        where = "host" if self.outside_is_host else "the parent namespace"
        name = f"user namespace {self.inode}" if self.inode else "a user namespace"
        return [f"{name} -> {where}"] + [f"  {a:<{left}}  --> {b:<{right}}  {c}" for a, b, c in rows]


def _outside(ranges: list[IdRange] | None, value: int) -> int | None:
    for item in ranges or []:
        found = item.to_outside(value)
        if found is not None:
            return found
    return None


@dataclass
class IdMaps:
    writes: list[IdMapWrite] = field(default_factory=list)
    #: User namespace inode -> its maps. Writes to an untraced process are kept under None.
    namespaces: dict[int | None, UserNamespaceMaps] = field(default_factory=dict)
    _table: ProcessTable | None = field(default=None, repr=False)

    def for_namespace(self, inode: int | None) -> UserNamespaceMaps | None:
        return self.namespaces.get(inode)

    def for_process(self, pid: int, table: ProcessTable | None = None) -> UserNamespaceMaps | None:
        """The maps of the user namespace `pid` lives in (its `ns["user"]`); None when nothing mapped it."""
        table = table or self._table
        proc = table.processes.get(pid) if table is not None else None
        if proc is None:
            return None
        return self.namespaces.get(proc.ns.get("user"))

    def facts(self) -> list[str]:
        return [line for maps in self.namespaces.values() for line in maps.facts()]


def map_file(path: str | None) -> tuple[str, int | None, str] | None:
    """("pid", 4242, "uid_map") for /proc/4242/uid_map; ("self", None, "gid_map") for /proc/self/gid_map."""
    match = _MAP_FILE.match(path or "")
    if match is None:
        return None
    owner, task, name = match[1], match[2], match[3]
    if task is not None:
        return "pid", int(task), name
    if owner.isdigit():
        return "pid", int(owner), name
    return "self", None, name


def _target(state: Replay, writer: int, kind: str, number: int | None) -> int | None:
    if kind == "self":
        return writer
    return state.pid_seen_by(writer, number) if number is not None else None


def id_maps(events: Iterable[Event]) -> IdMaps:
    result = IdMaps()
    state: Replay | None = None
    for event, state in replay(events):
        if not isinstance(event, Syscall) or event.name != "write":
            continue
        found = map_file(event.args.get("path"))
        if found is None:
            continue
        kind, number, name = found
        target = _target(state, event.pid, kind, number)
        proc = state.table.processes.get(target) if target is not None else None
        user_ns = proc.ns.get("user") if proc is not None else None
        data = event.args.get("data")
        write = IdMapWrite(
            event.seq,
            event.pid,
            name,
            data if isinstance(data, str) else None,
            target,
            user_ns,
            ok=event.error is None,
            error=event.error,
        )
        result.writes.append(write)
        if not write.ok or write.data is None:
            continue
        maps = result.namespaces.setdefault(user_ns, UserNamespaceMaps(user_ns))
        writer = state.table.processes.get(event.pid)
        host_user = state.table.host_namespaces().get("user")
        maps.outside_is_host = writer is None or host_user is None or writer.ns.get("user") == host_user
        maps.seqs.append(event.seq)
        if name == "setgroups":
            maps.setgroups = write.data.strip()
        else:
            setattr(maps, name, parse_map(write.data))
    result._table = state.table if state is not None else None
    return result
