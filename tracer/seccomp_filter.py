"""The seccomp-bpf program that makes the default mode fast.

Without it, every syscall of every tracee costs two ptrace stops (about 50 us each here). With it, the kernel itself
lets the uninteresting syscalls run and stops the tracee (SECCOMP_RET_TRACE -> PTRACE_EVENT_SECCOMP) only for the
ones the container filter records. The program checks the audit arch first: a syscall of another ABI is allowed
untouched (its numbers mean other calls).

Caveat the engine handles: a process carrying this filter with no tracer gets ENOSYS for the traced syscalls,
forever; so it is only used in launch mode, where the tracer owns the whole tree and kills it when it stops.
"""

from __future__ import annotations

import ctypes
import struct
from collections.abc import Iterable

AUDIT_ARCH_X86_64 = 0xC000003E
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_TRACE = 0x7FF00000
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
PR_SET_NO_NEW_PRIVS = 38

# Classic BPF opcodes (linux/bpf_common.h).
BPF_LD_W_ABS = 0x20
BPF_JEQ_K = 0x15
BPF_JGT_K = 0x25
BPF_RET_K = 0x06

# struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6];
OFFSET_NR = 0
OFFSET_ARCH = 4
OFFSET_ARG0_LOW = 16
OFFSET_ARG0_HIGH = 20

_INSN = struct.Struct("<HBBI")


def build_program(traced: Iterable[int], write_nr: int | None = None) -> bytes:
    """A BPF program returning TRACE for `traced` syscall numbers and ALLOW for the rest.

    When `write_nr` is given, write(2) is traced only for fd > 2: writes to namespace and cgroup control files
    go through opened fds, while a program's own stdout/stderr traffic (dd's) never stops.
    """
    numbers = sorted(set(traced) - ({write_nr} if write_nr is not None else set()))
    insns: list[tuple[int, int, int, int]] = []
    tail = 5 if write_nr is not None else 0  # the write check's instructions
    count = len(numbers)
    # Layout: [ld arch][jeq arch][ld nr][jeq nr_i ...][write check?][ret ALLOW][ret TRACE]
    insns.append((BPF_LD_W_ABS, 0, 0, OFFSET_ARCH))
    insns.append((BPF_JEQ_K, 0, count + tail + 1, AUDIT_ARCH_X86_64))
    insns.append((BPF_LD_W_ABS, 0, 0, OFFSET_NR))
    for index, nr in enumerate(numbers):
        to_trace = (count - index - 1) + tail + 1
        if to_trace > 255:
            raise ValueError("too many traced syscalls for one BPF jump")
        insns.append((BPF_JEQ_K, to_trace, 0, nr))
    if write_nr is not None:
        insns.append((BPF_JEQ_K, 0, 4, write_nr))  # not write -> ALLOW
        insns.append((BPF_LD_W_ABS, 0, 0, OFFSET_ARG0_HIGH))
        insns.append((BPF_JEQ_K, 0, 3, 0))  # fd with high bits set (negative) -> TRACE
        insns.append((BPF_LD_W_ABS, 0, 0, OFFSET_ARG0_LOW))
        insns.append((BPF_JGT_K, 1, 0, 2))  # fd > 2 -> TRACE, else ALLOW
    insns.append((BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW))
    insns.append((BPF_RET_K, 0, 0, SECCOMP_RET_TRACE))
    return b"".join(_INSN.pack(*insn) for insn in insns)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


class PreparedFilter:
    """A filter built in the parent before fork, so the child only makes one prctl call before exec."""

    def __init__(self, program: bytes) -> None:
        self._buffer = ctypes.create_string_buffer(program, len(program))
        self._prog = _SockFprog(len(program) // 8, ctypes.addressof(self._buffer))
        self._libc = ctypes.CDLL(None, use_errno=True)
        self._prctl = self._libc.prctl
        self._prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]

    def install(self, *, no_new_privs: bool) -> int:
        """Install in the calling process; returns 0 or an errno. Async-signal-safe enough for a forked child."""
        if no_new_privs and self._prctl(PR_SET_NO_NEW_PRIVS, 1, None, 0, 0) != 0:
            return ctypes.get_errno()
        if self._prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(self._prog), 0, 0) != 0:
            return ctypes.get_errno()
        return 0
