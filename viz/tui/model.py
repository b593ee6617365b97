"""What the TUI shows, as plain data: the events so far, the process table, filters, names, namespace colours.

Nothing here imports Textual. The app feeds events in (`TuiModel.extend`, the same for a recording and a live
trace) and the widgets ask questions; every answer is a pure function of the events, so tests can check it
without a screen.
"""

from __future__ import annotations

import gc
import os
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rich.text import Text

from tracer.events import (
    CATEGORIES,
    End,
    Event,
    Exec,
    Exit,
    Header,
    Ipc,
    MountSnapshot,
    NamespaceChange,
    ProcessStarted,
    Signal,
    Syscall,
    ThreadStarted,
)
from tracer.processes import Process, ProcessTable
from viz.console import EVENT_STYLES, event_text, noise_kind

if TYPE_CHECKING:
    from tracer.insights import Insights

__all__ = ["EVENT_STYLES", "event_text", "noise_kind"]

try:  # viz.roles names processes by the part they play; a plain basename does when it is missing
    from viz.roles import RoleBook
except ImportError:  # pragma: no cover
    RoleBook = None  # type: ignore[assignment,misc]

#: Programs whose first non-option argument names what they are doing (`runc create`, `docker run`).
SUBCOMMAND_PROGRAMS = frozenset(
    {"runc", "crun", "docker", "ctr", "nerdctl", "podman", "containerd-shim-runc-v2", "teach", "boxtrace"}
)
SUBCOMMANDS = frozenset(
    {"create", "start", "init", "run", "delete", "kill", "exec", "state", "pull", "rm", "wait", "attach",
     "child", "parent"}
)

#: Least seconds between two rebuilds of the process roles while a live trace streams.
ROLES_MIN_INTERVAL = 0.5
#: Least seconds between two recomputations of the learner insights while a live trace streams (or 20 times
#: their own cost, whichever is longer); the end of the trace always gets a fresh computation.
INSIGHTS_MIN_INTERVAL = 1.0
#: Syscall categories whose calls can give rise to an insight (clone, wait4 and exit alone never do: a plain
#: fork loop of 100k events skips the computation entirely).
NOTABLE_CATEGORIES = frozenset({"filesystem-view", "privileges", "cgroups"})

#: One colour per distinct set of namespaces, in the order the sets first appear.
NAMESPACE_COLOURS: tuple[str, ...] = (
    "magenta", "cyan", "yellow", "green", "bright_blue", "red", "bright_magenta", "bright_cyan",
    "bright_yellow", "bright_green", "blue", "bright_red",
)

#: How each namespace kind is spelled in a badge; pid_for_children ("pid*") is a new pid namespace that only
#: the process's future children will be in (what unshare(CLONE_NEWPID) gives the caller).
BADGE_KINDS: dict[str, str] = {
    "mnt": "mnt", "uts": "uts", "ipc": "ipc", "net": "net", "pid": "pid", "pid_for_children": "pid*",
    "user": "user", "cgroup": "cgroup", "time": "time",
}



def trace_warning(model: TuiModel, *, recording: bool) -> str | None:
    """One sentence when what is on screen is not a whole trace: a recording with no end line (truncated), or a
    trace that ended interrupted or failed."""
    end = model.end
    if end is None:
        if not recording or model.header is None:
            return None
        last = model.events[-1].t if model.events else 0.0
        return (f"This recording is truncated: it stops at {last:.3f} s with no end line (the tracer was stopped "
                "or the file was cut), so what happened after that is not in it.")
    if end.status != "completed":
        open_ = sum(1 for p in model.table.processes.values() if p.alive)
        still = f"; {open_} processes had not exited when it stopped" if open_ else ""
        return f"This trace was {end.status} before the traced command finished{still}."
    return None


def event_category(event: Event) -> str | None:
    """The category an event counts under for the `f` filter; None for trace-level events (notices, the end)."""
    if isinstance(event, Syscall):
        return event.category
    if isinstance(event, NamespaceChange):
        return "namespaces"
    if isinstance(event, (ProcessStarted, ThreadStarted, Exec, Exit, Signal)):
        return "process"
    if isinstance(event, Ipc):
        return "ipc"
    if isinstance(event, MountSnapshot):
        return "filesystem-view"
    return None


