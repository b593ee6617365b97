"""The walkthrough: chapters computed from the trace, each pointing at the events and processes that show it.

A recording of a known scenario gets one chapter per milestone that its trace shows (`lesson.evaluate`), in
the scenario's order (the CLI hands the lesson over: viz never imports scenarios); the milestone's `find` decides which events, never a fixed position. Any other recording
gets generic chapters found in the trace itself: the first exec, each call that creates or joins namespaces,
pivot_root/chroot, the entrypoint's exec and the exits. Pure functions of the events; no Textual here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from tracer.decoders import Trait, syscalls_with
from tracer.events import Event, Exec, Exit, ProcessStarted, Syscall
from tracer.processes import ProcessTable
from tracer.xlat.clone import NAMESPACE_OF_FLAG
from viz.console import short_argv

#: What a new namespace of each kind gives the process, in one clause.
NAMESPACE_MEANING: dict[str, str] = {
    "mnt": (
        "its own mount table, a copy of the one it came from: mount events still propagate between copies of "
        "shared mounts and the originals (inwards only, if a new user namespace came with it) until it marks them "
        "slave or private"
    ),
    "uts": "its own hostname",
    "ipc": "its own System V IPC objects and POSIX message queues",
    "net": (
        "its own network stack: no interface but a loopback, created down (runc brings it up with netlink; "
        "unshare and the teach runtime leave it down)"
    ),
    "pid": "its own pid numbering: the first process born in it is pid 1",
    "user": "its own uid/gid mapping: root inside can be an ordinary user outside",
    "cgroup": "its own view of the cgroup tree, rooted at its current cgroup",
    "time": "its own boot-time and monotonic clocks",
}

#: CLONE_NEW* flag -> namespace kind (the one table, in tracer.xlat.clone).
CLONE_FLAG_KINDS = NAMESPACE_OF_FLAG

NAMESPACE_SYSCALLS = syscalls_with(Trait.NAMESPACE)
ROOT_SYSCALLS = syscalls_with(Trait.ROOT)
MAX_NAMESPACE_CHAPTERS = 8


@dataclass(frozen=True)
class Chapter:
    """One step of the walkthrough: what to read and which events and processes show it."""

    id: str
    title: str
    narration: str
    seqs: tuple[int, ...]
    pids: tuple[int, ...]
    claim: str | None = None
    reality: str | None = None

    @property
    def first_seq(self) -> int | None:
        return self.seqs[0] if self.seqs else None


@dataclass
class Walkthrough:
    """The chapters of one trace. `source` is the scenario name, or "generic" for the trace-derived ones."""

    source: str
    chapters: list[Chapter] = field(default_factory=list)
    #: Titles of scenario milestones this trace does not show (skipped as chapters, listed for the reader).
    missing: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.chapters)


class LessonMilestone(Protocol):
    """One milestone of a lesson, as a chapter needs it (scenarios.base.Milestone is one)."""

    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def narration(self) -> str: ...
    @property
    def claim(self) -> str | None: ...
    @property
    def reality(self) -> str | None: ...


class LessonResult(Protocol):
    """Where a milestone shows in a trace (scenarios.base.MilestoneResult is one)."""

    @property
    def milestone(self) -> LessonMilestone: ...
    @property
    def seqs(self) -> Sequence[int]: ...


class Lesson(Protocol):
    """The milestones of a scenario, which the CLI hands to the viewers (scenarios.base.Scenario is one)."""

    @property
    def name(self) -> str: ...
    @property
    def milestones(self) -> Sequence[Any]: ...
    def evaluate(self, events: Sequence[Event]) -> Sequence[LessonResult]: ...


def build_walkthrough(events: Sequence[Event], lesson: Lesson | None) -> Walkthrough:
    """Chapters from the lesson's milestones when there is a lesson with milestones, else generic ones."""
    if lesson is not None and lesson.milestones:
        return scenario_walkthrough(lesson, events)
    return generic_walkthrough(events)


