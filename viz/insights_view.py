"""Rich renderables of the learner insights (tracer.insights), for the console's end summary and the TUI.

Pure functions of an `Insights` object, as the rest of viz/console.py: a live run and `boxtrace show` of its
recording render the same text.

- `render_insights(insights)`: every section that has something to say, diagnosis first;
- `render_process_insights(insights, pid)`: the facts about one process (the TUI's details pane);
- `render_mount_tree(tree)` and `render_seccomp(filter)`: one insight in full.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from tracer.insights import Insights, SeccompFilter
from tracer.insights.capabilities import ALL_CAPABILITIES
from tracer.insights.common import NAMESPACE_ORDER
from tracer.insights.mounts import MountTree

SECTION_STYLE = "bold"
MAX_NAMES = 10


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


def _names(names: list[str], limit: int = MAX_NAMES) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", ... (+{len(names) - limit})" if len(names) > limit else "")


def render_diagnoses(insights: Insights) -> RenderableType | None:
    if not insights.diagnoses:
        return None
    parts: list[RenderableType] = [_section("Why the launch failed", "bold red")]
    for d in insights.diagnoses:
        parts.append(Text(f"  {d.sentence}.", style="red"))
        parts.append(Text(f"  Fix: {d.fix}.", style="yellow"))
    return Group(*parts)


def render_namespaces(insights: Insights) -> RenderableType | None:
    if not insights.namespaces:
        return None
    order = {kind: i for i, kind in enumerate(NAMESPACE_ORDER)}
    rows = [
        (f"{o.kind} {o.inode}", o.describe())
        for o in sorted(insights.namespaces, key=lambda o: (order.get(o.kind, 99), o.seq))
    ]
    return Group(_section("Namespaces: who made them"), _facts_table(rows, "magenta"))


def render_idmaps(insights: Insights) -> RenderableType | None:
    facts = insights.idmaps.facts()
    failed = [w for w in insights.idmaps.writes if not w.ok]
    if not facts and not failed:
        return None
    lines = [Text(f"  {line}") for line in facts]
    lines += [Text(f"  writing {w.file} ({w.data!r}) failed with {w.error}", style="red") for w in failed]
    return Group(_section("User namespace id maps"), *lines)


def render_cgroups(insights: Insights) -> RenderableType | None:
    facts = insights.cgroups.facts()
    if not facts:
        return None
    return Group(_section("cgroups"), *(Text(f"  {line}", style="blue") for line in facts))


def render_capabilities(insights: Insights) -> RenderableType | None:
    procs = list(insights.capabilities.processes.values())
    if not procs:
        return None
    rows: list[tuple[str, str]] = []
    for caps in procs:
        total = len(ALL_CAPABILITIES)
        if caps.bounding_dropped:
            rows.append(
                (
                    caps.process,
                    f"bounding set: dropped {len(caps.dropped('bounding'))} of {total}, kept "
                    + (", ".join(caps.kept("bounding")) or "none"),
                )
            )
        if caps.capset_seqs:
            rows.append(
                (
                    caps.process,
                    f"effective: {len(caps.kept('effective'))} kept "
                    f"({', '.join(caps.kept('effective')) or 'none'})",
                )
            )
        if caps.no_new_privs:
            rows.append((caps.process, "no_new_privs: set"))
    note = Text(
        "  (before: assumed all capabilities, as for root; the trace records only the changes)", style="dim"
    )
    return Group(_section("Capabilities"), _facts_table(rows, "yellow"), note)


def render_seccomp(found: SeccompFilter) -> RenderableType:
    """One filter: what it does to the system calls, by action."""
    head = Text(f"  {found.facts()[0]}")
    analysis = found.analysis
    if analysis is None:
        return Group(head, Text(f"  not evaluated: {found.problem}", style="dim"))
    rows = [
        ("default", f"{analysis.default.label}"),
        ("allowed", f"{len(analysis.allowed)} of {len(analysis.verdicts)} system calls"),
    ]
    for label, names in analysis.by_action.items():
        rows.append((label, f"{len(names)}: {_names(names)}"))
    if analysis.depends_on_arguments:
        rows.append(("depends on arguments", ", ".join(analysis.depends_on_arguments)))
    if analysis.newer != analysis.default:
        rows.append(("newer syscalls", analysis.newer.label))
    return Group(head, _facts_table(rows, "yellow"))


def render_seccomp_section(insights: Insights) -> RenderableType | None:
    if not insights.seccomp:
        return None
    return Group(_section("seccomp"), *(render_seccomp(f) for f in insights.seccomp))


def render_mounts(insights: Insights) -> RenderableType | None:
    facts = insights.mounts.facts()
    if not facts:
        return None
    return Group(
        _section("Mount table: before and after"), *(Text(f"  {line}", style="cyan") for line in facts)
    )


def render_mount_tree(tree: MountTree, title: str = "") -> RenderableType:
    """A snapshot as an indented tree, "/" first."""
    lines = [Text(line) for line in tree.lines()] or [Text("(no mount visible)", style="dim")]
    return Group(_section(title), *lines) if title else Group(*lines)


def render_entrypoint(insights: Insights) -> RenderableType | None:
    e = insights.entrypoint
    if e is None:
        return None
    return Text(
        f"Entrypoint: {e.exec.path} is pid {e.inner_pid} in its pid namespace (host pid {e.exec.pid}), "
        f"{e.after:.3f} s after the launch started",
        style="bold green",
    )


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


def render_process_insights(insights: Insights, pid: int) -> RenderableType:
    facts = insights.for_process(pid)
    if not facts:
        return Text("nothing notable about this process", style="dim")
    return Group(*(Text(f"- {line}") for line in facts))
