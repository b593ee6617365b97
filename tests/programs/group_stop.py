"""Job control under a tracer: a child stopped by SIGSTOP (by itself, then by its parent) and continued.

The parent must see each stop with waitpid(WUNTRACED) and each continue with WCONTINUED, as it would untraced
(it gives up after 5 s and exits 3), and a stopped child must really stay stopped until SIGCONT: state T (t when
traced) in /proc, and no progress (the child writes to a pipe right after its self-stop; exit 6 if it comes early).
Exit 0 when every step was seen.
"""

from __future__ import annotations

import os
import signal
import sys
import time


def wait_for(pid: int, check, options: int, what: str) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        got, status = os.waitpid(pid, options | os.WNOHANG)
        if got == pid and check(status):
            return
        time.sleep(0.01)
    print(f"never saw {what}", file=sys.stderr)
    sys.exit(3)


def state(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0]


def main() -> None:
    progress_read, progress_write = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(progress_read)
        time.sleep(0.3)
        os.kill(os.getpid(), signal.SIGSTOP)  # stops itself; the parent continues it
        os.write(progress_write, b"x")
        time.sleep(30)
        os._exit(0)
    os.close(progress_write)
    os.set_blocking(progress_read, False)
    wait_for(child, os.WIFSTOPPED, os.WUNTRACED, "the self-stop")
    time.sleep(0.3)
    try:
        early = os.read(progress_read, 1)
    except BlockingIOError:
        early = b""
    if early or state(child) not in ("T", "t"):  # t: stopped under a tracer (PTRACE_LISTEN)
        print(f"the stopped child ran on (state {state(child)}, progress {early!r})", file=sys.stderr)
        os.kill(child, signal.SIGKILL)
        sys.exit(6)
    os.kill(child, signal.SIGCONT)
    wait_for(child, os.WIFCONTINUED, os.WCONTINUED, "the continue after the self-stop")
    os.kill(child, signal.SIGSTOP)
    wait_for(child, os.WIFSTOPPED, os.WUNTRACED, "the stop sent by the parent")
    os.kill(child, signal.SIGCONT)
    wait_for(child, os.WIFCONTINUED, os.WCONTINUED, "the continue")
    os.kill(child, signal.SIGTERM)
    _, status = os.waitpid(child, 0)
    sys.exit(0 if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM else 4)


if __name__ == "__main__":
    main()
