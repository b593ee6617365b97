"""Console output: strace-like lines coloured by category, indented by the process tree, and an end summary.

Everything here is a pure `render_*` function of events and the process table, so a live run and `boxtrace show` of
its recording print the same text. `ConsoleView` is the live consumer: it prints each event as it arrives and, on a
terminal, keeps a status line (processes, syscalls, events/s) below the scrolling output.
"""

from __future__ import annotations

import os
import time
from collections import Counter

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from tracer.decoders import Trait, format_call, syscalls_with
from tracer.decoders.render import quote
from tracer.events import (
    CATEGORIES,
    BundleConfig,
    End,
    Event,
    Exec,
    Exit,
    Fault,
    Header,
    Ipc,
    MountSnapshot,
    NamespaceChange,
    Notice,
    ProcessStarted,
    Signal,
    Syscall,
    ThreadStarted,
)
from tracer.processes import ProcessTable

CATEGORY_STYLES: dict[str, str] = {
    "namespaces": "bold magenta",
    "filesystem-view": "cyan",
    "process": "green",
    "privileges": "yellow",
    "cgroups": "blue",
    "ipc": "bright_blue",
    "other": "dim",
}

MAX_ARGV_SHOWN = 8


#: Calls that create a process, and that replace the program (the syscall table's traits).
_PROCESS_CALLS = syscalls_with(Trait.PROCESS)
_EXEC_CALLS = syscalls_with(Trait.EXEC)


def describe_pid(table: ProcessTable, pid: int) -> str:
    """`4746` or `4746 [ns pid 1]` when the process sees itself under another pid."""
    proc = table.processes.get(pid)
    if proc is None:
        return str(pid)
    inner = proc.pid_in_namespace
    return f"{pid} [ns pid {inner}]" if inner != pid else str(pid)


def _indent(table: ProcessTable, pid: int) -> str:
    return "  " * min(len(table.ancestors(pid)), 12)


def short_argv(argv: list[str]) -> str:
    shown = [a if len(a) <= 60 else a[:57] + "..." for a in argv[:MAX_ARGV_SHOWN]]
    more = f" ... (+{len(argv) - MAX_ARGV_SHOWN})" if len(argv) > MAX_ARGV_SHOWN else ""
    return " ".join(_quote(a) for a in shown) + more


def _quote(arg: str) -> str:
    return arg if arg and all(c.isalnum() or c in "-_./=:,@%+" for c in arg) else repr(arg)


#: Styles of the non-syscall events (the TUI and the console share them through `event_text`).
EVENT_STYLES: dict[str, str] = {
    "process": "green",
    "exec": "bold green",
    "namespace": "bold magenta",
    "exit": "dim",
    "exit-error": "red",
    "signal": "yellow",
    "ipc": "bright_blue",
    "mounts": "cyan",
    "notice": "italic",
    "warning": "yellow",
    "error": "bold red",
}


