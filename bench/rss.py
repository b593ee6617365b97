"""Run a command and write its peak RSS in KiB to a file (used by bench.measure when GNU time is missing).

    python -m bench.rss OUTPUT COMMAND [ARG...]

The command is started with posix_spawn from this small interpreter, so the high-water mark it inherits across
exec is this process's (about 10 MB), not the harness's. Exits with the command's exit status.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str]) -> int:
    output, command = argv[0], argv[1:]
    pid = os.posix_spawnp(command[0], command, os.environ)
    _, status, usage = os.wait4(pid, 0)
    with open(output, "w") as handle:
        handle.write(f"{usage.ru_maxrss}\n")
    return os.waitstatus_to_exitcode(status) & 0xFF


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
