"""teach-net traced live, and its shipped recording: the veth pair, the move, the addresses, the links up, the routes
and the ping, decoded with interface names and namespaces; nothing left on the machine afterwards."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scenarios import get_scenario
from scenarios.teach_net_runtime import BOX_ADDRESS, BOX_END, BOX_NAME, HOST_ADDRESS, HOST_END, PREFIX
from tests.prereqs import require
from tracer.events import Event, Exec, Exit, NamespaceChange, Syscall
from tracer.insights.network import NetworkState, network_state
from tracer.recording import load_recording

RECORDING = Path(__file__).parent.parent / "scenarios" / "recordings" / "teach-net.jsonl"


def machine_network() -> tuple[str, list[str]]:
    """`ip netns list` and the machine's interface names (without their changing counters)."""
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout
    return netns, sorted(line.split(":")[1].strip() for line in links.splitlines())


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Event], tuple, tuple]:
    require(os.geteuid() == 0, "network namespaces and veth devices need root")
    from scenarios.runner import trace_scenario

    scenario = get_scenario("teach-net")
    readiness = scenario.check()
    require(readiness.ready, f"teach-net is not ready here: {readiness.reason}")
    before = machine_network()
    run = trace_scenario(scenario, output=tmp_path_factory.mktemp("teach-net") / "teach-net.jsonl")
    scenario.cleanup()
    after = machine_network()
    assert run.result.status == "completed" and run.result.exit_code == 0
    return list(run.events), before, after


def _namespaces(events: list[Event]) -> tuple[int, int]:
    """(host side, container): the network namespaces made by unshare and by clone."""
    host = next(e.new for e in events if isinstance(e, NamespaceChange) and e.kind == "net" and e.via == "unshare")
    container = next(e.new for e in events if isinstance(e, NamespaceChange) and e.kind == "net"
                     and e.via in ("clone", "fork"))
    return host, container


def check_network(events: list[Event]) -> NetworkState:
    host, container = _namespaces(events)
    assert host != container
    state = network_state(events)
    steps = [(s.action, s.interface, s.netns, s.answer) for s in state.steps]
    assert steps == [
        ("create", HOST_END, host, 0),
        ("move", BOX_END, host, 0),
        ("rename", BOX_NAME, container, 0),
        ("address", HOST_END, host, 0),
        ("address", BOX_NAME, container, 0),
        ("up", HOST_END, host, 0),
        ("up", BOX_NAME, container, 0),
        ("route", BOX_NAME, container, 0),
        ("route", HOST_END, host, 0),
    ]
    move = next(s for s in state.steps if s.action == "move")
    assert move.detail == f"move {BOX_END} to network namespace {container}"
    host_side = {i.name: i for i in state.namespaces[host]}
    inside = {i.name: i for i in state.namespaces[container]}
    assert set(host_side) == {HOST_END} and set(inside) == {BOX_NAME}
    assert host_side[HOST_END].addresses == [f"{HOST_ADDRESS}/{PREFIX}"] and host_side[HOST_END].up
    assert inside[BOX_NAME].addresses == [f"{BOX_ADDRESS}/{PREFIX}"] and inside[BOX_NAME].up
    assert inside[BOX_NAME].routes == [f"default via {HOST_ADDRESS} dev {BOX_NAME}"]
    assert host_side[HOST_END].routes == [f"{BOX_ADDRESS}/32 dev {HOST_END}"]
    assert state.cables == [((host, HOST_END), (container, BOX_NAME))]
    assert inside[BOX_NAME].kind == host_side[HOST_END].kind == "veth"
    return state


