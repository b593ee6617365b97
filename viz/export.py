"""Draw a recording: `boxtrace export TRACE --view VIEW -o OUT`.

Views and the formats each one is written in:

- architecture (svg, png, pdf, dot): one box per component (Docker CLI, dockerd, containerd, shim, runc create,
  runc init, the entrypoint...), host and container namespaces as clusters, arrows labelled with the call that
  made each step happen. Sized for slides, light or dark.
- tree (svg, png, pdf, dot): every process (threads folded, repeated children folded) with its key syscalls.
- sequence (mmd): a Mermaid sequenceDiagram of the launch, one participant per component.
- timeline (json): Chrome/Perfetto trace events, one track per process, syscalls as slices (ui.perfetto.dev).

The builders (`architecture_dot`, `tree_dot`, `sequence_mermaid`, `perfetto_trace`) are pure functions of a
TraceModel; `export` picks one, renders it (svg/png/pdf through Graphviz's `dot`) and writes exactly `output`.
"""

from __future__ import annotations

import gc
import json
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tracer.decoders import format_call
from tracer.events import CATEGORIES, Exec, Exit, Ipc, NamespaceChange, ProcessStarted, Syscall
from tracer.processes import ProcessTable
from tracer.recording import Recording
from viz.model import (
    DECISIVE_SYSCALLS,
    HOST_GROUP,
    TraceModel,
    build_model,
    clone_label,
    connect_label,
    decisive_label,
    exec_label,
    fold_repeats,
    group_key,
    short_path,
)
from viz.roles import ROLE_KINDS
from viz.slides_text import Lesson, hide_pids, process_lesson, shorten_ids
from viz.themes import CATEGORY_DESCRIPTIONS, EDGE_DESCRIPTIONS, KIND_DESCRIPTIONS, THEMES, Theme

#: The formats each view is written in; the first is the default.
VIEW_FORMATS: dict[str, tuple[str, ...]] = {
    "architecture": ("svg", "png", "pdf", "dot"),
    "tree": ("svg", "png", "pdf", "dot"),
    "network": ("svg", "png", "pdf", "dot"),
    "sequence": ("mmd", "svg", "png", "pdf"),
    "timeline": ("json",),
    "page": ("html",),
}

#: Output suffixes and the format they mean.
SUFFIX_FORMATS: dict[str, str] = {
    ".svg": "svg",
    ".png": "png",
    ".pdf": "pdf",
    ".dot": "dot",
    ".gv": "dot",
    ".mmd": "mmd",
    ".mermaid": "mmd",
    ".json": "json",
    ".html": "html",
    ".htm": "html",
}

#: Messages in a sequence diagram before the rest is summarised.
MAX_SEQUENCE_MESSAGES = 200
#: A flag list on an edge label wraps after this many characters.
LABEL_WIDTH = 34

GRAPHVIZ_MISSING = "Graphviz's dot is not installed: run `sudo apt-get install graphviz`"


class ExportError(Exception):
    """A diagram that cannot be written. The message is one sentence for the user."""


class ExportUsageError(ExportError):
    """The command line asks for a picture that cannot exist (a view that has no slide, an unknown chapter)."""


# The entry point ----------------------------------------------------------------------------------------------


def export_slide(recording: Recording, output: Path | str, *, theme: str | Theme = "light", fmt: str | None = None,
                 focus: str | None = None, chapters: Sequence[Any] = (), detail: bool = False,
                 show_pids: bool = False) -> Path:
    """Write the slide of `recording` (svg, png, pdf or dot, from the suffix when `fmt` is None) and return the
    path. `chapters` are the walkthrough's (needed for `focus`); the TUI calls this with its own. (Here rather
    than in viz.slides, which export itself draws with: one direction of import.)"""
    return export(recording, "architecture", fmt, theme, output, slide=True, focus=focus, chapters=chapters,
                  detail=detail, show_pids=show_pids)


