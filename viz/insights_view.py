"""The learner insights (tracer.insights) as a reader meets them: the console's end summary and the TUI's details
pane. Rendering only: what to say comes from `Insights` (its queries, `process_sections`, `event_sentences`,
`diagram_notes`) and its words from tracer.insights.sentences; this module lays them out with rich.

Pure functions of an `Insights` object, as the rest of viz/console.py: a live run and `boxtrace show` of its
recording render the same text.

- `render_insights(insights)`: every section that has something to say, diagnosis first (the console);
- `render_process_insights(insights, pid)`: everything about one process (the TUI's process details);
- `render_mount_tree(tree)` and `render_seccomp(filter)`: one insight in full;
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from tracer.events import NAMESPACE_ORDER
from tracer.insights import Insights, SeccompFilter
from tracer.insights import sentences as say
from tracer.insights.capabilities import capability_order
from tracer.insights.mounts import MountTree

SECTION_STYLE = "bold"


def _section(title: str, style: str = SECTION_STYLE) -> Text:
    return Text(title, style=style)


def _facts_table(rows: list[tuple[str, str]], key_style: str = "bold") -> RenderableType:
    """Two columns, indented; cells are plain Text so "[ns pid 1]" is never read as markup."""
    table = Table(show_header=False, box=None, pad_edge=False, expand=False)
    table.add_column("what", style=key_style, no_wrap=True)
    table.add_column("value", overflow="fold")
    for key, value in rows:
        table.add_row(Text(key), Text(value))
    return Padding(table, (0, 0, 0, 2))


# Sections of the console summary --------------------------------------------------------------------------------


def render_capabilities(insights: Insights) -> RenderableType | None:
    procs = list(insights.capabilities.processes.values())
    if not procs:
        return None
    rows: list[tuple[str, str]] = []
    for caps in procs:
        if caps.bounding_dropped:
            rows.append((caps.process, say.bounding_dropped(len(caps.dropped("bounding")), len(caps.before.bounding),
                                                            caps.kept("bounding"))))
        if caps.capset_seqs:
            before, after = caps.before.effective, caps.after.effective
            kept = [name for name in caps.kept("effective") if name in before]
            raised = sorted(after - before, key=capability_order)
            rows.append((caps.process, say.effective_changed(kept, len(before), len(caps.dropped("effective")), raised)))
        if caps.no_new_privs:
            rows.append((caps.process, say.NO_NEW_PRIVS_ROW))
    parts: list[RenderableType] = [_section("Capabilities"), _facts_table(rows, "yellow")]
    if any(c.assumed_before for c in procs):
        parts.append(Text(f"  ({say.ASSUMED_BEFORE})", style="dim"))
    return Group(*parts)


def render_diagnoses(insights: Insights) -> RenderableType | None:
    if not insights.diagnoses:
        return None
    parts: list[RenderableType] = [_section("Why the launch failed", "bold red")]
    for d in insights.diagnoses:
        why, fix = say.diagnosis_lines(d.sentence, d.fix)
        parts.append(Text(f"  {why}", style="red"))
        parts.append(Text(f"  {fix}", style="yellow"))
    return Group(*parts)


def render_namespaces(insights: Insights) -> RenderableType | None:
    if not insights.namespaces:
        return None
    order = {kind: i for i, kind in enumerate(NAMESPACE_ORDER)}
    rows = [say.namespace_row(o) for o in sorted(insights.namespaces, key=lambda o: (order.get(o.kind, 99), o.seq))]
    return Group(_section("Namespaces: who made them"), _facts_table(rows, "magenta"))


def render_idmaps(insights: Insights) -> RenderableType | None:
    facts = insights.idmaps.facts()
    failed = [w for w in insights.idmaps.writes if not w.ok]
    if not facts and not failed:
        return None
    lines = [Text(f"  {line}") for line in facts]
    for w in failed:
        later = next((o for o in insights.idmaps.writes if o.ok and o.seq > w.seq and o.file == w.file
                      and o.target == w.target), None)
        text = f"  {say.failed_map_write(w)}"
        if later is not None:
            writer = insights.table.processes.get(later.writer)
            text += say.map_written_later(later.writer, writer.comm if writer is not None else str(later.writer))
        lines.append(Text(text, style="yellow" if later is not None else "red"))
    # The maps as a picture: inside ids -> outside ids, one arrow per range.
    lines += [Text(f"  {line}", style="cyan") for maps in insights.idmaps.namespaces.values()
              for line in maps.picture()]
    return Group(_section("User namespace id maps"), *lines)


def render_cgroups(insights: Insights) -> RenderableType | None:
    facts = insights.cgroups.facts()
    if not facts:
        return None
    return Group(_section("cgroups"), *(Text(f"  {line}", style="blue") for line in facts))


def render_seccomp(found: SeccompFilter) -> RenderableType:
    """One filter: what it does to the system calls, by action."""
    head = Text(f"  {found.facts()[0]}")
    analysis = found.analysis
    if analysis is None:
        return Group(head, Text(f"  {say.seccomp_not_evaluated(found.problem)}", style="dim"))
    return Group(head, _facts_table(say.seccomp_rows(analysis), "yellow"))


def render_seccomp_section(insights: Insights) -> RenderableType | None:
    if not insights.seccomp:
        return None
    return Group(_section("seccomp"), *(render_seccomp(f) for f in insights.seccomp))


def render_mounts(insights: Insights) -> RenderableType | None:
    """The mount-table changes, grouped: one heading per process and pair of moments, its facts under it."""
    diffs = [diff for diff in insights.mounts.diffs if diff.facts()]
    if not diffs:
        return None
    parts: list[RenderableType] = [_section("Mount table: before and after")]
    for diff in diffs:
        parts.append(Text(f"  {say.mount_heading(diff)}", style="bold cyan"))
        # A grid keeps a wrapped fact under its own indentation.
        grid = Table.grid(padding=0)
        grid.add_column(width=4)
        grid.add_column(ratio=1)
        for fact in say.mount_facts(diff):
            grid.add_row("", Text(fact, style="cyan"))
        parts.append(grid)
    return Group(*parts)


def render_mount_tree(tree: MountTree, title: str = "") -> RenderableType:
    """A snapshot as an indented tree, "/" first."""
    lines = [Text(line) for line in tree.lines()] or [Text(say.NO_MOUNT_VISIBLE, style="dim")]
    return Group(_section(title), *lines) if title else Group(*lines)


def render_entrypoint(insights: Insights) -> RenderableType | None:
    e = insights.entrypoint
    if e is None:
        return None
    return Text(say.entrypoint_heading(e), style="bold green")


def render_insights(insights: Insights) -> RenderableType:
    """Every section with something to say, diagnosis first; an empty Group when there is nothing."""
    sections = [
        render_diagnoses(insights),
        render_namespaces(insights),
        render_idmaps(insights),
        render_cgroups(insights),
        render_capabilities(insights),
        render_seccomp_section(insights),
        render_mounts(insights),
        render_entrypoint(insights),
    ]
    parts: list[RenderableType] = []
    for section in sections:
        if section is not None:
            if parts:
                parts.append(Text(""))
            parts.append(section)
    return Group(*parts)


# One process (the TUI's process details) -------------------------------------------------------------------------


def render_process_insights(insights: Insights, pid: int) -> RenderableType:
    """Everything the insights say about one process, a titled block per subject."""
    return render_process_sections(insights.process_sections(pid))


def render_process_sections(sections: list[tuple[str, list[str]]]) -> RenderableType:
    """Insights.process_sections laid out: each title, its lines indented under it."""
    if not sections:
        return Text("nothing notable about this process", style="dim")
    parts: list[RenderableType] = []
    for title, lines in sections:
        failed = title == say.SECTION_FAILED
        parts.append(Text(title, style="bold red" if failed else "bold"))
        parts.extend(Text(f"  {line}", style="red" if failed else "") for line in lines)
    return Group(*parts)
