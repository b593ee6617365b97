"""AT_* values of the *at() syscalls: the special directory fd AT_FDCWD and the lookup flags.

From include/uapi/linux/fcntl.h. AT_EACCESS (faccessat) shares 0x200 with AT_REMOVEDIR (unlinkat), so it has its
own table.
"""

from __future__ import annotations

from tracer.xlat.flags import Table

#: The dirfd meaning "relative to the current directory" (a special value, not a flag).
AT_FDCWD = -100

AT_SYMLINK_NOFOLLOW = 0x100
AT_REMOVEDIR = 0x200
AT_SYMLINK_FOLLOW = 0x400
AT_NO_AUTOMOUNT = 0x800
AT_EMPTY_PATH = 0x1000
AT_RECURSIVE = 0x8000

AT_FLAGS: Table = (
    ("AT_SYMLINK_NOFOLLOW", AT_SYMLINK_NOFOLLOW),
    ("AT_REMOVEDIR", AT_REMOVEDIR),
    ("AT_SYMLINK_FOLLOW", AT_SYMLINK_FOLLOW),
    ("AT_NO_AUTOMOUNT", AT_NO_AUTOMOUNT),
    ("AT_EMPTY_PATH", AT_EMPTY_PATH),
    ("AT_STATX_FORCE_SYNC", 0x2000),
    ("AT_STATX_DONT_SYNC", 0x4000),
    ("AT_RECURSIVE", AT_RECURSIVE),
)

#: The flags execveat(2) accepts.
EXECVEAT_FLAGS: Table = (
    ("AT_SYMLINK_NOFOLLOW", AT_SYMLINK_NOFOLLOW),
    ("AT_EMPTY_PATH", AT_EMPTY_PATH),
)

FACCESSAT_FLAGS: Table = (
    ("AT_SYMLINK_NOFOLLOW", AT_SYMLINK_NOFOLLOW),
    ("AT_EACCESS", 0x200),
    ("AT_EMPTY_PATH", AT_EMPTY_PATH),
)
