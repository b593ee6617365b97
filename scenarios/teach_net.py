"""Scenario `teach-net`: a container gets a network interface, one netlink message at a time.

Goal: see what "the container's network" is made of. The lesson runtime (scenarios/teach_net_runtime.py) leaves the
machine's network for a namespace of its own (the host side of the lesson), starts a "container" in a second network
namespace, creates a veth pair with RTM_NEWLINK, moves one end into the container (RTM_NEWLINK with IFLA_NET_NS_PID),
renames it eth0, gives both ends a link-local address (RTM_NEWADDR, 169.254.77.0/30), brings them up, adds a route on
each side (RTM_NEWROUTE) and lets the container ping the other end once. No packet reaches the machine's own network:
both namespaces are the runtime's, and they vanish with their processes.
Prerequisites: root (CAP_NET_ADMIN and CAP_SYS_ADMIN), a kernel with veth (CONFIG_VETH), busybox (its ping).

Why the other scenarios keep `--network none`: Docker's default bridge needs iptables, which this project's dockerd
runs without (--iptables=false --bridge=none), and a user's machine must not get new bridges or firewall rules from a
lesson; runc's own bundle asks only for a new, empty network namespace, in which runc brings up `lo` (decoded too).
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from scenarios import milestones as m
from scenarios.base import Launch, Milestone, Readiness, Scenario, TraceView
from scenarios.common import everything_exited_milestone, first_problem, install_hint, need_root
from tracer.events import Exec, Exit
from tracer.insights.network import network_state

RUNTIME = Path(__file__).with_name("teach_net_runtime.py")


def network_step(action: str, *, moved: bool = False) -> Callable[[TraceView], list[int]]:
    """The requests of one kind (create, move, address, up, route) that the kernel accepted, and their acks."""

    def find(view: TraceView) -> list[int]:
        seqs: list[int] = []
        for step in network_state(view.events).steps:
            if step.action == action and step.ok:
                seqs.append(step.seq)
                if step.answer_seq is not None:
                    seqs.append(step.answer_seq)
        return seqs

    return find


def ping_answered(view: TraceView) -> list[int]:
    """The exec of `ping` and the exit with status 0 that says an echo reply came back."""
    seqs: list[int] = []
    pings = {e.pid: e.seq for e in view.events if isinstance(e, Exec) and "ping" in e.argv[:2]}
    for event in view.events:
        if isinstance(event, Exit) and event.pid in pings and event.code == 0:
            seqs += [pings[event.pid], event.seq]
    return seqs


HOST_SIDE = Milestone(
    id="host-side",
    title="Leave the machine's network",
    narration=(
        "unshare(CLONE_NEWNET) moves the runtime into a new network namespace: only a loopback device, down, no "
        "address, no route. This is the lesson's host side; everything that follows happens between namespaces the "
        "runtime made, and the machine's own interfaces are never touched."
    ),
    find=m.syscall("unshare", where=m.has_flags("CLONE_NEWNET")),
)

CONTAINER = Milestone(
    id="container",
    title="The container is born in a network namespace of its own",
    narration=(
        "clone(CLONE_NEWNET|CLONE_NEWPID) starts the container's process in a second new network namespace (and "
        "as pid 1 of a new pid namespace). It waits there, with nothing but a loopback device, until the runtime "
        "has wired it."
    ),
    find=m.syscall("clone", where=m.has_flags("CLONE_NEWNET")),
)

VETH = Milestone(
    id="veth",
    title="A veth pair is born in one namespace",
    narration=(
        "One RTM_NEWLINK message on a NETLINK_ROUTE socket: IFLA_IFNAME names the device, IFLA_LINKINFO says its kind "
        "is veth, and VETH_INFO_PEER nests the peer's own link message. The kernel creates both devices at once, "
        "in the namespace of the socket (the host side), both down, and acknowledges with an NLMSG_ERROR whose "
        "error is 0."
    ),
    find=network_step("create"),
    claim="Docker creates the network.",
    reality=(
        "A runtime or a network plugin sends these messages; the kernel creates the devices. Docker's libnetwork, a "
        "CNI plugin and this lesson's Python file send the same RTM_NEWLINK."
    ),
)

MOVE = Milestone(
    id="move",
    title="One end moves into the container",
    narration=(
        "RTM_NEWLINK with the device's index and IFLA_NET_NS_PID (the container's pid) moves that end into the "
        "container's network namespace: it disappears from the host side and appears there, keeping its index "
        "because that number is free in the new namespace. The runtime then opens a second netlink socket inside "
        "the container's namespace (setns, socket, setns back: a socket belongs to the namespace it was born in) "
        "and renames the device eth0."
    ),
    find=m.any_of(network_step("move"), network_step("rename")),
    claim="A container has its own network stack.",
    reality=(
        "It has its own network namespace: its own devices, addresses and routes in the one kernel. The veth pair is "
        "one cable with an end in each namespace."
    ),
)

ADDRESS = Milestone(
    id="address",
    title="An address on each end",
    narration=(
        "RTM_NEWADDR gives each end an IPv4 address of the same /30 (169.254.77.1 on the host side, .2 in the "
        "container): link-local addresses (RFC 3927), never routed beyond this cable."
    ),
    find=network_step("address"),
)

LINK_UP = Milestone(
    id="link-up",
    title="The links come up",
    narration=(
        "RTM_NEWLINK with IFF_UP in both ifi_flags and ifi_change sets only that flag. A veth has carrier once both "
        "ends are up."
    ),
    find=network_step("up"),
)

ROUTE = Milestone(
    id="route",
    title="A route on each side",
    narration=(
        "RTM_NEWROUTE: in the container a default route via the host end, on the host side a route to the "
        "container's address through its end of the cable. Routes come after the links are up: the kernel refuses "
        "a route straight onto a device that is down (ENETDOWN), and one via a gateway as unreachable "
        "(ENETUNREACH), because a down device's address gives no reachable network yet."
    ),
    find=network_step("route"),
)

PACKET = Milestone(
    id="first-packet",
    title="The first packet crosses",
    narration=(
        "The container execs busybox ping: one ICMP echo request leaves eth0, crosses the veth pair, and the host "
        "side's kernel answers it. ping exits 0 when the reply came back."
    ),
    find=ping_answered,
)


class TeachNetScenario(Scenario):
    name = "teach-net"
    summary = "a veth pair, an address, a route and a ping between two network namespaces, built with netlink"
    teaches = (
        "What a container's network is made of: a network namespace, a veth pair created and moved with rtnetlink "
        "messages, addresses and routes, and the first packet across."
    )
    milestones = (HOST_SIDE, CONTAINER, VETH, MOVE, ADDRESS, LINK_UP, ROUTE, PACKET, everything_exited_milestone())

    def check(self) -> Readiness:
        busybox = None if self.busybox() else Readiness(False, "busybox is not installed", install_hint("busybox"))
        return first_problem(need_root("network namespaces and veth devices need CAP_SYS_ADMIN and CAP_NET_ADMIN"),
                             busybox)

    @staticmethod
    def busybox() -> str | None:
        return shutil.which("busybox") or next((p for p in ("/bin/busybox", "/usr/bin/busybox")
                                                if Path(p).exists()), None)

    def command(self) -> list[str]:
        # -P: do not put scenarios/ first on sys.path; the runtime needs only the standard library.
        return [sys.executable, "-P", str(RUNTIME), "--ping", self.busybox() or "busybox"]

    def launch(self) -> Launch:
        return Launch(command=self.command(), cwd="/")

    def cleanup(self) -> None:
        """Nothing to remove: both namespaces belong to the runtime's processes, are not bind-mounted under
        /run/netns, and the kernel frees them (and the veth pair with them) when those processes exit."""


SCENARIO = TeachNetScenario()
