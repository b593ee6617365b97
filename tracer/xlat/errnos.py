"""errno names by number.

From Python's `errno.errorcode` (the C library's table), plus the kernel-internal codes of include/linux/errno.h
that a tracer sees at a syscall's exit stop when a signal interrupts it (they never reach the program).
"""

from __future__ import annotations

import errno

from tracer.xlat.flags import Table

KERNEL_INTERNAL_ERRNOS: Table = (
    ("ERESTARTSYS", 512),
    ("ERESTARTNOINTR", 513),
    ("ERESTARTNOHAND", 514),
    ("ENOIOCTLCMD", 515),
    ("ERESTART_RESTARTBLOCK", 516),
    ("EPROBE_DEFER", 517),
    ("EOPENSTALE", 518),
    ("ENOPARAM", 519),
)

_INTERNAL = dict((number, name) for name, number in KERNEL_INTERNAL_ERRNOS)


def errno_name(number: int) -> str:
    """ "ENOENT" for 2 (the sign is ignored, so a raw -2 return works too); unknown numbers as decimal text."""
    number = abs(number)
    return errno.errorcode.get(number) or _INTERNAL.get(number) or str(number)
