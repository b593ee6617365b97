"""The network a trace built: every interface created, moved, renamed, addressed and brought up, per namespace.

A pure fold over the decoded rtnetlink messages (Syscall events of sendto/sendmsg on NETLINK_ROUTE sockets, and
the kernel's answers read with recvfrom/recvmsg). Each request is matched with its acknowledgement by the socket
and the message's sequence number, so a refused request (EEXIST, ENETDOWN) is reported as refused, not as done.

Where an interface lives is the network namespace of the socket the request went through (the tracer records it,
`netns`), or, for a move, the namespace named by IFLA_NET_NS_PID/IFLA_NET_NS_FD. A device is known by its index
in its namespace; names come from the request itself, from the tracer's look-up at the time (`name` beside an
index), or from the kernel's replies to RTM_GETLINK.

    state = network_state(events)
    state.steps          # NetworkStep per request, in order
    state.namespaces     # netns id -> [Interface]
    state.cables         # veth pairs: ((netns, name), (netns, name))
    state.facts()        # sentences for the insights pane
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tracer.events import Event, Header, Syscall

_NETNS_LINK = re.compile(r"^net:\[(\d+)\]$")
_SENDS = ("sendto", "sendmsg")
_RECEIVES = ("recvfrom", "recvmsg")


@dataclass
class Interface:
    netns: int | None
    index: int | None
    name: str | None
    kind: str | None = None
    addresses: list[str] = field(default_factory=list)
    routes: list[str] = field(default_factory=list)
    up: bool = False
    #: Where it was born, when it was moved since.
    born_in: int | None = None
    history: list[str] = field(default_factory=list)

    def label(self) -> str:
        if isinstance(self.name, str) and self.name:
            return self.name
        return f"index {self.index}" if self.index is not None else "?"


@dataclass(frozen=True)
class NetworkStep:
    """One rtnetlink request: what it asked, where, and whether the kernel agreed."""

    seq: int
    pid: int
    netns: int | None
    action: str  # create, move, rename, address, up, down, route, delete, query, other
    interface: str
    detail: str
    #: None: no acknowledgement was asked for or seen; else 0 or the errno name of the kernel's answer.
    answer: str | int | None = None
    answer_seq: int | None = None

    @property
    def ok(self) -> bool:
        return self.answer in (None, 0)

    def describe(self) -> str:
        where = f" in net:[{self.netns}]" if self.netns else ""
        refused = f" (refused: {self.answer})" if not self.ok else ""
        return f"{self.detail}{where}{refused}"


@dataclass
class NetworkState:
    steps: list[NetworkStep] = field(default_factory=list)
    namespaces: dict[int | None, list[Interface]] = field(default_factory=dict)
    cables: list[tuple[tuple[int | None, str], tuple[int | None, str]]] = field(default_factory=list)
    host_netns: int | None = None

    def find(self, netns: int | None, index: int | None = None, name: str | None = None) -> Interface | None:
        for interface in self.namespaces.get(netns, []):
            if (index is not None and interface.index == index) or (name is not None and interface.name == name):
                return interface
        return None

    def facts(self) -> list[str]:
        """One sentence per interface and namespace, for a learner."""
        out: list[str] = []
        for netns, interfaces in self.namespaces.items():
            where = f"network namespace {netns}" if netns else "an unknown network namespace"
            if netns is not None and netns == self.host_netns:
                where += " (the machine's own)"
            for interface in interfaces:
                parts = [f"{interface.label()} ({interface.kind or 'device'}"
                         + (f", index {interface.index})" if interface.index is not None else ")")]
                parts += interface.history
                out.append(f"In {where}: " + "; ".join(parts) + ".")
        for (netns_a, name_a), (netns_b, name_b) in self.cables:
            if netns_a != netns_b:
                out.append(f"The veth pair {name_a} - {name_b} is one cable with an end in network namespace "
                           f"{netns_a} and the other in {netns_b}: what enters one end leaves the other.")
        refused = [step for step in self.steps if not step.ok]
        out += [f"The kernel refused {step.detail}: {step.answer}." for step in refused]
        return out


def _str_or_none(value: Any) -> str | None:
    """A name from the messages, or None when a damaged recording holds something else there."""
    return value if isinstance(value, str) and value else None


def _int_or_none(value: Any) -> int | None:
    return value if type(value) is int and value else None


def _netns_of(args: dict[str, Any]) -> int | None:
    value = args.get("netns")
    return value if isinstance(value, int) else None


def _attr(attrs: Any, *path: str) -> dict[str, Any] | None:
    current = attrs if isinstance(attrs, list) else []
    found: dict[str, Any] | None = None
    for step in path:
        found = next((a for a in current if isinstance(a, dict) and a.get("type") == step), None)
        if found is None:
            return None
        current = found.get("attrs") or []
    return found


def _value(attrs: Any, *path: str) -> Any:
    found = _attr(attrs, *path)
    return found.get("value") if found else None


_NOT_A_MOVE = -1


def _target_netns(attrs: Any) -> int | None:
    """The namespace a move names (IFLA_NET_NS_PID or _FD): its id, None when named but not resolvable, or
    _NOT_A_MOVE when the message names no namespace."""
    by_pid = _attr(attrs, "IFLA_NET_NS_PID")
    if by_pid is not None:
        netns = by_pid.get("netns")
        return netns if type(netns) is int else None
    by_fd = _attr(attrs, "IFLA_NET_NS_FD")
    if by_fd is not None:
        match = _NETNS_LINK.match(str(by_fd.get("path") or ""))
        return int(match[1]) if match else None
    return _NOT_A_MOVE


def _answers(events: list[Event]) -> dict[tuple[int, str, int], tuple[Any, int]]:
    """(pid, socket, nlmsg seq) -> (error or 0, seq of the event) from every NLMSG_ERROR the trace read."""
    out: dict[tuple[int, str, int], tuple[Any, int]] = {}
    for event in events:
        if not isinstance(event, Syscall) or event.name not in _RECEIVES or not isinstance(event.args, dict) \
                or not isinstance(event.args.get("messages"), list):
            continue
        for message in event.args["messages"]:
            if isinstance(message, dict) and message.get("type") == "NLMSG_ERROR":
                request = message.get("request")
                seq = request.get("seq", -1) if isinstance(request, dict) else -1
                key = (event.pid, str(event.args.get("fd_path")), seq)
                if isinstance(seq, int | str):
                    out.setdefault(key, (message.get("error"), event.seq))
    return out


def network_state(events: Iterable[Event]) -> NetworkState:
    events = list(events)
    state = NetworkState()
    for event in events:
        if isinstance(event, Header):
            state.host_netns = (event.host_ns or {}).get("net")
            break
    answers = _answers(events)
    for event in events:
        if not isinstance(event, Syscall) or event.error is not None or not isinstance(event.args, dict) \
                or event.args.get("netlink") != "NETLINK_ROUTE" or not isinstance(event.args.get("messages"), list):
            continue
        netns = _netns_of(event.args)
        for message in event.args["messages"]:
            if not isinstance(message, dict):
                continue
            try:
                if event.name in _RECEIVES:
                    _learn_from_reply(state, netns, message)
                    continue
                if event.name not in _SENDS:
                    continue
                answer = answers.get((event.pid, str(event.args.get("fd_path")), message.get("seq", -1)))
                step = _apply(state, event, netns, message, answer)
            except (AttributeError, TypeError, KeyError, ValueError):
                continue  # a damaged recording's message: skipped, never the end of the fold
            if step is not None:
                state.steps.append(step)
    return state


def _interface(state: NetworkState, netns: int | None, index: Any, name: Any) -> Interface:
    index = index if type(index) is int else None  # a damaged recording may hold anything here
    name = name if isinstance(name, str) and name else None
    found = state.find(netns, index if index else None, name)
    if found is None:
        found = Interface(netns, index if index else None, name)
        state.namespaces.setdefault(netns, []).append(found)
    if index and found.index is None:
        found.index = index
    if name and found.name is None:
        found.name = name
    return found


def _learn_from_reply(state: NetworkState, netns: int | None, message: dict[str, Any]) -> None:
    """An RTM_NEWLINK from the kernel (the answer to RTM_GETLINK) ties a name to its index."""
    info = message.get("ifinfo")
    name = _value(message.get("attrs"), "IFLA_IFNAME")
    if message.get("type") == "RTM_NEWLINK" and isinstance(info, dict) and name:
        interface = state.find(netns, None, name)
        if interface is not None and interface.index is None:
            interface.index = info.get("index")


def _apply(state: NetworkState, event: Syscall, netns: int | None, message: dict[str, Any],
           answer: tuple[Any, int] | None) -> NetworkStep | None:
    kind = message.get("type")
    attrs = message.get("attrs")
    error, answer_seq = answer if answer is not None else (None, None)
    ok = error in (None, 0)

    def step(action: str, interface: str, detail: str) -> NetworkStep:
        return NetworkStep(event.seq, event.pid, netns, action, interface, detail, error, answer_seq)

    if kind in ("RTM_NEWLINK", "RTM_SETLINK", "RTM_DELLINK"):
        info = message.get("ifinfo") or {}
        index = _int_or_none(info.get("index"))
        name = _str_or_none(_value(attrs, "IFLA_IFNAME"))
        current = _str_or_none(info.get("name"))  # what the tracer found at that index when the request was sent
        link_kind = _str_or_none(_value(attrs, "IFLA_LINKINFO", "IFLA_INFO_KIND"))
        flags = message.get("flags") or []
        if kind == "RTM_DELLINK":
            label = name or current or f"index {index}"
            if ok:
                for interfaces in state.namespaces.values():
                    interfaces[:] = [i for i in interfaces if not (i.netns == netns and i.label() == label)]
            return step("delete", label, f"delete {label}")
        if "NLM_F_CREATE" in flags and index is None and (link_kind or name):
            interface = _interface(state, netns, None, name) if ok else Interface(netns, None, name)
            interface.kind = link_kind
            interface.history.append(f"created as {link_kind or 'a device'}")
            peer = _attr(attrs, "IFLA_LINKINFO", "IFLA_INFO_DATA", "VETH_INFO_PEER")
            detail = f"create {name or '?'} ({link_kind or 'device'})"
            if peer is not None:
                peer_name = _str_or_none(_value(peer.get("attrs"), "IFLA_IFNAME"))
                peer_netns = _target_netns(peer.get("attrs"))
                peer_home = netns if peer_netns == _NOT_A_MOVE else peer_netns
                if ok:
                    other = _interface(state, peer_home, None, peer_name)
                    other.kind = link_kind
                    other.history.append(f"created as the peer of {name}")
                    state.cables.append(((netns, name or "?"), (peer_home, peer_name or "?")))
                detail += f" with its peer {peer_name or '?'}"
            return step("create", name or "?", detail)
        interface = _interface(state, netns, index, current or (name if index is None else None))
        label = interface.label()
        if interface.born_in is not None and index == interface.index and current == interface.name \
                and not any(h.startswith("kept its index") for h in interface.history):
            # The tracer found the same name at the same index in the new namespace: the index was kept.
            interface.history.append(f"kept its index {index} in this namespace")
        destination = _target_netns(attrs)
        if destination != _NOT_A_MOVE:
            if ok:
                state.namespaces[netns].remove(interface)
                interface.born_in = interface.born_in or netns
                interface.netns = destination
                interface.history.append(f"moved here from network namespace {netns}")
                state.namespaces.setdefault(destination, []).append(interface)
                _recable(state, netns, label, destination, label)
            where = f"network namespace {destination}" if destination else "another network namespace"
            return step("move", label, f"move {label} to {where}")
        if name and name != label and index is not None:
            if ok:
                interface.history.append(f"renamed {label} -> {name}")
                _recable(state, netns, label, netns, name)
                interface.name = name
            return step("rename", name, f"rename {label} to {name}")
        change, set_flags = info.get("change") or [], info.get("flags") or []
        master = _attr(attrs, "IFLA_MASTER")
        if master is not None:
            owner = master.get("name") or master.get("value")
            if ok:
                interface.history.append(f"attached to {owner}")
            return step("other", label, f"attach {label} to {owner}")
        if "IFF_UP" in change or (not change and "IFF_UP" in set_flags):
            up = "IFF_UP" in set_flags
            if ok:
                interface.up = up
                interface.history.append("brought up" if up else "brought down")
            return step("up" if up else "down", label, f"bring {label} {'up' if up else 'down'}")
        return step("other", label, f"{kind} {label}")
    if kind == "RTM_NEWADDR":
        info = message.get("ifaddr") or {}
        interface = _interface(state, netns, info.get("index"), info.get("name"))
        address = _value(attrs, "IFA_LOCAL") or _value(attrs, "IFA_ADDRESS")
        text = f"{address}/{info.get('prefixlen')}"
        if ok:
            interface.addresses.append(text)
            interface.history.append(f"address {text}")
        return step("address", interface.label(), f"address {text} on {interface.label()}")
    if kind == "RTM_NEWROUTE":
        info = message.get("rtmsg") or {}
        oif = _attr(attrs, "RTA_OIF") or {}
        device = _interface(state, netns, oif.get("value"), oif.get("name")) if oif else None
        dst = _value(attrs, "RTA_DST")
        gateway = _value(attrs, "RTA_GATEWAY")
        text = (f"{dst}/{info.get('dst_len')}" if dst else "default") + (f" via {gateway}" if gateway else "")
        if device is not None:
            text += f" dev {device.label()}"
            if ok:
                device.routes.append(text)
                device.history.append(f"route {text}")
        return step("route", device.label() if device else "?", f"route {text}")
    if isinstance(kind, str) and kind.startswith("RTM_GET"):
        return None  # questions, not changes
    return None


def _recable(state: NetworkState, old_netns: int | None, old: str, new_netns: int | None, new: str) -> None:
    state.cables = [tuple((new_netns, new) if end == (old_netns, old) else end for end in cable)  # type: ignore[misc]
                    for cable in state.cables]


def network_facts(events: Iterable[Event]) -> list[str]:
    return network_state(events).facts()
