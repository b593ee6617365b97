"""What the decoded syscalls and their flags do, for learners: data beside the decoders.

`explain(name, args)` gathers the sentence about the call and one about every flag, option or capability in its
decoded arguments that has an entry here, plus facts that only the arguments reveal (mount arguments the kernel
ignores, an execveat of a memfd or of a detached bind mount).
"""

from __future__ import annotations

from typing import Any

SYSCALL_EXPLANATIONS: dict[str, str] = {
    "clone": (
        "Creates a new process or thread. Each CLONE_NEW* flag gives the child a fresh namespace of that kind "
        "instead of sharing the caller's; the low byte of the flags is the signal the parent receives when the "
        "child exits (SIGCHLD for an ordinary child, none for a thread)."
    ),
    "clone3": (
        "The extensible form of clone: all arguments are fields of a struct clone_args. It can also place the "
        "child directly into a cgroup (CLONE_INTO_CGROUP), give it a new time namespace, and choose its pid in "
        "each pid namespace (set_tid)."
    ),
    "fork": "Creates a child process that is a copy of the caller, sharing every namespace with it.",
    "vfork": (
        "Creates a child that borrows the caller's memory; the caller is suspended until the child calls execve "
        "or exits. Used to start a program quickly."
    ),
    "unshare": (
        "Moves the calling process into new namespaces of the kinds named by the flags, without creating a "
        "process. New pid and time namespaces are the exceptions: the caller never moves into them (its pid "
        "cannot change); every child it creates afterwards is born in them, and the first child in a new pid "
        "namespace is its pid 1."
    ),
    "setns": (
        "Joins an existing namespace, given as an fd open on /proc/PID/ns/KIND (or a pidfd, to join several of "
        "a process's namespaces at once). nstype 0 accepts a namespace of any kind. This is how runc and "
        "`docker exec` enter a running container."
    ),
    "sethostname": (
        "Sets the hostname of the caller's UTS namespace. In a fresh UTS namespace this changes only the "
        "container's hostname, not the host's."
    ),
    "setdomainname": "Sets the NIS domain name of the caller's UTS namespace.",
    "mount": (
        "Attaches a filesystem to the directory tree of the caller's mount namespace, or, depending on the "
        "flags, makes a bind mount (MS_BIND), moves a mount (MS_MOVE), changes the propagation type of a mount "
        "(MS_PRIVATE, MS_SLAVE, MS_SHARED, MS_UNBINDABLE) or changes the flags of an existing mount "
        "(MS_REMOUNT)."
    ),
    "umount2": "Detaches the mount at the target path from the caller's mount namespace.",
    "pivot_root": (
        "Moves the root mount of the caller's mount namespace to put_old and makes new_root the root. runc calls "
        'pivot_root(".", ".") from inside the new root: the old root ends up stacked on top of the new one, '
        'and a following umount2(".", MNT_DETACH) removes it, so the host filesystem is no longer reachable.'
    ),
    "chroot": (
        "Changes the directory that the caller's path lookups treat as /. Unlike pivot_root it does not change "
        "the mounts, so a privileged process can escape it; runtimes use it only when pivot_root is impossible."
    ),
    "chdir": "Changes the calling process's current working directory.",
    "fchdir": "Changes the current working directory to the directory an open fd refers to.",
    "open_tree": (
        "New mount API: returns an fd for the mount at a path; with OPEN_TREE_CLONE, a detached copy of it (a "
        "bind mount not yet attached anywhere), which move_mount can then attach."
    ),
    "open_tree_attr": "New mount API: open_tree and mount_setattr in one call.",
    "move_mount": (
        "New mount API: attaches a detached mount (from fsmount or open_tree) at a path, or moves an attached "
        "mount elsewhere."
    ),
    "fsopen": "New mount API: creates a filesystem configuration context for a filesystem type and returns its fd.",
    "fsconfig": (
        "New mount API: sets an option of a filesystem context (like one item of mount's data string), or, with "
        "FSCONFIG_CMD_CREATE, creates the filesystem instance."
    ),
    "fsmount": "New mount API: turns a configured filesystem context into a detached mount and returns its fd.",
    "fspick": "New mount API: opens a filesystem context for the filesystem already mounted at a path, to reconfigure it.",
    "mount_setattr": (
        "New mount API: changes attributes (read-only, nosuid, idmapping...) and propagation of a mount, or of a "
        "whole tree with AT_RECURSIVE."
    ),
    "mknod": "Creates a filesystem node: a device file (S_IFCHR, S_IFBLK, with major and minor numbers), a FIFO or a socket.",
    "mknodat": "mknod relative to a directory fd.",
    "mkdir": "Creates a directory. Under /sys/fs/cgroup, creating a directory creates a new cgroup.",
    "mkdirat": "mkdir relative to a directory fd. Under /sys/fs/cgroup, creating a directory creates a new cgroup.",
    "symlink": "Creates a symbolic link whose content is the target string.",
    "symlinkat": "symlink relative to a directory fd.",
    "execve": (
        "Replaces the program running in the calling process with a new one; the process keeps its pid, "
        "namespaces and cgroup. On success it does not return."
    ),
    "execveat": (
        "execve for a file named relative to a directory fd; with AT_EMPTY_PATH and an empty path it runs the "
        "file the fd itself refers to. runc re-executes itself this way as `runc init`, from a handle on its own "
        "binary that cannot be written (_LIBCONTAINER_CLONED_BINARY in the environment marks it), so that a "
        "container cannot overwrite the host's runc binary through /proc/PID/exe (CVE-2019-5736). runc 1.1.5 "
        "(Debian 12) first bind-mounts its binary read-only on a temporary file, opens it O_PATH and lazily "
        "unmounts it (umount2 MNT_DETACH), and copies itself into a sealed memfd only if that fails "
        "(libcontainer/nsenter/cloned_binary.c, try_bindfd). crun does the same at every start. The path shown is the "
        'kernel\'s name for the fd: "/" for the detached bind mount (the file is the root of a mount that is no '
        'longer in any tree), "/memfd:runc_cloned:/proc/self/exe (deleted)" for a memfd.'
    ),
    "exit": "Ends the calling thread.",
    "exit_group": "Ends every thread of the calling process, with the given status for its parent.",
    "kill": "Sends a signal to a process (pid is as seen from the caller's pid namespace).",
    "tkill": "Sends a signal to one thread.",
    "tgkill": "Sends a signal to one thread of a given process.",
    "wait4": "Waits for a child process to change state (usually to exit) and collects its status.",
    "umask": "Sets the mask of permission bits removed from the mode of files the process creates.",
    "setrlimit": (
        "Sets a resource limit (soft and hard) of the calling process; its children inherit it. Raising the hard "
        "limit needs CAP_SYS_RESOURCE."
    ),
    "prlimit64": (
        "Sets and/or reads a resource limit of any process (pid 0: the caller). Runtimes use it to apply a "
        "bundle's rlimits to the container's init; raising a hard limit needs CAP_SYS_RESOURCE."
    ),
    "capset": (
        "Sets the calling thread's effective, permitted and inheritable capability sets. A thread can only "
        "remove capabilities from its permitted set, never add them."
    ),
    "prctl": "Changes one of many per-process attributes, chosen by the option.",
    "seccomp": (
        "Installs a seccomp filter, or only asks the kernel what it supports. SECCOMP_SET_MODE_FILTER installs a "
        "BPF program the kernel runs on every later syscall of the thread (and its children) to allow it, fail it "
        "with an errno, or kill the process; filters can never be removed. SECCOMP_GET_ACTION_AVAIL (is this "
        "action supported?) and SECCOMP_GET_NOTIF_SIZES change nothing: libseccomp (so runc) probes with "
        "them, and with SET_MODE_FILTER calls whose program is NULL (EFAULT means the flag is known, EINVAL that "
        "it is not), before it installs the real filter."
    ),
    "setuid": "Sets the user ids of the caller; with CAP_SETUID it sets real, effective and saved ids at once.",
    "setgid": "Sets the group ids of the caller.",
    "setreuid": "Sets the real and effective user ids (-1 leaves one unchanged).",
    "setregid": "Sets the real and effective group ids (-1 leaves one unchanged).",
    "setresuid": "Sets the real, effective and saved user ids (-1 leaves one unchanged).",
    "setresgid": "Sets the real, effective and saved group ids (-1 leaves one unchanged).",
    "setgroups": "Replaces the caller's supplementary group list (needs CAP_SETGID).",
    "connect": "Connects a socket to an address; for a Unix socket, this is how one process starts talking to another.",
    "bind": "Gives a socket its own address; for a Unix socket path, this creates the socket file others connect to.",
    "socketpair": "Creates two connected sockets, typically kept by a parent and a child to talk to each other.",
    "socket": (
        "Creates a socket. An AF_NETLINK socket talks to the kernel itself, not to another process; with "
        "NETLINK_ROUTE it carries the rtnetlink messages that create network devices, move them between network "
        "namespaces, and set addresses and routes (what `ip link` and `ip addr` send). The socket belongs to the "
        "network namespace its creator was in at that moment."
    ),
    "sendto": (
        "Sends a buffer on a socket. On a NETLINK_ROUTE socket the buffer is one or more requests to the kernel "
        "(RTM_NEWLINK creates or changes a device, RTM_NEWADDR adds an address, RTM_NEWROUTE a route); the kernel "
        "acts on them in the socket's network namespace."
    ),
    "sendmsg": (
        "Sends the pieces of a message (an iovec list) on a socket in one call; on a NETLINK_ROUTE socket they "
        "form rtnetlink requests, as with sendto."
    ),
    "recvfrom": (
        "Receives from a socket. On a netlink socket this is the kernel's answer: an NLMSG_ERROR whose error is 0 "
        "acknowledges a request, a negative one says why it was refused; a dump answers with one message per object."
    ),
    "recvmsg": "Receives a message into an iovec list; on a netlink socket, the kernel's answers as for recvfrom.",
    "write": (
        "Writes to an fd. boxtrace records the data only for namespace and cgroup control files: a pid written "
        "to cgroup.procs moves that process into the cgroup, a line in uid_map maps ids of a user namespace."
    ),
    "open": "Opens a file and returns an fd for it.",
    "openat": "Opens a file named relative to a directory fd (or the current directory, AT_FDCWD).",
    "pipe2": "Creates a pipe: two fds, a read end and a write end.",
}

