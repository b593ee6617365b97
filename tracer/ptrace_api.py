"""Small typed wrappers over the ptrace requests the engine uses.

python-ptrace gives us the raw call (`ptrace.binding.func.ptrace`, which raises PtraceError with an errno) and its
constants; it lacks the SEIZE-era requests, PTRACE_GET_SYSCALL_INFO and a correct GETEVENTMSG (it reads into a
4-byte buffer while the kernel writes an unsigned long), so those are here.
"""

from __future__ import annotations

import ctypes
import errno
import os
import struct
from dataclasses import dataclass

from ptrace import PtraceError
from ptrace.binding import func as _ptrace_func
from ptrace.binding.func import (
    PTRACE_CONT,
    PTRACE_DETACH,
    PTRACE_GETEVENTMSG,
    PTRACE_GETSIGINFO,
    PTRACE_O_TRACECLONE,
    PTRACE_O_TRACEEXEC,
    PTRACE_O_TRACEFORK,
    PTRACE_O_TRACESYSGOOD,
    PTRACE_O_TRACEVFORK,
    PTRACE_SETOPTIONS,
    PTRACE_SYSCALL,
)

raw_ptrace = _ptrace_func.ptrace

# Requests and options python-ptrace does not define (values from <linux/ptrace.h>).
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
PTRACE_LISTEN = 0x4208
PTRACE_GET_SYSCALL_INFO = 0x420E
PTRACE_O_TRACESECCOMP = 0x80
PTRACE_O_EXITKILL = 0x100000

PTRACE_EVENT_FORK = 1
PTRACE_EVENT_VFORK = 2
PTRACE_EVENT_CLONE = 3
PTRACE_EVENT_EXEC = 4
PTRACE_EVENT_VFORK_DONE = 5
PTRACE_EVENT_EXIT = 6
PTRACE_EVENT_SECCOMP = 7
PTRACE_EVENT_STOP = 128

WALL = 0x40000000  # __WALL: wait for every kind of child, threads included

#: Options for every tracee: syscall stops marked with 0x80, follow fork/vfork/clone, report exec.
BASE_OPTIONS = (
    PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC
)

SYSCALL_INFO_NONE = 0
SYSCALL_INFO_ENTRY = 1
SYSCALL_INFO_EXIT = 2
SYSCALL_INFO_SECCOMP = 3

__all__ = [
    "PTRACE_CONT",
    "PTRACE_DETACH",
    "PTRACE_GETSIGINFO",
    "PTRACE_SETOPTIONS",
    "PTRACE_SYSCALL",
    "PtraceError",
]


@dataclass(slots=True)
class SyscallInfo:
    """What PTRACE_GET_SYSCALL_INFO says at a stop: entry (nr, args), exit (rval), or seccomp (nr, args)."""

    op: int
    nr: int = -1
    args: tuple[int, ...] = ()
    rval: int = 0
    is_error: bool = False


# struct ptrace_syscall_info: op u8, pad[3], arch u32, instruction_pointer u64, stack_pointer u64, then at offset
# 24 a union: entry/seccomp {nr u64, args[6] u64 (, ret_data u32)} or exit {rval s64, is_error u8}. 88 bytes.
_INFO_SIZE = 88
_INFO = ctypes.create_string_buffer(_INFO_SIZE)  # reused at every stop: the engine runs on one thread
_INFO_ADDR = ctypes.addressof(_INFO)
_NR_AND_ARGS = struct.Struct("<7Q")
_RVAL_AND_ERROR = struct.Struct("<qB")
_UNION = 24
_EVENTMSG = ctypes.c_ulong()
_EVENTMSG_ADDR = ctypes.addressof(_EVENTMSG)

# The three requests made at every stop go straight to libc: python-ptrace's wrapper (argument checks, errno
# bookkeeping) cost about a fifth of a bare stop here (bench/prototypes.py). Every other request uses python-ptrace.
_libc = ctypes.CDLL(None, use_errno=True)
_fast_ptrace = _libc.ptrace
_fast_ptrace.argtypes = (ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p)
_fast_ptrace.restype = ctypes.c_long


def _fail(tid: int) -> PtraceError:
    number = ctypes.get_errno()
    return PtraceError(f"ptrace on {tid}: {os.strerror(number)}", errno=number, pid=tid)


