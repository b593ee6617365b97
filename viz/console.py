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

from tracer.decoders import format_call
from tracer.events import (
    CATEGORIES,
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


def render_event(event: Event, table: ProcessTable) -> Text | None:
    """One line for an event, or None for events that print nothing (threads, the end line)."""
    if isinstance(event, Syscall):
        line = Text(_indent(table, event.pid))
        line.append(describe_pid(table, event.pid), style="bold")
        if event.tid != event.pid:
            line.append(f"/{event.tid}", style="dim")
        line.append(" ")
        style = CATEGORY_STYLES.get(event.category, "")
        line.append(format_call(event.name, event.args, event.ret, event.error), style=style)
        if event.error:
            line.stylize("red", len(line) - len(event.error) - 0, len(line))
        if event.notes:
            notes = ", ".join(f"{k}={v}" for k, v in event.notes.items())
            line.append(f"  # {notes}", style="dim italic")
        return line
    if isinstance(event, ProcessStarted):
        line = Text(_indent(table, event.pid))
        line.append(describe_pid(table, event.pid), style="bold")
        if event.via in ("launch", "attach"):
            what = short_argv(event.argv or [event.comm])
            line.append(f" {event.via}ed: {what}", style="green")
        else:
            flags = "|".join(event.flags) if event.flags else ""
            line.append(f" + new process from {event.creator} via {event.via}", style="green")
            if flags:
                line.append(f"({flags})", style="dim")
            if event.creator is not None and event.ppid != event.creator:
                line.append(f" parent {event.ppid}", style="yellow")
        return line
    if isinstance(event, Exec):
        line = Text(_indent(table, event.pid))
        line.append(describe_pid(table, event.pid), style="bold")
        line.append(f" {event.syscall}({event.path!r}, [{short_argv(event.argv)}])", style="bold green")
        return line
    if isinstance(event, NamespaceChange):
        line = Text(_indent(table, event.pid))
        line.append(describe_pid(table, event.pid), style="bold")
        line.append(f" new {event.kind} namespace {event.new} (was {event.old}) via {event.via}",
                    style="bold magenta")
        return line
    if isinstance(event, Exit):
        line = Text(_indent(table, event.pid))
        line.append(describe_pid(table, event.pid), style="bold")
        if event.detached:
            line.append(" detached (left running)", style="dim")
        elif event.signal:
            line.append(f" +++ killed by {event.signal} +++", style="red")
        else:
            line.append(f" +++ exited with {event.code} +++", style="dim" if event.code == 0 else "red")
        return line
    if isinstance(event, Signal):
        line = Text(_indent(table, event.pid))
        line.append(describe_pid(table, event.pid), style="bold")
        line.append(f" --- {event.signal} ---", style="yellow")
        return line
    if isinstance(event, Ipc):
        peer = f" -> {event.peer_pid}" if event.peer_pid else ""
        line = Text(_indent(table, event.pid))
        line.append(describe_pid(table, event.pid), style="bold")
        pre = " (before tracing)" if event.preexisting else ""
        line.append(f" connected to {event.path}{peer}{pre}", style="bright_blue")
        return line
    if isinstance(event, Fault):
        from viz.inject_view import render_fault

        return render_fault(event, _indent(table, event.pid) + describe_pid(table, event.pid))
    if isinstance(event, Notice):
        style = {"error": "bold red", "warning": "yellow"}.get(event.level, "dim")
        return Text(f"boxtrace: {event.message}", style=style)
    if isinstance(event, MountSnapshot):
        line = Text(_indent(table, event.pid))
        line.append(describe_pid(table, event.pid), style="bold")
        line.append(f" mount table {event.moment}: {len(event.mountinfo)} mounts", style="cyan")
        return line
    if isinstance(event, Header):
        what = short_argv(event.command) if event.command else f"pids {', '.join(map(str, event.attached))}"
        return Text(f"boxtrace {event.mode}: {what}", style="bold")
    if isinstance(event, (ThreadStarted, End)):
        return None
    return None


def render_summary(table: ProcessTable, events: list[Event] | None = None) -> Table:
    """Counts by category, namespaces created, processes and the exit code."""
    counts: Counter[str] = Counter()
    errors = 0
    source = events if events is not None else list(table.events_by_seq.values())
    created: dict[str, set[int]] = {}
    host = table.host_namespaces()
    for event in source:
        if isinstance(event, Syscall):
            counts[event.category] += 1
            errors += event.error is not None
        elif isinstance(event, NamespaceChange) and event.new is not None and event.new != host.get(event.kind):
            created.setdefault(event.kind, set()).add(event.new)
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
        #: The reader of our output went away (`boxtrace run ... | head`): the trace goes on, silently.
        self._reader_gone = False
        self._live: Live | None = None
        if use_live:
            self._live = Live(self._status(), console=console, refresh_per_second=4, transient=True)
            self._live.start()

    def __call__(self, event: Event) -> None:
        self.table.add(event)
        self._events.append(event)
        if isinstance(event, Syscall):
            self._syscalls += 1
        if self._reader_gone:
            return
        line = render_event(event, self.table)
        if line is not None:
            try:
                if self._plain:
                    # Not a terminal: plain text, written directly (rich's layout costs ~0.1 ms a line, which a
                    # --filter all trace of 100k syscalls would feel).
                    self.console.file.write(line.plain + "\n")
                else:
                    self.console.print(line, soft_wrap=True, highlight=False)
            except BrokenPipeError:
                self._stop_printing()
                return
        if self._live is not None:
            now = time.monotonic()
            if now - self._last_status >= 0.25:
                self._last_status = now
                self._live.update(self._status())

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


def print_recording(console: Console, events: list[Event], *, summary: bool = True) -> None:
    """`boxtrace show`: the same lines as the live run, then the summary."""
    view = ConsoleView(console, live_status=False)
    for event in events:
        view(event)
    view.close(summary=summary)
