"""The search bar: `/` opens it, Enter jumps to the next event whose text contains the query."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input


class SearchBar(Input):
    DEFAULT_CSS = """
    SearchBar { dock: bottom; display: none; }
    SearchBar.-active { display: block; }
    """

    BINDINGS = [Binding("escape", "close", "Close search", show=False)]

    class Closed(Message):
        """The search bar was closed with Escape."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(placeholder="search event text (Enter: next match, Esc: close)", id=id)

    def open(self) -> None:
        self.add_class("-active")
        self.focus()

    def action_close(self) -> None:
        self.remove_class("-active")
        self.post_message(self.Closed())
