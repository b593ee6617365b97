"""teach: a container runtime small enough to read in one sitting.

A container is an ordinary process that the kernel shows a different view of the machine: its own process numbers,
hostname, mount table, network stack and IPC objects. Nothing here is magic; each step below is one system call, in
the order the kernel needs them, and the comments say what the kernel does with it.

    python -m scenarios.teach_runtime [--rootless] [--hostname NAME] ROOTFS CMD [ARG...]

Run it as root, or with --rootless as an ordinary user (that adds a user namespace in which you are root). The
program uses only the standard library so that it can also be run as a plain file by any user.
"""

from __future__ import annotations

import argparse
import ctypes
import errno
import os
import platform
import sys

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long

# Flags from <linux/sched.h>: each CLONE_NEW* asks for a new namespace of one kind.
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
SIGCHLD = 17  # the low byte of clone's flags: the signal the parent gets when the child exits
# Flags from <linux/mount.h>.
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x8, 0x1000, 0x4000, 0x40000
MNT_DETACH = 2
# System call numbers from <asm/unistd.h>; glibc has no wrapper we can use for a fork-like clone or pivot_root.
SYS_clone, SYS_pivot_root = {"x86_64": (56, 155), "aarch64": (220, 41)}[platform.machine()]

# What a learner should know when a step fails, by (step, errno).
EPERM, EINVAL, ENOENT, EBUSY = errno.EPERM, errno.EINVAL, errno.ENOENT, errno.EBUSY
LESSONS = {
    ("clone", EPERM): "new namespaces need CAP_SYS_ADMIN: run as root, or add --rootless",
    ("clone", errno.ENOSPC): "the user namespace limit is reached: see /proc/sys/user/max_user_namespaces",
    ("clone", EINVAL): "this kernel lacks a namespace kind asked for (check its CONFIG_*_NS options)",
    ("uid_map", EPERM): "without CAP_SETUID you may map only your own uid, once, to a single id",
    ("gid_map", EPERM): "without CAP_SETGID you may map only your own gid, after denying setgroups",
    ("mount private", EPERM): "mount needs CAP_SYS_ADMIN in the user namespace owning this mount namespace",
    ("bind rootfs", ENOENT): "the root filesystem directory does not exist",
    ("mount proc", EPERM): "a user namespace may mount proc only for a pid namespace it owns, and only "
    "while the host's /proc is not partly hidden by other mounts",
    ("pivot_root", EINVAL): "the new root must be a mount point whose propagation is not shared "
    "(that is what the bind mount and MS_PRIVATE steps are for)",
    ("pivot_root", EPERM): "pivot_root needs CAP_SYS_ADMIN in the mount namespace's user namespace",
    ("pivot_root", EBUSY): "the new root is busy: something is mounted over it, or it is the root already",
    ("execve", ENOENT): "the command does not exist inside the new root: paths now resolve inside ROOTFS",
    ("execve", errno.EACCES): "the command is not an executable file (or its directory is not searchable)",
}


class StepFailed(Exception):
    def __init__(self, step: str, err: int) -> None:
        # Exit codes as shells and docker use them: 127 command not found, 126 not runnable, 125 our own failure.
        self.code = {"execve": 126 if err != errno.ENOENT else 127}.get(step, 125)
        lesson = LESSONS.get((step, err), "")
        name = errno.errorcode.get(err, str(err))
        super().__init__(f"{step} failed: {name} ({os.strerror(err)}). {lesson}".strip())


def must(result: int, step: str) -> int:
    """Return `result`, or stop with the lesson for this step when the kernel said no (-1 and errno)."""
    if result < 0:
        raise StepFailed(step, ctypes.get_errno())
    return result


def write_proc(pid: int, name: str, text: str) -> None:
    try:
        with open(f"/proc/{pid}/{name}", "w") as f:
            f.write(text)
    except OSError as e:
        raise StepFailed(name, e.errno or 0) from None


