"""Which traced processes hold a NETLINK_ROUTE socket, so that their sends and receives on it can be seen.

The seccomp-bpf program of the default mode sees only syscall numbers and argument registers, not what an fd is:
stopping at every sendto/sendmsg/recvfrom/recvmsg would slow every program that uses sockets. So the program stops
only at socket(AF_NETLINK, ...) (arg0 is the domain); when such a call returns a NETLINK_ROUTE socket, the engine
follows that process at every syscall (PTRACE_SYSCALL) until it closes the last such socket, execs or exits. A
runtime holds its rtnetlink socket for a handful of messages (runc opens one per request), so the extra stops are
few. Limits: an fd duplicated (dup, fcntl F_DUPFD) or passed to another process is not followed, and a socket
inherited across exec (one opened without SOCK_CLOEXEC) is no longer followed after the exec.
"""

from __future__ import annotations


class NetlinkWatch:
    """tgid -> the fds of its NETLINK_ROUTE sockets. `in` tells whether a process is followed."""

    def __init__(self) -> None:
        self._fds: dict[int, set[int]] = {}

    def __contains__(self, tgid: int) -> bool:
        return tgid in self._fds

    def opened(self, tgid: int, fd: int) -> bool:
        """A NETLINK_ROUTE socket was created; True when the process was not followed before."""
        fds = self._fds.setdefault(tgid, set())
        fds.add(fd)
        return len(fds) == 1

    def closed(self, tgid: int, fd: int) -> None:
        """close(fd) in a followed process: stop following it after its last netlink socket."""
        fds = self._fds.get(tgid)
        if fds is not None:
            fds.discard(fd)
            if not fds:
                del self._fds[tgid]

    def forget(self, tgid: int) -> None:
        """The process exec'd or exited."""
        self._fds.pop(tgid, None)
