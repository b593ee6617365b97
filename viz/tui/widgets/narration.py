"""The walkthrough panel: the chapter's title and narration, and the popular claim beside what the trace shows."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static

from viz.tui.model import TuiModel
from viz.tui.walkthrough import Chapter, Walkthrough

#: Event lines quoted under "What this trace shows".
MAX_QUOTED_EVENTS = 4


class NarrationPanel(VerticalScroll):
    """Hidden until the first `n`; then it tells the story of the current chapter. It scrolls when the chapter
    is longer than the room it has (Tab reaches it). `z` zooms it to the whole screen (for projecting a chapter
    to a class)."""

    ALLOW_MAXIMIZE = True

    DEFAULT_CSS = """
    NarrationPanel {
        height: auto;
        max-height: 50%;
        overflow-y: auto;
        scrollbar-size-vertical: 1;
        display: none;
        &.-active { display: block; }
        &.-maximized { max-height: 100%; height: 1fr; }
        #narration-title { text-style: bold; }
        #narration-compare { height: auto; display: none; }
        #narration-compare.-shown { display: block; }
        #narration-claim, #narration-reality { width: 1fr; height: auto; padding: 0 1; }
        &.-stacked #narration-compare { layout: vertical; }
        &.-stacked #narration-claim, &.-stacked #narration-reality { width: 100%; padding: 0; }
        #narration-events { height: auto; }
        #narration-foot { color: $foreground 50%; }
        #narration-toc { display: none; height: auto; margin-top: 1; }
        &.-maximized #narration-toc { display: block; }
    }
    """

    def on_resize(self) -> None:
        """Claim and trace side by side when there is room, one under the other when not."""
        self.set_class(self.size.width < 80, "-stacked")

    def compose(self) -> ComposeResult:
        yield Static(id="narration-title")
        yield Static(id="narration-text")
        with Horizontal(id="narration-compare"):
            yield Static(id="narration-claim")
            yield Static(id="narration-reality")
        yield Static(id="narration-events")
        yield Static(id="narration-foot")
        yield Static(id="narration-toc")

    def show(self, walkthrough: Walkthrough, index: int, model: TuiModel) -> None:
        chapter = walkthrough.chapters[index]
        total = len(walkthrough.chapters)
        self.remove_class("-intro")
        self.add_class("-active")
        self.border_title = f"walkthrough · {walkthrough.source}"
        self.query_one("#narration-title", Static).update(
            Text.assemble((f"Chapter {index + 1}/{total}: ", "dim"), (chapter.title, "bold"))
        )
        self.query_one("#narration-text", Static).update(chapter.narration)
        compare = self.query_one("#narration-compare")
        quoted = self._quoted(chapter, model)
        if chapter.claim and chapter.reality:
            compare.add_class("-shown")
            self.query_one("#narration-claim", Static).update(
                Text.assemble(("Popular explanation: ", "bold yellow"), chapter.claim)
            )
            reality = Text.assemble(("What this trace shows: ", "bold green"), chapter.reality)
            if quoted.plain:
                reality.append("\n")
                reality.append_text(quoted)
            self.query_one("#narration-reality", Static).update(reality)
            self.query_one("#narration-events", Static).update("")
        else:
            compare.remove_class("-shown")
            self.query_one("#narration-events", Static).update(quoted)
        foot = "n next chapter · p previous"
        if walkthrough.missing:
            foot += f" · not in this trace: {', '.join(walkthrough.missing)}"
        self.query_one("#narration-foot", Static).update(foot)
        toc = Text("Chapters\n", style="bold")
        for number, each in enumerate(walkthrough.chapters):
            current = number == index
            toc.append(f"{'▶' if current else ' '} {number + 1:>2}. {each.title}\n",
                       style="bold" if current else "dim")
        self.query_one("#narration-toc", Static).update(toc)
        self.scroll_home(animate=False)

    def show_intro(self, walkthrough: Walkthrough | None) -> None:
        """Before the first chapter: what the walkthrough holds and which key begins it."""
        self.add_class("-active", "-intro")
        self.border_title = "walkthrough" + (f" · {walkthrough.source}" if walkthrough is not None else "")
        count = len(walkthrough.chapters) if walkthrough is not None else 0
        title = Text.assemble(("Press ", ""), ("n", "bold reverse"), (" to begin", "bold"))
        if walkthrough is not None and count:
            first, last = walkthrough.chapters[0].title, walkthrough.chapters[-1].title
            title.append(f" the walkthrough: {count} chapters, from “{first}” to “{last}”.")
        else:
            title.append(" the walkthrough (its chapters are found in the trace as it arrives).")
        self.query_one("#narration-title", Static).update(title)
        self.query_one("#narration-text", Static).update(
            Text("p goes back, z zooms a chapter for a projector, ? lists every key.", style="dim"))
        self.query_one("#narration-compare").remove_class("-shown")
        for part in ("#narration-events", "#narration-foot", "#narration-toc"):
            self.query_one(part, Static).update("")

    def _quoted(self, chapter: Chapter, model: TuiModel) -> Text:
        lines = Text()
        for seq in chapter.seqs[:MAX_QUOTED_EVENTS]:
            event = model.event(seq)
            if event is None:
                continue
            if lines.plain:
                lines.append("\n")
            lines.append("  ")
            lines.append_text(model.line(event, with_pid=False))
        if len(chapter.seqs) > MAX_QUOTED_EVENTS:
            lines.append(f"\n  … and {len(chapter.seqs) - MAX_QUOTED_EVENTS} more events", style="dim")
        return lines

    def hide(self) -> None:
        self.remove_class("-active")
