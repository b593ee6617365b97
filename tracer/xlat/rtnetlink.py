"""Netlink and rtnetlink constants: protocols, message header flags and types, the link/address/route structs'
fields and their attribute types.

Sources (UAPI headers, checked by tests/test_netlink.py against /usr/include when installed):
- include/uapi/linux/netlink.h — NETLINK_* protocols, NLM_F_* flags, NLMSG_* control types, NLA_F_*,
  NLMSGERR_ATTR_*;
- include/uapi/linux/rtnetlink.h — RTM_* message types, RTA_* route attributes, RTN_*, RTPROT_*, RT_SCOPE_*,
  RT_TABLE_*;
- include/uapi/linux/if_link.h — IFLA_* link attributes, IFLA_INFO_* (the nested IFLA_LINKINFO);
- include/uapi/linux/veth.h — VETH_INFO_PEER;
- include/uapi/linux/if_addr.h — IFA_* address attributes, IFA_F_* flags;
- include/uapi/linux/if.h — IFF_* device flags (net_device_flags);
- include/uapi/linux/if_arp.h — ARPHRD_* device types;
- include/uapi/linux/sock_diag.h, inet_diag.h, unix_diag.h — sock_diag message types;
- include/uapi/linux/genetlink.h — generic netlink's controller (GENL_ID_CTRL, CTRL_CMD_*, CTRL_ATTR_*).
"""

from __future__ import annotations

from tracer.xlat.flags import Table

# --- netlink.h ----------------------------------------------------------------------------------------------------

NETLINK_ROUTE = 0
NETLINK_SOCK_DIAG = 4
NETLINK_AUDIT = 9
NETLINK_KOBJECT_UEVENT = 15
NETLINK_GENERIC = 16

#: socket(AF_NETLINK, type, protocol)'s protocol: which kernel subsystem the socket talks to.
NETLINK_PROTOCOLS: Table = (
    ("NETLINK_ROUTE", NETLINK_ROUTE),
    ("NETLINK_UNUSED", 1),
    ("NETLINK_USERSOCK", 2),
    ("NETLINK_FIREWALL", 3),
    ("NETLINK_SOCK_DIAG", NETLINK_SOCK_DIAG),
    ("NETLINK_NFLOG", 5),
    ("NETLINK_XFRM", 6),
    ("NETLINK_SELINUX", 7),
    ("NETLINK_ISCSI", 8),
    ("NETLINK_AUDIT", NETLINK_AUDIT),
    ("NETLINK_FIB_LOOKUP", 10),
    ("NETLINK_CONNECTOR", 11),
    ("NETLINK_NETFILTER", 12),
    ("NETLINK_IP6_FW", 13),
    ("NETLINK_DNRTMSG", 14),
    ("NETLINK_KOBJECT_UEVENT", NETLINK_KOBJECT_UEVENT),
    ("NETLINK_GENERIC", NETLINK_GENERIC),
    ("NETLINK_SCSITRANSPORT", 18),
    ("NETLINK_ECRYPTFS", 19),
    ("NETLINK_RDMA", 20),
    ("NETLINK_CRYPTO", 21),
    ("NETLINK_SMC", 22),
)

#: What each protocol is for, in a learner's words (shown beside the protocol name).
NETLINK_PURPOSES: dict[int, str] = {
    NETLINK_ROUTE: "network devices, addresses and routes (rtnetlink)",
    NETLINK_SOCK_DIAG: "questions about sockets (sock_diag, what ss asks)",
    NETLINK_AUDIT: "the kernel audit subsystem",
    NETLINK_KOBJECT_UEVENT: "device events (uevents, what udev listens to)",
    NETLINK_GENERIC: "generic netlink (families registered by name: nl80211, wireguard, ...)",
    12: "netfilter (nftables, conntrack)",
    6: "IPsec policies (xfrm)",
}

# struct nlmsghdr: __u32 nlmsg_len; __u16 nlmsg_type; __u16 nlmsg_flags; __u32 nlmsg_seq; __u32 nlmsg_pid;
NLMSGHDR_SIZE = 16
# struct nlattr / struct rtattr: __u16 len; __u16 type;
NLA_HDRLEN = 4
NLA_F_NESTED = 0x8000
NLA_F_NET_BYTEORDER = 0x4000
NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xFFFF

