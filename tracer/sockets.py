"""Who is connected to whom over AF_UNIX sockets, asked of the kernel (sock_diag), as `ss -xp` does.

dockerd's connection to containerd is opened long before a trace starts, so no connect() shows it. The kernel's
socket table does: each connected socket knows its peer's inode, and the accepting side carries the listening
socket's path. Mapping inodes to processes takes a look at /proc/PID/fd.
"""

from __future__ import annotations

import os
import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass

NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
NLM_F_REQUEST = 0x1
NLM_F_DUMP = 0x300
NLMSG_ERROR = 2
NLMSG_DONE = 3
UDIAG_SHOW_NAME = 0x1
UDIAG_SHOW_PEER = 0x4
UNIX_DIAG_NAME = 0
UNIX_DIAG_PEER = 2
TCP_LISTEN = 10

_NLMSGHDR = struct.Struct("=IHHII")
_UNIX_DIAG_REQ = struct.Struct("=BBHIIIII")
_UNIX_DIAG_MSG = struct.Struct("=BBBBIII")
_RTATTR = struct.Struct("=HH")


@dataclass(frozen=True, slots=True)
class UnixSocket:
    inode: int
    path: str | None  # "@name" for abstract sockets
    peer: int | None
    listening: bool


def unix_sockets() -> dict[int, UnixSocket]:
    """Every AF_UNIX socket on the machine (in the caller's network namespace), by inode. Empty if refused."""
    try:
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_SOCK_DIAG)
    except OSError:
        return {}
    found: dict[int, UnixSocket] = {}
    with sock:
        request = _UNIX_DIAG_REQ.pack(socket.AF_UNIX, 0, 0, 0xFFFFFFFF, 0, UDIAG_SHOW_NAME | UDIAG_SHOW_PEER, 0, 0)
        header = _NLMSGHDR.pack(_NLMSGHDR.size + len(request), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, 1, 0)
        try:
            sock.send(header + request)
            while True:
                data = sock.recv(65536)
                if not data:
                    return found
                if _parse(data, found):
                    return found
        except OSError:
            return found


def _parse(data: bytes, found: dict[int, UnixSocket]) -> bool:
    """Add the sockets in one netlink datagram; True when the dump is done."""
    offset = 0
    while offset + _NLMSGHDR.size <= len(data):
        length, kind, _, _, _ = _NLMSGHDR.unpack_from(data, offset)
        if length < _NLMSGHDR.size:
            return True
        if kind in (NLMSG_DONE, NLMSG_ERROR):
            return True
        body = offset + _NLMSGHDR.size
        _, _, state, _, inode, _, _ = _UNIX_DIAG_MSG.unpack_from(data, body)
        path: str | None = None
        peer: int | None = None
        attr = body + _UNIX_DIAG_MSG.size
        end = offset + length
        while attr + _RTATTR.size <= end:
            attr_len, attr_type = _RTATTR.unpack_from(data, attr)
            if attr_len < _RTATTR.size:
                break
            payload = data[attr + _RTATTR.size : attr + attr_len]
            if attr_type == UNIX_DIAG_NAME and payload:
                if payload[0] == 0:
                    path = "@" + payload[1:].decode("utf-8", "backslashreplace")
                else:
                    path = payload.rstrip(b"\0").decode("utf-8", "backslashreplace")
            elif attr_type == UNIX_DIAG_PEER and len(payload) >= 4:
                peer = struct.unpack_from("=I", payload)[0] or None
            attr += (attr_len + 3) & ~3
        found[inode] = UnixSocket(inode, path, peer, state == TCP_LISTEN)
        offset += (length + 3) & ~3
    return False


def socket_inodes(pid: int) -> set[int]:
    """Inodes of the sockets process `pid` holds open."""
    inodes: set[int] = set()
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return inodes
    for fd in fds:
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(int(link[8:-1]))
    return inodes


@dataclass(frozen=True, slots=True)
class Connection:
    client: int  # pid
    server: int  # pid
    path: str


def connections_between(pids: Iterable[int]) -> list[Connection]:
    """AF_UNIX connections whose two ends are both held by `pids`, client first, named by the server's path."""
    owners: dict[int, int] = {}
    for pid in pids:
        for inode in socket_inodes(pid):
            owners.setdefault(inode, pid)
    if not owners:
        return []
    table = unix_sockets()
    seen: set[tuple[int, int, str]] = set()
    out: list[Connection] = []
    for inode, pid in owners.items():
        sock = table.get(inode)
        if sock is None or sock.peer is None:
            continue
        peer_pid = owners.get(sock.peer)
        peer = table.get(sock.peer)
        if peer_pid is None or peer_pid == pid or peer is None:
            continue
        # The accepting side carries the listening socket's path; the connecting side has none.
        if sock.path is None and peer.path is not None:
            key = (pid, peer_pid, peer.path)
            if key not in seen:
                seen.add(key)
                out.append(Connection(client=pid, server=peer_pid, path=peer.path))
    return out


def listener_of(path: str, candidates: Iterable[int]) -> int | None:
    """The pid among `candidates` holding the listening socket bound to `path`."""
    table = unix_sockets()
    listening = {s.inode for s in table.values() if s.listening and s.path == path}
    if not listening:
        return None
    for pid in candidates:
        if socket_inodes(pid) & listening:
            return pid
    return None
