"""What the tracer asks the kernel about a tracee's netlink socket while the tracee is stopped.

A tracee's fd number says nothing about what it is; /proc/PID/fd/N says only "socket:[inode]". To decode a netlink
message the decoder needs the socket's protocol (rtnetlink, sock_diag, generic...) and, to tell a learner where an
interface lives, the network namespace the socket belongs to (a socket stays in the namespace it was created in,
whatever setns its owner calls later). Both come from a duplicate of the socket:

- pidfd_getfd(2) copies the tracee's fd into the tracer (allowed to a tracer: PTRACE_MODE_ATTACH_REALCREDS);
- getsockopt(SO_DOMAIN, SO_PROTOCOL) gives family and protocol;
- ioctl(SIOCGSKNS) (sock_ioctl in net/socket.c) opens the socket's network namespace; its inode is the namespace's id.

Interface names for the indexes a message carries (an RTM_NEWADDR names its interface only by ifa_index) are asked
in that namespace: a short-lived thread of the tracer joins it with setns(2) (a network namespace is per thread),
opens its own NETLINK_ROUTE socket and dumps the links. Nothing here touches the tracee's socket or its queue.
Every function returns None when the kernel refuses; nothing raises.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import socket
import struct
import threading

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]

SYS_PIDFD_GETFD = 438  # x86_64 and the generic table
SIOCGSKNS = 0x894C
CLONE_NEWNET = 0x40000000
_SO_DOMAIN, _SO_PROTOCOL = 39, 38
_NLMSG = struct.Struct("=IHHII")
_IFINFO = struct.Struct("=BxHiII")
_RTA = struct.Struct("=HH")


def _duplicate(pid: int, fd: int) -> int | None:
    """The tracee's fd, copied into this process (close it after use), or None."""
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        return None
    try:
        got = _libc.syscall(ctypes.c_long(SYS_PIDFD_GETFD), ctypes.c_int(pidfd), ctypes.c_int(fd), ctypes.c_uint(0))
        return int(got) if got >= 0 else None
    finally:
        os.close(pidfd)


def socket_info(pid: int, fd: int) -> dict[str, int] | None:
    """{"family", "protocol", "netns"} of the socket at fd in process pid; None if it is not a socket or unreadable.

    netns is absent when SIOCGSKNS is refused."""
    copy = _duplicate(pid, fd)
    if copy is None:
        return None
    try:
        try:
            sock = socket.socket(fileno=os.dup(copy))
        except OSError:
            return None
        with sock:
            family = sock.getsockopt(socket.SOL_SOCKET, _SO_DOMAIN)
            protocol = sock.getsockopt(socket.SOL_SOCKET, _SO_PROTOCOL)
        out = {"family": family, "protocol": protocol}
        try:
            nsfd = fcntl.ioctl(copy, SIOCGSKNS)
        except OSError:
            return out
        try:
            out["netns"] = os.fstat(nsfd).st_ino
        finally:
            os.close(nsfd)
        return out
    finally:
        os.close(copy)


def link_names(pid: int, fd: int) -> dict[int, str] | None:
    """index -> name of every interface in the network namespace of the socket at fd in process pid."""
    copy = _duplicate(pid, fd)
    if copy is None:
        return None
    try:
        try:
            nsfd = fcntl.ioctl(copy, SIOCGSKNS)
        except OSError:
            return None
    finally:
        os.close(copy)
    try:
        return links_in_namespace(nsfd)
    finally:
        os.close(nsfd)


def netns_of_pid(tracee: int, pid: int) -> int | None:
    """The network namespace id of `pid` as the tracee names it (IFLA_NET_NS_PID); None when the tracee is in
    another pid namespace than the tracer (its pid numbers would mean other processes here) or pid is gone."""
    try:
        if os.stat(f"/proc/{tracee}/ns/pid").st_ino != os.stat("/proc/self/ns/pid").st_ino:
            return None
        return os.stat(f"/proc/{pid}/ns/net").st_ino
    except OSError:
        return None


def links_in_namespace(nsfd: int) -> dict[int, str] | None:
    """index -> name of the interfaces of the network namespace open at nsfd, asked from a helper thread."""
    result: list[dict[int, str] | None] = [None]

    def ask() -> None:
        # setns changes only this thread's network namespace; the thread ends right after.
        if _libc.setns(nsfd, CLONE_NEWNET) != 0:
            return
        result[0] = _dump_links()

    thread = threading.Thread(target=ask, name="boxtrace-netns-links", daemon=True)
    thread.start()
    thread.join(timeout=2.0)
    return result[0]


def _dump_links() -> dict[int, str] | None:
    """RTM_GETLINK with NLM_F_DUMP on a fresh socket of the calling thread's network namespace."""
    try:
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    except OSError:
        return None
    names: dict[int, str] = {}
    with sock:
        sock.settimeout(1.0)
        body = _IFINFO.pack(0, 0, 0, 0, 0)
        sock.send(_NLMSG.pack(_NLMSG.size + len(body), 18, 0x1 | 0x300, 1, 0) + body)  # RTM_GETLINK, REQUEST|DUMP
        try:
            while True:
                data = sock.recv(65536)
                offset = 0
                while offset + _NLMSG.size <= len(data):
                    length, kind = _NLMSG.unpack_from(data, offset)[:2]
                    if length < _NLMSG.size or kind in (2, 3):  # NLMSG_ERROR, NLMSG_DONE
                        return names
                    _, _, index, _, _ = _IFINFO.unpack_from(data, offset + _NLMSG.size)
                    cursor = offset + _NLMSG.size + _IFINFO.size
                    end = offset + length
                    while cursor + _RTA.size <= end:
                        rta_len, rta_type = _RTA.unpack_from(data, cursor)
                        if rta_len < _RTA.size:
                            break
                        if rta_type == 3:  # IFLA_IFNAME
                            names[index] = data[cursor + 4 : cursor + rta_len].split(b"\0", 1)[0].decode(
                                "utf-8", "backslashreplace")
                        cursor += (rta_len + 3) & ~3
                    offset += (length + 3) & ~3
                if not data:
                    return names
        except OSError:
            return names or None
