"""Decoders of the calls that create processes and namespaces or move between them.

clone, clone3, fork, vfork, unshare, setns, and sethostname/setdomainname (the UTS namespace's own settings).
"""

from __future__ import annotations

import struct
from typing import Any

from tracer.decoders import render as r
from tracer.decoders.base import SyscallContext
from tracer.decoders.common import (
    U32,
    fd_path,
    is_pidfd_link,
    namespace_link,
    read_buffer,
    read_int_array,
    s32,
    unreadable,
)
from tracer.events import Category
from tracer.xlat.clone import (
    CLONE3_FLAGS,
    CLONE_FLAGS,
    CLONE_INTO_CGROUP,
    CLONE_NEWCGROUP,
    CLONE_NEWIPC,
    CLONE_NEWNET,
    CLONE_NEWNS,
    CLONE_NEWPID,
    CLONE_NEWUSER,
    CLONE_NEWUTS,
    CLONE_THREAD,
    CSIGNAL,
    SETNS_TYPES,
    UNSHARE_FLAGS,
)
from tracer.xlat.flags import decode_flags
from tracer.xlat.signals import signal_name

#: struct clone_args: eleven u64 fields; the kernel accepts 64 bytes (up to tls), 80 (set_tid) or 88 (cgroup).
_CLONE_ARGS = struct.Struct("<11Q")
_CLONE_ARGS_SIZE_VER0 = 64
#: The kernel refuses more set_tid entries than pid namespace levels (MAX_PID_NS_LEVEL).
_MAX_SET_TID = 32
#: The kernel refuses a hostname or domain name longer than this (__NEW_UTS_LEN).
_UTS_LEN = 64


def _exit_signal(number: int) -> str | None:
    return signal_name(number) if number else None


def decode_clone(ctx: SyscallContext) -> dict[str, Any]:
    """x86_64 order: flags, stack, parent_tid, child_tid, tls. The low byte of flags is the exit signal."""
    raw = ctx.args[0]
    _categorize_clone(ctx, raw)
    return {
        "flags": decode_flags(raw & ~CSIGNAL, CLONE_FLAGS),
        "exit_signal": _exit_signal(raw & CSIGNAL),
    }


# Every namespace flag except CLONE_NEWTIME, whose bit (0x80) clone(2) reads as part of the exit signal.
CLONE_NEW_ANY = (
    CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET
)


def _categorize_clone(ctx: SyscallContext, flags: int) -> None:
    """A clone that only starts a thread builds no container: count it under process, not namespaces."""
    if flags & CLONE_THREAD and not flags & CLONE_NEW_ANY:
        ctx.category = Category.PROCESS


def decode_clone3(ctx: SyscallContext) -> dict[str, Any]:
    """clone3(struct clone_args *args, size_t size): everything is in the struct."""
    addr, size = ctx.args[0], ctx.args[1]
    fetch = min(size, _CLONE_ARGS.size)
    data = ctx.memory.read_bytes(addr, fetch) if fetch >= _CLONE_ARGS_SIZE_VER0 else None
    if data is None or len(data) < fetch:
        return {"clone_args": unreadable(addr) if fetch >= _CLONE_ARGS_SIZE_VER0 else hex(addr), "size": size}
    flags, _pidfd, _ctid, _ptid, exit_signal, _stack, _ssize, _tls, set_tid, set_tid_size, cgroup = (
        _CLONE_ARGS.unpack(data.ljust(_CLONE_ARGS.size, b"\0"))
    )
    _categorize_clone(ctx, flags)
    out: dict[str, Any] = {
        "flags": decode_flags(flags, CLONE3_FLAGS),
        "exit_signal": _exit_signal(exit_signal),
    }
    if set_tid and 0 < set_tid_size <= _MAX_SET_TID:
        out["set_tid"] = read_int_array(ctx, set_tid, set_tid_size)
    if flags & CLONE_INTO_CGROUP:
        out["cgroup"] = s32(cgroup)
        out["cgroup_path"] = fd_path(ctx, s32(cgroup))
    out["size"] = size
    return out


def decode_fork(ctx: SyscallContext) -> dict[str, Any]:
    """fork() and vfork() take no arguments; what matters is the child pid they return."""
    return {}


def decode_unshare(ctx: SyscallContext) -> dict[str, Any]:
    return {"flags": decode_flags(ctx.args[0] & U32, UNSHARE_FLAGS)}


def decode_setns(ctx: SyscallContext) -> dict[str, Any]:
    """setns(fd, nstype): fd is a /proc/PID/ns/* file (one namespace) or a pidfd (any of that process's)."""
    fd = s32(ctx.args[0])
    link = fd_path(ctx, fd)
    out: dict[str, Any] = {"fd": fd}
    kind = namespace_link(link)
    if kind is not None:
        out["namespace"], out["inode"] = kind
    elif is_pidfd_link(link):
        out["pidfd"] = True
    else:
        out["fd_path"] = link
    out["nstype"] = decode_flags(ctx.args[1] & U32, SETNS_TYPES)
    return out


def decode_sethostname(ctx: SyscallContext) -> dict[str, Any]:
    """sethostname(name, len) and setdomainname(name, len): the name is not NUL-terminated, len counts."""
    length = s32(ctx.args[1])
    return {"name": read_buffer(ctx, ctx.args[0], min(max(length, 0), _UTS_LEN)), "length": length}


def _setns_target(args: dict[str, Any]) -> str | None:
    if "namespace" in args:
        return f"{args['fd']}<{args['namespace']}:[{args['inode']}]>"
    if args.get("pidfd"):
        return f"{args['fd']}<pidfd>"
    return r.fd("fd", "fd_path")(args)


LAYOUTS: dict[str, r.Layout] = {
    "clone": (r.flags("flags", "exit_signal", label="flags"),),
    "clone3": (
        r.unless_present(
            "clone_args",
            r.struct(
                r.flags("flags", label="flags"),
                r.when_set("exit_signal", r.value("exit_signal", label="exit_signal")),
                r.value("set_tid", label="set_tid"),
                r.fd("cgroup", "cgroup_path", label="cgroup"),
            ),
        ),
        r.value("size"),
    ),
    "fork": (),
    "vfork": (),
    "unshare": (r.flags("flags"),),
    "setns": (_setns_target, r.flags("nstype")),
    "sethostname": (r.string("name"), r.value("length")),
    "setdomainname": (r.string("name"), r.value("length")),
}
