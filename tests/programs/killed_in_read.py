"""A child killed with SIGKILL while it is blocked in read(2) on a pipe nobody writes to.

Exit 0 when the parent sees the child killed by SIGKILL.
"""

from __future__ import annotations

import os
import signal
import sys
import time


def main() -> None:
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:
        os.read(read_end, 1)  # blocks forever: the parent keeps the write end and never writes
        os._exit(0)
    time.sleep(0.3)
    os.kill(child, signal.SIGKILL)
    _, status = os.waitpid(child, 0)
    os.close(write_end)
    sys.exit(0 if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL else 1)


if __name__ == "__main__":
    main()
