"""Children made with vfork (CLONE_VM|CLONE_VFORK, what posix_spawn uses) that exec at once.

While a vfork child runs, its parent is blocked in the kernel: a tracer that waits on the parent first hangs.
    vfork_exec.py COUNT MARKER
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    count, marker = int(sys.argv[1]), sys.argv[2]
    for index in range(count):
        pid = os.posix_spawn("/bin/true", ["/bin/true", marker, str(index)], os.environ)
        _, status = os.waitpid(pid, 0)
        if status != 0:
            sys.exit(1)


if __name__ == "__main__":
    main()
