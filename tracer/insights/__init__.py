"""Learner insights: what a container launch did, in facts a learner can read, computed from the events alone.

Every insight is a pure fold over the event stream (no ptrace, no display), so it works the same on a live
trace and on a recording, in the console, the TUI's details pane, a notebook or a diagram's node notes:

- namespaces: which syscall made each namespace, in which process (clone with CLONE_NEW*, unshare, setns);
- idmaps: user-namespace uid/gid maps ("in user namespace N, uid 0 is host uid 65534 (1 id)");
- cgroups: where processes were moved and which limits were set (v1, v2 and hybrid);
- capabilities: bounding/effective/permitted/inheritable sets before and after, no_new_privs;
- seccomp: each filter program evaluated for every syscall (default action, denied calls, argument rules);
- mounts: the mount table as a tree at each snapshot and the diffs between them (the new "/");
- paths: readable paths beside the raw arguments (/proc/self/fd/N, ".", dirfd-relative names);
- diagnosis: when a launch fails, the cause and the fix in plain sentences;
- entrypoint: the container's own program and how long the launch took to reach it;
- network: every interface created, moved, renamed, addressed and brought up, per network namespace (rtnetlink).

    insights = Insights.from_events(events)           # a live trace (header first)
    insights = Insights.from_recording(recording)     # a loaded recording
    for line in insights.facts(): print(line)
    insights.for_process(pid)   # the facts about one process
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from tracer.events import Event, Syscall
from tracer.insights import sentences as say
from tracer.insights.capabilities import (
    ALL_CAPABILITIES,
    SHOWN_SETS,
    Capabilities,
    CapabilitySets,
    ProcessCapabilities,
    capabilities,
    capability_order,
    sets_seen,
)
from tracer.insights.cgroups import CgroupPlacement, Cgroups, cgroups
from tracer.insights.common import Entrypoint, find_entrypoint
from tracer.insights.diagnosis import Diagnosis, diagnose
from tracer.insights.idmaps import IdMaps, UserNamespaceMaps, id_maps
from tracer.insights.mounts import MountTimeline, mount_timeline, snapshot_causes
from tracer.insights.namespaces import NamespaceOrigin, namespace_origins
from tracer.insights.network import NetworkState, network_state
from tracer.insights.overlay import OverlayRoot
from tracer.insights.paths import ReadablePath, readable_paths
from tracer.insights.seccomp import SeccompFilter, filters_of, seccomp_filters
from tracer.insights.spec import find_overlay_root
from tracer.processes import ProcessTable

__all__ = [
    "Capabilities",
    "Cgroups",
    "Diagnosis",
    "Entrypoint",
    "IdMaps",
    "Insights",
    "MountTimeline",
    "NamespaceOrigin",
    "NetworkState",
    "Note",
    "OverlayRoot",
    "ProcessCapabilities",
    "ReadablePath",
    "SeccompFilter",
    "UserNamespaceMaps",
    "capabilities",
    "cgroups",
    "diagnose",
    "id_maps",
    "mount_timeline",
    "namespace_origins",
    "network_state",
    "readable_paths",
    "relevant_events",
    "seccomp_filters",
]


@dataclass
class Insights:
    """Everything above for one trace. Build it with `Insights.from_events(events)`."""

    table: ProcessTable
    namespaces: list[NamespaceOrigin]
    idmaps: IdMaps
    cgroups: Cgroups
    capabilities: Capabilities
    seccomp: list[SeccompFilter]
    mounts: MountTimeline
    #: seq of a syscall event -> its path arguments made readable.
    paths: dict[int, list[ReadablePath]]
    diagnoses: list[Diagnosis]
    entrypoint: Entrypoint | None
    events: list[Event] = field(default_factory=list, repr=False)
    #: The container's overlay root decoded into image layers (docker, containerd), None for a plain directory.
    overlay: OverlayRoot | None = None
    #: The network the trace built with rtnetlink messages (empty when it built none).
    network: NetworkState = field(default_factory=NetworkState)
    _seen_caps: dict[int, tuple[int, CapabilitySets]] | None = field(default=None, init=False, repr=False,
                                                                     compare=False)
    _sentences: dict[int, list[str]] | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def from_events(cls, events: Iterable[Event]) -> Insights:
        events = list(events)
        return cls(
            table=ProcessTable.from_events(events),
            namespaces=namespace_origins(events),
            idmaps=id_maps(events),
            cgroups=cgroups(events),
            capabilities=capabilities(events),
            seccomp=seccomp_filters(events),
            mounts=mount_timeline(events),
            paths=readable_paths(events),
            diagnoses=diagnose(events),
            entrypoint=find_entrypoint(events),
            events=events,
            overlay=find_overlay_root(events),
            network=network_state(events),
        )

    @classmethod
    def from_recording(cls, recording: object) -> Insights:
        """From a loaded tracer.recording.Recording, whose header (the host's namespaces) is kept apart."""
        header = getattr(recording, "header", None)
        events = list(getattr(recording, "events", []))
        return cls.from_events(([header] if header is not None else []) + events)

    @property
    def failed(self) -> bool:
        return bool(self.diagnoses)

    # Queries: where a process lives, what it was seen with ------------------------------------------------------

    def cgroup_of(self, pid: int) -> CgroupPlacement | None:
        """The cgroup `pid` lives in (moved there, or born from a creator that was)."""
        return self.cgroups.placement_of(pid, self.table)

    def seccomp_of(self, pid: int) -> list[tuple[SeccompFilter, bool]]:
        """The filters `pid` runs under, oldest first, each with True when inherited from a creator."""
        return filters_of(self.seccomp, self.table, pid)

    def capabilities_seen(self) -> dict[int, tuple[int, CapabilitySets]]:
        """pid -> (seq, sets) of the last process or exec event that recorded its capability sets (kept)."""
        if self._seen_caps is None:
            self._seen_caps = sets_seen(self.events)
        return self._seen_caps

    # What the insights say ------------------------------------------------------------------------------------

    def facts(self) -> list[str]:
        """Every insight as one line each, in teaching order (diagnoses first: they are why you look)."""
        lines = [say.diagnosis_fact(d.sentence, d.fix) for d in self.diagnoses]
        lines += [say.namespace_origin(o) for o in self.namespaces]
        lines += self.idmaps.facts()
        lines += self.cgroups.facts()
        lines += self.capabilities.facts()
        for found in self.seccomp:
            lines += found.facts()
        lines += self.mounts.facts()
        if self.overlay is not None:
            lines += self.overlay.facts()
        lines += self.network.facts()
        if self.entrypoint is not None:
            lines.append(say.entrypoint_fact(self.entrypoint))
        return lines

    def for_process(self, pid: int) -> list[str]:
        """The facts about one process, one line each."""
        lines = [say.diagnosis_lines(d.sentence, d.fix)[0] for d in self.diagnoses if d.pid == pid]
        lines += [say.namespace_made_by_process(o) for o in self.namespaces if o.pid == pid and o.created]
        lines += [say.namespace_joined_by_process(o) for o in self.namespaces if o.pid == pid and o.syscall == "setns"]
        maps = self.idmaps.for_process(pid, self.table)
        if maps is not None:
            lines += maps.facts()
        lines += [say.moved_into_cgroup(text) for text in self.cgroups.for_process(pid)]
        caps = self.capabilities.for_process(pid)
        if caps is not None:
            lines += caps.facts()
        for found in self.seccomp:
            if found.pid == pid and found.analysis is not None:
                lines.append(say.seccomp_fact_for_process(found.analysis))
        lines += [line for diff in self.mounts.diffs_of(pid) for line in diff.facts()]
        lines += [step.describe() for step in self.network.steps if step.pid == pid]
        if self.entrypoint is not None and self.entrypoint.exec.pid == pid:
            lines.append(say.entrypoint_fact_for_process(self.entrypoint))
        return lines

    def process_sections(self, pid: int) -> list[tuple[str, list[str]]]:
        """(title, lines) for everything the insights say about one process, diagnosis first: the TUI's process
        details (viz.insights_view renders them)."""
        sections: list[tuple[str, list[str]]] = []
        failed = [d for d in self.diagnoses if d.pid == pid]
        if failed:
            sections.append((say.SECTION_FAILED, [line for d in failed for line in say.diagnosis_lines(d.sentence, d.fix)]))
        made = [say.namespace_section_line(o) for o in self.namespaces
                if o.pid == pid and (o.created or o.syscall == "setns")]
        if made:
            sections.append((say.SECTION_NAMESPACES, made))
        maps = self.idmaps.for_process(pid, self.table)
        if maps is not None:
            sections.append((say.SECTION_IDMAP, maps.facts()))
        placement = self.cgroup_of(pid)
        if placement is not None:
            lines = [say.cgroup_placement(placement.cgroup, placement.where(), placement.moved == pid,
                                          placement.moves[0].process)]
            lines += self.cgroups.limit_lines(placement.cgroup) or [say.NO_CGROUP_LIMIT]
            sections.append((say.SECTION_CGROUP, lines))
        lines = self._capability_lines(pid)
        if lines:
            sections.append((say.SECTION_CAPABILITIES, lines))
        filters = self.seccomp_of(pid)
        if filters:
            sections.append((say.SECTION_SECCOMP, [line for found, inherited in filters
                                         for line in say.seccomp_for_process(found, inherited)]))
        diffs = self.mounts.diffs_of(pid)
        if diffs:
            sections.append((say.SECTION_MOUNTS, [line for d in diffs for line in say.mount_facts_of_process(d)]))
        e = self.entrypoint
        if e is not None and e.exec.pid == pid:
            sections.append((say.SECTION_ENTRYPOINT, [say.entrypoint_of_process(e)]))
        return sections

    def _capability_lines(self, pid: int) -> list[str]:
        """Before and after for a process that changed its sets; else the sets it was seen with."""
        caps = self.capabilities.for_process(pid)
        lines: list[str] = []
        if caps is not None:
            lines += [f"{which}: {text}" for which, text in capability_rows(caps)]
            if caps.no_new_privs:
                lines.append(say.NO_NEW_PRIVS_FOR_PROCESS)
            lines.append(say.ASSUMED_BEFORE_FOR_PROCESS if caps.assumed_before else say.RECORDED_BEFORE_FOR_PROCESS)
        else:
            seen = self.capabilities_seen().get(pid)
            if seen is None:
                return []
            sets = seen[1]
            if sets.effective and sets.effective == sets.bounding and len(sets.bounding) >= len(ALL_CAPABILITIES) - 1:
                lines.append(say.full_root_set(len(sets.effective), len(sets.bounding)))
            else:
                lines.append(say.effective_seen(sorted(sets.effective, key=capability_order)))
                if sets.bounding != sets.effective:
                    lines.append(say.bounding_seen(len(sets.bounding)))
            if sets.ambient:
                lines.append(say.ambient_seen(sorted(sets.ambient, key=capability_order)))
            lines.append(say.SEEN_UNCHANGED)
        proc = self.table.processes.get(pid)
        host_user = self.table.host_namespaces().get("user")
        user = proc.ns.get("user") if proc is not None else None
        if user is not None and host_user is not None and user != host_user:
            lines.append(say.caps_in_user_namespace(user))
        return lines

    def event_sentences(self) -> dict[int, list[str]]:
        """seq -> the insight sentences that event gave rise to (a write to uid_map, a capset, a seccomp install,
        pivot_root...), for every event an insight came from; built once and kept."""
        if self._sentences is None:
            self._sentences = _event_sentences(self)
        return self._sentences

    def sentences_of(self, seq: int) -> list[str]:
        """The insight sentences event `seq` gave rise to (none for most events)."""
        return self.event_sentences().get(seq, [])

    def diagram_notes(self) -> dict[int, list[Note]]:
        """pid -> short notes for its diagram node, in the order things happened: the id map of a user namespace
        (on the first process in it), the cgroup and its limits (on the container's pid 1, else on the process
        moved), capabilities kept and dropped, the seccomp filter, the new root, and a failure."""
        return _diagram_notes(self)


def capability_rows(caps: ProcessCapabilities) -> list[tuple[str, str]]:
    """(set, "40 before → 14 after: kept 14, dropped 26 (CAP_...)") for each set that changed."""
    rows: list[tuple[str, str]] = []
    for which in SHOWN_SETS:
        before, after = caps.before.get(which), caps.after.get(which)
        if before == after:
            continue
        text = say.capability_change(len(before), len(after), len(before & after), caps.dropped(which),
                                     sorted(after - before), caps.kept(which))
        rows.append((which, text))
    return rows


def capability_note(caps: ProcessCapabilities) -> str | None:
    """The diagram note: the bounding set when it shrank (no exec can bring those back), else the effective set;
    no_new_privs when set."""
    which = "bounding" if caps.bounding_dropped else "effective"
    before, after = caps.before.get(which), caps.after.get(which)
    return say.capability_note(len(before & after), len(before - after), caps.no_new_privs)


def relevant_events(events: Iterable[Event]) -> list[Event]:
    """The events insights read: every event but uncategorized syscalls (keeps `--filter all` traces quick)."""
    return [e for e in events if not (isinstance(e, Syscall) and e.category == "other")]


# Sentences on events -----------------------------------------------------------------------------------------


class _BySeq:
    def __init__(self) -> None:
        self.out: dict[int, list[str]] = {}

    def say(self, seq: int | None, *lines: str) -> None:
        if seq is not None and lines:
            bucket = self.out.setdefault(seq, [])
            bucket.extend(line for line in lines if line not in bucket)


#: Which lines of a user namespace's facts a write to each file gave rise to.
_MAP_LINES = {"uid_map": (", uid ", ", uids "), "gid_map": (", gid ", ", gids "), "setgroups": (", setgroups ",)}


def _event_sentences(insights: Insights) -> dict[int, list[str]]:
    said = _BySeq()
    say_at = said.say
    for d in insights.diagnoses:
        say_at(d.seq, *say.diagnosis_lines(d.sentence, d.fix))
    for o in insights.namespaces:
        if o.created:
            say_at(o.seq, say.namespace_origin(o))
        elif o.syscall == "setns":
            say_at(o.seq, say.namespace_joined(o))
    for write in insights.idmaps.writes:
        if not write.ok:
            say_at(write.seq, say.failed_map_write(write))
            continue
        maps = insights.idmaps.namespaces.get(write.user_ns)
        if maps is None:
            continue
        say_at(write.seq, *(line for line in maps.facts() if any(w in line for w in _MAP_LINES[write.file])))
    cg = insights.cgroups
    for seq, target in cg.created:
        say_at(seq, say.cgroup_created(target.cgroup, target.where))
    for move in cg.moves:
        if not move.ok:
            say_at(move.seq, say.failed_cgroup_move(move.written, move.target.cgroup, move.error))
            continue
        pid1 = cg.pid1_from.get(move.pid) if move.pid is not None else None
        later = pid1 if pid1 is not None and pid1 != move.pid else None
        say_at(move.seq, say.cgroup_move(move.process, move.target.cgroup, move.target.where, later))
    for setting in cg.settings:
        if setting.ok:
            say_at(setting.seq, say.cgroup_setting(setting.meaning, setting.target.cgroup))
        else:
            say_at(setting.seq, say.failed_cgroup_setting(setting.target.file, setting.error))
    for caps in insights.capabilities.processes.values():
        _capability_sentences(caps, insights.table.events_by_seq, said)
    for found in insights.seccomp:
        say_at(found.seq, *found.facts())
    if insights.mounts.diffs:
        caused_by = snapshot_causes(insights.events)
        for diff in insights.mounts.diffs:
            lines = say.mount_facts_of_process(diff)
            say_at(diff.seq, *lines)
            say_at(caused_by.get(diff.seq), *lines)
    for seq, paths in insights.paths.items():
        say_at(seq, *(say.readable_path(p) for p in paths if p.differs))
    e = insights.entrypoint
    if e is not None:
        say_at(e.exec.seq, say.entrypoint_on_exec(e))
    return said.out


def _capability_sentences(caps: ProcessCapabilities, by_seq: dict[int, Event], said: _BySeq) -> None:
    say_at = said.say
    dropped_once: set[str] = set()
    bounding_before = caps.before.bounding
    total = (len(caps.dropped("bounding")), len(bounding_before), len(caps.kept("bounding")))
    for seq in caps.seqs:
        event = by_seq.get(seq)
        if not isinstance(event, Syscall):
            continue
        args = event.args
        if event.name == "capset":
            lines = []
            for which in ("effective", "permitted", "inheritable"):
                now = args.get(which)
                if not isinstance(now, list):
                    continue
                before = caps.before.get(which)
                gone = sorted(before - set(now), key=capability_order)
                if not now and not before:
                    continue
                lines.append(say.capset_set(which, len(now), gone, len(before)))
            say_at(seq, *lines)
        elif args.get("option") == "PR_CAPBSET_DROP":
            name = args.get("capability")
            if not isinstance(name, str):
                continue
            if name not in bounding_before:
                say_at(seq, say.bounding_drop_unheld(name))
            elif name in dropped_once:
                say_at(seq, say.bounding_drop_again(name))
            else:
                dropped_once.add(name)
                say_at(seq, say.bounding_drop(name, *total))
        elif args.get("option") == "PR_SET_NO_NEW_PRIVS" and args.get("value") == 1:
            say_at(seq, say.NO_NEW_PRIVS_ON_CALL)


# Diagram notes ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Note:
    """A short note for a diagram node: `seq` places it on the phase of the process it belongs to; `slide` is
    False for notes the architecture view leaves out (said elsewhere on the slide)."""

    seq: int
    text: str
    slide: bool = True


@dataclass
class _Notes:
    by_pid: dict[int, list[Note]] = field(default_factory=dict)

    def add(self, pid: int | None, seq: int, text: str | None, slide: bool = True) -> None:
        if pid is None or not text:
            return
        notes = self.by_pid.setdefault(pid, [])
        text = say.cut(text)
        if all(n.text != text for n in notes):
            notes.append(Note(seq, text, slide))


def _diagram_notes(insights: Insights) -> dict[int, list[Note]]:
    notes = _Notes()
    table = insights.table
    maps_of = insights.idmaps.namespaces
    if any(inode is not None for inode in maps_of):
        for proc in table.history:
            inode = proc.ns.get("user")
            maps = maps_of.get(inode) if inode is not None else None
            if maps is None:
                continue
            creator = table.processes.get(proc.creator) if proc.creator is not None else None
            if creator is not None and creator.ns.get("user") == inode and creator.start_seq < proc.start_seq:
                continue
            seq = proc.execs[0].seq if proc.execs else proc.start_seq
            uid, gid = maps.uid_map or [], maps.gid_map or []
            if uid and uid == gid:
                notes.add(proc.pid, seq, say.map_note("uid/gid", uid, maps.outside_is_host))
            else:
                if uid:
                    notes.add(proc.pid, seq, say.map_note("uid", uid, maps.outside_is_host))
                if gid:
                    notes.add(proc.pid, seq, say.map_note("gid", gid, maps.outside_is_host))
            if not uid:
                notes.add(proc.pid, seq, say.NO_UID_MAP_NOTE)
    cg = insights.cgroups
    for (pid, cgroup), _paths in cg.placements().items():
        if pid is None:
            continue
        text = say.cgroup_note(cgroup, cg.headline_limits(cgroup))
        seq = next(m.seq for m in cg.moves if m.ok and m.pid == pid and m.target.cgroup == cgroup)
        pid1 = cg.pid1_from.get(pid)
        if pid1 is not None and pid1 != pid:
            notes.add(pid, seq, say.cgroup_moved_note(cgroup), slide=False)
            started = table.processes.get(pid1)
            notes.add(pid1, started.start_seq if started is not None else seq, text)
        else:
            notes.add(pid, seq, text)
    for caps in insights.capabilities.processes.values():
        if caps.seqs:
            notes.add(caps.pid, caps.seqs[-1], capability_note(caps))
    for found in insights.seccomp:
        notes.add(found.pid, found.seq, say.seccomp_note(found.analysis))
    for diff in insights.mounts.diffs:
        for text in say.mount_notes(diff):
            notes.add(diff.pid, diff.seq, text)
    for d in insights.diagnoses:
        if d.pid is not None:
            notes.add(d.pid, d.seq, say.diagnosis_note(d.sentence))
    for pid_notes in notes.by_pid.values():
        pid_notes.sort(key=lambda n: n.seq)
    return notes.by_pid
