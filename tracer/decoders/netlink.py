"""Netlink messages as data: what a runtime tells the kernel about network devices, addresses and routes.

A container's network is built by messages on a NETLINK_ROUTE socket (rtnetlink), not by a system call of its own:
`ip link add veth0 type veth peer name eth0` is one RTM_NEWLINK message whose attributes nest the device kind
("veth") and the peer's own link message. This module decodes such byte buffers:

    struct nlmsghdr { u32 len; u16 type; u16 flags; u32 seq; u32 pid; }      (include/uapi/linux/netlink.h)
    then a family header (struct ifinfomsg, ifaddrmsg, rtmsg, nlmsgerr...) and attributes:
    struct nlattr { u16 len; u16 type; } + payload, each padded to 4 bytes, possibly nested.

What each attribute holds is a table (`ATTRIBUTE_SPACES`): name table + value kind per attribute, the way strace
keeps its nlattr decoders. An attribute no table knows is kept by number with its bytes in hex, never dropped.
Malformed input (a short buffer, a length past the end, a nested attribute overflowing its parent) becomes a
"decode_error" field where it happens; decoding never raises.

The syscall decoders (sendto, sendmsg, recvfrom, recvmsg, socket) decode only netlink sockets; any other socket
keeps category "other" and so stays out of the default trace. rtnetlink messages are in category "namespaces":
devices, addresses and routes are the state of a network namespace, as the hostname is the state of a UTS one.
"""

from __future__ import annotations

import socket
import struct
from typing import Any

from tracer import netlink_host
from tracer.decoders import render as r
from tracer.decoders.base import SyscallContext
from tracer.decoders.common import U32, fd_path, s32
from tracer.decoders.sockets import sockaddr, socket_type
from tracer.events import Category
from tracer.xlat import rtnetlink as x
from tracer.xlat.errnos import errno_name
from tracer.xlat.flags import Table, decode_flags, decode_value
from tracer.xlat.sockets import ADDRESS_FAMILIES, AF_INET, AF_INET6, AF_NETLINK

#: The most bytes of one send or receive that are decoded.
MAX_NETLINK_BYTES = 64 * 1024
#: The most messages kept from one buffer, and how deep attributes may nest.
MAX_MESSAGES = 64
MAX_DEPTH = 8
#: An attribute without a known value kind keeps at most this many bytes, in hex.
MAX_HEX = 64

_NLMSGHDR = struct.Struct("<IHHII")
_NLATTR = struct.Struct("<HH")
_IFINFOMSG = struct.Struct("<BxHiII")  # family, (pad), type, index, flags, change
_IFADDRMSG = struct.Struct("<BBBBI")  # family, prefixlen, flags, scope, index
_RTMSG = struct.Struct("<BBBBBBBBI")  # family, dst_len, src_len, tos, table, protocol, scope, type, flags
_GENLMSGHDR = struct.Struct("<BBH")  # cmd, version, reserved


def _align(n: int) -> int:
    return (n + 3) & ~3


# --- attribute spaces: which table names the attributes, and what each one's payload is -----------------------

