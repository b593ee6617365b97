"""A process tree that ignores and blocks every signal it can: only SIGKILL (and SIGSTOP) still act on it.

    ignore_signals.py PIDFILE SECONDS

Writes "parent child" pids to PIDFILE, then both sleep SECONDS and exit 0.
"""

from __future__ import annotations

import os
import signal
import sys
import time


def deaf() -> None:
    for sig in signal.valid_signals():
        if sig in (signal.SIGKILL, signal.SIGSTOP, signal.SIGCHLD):
            continue  # (ignoring SIGCHLD would make the kernel reap the child: it is only blocked below)
        try:
            signal.signal(sig, signal.SIG_IGN)
        except (OSError, ValueError):
            pass  # signals the C library reserves for itself
    signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())


def main() -> None:
    pidfile, seconds = sys.argv[1], float(sys.argv[2])
    deaf()
    child = os.fork()
    if child == 0:
        deaf()
        time.sleep(seconds)
        os._exit(0)
    with open(pidfile + ".tmp", "w") as out:
        out.write(f"{os.getpid()} {child}\n")
    os.rename(pidfile + ".tmp", pidfile)
    time.sleep(seconds)
    os.waitpid(child, 0)


if __name__ == "__main__":
    main()
