"""The ptrace engine: follows a real process tree and turns what it does into typed events.

One OS thread does every ptrace and waitpid call for the tracer's whole life (ptrace belongs to a thread). The
loop waits for any stop of any tracee (`waitpid(-1, __WALL)`), handles it, and resumes the tracee at once; events
go to a sink callable. Races are normal here, not errors: a tracee can die between two calls (ESRCH), a child's
first stop can arrive before its parent's fork event, a thread can exec and take its leader's pid.

Two ways to start:
- launch: fork a child that stops itself, PTRACE_SEIZE it (with EXITKILL: tracees die with the tracer), optionally
  give it a seccomp-bpf filter so only interesting syscalls stop it, then let it exec the command;
- attach: PTRACE_SEIZE every thread of running processes (dockerd, containerd). They are never killed and never
  get a filter; at the end, on Ctrl-C, SIGTERM or an error every one of them is detached and left running.
Both can be combined (`boxtrace docker`: attach to the daemons, launch the docker CLI).

This module is the stop loop and its state machine: which stop is which, who is whose child, when a tracee is
held, resumed, dropped. Launching is tracer/launch.py, attaching and detaching tracer/attach.py, what is known of
each tracee tracer/tracees.py, what happens at a syscall's stops (decoding, what-if faults, what the call
changed) tracer/syscall_recorder.py; events are stamped and the process and namespace model kept by
tracer/builder.py, which is fed facts read from /proc while tracees are stopped.
"""

from __future__ import annotations

import errno
import gc
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from tracer import ptrace_api as pt
from tracer.attach import attach as attach_processes
from tracer.attach import detach_all
from tracer.builder import EventBuilder
from tracer.capabilities import capability_masks
from tracer.decoders import SYSCALL_NRS_BY_NAME, Trait, syscalls_with
from tracer.events import Event, Level, Mode, ProcessVia, Signal, Status
from tracer.inject import Injector
from tracer.launch import CommandNotFound as CommandNotFound
from tracer.launch import (
    LaunchReport,
    exit_code,
    fork_and_seize,
    kill_launched,
    reap,
    require_syscall_info,
    resolve,
    start_waker,
)
from tracer.namespaces import nspid_chain, ppid_of, read_namespaces, read_status
from tracer.redact import redact_argv
from tracer.seccomp_filter import PreparedFilter, build_program
from tracer.source import TraceResult
from tracer.spec_capture import prepare_overlay_parsers
from tracer.syscall_recorder import SyscallRecorder
from tracer.tracees import AWAITING_FIRST_STOP as _AWAITING_FIRST_STOP
from tracer.tracees import SYSCALL_STOP, Origin, TraceeState, child_origin
from tracer.tracees import Tracee as _Tracee
from tracer.tracees import TraceError as TraceError
from tracer.tracees import TraceOptions as TraceOptions

STOP_SIGNALS = frozenset({signal.SIGSTOP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU})
#: Signals too frequent to record: Go runtimes preempt goroutines with SIGURG many times a second.
UNRECORDED_SIGNALS = frozenset({signal.SIGURG, signal.SIGCHLD})
PROCESS_SYSCALLS = syscalls_with(Trait.PROCESS)