#: space name -> (name table, {attribute type: value kind}). Kinds: string, u8, u16, u32, s32, mac, ip, ifindex,
#: fd, pid, flags:<table>, value:<table>, nested:<space>, linkinfo_data (by the sibling IFLA_INFO_KIND),
#: ifinfo:<space> (a struct ifinfomsg then attributes: VETH_INFO_PEER).
ATTRIBUTE_SPACES: dict[str, tuple[Table, dict[int, str]]] = {
    "link": (x.IFLA_ATTRS, {
        x.IFLA_ADDRESS: "mac", 2: "mac", x.IFLA_IFNAME: "string", x.IFLA_MTU: "u32", x.IFLA_LINK: "ifindex",
        6: "string", x.IFLA_MASTER: "ifindex", 13: "u32", 16: "value:operstate", 17: "u8",
        x.IFLA_LINKINFO: "nested:linkinfo", x.IFLA_NET_NS_PID: "pid", 20: "string", 27: "u32",
        x.IFLA_NET_NS_FD: "fd", 29: "u32", 30: "u32", 31: "u32", 32: "u32", 33: "u8", 35: "u32", 37: "s32",
        39: "u8", 40: "u32", 41: "u32", 45: "s32", 46: "s32", 47: "u32", 48: "u32", 49: "s32", 50: "u32", 51: "u32",
        53: "string", 54: "mac", 56: "string", 57: "string", 58: "u32", 59: "u32", 60: "u32", 61: "u32",
    }),
    "linkinfo": (x.IFLA_INFO_ATTRS, {
        x.IFLA_INFO_KIND: "string", x.IFLA_INFO_DATA: "linkinfo_data", x.IFLA_INFO_SLAVE_KIND: "string",
    }),
    "veth": (x.VETH_INFO_ATTRS, {x.VETH_INFO_PEER: "ifinfo:link"}),
    "addr": (x.IFA_ATTRS, {
        x.IFA_ADDRESS: "ip", x.IFA_LOCAL: "ip", x.IFA_LABEL: "string", 4: "ip", 5: "ip", 7: "ip",
        8: "flags:ifa", 9: "u32", 10: "s32", 11: "u8",
    }),
    "route": (x.RTA_ATTRS, {
        x.RTA_DST: "ip", x.RTA_SRC: "ip", 3: "ifindex", x.RTA_OIF: "ifindex", x.RTA_GATEWAY: "ip", 6: "u32",
        x.RTA_PREFSRC: "ip", x.RTA_TABLE: "value:table", 16: "u32", 20: "u8", 25: "u32",
    }),
    "nlmsgerr": (x.NLMSGERR_ATTRS, {1: "string", 2: "u32", 5: "u32", 6: "u32"}),
    "genl_ctrl": (x.CTRL_ATTRS, {1: "u16", 2: "string", 3: "u32", 4: "u32", 5: "u32"}),
    "unknown": ((), {}),
}

#: IFLA_INFO_DATA is laid out by the device kind named beside it; kinds without a table keep their bytes.
LINKINFO_DATA_SPACES: dict[str, str] = {"veth": "veth"}

_VALUE_TABLES: dict[str, Table] = {
    "operstate": x.IF_OPER_STATES, "table": x.RT_TABLES, "ifa": x.IFA_FLAGS,
}


class _Host:
    """Lazily asked facts about the socket (interface names in its namespace), shared by one buffer's decode."""

    def __init__(self, ctx: SyscallContext | None, fd: int | None) -> None:
        self.ctx, self.fd = ctx, fd
        self._names: dict[int, str] | None = None
        self._asked = False

    def link_name(self, index: int) -> str | None:
        if self.ctx is None or self.fd is None or index <= 0:
            return None
        if not self._asked:
            self._asked = True
            self._names = netlink_host.link_names(self.ctx.pid, self.fd)
        return (self._names or {}).get(index)

    def fd_path(self, fd: int) -> str | None:
        return fd_path(self.ctx, fd) if self.ctx is not None else None

    def netns_of_pid(self, pid: int) -> int | None:
        return netlink_host.netns_of_pid(self.ctx.pid, pid) if self.ctx is not None else None


def _ip(payload: bytes, family: int) -> str:
    if family == AF_INET6 or (family != AF_INET and len(payload) == 16):
        return socket.inet_ntop(socket.AF_INET6, payload[:16]) if len(payload) >= 16 else payload.hex()
    return socket.inet_ntop(socket.AF_INET, payload[:4]) if len(payload) >= 4 else payload.hex()


def _int(payload: bytes, layout: str) -> int | None:
    size = struct.calcsize(layout)
    return struct.unpack_from("<" + layout, payload)[0] if len(payload) >= size else None


