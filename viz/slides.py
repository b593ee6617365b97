"""Slides: the architecture of a launch as a 16:9 picture a room can read, whole or one chapter at a time.

`slide_dot` draws the architecture graph of viz.model (one box per component, host and container namespaces as
clusters, arrows labelled with the call that made each step happen) for a projector:

- a short title (the scenario and what ran) with the full command in a caption below it, wrapped, never cut;
- the container's cluster named by the kinds of its new namespaces ("new pid, mnt, uts, ipc, net namespaces"),
  their inode numbers only with `detail`;
- no host pids unless `show_pids` (`execve("/proc/18975/exe")` is drawn `execve("/proc/PID/exe")`), container ids
  cut to 12 digits as `docker ps` shows them;
- every line of every label at most LABEL_LIMIT characters (wrapped at `|`, `/`, `, ` or spaces);
- edge labels as `xlabel`s, which Graphviz places beside their edge after layout, so a long edge's label does not
  float on a rank of its own;
- laid out left to right or top to bottom, whichever is nearer 16:9, then stretched (`ratio=fill`) to exactly
  16:9, so no quadrant is left empty.

`focus` draws one walkthrough chapter (or a phase: several chapters, see PHASES): only the components whose
processes that chapter names, the arrows between them and, inside each box, the chapter's own calls. The chapters
come from the caller (the CLI builds the walkthrough); viz never imports scenarios.

`viz.export.export_slide` is the one call the CLI and the TUI use (it draws through this module).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from tracer.decoders import Trait, syscalls_with
from tracer.events import Event, Exec, Exit, Syscall
from tracer.recording import Recording
from viz.model import (
    DECISIVE_SYSCALLS,
    HOST_GROUP,
    NamespaceGroup,
    TraceModel,
    connect_label,
    decisive_label,
    exec_label,
)
from viz.slides_text import call_text, hide_pids, lesson_kind, shorten_ids
from viz.themes import EDGE_DESCRIPTIONS, Theme

#: Calls that create a process (the syscall table's traits).
_PROCESS_SYSCALLS = syscalls_with(Trait.PROCESS)

#: Longest line of a box, cluster or arrow label on a slide.
LABEL_LIMIT = 36
#: Longest line of a label in the architecture view (a handout, read closer).
ARCHITECTURE_LABEL_LIMIT = 60
#: Longest title line; the title is short by construction and wraps past this.
TITLE_LIMIT = 64
#: Longest line of the caption (the full command).
CAPTION_LIMIT = 110
#: Calls of a chapter listed inside one box of a focus slide.
MAX_FOCUS_CALLS = 6
#: Lines one call of a focus slide may take.
MAX_CALL_LINES = 4
#: Notes (insights) shown on one box.
MAX_NOTES = 6

SLIDE_ASPECT = 16 / 9

#: Phases a lecture can step through with `--focus`: each is the walkthrough chapters (milestone ids of the
#: scenarios, or generic chapter ids ending in `-*`) it gathers. A chapter's own id works as well.
PHASES: dict[str, tuple[str, ...]] = {
    "handoff": ("cli-connects", "client-connects", "dockerd-to-containerd", "shim", "runc-create", "runc-run",
                "crun-run", "runc-init", "clone-parent", "runc-start", "first-exec"),
    "namespaces": ("unshare", "clone", "clone-new-namespaces", "user-namespace", "fork-pid1", "namespaces-*"),
    "root": ("mounts", "private-mounts", "bind-rootfs", "proc", "pivot_root", "chroot", "detach-old-root",
             "root-*"),
    "identity": ("identity-and-limits", "id-maps"),
    "hostname": ("hostname",),
    "entrypoint": ("entrypoint",),
    "exit": ("runc-delete", "exited", "exits"),
}


#: Slide titles of the phases (a single chapter's slide takes the chapter's title).
PHASE_TITLES: dict[str, str] = {
    "handoff": "Who hands the launch to whom",
    "namespaces": "New namespaces",
    "root": "A new root filesystem",
    "identity": "Identity and limits",
    "hostname": "Its own hostname",
    "entrypoint": "The container's program starts",
    "exit": "Everything exits",
}


class SlideError(ValueError):
    """A slide that cannot be drawn (an unknown phase); the message is one sentence for the user."""


# Text ---------------------------------------------------------------------------------------------------------


def wrap(text: str, limit: int) -> list[str]:
    """`text` in lines of at most `limit` characters, broken after `|`, `/`, `, ` or a space; a word longer than
    the limit is broken inside (never cut with "…")."""
    if len(text) <= limit:
        return [text]
    lines: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("|"), window.rfind("/"), window.rfind(", ") + 1, window.rfind(" "))
        if cut < limit // 3:
            cut = limit - 1
        lines.append(rest[: cut + 1].rstrip())
        rest = "  " + rest[cut + 1:].lstrip()
    if rest.strip():
        lines.append(rest)
    return lines


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _lines_html(lines: Iterable[str], align: str = "CENTER") -> str:
    return f'<BR ALIGN="{align}"/>'.join(_html(line) for line in lines)


def what_ran(command: Sequence[str]) -> str:
    """`docker run`, `runc run`, `unshare`: the program and its subcommand, for a title."""
    if not command:
        return ""
    words = [Path(command[0]).name]
    for word in command[1:]:
        if word.startswith("-"):
            break
        words.append(Path(word).name if "/" in word else word)
        if len(words) == 2:
            break
    return " ".join(words)


def slide_title(recording: Recording, model: TraceModel | None = None) -> tuple[str, str]:
    """(title, caption): "docker: docker run → /bin/sh as the container's pid 1" and the full command."""
    header = recording.header
    ran = what_ran(header.command) if header.command else f"attached to {', '.join(map(str, header.attached))}"
    entry = _entrypoint_program(model) if model is not None else None
    title = f"{header.scenario}: {ran}" if header.scenario else ran
    if entry:
        title += f" → {entry} as the container's pid 1"
    if len(title) > TITLE_LIMIT:
        title = f"{header.scenario}: {ran}" if header.scenario else ran
    caption = " ".join(header.command) if header.command else ""
    return title, caption


def _entrypoint_program(model: TraceModel) -> str | None:
    for _, attrs in model.architecture.nodes(data=True):
        if attrs.get("role_kind") == "entrypoint" and attrs.get("programs"):
            return str(attrs["programs"][0])
    return None


def focus_call_text(event: Event) -> str:
    """A chapter's call as a focus slide lists it: execs and connects as the arrows name them, the rest as
    decoded."""
    if isinstance(event, Exec):
        return exec_label(event)
    if isinstance(event, Syscall) and event.name == "connect" and event.args.get("path"):
        return connect_label(str(event.args["path"])) + (f" = -1 {event.error}" if event.error else "")
    if isinstance(event, Syscall) and event.name in DECISIVE_SYSCALLS and event.error is None:
        return decisive_label(event)
    text = call_text(event, 400)
    if isinstance(event, Syscall) and event.name in _PROCESS_SYSCALLS and event.error is None:
        text = re.sub(r" = \d+$", "", text)  # the child's host pid: the arrow shows the child
    return text


def clean(text: str, show_pids: bool) -> str:
    text = shorten_ids(text)
    return text if show_pids else hide_pids(text)


# Focus --------------------------------------------------------------------------------------------------------


def focus_chapters(chapters: Sequence[Any], focus: str) -> list[Any]:
    """The chapters `focus` names: a phase of PHASES or one chapter's id. SlideError when none is in the trace."""
    wanted = PHASES.get(focus, (focus,))
    chosen = [c for c in chapters
              if any(c.id == w or (w.endswith("*") and c.id.startswith(w[:-1])) for w in wanted)]
    if not chosen:
        available = sorted({p for p, ids in PHASES.items() if _names_any(chapters, ids)}
                           | {c.id for c in chapters})
        if not chapters:
            raise SlideError(f"--focus {focus} needs the walkthrough's chapters and this trace has none")
        raise SlideError(f"no chapter of this trace is {focus!r}: choose one of {', '.join(available)}")
    return chosen


