"""Attaching to running processes (dockerd, containerd) and letting go of every tracee at the end.

The rules that keep the user's daemons alive: PTRACE_SEIZE, never PTRACE_ATTACH (its SIGSTOP can leave a daemon
stopped); never PTRACE_O_EXITKILL and never a seccomp filter on an attached process (the options are per tracee:
only what boxtrace launched carries them, tracer/launch.py); every thread seized, rescanning /proc/PID/task until
two passes find nothing new; and at the end, on every exit path (the command ended, Ctrl-C, SIGTERM, an error),
each tracee is interrupted and detached at its next stop and left running, as strace does.
"""

from __future__ import annotations

import errno
import os
import threading
import time
from collections.abc import Callable

from tracer import ptrace_api as pt
from tracer.builder import EventBuilder
from tracer.capabilities import capability_masks
from tracer.events import Ipc, IpcVia, Level, ProcessVia
from tracer.namespaces import (
    nspid_chain,
    ppid_of,
    read_cmdline,
    read_comm,
    read_exe,
    read_namespaces,
    read_status,
)
from tracer.sockets import connections_between
from tracer.tracees import SYSCALL_STOP, Origin, Tracee, TraceError

#: The ptrace options of an attached process: never EXITKILL, never a seccomp filter (the daemons must outlive
#: the trace).
ATTACH_OPTIONS = pt.BASE_OPTIONS


def attach(
    pids: list[int],
    *,
    tree: bool,
    tracees: dict[int, Tracee],
    attached: set[int],
    builder: EventBuilder,
    stop: threading.Event,
    argv: Callable[[list[str]], list[str]],
) -> None:
    """Seize every thread of `pids` (and, with `tree`, of their descendants) without stopping them for long:
    each becomes an ATTACHED tracee in `tracees`, each process a ProcessStarted (via attach) and a pid in
    `attached`; then the connections that already link them (dockerd -> containerd) from the socket table.
    `argv` is how a command line is recorded (redaction)."""
    targets: list[int] = []
    for pid in pids:
        if not os.path.exists(f"/proc/{pid}"):
            raise TraceError(f"no process with pid {pid}")
        targets.append(pid)
        if tree:
            targets.extend(p for p in descendants(pid) if p not in targets)
    for pid in targets:
        status = read_status(pid)
        try:
            tgid = int(status.get("Tgid", pid))
        except ValueError:
            tgid = pid
        if tgid != pid or pid in attached:
            continue
        seized = seize_threads(pid, ATTACH_OPTIONS, tracees, stop, required=pid in pids)
        if not seized:
            continue
        attached.add(pid)
        fresh = read_status(pid)
        ns = read_namespaces(pid)
        builder.process_started(
            pid,
            ppid=ppid_of(status),
            creator=None,
            via=ProcessVia.ATTACH,
            comm=read_comm(pid),
            argv=argv(read_cmdline(pid)),
            exe=read_exe(pid),
            ns=ns,
            nspid=nspid_chain(fresh),
            threads=sorted(t for t in seized if t != pid),
            caps=capability_masks(fresh),
            attached=True,
        )
    builder.notice(Level.INFO, f"attached to {len(attached)} processes without stopping them")
    # Connections opened before tracing (dockerd -> containerd) show in the kernel's socket table only.
    for link in connections_between(sorted(attached)):
        builder.emit(Ipc(builder.next_seq(), builder.now(), pid=link.client, peer_pid=link.server, path=link.path,
                         via=IpcVia.SOCKET_TABLE, preexisting=True))


def seize_threads(pid: int, options: int, tracees: dict[int, Tracee], stop: threading.Event, *,
                  required: bool) -> list[int]:
    """SEIZE every thread, rescanning until two passes find no new thread (threads keep being created)."""
    seized: list[int] = []
    #: Every tid tried once: a zombie or exiting thread stays listed in /proc/PID/task but refuses SEIZE, and
    #: trying it again on every pass would never give two quiet passes (a zombie child hung `attach` so).
    tried: set[int] = set()
    quiet_passes = 0
    while quiet_passes < 2 and not stop.is_set():
        try:
            tids = sorted(int(t) for t in os.listdir(f"/proc/{pid}/task"))
        except FileNotFoundError:
            break
        new = [t for t in tids if t not in tracees and t not in tried]
        if not new:
            quiet_passes += 1
            continue
        quiet_passes = 0
        tried.update(new)
        for tid in new:
            try:
                pt.seize(tid, options)
            except pt.PtraceError as error:
                if error.errno == errno.ESRCH:
                    continue
                # A descendant that is exiting (or a zombie) refuses with EPERM too: only a pid the user
                # named, and that is alive, makes the refusal fatal.
                if error.errno == errno.EPERM and not seized and required and alive(pid):
                    raise ptrace_refused(error, pid) from None
                continue
            tracees[tid] = Tracee(tid, pid, full_stops=False, origin=Origin.ATTACHED)
            seized.append(tid)
            try:
                pt.interrupt(tid)  # a first stop, so the options take hold and state is known
            except pt.PtraceError:
                pass
    return seized


