"""How an injected fault looks: one line for the `fault` event, and the story of what the runtime did next.

Pure renderers over tracer.events.Fault and tracer.inject_story; the console, `boxtrace show` and the TUI's
details use them, so a fault reads the same everywhere.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text

from tracer.decoders import format_call
from tracer.events import Event, Fault
from tracer.inject_story import fault_stories

FAULT_STYLE = "bold white on red"


def fault_text(event: Fault) -> str:
    """`what-if: pivot_root(".", ".") fails with EPERM, never run (rule pivot_root=EPERM:runc:[2:INIT])`."""
    call = format_call(event.name, event.args, None, None).removesuffix(" = ?")
    return f"WHAT-IF: {call} fails with {event.errno}, never run by the kernel (--inject {event.rule})"


def render_fault(event: Fault, prefix: str = "") -> Text:
    line = Text(prefix)
    line.append(f" {fault_text(event)} ", style=FAULT_STYLE)
    return line


def render_fault_stories(events: list[Event]) -> RenderableType | None:
    """`What happened after each injected fault`, one sentence a line with its events; None without faults."""
    stories = fault_stories(events)
    if not stories:
        return None
    parts: list[RenderableType] = [Text("what-if: what happened next", style="bold red")]
    for story in stories:
        for line in story.lines:
            text = Text(f"  {line.text}")
            if line.seqs:
                shown = ", ".join(str(s) for s in line.seqs[:4]) + (" ..." if len(line.seqs) > 4 else "")
                text.append(f"  [events {shown}]", style="dim")
            parts.append(text)
    return Group(*parts)
