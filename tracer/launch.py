"""Launching a command under the tracer: fork a child that stops itself, seize it, let it exec.

The child is PTRACE_SEIZEd with EXITKILL (what boxtrace launched dies with it: it is ours, and it may carry the
seccomp filter, whose syscalls would fail untraced forever), optionally installs the seccomp-bpf program so that
only interesting syscalls stop it, and reports on a close-on-exec pipe what went wrong before its exec (no
filter, or no exec at all). The options are per tracee: attached daemons never get EXITKILL (tracer/attach.py).

Also here: the waker (a child that only sleeps, killed to wake the tracer's blocking waitpid), reaping the launched
command, and the kernel check every stop rests on.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import re
import shutil
import signal
from dataclasses import dataclass

from tracer import ptrace_api as pt
from tracer.attach import ptrace_refused
from tracer.builder import EventBuilder
from tracer.events import Level
from tracer.seccomp_filter import PreparedFilter
from tracer.tracees import Tracee, TraceError, TraceOptions

PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)
_RESETTABLE_SIGNALS = tuple(
    s for s in signal.valid_signals() if s not in (signal.SIGKILL, signal.SIGSTOP) and s < signal.SIGRTMIN
)


class CommandNotFound(TraceError):
    """The command to launch does not exist or cannot be executed (exit code 127)."""


def require_syscall_info(release: str | None = None) -> None:
    """PTRACE_GET_SYSCALL_INFO (Linux 5.3) gives a stop's syscall, arguments and result in one call, and tells
    entry from exit; every stop of the engine rests on it. Debian 12 (6.1) and WSL 2 (5.10+) have it."""
    release = release or platform.release()
    match = re.match(r"(\d+)\.(\d+)", release)
    if match and (int(match[1]), int(match[2])) < (5, 3):
        raise TraceError(
            f"this kernel ({release}) is older than Linux 5.3 and lacks PTRACE_GET_SYSCALL_INFO, which boxtrace "
            "needs at every stop: run it on Debian 12 or another kernel from 5.3 on"
        )


def resolve(command: list[str], env: dict[str, str] | None) -> str:
    """The executable a command names, looked up in PATH (the command's own environment's, if it has one)."""
    name = command[0]
    path = name if "/" in name else shutil.which(name, path=(env or os.environ).get("PATH"))
    if path is None or not os.path.exists(path):
        raise CommandNotFound(f"{name}: command not found")
    if os.path.isdir(path) or not os.access(path, os.X_OK):
        raise CommandNotFound(f"{name}: not an executable file")
    return path


def start_waker() -> int:
    """waitpid blocks; to wake it from another thread or a signal handler we kill a child of ours that does
    nothing else, and its exit ends the wait. PR_SET_PDEATHSIG kills it when this thread dies, so a boxtrace
    killed with SIGKILL leaves no `sleep 86400` behind (posix_spawn cannot set it: fork, then exec)."""
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        try:
            _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if os.getppid() == parent:  # not already orphaned before the prctl
                os.execv("/bin/sleep", ["sleep", "86400"])
        finally:
            os._exit(0)
    return pid


class LaunchReport:
    """The read end of the launched child's report pipe. The child writes `noseccomp:ERRNO` when its filter
    could not be installed and `exec:ERRNO` when its exec failed; the write end closes at a successful exec, so
    reading never blocks once the child has exec'd or ended. Read once: the first question asked consumes it."""

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    def _take(self) -> str | None:
        fd, self._fd = self._fd, None
        if fd is None:
            return None
        try:
            return os.read(fd, 256).decode(errors="replace")
        finally:
            os.close(fd)

    def filter_error(self) -> int | None:
        """At the launched command's exec: the errno with which installing the seccomp filter failed, if it did."""
        message = self._take()
        if message is None or not message.startswith("noseccomp:"):
            return None
        return int(message[10:].strip() or 0)

    def exec_error(self) -> int | None:
        """At the launched command's end: the errno of its failed exec, if it failed."""
        message = self._take()
        if message is None:
            return None
        message = message.split("\n", 1)[1] if message.startswith("noseccomp:") else message
        if message.startswith("exec:"):
            return int(message[5:] or 0)
        return None

    def close(self) -> None:
        """Let go of the pipe unread (the child may still hold the write end: reading could block)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


@dataclass(frozen=True)
class Launched:
    pid: int
    report: LaunchReport


def fork_and_seize(executable: str, command: list[str], options: TraceOptions,
                   prepared: PreparedFilter | None) -> Launched:
    """Fork the command's process, seize it while it is stopped before its exec (with EXITKILL, and
    TRACESECCOMP when it installs `prepared`), and leave it stopped: the caller records it, then sends SIGCONT."""
    ptrace_options = pt.BASE_OPTIONS | pt.PTRACE_O_EXITKILL
    if prepared is not None:
        ptrace_options |= pt.PTRACE_O_TRACESECCOMP
    env = dict(options.env) if options.env is not None else dict(os.environ)
    no_new_privs = os.geteuid() != 0
    output = options.output_path
    run_as = options.run_as
    cwd = options.cwd
    error_read, error_write = os.pipe2(os.O_CLOEXEC)
    pid = os.fork()
    if pid == 0:  # the child: keep to plain system calls until exec
        code = 127
        try:
            os.close(error_read)
            if output is not None:
                fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
                null = os.open("/dev/null", os.O_RDONLY)
                os.dup2(null, 0)
                os.dup2(fd, 1)
                os.dup2(fd, 2)
            if cwd:
                os.chdir(cwd)
            # The program starts with default signal handling, as after any exec from a shell: no handler
            # of ours (Textual's SIGCONT, Python's ignored SIGPIPE) runs in the child, and nothing is blocked.
            try:
                for number in _RESETTABLE_SIGNALS:
                    signal.signal(number, signal.SIG_DFL)
                signal.pthread_sigmask(signal.SIG_SETMASK, ())
            except ValueError:
                pass  # not the main thread after all: exec resets the handlers anyway
            os.kill(os.getpid(), signal.SIGSTOP)  # wait here until the tracer has seized us
            if prepared is not None:
                # Before dropping root: installing a filter without no_new_privs needs CAP_SYS_ADMIN.
                failed = prepared.install(no_new_privs=no_new_privs)
                if failed:
                    # Not fatal: the tracer reads this at the exec and stops this tree at every syscall.
                    os.write(error_write, f"noseccomp:{failed}\n".encode())
            if run_as is not None:
                os.setgroups([])
                os.setgid(run_as[1])
                os.setuid(run_as[0])
            os.execve(executable, command, env)
        except OSError as error:
            os.write(error_write, f"exec:{error.errno}".encode())
            code = 126 if error.errno in (errno.EACCES, errno.ENOEXEC) else 127
        finally:
            os._exit(code)
    os.close(error_write)
    report = LaunchReport(error_read)
    _, status = os.waitpid(pid, os.WUNTRACED)
    if not os.WIFSTOPPED(status):
        report.close()
        raise TraceError(f"{command[0]} ended before it could be traced")
    try:
        pt.seize(pid, ptrace_options)
    except pt.PtraceError as error:
        report.close()
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise ptrace_refused(error) from None
    return Launched(pid, report)


def kill_launched(launched: list[Tracee], builder: EventBuilder, *, interrupted: bool) -> None:
    """At the end: kill what boxtrace launched and is still running (it carries the seccomp filter, or the user
    stopped the trace), and say so."""
    if interrupted:
        builder.notice(Level.INFO, f"stopped: killed the {len(launched)} traced processes still running")
    else:
        builder.notice(Level.WARNING,
            f"{len(launched)} traced processes outlived the command and were killed: they carry the "
            "seccomp filter of the default mode, which would make their syscalls fail untraced "
            "(use --filter all to let them run on)",
        )
    for tracee in launched:
        try:
            os.kill(tracee.tid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def exit_code(status: int) -> int:
    """A wait status as a shell's exit code (128 + the signal for a killed process)."""
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status)
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return 1


def reap(pid: int) -> int | None:
    """Wait for the launched command to end (it is our child, and no longer traced): its exit code, or None if
    it was reaped already."""
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return None
    return exit_code(status)
