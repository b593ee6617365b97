"""The syscall dispatch table of boxtrace (x86_64) and the three things done with it.

- `SYSCALLS` maps every x86_64 syscall number to a `SyscallSpec` (name, category, decoder). Names come from
  python-ptrace's table, plus the numbers newer than it. Only the container-relevant syscalls have decoders; the
  others fall back to their six raw registers.
- `decode_syscall(ctx)` turns one syscall at its entry stop into (JSON-ready args, category), and never raises.
- `format_call(name, args, ret, error)` prints a decoded call as one strace-like line from the JSON alone.

Categories (tracer.events.CATEGORIES): namespaces (clone, clone3, fork, vfork, unshare, setns, and
sethostname/setdomainname, because the hostname is the state of the UTS namespace that runc just unshared),
filesystem-view (mount and the new mount API, umount2, pivot_root, chroot, chdir, fchdir, mknod, mkdir, symlink),
process, privileges, cgroups (never static: writes, opens and mkdirs under /sys/fs/cgroup are refined to it by their
decoder), ipc and other. `container` is True exactly for the specs whose category is not "other", plus `write`:
the engine's seccomp filter stops only writes to fds above 2, and the decoder keeps those that hit control files.
open/openat are decoded but not in the container set; their category is refined the same way, so with
--filter all an open of cgroup.procs still shows as cgroups.
"""

from __future__ import annotations

from typing import Any

from ptrace.syscall.linux.x86_64 import SYSCALL_NAMES as _PTRACE_SYSCALL_NAMES
from ptrace.syscall.prototypes import SYSCALL_PROTOTYPES

from tracer.decoders import (
    files,
    limits,
    mount_api,
    mounts,
    namespaces,
    netlink,
    privileges,
    process,
    sockets,
)
from tracer.decoders import render as _render
from tracer.decoders.base import Decoder, ExitDecoder, SyscallContext, SyscallSpec, Trait
from tracer.events import Category, Syscall

__all__ = [
    "CONTAINER_SYSCALL_NRS",
    "LAYOUTS",
    "NETLINK_SYSCALL_NRS",
    "SYSCALLS",
    "SYSCALL_NRS_BY_NAME",
    "SyscallContext",
    "SyscallSpec",
    "Trait",
    "decode_syscall",
    "decode_syscall_exit",
    "format_call",
    "raw_args",
    "raw_syscall_event",
    "syscall_name",
    "syscalls_with",
]

#: x86_64 syscalls newer than python-ptrace's table (arch/x86/entry/syscalls/syscall_64.tbl).
_NEWER_SYSCALL_NAMES: dict[int, str] = {
    441: "epoll_pwait2",
    442: "mount_setattr",
    443: "quotactl_fd",
    444: "landlock_create_ruleset",
    445: "landlock_add_rule",
    446: "landlock_restrict_self",
    447: "memfd_secret",
    448: "process_mrelease",
    449: "futex_waitv",
    450: "set_mempolicy_home_node",
    451: "cachestat",
    452: "fchmodat2",
    453: "map_shadow_stack",
    454: "futex_wake",
    455: "futex_wait",
    456: "futex_requeue",
    457: "statmount",
    458: "listmount",
    459: "lsm_get_self_attr",
    460: "lsm_set_self_attr",
    461: "lsm_list_modules",
    462: "mseal",
    463: "setxattrat",
    464: "getxattrat",
    465: "listxattrat",
    466: "removexattrat",
    467: "open_tree_attr",
}

#: Numbers from 512 on are the x32 ABI's own entries (called with bit 0x40000000 set); a 64-bit tracee never
#: makes them, so they keep their names but are never decoded nor part of the container set.
X32_FIRST_NR = 512

_D = tuple[str, Decoder, ExitDecoder | None]