def _names_any(chapters: Sequence[Any], wanted: Iterable[str]) -> bool:
    return any(any(c.id == w or (w.endswith("*") and c.id.startswith(w[:-1])) for w in wanted) for c in chapters)


def chapter_components(model: TraceModel, chapters: Sequence[Any]) -> dict[str, list[Event]]:
    """The architecture nodes (components) `chapters` involve -> the chapter events that happened in each, in
    order: each event is placed on the component its process was at that moment; the processes a chapter names
    count even where none of its events are theirs."""
    events = model.table.events_by_seq
    book = model.book
    host = model.table.host_namespaces()
    from viz.model import group_key

    out: dict[str, list[Event]] = {}
    for chapter in chapters:
        for seq in chapter.seqs:
            event = events.get(seq)
            pid = getattr(event, "pid", None)
            if event is None or not isinstance(pid, int):
                continue
            proc = book.process_at(pid, seq)
            if proc is None:
                continue
            phase = book.phase_at(proc, seq)
            node = f"{phase.role.name}@{group_key(phase.ns, host)}"
            if node not in model.architecture:
                continue
            out.setdefault(node, [])
            if event not in out[node]:
                out[node].append(event)
        for pid in chapter.pids:
            proc = book.process_at(pid, chapter.seqs[0]) if chapter.seqs else None
            if proc is None:
                continue
            phase = book.phase_at(proc, chapter.seqs[0])
            node = f"{phase.role.name}@{group_key(phase.ns, host)}"
            if node in model.architecture:
                out.setdefault(node, [])
    return out


