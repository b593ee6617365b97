"""wait4(2)/waitid(2) options.

From include/uapi/linux/wait.h.
"""

from __future__ import annotations

from tracer.xlat.flags import Table

WAIT_OPTIONS: Table = (
    ("WNOHANG", 0x00000001),
    ("WUNTRACED", 0x00000002),
    ("WEXITED", 0x00000004),
    ("WCONTINUED", 0x00000008),
    ("WNOWAIT", 0x01000000),
    ("__WNOTHREAD", 0x20000000),
    ("__WALL", 0x40000000),
    ("__WCLONE", 0x80000000),
)
