"""teach-net: how a container gets a network interface, one netlink message at a time.

A container's network stack is a network namespace: its own interfaces, addresses, routes and firewall. A fresh
one holds only a loopback device that is down. A runtime (or a CNI plugin, or Docker's libnetwork) wires it to the
outside with a veth pair: two virtual devices joined like the ends of a cable, one end left outside, the other
moved into the container. Nothing of this is a system call of its own: each step is a message to the kernel on a
NETLINK_ROUTE socket (what `ip link` and `ip addr` send), and the kernel answers each with an acknowledgement.

    python -m scenarios.teach_net_runtime [--ping PROGRAM]

This program never touches the machine's own network: it first moves itself into a new, empty network namespace
(the "host side" of this lesson), so the veth pair, the addresses and the ping live between two namespaces it made,
and both vanish when their last process exits. It needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN) and only the standard
library, so it can be read and run as a plain file. The "container" here is a network namespace and a pid namespace
(its program is pid 1, as in any container); files and hostname stay shared with the host, to keep the lesson about
the network.
"""

from __future__ import annotations

import argparse
import ctypes
import errno
import os
import platform
import shutil
import socket
import struct
import sys

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long

CLONE_NEWNET, CLONE_NEWPID = 0x40000000, 0x20000000  # <linux/sched.h>
SIGCHLD = 17
SYS_clone = {"x86_64": 56, "aarch64": 220}[platform.machine()]

# <linux/netlink.h> and <linux/rtnetlink.h>: the message header's flags and the message types used here.
NLM_F_REQUEST, NLM_F_ACK, NLM_F_EXCL, NLM_F_CREATE = 0x1, 0x4, 0x200, 0x400
NLMSG_ERROR = 2
RTM_NEWLINK, RTM_GETLINK, RTM_NEWADDR, RTM_NEWROUTE = 16, 18, 20, 24
# <linux/if_link.h>, <linux/veth.h>, <linux/if_addr.h>, <linux/rtnetlink.h>: attribute types.
IFLA_IFNAME, IFLA_LINKINFO, IFLA_NET_NS_PID = 3, 18, 19
IFLA_INFO_KIND, IFLA_INFO_DATA, VETH_INFO_PEER = 1, 2, 1
IFA_ADDRESS, IFA_LOCAL = 1, 2
RTA_DST, RTA_OIF, RTA_GATEWAY = 1, 4, 5
IFF_UP = 0x1  # <linux/if.h>
RT_TABLE_MAIN, RTPROT_BOOT, RT_SCOPE_UNIVERSE, RT_SCOPE_LINK, RTN_UNICAST = 254, 3, 0, 253, 1

# The lesson's names and link-local addresses (169.254.0.0/16 is never routed beyond a link: RFC 3927).
HOST_END, BOX_END, BOX_NAME = "veth-host", "veth-box", "eth0"
HOST_ADDRESS, BOX_ADDRESS, PREFIX = "169.254.77.1", "169.254.77.2", 30

# What a learner should know when a step fails, by (step, errno).
LESSONS = {
    ("unshare", errno.EPERM): "a new network namespace needs CAP_SYS_ADMIN: run as root",
    ("clone", errno.EPERM): "a new network namespace needs CAP_SYS_ADMIN: run as root",
    ("create veth pair", errno.EOPNOTSUPP): "this kernel has no veth driver (CONFIG_VETH): try `modprobe veth`",
    ("create veth pair", errno.EPERM): "creating devices needs CAP_NET_ADMIN in the namespace's user namespace",
    ("move", errno.EINVAL): "the device cannot change namespace (loopback and some drivers refuse)",
    ("add route", errno.ENETDOWN): "the kernel refuses a route through a device that is down: bring it up first",
    ("add route", errno.ENETUNREACH): "the gateway is not on a network the device has an address in (or the "
    "device is still down: its network is reachable only once it is up)",
    ("ping", errno.ENOENT): "no ping program: install busybox-static",
}


class StepFailed(Exception):
    def __init__(self, step: str, err: int) -> None:
        name = errno.errorcode.get(err, str(err))
        lesson = LESSONS.get((step, err), "")
        super().__init__(f"{step} failed: {name} ({os.strerror(err)}). {lesson}".strip())


def must(result: int, step: str) -> int:
    """Return `result`, or stop with the lesson for this step when the kernel said no (-1 and errno)."""
    if result < 0:
        raise StepFailed(step, ctypes.get_errno())
    return result


