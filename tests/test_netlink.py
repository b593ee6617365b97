"""Netlink decoding: the tables against the kernel headers, golden messages (well-formed and malformed), the syscall
decoders on real sockets of this process, the seccomp program's socket check, and a live trace that builds a veth
pair in a throwaway network namespace.
"""

from __future__ import annotations

import ctypes
import os
import re
import socket
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from tests.decoder_fixtures import Arena, LocalMemory
from tests.prereqs import require
from tests.test_xlat import header_defines
from tracer.decoders import NETLINK_SYSCALL_NRS, SYSCALL_NRS_BY_NAME, SYSCALLS, decode_syscall, format_call
from tracer.decoders.base import SyscallContext
from tracer.decoders.netlink import attr_value, describe_message, find_attr, parse_attributes, parse_messages
from tracer.events import NamespaceChange, Syscall
from tracer.seccomp_filter import SECCOMP_RET_ALLOW, SECCOMP_RET_TRACE, build_program
from tracer.xlat import rtnetlink as x

INCLUDE = Path("/usr/include/linux")

# --- a small builder of netlink messages (independent of the code under test) --------------------------------


def nla(kind: int, payload: bytes, nested: bool = False) -> bytes:
    length = 4 + len(payload)
    return struct.pack("=HH", length, kind | (0x8000 if nested else 0)) + payload + b"\0" * (-length % 4)


def ifinfo(index: int = 0, flags: int = 0, change: int = 0, family: int = 0, dev_type: int = 0) -> bytes:
    return struct.pack("=BxHiII", family, dev_type, index, flags, change)


def nlmsg(kind: int, flags: int, body: bytes, seq: int = 1, length: int | None = None) -> bytes:
    size = 16 + len(body) if length is None else length
    return struct.pack("=IHHII", size, kind, flags, seq, 0) + body + b"\0" * (-len(body) % 4)


def cstr(text: str) -> bytes:
    return text.encode() + b"\0"


REQ_ACK_CREATE = 0x1 | 0x4 | 0x200 | 0x400
VETH = nlmsg(x.RTM_NEWLINK, REQ_ACK_CREATE, ifinfo() + nla(x.IFLA_IFNAME, cstr("veth-host")) + nla(
    x.IFLA_LINKINFO, nla(x.IFLA_INFO_KIND, cstr("veth")) + nla(
        x.IFLA_INFO_DATA, nla(x.VETH_INFO_PEER, ifinfo() + nla(x.IFLA_IFNAME, cstr("veth-box"))))))
MOVE = nlmsg(x.RTM_NEWLINK, 0x5, ifinfo(index=7) + nla(x.IFLA_NET_NS_PID, struct.pack("=I", 4242))
             + nla(x.IFLA_IFNAME, cstr("eth0")))
MOVE_FD = nlmsg(x.RTM_SETLINK, 0x5, ifinfo(index=7) + nla(x.IFLA_NET_NS_FD, struct.pack("=i", 9)))
UP = nlmsg(x.RTM_NEWLINK, 0x5, ifinfo(index=3, flags=x.IFF_UP, change=x.IFF_UP))
DOWN = nlmsg(x.RTM_SETLINK, 0x5, ifinfo(index=3, flags=0, change=x.IFF_UP))
BRIDGE = nlmsg(x.RTM_NEWLINK, REQ_ACK_CREATE, ifinfo() + nla(x.IFLA_IFNAME, cstr("br0"))
               + nla(x.IFLA_LINKINFO, nla(x.IFLA_INFO_KIND, cstr("bridge")) + nla(x.IFLA_INFO_DATA, nla(1, b"\x01\0\0\0"))))
ENSLAVE = nlmsg(x.RTM_NEWLINK, 0x5, ifinfo(index=5) + nla(x.IFLA_MASTER, struct.pack("=I", 4)))
DELETE = nlmsg(x.RTM_DELLINK, 0x5, ifinfo() + nla(x.IFLA_IFNAME, cstr("veth-host")))
ADDR = nlmsg(x.RTM_NEWADDR, REQ_ACK_CREATE, struct.pack("=BBBBI", socket.AF_INET, 30, 0, 0, 2)
             + nla(x.IFA_LOCAL, socket.inet_aton("169.254.1.1")) + nla(x.IFA_ADDRESS, socket.inet_aton("169.254.1.1")))