def child(rootfs: str, hostname: str, argv: list[str], go: int) -> None:
    """Runs in the new namespaces; ends in execve (or exits with 125 after explaining a failed step)."""
    # Wait for the parent's go (it closes the pipe). With --rootless the parent must first write our uid/gid maps:
    # until then we are "nobody" in our own user namespace and the capabilities it gave us do not help.
    os.read(go, 1)
    # 2. Our UTS namespace is private, so setting its hostname changes nothing outside.
    must(libc.sethostname(hostname.encode(), len(hostname.encode())), "sethostname")
    # 3. The new mount namespace started as a copy of the host's mount table. Mark every mount private, so that
    #    nothing we mount or unmount from now on propagates back to the host (and pivot_root accepts our root).
    must(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "mount private")
    # 4. pivot_root needs the new root to be a mount point; binding the directory onto itself makes it one.
    must(libc.mount(rootfs.encode(), rootfs.encode(), None, MS_BIND | MS_REC, None), "bind rootfs")
    # 5. A fresh proc, mounted from inside the new pid namespace, lists only this namespace's processes.
    proc = os.path.join(rootfs, "proc").encode()
    must(libc.mount(b"proc", proc, b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None), "mount proc")
    # 6. Stand in the new root: pivot_root(".", ".") uses the working directory for both of its arguments.
    must(libc.chdir(rootfs.encode()), "chdir")
    # 7. pivot_root swaps this mount namespace's root: the new root becomes "/", and the old root is stacked on top
    #    of it at the same place ("."), so no directory is needed to hold it.
    dot = ctypes.c_char_p(b".")
    must(libc.syscall(ctypes.c_long(SYS_pivot_root), dot, dot), "pivot_root")
    # 8. Detach the old root (the top of that stack). MNT_DETACH unmounts lazily, even while something still uses
    #    it; the host's files are now out of reach from this mount namespace.
    must(libc.umount2(b".", MNT_DETACH), "umount2")
    # 9. Our working directory still points into the detached old root; move into the new "/".
    must(libc.chdir(b"/"), "chdir")
    # 10. Replace this Python process with the container's entrypoint. It keeps our pid (1 in the new namespace).
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "HOSTNAME": hostname}
    try:
        os.execvpe(argv[0], argv, env)
    except OSError as e:
        raise StepFailed("execve", e.errno or 0) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="teach", description="A container runtime written as a lesson.")
    parser.add_argument("--rootless", action="store_true", help="add a user namespace (no root needed)")
    parser.add_argument("--hostname", default="boxtrace", help="hostname inside the container")
    parser.add_argument("rootfs", help="directory holding the container's files")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="program and arguments to run inside")
    args = parser.parse_args(argv)
    if not args.command:
        parser.error("give a command to run inside the container")
    rootfs = os.path.abspath(args.rootfs)

    flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET
    if args.rootless:
        flags |= CLONE_NEWUSER  # the kernel creates the user namespace first, and owns the others by it
    go_read, go_write = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    # 1. clone with CLONE_NEW* flags: the child starts life in new namespaces, as pid 1 of the new pid namespace.
    #    A stack of 0 means "keep using a copy of my stack", like fork, which is why Python can call it.
    pid = libc.syscall(ctypes.c_long(SYS_clone), ctypes.c_long(flags | SIGCHLD), *[ctypes.c_long(0)] * 4)
    if pid == 0:
        try:
            os.close(go_write)
            child(rootfs, args.hostname, args.command, go_read)
        except StepFailed as e:
            print(f"teach: {e}", file=sys.stderr, flush=True)
            os._exit(e.code)
        finally:
            os._exit(125)  # never return into the parent's code, whatever happened
    try:
        must(pid, "clone")
        if args.rootless:
            # 1b. Map ids: uid 0 inside is our uid outside. An unprivileged process must deny setgroups(2) first,
            #     or it could drop supplementary groups that deny access to files.
            write_proc(pid, "setgroups", "deny")
            write_proc(pid, "uid_map", f"0 {os.getuid()} 1")
            write_proc(pid, "gid_map", f"0 {os.getgid()} 1")
    except StepFailed as e:
        print(f"teach: {e}", file=sys.stderr)
        if pid > 0:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        return 125
    os.close(go_read)
    os.close(go_write)  # the child's read returns: go on
    # 11. Wait like any parent. When pid 1 of a pid namespace exits, the kernel kills the rest of that namespace.
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main())