def check_kernel_facts(events: list[Event]) -> None:
    """What the narration states: the moved end keeps its index in the container; routes come after link-up;
    the ping is exec'd only after the network is wired, and it is answered."""
    sends = [e for e in events if isinstance(e, Syscall) and e.name == "sendto" and e.args.get("messages")]
    by_step = {}
    for event in sends:
        message = event.args["messages"][0]
        attrs = {a.get("type"): a for a in message.get("attrs") or []}
        if "IFLA_NET_NS_PID" in attrs:
            by_step["move"] = message
        elif message.get("type") == "RTM_NEWLINK" and (attrs.get("IFLA_IFNAME") or {}).get("value") == BOX_NAME:
            by_step["rename"] = message
    # The rename is sent in the container's namespace, to the same index, which the tracer still found named
    # veth-box there: the device kept its index when it changed namespace.
    assert by_step["move"]["ifinfo"]["index"] == by_step["rename"]["ifinfo"]["index"]
    assert by_step["rename"]["ifinfo"]["name"] == BOX_END
    # Both ends are born down: the kernel's answers to RTM_GETLINK (before any IFF_UP request) say so.
    replies = [m for e in events if isinstance(e, Syscall) and e.name == "recvfrom"
               for m in e.args.get("messages") or [] if m.get("type") == "RTM_NEWLINK"]
    assert len(replies) == 2 and all("IFF_UP" not in m["ifinfo"]["flags"] for m in replies)
    assert {m["ifinfo"].get("type") for m in replies} == {"ARPHRD_ETHER"}
    state = network_state(events)
    ups = [s.seq for s in state.steps if s.action == "up"]
    routes = [s.seq for s in state.steps if s.action == "route"]
    assert max(ups) < min(routes)
    ping = next(e for e in events if isinstance(e, Exec) and "ping" in e.argv[:2])
    assert ping.argv[-1] == HOST_ADDRESS and max(routes) < ping.seq
    exit_ = next(e for e in events if isinstance(e, Exit) and e.pid == ping.pid)
    assert exit_.code == 0
    # The pinging process lives in the container's network namespace.
    assert ping.ns.get("net") == _namespaces(events)[1]


def test_live_trace(live) -> None:
    events, before, after = live
    check_network(events)
    check_kernel_facts(events)
    results = get_scenario("teach-net").evaluate(events)
    assert [r.milestone.id for r in results if not r.found] == []
    # Nothing remains: no named network namespace, no new interface on the machine.
    assert after == before
    assert not any(name.startswith(("veth-host", "veth-box")) for name in after[1])


def test_shipped_recording_matches_the_narration() -> None:
    recording = load_recording(RECORDING)
    assert recording.header.scenario == "teach-net"
    events = list(recording.events)
    check_network(events)
    check_kernel_facts(events)
    results = get_scenario("teach-net").evaluate(events)
    assert [r.milestone.id for r in results if not r.found] == []
    # The chapters come in the order the narration tells them.
    firsts = [r.seqs[0] for r in results]
    assert firsts == sorted(firsts)


def test_insight_sentences() -> None:
    facts = network_state(load_recording(RECORDING).events).facts()
    text = "\n".join(facts)
    assert f"{BOX_NAME} (veth, index" in text and "renamed veth-box -> eth0" in text
    assert "kept its index 2 in this namespace" in text
    assert "one cable with an end in network namespace" in text
    assert "(the machine's own)" not in text  # nothing was done in the machine's namespace


ROUTE_BEFORE_UP = r"""
import ctypes, errno, sys
from scenarios import teach_net_runtime as t
assert ctypes.CDLL(None, use_errno=True).unshare(t.CLONE_NEWNET) == 0  # a throwaway namespace
link = t.Netlink()
veth = t.attr(t.IFLA_LINKINFO, t.attr(t.IFLA_INFO_KIND, b"veth\0") + t.attr(
    t.IFLA_INFO_DATA, t.attr(t.VETH_INFO_PEER, t.ifinfomsg() + t.name_attr("b"))))
link.request("create veth pair", t.RTM_NEWLINK, t.NLM_F_ACK | t.NLM_F_CREATE, t.ifinfomsg() + t.name_attr("a") + veth)
index = link.index_of("a")
link.request("address", t.RTM_NEWADDR, t.NLM_F_ACK | t.NLM_F_CREATE, t.address_body(index, t.HOST_ADDRESS))
for body in (t.route_body(index, t.BOX_ADDRESS, 32, None), t.route_body(index, None, 0, t.BOX_ADDRESS)):
    try:
        link.request("add route", t.RTM_NEWROUTE, t.NLM_F_ACK | t.NLM_F_CREATE, body)
    except t.StepFailed as e:
        print(e)
"""


def test_a_route_through_a_device_that_is_down_is_refused() -> None:
    """What the route chapter says: with the device down, the kernel refuses a route straight onto it (ENETDOWN)
    and one via a gateway (ENETUNREACH); the runtime turns each into its lesson."""
    require(os.geteuid() == 0, "network namespaces need root")
    done = subprocess.run([sys.executable, "-c", ROUTE_BEFORE_UP], cwd=Path(__file__).parent.parent,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "add route failed: ENETDOWN (Network is down). the kernel refuses a route through a device that is down: "
        "bring it up first",
        "add route failed: ENETUNREACH (Network is unreachable). the gateway is not on a network the device has an "
        "address in (or the device is still down: its network is reachable only once it is up)",
    ]
