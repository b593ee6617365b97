"""Signal names by number (x86_64).

Standard signals 1..31 come from Python's `signal` module (the canonical name: SIGABRT, not SIGIOT). Real-time
signals use the kernel's numbering as strace prints them: 32 is SIGRTMIN and 33..64 are SIGRT_1..SIGRT_32 (glibc
reserves 32 and 33 for itself, so the application-visible SIGRTMIN of Python's module is SIGRT_2 here).
"""

from __future__ import annotations

import signal

from tracer.xlat.flags import Table

SIGRTMIN_KERNEL = 32
SIGRTMAX_KERNEL = 64

#: The standard signals present on this platform, as a table.
SIGNALS: Table = tuple(
    (signal.Signals(number).name, number)
    for number in range(1, SIGRTMIN_KERNEL)
    if number in signal.Signals._value2member_map_
)

_BY_NUMBER = {number: name for name, number in SIGNALS}


def signal_name(number: int) -> str:
    """ "SIGCHLD" for 17; "0" for no signal; real-time signals as SIGRTMIN/SIGRT_n; anything else in decimal."""
    if number in _BY_NUMBER:
        return _BY_NUMBER[number]
    if number == SIGRTMIN_KERNEL:
        return "SIGRTMIN"
    if SIGRTMIN_KERNEL < number <= SIGRTMAX_KERNEL:
        return f"SIGRT_{number - SIGRTMIN_KERNEL}"
    return str(number)