def scenario_walkthrough(lesson: Lesson, events: Sequence[Event]) -> Walkthrough:
    walk = Walkthrough(source=lesson.name)
    by_seq = {e.seq: e for e in events}
    for result in lesson.evaluate(events):
        milestone = result.milestone
        seqs = tuple(s for s in result.seqs if s in by_seq)
        if not seqs:
            walk.missing.append(milestone.title)
            continue
        walk.chapters.append(
            Chapter(
                id=milestone.id,
                title=milestone.title,
                narration=milestone.narration,
                seqs=seqs,
                pids=_pids_of(by_seq, seqs),
                claim=milestone.claim,
                reality=milestone.reality,
            )
        )
    return walk


def _pids_of(by_seq: dict[int, Event], seqs: Sequence[int]) -> tuple[int, ...]:
    pids: list[int] = []
    for seq in seqs:
        pid = getattr(by_seq.get(seq), "pid", None)
        if isinstance(pid, int) and pid not in pids:
            pids.append(pid)
    return tuple(pids)


# Generic chapters ---------------------------------------------------------------------------------------------


def namespace_flags(args: Any) -> list[str]:
    """Every CLONE_NEW* flag named anywhere in a syscall's decoded arguments (clone3 nests them in a struct)."""
    found: list[str] = []
    stack = [args]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str):
            for part in value.split("|"):
                if part in CLONE_FLAG_KINDS and part not in found:
                    found.append(part)
    return sorted(found, key=list(CLONE_FLAG_KINDS).index)


def generic_walkthrough(events: Sequence[Event]) -> Walkthrough:
    table = ProcessTable.from_events(events)
    walk = Walkthrough(source="generic")
    chapters = walk.chapters

    def name(pid: int) -> str:
        proc = table.processes.get(pid)
        label = proc.comm if proc is not None and proc.comm else "?"
        inner = proc.pid_in_namespace if proc is not None else pid
        return f"pid {pid} ({label})" if inner == pid else f"pid {pid} ({label}, pid {inner} inside)"

    execs = [e for e in events if isinstance(e, Exec)]
    if execs:
        first = execs[0]
        chapters.append(Chapter(
            id="first-exec",
            title="The command starts",
            narration=(
                f"{name(first.pid)} replaces itself with {first.path} ({short_argv(first.argv)}) through "
                f"{first.syscall}. Everything after this is what that program and its children ask the kernel."
            ),
            seqs=(first.seq,),
            pids=(first.pid,),
        ))

    namespace_calls: list[Syscall | ProcessStarted] = [
        e for e in events
        if isinstance(e, Syscall) and e.name in NAMESPACE_SYSCALLS and e.error is None
        and (namespace_flags(e.args) or e.name == "setns")
    ]
    if not namespace_calls:
        namespace_calls = [e for e in events if isinstance(e, ProcessStarted) and namespace_flags(e.flags)]
    for index, event in enumerate(namespace_calls[:MAX_NAMESPACE_CHAPTERS]):
        chapters.append(_namespace_chapter(index, event, name))

    roots = [e for e in events if isinstance(e, Syscall) and e.name in ROOT_SYSCALLS and e.error is None]
    for event in roots[:2]:
        if event.name == "pivot_root":
            narration = (
                f"{name(event.pid)} calls pivot_root: the directory prepared as the container's root filesystem "
                "becomes the root mount of its mount namespace and the old root is moved to put_old (with "
                'pivot_root(".", ".") it ends up stacked on top of the new root), to be unmounted next. Unlike '
                "chroot this changes the mount itself, so once the old root is detached the host's files are "
                "really out of reach."
            )
        else:
            narration = (
                f"{name(event.pid)} calls chroot: path lookups now start at the new directory. The host's "
                "mounts are still there (chroot changes where `/` is looked up, not the mount table), which "
                "is why container runtimes prefer pivot_root."
            )
        chapters.append(Chapter(
            id=f"root-{event.seq}", title=f"A new root: {event.name}", narration=narration,
            seqs=(event.seq,), pids=(event.pid,),
        ))

    entry = _entrypoint_exec(events, execs, roots, table)
    if entry is not None and (not execs or entry.seq != execs[0].seq):
        chapters.append(Chapter(
            id="entrypoint",
            title="The container's program starts",
            narration=(
                f"{name(entry.pid)} executes {entry.path} ({short_argv(entry.argv)}). It is an ordinary process: "
                "what makes it a container is the namespaces and the root it inherited from the steps before."
            ),
            seqs=(entry.seq,),
            pids=(entry.pid,),
        ))

    exits = [e for e in events if isinstance(e, Exit) and not e.detached]
    if exits:
        codes = ", ".join(
            f"{name(e.pid)} {'killed by ' + e.signal if e.signal else 'exited with ' + str(e.code)}"
            for e in exits[-4:]
        )
        chapters.append(Chapter(
            id="exits",
            title="Everything exits",
            narration=(
                f"{len(exits)} processes exit. The last ones: {codes}. A namespace lives as long as something "
                "refers to it: a process in it, an open /proc/PID/ns file, a bind mount of that file (dockerd "
                "keeps containers' network namespaces mounted under /run/docker/netns), or a namespace that "
                "depends on it (a nested pid or user namespace, a namespace owned by a user namespace). The "
                "kernel frees it when the last of these goes."
            ),
            seqs=tuple(e.seq for e in exits),
            pids=tuple(dict.fromkeys(e.pid for e in exits)),
        ))
    return walk


