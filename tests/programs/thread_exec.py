"""A thread execs while its siblings are busy making system calls.

The kernel kills the siblings, gives the exec'ing thread the leader's pid and reports the old tid to the tracer.
    thread_exec.py MARKER
"""

from __future__ import annotations

import os
import sys
import threading
import time

stop = threading.Event()


def busy() -> None:
    while not stop.is_set():
        os.getppid()
        time.sleep(0.0005)


def main() -> None:
    marker = sys.argv[1]
    siblings = [threading.Thread(target=busy, daemon=True) for _ in range(4)]
    for thread in siblings:
        thread.start()
    time.sleep(0.1)
    execer = threading.Thread(target=lambda: os.execv("/bin/true", ["/bin/true", marker]))
    execer.start()
    time.sleep(30)  # never reached in practice: the exec replaces the whole process
    sys.exit(5)


if __name__ == "__main__":
    main()
