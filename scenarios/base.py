"""What a scenario is: a real container launch worth watching, and what its trace must show.

Each scenario module defines one `Scenario`. The CLI, the tests, the TUI walkthrough and the notebooks all use the
same objects: `check()` says whether this machine can run it (and how to fix it when not), `prepare()` builds what
it needs (idempotent, cached), `launch()` says how boxtrace traces it, `milestones` say what its trace must show, and
`cleanup()` removes every container, mount and process it created.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tracer.events import Event
from tracer.processes import ProcessTable


@dataclass(frozen=True)
class Readiness:
    """Whether a scenario can run here. `reason` and `fix` are one sentence each for the user."""

    ready: bool
    reason: str = ""
    fix: str = ""


@dataclass(frozen=True)
class Launch:
    """How to trace a scenario: run `command` (launch mode) and attach to `attach_pids` first (attach mode)."""

    command: list[str]
    attach_pids: list[int] = field(default_factory=list)
    env: dict[str, str] | None = None
    cwd: str | None = None
    #: Run the command as this uid/gid (teach-rootless); None keeps root.
    user: tuple[int, int] | None = None


@dataclass(frozen=True)
class TraceView:
    """A trace as milestones see it: the events in order and the process table folded from them."""

    events: Sequence[Event]
    table: ProcessTable

    @classmethod
    def of(cls, events: Sequence[Event]) -> TraceView:
        return cls(events=events, table=ProcessTable.from_events(events))


@dataclass(frozen=True)
class Milestone:
    """Something the trace must show; also a chapter of the TUI walkthrough.

    `find` returns the seq numbers of the events that show the milestone (empty when the trace does not show it);
    the first of them is where the chapter starts. `claim`/`reality` hold a popular explanation and what this trace
    shows instead, when the popular one is wrong or loose.
    """

    id: str
    title: str
    narration: str
    find: Callable[[TraceView], list[int]]
    claim: str | None = None
    reality: str | None = None
    #: False for milestones that only some runs show (e.g. cgroup writes a runtime may skip).
    required: bool = True


@dataclass(frozen=True)
class MilestoneResult:
    milestone: Milestone
    seqs: list[int]

    @property
    def found(self) -> bool:
        return bool(self.seqs)


class Scenario:
    """Base class: subclasses set the class attributes and implement the methods."""

    name: str = ""
    summary: str = ""
    teaches: str = ""
    #: Attach to daemons and launch a client (docker, containerd) rather than launch the whole tree.
    attaches: bool = False
    milestones: tuple[Milestone, ...] = ()
    #: What-if faults the trace injects (tracer/inject.py rules), for the experiment variants (runc --what-if).
    inject: tuple[str, ...] = ()

    def check(self) -> Readiness:
        raise NotImplementedError

    def prepare(self) -> None:
        """Build what the launch needs (root filesystem, bundle, image); cached, safe to call again."""

    def launch(self) -> Launch:
        raise NotImplementedError

    def cleanup(self) -> None:
        """Remove what the launch left (containers, mounts, bundles' state); keep cached images and rootfs."""

    def evaluate(self, events: Sequence[Event]) -> list[MilestoneResult]:
        view = TraceView.of(events)
        return [MilestoneResult(m, sorted(m.find(view))) for m in self.milestones]

    def recording_path(self) -> Path:
        return Path(__file__).parent / "recordings" / f"{self.name}.jsonl"
