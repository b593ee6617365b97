"""Decoders of the new mount API (Linux 5.2+), which crun may use instead of mount(2).

fsopen creates a filesystem context, fsconfig sets its options and creates the superblock, fsmount turns it into a
detached mount (an fd), open_tree picks or clones an existing tree, mount_setattr changes mount attributes and
propagation, and move_mount attaches a detached mount somewhere (or moves one).
"""

from __future__ import annotations

from typing import Any

from tracer.decoders import render as r
from tracer.decoders.base import SyscallContext
from tracer.decoders.common import U32, add_dirfd, fd_path, read_string, read_struct, s32, unreadable
from tracer.xlat.at import AT_FLAGS
from tracer.xlat.flags import decode_flags, decode_value
from tracer.xlat.mount_api import (
    FSCONFIG_CMDS,
    FSCONFIG_SET_BINARY,
    FSCONFIG_SET_FD,
    FSCONFIG_SET_PATH,
    FSCONFIG_SET_PATH_EMPTY,
    FSCONFIG_SET_STRING,
    FSMOUNT_FLAGS,
    FSOPEN_FLAGS,
    FSPICK_FLAGS,
    MOUNT_ATTR_FLAGS,
    MOUNT_ATTR_SIZE_VER0,
    MOUNT_PROPAGATION,
    MOVE_MOUNT_FLAGS,
    OPEN_TREE_FLAGS,
)


def decode_open_tree(ctx: SyscallContext) -> dict[str, Any]:
    out: dict[str, Any] = {}
    add_dirfd(ctx, out, "dirfd", ctx.args[0])
    out["path"] = read_string(ctx, ctx.args[1], note="path")
    out["flags"] = decode_flags(ctx.args[2] & U32, OPEN_TREE_FLAGS)
    return out


def decode_move_mount(ctx: SyscallContext) -> dict[str, Any]:
    out: dict[str, Any] = {}
    add_dirfd(ctx, out, "from_dirfd", ctx.args[0])
    out["from_path"] = read_string(ctx, ctx.args[1], note="from_path")
    add_dirfd(ctx, out, "to_dirfd", ctx.args[2])
    out["to_path"] = read_string(ctx, ctx.args[3], note="to_path")
    out["flags"] = decode_flags(ctx.args[4] & U32, MOVE_MOUNT_FLAGS)
    return out


def decode_fsopen(ctx: SyscallContext) -> dict[str, Any]:
    return {"fsname": read_string(ctx, ctx.args[0]), "flags": decode_flags(ctx.args[1] & U32, FSOPEN_FLAGS)}


def decode_fsconfig(ctx: SyscallContext) -> dict[str, Any]:
    """fsconfig(fd, cmd, key, value, aux): what value means depends on cmd."""
    fd, cmd = s32(ctx.args[0]), s32(ctx.args[1])
    out: dict[str, Any] = {
        "fd": fd,
        "cmd": decode_value(cmd, FSCONFIG_CMDS),
        "key": read_string(ctx, ctx.args[2]),
    }
    if cmd in (FSCONFIG_SET_STRING, FSCONFIG_SET_PATH, FSCONFIG_SET_PATH_EMPTY):
        out["value"] = read_string(ctx, ctx.args[3])
    elif cmd == FSCONFIG_SET_BINARY:
        out["value_size"] = s32(ctx.args[4])
    if cmd in (FSCONFIG_SET_PATH, FSCONFIG_SET_PATH_EMPTY, FSCONFIG_SET_FD):
        out["aux"] = s32(ctx.args[4])
    return out


def decode_fsmount(ctx: SyscallContext) -> dict[str, Any]:
    fd = s32(ctx.args[0])
    return {
        "fs_fd": fd,
        "flags": decode_flags(ctx.args[1] & U32, FSMOUNT_FLAGS),
        "attr_flags": decode_flags(ctx.args[2] & U32, MOUNT_ATTR_FLAGS),
    }


