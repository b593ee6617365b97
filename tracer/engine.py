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

This module is the stop loop and its state machine. Launching is tracer/launch.py, attaching and detaching
tracer/attach.py, what is known of each tracee tracer/tracees.py; events are stamped and the process and
namespace model kept by tracer/builder.py, which the engine feeds facts read from /proc while tracees are stopped.
"""

from __future__ import annotations

import errno
import gc
import os
import platform
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from tracer import ptrace_api as pt
from tracer.attach import attach as attach_processes
from tracer.attach import detach_all
from tracer.builder import EventBuilder
from tracer.capabilities import capability_masks
from tracer.decoders import (
    CONTAINER_SYSCALL_NRS,
    NETLINK_SYSCALL_NRS,
    SYSCALL_NRS_BY_NAME,
    SYSCALLS,
    Trait,
    decode_syscall,
    decode_syscall_exit,
    raw_syscall_event,
    syscalls_with,
)
from tracer.decoders.base import SyscallContext
from tracer.decoders.common import control_file_category
from tracer.events import (
    REDACTED,
    BundleConfig,
    Category,
    Event,
    Fault,
    Header,
    Ipc,
    Level,
    Mode,
    NamespaceVia,
    ProcessVia,
    Signal,
    Status,
    Syscall,
)
from tracer.inject import REACTION_NRS, Injector
from tracer.launch import CommandNotFound as CommandNotFound
from tracer.launch import (
    LaunchReport,
    exit_code,
    fork_and_seize,
    reap,
    require_syscall_info,
    resolve,
    start_waker,
)
from tracer.memory import ProcessMemory
from tracer.namespaces import (
    nspid_chain,
    ppid_of,
    read_cmdline,
    read_comm,
    read_exe,
    read_namespaces,
    read_status,
)
from tracer.netlink_watch import NetlinkWatch
from tracer.redact import redact_argv
from tracer.seccomp_filter import PreparedFilter, build_program
from tracer.sockets import listener_of
from tracer.source import TraceResult
from tracer.spec_capture import bundle_argument, overlay_layers, prepare_overlay_parsers, read_bundle_config
from tracer.tracees import AWAITING_FIRST_STOP as _AWAITING_FIRST_STOP
from tracer.tracees import SYSCALL_STOP, Origin, TraceeState, child_origin
from tracer.tracees import Pending as _Pending
from tracer.tracees import Tracee as _Tracee
from tracer.tracees import TraceError as TraceError
from tracer.tracees import TraceOptions as TraceOptions
from tracer.xlat.errnos import errno_name

STOP_SIGNALS = frozenset({signal.SIGSTOP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU})
#: Signals too frequent to record: Go runtimes preempt goroutines with SIGURG many times a second.
UNRECORDED_SIGNALS = frozenset({signal.SIGURG, signal.SIGCHLD})
NAMESPACE_SYSCALLS = syscalls_with(Trait.OWN_NAMESPACES)
PROCESS_SYSCALLS = syscalls_with(Trait.PROCESS)
EXEC_SYSCALLS = syscalls_with(Trait.EXEC)
NO_RETURN_SYSCALLS = syscalls_with(Trait.NEVER_RETURNS)
#: Syscalls that change a mount table or the root: the first one in a new mount namespace triggers a "before"
#: snapshot.
MOUNT_SYSCALLS = syscalls_with(Trait.MOUNT_TABLE, Trait.ROOT)
#: Calls after which the mount table is snapshotted: the root changes, and umount2 (runc detaching the old root).
MOUNT_MOMENTS = syscalls_with(Trait.ROOT) | {"umount2"}
MAX_MOUNTINFO_LINES = 2000


#: The args of a pending call without decoder: its event's args are made from its registers (`_Pending.regs`).
_NO_ARGS: Any = MappingProxyType({})


class Tracer:
    """Runs one trace. `run()` on the thread that will own ptrace; `request_stop()` from anywhere."""

    def __init__(self, sink: Callable[[Event], None], options: TraceOptions | None = None) -> None:
        self.options = options or TraceOptions()
        #: Sequence numbers, the clock, the sink and the process/namespace model.
        self.builder = EventBuilder(sink)
        #: Where syscalls go as plain tuples instead of Syscall events (see send_events_to); None: as events.
        self._syscall_sink: Callable[[tuple[Any, ...]], None] | None = None
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
        self._seccomp = False
        self._stop_reason = ""
        self._grace_timer: threading.Timer | None = None
        nrs = set(CONTAINER_SYSCALL_NRS)
        self._injector: Injector | None = None
        extra = tuple(self.options.extra_syscalls)
        if self.options.inject:
            self._injector = Injector(tuple(self.options.inject), scope=self.options.inject_scope)
            extra += self._injector.syscall_names
        for name in extra:
            nr = SYSCALL_NRS_BY_NAME.get(name)
            if nr is None:
                raise TraceError(f"unknown syscall name {name!r} for -e")
            nrs.add(nr)
        self._recorded_nrs = frozenset(nrs)
        self._extra_nr_set = frozenset(SYSCALL_NRS_BY_NAME[n] for n in extra)
        self._record_all = self.options.filter == "all"
        self._dup_nrs = frozenset((SYSCALL_NRS_BY_NAME["dup2"], SYSCALL_NRS_BY_NAME["dup3"]))
        self._netlink = NetlinkWatch()
        self._close_nr = SYSCALL_NRS_BY_NAME["close"]
        self._host_ns = read_namespaces(os.getpid())

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
        self._syscall_sink = syscall_sink

    def run(self, command: list[str] | None = None, attach: list[int] | None = None) -> TraceResult:
        attach = list(attach or [])
        if not command and not attach:
            raise TraceError("nothing to trace: give a command or pids to attach to")
        require_syscall_info()
        executable = resolve(command, self.options.env) if command else None
        use_seccomp = self.options.seccomp
        if use_seccomp is None:
            use_seccomp = bool(command) and not self._record_all
        self._seccomp = bool(use_seccomp and command)
        mode = self.options.mode or (Mode.DOCKER if attach and command else Mode.ATTACH if attach else Mode.LAUNCH)
        if self._injector is not None and attach and not command:
            # Raises if a rule names no process: an attached daemon is hit only when named.
            self._injector = Injector(self._injector.rules, attach_only=True, scope=self._injector.scope)
        self._emit_header(command or [], attach, mode)
        if self._injector is not None:
            for rule in self._injector.rules:
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

    def _emit_header(self, command: list[str], attach: list[int], mode: Mode) -> None:
        release = platform.release()
        self.builder.emit(
            Header(
                seq=self.builder.next_seq(),
                t=0.0,
                kernel=release.split("-")[0],
                arch=platform.machine(),
                wsl="microsoft" in release.lower(),
                command=self._argv(command),
                started=datetime.now(UTC).isoformat(timespec="seconds"),
                mode=mode,
                filter=self.options.filter,
                scenario=self.options.scenario,
                attached=list(attach),
                host_ns=self._host_ns,
                seccomp=self._seccomp,
            )
        )

    def _launch(self, executable: str, command: list[str]) -> None:
        prepared: PreparedFilter | None = None
        if self._seccomp:
            write_nr = SYSCALL_NRS_BY_NAME["write"]
            prepared = PreparedFilter(build_program(self._recorded_nrs, write_nr=write_nr, dup_nrs=self._dup_nrs,
                                                    socket_nr=SYSCALL_NRS_BY_NAME["socket"]))
        launched = fork_and_seize(executable, command, self.options, prepared)
        pid = launched.pid
        self._launch_report = launched.report
        self._launch_pid = pid
        tracee = _Tracee(pid, pid, full_stops=not self._seccomp, state=TraceeState.RUNNING, origin=Origin.SETUP)
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
        return not self._seccomp

    def _child_full_stops(self, parent: _Tracee) -> bool:
        if self._injector is not None and self._injector.fired:
            return True  # after a fault, every new process is followed at every stop (see _inject)
        if parent.launched:
            # The launched tree inherits the seccomp filter: the kernel stops it only for recorded syscalls.
            return not self._seccomp
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
                or tracee.watch or tracee.tgid in self._netlink)
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
            self._on_entry(tracee, pt.info_nr(), None)
        elif op == pt.SYSCALL_INFO_EXIT:
            tracee.state = TraceeState.RUNNING
            pending = tracee.pending
            if pending is not None:
                rval, is_error = pt.info_result()
                if pending.injected is not None:
                    rval, is_error = self._finish_injection(tracee, pending)
                self._on_exit(tracee, rval, bool(is_error))
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
                if info.nr in self._dup_nrs:
                    self._watch_low_fd(tracee, info.args)
                self._on_entry(tracee, info.nr, info.args)
            if tracee.pending is not None:
                tracee.state = TraceeState.TO_EXIT_STOP
        self._resume(tracee)

    #: How many syscalls a thread is followed at every stop after moving a control file onto fd 0-2: a shell
    #: writes within a few (dup2(3, 1), close(3), write(1, ...)); the watch ends at the first write.
    WATCH_SYSCALLS = 8

    def _watch_low_fd(self, tracee: _Tracee, args: tuple[int, ...]) -> None:
        """dup2/dup3 onto fd 0, 1 or 2 (the filter stops only those): if the old fd is a uid_map, gid_map,
        setgroups or cgroup file, the write that follows goes to fd 0-2, which the filter lets through, so the
        thread is resumed with PTRACE_SYSCALL for a few syscalls to see it."""
        if tracee.before_exec or (args[1] & 0xFFFFFFFF) > 2:
            return
        try:
            path = os.readlink(f"/proc/{tracee.tid}/fd/{args[0] & 0xFFFFFFFF}")
        except OSError:
            return
        if control_file_category(path) is not None:
            tracee.watch = self.WATCH_SYSCALLS

    def _reacting(self, tracee: _Tracee) -> bool:
        return self._injector is not None and self._injector.fired > 0 and not tracee.attached

    def _on_entry(self, tracee: _Tracee, nr: int, args: tuple[int, ...] | None) -> None:
        """`args` None: read from the stop's report (tracer.ptrace_api.info_args) only if the call needs them."""
        if nr == self._close_nr and tracee.tgid in self._netlink:
            if args is None:
                args = pt.info_args()
            self._netlink.closed(tracee.tgid, args[0] & 0xFFFFFFFF)
        if tracee.before_exec or not (self._record_all or nr in self._recorded_nrs or nr in NETLINK_SYSCALL_NRS
                                      or (nr in REACTION_NRS and self._reacting(tracee))):
            tracee.pending = None
            return
        if args is None:
            args = pt.info_args()
        spec = SYSCALLS.get(nr)
        if spec is None or (spec.decode is None and self._record_all
                            and not (nr in REACTION_NRS and self._reacting(tracee))):
            # Nothing to decode (the bulk of a --filter all trace): keep the raw registers, skip the context.
            name = spec.name if spec else f"syscall_{nr}"
            category = spec.category if spec else Category.OTHER
            tracee.pending = _Pending(nr, name, _NO_ARGS, category, time.monotonic(), None, regs=args)
            return
        name = spec.name
        context = SyscallContext(
            name=name,
            nr=nr,
            pid=tracee.tgid,
            tid=tracee.tid,
            args=args,
            memory=ProcessMemory(tracee.tid, tracee.tgid),
            show_env=self.options.show_env,
        )
        decoded, category = decode_syscall(context)
        reaction = self._injector.reaction(name, decoded, context) if self._reacting(tracee) else None  # type: ignore[union-attr]
        if reaction:
            # After a fault: what the runtime prints on stdout/stderr and what it removes, for the diagnosis.
            decoded, category = reaction[0], Category(reaction[1])
        if category == "other" and not self._record_all and nr not in self._extra_nr_set and not reaction:
            tracee.pending = None
            return
        if name in MOUNT_SYSCALLS:
            self._before_mount_change(tracee)
        pending = _Pending(nr, name, decoded, category, time.monotonic(), context.notes or None,
                           raw=[hex(value) for value in args[:spec.nargs]])
        if name in EXEC_SYSCALLS:
            if isinstance(decoded.get("argv"), list):
                decoded["argv"] = self._argv(decoded["argv"])
            pending.argv = decoded.get("argv")
            pending.env = decoded.get("env")
        if spec is not None and spec.decode_exit is not None:
            pending.context = context
        tracee.pending = pending
        if self._injector is not None and nr in self._injector.nrs:
            self._inject(tracee, pending)
        if name in NO_RETURN_SYSCALLS:
            # exit and exit_group never reach a syscall-exit stop: record them now (pending is cleared, so a
            # seccomp stop does not step to an exit stop that never comes).
            self._on_exit(tracee, 0, False)

    # What-if faults (tracer/inject.py) ----------------------------------------------------------------------

    def _inject(self, tracee: _Tracee, pending: _Pending) -> None:
        """At the entry (or seccomp) stop: if a rule picks this call, make the kernel run nothing (orig_rax -1)."""
        assert self._injector is not None
        hit = self._injector.at_entry(tracee.tid, pending.nr, pending.args, attached=tracee.attached)
        if hit is None:
            return
        rule, nth = hit
        try:
            pt.poke_user(tracee.tid, pt.USER_OFFSET_ORIG_RAX, -1)
        except pt.PtraceError:
            return  # gone (ESRCH): nothing to fail
        pending.injected = rule
        pending.notes = {**(pending.notes or {}), "injected": True}
        self.builder.emit(Fault(self.builder.next_seq(), self.builder.now(), pid=tracee.tgid, tid=tracee.tid, name=pending.name,
                         args=pending.args, errno=rule.errno_name, nth=nth, rule=rule.text,
                         process=read_comm(tracee.tid)))
        # From now on the traced tree is followed at every stop, so its reaction (what it prints, what it undoes)
        # is in the trace even where the seccomp filter would not stop it.
        # Threads now running between seccomp stops are interrupted once, so their next resume is PTRACE_SYSCALL
        # (a Go runtime prints from whichever thread runs; its write to stderr must not slip through).
        for other in list(self.tracees.values()):
            if other.attached:
                continue
            other.full_stops = True
            if other is tracee or other.state is not TraceeState.RUNNING or other.pending is not None:
                continue
            try:
                pt.interrupt(other.tid)
            except pt.PtraceError:
                pass

    def _finish_injection(self, tracee: _Tracee, pending: _Pending) -> tuple[int, bool]:
        """At the exit stop of a skipped call: the kernel left -ENOSYS in rax; put the chosen -errno there."""
        assert pending.injected is not None
        value = -pending.injected.errno
        try:
            pt.poke_user(tracee.tid, pt.USER_OFFSET_RAX, value)
        except pt.PtraceError:
            pass
        return value, True

    def _on_exit(self, tracee: _Tracee, rval: int, is_error: bool) -> None:
        pending = tracee.pending
        tracee.pending = None
        if pending is None:
            return
        error = None
        if is_error:
            error = errno_name(-rval)  # includes the kernel-internal ones (ERESTARTNOINTR after a signal)
        builder = self.builder
        regs = pending.regs
        if regs is not None:
            # A call without decoder: nothing follows it (every call below has one), so only its event.
            now = time.monotonic()
            record = (builder.next_seq(), builder.now(), tracee.tgid, tracee.tid, pending.nr, regs, rval, error,
                      round(now - pending.started, 6))
            if self._syscall_sink is not None:
                self._syscall_sink(record)
            else:
                builder.emit(raw_syscall_event(*record))
            return
        if pending.name in EXEC_SYSCALLS and error is None:
            return  # the Exec event already told this story
        if pending.context is not None:
            decode_syscall_exit(pending.context, pending.args, rval)
        now = time.monotonic()
        returns = pending.name not in NO_RETURN_SYSCALLS
        values = (builder.next_seq(), builder.now(), tracee.tgid, tracee.tid, pending.name, pending.nr, pending.args,
                  rval if returns else None, error, pending.category,
                  round(now - pending.started, 6) if returns else None, pending.notes, pending.raw)
        if self._syscall_sink is not None:
            self._syscall_sink((*values[:9], str(pending.category), *values[10:]))
        else:
            builder.emit(Syscall(*values))
        if error is None and pending.name in NAMESPACE_SYSCALLS:
            self._refresh_namespaces(tracee.tgid, tracee.tid, NamespaceVia(pending.name))
        if error is None and pending.name == "connect" and pending.args.get("path"):
            # A path named through an fd (/proc/self/fd/N) is shown as the file it names, resolved at the stop.
            path = str((pending.notes or {}).get("path") or pending.args["path"])
            peer = listener_of(path, [p for p in self.builder.procs if p != tracee.tgid])
            self.builder.emit(Ipc(self.builder.next_seq(), self.builder.now(), pid=tracee.tgid, peer_pid=peer, path=path))
        if error is None and pending.name in MOUNT_MOMENTS:
            self._after_mount_change(tracee, pending)
        if error is None and pending.name == "socket" and pending.args.get("protocol") == "NETLINK_ROUTE":
            self._follow_netlink(tracee, rval)

    def _follow_netlink(self, tracee: _Tracee, fd: int) -> None:
        """A NETLINK_ROUTE socket was made: stop this process at every syscall until it closes it (see
        tracer.netlink_watch). Its other running threads are interrupted so that they switch too."""
        if not self._netlink.opened(tracee.tgid, fd) or not self._seccomp:
            return
        for other in list(self.tracees.values()):
            if other.tgid == tracee.tgid and other.tid != tracee.tid and other.launched \
                    and other.state is TraceeState.RUNNING and other.pending is None:
                try:
                    pt.interrupt(other.tid)
                except pt.PtraceError:
                    pass  # gone, or not seized: it switches at its next stop

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
        self._netlink.forget(tracee.tgid)
        was_setup = tracee.before_exec
        if was_setup:
            tracee.origin = Origin.LAUNCHED
        tracee.pending = pending
        if tracee.tgid not in self.builder.procs:
            self._track(tracee.tgid)
        ns = read_namespaces(tracee.tid)
        status = read_status(tracee.tid)
        exe = read_exe(tracee.tid)
        path = exe or ""
        argv = pending.argv if pending and pending.argv is not None else self._argv(read_cmdline(tracee.tid))
        env = pending.env if pending else None
        if env is None and was_setup:
            # The launched command's exec happened before tracing of its syscalls began: we know its environment.
            source = self.options.env if self.options.env is not None else os.environ
            env = [f"{k}={v}" if self.options.show_env else f"{k}={REDACTED}" for k, v in source.items()]
        syscall = pending.name if pending else "execve"
        if pending is not None:
            # The path the program asked for ("/proc/self/exe", "/bin/sh"); the kernel's answer is the exe link.
            # execveat(fd, "", AT_EMPTY_PATH) runs the file behind fd: runc's sealed copy of itself.
            args_path = pending.args.get("path") or pending.args.get("dirfd_path")
            if isinstance(args_path, str) and args_path:
                path = args_path
        self.builder.exec(
            tracee.tgid,
            path=path,
            argv=list(argv or []),
            env=env,
            comm=read_comm(tracee.tid),
            ns=ns,
            nspid=nspid_chain(status),
            old_tid=old_tid if old_tid != tracee.tid else None,
            syscall=syscall,
            caps=capability_masks(status),
            diff=not was_setup,
        )
        if was_setup and tracee.tgid == self._launch_pid and self._seccomp:
            self._check_filter_installed(tracee)
        self._capture_bundle(tracee.tgid, list(argv or []))
        if self._seccomp and tracee.pending is not None:
            tracee.state = TraceeState.TO_EXIT_STOP
        return tracee

    def _capture_bundle(self, pid: int, argv: list[str]) -> None:
        """`runc/crun create|run`: keep the bundle's config.json now, before the runtime reads it (and long before
        the container's deletion removes it). See tracer/spec_capture.py."""
        found = bundle_argument(argv)
        if found is None:
            return
        runtime, bundle = found
        given, path, config, error = read_bundle_config(pid, bundle, self.options.show_env)
        self.builder.emit(BundleConfig(self.builder.next_seq(), self.builder.now(), pid=pid, runtime=runtime,
                                       bundle=given or ".", path=path, config=config, error=error,
                                       layers=overlay_layers(pid, config, path)))

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
        self._netlink.forget(tid)
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
            self._seccomp = False
            tracee.full_stops = True
            self.builder.notice(Level.WARNING,
                f"the seccomp filter could not be installed ({os.strerror(code)}): tracing with a stop at "
                "every syscall instead, which is slower but records the same events",
            )

    def _read_exec_error(self) -> None:
        code = self._launch_report.exec_error() if self._launch_report is not None else None
        if code is not None:
            self.builder.notice(Level.ERROR, f"could not execute the command: {os.strerror(code)}")

    # Namespaces --------------------------------------------------------------------------------------------

    def _track(self, pid: int) -> None:
        """Read a process met without its start (at its exec) into the model."""
        status = read_status(pid)
        self.builder.track(pid, read_namespaces(pid), nspid_chain(status), capability_masks(status))

    def _refresh_namespaces(self, pid: int, tid: int, via: NamespaceVia) -> None:
        if pid in self.builder.procs:
            self.builder.namespaces_read(pid, read_namespaces(tid), via)

    # Mount tables ------------------------------------------------------------------------------------------

    def _snapshot_mounts(self, tracee: _Tracee, moment: str) -> None:
        if not self.builder.claim_mount_moment(tracee.tgid, moment):
            return
        try:
            with open(f"/proc/{tracee.tid}/mountinfo", encoding="utf-8", errors="backslashreplace") as table:
                lines = [line.rstrip("\n") for _, line in zip(range(MAX_MOUNTINFO_LINES), table, strict=False)]
        except OSError:
            return
        self.builder.mount_snapshot(tracee.tgid, moment, lines)

    def _in_new_mount_namespace(self, tracee: _Tracee) -> bool:
        host_mnt = self._host_ns.get("mnt")
        if tracee.tgid not in self.builder.procs or host_mnt is None:
            return False
        current = read_namespaces(tracee.tid).get("mnt")
        return current is not None and current != host_mnt

    def _before_mount_change(self, tracee: _Tracee) -> None:
        if tracee.tgid not in self.builder.procs \
                or self.builder.has_mount_moment(tracee.tgid, "before-first-mount"):
            return
        if self._in_new_mount_namespace(tracee):
            self._snapshot_mounts(tracee, "before-first-mount")

    def _after_mount_change(self, tracee: _Tracee, pending: _Pending) -> None:
        if not self._in_new_mount_namespace(tracee):
            return
        if pending.name == "pivot_root":
            self._snapshot_mounts(tracee, "after-pivot_root")
        elif pending.name == "chroot":
            self._snapshot_mounts(tracee, "after-chroot")
        elif pending.name == "umount2" and self.builder.has_mount_moment(tracee.tgid, "after-pivot_root"):
            if "MNT_DETACH" in (pending.args.get("flags") or []):
                self._snapshot_mounts(tracee, "after-old-root-detached")

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
        kill_launched = self._seccomp or (self._stop_requested.is_set() and not self._attached_pids)
        if launched and kill_launched:
            if self._stop_requested.is_set():
                self.builder.notice(Level.INFO, f"stopped: killed the {len(launched)} traced processes still running")
            else:
                self.builder.notice(Level.WARNING,
                    f"{len(launched)} traced processes outlived the command and were killed: they carry the "
                    "seccomp filter of the default mode, which would make their syscalls fail untraced "
                    "(use --filter all to let them run on)",
                )
            for tracee in launched:
                try:
                    os.kill(tracee.tid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
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