FLAG_EXPLANATIONS: dict[str, str] = {
    "CLONE_NEWNS": (
        "New mount namespace (the first namespace kind, 2002): it starts as a copy of the caller's mount table. "
        "Copies of shared mounts stay in their peer groups, so mounts and unmounts under them still propagate "
        "both ways until the new namespace makes them slave or private: runc sets MS_SLAVE|MS_REC on /, "
        "util-linux unshare MS_PRIVATE|MS_REC by default. (Created together with a new user namespace, shared "
        "mounts become slaves at once: events only flow in.)"
    ),
    "CLONE_NEWUTS": "New UTS namespace: its own hostname and domain name.",
    "CLONE_NEWIPC": "New IPC namespace: its own System V IPC objects and POSIX message queues.",
    "CLONE_NEWPID": (
        "New pid namespace: the first process created in it is its pid 1. Processes in it see only the processes "
        "of this namespace and of namespaces nested in it, and these need not descend from pid 1: after a setns "
        "into it (as `docker exec` does), the caller's next children are born in it too. A process has a "
        "different pid in each pid namespace that sees it."
    ),
    "CLONE_NEWNET": (
        "New network namespace: its own interfaces, routes and ports. It starts with only a loopback interface, "
        "and that one is down: runc brings `lo` up itself with two netlink requests (the two AF_NETLINK sockets "
        "runc init binds before its first mount), util-linux unshare and boxtrace's teach runtime leave it down."
    ),
    "CLONE_NEWUSER": (
        "New user namespace: its own uid and gid mappings and capabilities. An unprivileged process can create "
        "one and holds every capability inside it, but it is not uid 0 there yet: until a uid_map and gid_map "
        "are written, its ids inside are the overflow ids (65534, nobody)."
    ),
    "CLONE_NEWCGROUP": "New cgroup namespace: /proc/PID/cgroup and a fresh cgroupfs mount show its cgroup as the root.",
    "CLONE_NEWTIME": "New time namespace: its own offsets for the monotonic and boot-time clocks.",
    "CLONE_PARENT": (
        "The child's parent is the caller's parent, not the caller. runc init's C part (nsexec) makes its two "
        "stages this way: stage 0 could not reap stage 1, and stage 1 exits right after forking stage 2, so "
        "both are children of the Go runc that started init, which reaps them and learns both pids."
    ),
    "CLONE_VFORK": "The caller is suspended until the child calls execve or exits.",
    "CLONE_VM": "The child shares the caller's memory (threads, vfork).",
    "CLONE_THREAD": "The child is a thread in the caller's thread group, not a new process.",
    "CLONE_PIDFD": "The kernel also returns a pidfd, an fd that refers to the child process.",
    "CLONE_UNTRACED": (
        "The child is not traced automatically even when the tracer follows forks and clones: it escapes ptrace."
    ),
    "CLONE_INTO_CGROUP": "The child starts in the cgroup given by the cgroup fd, instead of its parent's (cgroup v2).",
    "CLONE_CLEAR_SIGHAND": "The child's signal handlers are reset to their defaults.",
    "MS_BIND": "Bind mount: the same directory tree made visible at a second place. fstype and data are ignored.",
    "MS_REC": "Apply to the whole tree of mounts below the target, not only the mount at it.",
    "MS_PRIVATE": "Mount and unmount events no longer propagate to or from this mount's peers.",
    "MS_SLAVE": "Events from the master's peers still propagate in, but nothing done here propagates out.",
    "MS_SHARED": "Mount and unmount events propagate between this mount and its peers.",
    "MS_UNBINDABLE": "Private, and this mount cannot be the source of a bind mount.",
    "MS_MOVE": "Move an existing mount to the target; fstype and data are ignored.",
    "MS_REMOUNT": "Change the flags (and with data, options) of an existing mount instead of mounting.",
    "MS_RDONLY": "Read-only.",
    "MS_NOSUID": "set-user-id and set-group-id bits and file capabilities are ignored on this mount.",
    "MS_NODEV": "Device files on this mount cannot be opened.",
    "MS_NOEXEC": "Programs on this mount cannot be executed.",
    "MS_MGC_VAL": "An obsolete magic number in the upper 16 bits; the kernel strips it and ignores it.",
    "MNT_DETACH": (
        "Lazy unmount: the mount disappears from the namespace at once, and is freed when no one uses it any more."
    ),
    "MNT_FORCE": "Force the unmount even if busy (only some network filesystems support it).",
    "AT_EMPTY_PATH": "With an empty path, operate on the file the dirfd itself refers to.",
    "AT_RECURSIVE": "Apply to the whole mount tree below the path.",
    "OPEN_TREE_CLONE": "Return a detached copy (a bind mount) of the tree rather than the tree itself.",
    "PR_SET_NO_NEW_PRIVS": (
        "From now on execve can never grant privileges (set-user-id bits and file capabilities are ignored). "
        "Required before an unprivileged process may install a seccomp filter; inherited by children."
    ),
    "PR_CAPBSET_DROP": "Removes a capability from the bounding set: no later execve can ever give it back.",
    "PR_CAPBSET_READ": "Asks whether a capability is in the bounding set.",
    "PR_SET_SECCOMP": "The older way to install a seccomp filter (SECCOMP_MODE_FILTER) or strict mode.",
    "PR_SET_KEEPCAPS": "Keep permitted capabilities when switching all uids from 0 to non-zero.",
    "PR_SET_DUMPABLE": "Whether the process can dump core and be ptraced by processes of the same user.",
    "PR_SET_NAME": "Sets the thread's name (comm, at most 15 bytes), as shown by ps and /proc/PID/comm.",
    "PR_SET_PDEATHSIG": "The signal the caller receives when its parent thread dies.",
    "PR_SET_CHILD_SUBREAPER": (
        "Orphaned descendants are reparented to the caller instead of to init, so it can wait for them "
        "(containerd shims use this, and so do `runc run` and `runc create`, which reap runc init's stages)."
    ),
    "PR_CAP_AMBIENT": "Changes the ambient capability set: capabilities kept across execve of ordinary programs.",
    "PR_CAP_AMBIENT_RAISE": (
        "Adds a capability to the ambient set. The kernel refuses (EPERM) unless the capability is in both the "
        "permitted and the inheritable set. runc's default config asks for ambient capabilities but no "
        "inheritable ones, so each raise fails, and runc's capability library ignores the error."
    ),
    "PR_CAP_AMBIENT_LOWER": "Removes a capability from the ambient set (runc lowers every one it does not keep).",
    "SECCOMP_SET_MODE_FILTER": "Install the BPF filter program pointed to by the arguments.",
    "SECCOMP_FILTER_FLAG_TSYNC": "Install the filter on every thread of the process at once.",
    "SECCOMP_FILTER_FLAG_NEW_LISTENER": "Return an fd through which a supervisor handles SECCOMP_RET_USER_NOTIF syscalls.",
    "CAP_SYS_ADMIN": "The catch-all administrative capability: mount, namespaces, sethostname and much more.",
    "CAP_NET_ADMIN": "Network configuration: interfaces, routes, firewall.",
    "CAP_SYS_PTRACE": "Trace or inspect any process, including those of other users.",
    "CAP_SYS_MODULE": "Load and unload kernel modules.",
    "CAP_SETUID": "Set arbitrary user ids.",
    "CAP_SETGID": "Set arbitrary group ids and supplementary groups.",
    "CAP_MKNOD": "Create device files with mknod.",
    "SIGCHLD": "The signal a parent receives when a child exits; the normal exit signal of a process.",
}

