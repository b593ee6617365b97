"""Decoders of socket calls that connect processes: connect, bind, socketpair.

A Unix socket address is a path ("/run/containerd/containerd.sock") or, when its first byte is NUL, an abstract
name that lives in the network namespace rather than the filesystem, shown as "@name" like ss and strace do.
"""

from __future__ import annotations

import re
import socket
import struct
from typing import Any

from tracer.decoders import render as r
from tracer.decoders.base import SyscallContext
from tracer.decoders.common import U32, fd_path, read_int_array, s32, text_of, unreadable
from tracer.xlat.flags import decode_flags, decode_value
from tracer.xlat.sockets import (
    ADDRESS_FAMILIES,
    AF_INET,
    AF_INET6,
    AF_NETLINK,
    AF_UNIX,
    SOCK_TYPE_FLAGS,
    SOCK_TYPE_MASK,
    SOCK_TYPES,
)

#: sizeof(struct sockaddr_storage): the kernel never reads more.
_SOCKADDR_MAX = 128
#: A socket path reached through an fd (conmon binds /proc/self/fd/N/attach, podman connects to /proc/self/fd/N):
#: sun_path holds 108 bytes, so long paths are named through an open directory or O_PATH fd.
_THROUGH_FD = re.compile(r"^/proc/(self|thread-self|\d+)(?:/task/\d+)?/fd/(\d+)(/.*)?$")


def resolve_through_fd(ctx: SyscallContext, path: str) -> str | None:
    """The real path of /proc/self/fd/N[/rest] in the stopped tracee, or None for other paths."""
    match = _THROUGH_FD.match(path)
    if match is None or (match[1] not in ("self", "thread-self") and int(match[1]) not in (ctx.pid, ctx.tid)):
        return None
    base = ctx.memory.fd_path(int(match[2]))
    if not base or not base.startswith("/"):
        return None
    return base + (match[3] or "")


def unix_path(body: bytes) -> str:
    """sun_path as text: up to the first NUL, or "@" + every byte of an abstract name (NULs as \\x00)."""
    if body[:1] == b"\0":
        return "@" + text_of(body[1:]).replace("\0", "\\x00")
    return text_of(body.split(b"\0", 1)[0])


def sockaddr(raw: bytes) -> dict[str, Any]:
    """A socket address's family and, for the families boxtrace knows, where it points."""
    family = struct.unpack_from("<H", raw)[0]
    out: dict[str, Any] = {"family": decode_value(family, ADDRESS_FAMILIES)}
    if family == AF_UNIX:
        out["path"] = unix_path(raw[2:])
    elif family == AF_INET and len(raw) >= 8:
        out["port"] = struct.unpack_from(">H", raw, 2)[0]
        out["address"] = socket.inet_ntop(socket.AF_INET, raw[4:8])
    elif family == AF_INET6 and len(raw) >= 24:
        out["port"] = struct.unpack_from(">H", raw, 2)[0]
        out["address"] = socket.inet_ntop(socket.AF_INET6, raw[8:24])
    elif family == AF_NETLINK and len(raw) >= 12:
        out["nl_pid"], out["nl_groups"] = struct.unpack_from("<II", raw, 4)
    return out


def _address_call(ctx: SyscallContext) -> dict[str, Any]:
    """connect/bind(fd, addr, addrlen)."""
    fd, addr, length = s32(ctx.args[0]), ctx.args[1], s32(ctx.args[2])
    out: dict[str, Any] = {"fd": fd, "fd_path": fd_path(ctx, fd), "addrlen": length}
    raw = ctx.memory.read_bytes(addr, min(length, _SOCKADDR_MAX)) if addr and length >= 2 else None
    if raw is None or len(raw) < 2:
        out["address"] = None if addr == 0 else unreadable(addr)
    else:
        out.update(sockaddr(raw))
        resolved = resolve_through_fd(ctx, out.get("path") or "")
        if resolved is not None:
            ctx.notes["path"] = resolved
    return out


def decode_connect(ctx: SyscallContext) -> dict[str, Any]:
    return _address_call(ctx)


def decode_bind(ctx: SyscallContext) -> dict[str, Any]:
    return _address_call(ctx)


def socket_type(raw: int) -> list[str]:
    """SOCK_STREAM|SOCK_CLOEXEC as a list: the type, then its flags."""
    raw &= U32
    return [decode_value(raw & SOCK_TYPE_MASK, SOCK_TYPES)] + decode_flags(
        raw & ~SOCK_TYPE_MASK, SOCK_TYPE_FLAGS
    )


def decode_socketpair(ctx: SyscallContext) -> dict[str, Any]:
    return {
        "domain": decode_value(ctx.args[0] & U32, ADDRESS_FAMILIES),
        "type": socket_type(ctx.args[1]),
        "protocol": s32(ctx.args[2]),
    }


def decode_socketpair_exit(ctx: SyscallContext, args: dict[str, Any], ret: int) -> None:
    """After a successful socketpair, the two connected fds the kernel wrote."""
    if ret == 0:
        args["fds"] = read_int_array(ctx, ctx.args[3], 2)


def _address(args: dict[str, Any]) -> str | None:
    """{sa_family=AF_UNIX, sun_path="/run/x.sock"}, close to strace's form."""
    if "family" not in args:
        return r.value("address")(args)
    parts = [f"sa_family={args['family']}"]
    if "path" in args:
        parts.append(f"sun_path={r.quote(args['path'])}")
    if "port" in args:
        parts.append(f"port={args['port']}, addr={r.quote(args['address'])}")
    if "nl_pid" in args:
        parts.append(f"nl_pid={args['nl_pid']}, nl_groups={args['nl_groups']:#x}")
    return "{" + ", ".join(parts) + "}"


_ADDRESS_LAYOUT: r.Layout = (r.fd("fd", "fd_path"), _address, r.value("addrlen"))

LAYOUTS: dict[str, r.Layout] = {
    "connect": _ADDRESS_LAYOUT,
    "bind": _ADDRESS_LAYOUT,
    "socketpair": (r.value("domain"), r.flags("type"), r.value("protocol"), r.value("fds")),
}