def _value(kind: str, payload: bytes, attr: dict[str, Any], family: int, host: _Host, depth: int) -> None:
    """Fill attr with the decoded payload of one attribute of a known kind."""
    if kind == "string":
        attr["value"] = payload.split(b"\0", 1)[0].decode("utf-8", "backslashreplace")
    elif kind in ("u8", "u16", "u32", "s32", "ifindex", "fd", "pid"):
        layout = {"u8": "B", "u16": "H", "s32": "i", "fd": "i"}.get(kind, "I")
        number = _int(payload, layout)
        if number is None:
            attr["decode_error"] = f"{len(payload)} bytes, too short for a {kind}"
            attr["hex"] = payload.hex()
            return
        attr["value"] = number
        if kind == "ifindex":
            name = host.link_name(number)
            if name is not None:
                attr["name"] = name
        elif kind == "fd":
            attr["path"] = host.fd_path(number)
        elif kind == "pid":
            netns = host.netns_of_pid(number)
            if netns is not None:
                attr["netns"] = netns
    elif kind == "mac":
        attr["value"] = ":".join(f"{b:02x}" for b in payload)
    elif kind == "ip":
        attr["value"] = _ip(payload, family)
    elif kind.startswith("flags:"):
        number = _int(payload, "I")
        attr["value"] = decode_flags(number, _VALUE_TABLES[kind[6:]]) if number is not None else payload.hex()
    elif kind.startswith("value:"):
        number = _int(payload, "B" if len(payload) == 1 else "I")
        attr["value"] = decode_value(number, _VALUE_TABLES[kind[6:]]) if number is not None else payload.hex()
    elif kind.startswith("nested:"):
        attr["attrs"] = parse_attributes(payload, kind[7:], family, host, depth + 1)
    elif kind.startswith("ifinfo:"):
        attr.update(_ifinfo_body(payload, kind[7:], host, depth + 1))


def parse_attributes(data: bytes, space: str, family: int = 0, host: _Host | None = None,
                      depth: int = 0) -> list[dict[str, Any]]:
    """The attributes in `data`, decoded with the table of `space`; errors become entries with decode_error."""
    host = host or _Host(None, None)
    names, kinds = ATTRIBUTE_SPACES.get(space, ATTRIBUTE_SPACES["unknown"])
    out: list[dict[str, Any]] = []
    if depth > MAX_DEPTH:
        return [{"decode_error": f"attributes nested deeper than {MAX_DEPTH} levels"}]
    offset = 0
    kind_name: str | None = None  # IFLA_INFO_KIND seen at this level, for IFLA_INFO_DATA
    while offset < len(data):
        left = len(data) - offset
        if left < x.NLA_HDRLEN:
            out.append({"decode_error": f"{left} trailing bytes, too short for an attribute header"})
            break
        length, raw_type = _NLATTR.unpack_from(data, offset)
        number = raw_type & x.NLA_TYPE_MASK
        name = decode_value(number, names) if any(v == number for _, v in names) else None
        attr: dict[str, Any] = {"type": name if name is not None else number}
        if raw_type & x.NLA_F_NESTED:
            attr["nested_flag"] = True
        if length < x.NLA_HDRLEN:
            attr["decode_error"] = f"attribute length {length} is shorter than its 4-byte header"
            out.append(attr)
            break
        if length > left:
            attr["decode_error"] = f"attribute length {length} overflows its parent ({left} bytes left)"
            out.append(attr)
            break
        payload = data[offset + x.NLA_HDRLEN : offset + length]
        kind = kinds.get(number)
        if kind == "linkinfo_data":
            inner = LINKINFO_DATA_SPACES.get(kind_name or "")
            kind = f"nested:{inner}" if inner else None
        if kind is not None:
            _value(kind, payload, attr, family, host, depth)
        else:
            attr["len"] = len(payload)
            attr["hex"] = payload[:MAX_HEX].hex() + ("..." if len(payload) > MAX_HEX else "")
        if space == "linkinfo" and number == x.IFLA_INFO_KIND:
            kind_name = attr.get("value")
        out.append(attr)
        offset += _align(length)
    return out


# --- family headers ------------------------------------------------------------------------------------------------