class Tracer:
    """Runs one trace. `run()` on the thread that will own ptrace; `request_stop()` from anywhere."""

    def __init__(self, sink: Callable[[Event], None], options: TraceOptions | None = None) -> None:
        self.options = options or TraceOptions()
        #: Sequence numbers, the clock, the sink and the process/namespace model.
        self.builder = EventBuilder(sink)
        self.tracees: dict[int, _Tracee] = {}
        self._held_parents: dict[int, int] = {}
        self._gone_early: dict[int, int] = {}
        self._stop_requested = threading.Event()
        self._waker_pid: int | None = None
        self._launch_pid: int | None = None
        #: The launched child's report pipe (no filter, no exec), until it is read.
        self._launch_report: LaunchReport | None = None
        self._launch_exit: int | None = None
        self._launch_done_at: float | None = None
        self._attached_pids: set[int] = set()
        self._stop_reason = ""
        self._grace_timer: threading.Timer | None = None
        self._host_ns = read_namespaces(os.getpid())
        #: What happens at syscall stops: the filter, decoding, what-if faults, what a call changed.
        self._syscalls = SyscallRecorder(self.options, self.builder, self.tracees, self._argv, self._host_ns)

    # Public API --------------------------------------------------------------------------------------------

    #: After Ctrl-C or SIGTERM in launch mode, how long the launched command gets to end on its own.
    STOP_GRACE = 3.0

    def request_stop(self, reason: str = "interrupted", forward: int | None = None) -> None:
        """Ask the trace to end: launched tracees are killed, attached ones detached. Safe from signal handlers.

        With `forward` (the signal boxtrace itself got) in launch mode, the first request passes that signal on
        to the launched command, as a shell's job control would, and keeps tracing for STOP_GRACE seconds: a
        `runc run` then deletes its container and cgroups, a shell runs its trap, and the trace shows it. A
        second request, or the end of the grace, stops at once (what is left is killed)."""
        launch = self._launch_pid
        if (forward is not None and self._grace_timer is None and launch is not None and self._launch_exit is None
                and not self._attached_pids and not self._stop_requested.is_set()):
            self._stop_reason = reason
            timer = threading.Timer(self.STOP_GRACE, self.request_stop, args=(reason,))
            timer.daemon = True
            self._grace_timer = timer
            try:
                os.kill(launch, forward)
            except ProcessLookupError:
                pass
            timer.start()
            return
        self._stop_reason = reason
        self._stop_requested.set()
        waker = self._waker_pid
        if waker is not None:
            try:
                os.kill(waker, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def send_events_to(self, sink: Callable[[Event], None], syscall_sink: Callable[[tuple[Any, ...]], None]) -> None:
        """Events to `sink`, and syscalls to `syscall_sink` as tuples that tracer.pipeline.event_of turns into the
        same Syscall events elsewhere: a 9-tuple (seq, t, pid, tid, nr, registers, ret, error, dur) for a call
        without decoder (tracer.decoders.raw_syscall_event), else the 13 fields of Syscall in order with the
        category as a plain string. Building the event then costs the tracer nothing."""
        self.builder.redirect(sink)
        self._syscalls._syscall_sink = syscall_sink

    def run(self, command: list[str] | None = None, attach: list[int] | None = None) -> TraceResult:
        attach = list(attach or [])
        if not command and not attach:
            raise TraceError("nothing to trace: give a command or pids to attach to")
        require_syscall_info()
        executable = resolve(command, self.options.env) if command else None
        use_seccomp = self.options.seccomp
        if use_seccomp is None:
            use_seccomp = bool(command) and not self._syscalls.record_all
        self._syscalls.seccomp = bool(use_seccomp and command)
        mode = self.options.mode or (Mode.DOCKER if attach and command else Mode.ATTACH if attach else Mode.LAUNCH)
        if self._syscalls.injector is not None and attach and not command:
            # Raises if a rule names no process: an attached daemon is hit only when named.
            injector = self._syscalls.injector
            self._syscalls.injector = Injector(injector.rules, attach_only=True, scope=injector.scope)
        self.builder.header(self._argv(command or []), mode=mode, filter=self.options.filter,
                            scenario=self.options.scenario, attached=list(attach), host_ns=self._host_ns,
                            seccomp=self._syscalls.seccomp)
        if self._syscalls.injector is not None:
            for rule in self._syscalls.injector.rules:
                self.builder.notice(Level.INFO, f"what-if {rule.text}: {rule.describe()}")
        status = Status.COMPLETED
        # Events are plain acyclic objects: the cyclic collector's passes over a growing heap only cost time. Only
        # when the trace owns the process (the CLI's main thread); a TUI around it keeps its collector.
        pause_gc = threading.current_thread() is threading.main_thread() and gc.isenabled()
        if pause_gc:
            gc.freeze()
            gc.disable()
        try:
            self._waker_pid = start_waker()
            if attach:
                # The daemons will start runtimes whose bundle has an overlay root: import its parsers now, not
                # while the runtime waits at its exec (see _capture_bundle).
                prepare_overlay_parsers()
                attach_processes(attach, tree=self.options.attach_tree, tracees=self.tracees,
                                 attached=self._attached_pids, builder=self.builder, stop=self._stop_requested,
                                 argv=self._argv)
            if command and executable:
                self._launch(executable, command)
            self._loop()
            if self._stop_requested.is_set() or self._grace_timer is not None:
                status = Status.INTERRUPTED
        except TraceError:
            status = Status.FAILED
            raise
        except BaseException as error:
            status = Status.FAILED
            self.builder.notice(Level.ERROR, f"the tracer failed: {error!r}; letting go of every tracee")
            raise
        finally:
            if pause_gc:
                gc.enable()
                gc.unfreeze()
            self._finish()
            self.builder.ended(self._launch_exit, status)
        if self.builder.sink_error is not None:
            raise self.builder.sink_error
        return TraceResult(self._launch_exit, status, self.builder.seq, self.builder.process_count)

    # Set-up ------------------------------------------------------------------------------------------------

    def _launch(self, executable: str, command: list[str]) -> None:
        prepared: PreparedFilter | None = None
        if self._syscalls.seccomp:
            write_nr = SYSCALL_NRS_BY_NAME["write"]
            prepared = PreparedFilter(build_program(self._syscalls.recorded_nrs, write_nr=write_nr,
                                                    dup_nrs=self._syscalls.dup_nrs,
                                                    socket_nr=SYSCALL_NRS_BY_NAME["socket"]))
        launched = fork_and_seize(executable, command, self.options, prepared)
        pid = launched.pid
        self._launch_report = launched.report
        self._launch_pid = pid
        tracee = _Tracee(pid, pid, full_stops=not self._syscalls.seccomp, state=TraceeState.RUNNING,
                         origin=Origin.SETUP)
        self.tracees[pid] = tracee
        fields = read_status(pid)
        self.builder.process_started(
            pid,
            ppid=os.getpid(),
            creator=os.getpid(),
            via=ProcessVia.LAUNCH,
            comm=os.path.basename(executable)[:15],
            argv=self._argv(command),
            exe=executable,
            ns=read_namespaces(pid),
            nspid=nspid_chain(fields),
            caps=capability_masks(fields),
        )
        os.kill(pid, signal.SIGCONT)

    # The loop ----------------------------------------------------------------------------------------------

    def _loop(self) -> None:
        wall = pt.WALL
        while True:
            if self._stop_requested.is_set():
                return
            if not self._work_left():
                return
            if self._launch_done_at is not None:
                options = wall | os.WNOHANG
            else:
                options = wall
            try:
                tid, status = os.waitpid(-1, options)
            except ChildProcessError:
                return
            except InterruptedError:
                continue
            if tid == 0:  # WNOHANG and nothing yet: the grace period after the launched command ended
                time.sleep(0.01)
                continue
            if tid == self._waker_pid:
                self._waker_pid = None
                if not self._stop_requested.is_set():
                    self._waker_pid = start_waker()
                continue
            self._handle(tid, status)

    def _work_left(self) -> bool:
        if not self.tracees:
            return False
        if self._launch_done_at is None:
            return True
        grace = self.options.grace
        if grace is None:
            grace = 2.0 if self._attached_pids else 0.5
        if time.monotonic() - self._launch_done_at > grace:
            return False
        # Only processes born during the trace keep it going; the attached daemons run forever.
        return any(not t.attached for t in self.tracees.values())

    def _handle(self, tid: int, status: int) -> None:
        low = status & 0x7F
        if low == 0 or (low != 0x7F):  # exited or killed by a signal
            self._on_gone(tid, status)
            return
        sig = (status >> 8) & 0xFF
        event = status >> 16
        tracee = self.tracees.get(tid)
        if tracee is None:
            tracee = self._adopt(tid)
            if tracee is None:
                return
        if sig == SYSCALL_STOP:
            self._on_syscall_stop(tracee)
            return
        if event:
            self._on_ptrace_event(tracee, event, sig)
            return
        # A signal-delivery-stop: pass the signal on unchanged.
        if sig not in UNRECORDED_SIGNALS and not tracee.before_exec:
            self.builder.emit(Signal(self.builder.next_seq(), self.builder.now(), pid=tracee.tgid, tid=tid, signal=_signame(sig)))
        self._resume(tracee, sig)

    def _adopt(self, tid: int) -> _Tracee | None:
        """A stop from a tid we do not know: a new child whose parent's fork event has not arrived yet."""
        status = read_status(tid)
        try:
            tgid = int(status.get("Tgid", tid))
        except ValueError:
            tgid = tid
        parent = self.tracees.get(tgid) if tgid != tid else None
        full = parent.full_stops if parent else self._default_full_stops(ppid_of(status))
        tracee = _Tracee(tid, tgid, full_stops=full, state=TraceeState.ADOPTED)
        self.tracees[tid] = tracee
        return tracee

    def _default_full_stops(self, ppid: int) -> bool:
        parent = self.tracees.get(ppid)
        if parent is not None:
            return self._child_full_stops(parent)
        return not self._syscalls.seccomp

    def _child_full_stops(self, parent: _Tracee) -> bool:
        if self._syscalls.injector is not None and self._syscalls.injector.fired:
            return True  # after a fault, every new process is followed at every stop (see _inject)
        if parent.launched:
            # The launched tree inherits the seccomp filter: the kernel stops it only for recorded syscalls.
            return not self._syscalls.seccomp
        # Daemons run quiet (only process events); a process born from them (shim, runc) has no filter, so it
        # is stopped at every syscall.
        return True

    def _resume(self, tracee: _Tracee, sig: int = 0) -> None:
        if tracee.held:
            return
        # IN_SYSCALL: after an entry stop, always reach the exit stop (a netlink watch may end between them).
        request = (
            pt.PTRACE_SYSCALL
            if (tracee.full_stops or tracee.state in (TraceeState.TO_EXIT_STOP, TraceeState.IN_SYSCALL)
                or tracee.watch or tracee.tgid in self._syscalls.netlink)
            else pt.PTRACE_CONT
        )
        try:
            pt.resume(request, tracee.tid, sig)
        except pt.PtraceError as error:
            if error.errno != errno.ESRCH:
                raise
            # Died while stopped (SIGKILL from elsewhere): its exit report follows.

    # Stops -------------------------------------------------------------------------------------------------

    def _on_ptrace_event(self, tracee: _Tracee, event: int, sig: int) -> None:
        if event == pt.PTRACE_EVENT_STOP:
            if tracee.state in _AWAITING_FIRST_STOP:
                if tracee.state is TraceeState.ADOPTED and not self._parent_event_seen(tracee):
                    tracee.state = TraceeState.HELD
                    return  # stays stopped until the parent's event arrives
                tracee.state = TraceeState.RUNNING
                self._resume(tracee)
            elif sig in STOP_SIGNALS:
                # A group-stop (SIGSTOP, ^Z): stay stopped as the sender wanted, without a ptrace-stop. Under
                # PTRACE_SEIZE it is PTRACE_EVENT_STOP with the stop signal, and PTRACE_GETSIGINFO succeeds there
                # (it fails with EINVAL only after PTRACE_ATTACH), so the signal alone tells (strace does the same).
                try:
                    pt.listen(tracee.tid)
                except pt.PtraceError as error:
                    if error.errno != errno.ESRCH:
                        raise
                if not tracee.before_exec:
                    self.builder.emit(Signal(self.builder.next_seq(), self.builder.now(), pid=tracee.tgid, tid=tracee.tid,
                                      signal=_signame(sig) + " (group-stop)"))
            else:
                self._resume(tracee)
            return
        if event in (pt.PTRACE_EVENT_FORK, pt.PTRACE_EVENT_VFORK, pt.PTRACE_EVENT_CLONE):
            self._on_new_child(tracee, event)
        elif event == pt.PTRACE_EVENT_EXEC:
            tracee = self._on_exec(tracee)
        elif event == pt.PTRACE_EVENT_SECCOMP:
            self._on_seccomp_stop(tracee)
            return
        self._resume(tracee)

    def _parent_event_seen(self, tracee: _Tracee) -> bool:
        return tracee.tid in self._held_parents

    def _on_syscall_stop(self, tracee: _Tracee) -> None:
        # The per-stop path: the kernel's report is read piecemeal (op and number first) and only what a recorded
        # call needs is unpacked.
        if tracee.state is TraceeState.IN_SYSCALL and tracee.pending is None and not tracee.watch:
            # The exit of a call that is not recorded (docker mode's shim and runc, at most of their calls):
            # after its entry stop the next syscall stop is its exit, and there is nothing to read there.
            tracee.state = TraceeState.RUNNING
            self._resume(tracee)
            return
        try:
            op = pt.read_syscall_info(tracee.tid)
        except pt.PtraceError as error:
            if error.errno == errno.ESRCH:
                return
            raise
        if op == pt.SYSCALL_INFO_ENTRY:
            tracee.state = TraceeState.IN_SYSCALL
            self._syscalls.entry(tracee, pt.info_nr(), None)
        elif op == pt.SYSCALL_INFO_EXIT:
            tracee.state = TraceeState.RUNNING
            pending = tracee.pending
            if pending is not None:
                rval, is_error = pt.info_result()
                if pending.injected is not None:
                    rval, is_error = self._syscalls.finish_injection(tracee, pending)
                self._syscalls.exit(tracee, rval, bool(is_error))
            if tracee.watch:
                tracee.watch = 0 if pending is not None and pending.name == "write" else tracee.watch - 1
        self._resume(tracee)

    def _on_seccomp_stop(self, tracee: _Tracee) -> None:
        try:
            info = pt.get_syscall_info(tracee.tid)
        except pt.PtraceError as error:
            if error.errno == errno.ESRCH:
                return
            raise
        if info.op == pt.SYSCALL_INFO_SECCOMP:
            if tracee.state is not TraceeState.IN_SYSCALL:  # a watched thread: already seen at its entry stop
                if info.nr in self._syscalls.dup_nrs:
                    self._syscalls.watch_low_fd(tracee, info.args)
                self._syscalls.entry(tracee, info.nr, info.args)
            if tracee.pending is not None:
                tracee.state = TraceeState.TO_EXIT_STOP
        self._resume(tracee)









    def _on_new_child(self, parent: _Tracee, event: int) -> None:
        try:
            child_tid = pt.get_event_msg(parent.tid)
        except pt.PtraceError as error:
            if error.errno == errno.ESRCH:
                return
            raise
        status = read_status(child_tid)
        try:
            tgid = int(status.get("Tgid", child_tid))
        except ValueError:
            tgid = child_tid
        is_thread = tgid != child_tid
        pending = parent.pending
        flags: list[str] = []
        if pending is not None and pending.name in PROCESS_SYSCALLS:
            flags = list(pending.args.get("flags") or [])
            via = ProcessVia(pending.name)
        else:
            via = {pt.PTRACE_EVENT_FORK: ProcessVia.FORK, pt.PTRACE_EVENT_VFORK: ProcessVia.VFORK}.get(event, ProcessVia.CLONE)
        early_status = self._gone_early.pop(child_tid, None)
        child = self.tracees.get(child_tid)
        if child is None:
            full = parent.full_stops if is_thread else self._child_full_stops(parent)
            child = _Tracee(child_tid, tgid, full_stops=full)
            self.tracees[child_tid] = child
        else:
            child.tgid = tgid
            child.full_stops = parent.full_stops if is_thread else self._child_full_stops(parent)
        child.origin = child_origin(parent.origin, is_thread)
        self._held_parents[child_tid] = parent.tid
        if is_thread:
            if not parent.before_exec:
                self.builder.thread_started(tgid, child_tid, creator=parent.tid, flags=flags)
        else:
            fresh = read_status(child_tid)
            self.builder.process_started(
                child_tid,
                ppid=ppid_of(status) or parent.tgid,
                creator=parent.tgid,
                via=via,
                flags=flags,
                comm=status.get("Name", ""),
                ns=read_namespaces(child_tid),
                nspid=nspid_chain(fresh),
                caps=capability_masks(fresh),
                announce=not parent.before_exec,
                diff_from=parent.tgid,
            )
        if early_status is not None:
            self.tracees.pop(child_tid, None)
            if not is_thread and not parent.before_exec:
                low = early_status & 0x7F
                self.builder.exited(child_tid, code=(early_status >> 8) & 0xFF if low == 0 else None,
                                    signal=_signame(low) if low else None)
            return
        if child.state is TraceeState.HELD:
            child.state = TraceeState.RUNNING
            self._resume(child)
        elif child.state is TraceeState.ADOPTED:
            child.state = TraceeState.EXPECTED

    def _on_exec(self, tracee: _Tracee) -> _Tracee:
        try:
            old_tid = pt.get_event_msg(tracee.tid)
        except pt.PtraceError:
            old_tid = tracee.tid
        pending = tracee.pending
        if old_tid != tracee.tid:
            # A non-leader thread exec'd: it now has the leader's pid and the other threads are gone.
            old = self.tracees.pop(old_tid, None)
            in_exit = (old if old is not None else tracee).state is TraceeState.TO_EXIT_STOP
            if old is not None:
                pending = old.pending
            tracee.state = TraceeState.TO_EXIT_STOP if in_exit else TraceeState.IN_SYSCALL
        for tid in [t for t, tr in self.tracees.items() if tr.tgid == tracee.tgid and t != tracee.tid]:
            self.tracees.pop(tid, None)
        self._syscalls.netlink.forget(tracee.tgid)
        was_setup = tracee.before_exec
        if was_setup:
            tracee.origin = Origin.LAUNCHED
        tracee.pending = pending
        argv = self._syscalls.exec_seen(tracee, pending, old_tid, was_setup)
        if was_setup and tracee.tgid == self._launch_pid and self._syscalls.seccomp:
            self._check_filter_installed(tracee)
        self._syscalls.capture_bundle(tracee.tgid, argv)
        if self._syscalls.seccomp and tracee.pending is not None:
            tracee.state = TraceeState.TO_EXIT_STOP
        return tracee

    def _on_gone(self, tid: int, status: int) -> None:
        tracee = self.tracees.pop(tid, None)
        if tracee is None or tracee.held:
            # Killed (SIGKILL) before its parent's fork event named it: that event must not resurrect it.
            self._gone_early[tid] = status
        if tid == self._launch_pid:
            self._launch_exit = exit_code(status)
            self._launch_done_at = time.monotonic()
            self._read_exec_error()
        if tracee is None or tracee.held:
            return
        if tracee.tid != tracee.tgid:
            return  # a thread ended; its process goes on
        low = status & 0x7F
        self.builder.forget(tid)
        self._syscalls.netlink.forget(tid)
        if tracee.before_exec and tid != self._launch_pid:
            return
        self.builder.exited(tid, code=(status >> 8) & 0xFF if low == 0 else None,
                            signal=_signame(low) if low else None)

    def _check_filter_installed(self, tracee: _Tracee) -> None:
        """At the launched command's exec: did its seccomp filter go in? If not (a kernel without seccomp
        filters, or a tracer without CAP_SYS_ADMIN), the tree is traced at every syscall instead: slower, same
        trace."""
        code = self._launch_report.filter_error() if self._launch_report is not None else None
        if code is not None:
            self._syscalls.seccomp = False
            tracee.full_stops = True
            self.builder.notice(Level.WARNING,
                f"the seccomp filter could not be installed ({os.strerror(code)}): tracing with a stop at "
                "every syscall instead, which is slower but records the same events",
            )

    def _read_exec_error(self) -> None:
        code = self._launch_report.exec_error() if self._launch_report is not None else None
        if code is not None:
            self.builder.notice(Level.ERROR, f"could not execute the command: {os.strerror(code)}")







    # Ending ------------------------------------------------------------------------------------------------

    def _finish(self) -> None:
        """Leave no tracee behind: kill what we launched (when it carries our filter or was interrupted),
        detach everything else and leave it running."""
        self.builder.defer_sink_errors()
        if self._grace_timer is not None:
            self._grace_timer.cancel()
        waker = self._waker_pid
        self._waker_pid = None
        if waker is not None:
            try:
                os.kill(waker, signal.SIGKILL)
                os.waitpid(waker, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        if not self.tracees:
            self._reap_launch()
            return
        launched = [t for t in self.tracees.values() if t.launched]
        if launched and (self._syscalls.seccomp or (self._stop_requested.is_set() and not self._attached_pids)):
            kill_launched(launched, self.builder, interrupted=self._stop_requested.is_set())
        detach_all(self.tracees, self.builder, adopt=self._adopt, gone=self._on_gone)
        self._reap_launch()

    def _reap_launch(self) -> None:
        pid = self._launch_pid
        if pid is None or self._launch_exit is not None:
            return
        code = reap(pid)
        if code is None:
            return
        self._launch_exit = code
        self._read_exec_error()

    # Emitting ----------------------------------------------------------------------------------------------

    def _argv(self, argv: list[str]) -> list[str]:
        """argv as recorded: bytes that are not UTF-8 as \\xNN (Python's argv holds them as lone surrogates, which
        strict JSON readers refuse), a container CLI's -e NAME=value values redacted unless --show-env."""
        text = [os.fsencode(arg).decode("utf-8", "backslashreplace") for arg in argv]
        return text if self.options.show_env else redact_argv(text)



def _signame(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"SIG{sig}"