# The drawing --------------------------------------------------------------------------------------------------


def slide_dot(model: TraceModel, theme: Theme, *, title: str, caption: str = "", focus: str | None = None,
              chapters: Sequence[Any] = (), detail: bool = False, show_pids: bool = False,
              limit: int = LABEL_LIMIT, notes: bool = False, fit: bool = True) -> Any:
    """The slide as a graphviz.Digraph (`fit` makes it 16:9 with a first layout pass)."""
    import graphviz

    arch = model.architecture
    groups: dict[str, NamespaceGroup] = arch.graph.get("groups", model.groups)
    focused: dict[str, list[Event]] | None = None
    if focus is not None:
        picked = focus_chapters(chapters, focus)
        focused = chapter_components(model, picked)
        if len(picked) == 1:
            caption = f"{title} · {caption}" if caption else title
            title = picked[0].title
        else:
            caption = f"{title} · chapters: " + " · ".join(c.title for c in picked)
            title = PHASE_TITLES.get(focus, focus)
        notes = notes or focus in PHASES.get("identity", ()) or focus == "identity" or any(
            c.id in PHASES["identity"] for c in picked)
    shown = [n for n in arch.nodes if focused is None or n in focused]
    if focused is not None:
        # Where a chapter's call leads: the arrow that carries it (unshare, then the clone into the container;
        # pivot_root, then the exec of the entrypoint) is drawn with the component it reaches.
        for src, dst, attrs in arch.edges(data=True):
            calls = {focus_call_text(e) for e in focused.get(src, ())}
            if dst not in shown and calls & set(attrs.get("lines") or ()):
                shown.append(dst)

    node_size = theme.node_size + (8 if limit == LABEL_LIMIT else 0)
    small = theme.detail_size + (6 if limit == LABEL_LIMIT else 0)
    graph = graphviz.Digraph("slide")
    title_rows = [f'<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="{theme.title_size + 4}"><B>'
                  f'{_lines_html(wrap(title, TITLE_LIMIT), "LEFT")}</B></FONT></TD></TR>'] if title else []
    if caption:
        title_rows.append(f'<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="{small}" COLOR="{theme.muted}" '
                          f'FACE="{theme.monospace}">{_lines_html(wrap(caption, CAPTION_LIMIT), "LEFT")}'
                          '<BR ALIGN="LEFT"/></FONT></TD></TR>')
    graph.graph_attr.update(bgcolor=theme.background, fontname=theme.fontname, fontcolor=theme.text,
                            labelloc="t", labeljust="l", pad="0.3", nodesep="0.5", ranksep="0.7", compound="true",
                            newrank="true")
    if title or caption:
        graph.graph_attr["label"] = f'<<TABLE BORDER="0" CELLSPACING="2">{"".join(title_rows)}</TABLE>>'
    graph.attr("node", fontname=theme.fontname, fontcolor=theme.text, fontsize=str(node_size),
               color=theme.node_border, penwidth="2", shape="box", style="rounded,filled", margin="0.25,0.12")
    graph.attr("edge", fontname=theme.fontname, fontcolor=theme.text, fontsize=str(small + 1), penwidth="2.4",
               arrowsize="1.1")

    def node_label(node: str) -> str:
        attrs = arch.nodes[node]
        # An unnamed socket's listener (a damaged recording) still gets a name: Graphviz rejects an empty <B></B>.
        role = str(attrs.get("role") or attrs.get("path") or "(unnamed)")
        rows = [f"<B>{_lines_html(wrap(role, limit))}</B>"]
        details = [d for d in attrs.get("details", []) if d != attrs["role"]]
        if attrs.get("role_kind") == "entrypoint" and attrs.get("argv"):
            details = [" ".join(attrs["argv"])]
        for text in details:
            rows.append(f'<FONT POINT-SIZE="{small}">{_lines_html(wrap(clean(text, show_pids), limit))}</FONT>')
        if attrs.get("kind") == "external":
            rows.append(f'<FONT POINT-SIZE="{small}" COLOR="{theme.muted}">'
                        f'{_lines_html(wrap(attrs.get("path", "") + " (not traced)", limit))}</FONT>')
        if show_pids and attrs.get("pids"):
            from viz.console import describe_pid

            pids = attrs["pids"]
            listed = ", ".join(describe_pid(model.table, pid) for pid in pids[:3])
            more = f" +{len(pids) - 3}" if len(pids) > 3 else ""
            word = "pid" if len(pids) == 1 else "pids"
            rows.append(f'<FONT POINT-SIZE="{small}" COLOR="{theme.muted}">'
                        f'{_lines_html(wrap(f"{word} {listed}{more}", limit))}</FONT>')
        if notes:
            for note in (attrs.get("notes") or [])[:MAX_NOTES]:
                rows.append(f'<FONT POINT-SIZE="{small}"><I>{_lines_html(wrap(clean(note, show_pids), limit))}'
                            '</I></FONT>')
        if focused is not None and focused.get(node):
            calls = [e for e in focused[node] if isinstance(e, (Syscall, Exec, Exit))]
            # The calls that build the container first; the chapter's other calls only counted.
            key = [e for e in calls if lesson_kind(e) is not None] or calls
            lines: list[tuple[str, str]] = []
            for event in key[:MAX_FOCUS_CALLS]:
                colour = theme.category_color(event.category if isinstance(event, Syscall) else "process")
                wrapped = wrap(clean(focus_call_text(event), show_pids), limit)
                if len(wrapped) > MAX_CALL_LINES:  # a capset listing 14 capabilities twice: its start says enough
                    wrapped = [*wrapped[:MAX_CALL_LINES - 1], wrapped[MAX_CALL_LINES - 1][: limit - 2] + " …"]
                lines.extend((colour, line) for line in wrapped)
            if lines:
                body = '<BR ALIGN="LEFT"/>'.join(f'<FONT COLOR="{c}">{_html(t)}</FONT>' for c, t in lines)
                rows.append(f'<FONT FACE="{theme.monospace}" POINT-SIZE="{small}">{body}<BR ALIGN="LEFT"/></FONT>')
            rest = [e for e in calls if e not in key[:MAX_FOCUS_CALLS]]
            if rest:
                counts = Counter(getattr(e, "name", "exec") for e in rest)
                named = ", ".join(f"{name} ×{n}" if n > 1 else name for name, n in counts.most_common(3))
                more = f"+{len(rest)} more: {named}" + (", …" if len(counts) > 3 else "")
                rows.append(f'<FONT POINT-SIZE="{small}" COLOR="{theme.muted}">'
                            f'{_lines_html(wrap(more, limit))}</FONT>')
        return "<" + "<BR/>".join(rows) + ">"

    def add_node(target: Any, node: str) -> None:
        attrs = arch.nodes[node]
        extra = {"style": "rounded,filled,dashed"} if attrs.get("kind") == "external" else {}
        if attrs.get("role_kind") == "entrypoint":
            extra["penwidth"] = "3.5"
        target.node(node_id(node), label=node_label(node), fillcolor=theme.kind_fill(attrs.get("role_kind", "")),
                    **extra)

    members: dict[str, list[str]] = {}
    outside: list[str] = []
    for node in sorted(shown, key=lambda n: arch.nodes[n].get("order", 0)):
        if arch.nodes[node].get("kind") == "external":
            outside.append(node)
        else:
            members.setdefault(arch.nodes[node].get("group", HOST_GROUP), []).append(node)

    def has_members(key: str) -> bool:
        return bool(members.get(key)) or any(has_members(child) for child in groups[key].children)

    def cluster(key: str, depth: int) -> Any:
        group = groups[key]
        sub = graphviz.Digraph(_cluster_name(key))
        if group.is_host:
            fill, border = theme.host_fill, theme.host_border
        else:
            fill = theme.container_fill if depth <= 1 else theme.nested_fill
            border = theme.container_border
        lines: list[str] = []
        for line in group.label(groups, detail).split("\n"):
            lines.extend(wrap(line, limit))
        sub.attr(label=f'<<B>{_lines_html(lines, "LEFT")}</B><BR ALIGN="LEFT"/>>', style="rounded,filled",
                 fillcolor=fill, color=border, penwidth="2.5", fontsize=str(theme.cluster_size + (6 if limit == LABEL_LIMIT else 2)),
                 fontcolor=theme.text, labeljust="l", labelloc="t", margin="16")
        for node in members.get(key, []):
            add_node(sub, node)
        if not group.is_host:
            for child in group.children:
                if has_members(child):
                    sub.subgraph(cluster(child, depth + 1))
        return sub

    if has_members(HOST_GROUP):
        graph.subgraph(cluster(HOST_GROUP, 0))
    for key, group in groups.items():
        if group.parent == HOST_GROUP and has_members(key):
            graph.subgraph(cluster(key, 1))
    for node in outside:
        add_node(graph, node)

    edge_kinds: set[str] = set()
    entered: list[tuple[str, str]] = []
    for src, dst, attrs in sorted(arch.edges(data=True), key=lambda item: item[2].get("seq", 0)):
        if src not in shown or dst not in shown:
            continue
        kind = "preexisting" if attrs.get("preexisting") else attrs["kind"]
        edge_kinds.add(kind)
        lines: list[str] = []
        for line in attrs.get("lines") or attrs["label"].split("\n"):
            lines.extend(wrap(clean(line, show_pids), limit))
        if attrs.get("count", 1) > 1 and len(lines[-1]) + 4 <= limit:
            lines[-1] += f"  ×{attrs['count']}"
        elif attrs.get("count", 1) > 1:
            lines.append(f"×{attrs['count']}")
        if kind == "preexisting":
            lines.append("(before tracing)")
        colour = theme.edge_color(kind if kind != "preexisting" else "ipc")
        label = f'<<FONT COLOR="{colour}">{_lines_html(lines, "LEFT")}<BR ALIGN="LEFT"/></FONT>>'
        style = {"color": theme.edge_color(kind)}
        if kind == "exec":
            style.update(style="bold", penwidth="3.2")
        elif kind in ("ipc", "preexisting"):
            style.update(style="dotted" if kind == "preexisting" else "dashed", arrowhead="vee")
        src_group = arch.nodes[src].get("group", HOST_GROUP)
        dst_group = arch.nodes[dst].get("group", HOST_GROUP)
        if src_group == HOST_GROUP and dst_group != HOST_GROUP and dst_group in groups and not entered:
            entered.append((node_id(src), node_id(dst)))
        graph.edge(node_id(src), node_id(dst), label=label, **style)
    # The step into the container may be drawn sideways (fit_16_9 tries it): the container's cluster beside the
    # host's rather than below it, so a long chain turns a corner instead of leaving a quadrant empty.
    graph.graph_attr["comment"] = "sideways " + " ".join(entered[0]) if entered else ""
    _legend(graph, theme, edge_kinds, small)
    if fit:
        fit_16_9(graph)
    return graph