NLMSG_NOOP = 1
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLMSG_OVERRUN = 4
#: Types below this are netlink's own control messages, in every protocol.
NLMSG_MIN_TYPE = 0x10

NLMSG_CONTROL_TYPES: Table = (
    ("NLMSG_NOOP", NLMSG_NOOP),
    ("NLMSG_ERROR", NLMSG_ERROR),
    ("NLMSG_DONE", NLMSG_DONE),
    ("NLMSG_OVERRUN", NLMSG_OVERRUN),
)

NLM_F_REQUEST = 0x01
NLM_F_ACK = 0x04
NLM_F_DUMP = 0x300

#: The low byte of nlmsg_flags means the same in every message.
NLM_FLAGS: Table = (
    ("NLM_F_REQUEST", NLM_F_REQUEST),
    ("NLM_F_MULTI", 0x02),
    ("NLM_F_ACK", NLM_F_ACK),
    ("NLM_F_ECHO", 0x08),
    ("NLM_F_DUMP_INTR", 0x10),
    ("NLM_F_DUMP_FILTERED", 0x20),
)
#: Bits 0x100 and up depend on the kind of request (the kernel reuses them), as strace decodes them.
NLM_GET_FLAGS: Table = (("NLM_F_DUMP", NLM_F_DUMP), ("NLM_F_ROOT", 0x100), ("NLM_F_MATCH", 0x200),
                        ("NLM_F_ATOMIC", 0x400))
NLM_NEW_FLAGS: Table = (("NLM_F_REPLACE", 0x100), ("NLM_F_EXCL", 0x200), ("NLM_F_CREATE", 0x400),
                        ("NLM_F_APPEND", 0x800))
NLM_DELETE_FLAGS: Table = (("NLM_F_NONREC", 0x100), ("NLM_F_BULK", 0x200))
NLM_ACK_FLAGS: Table = (("NLM_F_CAPPED", 0x100), ("NLM_F_ACK_TLVS", 0x200))

#: Extended ack attributes after struct nlmsgerr (when NLM_F_ACK_TLVS is set).
NLMSGERR_ATTRS: Table = (
    ("NLMSGERR_ATTR_UNUSED", 0),
    ("NLMSGERR_ATTR_MSG", 1),
    ("NLMSGERR_ATTR_OFFS", 2),
    ("NLMSGERR_ATTR_COOKIE", 3),
    ("NLMSGERR_ATTR_POLICY", 4),
    ("NLMSGERR_ATTR_MISS_TYPE", 5),
    ("NLMSGERR_ATTR_MISS_NEST", 6),
)

# --- rtnetlink.h: message types -------------------------------------------------------------------------------------

RTM_NEWLINK, RTM_DELLINK, RTM_GETLINK, RTM_SETLINK = 16, 17, 18, 19
RTM_NEWADDR, RTM_DELADDR, RTM_GETADDR = 20, 21, 22
RTM_NEWROUTE, RTM_DELROUTE, RTM_GETROUTE = 24, 25, 26

