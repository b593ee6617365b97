"""The line under the header: what was traced, the counts so far, and where the program's output went."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from viz.tui.model import EventFilter, TuiModel


class TraceBanner(Static):
    """A warning across the screen: the recording is truncated, or the trace was interrupted."""

    DEFAULT_CSS = """
    TraceBanner { height: auto; padding: 0 1; background: $warning 30%; color: $text; text-style: bold;
                  display: none; }
    TraceBanner.-shown { display: block; }
    """

    def show(self, sentence: str | None) -> None:
        self.set_class(bool(sentence), "-shown")
        self.update(f"⚠ {sentence}" if sentence else "")


class TraceSummary(Static):
    DEFAULT_CSS = """
    TraceSummary { height: auto; padding: 0 1; background: $panel; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def show(self, model: TuiModel, flt: EventFilter, state: str, note: str | None = None, *,
             live: bool = False) -> None:
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
        text.append(model.count_summary(live=live), style="dim")
        text.append(f" · {state}", style="bold")
        text.append(f" · showing {flt.describe()}", style="dim")
        if note:
            text.append(f"\n{note}", style="italic")
        self.update(text)
