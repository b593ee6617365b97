"""Resource limits: the RLIMIT_* resources of getrlimit(2)/setrlimit(2)/prlimit(2).

From include/uapi/asm-generic/resource.h (x86_64 uses the generic numbering). RLIM_INFINITY is ~0 as an unsigned
64-bit value (struct rlimit64 and x86_64's struct rlimit both hold two u64: rlim_cur, then rlim_max).
"""

from __future__ import annotations

from tracer.xlat.flags import Table

RLIMIT_RESOURCES: Table = (
    ("RLIMIT_CPU", 0),
    ("RLIMIT_FSIZE", 1),
    ("RLIMIT_DATA", 2),
    ("RLIMIT_STACK", 3),
    ("RLIMIT_CORE", 4),
    ("RLIMIT_RSS", 5),
    ("RLIMIT_NPROC", 6),
    ("RLIMIT_NOFILE", 7),
    ("RLIMIT_MEMLOCK", 8),
    ("RLIMIT_AS", 9),
    ("RLIMIT_LOCKS", 10),
    ("RLIMIT_SIGPENDING", 11),
    ("RLIMIT_MSGQUEUE", 12),
    ("RLIMIT_NICE", 13),
    ("RLIMIT_RTPRIO", 14),
    ("RLIMIT_RTTIME", 15),
)

RLIM_INFINITY = 0xFFFF_FFFF_FFFF_FFFF