#: The decoded syscalls: name -> (category, decoder, exit decoder). Same-shaped calls share a decoder.
_DECODED: dict[str, _D] = {
    # namespaces
    "clone": ("namespaces", namespaces.decode_clone, None),
    "clone3": ("namespaces", namespaces.decode_clone3, None),
    "fork": ("namespaces", namespaces.decode_fork, None),
    "vfork": ("namespaces", namespaces.decode_fork, None),
    "unshare": ("namespaces", namespaces.decode_unshare, None),
    "setns": ("namespaces", namespaces.decode_setns, None),
    "sethostname": ("namespaces", namespaces.decode_sethostname, None),
    "setdomainname": ("namespaces", namespaces.decode_sethostname, None),
    # filesystem-view
    "mount": ("filesystem-view", mounts.decode_mount, None),
    "umount2": ("filesystem-view", mounts.decode_umount2, None),
    "pivot_root": ("filesystem-view", mounts.decode_pivot_root, None),
    "chroot": ("filesystem-view", mounts.decode_path, None),
    "chdir": ("filesystem-view", mounts.decode_path, None),
    "fchdir": ("filesystem-view", mounts.decode_fchdir, None),
    "open_tree": ("filesystem-view", mount_api.decode_open_tree, None),
    "open_tree_attr": ("filesystem-view", mount_api.decode_open_tree_attr, None),
    "move_mount": ("filesystem-view", mount_api.decode_move_mount, None),
    "fsopen": ("filesystem-view", mount_api.decode_fsopen, None),
    "fsconfig": ("filesystem-view", mount_api.decode_fsconfig, None),
    "fsmount": ("filesystem-view", mount_api.decode_fsmount, None),
    "fspick": ("filesystem-view", mount_api.decode_fspick, None),
    "mount_setattr": ("filesystem-view", mount_api.decode_mount_setattr, None),
    "mknod": ("filesystem-view", files.decode_mknod, None),
    "mknodat": ("filesystem-view", files.decode_mknodat, None),
    "mkdir": ("filesystem-view", files.decode_mkdir, None),
    "mkdirat": ("filesystem-view", files.decode_mkdirat, None),
    "symlink": ("filesystem-view", files.decode_symlink, None),
    "symlinkat": ("filesystem-view", files.decode_symlinkat, None),
    # process
    "execve": ("process", process.decode_execve, None),
    "execveat": ("process", process.decode_execveat, None),
    "exit": ("process", process.decode_exit, None),
    "exit_group": ("process", process.decode_exit, None),
    "kill": ("process", process.decode_kill, None),
    "tkill": ("process", process.decode_tkill, None),
    "tgkill": ("process", process.decode_tgkill, None),
    "wait4": ("process", process.decode_wait4, process.decode_wait4_exit),
    "umask": ("process", process.decode_umask, None),
    # resource limits: a bundle's process.rlimits (tracer.decoders.limits)
    "setrlimit": ("process", limits.decode_setrlimit, None),
    "prlimit64": ("process", limits.decode_prlimit64, limits.decode_prlimit64_exit),
    # privileges
    "capset": ("privileges", privileges.decode_capset, None),
    "prctl": ("privileges", privileges.decode_prctl, None),
    "seccomp": ("privileges", privileges.decode_seccomp, None),
    "setuid": ("privileges", privileges.decode_setuid, None),
    "setgid": ("privileges", privileges.decode_setgid, None),
    "setreuid": ("privileges", privileges.decode_setreuid, None),
    "setregid": ("privileges", privileges.decode_setregid, None),
    "setresuid": ("privileges", privileges.decode_setresuid, None),
    "setresgid": ("privileges", privileges.decode_setresgid, None),
    "setgroups": ("privileges", privileges.decode_setgroups, None),
    # ipc
    "connect": ("ipc", sockets.decode_connect, None),
    "bind": ("ipc", sockets.decode_bind, None),
    "socketpair": ("ipc", sockets.decode_socketpair, sockets.decode_socketpair_exit),
    # decoded, category refined per call (see the module docstring)
    "write": ("other", files.decode_write, None),
    "open": ("other", files.decode_open, None),
    "openat": ("other", files.decode_openat, None),
    "pipe2": ("other", files.decode_pipe2, files.decode_pipe2_exit),
    # netlink: decoded on netlink sockets only, category refined per call (see tracer.decoders.netlink)
    "socket": ("other", netlink.decode_socket, None),
    "sendto": ("other", netlink.decode_sendto, None),
    "sendmsg": ("other", netlink.decode_sendmsg, None),
    "recvfrom": ("other", netlink.decode_recv, netlink.decode_recvfrom_exit),
    "recvmsg": ("other", netlink.decode_recv, netlink.decode_recvmsg_exit),
}

_T = Trait

