"""Decoders of file calls that matter when building a container: opens and writes of control files, device
nodes, directories and symlinks of the new root, pipes.

A write's content is recorded only for namespace and cgroup control files (uid_map, cgroup.procs, memory.max...):
everything else a program writes may be a secret, so only its fd, path and size are kept.
"""

from __future__ import annotations

from typing import Any

from tracer.decoders import render as r
from tracer.decoders.base import SyscallContext
from tracer.decoders.common import (
    U32,
    absolute_path,
    add_dirfd,
    control_file_category,
    fd_path,
    read_buffer,
    read_int_array,
    read_string,
    s32,
)
from tracer.xlat.flags import decode_flags, decode_value
from tracer.xlat.open import O_ACCMODE, O_CREAT, O_TMPFILE, OPEN_ACCESS_MODES, OPEN_FLAGS
from tracer.xlat.stat import FILE_TYPES, S_IALLUGO, S_IFMT

_S_IFCHR = 0o020000
_S_IFBLK = 0o060000


def open_flags(raw: int) -> list[str]:
    """The access mode (O_RDONLY is 0, so it is never a bit) followed by the other flags."""
    raw &= U32
    return [decode_value(raw & O_ACCMODE, OPEN_ACCESS_MODES, unknown="hex")] + decode_flags(
        raw & ~O_ACCMODE, OPEN_FLAGS
    )


def _refine(ctx: SyscallContext, base: int | str, path: str | None) -> None:
    """Opening (or creating) a cgroup or id-map control file is a cgroup or privilege step, not plain file I/O."""
    category = control_file_category(absolute_path(ctx, base, path))
    if category is not None:
        ctx.category = category


def _open(
    ctx: SyscallContext, out: dict[str, Any], base: int | str, path_arg: int, flags_arg: int, mode_arg: int
) -> dict[str, Any]:
    out["path"] = read_string(ctx, path_arg, note="path")
    out["flags"] = open_flags(flags_arg)
    if flags_arg & O_CREAT or flags_arg & O_TMPFILE == O_TMPFILE:
        out["mode"] = mode_arg & S_IALLUGO
    _refine(ctx, base, out["path"])
    return out


def decode_open(ctx: SyscallContext) -> dict[str, Any]:
    return _open(ctx, {}, "AT_FDCWD", ctx.args[0], ctx.args[1], ctx.args[2])


def decode_openat(ctx: SyscallContext) -> dict[str, Any]:
    out: dict[str, Any] = {}
    base = add_dirfd(ctx, out, "dirfd", ctx.args[0])
    return _open(ctx, out, base, ctx.args[1], ctx.args[2], ctx.args[3])


def decode_write(ctx: SyscallContext) -> dict[str, Any]:
    """write(fd, buf, count): the data only for control files, whose content is the point (see module doc)."""
    fd = s32(ctx.args[0])
    path = fd_path(ctx, fd)
    out: dict[str, Any] = {"fd": fd, "path": path, "count": ctx.args[2]}
    category = control_file_category(path)
    if category is not None:
        ctx.category = category
        out["data"] = read_buffer(ctx, ctx.args[1], ctx.args[2])
    return out


def _mknod(
    ctx: SyscallContext, out: dict[str, Any], base: int | str, path_arg: int, mode: int, dev: int
) -> dict[str, Any]:
    out["path"] = read_string(ctx, path_arg, note="path")
    file_type = mode & S_IFMT
    out["type"] = decode_value(file_type, FILE_TYPES, unknown="oct") if file_type else "0"
    out["mode"] = mode & S_IALLUGO
    if file_type in (_S_IFCHR, _S_IFBLK):
        # The kernel takes a 32-bit dev_t here and splits it with new_decode_dev (12-bit major, 20-bit minor).
        dev &= U32
        out["major"] = (dev & 0xFFF00) >> 8
        out["minor"] = (dev & 0xFF) | ((dev >> 12) & 0xFFF00)
    _refine(ctx, base, out["path"])
    return out