def detach_all(
    tracees: dict[int, Tracee],
    builder: EventBuilder,
    *,
    adopt: Callable[[int], Tracee | None],
    gone: Callable[[int, int], None],
    timeout: float = 5.0,
) -> None:
    """Let go of every tracee and leave it running. PTRACE_DETACH needs a stopped tracee: interrupt each, detach
    at its next stop (strace does the same). `adopt` makes a tracee of an unknown stopped tid, `gone` handles an
    exit seen meanwhile (the engine's own handlers)."""
    for tracee in list(tracees.values()):
        if tracee.held:
            detach_one(tracee, 0, tracees, builder)
            continue
        try:
            pt.interrupt(tracee.tid)
        except pt.PtraceError:
            tracees.pop(tracee.tid, None)
    deadline = time.monotonic() + timeout
    while tracees and time.monotonic() < deadline:
        try:
            tid, status = os.waitpid(-1, pt.WALL | os.WNOHANG)
        except ChildProcessError:
            break
        if tid == 0:
            time.sleep(0.002)
            continue
        low = status & 0x7F
        if low != 0x7F:
            gone(tid, status)
            continue
        stopped = tracees.get(tid) or adopt(tid)
        if stopped is None:
            continue
        sig = (status >> 8) & 0xFF
        event = status >> 16
        if event in (pt.PTRACE_EVENT_FORK, pt.PTRACE_EVENT_VFORK, pt.PTRACE_EVENT_CLONE):
            try:  # a child born at the last moment is traced too: let go of it at its first stop
                child = pt.get_event_msg(tid)
                tracees.setdefault(child, Tracee(child, child, full_stops=False, origin=Origin.ATTACHED))
            except pt.PtraceError:
                pass
        deliver = sig if (event == 0 and sig != SYSCALL_STOP and pt.has_siginfo(tid)) else 0
        detach_one(stopped, deliver, tracees, builder)
    for tracee in list(tracees.values()):
        builder.notice(Level.WARNING, f"could not detach from {tracee.tid}; the kernel lets go when boxtrace exits")
    tracees.clear()


def detach_one(tracee: Tracee, sig: int, tracees: dict[int, Tracee], builder: EventBuilder) -> None:
    """PTRACE_DETACH a stopped tracee (delivering `sig` if it stopped for a genuine signal); a process leader
    let go of ends its process's story with an Exit marked detached."""
    try:
        pt.detach(tracee.tid, sig)
    except pt.PtraceError:
        pass
    tracees.pop(tracee.tid, None)
    if tracee.tid == tracee.tgid and tracee.tgid in builder.procs:
        builder.exited(tracee.tgid, detached=True)


def ptrace_refused(error: pt.PtraceError, pid: int | None = None) -> TraceError:
    """The one sentence that says why ptrace refused to trace `pid` (None: the launched command) and what to do."""
    target = f"process {pid}" if pid else "the command"
    tracer = tracer_of(pid) if pid else 0
    if error.errno == errno.EPERM and tracer:
        return TraceError(
            f"{target} is already traced by process {tracer} ({read_comm(tracer) or '?'}): a process can have "
            "only one tracer; stop that one first"
        )
    if error.errno == errno.EPERM:
        if os.geteuid() != 0:
            return TraceError(
                f"ptrace refused to trace {target}: run boxtrace as root (sudo) or give it CAP_SYS_PTRACE"
            )
        return TraceError(
            f"ptrace refused to trace {target} even as root: inside a container, run it with "
            "--cap-add SYS_PTRACE (and a seccomp profile that allows ptrace)"
        )
    if error.errno == errno.ESRCH:
        return TraceError(f"{target} is gone")
    return TraceError(f"ptrace failed on {target}: {os.strerror(error.errno or 0)}")


def tracer_of(pid: int) -> int:
    """The pid of the process tracing `pid` (TracerPid), 0 if none."""
    try:
        return int(read_status(pid).get("TracerPid", "0"))
    except ValueError:
        return 0


def alive(pid: int) -> bool:
    """Running or sleeping, not a zombie or dead (state letters Z, X in /proc/PID/stat)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            state = stat.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in (b"Z", b"X")


def descendants(pid: int) -> list[int]:
    """Every process below `pid` in the process tree, from one pass over /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                raw = stat.read()
        except OSError:
            continue
        # The comm field can hold spaces and parentheses: parse after the last ')'.
        rest = raw[raw.rfind(b")") + 2 :].split()
        if len(rest) > 1:
            children.setdefault(int(rest[1]), []).append(int(entry))
    out: list[int] = []
    stack = list(children.get(pid, []))
    while stack:
        child = stack.pop()
        out.append(child)
        stack.extend(children.get(child, []))
    return out
