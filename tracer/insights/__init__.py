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

from tracer.events import Event
from tracer.insights.capabilities import Capabilities, ProcessCapabilities, capabilities
from tracer.insights.cgroups import Cgroups, cgroups
from tracer.insights.common import Entrypoint, find_entrypoint
from tracer.insights.diagnosis import Diagnosis, diagnose
from tracer.insights.idmaps import IdMaps, UserNamespaceMaps, id_maps
from tracer.insights.mounts import MountTimeline, mount_timeline
from tracer.insights.namespaces import NamespaceOrigin, namespace_origins
from tracer.insights.network import NetworkState, network_state
from tracer.insights.overlay import OverlayRoot
from tracer.insights.paths import ReadablePath, readable_paths
from tracer.insights.seccomp import SeccompFilter, seccomp_filters
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

    def facts(self) -> list[str]:
        """Every insight as one line each, in teaching order (diagnoses first: they are why you look)."""
        lines = [f"{d.sentence}. Fix: {d.fix}." for d in self.diagnoses]
        lines += [f"{o.kind} namespace {o.inode}: {o.describe()}" for o in self.namespaces]
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
            e = self.entrypoint
            lines.append(
                f"entrypoint {e.exec.path} runs as pid {e.inner_pid} of its pid namespace "
                f"(host pid {e.exec.pid}), {e.after:.3f} s after the launch started"
            )
        return lines

    def for_process(self, pid: int) -> list[str]:
        """The facts about one process: for the TUI's details pane and diagram node notes."""
        lines = [f"{d.sentence}." for d in self.diagnoses if d.pid == pid]
        lines += [
            f"made the {o.kind} namespace {o.inode} ({o.syscall})"
            for o in self.namespaces
            if o.pid == pid and o.created
        ]
        lines += [
            f"joined the {o.kind} namespace {o.inode} (setns)"
            for o in self.namespaces
            if o.pid == pid and o.syscall == "setns"
        ]
        maps = self.idmaps.for_process(pid, self.table)
        if maps is not None:
            lines += maps.facts()
        lines += [f"moved into cgroup {text}" for text in self.cgroups.for_process(pid)]
        caps = self.capabilities.for_process(pid)
        if caps is not None:
            lines += caps.facts()
        for found in self.seccomp:
            if found.pid == pid and found.analysis is not None:
                a = found.analysis
                lines.append(
                    f"seccomp filter: default {a.default.label}, {len(a.allowed)} allowed, "
                    f"{len(a.denied)} denied"
                )
        lines += [line for diff in self.mounts.diffs_of(pid) for line in diff.facts()]
        lines += [step.describe() for step in self.network.steps if step.pid == pid]
        if self.entrypoint is not None and self.entrypoint.exec.pid == pid:
            lines.append(
                f"runs the entrypoint {self.entrypoint.exec.path} as pid {self.entrypoint.inner_pid}"
            )
        return lines
