"""Ctrl-C, SIGTERM and SIGHUP during a trace: handed to the session so it ends cleanly instead of killing us."""

from __future__ import annotations

import signal
from collections.abc import Callable


def install_stop_handlers(stop: Callable[[str, int], None]) -> list[int]:
    """Ctrl-C and SIGTERM end the trace cleanly (detach or kill as the mode requires) instead of killing us.
    The signal is handed to `stop` too: in launch mode the first one is passed on to the launched command,
    which gets a few seconds to clean up (see Tracer.request_stop).

    Returns the list the handler appends each received signal number to, so the caller can exit as a shell
    would for that signal (130 after Ctrl-C) rather than with the status of the tracee it had to kill."""
    received: list[int] = []

    def handler(signum: int, frame: object) -> None:
        received.append(signum)
        stop("interrupted by " + signal.Signals(signum).name, signum)

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, handler)
    return received