#: The traits of each syscall that has any (the one place these memberships are written down).
_TRAITS: dict[str, frozenset[Trait]] = {
    "clone": frozenset({_T.PROCESS, _T.NAMESPACE, _T.NEW_NAMESPACE}),
    "clone3": frozenset({_T.PROCESS, _T.NAMESPACE, _T.NEW_NAMESPACE}),
    "fork": frozenset({_T.PROCESS}),
    "vfork": frozenset({_T.PROCESS}),
    "unshare": frozenset({_T.NAMESPACE, _T.NEW_NAMESPACE, _T.OWN_NAMESPACES}),
    "setns": frozenset({_T.NAMESPACE, _T.OWN_NAMESPACES}),
    "execve": frozenset({_T.EXEC}),
    "execveat": frozenset({_T.EXEC}),
    "exit": frozenset({_T.NEVER_RETURNS}),
    "exit_group": frozenset({_T.NEVER_RETURNS}),
    "mount": frozenset({_T.MOUNT_TABLE, _T.MOUNT}),
    "umount2": frozenset({_T.MOUNT_TABLE}),
    "pivot_root": frozenset({_T.MOUNT_TABLE, _T.ROOT}),
    "chroot": frozenset({_T.ROOT}),
    # The new mount API (mount_api.py): fsopen/fsconfig prepare a superblock, fsmount and open_tree make a
    # detached mount, move_mount attaches it, mount_setattr changes mount attributes.
    "fsopen": frozenset({_T.MOUNT}),
    "fsconfig": frozenset({_T.MOUNT}),
    "fsmount": frozenset({_T.MOUNT_TABLE, _T.MOUNT}),
    "open_tree": frozenset({_T.MOUNT_TABLE, _T.MOUNT}),
    "move_mount": frozenset({_T.MOUNT_TABLE, _T.MOUNT}),
    "mount_setattr": frozenset({_T.MOUNT_TABLE, _T.MOUNT}),
    "setuid": frozenset({_T.IDENTITY}),
    "setgid": frozenset({_T.IDENTITY}),
    "setreuid": frozenset({_T.IDENTITY}),
    "setregid": frozenset({_T.IDENTITY}),
    "setresuid": frozenset({_T.IDENTITY}),
    "setresgid": frozenset({_T.IDENTITY}),
    "setgroups": frozenset({_T.IDENTITY}),
    "setfsuid": frozenset({_T.IDENTITY}),
    "setfsgid": frozenset({_T.IDENTITY}),
    "capset": frozenset({_T.IDENTITY}),
}

#: Decoded but outside the category rule for `container` (see the module docstring).
_CONTAINER_EXCEPTIONS: dict[str, bool] = {"write": True}


#: Argument counts python-ptrace's prototypes lack (its table predates these calls), from their man pages.
_NARGS: dict[str, int] = {
    "clone3": 2, "umount2": 2, "fsopen": 2, "fsconfig": 5, "fsmount": 3, "fspick": 3, "move_mount": 5,
    "open_tree": 3, "open_tree_attr": 5, "mount_setattr": 5, "socket": 3, "sendto": 6, "sendmsg": 3,
    "recvfrom": 6, "recvmsg": 3,
}


def _nargs(name: str) -> int:
    if name in _NARGS:
        return _NARGS[name]
    prototype = SYSCALL_PROTOTYPES.get(name)
    return len(prototype[1]) if prototype else 6


def _spec(nr: int, name: str) -> SyscallSpec:
    if nr >= X32_FIRST_NR:
        return SyscallSpec(name, Category.OTHER, None, container=False)
    traits = _TRAITS.get(name, frozenset())
    if name not in _DECODED:
        return SyscallSpec(name, Category.OTHER, None, container=False, traits=traits)
    category, decode, decode_exit = _DECODED[name]
    container = _CONTAINER_EXCEPTIONS.get(name, category != "other")
    return SyscallSpec(name, Category(category), decode, decode_exit, container=container, nargs=_nargs(name), traits=traits)


_ALL_NAMES: dict[int, str] = {**_NEWER_SYSCALL_NAMES, **_PTRACE_SYSCALL_NAMES}

#: Every x86_64 syscall number -> how boxtrace handles it.
SYSCALLS: dict[int, SyscallSpec] = {nr: _spec(nr, name) for nr, name in sorted(_ALL_NAMES.items())}

#: The native (non-x32) number of each syscall name.
SYSCALL_NRS_BY_NAME: dict[str, int] = {spec.name: nr for nr, spec in SYSCALLS.items() if nr < X32_FIRST_NR}