def event_text(event: Event, *, with_tid: bool = True) -> Text:
    """The one text of an event, without its pid: strace-like for syscalls and execs, a short phrase for the
    rest. The console and the TUI both print this; each adds its own pid column. `with_tid` prefixes a thread's
    syscalls with `[tid]` (the console shows the tid in its pid column instead)."""
    if isinstance(event, Syscall):
        style = CATEGORY_STYLES.get(event.category, "")
        line = Text(format_call(event.name, event.args, event.ret, event.error), style=style)
        if event.error:
            at = line.plain.rfind(event.error)
            if at >= 0:
                line.stylize("red", at, at + len(event.error))
        if with_tid and event.tid and event.tid != event.pid:
            line = Text.assemble((f"[{event.tid}] ", "dim"), line)
        if event.notes:
            notes = ", ".join(f"{key}={value}" for key, value in event.notes.items())
            line.append(f"  # {notes}", style="dim italic")
        return line
    if isinstance(event, Exec):
        shown = [quote(a if len(a) <= 60 else a[:57] + "...") for a in event.argv[:MAX_ARGV_SHOWN]]
        if len(event.argv) > MAX_ARGV_SHOWN:
            shown.append(f"... (+{len(event.argv) - MAX_ARGV_SHOWN})")
        return Text(f"{event.syscall}({quote(event.path)}, [{', '.join(shown)}]) = 0", style=EVENT_STYLES["exec"])
    if isinstance(event, ProcessStarted):
        if event.via in ("launch", "attach"):
            return Text(f"+ {event.via}ed: {short_argv(event.argv or [event.comm])}", style=EVENT_STYLES["process"])
        text = Text(f"+ new process from {event.creator} via {event.via}", style=EVENT_STYLES["process"])
        if event.flags:
            text.append(f"({'|'.join(event.flags)})", style="dim")
        if event.creator is not None and event.ppid != event.creator:
            text.append(f" parent {event.ppid}", style="yellow")
        return text
    if isinstance(event, ThreadStarted):
        return Text(f"+ thread {event.tid}", style="dim")
    if isinstance(event, NamespaceChange):
        return Text(f"new {event.kind} namespace {event.new} (was {event.old}) via {event.via}",
                    style=EVENT_STYLES["namespace"])
    if isinstance(event, Exit):
        if event.detached:
            return Text("detached (left running)", style="dim")
        if event.signal:
            return Text(f"+++ killed by {event.signal} +++", style=EVENT_STYLES["exit-error"])
        return Text(f"+++ exited with {event.code} +++", style=EVENT_STYLES["exit" if event.code == 0 else "exit-error"])
    if isinstance(event, Signal):
        return Text(f"--- {event.signal} ---", style=EVENT_STYLES["signal"])
    if isinstance(event, Ipc):
        peer = f" → pid {event.peer_pid}" if event.peer_pid else ""
        before = " (before tracing)" if event.preexisting else ""
        return Text(f"connected to {event.path}{peer}{before}", style=EVENT_STYLES["ipc"])
    if isinstance(event, Fault):
        from viz.inject_view import FAULT_STYLE, fault_text

        return Text(fault_text(event), style=FAULT_STYLE)
    if isinstance(event, MountSnapshot):
        return Text(f"mount table {event.moment}: {len(event.mountinfo)} mounts", style=EVENT_STYLES["mounts"])
    if isinstance(event, Notice):
        return Text(f"boxtrace: {event.message}", style=EVENT_STYLES.get(event.level, "dim"))
    if isinstance(event, End):
        code = "" if event.exit_code is None else f", exit code {event.exit_code}"
        return Text(f"trace {event.status}: {event.processes} processes{code}", style="bold")
    if isinstance(event, Header):
        what = short_argv(event.command) if event.command else f"pids {', '.join(map(str, event.attached))}"
        return Text(f"boxtrace {event.mode}: {what}", style="bold")
    return Text(event.type)


# Noise: routine events that say nothing about the container, folded (never dropped) in the container view ------

#: What each kind of routine event is called on a folded line.
NOISE_LABELS: dict[str, str] = {
    "go-runtime": "Go runtime events (thread starts, SIGURG preemption)",
    "probe": "probes (seccomp features, capability bounds, limit reads)",
    "path-search": "PATH search misses (execve ENOENT)",
}
#: The short names used when one folded line holds several kinds.
NOISE_SHORT: dict[str, str] = {"go-runtime": "Go runtime", "probe": "probes", "path-search": "PATH misses"}
#: seccomp operations that only ask what the kernel supports (libseccomp's and runc's feature checks).
_SECCOMP_QUERIES = ("SECCOMP_GET_ACTION_AVAIL", "SECCOMP_GET_NOTIF_SIZES")


def _names_flag(args: object, flag: str) -> bool:
    stack = [args]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, (list, tuple)):
            stack.extend(value)
        elif isinstance(value, str) and (value == flag or flag in value.split("|")):
            return True
    return False