def _ifinfo_body(body: bytes, space: str, host: _Host, depth: int = 0, dump: bool = False) -> dict[str, Any]:
    """struct ifinfomsg then link attributes (an RTM_*LINK message, or a veth peer)."""
    if len(body) < _IFINFOMSG.size:
        if dump and len(body) >= 1:  # a GET request may carry only struct rtgenmsg (one family byte)
            return {"ifinfo": {"family": decode_value(body[0], ADDRESS_FAMILIES)}}
        return {"decode_error": f"{len(body)} bytes, too short for struct ifinfomsg ({_IFINFOMSG.size})"}
    family, dev_type, index, flags, change = _IFINFOMSG.unpack_from(body)
    info: dict[str, Any] = {"family": decode_value(family, ADDRESS_FAMILIES)}
    if dev_type:  # requests leave it 0; the kernel's replies say what the device is
        info["type"] = decode_value(dev_type, x.ARPHRD_TYPES)
    info |= {
        "index": index,
        "flags": decode_flags(flags, x.IFF_FLAGS),
        "change": decode_flags(change, x.IFF_FLAGS),
    }
    name = host.link_name(index)
    if name is not None:
        info["name"] = name
    return {"ifinfo": info, "attrs": parse_attributes(body[_IFINFOMSG.size :], space, family, host, depth)}


def _ifaddr_body(body: bytes, host: _Host) -> dict[str, Any]:
    if len(body) < _IFADDRMSG.size:
        return {"decode_error": f"{len(body)} bytes, too short for struct ifaddrmsg ({_IFADDRMSG.size})"}
    family, prefixlen, flags, scope, index = _IFADDRMSG.unpack_from(body)
    info: dict[str, Any] = {
        "family": decode_value(family, ADDRESS_FAMILIES),
        "prefixlen": prefixlen,
        "flags": decode_flags(flags, x.IFA_FLAGS),
        "scope": decode_value(scope, x.RT_SCOPES),
        "index": index,
    }
    name = host.link_name(index)
    if name is not None:
        info["name"] = name
    return {"ifaddr": info, "attrs": parse_attributes(body[_IFADDRMSG.size :], "addr", family, host)}


def _rtmsg_body(body: bytes, host: _Host) -> dict[str, Any]:
    if len(body) < _RTMSG.size:
        return {"decode_error": f"{len(body)} bytes, too short for struct rtmsg ({_RTMSG.size})"}
    family, dst_len, src_len, tos, table, protocol, scope, kind, flags = _RTMSG.unpack_from(body)
    info: dict[str, Any] = {
        "family": decode_value(family, ADDRESS_FAMILIES),
        "dst_len": dst_len,
        "src_len": src_len,
        "tos": tos,
        "table": decode_value(table, x.RT_TABLES),
        "protocol": decode_value(protocol, x.RT_PROTOCOLS),
        "scope": decode_value(scope, x.RT_SCOPES),
        "type": decode_value(kind, x.RTN_TYPES),
        "flags": flags,
    }
    return {"rtmsg": info, "attrs": parse_attributes(body[_RTMSG.size :], "route", family, host)}


def _nlm_flags(flags: int, kind: int, protocol: int | None) -> list[str]:
    """The low byte always; the high bits by the request's kind (GET, NEW, DEL, or an error's ack)."""
    high: Table = ()
    if kind == x.NLMSG_ERROR:
        high = x.NLM_ACK_FLAGS
    elif protocol == x.NETLINK_ROUTE and kind >= x.NLMSG_MIN_TYPE:
        high = (x.NLM_NEW_FLAGS, x.NLM_DELETE_FLAGS, x.NLM_GET_FLAGS, x.NLM_NEW_FLAGS)[(kind - 16) % 4]
    elif protocol in (x.NETLINK_SOCK_DIAG, x.NETLINK_GENERIC) and flags & x.NLM_F_REQUEST:
        high = x.NLM_GET_FLAGS
    return decode_flags(flags, x.NLM_FLAGS + high)


def message_type(kind: int, protocol: int | None) -> str | int:
    """The message type's name in its protocol, or its number."""
    if kind < x.NLMSG_MIN_TYPE:
        known = dict((v, n) for n, v in x.NLMSG_CONTROL_TYPES)
        return known.get(kind, kind)
    tables: dict[int | None, Table] = {x.NETLINK_ROUTE: x.RTM_TYPES, x.NETLINK_SOCK_DIAG: x.SOCK_DIAG_TYPES}
    table = tables.get(protocol, ())
    if protocol == x.NETLINK_GENERIC:
        return "nlctrl" if kind == x.GENL_ID_CTRL else f"genl_family_{kind}"
    name = decode_value(kind, table)
    return name if not name.isdigit() else kind


