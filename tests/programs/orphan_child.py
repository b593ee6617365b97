"""A child that makes its first syscall only after its parent has exited, then sets the hostname.

Run under `unshare --uts`: the child must be seen in the parent's new UTS namespace although, in an strace log, its
first line comes after the parent's `+++ exited` line.
    orphan_child.py HOSTNAME
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import time

SYS_CLONE, SYS_SETHOSTNAME, SYS_EXIT_GROUP = 56, 170, 231  # x86_64


def main() -> None:
    name = sys.argv[1].encode()
    libc = ctypes.CDLL(None, use_errno=True)
    deadline = time.monotonic() + 1.0
    # A raw clone(2), not fork(3): the child runs no libc fork code (set_robust_list, ...) before the loop below.
    pid = libc.syscall(SYS_CLONE, signal.SIGCHLD, 0, 0, 0, 0)
    if pid < 0:
        sys.exit(f"clone failed: {os.strerror(ctypes.get_errno())}")
    if pid:
        os._exit(0)
    while time.monotonic() < deadline:  # the vDSO clock: no syscall while the parent exits
        pass
    libc.syscall(SYS_SETHOSTNAME, name, len(name))
    libc.syscall(SYS_EXIT_GROUP, 0)


if __name__ == "__main__":
    main()