#: Argument keys whose values are flag names, option names or capability names worth explaining.
_EXPLAINED_KEYS = (
    "flags",
    "nstype",
    "option",
    "operation",
    "capability",
    "exit_signal",
    "attr_set",
    "effective",
)


def explain(name: str, args: dict[str, Any]) -> list[str]:
    """Sentences about one decoded call, the syscall's first, then one per explained flag ("NAME: ...")."""
    lines: list[str] = []
    if name in SYSCALL_EXPLANATIONS:
        lines.append(SYSCALL_EXPLANATIONS[name])
    seen: set[str] = set()
    for key in _EXPLAINED_KEYS:
        value = args.get(key)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and item in FLAG_EXPLANATIONS and item not in seen:
                seen.add(item)
                lines.append(f"{item}: {FLAG_EXPLANATIONS[item]}")
    ignored = args.get("ignored")
    if name == "mount" and ignored:
        lines.append(
            f"For this {args.get('operation', '')} operation the kernel does not look at: {', '.join(ignored)}."
        )
    if name == "execveat" and str(args.get("dirfd_path", "")).startswith("/memfd:"):
        lines.append("The program runs from a memfd: an in-memory file, not a file on disk.")
    if name == "execveat" and args.get("dirfd_path") == "/" and not args.get("path"):
        lines.append(
            "The fd's path is \"/\": it is a file that is the root of a detached mount, like runc's read-only bind "
            "mount of its own binary after umount2(MNT_DETACH)."
        )
    return lines