RTM_TYPES: Table = (
    ("RTM_NEWLINK", RTM_NEWLINK),
    ("RTM_DELLINK", RTM_DELLINK),
    ("RTM_GETLINK", RTM_GETLINK),
    ("RTM_SETLINK", RTM_SETLINK),
    ("RTM_NEWADDR", RTM_NEWADDR),
    ("RTM_DELADDR", RTM_DELADDR),
    ("RTM_GETADDR", RTM_GETADDR),
    ("RTM_NEWROUTE", RTM_NEWROUTE),
    ("RTM_DELROUTE", RTM_DELROUTE),
    ("RTM_GETROUTE", RTM_GETROUTE),
    ("RTM_NEWNEIGH", 28),
    ("RTM_DELNEIGH", 29),
    ("RTM_GETNEIGH", 30),
    ("RTM_NEWRULE", 32),
    ("RTM_DELRULE", 33),
    ("RTM_GETRULE", 34),
    ("RTM_NEWQDISC", 36),
    ("RTM_DELQDISC", 37),
    ("RTM_GETQDISC", 38),
    ("RTM_NEWTCLASS", 40),
    ("RTM_DELTCLASS", 41),
    ("RTM_GETTCLASS", 42),
    ("RTM_NEWTFILTER", 44),
    ("RTM_DELTFILTER", 45),
    ("RTM_GETTFILTER", 46),
    ("RTM_NEWACTION", 48),
    ("RTM_DELACTION", 49),
    ("RTM_GETACTION", 50),
    ("RTM_NEWPREFIX", 52),
    ("RTM_GETMULTICAST", 58),
    ("RTM_GETANYCAST", 62),
    ("RTM_NEWNEIGHTBL", 64),
    ("RTM_GETNEIGHTBL", 66),
    ("RTM_SETNEIGHTBL", 67),
    ("RTM_NEWNDUSEROPT", 68),
    ("RTM_NEWADDRLABEL", 72),
    ("RTM_DELADDRLABEL", 73),
    ("RTM_GETADDRLABEL", 74),
    ("RTM_GETDCB", 78),
    ("RTM_SETDCB", 79),
    ("RTM_NEWNETCONF", 80),
    ("RTM_DELNETCONF", 81),
    ("RTM_GETNETCONF", 82),
    ("RTM_NEWMDB", 84),
    ("RTM_DELMDB", 85),
    ("RTM_GETMDB", 86),
    ("RTM_NEWNSID", 88),
    ("RTM_DELNSID", 89),
    ("RTM_GETNSID", 90),
    ("RTM_NEWSTATS", 92),
    ("RTM_GETSTATS", 94),
    ("RTM_SETSTATS", 95),
    ("RTM_NEWCACHEREPORT", 96),
    ("RTM_NEWCHAIN", 100),
    ("RTM_DELCHAIN", 101),
    ("RTM_GETCHAIN", 102),
    ("RTM_NEWNEXTHOP", 104),
    ("RTM_DELNEXTHOP", 105),
    ("RTM_GETNEXTHOP", 106),
    ("RTM_NEWLINKPROP", 108),
    ("RTM_DELLINKPROP", 109),
    ("RTM_GETLINKPROP", 110),
    ("RTM_NEWVLAN", 112),
    ("RTM_DELVLAN", 113),
    ("RTM_GETVLAN", 114),
    ("RTM_NEWNEXTHOPBUCKET", 116),
    ("RTM_DELNEXTHOPBUCKET", 117),
    ("RTM_GETNEXTHOPBUCKET", 118),
    ("RTM_NEWTUNNEL", 120),
    ("RTM_DELTUNNEL", 121),
    ("RTM_GETTUNNEL", 122),
)

# --- if_link.h: link attributes ---------------------------------------------------------------------------------

IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU, IFLA_LINK, IFLA_MASTER = 1, 3, 4, 5, 10
IFLA_LINKINFO, IFLA_NET_NS_PID, IFLA_NET_NS_FD = 18, 19, 28

