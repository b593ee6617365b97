"""JSON Lines recordings: write events as they happen, load them back with line-precise errors.

A recording is one JSON object per line: a header, then events, then (when the tracer ended normally) an end line.
Each line is written whole and reaches the disk within 50 ms (see Recorder), so a tracer killed mid-trace leaves
a readable prefix; the loader accepts that prefix with a warning.
"""

from __future__ import annotations

import io
import json
import os
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from tracer.events import SCHEMA_VERSION, End, Event, EventFormatError, Header, event_from_json

#: A line longer than this is not a boxtrace event (argv is capped far below it); refusing it bounds memory.
MAX_LINE_BYTES = 8 * 1024 * 1024


class RecordingError(Exception):
    """A file that cannot be read as a boxtrace recording. The message is one sentence for the user."""


@dataclass
class Recording:
    """A loaded recording: its header, its events in order, and what the loader had to warn about."""

    header: Header
    events: list[Event]
    warnings: list[str] = field(default_factory=list)
    path: str | None = None

    @property
    def end(self) -> End | None:
        last = self.events[-1] if self.events else None
        return last if isinstance(last, End) else None

    @property
    def complete(self) -> bool:
        return self.end is not None


class Recorder:
    """Writes events to a JSON Lines file, one line per event, on disk within FLUSH_INTERVAL seconds.

    Flushing each line cost a write(2) per event (a fifth of a --filter all trace's time), so lines go through a
    64 KiB buffer that a small thread flushes every FLUSH_INTERVAL while there is something in it: a trace that
    goes quiet (a container sleeping) has its events on disk anyway, a tracer killed now loses at most the last
    FLUSH_INTERVAL of events, and the loader accepts the cut last line. The file is binary underneath because
    io.BufferedWriter is safe to flush from another thread (a TextIOWrapper is not).
    """

    FLUSH_INTERVAL = 0.05

    def __init__(self, target: str | os.PathLike[str] | IO[str]) -> None:
        self._binary: IO[bytes] | None = None
        self._text: IO[str] | None = None
        self._flusher: threading.Thread | None = None
        self._closed = threading.Event()
        if isinstance(target, (str, os.PathLike)):
            self._binary = open(target, "wb", buffering=65536)  # noqa: SIM115
            self._flusher = threading.Thread(target=self._flush_while_open, name="recorder-flush", daemon=True)
            self._flusher.start()
        else:
            self._text = target

    def _flush_while_open(self) -> None:
        binary = self._binary
        assert binary is not None
        while not self._closed.wait(self.FLUSH_INTERVAL):
            try:
                binary.flush()
            except (OSError, ValueError):  # disk full, or closed under us: the writer reports it
                return

    def write(self, event: Event) -> None:
        line = _ENCODER.encode(event.to_json()) + "\n"
        if self._binary is not None:
            self._binary.write(line.encode())  # ensure_ascii: the line is ASCII
        else:
            assert self._text is not None
            self._text.write(line)
            self._text.flush()

    def write_many(self, events: Iterable[Event]) -> None:
        text = "".join(encode_event(e) + "\n" for e in events)
        if self._binary is not None:
            self._binary.write(text.encode())
            self._binary.flush()
        else:
            assert self._text is not None
            self._text.write(text)
            self._text.flush()

    def close(self) -> None:
        self._closed.set()
        if self._flusher is not None:
            self._flusher.join()
            self._flusher = None
        if self._binary is not None:
            self._binary.close()
        elif self._text is not None:
            self._text.flush()

    def __call__(self, event: Event) -> None:
        self.write(event)


# One encoder for every line: json.dumps with arguments builds a new encoder per call. ensure_ascii (the default)
# keeps non-UTF-8 bytes (decoded with backslashreplace upstream) and control characters safe.
_ENCODER = json.JSONEncoder(separators=(",", ":"), default=str)
_DECODER = json.JSONDecoder()


def encode_event(event: Event) -> str:
    return _ENCODER.encode(event.to_json())


def iter_recording(source: str | os.PathLike[str] | IO[bytes], *, strict: bool = False) -> Iterator[Event]:
    """Yield the events of a recording one by one (header first).

    Raises RecordingError naming the line for anything malformed, except a truncated last line, which is dropped
    with a warning event unless `strict`.
    """
    recording_warnings: list[str] = []
    yield from _parse(source, recording_warnings, strict=strict)