def _body(kind: int, flags: int, body: bytes, protocol: int | None, host: _Host, depth: int) -> dict[str, Any]:
    if kind == x.NLMSG_ERROR:
        return _error_body(flags, body, protocol, host, depth)
    if kind == x.NLMSG_DONE:
        return {"status": s32(_int(body, "I") or 0)} if len(body) >= 4 else {}
    if kind < x.NLMSG_MIN_TYPE:
        return {}
    if protocol == x.NETLINK_ROUTE:
        if x.RTM_NEWLINK <= kind <= x.RTM_SETLINK:
            return _ifinfo_body(body, "link", host, dump=kind == x.RTM_GETLINK)
        if x.RTM_NEWADDR <= kind <= x.RTM_GETADDR:
            return _ifaddr_body(body, host)
        if x.RTM_NEWROUTE <= kind <= x.RTM_GETROUTE:
            return _rtmsg_body(body, host)
    elif protocol == x.NETLINK_SOCK_DIAG and body:
        # Every sock_diag request starts with the address family it asks about (struct *_diag_req).
        return {"sdiag_family": decode_value(body[0], ADDRESS_FAMILIES), "len": len(body)}
    elif protocol == x.NETLINK_GENERIC and len(body) >= _GENLMSGHDR.size:
        cmd, version, _ = _GENLMSGHDR.unpack_from(body)
        out: dict[str, Any] = {"genl": {"cmd": cmd, "version": version}}
        if kind == x.GENL_ID_CTRL:
            out["genl"]["cmd"] = decode_value(cmd, x.CTRL_CMDS)
            out["attrs"] = parse_attributes(body[_GENLMSGHDR.size :], "genl_ctrl", 0, host, depth)
        else:
            out["attrs"] = parse_attributes(body[_GENLMSGHDR.size :], "unknown", 0, host, depth)
        return out
    return {"len": len(body), "hex": body[:MAX_HEX].hex() + ("..." if len(body) > MAX_HEX else "")}


def _error_body(flags: int, body: bytes, protocol: int | None, host: _Host, depth: int) -> dict[str, Any]:
    """struct nlmsgerr: the error (0 is an acknowledgement), the request's header, maybe its payload and TLVs."""
    if len(body) < 4:
        return {"decode_error": f"{len(body)} bytes, too short for struct nlmsgerr"}
    code = s32(struct.unpack_from("<I", body)[0])
    out: dict[str, Any] = {"error": 0 if code == 0 else errno_name(-code) if code < 0 else code}
    request = body[4:]
    if len(request) >= _NLMSGHDR.size and depth < MAX_DEPTH:
        length, kind, rflags, seq, pid = _NLMSGHDR.unpack_from(request)
        out["request"] = {"type": message_type(kind, protocol), "flags": _nlm_flags(rflags, kind, protocol),
                          "seq": seq, "pid": pid}
        capped = bool(flags & 0x100)  # NLM_F_CAPPED: only the request's header was copied back
        tlvs_at = _NLMSGHDR.size if capped else _align(min(length, len(request)))
        if flags & 0x200 and tlvs_at < len(request):  # NLM_F_ACK_TLVS: extended ack attributes follow
            out["attrs"] = parse_attributes(request[tlvs_at:], "nlmsgerr", 0, host, depth + 1)
    return out