def noise_kind(event: Event) -> str | None:
    """Which kind of routine event this is, or None for an event that belongs on screen.

    - go-runtime: a thread created with CLONE_THREAD, or SIGURG sent or received (Go's runtime preempts
      goroutines with SIGURG since Go 1.14; dockerd, containerd, the shim and runc are Go programs);
    - probe: a seccomp call that only asks what the kernel supports (SECCOMP_GET_*, or a filter call that fails on
      purpose with EFAULT/EINVAL to test a flag), prctl(PR_CAPBSET_READ) looking for the last capability, or a
      prlimit64 that only reads a limit (new NULL: every Go program reads RLIMIT_NOFILE and RLIMIT_STACK at start);
    - path-search: an execve that failed with ENOENT (a shell or execvp trying each PATH directory).
    """
    if isinstance(event, Signal):
        return "go-runtime" if event.signal == "SIGURG" else None
    if not isinstance(event, Syscall):
        return None
    name = event.name
    if name in _PROCESS_CALLS:
        return "go-runtime" if _names_flag(event.args, "CLONE_THREAD") else None
    if name in ("tgkill", "tkill"):
        return "go-runtime" if _names_flag(event.args, "SIGURG") else None
    if name == "seccomp":
        if event.error in ("EFAULT", "EINVAL") or _names_flag(event.args, _SECCOMP_QUERIES[0]) or _names_flag(
                event.args, _SECCOMP_QUERIES[1]):
            return "probe"
        return None
    if name == "prctl":
        return "probe" if _names_flag(event.args, "PR_CAPBSET_READ") else None
    if name == "prlimit64":
        return "probe" if event.args.get("new", 0) is None else None
    if name in _EXEC_CALLS and event.error == "ENOENT":
        return "path-search"
    return None


def fold_text(kinds: Counter[str]) -> str:
    """`… 37 Go runtime events (thread starts, SIGURG preemption)`, or `… 12 routine events: 9 Go runtime, 3 probes`."""
    total = sum(kinds.values())
    if len(kinds) == 1:
        (kind,) = kinds
        label = NOISE_LABELS[kind]
        if total == 1:
            label = label.replace("events", "event").replace("probes", "probe").replace("misses", "miss")
        return f"… {total} {label}"
    parts = ", ".join(f"{count} {NOISE_SHORT[kind]}" for kind, count in kinds.most_common())
    return f"… {total} routine events: {parts}"


#: The events that belong to a process (each has a `pid`).
_OF_A_PROCESS = (ProcessStarted, Exec, Syscall, NamespaceChange, Signal, Ipc, MountSnapshot, BundleConfig, Fault, Exit)


def _plain_syscall_line(event: Syscall, table: ProcessTable) -> str:
    """`render_event(event, table).plain` for a syscall, built as a string (the console's plain output)."""
    pid = event.pid
    head = _indent(table, pid) + describe_pid(table, pid)
    if event.tid != pid:
        head += f"/{event.tid}"
    line = f"{head} {format_call(event.name, event.args, event.ret, event.error)}"
    if event.notes:
        line += "  # " + ", ".join(f"{key}={value}" for key, value in event.notes.items())
    return line


def render_event(event: Event, table: ProcessTable) -> Text | None:
    """One line for an event: indented by the process tree, the pid (and tid, and the pid inside its
    namespace), then `event_text`. None for events that print nothing (threads, the end line)."""
    if isinstance(event, (ThreadStarted, End)):
        return None
    if isinstance(event, (Notice, Header)):
        return event_text(event)
    if not isinstance(event, _OF_A_PROCESS):
        return None
    pid = event.pid
    line = Text(_indent(table, pid))
    line.append(describe_pid(table, pid), style="bold")
    if isinstance(event, Syscall) and event.tid != pid:
        line.append(f"/{event.tid}", style="dim")
    line.append(" ")
    line.append_text(event_text(event, with_tid=False))
    return line


# The brief form of `boxtrace show` -------------------------------------------------------------------------------

#: Syscalls that change where the process's `/` is.
ROOT_SWITCHES = syscalls_with(Trait.ROOT)
#: Syscalls that change who the process is: its ids, capabilities, no_new_privs, seccomp filter.
IDENTITY_CALLS = syscalls_with(Trait.IDENTITY)
IDENTITY_PRCTLS = ("PR_SET_NO_NEW_PRIVS", "PR_SET_SECCOMP", "PR_CAPBSET_DROP", "PR_CAP_AMBIENT", "PR_SET_KEEPCAPS")
NAMESPACE_CALLS = syscalls_with(Trait.NAMESPACE)
#: A run of at least this many like calls (same process, same call, same first argument) prints as two lines.
MIN_RUN = 3


