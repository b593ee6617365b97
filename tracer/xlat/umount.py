"""umount2(2) flags.

From include/linux/fs.h (MNT_FORCE, MNT_DETACH, MNT_EXPIRE, UMOUNT_NOFOLLOW); glibc's sys/mount.h repeats them.
"""

from __future__ import annotations

from tracer.xlat.flags import Table

MNT_FORCE = 0x00000001
MNT_DETACH = 0x00000002
MNT_EXPIRE = 0x00000004
UMOUNT_NOFOLLOW = 0x00000008

UMOUNT_FLAGS: Table = (
    ("MNT_FORCE", MNT_FORCE),
    ("MNT_DETACH", MNT_DETACH),
    ("MNT_EXPIRE", MNT_EXPIRE),
    ("UMOUNT_NOFOLLOW", UMOUNT_NOFOLLOW),
)