IFLA_ATTRS: Table = (
    ("IFLA_UNSPEC", 0),
    ("IFLA_ADDRESS", IFLA_ADDRESS),
    ("IFLA_BROADCAST", 2),
    ("IFLA_IFNAME", IFLA_IFNAME),
    ("IFLA_MTU", IFLA_MTU),
    ("IFLA_LINK", IFLA_LINK),
    ("IFLA_QDISC", 6),
    ("IFLA_STATS", 7),
    ("IFLA_COST", 8),
    ("IFLA_PRIORITY", 9),
    ("IFLA_MASTER", IFLA_MASTER),
    ("IFLA_WIRELESS", 11),
    ("IFLA_PROTINFO", 12),
    ("IFLA_TXQLEN", 13),
    ("IFLA_MAP", 14),
    ("IFLA_WEIGHT", 15),
    ("IFLA_OPERSTATE", 16),
    ("IFLA_LINKMODE", 17),
    ("IFLA_LINKINFO", IFLA_LINKINFO),
    ("IFLA_NET_NS_PID", IFLA_NET_NS_PID),
    ("IFLA_IFALIAS", 20),
    ("IFLA_NUM_VF", 21),
    ("IFLA_VFINFO_LIST", 22),
    ("IFLA_STATS64", 23),
    ("IFLA_VF_PORTS", 24),
    ("IFLA_PORT_SELF", 25),
    ("IFLA_AF_SPEC", 26),
    ("IFLA_GROUP", 27),
    ("IFLA_NET_NS_FD", IFLA_NET_NS_FD),
    ("IFLA_EXT_MASK", 29),
    ("IFLA_PROMISCUITY", 30),
    ("IFLA_NUM_TX_QUEUES", 31),
    ("IFLA_NUM_RX_QUEUES", 32),
    ("IFLA_CARRIER", 33),
    ("IFLA_PHYS_PORT_ID", 34),
    ("IFLA_CARRIER_CHANGES", 35),
    ("IFLA_PHYS_SWITCH_ID", 36),
    ("IFLA_LINK_NETNSID", 37),
    ("IFLA_PHYS_PORT_NAME", 38),
    ("IFLA_PROTO_DOWN", 39),
    ("IFLA_GSO_MAX_SEGS", 40),
    ("IFLA_GSO_MAX_SIZE", 41),
    ("IFLA_PAD", 42),
    ("IFLA_XDP", 43),
    ("IFLA_EVENT", 44),
    ("IFLA_NEW_NETNSID", 45),
    ("IFLA_TARGET_NETNSID", 46),
    ("IFLA_CARRIER_UP_COUNT", 47),
    ("IFLA_CARRIER_DOWN_COUNT", 48),
    ("IFLA_NEW_IFINDEX", 49),
    ("IFLA_MIN_MTU", 50),
    ("IFLA_MAX_MTU", 51),
    ("IFLA_PROP_LIST", 52),
    ("IFLA_ALT_IFNAME", 53),
    ("IFLA_PERM_ADDRESS", 54),
    ("IFLA_PROTO_DOWN_REASON", 55),
    ("IFLA_PARENT_DEV_NAME", 56),
    ("IFLA_PARENT_DEV_BUS_NAME", 57),
    ("IFLA_GRO_MAX_SIZE", 58),
    ("IFLA_TSO_MAX_SIZE", 59),
    ("IFLA_TSO_MAX_SEGS", 60),
    ("IFLA_ALLMULTI", 61),
    ("IFLA_DEVLINK_PORT", 62),
    ("IFLA_GSO_IPV4_MAX_SIZE", 63),
    ("IFLA_GRO_IPV4_MAX_SIZE", 64),
)

IFLA_INFO_KIND, IFLA_INFO_DATA, IFLA_INFO_SLAVE_KIND, IFLA_INFO_SLAVE_DATA = 1, 2, 4, 5

#: The attributes nested in IFLA_LINKINFO: what kind of device, and that kind's own settings.
IFLA_INFO_ATTRS: Table = (
    ("IFLA_INFO_UNSPEC", 0),
    ("IFLA_INFO_KIND", IFLA_INFO_KIND),
    ("IFLA_INFO_DATA", IFLA_INFO_DATA),
    ("IFLA_INFO_XSTATS", 3),
    ("IFLA_INFO_SLAVE_KIND", IFLA_INFO_SLAVE_KIND),
    ("IFLA_INFO_SLAVE_DATA", IFLA_INFO_SLAVE_DATA),
)

VETH_INFO_PEER = 1

#: IFLA_INFO_DATA of kind "veth": the peer, itself a struct ifinfomsg followed by IFLA_* attributes.
VETH_INFO_ATTRS: Table = (("VETH_INFO_UNSPEC", 0), ("VETH_INFO_PEER", VETH_INFO_PEER))

#: struct net_device_flags (if.h): ifi_flags and ifi_change.
IFF_UP = 0x1
IFF_FLAGS: Table = (
    ("IFF_UP", IFF_UP),
    ("IFF_BROADCAST", 0x2),
    ("IFF_DEBUG", 0x4),
    ("IFF_LOOPBACK", 0x8),
    ("IFF_POINTOPOINT", 0x10),
    ("IFF_NOTRAILERS", 0x20),
    ("IFF_RUNNING", 0x40),
    ("IFF_NOARP", 0x80),
    ("IFF_PROMISC", 0x100),
    ("IFF_ALLMULTI", 0x200),
    ("IFF_MASTER", 0x400),
    ("IFF_SLAVE", 0x800),
    ("IFF_MULTICAST", 0x1000),
    ("IFF_PORTSEL", 0x2000),
    ("IFF_AUTOMEDIA", 0x4000),
    ("IFF_DYNAMIC", 0x8000),
    ("IFF_LOWER_UP", 0x10000),
    ("IFF_DORMANT", 0x20000),
    ("IFF_ECHO", 0x40000),
)

