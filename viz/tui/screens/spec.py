"""The spec view (`b`): the OCI bundle's promises (its config.json) beside what the trace shows was applied.

One row per promise, grouped by section (namespaces, root, mounts, masked paths, capabilities, ...): the verdict
(✓ kept, ✗ differs, ? not visible: a word and a symbol as well as a colour, since a projector washes colours out),
the promise, what the bundle asks, what the trace shows and the event that proves it; under a row that needs it,
why. The cursor opens on the first row that is not kept (a class sees the discrepancy first); n / p step between
such rows, a shows only them. The pane at the bottom shows the selected row's proving events as the event list
prints them; Enter closes the view and selects the first of them in the event list (and the details pane).

When the trace holds no bundle, the view says why in one sentence. The report is computed in a thread worker
(viz.spec_view.spec_for, the rows `boxtrace spec` prints) from the events on screen when the view opens; the view
answers with `dismiss(proving seqs)` or `dismiss(None)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from tracer.events import Event
from viz.spec_view import (
    DIFFERS,
    KEPT,
    LABEL_WIDTH,
    SpecReport,
    SpecRow,
    bundle_line,
    counts_text,
    no_rows_sentence,
    spec_for,
    verdict_text,
)

if TYPE_CHECKING:
    from viz.tui.model import TuiModel

#: Proving events listed in the bottom pane for the selected row.
MAX_PROOF_LINES = 4
#: Columns of the event number ("→ 309"), at least.
EVENT_WIDTH = 5
#: In presenter mode the table is at most this wide, centred.
PRESENT_MAX_WIDTH = 140
#: Below this width the request and the result sit one under the other beside the promise, labelled.
STACKED_WIDTH = 96


def row_grid(verdict: RenderableType, item: RenderableType, requested: RenderableType, applied: RenderableType,
             event: RenderableType, *, width: int, event_width: int = EVENT_WIDTH, item_width: int = 20) -> Table:
    """One line of the table: the same columns for the headings and for every row, so they line up."""
    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(width=LABEL_WIDTH + 2, no_wrap=True)
    if width < STACKED_WIDTH:
        grid.add_column(ratio=1)
        grid.add_column(width=event_width, no_wrap=True, justify="right")
        pair = Table.grid(padding=(0, 1), expand=True)
        pair.add_column(width=5, style="dim", no_wrap=True)
        pair.add_column(ratio=1)
        pair.add_row("asks", requested)
        pair.add_row("shows", applied)
        grid.add_row(verdict, Group(item, pair), event)
    else:
        grid.add_column(width=item_width)
        grid.add_column(ratio=1)
        grid.add_column(ratio=1)
        grid.add_column(width=event_width, no_wrap=True, justify="right")
        grid.add_row(verdict, item, requested, applied, event)
    return grid


def item_width(rows: list[SpecRow], width: int) -> int:
    """The promise column: as wide as the longest promise, within a fifth of the screen."""
    longest = max((len(row.item) for row in rows), default=10)
    return max(12, min(longest, width // 5))


def render_row(row: SpecRow, width: int, event_width: int = EVENT_WIDTH, items: int = 20) -> RenderableType:
    seq = f"→ {row.seqs[0]}" if row.seqs else "—"
    # Long words (capability names, paths) fold onto the next line rather than being cut.
    grid = row_grid(verdict_text(row.verdict, pad=True), Text(row.item, style="bold", overflow="fold"),
                    Text(row.requested, overflow="fold"), Text(row.applied, overflow="fold"),
                    Text(seq, style="dim" if not row.seqs else ""), width=width, event_width=event_width,
                    item_width=items)
    if not row.why:
        return grid
    why = Table.grid(expand=True)
    why.add_column(width=LABEL_WIDTH + 3)
    why.add_column(ratio=1)
    why.add_row("", Text(row.why, style="italic"))
    return Group(grid, why)


def render_headings(width: int, event_width: int = EVENT_WIDTH, items: int = 20) -> RenderableType:
    style = "bold underline"
    if width < STACKED_WIDTH:
        grid = Table.grid(padding=(0, 1), expand=True)
        grid.add_column(width=LABEL_WIDTH + 2, no_wrap=True)
        grid.add_column(ratio=1)
        grid.add_column(width=event_width, no_wrap=True, justify="right")
        grid.add_row(Text("verdict", style=style), Text("promise: what the bundle asks, what the trace shows",
                                                        style=style), Text("event", style=style))
        return grid
    return row_grid(Text("verdict", style=style), Text("promise", style=style),
                    Text("the bundle asks", style=style), Text("the trace shows", style=style),
                    Text("event", style=style), width=width, event_width=event_width, item_width=items)


class SpecRows(OptionList):
    """The rows. When the list changes size (the title above it wraps once the report is shown, the terminal is
    resized) the highlighted row is scrolled back into view."""

    def on_resize(self) -> None:
        self.call_after_refresh(self.scroll_to_highlight)


class SpecScreen(Screen[tuple[int, ...] | None]):
    """Dismissed with the selected row's proving events (Enter), or None (Esc, b)."""

    BINDINGS = [
        Binding("escape,b", "leave", "Back", id="spec-leave", tooltip="Back to where you were"),
        # Enter works too (the list's own select); `g` is what the footer can show.
        Binding("g", "jump", "Go to event", id="spec-jump",
                tooltip="Select the row's proving event in the event list (Enter does the same)"),
        Binding("n", "step(1)", "Next diff", id="spec-next", tooltip="Next row that is not kept"),
        Binding("p", "step(-1)", "Prev diff", id="spec-previous", tooltip="Previous row that is not kept"),
        Binding("a", "toggle_kept", "All/diffs", id="spec-all", tooltip="Every row, or only the rows not kept"),
        Binding("q", "app.quit", "Quit", id="spec-quit"),
        Binding("question_mark", "app.help", "Help", id="spec-help"),
    ]

    DEFAULT_CSS = """
    SpecScreen { layout: vertical; background: $background; }
    SpecScreen #spec-title { width: 100%; height: auto; padding: 0 1; background: $panel; }
    SpecScreen #spec-headings { width: 100%; height: auto; padding: 0 1; margin-right: 1; }
    SpecScreen #spec-rows {
        height: 1fr; max-height: 100%; border: none; padding: 0; scrollbar-size-vertical: 1;
        scrollbar-gutter: stable;
        & > .option-list--option { padding: 0 1; }
        & > .option-list--option-disabled { color: $accent; text-style: bold; }
    }
    SpecScreen #spec-proof {
        height: auto; max-height: 9; border-top: solid $primary 60%; padding: 0 1; overflow-y: auto;
    }
    /* Presenter mode: a projector's wide screen reads better in shorter lines (140: PRESENT_MAX_WIDTH). */
    SpecScreen #spec-table { height: 1fr; align-horizontal: center; }
    SpecScreen.-present #spec-headings, SpecScreen.-present #spec-rows { max-width: 140; }
    """

    @dataclass
    class Ready(Message):
        """The worker folded the trace into the report."""

        report: SpecReport

    def __init__(self, model: TuiModel, *, present: bool = False, tracing: bool = False) -> None:
        super().__init__()
        self.model = model
        self.present = present
        #: A live trace still running: the rows are those of the events so far.
        self.tracing = tracing
        self.report: SpecReport | None = None
        #: Show every row (True) or only those not kept.
        self.show_kept = True
        #: Option id -> row, for the rows on show.
        self._rows: dict[str, SpecRow] = {}
        self._width = 0

    @property
    def rows_list(self) -> OptionList:
        return self.query_one("#spec-rows", OptionList)

    def compose(self) -> ComposeResult:
        yield Static(Text("reading the bundle the runtime was given…", style="italic"), id="spec-title")
        with Vertical(id="spec-table"):
            yield Static(id="spec-headings")
            yield SpecRows(id="spec-rows")
        yield Static(id="spec-proof")
        yield Footer()

    def on_mount(self) -> None:
        self.set_class(self.present, "-present")
        events: list[Event] = list(self.model.events)
        if self.model.header is not None:
            events.insert(0, self.model.header)
        self.run_worker(lambda: self._fold(events), name="spec", group="spec", thread=True, exclusive=True,
                        exit_on_error=False)

    def _fold(self, events: list[Event]) -> None:
        """The worker: fold the events into the report; a fold that trips on a strange trace becomes a sentence."""
        try:
            report = spec_for(events)
        except Exception as error:  # noqa: BLE001 - shown to the user as one sentence
            reason = str(error).strip().rstrip(".") or type(error).__name__
            report = SpecReport(None, problem=f"the bundle could not be laid beside this trace: {reason}")
        self.post_message(self.Ready(report))

    def on_spec_screen_ready(self, message: Ready) -> None:
        """The rows are ready: show them, the cursor on the first row that is not kept."""
        self.report = message.report
        self.show_rows()
        self.refresh_bindings()

    def on_resize(self) -> None:
        if self.report is not None and self.size.width != self._width:
            self.show_rows(keep=self.selected_row)

    # Showing ---------------------------------------------------------------------------------------------

    def show_rows(self, keep: SpecRow | None = None) -> None:
        report = self.report
        assert report is not None
        self._width = self.size.width
        width = min(self._width, PRESENT_MAX_WIDTH) if self.present else self._width
        title = self.query_one("#spec-title", Static)
        headings = self.query_one("#spec-headings", Static)
        rows = self.rows_list
        proof = self.query_one("#spec-proof", Static)
        if report.bundle is None or report.problem:
            # One sentence in place of an empty table.
            title.update(Text("The bundle's promises against this trace", style="bold"))
            sentence = no_rows_sentence(report)
            if self.tracing:
                sentence += " The trace is still running: Esc, then b a little later, reads it again."
            headings.update(Text(sentence))
            rows.display = False
            proof.display = False
            return
        line = Text(bundle_line(report), style="bold")
        line.append(": ")
        line.append_text(counts_text(report))
        if self.tracing:
            line.append(" (so far: the trace is still running)", style="italic")
        title.update(line)
        last = max((seq for row in report.rows for seq in row.seqs[:1]), default=0)
        event_width = max(EVENT_WIDTH, len(str(last)) + 2)
        items = item_width(report.rows, width)
        headings.update(render_headings(width, event_width, items))
        rows.clear_options()
        self._rows = {}
        options: list[Option] = []
        section = None
        for index, row in enumerate(report.rows):
            if not self.show_kept and row.verdict == KEPT:
                continue
            if row.section != section:
                section = row.section
                options.append(Option(Text(section), id=f"section-{index}", disabled=True))
            option_id = f"row-{index}"
            self._rows[option_id] = row
            options.append(Option(render_row(row, width, event_width, items), id=option_id))
        if report.overlay is not None:
            # The image's layers under an overlay root (docker, containerd): facts, not promises, so last.
            options.append(Option(Text("overlay root: the image's layers"), id="overlay-heading", disabled=True))
            facts = Text("\n".join(report.overlay.facts()[1:]), overflow="fold")
            options.append(Option(facts, id="overlay"))
        rows.add_options(options)
        target = keep if keep is not None and keep in self._rows.values() else None
        if target is None:
            target = next((r for r in self._rows.values() if r.verdict != KEPT), None)
        if target is None and self._rows:
            target = next(iter(self._rows.values()))
        if target is not None:
            self.highlight(target)
        rows.focus()

    def option_id(self, row: SpecRow) -> str | None:
        return next((key for key, value in self._rows.items() if value is row), None)

    def highlight(self, row: SpecRow) -> None:
        """Put the cursor on `row`, scrolled so that it is on screen."""
        option_id = self.option_id(row)
        if option_id is None:
            return
        rows = self.rows_list
        rows.highlighted = rows.get_option_index(option_id)
        self.call_after_refresh(rows.scroll_to_highlight, top=False)

    @property
    def selected_row(self) -> SpecRow | None:
        rows = self.rows_list
        if rows.highlighted is None or not rows.display:
            return None
        option = rows.get_option_at_index(rows.highlighted)
        return self._rows.get(option.id or "")

    @on(OptionList.OptionHighlighted, "#spec-rows")
    def on_row_highlighted(self, message: OptionList.OptionHighlighted) -> None:
        """Show the highlighted row's why and its proving events in the bottom pane."""
        row = self._rows.get(message.option_id or "")
        proof = self.query_one("#spec-proof", Static)
        overlay = self.report.overlay if self.report is not None else None
        if message.option_id == "overlay" and overlay is not None:
            event = self.model.event(overlay.seq)
            head = Text(f"the overlay root, as the trace shows it — Enter shows event {overlay.seq} in the event "
                        "list", style="italic")
            line = self.model.line(event, with_pid=True) if event is not None else Text("")
            line.no_wrap, line.overflow = True, "ellipsis"
            proof.update(Group(head, line))
            return
        if row is None:
            proof.update("")
            return
        head = Text()
        head.append_text(verdict_text(row.verdict))
        head.append(f" {row.section} · {row.item}", style="bold")
        if row.seqs:
            head.append(f" — Enter shows event {row.seqs[0]} in the event list", style="italic")
        else:
            head.append(" — no event proves this row" + (" (see why above)" if row.why else ""), style="italic")
        lines = Table.grid(padding=(0, 1), expand=True)
        lines.add_column(width=6, justify="right", style="dim")
        lines.add_column(ratio=1)
        for seq in row.seqs[:MAX_PROOF_LINES]:
            event = self.model.event(seq)
            line = self.model.line(event, with_pid=True) if event is not None else Text("(not in this trace)")
            line.no_wrap, line.overflow = True, "ellipsis"
            lines.add_row(str(seq), line)
        if len(row.seqs) > MAX_PROOF_LINES:
            lines.add_row("", Text(f"… {len(row.seqs) - MAX_PROOF_LINES} more", style="dim"))
        text = Group(head, lines)
        proof.update(text)

    @on(OptionList.OptionSelected, "#spec-rows")
    def on_row_selected(self, message: OptionList.OptionSelected) -> None:
        """Enter (or a click) on a row: go to its proving event."""
        self.action_jump()

    # Keys ------------------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Without rows (no bundle in the trace) only Back, Quit and Help apply: the footer shows no others."""
        if action in ("jump", "step", "toggle_kept"):
            return bool(self.report is not None and self.report.rows and not self.report.problem)
        return True

    def action_jump(self) -> None:
        rows = self.rows_list
        overlay = self.report.overlay if self.report is not None else None
        if overlay is not None and rows.highlighted is not None and rows.display and \
                rows.get_option_at_index(rows.highlighted).id == "overlay":
            self.dismiss((overlay.seq,))
            return
        row = self.selected_row
        if row is None:
            return
        if not row.seqs:
            self.notify(f"no event proves “{row.item}”: {row.why or 'the trace does not show it'}",
                        severity="warning")
            return
        self.dismiss(row.seqs)

    def action_leave(self) -> None:
        self.dismiss(None)

    def action_step(self, delta: int) -> None:
        """n / p: the next (previous) row whose verdict is not kept, wrapping around."""
        rows = [r for r in self._rows.values() if r.verdict != KEPT]
        if not rows:
            self.notify("every promise of this bundle is kept in this trace")
            return
        current = self.selected_row
        order = list(self._rows.values())
        here = order.index(current) if current in order else -1
        after = [r for r in rows if (order.index(r) - here) * delta > 0]
        target = (after[0] if delta > 0 else after[-1]) if after else (rows[0] if delta > 0 else rows[-1])
        self.highlight(target)

    def action_toggle_kept(self) -> None:
        if self.report is None or self.report.bundle is None:
            return
        self.show_kept = not self.show_kept
        self.show_rows(keep=self.selected_row)
        if not self.show_kept:
            shown = sum(1 for r in self._rows.values() if r.verdict != KEPT)
            differs = sum(1 for r in self._rows.values() if r.verdict == DIFFERS)
            self.notify(f"showing the {shown} rows not kept ({differs} differ); a shows every row")