def decode_mknod(ctx: SyscallContext) -> dict[str, Any]:
    return _mknod(ctx, {}, "AT_FDCWD", ctx.args[0], ctx.args[1] & U32, ctx.args[2])


def decode_mknodat(ctx: SyscallContext) -> dict[str, Any]:
    out: dict[str, Any] = {}
    base = add_dirfd(ctx, out, "dirfd", ctx.args[0])
    return _mknod(ctx, out, base, ctx.args[1], ctx.args[2] & U32, ctx.args[3])


def decode_mkdir(ctx: SyscallContext) -> dict[str, Any]:
    """mkdir(path, mode). Under /sys/fs/cgroup, making a directory creates a cgroup."""
    path = read_string(ctx, ctx.args[0], note="path")
    out: dict[str, Any] = {"path": path, "mode": ctx.args[1] & S_IALLUGO}
    _refine(ctx, "AT_FDCWD", path)
    return out


def decode_mkdirat(ctx: SyscallContext) -> dict[str, Any]:
    out: dict[str, Any] = {}
    base = add_dirfd(ctx, out, "dirfd", ctx.args[0])
    out["path"] = read_string(ctx, ctx.args[1], note="path")
    out["mode"] = ctx.args[2] & S_IALLUGO
    _refine(ctx, base, out["path"])
    return out


def decode_symlink(ctx: SyscallContext) -> dict[str, Any]:
    """symlink(target, linkpath): the link's text is stored as given, it is not resolved."""
    return {
        "target": read_string(ctx, ctx.args[0]),
        "linkpath": read_string(ctx, ctx.args[1], note="linkpath"),
    }


def decode_symlinkat(ctx: SyscallContext) -> dict[str, Any]:
    out: dict[str, Any] = {"target": read_string(ctx, ctx.args[0])}
    add_dirfd(ctx, out, "newdirfd", ctx.args[1])
    out["linkpath"] = read_string(ctx, ctx.args[2], note="linkpath")
    return out


def decode_pipe2(ctx: SyscallContext) -> dict[str, Any]:
    return {"flags": decode_flags(ctx.args[1] & U32, OPEN_FLAGS)}


def decode_pipe2_exit(ctx: SyscallContext, args: dict[str, Any], ret: int) -> None:
    """After a successful pipe2, the two fds the kernel wrote: [read end, write end]."""
    if ret == 0:
        args["fds"] = read_int_array(ctx, ctx.args[0], 2)


def _mknod_mode(args: dict[str, Any]) -> str:
    """S_IFCHR|0666, as strace prints a mknod mode."""
    return f"{args.get('type')}|0{args.get('mode', 0):o}"


def _makedev(args: dict[str, Any]) -> str | None:
    if "major" not in args:
        return None
    return f"makedev({args['major']:#x}, {args['minor']:#x})"


def _written(args: dict[str, Any]) -> str:
    """The data for a control file; "..." where the content was deliberately not recorded."""
    return r.string("data")(args) or "..."


LAYOUTS: dict[str, r.Layout] = {
    "open": (r.string("path"), r.flags("flags"), r.octal("mode")),
    "openat": (r.fd("dirfd", "dirfd_path"), r.string("path"), r.flags("flags"), r.octal("mode")),
    "write": (r.fd("fd", "path"), _written, r.value("count")),
    "mknod": (r.string("path"), _mknod_mode, _makedev),
    "mknodat": (r.fd("dirfd", "dirfd_path"), r.string("path"), _mknod_mode, _makedev),
    "mkdir": (r.string("path"), r.octal("mode")),
    "mkdirat": (r.fd("dirfd", "dirfd_path"), r.string("path"), r.octal("mode")),
    "symlink": (r.string("target"), r.string("linkpath")),
    "symlinkat": (r.string("target"), r.fd("newdirfd", "newdirfd_path"), r.string("linkpath")),
    "pipe2": (r.value("fds"), r.flags("flags")),
}
