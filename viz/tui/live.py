"""A live trace inside the TUI: the tracer on one worker thread, its events batched into messages.

ptrace belongs to the thread that made the calls, so the whole trace (the event source's `run`, handed over by the
CLI: see tracer.source.EventSource) happens on one Textual thread worker. That thread must never wait for the
screen: its sink, `EventPump`, only appends to a list; a small timer thread posts the list as one `EventsArrived`
at most every 0.2 s (`MIN_POST_GAP`; the first events after a quiet moment within 50 ms), and less often while the
app is behind. Each batch costs the app a screen update (a layout and a repaint of every pane), so on a busy trace
fewer, larger batches leave the tracer thread more of the interpreter: with a batch every 50 ms or 500 events the
app's updates took most of a CPU and slowed a `--filter all` trace by up to 2x (bench/live_tui.py measures it).
Every `FREEZE_EVERY` events the pump also moves what the process holds into the collector's permanent generation
(`gc.freeze()`, after a young collection): the events and the model built from them are acyclic and live as long as
the app, but a full collection would walk all of them, holding the interpreter for a time that grows with the trace
(0.3 s at 100k events, measured), and the screen stopped for that long. Freezing only every so many events keeps
what a freeze can strand (cyclic garbage that was still alive at that moment) to a few bytes an event. The first
batch freezes at once, taking the app's own heap (Textual and every module) out of the collections too.
Stopping travels the other way through the source's `request_stop` (a `threading.Event` inside the tracer): launch
mode kills its tracees, attach mode detaches from them.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable

from textual.message import Message

from tracer.events import Event
from tracer.source import EventSource, TraceResult
from viz.tui.messages import EventsArrived, TraceFinished, TracerFailed

#: The timer thread looks at the waiting events this often...
BATCH_INTERVAL = 0.05
#: ...and posts them if the last batch went at least this long ago (the screen stays well within 0.5 s of the
#: tracer, issue 21)...
MIN_POST_GAP = 0.2
#: ...or the tracer thread posts them as soon as this many wait.
BATCH_SIZE = 20_000
#: After this many events have been posted, freeze the collector's view of the heap (see the module docstring).
FREEZE_EVERY = 10_000
#: While the app has more than this many messages queued, let batches grow instead of adding to the queue.
MAX_QUEUED_MESSAGES = 20


class EventPump:
    """The tracer's sink: collects events on the tracer thread, posts them in batches from a timer thread.

    Posting happens under the lock, so batches arrive in the order the tracer produced them.
    """

    def __init__(self, post: Callable[[Message], object], queue_size: Callable[[], int] = lambda: 0,
                 *, interval: float = BATCH_INTERVAL, batch_size: int = BATCH_SIZE, min_gap: float = MIN_POST_GAP,
                 freeze_every: int = FREEZE_EVERY, on_tick: Callable[[], None] | None = None) -> None:
        self._post = post
        self._queue_size = queue_size
        self._interval = interval
        self._batch_size = batch_size
        self._min_gap = min_gap
        self._last_post = 0.0
        self._freeze_every = freeze_every
        #: The first batch freezes at once: the app's own heap (Textual, the modules) is as old as it gets.
        self._unfrozen = freeze_every
        self._on_tick = on_tick
        self._lock = threading.Lock()
        self._pending: list[Event] = []
        self._closed = threading.Event()
        self.posted_batches = 0
        self._timer = threading.Thread(target=self._tick, name="boxtrace-event-pump", daemon=True)
        self._timer.start()

    def __call__(self, event: Event) -> None:
        with self._lock:
            self._pending.append(event)
            if len(self._pending) >= self._batch_size and self._queue_size() <= MAX_QUEUED_MESSAGES:
                self._flush_locked()

    def flush(self) -> None:
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        if self._pending:
            batch, self._pending = self._pending, []
            self._post(EventsArrived(batch))
            self.posted_batches += 1
            self._last_post = time.monotonic()
            self._unfrozen += len(batch)
            if self._freeze_every and self._unfrozen >= self._freeze_every:
                self._unfrozen = 0
                gc.collect(1)
                gc.freeze()

    def _tick(self) -> None:
        while not self._closed.wait(self._interval):
            if self._on_tick is not None:
                self._on_tick()
            if time.monotonic() - self._last_post >= self._min_gap and self._queue_size() <= MAX_QUEUED_MESSAGES:
                self.flush()

    def close(self) -> None:
        """Stop the timer and post what is left (call from the tracer thread once the trace has ended)."""
        self._closed.set()
        self._timer.join()
        self.flush()


class LiveTrace:
    """One live trace for the app: the event source the CLI handed over, its result, and a stop from any thread."""

    def __init__(self, source: EventSource) -> None:
        self.source = source
        self.result: TraceResult | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()
        self._stop = threading.Event()

    @property
    def program_output(self) -> str | None:
        return self.source.program_output

    @property
    def output(self) -> str | None:
        """The recording being written, if any."""
        return self.source.recording_path

    @property
    def launches(self) -> bool:
        return self.source.launches

    def describe(self) -> str:
        return self.source.description

    def run(self, post: Callable[[Message], object], queue_size: Callable[[], int] = lambda: 0,
            cancelled: threading.Event | None = None) -> TraceResult | None:
        """Trace to the end on the calling thread, posting EventsArrived batches, then TraceFinished or
        TracerFailed. `cancelled` (the worker's event) set from outside stops the trace too."""

        def watch_cancel() -> None:
            if cancelled is not None and cancelled.is_set():
                self.request_stop()

        pump = EventPump(post, queue_size, on_tick=watch_cancel)
        try:
            result = self.source.run(pump)
        except BaseException as error:  # noqa: BLE001 - every failure becomes a message for the user
            self.error = error
            pump.close()
            post(TracerFailed(error))
            return None
        else:
            self.result = result
            pump.close()
            post(TraceFinished(result))
            return result
        finally:
            self.done.set()

    def request_stop(self) -> None:
        """Ask the trace to end (any thread): launched tracees are killed, attached ones detached."""
        self._stop.set()
        if not self.done.is_set():
            self.source.request_stop()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the trace has ended (for callers outside the event loop)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.done.wait(0.05):
            if deadline is not None and time.monotonic() > deadline:
                return False
        return True