ADDR6 = nlmsg(x.RTM_NEWADDR, REQ_ACK_CREATE, struct.pack("=BBBBI", socket.AF_INET6, 64, 0, 0, 2)
              + nla(x.IFA_ADDRESS, socket.inet_pton(socket.AF_INET6, "fe80::1")) + nla(8, struct.pack("=I", 0x2)))
ROUTE = nlmsg(x.RTM_NEWROUTE, REQ_ACK_CREATE, struct.pack("=BBBBBBBBI", socket.AF_INET, 0, 0, 0, 254, 4, 0, 1, 0)
              + nla(x.RTA_GATEWAY, socket.inet_aton("169.254.1.1")) + nla(x.RTA_OIF, struct.pack("=I", 2)))
ROUTE_DST = nlmsg(x.RTM_NEWROUTE, REQ_ACK_CREATE, struct.pack("=BBBBBBBBI", socket.AF_INET, 30, 0, 0, 254, 4, 253, 1, 0)
                  + nla(x.RTA_DST, socket.inet_aton("169.254.1.0")) + nla(x.RTA_OIF, struct.pack("=I", 2)))
ACK = nlmsg(x.NLMSG_ERROR, 0x100, struct.pack("=i", 0) + struct.pack("=IHHII", 52, x.RTM_NEWLINK, 0x605, 1, 0))
EEXIST = nlmsg(x.NLMSG_ERROR, 0x300, struct.pack("=i", -17) + struct.pack("=IHHII", 52, x.RTM_NEWLINK, 0x605, 1, 0)
               + nla(1, cstr("File exists")))
GETLINK_DUMP = nlmsg(x.RTM_GETLINK, 0x301, b"\0\0\0\0")
UNKNOWN_ATTR = nlmsg(x.RTM_NEWLINK, 0x5, ifinfo(index=1) + nla(999, b"\xde\xad\xbe\xef") + nla(x.IFLA_MTU, b"\xdc\x05\0\0"))


@pytest.mark.parametrize(("name", "data", "protocol", "expected"), [
    ("veth pair", VETH, x.NETLINK_ROUTE, "RTM_NEWLINK veth-host type veth peer veth-box"),
    ("move by pid", MOVE, x.NETLINK_ROUTE, "RTM_NEWLINK eth0 index 7 netns of pid 4242"),
    ("move by fd", MOVE_FD, x.NETLINK_ROUTE, "RTM_SETLINK index 7 netns fd 9"),
    ("link up", UP, x.NETLINK_ROUTE, "RTM_NEWLINK index 3 up"),
    ("link down", DOWN, x.NETLINK_ROUTE, "RTM_SETLINK index 3 down"),
    ("bridge", BRIDGE, x.NETLINK_ROUTE, "RTM_NEWLINK br0 type bridge"),
    ("enslave", ENSLAVE, x.NETLINK_ROUTE, "RTM_NEWLINK index 5 master 4"),
    ("delete", DELETE, x.NETLINK_ROUTE, "RTM_DELLINK veth-host"),
    ("address", ADDR, x.NETLINK_ROUTE, "RTM_NEWADDR 169.254.1.1/30 dev 2"),
    ("address v6", ADDR6, x.NETLINK_ROUTE, "RTM_NEWADDR fe80::1/64 dev 2"),
    ("default route", ROUTE, x.NETLINK_ROUTE, "RTM_NEWROUTE default via 169.254.1.1 dev 2"),
    ("on-link route", ROUTE_DST, x.NETLINK_ROUTE, "RTM_NEWROUTE 169.254.1.0/30 dev 2"),
    ("ack", ACK, x.NETLINK_ROUTE, "ack of RTM_NEWLINK"),
    ("error", EEXIST, x.NETLINK_ROUTE, "error EEXIST for RTM_NEWLINK"),
    ("dump request", GETLINK_DUMP, x.NETLINK_ROUTE, "RTM_GETLINK"),
    ("sock_diag", nlmsg(20, 0x301, bytes([socket.AF_UNIX]) + b"\0" * 23), x.NETLINK_SOCK_DIAG, "SOCK_DIAG_BY_FAMILY"),
    ("genl ctrl", nlmsg(x.GENL_ID_CTRL, 0x5, bytes([3, 1, 0, 0]) + nla(2, cstr("nl80211"))), x.NETLINK_GENERIC,
     "nlctrl"),
    ("genl family", nlmsg(0x1c, 0x5, bytes([1, 1, 0, 0])), x.NETLINK_GENERIC, "genl_family_28"),
])
def test_golden_messages(name, data, protocol, expected):
    messages = parse_messages(data, protocol)
    assert len(messages) == 1, name
    assert "decode_error" not in messages[0], messages[0]
    assert describe_message(messages[0]) == expected