@dataclass(frozen=True)
class EventFilter:
    """Which events the list shows: container-relevant ones or everything, optionally one category only."""

    everything: bool = False
    category: str | None = None

    def accepts(self, event: Event) -> bool:
        if isinstance(event, (Header, ThreadStarted)) and not self.everything:
            return False
        category = event_category(event)
        if self.category is not None:
            return category == self.category
        return self.everything or category != "other"

    def describe(self) -> str:
        scope = "all events" if self.everything else "container events"
        return f"{scope}, {self.category} only" if self.category else scope

    def next_category(self) -> EventFilter:
        """The `f` key: no category -> each category in turn -> no category."""
        order: list[str | None] = [None, *CATEGORIES]
        index = order.index(self.category) if self.category in order else 0
        return EventFilter(self.everything, order[(index + 1) % len(order)])


def _role_text(role) -> str:
    if role.detail.startswith("runc:["):
        return role.detail
    return f"{role.name} ({role.detail})" if role.detail else role.name


def _basename(path: str) -> str:
    return os.path.basename(path.rstrip("/")) or path


def process_name(proc: Process) -> str:
    """A learner-facing name: runc's stage names, `runc create`, `containerd-shim-runc-v2 start`, or the
    program's basename."""
    comm = proc.comm or ""
    if comm.startswith("runc:["):
        return comm
    argv = proc.current_argv
    path = proc.executable or comm
    # runc re-executes itself from an fd (a detached read-only bind mount, or a memfd as fallback): the path says
    # little, argv[0] says which program.
    if path.startswith(("/proc/", "memfd:")) or "(deleted)" in path or path.isdigit():
        path = argv[0] if argv and argv[0] else comm
    name = _basename(path)
    if name in SUBCOMMAND_PROGRAMS or name.startswith("containerd-shim"):
        for arg in argv[1:]:
            if arg in SUBCOMMANDS:
                return f"{name} {arg}"
    return name or f"pid {proc.pid}"


class NamespacePalette:
    """Gives each distinct set of non-host namespaces its own colour, in order of appearance."""

    def __init__(self) -> None:
        self._colours: dict[frozenset[tuple[str, int]], str] = {}

    def colour(self, namespaces: dict[str, int]) -> str | None:
        if not namespaces:
            return None
        key = frozenset(namespaces.items())
        if key not in self._colours:
            self._colours[key] = NAMESPACE_COLOURS[len(self._colours) % len(NAMESPACE_COLOURS)]
        return self._colours[key]

    def __len__(self) -> int:
        return len(self._colours)


@dataclass
class Changes:
    """What one `extend` changed, so widgets update only that."""

    events: list[Event] = field(default_factory=list)
    new_processes: list[Process] = field(default_factory=list)
    changed_processes: list[Process] = field(default_factory=list)
    header_changed: bool = False