# --- building netlink messages --------------------------------------------------------------------------------


def attr(kind: int, payload: bytes) -> bytes:
    """One attribute: struct nlattr {u16 len; u16 type} + payload, padded to 4 bytes."""
    length = 4 + len(payload)
    return struct.pack("=HH", length, kind) + payload + b"\0" * (-length % 4)


def name_attr(name: str) -> bytes:
    return attr(IFLA_IFNAME, name.encode() + b"\0")


def ifinfomsg(index: int = 0, flags: int = 0, change: int = 0) -> bytes:
    """struct ifinfomsg: family, type, index, flags, and which flags to change (the rest are left alone)."""
    return struct.pack("=BxHiII", socket.AF_UNSPEC, 0, index, flags, change)


class Netlink:
    """A NETLINK_ROUTE socket: it talks to the kernel of the network namespace it was created in."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
        self.seq = 0

    def request(self, step: str, kind: int, flags: int, body: bytes) -> bytes:
        """Send one request and read the kernel's answer; an NLMSG_ERROR with a non-zero error fails the step."""
        self.seq += 1
        header = struct.pack("=IHHII", 16 + len(body), kind, NLM_F_REQUEST | flags, self.seq, 0)
        self.sock.sendto(header + body, (0, 0))  # nl_pid 0: the kernel
        reply = self.sock.recv(65536)
        _length, reply_kind = struct.unpack_from("=IH", reply)
        if reply_kind == NLMSG_ERROR:
            (error,) = struct.unpack_from("=i", reply, 16)
            if error:
                raise StepFailed(step, -error)
        return reply

    def index_of(self, name: str) -> int:
        """RTM_GETLINK by name: the kernel answers with the device's RTM_NEWLINK, whose ifinfomsg has its index."""
        reply = self.request(f"find {name}", RTM_GETLINK, 0, ifinfomsg() + name_attr(name))
        return struct.unpack_from("=i", reply, 16 + 4)[0]

    def close(self) -> None:
        self.sock.close()


def address_body(index: int, address: str) -> bytes:
    """struct ifaddrmsg (family, prefix length, flags, scope, index) + the address (IFA_LOCAL: ours)."""
    raw = socket.inet_aton(address)
    return struct.pack("=BBBBI", socket.AF_INET, PREFIX, 0, RT_SCOPE_UNIVERSE, index) + attr(IFA_LOCAL, raw) + attr(
        IFA_ADDRESS, raw)


def route_body(index: int, destination: str | None, length: int, gateway: str | None) -> bytes:
    """struct rtmsg + where to (RTA_DST, none for the default route), through which device and next hop."""
    scope = RT_SCOPE_LINK if gateway is None else RT_SCOPE_UNIVERSE
    body = struct.pack("=BBBBBBBBI", socket.AF_INET, length, 0, 0, RT_TABLE_MAIN, RTPROT_BOOT, scope, RTN_UNICAST, 0)
    if destination is not None:
        body += attr(RTA_DST, socket.inet_aton(destination))
    if gateway is not None:
        body += attr(RTA_GATEWAY, socket.inet_aton(gateway))
    return body + attr(RTA_OIF, struct.pack("=I", index))