def _namespace_chapter(index: int, event: Syscall | ProcessStarted, name: Any) -> Chapter:
    if isinstance(event, ProcessStarted):
        flags = namespace_flags(event.flags)
        kinds = [CLONE_FLAG_KINDS[f] for f in flags]
        return Chapter(
            id=f"namespaces-{index}",
            title=f"{event.via}: a child born in new {', '.join(kinds)} namespaces",
            narration=(
                f"{name(event.creator or event.ppid)} creates {name(event.pid)} with {'|'.join(flags)}: the child "
                f"starts life in new namespaces. " + _meaning(kinds)
            ),
            seqs=(event.seq,), pids=tuple(dict.fromkeys(p for p in (event.creator, event.pid) if p)),
        )
    flags = namespace_flags(event.args)
    kinds = [CLONE_FLAG_KINDS[f] for f in flags]
    if event.name == "setns":
        target = ", ".join(kinds) or "an existing"
        return Chapter(
            id=f"namespaces-{index}",
            title=f"setns: joining {target} namespace",
            narration=(
                f"{name(event.pid)} calls setns on a namespace file it opened: instead of creating a namespace "
                "it joins one that already exists (how runc enters a container's namespaces, and docker exec)."
            ),
            seqs=(event.seq,), pids=(event.pid,),
        )
    if event.name == "unshare":
        moved = [kind for kind in kinds if kind not in ("pid", "time")]
        stays = [kind for kind in kinds if kind in ("pid", "time")]
        extra = (
            f" Note {' and '.join(stays)}: unshare never moves the caller into a new {' or '.join(stays)} "
            "namespace; every child it creates afterwards is born there, and the first child in a new pid "
            "namespace is its pid 1."
            if stays else ""
        )
        lives = f"from this call on it lives in new {', '.join(moved)} namespaces. " if moved else ""
        narration = (
            f"{name(event.pid)} calls unshare({'|'.join(flags)}): {lives}" + _meaning(kinds) + extra
        )
    else:
        child = f" pid {event.ret}" if isinstance(event.ret, int) and event.ret > 0 else " a child"
        narration = (
            f"{name(event.pid)} calls {event.name} with {'|'.join(flags)}: it creates{child} directly in new "
            f"{', '.join(kinds)} namespaces. " + _meaning(kinds)
        )
    return Chapter(
        id=f"namespaces-{index}",
        title=f"{event.name}: new {', '.join(kinds)} namespaces",
        narration=narration,
        seqs=(event.seq,), pids=(event.pid,),
    )


def _meaning(kinds: Sequence[str]) -> str:
    parts = [f"{kind}: {NAMESPACE_MEANING[kind]}" for kind in kinds if kind in NAMESPACE_MEANING]
    return ("It gets " + "; ".join(parts) + ".") if parts else ""


def _entrypoint_exec(events: Sequence[Event], execs: list[Exec], roots: list[Syscall],
                     table: ProcessTable) -> Exec | None:
    """The container's program: the first exec after the last pivot_root/chroot, else the last exec of a process
    that lives in namespaces the host does not."""
    if roots:
        after = roots[-1].seq
        for event in execs:
            if event.seq > after:
                return event
    host = table.host_namespaces()
    for event in reversed(execs):
        if any(host.get(kind) not in (None, inode) for kind, inode in event.ns.items()):
            return event
    return None

