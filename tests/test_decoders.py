"""Golden tests of the syscall decoders and of format_call, on real memory of this process (no ptrace).

Each case builds the arguments a tracee would pass (C strings, argv arrays, structs made with ctypes) and checks
the decoded dict, the category and the strace-like line printed from the JSON round-trip of that dict.
"""

from __future__ import annotations

import ctypes
import importlib
import inspect
import json
import os
import pkgutil
import signal
import socket
import stat
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ptrace.syscall.linux.x86_64 import SYSCALL_NAMES

import tracer.decoders as decoders
from tests.decoder_fixtures import (
    Arena,
    CapData,
    CapHeader,
    CloneArgs,
    LocalMemory,
    MountAttr,
    SockaddrIn,
    SockaddrUn,
    SockFprog,
    make_ctx,
)
from tests.prereqs import require
from tracer.decoders import (
    CONTAINER_SYSCALL_NRS,
    LAYOUTS,
    SYSCALL_NRS_BY_NAME,
    SYSCALLS,
    decode_syscall,
    decode_syscall_exit,
    format_call,
    syscall_name,
)
from tracer.decoders.explain import FLAG_EXPLANATIONS, SYSCALL_EXPLANATIONS, explain
from tracer.events import CATEGORIES

SIGCHLD = int(signal.SIGCHLD)
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET = (
    0x20000,
    0x4000000,
    0x8000000,
    0x20000000,
    0x40000000,
)
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC, MS_SLAVE = (
    1,
    2,
    4,
    8,
    0x20,
    0x1000,
    0x4000,
    0x80000,
)
AT_FDCWD = -100
AT_EMPTY_PATH = 0x1000
PR_SET_NAME, PR_SET_SECCOMP, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 15, 22, 24, 38


@pytest.fixture
def memory():
    mem = LocalMemory()
    yield mem
    mem.close()


@pytest.fixture
def arena() -> Arena:
    return Arena()


def run(
    name: str, args: tuple[int, ...], memory: LocalMemory, *, show_env: bool = False
) -> tuple[dict[str, Any], str, Any]:
    """Decode like the engine does, then pass the args through JSON like a recording does."""
    ctx = make_ctx(name, args, memory, show_env=show_env)
    decoded, category = decode_syscall(ctx)
    return json.loads(json.dumps(decoded)), category, ctx