def export(recording: Recording, view: str, fmt: str | None, theme: str | Theme, output: Path | str, *,
           slide: bool = False, focus: str | None = None, chapters: Sequence[Any] = (), detail: bool = False,
           show_pids: bool = False) -> Path:
    """Write `view` of `recording` to `output` in `fmt` (from the suffix when None) and return the path.

    `slide` draws the architecture as a 16:9 slide (viz.slides): no pids unless `show_pids`, namespace inodes
    only with `detail`; `focus` draws one walkthrough chapter or phase of `chapters` (the CLI builds them).
    The page view (viz.page) writes one self-contained HTML file with every chapter."""
    output = Path(output)
    fmt = resolve_format(view, fmt, output)
    chosen = theme if isinstance(theme, Theme) else THEMES.get(theme)
    if chosen is None:
        raise ExportError(f"unknown theme {theme!r}: choose one of {', '.join(THEMES)}")
    if (slide or focus) and view != "architecture":
        raise ExportUsageError(f"--slide and --focus draw the architecture view, not the {view} view")
    if fmt in ("svg", "png", "pdf", "html") and shutil.which("dot") is None:
        raise ExportError(GRAPHVIZ_MISSING)
    # The recording's events live until the end: freezing them keeps the garbage collector from walking them
    # again and again while the model and the insights are built (a fifth to a third of that time on 100k events).
    gc.freeze()
    try:
        model = build_model(ProcessTable.from_events([recording.header, *recording.events]))
    finally:
        gc.unfreeze()
    from viz.slides import SlideError, fit_16_9, focus_chapters, slide_dot, slide_title

    title, caption = slide_title(recording, model)
    try:
        if view == "page":
            from viz.page import page_html

            data = page_html(recording, model, chosen, chapters).encode()
        elif view == "architecture" and (slide or focus):
            graph = slide_dot(model, chosen, title=title, caption=caption, focus=focus, chapters=chapters,
                              detail=detail, show_pids=show_pids, fit=shutil.which("dot") is not None)
            data = graph.source.encode() if fmt == "dot" else _render(graph, fmt)
            if fmt == "pdf" and focus and len(picked := focus_chapters(chapters, focus)) > 1:
                # A phase of several chapters: one page per chapter, after the phase's own page.
                data = _pdf_pages([data, *_chapter_pages(model, chosen, title, caption, picked, detail, show_pids)])
        elif view == "architecture":
            graph = architecture_dot(model, chosen, title, caption, detail=detail)
            if shutil.which("dot"):
                fit_16_9(graph)
            data = graph.source.encode() if fmt == "dot" else _render(graph, fmt)
            if fmt == "pdf" and chapters:
                # The whole launch, then one page per walkthrough chapter (its components and calls).
                data = _pdf_pages([data, *_chapter_pages(model, chosen, title, caption, chapters, detail,
                                                          show_pids or not slide)])
        elif view == "tree":
            graph = tree_dot(model, chosen, recording_title(recording))
            data = graph.source.encode() if fmt == "dot" else _render(graph, fmt)
        elif view == "network":
            from viz.network import network_dot

            graph = network_dot([recording.header, *recording.events], chosen, recording_title(recording))
            data = graph.source.encode() if fmt == "dot" else _render(graph, fmt)
        elif view == "sequence" and fmt == "mmd":
            data = sequence_mermaid(model, chosen, chapters).encode()
        elif view == "sequence":
            data = _sequence_picture(model, chosen, chapters, title, fmt)
        else:
            data = json.dumps(perfetto_trace(model, recording), separators=(",", ":"), default=str).encode()
    except SlideError as error:
        raise ExportUsageError(str(error)) from None
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(data)
    except OSError as error:
        raise ExportError(f"cannot write {output}: {error.strerror or error}") from None
    return output


def _sequence_picture(model: TraceModel, theme: Theme, chapters: Sequence[Any], title: str, fmt: str) -> bytes:
    """The sequence drawn by Graphviz (viz.slides_sequence): the whole launch, and in PDF then one page per
    chapter: the hand-offs from its start to the next chapter's, and its own container-building calls as notes
    over the components that made them."""
    from viz.slides import chapter_components, focus_call_text
    from viz.slides_sequence import sequence_graph
    from viz.slides_text import lesson_kind

    timed = timed_sequence(model, chapters)
    messages = [message for _, message in timed]
    order = chain_order(model, messages)
    shown = [m for m in messages if m[0] != "chapter"][:MAX_SEQUENCE_MESSAGES]
    whole = _render(sequence_graph(model, theme, order, shown, title), fmt)
    if fmt != "pdf" or not chapters:
        return whole
    pages = [whole]
    starts = sorted((c for c in chapters if c.seqs), key=lambda c: c.seqs[0])
    for index, chapter in enumerate(starts):
        end = starts[index + 1].seqs[0] if index + 1 < len(starts) else float("inf")
        page: list[Message] = [m for seq, m in timed if chapter.seqs[0] <= seq < end and m[0] != "chapter"]
        for node, events in chapter_components(model, [chapter]).items():
            own = [e for e in events if isinstance(e, Syscall)]
            calls = ([e for e in own if lesson_kind(e) is not None] or own)[:3]
            page.extend(("note", node, "", hide_pids(focus_call_text(e))) for e in calls)
        involved = {n for _, src, dst, _ in page for n in (src, dst) if n}
        participants = [n for n in order if n in involved] or order[:1]
        pages.append(_render(sequence_graph(model, theme, participants, page[:40] or [("chapter", "", "", chapter.title)],
                                            chapter.title), "pdf"))
    return _pdf_pages(pages)