#: The numbers the default `container` filter (and its seccomp-bpf program) traces.
CONTAINER_SYSCALL_NRS: frozenset[int] = frozenset(nr for nr, spec in SYSCALLS.items() if spec.container)

#: Socket calls decoded only on netlink sockets. The seccomp program cannot see an fd's family, so it stops only at
#: socket(AF_NETLINK, ...); the engine follows a process holding a NETLINK_ROUTE socket (tracer.netlink_watch).
NETLINK_SYSCALL_NRS: frozenset[int] = frozenset(
    SYSCALL_NRS_BY_NAME[name] for name in ("socket", "sendto", "sendmsg", "recvfrom", "recvmsg")
)

#: How each decoded syscall prints (see tracer.decoders.render).
LAYOUTS: dict[str, _render.Layout] = {
    **namespaces.LAYOUTS,
    **mounts.LAYOUTS,
    **mount_api.LAYOUTS,
    **files.LAYOUTS,
    **process.LAYOUTS,
    **limits.LAYOUTS,
    **privileges.LAYOUTS,
    **sockets.LAYOUTS,
    **netlink.LAYOUTS,
}


def syscalls_with(*traits: Trait) -> frozenset[str]:
    """The names of the (native) syscalls that have any of `traits`, e.g. syscalls_with(Trait.EXEC)."""
    wanted = frozenset(traits)
    return frozenset(spec.name for nr, spec in SYSCALLS.items() if nr < X32_FIRST_NR and spec.traits & wanted)


def syscall_name(nr: int) -> str:
    """The syscall's name, or syscall_<nr> for a number no table knows."""
    spec = SYSCALLS.get(nr)
    return spec.name if spec is not None else f"syscall_{nr}"


def raw_args(ctx: SyscallContext) -> dict[str, Any]:
    """The fallback decoding: the six argument registers in hex."""
    return {"args": [hex(value) for value in ctx.args[:6]]}


def decode_syscall(ctx: SyscallContext) -> tuple[dict[str, Any], Category]:
    """(args, category) for a syscall at its entry stop. Never raises: a failing decoder yields
    {"decode_error": ..., "args": [raw registers]}. A category the decoder set on ctx wins over the spec's."""
    spec = SYSCALLS.get(ctx.nr)
    if spec is None or spec.decode is None:
        return raw_args(ctx), ctx.category or (spec.category if spec else Category.OTHER)
    try:
        args = spec.decode(ctx)
    except Exception as exc:  # a decoder bug or a tracee that vanished must not end the trace
        args = {"decode_error": f"{type(exc).__name__}: {exc}", **raw_args(ctx)}
    return args, ctx.category or spec.category


def decode_syscall_exit(ctx: SyscallContext, args: dict[str, Any], ret: int) -> None:
    """Let the spec's exit decoder add what only the exit stop knows (pipe2's fds, wait4's status); never raises."""
    spec = SYSCALLS.get(ctx.nr)
    if spec is None or spec.decode_exit is None or "decode_error" in args:
        return
    try:
        spec.decode_exit(ctx, args, ret)
    except Exception as exc:  # same rule as decode_syscall
        args["decode_error"] = f"{type(exc).__name__}: {exc}"


def format_call(name: str, args: dict[str, Any], ret: int | None, error: str | None) -> str:
    """`mount("proc", "/proc", "proc", MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL) = 0` from a recorded call.

    Decoded syscalls print through their layout; others print their raw registers; a call without return
    (exit, a killed tracee) ends in "= ?", a failed one in "= -1 ENOENT".
    """
    return _render.format_with_layout(name, args, ret, error, LAYOUTS.get(name))


def raw_syscall_event(seq: int, t: float, pid: int, tid: int, nr: int, regs: tuple[int, ...], ret: int,
                      error: str | None, dur: float) -> Syscall:
    """The event of a call recorded without a decoder (`--filter all`): its name, category and six registers in
    hex. The engine and the tracer's pipeline (which sends these fields, not the event) both build it here."""
    spec = SYSCALLS.get(nr)
    return Syscall(seq, t, pid=pid, tid=tid, name=spec.name if spec else f"syscall_{nr}", nr=nr,
                   args={"args": [hex(value) for value in regs]}, ret=ret, error=error,
                   category=spec.category if spec else Category.OTHER, dur=dur, notes=None, raw=None)
