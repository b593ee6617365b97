"""Execs that fail (ENOENT: no such file; EACCES: not executable), then one that works.

    failing_exec.py NOT_EXECUTABLE_FILE
"""

from __future__ import annotations

import errno
import os
import sys


def main() -> None:
    failures = []
    for path in ("/nonexistent/boxtrace-program", sys.argv[1]):
        try:
            os.execv(path, [path])
        except OSError as error:
            failures.append(errno.errorcode[error.errno])
    if failures != ["ENOENT", "EACCES"]:
        print(failures, file=sys.stderr)
        sys.exit(1)
    os.execv("/bin/true", ["/bin/true", "after-failures"])


if __name__ == "__main__":
    main()
