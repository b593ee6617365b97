"""What a decoder receives and returns, and how decoders are registered.

A decoder turns the raw registers of one syscall into a dict of JSON-ready arguments. It runs while the tracee is
stopped at syscall entry (memory such as execve's argv is gone after the call), reads tracee memory only through
`SyscallContext.memory`, prints nothing and never raises for unreadable memory: it stores None or an
"<unreadable ...>" string instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from tracer.events import Category


class TraceeMemory(Protocol):
    """Read-only access to a stopped tracee (implemented by tracer.memory.ProcessMemory)."""

    pid: int

    def read_bytes(self, address: int, size: int) -> bytes | None: ...

    def read_string(self, address: int, limit: int = 4096) -> str | None:
        """A NUL-terminated string; non-UTF-8 bytes come back as \\xNN escapes; None if unreadable."""
        ...

    def read_string_array(self, address: int, max_items: int = 4096, max_bytes: int = 256 * 1024) -> list[str] | None:
        """A NULL-terminated array of string pointers (argv, envp)."""
        ...

    def fd_path(self, fd: int) -> str | None:
        """The target of /proc/PID/fd/FD (a path, "mnt:[4026531841]", "socket:[123]"), or None."""
        ...

    def cwd(self) -> str | None: ...


@dataclass
class SyscallContext:
    """One syscall at its entry stop."""

    name: str
    nr: int
    pid: int  # thread-group id
    tid: int  # the thread making the call
    args: tuple[int, ...]
    memory: TraceeMemory
    show_env: bool = False
    #: Derived facts a decoder wants shown beside the raw arguments (e.g. a resolved /proc/self/fd/N path).
    notes: dict[str, Any] = field(default_factory=dict)
    #: A decoder may refine the syscall's category from what it read (a write to cgroup.procs is `cgroups`).
    category: Category | None = None


#: A decoder: context in, JSON-ready argument dict out.
Decoder = Callable[[SyscallContext], dict[str, Any]]

#: An exit decoder adds what is only known after the call (e.g. the fds pipe2 returned) to the decoded args.
ExitDecoder = Callable[[SyscallContext, dict[str, Any], int], None]


class Trait(StrEnum):
    """What a syscall does that consumers ask about (like strace's TP/TN/TD... flags in syscallent.h).

    Consumers query the table (`tracer.decoders.syscalls_with`) instead of keeping their own name sets.
    """

    #: Creates a process or thread: clone, clone3, fork, vfork.
    PROCESS = "process"
    #: Replaces the program: execve, execveat.
    EXEC = "exec"
    #: Never returns to the caller when it succeeds: exit, exit_group.
    NEVER_RETURNS = "never-returns"
    #: Creates or joins namespaces: clone, clone3, unshare, setns.
    NAMESPACE = "namespace"
    #: Can create namespaces through CLONE_NEW* flags: clone, clone3, unshare.
    NEW_NAMESPACE = "new-namespace"
    #: Moves the calling process itself into other namespaces (re-read /proc/PID/ns after it): unshare, setns.
    OWN_NAMESPACES = "own-namespaces"
    #: Changes or copies a mount table: mount, umount2, pivot_root and the new mount API calls that attach mounts.
    MOUNT_TABLE = "mount-table"
    #: Makes a mount, with the old API or the new one (fsopen ... move_mount).
    MOUNT = "mount"
    #: Changes the process's root directory: pivot_root, chroot.
    ROOT = "root"
    #: Changes the process's credentials: set*id, setfs*id, setgroups, capset.
    IDENTITY = "identity"


@dataclass(frozen=True, slots=True)
class SyscallSpec:
    """How boxtrace handles one syscall number."""

    name: str
    category: Category
    decode: Decoder | None = None
    decode_exit: ExitDecoder | None = None
    #: Part of the default `container` filter (and of its seccomp-bpf program).
    container: bool = True
    #: How many of the six argument registers the syscall reads (the rest hold whatever was left there).
    nargs: int = 6
    #: What the syscall does, for consumers that select syscalls by meaning (see Trait).
    traits: frozenset[Trait] = frozenset()
