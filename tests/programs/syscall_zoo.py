"""One of each container-relevant system call, with known arguments, made with raw syscall(2).

    syscall_zoo.py DIRECTORY

Run as root. The calls come between chdir("/zoo-begin") and chdir("/zoo-end") (both fail with ENOENT), so a
reader can cut them out of a trace. Every argument is fixed (paths under DIRECTORY, fds dup'ed to fixed numbers,
no pids), so two traces of two runs, by boxtrace and by strace, can be compared call by call. The process first
moves into new UTS and mount namespaces, so the host's hostname and mounts are never touched.
"""

from __future__ import annotations

import ctypes
import os
import socket
import sys

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long

NR = {"chdir": 80, "fchdir": 81, "mkdir": 83, "symlink": 88, "mknod": 133, "unshare": 272, "sethostname": 170,
      "mount": 165, "umount2": 166, "chroot": 161, "pivot_root": 155, "setns": 308, "prctl": 157, "setgroups": 116,
      "setuid": 105, "setgid": 106, "setresuid": 117, "connect": 42, "bind": 49, "socketpair": 53, "kill": 62,
      "execve": 59, "seccomp": 317, "umask": 95, "wait4": 61, "capget": 125, "capset": 126}

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWNET = 0x20000, 0x4000000, 0x40000000
MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE, MS_RDONLY = 2, 4, 32, 4096, 16384, 1 << 18, 1
MNT_DETACH = 2
PR_SET_NAME, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 15, 24, 38
CAP_SYS_BOOT = 22
S_IFIFO = 0o010000
SECCOMP_GET_ACTION_AVAIL, SECCOMP_RET_LOG = 2, 0x7FFC0000
AF_UNIX, SOCK_STREAM, SOCK_CLOEXEC = 1, 1, 0o2000000


def call(name: str, *args) -> int:
    converted = [ctypes.c_char_p(a) if isinstance(a, bytes) else ctypes.c_void_p(a) if a is None else
                 a if isinstance(a, ctypes._SimpleCData | ctypes.Array | ctypes.Structure) else ctypes.c_long(a)
                 for a in args]
    return libc.syscall(ctypes.c_long(NR[name]), *converted)


def sockaddr_un(path: bytes) -> ctypes.Array:
    return ctypes.create_string_buffer(b"\x01\x00" + path + b"\0", 2 + len(path) + 1)


def main() -> None:
    base = os.fsencode(sys.argv[1])
    # Fixed fd numbers, whatever the tracer left open.
    directory_fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY)
    os.dup2(directory_fd, 40)
    uts_fd = os.open("/proc/self/ns/uts", os.O_RDONLY)
    os.dup2(uts_fd, 41)
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    os.dup2(unix.fileno(), 42)
    bound = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    os.dup2(bound.fileno(), 43)
    pair = (ctypes.c_int * 2)()
    status = (ctypes.c_int * 1)()
    action = (ctypes.c_uint * 1)(SECCOMP_RET_LOG)
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)
    data = (ctypes.c_uint32 * 6)()
    call("capget", header, data)
    groups = (ctypes.c_uint32 * 1)(0)
    argv = (ctypes.c_char_p * 3)(b"zoo", b"arg", None)
    envp = (ctypes.c_char_p * 2)(b"ZOO=1", None)

    call("chdir", b"/zoo-begin")
    call("unshare", CLONE_NEWUTS | CLONE_NEWNS)
    call("sethostname", b"zoo", 3)
    call("mount", b"none", b"/", None, MS_REC | MS_PRIVATE, None)
    call("mount", b"tmpfs", base, b"tmpfs", MS_NOSUID | MS_NODEV, b"size=1m,mode=755")
    call("mkdir", base + b"/a", 0o755)
    call("mknod", base + b"/fifo", S_IFIFO | 0o644, 0)
    call("symlink", b"target", base + b"/link")
    call("mount", base + b"/a", base + b"/a", None, MS_BIND | MS_REC, None)
    call("mount", None, base + b"/a", None, MS_REMOUNT | MS_BIND | MS_RDONLY, None)
    call("umount2", base + b"/a", MNT_DETACH)
    call("chroot", b"/zoo-no-such-root")
    call("pivot_root", b"/zoo-no-new-root", b"/zoo-no-put-old")
    call("setns", 9999, CLONE_NEWNET)
    call("setns", 41, CLONE_NEWUTS)
    call("chdir", base)
    call("fchdir", 40)
    call("prctl", PR_SET_NAME, b"zoo-name", 0, 0, 0)
    call("prctl", PR_CAPBSET_DROP, CAP_SYS_BOOT, 0, 0, 0)
    call("capset", header, data)
    call("setgroups", 1, groups)
    call("setresuid", -1, -1, -1)
    call("setgid", 0)
    call("setuid", 0)
    call("connect", 42, sockaddr_un(base + b"/no-such-socket"), 2 + len(base) + 16)
    call("bind", 43, sockaddr_un(base + b"/sock"), 2 + len(base) + 6)
    call("socketpair", AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair)
    call("seccomp", SECCOMP_GET_ACTION_AVAIL, 0, action)
    call("umask", 0o022)
    call("kill", 0, 0)
    call("execve", b"/zoo-no-such-program", argv, envp)
    child = os.fork()
    if child == 0:
        os._exit(3)
    call("wait4", -1, status, 0, None)
    call("prctl", PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    call("chdir", b"/zoo-end")


if __name__ == "__main__":
    main()