def in_brief(event: Event, milestones: frozenset[int] = frozenset()) -> bool:
    """Whether the brief form prints an event: every milestone, process start, exec and exit, namespace change,
    root switch and identity change, connection between programs, mount-table moment and boxtrace notice."""
    if event.seq in milestones:
        return True
    if isinstance(event, (Header, ProcessStarted, Exec, Exit, NamespaceChange, Ipc, MountSnapshot, Notice)):
        return True
    if not isinstance(event, Syscall) or event.error is not None:
        return False
    name = event.name
    if name in ROOT_SWITCHES or name in IDENTITY_CALLS or name == "sethostname":
        return True
    if name in NAMESPACE_CALLS:
        return name == "setns" or _names_any_namespace(event.args)
    if name == "prctl":
        return any(_names_flag(event.args, option) for option in IDENTITY_PRCTLS)
    return False


def _names_any_namespace(args: object) -> bool:
    return any(_names_flag(args, flag) for flag in (
        "CLONE_NEWNS", "CLONE_NEWUTS", "CLONE_NEWIPC", "CLONE_NEWPID", "CLONE_NEWNET", "CLONE_NEWUSER",
        "CLONE_NEWCGROUP", "CLONE_NEWTIME"))


def _run_key(event: Event) -> tuple[int, str, str] | None:
    if not isinstance(event, Syscall):
        return None
    first = next(iter(event.args.values()), None) if event.args else None
    return (event.pid, event.name, repr(first))


def brief_lines(events: list[Event], milestones: frozenset[int] = frozenset()) -> list[Text]:
    """The brief form: the events `in_brief` keeps, each on one line, a run of like calls (runc dropping 37
    capabilities one prctl at a time) as its first call and a count; then how much was left out."""
    table = ProcessTable()
    kept: list[tuple[Event, Text]] = []
    countable = 0
    for event in events:
        table.add(event)
        if isinstance(event, (ThreadStarted, End)):
            continue
        countable += 1
        if in_brief(event, milestones):
            line = render_event(event, table)
            if line is not None:
                kept.append((event, line))
    lines: list[Text] = []
    index = 0
    while index < len(kept):
        event, line = kept[index]
        key = _run_key(event)
        run = 1
        while key is not None and index + run < len(kept) and _run_key(kept[index + run][0]) == key:
            run += 1
        lines.append(line)
        if run >= MIN_RUN and key is not None:
            last = kept[index + run - 1][0]
            more = Text(_indent(table, key[0]) + f"  … {run - 1} more like it, the last: ", style="dim")
            more.append_text(event_text(last, with_tid=False))
            lines.append(more)
            index += run
        else:
            index += 1
    shown = len(kept)
    if countable > shown:
        lines.append(Text(f"(brief form: {countable - shown} of {countable} events not shown; "
                          "`boxtrace show --full` prints every one)", style="dim italic"))
    return lines


def hanging_lines(line: Text, width: int) -> list[Text]:
    """A long line cut at the terminal's width, its continuation lines starting under the event text rather than
    at column 0, so the tree's indentation stays readable however long a call is."""
    plain = line.plain
    if len(plain) <= width:
        return [line]
    hang = len(plain) - len(plain.lstrip(" "))
    after_pid = plain.find(" ", hang)
    if 0 <= after_pid < width // 2:
        hang = after_pid + 1
    room = max(20, width - hang)
    offsets = list(range(width, len(plain), room))
    parts = line.divide(offsets)
    return [part if index == 0 else Text(" " * hang) + part for index, part in enumerate(parts)]


