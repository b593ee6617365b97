"""File-type bits of a mode (S_IF*), as mknod(2) takes them.

From include/uapi/linux/stat.h.
"""

from __future__ import annotations

from tracer.xlat.flags import Table

S_IFMT = 0o170000

#: The file types (an enumeration over the S_IFMT bits).
FILE_TYPES: Table = (
    ("S_IFSOCK", 0o140000),
    ("S_IFLNK", 0o120000),
    ("S_IFREG", 0o100000),
    ("S_IFBLK", 0o060000),
    ("S_IFDIR", 0o040000),
    ("S_IFCHR", 0o020000),
    ("S_IFIFO", 0o010000),
)

#: The mode bits outside the file type (permissions, set-id and sticky bits).
S_IALLUGO = 0o7777
