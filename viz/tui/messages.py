"""Messages the tracer worker and the export worker send to the app.

Workers run on their own threads, where almost nothing in Textual is safe to call; `post_message` is. So each
worker only posts these small dataclasses and the app's handlers update state on the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual.message import Message

from tracer.events import Event
from tracer.source import TraceResult


@dataclass
class EventsArrived(Message):
    """A batch of events from the live tracer, in seq order (batched: every 50 ms or 500 events)."""

    events: list[Event]


@dataclass
class TraceFinished(Message):
    """The live trace ended (the command exited, or the user stopped it)."""

    result: TraceResult


@dataclass
class TracerFailed(Message):
    """The live trace could not start or went wrong; `error` is shown to the user as one line."""

    error: BaseException


@dataclass
class ExportDone(Message):
    """The architecture diagram was written (`paths`) or could not be (`error`)."""

    paths: list[Path]
    error: str | None = None


@dataclass
class SearchDone(Message):
    """Where a search landed: the seq of the matching event, or None when nothing matched."""

    query: str
    seq: int | None
    direction: int
    wrapped: bool = False
    #: The match is hidden by the current filter, which the screen widens to show it.
    widened: bool = False