#: ifi_type (if_arp.h): the few device types a container meets.
ARPHRD_TYPES: Table = (
    ("ARPHRD_NETROM", 0),
    ("ARPHRD_ETHER", 1),
    ("ARPHRD_LOOPBACK", 772),
    ("ARPHRD_SIT", 776),
    ("ARPHRD_IPGRE", 778),
    ("ARPHRD_TUNNEL", 768),
    ("ARPHRD_TUNNEL6", 769),
    ("ARPHRD_NONE", 0xFFFE),
    ("ARPHRD_VOID", 0xFFFF),
)

#: IFLA_OPERSTATE values (RFC 2863 operational states).
IF_OPER_STATES: Table = (
    ("IF_OPER_UNKNOWN", 0),
    ("IF_OPER_NOTPRESENT", 1),
    ("IF_OPER_DOWN", 2),
    ("IF_OPER_LOWERLAYERDOWN", 3),
    ("IF_OPER_TESTING", 4),
    ("IF_OPER_DORMANT", 5),
    ("IF_OPER_UP", 6),
)

# --- if_addr.h: addresses ---------------------------------------------------------------------------------------

IFA_ADDRESS, IFA_LOCAL, IFA_LABEL = 1, 2, 3

IFA_ATTRS: Table = (
    ("IFA_UNSPEC", 0),
    ("IFA_ADDRESS", IFA_ADDRESS),
    ("IFA_LOCAL", IFA_LOCAL),
    ("IFA_LABEL", IFA_LABEL),
    ("IFA_BROADCAST", 4),
    ("IFA_ANYCAST", 5),
    ("IFA_CACHEINFO", 6),
    ("IFA_MULTICAST", 7),
    ("IFA_FLAGS", 8),
    ("IFA_RT_PRIORITY", 9),
    ("IFA_TARGET_NETNSID", 10),
    ("IFA_PROTO", 11),
)

IFA_FLAGS: Table = (
    ("IFA_F_SECONDARY", 0x01),
    ("IFA_F_NODAD", 0x02),
    ("IFA_F_OPTIMISTIC", 0x04),
    ("IFA_F_DADFAILED", 0x08),
    ("IFA_F_HOMEADDRESS", 0x10),
    ("IFA_F_DEPRECATED", 0x20),
    ("IFA_F_TENTATIVE", 0x40),
    ("IFA_F_PERMANENT", 0x80),
    ("IFA_F_MANAGETEMPADDR", 0x100),
    ("IFA_F_NOPREFIXROUTE", 0x200),
    ("IFA_F_MCAUTOJOIN", 0x400),
    ("IFA_F_STABLE_PRIVACY", 0x800),
)

# --- rtnetlink.h: routes ----------------------------------------------------------------------------------------

RTA_DST, RTA_SRC, RTA_OIF, RTA_GATEWAY, RTA_PREFSRC, RTA_TABLE = 1, 2, 4, 5, 7, 15

RTA_ATTRS: Table = (
    ("RTA_UNSPEC", 0),
    ("RTA_DST", RTA_DST),
    ("RTA_SRC", RTA_SRC),
    ("RTA_IIF", 3),
    ("RTA_OIF", RTA_OIF),
    ("RTA_GATEWAY", RTA_GATEWAY),
    ("RTA_PRIORITY", 6),
    ("RTA_PREFSRC", RTA_PREFSRC),
    ("RTA_METRICS", 8),
    ("RTA_MULTIPATH", 9),
    ("RTA_PROTOINFO", 10),
    ("RTA_FLOW", 11),
    ("RTA_CACHEINFO", 12),
    ("RTA_SESSION", 13),
    ("RTA_MP_ALGO", 14),
    ("RTA_TABLE", RTA_TABLE),
    ("RTA_MARK", 16),
    ("RTA_MFC_STATS", 17),
    ("RTA_VIA", 18),
    ("RTA_NEWDST", 19),
    ("RTA_PREF", 20),
    ("RTA_ENCAP_TYPE", 21),
    ("RTA_ENCAP", 22),
    ("RTA_EXPIRES", 23),
    ("RTA_PAD", 24),
    ("RTA_UID", 25),
    ("RTA_TTL_PROPAGATE", 26),
    ("RTA_IP_PROTO", 27),
    ("RTA_SPORT", 28),
    ("RTA_DPORT", 29),
    ("RTA_NH_ID", 30),
)

