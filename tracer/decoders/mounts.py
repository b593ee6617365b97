"""Decoders of the calls that change a process's view of the filesystem with mount(2) and friends.

mount, umount2, pivot_root, chroot, chdir, fchdir. (The new mount API is in mount_api.py.)
"""

from __future__ import annotations

from typing import Any

from tracer.decoders import render as r
from tracer.decoders.base import SyscallContext
from tracer.decoders.common import U32, U64, fd_path, read_string, s32
from tracer.xlat.flags import decode_flags
from tracer.xlat.mount import (
    MOUNT_FLAGS,
    MS_BIND,
    MS_MGC_MSK,
    MS_MGC_VAL,
    MS_MOVE,
    MS_PROPAGATION,
    MS_REMOUNT,
)
from tracer.xlat.umount import UMOUNT_FLAGS

#: What mount(2) does for a set of flags, and which arguments it then ignores, in the order the kernel tests them
#: (path_mount in fs/namespace.c): the first matching row wins.
_MOUNT_OPERATIONS: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    # (operation, bits that must all be set, bits of which one must be set, ignored arguments)
    ("reconfigure", MS_REMOUNT | MS_BIND, 0, ("source", "fstype", "data")),
    ("remount", MS_REMOUNT, 0, ("source", "fstype")),
    ("bind", MS_BIND, 0, ("fstype", "data")),
    ("propagation", 0, MS_PROPAGATION, ("source", "fstype", "data")),
    ("move", MS_MOVE, 0, ("fstype", "data")),
)


def mount_operation(flags: int) -> tuple[str, tuple[str, ...]]:
    """("bind", ("fstype", "data")) for MS_BIND|MS_REC: what the kernel will do and what it will not look at."""
    for operation, all_of, any_of, ignored in _MOUNT_OPERATIONS:
        if (all_of and flags & all_of == all_of) or flags & any_of:
            return operation, ignored
    return "new", ()


def decode_mount(ctx: SyscallContext) -> dict[str, Any]:
    """mount(source, target, fstype, flags, data), with the MS_MGC_VAL magic split off like the kernel does."""
    flags = ctx.args[3] & U64
    magic = flags & MS_MGC_MSK == MS_MGC_VAL
    if magic:
        flags &= ~MS_MGC_MSK
    operation, ignored = mount_operation(flags)
    out: dict[str, Any] = {
        "source": read_string(ctx, ctx.args[0], note="source"),
        "target": read_string(ctx, ctx.args[1], note="target"),
        "fstype": read_string(ctx, ctx.args[2]),
        "flags": (["MS_MGC_VAL"] if magic else []) + decode_flags(flags, MOUNT_FLAGS),
        "data": read_string(ctx, ctx.args[4]),
        "operation": operation,
    }
    if ignored:
        out["ignored"] = list(ignored)
    return out


def decode_umount2(ctx: SyscallContext) -> dict[str, Any]:
    return {
        "target": read_string(ctx, ctx.args[0], note="target"),
        "flags": decode_flags(ctx.args[1] & U32, UMOUNT_FLAGS),
    }


def decode_pivot_root(ctx: SyscallContext) -> dict[str, Any]:
    return {
        "new_root": read_string(ctx, ctx.args[0], note="new_root"),
        "put_old": read_string(ctx, ctx.args[1], note="put_old"),
    }


def decode_path(ctx: SyscallContext) -> dict[str, Any]:
    """Calls whose one argument is a path: chroot, chdir."""
    return {"path": read_string(ctx, ctx.args[0], note="path")}


def decode_fchdir(ctx: SyscallContext) -> dict[str, Any]:
    fd = s32(ctx.args[0])
    return {"fd": fd, "path": fd_path(ctx, fd)}


LAYOUTS: dict[str, r.Layout] = {
    "mount": (r.string("source"), r.string("target"), r.string("fstype"), r.flags("flags"), r.string("data")),
    "umount2": (r.string("target"), r.flags("flags")),
    "pivot_root": (r.string("new_root"), r.string("put_old")),
    "chroot": (r.string("path"),),
    "chdir": (r.string("path"),),
    "fchdir": (r.fd("fd", "path"),),
}
