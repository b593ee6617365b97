"""What the engine does at a syscall's stops: choose what to record, decode it, and what follows from it.

At an entry (or seccomp) stop the call is decoded from the stopped tracee's registers and memory and kept as the
tracee's pending call; a what-if rule may make the kernel skip it. At the exit stop it becomes a Syscall event,
and what it changed is read while the tracee is still stopped: its namespaces (unshare, setns), the mount table at
the moments that matter (before the first mount in a new mount namespace, after pivot_root/chroot, after the old
root is detached), the peer of a connect, a NETLINK_ROUTE socket to follow. The stop loop (tracer/engine.py)
decides when these run and resumes the tracee; events are stamped by tracer/builder.py.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from tracer import ptrace_api as pt
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
from tracer.events import REDACTED, BundleConfig, Category, Fault, Ipc, NamespaceVia, Syscall
from tracer.inject import REACTION_NRS, Injector
from tracer.memory import ProcessMemory
from tracer.namespaces import nspid_chain, read_cmdline, read_comm, read_exe, read_namespaces, read_status
from tracer.netlink_watch import NetlinkWatch
from tracer.sockets import listener_of
from tracer.spec_capture import bundle_argument, overlay_layers, read_bundle_config
from tracer.tracees import Pending as _Pending
from tracer.tracees import Tracee as _Tracee
from tracer.tracees import TraceError, TraceeState, TraceOptions
from tracer.xlat.errnos import errno_name

NAMESPACE_SYSCALLS = syscalls_with(Trait.OWN_NAMESPACES)
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


class SyscallRecorder:
    """Records the syscalls of one trace's tracees. `tracees` is the engine's own table (a fault or a netlink
    socket switches other threads to full stops); `argv` is how a command line is recorded (redaction)."""

    def __init__(self, options: TraceOptions, builder: EventBuilder, tracees: dict[int, _Tracee],
                 argv: Callable[[list[str]], list[str]], host_ns: dict[str, int]) -> None:
        self.options = options
        self.builder = builder
        self.tracees = tracees
        self._argv = argv
        self._host_ns = host_ns
        #: Launched tracees carry the seccomp filter: only recorded syscalls stop them.
        self.seccomp = False
        nrs = set(CONTAINER_SYSCALL_NRS)
        self.injector: Injector | None = None
        extra = tuple(options.extra_syscalls)
        if options.inject:
            self.injector = Injector(tuple(options.inject), scope=options.inject_scope)
            extra += self.injector.syscall_names
        for name in extra:
            nr = SYSCALL_NRS_BY_NAME.get(name)
            if nr is None:
                raise TraceError(f"unknown syscall name {name!r} for -e")
            nrs.add(nr)
        self.recorded_nrs = frozenset(nrs)
        self._extra_nr_set = frozenset(SYSCALL_NRS_BY_NAME[n] for n in extra)
        self.record_all = options.filter == "all"
        self.dup_nrs = frozenset((SYSCALL_NRS_BY_NAME["dup2"], SYSCALL_NRS_BY_NAME["dup3"]))
        self.netlink = NetlinkWatch()
        self._close_nr = SYSCALL_NRS_BY_NAME["close"]
        #: Where syscalls go as plain tuples instead of Syscall events (see Tracer.send_events_to); None: as events.
        self._syscall_sink: Callable[[tuple[Any, ...]], None] | None = None

    #: How many syscalls a thread is followed at every stop after moving a control file onto fd 0-2: a shell
    #: writes within a few (dup2(3, 1), close(3), write(1, ...)); the watch ends at the first write.
    WATCH_SYSCALLS = 8

    def watch_low_fd(self, tracee: _Tracee, args: tuple[int, ...]) -> None:
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
        return self.injector is not None and self.injector.fired > 0 and not tracee.attached

    def entry(self, tracee: _Tracee, nr: int, args: tuple[int, ...] | None) -> None:
        """`args` None: read from the stop's report (tracer.ptrace_api.info_args) only if the call needs them."""
        if nr == self._close_nr and tracee.tgid in self.netlink:
            if args is None:
                args = pt.info_args()
            self.netlink.closed(tracee.tgid, args[0] & 0xFFFFFFFF)
        if tracee.before_exec or not (self.record_all or nr in self.recorded_nrs or nr in NETLINK_SYSCALL_NRS
                                      or (nr in REACTION_NRS and self._reacting(tracee))):
            tracee.pending = None
            return
        if args is None:
            args = pt.info_args()
        spec = SYSCALLS.get(nr)
        if spec is None or (spec.decode is None and self.record_all
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
        reaction = self.injector.reaction(name, decoded, context) if self._reacting(tracee) else None  # type: ignore[union-attr]
        if reaction:
            # After a fault: what the runtime prints on stdout/stderr and what it removes, for the diagnosis.
            decoded, category = reaction[0], Category(reaction[1])
        if category == "other" and not self.record_all and nr not in self._extra_nr_set and not reaction:
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
        if self.injector is not None and nr in self.injector.nrs:
            self._inject(tracee, pending)
        if name in NO_RETURN_SYSCALLS:
            # exit and exit_group never reach a syscall-exit stop: record them now (pending is cleared, so a
            # seccomp stop does not step to an exit stop that never comes).
            self.exit(tracee, 0, False)

    def _inject(self, tracee: _Tracee, pending: _Pending) -> None:
        """At the entry (or seccomp) stop: if a rule picks this call, make the kernel run nothing (orig_rax -1)."""
        assert self.injector is not None
        hit = self.injector.at_entry(tracee.tid, pending.nr, pending.args, attached=tracee.attached)
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

    def finish_injection(self, tracee: _Tracee, pending: _Pending) -> tuple[int, bool]:
        """At the exit stop of a skipped call: the kernel left -ENOSYS in rax; put the chosen -errno there."""
        assert pending.injected is not None
        value = -pending.injected.errno
        try:
            pt.poke_user(tracee.tid, pt.USER_OFFSET_RAX, value)
        except pt.PtraceError:
            pass
        return value, True

    def exit(self, tracee: _Tracee, rval: int, is_error: bool) -> None:
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
        if not self.netlink.opened(tracee.tgid, fd) or not self.seccomp:
            return
        for other in list(self.tracees.values()):
            if other.tgid == tracee.tgid and other.tid != tracee.tid and other.launched \
                    and other.state is TraceeState.RUNNING and other.pending is None:
                try:
                    pt.interrupt(other.tid)
                except pt.PtraceError:
                    pass  # gone, or not seized: it switches at its next stop

    def capture_bundle(self, pid: int, argv: list[str]) -> None:
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

    def track(self, pid: int) -> None:
        """Read a process met without its start (at its exec) into the model."""
        status = read_status(pid)
        self.builder.track(pid, read_namespaces(pid), nspid_chain(status), capability_masks(status))

    def _refresh_namespaces(self, pid: int, tid: int, via: NamespaceVia) -> None:
        if pid in self.builder.procs:
            self.builder.namespaces_read(pid, read_namespaces(tid), via)

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

    def exec_seen(self, tracee: _Tracee, pending: _Pending | None, old_tid: int, was_setup: bool) -> list[str]:
        """At PTRACE_EVENT_EXEC: the Exec event, from the exec call's decoded arguments where it was recorded and
        from /proc otherwise (the launched command's own exec, before its syscalls were traced). Returns argv."""
        if tracee.tgid not in self.builder.procs:
            self.track(tracee.tgid)
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
        return list(argv or [])
