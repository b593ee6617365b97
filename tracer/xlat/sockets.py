"""Socket address families (AF_*) and socket types (SOCK_*).

AF_* from include/linux/socket.h; SOCK_* from include/linux/net.h (SOCK_CLOEXEC = O_CLOEXEC and
SOCK_NONBLOCK = O_NONBLOCK on x86_64).
"""

from __future__ import annotations

from tracer.xlat.flags import Table

AF_UNIX = 1
AF_INET = 2
AF_INET6 = 10
AF_NETLINK = 16

ADDRESS_FAMILIES: Table = (
    ("AF_UNSPEC", 0),
    ("AF_UNIX", AF_UNIX),
    ("AF_INET", AF_INET),
    ("AF_AX25", 3),
    ("AF_IPX", 4),
    ("AF_APPLETALK", 5),
    ("AF_NETROM", 6),
    ("AF_BRIDGE", 7),
    ("AF_ATMPVC", 8),
    ("AF_X25", 9),
    ("AF_INET6", AF_INET6),
    ("AF_ROSE", 11),
    ("AF_DECnet", 12),
    ("AF_NETBEUI", 13),
    ("AF_SECURITY", 14),
    ("AF_KEY", 15),
    ("AF_NETLINK", AF_NETLINK),
    ("AF_PACKET", 17),
    ("AF_ASH", 18),
    ("AF_ECONET", 19),
    ("AF_ATMSVC", 20),
    ("AF_RDS", 21),
    ("AF_SNA", 22),
    ("AF_IRDA", 23),
    ("AF_PPPOX", 24),
    ("AF_WANPIPE", 25),
    ("AF_LLC", 26),
    ("AF_IB", 27),
    ("AF_MPLS", 28),
    ("AF_CAN", 29),
    ("AF_TIPC", 30),
    ("AF_BLUETOOTH", 31),
    ("AF_IUCV", 32),
    ("AF_RXRPC", 33),
    ("AF_ISDN", 34),
    ("AF_PHONET", 35),
    ("AF_IEEE802154", 36),
    ("AF_CAIF", 37),
    ("AF_ALG", 38),
    ("AF_NFC", 39),
    ("AF_VSOCK", 40),
    ("AF_KCM", 41),
    ("AF_QIPCRTR", 42),
    ("AF_SMC", 43),
    ("AF_XDP", 44),
    ("AF_MCTP", 45),
)

SOCK_TYPE_MASK = 0xF

#: The type proper (low four bits of socket()'s type argument), an enumeration.
SOCK_TYPES: Table = (
    ("SOCK_STREAM", 1),
    ("SOCK_DGRAM", 2),
    ("SOCK_RAW", 3),
    ("SOCK_RDM", 4),
    ("SOCK_SEQPACKET", 5),
    ("SOCK_DCCP", 6),
    ("SOCK_PACKET", 10),
)

#: Flags or-ed into the type argument.
SOCK_TYPE_FLAGS: Table = (
    ("SOCK_NONBLOCK", 0o4000),
    ("SOCK_CLOEXEC", 0o2000000),
)