def _legend(graph: Any, theme: Theme, edge_kinds: set[str], size: int) -> None:
    import graphviz

    glyphs = {"spawn": "──▶", "exec": "━━▶", "ipc": "╌╌▶", "preexisting": "┈┈▶"}
    cells = []
    for kind in ("spawn", "exec", "ipc", "preexisting"):
        if kind in edge_kinds:
            cells.append(f'<TD><FONT COLOR="{theme.edge_color(kind)}"><B>{glyphs[kind]}</B></FONT></TD>'
                         f'<TD ALIGN="LEFT">{_html(EDGE_DESCRIPTIONS[kind])}</TD>')
    cells.append(f'<TD BGCOLOR="{theme.container_fill}" BORDER="1" COLOR="{theme.container_border}">   </TD>'
                 '<TD ALIGN="LEFT">the container\'s namespaces</TD>')
    rows = "".join(f"<TR>{cell}</TR>" for cell in cells)  # one a row: a narrow legend fits beside the drawing
    legend = graphviz.Digraph("cluster_legend")
    legend.attr(label="", style="rounded,filled", fillcolor=theme.legend_fill, color=theme.host_border,
                penwidth="1.5", margin="8")
    legend.node("legend", label=f'<<TABLE BORDER="0" CELLSPACING="4" CELLPADDING="2">{rows}</TABLE>>',
                shape="plain", style="", fontsize=str(size))
    graph.subgraph(legend)


