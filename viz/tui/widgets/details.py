"""The details pane (right): the selected event's arguments, decoded and as recorded, and what they mean.

`render_event_details` and `render_process_details` are pure functions of the model, so the text a student
reads can be tested without a screen. Explanations come from `tracer.decoders.explain` (data beside the
decoders); while that module is missing the pane shows the arguments alone.

The learner insights (tracer.insights, computed once per model by `TuiModel.insights()`) appear in both: a
process shows the id map of its user namespace, its cgroup and limits, its capabilities before and after, its
seccomp filter, its mount table changes and any diagnosis (also under the process's start and exec events, the
first thing selecting a process in the tree shows); an event an insight came from (a write to uid_map, a capset,
a seccomp install, pivot_root...) shows the insight's sentences.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from tracer.decoders.explain import FLAG_EXPLANATIONS, SYSCALL_EXPLANATIONS, explain
from tracer.events import (
    End,
    Event,
    Exec,
    Exit,
    Ipc,
    MountSnapshot,
    NamespaceChange,
    Notice,
    ProcessStarted,
    Signal,
    Syscall,
    ThreadStarted,
)
from tracer.processes import Process
from viz.console import CATEGORY_STYLES, short_argv
from viz.network import netlink_tree
from viz.tui.model import TuiModel, event_text
from viz.tui.walkthrough import CLONE_FLAG_KINDS, NAMESPACE_MEANING

MAX_FLAGS_EXPLAINED = 12
MAX_MOUNT_LINES = 60


#: Where the x86-64 syscall ABI passes arguments one to six (rax holds the number, then the result).
ARGUMENT_REGISTERS = ("rdi", "rsi", "rdx", "r10", "r8", "r9")


def _section(title: str) -> Text:
    return Text(f"\n{title}", style="bold underline")


def _raw(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


def _shown(value: Any) -> str:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "|".join(value) if value else "0"
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return value
    return _raw(value)


def _flags_in(value: Any) -> list[str]:
    """Every symbolic flag (UPPER_CASE name) named in a decoded value, in order, once."""
    found: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop(0)
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            for part in item.split("|"):
                if part in FLAG_EXPLANATIONS and part not in found:
                    found.append(part)
    return found


def _whose(model: TuiModel, seq: int) -> Text:
    proc = model.owner(seq)
    if proc is None:
        return Text("")
    return Text.assemble(("process ", "dim"), (model.name_at(proc, seq), "bold"), (f" {model.describe_pid(proc)}", ""))


def _insight_sentences(model: TuiModel, seq: int) -> list[str]:
    insights = model.insights()
    if insights is None:
        return []
    try:
        return insights.sentences_of(seq)
    except Exception:  # noqa: BLE001 - an insight must never take the pane down
        return []


def _process_insights(model: TuiModel, pid: int) -> RenderableType | None:
    """The insights about one process, or None when there are none."""
    insights = model.insights()
    if insights is None:
        return None
    from viz.insights_view import render_process_sections  # with the insights: not on the TUI's start-up path

    try:
        sections = insights.process_sections(pid)
        return render_process_sections(sections) if sections else None
    except Exception:  # noqa: BLE001 - an insight must never take the pane down
        return None


def render_event_details(model: TuiModel, event: Event) -> RenderableType:
    parts: list[RenderableType] = [event_text(event), _whose(model, event.seq)]
    parts.append(Text(f"seq {event.seq} · t {event.t:.6f} s", style="dim"))
    sentences = _insight_sentences(model, event.seq)
    if sentences:
        parts.append(_section("what the trace shows"))
        parts.append(Text("\n".join(f"• {line}" for line in sentences), style="bold cyan"))
    if isinstance(event, Syscall):
        parts.extend(_syscall_details(event))
    elif isinstance(event, ProcessStarted):
        parts.extend(_process_started_details(model, event))
    elif isinstance(event, Exec):
        parts.append(_section("program"))
        grid = _grid()
        grid.add_row("path", event.path)
        grid.add_row("argv", short_argv(event.argv))
        if event.env is not None:
            grid.add_row("env", f"{len(event.env)} variables (values hidden unless --show-env)")
        if event.nspid:
            grid.add_row("pids", " → ".join(map(str, event.nspid)) + "  (host → innermost namespace)")
        if event.old_tid is not None:
            grid.add_row("old tid", f"{event.old_tid} (a thread exec'd and took the leader's pid)")
        parts.append(grid)
        parts.append(_section("what it does"))
        parts.append(Text(SYSCALL_EXPLANATIONS.get(event.syscall)
                          or "The process keeps its pid, namespaces, root and open descriptors (those without "
                             "O_CLOEXEC) and replaces its program."))
    elif isinstance(event, NamespaceChange):
        parts.append(_section("namespace"))
        grid = _grid()
        grid.add_row("kind", event.kind)
        grid.add_row("before", str(event.old))
        grid.add_row("after", str(event.new))
        grid.add_row("via", event.via)
        parts.append(grid)
        meaning = NAMESPACE_MEANING.get(event.kind.replace("_for_children", ""))
        if meaning:
            parts.append(_section("what it means"))
            who = "its future children get" if event.kind.endswith("_for_children") else "the process now has"
            parts.append(Text(f"From here {who} {meaning}."))
    elif isinstance(event, Exit):
        grid = _grid()
        grid.add_row("code", "-" if event.code is None else str(event.code))
        grid.add_row("signal", event.signal or "-")
        grid.add_row("detached", "yes (left running)" if event.detached else "no")
        parts.append(grid)
    elif isinstance(event, MountSnapshot):
        parts.append(_section(f"mount table ({event.moment})"))
        lines = event.mountinfo[:MAX_MOUNT_LINES]
        parts.append(Text("\n".join(lines), style="cyan", no_wrap=True, overflow="ellipsis"))
        if len(event.mountinfo) > MAX_MOUNT_LINES:
            parts.append(Text(f"… {len(event.mountinfo) - MAX_MOUNT_LINES} more", style="dim"))
    elif isinstance(event, Ipc):
        grid = _grid()
        grid.add_row("socket", event.path)
        grid.add_row("peer pid", str(event.peer_pid) if event.peer_pid else "unknown")
        grid.add_row("found by", event.via)
        grid.add_row("before tracing", "yes" if event.preexisting else "no")
        parts.append(grid)
    elif isinstance(event, (Signal, ThreadStarted, Notice, End)):
        parts.append(Text(_raw(event.to_json()), style="dim"))
    if isinstance(event, (ProcessStarted, Exec)):
        about = _process_insights(model, event.pid)
        if about is not None:
            parts += [_section("about this process"), about]
    return Group(*parts)


def _grid() -> Table:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    return grid


def _syscall_details(event: Syscall) -> list[RenderableType]:
    parts: list[RenderableType] = []
    style = CATEGORY_STYLES.get(event.category, "")
    summary = Text.assemble(("category ", "dim"), (event.category, style), ("  nr ", "dim"), str(event.nr))
    if event.dur is not None:
        summary.append(f"  took {event.dur * 1e6:.0f} µs", style="dim")
    if event.tid and event.tid != event.pid:
        summary.append(f"  thread {event.tid}", style="dim")
    parts.append(summary)
    parts.append(_section("arguments"))
    args = Table(show_header=True, header_style="dim", box=None, padding=(0, 1), expand=True)
    args.add_column("name", style="bold", no_wrap=True)
    args.add_column("decoded", overflow="fold")
    args.add_column("as recorded", style="dim", overflow="fold")
    for key, value in event.args.items():
        if key == "messages" and isinstance(value, list):  # drawn as a tree below
            args.add_row(key, f"{len(value)} netlink message(s), below", "")
            continue
        args.add_row(key, _shown(value), _raw(value))
    result = "-" if event.ret is None else str(event.ret)
    args.add_row("= result", f"{result} {event.error}" if event.error else result, _raw(event.ret))
    parts.append(args)
    if isinstance(event.args.get("messages"), list):
        parts.append(_section("netlink messages"))
        parts.append(netlink_tree(event.args["messages"], title=f"on {event.args.get('netlink', 'netlink')}"))
    if event.raw:
        # What the kernel was handed: the decoded column above is boxtrace's reading of these registers.
        parts.append(_section("raw arguments (x86-64 registers at entry)"))
        registers = _grid()
        for register, value in zip(ARGUMENT_REGISTERS, event.raw, strict=False):
            registers.add_row(register, value)
        parts.append(registers)
    if event.notes:
        parts.append(_section("found at the stop"))
        notes = _grid()
        for key, value in event.notes.items():
            notes.add_row(key, _shown(value))
        parts.append(notes)
    parts.extend(_explanations(event.name, event.args))
    if event.error:
        parts.append(_section("it failed"))
        parts.append(Text(f"The kernel refused with {event.error}; nothing changed for this process.", style="red"))
    return parts


def _explanations(name: str, args: dict[str, Any]) -> list[RenderableType]:
    """"What it does" (the syscall) and "what it means for the container" (its flags and arguments)."""
    try:
        lines = explain(name, args)
    except Exception:  # noqa: BLE001 - an explanation must never take the pane down
        lines = []
    what = SYSCALL_EXPLANATIONS.get(name)
    if lines and lines[0] == what:
        lines = lines[1:]
    mentioned = {line.split(":", 1)[0] for line in lines}
    lines += [f"{flag}: {FLAG_EXPLANATIONS[flag]}" for flag in _flags_in(args) if flag not in mentioned]
    parts: list[RenderableType] = []
    if what:
        parts += [_section("what it does"), Text(what)]
    if lines:
        parts += [_section("what it means for the container"),
                  Text("\n".join(f"• {line}" for line in lines[:MAX_FLAGS_EXPLAINED]))]
    return parts


def _process_started_details(model: TuiModel, event: ProcessStarted) -> list[RenderableType]:
    parts: list[RenderableType] = [_section("new process")]
    grid = _grid()
    grid.add_row("via", event.via)
    if event.flags:
        grid.add_row("flags", "|".join(event.flags))
    grid.add_row("parent", str(event.ppid))
    if event.creator is not None and event.creator != event.ppid:
        grid.add_row("created by", f"{event.creator} (CLONE_PARENT: the child's parent is its creator's parent)")
    if event.argv:
        grid.add_row("argv", short_argv(event.argv))
    if event.nspid:
        grid.add_row("pids", " → ".join(map(str, event.nspid)) + "  (host → innermost namespace)")
    parts.append(grid)
    kinds = [CLONE_FLAG_KINDS[f] for f in event.flags if f in CLONE_FLAG_KINDS]
    if kinds:
        parts.append(_section("born in new namespaces"))
        parts.append(Text("\n".join(f"• {k}: {NAMESPACE_MEANING[k]}" for k in kinds if k in NAMESPACE_MEANING)))
    explained = [f for f in event.flags if f in FLAG_EXPLANATIONS][:MAX_FLAGS_EXPLAINED]
    if explained:
        parts.append(_section("flags"))
        flags = _grid()
        for flag in explained:
            flags.add_row(flag, FLAG_EXPLANATIONS[flag])
        parts.append(flags)
    return parts


def render_process_details(model: TuiModel, proc: Process | None) -> RenderableType:
    if proc is None:
        header = model.header
        lines = Text()
        lines.append("The whole trace\n", style="bold")
        if header is not None:
            lines.append(f"command   {' '.join(header.command) or '-'}\n")
            lines.append(f"mode      {header.mode}   filter {header.filter}\n")
            if header.scenario:
                lines.append(f"scenario  {header.scenario}\n")
            if header.attached:
                lines.append(f"attached  {', '.join(map(str, header.attached))}\n")
        lines.append(model.count_summary(), style="dim")
        return lines
    grid = _grid()
    grid.add_row("name", model.lineage(proc))
    grid.add_row("pid", model.describe_pid(proc))
    grid.add_row("parent", str(proc.ppid))
    if proc.creator is not None and proc.creator != proc.ppid:
        grid.add_row("created by", str(proc.creator))
    grid.add_row("born via", proc.via + (f" ({'|'.join(proc.flags)})" if proc.flags else ""))
    grid.add_row("runs", proc.executable)
    grid.add_row("argv", short_argv(proc.current_argv))
    if proc.threads:
        grid.add_row("threads", str(len(proc.threads)))
    new = model.new_namespaces(proc)
    badge = model.namespace_badge(proc)
    grid.add_row("namespaces", badge if badge else Text("the host's", style="dim"))
    for kind, inode in new.items():
        grid.add_row(f"  {kind}", str(inode))
    if proc.exit is not None:
        how = "detached" if proc.exit.detached else (
            f"killed by {proc.exit.signal}" if proc.exit.signal else f"exited with {proc.exit.code}")
        grid.add_row("end", how)
    grid.add_row("events", str(len(proc.event_seqs)))
    about = _process_insights(model, proc.pid)
    if about is None:
        return grid
    return Group(grid, _section("what the trace shows about it"), about)


class DetailsPane(VerticalScroll):
    """Shows one event (or, with nothing selected, the selected process)."""

    DEFAULT_CSS = """
    DetailsPane > #details-body { width: 1fr; height: auto; }
    """

    def __init__(self, model: TuiModel, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.model = model
        self.shown_seq: int | None = None

    def compose(self):
        yield Static(id="details-body")

    @property
    def body(self) -> Static:
        return self.query_one("#details-body", Static)

    def show_event(self, seq: int) -> None:
        event = self.model.event(seq)
        if event is None:
            return
        self.shown_seq = seq
        self.body.update(render_event_details(self.model, event))
        self.scroll_home(animate=False)

    def show_process(self, proc: Process | None) -> None:
        self.shown_seq = None
        self.body.update(render_process_details(self.model, proc))

    def show_text(self, renderable: RenderableType) -> None:
        self.shown_seq = None
        self.body.update(renderable)