def get_syscall_info(tid: int) -> SyscallInfo:
    if _fast_ptrace(PTRACE_GET_SYSCALL_INFO, tid, _INFO_SIZE, _INFO_ADDR) == -1:
        raise _fail(tid)
    raw = _INFO.raw
    op = raw[0]
    if op == SYSCALL_INFO_ENTRY or op == SYSCALL_INFO_SECCOMP:
        values = _NR_AND_ARGS.unpack_from(raw, _UNION)
        return SyscallInfo(op, values[0], values[1:])
    if op == SYSCALL_INFO_EXIT:
        rval, is_error = _RVAL_AND_ERROR.unpack_from(raw, _UNION)
        return SyscallInfo(op, rval=rval, is_error=bool(is_error))
    return SyscallInfo(op)


# The engine's per-stop path reads the buffer piecemeal: the op and the number first, the arguments or the result
# only for a call it records. A stop at an unrecorded call (docker mode's shim and runc, at every syscall) then
# allocates nothing here: ctypes views over the buffer, and syscall numbers below 257 are cached ints.
_OP = ctypes.c_uint8.from_buffer(_INFO)
_NR = ctypes.c_uint64.from_buffer(_INFO, _UNION)
_ARGS = struct.Struct("<6Q")


def read_syscall_info(tid: int) -> int:
    """PTRACE_GET_SYSCALL_INFO at a syscall stop into the shared buffer; returns its op (SYSCALL_INFO_*). Then
    `info_nr()`, `info_args()` (entry, seccomp) or `info_result()` (exit) read that stop's values, until the next
    call of this or of `get_syscall_info`."""
    if _fast_ptrace(PTRACE_GET_SYSCALL_INFO, tid, _INFO_SIZE, _INFO_ADDR) == -1:
        raise _fail(tid)
    return _OP.value


def info_nr() -> int:
    return _NR.value


def info_args() -> tuple[int, ...]:
    return _ARGS.unpack_from(_INFO, _UNION + 8)


def info_result() -> tuple[int, int]:
    """(rval, is_error) of an exit stop."""
    return _RVAL_AND_ERROR.unpack_from(_INFO, _UNION)


def get_event_msg(tid: int) -> int:
    raw_ptrace(PTRACE_GETEVENTMSG, tid, 0, _EVENTMSG_ADDR)
    return _EVENTMSG.value


def seize(tid: int, options: int) -> None:
    raw_ptrace(PTRACE_SEIZE, tid, 0, options)


def interrupt(tid: int) -> None:
    raw_ptrace(PTRACE_INTERRUPT, tid, 0, 0)


def listen(tid: int) -> None:
    raw_ptrace(PTRACE_LISTEN, tid, 0, 0)


def resume(request: int, tid: int, signal: int = 0) -> None:
    if _fast_ptrace(request, tid, None, signal or None) == -1:
        raise _fail(tid)


def detach(tid: int, signal: int = 0) -> None:
    raw_ptrace(PTRACE_DETACH, tid, 0, signal)


PTRACE_POKEUSER = 6
#: offsetof(struct user, regs.X) on x86_64 (struct user_regs_struct is first in struct user; 8 bytes a register).
USER_OFFSET_RAX = 10 * 8
USER_OFFSET_ORIG_RAX = 15 * 8


def poke_user(tid: int, offset: int, value: int) -> None:
    """Write one word of the stopped tracee's user area (a register): fault injection's only write."""
    if _fast_ptrace(PTRACE_POKEUSER, tid, offset, value & 0xFFFFFFFFFFFFFFFF) == -1:
        raise _fail(tid)


class _Siginfo(ctypes.Structure):
    _fields_ = [("si_signo", ctypes.c_int), ("si_errno", ctypes.c_int), ("si_code", ctypes.c_int), ("pad", ctypes.c_byte * 116)]


_SIGINFO = _Siginfo()
_SIGINFO_ADDR = ctypes.addressof(_SIGINFO)


def has_siginfo(tid: int) -> bool:
    """False for a group-stop (GETSIGINFO fails with EINVAL there), True for a signal-delivery-stop."""
    try:
        raw_ptrace(PTRACE_GETSIGINFO, tid, 0, _SIGINFO_ADDR)
    except PtraceError as error:
        if error.errno == errno.EINVAL:
            return False
        raise
    return True
