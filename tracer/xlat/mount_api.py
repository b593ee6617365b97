"""Flags of the new mount API: open_tree, move_mount, fsopen, fsconfig, fsmount, fspick, mount_setattr.

From include/uapi/linux/mount.h. crun can build a container's mounts with these instead of mount(2).
AT_* flags these calls also take are in tracer.xlat.at.
"""

from __future__ import annotations

from tracer.xlat.at import AT_FLAGS
from tracer.xlat.flags import Table
from tracer.xlat.mount import MS_PRIVATE, MS_SHARED, MS_SLAVE, MS_UNBINDABLE

OPEN_TREE_CLONE = 1
OPEN_TREE_CLOEXEC = 0o2000000  # = O_CLOEXEC

OPEN_TREE_FLAGS: Table = (
    ("OPEN_TREE_CLONE", OPEN_TREE_CLONE),
    ("OPEN_TREE_CLOEXEC", OPEN_TREE_CLOEXEC),
) + AT_FLAGS

MOVE_MOUNT_FLAGS: Table = (
    ("MOVE_MOUNT_F_SYMLINKS", 0x00000001),
    ("MOVE_MOUNT_F_AUTOMOUNTS", 0x00000002),
    ("MOVE_MOUNT_F_EMPTY_PATH", 0x00000004),
    ("MOVE_MOUNT_T_SYMLINKS", 0x00000010),
    ("MOVE_MOUNT_T_AUTOMOUNTS", 0x00000020),
    ("MOVE_MOUNT_T_EMPTY_PATH", 0x00000040),
    ("MOVE_MOUNT_SET_GROUP", 0x00000100),
    ("MOVE_MOUNT_BENEATH", 0x00000200),
)

FSOPEN_FLAGS: Table = (("FSOPEN_CLOEXEC", 0x00000001),)

FSPICK_FLAGS: Table = (
    ("FSPICK_CLOEXEC", 0x00000001),
    ("FSPICK_SYMLINK_NOFOLLOW", 0x00000002),
    ("FSPICK_NO_AUTOMOUNT", 0x00000004),
    ("FSPICK_EMPTY_PATH", 0x00000008),
)

FSMOUNT_FLAGS: Table = (("FSMOUNT_CLOEXEC", 0x00000001),)

FSCONFIG_SET_FLAG = 0
FSCONFIG_SET_STRING = 1
FSCONFIG_SET_BINARY = 2
FSCONFIG_SET_PATH = 3
FSCONFIG_SET_PATH_EMPTY = 4
FSCONFIG_SET_FD = 5
FSCONFIG_CMD_CREATE = 6
FSCONFIG_CMD_RECONFIGURE = 7
FSCONFIG_CMD_CREATE_EXCL = 8

#: fsconfig(2)'s cmd (an enumeration).
FSCONFIG_CMDS: Table = (
    ("FSCONFIG_SET_FLAG", FSCONFIG_SET_FLAG),
    ("FSCONFIG_SET_STRING", FSCONFIG_SET_STRING),
    ("FSCONFIG_SET_BINARY", FSCONFIG_SET_BINARY),
    ("FSCONFIG_SET_PATH", FSCONFIG_SET_PATH),
    ("FSCONFIG_SET_PATH_EMPTY", FSCONFIG_SET_PATH_EMPTY),
    ("FSCONFIG_SET_FD", FSCONFIG_SET_FD),
    ("FSCONFIG_CMD_CREATE", FSCONFIG_CMD_CREATE),
    ("FSCONFIG_CMD_RECONFIGURE", FSCONFIG_CMD_RECONFIGURE),
    ("FSCONFIG_CMD_CREATE_EXCL", FSCONFIG_CMD_CREATE_EXCL),
)

#: fsmount's attr_flags and struct mount_attr's attr_set/attr_clr. The access-time setting is a 3-bit field
#: (MOUNT_ATTR__ATIME = 0x70) whose value 0 means MOUNT_ATTR_RELATIME, so only its non-zero values have names here.
MOUNT_ATTR_FLAGS: Table = (
    ("MOUNT_ATTR_RDONLY", 0x00000001),
    ("MOUNT_ATTR_NOSUID", 0x00000002),
    ("MOUNT_ATTR_NODEV", 0x00000004),
    ("MOUNT_ATTR_NOEXEC", 0x00000008),
    ("MOUNT_ATTR_NOATIME", 0x00000010),
    ("MOUNT_ATTR_STRICTATIME", 0x00000020),
    ("MOUNT_ATTR_NODIRATIME", 0x00000080),
    ("MOUNT_ATTR_IDMAP", 0x00100000),
    ("MOUNT_ATTR_NOSYMFOLLOW", 0x00200000),
)

#: struct mount_attr's propagation field: one of the MS_* propagation types (0 = leave it unchanged).
MOUNT_PROPAGATION: Table = (
    ("MS_UNBINDABLE", MS_UNBINDABLE),
    ("MS_PRIVATE", MS_PRIVATE),
    ("MS_SLAVE", MS_SLAVE),
    ("MS_SHARED", MS_SHARED),
)

#: The size of struct mount_attr (MOUNT_ATTR_SIZE_VER0): attr_set, attr_clr, propagation, userns_fd, all u64.
MOUNT_ATTR_SIZE_VER0 = 32
