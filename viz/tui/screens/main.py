"""The main screen: process tree, event list, details, walkthrough narration, search.

State lives here (the selected process, the filter, the chapter) and in the model; handlers change state and
tell widgets what to show. Anything that may take long (search over 100k events, exports) runs in a thread
worker and answers with a message.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Tree

from tracer.events import Event
from tracer.processes import Process
from tracer.recording import Recording
from viz.tui.messages import ExportDone, SearchDone
from viz.tui.model import Changes, EventFilter, TuiModel, trace_warning
from viz.tui.screens.presenter import PresenterScreen
from viz.tui.walkthrough import Lesson, Walkthrough, build_walkthrough
from viz.tui.widgets.details import DetailsPane
from viz.tui.widgets.event_list import EventList
from viz.tui.widgets.narration import NarrationPanel
from viz.tui.widgets.process_tree import ProcessTree
from viz.tui.widgets.search import SearchBar
from viz.tui.widgets.summary import TraceBanner, TraceSummary


@dataclass(frozen=True)
class ScreenSetup:
    """What the app tells the main screen once, at construction (the app's state flows down, never read up)."""

    #: The scenario's milestones for the walkthrough (None: generic chapters).
    lesson: Lesson | None = None
    #: The recording's file name, or "live trace" (the sub-title when the header names no scenario).
    source_name: str = ""
    #: A line on where the traced program's output and the recording go (live traces).
    output_note: str | None = None
    #: The traced program's output file (`o`), for a live trace.
    program_output: str | None = None
    #: Where `e` writes the architecture diagram: (directory, file stem).
    export_to: tuple[Path, str] = (Path("."), "boxtrace")
    #: The recording shown, if any (a live trace is exported from the model).
    recording: Recording | None = None
    #: A live trace (not a recording) is shown.
    live: bool = False
    #: Open in presenter mode, on chapter 1 (`--present`).
    present: bool = False

#: Bytes of the traced program's output shown by `o` (its tail).
OUTPUT_TAIL_BYTES = 16 * 1024


#: From this width the tree, the event list and the details sit side by side...
THREE_PANES_WIDTH = 120
#: ...from this one the event list has one side pane (the tree, or the details on `d`); below it the event list
#: is alone and `t` / `d` bring a side pane in.
TWO_PANES_WIDTH = 90
#: The tree takes what its names need, up to this share of the screen (three panes / fewer).
TREE_SHARE = {"three": 0.28, "two": 0.4, "one": 0.5}
TREE_MIN_WIDTH = 22
#: The details pane: this share of the screen, between these widths.
DETAILS_SHARE = {"three": 0.27, "two": 0.45, "one": 0.5}
DETAILS_MIN_WIDTH, DETAILS_MAX_WIDTH = 34, 72


class MainScreen(Screen[None]):
    # The footer shows bindings in this order and cuts what does not fit: the four a newcomer needs come first,
    # with short names, so that an 80-column terminal still shows them.
    BINDINGS = [
        Binding("n", "chapter(1)", "Next", id="next-chapter", tooltip="Walkthrough: next chapter"),
        Binding("p", "chapter(-1)", "Prev", id="previous-chapter", tooltip="Walkthrough: previous chapter"),
        Binding("q", "app.quit", "Quit", id="main-quit", tooltip="Quit (stops a live trace first)"),
        Binding("question_mark", "app.help", "Help", id="main-help", tooltip="Keys and panes"),
        Binding("a", "toggle_all", "All", id="toggle-all",
                tooltip="Show every event, or container-relevant ones only (noise folded)"),
        Binding("f", "cycle_category", "Category", id="category", tooltip="Show one category at a time"),
        Binding("slash", "search", "Search", id="search", tooltip="Search the event text"),
        Binding("t", "side_pane('tree')", "Tree", id="tree-pane", tooltip="Show or hide the process tree"),
        Binding("d", "side_pane('details')", "Details", id="details-pane", tooltip="Show or hide the details"),
        Binding("z", "zoom", "Zoom", id="zoom", tooltip="Zoom the walkthrough (or the focused pane) to the screen"),
        Binding("e", "export", "Export", id="export", tooltip="Export the architecture diagram (SVG, PNG)"),
        Binding("P", "present", "Present", id="present", tooltip="Presenter mode: one chapter at a time, large"),
        Binding("b", "app.spec", "Spec", id="spec",
                tooltip="The bundle's promises (config.json) beside what the trace shows was applied"),
        Binding("right_square_bracket", "search_again(1)", "Next match", id="next-match", show=False),
        Binding("left_square_bracket", "search_again(-1)", "Prev match", id="previous-match", show=False),
        Binding("o", "output", "Output", id="output", show=False,
                tooltip="Show the traced program's output"),
    ]

    ALLOW_IN_MAXIMIZED_VIEW = "Header, Footer"

    class Ready(Message):
        """The screen's widgets exist: the app may start feeding them (a live trace)."""

    def __init__(self, model: TuiModel, setup: ScreenSetup | None = None, status: str = "") -> None:
        super().__init__()
        self.model = model
        self.setup = setup or ScreenSetup()
        #: What the trace is doing ("tracing…"); the app sets it, then calls refresh_summary.
        self.status = status
        self.subject: Process | None = None
        self.flt = EventFilter()
        self.chapter = -1
        self.search_query = ""
        self.showing_output = False
        self._walk: Walkthrough | None = None
        self._walk_revision = -1
        self._output_shown_at = 0.0
        #: "three", "two" or "one" pane(s) side by side, from the screen's width (see `apply_layout`).
        self.layout_mode = "three"
        #: Side panes the user hid (three panes) or asked for (fewer): "tree", "details".
        self._hidden: set[str] = set()
        self._side: str | None = "tree"
        self._presenter_refreshed = 0.0

    # Widgets, by type ------------------------------------------------------------------------------------

    @property
    def process_tree(self) -> ProcessTree:
        return self.query_one(ProcessTree)

    @property
    def event_list(self) -> EventList:
        return self.query_one(EventList)

    @property
    def details_pane(self) -> DetailsPane:
        return self.query_one(DetailsPane)

    @property
    def narration_panel(self) -> NarrationPanel:
        return self.query_one(NarrationPanel)

    @property
    def search_bar(self) -> SearchBar:
        return self.query_one(SearchBar)

    @property
    def summary_line(self) -> TraceSummary:
        return self.query_one(TraceSummary)

    def compose(self) -> ComposeResult:
        yield Header()
        yield TraceSummary(id="summary")
        yield TraceBanner(id="banner")
        with Horizontal(id="panes"):
            yield ProcessTree(self.model, id="processes")
            with Vertical(id="centre"):
                yield EventList(self.model, id="events")
                yield NarrationPanel(id="narration")
            yield DetailsPane(self.model, id="details")
        yield SearchBar(id="search")
        yield Footer()

    def on_mount(self) -> None:
        self.apply_layout()
        self.process_tree.border_title = "processes"
        self.details_pane.border_title = "details"
        self.process_tree.add_processes(self.model.table.history)
        self.process_tree.show(None)
        self.reload_events()
        self.post_message(self.Ready())
        self.refresh_summary()
        self.show_intro()
        self.process_tree.focus()
        if self.setup.present:
            self.call_after_refresh(self.action_present)

    def show_intro(self) -> None:
        """The first screen says how to begin: how many chapters, and `n`."""
        if self.chapter < 0:
            self.narration_panel.show_intro(self.walkthrough() if self.model.events else None)

    # Live updates ----------------------------------------------------------------------------------------

    def apply_changes(self, changes: Changes) -> None:
        """New events arrived: grow the tree and the visible list; nothing is recomputed from scratch."""
        generation = self.model.roles_generation
        if changes.new_processes:
            self.process_tree.add_processes(changes.new_processes)
            self.size_tree()
        if changes.changed_processes:
            self.process_tree.refresh_processes(changes.changed_processes)
        if self.model.roles_generation != generation:
            # The roles were recomputed: a process's name can depend on what ran after it (runc's stages).
            self.process_tree.refresh_processes(self.model.table.history)
        model, subject, flt = self.model, self.subject, self.flt
        self.event_list.append(e.seq for e in changes.events if model.accepts(subject, flt, e))
        self._count_shown()
        self.refresh_summary()
        presenter = self.app.screen
        if isinstance(presenter, PresenterScreen) and time.monotonic() - self._presenter_refreshed > 0.3:
            self._presenter_refreshed = time.monotonic()
            presenter.refresh_chapters()
        if self.showing_output and time.monotonic() - self._output_shown_at > 0.5:
            self.show_output()

    def refresh_summary(self) -> None:
        self.summary_line.show(self.model, self.flt, self.status, self.setup.output_note, live=self.setup.live)
        self.query_one(TraceBanner).show(trace_warning(self.model, recording=self.setup.recording is not None))
        header = self.model.header
        if header is not None:
            self.app.sub_title = header.scenario or self.setup.source_name

    # Selecting what to show ------------------------------------------------------------------------------

    def reload_events(self, keep: int | None = None) -> None:
        seqs = self.model.view(self.subject, self.flt)
        self.event_list.show(seqs, with_pid=self.subject is None, keep=keep, fold=not self.flt.everything)
        whose = "all processes" if self.subject is None else (
            f"{self.model.lineage(self.subject)} {self.model.describe_pid(self.subject)}")
        self.event_list.border_title = f"events of {whose}"
        self._count_shown()

    def _count_shown(self) -> None:
        events = self.event_list
        folded = events.folded_count
        note = f" ({folded} folded, a shows all)" if folded else ""
        events.border_subtitle = f"{events.event_count} shown{note} · {self.flt.describe()}"

    # Layout ----------------------------------------------------------------------------------------------

    def on_resize(self) -> None:
        """The terminal changed size: choose how many panes fit and size them."""
        self.apply_layout()

    def apply_layout(self) -> None:
        """Three panes side by side on a wide screen, fewer on a narrow one; each sized by a share of the width
        and, for the tree, by what its names need."""
        width = self.size.width or self.app.size.width
        mode = "three" if width >= THREE_PANES_WIDTH else "two" if width >= TWO_PANES_WIDTH else "one"
        if mode != self.layout_mode:
            self.layout_mode = mode
            self._side = "tree" if mode == "two" else None
        if mode == "three":
            shown = {"tree", "details"} - self._hidden
        else:
            shown = {self._side} if self._side else set()
        self.process_tree.display = "tree" in shown
        self.details_pane.display = "details" in shown
        for name in ("three", "two", "one"):
            self.set_class(name == mode, f"-{name}-panes")
        details = int(width * DETAILS_SHARE[mode])
        self.details_pane.styles.width = max(DETAILS_MIN_WIDTH, min(details, DETAILS_MAX_WIDTH))
        self.size_tree()

    def size_tree(self) -> None:
        """The tree as wide as its widest name needs (borders, scrollbar), within its share of the screen."""
        width = self.size.width or self.app.size.width
        tree = self.process_tree
        share = int(width * TREE_SHARE[self.layout_mode])
        tree.styles.width = max(TREE_MIN_WIDTH, min(tree.content_width() + 4, share))

    def action_side_pane(self, pane: str) -> None:
        """`t` / `d`: show or hide the tree or the details; on a narrow screen, one side pane at a time."""
        if self.layout_mode == "three":
            self._hidden ^= {pane}
        else:
            self._side = None if self._side == pane else pane
        self.apply_layout()
        target = self.process_tree if pane == "tree" else self.details_pane
        if target.display:
            target.focus()
        elif self.focused is None or not self.focused.display:
            self.event_list.focus()

    def set_subject(self, proc: Process | None, keep: int | None = None) -> None:
        self.subject = proc
        self.process_tree.show(proc)
        self.reload_events(keep)

    def select_event(self, seq: int, subject: Process | None | bool = True) -> bool:
        """Show an event: switch to its process (or to `subject` when given; True means its owner) and widen
        the filter if it hides the event. Returns False for an unknown seq."""
        event: Event | None = self.model.event(seq)
        if event is None:
            return False
        target = self.model.owner(seq) if subject is True else subject
        if target is not None and not isinstance(target, Process):
            target = None
        flt = self.flt
        if not flt.accepts(event):
            flt = EventFilter(flt.everything, None)
            if not flt.accepts(event):
                flt = EventFilter(True, None)
        if target is not self.subject or flt != self.flt:
            self.flt = flt
            self.subject = target
            self.process_tree.show(target)
            self.reload_events(keep=seq)
            self.refresh_summary()
        self.event_list.select(seq, center=True)
        return True

    def show_proof(self, seqs: tuple[int, ...]) -> None:
        """From the spec view: mark a row's proving events, select the first and show it in the details pane
        (on a narrow screen the details take the side pane)."""
        if self.layout_mode != "three" and self._side != "details":
            self._side = "details"
            self.apply_layout()
        elif self.layout_mode == "three" and "details" in self._hidden:
            self._hidden.discard("details")
            self.apply_layout()
        self.event_list.set_marked(seqs)
        if self.select_event(seqs[0], subject=True):
            self.details_pane.show_event(seqs[0])
        self.event_list.focus()

    @on(Tree.NodeHighlighted, "#processes")
    def on_process_highlighted(self, message: Tree.NodeHighlighted) -> None:
        """The tree cursor moved: list that process's events."""
        proc = message.node.data
        if proc is not self.subject:
            self.subject = proc
            self.reload_events()

    def on_event_list_cursor_moved(self, message: EventList.CursorMoved) -> None:
        """Show the selected event in the details pane (or the process when the list is empty)."""
        if self.showing_output:
            return
        if message.seq is None:
            self.details_pane.show_process(self.subject)
        else:
            self.details_pane.show_event(message.seq)

    # Filters ---------------------------------------------------------------------------------------------

    def action_toggle_all(self) -> None:
        self.flt = EventFilter(not self.flt.everything, self.flt.category)
        self.reload_events(keep=self.event_list.selected_seq)
        self.refresh_summary()

    def action_cycle_category(self) -> None:
        self.flt = self.flt.next_category()
        self.reload_events(keep=self.event_list.selected_seq)
        self.refresh_summary()

    # Walkthrough -----------------------------------------------------------------------------------------

    def walkthrough(self) -> Walkthrough:
        """The chapters, recomputed only when events arrived since the last time."""
        if self._walk is None or self._walk_revision != self.model.revision:
            events: list[Event] = list(self.model.events)
            if self.model.header is not None:
                events.insert(0, self.model.header)
            lesson = self.setup.lesson
            try:
                self._walk = build_walkthrough(events, lesson)
            except Exception as error:  # noqa: BLE001 - a milestone that trips on a partial trace
                name = lesson.name if lesson is not None else "scenario"
                self.notify(f"the {name} walkthrough failed ({error}); showing generic chapters",
                            severity="warning")
                self._walk = build_walkthrough(events, None)
            self._walk_revision = self.model.revision
        return self._walk

    def action_chapter(self, delta: int) -> None:
        walk = self.walkthrough()
        if not walk.chapters:
            self.notify("this trace has no walkthrough chapters yet", severity="warning")
            return
        if self.chapter < 0:
            index = 0 if delta > 0 else len(walk.chapters) - 1
        else:
            index = max(0, min(self.chapter + delta, len(walk.chapters) - 1))
        self.go_to_chapter(index)

    def go_to_chapter(self, index: int) -> None:
        walk = self.walkthrough()
        chapter = walk.chapters[index]
        self.chapter = index
        self.narration_panel.show(walk, index, self.model)
        procs: list[Process] = []
        for seq in chapter.seqs:
            owner = self.model.owner(seq)
            if owner is not None and all(owner is not p for p in procs):
                procs.append(owner)
        self.process_tree.mark(procs)
        self.event_list.set_marked(chapter.seqs)
        if chapter.first_seq is not None:
            # The list shows the process of the chapter's key event, with that event centred and selected.
            self.select_event(chapter.first_seq, subject=True)

    @property
    def current_chapter(self):
        if self.chapter < 0 or self._walk is None or self.chapter >= len(self._walk.chapters):
            return None
        return self._walk.chapters[self.chapter]

    def action_present(self) -> None:
        """`P` (and `--present`): the chapter in presenter mode, from chapter 1 if none is open yet."""
        if isinstance(self.app.screen, PresenterScreen):
            return
        self.app.push_screen(PresenterScreen(self, max(self.chapter, 0)), callback=self._presenter_closed)

    def _presenter_closed(self, index: int | None) -> None:
        """Back from presenter mode: Enter opened a chapter (show it at its key event), P just left."""
        if index is not None and 0 <= index < len(self.walkthrough().chapters):
            self.go_to_chapter(index)
            self.event_list.focus()

    def action_zoom(self) -> None:
        if self.maximized is not None:
            self.minimize()
            return
        panel = self.narration_panel
        target = panel if panel.has_class("-active") else self.focused
        if target is not None and not self.maximize(target, container=False):
            self.maximize(target, container=True)

    # Search ----------------------------------------------------------------------------------------------

    def action_search(self) -> None:
        self.search_bar.value = self.search_query
        self.search_bar.open()

    @on(SearchBar.Submitted, "#search")
    def on_search_submitted(self, message: SearchBar.Submitted) -> None:
        """Enter in the search bar: find the next match."""
        self.search_query = message.value.strip()
        self.event_list.set_query(self.search_query)
        if self.search_query:
            self.search(self.search_query, 1)

    def on_search_bar_closed(self, message: SearchBar.Closed) -> None:
        """Escape in the search bar: back to the event list, matches stay highlighted."""
        self.event_list.focus()

    def action_search_again(self, direction: int) -> None:
        if not self.search_query:
            self.action_search()
            return
        self.search(self.search_query, direction)

    def search(self, query: str, direction: int) -> None:
        self._search_worker(query, self.event_list.selected_seq, self.flt, direction)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def _search_worker(self, query: str, after: int | None, flt: EventFilter, direction: int) -> None:
        seq, wrapped = self.model.search(query, after, flt, direction)
        widened = False
        if seq is None and flt != EventFilter(everything=True):
            # Nothing among the events on show: look at every event, and widen the filter to show the match.
            seq, wrapped = self.model.search(query, after, EventFilter(everything=True), direction)
            widened = seq is not None
        self.post_message(SearchDone(query, seq, direction, wrapped, widened))

    def on_search_done(self, message: SearchDone) -> None:
        """A search worker finished: select the match, or say there is none."""
        if message.seq is None:
            self.notify(f"no event matches {message.query!r}", severity="warning")
            return
        self.select_event(message.seq, subject=self.subject if self.subject is None else True)
        if message.widened:
            self.notify(f"{message.query!r} is only in events the filter hid: now showing {self.flt.describe()}")
        elif message.wrapped:
            self.notify("search wrapped around the trace")

    # Export ----------------------------------------------------------------------------------------------

    def action_export(self) -> None:
        header = self.model.header
        if header is None:
            self.notify("nothing to export yet", severity="warning")
            return
        directory, stem = self.setup.export_to
        theme = "dark" if self.app.current_theme.dark else "light"
        recording = self.setup.recording or Recording(header=header, events=list(self.model.events))
        walk = self.walkthrough()
        chapter = walk.chapters[self.chapter] if 0 <= self.chapter < len(walk.chapters) else None
        self.notify(f"exporting the architecture diagram and the slides to {directory}…")
        self._export_worker(recording, directory, stem, theme, list(walk.chapters),
                            chapter.id if chapter is not None else None)

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def _export_worker(self, recording, directory: Path, stem: str, theme: str,  # noqa: ANN001
                       chapters: list, focus: str | None) -> None:
        """The architecture (svg, png), the 16:9 slide of the whole launch and, when a chapter is open, the
        slide of that chapter alone: what a teacher puts in a lecture."""
        written: list[Path] = []
        try:
            from viz.export import export, export_slide

            for fmt in ("svg", "png"):
                target = directory / f"{stem}-architecture.{fmt}"
                result = export(recording, view="architecture", fmt=fmt, theme=theme, output=target)
                written.append(Path(result) if result else target)
            target = directory / f"{stem}-slide.svg"
            written.append(export_slide(recording, target, theme=theme, chapters=chapters))
            if focus is not None:
                target = directory / f"{stem}-slide-{focus}.svg"
                written.append(export_slide(recording, target, theme=theme, chapters=chapters, focus=focus))
        except OSError as error:
            from viz.tui.errors import describe_os_error

            self.post_message(ExportDone(written, error=describe_os_error(error, directory)))
            return
        except Exception as error:  # noqa: BLE001 - shown to the user as one sentence
            reason = str(error).strip().rstrip(".") or "the diagram could not be drawn"
            self.post_message(ExportDone(written, error=reason))
            return
        self.post_message(ExportDone(written))

    def on_export_done(self, message: ExportDone) -> None:
        """The export worker finished: say which files were written."""
        if message.error:
            self.notify(f"export failed: {message.error}", severity="error", timeout=8)
        else:
            self.notify("wrote " + ", ".join(str(p) for p in message.paths), timeout=8)

    # Program output --------------------------------------------------------------------------------------

    def action_output(self) -> None:
        path = self.setup.program_output
        if path is None:
            self.notify("no program output here: a recording keeps only the trace", severity="warning")
            return
        self.showing_output = not self.showing_output
        if self.showing_output:
            self.show_output()
        else:
            seq = self.event_list.selected_seq
            if seq is None:
                self.details_pane.show_process(self.subject)
            else:
                self.details_pane.show_event(seq)
        self.details_pane.border_title = "program output" if self.showing_output else "details"

    def show_output(self) -> None:
        path = self.setup.program_output
        self._output_shown_at = time.monotonic()
        if path is None:
            return
        try:
            with open(path, "rb") as handle:
                handle.seek(0, 2)
                size = handle.tell()
                handle.seek(max(0, size - OUTPUT_TAIL_BYTES))
                data = handle.read()
        except OSError as error:
            self.details_pane.show_text(Text(f"cannot read {path}: {error.strerror}", style="red"))
            return
        text = Text(f"{path}\n", style="dim")
        text.append(data.decode("utf-8", errors="replace") or "(nothing yet)")
        self.details_pane.show_text(text)