def netlink_in(pid: int) -> Netlink:
    """A netlink socket in the network namespace of `pid`: enter it with setns, open the socket, come back.
    The socket stays in the namespace it was born in, whatever namespace its owner is in later: this is how a CNI
    plugin or Docker's libnetwork configures a container's network from outside."""
    own = os.open("/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    theirs = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        must(libc.setns(theirs, CLONE_NEWNET), "setns into the container")
        try:
            return Netlink()
        finally:
            must(libc.setns(own, CLONE_NEWNET), "setns back")
    finally:
        os.close(own)
        os.close(theirs)


def container(go: int, ping: list[str]) -> None:
    """The container's process: waits until its network is wired, then pings the other end once."""
    os.read(go, 1)
    try:
        os.execv(ping[0], ping)
    except OSError as e:
        raise StepFailed("ping", e.errno or 0) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="teach-net", description="A container's network, built with netlink.")
    parser.add_argument("--ping", default=shutil.which("busybox") or "/bin/busybox", help="busybox to ping with")
    args = parser.parse_args(argv)
    ping = [args.ping, "ping", "-c", "1", "-W", "3", HOST_ADDRESS]
    try:
        # 1. Leave the machine's network: unshare(CLONE_NEWNET) puts this process in a new, empty network
        #    namespace, the "host side" of the lesson. Everything below happens between namespaces we made.
        must(libc.unshare(CLONE_NEWNET), "unshare")
        go_read, go_write = os.pipe()
        sys.stdout.flush()
        # 2. The container: a child born in a network namespace of its own (clone with CLONE_NEWNET), and a pid
        #    namespace in which it is pid 1. It sees only a loopback device, down, until we give it an interface.
        flags = CLONE_NEWNET | CLONE_NEWPID | SIGCHLD
        pid = libc.syscall(ctypes.c_long(SYS_clone), ctypes.c_long(flags), *[ctypes.c_long(0)] * 4)
        if pid == 0:
            try:
                os.close(go_write)
                container(go_read, ping)
            except StepFailed as e:
                print(f"teach-net: {e}", file=sys.stderr, flush=True)
            finally:
                os._exit(125)
        must(pid, "clone")
        os.close(go_read)
        try:
            wire(pid)
        except BaseException:
            os.kill(pid, 9)  # the container never pings a half-wired network
            os.waitpid(pid, 0)
            raise
        os.close(go_write)  # the container's read returns: it pings
        # 11. Wait for the ping. When this process and the container exit, both namespaces lose their last
        #     process and the kernel destroys them, and the veth pair with them (one end gone takes the other).
        _, status = os.waitpid(pid, 0)
        result = os.waitstatus_to_exitcode(status)
        return result if result >= 0 else 128 - result
    except StepFailed as e:
        print(f"teach-net: {e}", file=sys.stderr)
        return 125


def wire(pid: int) -> None:
    """Steps 3-10: the netlink conversation that gives the container its network."""
    # 3. A NETLINK_ROUTE socket in the host side's namespace.
    host = Netlink()
    # 4. RTM_NEWLINK with IFLA_LINKINFO kind "veth" creates two devices at once; VETH_INFO_PEER nests the peer's own
    #    link message (its name). Both ends are born here, in the host side's namespace, down.
    veth = attr(IFLA_LINKINFO, attr(IFLA_INFO_KIND, b"veth\0") + attr(
        IFLA_INFO_DATA, attr(VETH_INFO_PEER, ifinfomsg() + name_attr(BOX_END))))
    host.request("create veth pair", RTM_NEWLINK, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
                 ifinfomsg() + name_attr(HOST_END) + veth)
    host_index, box_index = host.index_of(HOST_END), host.index_of(BOX_END)
    # 5. Move one end: IFLA_NET_NS_PID names the namespace by a process living in it. The device leaves this
    #    namespace (it no longer shows here) and keeps its index in the new one when that number is free there.
    host.request("move", RTM_NEWLINK, NLM_F_ACK, ifinfomsg(box_index) + attr(IFLA_NET_NS_PID, struct.pack("=I", pid)))
    # 6. From now on the moved end is configured in the container's namespace, through a socket born there.
    box = netlink_in(pid)
    # 7. Rename it eth0 (possible while it is down): the name a container expects, unique only inside its namespace.
    box.request("rename", RTM_NEWLINK, NLM_F_ACK, ifinfomsg(box_index) + name_attr(BOX_NAME))
    # 8. An IPv4 address on each end, both in one /30: the two ends are the only hosts of that network.
    host.request("address host end", RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
                 address_body(host_index, HOST_ADDRESS))
    box.request("address eth0", RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, address_body(box_index, BOX_ADDRESS))
    # 9. Bring both ends up (IFF_UP in flags, and in change so that only that flag changes). A veth has carrier
    #    only when both ends are up.
    host.request("link up host end", RTM_NEWLINK, NLM_F_ACK, ifinfomsg(host_index, IFF_UP, IFF_UP))
    box.request("link up eth0", RTM_NEWLINK, NLM_F_ACK, ifinfomsg(box_index, IFF_UP, IFF_UP))
    # 10. Routes, now that the devices are up (the kernel refuses a route through a down device: ENETDOWN, or
    #     ENETUNREACH for one via a gateway, whose network is not reachable yet): the
    #     container sends everything to the host end (a default route via it), the host side reaches the
    #     container's address through its end of the cable.
    box.request("add route", RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
                route_body(box_index, None, 0, HOST_ADDRESS))
    host.request("add route", RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
                 route_body(host_index, BOX_ADDRESS, 32, None))
    box.close()
    host.close()


if __name__ == "__main__":
    sys.exit(main())