# (id, syscall, builder of the registers, ret, error, expected args, expected line, expected category)
Builder = Callable[[Arena], tuple[int, ...]]
GOLDEN: list[tuple[str, str, Builder, int | None, str | None, dict[str, Any], str, str]] = [
    (
        "unshare-runc",
        "unshare",
        lambda a: (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWNET,),
        0,
        None,
        {"flags": ["CLONE_NEWNS", "CLONE_NEWUTS", "CLONE_NEWIPC", "CLONE_NEWPID", "CLONE_NEWNET"]},
        "unshare(CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWPID|CLONE_NEWNET) = 0",
        "namespaces",
    ),
    (
        "unshare-unknown-bit",
        "unshare",
        lambda a: (CLONE_NEWNS | 0x80000000,),
        None,
        "EINVAL",
        {"flags": ["CLONE_NEWNS", "0x80000000"]},
        "unshare(CLONE_NEWNS|0x80000000) = -1 EINVAL",
        "namespaces",
    ),
    (
        "unshare-nothing-known",
        "unshare",
        lambda a: (0x81F8F07F,),
        None,
        "EINVAL",
        {"flags": ["0x81f8f07f"]},
        "unshare(0x81f8f07f) = -1 EINVAL",
        "namespaces",
    ),
    (
        "unshare-zero",
        "unshare",
        lambda a: (0,),
        0,
        None,
        {"flags": []},
        "unshare(0) = 0",
        "namespaces",
    ),
    (
        "clone-runc-parent",
        "clone",
        lambda a: (0x8000 | SIGCHLD, 0, 0, 0, 0),
        4242,
        None,
        {"flags": ["CLONE_PARENT"], "exit_signal": "SIGCHLD"},
        "clone(flags=CLONE_PARENT|SIGCHLD) = 4242",
        "namespaces",
    ),
    (
        "clone-namespaces-and-signal",
        "clone",
        lambda a: (CLONE_NEWPID | CLONE_NEWNS | SIGCHLD,),
        7,
        None,
        {"flags": ["CLONE_NEWNS", "CLONE_NEWPID"], "exit_signal": "SIGCHLD"},
        "clone(flags=CLONE_NEWNS|CLONE_NEWPID|SIGCHLD) = 7",
        "namespaces",
    ),
    (
        "clone-thread-no-signal",
        "clone",
        lambda a: (0x3D0F00,),
        8,
        None,
        {
            "flags": [
                "CLONE_VM",
                "CLONE_FS",
                "CLONE_FILES",
                "CLONE_SIGHAND",
                "CLONE_THREAD",
                "CLONE_SYSVSEM",
                "CLONE_SETTLS",
                "CLONE_PARENT_SETTID",
                "CLONE_CHILD_CLEARTID",
            ],
            "exit_signal": None,
        },
        "clone(flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS"
        "|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID) = 8",
        "process",  # a thread, not a new namespace
    ),
    (
        "clone-detached-bit-stays-hex",
        "clone",
        lambda a: (0x400000 | SIGCHLD,),
        9,
        None,
        {"flags": ["0x400000"], "exit_signal": "SIGCHLD"},
        "clone(flags=0x400000|SIGCHLD) = 9",
        "namespaces",
    ),
    (
        "clone3-too-small",
        "clone3",
        lambda a: (a.struct(CloneArgs()), 32),
        None,
        "EINVAL",
        {"clone_args": "<hex>", "size": 32},
        "clone3(<hex>, 32) = -1 EINVAL",
        "namespaces",
    ),
    (
        "clone3-unreadable",
        "clone3",
        lambda a: (1, 88),
        None,
        "EFAULT",
        {"clone_args": "<unreadable: 0x1>", "size": 88},
        "clone3(<unreadable: 0x1>, 88) = -1 EFAULT",
        "namespaces",
    ),
    (
        "mount-proc",
        "mount",
        lambda a: (a.cstr("proc"), a.cstr("/proc"), a.cstr("proc"), MS_NOSUID | MS_NODEV | MS_NOEXEC, 0),
        0,
        None,
        {
            "source": "proc",
            "target": "/proc",
            "fstype": "proc",
            "flags": ["MS_NOSUID", "MS_NODEV", "MS_NOEXEC"],
            "data": None,
            "operation": "new",
        },
        'mount("proc", "/proc", "proc", MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL) = 0',
        "filesystem-view",
    ),
    (
        "mount-bind-ignores-fstype-and-data",
        "mount",
        lambda a: (a.cstr("/src"), a.cstr("/dst"), a.cstr("bind"), MS_BIND | MS_REC, 0),
        0,
        None,
        {
            "source": "/src",
            "target": "/dst",
            "fstype": "bind",
            "flags": ["MS_BIND", "MS_REC"],
            "data": None,
            "operation": "bind",
            "ignored": ["fstype", "data"],
        },
        'mount("/src", "/dst", "bind" /* ignored */, MS_BIND|MS_REC, NULL /* ignored */) = 0',
        "filesystem-view",
    ),
    (
        "mount-propagation",
        "mount",
        lambda a: (0, a.cstr("/"), 0, MS_SLAVE | MS_REC, 0),
        0,
        None,
        {
            "source": None,
            "target": "/",
            "fstype": None,
            "flags": ["MS_REC", "MS_SLAVE"],
            "data": None,
            "operation": "propagation",
            "ignored": ["source", "fstype", "data"],
        },
        'mount(NULL /* ignored */, "/", NULL /* ignored */, MS_REC|MS_SLAVE, NULL /* ignored */) = 0',
        "filesystem-view",
    ),
    (
        "mount-remount-bind-readonly",
        "mount",
        lambda a: (a.cstr(""), a.cstr("/x"), a.cstr(""), MS_REMOUNT | MS_BIND | MS_RDONLY, a.cstr("")),
        0,
        None,
        {
            "source": "",
            "target": "/x",
            "fstype": "",
            "flags": ["MS_RDONLY", "MS_REMOUNT", "MS_BIND"],
            "data": "",
            "operation": "reconfigure",
            "ignored": ["source", "fstype", "data"],
        },
        'mount("" /* ignored */, "/x", "" /* ignored */, MS_RDONLY|MS_REMOUNT|MS_BIND, "" /* ignored */) = 0',
        "filesystem-view",
    ),
    (
        "mount-remount-uses-data",
        "mount",
        lambda a: (0, a.cstr("/x"), 0, MS_REMOUNT, a.cstr("size=1m")),
        0,
        None,
        {
            "source": None,
            "target": "/x",
            "fstype": None,
            "flags": ["MS_REMOUNT"],
            "data": "size=1m",
            "operation": "remount",
            "ignored": ["source", "fstype"],
        },
        'mount(NULL /* ignored */, "/x", NULL /* ignored */, MS_REMOUNT, "size=1m") = 0',
        "filesystem-view",
    ),
    (
        "mount-old-magic",
        "mount",
        lambda a: (a.cstr("/dev/sda1"), a.cstr("/mnt"), a.cstr("ext4"), 0xC0ED0000 | MS_RDONLY, 0),
        None,
        "EPERM",
        {
            "source": "/dev/sda1",
            "target": "/mnt",
            "fstype": "ext4",
            "flags": ["MS_MGC_VAL", "MS_RDONLY"],
            "data": None,
            "operation": "new",
        },
        'mount("/dev/sda1", "/mnt", "ext4", MS_MGC_VAL|MS_RDONLY, NULL) = -1 EPERM',
        "filesystem-view",
    ),
    (
        "umount2-detach",
        "umount2",
        lambda a: (a.cstr("."), 2),
        0,
        None,
        {"target": ".", "flags": ["MNT_DETACH"]},
        'umount2(".", MNT_DETACH) = 0',
        "filesystem-view",
    ),
    (
        "pivot_root-dot-dot",
        "pivot_root",
        lambda a: (a.cstr("."), a.cstr(".")),
        0,
        None,
        {"new_root": ".", "put_old": "."},
        'pivot_root(".", ".") = 0',
        "filesystem-view",
    ),
    (
        "chdir-non-utf8",
        "chdir",
        lambda a: (a.cstr(b"/tmp/caf\xe9\xff"),),
        None,
        "ENOENT",
        {"path": "/tmp/caf\\xe9\\xff"},
        'chdir("/tmp/caf\\xe9\\xff") = -1 ENOENT',
        "filesystem-view",
    ),
    (
        "chdir-unreadable",
        "chdir",
        lambda a: (1,),
        None,
        "EFAULT",
        {"path": "<unreadable: 0x1>"},
        "chdir(<unreadable: 0x1>) = -1 EFAULT",
        "filesystem-view",
    ),
    (
        "chroot-null",
        "chroot",
        lambda a: (0,),
        None,
        "EFAULT",
        {"path": None},
        "chroot(NULL) = -1 EFAULT",
        "filesystem-view",
    ),
    (
        "sethostname-uses-length",
        "sethostname",
        lambda a: (a.buffer(b"boxtrace-and-more"), 8),
        0,
        None,
        {"name": "boxtrace", "length": 8},
        'sethostname("boxtrace", 8) = 0',
        "namespaces",
    ),
    (
        "openat-cloexec",
        "openat",
        lambda a: (AT_FDCWD, a.cstr("/x"), os.O_RDONLY | os.O_CLOEXEC),
        None,
        "ENOENT",
        {"dirfd": "AT_FDCWD", "path": "/x", "flags": ["O_RDONLY", "O_CLOEXEC"]},
        'openat(AT_FDCWD, "/x", O_RDONLY|O_CLOEXEC) = -1 ENOENT',
        "other",
    ),
    (
        "openat-create-mode",
        "openat",
        lambda a: (AT_FDCWD, a.cstr("/tmp/f"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
        3,
        None,
        {"dirfd": "AT_FDCWD", "path": "/tmp/f", "flags": ["O_WRONLY", "O_CREAT", "O_TRUNC"], "mode": 0o644},
        'openat(AT_FDCWD, "/tmp/f", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 3',
        "other",
    ),
    (
        "open-cgroup-file-is-cgroups",
        "open",
        lambda a: (a.cstr("/sys/fs/cgroup/pids/box/pids.max"), os.O_WRONLY),
        3,
        None,
        {"path": "/sys/fs/cgroup/pids/box/pids.max", "flags": ["O_WRONLY"]},
        'open("/sys/fs/cgroup/pids/box/pids.max", O_WRONLY) = 3',
        "cgroups",
    ),
    (
        "open-uid_map-is-privileges",
        "openat",
        lambda a: (AT_FDCWD, a.cstr("/proc/4242/uid_map"), os.O_WRONLY),
        3,
        None,
        {"dirfd": "AT_FDCWD", "path": "/proc/4242/uid_map", "flags": ["O_WRONLY"]},
        'openat(AT_FDCWD, "/proc/4242/uid_map", O_WRONLY) = 3',
        "privileges",
    ),
    (
        "mkdirat-creates-cgroup",
        "mkdirat",
        lambda a: (AT_FDCWD, a.cstr("/sys/fs/cgroup/memory/box"), 0o755),
        0,
        None,
        {"dirfd": "AT_FDCWD", "path": "/sys/fs/cgroup/memory/box", "mode": 0o755},
        'mkdirat(AT_FDCWD, "/sys/fs/cgroup/memory/box", 0755) = 0',
        "cgroups",
    ),
    (
        "mkdir-plain",
        "mkdir",
        lambda a: (a.cstr("rootfs/dev"), 0o755),
        0,
        None,
        {"path": "rootfs/dev", "mode": 0o755},
        'mkdir("rootfs/dev", 0755) = 0',
        "filesystem-view",
    ),
    (
        "symlinkat",
        "symlinkat",
        lambda a: (a.cstr("/proc/self/fd"), AT_FDCWD, a.cstr("dev/fd")),
        0,
        None,
        {"target": "/proc/self/fd", "newdirfd": "AT_FDCWD", "linkpath": "dev/fd"},
        'symlinkat("/proc/self/fd", AT_FDCWD, "dev/fd") = 0',
        "filesystem-view",
    ),
    (
        "mknod-dev-null",
        "mknod",
        lambda a: (a.cstr("/dev/null"), stat.S_IFCHR | 0o666, os.makedev(1, 3)),
        0,
        None,
        {"path": "/dev/null", "type": "S_IFCHR", "mode": 0o666, "major": 1, "minor": 3},
        'mknod("/dev/null", S_IFCHR|0666, makedev(0x1, 0x3)) = 0',
        "filesystem-view",
    ),
    (
        "mknodat-big-minor",
        "mknodat",
        lambda a: (AT_FDCWD, a.cstr("dev/x"), stat.S_IFBLK | 0o600, os.makedev(259, 70000)),
        0,
        None,
        {
            "dirfd": "AT_FDCWD",
            "path": "dev/x",
            "type": "S_IFBLK",
            "mode": 0o600,
            "major": 259,
            "minor": 70000,
        },
        'mknodat(AT_FDCWD, "dev/x", S_IFBLK|0600, makedev(0x103, 0x11170)) = 0',
        "filesystem-view",
    ),
    (
        "mknod-fifo",
        "mknod",
        lambda a: (a.cstr("fifo"), stat.S_IFIFO | 0o600, 0),
        0,
        None,
        {"path": "fifo", "type": "S_IFIFO", "mode": 0o600},
        'mknod("fifo", S_IFIFO|0600) = 0',
        "filesystem-view",
    ),
    (
        "kill",
        "kill",
        lambda a: (123, signal.SIGKILL),
        0,
        None,
        {"pid": 123, "signal": "SIGKILL"},
        "kill(123, SIGKILL) = 0",
        "process",
    ),
    (
        "kill-probe-group",
        "kill",
        lambda a: (-1, 0),
        None,
        "EPERM",
        {"pid": -1, "signal": "0"},
        "kill(-1, 0) = -1 EPERM",
        "process",
    ),
    (
        "tgkill",
        "tgkill",
        lambda a: (10, 11, signal.SIGURG),
        0,
        None,
        {"tgid": 10, "tid": 11, "signal": "SIGURG"},
        "tgkill(10, 11, SIGURG) = 0",
        "process",
    ),
    (
        "exit_group",
        "exit_group",
        lambda a: (0,),
        None,
        None,
        {"status": 0},
        "exit_group(0) = ?",
        "process",
    ),
    (
        "wait4-entry",
        "wait4",
        lambda a: (-1, 0, 0x40000000, 0),
        None,
        None,
        {"pid": -1, "status": None, "options": ["__WALL"]},
        "wait4(-1, NULL, __WALL) = ?",
        "process",
    ),
    (
        "umask",
        "umask",
        lambda a: (0o022,),
        0o022,
        None,
        {"mask": 0o022},
        "umask(022) = 18",
        "process",
    ),
    (
        "umask-zero",
        "umask",
        lambda a: (0,),
        0o022,
        None,
        {"mask": 0},
        "umask(000) = 18",
        "process",
    ),
    (
        "prctl-get-option-has-no-argument",
        "prctl",
        lambda a: (3, 0, 0, 0, 0),
        1,
        None,
        {"option": "PR_GET_DUMPABLE"},
        "prctl(PR_GET_DUMPABLE) = 1",
        "privileges",
    ),
    (
        "prctl-no-new-privs",
        "prctl",
        lambda a: (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0),
        0,
        None,
        {"option": "PR_SET_NO_NEW_PRIVS", "value": 1},
        "prctl(PR_SET_NO_NEW_PRIVS, 1) = 0",
        "privileges",
    ),
    (
        "prctl-capbset-drop",
        "prctl",
        lambda a: (PR_CAPBSET_DROP, 21),
        0,
        None,
        {"option": "PR_CAPBSET_DROP", "capability": "CAP_SYS_ADMIN"},
        "prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN) = 0",
        "privileges",
    ),
    (
        "prctl-set-name-is-process",
        "prctl",
        lambda a: (PR_SET_NAME, a.cstr("runc:[1:CHILD]")),
        0,
        None,
        {"option": "PR_SET_NAME", "name": "runc:[1:CHILD]"},
        'prctl(PR_SET_NAME, "runc:[1:CHILD]") = 0',
        "process",
    ),
    (
        "prctl-cap-ambient",
        "prctl",
        lambda a: (47, 2, 10),
        0,
        None,
        {
            "option": "PR_CAP_AMBIENT",
            "operation": "PR_CAP_AMBIENT_RAISE",
            "capability": "CAP_NET_BIND_SERVICE",
        },
        "prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE) = 0",
        "privileges",
    ),
    (
        "prctl-unknown-option-is-other",
        "prctl",
        lambda a: (1000, 1, 2),
        None,
        "EINVAL",
        {"option": "1000", "args": ["0x1", "0x2", "0x0", "0x0"]},
        "prctl(1000, 0x1, 0x2, 0x0, 0x0) = -1 EINVAL",
        "other",
    ),
    (
        "seccomp-strict",
        "seccomp",
        lambda a: (0, 0, 0),
        None,
        "EINVAL",
        {"operation": "SECCOMP_SET_MODE_STRICT", "flags": []},
        "seccomp(SECCOMP_SET_MODE_STRICT, 0) = -1 EINVAL",
        "privileges",
    ),
    (
        "seccomp-get-action-avail",
        "seccomp",
        lambda a: (2, 0, a.ints([0x7FF00000], ctypes.c_uint32)),
        0,
        None,
        {"operation": "SECCOMP_GET_ACTION_AVAIL", "flags": [], "action": "SECCOMP_RET_TRACE"},
        "seccomp(SECCOMP_GET_ACTION_AVAIL, 0, SECCOMP_RET_TRACE) = 0",
        "privileges",
    ),
    (
        "setresuid-minus-one",
        "setresuid",
        lambda a: (0, -1, 0xFFFFFFFF),
        0,
        None,
        {"ruid": 0, "euid": -1, "suid": -1},
        "setresuid(0, -1, -1) = 0",
        "privileges",
    ),
    (
        "setuid",
        "setuid",
        lambda a: (1000,),
        0,
        None,
        {"uid": 1000},
        "setuid(1000) = 0",
        "privileges",
    ),
    (
        "setgroups",
        "setgroups",
        lambda a: (2, a.ints([0, 10], ctypes.c_uint32)),
        0,
        None,
        {"size": 2, "groups": [0, 10]},
        "setgroups(2, [0, 10]) = 0",
        "privileges",
    ),
    (
        "setgroups-empty",
        "setgroups",
        lambda a: (0, 0),
        0,
        None,
        {"size": 0, "groups": []},
        "setgroups(0, []) = 0",
        "privileges",
    ),
    (
        "fsopen",
        "fsopen",
        lambda a: (a.cstr("tmpfs"), 1),
        3,
        None,
        {"fsname": "tmpfs", "flags": ["FSOPEN_CLOEXEC"]},
        'fsopen("tmpfs", FSOPEN_CLOEXEC) = 3',
        "filesystem-view",
    ),
    (
        "fsconfig-string",
        "fsconfig",
        lambda a: (3, 1, a.cstr("size"), a.cstr("64m"), 0),
        0,
        None,
        {"fd": 3, "cmd": "FSCONFIG_SET_STRING", "key": "size", "value": "64m"},
        'fsconfig(3, FSCONFIG_SET_STRING, "size", "64m") = 0',
        "filesystem-view",
    ),
    (
        "fsconfig-create",
        "fsconfig",
        lambda a: (3, 6, 0, 0, 0),
        0,
        None,
        {"fd": 3, "cmd": "FSCONFIG_CMD_CREATE", "key": None},
        "fsconfig(3, FSCONFIG_CMD_CREATE, NULL) = 0",
        "filesystem-view",
    ),
    (
        "fsmount",
        "fsmount",
        lambda a: (3, 1, 0x2 | 0x4 | 0x8),
        4,
        None,
        {
            "fs_fd": 3,
            "flags": ["FSMOUNT_CLOEXEC"],
            "attr_flags": ["MOUNT_ATTR_NOSUID", "MOUNT_ATTR_NODEV", "MOUNT_ATTR_NOEXEC"],
        },
        "fsmount(3, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID|MOUNT_ATTR_NODEV|MOUNT_ATTR_NOEXEC) = 4",
        "filesystem-view",
    ),
    (
        "open_tree-clone",
        "open_tree",
        lambda a: (AT_FDCWD, a.cstr("/src"), 1 | 0o2000000 | 0x8000),
        5,
        None,
        {
            "dirfd": "AT_FDCWD",
            "path": "/src",
            "flags": ["OPEN_TREE_CLONE", "OPEN_TREE_CLOEXEC", "AT_RECURSIVE"],
        },
        'open_tree(AT_FDCWD, "/src", OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC|AT_RECURSIVE) = 5',
        "filesystem-view",
    ),
    (
        "mount_setattr",
        "mount_setattr",
        lambda a: (AT_FDCWD, a.cstr("/m"), 0x8000, a.struct(MountAttr(1, 0, 1 << 18, 0)), 32),
        0,
        None,
        {
            "dirfd": "AT_FDCWD",
            "path": "/m",
            "flags": ["AT_RECURSIVE"],
            "attr_set": ["MOUNT_ATTR_RDONLY"],
            "attr_clr": [],
            "propagation": "MS_PRIVATE",
            "size": 32,
        },
        'mount_setattr(AT_FDCWD, "/m", AT_RECURSIVE, {attr_set=MOUNT_ATTR_RDONLY, attr_clr=0, '
        "propagation=MS_PRIVATE}, 32) = 0",
        "filesystem-view",
    ),
    (
        "socketpair",
        "socketpair",
        lambda a: (socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC, 0, 0),
        0,
        None,
        {"domain": "AF_UNIX", "type": ["SOCK_STREAM", "SOCK_CLOEXEC"], "protocol": 0},
        "socketpair(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0) = 0",
        "ipc",
    ),
    (
        "fork",
        "fork",
        lambda a: (),
        77,
        None,
        {},
        "fork() = 77",
        "namespaces",
    ),
    (
        "undecoded-getpid-raw",
        "getpid",
        lambda a: (),
        99,
        None,
        {"args": ["0x0"] * 6},
        "getpid(0x0, 0x0, 0x0, 0x0, 0x0, 0x0) = 99",
        "other",
    ),
]


@pytest.mark.parametrize(
    ("name", "build", "ret", "error", "expected", "text", "category"),
    [case[1:] for case in GOLDEN],
    ids=[case[0] for case in GOLDEN],
)
def test_golden(memory, arena, name, build, ret, error, expected, text, category):
    registers = build(arena)
    args, got_category, _ = run(name, registers, memory)
    if expected.get("clone_args") == "<hex>":  # the address of a real struct differs per run
        expected = {**expected, "clone_args": hex(registers[0])}
        text = text.replace("<hex>", hex(registers[0]))
    assert args == expected
    assert got_category == category
    assert format_call(name, args, ret, error) == text


def test_clone3_struct(memory, arena, tmp_path):
    cgroup_fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        set_tid = arena.ints([1, 42])
        flags = CLONE_NEWPID | CLONE_NEWNS | 0x80 | 0x200000000  # + CLONE_NEWTIME, CLONE_INTO_CGROUP
        clone_args = CloneArgs(
            flags=flags, exit_signal=SIGCHLD, set_tid=set_tid, set_tid_size=2, cgroup=cgroup_fd
        )
        args, category, _ = run("clone3", (arena.struct(clone_args), ctypes.sizeof(clone_args)), memory)
        assert args == {
            "flags": ["CLONE_NEWNS", "CLONE_NEWPID", "CLONE_NEWTIME", "CLONE_INTO_CGROUP"],
            "exit_signal": "SIGCHLD",
            "set_tid": [1, 42],
            "cgroup": cgroup_fd,
            "cgroup_path": str(tmp_path),
            "size": 88,
        }
        assert category == "namespaces"
        assert format_call("clone3", args, 1, None) == (
            "clone3({flags=CLONE_NEWNS|CLONE_NEWPID|CLONE_NEWTIME|CLONE_INTO_CGROUP, exit_signal=SIGCHLD, "
            f"set_tid=[1, 42], cgroup={cgroup_fd}<{tmp_path}>}}, 88) = 1"
        )
    finally:
        os.close(cgroup_fd)


def test_clone3_version0_struct_thread(memory, arena):
    """A 64-byte (VER0) struct: no set_tid nor cgroup fields are read; no exit signal for a thread."""
    clone_args = CloneArgs(flags=0x100 | 0x10000 | 0x800)
    args, _, _ = run("clone3", (arena.struct(clone_args), 64), memory)
    assert args == {"flags": ["CLONE_VM", "CLONE_SIGHAND", "CLONE_THREAD"], "exit_signal": None, "size": 64}
    assert (
        format_call("clone3", args, 5, None) == "clone3({flags=CLONE_VM|CLONE_SIGHAND|CLONE_THREAD}, 64) = 5"
    )


def test_setns_real_uts_namespace_fd(memory):
    fd = os.open("/proc/self/ns/uts", os.O_RDONLY | os.O_CLOEXEC)
    try:
        args, category, _ = run("setns", (fd, CLONE_NEWUTS), memory)
        inode = os.stat("/proc/self/ns/uts").st_ino
        assert args == {"fd": fd, "namespace": "uts", "inode": inode, "nstype": ["CLONE_NEWUTS"]}
        assert category == "namespaces"
        assert format_call("setns", args, 0, None) == f"setns({fd}<uts:[{inode}]>, CLONE_NEWUTS) = 0"
        args, _, _ = run("setns", (fd, 0), memory)
        assert args["nstype"] == []
        assert format_call("setns", args, 0, None).endswith(", 0) = 0")
    finally:
        os.close(fd)


def test_setns_pidfd_and_bad_fd(memory):
    pidfd = os.pidfd_open(os.getpid())
    try:
        args, _, _ = run("setns", (pidfd, CLONE_NEWNET | CLONE_NEWUTS), memory)
        assert args == {"fd": pidfd, "pidfd": True, "nstype": ["CLONE_NEWUTS", "CLONE_NEWNET"]}
        assert format_call("setns", args, 0, None) == f"setns({pidfd}<pidfd>, CLONE_NEWUTS|CLONE_NEWNET) = 0"
    finally:
        os.close(pidfd)
    args, _, _ = run("setns", (9999, 0), memory)
    assert args == {"fd": 9999, "fd_path": None, "nstype": []}
    assert format_call("setns", args, None, "EBADF") == "setns(9999, 0) = -1 EBADF"


def test_execve_redacts_environment(memory, arena):
    registers = (
        arena.cstr("/bin/sh"),
        arena.argv(["sh", "-c", "echo hi"]),
        arena.argv(["PATH=/usr/bin", "PASSWORD=hunter2", "ODD"]),
    )
    args, category, _ = run("execve", registers, memory)
    assert args == {
        "path": "/bin/sh",
        "argv": ["sh", "-c", "echo hi"],
        "env": ["PATH=<redacted>", "PASSWORD=<redacted>", "<redacted>"],
    }
    assert "hunter2" not in json.dumps(args)
    assert category == "process"
    text = format_call("execve", args, 0, None)
    assert text == 'execve("/bin/sh", ["sh", "-c", "echo hi"], [/* 3 vars */]) = 0'
    assert "hunter2" not in text


def test_execve_show_env_keeps_values(memory, arena):
    registers = (arena.cstr("/bin/true"), arena.argv(["true"]), arena.argv(["PASSWORD=hunter2"]))
    args, _, _ = run("execve", registers, memory, show_env=True)
    assert args["env"] == ["PASSWORD=hunter2"]
    assert format_call("execve", args, 0, None) == 'execve("/bin/true", ["true"], ["PASSWORD=hunter2"]) = 0'


def test_execve_unreadable_arrays(memory, arena):
    args, _, _ = run("execve", (arena.cstr("/bin/x"), 1, 0), memory)
    assert args == {"path": "/bin/x", "argv": "<unreadable: 0x1>", "env": None}
    assert (
        format_call("execve", args, None, "EFAULT") == 'execve("/bin/x", <unreadable: 0x1>, NULL) = -1 EFAULT'
    )


def test_execveat_memfd_empty_path(memory, arena):
    memfd = os.memfd_create("runc_cloned:/proc/self/exe", os.MFD_CLOEXEC)
    try:
        registers = (memfd, arena.cstr(""), arena.argv(["runc", "init"]), arena.argv([]), AT_EMPTY_PATH)
        args, category, _ = run("execveat", registers, memory)
        link = os.readlink(f"/proc/self/fd/{memfd}")
        assert args == {
            "dirfd": memfd,
            "dirfd_path": link,
            "path": "",
            "argv": ["runc", "init"],
            "env": [],
            "flags": ["AT_EMPTY_PATH"],
        }
        assert category == "process"
        assert format_call("execveat", args, 0, None) == (
            f'execveat({memfd}<{link}>, "", ["runc", "init"], [/* 0 vars */], AT_EMPTY_PATH) = 0'
        )
        assert any("memfd" in line for line in explain("execveat", args))
    finally:
        os.close(memfd)


def test_write_to_ordinary_file_records_no_content(memory, arena, tmp_path):
    path = tmp_path / "secret.txt"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        args, category, _ = run("write", (fd, arena.buffer(b"top secret!\n"), 12), memory)
        assert args == {"fd": fd, "path": str(path), "count": 12}
        assert category == "other"
        assert "secret!" not in json.dumps(args)
        assert format_call("write", args, 12, None) == f"write({fd}<{path}>, ..., 12) = 12"
    finally:
        os.close(fd)


CGROUP_PROCS = "/sys/fs/cgroup/pids/cgroup.procs"


def test_write_to_cgroup_file_is_cgroups_with_content(memory, arena):
    require(os.path.exists(CGROUP_PROCS), f"{CGROUP_PROCS} (a cgroup v1 pids hierarchy) is missing")
    fd = os.open(CGROUP_PROCS, os.O_RDONLY | os.O_CLOEXEC)
    try:
        args, category, _ = run("write", (fd, arena.buffer(b"4242"), 4), memory)
        assert category == "cgroups"
        assert args == {"fd": fd, "path": CGROUP_PROCS, "count": 4, "data": "4242"}
        assert format_call("write", args, 4, None) == f'write({fd}<{CGROUP_PROCS}>, "4242", 4) = 4'
    finally:
        os.close(fd)


def test_write_to_uid_map_is_privileges_with_content(memory, arena):
    memory.fake_fd_paths[7] = "/proc/4242/uid_map"
    args, category, _ = run("write", (7, arena.buffer(b"0 1000 1\n"), 9), memory)
    assert category == "privileges"
    assert args == {"fd": 7, "path": "/proc/4242/uid_map", "count": 9, "data": "0 1000 1\n"}
    assert format_call("write", args, 9, None) == 'write(7</proc/4242/uid_map>, "0 1000 1\\n", 9) = 9'


def test_write_to_setgroups_of_self(memory, arena):
    memory.fake_fd_paths[8] = "/proc/self/setgroups"
    args, category, _ = run("write", (8, arena.buffer(b"deny"), 4), memory)
    assert (category, args["data"]) == ("privileges", "deny")


def test_mount_target_through_proc_self_fd_is_resolved(memory, arena, tmp_path):
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        target = f"/proc/self/fd/{fd}"
        registers = (arena.cstr("proc"), arena.cstr(target), arena.cstr("proc"), MS_NOSUID, 0)
        args, _, ctx = run("mount", registers, memory)
        assert args["target"] == target
        assert ctx.notes == {"target": str(tmp_path)}
    finally:
        os.close(fd)


def test_fchdir_and_openat_dirfd_paths(memory, arena, tmp_path):
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        args, _, _ = run("fchdir", (fd,), memory)
        assert args == {"fd": fd, "path": str(tmp_path)}
        assert format_call("fchdir", args, 0, None) == f"fchdir({fd}<{tmp_path}>) = 0"
        args, _, _ = run("openat", (fd, arena.cstr("x"), os.O_RDONLY), memory)
        assert args == {"dirfd": fd, "dirfd_path": str(tmp_path), "path": "x", "flags": ["O_RDONLY"]}
        assert format_call("openat", args, 4, None) == f'openat({fd}<{tmp_path}>, "x", O_RDONLY) = 4'
    finally:
        os.close(fd)


def test_openat_relative_path_in_cgroup_directory_is_cgroups(memory, arena):
    memory.fake_fd_paths[9] = "/sys/fs/cgroup/box"
    _, category, _ = run("openat", (9, arena.cstr("cgroup.procs"), os.O_WRONLY), memory)
    assert category == "cgroups"


def test_capset_version3(memory, arena):
    header = CapHeader(0x20080522, 0)
    low = (1 << 0) | (1 << 21)  # CAP_CHOWN, CAP_SYS_ADMIN
    data = (CapData * 2)(CapData(low, low, 0), CapData(1 << (40 - 32), 1 << (40 - 32), 0))
    args, category, _ = run("capset", (arena.struct(header), arena.keep(data)), memory)
    assert category == "privileges"
    assert args == {
        "version": "_LINUX_CAPABILITY_VERSION_3",
        "pid": 0,
        "effective": ["CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_CHECKPOINT_RESTORE"],
        "permitted": ["CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_CHECKPOINT_RESTORE"],
        "inheritable": [],
    }
    assert format_call("capset", args, 0, None) == (
        "capset({_LINUX_CAPABILITY_VERSION_3, 0}, {effective=CAP_CHOWN|CAP_SYS_ADMIN|CAP_CHECKPOINT_RESTORE, "
        "permitted=CAP_CHOWN|CAP_SYS_ADMIN|CAP_CHECKPOINT_RESTORE, inheritable=0}) = 0"
    )


def test_capset_unknown_version_and_bad_header(memory, arena):
    args, _, _ = run("capset", (arena.struct(CapHeader(0x1234, 0)), 0), memory)
    assert args == {"version": "0x1234", "pid": 0, "data": None}
    args, _, _ = run("capset", (1, 0), memory)
    assert args == {"header": "<unreadable: 0x1>"}
    assert format_call("capset", args, None, "EFAULT") == "capset(<unreadable: 0x1>) = -1 EFAULT"


def test_seccomp_filter_length_and_address(memory, arena):
    # ld [4]; jeq AUDIT_ARCH_X86_64; ret ALLOW; ret KILL: the decoder keeps the program's bytes for the insights.
    instructions = (ctypes.c_uint64 * 4)(0x0000000400000020, 0xC000003E00010015, 0x7FFF000000000006, 0x6)
    program = bytes(instructions).hex()
    filter_address = arena.keep(instructions)
    prog = SockFprog(4, filter_address)
    args, category, _ = run("seccomp", (1, 1, arena.struct(prog)), memory)
    assert category == "privileges"
    assert args == {
        "operation": "SECCOMP_SET_MODE_FILTER",
        "flags": ["SECCOMP_FILTER_FLAG_TSYNC"],
        "len": 4,
        "filter": filter_address,
        "program": program,
    }
    assert format_call("seccomp", args, 0, None) == (
        f"seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, {{len=4, filter={filter_address:#x}}}) = 0"
    )
    args, _, _ = run("prctl", (PR_SET_SECCOMP, 2, arena.struct(prog)), memory)
    assert args == {
        "option": "PR_SET_SECCOMP",
        "mode": "SECCOMP_MODE_FILTER",
        "len": 4,
        "filter": filter_address,
        "program": program,
    }
    assert format_call("prctl", args, 0, None) == (
        f"prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, {{len=4, filter={filter_address:#x}}}) = 0"
    )
    args, _, _ = run("seccomp", (1, 0, 1), memory)
    assert args["fprog"] == "<unreadable: 0x1>"


def _sockaddr_un(arena: Arena, path: bytes) -> tuple[int, int]:
    addr = SockaddrUn(socket.AF_UNIX)
    ctypes.memmove(ctypes.addressof(addr) + SockaddrUn.sun_path.offset, path, len(path))
    return arena.struct(addr), 2 + len(path) + (0 if path.startswith(b"\0") else 1)


def test_connect_unix_path(memory, arena):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        addr, length = _sockaddr_un(arena, b"/run/containerd/containerd.sock")
        args, category, _ = run("connect", (sock.fileno(), addr, length), memory)
        link = os.readlink(f"/proc/self/fd/{sock.fileno()}")
        assert category == "ipc"
        assert args == {
            "fd": sock.fileno(),
            "fd_path": link,
            "addrlen": length,
            "family": "AF_UNIX",
            "path": "/run/containerd/containerd.sock",
        }
        assert format_call("connect", args, 0, None) == (
            f'connect({sock.fileno()}<{link}>, {{sa_family=AF_UNIX, sun_path="/run/containerd/containerd.sock"}}, '
            f"{length}) = 0"
        )
    finally:
        sock.close()


def test_bind_abstract_unix_name(memory, arena):
    addr, length = _sockaddr_un(arena, b"\0boxtrace-test")
    args, _, _ = run("bind", (3, addr, length), memory)
    assert args["path"] == "@boxtrace-test"
    assert args["family"] == "AF_UNIX"


def test_connect_inet_and_bad_address(memory, arena):
    sin = SockaddrIn(socket.AF_INET, socket.htons(8080), (ctypes.c_uint8 * 4)(127, 0, 0, 1))
    args, _, _ = run("connect", (3, arena.struct(sin), 16), memory)
    assert (args["family"], args["address"], args["port"]) == ("AF_INET", "127.0.0.1", 8080)
    args, _, _ = run("connect", (9999, 1, 110), memory)
    assert args["address"] == "<unreadable: 0x1>"
    assert format_call("connect", args, None, "EFAULT") == "connect(9999, <unreadable: 0x1>, 110) = -1 EFAULT"


def test_wait4_status_at_exit(memory, arena):
    status = arena.ints([3 << 8])
    ctx = make_ctx("wait4", (-1, status, 0, 0), memory)
    args, _ = decode_syscall(ctx)
    decode_syscall_exit(ctx, args, 1234)
    assert args == {"pid": -1, "status": {"exit_code": 3}, "options": []}
    assert (
        format_call("wait4", args, 1234, None)
        == "wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 3}], 0) = 1234"
    )
    killed = arena.ints([signal.SIGKILL])
    ctx = make_ctx("wait4", (5, killed, 0, 0), memory)
    args, _ = decode_syscall(ctx)
    decode_syscall_exit(ctx, args, 5)
    assert args["status"] == {"signal": "SIGKILL", "core_dumped": False}


def test_pipe2_and_socketpair_fds_at_exit(memory, arena):
    fds = arena.ints([5, 6])
    ctx = make_ctx("pipe2", (fds, os.O_CLOEXEC), memory)
    args, _ = decode_syscall(ctx)
    decode_syscall_exit(ctx, args, 0)
    assert args == {"flags": ["O_CLOEXEC"], "fds": [5, 6]}
    assert format_call("pipe2", args, 0, None) == "pipe2([5, 6], O_CLOEXEC) = 0"
    ctx = make_ctx("socketpair", (socket.AF_UNIX, socket.SOCK_STREAM, 0, fds), memory)
    args, _ = decode_syscall(ctx)
    decode_syscall_exit(ctx, args, 0)
    assert args["fds"] == [5, 6]


def test_move_mount_with_detached_mount_fd(memory, arena, tmp_path):
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        registers = (fd, arena.cstr(""), AT_FDCWD, arena.cstr("/mnt"), 0x4)
        args, category, _ = run("move_mount", registers, memory)
        assert category == "filesystem-view"
        assert args == {
            "from_dirfd": fd,
            "from_dirfd_path": str(tmp_path),
            "from_path": "",
            "to_dirfd": "AT_FDCWD",
            "to_path": "/mnt",
            "flags": ["MOVE_MOUNT_F_EMPTY_PATH"],
        }
        assert format_call("move_mount", args, 0, None) == (
            f'move_mount({fd}<{tmp_path}>, "", AT_FDCWD, "/mnt", MOVE_MOUNT_F_EMPTY_PATH) = 0'
        )
    finally:
        os.close(fd)


class ExplodingMemory(LocalMemory):
    def read_string(self, address: int, limit: int = 4096) -> str | None:
        raise RuntimeError("tracee vanished")


def test_decoder_exception_becomes_decode_error():
    memory = ExplodingMemory()
    try:
        args, category = decode_syscall(make_ctx("chdir", (0x1000,), memory))
    finally:
        memory.close()
    assert args == {"decode_error": "RuntimeError: tracee vanished", "args": ["0x1000"] + ["0x0"] * 5}
    assert category == "filesystem-view"
    assert format_call("chdir", args, None, "EFAULT") == "chdir(0x1000, 0x0, 0x0, 0x0, 0x0, 0x0) = -1 EFAULT"


_INTERESTING = st.sampled_from(
    [0, 1, 2, 3, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF, 0x7FFFFFFF, 0x1000, 0xDEAD0000, 88, -100]
)


@settings(max_examples=400, deadline=None, database=None)
@given(
    nr=st.sampled_from(sorted(nr for nr, spec in SYSCALLS.items() if spec.decode)),
    regs=st.tuples(*[_INTERESTING] * 6),
)
def test_decoders_never_raise_and_always_format(nr, regs):
    memory = LocalMemory()
    try:
        name = SYSCALLS[nr].name
        ctx = make_ctx(name, regs, memory)
        args, category = decode_syscall(ctx)
        decode_syscall_exit(ctx, args, 0)
    finally:
        memory.close()
    assert "decode_error" not in args, args
    assert category in CATEGORIES
    line = format_call(name, json.loads(json.dumps(args)), 0, None)
    assert line.startswith(f"{name}(") and line.endswith(") = 0")


# --- the dispatch table ---------------------------------------------------------------------------------------


def test_syscalls_cover_python_ptrace_table():
    for nr, name in SYSCALL_NAMES.items():
        assert SYSCALLS[nr].name == name
    assert SYSCALLS[442].name == "mount_setattr"
    assert syscall_name(100000) == "syscall_100000"


def test_native_numbers_by_name():
    assert SYSCALL_NRS_BY_NAME["execve"] == 59
    assert SYSCALL_NRS_BY_NAME["clone3"] == 435
    assert SYSCALL_NRS_BY_NAME["execveat"] == 322
    assert all(SYSCALLS[nr].name == name for name, nr in SYSCALL_NRS_BY_NAME.items())
    # The x32 duplicates (execve at 520...) are never decoded.
    assert SYSCALLS[520].name == "execve" and SYSCALLS[520].decode is None


def test_every_decoder_module_is_used():
    used = {spec.decode for spec in SYSCALLS.values()} | {spec.decode_exit for spec in SYSCALLS.values()}
    helpers = {"base", "common", "render", "explain"}
    modules = [m.name for m in pkgutil.iter_modules(decoders.__path__) if m.name not in helpers]
    assert modules
    for module_name in modules:
        module = importlib.import_module(f"tracer.decoders.{module_name}")
        functions = [
            obj
            for name, obj in inspect.getmembers(module, inspect.isfunction)
            if name.startswith("decode_") and obj.__module__ == module.__name__
        ]
        assert functions, module_name
        for function in functions:
            assert function in used, f"{module_name}.{function.__name__} is not in SYSCALLS"


def test_every_decoded_syscall_has_layout_and_explanation():
    for spec in SYSCALLS.values():
        if spec.decode is not None:
            assert spec.name in LAYOUTS, spec.name
            assert spec.name in SYSCALL_EXPLANATIONS, spec.name


def test_categories_and_container_set():
    for nr, spec in SYSCALLS.items():
        assert spec.category in CATEGORIES
        if spec.name == "write":
            assert spec.container
        else:
            assert spec.container == (spec.category != "other"), spec.name
        assert (nr in CONTAINER_SYSCALL_NRS) == spec.container
    names = {SYSCALLS[nr].name for nr in CONTAINER_SYSCALL_NRS}
    assert {
        "clone",
        "clone3",
        "unshare",
        "setns",
        "mount",
        "pivot_root",
        "execve",
        "write",
        "capset",
    } <= names
    assert not {"open", "openat", "read", "getpid"} & names
    assert SYSCALLS[SYSCALL_NRS_BY_NAME["sethostname"]].category == "namespaces"


# --- explanations -----------------------------------------------------------------------------------------------


def test_explain_pivot_root_and_flags():
    lines = explain("unshare", {"flags": ["CLONE_NEWNS", "CLONE_NEWPID", "0x80000000"]})
    assert lines[0] == SYSCALL_EXPLANATIONS["unshare"]
    assert lines[1].startswith("CLONE_NEWNS: ") and lines[2].startswith("CLONE_NEWPID: ")
    assert len(lines) == 3
    assert "MNT_DETACH" in explain("pivot_root", {"new_root": ".", "put_old": "."})[0]
    bind = explain(
        "mount", {"flags": ["MS_BIND", "MS_REC"], "operation": "bind", "ignored": ["fstype", "data"]}
    )
    assert any("does not look at: fstype, data" in line for line in bind)
    assert explain("prctl", {"option": "PR_SET_NO_NEW_PRIVS", "value": 1})[1].startswith(
        "PR_SET_NO_NEW_PRIVS: "
    )
    assert explain("getpid", {}) == []


def test_flag_explanations_cover_the_namespace_flags():
    for name in (
        "CLONE_NEWNS",
        "CLONE_NEWUTS",
        "CLONE_NEWIPC",
        "CLONE_NEWPID",
        "CLONE_NEWNET",
        "CLONE_NEWUSER",
        "CLONE_NEWCGROUP",
        "CLONE_NEWTIME",
        "CLONE_PARENT",
        "CLONE_VFORK",
        "CLONE_INTO_CGROUP",
        "MS_BIND",
        "MS_REC",
        "MS_PRIVATE",
        "MS_SLAVE",
        "MNT_DETACH",
        "PR_SET_NO_NEW_PRIVS",
        "PR_CAPBSET_DROP",
        "AT_EMPTY_PATH",
    ):
        assert FLAG_EXPLANATIONS.get(name), name