def _tally(table: ProcessTable, events: list[Event]) -> tuple[Counter[str], int, dict[str, set[int]]]:
    """Syscalls by category, how many failed, and the namespaces (by kind, their inodes) not the host's."""
    counts: Counter[str] = Counter()
    errors = 0
    created: dict[str, set[int]] = {}
    host = table.host_namespaces()
    for event in events:
        if isinstance(event, Syscall):
            counts[event.category] += 1
            errors += event.error is not None
        elif isinstance(event, NamespaceChange) and event.new is not None and event.new != host.get(event.kind):
            created.setdefault(event.kind, set()).add(event.new)
    return counts, errors, created


def render_summary(table: ProcessTable, events: list[Event] | None = None) -> Table:
    """Counts by category, namespaces created, processes and the exit code."""
    source = events if events is not None else list(table.events_by_seq.values())
    counts, errors, created = _tally(table, source)
    summary = Table(title="boxtrace summary", show_header=False, box=None, pad_edge=False)
    summary.add_column("what", style="bold")
    summary.add_column("value")
    for category in CATEGORIES:
        if counts[category]:
            summary.add_row(f"syscalls: {category}", str(counts[category]), style=CATEGORY_STYLES[category])
    summary.add_row("syscalls failed", str(errors))
    kinds = ", ".join(f"{kind} ({len(inodes)})" for kind, inodes in sorted(created.items())) or "none"
    summary.add_row("namespaces entered", kinds)
    summary.add_row("processes", str(len(table.history)))
    end = table.end
    if end is not None:
        summary.add_row("exit code", "-" if end.exit_code is None else str(end.exit_code))
        if end.status != "completed":
            summary.add_row("trace", end.status)
    return summary


def render_brief_summary(events: list[Event]) -> Text:
    """The summary of the brief form in a few lines: counts, namespaces entered, processes, the exit code, and
    where the rest is."""
    table = ProcessTable.from_events(events)
    counts, errors, created = _tally(table, events)
    text = Text("summary: ", style="bold")
    text.append(f"{sum(counts.values())} syscalls (")
    text.append(", ".join(f"{counts[c]} {c}" for c in CATEGORIES if counts[c]))
    text.append(f"), {errors} failed\n")
    kinds = ", ".join(sorted(created)) or "none"
    end = table.end
    code = "-" if end is None or end.exit_code is None else str(end.exit_code)
    text.append(f"new namespaces: {kinds} · {len(table.history)} processes · exit code {code}")
    if end is not None and end.status != "completed":
        text.append(f" · trace {end.status}", style="yellow")
    text.append("\n`boxtrace show --full` adds what the trace says about namespaces, cgroups, capabilities, "
                "seccomp and mounts", style="dim italic")
    return text


