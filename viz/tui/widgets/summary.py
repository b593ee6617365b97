"""The line under the header: what was traced, the counts so far, and where the program's output went."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from viz.tui.model import EventFilter, TraceModel


class TraceSummary(Static):
    DEFAULT_CSS = """
    TraceSummary { height: auto; padding: 0 1; background: $panel; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def show(self, model: TraceModel, flt: EventFilter, state: str, note: str | None = None) -> None:
        header = model.header
        text = Text()
        if header is not None:
            if header.scenario:
                text.append("scenario ", style="dim")
                text.append(header.scenario, style="bold")
                text.append("  ")
            what = " ".join(header.command) or "attached to " + ", ".join(map(str, header.attached))
            text.append(what, style="bold")
            text.append("\n")
        text.no_wrap = True
        text.overflow = "ellipsis"
        text.append(model.count_summary(), style="dim")
        text.append(f" · {state}", style="bold")
        text.append(f" · showing {flt.describe()}", style="dim")
        if note:
            text.append(f"\n{note}", style="italic")
        self.update(text)
