"""What a decoder receives and returns, and how decoders are registered.

A decoder turns the raw registers of one syscall into a dict of JSON-ready arguments. It runs while the tracee is
stopped at syscall entry (memory such as execve's argv is gone after the call), reads tracee memory only through
`SyscallContext.memory`, prints nothing and never raises for unreadable memory: it stores None or an
"<unreadable ...>" string instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol


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
    category: str | None = None


#: A decoder: context in, JSON-ready argument dict out.
Decoder = Callable[[SyscallContext], dict[str, Any]]

#: An exit decoder adds what is only known after the call (e.g. the fds pipe2 returned) to the decoded args.
ExitDecoder = Callable[[SyscallContext, dict[str, Any], int], None]


@dataclass(frozen=True, slots=True)
class SyscallSpec:
    """How boxtrace handles one syscall number."""

    name: str
    category: str
    decode: Decoder | None = None
    decode_exit: ExitDecoder | None = None
    #: Part of the default `container` filter (and of its seccomp-bpf program).
    container: bool = True
    #: How many of the six argument registers the syscall reads (the rest hold whatever was left there).
    nargs: int = 6
