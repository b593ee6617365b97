"""Pictures of the network a trace built: a netlink message as a tree of attributes (TUI details pane) and the
network view of the export (namespaces as boxes, interfaces inside with their addresses, veth pairs as cables).

Both read only decoded events (tracer.insights.network folds them); nothing here calls ptrace or imports scenarios.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from rich.text import Text
from rich.tree import Tree

from tracer.decoders.netlink import describe_message
from tracer.events import Event
from tracer.insights.namespaces import namespace_origins
from tracer.insights.network import NetworkState, network_state
from viz.themes import Theme

#: Fields of a family header shown on one line, in this order.
_HEADER_FIELDS = ("index", "name", "family", "type", "flags", "change", "prefixlen", "scope", "dst_len", "table",
                  "protocol")


def _scalar(value: Any) -> str:
    if isinstance(value, list):
        return "|".join(str(v) for v in value) if value else "0"
    if isinstance(value, str):
        return f'"{value}"' if value and not value.isupper() and not value.startswith(("AF_", "RT", "ARPHRD")) \
            else value
    return str(value)


def _attribute(node: Tree, attr: dict[str, Any]) -> None:
    label = Text(str(attr.get("type", "?")), style="bold")
    if "value" in attr:
        label.append(" " + _scalar(attr["value"]))
    for key in ("name", "path", "netns"):
        if key in attr:
            label.append(f"  ({key} {attr[key]})", style="dim")
    if "hex" in attr:
        label.append(f" {attr.get('len', '?')} bytes: {attr['hex']}", style="dim")
    if "decode_error" in attr:
        label.append(f"  malformed: {attr['decode_error']}", style="red")
    child = node.add(label)
    if isinstance(attr.get("ifinfo"), dict):  # a damaged recording may hold anything here
        child.add(_header("ifinfomsg", attr["ifinfo"]))
    for inner in attr.get("attrs") or []:
        if isinstance(inner, dict):
            _attribute(child, inner)


def _header(title: str, fields: dict[str, Any]) -> Text:
    text = Text(title, style="italic")
    shown = [key for key in _HEADER_FIELDS if key in fields] + [k for k in fields if k not in _HEADER_FIELDS]
    for key in shown:
        text.append(f"  {key} {_scalar(fields[key])}")
    return text


def netlink_tree(messages: Iterable[dict[str, Any]], title: str = "netlink messages") -> Tree:
    """Each message as a branch: its one-line meaning, the header, the family header, then the attributes."""
    tree = Tree(Text(title, style="bold"))
    for message in messages:
        if not isinstance(message, dict):
            continue
        try:
            _message_branch(tree, message)
        except (AttributeError, TypeError, KeyError, ValueError):  # a damaged recording: shown as recorded
            tree.add(Text(str(message)[:200], style="dim"))
    return tree


def _message_branch(tree: Tree, message: dict[str, Any]) -> None:
    branch = tree.add(Text(describe_message(message), style="bold cyan"))
    header: dict[str, Any] = {k: message[k] for k in ("type", "flags", "seq", "pid") if k in message}
    branch.add(_header("nlmsghdr", header))
    for key, title_ in (("ifinfo", "ifinfomsg"), ("ifaddr", "ifaddrmsg"), ("rtmsg", "rtmsg"),
                        ("genl", "genlmsghdr"), ("request", "the request answered")):
        if isinstance(message.get(key), dict):
            branch.add(_header(title_, message[key]))
    if "error" in message:
        branch.add(Text("error 0: acknowledged" if message["error"] == 0 else f"error {message['error']}",
                        style="green" if message["error"] == 0 else "red"))
    for attr in message.get("attrs") or []:
        if isinstance(attr, dict):
            _attribute(branch, attr)
    if "decode_error" in message:
        branch.add(Text(f"malformed: {message['decode_error']}", style="red"))


# --- the network view --------------------------------------------------------------------------------------------


def _html(text: object) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def network_dot(events: Iterable[Event], theme: Theme, title: str = "") -> Any:
    """A Graphviz graph of `network_state(events)`: one box per network namespace, its interfaces inside (name,
    kind, index, addresses, up or down), and each veth pair drawn as one cable between its two ends."""
    import graphviz

    events = list(events)
    state: NetworkState = network_state(events)
    made_by = {o.inode: f"{o.syscall} in {o.process}" for o in namespace_origins(events) if o.kind == "net"}
    graph = graphviz.Digraph("network")  # a digraph like every other view; cables are drawn without arrows
    graph.attr("graph", bgcolor=theme.background, fontname=theme.fontname, fontcolor=theme.text,
               label=f"<<B>{_html(title or 'The network this trace built')}</B>>", labelloc="t", labeljust="l",
               pad="0.4", nodesep="0.6", ranksep="1.2", rankdir="LR")
    graph.attr("node", shape="box", style="rounded,filled", fontname=theme.fontname, fontcolor=theme.text,
               color=theme.node_border, penwidth="2")
    graph.attr("edge", fontname=theme.fontname, fontcolor=theme.text, penwidth="3", color=theme.edges.get("ipc", "#333"))
    ids: dict[tuple[int | None, str], str] = {}
    for number, (netns, interfaces) in enumerate(state.namespaces.items()):
        with graph.subgraph(name=f"cluster_ns{number}") as box:
            own = netns is not None and netns == state.host_netns
            label = "the machine's network namespace" if own else "network namespace"
            origin = f"<BR/>made by {_html(made_by[netns])}" if netns in made_by else ""
            box.attr(label=f"<<B>{label}</B><BR/>net:[{netns if netns else '?'}]{origin}>", style="rounded,filled",
                     fillcolor=theme.host_fill if own else theme.container_fill,
                     color=theme.host_border if own else theme.container_border, penwidth="2")
            for position, interface in enumerate(interfaces):
                node = f"if{number}_{position}"
                ids[(netns, interface.label())] = node
                rows = [f"<B>{_html(interface.label())}</B>"]
                kind = str(interface.kind or "device")
                rows.append(_html(kind + (f", index {interface.index}" if interface.index is not None else "")))
                rows += [_html(address) for address in interface.addresses]
                rows.append("up" if interface.up else "down")
                rows += [f'<FONT POINT-SIZE="10">route {_html(route)}</FONT>' for route in interface.routes]
                box.node(node, label="<" + "<BR/>".join(rows) + ">",
                         fillcolor=theme.kinds.get("entrypoint" if not own else "daemon", theme.background))
    for (netns_a, name_a), (netns_b, name_b) in state.cables:
        a, b = ids.get((netns_a, name_a)), ids.get((netns_b, name_b))
        if a and b:
            graph.edge(a, b, label=" veth ", style="bold", dir="none")
    if not state.namespaces:
        graph.node("none", label="this trace built no network (no rtnetlink messages)", shape="plaintext")
    return graph


def network_section(events: Iterable[Event], theme: Theme) -> str | None:
    """The walkthrough page's network section (inline SVG and the insight sentences), or None when the trace built
    no network. Needs Graphviz's dot, like the page's other pictures."""
    events = list(events)
    state = network_state(events)
    if not state.namespaces:
        return None
    svg = network_dot(events, theme, "The network this trace built").pipe(format="svg", quiet=True).decode()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r'<svg width="[\d.]+pt" height="[\d.]+pt"', '<svg role="img" width="100%"', svg, count=1)
    facts = "".join(f"<li>{_html(fact)}</li>" for fact in state.facts())
    return (f'<section id="network" aria-label="network"><h2>The network this trace built</h2>'
            f"<figure>{svg}<figcaption>Network namespaces as boxes, their interfaces inside with addresses, each "
            f"veth pair as one cable.</figcaption></figure><ul>{facts}</ul></section>")