def load_recording(source: str | os.PathLike[str] | IO[bytes], *, strict: bool = False) -> Recording:
    """Load a whole recording. See `iter_recording` for what is refused."""
    warnings: list[str] = []
    events = list(_parse(source, warnings, strict=strict))
    header = events.pop(0)
    assert isinstance(header, Header)
    path = str(source) if isinstance(source, (str, os.PathLike)) else None
    if not events or not isinstance(events[-1], End):
        warnings.append("the recording has no end line: the tracer was stopped before it finished")
    return Recording(header=header, events=events, warnings=warnings, path=path)


def _open(source: str | os.PathLike[str] | IO[bytes]) -> tuple[IO[bytes], str, bool]:
    if isinstance(source, (str, os.PathLike)):
        name = str(source)
        try:
            return open(source, "rb"), name, True  # noqa: SIM115
        except FileNotFoundError:
            raise RecordingError(f"{name}: no such file") from None
        except IsADirectoryError:
            raise RecordingError(f"{name}: is a directory, not a recording") from None
        except PermissionError:
            raise RecordingError(f"{name}: permission denied") from None
    if isinstance(source, io.TextIOBase):
        raise TypeError("open recordings in binary mode")
    return source, getattr(source, "name", "<recording>"), False


def _parse(source: str | os.PathLike[str] | IO[bytes], warnings: list[str], *, strict: bool) -> Iterator[Event]:
    handle, name, owned = _open(source)
    try:
        lineno = 0
        seen_header = False
        last_seq = -1
        pending_error: str | None = None
        while True:
            raw = handle.readline(MAX_LINE_BYTES + 1)
            if not raw:
                break
            lineno += 1
            if pending_error is not None:
                # The bad line was not the last one, so it is corruption, not truncation.
                raise RecordingError(pending_error)
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                raise RecordingError(f"{name}: line {lineno} is longer than {MAX_LINE_BYTES} bytes")
            truncated = not raw.endswith(b"\n")
            text = raw.strip()
            if not text:
                continue
            try:
                data = _DECODER.decode(text.decode("utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError) as error:
                if not seen_header:
                    raise RecordingError(
                        f"{name}: line {lineno} is not JSON: this is not a boxtrace recording"
                    ) from None
                message = f"{name}: line {lineno} is not valid JSON ({_short(error)})"
                if truncated and not strict:
                    warnings.append(f"line {lineno} is cut short (the tracer was stopped mid-write); ignored it")
                    continue
                pending_error = message
                continue
            if not seen_header:
                header = _header(data, name, lineno)
                last_seq = header.seq
                seen_header = True
                yield header
                continue
            try:
                event = event_from_json(data)
            except (EventFormatError, TypeError) as error:
                raise RecordingError(f"{name}: line {lineno}: {_short(error)}") from None
            if event.seq <= last_seq:
                raise RecordingError(
                    f"{name}: line {lineno}: event {event.seq} comes after event {last_seq}: the lines are out of order"
                )
            last_seq = event.seq
            yield event
        if pending_error is not None:
            raise RecordingError(pending_error)
        if not seen_header:
            raise RecordingError(f"{name}: the file is empty, not a boxtrace recording")
    finally:
        if owned:
            handle.close()


def _header(data: object, name: str, lineno: int) -> Header:
    if not isinstance(data, dict) or data.get("type") != "header":
        raise RecordingError(f"{name}: line {lineno} is not a boxtrace header: this is not a boxtrace recording")
    schema = data.get("schema")
    if schema is None:
        raise RecordingError(
            f"{name}: line {lineno}: the header has no schema number, so this is not a recording boxtrace wrote "
            f"(this boxtrace reads schema {SCHEMA_VERSION})"
        )
    if schema != SCHEMA_VERSION:
        raise RecordingError(
            f"{name}: line {lineno}: recording schema {schema!r} is not supported (this boxtrace reads schema "
            f"{SCHEMA_VERSION})"
        )
    try:
        event = event_from_json(data)
    except (EventFormatError, TypeError) as error:
        raise RecordingError(f"{name}: line {lineno}: {_short(error)}") from None
    assert isinstance(event, Header)
    return event


def _short(error: Exception) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text[:200]


def save_recording(path: str | Path, header: Header, events: Iterable[Event]) -> None:
    """Write a whole recording at once (used by import-strace and tests that transform recordings)."""
    recorder = Recorder(path)
    try:
        recorder.write(header)
        recorder.write_many(events)
    finally:
        recorder.close()
