"""Helpers every decoder family shares: register values as C types, tracee strings and fds, control files.

Registers arrive as unsigned 64-bit numbers; a C `int` argument (an fd, a pid) must be cut to 32 bits and read
as signed. Memory is read only through `ctx.memory`; whatever cannot be read becomes None (a NULL pointer) or an
"<unreadable: 0x...>" string, never an exception.
"""

from __future__ import annotations

import posixpath
import re
import struct
from typing import Any

from tracer.decoders.base import SyscallContext
from tracer.events import Category
from tracer.xlat.at import AT_FDCWD

U32 = 0xFFFFFFFF
U64 = 0xFFFFFFFFFFFFFFFF

#: The most bytes of a buffer (write's data, a hostname) a decoder copies.
MAX_BUFFER = 4096

_PROC_FD = re.compile(r"^/proc/(self|thread-self|\d+)(?:/task/\d+)?/fd/(\d+)$")
_ID_MAP_FILE = re.compile(
    r"^/proc/(?:self|thread-self|\d+)(?:/task/\d+)?/(?:uid_map|gid_map|setgroups|projid_map)$"
)
_NAMESPACE_LINK = re.compile(r"^([a-z_]+):\[(\d+)\]$")
CGROUP_ROOT = "/sys/fs/cgroup"
SYSCTL_ROOT = "/proc/sys"


def s32(raw: int) -> int:
    """A register as a C int (fds, pids, ids, signal numbers)."""
    raw &= U32
    return raw - (1 << 32) if raw & 0x80000000 else raw


def s64(raw: int) -> int:
    """A register as a C long."""
    raw &= U64
    return raw - (1 << 64) if raw & (1 << 63) else raw


def unreadable(addr: int) -> str:
    return f"<unreadable: {addr:#x}>"


def text_of(data: bytes) -> str:
    """Bytes as text the way TraceeMemory.read_string returns it: non-UTF-8 bytes as \\xNN escapes."""
    return data.decode("utf-8", "backslashreplace")


def read_string(ctx: SyscallContext, addr: int, note: str | None = None) -> str | None:
    """A NUL-terminated string argument: None for NULL, "<unreadable: ...>" when the pointer is bad.

    With `note`, a path of the form /proc/self/fd/N (how runc names mount targets) is resolved while the tracee is
    stopped and stored as ctx.notes[note], so a reader sees both the string and the real place.
    """
    if addr == 0:
        return None
    text = ctx.memory.read_string(addr)
    if text is None:
        return unreadable(addr)
    if note is not None:
        resolved = resolve_proc_fd(ctx, text)
        if resolved is not None:
            ctx.notes[note] = resolved
    return text


def read_buffer(ctx: SyscallContext, addr: int, size: int) -> str | None:
    """`size` bytes (at most MAX_BUFFER) as text; None for NULL, "<unreadable: ...>" for a bad pointer."""
    if addr == 0:
        return None
    data = ctx.memory.read_bytes(addr, max(0, min(size, MAX_BUFFER)))
    return unreadable(addr) if data is None else text_of(data)


def read_struct(ctx: SyscallContext, addr: int, layout: str) -> tuple[Any, ...] | None:
    """A little-endian struct (struct module syntax) at addr, or None if NULL or unreadable."""
    if addr == 0:
        return None
    size = struct.calcsize(layout)
    data = ctx.memory.read_bytes(addr, size)
    if data is None or len(data) < size:
        return None
    return struct.unpack(layout, data)


def read_int_array(ctx: SyscallContext, addr: int, count: int, item: str = "i") -> list[int] | str | None:
    """`count` C ints (or another struct item type) at addr; None for NULL, "<unreadable...>" if bad."""
    if addr == 0:
        return None
    values = read_struct(ctx, addr, f"<{count}{item}")
    return unreadable(addr) if values is None else list(values)


def fd_path(ctx: SyscallContext, fd: int) -> str | None:
    """What the tracee's fd refers to ("/etc/passwd", "mnt:[4026531841]", "socket:[123]"), or None."""
    return ctx.memory.fd_path(fd) if fd >= 0 else None


def dirfd(raw: int) -> int | str:
    """A dirfd argument: "AT_FDCWD" for the special value, else the fd number."""
    fd = s32(raw)
    return "AT_FDCWD" if fd == AT_FDCWD else fd


def add_dirfd(ctx: SyscallContext, out: dict[str, Any], key: str, raw: int) -> int | str:
    """Store a dirfd argument, and beside it (key_path) the directory it names when it is a real fd."""
    value = dirfd(raw)
    out[key] = value
    if isinstance(value, int):
        out[f"{key}_path"] = fd_path(ctx, value)
    return value


def namespace_link(link: str | None) -> tuple[str, int] | None:
    """("mnt", 4026531841) for a namespace fd's link text "mnt:[4026531841]"."""
    match = _NAMESPACE_LINK.match(link or "")
    return (match[1], int(match[2])) if match else None


def is_pidfd_link(link: str | None) -> bool:
    return link is not None and (link == "anon_inode:[pidfd]" or link.startswith("pidfd:"))


def resolve_proc_fd(ctx: SyscallContext, path: str) -> str | None:
    """The target of /proc/self/fd/N (or /proc/<own pid>/fd/N) in the tracee, or None for other paths."""
    match = _PROC_FD.match(path)
    if match is None:
        return None
    owner = match[1]
    if owner not in ("self", "thread-self") and int(owner) not in (ctx.pid, ctx.tid):
        return None
    return ctx.memory.fd_path(int(match[2]))


def absolute_path(ctx: SyscallContext, base: int | str, path: str | None) -> str | None:
    """Where a (dirfd, path) pair points, as an absolute path when it can be known; None otherwise."""
    if path is None or path.startswith("<unreadable"):
        return None
    if path.startswith("/"):
        return posixpath.normpath(path)
    directory = (
        ctx.memory.cwd() if base == "AT_FDCWD" else fd_path(ctx, base) if isinstance(base, int) else None
    )
    if not directory or not directory.startswith("/"):
        return None
    return posixpath.normpath(posixpath.join(directory, path))


def control_file_category(path: str | None) -> Category | None:
    """The category of a namespace or cgroup control file, None for any other path.

    Writing /proc/PID/uid_map, gid_map or setgroups sets up a user namespace's ids (privileges); anything under
    /sys/fs/cgroup is cgroup configuration (cgroup.procs moves a process, memory.max limits it...). A write under
    /proc/sys is a sysctl (a bundle's linux.sysctl): runc accepts only those that belong to a namespace of the
    container (net.*, the IPC ones, kernel.domainname/hostname: libcontainer/configs/validate), so they count as
    namespace setup, like the rtnetlink messages that configure a network namespace.
    """
    if path is None:
        return None
    if path == CGROUP_ROOT or path.startswith(CGROUP_ROOT + "/"):
        return Category.CGROUPS
    if _ID_MAP_FILE.match(path):
        return Category.PRIVILEGES
    if path.startswith(SYSCTL_ROOT + "/"):
        return Category.NAMESPACES
    return None