def parse_messages(data: bytes, protocol: int | None, ctx: SyscallContext | None = None,
                    fd: int | None = None) -> list[dict[str, Any]]:
    """Every netlink message in a buffer, in order. A malformed buffer ends with an entry holding decode_error."""
    host = _Host(ctx, fd)
    out: list[dict[str, Any]] = []
    offset = 0
    while offset < len(data) and len(out) < MAX_MESSAGES:
        left = len(data) - offset
        if left < x.NLMSGHDR_SIZE:
            out.append({"decode_error": f"{left} bytes, too short for a netlink header ({x.NLMSGHDR_SIZE})"})
            break
        length, kind, flags, seq, pid = _NLMSGHDR.unpack_from(data, offset)
        message: dict[str, Any] = {"type": message_type(kind, protocol),
                                   "flags": _nlm_flags(flags, kind, protocol), "seq": seq, "pid": pid}
        if length < x.NLMSGHDR_SIZE or length > left:
            message["len"] = length
            message["decode_error"] = (f"nlmsg_len {length} is shorter than the header" if length < x.NLMSGHDR_SIZE
                                       else f"nlmsg_len {length} overflows the buffer ({left} bytes left)")
            out.append(message)
            break
        try:
            message.update(_body(kind, flags, data[offset + x.NLMSGHDR_SIZE : offset + length], protocol, host, 0))
        except (struct.error, ValueError, OSError) as exc:  # a layout this module did not foresee
            message["decode_error"] = f"{type(exc).__name__}: {exc}"
        out.append(message)
        offset += _align(length)
    if offset < len(data) and len(out) >= MAX_MESSAGES:
        out.append({"decode_error": f"more than {MAX_MESSAGES} messages: the rest ({len(data) - offset} bytes) "
                                    "not decoded"})
    return out


# --- one-line descriptions (console, TUI list, insights) -----------------------------------------------------------


def find_attr(attrs: list[dict[str, Any]] | None, *path: str) -> dict[str, Any] | None:
    """The attribute at a path of type names (IFLA_LINKINFO, IFLA_INFO_KIND), or None."""
    current = attrs or []
    found: dict[str, Any] | None = None
    for step in path:
        found = next((a for a in current if a.get("type") == step), None)
        if found is None:
            return None
        current = found.get("attrs") or []
    return found


def attr_value(attrs: list[dict[str, Any]] | None, *path: str) -> Any:
    found = find_attr(attrs, *path)
    return found.get("value") if found is not None else None


def describe_message(message: dict[str, Any]) -> str:
    """`RTM_NEWLINK veth-host type veth peer eth0`, `RTM_NEWADDR 169.254.1.1/30 dev eth0`, `ack`, `error EEXIST`.
    A message of a damaged recording (fields of other types) is described by its type alone."""
    try:
        return _describe(message)
    except (AttributeError, TypeError, KeyError, ValueError):
        return str(message.get("type", "?")) if isinstance(message, dict) else "?"


def _describe(message: dict[str, Any]) -> str:
    kind = message.get("type")
    attrs = message.get("attrs")
    if "decode_error" in message and kind is None:
        return f"malformed: {message['decode_error']}"
    if kind == "NLMSG_ERROR":
        error = message.get("error")
        request = (message.get("request") or {}).get("type", "?")
        return f"ack of {request}" if error == 0 else f"error {error} for {request}"
    parts = [str(kind)]
    if "ifinfo" in message:
        info = message["ifinfo"]
        new_name, current = attr_value(attrs, "IFLA_IFNAME"), info.get("name")
        if current or new_name:
            parts.append(str(current or new_name))
        if info.get("index"):
            parts.append(f"index {info['index']}")
        if current and new_name and new_name != current:
            parts.append(f"new name {new_name}")  # a rename, as `ip link set NAME name NEW` sends it
        kind_name = attr_value(attrs, "IFLA_LINKINFO", "IFLA_INFO_KIND")
        if kind_name:
            parts.append(f"type {kind_name}")
        peer = find_attr(attrs, "IFLA_LINKINFO", "IFLA_INFO_DATA", "VETH_INFO_PEER")
        if peer is not None:
            parts.append(f"peer {attr_value(peer.get('attrs'), 'IFLA_IFNAME') or '?'}")
        for key, label in (("IFLA_NET_NS_PID", "netns of pid"), ("IFLA_NET_NS_FD", "netns fd")):
            found = find_attr(attrs, key)
            if found is not None:
                path = str(found.get("path") or "")
                target = found.get("netns") or (path[5:-1] if path.startswith("net:[") else "")
                parts.append(f"{label} {found.get('value')}" + (f" (net:[{target}])" if target else ""))
        master = find_attr(attrs, "IFLA_MASTER")
        if master is not None:
            parts.append(f"master {master.get('name') or master.get('value')}")
        if "IFF_UP" in info.get("change", []):
            parts.append("up" if "IFF_UP" in info.get("flags", []) else "down")
    elif "ifaddr" in message:
        info = message["ifaddr"]
        address = attr_value(attrs, "IFA_LOCAL") or attr_value(attrs, "IFA_ADDRESS")
        if address:
            parts.append(f"{address}/{info.get('prefixlen')}")
        parts.append(f"dev {info.get('name') or info.get('index')}")
    elif "rtmsg" in message:
        info = message["rtmsg"]
        dst = attr_value(attrs, "RTA_DST")
        parts.append(f"{dst}/{info.get('dst_len')}" if dst else "default")
        gateway = attr_value(attrs, "RTA_GATEWAY")
        if gateway:
            parts.append(f"via {gateway}")
        oif = find_attr(attrs, "RTA_OIF")
        if oif is not None:
            parts.append(f"dev {oif.get('name') or oif.get('value')}")
    if "decode_error" in message:
        parts.append(f"(malformed: {message['decode_error']})")
    return " ".join(parts)