def test_veth_tree_and_flags():
    (message,) = parse_messages(VETH, x.NETLINK_ROUTE)
    assert message["flags"] == ["NLM_F_REQUEST", "NLM_F_ACK", "NLM_F_EXCL", "NLM_F_CREATE"]
    assert attr_value(message["attrs"], "IFLA_LINKINFO", "IFLA_INFO_KIND") == "veth"
    peer = find_attr(message["attrs"], "IFLA_LINKINFO", "IFLA_INFO_DATA", "VETH_INFO_PEER")
    assert peer is not None and peer["ifinfo"]["index"] == 0
    assert attr_value(peer["attrs"], "IFLA_IFNAME") == "veth-box"
    (up,) = parse_messages(UP, x.NETLINK_ROUTE)
    assert up["ifinfo"]["flags"] == ["IFF_UP"] and up["ifinfo"]["change"] == ["IFF_UP"]
    (dump,) = parse_messages(GETLINK_DUMP, x.NETLINK_ROUTE)
    assert dump["flags"] == ["NLM_F_REQUEST", "NLM_F_DUMP"]
    (err,) = parse_messages(EEXIST, x.NETLINK_ROUTE)
    assert err["error"] == "EEXIST" and err["flags"] == ["NLM_F_CAPPED", "NLM_F_ACK_TLVS"]
    assert attr_value(err["attrs"], "NLMSGERR_ATTR_MSG") == "File exists"
    (route,) = parse_messages(ROUTE, x.NETLINK_ROUTE)
    assert route["rtmsg"]["table"] == "RT_TABLE_MAIN" and route["rtmsg"]["protocol"] == "RTPROT_STATIC"
    (addr6,) = parse_messages(ADDR6, x.NETLINK_ROUTE)
    assert attr_value(addr6["attrs"], "IFA_FLAGS") == ["IFA_F_NODAD"]


def test_unknown_attributes_are_kept_by_number():
    (message,) = parse_messages(UNKNOWN_ATTR, x.NETLINK_ROUTE)
    unknown, mtu = message["attrs"]
    assert unknown == {"type": 999, "len": 4, "hex": "deadbeef"}
    assert mtu == {"type": "IFLA_MTU", "value": 1500}
    # A known attribute without a value kind keeps its bytes too.
    (stats,) = parse_attributes(nla(7, b"\x01\x02"), "link")
    assert stats == {"type": "IFLA_STATS", "len": 2, "hex": "0102"}


def test_several_messages_in_one_buffer():
    messages = parse_messages(VETH + ADDR + ROUTE, x.NETLINK_ROUTE)
    assert [m["type"] for m in messages] == ["RTM_NEWLINK", "RTM_NEWADDR", "RTM_NEWROUTE"]


@pytest.mark.parametrize(("name", "data", "fragment"), [
    ("empty header", b"\x10\x00", "too short for a netlink header"),
    ("length past the end", nlmsg(x.RTM_NEWLINK, 1, ifinfo(), length=400), "overflows the buffer"),
    ("length below the header", nlmsg(x.RTM_NEWLINK, 1, ifinfo(), length=8), "shorter than the header"),
    ("short ifinfomsg", nlmsg(x.RTM_NEWLINK, 1, b"\0\0\0\0\0\0\0\0"), "too short for struct ifinfomsg"),
    ("short rtmsg", nlmsg(x.RTM_NEWROUTE, 1, b"\0\0\0\0"), "too short for struct rtmsg"),
    ("short ifaddrmsg", nlmsg(x.RTM_NEWADDR, 1, b"\0\0\0\0"), "too short for struct ifaddrmsg"),
    ("short nlmsgerr", nlmsg(x.NLMSG_ERROR, 0, b"\0\0"), "too short for struct nlmsgerr"),
])
def test_malformed_messages_decode_to_an_error_field(name, data, fragment):
    messages = parse_messages(data, x.NETLINK_ROUTE)
    errors = [m.get("decode_error", "") for m in messages]
    assert any(fragment in error for error in errors), (name, messages)
    assert describe_message(messages[-1])  # still describable


