"""The event list (centre pane): decoded syscalls coloured by category, virtualised with the Line API.

Only the lines on screen are rendered (`render_line`), from a list of seqs, so 100 000 events scroll like 100.
Rendered text is cached per event; the cursor, the walkthrough highlight and search matches are applied on top.
"""

from __future__ import annotations

import bisect
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

from viz.tui.model import TraceModel

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
    ]

    COMPONENT_CLASSES = {
        "event-list--cursor",
        "event-list--marked",
        "event-list--match",
        "event-list--time",
    }

    DEFAULT_CSS = """
    EventList {
        scrollbar-gutter: stable;
        overflow: auto auto;
        & > .event-list--cursor { background: $accent 35%; text-style: bold; }
        & > .event-list--marked { background: $warning 25%; }
        & > .event-list--match { background: $secondary; color: $text; }
        & > .event-list--time { color: $foreground 45%; }
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

    def __init__(self, model: TraceModel, *, id: str | None = None) -> None:
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

    # Content -----------------------------------------------------------------------------------------------

    def show(self, seqs: list[int], *, with_pid: bool, keep: int | None = None) -> None:
        """Replace the list; keep the cursor on `keep` (or the nearest later event) when it is given."""
        self.seqs = seqs
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
        self.seqs.extend(new)
        self._update_virtual_size()
        if following:
            self.cursor = len(self.seqs) - 1
            self._scroll_to_cursor()
            self._cursor_moved()
        elif was_empty:
            self._cursor_moved()
        self.refresh()

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
        """Put the cursor on an event; False if the list does not show it."""
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
            self.move_cursor(int(self.scroll_offset.y) + offset.y)

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

    def _strip(self, seq: int) -> Strip:
        """The line of an event without any background: cached, since rendering text is the costly part."""
        query = self.search_text
        key = (seq, self.with_pid, query)
        strip = self._strips.get(key)
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
        elif seq in self.marked:
            style = base + self.get_component_rich_style("event-list--marked")
        strip = self._strip(seq)
        if strip.cell_length > self._max_width:
            self._max_width = strip.cell_length
            self.call_later(self._widened)
        return strip.apply_style(style).crop_extend(int(scroll_x), int(scroll_x) + width, style)