class TuiModel:
    """The events seen so far, folded incrementally (ProcessTable.add) as they arrive."""

    def __init__(self, events: Iterable[Event] = ()) -> None:
        self.header: Header | None = None
        self.events: list[Event] = []
        self.table = ProcessTable()
        self.palette = NamespacePalette()
        self.syscalls = 0
        self.categories: Counter[str] = Counter()
        self.namespace_changes = 0
        self.end: End | None = None
        #: Bumped by every `extend`: caches computed from the whole trace (the walkthrough) compare it.
        self.revision = 0
        self._owner: dict[int, Process] = {}
        self._plain: dict[int, str] = {}
        self._roles: Any = None
        self._roles_revision = -1
        self._roles_built_at = 0.0
        self._roles_interval = ROLES_MIN_INTERVAL
        #: Bumped whenever the roles are recomputed: the tree then relabels every process.
        self.roles_generation = 0
        #: The events the insights read (every event but uncategorized syscalls), and how many of them can give
        #: rise to one (namespace changes, mount snapshots, privilege/cgroup/filesystem-view calls).
        self._relevant: list[Event] = []
        self._notable = 0
        self._insights: Insights | None = None
        self._insights_revision = -1
        self._insights_built_at = 0.0
        self._insights_interval = INSIGHTS_MIN_INTERVAL
        if events:
            self.extend(events)

    # Feeding -----------------------------------------------------------------------------------------------

    def extend(self, events: Iterable[Event]) -> Changes:
        changes = Changes()
        new_ids: set[int] = set()
        changed: dict[int, Process] = {}
        table = self.table
        for event in events:
            table.add(event)
            if isinstance(event, Header):
                self.header = event
                changes.header_changed = True
                continue
            self.events.append(event)
            changes.events.append(event)
            pid = getattr(event, "pid", None)
            proc = table.processes.get(pid) if isinstance(pid, int) else None
            if proc is not None:
                self._owner[event.seq] = proc
            if isinstance(event, Syscall):
                self.syscalls += 1
                category = event.category
                self.categories[category] += 1
                if category != "other":
                    self._relevant.append(event)
                    if category in NOTABLE_CATEGORIES or (event.error and category == "namespaces"):
                        self._notable += 1
                continue
            self._relevant.append(event)
            if isinstance(event, (NamespaceChange, MountSnapshot)):
                self._notable += 1
            if isinstance(event, ProcessStarted) and proc is not None:
                changes.new_processes.append(proc)
                new_ids.add(id(proc))
            elif isinstance(event, (Exec, NamespaceChange, Exit)) and proc is not None:
                self.namespace_changes += isinstance(event, NamespaceChange)
                changed[id(proc)] = proc
            elif isinstance(event, ThreadStarted):
                owner = table.processes.get(event.pid)
                if owner is not None:
                    changed[id(owner)] = owner
            elif isinstance(event, End):
                self.end = event
        changes.changed_processes = [p for key, p in changed.items() if key not in new_ids]
        self.revision += 1
        return changes

    # Questions ---------------------------------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        return self.end is not None

    def event(self, seq: int) -> Event | None:
        return self.table.events_by_seq.get(seq)

    def owner(self, seq: int) -> Process | None:
        """The process an event belongs to (the one that had its pid when the event happened)."""
        return self._owner.get(seq)

    def view(self, subject: Process | None, flt: EventFilter) -> list[int]:
        """The seqs the event list shows: one process's events, or every event when `subject` is None."""
        by_seq = self.table.events_by_seq
        if subject is None:
            return [e.seq for e in self.events if flt.accepts(e)]
        return [seq for seq in subject.event_seqs if flt.accepts(by_seq[seq])]

    def accepts(self, subject: Process | None, flt: EventFilter, event: Event) -> bool:
        """Whether a newly arrived event belongs in a view (live updates extend the list in place)."""
        if subject is not None and self._owner.get(event.seq) is not subject:
            return False
        return flt.accepts(event)

    def name(self, proc: Process) -> str:
        """The role of the process's current program (viz.roles: "runc create", "container entrypoint", a runc
        init stage), else the basename of its program."""
        phases = self._phase_names(proc)
        return phases[-1] if phases else process_name(proc)

    def name_at(self, proc: Process, seq: int) -> str:
        """The role the process had when event `seq` happened (runc's init stage before it exec'd the
        entrypoint)."""
        book = self.roles()
        if book is not None:
            try:
                return _role_text(book.phase_at(proc, seq).role)
            except (KeyError, LookupError, ValueError):
                pass
        return process_name(proc)

    def lineage(self, proc: Process) -> str:
        """`runc:[2:INIT] → container entrypoint (sh)`: the last two programs of a process that exec'd."""
        phases = self._phase_names(proc)
        if not phases:
            return process_name(proc)
        distinct = [name for i, name in enumerate(phases) if i == 0 or name != phases[i - 1]]
        return " → ".join(distinct[-2:])

    def roles(self) -> Any:
        """The RoleBook of the trace so far. Building one walks every process, so while a big trace streams
        in it is rebuilt at most every ROLES_MIN_INTERVAL seconds (or 20 times its own cost); processes newer
        than the book are named by their program until then."""
        if RoleBook is None:
            return None
        if self._roles is None or (
            self._roles_revision != self.revision
            and time.monotonic() - self._roles_built_at >= self._roles_interval
        ):
            started = time.monotonic()
            self._roles = RoleBook(self.table)
            self._roles_built_at = time.monotonic()
            self._roles_interval = max(ROLES_MIN_INTERVAL, 20 * (self._roles_built_at - started))
            self._roles_revision = self.revision
            self.roles_generation += 1
        return self._roles

    def insights(self) -> Insights | None:
        """The learner insights of the trace so far (tracer.insights.Insights, which keeps the sentences and
        sections it was asked for), or None when nothing in
        it can give rise to one (a plain fork loop). Computed once per model: while a live trace streams they
        are recomputed at most every INSIGHTS_MIN_INTERVAL seconds (or 20 times their own cost), and once more
        when the trace has ended. An insight that trips on a damaged trace leaves the pane without insights."""
        if not self._notable:
            return None
        stale = self._insights_revision != self.revision
        due = self._insights is None or self.finished or (
            time.monotonic() - self._insights_built_at >= self._insights_interval
        )
        if stale and due:
            from tracer.insights import Insights

            started = time.monotonic()
            events = self._relevant[:]  # a live trace may append while this runs
            if self.header is not None:
                events.insert(0, self.header)
            # Every event the model holds lives until the app ends: frozen, the garbage collector does not walk
            # them again at each of the many collections the folds trigger (over half the time on 100k events).
            gc.freeze()
            try:
                self._insights = Insights.from_events(events)
            except Exception:  # noqa: BLE001 - the details pane must never go down with an insight
                self._insights = None
            finally:
                gc.unfreeze()
            self._insights_built_at = time.monotonic()
            self._insights_interval = max(INSIGHTS_MIN_INTERVAL, 20 * (self._insights_built_at - started))
            self._insights_revision = self.revision
        return self._insights

    def _phase_names(self, proc: Process) -> list[str]:
        book = self.roles()
        if book is None:
            return []
        try:
            return [_role_text(phase.role) for phase in book.phases(proc)]
        except (KeyError, LookupError, ValueError):
            return []

    def new_namespaces(self, proc: Process) -> dict[str, int]:
        host = self.table.host_namespaces()
        return {kind: inode for kind, inode in proc.ns.items() if host.get(kind) != inode}

    def namespace_colour(self, proc: Process) -> str | None:
        return self.palette.colour(self.new_namespaces(proc))

    def namespace_badge(self, proc: Process) -> Text:
        """`◆ mnt uts pid` in the colour of the process's namespace set; empty for host namespaces."""
        new = self.new_namespaces(proc)
        colour = self.palette.colour(new)
        if colour is None:
            return Text("")
        kinds = [BADGE_KINDS.get(kind, kind) for kind in BADGE_KINDS if kind in new]
        kinds += [kind for kind in sorted(new) if kind not in BADGE_KINDS]
        return Text("◆ " + " ".join(kinds), style=colour)

    def describe_pid(self, proc: Process) -> str:
        inner = proc.pid_in_namespace
        return f"{proc.pid} (pid {inner} inside)" if inner != proc.pid else str(proc.pid)

    def line(self, event: Event, *, with_pid: bool = False) -> Text:
        """One event as one coloured line (no trailing newline)."""
        text = Text()
        if with_pid:
            pid = getattr(event, "pid", None)
            if isinstance(pid, int):
                text.append(f"{pid:>7} ", style="bold")
            else:
                text.append(" " * 8)
        text.append_text(event_text(event))
        return text

    def plain(self, seq: int) -> str:
        """The searchable text of an event (cached: search may scan every event)."""
        cached = self._plain.get(seq)
        if cached is None:
            event = self.event(seq)
            cached = event_text(event).plain if event is not None else ""
            self._plain[seq] = cached
        return cached

    def search(self, query: str, after: int | None, flt: EventFilter, direction: int = 1) -> tuple[int | None, bool]:
        """The next event (by seq, in `direction`) whose text contains `query`, case-insensitively, among
        those `flt` shows, wrapping around once. Returns (seq or None, wrapped)."""
        needle = query.lower()
        events = self.events[:]  # a live trace may append while a worker searches
        if not needle or not events:
            return None, False
        positions = range(len(events)) if direction > 0 else range(len(events) - 1, -1, -1)
        start_seen = after is None
        first_pass: list[int] = []
        for index in positions:
            event = events[index]
            if not start_seen and after is not None:
                if (direction > 0 and event.seq > after) or (direction < 0 and event.seq < after):
                    start_seen = True
                else:
                    first_pass.append(index)
                    continue
            if flt.accepts(event) and needle in self.plain(event.seq).lower():
                return event.seq, False
        for index in first_pass:
            event = events[index]
            if flt.accepts(event) and needle in self.plain(event.seq).lower():
                return event.seq, True
        return None, False

    def count_summary(self, *, live: bool = False) -> str:
        """Counts for the line under the header. Processes with no exit yet are "running" only while a live
        trace runs; in a recording they are what the trace ended without seeing exit (a truncated one)."""
        procs = len(self.table.history)
        open_ = sum(1 for p in self.table.processes.values() if p.alive)
        if live and not self.finished:
            state = f" ({open_} running)"
        elif open_:
            state = f" ({open_} with no exit recorded)"
        else:
            state = ""
        spaces = len(self.palette)
        return (
            f"{procs} processes{state} · {self.syscalls} syscalls · {len(self.events)} events · "
            f"{spaces} namespace sets"
        )
