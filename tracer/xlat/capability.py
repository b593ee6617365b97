"""Linux capabilities (CAP_* numbers) and capget/capset header versions.

From include/uapi/linux/capability.h. A capability set is a 64-bit mask, bit N standing for capability N.
"""

from __future__ import annotations

from tracer.xlat.flags import Table, decode_flags, decode_value

CAPABILITIES: Table = (
    ("CAP_CHOWN", 0),
    ("CAP_DAC_OVERRIDE", 1),
    ("CAP_DAC_READ_SEARCH", 2),
    ("CAP_FOWNER", 3),
    ("CAP_FSETID", 4),
    ("CAP_KILL", 5),
    ("CAP_SETGID", 6),
    ("CAP_SETUID", 7),
    ("CAP_SETPCAP", 8),
    ("CAP_LINUX_IMMUTABLE", 9),
    ("CAP_NET_BIND_SERVICE", 10),
    ("CAP_NET_BROADCAST", 11),
    ("CAP_NET_ADMIN", 12),
    ("CAP_NET_RAW", 13),
    ("CAP_IPC_LOCK", 14),
    ("CAP_IPC_OWNER", 15),
    ("CAP_SYS_MODULE", 16),
    ("CAP_SYS_RAWIO", 17),
    ("CAP_SYS_CHROOT", 18),
    ("CAP_SYS_PTRACE", 19),
    ("CAP_SYS_PACCT", 20),
    ("CAP_SYS_ADMIN", 21),
    ("CAP_SYS_BOOT", 22),
    ("CAP_SYS_NICE", 23),
    ("CAP_SYS_RESOURCE", 24),
    ("CAP_SYS_TIME", 25),
    ("CAP_SYS_TTY_CONFIG", 26),
    ("CAP_MKNOD", 27),
    ("CAP_LEASE", 28),
    ("CAP_AUDIT_WRITE", 29),
    ("CAP_AUDIT_CONTROL", 30),
    ("CAP_SETFCAP", 31),
    ("CAP_MAC_OVERRIDE", 32),
    ("CAP_MAC_ADMIN", 33),
    ("CAP_SYSLOG", 34),
    ("CAP_WAKE_ALARM", 35),
    ("CAP_BLOCK_SUSPEND", 36),
    ("CAP_AUDIT_READ", 37),
    ("CAP_PERFMON", 38),
    ("CAP_BPF", 39),
    ("CAP_CHECKPOINT_RESTORE", 40),
)

CAP_LAST_CAP = 40

#: The same capabilities as bits of a set.
CAPABILITY_BITS: Table = tuple((name, 1 << number) for name, number in CAPABILITIES)

_LINUX_CAPABILITY_VERSION_1 = 0x19980330
_LINUX_CAPABILITY_VERSION_2 = 0x20071026
_LINUX_CAPABILITY_VERSION_3 = 0x20080522

#: struct __user_cap_header_struct's version: v1 carries one 32-bit data struct, v2 and v3 two (64-bit sets).
CAP_VERSIONS: Table = (
    ("_LINUX_CAPABILITY_VERSION_1", _LINUX_CAPABILITY_VERSION_1),
    ("_LINUX_CAPABILITY_VERSION_2", _LINUX_CAPABILITY_VERSION_2),
    ("_LINUX_CAPABILITY_VERSION_3", _LINUX_CAPABILITY_VERSION_3),
)

#: How many struct __user_cap_data_struct follow the header, by version.
CAP_DATA_COUNT: dict[int, int] = {
    _LINUX_CAPABILITY_VERSION_1: 1,
    _LINUX_CAPABILITY_VERSION_2: 2,
    _LINUX_CAPABILITY_VERSION_3: 2,
}


def capability_name(number: int) -> str:
    """CAP_SYS_ADMIN for 21; an unknown number as decimal text."""
    return decode_value(number, CAPABILITIES)


def capability_set(mask: int) -> list[str]:
    """The capabilities in a 64-bit set, e.g. ["CAP_CHOWN", "CAP_KILL"]; unknown bits as a hex remainder."""
    return decode_flags(mask, CAPABILITY_BITS)