def node_id(node: str) -> str:
    """The Graphviz name of an architecture node (what the SVG's <title> holds)."""
    return "n_" + "".join(c if c.isalnum() else "_" for c in node)


def _cluster_name(key: str) -> str:
    return "cluster_" + "".join(c if c.isalnum() else "_" for c in key)


def _layout_size(graph: Any) -> tuple[float, float]:
    """Width and height in points of the SVG dot draws of `graph` (what PNG and PDF follow too)."""
    svg = graph.pipe(format="svg", quiet=True).decode(errors="replace")
    found = re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    if found is None:
        raise ValueError("dot wrote an SVG without a size")
    return float(found[1]), float(found[2])


def _turn_corner(graph: Any, src: str, dst: str) -> None:
    """Draw the edge src -> dst sideways: same rank for both ends, the edge not constraining the ranks."""
    prefix = f"\t{src} -> {dst} "
    for index, line in enumerate(graph.body):
        if line.startswith(prefix) and line.rstrip().endswith("]"):
            graph.body[index] = line.rstrip()[:-1] + " constraint=false]\n"
            break
    graph.body.append(f"\t{{rank=same; {src}; {dst}}}\n")


def fit_16_9(graph: Any) -> None:
    """Lay `graph` out left to right or top to bottom, whichever comes nearer 16:9, then make dot stretch it to
    16:9 (ratio=fill spreads positions only: type keeps its size). The title lies outside what ratio=fill
    stretches, so the size is corrected from measured drawings until the picture is 16:9 within half a percent."""
    candidates: list[tuple[float, Any, float, float]] = []
    sideways = graph.graph_attr.get("comment", "").split()[1:]
    for rankdir, turn in (("LR", False), ("TB", False), ("TB", True)):
        if turn and len(sideways) != 2:
            continue
        candidate = graph.copy()
        candidate.graph_attr["rankdir"] = rankdir
        if turn:
            _turn_corner(candidate, *sideways)
        width, height = _layout_size(candidate)
        distance = abs(math.log((width / height if height else SLIDE_ASPECT) / SLIDE_ASPECT))
        candidates.append((distance, candidate, width, height))
    _, best, width, height = min(candidates, key=lambda item: item[0])
    graph.body[:] = best.body
    graph.graph_attr.clear()
    graph.graph_attr.update(best.graph_attr)
    graph.graph_attr.pop("comment", None)
    rankdir = graph.graph_attr["rankdir"]
    graph.graph_attr.update(rankdir=rankdir, ratio="fill", pad="0")
    width, height = _layout_size(graph)  # without the pad the candidates were measured with
    size_w, size_h = width / 72, height / 72
    for _ in range(6):
        aspect = width / height
        if abs(aspect / SLIDE_ASPECT - 1) < 0.005:
            break
        if aspect < SLIDE_ASPECT:
            size_w *= SLIDE_ASPECT / aspect
        else:
            size_h *= aspect / SLIDE_ASPECT
        graph.graph_attr["size"] = f"{size_w:.3f},{size_h:.3f}!"
        width, height = _layout_size(graph)
    aspect = width / height
    if abs(aspect / SLIDE_ASPECT - 1) >= 0.005:
        # Too few boxes to spread (a focus slide of one component): centre the drawing in a 16:9 margin.
        for key in ("size", "ratio"):
            graph.graph_attr.pop(key, None)
        width, height = _layout_size(graph)
        pad_x = max(height * SLIDE_ASPECT - width, 0.0) / 2 / 72
        pad_y = max(width / SLIDE_ASPECT - height, 0.0) / 2 / 72
        graph.graph_attr["pad"] = f"{pad_x + 0.2:.3f},{pad_y + 0.2 / SLIDE_ASPECT:.3f}"


# The entry point ----------------------------------------------------------------------------------------------



def label_lines(svg: str) -> list[str]:
    """Every line of text in a Graphviz SVG (what a test checks against the limits)."""
    import html as htmllib

    return [htmllib.unescape(m) for m in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]