def _find_errors(value) -> list[str]:
    if isinstance(value, dict):
        return ([value["decode_error"]] if "decode_error" in value else []) + [
            e for item in value.values() for e in _find_errors(item)]
    if isinstance(value, list):
        return [e for item in value for e in _find_errors(item)]
    return []


def test_malformed_attributes_decode_to_an_error_field():
    # An attribute claiming more bytes than its message holds.
    bad = struct.pack("=HH", 200, x.IFLA_IFNAME) + b"eth0"
    errors = _find_errors(parse_messages(nlmsg(x.RTM_NEWLINK, 1, ifinfo() + bad), x.NETLINK_ROUTE))
    assert any("overflows its parent" in e for e in errors), errors
    # A nested attribute overflowing the attribute that contains it (the parent itself is well formed).
    inner = struct.pack("=HH", 64, x.IFLA_INFO_KIND) + b"veth"
    errors = _find_errors(parse_messages(nlmsg(x.RTM_NEWLINK, 1, ifinfo() + nla(x.IFLA_LINKINFO, inner)),
                                          x.NETLINK_ROUTE))
    assert any("overflows its parent (8 bytes left)" in e for e in errors), errors
    # An attribute whose length is smaller than its own header, and trailing bytes.
    errors = _find_errors(parse_attributes(struct.pack("=HH", 2, 3) + b"xx", "link"))
    assert any("shorter than its 4-byte header" in e for e in errors)
    assert _find_errors(parse_attributes(nla(3, cstr("lo")) + b"\x01\x02", "link")) == [
        "2 trailing bytes, too short for an attribute header"]
    # A number too short for its kind.
    assert _find_errors(parse_attributes(nla(x.IFLA_MTU, b"\x01"), "link")) == ["1 bytes, too short for a u32"]
    # Nesting deeper than MAX_DEPTH stops with an error instead of recursing.
    payload = b""
    for _ in range(20):
        payload = nla(x.IFLA_LINKINFO, payload) if not payload else nla(x.IFLA_INFO_DATA, nla(x.VETH_INFO_PEER,
                                                                                               ifinfo() + payload))
    deep = nla(x.IFLA_LINKINFO, nla(x.IFLA_INFO_KIND, cstr("veth")) + nla(x.IFLA_INFO_DATA, nla(
        x.VETH_INFO_PEER, ifinfo() + payload)))
    parse_messages(nlmsg(x.RTM_NEWLINK, 1, ifinfo() + deep), x.NETLINK_ROUTE)  # must not raise


@pytest.mark.parametrize("seed", range(200))
def test_random_bytes_never_raise(seed):
    import random

    rng = random.Random(seed)
    base = bytearray(rng.choice([VETH, ADDR, ROUTE, EEXIST, MOVE]))
    for _ in range(rng.randint(1, 6)):
        base[rng.randrange(len(base))] = rng.randrange(256)
    data = bytes(base[: rng.randint(0, len(base))])
    for message in parse_messages(data, x.NETLINK_ROUTE):
        describe_message(message)


# --- the tables against the kernel headers ---------------------------------------------------------------------


def header_constants(*names: str) -> dict[str, int]:
    """The #defines (tests.test_xlat's reader) and enum members (explicit or counted) of the given headers."""
    out = header_defines(*[f"linux/{name}" for name in names])
    for name in names:
        path = INCLUDE / name
        if not path.exists():
            continue
        text = re.sub(r"/\*.*?\*/|//[^\n]*", "", path.read_text(errors="replace"), flags=re.S)
        for body in re.findall(r"enum\s*\w*\s*\{(.*?)\}", text, re.S):
            body = re.sub(r"^\s*#.*$", "", body, flags=re.M)  # #define X X lines inside the enum
            counter = 0
            for item in body.split(","):
                item = item.strip()
                if not item or item.startswith("#"):
                    continue
                member, _, value = item.partition("=")
                member, value = member.strip(), value.strip()
                if value:
                    shift = re.fullmatch(r"(\d+)\s*<<\s*(\d+)", value)
                    try:
                        counter = int(shift[1]) << int(shift[2]) if shift else int(value, 0)
                    except ValueError:
                        if value in out:
                            counter = out[value]
                        else:
                            continue
                out.setdefault(member, counter)
                counter += 1
    return out