# --- the syscall decoders ------------------------------------------------------------------------------------------

_MSGHDR = struct.Struct("<QI4xQQQQi4x")  # name, namelen, iov, iovlen, control, controllen, flags
_IOVEC = struct.Struct("<QQ")
_MAX_IOV = 16


def _netlink_socket(ctx: SyscallContext, fd: int, out: dict[str, Any]) -> int | None:
    """The socket's netlink protocol (and its network namespace into out), or None when fd is not netlink."""
    path = fd_path(ctx, fd)
    if path is None or not path.startswith("socket:"):
        return None
    info = netlink_host.socket_info(ctx.pid, fd)
    if info is None or info.get("family") != AF_NETLINK:
        return None
    protocol = info["protocol"]
    out["fd_path"] = path
    out["netlink"] = decode_value(protocol, x.NETLINK_PROTOCOLS)
    if "netns" in info:
        out["netns"] = info["netns"]
    ctx.category = Category.NAMESPACES if protocol == x.NETLINK_ROUTE else None
    return protocol


def _read(ctx: SyscallContext, address: int, size: int) -> bytes | None:
    if address == 0 or size <= 0:
        return None
    return ctx.memory.read_bytes(address, min(size, MAX_NETLINK_BYTES))


def _gather(ctx: SyscallContext, msghdr: int, limit: int) -> tuple[bytes | None, dict[str, Any]]:
    """The bytes of a struct msghdr's iovecs, up to limit, and its name (the destination or source address)."""
    header = _read(ctx, msghdr, _MSGHDR.size)
    if header is None or len(header) < _MSGHDR.size:
        return None, {}
    name, namelen, iov, iovlen, _, _, _ = _MSGHDR.unpack(header)
    extra: dict[str, Any] = {}
    if name and namelen >= 2:
        raw = _read(ctx, name, min(namelen, 128))
        if raw and len(raw) >= 2:
            extra["address"] = sockaddr(raw)
    vectors = _read(ctx, iov, _IOVEC.size * min(iovlen, _MAX_IOV)) if iovlen else b""
    if vectors is None:
        return None, extra
    data = bytearray()
    for base, length in _IOVEC.iter_unpack(vectors[: len(vectors) - len(vectors) % _IOVEC.size]):
        want = min(length, limit - len(data))
        if want <= 0:
            break
        chunk = _read(ctx, base, want)
        if chunk is None:
            break
        data += chunk
    return bytes(data), extra


def decode_sendto(ctx: SyscallContext) -> dict[str, Any]:
    """sendto(fd, buf, len, flags, dest_addr, addrlen): on a netlink socket, the messages."""
    fd = s32(ctx.args[0])
    out: dict[str, Any] = {"fd": fd, "len": ctx.args[2]}
    protocol = _netlink_socket(ctx, fd, out)
    if protocol is None:
        return out
    data = _read(ctx, ctx.args[1], ctx.args[2])
    out["messages"] = parse_messages(data or b"", protocol, ctx, fd) if data is not None else None
    if ctx.args[4] and ctx.args[5] >= 2:
        raw = _read(ctx, ctx.args[4], min(s32(ctx.args[5]), 128))
        if raw and len(raw) >= 2:
            out["address"] = sockaddr(raw)
    return out


