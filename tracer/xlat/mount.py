"""MS_* flags of mount(2).

From include/uapi/linux/mount.h. MS_MGC_VAL is the "magic" that pre-2.4 callers had to put in the upper 16 bits;
the kernel still strips it (fs/namespace.c) when the upper half equals it, and so does the decoder.
"""

from __future__ import annotations

from tracer.xlat.flags import Table

MS_MGC_VAL = 0xC0ED0000
MS_MGC_MSK = 0xFFFF0000

MS_RDONLY = 1 << 0
MS_NOSUID = 1 << 1
MS_NODEV = 1 << 2
MS_NOEXEC = 1 << 3
MS_SYNCHRONOUS = 1 << 4
MS_REMOUNT = 1 << 5
MS_MANDLOCK = 1 << 6
MS_DIRSYNC = 1 << 7
MS_NOSYMFOLLOW = 1 << 8
MS_NOATIME = 1 << 10
MS_NODIRATIME = 1 << 11
MS_BIND = 1 << 12
MS_MOVE = 1 << 13
MS_REC = 1 << 14
MS_SILENT = 1 << 15
MS_POSIXACL = 1 << 16
MS_UNBINDABLE = 1 << 17
MS_PRIVATE = 1 << 18
MS_SLAVE = 1 << 19
MS_SHARED = 1 << 20
MS_RELATIME = 1 << 21
MS_KERNMOUNT = 1 << 22
MS_I_VERSION = 1 << 23
MS_STRICTATIME = 1 << 24
MS_LAZYTIME = 1 << 25

#: Propagation changes: mount(2) with one of these changes how mount events spread, nothing else.
MS_PROPAGATION = MS_UNBINDABLE | MS_PRIVATE | MS_SLAVE | MS_SHARED

MOUNT_FLAGS: Table = (
    ("MS_RDONLY", MS_RDONLY),
    ("MS_NOSUID", MS_NOSUID),
    ("MS_NODEV", MS_NODEV),
    ("MS_NOEXEC", MS_NOEXEC),
    ("MS_SYNCHRONOUS", MS_SYNCHRONOUS),
    ("MS_REMOUNT", MS_REMOUNT),
    ("MS_MANDLOCK", MS_MANDLOCK),
    ("MS_DIRSYNC", MS_DIRSYNC),
    ("MS_NOSYMFOLLOW", MS_NOSYMFOLLOW),
    ("MS_NOATIME", MS_NOATIME),
    ("MS_NODIRATIME", MS_NODIRATIME),
    ("MS_BIND", MS_BIND),
    ("MS_MOVE", MS_MOVE),
    ("MS_REC", MS_REC),
    ("MS_SILENT", MS_SILENT),
    ("MS_POSIXACL", MS_POSIXACL),
    ("MS_UNBINDABLE", MS_UNBINDABLE),
    ("MS_PRIVATE", MS_PRIVATE),
    ("MS_SLAVE", MS_SLAVE),
    ("MS_SHARED", MS_SHARED),
    ("MS_RELATIME", MS_RELATIME),
    ("MS_KERNMOUNT", MS_KERNMOUNT),
    ("MS_I_VERSION", MS_I_VERSION),
    ("MS_STRICTATIME", MS_STRICTATIME),
    ("MS_LAZYTIME", MS_LAZYTIME),
    # Kernel-internal superblock flags; a caller passing them is unusual, but they have names.
    ("MS_SUBMOUNT", 1 << 26),
    ("MS_NOREMOTELOCK", 1 << 27),
    ("MS_NOSEC", 1 << 28),
    ("MS_BORN", 1 << 29),
    ("MS_ACTIVE", 1 << 30),
    ("MS_NOUSER", 1 << 31),
)