TABLES = [
    (x.NETLINK_PROTOCOLS, ("netlink.h",)),
    (x.NLM_FLAGS + x.NLM_GET_FLAGS + x.NLM_NEW_FLAGS + x.NLM_DELETE_FLAGS + x.NLM_ACK_FLAGS, ("netlink.h",)),
    (x.NLMSG_CONTROL_TYPES + x.NLMSGERR_ATTRS, ("netlink.h",)),
    (x.RTM_TYPES + x.RTA_ATTRS + x.RT_TABLES + x.RT_SCOPES + x.RTN_TYPES + x.RT_PROTOCOLS, ("rtnetlink.h",)),
    (x.IFLA_ATTRS + x.IFLA_INFO_ATTRS + x.IF_OPER_STATES, ("if_link.h",)),
    (x.VETH_INFO_ATTRS, ("veth.h",)),
    (x.IFA_ATTRS + x.IFA_FLAGS, ("if_addr.h",)),
    (x.IFF_FLAGS, ("if.h",)),
    (x.ARPHRD_TYPES, ("if_arp.h",)),
    (x.SOCK_DIAG_TYPES, ("sock_diag.h", "inet_diag.h")),
    (x.CTRL_CMDS + x.CTRL_ATTRS, ("genetlink.h",)),
]


@pytest.mark.parametrize(("table", "headers"), TABLES, ids=[h[0] for _, h in TABLES])
def test_tables_match_the_kernel_headers(table, headers):
    require((INCLUDE / headers[0]).exists(), f"/usr/include/linux/{headers[0]} (linux-libc-dev) is not installed")
    known = header_constants(*headers)
    compared = [(name, value, known[name]) for name, value in table if name in known]
    assert len(compared) >= len(table) * 0.8, f"most names should be in {headers}: {len(compared)}/{len(table)}"
    assert [c for c in compared if c[1] != c[2]] == []


def test_tables_match_python():
    for name, value in x.NETLINK_PROTOCOLS:
        if hasattr(socket, name):
            assert getattr(socket, name) == value, name


# --- the syscall decoders on this process's own sockets ----------------------------------------------------------


@pytest.fixture
def memory():
    mem = LocalMemory()
    yield mem
    mem.close()


def _ctx(memory, name: str, args: tuple[int, ...]) -> SyscallContext:
    return SyscallContext(name=name, nr=SYSCALL_NRS_BY_NAME[name], pid=os.getpid(), tid=os.getpid(),
                          args=args + (0,) * (6 - len(args)), memory=memory)


class MsgHdr(ctypes.Structure):
    _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint32), ("iov", ctypes.c_void_p),
                ("iovlen", ctypes.c_size_t), ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
                ("flags", ctypes.c_int)]


class IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


def test_sendto_and_sendmsg_on_a_route_socket(memory):
    arena = Arena()
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE) as sock:
        fd = sock.fileno()
        args, category = decode_syscall(_ctx(memory, "sendto", (fd, arena.buffer(VETH), len(VETH))))
        assert category == "namespaces"
        assert args["netlink"] == "NETLINK_ROUTE" and args["netns"] == os.stat("/proc/self/ns/net").st_ino
        assert describe_message(args["messages"][0]) == "RTM_NEWLINK veth-host type veth peer veth-box"
        # Index 1 is the loopback device in every network namespace: the decoder names it.
        up_lo = nlmsg(x.RTM_NEWLINK, 0x5, ifinfo(index=1, flags=x.IFF_UP, change=x.IFF_UP))
        iov = (IoVec * 2)(IoVec(arena.buffer(up_lo[:10]), 10), IoVec(arena.buffer(up_lo[10:]), len(up_lo) - 10))
        header = MsgHdr(None, 0, ctypes.addressof(iov), 2, None, 0, 0)
        arena.keep(iov)
        args, category = decode_syscall(_ctx(memory, "sendmsg", (fd, arena.struct(header), 0)))
        assert category == "namespaces"
        assert args["messages"][0]["ifinfo"]["name"] == "lo"
        assert describe_message(args["messages"][0]) == "RTM_NEWLINK lo index 1 up"
        line = format_call("sendmsg", args, len(up_lo), None)
        assert "NETLINK_ROUTE" in line and "[RTM_NEWLINK lo index 1 up]" in line


