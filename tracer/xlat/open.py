"""O_* flags of open(2)/openat(2) on x86_64.

From include/uapi/asm-generic/fcntl.h (x86_64 uses the generic values). The low two bits are an access mode, not
flags: O_RDONLY is 0, so it is decoded separately as an enumeration. O_SYNC and O_TMPFILE are two-bit values
(__O_SYNC|O_DSYNC, __O_TMPFILE|O_DIRECTORY) and come before their parts.
"""

from __future__ import annotations

from tracer.xlat.flags import Table

O_ACCMODE = 0o3
O_RDONLY = 0o0
O_WRONLY = 0o1
O_RDWR = 0o2
O_CREAT = 0o100
O_DIRECTORY = 0o200000
O_CLOEXEC = 0o2000000
O_TMPFILE = 0o20000000 | O_DIRECTORY

OPEN_ACCESS_MODES: Table = (
    ("O_RDONLY", O_RDONLY),
    ("O_WRONLY", O_WRONLY),
    ("O_RDWR", O_RDWR),
)

OPEN_FLAGS: Table = (
    ("O_SYNC", 0o4010000),
    ("O_TMPFILE", O_TMPFILE),
    ("O_CREAT", O_CREAT),
    ("O_EXCL", 0o200),
    ("O_NOCTTY", 0o400),
    ("O_TRUNC", 0o1000),
    ("O_APPEND", 0o2000),
    ("O_NONBLOCK", 0o4000),
    ("O_DSYNC", 0o10000),
    ("O_ASYNC", 0o20000),
    ("O_DIRECT", 0o40000),
    ("O_LARGEFILE", 0o100000),
    ("O_DIRECTORY", O_DIRECTORY),
    ("O_NOFOLLOW", 0o400000),
    ("O_NOATIME", 0o1000000),
    ("O_CLOEXEC", O_CLOEXEC),
    ("O_PATH", 0o10000000),
)
