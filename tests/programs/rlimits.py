"""Set resource limits the ways a runtime does (runc applies process.rlimits with prlimit64), only ever lowering
them (root here may lack CAP_SYS_RESOURCE), then one raise the kernel refuses (past fs.nr_open: EPERM).

glibc's setrlimit() and Python's resource.prlimit() both make the prlimit64 system call.
"""

from __future__ import annotations

import resource


def main() -> None:
    _, core_hard = resource.getrlimit(resource.RLIMIT_CORE)
    _, nofile_hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    nofile = min(512, nofile_hard)
    resource.prlimit(0, resource.RLIMIT_NOFILE, (nofile, nofile))  # returns the old limit: read at exit
    resource.setrlimit(resource.RLIMIT_CORE, (0, core_hard))  # soft 0, hard as it was (often RLIM_INFINITY)
    resource.setrlimit(resource.RLIMIT_STACK, resource.getrlimit(resource.RLIMIT_STACK))  # multiples of 1024
    try:
        resource.prlimit(0, resource.RLIMIT_NOFILE, (nofile, 1 << 40))
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    main()