def test_other_sockets_stay_out_of_the_trace(memory):
    arena = Arena()
    left, right = socket.socketpair()
    with left, right:
        args, category = decode_syscall(_ctx(memory, "sendto", (left.fileno(), arena.buffer(b"hello"), 5)))
        assert category == "other" and "messages" not in args
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, x.NETLINK_SOCK_DIAG) as diag:
        data = nlmsg(20, 0x301, bytes([socket.AF_UNIX]) + b"\0" * 23)
        args, category = decode_syscall(_ctx(memory, "sendto", (diag.fileno(), arena.buffer(data), len(data))))
        assert category == "other"  # decoded and named, recorded only with --filter all
        assert args["netlink"] == "NETLINK_SOCK_DIAG" and args["messages"][0]["type"] == "SOCK_DIAG_BY_FAMILY"


def test_recv_exit_decodes_the_kernel_reply(memory):
    from tracer.decoders import decode_syscall_exit

    arena = Arena()
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE) as sock:
        sock.sendto(nlmsg(x.RTM_NEWLINK, 0x5, ifinfo(index=999999, flags=x.IFF_UP, change=x.IFF_UP)), (0, 0))
        reply = sock.recv(4096)
        buffer = arena.buffer(reply + b"\0" * 64)
        ctx = _ctx(memory, "recvfrom", (sock.fileno(), buffer, len(reply) + 64))
        args, category = decode_syscall(ctx)
        assert category == "namespaces"
        decode_syscall_exit(ctx, args, len(reply))
        assert describe_message(args["messages"][0]) == "error ENODEV for RTM_NEWLINK"


def test_socket_decoder_and_dispatch():
    for name in ("socket", "sendto", "sendmsg", "recvfrom", "recvmsg"):
        assert SYSCALLS[SYSCALL_NRS_BY_NAME[name]].decode is not None
        assert SYSCALL_NRS_BY_NAME[name] in NETLINK_SYSCALL_NRS
    ctx = _ctx(LocalMemory(), "socket", (socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, 0))
    args, category = decode_syscall(ctx)
    assert (args, category) == ({"domain": "AF_NETLINK", "type": ["SOCK_RAW", "SOCK_CLOEXEC"],
                                 "protocol": "NETLINK_ROUTE"}, "ipc")
    args, category = decode_syscall(_ctx(LocalMemory(), "socket", (socket.AF_INET, socket.SOCK_STREAM, 0)))
    assert category == "other"


def test_seccomp_program_stops_only_at_netlink_sockets():
    from tests.test_bpf import NR, SeccompData, parse_program, run_filter

    program = parse_program(build_program({NR["mount"]}, write_nr=NR["write"], socket_nr=NR["socket"]))
    for domain, expected in ((socket.AF_NETLINK, SECCOMP_RET_TRACE), (socket.AF_INET, SECCOMP_RET_ALLOW),
                             (socket.AF_UNIX, SECCOMP_RET_ALLOW), (socket.AF_INET6, SECCOMP_RET_ALLOW)):
        assert run_filter(program, SeccompData(NR["socket"], args=(domain, 3, 0))).value == expected, domain
    for name in ("sendto", "sendmsg", "recvfrom", "recvmsg"):
        assert run_filter(program, SeccompData(NR[name], args=(3,))).value == SECCOMP_RET_ALLOW
    assert run_filter(program, SeccompData(NR["mount"])).value == SECCOMP_RET_TRACE
    assert run_filter(program, SeccompData(NR["write"], args=(5,))).value == SECCOMP_RET_TRACE


# --- live: the engine follows a process that holds a NETLINK_ROUTE socket -------------------------------------------

VETH_PROGRAM = r"""
import ctypes, socket, struct
libc = ctypes.CDLL(None, use_errno=True)
assert libc.unshare(0x40000000) == 0  # a network namespace of its own: nothing reaches the machine's
def nla(kind, payload):
    length = 4 + len(payload)
    return struct.pack("=HH", length, kind) + payload + b"\0" * (-length % 4)
info = struct.pack("=BxHiII", 0, 0, 0, 0, 0)
body = info + nla(3, b"nl-a\0") + nla(18, nla(1, b"veth\0") + nla(2, nla(1, info + nla(3, b"nl-b\0"))))
left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
left.send(b"x")  # an ordinary socket: never recorded
with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE) as sock:
    sock.sendto(struct.pack("=IHHII", 16 + len(body), 16, 0x605, 1, 0) + body, (0, 0))
    assert struct.unpack_from("=i", sock.recv(4096), 16)[0] == 0
    up = struct.pack("=BxHiII", 0, 0, 1, 1, 1)
    sock.sendto(struct.pack("=IHHII", 16 + len(up), 16, 0x5, 2, 0) + up, (0, 0))
    sock.recv(4096)
left.send(b"y")  # after the close: the process is no longer followed
"""


