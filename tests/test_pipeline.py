"""The tracer in a child process (tracer/pipeline.py): same events as in-process, stop requests, errors, sinks."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from tests.prereqs import require
from tracer.engine import CommandNotFound, TraceOptions
from tracer.events import End, Event, Exec, Notice, Status, Syscall
from tracer.pipeline import event_of, record_of
from tracer.recording import encode_event, load_recording
from tracer.session import TraceSession

pytestmark = pytest.mark.root

#: Builtins only: one process, so the order of its events is the same in every run.
SCRIPT = "echo hi > /dev/null; cd /nonexistent-boxtrace 2>/dev/null; true"


@pytest.fixture(autouse=True)
def _needs_root() -> None:
    require(os.geteuid() == 0, "tracing needs root")


def _trace(tmp_path: Path, name: str, *, separate: bool, command: list[str], **options: object
           ) -> tuple[list[Event], list[Event]]:
    events: list[Event] = []
    out = tmp_path / f"{name}.jsonl"
    session = TraceSession(command, None, TraceOptions(**options), out, sinks=[events.append],
                           separate_process=separate)
    session.run()
    recording = load_recording(out, strict=True)
    return events, [recording.header, *recording.events]


def _shape(events: list[Event]) -> list[tuple[object, ...]]:
    """What does not change from run to run: the kind, the call, its failure and its decoded path or fd."""
    out = []
    for event in events:
        if isinstance(event, Syscall):
            args = event.args
            out.append(("syscall", event.name, event.error, event.category, args.get("path"), args.get("fd"),
                        sorted(args)))
        elif isinstance(event, Notice):
            out.append(("notice", event.level))
        else:
            out.append((event.type,))
    return out


def test_the_child_records_what_the_engine_records_in_process(tmp_path: Path) -> None:
    command = ["/bin/sh", "-c", SCRIPT]
    inline, inline_file = _trace(tmp_path, "inline", separate=False, command=command, filter="all")
    child, child_file = _trace(tmp_path, "child", separate=True, command=command, filter="all")
    assert _shape(child) == _shape(inline)
    # What the sinks got is what the file holds, event for event, and the numbering has no gap.
    assert [encode_event(e) for e in child] == [encode_event(e) for e in child_file]
    assert [e.seq for e in child] == list(range(len(child)))
    assert isinstance(child[-1], End) and child[-1].status == Status.COMPLETED and child[-1].exit_code == 0
    syscalls = [e for e in child if isinstance(e, Syscall)]
    assert any(e.name == "write" and e.args.get("path") == "/dev/null" for e in syscalls)
    assert any(e.error == "ENOENT" for e in syscalls)
    # The launched program was the child's child: its parent is the tracer process, not this one.
    assert any(isinstance(e, Exec) and e.argv[:2] == ["/bin/sh", "-c"] for e in child)


def test_records_round_trip_every_syscall_field(tmp_path: Path) -> None:
    events, _ = _trace(tmp_path, "rt", separate=False, command=["/bin/sh", "-c", SCRIPT], filter="all")
    syscalls = [e for e in events if isinstance(e, Syscall)]
    assert syscalls
    for event in syscalls:
        back = event_of(record_of(event))
        assert back == event
        assert type(back.category) is type(event.category)
        assert encode_event(back) == encode_event(event)


def test_a_stop_request_ends_the_child_trace_and_kills_what_it_launched(tmp_path: Path) -> None:
    events: list[Event] = []
    session = TraceSession(["sleep", "30"], None, TraceOptions(), tmp_path / "stop.jsonl", sinks=[events.append],
                           separate_process=True)
    threading.Timer(0.5, session.request_stop, args=("stopped by the test",)).start()
    started = time.monotonic()
    result = session.run()
    assert time.monotonic() - started < 10
    assert result.status == Status.INTERRUPTED
    launched = next(e.pid for e in events if e.type == "process")
    assert not os.path.exists(f"/proc/{launched}") or _zombie_or_gone(launched)


def _zombie_or_gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] in (b"Z", b"X")
    except OSError:
        return True


def test_an_error_in_the_child_is_raised_in_the_parent(tmp_path: Path) -> None:
    session = TraceSession(["/nonexistent/boxtrace-command"], None, TraceOptions(), None, separate_process=True)
    with pytest.raises(CommandNotFound, match="command not found"):
        session.run()


def test_a_failing_sink_stops_the_trace_and_its_error_is_raised(tmp_path: Path) -> None:
    seen: list[Event] = []

    def failing(event: Event) -> None:
        seen.append(event)
        if isinstance(event, Exec):
            raise OSError(28, "No space left on device")

    session = TraceSession(["sleep", "30"], None, TraceOptions(), None, sinks=[failing], separate_process=True)
    started = time.monotonic()
    with pytest.raises(OSError, match="No space left"):
        session.run()
    assert time.monotonic() - started < 10
    launched = next(e.pid for e in seen if e.type == "process")
    assert _zombie_or_gone(launched)