RT_TABLES: Table = (
    ("RT_TABLE_UNSPEC", 0),
    ("RT_TABLE_COMPAT", 252),
    ("RT_TABLE_DEFAULT", 253),
    ("RT_TABLE_MAIN", 254),
    ("RT_TABLE_LOCAL", 255),
)

RT_PROTOCOLS: Table = (
    ("RTPROT_UNSPEC", 0),
    ("RTPROT_REDIRECT", 1),
    ("RTPROT_KERNEL", 2),
    ("RTPROT_BOOT", 3),
    ("RTPROT_STATIC", 4),
    ("RTPROT_DHCP", 16),
)

RT_SCOPES: Table = (
    ("RT_SCOPE_UNIVERSE", 0),
    ("RT_SCOPE_SITE", 200),
    ("RT_SCOPE_LINK", 253),
    ("RT_SCOPE_HOST", 254),
    ("RT_SCOPE_NOWHERE", 255),
)

RTN_TYPES: Table = (
    ("RTN_UNSPEC", 0),
    ("RTN_UNICAST", 1),
    ("RTN_LOCAL", 2),
    ("RTN_BROADCAST", 3),
    ("RTN_ANYCAST", 4),
    ("RTN_MULTICAST", 5),
    ("RTN_BLACKHOLE", 6),
    ("RTN_UNREACHABLE", 7),
    ("RTN_PROHIBIT", 8),
    ("RTN_THROW", 9),
    ("RTN_NAT", 10),
    ("RTN_XRESOLVE", 11),
)

# --- sock_diag.h and generic netlink -------------------------------------------------------------------------------

SOCK_DIAG_TYPES: Table = (
    ("TCPDIAG_GETSOCK", 18),
    ("DCCPDIAG_GETSOCK", 19),
    ("SOCK_DIAG_BY_FAMILY", 20),
    ("SOCK_DESTROY", 21),
)

GENL_ID_CTRL = 0x10
#: The generic netlink controller's commands (genetlink.h): how a program finds a family's id by its name.
CTRL_CMDS: Table = (
    ("CTRL_CMD_UNSPEC", 0),
    ("CTRL_CMD_NEWFAMILY", 1),
    ("CTRL_CMD_DELFAMILY", 2),
    ("CTRL_CMD_GETFAMILY", 3),
    ("CTRL_CMD_NEWOPS", 4),
    ("CTRL_CMD_DELOPS", 5),
    ("CTRL_CMD_GETOPS", 6),
    ("CTRL_CMD_NEWMCAST_GRP", 7),
    ("CTRL_CMD_DELMCAST_GRP", 8),
    ("CTRL_CMD_GETMCAST_GRP", 9),
    ("CTRL_CMD_GETPOLICY", 10),
)
CTRL_ATTRS: Table = (
    ("CTRL_ATTR_UNSPEC", 0),
    ("CTRL_ATTR_FAMILY_ID", 1),
    ("CTRL_ATTR_FAMILY_NAME", 2),
    ("CTRL_ATTR_VERSION", 3),
    ("CTRL_ATTR_HDRSIZE", 4),
    ("CTRL_ATTR_MAXATTR", 5),
    ("CTRL_ATTR_OPS", 6),
    ("CTRL_ATTR_MCAST_GROUPS", 7),
    ("CTRL_ATTR_POLICY", 8),
    ("CTRL_ATTR_OP_POLICY", 9),
    ("CTRL_ATTR_OP", 10),
)
