"""cgroups made readable: where the container's processes were put and which limits were set.

A runtime creates a directory under /sys/fs/cgroup (a cgroup), writes limits into its files (memory.max,
pids.max, cpu.max on cgroup v2; memory.limit_in_bytes, cpu.cfs_quota_us, cpu.shares on v1) and writes a pid
into cgroup.procs (or tasks) to move that process in; children are born in their creator's cgroup. On cgroup
v1 (and the "hybrid" layout of this kind of machine) there is one hierarchy per mounted controller or group of
controllers (systemd co-mounts cpu,cpuacct and net_cls,net_prio; the recording machine mounts each alone:
/sys/fs/cgroup/memory, /sys/fs/cgroup/pids, ... and a cgroup2 mount at /sys/fs/cgroup/unified), so the same
move is written once per hierarchy. The decoder keeps the content of writes under /sys/fs/cgroup; here they
become facts:

    moved pid 12814 (runc) into cgroup /boxtrace-runc-1a2b (v1: cpuset, memory, ...; v2: unified);
    the container's pid 1 (12819) was created from it and starts there
    memory limit 256 MiB

The pid written is in the writer's pid namespace; it is translated to the traced process. Whether a path is v1
or v2 is read from its first component: a v1 controller name (memory, cpu,cpuacct, name=systemd's
`systemd`...) is a v1 hierarchy, `unified` is the v2 mount of the hybrid layout, anything else is under a v2
/sys/fs/cgroup.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from tracer.events import Event, Syscall
from tracer.insights import sentences as say
from tracer.insights.common import Replay, creator_chain, human_bytes, replay
from tracer.processes import ProcessTable

CGROUP_ROOT = "/sys/fs/cgroup"

#: Names a v1 hierarchy is mounted under (single controllers, the usual co-mounts, and named hierarchies).
V1_HIERARCHIES = frozenset(
    {
        "blkio", "cpu", "cpuacct", "cpu,cpuacct", "cpuacct,cpu", "cpuset", "devices", "freezer", "hugetlb",
        "memory", "net_cls", "net_prio", "net_cls,net_prio", "net_prio,net_cls", "perf_event", "pids", "rdma",
        "misc", "systemd", "elogind",
    }
)  # fmt: skip
#: The v2 mount point of the hybrid layout.
HYBRID_V2 = "unified"

MEMBERSHIP_FILES = frozenset({"cgroup.procs", "tasks", "cgroup.threads"})
#: v1's device access rules (v2 uses a BPF program attached to the cgroup instead).
DEVICE_FILES = frozenset({"devices.allow", "devices.deny"})

#: Values the kernel reads as "no limit" in v1 memory files (PAGE_COUNTER_MAX rounded to pages, or -1).
_V1_UNLIMITED = 0x7FFFFFFFFFFFF000

#: Well-known character devices, for devices.allow/deny rules.
_DEVICES = {
    "1:3": "/dev/null",
    "1:5": "/dev/zero",
    "1:7": "/dev/full",
    "1:8": "/dev/random",
    "1:9": "/dev/urandom",
    "5:0": "/dev/tty",
    "5:1": "/dev/console",
    "5:2": "/dev/ptmx",
    "10:200": "/dev/net/tun",
    "10:229": "/dev/fuse",
    "136:*": "/dev/pts/*",
}


@dataclass(frozen=True, slots=True)
class CgroupPath:
    """A file or directory under /sys/fs/cgroup, split into what it means."""

    version: int  # 1 or 2
    hierarchy: str  # "memory", "unified", or "" for a v2 /sys/fs/cgroup
    cgroup: str  # "/docker/371f..." ("/" is the root cgroup)
    file: str | None  # "cgroup.procs", "memory.max"... None for a directory

    @property
    def where(self) -> str:
        return f"v{self.version}: {self.hierarchy}" if self.hierarchy else f"v{self.version}"


def parse_cgroup_path(path: str | None, *, is_file: bool = True) -> CgroupPath | None:
    if not path or not (path == CGROUP_ROOT or path.startswith(CGROUP_ROOT + "/")):
        return None
    rest = posixpath.normpath(path)[len(CGROUP_ROOT) :].strip("/")
    parts = rest.split("/") if rest else []
    file = parts.pop() if is_file and parts else None
    if parts and parts[0] in V1_HIERARCHIES:
        version, hierarchy = 1, parts.pop(0)
    elif parts and parts[0] == HYBRID_V2:
        version, hierarchy = 2, parts.pop(0)
    else:
        version, hierarchy = 2, ""
    return CgroupPath(version, hierarchy, "/" + "/".join(parts), file)


@dataclass
class CgroupMove:
    """A process moved into a cgroup (a pid written into cgroup.procs/tasks, or born there by
    CLONE_INTO_CGROUP)."""

    seq: int
    writer: int
    written: int | None  # the number as written (in the writer's pid namespace)
    pid: int | None  # the traced process it names (host pid)
    process: str
    target: CgroupPath
    via: str  # "cgroup.procs", "tasks", "cgroup.threads" or "clone3"
    ok: bool
    error: str | None = None


@dataclass
class CgroupSetting:
    """A value written to a limit or control file."""

    seq: int
    writer: int
    target: CgroupPath
    value: str
    meaning: str
    ok: bool
    error: str | None = None


@dataclass
class CgroupPlacement:
    """The cgroup a process lives in as far as the trace shows: moved there itself, or born from a process that
    was."""

    cgroup: str
    #: The successful moves into it (one per hierarchy on cgroup v1 and hybrid layouts).
    moves: list[CgroupMove]
    #: The process whose move put it there (itself, or a creator up the chain).
    moved: int

    def where(self) -> str:
        """"v1: cpuset, memory, ...; v2: unified": the hierarchies it was moved into, as the facts say."""
        return _where([m.target for m in self.moves])


@dataclass
class Cgroups:
    created: list[tuple[int, CgroupPath]] = field(default_factory=list)
    moves: list[CgroupMove] = field(default_factory=list)
    settings: list[CgroupSetting] = field(default_factory=list)
    #: pid -> the container's pid 1 (host pid) created from it after its move, when there is one.
    pid1_from: dict[int, int] = field(default_factory=dict)
    _labels: dict[int, str] = field(default_factory=dict, repr=False)

    def placements(self) -> dict[tuple[int | None, str], list[CgroupPath]]:
        """(pid, cgroup) -> the hierarchies it was moved into, successful moves only, in order."""
        out: dict[tuple[int | None, str], list[CgroupPath]] = {}
        for move in self.moves:
            if move.ok:
                out.setdefault(
                    (move.pid if move.pid is not None else move.written, move.target.cgroup), []
                ).append(move.target)
        return out

    def limits(self) -> list[CgroupSetting]:
        """Successful settings that limit something (memory, pids, CPU...), not bookkeeping writes."""
        return [s for s in self.settings if s.ok and s.target.file not in _BOOKKEEPING]

    def placement_of(self, pid: int, table: ProcessTable) -> CgroupPlacement | None:
        """The cgroup `pid` lives in: its own last successful move, else the last move of the nearest creator up
        the chain made before it created the next process down (a child starts in its creator's cgroup)."""
        moves_of: dict[int, list[CgroupMove]] = {}
        for move in self.moves:
            if move.ok and move.pid is not None:
                moves_of.setdefault(move.pid, []).append(move)
        if not moves_of:
            return None
        for who, before in creator_chain(table, pid):
            moves = [m for m in moves_of.get(who, ()) if before is None or m.seq < before]
            if moves:
                cgroup = moves[-1].target.cgroup
                same = [m for m in moves if m.target.cgroup == cgroup]
                return CgroupPlacement(cgroup, same, who)
        return None

    def limit_lines(self, cgroup: str) -> list[str]:
        """What was written into the cgroup's control files, as a learner reads it; device rules in one line."""
        lines: list[str] = []
        rules: list[str] = []
        for setting in self.limits():
            if setting.target.cgroup != cgroup:
                continue
            if setting.target.file in DEVICE_FILES:
                rules.append(setting.meaning.removeprefix("devices: "))
            elif setting.meaning not in lines:
                lines.append(setting.meaning)
        if any(line.startswith("CPU quota") for line in lines):  # v1 splits a CPU limit over quota and period
            cpus = [limit for limit in self.headline_limits(cgroup) if limit.endswith(" CPUs")]
            if cpus:
                lines.append(say.cgroup_cpu_limit(cpus[0]))
        if rules:
            lines.append(say.cgroup_device_rules(rules))
        return lines

    def headline_limits(self, cgroup: str) -> list[str]:
        """The limits worth a slide: memory, processes, CPU ("memory 256 MiB", "64 pids", "0.5 CPUs")."""
        out: dict[str, int | float | str] = {}
        quota: int | None = None
        period = 100000
        for setting in self.limits():
            if setting.target.cgroup != cgroup:
                continue
            file, value = setting.target.file or "", setting.value.strip()
            if file in ("memory.max", "memory.limit_in_bytes"):
                number = _number(value)
                if number is not None and 0 < number < 0x7FFFFFFFFFFFF000:
                    out["memory"] = number
            elif file == "pids.max" and value != "max":
                out["pids"] = value
            elif file == "cpu.max":
                parts = value.split()
                q = _number(parts[0]) if parts else None
                p = _number(parts[1]) if len(parts) > 1 else 100000
                if q is not None and p:
                    out["cpu"] = q / p
            elif file == "cpu.cfs_quota_us":
                q = _number(value)
                quota = q if q is not None and q > 0 else None
            elif file == "cpu.cfs_period_us":
                p = _number(value)
                period = p if p else period
        if quota is not None and "cpu" not in out:
            out["cpu"] = quota / period
        return [say.headline_limit(kind, value) for kind, value in out.items()]

    def for_process(self, pid: int) -> list[str]:
        """The cgroups `pid` was moved into, as "/X (v1: memory)" strings."""
        return [f"{cg} ({_where(paths)})" for (moved, cg), paths in self.placements().items() if moved == pid]

    def facts(self) -> list[str]:
        lines: list[str] = []
        for (pid, cgroup), paths in self.placements().items():
            who = self._labels.get(pid, str(pid)) if pid is not None else "?"
            line = f"moved pid {who} into cgroup {cgroup} ({_where(paths)})"
            pid1 = self.pid1_from.get(pid) if pid is not None else None
            if pid1 == pid:
                line += "; it is the container's pid 1"
            elif pid1 is not None:
                line += f"; the container's pid 1 ({pid1}) was created from it afterwards and starts there"
            lines.append(line)
        for move in self.moves:
            if not move.ok:
                lines.append(say.failed_cgroup_move(move.written, move.target.cgroup, move.error))
        seen: set[tuple[str, str]] = set()
        rules: dict[str, list[str]] = {}
        for setting in self.limits():
            if setting.target.file in DEVICE_FILES:
                rules.setdefault(setting.target.cgroup, []).append(setting.meaning.removeprefix("devices: "))
                continue
            key = (setting.target.cgroup, setting.meaning)
            if key not in seen:
                seen.add(key)
                lines.append(f"{setting.meaning} (cgroup {setting.target.cgroup}, {setting.target.file})")
        lines.extend(_cpu_quota_facts(self.settings))
        for cgroup, items in rules.items():
            lines.append(f"device rules of cgroup {cgroup}: " + "; ".join(dict.fromkeys(items)))
        return lines


_BOOKKEEPING = frozenset(
    {"cgroup.event_control", "cgroup.clone_children", "notify_on_release", "release_agent"}
)


def _where(paths: list[CgroupPath]) -> str:
    v1 = [p.hierarchy for p in paths if p.version == 1]
    v2 = [p.hierarchy or "/sys/fs/cgroup" for p in paths if p.version == 2]
    parts = []
    if v1:
        parts.append("v1: " + ", ".join(dict.fromkeys(v1)))
    if v2:
        parts.append("v2: " + ", ".join(dict.fromkeys(v2)))
    return "; ".join(parts)


def _number(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def _memory(text: str, what: str = "memory limit") -> str:
    if text == "max":
        return f"no {what}"
    value = _number(text)
    if value is None:
        return f"{what} {text}"
    if value < 0 or value >= _V1_UNLIMITED:
        return f"no {what}"
    return f"{what} {human_bytes(value)}"


def _pids(text: str) -> str:
    return "no limit on the number of processes" if text == "max" else f"at most {text} processes"


def _cpu_max(text: str) -> str:
    parts = text.split()
    if not parts or parts[0] == "max":
        return "no CPU limit"
    quota, period = _number(parts[0]), _number(parts[1]) if len(parts) > 1 else 100000
    if quota is None or not period:
        return f"CPU limit {text}"
    return f"CPU limit {quota / period:g} CPUs ({quota} us of every {period} us)"


def _device_rule(verb: str, text: str) -> str:
    parts = text.split()
    if parts and parts[0] == "a":
        return f"devices: {verb} every device"
    if len(parts) == 3:
        kind, number, access = parts
        name = _DEVICES.get(number) if kind == "c" else None
        kind_name = {"c": "character", "b": "block", "a": "any"}.get(kind, kind)
        device = name or f"{kind_name} device {number}"
        if number == "*:*":
            device = f"every {kind_name} device"
        return f"devices: {verb} {device} ({access})"
    return f"devices: {verb} {text}"


#: file name -> how to read its value (None: keep "set FILE to VALUE").
_MEANINGS: dict[str, Callable[[str], str]] = {
    "memory.max": _memory,
    "memory.high": lambda t: _memory(t, "memory throttling threshold"),
    "memory.low": lambda t: _memory(t, "memory protection"),
    "memory.min": lambda t: _memory(t, "hard memory protection"),
    "memory.swap.max": lambda t: _memory(t, "swap limit"),
    "memory.limit_in_bytes": _memory,
    "memory.soft_limit_in_bytes": lambda t: _memory(t, "soft memory limit"),
    "memory.memsw.limit_in_bytes": lambda t: _memory(t, "memory+swap limit"),
    "memory.kmem.limit_in_bytes": lambda t: _memory(t, "kernel memory limit"),
    "pids.max": _pids,
    "cpu.max": _cpu_max,
    "cpu.weight": lambda t: f"CPU weight {t} (default 100)",
    "cpu.shares": lambda t: f"CPU shares {t} (default 1024)",
    "cpu.cfs_quota_us": lambda t: "no CPU quota" if t == "-1" else f"CPU quota {t} us per period",
    "cpu.cfs_period_us": lambda t: f"CPU period {t} us",
    "cpuset.cpus": lambda t: f"may run on CPUs {t}",
    "cpuset.mems": lambda t: f"may use memory nodes {t}",
    "blkio.weight": lambda t: f"block I/O weight {t}",
    "io.weight": lambda t: f"I/O weight {t}",
    "devices.allow": lambda t: _device_rule("allow", t),
    "devices.deny": lambda t: _device_rule("deny", t),
    "cgroup.subtree_control": lambda t: f"controllers enabled for child cgroups: {t}",
    "freezer.state": lambda t: f"freezer state {t}",
    "cgroup.freeze": lambda t: "frozen" if t == "1" else "thawed",
    "cgroup.event_control": lambda t: "registered for memory event notifications (cgroup.event_control)",
}


def meaning_of(file: str | None, value: str) -> str:
    reader = _MEANINGS.get(file or "")
    return reader(value) if reader is not None else f"set {file} to {value!r}"


def _cpu_quota_facts(settings: list[CgroupSetting]) -> list[str]:
    """v1 splits a CPU limit over two files: quota / period CPUs, said once per cgroup."""
    quota: dict[str, int] = {}
    period: dict[str, int] = {}
    for s in settings:
        value = _number(s.value)
        if not s.ok or value is None:
            continue
        if s.target.file == "cpu.cfs_quota_us" and value > 0:
            quota[s.target.cgroup] = value
        elif s.target.file == "cpu.cfs_period_us" and value > 0:
            period[s.target.cgroup] = value
    return [f"CPU limit {quota[cg] / period.get(cg, 100000):g} CPUs (cgroup {cg})" for cg in quota]


def _pid1_created_from(table: ProcessTable, pid: int, after_seq: int) -> int | None:
    """The pid-1-of-a-new-pid-namespace process that is `pid` or was created (via creators) from it later."""
    for proc in table.history:
        if not (len(proc.nspid) > 1 and proc.nspid[-1] == 1):
            continue
        if proc.pid == pid:
            return proc.pid
        if proc.start_seq < after_seq:
            continue
        seen = set()
        creator = proc.creator
        while creator is not None and creator not in seen:
            if creator == pid:
                return proc.pid
            seen.add(creator)
            parent = table.processes.get(creator)
            creator = parent.creator if parent is not None else None
    return None


def cgroups(events: Iterable[Event]) -> Cgroups:
    events = list(events)
    result = Cgroups()
    state: Replay | None = None
    for event, state in replay(events):
        if not isinstance(event, Syscall):
            continue
        if event.name in ("mkdir", "mkdirat") and event.error is None:
            path = event.args.get("path")
            if isinstance(path, str) and not path.startswith("/"):
                base = event.args.get("dirfd_path")
                path = posixpath.join(base, path) if isinstance(base, str) else path
            target = parse_cgroup_path(path, is_file=False)
            if target is not None:
                result.created.append((event.seq, target))
        elif event.name == "clone3" and "CLONE_INTO_CGROUP" in (event.args.get("flags") or []):
            target = parse_cgroup_path(event.args.get("cgroup_path"), is_file=False)
            if target is not None:
                child = event.ret if event.error is None and isinstance(event.ret, int) else None
                pid = state.pid_seen_by(event.pid, child) if child else None
                result.moves.append(
                    CgroupMove(
                        event.seq,
                        event.pid,
                        child,
                        pid,
                        state.label(pid),
                        target,
                        "clone3",
                        event.error is None,
                        event.error,
                    )
                )
        elif event.name == "write":
            target = parse_cgroup_path(event.args.get("path"))
            data = event.args.get("data")
            if target is None or target.file is None or not isinstance(data, str):
                continue
            value = data.strip()
            if target.file in MEMBERSHIP_FILES:
                written = _number(value)
                pid = state.pid_seen_by(event.pid, written) if written is not None else None
                if written == 0:
                    pid = event.pid  # "0" moves the writer itself
                result.moves.append(
                    CgroupMove(
                        event.seq,
                        event.pid,
                        written,
                        pid,
                        state.label(pid),
                        target,
                        target.file,
                        event.error is None,
                        event.error,
                    )
                )
                if pid is not None:
                    result._labels[pid] = state.label(pid)
            else:
                result.settings.append(
                    CgroupSetting(
                        event.seq,
                        event.pid,
                        target,
                        value,
                        meaning_of(target.file, value),
                        event.error is None,
                        event.error,
                    )
                )
    if state is not None:
        #: pid 1 -> (seq of the latest move, mover) among the processes it was created from: an earlier mover's
        #: cgroup is not where pid 1 starts (podman moves conmon into <parent>/conmon; runc then moves its init).
        latest: dict[int, tuple[int, int]] = {}
        for move in result.moves:
            if move.ok and move.pid is not None:
                pid1 = _pid1_created_from(state.table, move.pid, move.seq)
                if pid1 is not None and move.seq >= latest.get(pid1, (-1, 0))[0]:
                    latest[pid1] = (move.seq, move.pid)
        for pid1, (_seq, mover) in latest.items():
            result.pid1_from[mover] = pid1
    return result
