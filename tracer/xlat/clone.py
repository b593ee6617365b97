"""CLONE_* flags of clone, clone3, unshare and setns.

From include/uapi/linux/sched.h. The low byte of clone's flags (CSIGNAL) is not a flag but the signal the parent
receives when the child exits, which is why CLONE_NEWTIME (0x80) can only be asked for through clone3 and unshare.
"""

from __future__ import annotations

from collections.abc import Iterable

from tracer.xlat.flags import Table

#: The exit-signal byte of clone(2)'s flags argument.
CSIGNAL = 0x000000FF

CLONE_VM = 0x00000100
CLONE_FS = 0x00000200
CLONE_FILES = 0x00000400
CLONE_SIGHAND = 0x00000800
CLONE_PIDFD = 0x00001000
CLONE_PTRACE = 0x00002000
CLONE_VFORK = 0x00004000
CLONE_PARENT = 0x00008000
CLONE_THREAD = 0x00010000
CLONE_NEWNS = 0x00020000
CLONE_SYSVSEM = 0x00040000
CLONE_SETTLS = 0x00080000
CLONE_PARENT_SETTID = 0x00100000
CLONE_CHILD_CLEARTID = 0x00200000
# 0x00400000 was CLONE_DETACHED: the kernel ignores it, so like strace we leave it as a hex remainder.
CLONE_UNTRACED = 0x00800000
CLONE_CHILD_SETTID = 0x01000000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_IO = 0x80000000
CLONE_NEWTIME = 0x00000080
# Only in clone3's 64-bit flags.
CLONE_CLEAR_SIGHAND = 0x100000000
CLONE_INTO_CGROUP = 0x200000000

#: Every flag clone(2) accepts above the exit-signal byte.
CLONE_FLAGS: Table = (
    ("CLONE_VM", CLONE_VM),
    ("CLONE_FS", CLONE_FS),
    ("CLONE_FILES", CLONE_FILES),
    ("CLONE_SIGHAND", CLONE_SIGHAND),
    ("CLONE_PIDFD", CLONE_PIDFD),
    ("CLONE_PTRACE", CLONE_PTRACE),
    ("CLONE_VFORK", CLONE_VFORK),
    ("CLONE_PARENT", CLONE_PARENT),
    ("CLONE_THREAD", CLONE_THREAD),
    ("CLONE_NEWNS", CLONE_NEWNS),
    ("CLONE_SYSVSEM", CLONE_SYSVSEM),
    ("CLONE_SETTLS", CLONE_SETTLS),
    ("CLONE_PARENT_SETTID", CLONE_PARENT_SETTID),
    ("CLONE_CHILD_CLEARTID", CLONE_CHILD_CLEARTID),
    ("CLONE_UNTRACED", CLONE_UNTRACED),
    ("CLONE_CHILD_SETTID", CLONE_CHILD_SETTID),
    ("CLONE_NEWCGROUP", CLONE_NEWCGROUP),
    ("CLONE_NEWUTS", CLONE_NEWUTS),
    ("CLONE_NEWIPC", CLONE_NEWIPC),
    ("CLONE_NEWUSER", CLONE_NEWUSER),
    ("CLONE_NEWPID", CLONE_NEWPID),
    ("CLONE_NEWNET", CLONE_NEWNET),
    ("CLONE_IO", CLONE_IO),
)

#: What clone3's struct clone_args.flags adds: its exit signal has its own field, so the low byte is free.
CLONE3_EXTRA_FLAGS: Table = (
    ("CLONE_NEWTIME", CLONE_NEWTIME),
    ("CLONE_CLEAR_SIGHAND", CLONE_CLEAR_SIGHAND),
    ("CLONE_INTO_CGROUP", CLONE_INTO_CGROUP),
)

#: All of clone3's flags.
CLONE3_FLAGS: Table = CLONE_FLAGS + CLONE3_EXTRA_FLAGS

#: The flags unshare(2) accepts (kernel/fork.c, check_unshare_flags). CLONE_VM, CLONE_SIGHAND and CLONE_THREAD
#: are accepted only when they would change nothing (a single-threaded caller).
UNSHARE_FLAGS: Table = (
    ("CLONE_NEWTIME", CLONE_NEWTIME),
    ("CLONE_VM", CLONE_VM),
    ("CLONE_FS", CLONE_FS),
    ("CLONE_FILES", CLONE_FILES),
    ("CLONE_SIGHAND", CLONE_SIGHAND),
    ("CLONE_THREAD", CLONE_THREAD),
    ("CLONE_NEWNS", CLONE_NEWNS),
    ("CLONE_SYSVSEM", CLONE_SYSVSEM),
    ("CLONE_NEWCGROUP", CLONE_NEWCGROUP),
    ("CLONE_NEWUTS", CLONE_NEWUTS),
    ("CLONE_NEWIPC", CLONE_NEWIPC),
    ("CLONE_NEWUSER", CLONE_NEWUSER),
    ("CLONE_NEWPID", CLONE_NEWPID),
    ("CLONE_NEWNET", CLONE_NEWNET),
)

#: setns(2)'s nstype: one CLONE_NEW* (or 0, "any kind") for a namespace fd; any mix of them for a pidfd.
SETNS_TYPES: Table = (
    ("CLONE_NEWTIME", CLONE_NEWTIME),
    ("CLONE_NEWNS", CLONE_NEWNS),
    ("CLONE_NEWCGROUP", CLONE_NEWCGROUP),
    ("CLONE_NEWUTS", CLONE_NEWUTS),
    ("CLONE_NEWIPC", CLONE_NEWIPC),
    ("CLONE_NEWUSER", CLONE_NEWUSER),
    ("CLONE_NEWPID", CLONE_NEWPID),
    ("CLONE_NEWNET", CLONE_NEWNET),
)

#: The /proc/PID/ns entry each CLONE_NEW* flag creates (the kind names of tracer.events.NAMESPACE_KINDS). The one
#: CLONE_NEW* -> kind table of boxtrace; its order (the order the flags were added to the kernel, user namespaces
#: aside) is the order in which flag lists are shown.
NAMESPACE_OF_FLAG: dict[str, str] = {
    "CLONE_NEWNS": "mnt",
    "CLONE_NEWUTS": "uts",
    "CLONE_NEWIPC": "ipc",
    "CLONE_NEWNET": "net",
    "CLONE_NEWPID": "pid",
    "CLONE_NEWUSER": "user",
    "CLONE_NEWCGROUP": "cgroup",
    "CLONE_NEWTIME": "time",
}

#: Namespace kind -> the CLONE_NEW* flag that creates it.
FLAG_OF_NAMESPACE: dict[str, str] = {kind: flag for flag, kind in NAMESPACE_OF_FLAG.items()}


def namespaces_of(flags: Iterable[str]) -> list[str]:
    """The namespace kinds a decoded flag list asks for, e.g. ["mnt", "pid"]."""
    return [NAMESPACE_OF_FLAG[name] for name in flags if name in NAMESPACE_OF_FLAG]
