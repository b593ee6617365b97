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

from tracer.xlat.seccomp import AUDIT_ARCH_X86_64

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
OFFSET_ARG1_LOW = 24

_INSN = struct.Struct("<HBBI")

# Jump targets resolved when the program is assembled: the two returns at its end, or the next check.
_ALLOW, _TRACE, _NEXT = "allow", "trace", "next"
#: A jump: 0 (fall through) or a label.
_Jump = int | str
#: (code, jump if true, jump if false, k).
_Insn = tuple[int, _Jump, _Jump, int]


def build_program(traced: Iterable[int], write_nr: int | None = None, dup_nrs: Iterable[int] = (),
                  socket_nr: int | None = None, socket_domain: int = 16) -> bytes:
    """A BPF program returning TRACE for `traced` syscall numbers and ALLOW for the rest.

    When `write_nr` is given, write(2) is traced only for fd > 2: writes to namespace and cgroup control files
    go through opened fds, while a program's own stdout/stderr traffic (dd's) never stops.

    A shell's `echo 0 0 1 > /proc/self/uid_map` is the exception: it opens the file, moves it onto fd 1 with
    dup2(3, 1), then writes to fd 1. So dup2/dup3 (`dup_nrs`) are traced when their new fd is 0, 1 or 2; the
    engine then looks at what the fd is and, for a control file, follows that thread at every syscall until it
    has written (see Tracer._watch_low_fd).

    With `socket_nr`, socket(2) is traced only when its domain (arg0) is `socket_domain` (AF_NETLINK): the engine
    then follows the process that holds a NETLINK_ROUTE socket (see tracer.netlink_watch).
    """
    traced = set(traced)
    conditions: list[tuple[int, str]] = []  # (nr, which check)
    if write_nr is not None:
        conditions.append((write_nr, "write"))
    conditions += [(nr, "dup") for nr in sorted(set(dup_nrs) - traced)]
    if socket_nr is not None and socket_nr not in traced:
        conditions.append((socket_nr, "socket"))
    numbers = sorted(traced - {nr for nr, _ in conditions})
    # Symbolic program: instructions, and labels (a str) that name the position of the next instruction.
    program: list[_Insn | str] = [
        (BPF_LD_W_ABS, 0, 0, OFFSET_ARCH),
        (BPF_JEQ_K, 0, _ALLOW, AUDIT_ARCH_X86_64),
        (BPF_LD_W_ABS, 0, 0, OFFSET_NR),
    ]
    program += [(BPF_JEQ_K, _TRACE, 0, nr) for nr in numbers]
    block = 0
    for nr, check in conditions:
        block += 1
        skip = f"{_NEXT}{block}"
        program.append((BPF_JEQ_K, 0, skip, nr))
        if check == "write":
            program.append((BPF_LD_W_ABS, 0, 0, OFFSET_ARG0_HIGH))
            program.append((BPF_JEQ_K, 0, _TRACE, 0))  # fd with high bits set (negative) -> TRACE
            program.append((BPF_LD_W_ABS, 0, 0, OFFSET_ARG0_LOW))
            program.append((BPF_JGT_K, _TRACE, _ALLOW, 2))  # fd > 2 -> TRACE, else ALLOW
        elif check == "socket":
            program.append((BPF_LD_W_ABS, 0, 0, OFFSET_ARG0_LOW))  # the domain (an int)
            program.append((BPF_JEQ_K, _TRACE, _ALLOW, socket_domain))
        else:
            program.append((BPF_LD_W_ABS, 0, 0, OFFSET_ARG1_LOW))  # newfd (an unsigned int)
            program.append((BPF_JGT_K, _ALLOW, _TRACE, 2))  # newfd <= 2 -> TRACE, else ALLOW
        program.append(skip)
    program.append((BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW))
    program.append((BPF_RET_K, 0, 0, SECCOMP_RET_TRACE))
    return _assemble(program)


def _assemble(program: list[_Insn | str]) -> bytes:
    """Resolve the labels into relative jumps (classic BPF jumps forward only, by at most 255)."""
    positions: dict[_Jump, int] = {}
    insns: list[_Insn] = []
    for insn in program:
        if isinstance(insn, str):
            positions[insn] = len(insns)
        else:
            insns.append(insn)
    positions[_ALLOW] = len(insns) - 2
    positions[_TRACE] = len(insns) - 1

    def offset(target: _Jump, index: int) -> int:
        if target == 0:
            return 0
        distance = positions[target] - index - 1
        if not 0 <= distance <= 255:
            raise ValueError("too many traced syscalls for one BPF jump")
        return distance

    return b"".join(
        _INSN.pack(code, offset(jt, index), offset(jf, index), k)
        for index, (code, jt, jf, k) in enumerate(insns)
    )


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
