"""Capabilities: what root inside the container may still do.

Root's power is split into about 40 capabilities (CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_KILL...). A runtime keeps
a few: it drops the others from the bounding set (prctl(PR_CAPBSET_DROP, CAP_X), one call each: no exec can
bring them back), then sets the effective, permitted and inheritable sets with capset(2), and sets no_new_privs
when its configuration asks (prctl(PR_SET_NO_NEW_PRIVS, 1): no setuid binary or file capability can raise
privileges again; runc's and ctr's defaults ask, Docker's do not).

"before" is the set the process had when the trace saw it start or exec (ProcessStarted.caps and Exec.caps,
read from /proc/PID/status). Recordings without those fields fall back to assuming the full set (a runtime runs
as root, or as root of a new user namespace); `assumed_before` says so. Each process gets:

    bounding set: dropped 38 of 41, kept CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE
    effective: kept 3 of 41 (CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE)
    no_new_privs set
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tracer.events import Event, Exec, ProcessStarted, Syscall
from tracer.insights import sentences as say
from tracer.insights.common import replay
from tracer.xlat.capability import CAPABILITIES

#: Every capability this kernel table knows, in number order.
ALL_CAPABILITIES: tuple[str, ...] = tuple(name for name, _ in CAPABILITIES)
_ORDER = {name: number for name, number in CAPABILITIES}
SETS: tuple[str, ...] = ("effective", "permitted", "inheritable", "bounding", "ambient")
#: The sets a learner compares, in the order they are shown.
SHOWN_SETS: tuple[str, ...] = ("bounding", "effective", "permitted", "inheritable", "ambient")


def _sorted(names: Iterable[str]) -> list[str]:
    return sorted(names, key=lambda n: (_ORDER.get(n, 1 << 16), n))


@dataclass(frozen=True)
class CapabilitySets:
    effective: frozenset[str]
    permitted: frozenset[str]
    inheritable: frozenset[str]
    bounding: frozenset[str]
    ambient: frozenset[str]

    @classmethod
    def full(cls) -> CapabilitySets:
        every = frozenset(ALL_CAPABILITIES)
        return cls(every, every, frozenset(), every, frozenset())

    def get(self, name: str) -> frozenset[str]:
        """The set called `name` (one of SETS)."""
        match name:
            case "effective":
                return self.effective
            case "permitted":
                return self.permitted
            case "inheritable":
                return self.inheritable
            case "bounding":
                return self.bounding
            case "ambient":
                return self.ambient
        raise KeyError(name)


@dataclass
class ProcessCapabilities:
    """The capability story of one process."""

    pid: int
    process: str
    before: CapabilitySets = field(default_factory=CapabilitySets.full)
    after: CapabilitySets = field(default_factory=CapabilitySets.full)
    #: True while "before" is the assumed full set (the trace does not record the starting sets).
    assumed_before: bool = True
    #: Capabilities dropped from the bounding set, in call order (each once).
    bounding_dropped: list[str] = field(default_factory=list)
    capset_seqs: list[int] = field(default_factory=list)
    no_new_privs: bool = False
    no_new_privs_seq: int | None = None
    seqs: list[int] = field(default_factory=list)

    def dropped(self, which: str) -> list[str]:
        return _sorted(self.before.get(which) - self.after.get(which))

    def kept(self, which: str) -> list[str]:
        return _sorted(self.after.get(which))

    def facts(self) -> list[str]:
        lines: list[str] = []
        if self.bounding_dropped:
            kept = self.kept("bounding")
            dropped, before = len(self.dropped("bounding")), len(self.before.bounding)
            lines.append(f"{self.process}: " + say.bounding_dropped(dropped, before, kept))
        if self.capset_seqs:
            for which in ("effective", "permitted", "inheritable"):
                kept = self.kept(which)
                if which == "inheritable" and not kept and not self.before.inheritable:
                    continue
                lines.append(
                    f"{self.process}: {which}: kept {len(kept)} of {len(self.before.get(which)) or len(kept)} ("
                    + (", ".join(kept) or "none")
                    + f"), dropped {len(self.dropped(which))}"
                )
        if self.after.ambient:
            lines.append(f"{self.process}: " + say.ambient_seen(self.kept("ambient")))
        if self.no_new_privs:
            lines.append(f"{self.process}: {say.NO_NEW_PRIVS_FACT}")
        return lines


@dataclass
class Capabilities:
    processes: dict[int, ProcessCapabilities] = field(default_factory=dict)

    def for_process(self, pid: int) -> ProcessCapabilities | None:
        return self.processes.get(pid)

    def facts(self) -> list[str]:
        return [line for caps in self.processes.values() for line in caps.facts()]

    def main(self) -> ProcessCapabilities | None:
        """The process that dropped the most (the container's init in a runtime trace)."""
        if not self.processes:
            return None
        return max(
            self.processes.values(),
            key=lambda c: (
                len(c.dropped("bounding")) + len(c.dropped("effective")),
                c.seqs[-1] if c.seqs else 0,
            ),
        )


def _capset_sets(args: dict[str, Any]) -> tuple[frozenset[str], frozenset[str], frozenset[str]] | None:
    effective, permitted, inheritable = (args.get(name) for name in ("effective", "permitted", "inheritable"))
    if not (isinstance(effective, list) and isinstance(permitted, list) and isinstance(inheritable, list)):
        return None
    return frozenset(effective), frozenset(permitted), frozenset(inheritable)


def sets_from_masks(masks: dict[str, str]) -> CapabilitySets | None:
    """CapabilitySets from the hex masks the tracer read in /proc/PID/status."""
    try:
        values = {name: int(masks[name], 16) for name in SETS}
    except (KeyError, TypeError, ValueError):
        return None

    def names(mask: int) -> frozenset[str]:
        return frozenset(name for name, number in CAPABILITIES if mask >> number & 1)

    return CapabilitySets(*(names(values[name]) for name in SETS))


def capabilities(events: Iterable[Event]) -> Capabilities:
    result = Capabilities()
    #: The sets each process had when last seen starting or exec'ing (when the recording has them).
    known: dict[int, CapabilitySets] = {}
    for event, state in replay(events):
        if isinstance(event, ProcessStarted | Exec) and event.caps:
            sets = sets_from_masks(event.caps)
            if sets is not None:
                known[event.pid] = sets
            continue
        if not isinstance(event, Syscall) or event.error is not None or event.name not in ("capset", "prctl"):
            continue
        args = event.args
        if event.name == "prctl" and args.get("option") not in (
            "PR_CAPBSET_DROP", "PR_SET_NO_NEW_PRIVS", "PR_CAP_AMBIENT",
        ):  # fmt: skip
            continue
        caps = result.processes.get(event.pid)
        if caps is None:
            caps = result.processes[event.pid] = ProcessCapabilities(event.pid, state.label(event.pid))
            # A child created after its parent dropped capabilities starts from the parent's sets.
            proc = state.table.processes.get(event.pid)
            parent = result.processes.get(proc.creator) if proc is not None and proc.creator else None
            if event.pid in known:
                caps.before = caps.after = known[event.pid]
                caps.assumed_before = False
            elif parent is not None:
                caps.before = caps.after = parent.after
            if parent is not None:
                caps.no_new_privs = parent.no_new_privs
        caps.process = state.label(event.pid)
        caps.seqs.append(event.seq)
        after = caps.after
        if event.name == "capset":
            capset = _capset_sets(args)
            if capset is None:
                continue
            effective, permitted, inheritable = capset
            caps.after = CapabilitySets(
                effective, permitted, inheritable, after.bounding, after.ambient & permitted
            )
            caps.capset_seqs.append(event.seq)
        elif args["option"] == "PR_CAPBSET_DROP":
            name = args.get("capability")
            if isinstance(name, str) and name in after.bounding:
                caps.after = CapabilitySets(
                    after.effective,
                    after.permitted,
                    after.inheritable,
                    after.bounding - {name},
                    after.ambient,
                )
                caps.bounding_dropped.append(name)
        elif args["option"] == "PR_SET_NO_NEW_PRIVS":
            if args.get("value") == 1:
                caps.no_new_privs = True
                caps.no_new_privs_seq = event.seq
        elif args["option"] == "PR_CAP_AMBIENT":
            operation, name = args.get("operation"), args.get("capability")
            if operation == "PR_CAP_AMBIENT_RAISE" and isinstance(name, str):
                caps.after = CapabilitySets(
                    after.effective,
                    after.permitted,
                    after.inheritable,
                    after.bounding,
                    after.ambient | {name},
                )
            elif operation == "PR_CAP_AMBIENT_LOWER" and isinstance(name, str):
                caps.after = CapabilitySets(
                    after.effective,
                    after.permitted,
                    after.inheritable,
                    after.bounding,
                    after.ambient - {name},
                )
            elif operation == "PR_CAP_AMBIENT_CLEAR_ALL":
                caps.after = CapabilitySets(
                    after.effective, after.permitted, after.inheritable, after.bounding, frozenset()
                )
    # Processes that only lowered ambient capabilities they never had say nothing worth showing.
    result.processes = {
        pid: caps for pid, caps in result.processes.items()
        if caps.bounding_dropped or caps.capset_seqs or caps.no_new_privs or caps.after.ambient
    }  # fmt: skip
    return result


def sets_seen(events: Iterable[Event]) -> dict[int, tuple[int, CapabilitySets]]:
    """pid -> (seq, sets) of the last process or exec event that recorded its capability sets."""
    out: dict[int, tuple[int, CapabilitySets]] = {}
    for event in events:
        if isinstance(event, ProcessStarted | Exec) and event.caps:
            sets = sets_from_masks(event.caps)
            if sets is not None:
                out[event.pid] = (event.seq, sets)
    return out


def capability_order(name: str) -> tuple[int, str]:
    """Sort key: the kernel's numbering (CAP_CHOWN first), unknown names last."""
    try:
        return ALL_CAPABILITIES.index(name), name
    except ValueError:
        return len(ALL_CAPABILITIES), name
