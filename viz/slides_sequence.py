"""The sequence view drawn by Graphviz: svg, png and pdf, one page per walkthrough chapter in PDF.

Mermaid (viz.export.sequence_mermaid) needs a Markdown renderer; this draws the same hand-offs with Graphviz so
the sequence can go on a slide or in a handout. Graphviz has no sequence layout, so the positions are computed
here and handed to `neato -n2`, which draws nodes where they are told: a header box per participant (in chain
order, coloured by kind), a dashed lifeline under each, one row per message (an arrow with its label above it), a
note box over a participant for the namespace and root calls, and a band across all participants for each
chapter title. Host pids are hidden as on a slide.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from viz.model import HOST_GROUP, TraceModel
from viz.slides import _html, wrap
from viz.slides_text import hide_pids, shorten_ids
from viz.themes import Theme

#: Horizontal distance between two lifelines, in points.
COLUMN = 200
#: Height of one message row, in points.
ROW = 46
#: Height of one more line of a label, in points.
LINE = 17
#: Longest line of a participant name or message label.
SEQUENCE_LABEL_LIMIT = 30

Message = tuple[str, str, str, str]


def _pos(x: float, y: float) -> str:
    """A pinned position: neato reads pos in inches (points / 72)."""
    return f"{x / 72:.3f},{y / 72:.3f}!"


def _graph(name: str, theme: Theme, title: str) -> Any:
    import graphviz

    graph = graphviz.Digraph(name, engine="neato")
    graph.graph_attr.update(bgcolor=theme.background, fontname=theme.fontname, fontcolor=theme.text,
                            fontsize=str(theme.title_size), labelloc="t", labeljust="l", pad="0.3",
                            splines="line", outputorder="edgesfirst")
    if title:
        graph.graph_attr["label"] = f"<<B>{_html(title)}</B>>"
    graph.attr("node", fontname=theme.fontname, fontcolor=theme.text, fontsize=str(theme.detail_size + 2),
               penwidth="2", color=theme.node_border)
    graph.attr("edge", fontname=theme.fontname, fontcolor=theme.text, penwidth="2.2", arrowsize="1.1")
    return graph


def sequence_graph(model: TraceModel, theme: Theme, order: list[str], messages: Sequence[Message],
                   title: str) -> Any:
    """One picture of `messages` between the participants `order` (architecture node ids)."""
    arch = model.architecture
    graph = _graph("sequence", theme, title)
    x = {node: 100 + COLUMN * i for i, node in enumerate(order)}
    texts = [wrap(hide_pids(shorten_ids(text)), SEQUENCE_LABEL_LIMIT if arrow != "chapter" else 120)
             for arrow, _, _, text in messages]
    # Each row is as tall as its label: a message's lines stand above its arrow, a note's around its centre.
    heights = [ROW + LINE * (len(lines) - 1) for lines in texts]
    top = sum(heights) + ROW * 2
    bottom = ROW // 2
    for i, node in enumerate(order):
        attrs = arch.nodes[node] if node in arch else {}
        name = attrs.get("role") or node.split("@")[0] or "(unnamed)"
        label = "<BR/>".join(f"<B>{_html(line)}</B>" for line in wrap(name, 18))
        if attrs.get("group", HOST_GROUP) != HOST_GROUP:
            label += f'<BR/><FONT POINT-SIZE="{theme.detail_size - 2}">in the container</FONT>'
        graph.node(f"h{i}", label=f"<{label}>", shape="box", style="rounded,filled",
                   fillcolor=theme.kind_fill(attrs.get("role_kind", "program")), pos=_pos(x[node], top),
                   width="2.4", height="0.8", fixedsize="false")
        graph.node(f"b{i}", label="", shape="point", width="0.01", pos=_pos(x[node], bottom))
        graph.edge(f"h{i}", f"b{i}", style="dashed", color=theme.muted, arrowhead="none", penwidth="1.5")
    left, right = min(x.values()), max(x.values())
    y = top - ROW
    for row, ((arrow, src, dst, _), lines, height) in enumerate(zip(messages, texts, heights, strict=True)):
        y -= height
        body = '<BR ALIGN="LEFT"/>'.join(_html(line) for line in lines) or " "
        if arrow == "chapter":
            graph.node(f"m{row}", label=f"<<B>{body}</B>>", shape="box", style="filled", color=theme.host_border,
                       fillcolor=theme.legend_fill, fontsize=str(theme.edge_size + 1),
                       pos=_pos((left + right) / 2, y + height / 2 - ROW / 2),
                       width=f"{(right - left + COLUMN * 0.8) / 72:.2f}", height="0.5", fixedsize="false")
        elif arrow == "note":
            graph.node(f"m{row}", label=f"<{body}>", shape="note", style="filled", fillcolor=theme.container_fill,
                       color=theme.container_border, pos=_pos(x.get(src, left), y + height / 2 - ROW / 2),
                       margin="0.08,0.02")
        else:
            kind = "ipc" if lines[0].startswith("connect(") else "exec" if lines[0].startswith("exec") else "spawn"
            colour = theme.edge_color(kind)
            graph.node(f"s{row}", label="", shape="point", width="0.01", pos=_pos(x[src], y))
            graph.node(f"d{row}", label="", shape="point", width="0.01", pos=_pos(x[dst], y))
            graph.edge(f"s{row}", f"d{row}", color=colour, style="dashed" if kind == "ipc" else "solid")
            graph.node(f"m{row}", label=f'<<FONT COLOR="{colour}">{body}</FONT>>', shape="plaintext",
                       pos=_pos((x[src] + x[dst]) / 2, y + 14 + LINE * (len(lines) - 1) / 2), margin="0")
    return graph