@pytest.mark.parametrize("seccomp", [True, False], ids=["seccomp", "full-stops"])
def test_live_trace_decodes_rtnetlink(seccomp):
    require(os.geteuid() == 0, "creating a network namespace needs root")
    from tracer.engine import TraceOptions
    from tracer.session import trace_to_list

    result, events = trace_to_list([sys.executable, "-c", VETH_PROGRAM], options=TraceOptions(seccomp=seccomp))
    assert result.exit_code == 0
    calls = [e for e in events if isinstance(e, Syscall) and e.name in ("socket", "sendto", "recvfrom")]
    described = [(c.name, [describe_message(m) for m in c.args.get("messages") or []]) for c in calls]
    assert described == [
        ("socket", []),
        ("sendto", ["RTM_NEWLINK nl-a type veth peer nl-b"]),
        ("recvfrom", ["ack of RTM_NEWLINK"]),
        ("sendto", ["RTM_NEWLINK lo index 1 up"]),
        ("recvfrom", ["ack of RTM_NEWLINK"]),
    ]
    sends = [c for c in calls if c.name == "sendto"]
    assert all(c.category == "namespaces" for c in sends)
    # The socket lives in the namespace the program unshared, not the machine's.
    assert sends[0].args["netns"] != os.stat("/proc/self/ns/net").st_ino
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout
    assert "nl-a" not in links and "nl-b" not in links


def test_runc_brings_up_lo_with_rtnetlink(scenario_recording):
    """runc's init (libcontainer's loopback strategy, vishvananda/netlink) asks for `lo` by name and sets IFF_UP on
    it, in the container's new network namespace; each request gets its own socket."""
    from tracer.recording import load_recording

    events = list(load_recording(scenario_recording("runc")).events)
    netns = {e.new for e in events if isinstance(e, NamespaceChange) and e.kind == "net" and e.new}
    calls = [e for e in events if isinstance(e, Syscall) and e.args.get("netlink") == "NETLINK_ROUTE"
             and e.name in ("sendto", "recvfrom")]
    described = [describe_message(m) for c in calls for m in c.args.get("messages") or []]
    assert described[:2] == ["RTM_GETLINK lo", "RTM_NEWLINK lo index 1"]
    assert "RTM_NEWLINK lo index 1 up" in described and "ack of RTM_NEWLINK" in described
    assert {c.args["netns"] for c in calls} <= netns and len({c.args["netns"] for c in calls}) == 1
    assert all(c.category == "namespaces" for c in calls)


def test_rename_and_move_descriptions():
    """A rename names the device twice (what the tracer found at the index, and the new name); a move says which
    namespace the pid or fd stands for when the tracer could resolve it."""
    rename = {"type": "RTM_NEWLINK", "ifinfo": {"index": 2, "name": "veth-box", "flags": [], "change": []},
              "attrs": [{"type": "IFLA_IFNAME", "value": "eth0"}]}
    assert describe_message(rename) == "RTM_NEWLINK veth-box index 2 new name eth0"
    move = {"type": "RTM_NEWLINK", "ifinfo": {"index": 2, "name": "veth-box", "flags": [], "change": []},
            "attrs": [{"type": "IFLA_NET_NS_PID", "value": 77, "netns": 4026532239}]}
    assert describe_message(move) == "RTM_NEWLINK veth-box index 2 netns of pid 77 (net:[4026532239])"
    by_fd = {"type": "RTM_SETLINK", "ifinfo": {"index": 2, "flags": [], "change": []},
             "attrs": [{"type": "IFLA_NET_NS_FD", "value": 5, "path": "net:[4026532240]"}]}
    assert describe_message(by_fd) == "RTM_SETLINK index 2 netns fd 5 (net:[4026532240])"