class ConsoleView:
    """Prints events live. On a terminal a status line follows the output; elsewhere plain lines only."""

    def __init__(self, console: Console, *, live_status: bool | None = None) -> None:
        self.console = console
        self.table = ProcessTable()
        self._events: list[Event] = []
        self._started = time.monotonic()
        self._syscalls = 0
        use_live = console.is_terminal if live_status is None else live_status
        self._plain = not console.is_terminal or console.color_system is None
        self._last_status = 0.0
        self._pending: list[str] = []
        self._last_write = time.monotonic()
        #: The reader of our output went away (`boxtrace run ... | head`): the trace goes on, silently.
        self._reader_gone = False
        self._live: Live | None = None
        if use_live:
            self._live = Live(self._status(), console=console, refresh_per_second=4, transient=True)
            self._live.start()

    def __call__(self, event: Event) -> None:
        self.table.add(event)
        self._events.append(event)
        is_syscall = type(event) is Syscall
        if is_syscall:
            self._syscalls += 1
        if self._reader_gone:
            return
        if self._plain:
            # Not a terminal: plain text, without rich's layout (~0.1 ms a line, which a --filter all trace of
            # 100k syscalls would feel); a syscall's line (most of them) without building a rich Text at all.
            text: str | None
            if is_syscall:
                text = _plain_syscall_line(event, self.table)  # type: ignore[arg-type]
            else:
                line = render_event(event, self.table)
                text = line.plain if line is not None else None
            if text is not None:
                self._pending.append(text)
                if len(self._pending) >= self.PLAIN_BATCH or time.monotonic() - self._last_write >= self.PLAIN_INTERVAL:
                    self.flush()
        else:
            line = render_event(event, self.table)
            if line is not None:
                try:
                    for part in hanging_lines(line, self.console.width):
                        self.console.print(part, highlight=False, no_wrap=True, overflow="ignore", crop=False)
                except BrokenPipeError:
                    self._stop_printing()
                    return
        if self._live is not None:
            now = time.monotonic()
            if now - self._last_status >= 0.25:
                self._last_status = now
                self._live.update(self._status())

    #: Plain lines are written in batches (one write(2) for many lines, even under PYTHONUNBUFFERED), at the
    #: latest PLAIN_INTERVAL seconds after the first of them, or when the caller calls flush() (the tracer's
    #: pipeline does after each batch it hands over, so a quiet trace's last lines do not wait).
    PLAIN_BATCH = 256
    PLAIN_INTERVAL = 0.05

    def flush(self) -> None:
        """Write out the plain lines not yet written."""
        self._last_write = time.monotonic()
        if not self._pending:
            return
        text = "\n".join(self._pending) + "\n"
        self._pending.clear()
        try:
            self.console.file.write(text)
            self.console.file.flush()
        except BrokenPipeError:
            self._stop_printing()

    def _status(self) -> Text:
        elapsed = max(time.monotonic() - self._started, 1e-6)
        live = sum(1 for p in self.table.processes.values() if p.alive)
        return Text(
            f"tracing: {len(self.table.history)} processes ({live} running), {self._syscalls} syscalls, "
            f"{len(self._events) / elapsed:.0f} events/s",
            style="reverse",
        )

    def _stop_printing(self) -> None:
        """The pipe we print to is closed. The traced command must not pay for that (a shell would kill us
        with SIGPIPE, and the tracees with us): keep tracing and recording, print nothing more, and point the
        file at /dev/null so that no later flush (rich's, the interpreter's at exit) fails again."""
        self._reader_gone = True
        self._pending.clear()
        if self._live is not None:
            self._live = None
        try:
            fileno = self.console.file.fileno()
        except (AttributeError, OSError, ValueError):
            return
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, fileno)
        os.close(null)

    def close(self, *, summary: bool = True) -> None:
        self.flush()
        if self._live is not None:
            self._live.stop()
            self._live = None
        if summary and not self._reader_gone:
            from tracer.insights import Insights
            from viz.insights_view import render_insights

            try:
                self.console.print(Group(Text(""), render_summary(self.table, self._events)))
                # The insights never look at uncategorized syscalls: leaving them out keeps --filter all summaries
                # quick.
                relevant = [e for e in self._events if not (isinstance(e, Syscall) and e.category == "other")]
                self.console.print(Group(Text(""), render_insights(Insights.from_events(relevant))))
                if any(isinstance(e, Fault) for e in self._events):
                    from viz.inject_view import render_fault_stories

                    story = render_fault_stories(self._events)
                    if story is not None:
                        self.console.print(Group(Text(""), story))
                self.console.file.flush()
            except BrokenPipeError:
                self._stop_printing()
            except SystemExit as error:
                # rich's Console.on_broken_pipe: it points stdout at /dev/null and exits 1. The reader going away
                # while the summary prints is the same case as above, not a failure of the trace.
                if not isinstance(error.__context__, BrokenPipeError):
                    raise
                self._stop_printing()


def print_recording(console: Console, events: list[Event], *, summary: bool = True, brief: bool = False,
                    milestones: frozenset[int] = frozenset()) -> None:
    """`boxtrace show`: the same lines as the live run, then the summary. `brief` prints the brief form instead
    of every event (`brief_lines`, each cut to the console's width so the tree's indentation stays readable);
    `milestones` are the seqs of the scenario's milestones, which the brief form always shows."""
    if not brief:
        view = ConsoleView(console, live_status=False)
        for event in events:
            view(event)
        view.close(summary=summary)
        return
    for line in brief_lines(events, milestones):
        console.print(line, highlight=False, no_wrap=True, overflow="ellipsis", crop=True)
    if summary:
        console.print(Text(""))
        console.print(render_brief_summary(events), highlight=False)