def decode_fspick(ctx: SyscallContext) -> dict[str, Any]:
    out: dict[str, Any] = {}
    add_dirfd(ctx, out, "dirfd", ctx.args[0])
    out["path"] = read_string(ctx, ctx.args[1], note="path")
    out["flags"] = decode_flags(ctx.args[2] & U32, FSPICK_FLAGS)
    return out


def _mount_attr(ctx: SyscallContext, out: dict[str, Any], addr: int, size: int) -> None:
    """struct mount_attr {u64 attr_set, attr_clr, propagation, userns_fd} into out."""
    fields = read_struct(ctx, addr, "<4Q") if size >= MOUNT_ATTR_SIZE_VER0 else None
    if fields is None:
        out["attr"] = None if addr == 0 else unreadable(addr)
        return
    attr_set, attr_clr, propagation, userns_fd = fields
    out["attr_set"] = decode_flags(attr_set, MOUNT_ATTR_FLAGS)
    out["attr_clr"] = decode_flags(attr_clr, MOUNT_ATTR_FLAGS)
    out["propagation"] = decode_value(propagation, MOUNT_PROPAGATION, unknown="hex") if propagation else None
    if "MOUNT_ATTR_IDMAP" in out["attr_set"]:
        out["userns_fd"] = s32(userns_fd)
        out["userns_path"] = fd_path(ctx, s32(userns_fd))


def decode_mount_setattr(ctx: SyscallContext) -> dict[str, Any]:
    """mount_setattr(dirfd, path, flags, struct mount_attr *attr, size)."""
    out: dict[str, Any] = {}
    add_dirfd(ctx, out, "dirfd", ctx.args[0])
    out["path"] = read_string(ctx, ctx.args[1], note="path")
    out["flags"] = decode_flags(ctx.args[2] & U32, AT_FLAGS)
    _mount_attr(ctx, out, ctx.args[3], ctx.args[4])
    out["size"] = ctx.args[4]
    return out


def decode_open_tree_attr(ctx: SyscallContext) -> dict[str, Any]:
    """open_tree_attr(dirfd, path, flags, struct mount_attr *attr, size): open_tree, then mount_setattr."""
    out = decode_open_tree(ctx)
    _mount_attr(ctx, out, ctx.args[3], ctx.args[4])
    out["size"] = ctx.args[4]
    return out


_ATTR = (
    r.unless_present(
        "attr",
        r.struct(
            r.flags("attr_set", label="attr_set"),
            r.flags("attr_clr", label="attr_clr"),
            r.when_set("propagation", r.value("propagation", label="propagation")),
            r.fd("userns_fd", "userns_path", label="userns_fd"),
        ),
    ),
    r.value("size"),
)

LAYOUTS: dict[str, r.Layout] = {
    "open_tree": (r.fd("dirfd", "dirfd_path"), r.string("path"), r.flags("flags")),
    "open_tree_attr": (r.fd("dirfd", "dirfd_path"), r.string("path"), r.flags("flags"), *_ATTR),
    "move_mount": (
        r.fd("from_dirfd", "from_dirfd_path"),
        r.string("from_path"),
        r.fd("to_dirfd", "to_dirfd_path"),
        r.string("to_path"),
        r.flags("flags"),
    ),
    "fsopen": (r.string("fsname"), r.flags("flags")),
    "fsconfig": (
        r.value("fd"),
        r.value("cmd"),
        r.string("key"),
        r.string("value"),
        r.value("value_size"),
        r.value("aux"),
    ),
    "fsmount": (r.value("fs_fd"), r.flags("flags"), r.flags("attr_flags")),
    "fspick": (r.fd("dirfd", "dirfd_path"), r.string("path"), r.flags("flags")),
    "mount_setattr": (r.fd("dirfd", "dirfd_path"), r.string("path"), r.flags("flags"), *_ATTR),
}
