"""A tracee that tries to use ptrace itself: PTRACE_TRACEME (it already has a tracer) and PTRACE_ATTACH to its own
child (which boxtrace already traces). Both must fail with EPERM; prints the errno names and exits 0 if so."""

from __future__ import annotations

import ctypes
import errno
import os
import signal
import sys
import time

PTRACE_TRACEME = 0
PTRACE_ATTACH = 16

libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
libc.ptrace.restype = ctypes.c_long


def ptrace(request: int, pid: int) -> str:
    ctypes.set_errno(0)
    if libc.ptrace(request, pid, None, None) == -1:
        return errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))
    return "OK"


def main() -> None:
    traceme = ptrace(PTRACE_TRACEME, 0)
    child = os.fork()
    if child == 0:
        time.sleep(30)
        os._exit(0)
    time.sleep(0.1)
    attach = ptrace(PTRACE_ATTACH, child)
    os.kill(child, signal.SIGKILL)
    os.waitpid(child, 0)
    print(f"TRACEME={traceme} ATTACH={attach}")
    sys.exit(0 if traceme == "EPERM" and attach == "EPERM" else 1)


if __name__ == "__main__":
    main()
