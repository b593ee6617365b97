"""The event list (centre pane): decoded syscalls coloured by category, virtualised with the Line API.

Only the lines on screen are rendered (`render_line`), from a list of rows, so 100 000 events scroll like 100.
Rendered text is cached per event; the cursor, the walkthrough highlight and search matches are applied on top.

In the container view runs of routine events (viz.console.noise_kind: Go runtime thread starts and SIGURG
preemption, seccomp and capability feature probes and limit reads, PATH-search misses) fold into one row that names how many of
what it holds; Enter (or a click on it) unfolds it. A row is keyed by the seq of its first event, so a folded row
sits where its first event would, and the all-events view (`a`) shows every event unfolded.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from viz.console import fold_text
from viz.tui.model import TuiModel, noise_kind

#: Longer lines are cut (with …) in the list; the details pane shows the whole call.
MAX_LINE_CELLS = 400


class EventList(ScrollView, can_focus=True):
    """A cursor over a list of event seqs. Posts `EventList.CursorMoved` when the selected event changes."""

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
        Binding("enter", "unfold", "Unfold", show=False),
    ]

    COMPONENT_CLASSES = {
        "event-list--cursor",
        "event-list--marked",
        "event-list--match",
        "event-list--time",
        "event-list--fold",
    }

    DEFAULT_CSS = """
    EventList {
        scrollbar-gutter: stable;
        overflow: auto auto;
        & > .event-list--cursor { background: $accent 35%; text-style: bold; }
        & > .event-list--marked { background: $warning 25%; }
        & > .event-list--match { background: $secondary; color: $text; }
        & > .event-list--time { color: $foreground 45%; }
        & > .event-list--fold { color: $foreground 55%; text-style: italic; }
        &:focus > .event-list--cursor { background: $accent 60%; }
    }
    """

    @dataclass
    class CursorMoved(Message):
        """The selected event changed (None: the list is empty)."""

        event_list: EventList
        seq: int | None

        @property
        def control(self) -> EventList:
            return self.event_list

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, EventList.CursorMoved)

    def __init__(self, model: TuiModel, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.model = model
        self.seqs: list[int] = []
        self._index: dict[int, int] = {}
        self.cursor = 0
        self.with_pid = False
        self.marked: frozenset[int] = frozenset()
        self.search_text = ""
        self._texts: LRUCache[tuple[int, bool], Text] = LRUCache(4096)
        self._strips: LRUCache[tuple[int, bool, str], Strip] = LRUCache(2048)
        self._max_width = 0
        #: The last move centred the cursor (a chapter, a search): a resize centres it again.
        self._centered = False
        #: Whether runs of routine events fold; the folded rows (first seq -> every seq of the run) and, for each
        #: folded seq after the first, the first seq of its row.
        self.folding = False
        self.folds: dict[int, list[int]] = {}
        self._fold_of: dict[int, int] = {}
        #: Rows the user unfolded (by first seq): they stay open when the list is rebuilt.
        self.unfolded: set[int] = set()
        #: Every event the list stands for, folded or not (the "N shown" count).
        self.event_count = 0

    # Content -----------------------------------------------------------------------------------------------

    def show(self, seqs: list[int], *, with_pid: bool, keep: int | None = None, fold: bool = False) -> None:
        """Replace the list; keep the cursor on `keep` (or the nearest later event) when it is given. `fold`
        folds runs of routine events."""
        self.folding = fold
        self.folds = {}
        self._fold_of = {}
        self.seqs = []
        self.event_count = 0
        self._add_rows(seqs)
        if keep is not None:
            self._unfold_containing(keep)
        self._index = {}
        self.with_pid = with_pid
        self._max_width = 0
        cursor = 0
        if keep is not None and seqs:
            cursor = self._nearest(keep)
        self.cursor = cursor
        self._update_virtual_size()
        self._center_cursor()
        self.refresh()
        self._cursor_moved()

    def append(self, seqs: Iterable[int]) -> None:
        """New events of a live trace that belong in this list; a cursor on the last line follows them."""
        new = list(seqs)
        if not new:
            return
        following = bool(self.seqs) and self.cursor == len(self.seqs) - 1
        was_empty = not self.seqs
        self._add_rows(new)
        self._update_virtual_size()
        if following:
            self.cursor = len(self.seqs) - 1
            self._scroll_to_cursor()
            self._cursor_moved()
        elif was_empty:
            self._cursor_moved()
        self.refresh()

    def _add_rows(self, seqs: Iterable[int]) -> None:
        """Append events as rows: a routine event joins the folded row before it, or folds with the routine
        event before it into a new row; anything else gets its own row."""
        rows = self.seqs
        folds = self.folds
        model = self.model
        for seq in seqs:
            self.event_count += 1
            if self.folding and rows:
                event = model.event(seq)
                if event is not None and noise_kind(event) is not None:
                    last = rows[-1]
                    if last in folds:
                        folds[last].append(seq)
                        self._fold_of[seq] = last
                        continue
                    if last not in self.unfolded:
                        previous = model.event(last)
                        if previous is not None and noise_kind(previous) is not None:
                            folds[last] = [last, seq]
                            self._fold_of[seq] = last
                            self._strips_for(last)
                            continue
            rows.append(seq)
        # A row the user unfolded earlier is shown as its events.
        for first in [f for f in folds if f in self.unfolded]:
            self._expand(first)

    def _strips_for(self, seq: int) -> None:
        """Forget the cached look of a row that became a folded row."""
        for key in [k for k in self._strips.keys() if k[0] == seq]:
            self._strips.discard(key)

    def _expand(self, first: int) -> bool:
        run = self.folds.pop(first, None)
        if run is None:
            return False
        for seq in run[1:]:
            self._fold_of.pop(seq, None)
        self._strips_for(first)
        at = bisect.bisect_left(self.seqs, first)
        self.seqs[at:at + 1] = run
        self._index = {}
        return True

    def _unfold_containing(self, seq: int) -> None:
        first = self._fold_of.get(seq, seq if seq in self.folds else None)
        if first is not None and self._expand(first):
            self.unfolded.add(first)

    def fold_at(self, index: int) -> list[int] | None:
        """The events of a folded row, or None for a row of one event."""
        if 0 <= index < len(self.seqs):
            return self.folds.get(self.seqs[index])
        return None

    def action_unfold(self) -> None:
        """Enter on a folded row: show the events it holds."""
        if self.fold_at(self.cursor) is None:
            return
        first = self.seqs[self.cursor]
        self.unfolded.add(first)
        self._expand(first)
        self._update_virtual_size()
        self.refresh()
        self._cursor_moved()

    def all_seqs(self) -> list[int]:
        """Every event the list stands for, folded rows opened, in order."""
        out: list[int] = []
        for seq in self.seqs:
            out.extend(self.folds.get(seq, (seq,)))
        return out

    @property
    def folded_count(self) -> int:
        return sum(len(run) for run in self.folds.values())

    def set_marked(self, seqs: Iterable[int]) -> None:
        self.marked = frozenset(seqs)
        self.refresh()

    def set_query(self, query: str) -> None:
        self.search_text = query
        self._strips.clear()
        self.refresh()

    @property
    def selected_seq(self) -> int | None:
        return self.seqs[self.cursor] if 0 <= self.cursor < len(self.seqs) else None

    def index_of(self, seq: int) -> int | None:
        if len(self._index) != len(self.seqs):
            self._index = {s: i for i, s in enumerate(self.seqs)}
        return self._index.get(seq)

    def select(self, seq: int, *, center: bool = True) -> bool:
        """Put the cursor on an event (unfolding the row that holds it); False if the list does not show it."""
        if seq in self._fold_of or (seq in self.folds):
            self._unfold_containing(seq)
            self._update_virtual_size()
        index = self.index_of(seq)
        if index is None:
            return False
        self.move_cursor(index, center=center)
        return True

    def _nearest(self, seq: int) -> int:
        index = self.index_of(seq)
        if index is not None:
            return index
        return min(bisect.bisect_left(self.seqs, seq), len(self.seqs) - 1)

    # Cursor ------------------------------------------------------------------------------------------------

    def move_cursor(self, index: int, *, center: bool = False) -> None:
        if not self.seqs:
            return
        index = max(0, min(index, len(self.seqs) - 1))
        changed = index != self.cursor
        self.cursor = index
        if center:
            self._center_cursor()
        else:
            self._centered = False
            self._scroll_to_cursor()
        self.refresh()
        if changed or center:
            self._cursor_moved()

    def _center_cursor(self) -> None:
        """Scroll so that the cursor's line is in the middle of the pane, now and once more after the next
        layout: a new list, or a pane that another pane's appearance (the walkthrough) just made shorter, only
        has its final height then, and a scroll before it would be clamped to the old size."""
        self._centered = True
        self._scroll_cursor_to_middle()
        self.call_after_refresh(self._scroll_cursor_to_middle)

    def _scroll_cursor_to_middle(self, retries: int = 2) -> None:
        self._update_virtual_size()
        target = max(0, self.cursor - (self._page_height() - 1) // 2)
        self.scroll_to(y=target, animate=False, immediate=True, force=True)
        if target > self.max_scroll_y and retries:
            # Clamped: the scrollbars of the new size settle in the next layout; place it again after that.
            self.call_after_refresh(self._scroll_cursor_to_middle, retries - 1)

    def on_resize(self, event: events.Resize) -> None:
        """The pane changed height: keep the cursor where it was meant to be (centred, or at least visible)."""
        self._update_virtual_size()
        self._keep_cursor_in_view()

    def _cursor_moved(self) -> None:
        self.post_message(self.CursorMoved(self, self.selected_seq))

    def _page_height(self) -> int:
        return max(1, self.scrollable_content_region.height)

    def _scroll_to_cursor(self) -> None:
        top = int(self.scroll_offset.y)
        height = self._page_height()
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    def action_cursor(self, delta: int) -> None:
        self.move_cursor(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self.move_cursor(self.cursor + direction * self._page_height())

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(len(self.seqs) - 1)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is not None:
            index = int(self.scroll_offset.y) + offset.y
            if index == self.cursor and self.fold_at(index) is not None:
                self.action_unfold()
            else:
                self.move_cursor(index)

    # Rendering ---------------------------------------------------------------------------------------------

    def _update_virtual_size(self) -> None:
        self.virtual_size = Size(max(self._max_width, self.scrollable_content_region.width), len(self.seqs))

    def _widened(self) -> None:
        """A wider line came on screen: the horizontal scrollbar may have appeared and taken a line, so the
        cursor is placed again."""
        self._update_virtual_size()
        self.call_after_refresh(self._keep_cursor_in_view)

    def _keep_cursor_in_view(self) -> None:
        if self._centered:
            self._scroll_cursor_to_middle()
        else:
            self._scroll_to_cursor()

    def _text(self, seq: int) -> Text:
        key = (seq, self.with_pid)
        text = self._texts.get(key)
        if text is None:
            event = self.model.event(seq)
            if event is None:
                text = Text(f"<event {seq} missing>")
            else:
                text = Text.assemble((f"{event.t:9.3f} ", self.get_component_rich_style("event-list--time")))
                text.append_text(self.model.line(event, with_pid=self.with_pid))
                if text.cell_len > MAX_LINE_CELLS:  # the details pane has the whole call
                    text.truncate(MAX_LINE_CELLS - 1)
                    text.append("…", style="dim")
            self._texts[key] = text
        return text

    def _fold_line(self, run: list[int]) -> Text:
        first = self.model.event(run[0])
        kinds: Counter[str] = Counter()
        for seq in run:
            event = self.model.event(seq)
            kind = noise_kind(event) if event is not None else None
            if kind is not None:
                kinds[kind] += 1
        t = first.t if first is not None else 0.0
        text = Text.assemble((f"{t:9.3f} ", self.get_component_rich_style("event-list--time")))
        if self.with_pid:
            text.append(" " * 8)
        text.append(fold_text(kinds), style=self.get_component_rich_style("event-list--fold"))
        text.append("  (Enter unfolds)", style="dim")
        return text

    def _strip(self, seq: int) -> Strip:
        """The line of an event without any background: cached, since rendering text is the costly part."""
        query = self.search_text
        run = self.folds.get(seq)
        key = (seq, self.with_pid, query if run is None else f"\0fold{len(run)}")
        strip = self._strips.get(key)
        if strip is None and run is not None:
            text = self._fold_line(run)
            strip = Strip(text.render(self.app.console), text.cell_len)
            self._strips[key] = strip
        if strip is None:
            text = self._text(seq)
            if query and query.lower() in text.plain.lower():
                text = text.copy()
                text.highlight_words([query], self.get_component_rich_style("event-list--match"),
                                     case_sensitive=False)
            strip = Strip(text.render(self.app.console), text.cell_len)
            self._strips[key] = strip
        return strip

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._texts.clear()
        self._strips.clear()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = int(scroll_y) + y
        width = self.scrollable_content_region.width
        base = self.rich_style
        if index >= len(self.seqs):
            return Strip.blank(width, base)
        seq = self.seqs[index]
        style = base
        if index == self.cursor:
            style = base + self.get_component_rich_style("event-list--cursor")
        elif seq in self.marked or (seq in self.folds and not self.marked.isdisjoint(self.folds[seq])):
            style = base + self.get_component_rich_style("event-list--marked")
        strip = self._strip(seq)
        if strip.cell_length > self._max_width:
            self._max_width = strip.cell_length
            self.call_later(self._widened)
        return strip.apply_style(style).crop_extend(int(scroll_x), int(scroll_x) + width, style)
