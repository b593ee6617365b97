"""The event builder on its own: facts in, numbered events out, the namespace model kept (no ptrace needed)."""

from __future__ import annotations

import pytest

from tracer.builder import EventBuilder
from tracer.events import (
    End,
    Event,
    Exec,
    Exit,
    Header,
    Level,
    Mode,
    MountSnapshot,
    NamespaceChange,
    NamespaceVia,
    Notice,
    ProcessStarted,
    ProcessVia,
    Status,
    ThreadStarted,
)

HOST = {"mnt": 10, "pid": 11, "pid_for_children": 11, "uts": 12}


def _builder(first_seq: int = 0) -> tuple[EventBuilder, list[Event], list[float]]:
    events: list[Event] = []
    clock = [0.0]
    return EventBuilder(events.append, clock=lambda: clock[0], first_seq=first_seq), events, clock


def test_events_are_numbered_in_order_and_timed_by_the_clock() -> None:
    builder, events, clock = _builder(first_seq=2)
    builder.notice(Level.INFO, "first")
    clock[0] = 1.5
    builder.notice(Level.WARNING, "second", pid=7)
    assert [(e.seq, e.t) for e in events] == [(2, 0.0), (3, 1.5)]
    assert isinstance(events[1], Notice) and events[1].pid == 7 and events[1].level is Level.WARNING
    assert builder.seq == 4


def test_the_default_clock_counts_seconds_since_the_builder_was_made() -> None:
    builder = EventBuilder(lambda event: None)
    first = builder.now()
    assert 0.0 <= first < 5.0 and builder.now() >= first
    assert round(first, 6) == first


def test_a_child_in_new_namespaces_gets_one_change_per_kind_against_its_creator() -> None:
    builder, events, _ = _builder()
    builder.process_started(1, ppid=0, creator=None, via=ProcessVia.LAUNCH, ns=dict(HOST), nspid=[1], comm="sh")
    child_ns = {**HOST, "pid": 20, "uts": 21}
    builder.process_started(2, ppid=1, creator=1, via=ProcessVia.CLONE, ns=child_ns, nspid=[2, 1],
                            flags=["CLONE_NEWPID", "CLONE_NEWUTS"], diff_from=1)
    kinds = [(type(e).__name__, getattr(e, "kind", None)) for e in events]
    assert kinds == [("ProcessStarted", None), ("ProcessStarted", None),
                     ("NamespaceChange", "pid"), ("NamespaceChange", "uts")]
    change = events[2]
    assert isinstance(change, NamespaceChange)
    assert (change.pid, change.old, change.new, change.via) == (2, 11, 20, NamespaceVia.CLONE)
    started = events[1]
    assert isinstance(started, ProcessStarted) and started.flags == ["CLONE_NEWPID", "CLONE_NEWUTS"]
    assert builder.process_count == 2 and set(builder.procs) == {1, 2}


def test_an_unannounced_process_is_counted_and_tracked_without_events() -> None:
    builder, events, _ = _builder()
    builder.process_started(5, ppid=1, creator=1, via=ProcessVia.FORK, ns=dict(HOST), nspid=[5],
                            announce=False, diff_from=1)
    assert events == [] and builder.process_count == 1 and 5 in builder.procs


def test_unshare_then_exec_moves_the_model_and_says_so_once() -> None:
    builder, events, _ = _builder()
    builder.process_started(1, ppid=0, creator=None, via=ProcessVia.LAUNCH, ns=dict(HOST), nspid=[1])
    builder.namespaces_read(1, {**HOST, "uts": 30}, NamespaceVia.UNSHARE)
    builder.namespaces_read(1, {**HOST, "uts": 30}, NamespaceVia.UNSHARE)  # nothing moved: no event
    builder.namespaces_read(99, {**HOST, "uts": 31}, NamespaceVia.UNSHARE)  # unknown process: ignored
    changes = [e for e in events if isinstance(e, NamespaceChange)]
    assert [(c.kind, c.old, c.new) for c in changes] == [("uts", 12, 30)]
    state = builder.exec(1, path="/bin/true", argv=["true"], env=None, comm="true", ns={**HOST, "uts": 30, "mnt": 40},
                         nspid=[1], caps=None, diff=True, syscall="execve")
    assert state.ns["mnt"] == 40 and state.comm == "true"
    exec_event = next(e for e in events if isinstance(e, Exec))
    assert exec_event.ns["mnt"] == 40 and exec_event.syscall == "execve"
    assert isinstance(events[-1], NamespaceChange) and events[-1].via is NamespaceVia.EXECVE
    # Without a fresh read the model is kept as it was.
    builder.exec(1, path="/bin/sh", argv=["sh"], env=None, comm="sh")
    assert builder.procs[1].ns["mnt"] == 40


def test_exit_and_detach_forget_the_process() -> None:
    builder, events, _ = _builder()
    builder.process_started(1, ppid=0, creator=None, via=ProcessVia.ATTACH, ns=dict(HOST), nspid=[1], attached=True)
    builder.thread_started(1, 2, creator=1, flags=["CLONE_THREAD"])
    assert isinstance(events[-1], ThreadStarted) and events[-1].tid == 2
    assert builder.procs[1].attached
    builder.exited(1, detached=True)
    assert isinstance(events[-1], Exit) and events[-1].detached and 1 not in builder.procs
    assert builder.forget(1) is None


def test_a_mount_moment_is_claimed_once_per_known_process() -> None:
    builder, events, _ = _builder()
    assert not builder.claim_mount_moment(1, "after-pivot_root")  # unknown process
    builder.track(1, dict(HOST), [1])
    assert builder.claim_mount_moment(1, "after-pivot_root")
    assert not builder.claim_mount_moment(1, "after-pivot_root")
    assert builder.has_mount_moment(1, "after-pivot_root") and not builder.has_mount_moment(1, "after-chroot")
    builder.mount_snapshot(1, "after-pivot_root", ["1 0 0:1 / / rw - tmpfs none rw"])
    assert isinstance(events[-1], MountSnapshot) and events[-1].moment == "after-pivot_root"


def test_the_end_counts_every_event_and_process() -> None:
    builder, events, _ = _builder()
    builder.process_started(1, ppid=0, creator=None, via=ProcessVia.LAUNCH, ns=dict(HOST), nspid=[1])
    builder.exited(1, code=0)
    end = builder.ended(0, Status.COMPLETED)
    assert isinstance(end, End) and events[-1] is end
    assert (end.events, end.processes, end.exit_code) == (3, 1, 0)


def test_deferred_sink_errors_are_kept_not_raised() -> None:
    def failing(event: Event) -> None:
        raise OSError("disk full")

    builder = EventBuilder(failing)
    with pytest.raises(OSError):
        builder.notice(Level.INFO, "raises while tracing")
    builder.defer_sink_errors()
    builder.notice(Level.INFO, "kept while finishing")
    builder.notice(Level.INFO, "the first error is the one kept")
    assert isinstance(builder.sink_error, OSError) and builder.seq == 3


def test_the_header_says_which_kernel_and_how_the_trace_is_taken() -> None:
    builder, events, _ = _builder()
    builder.header(["unshare", "-U"], mode=Mode.LAUNCH, filter="container", scenario=None, attached=[],
                   host_ns=dict(HOST), seccomp=True)
    header = events[0]
    assert isinstance(header, Header) and (header.seq, header.t) == (0, 0.0)
    assert header.command == ["unshare", "-U"] and header.seccomp and header.host_ns == HOST
    assert header.kernel and "-" not in header.kernel and header.started.endswith("+00:00")
