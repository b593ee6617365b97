"""Presenter mode (`--present`, `P`): one chapter at a time, for a class reading a projector from the back row.

The chapter's title and narration in the middle of the screen; under it the few trace lines that prove it, each
highlighted; above it where in the process chain we are (the key event's process and its ancestors, each with its
namespace badge); the popular claim beside what the trace shows; progress (chapter k of N). n / p, the arrows and
space step; Enter closes the presenter and opens the three panes at the chapter's key event; P closes it where it
is. The screen only reads the main screen's walkthrough and model and answers with `dismiss(chapter index)`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from viz.tui.walkthrough import Chapter, Walkthrough

if TYPE_CHECKING:
    from viz.tui.model import TuiModel


class ChapterSource(Protocol):
    """What the presenter reads from the screen below it (the main screen): the model and its chapters."""

    model: TuiModel

    def walkthrough(self) -> Walkthrough: ...

#: Trace lines shown under a chapter (the chapter's first events: its proof).
MAX_PROOF_LINES = 5
#: Ancestors shown in the process chain before it is cut with "…".
MAX_CHAIN = 6


class PresenterScreen(Screen[int | None]):
    """Dismissed with the chapter to open in the three panes (Enter), or None (P: back where the panes were)."""

    BINDINGS = [
        Binding("n,right,space", "step(1)", "Next", id="present-next", tooltip="Next chapter"),
        Binding("p,left", "step(-1)", "Prev", id="present-previous", tooltip="Previous chapter"),
        Binding("enter", "open_panes", "Panes", id="present-open", tooltip="Open the three panes at this event"),
        Binding("P", "leave", "Leave", id="present-leave", tooltip="Leave presenter mode"),
        Binding("b", "app.spec", "Spec", id="present-spec",
                tooltip="The bundle's promises beside what the trace shows was applied"),
        Binding("q", "app.quit", "Quit", id="present-quit"),
        Binding("question_mark", "app.help", "Help", id="present-help"),
    ]

    DEFAULT_CSS = """
    PresenterScreen { layout: vertical; align-horizontal: center; background: $background; }
    PresenterScreen #present-progress { width: 100%; height: 1; padding: 0 2; background: $panel; }
    PresenterScreen #present-chain { width: 100%; height: auto; padding: 0 2; margin-top: 1; }
    PresenterScreen #present-stage { height: 1fr; align-horizontal: center; }
    PresenterScreen #present-body {
        width: 100%; max-width: 120; height: 1fr; padding: 0 2; margin-top: 1;
        scrollbar-size-vertical: 1;
    }
    PresenterScreen #present-title { text-style: bold; color: $accent; padding-bottom: 1; text-align: center; }
    PresenterScreen #present-text { text-style: bold; padding-bottom: 1; }
    PresenterScreen #present-proof {
        border: round $warning; border-title-color: $warning; padding: 0 1; height: auto; margin-bottom: 1;
    }
    PresenterScreen #present-compare { height: auto; }
    PresenterScreen #present-claim, PresenterScreen #present-reality {
        width: 1fr; height: auto; padding: 0 1; border: round $primary 60%;
    }
    PresenterScreen #present-claim { border-title-color: $warning; }
    PresenterScreen #present-reality { border-title-color: $success; }
    PresenterScreen.-narrow #present-compare { layout: vertical; }
    PresenterScreen.-narrow #present-claim, PresenterScreen.-narrow #present-reality { width: 100%; }
    """

    def __init__(self, main: ChapterSource, index: int = 0) -> None:
        super().__init__()
        self.main = main
        self.index = index
        self._ready = False

    @property
    def model(self) -> TuiModel:
        return self.main.model

    def compose(self) -> ComposeResult:
        yield Static(id="present-progress")
        yield Static(id="present-chain")
        with Horizontal(id="present-stage"), VerticalScroll(id="present-body"):
            yield Static(id="present-title")
            yield Static(id="present-text")
            yield Static(id="present-proof")
            with Horizontal(id="present-compare"):
                yield Static(id="present-claim")
                yield Static(id="present-reality")
        yield Footer()

    def on_mount(self) -> None:
        self._ready = True
        self.show()

    def on_resize(self) -> None:
        self.set_class(self.size.width < 110, "-narrow")

    # Steps ---------------------------------------------------------------------------------------------------

    def action_step(self, delta: int) -> None:
        walk = self.main.walkthrough()
        if walk.chapters:
            self.index = max(0, min(self.index + delta, len(walk.chapters) - 1))
        self.show()

    def action_open_panes(self) -> None:
        walk = self.main.walkthrough()
        self.dismiss(self.index if walk.chapters else None)

    def action_leave(self) -> None:
        self.dismiss(None)

    def refresh_chapters(self) -> None:
        """New events arrived (a live trace): chapters may have appeared."""
        self.show()

    # Drawing -------------------------------------------------------------------------------------------------

    def show(self) -> None:
        if not self._ready:
            return  # a live batch arrived between push_screen and compose: on_mount shows it
        walk = self.main.walkthrough()
        total = len(walk.chapters)
        if not total:
            self._waiting(walk)
            return
        self.index = max(0, min(self.index, total - 1))
        chapter = walk.chapters[self.index]
        self.query_one("#present-progress", Static).update(self._progress(walk, chapter))
        self.query_one("#present-chain", Static).update(self._chain(chapter))
        self.query_one("#present-title", Static).update(chapter.title)
        self.query_one("#present-text", Static).update(chapter.narration)
        proof = self.query_one("#present-proof", Static)
        proof.border_title = "what the trace shows"
        proof.update(self._proof(chapter))
        compare = self.query_one("#present-compare")
        compare.display = bool(chapter.claim and chapter.reality)
        claim = self.query_one("#present-claim", Static)
        claim.border_title = "popular explanation"
        claim.update(chapter.claim or "")
        reality = self.query_one("#present-reality", Static)
        reality.border_title = "this trace"
        reality.update(chapter.reality or "")
        self.query_one("#present-body", VerticalScroll).scroll_home(animate=False)

    def _waiting(self, walk: Walkthrough) -> None:
        self.query_one("#present-progress", Static).update(Text("presenter · waiting for the first chapter",
                                                                style="dim"))
        self.query_one("#present-chain", Static).update("")
        self.query_one("#present-title", Static).update("The trace is starting")
        self.query_one("#present-text", Static).update(
            "The first chapter appears as soon as the trace shows it; n steps through the chapters.")
        self.query_one("#present-proof", Static).update("")
        self.query_one("#present-compare").display = False

    def _progress(self, walk: Walkthrough, chapter: Chapter) -> Text:
        total = len(walk.chapters)
        text = Text()
        text.append(f"Chapter {self.index + 1} of {total}", style="bold")
        text.append("  ")
        for number in range(total):
            text.append("●" if number == self.index else ("•" if number < self.index else "○"),
                        style="bold yellow" if number == self.index else "dim")
        text.append(f"   {walk.source}", style="dim")
        return text

    def _chain(self, chapter: Chapter) -> Text:
        """The key event's process and its ancestors: `containerd → shim → runc create → [runc:[2:INIT] ◆ mnt…]`."""
        model = self.model
        seq = chapter.first_seq
        proc = model.owner(seq) if seq is not None else None
        text = Text()
        if proc is None:
            return text
        chain = [proc]
        by_pid = model.table.processes
        seen = {id(proc)}
        parent = by_pid.get(proc.ppid)
        while parent is not None and id(parent) not in seen:
            chain.append(parent)
            seen.add(id(parent))
            parent = by_pid.get(parent.ppid)
        chain.reverse()
        if len(chain) > MAX_CHAIN:
            chain = chain[-MAX_CHAIN:]
            text.append("… → ", style="dim")
        for position, each in enumerate(chain):
            current = each is proc
            name = model.name_at(each, seq) if current and seq is not None else model.name(each)
            colour = model.namespace_colour(each)
            style = f"bold reverse {colour}" if current and colour else ("bold reverse" if current else (colour or ""))
            text.append(f" {name} " if current else name, style=style)
            badge = model.namespace_badge(each)
            if current and badge.plain:
                text.append(" ")
                text.append_text(badge)
            if position < len(chain) - 1:
                text.append(" → ", style="dim")
        return text

    def _proof(self, chapter: Chapter) -> Text:
        model = self.model
        text = Text()
        for seq in chapter.seqs[:MAX_PROOF_LINES]:
            event = model.event(seq)
            if event is None:
                continue
            if text.plain:
                text.append("\n")
            proc = model.owner(seq)
            who = model.name_at(proc, seq) if proc is not None else ""
            line = Text.assemble((f"{who}: " if who else "", "bold"), model.line(event))
            text.append("▶ ", style="bold yellow")
            text.append_text(line)
        if len(chapter.seqs) > MAX_PROOF_LINES:
            text.append(f"\n  … and {len(chapter.seqs) - MAX_PROOF_LINES} more (Enter opens them all)", style="dim")
        return text