def _chapter_pages(model: TraceModel, theme: Theme, title: str, caption: str, chapters: Sequence[Any],
                   detail: bool, show_pids: bool) -> list[bytes]:
    """One PDF page per chapter: the slide focused on it."""
    from viz.slides import slide_dot

    pages = []
    for chapter in chapters:
        graph = slide_dot(model, theme, title=title, caption=caption, focus=chapter.id, chapters=[chapter],
                          detail=detail, show_pids=show_pids)
        pages.append(_render(graph, "pdf"))
    return pages


def _pdf_pages(documents: list[bytes]) -> bytes:
    """PDF documents joined into one, page after page (Graphviz writes one page per graph)."""
    import io

    try:
        from pypdf import PdfReader, PdfWriter
    except ImportError:
        raise ExportError("a PDF of several pages needs pypdf: run `make setup` (or pip install pypdf)") from None

    writer = PdfWriter()
    for document in documents:
        for page in PdfReader(io.BytesIO(document)).pages:
            writer.add_page(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def resolve_format(view: str, fmt: str | None, output: Path) -> str:
    """The format to write, checked against what the view supports."""
    formats = VIEW_FORMATS.get(view)
    if formats is None:
        raise ExportError(f"unknown view {view!r}: choose one of {', '.join(VIEW_FORMATS)}")
    if fmt is None:
        fmt = SUFFIX_FORMATS.get(output.suffix.lower())
        if fmt is None:
            raise ExportError(
                f"cannot tell the format from {output.name!r}: give --format ({', '.join(formats)}) "
                f"or an output ending in .{formats[0]}"
            )
    if fmt not in formats:
        raise ExportError(f"the {view} view cannot be written as {fmt}: use {', '.join(formats)}")
    return fmt


def _render(graph: Any, fmt: str) -> bytes:
    import graphviz

    try:
        return graph.pipe(format=fmt, quiet=True)
    except graphviz.ExecutableNotFound:
        raise ExportError(GRAPHVIZ_MISSING) from None
    except graphviz.CalledProcessError as error:
        stderr = error.stderr.decode(errors="replace") if isinstance(error.stderr, bytes) else str(error.stderr)
        first = stderr.strip().splitlines()[0] if stderr.strip() else f"exit status {error.returncode}"
        raise ExportError(f"Graphviz's dot failed to draw the diagram: {first}") from None


def recording_title(recording: Recording) -> str:
    header = recording.header
    words = [Path(header.command[0]).name, *header.command[1:]] if header.command else []
    command = " ".join(words) if words else f"attached to {', '.join(map(str, header.attached))}"
    return f"{header.scenario}: {command}" if header.scenario else command


# Graphviz helpers ---------------------------------------------------------------------------------------------


def html(text: str) -> str:
    """Text escaped for a Graphviz HTML-like label."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def wrap_flags(line: str, width: int = LABEL_WIDTH) -> list[str]:
    """Break a long `call(A|B|C)` line after "|" so an edge label stays narrow."""
    if len(line) <= width or "|" not in line:
        return [line]
    parts = line.split("|")
    out: list[str] = []
    current = parts[0]
    for part in parts[1:]:
        if len(current) + 1 + len(part) > width:
            out.append(current + "|")
            current = "  " + part
        else:
            current += "|" + part
    out.append(current)
    return out


def _digraph(name: str, theme: Theme, title: str, *, rankdir: str, fontsize: int) -> Any:
    import graphviz

    graph = graphviz.Digraph(name)
    graph.attr(
        "graph",
        rankdir=rankdir,
        bgcolor=theme.background,
        fontname=theme.fontname,
        fontcolor=theme.text,
        fontsize=str(theme.title_size),
        label=f"<<B>{html(title)}</B>>",
        labelloc="t",
        labeljust="l",
        pad="0.4",
        nodesep="0.45",
        ranksep="0.8",
        compound="true",
    )
    graph.attr("node", fontname=theme.fontname, fontcolor=theme.text, fontsize=str(fontsize), color=theme.node_border,
               penwidth="2")
    graph.attr("edge", fontname=theme.fontname, fontcolor=theme.text, fontsize=str(theme.edge_size), penwidth="2.2",
               arrowsize="1.1")
    return graph


def _edge_style(attrs: dict[str, Any], theme: Theme) -> dict[str, str]:
    kind = attrs["kind"]
    if kind == "ipc":
        before = attrs.get("preexisting")
        return {
            "color": theme.edge_color("preexisting" if before else "ipc"),
            "style": "dotted" if before else "dashed",
            "arrowhead": "vee",
        }
    if kind == "exec":
        return {"color": theme.edge_color("exec"), "style": "bold", "penwidth": "3"}
    return {"color": theme.edge_color("spawn"), "style": "solid"}


def _edge_label(attrs: dict[str, Any], theme: Theme) -> str:
    lines: list[str] = []
    for line in attrs.get("lines") or attrs["label"].split("\n"):
        lines.extend(wrap_flags(line))
    if attrs.get("count", 1) > 1:
        lines[-1] += f"  ×{attrs['count']}"
    if attrs.get("kind") == "ipc" and attrs.get("preexisting"):
        lines.append("(before tracing)")
    body = '<BR ALIGN="LEFT"/>'.join(html(line) for line in lines)
    return f'<<FONT COLOR="{theme.edge_color(attrs["kind"] if attrs["kind"] != "ipc" else "ipc")}">{body}'\
           f'<BR ALIGN="LEFT"/></FONT>>'


def _add_legend(graph: Any, theme: Theme, kinds: set[str], edge_kinds: set[str], size: int,
                categories: set[str] | None = None) -> None:
    import graphviz

    legend = graphviz.Digraph("cluster_legend")
    legend.attr(label="", style="rounded,filled", fillcolor=theme.legend_fill, color=theme.host_border,
                penwidth="1.5")
    legend.node("legend", label=_legend_rows(theme, kinds, edge_kinds, size, categories or set()), shape="plain",
                style="",
                fontsize=str(size))
    graph.subgraph(legend)


def _legend_rows(theme: Theme, kinds: set[str], edge_kinds: set[str], size: int, categories: set[str]) -> str:
    rows = ['<TR><TD COLSPAN="2" ALIGN="LEFT"><B>Legend</B></TD></TR>']
    for kind in ROLE_KINDS:
        if kind in kinds:
            rows.append(
                f'<TR><TD BGCOLOR="{theme.kind_fill(kind)}" BORDER="1" COLOR="{theme.node_border}" WIDTH="40"> </TD>'
                f'<TD ALIGN="LEFT">{html(KIND_DESCRIPTIONS.get(kind, kind))}</TD></TR>'
            )
    glyphs = {"spawn": "──▶", "exec": "━━▶", "ipc": "╌╌▶", "preexisting": "┈┈▶"}
    for kind in ("spawn", "exec", "ipc", "preexisting"):
        if kind in edge_kinds:
            rows.append(
                f'<TR><TD ALIGN="LEFT"><FONT COLOR="{theme.edge_color(kind)}"><B>{glyphs[kind]}</B></FONT></TD>'
                f'<TD ALIGN="LEFT">{html(EDGE_DESCRIPTIONS[kind])}</TD></TR>'
            )
    if categories:
        rows.append('<TR><TD COLSPAN="2" ALIGN="LEFT"><B>Calls, coloured by what they change</B></TD></TR>')
        for category in CATEGORIES:
            if category in categories:
                rows.append(
                    f'<TR><TD ALIGN="LEFT"><FONT COLOR="{theme.category_color(category)}"><B>call()</B></FONT></TD>'
                    f'<TD ALIGN="LEFT">{html(CATEGORY_DESCRIPTIONS.get(category, category))}</TD></TR>'
                )
        rows.append(f'<TR><TD ALIGN="LEFT"><FONT COLOR="{theme.container_border}">new namespaces</FONT></TD>'
                    '<TD ALIGN="LEFT">namespaces the process has that the host does not</TD></TR>')
        rows.append(f'<TR><TD ALIGN="LEFT"><FONT COLOR="{theme.edge_color("ipc")}">→ peer</FONT></TD>'
                    '<TD ALIGN="LEFT">the process it connected to, and the socket</TD></TR>')
        rows.append(f'<TR><TD ALIGN="LEFT"><FONT COLOR="{theme.muted}">⋮ N more</FONT></TD>'
                    '<TD ALIGN="LEFT">a run of the same call, first and last shown</TD></TR>')
        rows.append('<TR><TD ALIGN="LEFT"><I>other calls</I></TD>'
                    '<TD ALIGN="LEFT">the rest, counted by category</TD></TR>')
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="3" CELLPADDING="4">{"".join(rows)}</TABLE>>'


# The architecture view ----------------------------------------------------------------------------------------


def architecture_dot(model: TraceModel, theme: Theme, title: str = "", caption: str = "", *,
                     detail: bool = False) -> Any:
    """The architecture view: the slide of viz.slides with pids and insight notes, labels up to
    ARCHITECTURE_LABEL_LIMIT characters (not yet fitted to 16:9: `export` does that when it renders)."""
    from viz.slides import ARCHITECTURE_LABEL_LIMIT, slide_dot

    return slide_dot(model, theme, title=title, caption=caption, show_pids=True, notes=True, detail=detail,
                     limit=ARCHITECTURE_LABEL_LIMIT, fit=False)


def _node_id(node: str) -> str:
    return "n_" + "".join(c if c.isalnum() else "_" for c in node)


def _describe(model: TraceModel, pid: int) -> str:
    from viz.console import describe_pid

    return describe_pid(model.table, pid)


# The tree view ------------------------------------------------------------------------------------------------


def tree_dot(model: TraceModel, theme: Theme, title: str = "") -> Any:
    """Every process with the calls that build the container, in order, and the rest counted by category;
    children left to right in the order they were created; threads and repeated children folded."""
    procs = model.processes
    size = theme.tree_size
    graph = _digraph("tree", theme, title, rankdir="TB", fontsize=size)
    graph.attr("graph", fontsize=str(theme.title_size - 8), ranksep="0.6", nodesep="0.25", ordering="out")
    graph.attr("edge", fontsize=str(size + 1))
    graph.attr("node", shape="plain")
    kinds: set[str] = set()
    categories: set[str] = set()
    by_start = {(p.pid, p.start_seq): p for p in model.table.history}
    peers: dict[str, list[str]] = {}
    for src, dst, attrs in procs.edges(data=True):
        if attrs["kind"] == "ipc":
            role = procs.nodes[dst].get("role", dst)
            text = f"→ {role} via {short_path(attrs['path'], 40)}" + (" (before tracing)" if attrs.get("preexisting")
                                                                       else "")
            if text not in peers.setdefault(src, []):
                peers[src].append(text)
    for node, attrs in sorted(procs.nodes(data=True), key=lambda item: item[1].get("start_seq", 0)):
        kinds.add(attrs.get("role_kind", "external"))
        lesson = None
        proc = by_start.get((attrs.get("pid"), attrs.get("start_seq")))
        if proc is not None:
            events = model.table.events_by_seq
            lesson = process_lesson(events[seq] for seq in proc.event_seqs if seq in events)
            categories.update(category for category, _ in lesson.calls + lesson.summary)
        graph.node(_node_id(node), label=_tree_label(model, attrs, theme, size, lesson, peers.get(node, [])))
    edge_kinds: set[str] = set()
    # Edges in the order the children were made: with ordering=out, dot keeps siblings left to right in it.
    # Connections are not edges here (dot reorders siblings around them even with constraint=false): each
    # client's box names whom it connected to, and the architecture view draws them.
    for src, dst, attrs in sorted(procs.edges(data=True), key=lambda item: item[2].get("seq", 0)):
        if attrs["kind"] == "ipc":
            continue
        style = _edge_style(attrs, theme)
        edge_kinds.add(attrs["kind"])
        graph.edge(_node_id(src), _node_id(dst), label=_edge_label(attrs, theme), **style)
    _add_legend(graph, theme, kinds, edge_kinds, size + 2, categories=categories)
    return graph


def _tree_label(model: TraceModel, attrs: dict[str, Any], theme: Theme, size: int, lesson: Lesson | None,
                peers: list[str]) -> str:
    fill = theme.kind_fill(attrs.get("role_kind", "external"))
    mono = theme.monospace
    rows: list[str] = []

    def row(content: str, *, bg: str | None = None) -> None:
        bgcolor = f' BGCOLOR="{bg}"' if bg else ""
        rows.append(f'<TR><TD ALIGN="LEFT" BALIGN="LEFT"{bgcolor}>{content}</TD></TR>')

    if attrs.get("kind") == "external":
        row(f'<B>{html(attrs.get("role", ""))}</B>', bg=fill)
        row(f'<FONT COLOR="{theme.muted}">{html(attrs.get("path", ""))} (not traced)</FONT>')
    else:
        roles = attrs.get("roles") or [attrs["role"]]
        role = " → ".join(roles[-3:])
        count = attrs.get("count", 1)
        head = f"<B>{html(role)}</B>" + (f"  <B>×{count}</B>" if count > 1 else "")
        row(f'<FONT POINT-SIZE="{size + 3}">{head}</FONT>', bg=fill)
        facts = [_describe(model, attrs["pid"])]
        if count > 1:
            members = attrs.get("members", [])
            facts = [f"pids {members[0]} … {members[-1]}"]
        if attrs.get("threads"):
            facts.append(f"{attrs['threads']} threads")
        if attrs.get("exit"):
            facts.append(attrs["exit"])
        row(f'<FONT COLOR="{theme.muted}">{html(" · ".join(facts))}</FONT>')
        argv = shorten_ids(" ".join(attrs.get("argv") or []))
        if argv:
            row(f'<FONT FACE="{mono}">{html(argv if len(argv) <= 80 else argv[:79] + "…")}</FONT>')
        if attrs.get("new_namespaces"):
            ns = ", ".join(f"{k} {v}" for k, v in attrs["new_namespaces"].items())
            row(f'<FONT COLOR="{theme.container_border}">new namespaces: {html(ns)}</FONT>')
        if peers:
            row(f'<FONT COLOR="{theme.edge_color("ipc")}">' + '<BR ALIGN="LEFT"/>'.join(html(p) for p in peers)
                + '</FONT><BR ALIGN="LEFT"/>')
        notes = attrs.get("notes") or []
        if notes:
            row('<BR ALIGN="LEFT"/>'.join(f"<I>{html('• ' + note)}</I>" for note in notes) + '<BR ALIGN="LEFT"/>')
        if lesson is not None and lesson.calls:
            body = '<BR ALIGN="LEFT"/>'.join(
                f'<FONT COLOR="{theme.category_color(category)}">{html(text)}</FONT>' for category, text in lesson.calls
            )
            row(f'<FONT FACE="{mono}">{body}</FONT><BR ALIGN="LEFT"/>')
        if lesson is not None and lesson.summary:
            body = '<BR ALIGN="LEFT"/>'.join(
                f'<FONT COLOR="{theme.category_color(category)}">{html(text)}</FONT>'
                for category, text in lesson.summary
            )
            row(f'<FONT POINT-SIZE="{size - 1}"><I>other calls</I><BR ALIGN="LEFT"/>{body}</FONT>'
                '<BR ALIGN="LEFT"/>')
    return (f'<<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="0" CELLPADDING="4" STYLE="rounded" '
            f'COLOR="{theme.node_border}" BGCOLOR="{theme.background}">{"".join(rows)}</TABLE>>')


# The sequence view --------------------------------------------------------------------------------------------


def mermaid_text(text: str) -> str:
    """Text safe in Mermaid: `;` and `#` are syntax there, < > would be read as HTML, and a bare word `end`
    closes a block."""
    text = text.replace("#", "#35;").replace(";", "#59;").replace("<", "#lt;").replace(">", "#gt;")
    return re.sub(r"\bend\b", "#101;nd", text).replace("\n", "<br/>")


#: A message of the sequence view: (arrow, from node, to node, text); arrow "->>" a call, "-->>" an answer
#: (an exit status going back to the parent), "note" a note over `from`.
Message = tuple[str, str, str, str]


def sequence_messages(model: TraceModel, chapters: Sequence[Any] = (), *,
                      with_exits: bool = False) -> list[Message]:
    """The messages of `timed_sequence` without their event numbers."""
    return [message for _, message in timed_sequence(model, chapters, with_exits=with_exits)]


def timed_sequence(model: TraceModel, chapters: Sequence[Any] = (), *,
                   with_exits: bool = False) -> list[tuple[float, Message]]:
    """The hand-offs of the launch in trace order: process creations and execs that change component, socket
    connections, the calls that change namespaces or the root (notes over the caller), and each chapter's title
    (a note across every participant, "chapter" as its arrow) where the chapter starts; `with_exits` adds the
    exits reported to whoever reaps them."""
    book = model.book
    table = model.table
    host = table.host_namespaces()
    events = table.events_by_seq

    def node(proc: Any, seq: int) -> str:
        phase = book.phase_at(proc, seq)
        return f"{phase.role.name}@{group_key(phase.ns, host)}"

    subreapers: set[int] = set()
    timed: list[tuple[float, Message]] = []
    for proc in table.history:
        for seq in proc.event_seqs:
            event = events.get(seq)
            if not isinstance(event, Syscall) or event.error is not None:
                continue
            if event.name in DECISIVE_SYSCALLS:
                timed.append((seq, ("note", node(proc, seq), "", decisive_label(event))))
            elif event.name == "prctl" and event.args.get("option") == "PR_SET_CHILD_SUBREAPER":
                subreapers.add(id(proc))
    for proc in table.history:
        creator = book.creator_of(proc)
        first = node(proc, proc.start_seq)
        if creator is not None:
            src = node(creator, proc.start_seq)
            if src != first:
                timed.append((proc.start_seq, ("->>", src, first, clone_label(proc.via, proc.flags))))
        previous = first
        for event in proc.execs:
            after = node(proc, event.seq)
            if previous != after:
                timed.append((event.seq, ("->>", previous, after, exec_label(event))))
            previous = after
        if with_exits and proc.exit is not None and not proc.exit.detached:
            me = node(proc, proc.exit.seq)
            text = f"killed by {proc.exit.signal}" if proc.exit.signal else f"exit {proc.exit.code}"
            reaper = _reaper(model, proc, subreapers)
            if reaper is not None and node(reaper, proc.exit.seq) != me:
                timed.append((proc.exit.seq, ("-->>", me, node(reaper, proc.exit.seq), text)))
    for src, dst, attrs in model.architecture.edges(data=True):
        if attrs["kind"] == "ipc":
            text = connect_label(attrs["path"]) + (" (before tracing)" if attrs.get("preexisting") else "")
            for _ in range(1 if attrs.get("preexisting") else attrs.get("count", 1)):
                timed.append((attrs["seq"], ("->>", src, dst, text)))
    for chapter in chapters:
        if chapter.seqs:
            timed.append((chapter.seqs[0] - 0.5, ("chapter", "", "", chapter.title)))
    timed.sort(key=lambda item: item[0])
    return timed


#: Where each kind of component stands in a sequence diagram: the chain from the client to the container's
#: program, helpers after it.
CHAIN_ORDER: tuple[str, ...] = ("client", "daemon", "shim", "runtime", "tool", "init", "entrypoint", "shell",
                                "program", "hook", "external")


def chain_order(model: TraceModel, messages: list[Message]) -> list[str]:
    """The sequence's participants in the order of the chain (CLI, dockerd, containerd, shim, runc, runc init,
    the entrypoint), components of one kind in the order they first take part."""
    arch = model.architecture
    first: dict[str, int] = {}
    for _, src, dst, _ in messages:
        for node in (src, dst):
            if node and node not in first:
                first[node] = len(first)
    for node, _ in sorted(arch.nodes(data=True), key=lambda item: item[1].get("order", 0)):
        first.setdefault(node, len(first))
    rank = {kind: i for i, kind in enumerate(CHAIN_ORDER)}

    def key(node: str) -> tuple[int, int]:
        kind = arch.nodes[node].get("role_kind", "program") if node in arch else "program"
        return rank.get(kind, len(rank)), first[node]

    return sorted(first, key=key)


def _reaper(model: TraceModel, proc: Any, subreapers: set[int]) -> Any:
    """Who learns of `proc`'s exit: its parent while alive, else the nearest living ancestor that made itself a
    child subreaper (the shim, for the container process whose parent runc create has exited), else nobody
    in the trace."""
    book = model.book
    assert proc.exit is not None
    when = proc.exit.seq
    parent = book.parent_of(proc)
    if parent is not None and (parent.exit is None or parent.exit.seq > when):
        return parent
    ancestor = parent
    seen = {id(proc)}
    while ancestor is not None and id(ancestor) not in seen:
        seen.add(id(ancestor))
        alive = ancestor.exit is None or ancestor.exit.seq > when
        if alive and id(ancestor) in subreapers:
            return ancestor
        ancestor = book.parent_of(ancestor)
    return None


def sequence_mermaid(model: TraceModel, theme: Theme, chapters: Sequence[Any] = ()) -> str:
    """A Mermaid sequenceDiagram: participants are components in the order of the chain, grouped in host /
    container boxes; messages are the hand-offs; the walkthrough's chapter titles are notes across all
    participants; a block of messages repeated back to back (a shell loop) is drawn once inside `loop ×N`."""
    messages = sequence_messages(model, chapters)
    arch = model.architecture
    groups = model.groups
    # Components that sent or received nothing still take part (a lone process that only ran).
    order = chain_order(model, messages)

    def top_group(node: str) -> str:
        key = arch.nodes[node].get("group", HOST_GROUP) if node in arch else HOST_GROUP
        while key in groups and groups[key].parent not in (None, HOST_GROUP):
            key = groups[key].parent or HOST_GROUP
        return key if key in groups else HOST_GROUP

    boxes: dict[str, list[str]] = {}
    for node in order:
        boxes.setdefault(top_group(node), []).append(node)
    ids: dict[str, str] = {}
    lines = ["sequenceDiagram", "    autonumber"]
    for key in sorted(boxes, key=lambda k: order.index(boxes[k][0])):
        colour = theme.mermaid_boxes[0 if key == HOST_GROUP else 1]
        label = groups[key].label(groups) if key in groups else "host namespaces"
        lines.append(f"    box {colour} {mermaid_text(label)}")
        for node in boxes[key]:
            ids[node] = f"P{len(ids) + 1}"
            name = arch.nodes[node].get("role", node) if node in arch else node.split("@")[0]
            lines.append(f"        participant {ids[node]} as {mermaid_text(name)}")
        lines.append("    end")

    def render(message: Message, indent: str) -> str:
        arrow, src, dst, text = message
        if arrow == "chapter":
            span = f"P1,P{len(ids)}" if len(ids) > 1 else "P1"
            return f"{indent}Note over {span}: {mermaid_text(text)}"
        if arrow == "note":
            return f"{indent}Note over {ids[src]}: {mermaid_text(text)}"
        return f"{indent}{ids[src]}{arrow}{ids[dst]}: {mermaid_text(hide_pids(text))}"

    shown = 0
    left = 0
    for block, repeats in fold_repeats(messages):
        if shown >= MAX_SEQUENCE_MESSAGES:
            left += len(block)
            continue
        shown += len(block)
        if repeats > 1:
            lines.append(f"    loop ×{repeats}")
            lines.extend(render(message, "        ") for message in block)
            lines.append("    end")
        else:
            lines.append(render(block[0], "    "))
    if left and order:
        lines.append(f"    Note over {ids[order[0]]}: +{left} more messages")
    return "\n".join(lines) + "\n"


# The timeline view --------------------------------------------------------------------------------------------


def _us(seconds: float) -> float:
    return round(max(seconds, 0.0) * 1_000_000, 3)


def perfetto_trace(model: TraceModel, recording: Recording) -> dict[str, Any]:
    """Chrome/Perfetto trace-event JSON: a track per process, syscalls as X slices, execs and forks as instants."""
    book = model.book
    table = model.table
    out: list[dict[str, Any]] = []
    named_threads: set[tuple[int, int]] = set()
    track_end: dict[tuple[int, int], float] = {}
    for index, proc in enumerate(table.history):
        role = book.role(proc)
        name = f"{role} [{proc.pid}]"
        out.append({"ph": "M", "name": "process_name", "pid": proc.pid, "tid": proc.pid, "args": {"name": name}})
        out.append({"ph": "M", "name": "process_sort_index", "pid": proc.pid, "tid": proc.pid,
                    "args": {"sort_index": index}})
        out.append({"ph": "M", "name": "thread_name", "pid": proc.pid, "tid": proc.pid,
                    "args": {"name": f"{Path(proc.executable).name} {proc.pid}"}})
        named_threads.add((proc.pid, proc.pid))
    for event in recording.events:
        pid = getattr(event, "pid", None)
        if not isinstance(pid, int):
            continue
        if isinstance(event, Syscall):
            tid = event.tid or pid
            if (pid, tid) not in named_threads:
                named_threads.add((pid, tid))
                out.append({"ph": "M", "name": "thread_name", "pid": pid, "tid": tid,
                            "args": {"name": f"thread {tid}"}})
            # Arguments are JSON already (they came from a recording); json.dumps(default=str) covers the rest.
            args = {"call": format_call(event.name, event.args, event.ret, event.error), **event.args}
            if event.error:
                args["error"] = event.error
            elif event.ret is not None:
                args["ret"] = event.ret
            if event.notes:
                args["notes"] = event.notes
            if event.dur is not None:
                # Slices of one track must not overlap; rounding to microseconds must not make them.
                start, end = _us(event.t - event.dur), _us(event.t)
                start = min(max(start, track_end.get((pid, tid), 0.0)), end)
                track_end[(pid, tid)] = end
                out.append({"ph": "X", "name": event.name, "cat": event.category, "pid": pid, "tid": tid,
                            "ts": start, "dur": round(end - start, 3), "args": args})
            else:
                out.append({"ph": "i", "s": "t", "name": event.name, "cat": event.category, "pid": pid,
                            "tid": tid, "ts": _us(event.t), "args": args})
        elif isinstance(event, Exec):
            out.append({"ph": "i", "s": "p", "name": f"{event.syscall} {event.path}", "cat": "exec", "pid": pid,
                        "tid": pid, "ts": _us(event.t), "args": {"argv": event.argv, "nspid": event.nspid}})
        elif isinstance(event, ProcessStarted):
            how = event.via if event.via in ("launch", "attach") else clone_label(event.via, event.flags)
            out.append({"ph": "i", "s": "p", "name": f"started: {how}", "cat": "process", "pid": pid,
                        "tid": pid, "ts": _us(event.t),
                        "args": {"creator": event.creator, "parent": event.ppid, "flags": event.flags,
                                 "nspid": event.nspid}})
            if event.creator is not None and event.creator != pid and event.via not in ("launch", "attach"):
                out.append({"ph": "i", "s": "t", "name": f"{how} → {pid}", "cat": "process",
                            "pid": event.creator, "tid": event.creator, "ts": _us(event.t), "args": {"child": pid}})
        elif isinstance(event, Exit):
            text = "left running" if event.detached else (
                f"killed by {event.signal}" if event.signal else f"exit {event.code}")
            out.append({"ph": "i", "s": "p", "name": text, "cat": "process", "pid": pid, "tid": pid,
                        "ts": _us(event.t), "args": {}})
        elif isinstance(event, NamespaceChange):
            out.append({"ph": "i", "s": "t", "name": f"new {event.kind} namespace", "cat": "namespaces",
                        "pid": pid, "tid": pid, "ts": _us(event.t),
                        "args": {"old": event.old, "new": event.new, "via": event.via}})
        elif isinstance(event, Ipc):
            out.append({"ph": "i", "s": "t", "name": f"connect {event.path}", "cat": "ipc", "pid": pid,
                        "tid": pid, "ts": _us(event.t),
                        "args": {"peer": event.peer_pid, "before_tracing": event.preexisting}})
    header = recording.header
    return {
        "traceEvents": out,
        "displayTimeUnit": "ms",
        "otherData": {
            "boxtrace": header.boxtrace,
            "command": " ".join(header.command),
            "scenario": header.scenario or "",
            "kernel": header.kernel,
            "started": header.started,
        },
    }