def decode_sendmsg(ctx: SyscallContext) -> dict[str, Any]:
    """sendmsg(fd, msg, flags): the iovecs gathered into one buffer, then decoded as for sendto."""
    fd = s32(ctx.args[0])
    out: dict[str, Any] = {"fd": fd}
    protocol = _netlink_socket(ctx, fd, out)
    if protocol is None:
        return out
    data, extra = _gather(ctx, ctx.args[1], MAX_NETLINK_BYTES)
    out.update(extra)
    out["len"] = len(data) if data is not None else None
    out["messages"] = parse_messages(data, protocol, ctx, fd) if data is not None else None
    return out


def decode_recv(ctx: SyscallContext) -> dict[str, Any]:
    """recvfrom/recvmsg at entry: only whether the socket is netlink; the reply is read at the exit stop."""
    fd = s32(ctx.args[0])
    out: dict[str, Any] = {"fd": fd}
    _netlink_socket(ctx, fd, out)
    return out


def _reply(ctx: SyscallContext, args: dict[str, Any], data: bytes | None, ret: int) -> None:
    if "netlink" not in args or data is None:
        return
    protocol = dict(x.NETLINK_PROTOCOLS).get(args["netlink"])
    args["len"] = ret
    if len(data) < ret:
        args["truncated"] = True  # MSG_TRUNC/MSG_PEEK: the message was longer than the buffer
    args["messages"] = parse_messages(data, protocol, None, None)


def decode_recvfrom_exit(ctx: SyscallContext, args: dict[str, Any], ret: int) -> None:
    if ret > 0:
        _reply(ctx, args, _read(ctx, ctx.args[1], min(ret, ctx.args[2])), ret)


def decode_recvmsg_exit(ctx: SyscallContext, args: dict[str, Any], ret: int) -> None:
    if ret > 0 and "netlink" in args:
        data, _ = _gather(ctx, ctx.args[1], min(ret, MAX_NETLINK_BYTES))
        _reply(ctx, args, data, ret)


def decode_socket(ctx: SyscallContext) -> dict[str, Any]:
    """socket(domain, type, protocol): a netlink socket names its protocol (which kernel subsystem it talks to)."""
    domain = ctx.args[0] & U32
    out: dict[str, Any] = {"domain": decode_value(domain, ADDRESS_FAMILIES), "type": socket_type(ctx.args[1])}
    protocol = s32(ctx.args[2])
    if domain == AF_NETLINK:
        out["protocol"] = decode_value(protocol, x.NETLINK_PROTOCOLS)
        purpose = x.NETLINK_PURPOSES.get(protocol)
        if purpose:
            ctx.notes["protocol"] = purpose
        if protocol == x.NETLINK_ROUTE:
            ctx.category = Category.IPC
    else:
        out["protocol"] = protocol
    return out


def _messages(args: dict[str, Any]) -> str | None:
    messages = args.get("messages")
    if "netlink" not in args:
        return None
    if not isinstance(messages, list):
        return "..." if messages is None else r.scalar(messages)
    return "[" + "; ".join(describe_message(m) for m in messages) + "]"


def _netlink_fd(args: dict[str, Any]) -> str | None:
    """3<socket:[123] NETLINK_ROUTE net:[4026532]>: the socket, its protocol and the namespace it lives in."""
    if "fd" not in args:
        return None
    if "netlink" not in args:
        return r.scalar(args["fd"])
    netns = f" net:[{args['netns']}]" if args.get("netns") else ""
    return f"{args['fd']}<{args.get('fd_path')} {args['netlink']}{netns}>"


LAYOUTS: dict[str, r.Layout] = {
    "sendto": (_netlink_fd, _messages, r.value("len")),
    "sendmsg": (_netlink_fd, _messages, r.value("len")),
    "recvfrom": (_netlink_fd, _messages, r.value("len")),
    "recvmsg": (_netlink_fd, _messages, r.value("len")),
    "socket": (r.value("domain"), r.flags("type"), r.value("protocol")),
}
