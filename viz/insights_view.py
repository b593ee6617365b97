"""The learner insights (tracer.insights) as a reader meets them: the console's end summary, the TUI's details
pane and the diagrams' node notes.

Pure functions of an `Insights` object, as the rest of viz/console.py: a live run and `boxtrace show` of its
recording render the same text.

- `render_insights(insights)`: every section that has something to say, diagnosis first (the console);
- `render_process_insights(insights, pid)`: everything about one process (the TUI's process details): the id
  map of its user namespace, the cgroup it lives in and its limits, its capabilities before and after, the
  seccomp filter it runs under, its mount table changes, and any diagnosis about it;
- `event_sentences(insights)`: seq -> the insight sentences an event gave rise to (a write to uid_map, a capset,
  a seccomp install, pivot_root...), for the TUI's event details;
- `diagram_notes(insights)`: pid -> short notes for diagram nodes ("uid 0 → host 65534 (1 id)",
  "caps: 14 kept, 26 dropped");
- `render_mount_tree(tree)` and `render_seccomp(filter)`: one insight in full.

"Where does a process live" questions (its cgroup, the seccomp filters it runs under) follow the kernel's rule
that a child starts with its creator's cgroup and filters: the process's own moves and installs count, then those
its creators made before creating the next process down the chain.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from tracer.decoders import Trait, syscalls_with
from tracer.events import NAMESPACE_ORDER, Event, Exec, MountSnapshot, ProcessStarted, Syscall
from tracer.insights import Insights, SeccompFilter
from tracer.insights.capabilities import (
    ALL_CAPABILITIES,
    CapabilitySets,
    ProcessCapabilities,
    sets_from_masks,
)
from tracer.insights.cgroups import DEVICE_FILES, CgroupMove
from tracer.insights.cgroups import _where as hierarchies
from tracer.insights.common import human_bytes
from tracer.insights.mounts import Mount, MountDiff, MountTree

SECTION_STYLE = "bold"
#: A container id in a cgroup path (docker's 64 hex digits, optionally with a scope prefix).
_LONG_ID = re.compile(r"^([\w.-]*?-?)([0-9a-f]{32,})(?:\.scope)?$")
MAX_NAMES = 10
#: Longest note on a diagram node.
MAX_NOTE_CHARS = 72
#: The kinds of capability set a learner compares, in the order they are shown.
SHOWN_SETS: tuple[str, ...] = ("bounding", "effective", "permitted", "inheritable", "ambient")
#: Which mount snapshot follows which call (to show a diff's sentences on the call that caused it).
_SNAPSHOT_CALLS = {
    "after-pivot_root": ("pivot_root",),
    "after-chroot": ("chroot",),
    "after-old-root-detached": ("umount2", "umount"),
}


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


def _cut(text: str, limit: int = MAX_NOTE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Where a process lives: its cgroup, its seccomp filters ---------------------------------------------------------


def _chain(insights: Insights, pid: int) -> Iterator[tuple[int, int | None]]:
    """(pid, before) for the process and then each creator up the chain: what a creator did counts for the
    process only before `before`, the seq at which it created the next process down (None: any time)."""
    processes = insights.table.processes
    seen: set[int] = set()
    current: int | None = pid
    before: int | None = None
    while current is not None and current not in seen:
        seen.add(current)
        yield current, before
        proc = processes.get(current)
        if proc is None:
            return
        before = proc.start_seq
        current = proc.creator if proc.creator is not None else None


@dataclass
class CgroupPlacement:
    """The cgroup a process lives in as far as the trace shows: moved there itself, or born from a process that
    was."""

    cgroup: str
    #: The successful moves into it (one per hierarchy on cgroup v1 and hybrid layouts).
    moves: list[CgroupMove]
    #: The process whose move put it there (itself, or a creator up the chain).
    moved: int

    def where(self) -> str:
        """"v1: cpuset, memory, ...; v2: unified": the hierarchies it was moved into, as the cgroups facts say."""
        return hierarchies([m.target for m in self.moves])


def cgroup_of(insights: Insights, pid: int) -> CgroupPlacement | None:
    """The cgroup `pid` lives in: its own last successful move, else the last move of the nearest creator up the
    chain made before it created the next process down."""
    moves_of: dict[int, list[CgroupMove]] = {}
    for move in insights.cgroups.moves:
        if move.ok and move.pid is not None:
            moves_of.setdefault(move.pid, []).append(move)
    if not moves_of:
        return None
    for who, before in _chain(insights, pid):
        moves = [m for m in moves_of.get(who, ()) if before is None or m.seq < before]
        if moves:
            cgroup = moves[-1].target.cgroup
            same = [m for m in moves if m.target.cgroup == cgroup]
            return CgroupPlacement(cgroup, same, who)
    return None


def cgroup_limits(insights: Insights, cgroup: str) -> list[str]:
    """What was written into the cgroup's control files, as a learner reads it; device rules in one line."""
    lines: list[str] = []
    rules: list[str] = []
    for setting in insights.cgroups.limits():
        if setting.target.cgroup != cgroup:
            continue
        if setting.target.file in DEVICE_FILES:
            rules.append(setting.meaning.removeprefix("devices: "))
        elif setting.meaning not in lines:
            lines.append(setting.meaning)
    if any(line.startswith("CPU quota") for line in lines):  # v1 splits a CPU limit over quota and period
        cpus = [limit for limit in short_limits(insights, cgroup) if limit.endswith(" CPUs")]
        if cpus:
            lines.append(f"CPU limit {cpus[0]} (quota / period)")
    if rules:
        lines.append("device rules: " + "; ".join(dict.fromkeys(rules)))
    return lines


def short_limits(insights: Insights, cgroup: str) -> list[str]:
    """The limits worth a slide: memory, processes, CPU ("memory 256 MiB", "64 pids", "0.5 CPUs")."""
    out: dict[str, str] = {}
    quota: int | None = None
    period = 100000
    for setting in insights.cgroups.limits():
        if setting.target.cgroup != cgroup:
            continue
        file, value = setting.target.file or "", setting.value.strip()
        if file in ("memory.max", "memory.limit_in_bytes"):
            number = _int(value)
            if number is not None and 0 < number < 0x7FFFFFFFFFFFF000:
                out["memory"] = f"memory {human_bytes(number)}"
        elif file == "pids.max" and value != "max":
            out["pids"] = f"{value} pids"
        elif file == "cpu.max":
            parts = value.split()
            q = _int(parts[0]) if parts else None
            p = _int(parts[1]) if len(parts) > 1 else 100000
            if q is not None and p:
                out["cpu"] = f"{q / p:g} CPUs"
        elif file == "cpu.cfs_quota_us":
            q = _int(value)
            quota = q if q is not None and q > 0 else None
        elif file == "cpu.cfs_period_us":
            p = _int(value)
            period = p if p else period
    if quota is not None and "cpu" not in out:
        out["cpu"] = f"{quota / period:g} CPUs"
    return list(out.values())


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def short_cgroup(cgroup: str) -> str:
    """/docker/8cd1842ef0ab… for /docker/8cd1842ef0abcd8c...: container ids cut like docker's short ids."""
    parts = [_LONG_ID.sub(lambda m: m[1] + m[2][:12] + "…", part) for part in cgroup.split("/")]
    return "/".join(parts) or "/"


def seccomp_of(insights: Insights, pid: int) -> list[tuple[SeccompFilter, bool]]:
    """The filters `pid` runs under, oldest first, each with True when it was inherited from a creator (filters
    are kept across fork and exec and can never be removed)."""
    if not insights.seccomp:
        return []
    out: list[tuple[SeccompFilter, bool]] = []
    for who, before in _chain(insights, pid):
        mine = [f for f in insights.seccomp if f.pid == who and (before is None or f.seq < before)]
        out = [(f, who != pid) for f in mine] + out
    return out


# Capabilities ---------------------------------------------------------------------------------------------------


def capabilities_seen(insights: Insights) -> dict[int, tuple[int, CapabilitySets]]:
    """pid -> (seq, sets) of the last process or exec event that recorded its capability sets."""
    out: dict[int, tuple[int, CapabilitySets]] = {}
    for event in insights.events:
        if isinstance(event, ProcessStarted | Exec) and event.caps:
            sets = sets_from_masks(event.caps)
            if sets is not None:
                out[event.pid] = (event.seq, sets)
    return out


def assumed_note(insights: Insights) -> str | None:
    """Said once when some "before" sets are assumed rather than read (a recording without `caps`)."""
    if any(c.assumed_before for c in insights.capabilities.processes.values()):
        return (
            "before: assumed all capabilities, as for root (this recording does not carry the sets each process "
            "started with)"
        )
    return None


def capability_rows(caps: ProcessCapabilities) -> list[tuple[str, str]]:
    """(set, "40 before → 14 after: kept 14, dropped 26 (CAP_...)") for each set that changed; kept + dropped is
    the size of the set before (capabilities raised into a set, as capset may do from the permitted set into the
    effective one, are listed apart)."""
    rows: list[tuple[str, str]] = []
    for which in SHOWN_SETS:
        before, after = caps.before.get(which), caps.after.get(which)
        if before == after:
            continue
        dropped = caps.dropped(which)
        kept = caps.kept(which)
        gained = sorted(after - before)
        text = f"{len(before)} before → {len(after)} after"
        if dropped:
            text += f": kept {len(before & after)}, dropped {len(dropped)} ({_names(dropped)})"
        if gained:
            text += f"; gained {_names(gained)}"
        if kept and len(kept) <= MAX_NAMES:
            text += f"; kept {', '.join(kept)}"
        rows.append((which, text))
    return rows


def capability_note(caps: ProcessCapabilities) -> str | None:
    """"caps: 14 kept, 26 dropped": the bounding set when it shrank (no exec can bring those back), else the
    effective set; ", no_new_privs" when set."""
    which = "bounding" if caps.bounding_dropped else "effective"
    before, after = caps.before.get(which), caps.after.get(which)
    dropped = before - after
    parts: list[str] = []
    if dropped:
        parts.append(f"caps: {len(before & after)} kept, {len(dropped)} dropped")
    if caps.no_new_privs:
        parts.append("no_new_privs")
    return ", ".join(parts) or None


def render_capabilities(insights: Insights) -> RenderableType | None:
    procs = list(insights.capabilities.processes.values())
    if not procs:
        return None
    rows: list[tuple[str, str]] = []
    for caps in procs:
        if caps.bounding_dropped:
            before = caps.before.bounding
            rows.append(
                (
                    caps.process,
                    f"bounding set: dropped {len(caps.dropped('bounding'))} of {len(before)}, kept "
                    + (", ".join(caps.kept("bounding")) or "none"),
                )
            )
        if caps.capset_seqs:
            before, after = caps.before.effective, caps.after.effective
            kept = [name for name in caps.kept("effective") if name in before]
            raised = sorted(after - before, key=_cap_order)
            rows.append(
                (
                    caps.process,
                    f"effective: kept {len(kept)} of {len(before)} ({', '.join(kept) or 'none'}), dropped "
                    f"{len(caps.dropped('effective'))}" + (f", raised {', '.join(raised)}" if raised else ""),
                )
            )
        if caps.no_new_privs:
            rows.append((caps.process, "no_new_privs: set"))
    parts: list[RenderableType] = [_section("Capabilities"), _facts_table(rows, "yellow")]
    note = assumed_note(insights)
    if note is not None:
        parts.append(Text(f"  ({note})", style="dim"))
    return Group(*parts)


# Sections of the console summary --------------------------------------------------------------------------------


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
    for w in failed:
        later = next((o for o in insights.idmaps.writes if o.ok and o.seq > w.seq and o.file == w.file
                      and o.target == w.target), None)
        text = f"  writing {w.file} ({w.data!r}) failed with {w.error}"
        if later is not None:
            writer = insights.table.processes.get(later.writer)
            who = writer.comm if writer is not None else str(later.writer)
            text += f"; {later.writer} ({who}) wrote it afterwards"
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
    """The mount-table changes, grouped: one heading per process and pair of moments, its facts under it."""
    diffs = [diff for diff in insights.mounts.diffs if diff.facts()]
    if not diffs:
        return None
    parts: list[RenderableType] = [_section("Mount table: before and after")]
    for diff in diffs:
        head = f"{diff.pid}: {diff.before_moment} -> {diff.after_moment}"
        parts.append(Text(f"  {diff.pid}, from {diff.before_moment} to {diff.after_moment}", style="bold cyan"))
        # A grid keeps a wrapped fact under its own indentation.
        grid = Table.grid(padding=0)
        grid.add_column(width=4)
        grid.add_column(ratio=1)
        for line in diff.facts():
            fact = line[len(head) + 2:] if line.startswith(head + ": ") else line
            grid.add_row("", Text(fact, style="cyan"))
        parts.append(grid)
    return Group(*parts)


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


# One process (the TUI's process details) -------------------------------------------------------------------------


def process_insight_sections(
    insights: Insights, pid: int, seen_caps: dict[int, tuple[int, CapabilitySets]] | None = None
) -> list[tuple[str, list[str]]]:
    """(title, lines) for everything the insights say about one process, diagnosis first. `seen_caps` is
    `capabilities_seen(insights)`, passed in by callers that render many processes."""
    sections: list[tuple[str, list[str]]] = []
    failed = [d for d in insights.diagnoses if d.pid == pid]
    if failed:
        sections.append(("why it failed", [line for d in failed for line in (f"{d.sentence}.", f"Fix: {d.fix}.")]))
    made = [
        f"{o.kind} namespace {o.inode}: made with {o.syscall}" + (" (joined)" if o.syscall == "setns" else "")
        for o in insights.namespaces
        if o.pid == pid and (o.created or o.syscall == "setns")
    ]
    if made:
        sections.append(("namespaces it made", made))
    maps = insights.idmaps.for_process(pid, insights.table)
    if maps is not None:
        sections.append(("user namespace id map (every process in this namespace)", maps.facts()))
    placement = cgroup_of(insights, pid)
    if placement is not None:
        if placement.moved == pid:
            how = f"moved there ({placement.where()})"
        else:
            how = (
                f"born there: created (through its creators) from {placement.moves[0].process}, which was "
                f"moved in first ({placement.where()})"
            )
        lines = [f"in cgroup {placement.cgroup}: {how}"]
        lines += cgroup_limits(insights, placement.cgroup) or ["no limit written to this cgroup in the trace"]
        sections.append(("cgroup", lines))
    lines = _capability_lines(insights, pid, seen_caps)
    if lines:
        sections.append(("capabilities", lines))
    filters = seccomp_of(insights, pid)
    if filters:
        lines = []
        for found, inherited in filters:
            analysis = found.analysis
            who = f"inherited from {found.process}" if inherited else f"installed with {found.via}"
            if analysis is None:
                lines.append(f"a filter {who}, not evaluated: {found.problem}")
                continue
            lines.append(
                f"a filter of {found.length} instructions {who}: default {analysis.default.label}, "
                f"{len(analysis.allowed)} of {len(analysis.verdicts)} system calls allowed, {len(analysis.denied)} denied"
            )
            for label, names in analysis.by_action.items():
                lines.append(f"{label}: {len(names)} ({_names(names)})")
            if analysis.depends_on_arguments:
                lines.append("depends on arguments: " + ", ".join(analysis.depends_on_arguments))
        sections.append(("seccomp", lines))
    diffs = insights.mounts.diffs_of(pid)
    if diffs:
        prefix = f"{pid}: "
        sections.append(("mount table", [line.removeprefix(prefix) for d in diffs for line in d.facts()]))
    e = insights.entrypoint
    if e is not None and e.exec.pid == pid:
        sections.append((
            "entrypoint",
            [f"runs the container's entrypoint {e.exec.path} as pid {e.inner_pid} of its pid namespace, "
             f"{e.after:.3f} s after the launch started"],
        ))
    return sections


def _capability_lines(
    insights: Insights, pid: int, seen_caps: dict[int, tuple[int, CapabilitySets]] | None
) -> list[str]:
    """Before and after for a process that changed its sets; else the sets it was seen with."""
    caps = insights.capabilities.for_process(pid)
    lines: list[str] = []
    if caps is not None:
        lines += [f"{which}: {text}" for which, text in capability_rows(caps)]
        if caps.no_new_privs:
            lines.append("no_new_privs set: no setuid bit or file capability can raise privileges again")
        lines.append(
            "before: assumed all capabilities, as for root (this recording does not carry them)"
            if caps.assumed_before
            else "before: the sets it had when it started or last exec'd, as recorded"
        )
    else:
        seen = (seen_caps if seen_caps is not None else capabilities_seen(insights)).get(pid)
        if seen is None:
            return []
        sets = seen[1]
        if sets.effective and sets.effective == sets.bounding and len(sets.bounding) >= len(ALL_CAPABILITIES) - 1:
            lines.append(f"effective {len(sets.effective)}, bounding {len(sets.bounding)}: a full root set")
        else:
            effective = _names(sorted(sets.effective, key=_cap_order)) if sets.effective else "none"
            lines.append(f"effective {len(sets.effective)}: {effective}")
            if sets.bounding != sets.effective:
                lines.append(f"bounding {len(sets.bounding)}")
        if sets.ambient:
            lines.append("ambient: " + ", ".join(sorted(sets.ambient, key=_cap_order)))
        lines.append("as recorded when it started or last exec'd; it changed none of them")
    proc = insights.table.processes.get(pid)
    host_user = insights.table.host_namespaces().get("user")
    user = proc.ns.get("user") if proc is not None else None
    if user is not None and host_user is not None and user != host_user:
        lines.append(f"they count inside user namespace {user} only: over what it owns, not over the host")
    return lines


def render_process_insights(
    insights: Insights, pid: int, seen_caps: dict[int, tuple[int, CapabilitySets]] | None = None
) -> RenderableType:
    """Everything the insights say about one process, a titled block per subject."""
    sections = process_insight_sections(insights, pid, seen_caps)
    if not sections:
        return Text("nothing notable about this process", style="dim")
    parts: list[RenderableType] = []
    for title, lines in sections:
        style = "bold red" if title == "why it failed" else "bold"
        parts.append(Text(title, style=style))
        parts.extend(Text(f"  {line}", style="red" if title == "why it failed" else "") for line in lines)
    return Group(*parts)


# One event (the TUI's event details) -----------------------------------------------------------------------------

_Say = Callable[..., None]


def event_sentences(insights: Insights) -> dict[int, list[str]]:
    """seq -> the insight sentences that event gave rise to, for every event an insight came from."""
    out: dict[int, list[str]] = {}

    def say(seq: int | None, *lines: str) -> None:
        if seq is not None and lines:
            bucket = out.setdefault(seq, [])
            bucket.extend(line for line in lines if line not in bucket)

    by_seq = insights.table.events_by_seq
    for d in insights.diagnoses:
        say(d.seq, f"{d.sentence}.", f"Fix: {d.fix}.")
    for o in insights.namespaces:
        if o.created:
            say(o.seq, f"{o.kind} namespace {o.inode}: {o.describe()}")
        elif o.syscall == "setns":
            say(o.seq, f"joined the {o.kind} namespace {o.inode} (setns: nothing is created)")
    for write in insights.idmaps.writes:
        if not write.ok:
            say(write.seq, f"writing {write.file} ({write.data!r}) failed with {write.error}")
            continue
        maps = insights.idmaps.namespaces.get(write.user_ns)
        if maps is None:
            continue
        wanted = {"uid_map": (", uid ", ", uids "), "gid_map": (", gid ", ", gids "), "setgroups": (", setgroups ",)}
        say(write.seq, *(line for line in maps.facts() if any(w in line for w in wanted[write.file])))
    cg = insights.cgroups
    for seq, target in cg.created:
        say(seq, f"creates the cgroup {target.cgroup} ({target.where})")
    for move in cg.moves:
        if not move.ok:
            say(move.seq, f"moving pid {move.written} into {move.target.cgroup} failed with {move.error}")
            continue
        line = f"moves {move.process} into cgroup {move.target.cgroup} ({move.target.where})"
        pid1 = cg.pid1_from.get(move.pid) if move.pid is not None else None
        if pid1 is not None and pid1 != move.pid:
            line += f"; the container's pid 1 ({pid1}) is created from it afterwards and starts there"
        say(move.seq, line)
    for setting in cg.settings:
        if setting.ok:
            say(setting.seq, f"{setting.meaning} (cgroup {setting.target.cgroup})")
        else:
            say(setting.seq, f"writing {setting.target.file} failed with {setting.error}")
    for caps in insights.capabilities.processes.values():
        _capability_sentences(caps, by_seq, say)
    for found in insights.seccomp:
        say(found.seq, *found.facts())
    _mount_sentences(insights, say)
    for seq, paths in insights.paths.items():
        lines = []
        for p in paths:
            if not p.differs:
                continue
            inside = f", {p.inside} inside the container" if p.inside and p.inside != p.raw else ""
            lines.append(f'{p.key} "{p.raw}" is {p.readable} on the host{inside} (found from the {p.how})')
        say(seq, *lines)
    e = insights.entrypoint
    if e is not None:
        say(e.exec.seq, f"the container's entrypoint: {e.exec.path} runs as pid {e.inner_pid} of its pid "
                        f"namespace, {e.after:.3f} s after the launch started")
    return out


def _capability_sentences(caps: ProcessCapabilities, by_seq: dict[int, Event], say: _Say) -> None:
    dropped_once: set[str] = set()
    bounding_before = caps.before.bounding
    kept = caps.kept("bounding")
    total = f"in all it drops {len(caps.dropped('bounding'))} of {len(bounding_before)} and keeps {len(kept)}"
    for seq in caps.seqs:
        event = by_seq.get(seq)
        if not isinstance(event, Syscall):
            continue
        args = event.args
        if event.name == "capset":
            lines = []
            for which in ("effective", "permitted", "inheritable"):
                now = args.get(which)
                if not isinstance(now, list):
                    continue
                before = caps.before.get(which)
                gone = sorted(before - set(now), key=_cap_order)
                if not now and not before:
                    continue
                text = f"{which}: {len(now)} kept"
                if gone:
                    text += f", {len(gone)} of the {len(before)} it had dropped ({_names(gone)})"
                lines.append(text)
            say(seq, *lines)
        elif args.get("option") == "PR_CAPBSET_DROP":
            name = args.get("capability")
            if not isinstance(name, str):
                continue
            if name not in bounding_before:
                say(seq, f"{name} was not in the bounding set it started with: this drop changes nothing")
            elif name in dropped_once:
                say(seq, f"{name} is already out of the bounding set: this drop changes nothing")
            else:
                dropped_once.add(name)
                say(seq, f"{name} leaves the bounding set: no later exec can give it back ({total})")
        elif args.get("option") == "PR_SET_NO_NEW_PRIVS" and args.get("value") == 1:
            say(seq, "no_new_privs set: from here no setuid bit or file capability can raise privileges")


def _cap_order(name: str) -> tuple[int, str]:
    try:
        return ALL_CAPABILITIES.index(name), name
    except ValueError:
        return len(ALL_CAPABILITIES), name


#: Calls after which the engine snapshots the mount table (x86_64 has only umount2, no umount).
_SNAPSHOT_CAUSES = syscalls_with(Trait.ROOT) | {"umount2"}


def _mount_sentences(insights: Insights, say: _Say) -> None:
    """A diff's sentences on its "after" snapshot and on the call that caused it (pivot_root, chroot, umount2)."""
    if not insights.mounts.diffs:
        return
    last_call: dict[tuple[int, str], int] = {}
    caused_by: dict[int, int] = {}
    for event in insights.events:
        if isinstance(event, Syscall) and event.error is None and event.name in _SNAPSHOT_CAUSES:
            last_call[(event.pid, event.name)] = event.seq
        elif isinstance(event, MountSnapshot):
            calls = [last_call[(event.pid, n)] for n in _SNAPSHOT_CALLS.get(event.moment, ()) if (event.pid, n) in last_call]
            if calls:
                caused_by[event.seq] = max(calls)
    for diff in insights.mounts.diffs:
        lines = [line.removeprefix(f"{diff.pid}: ") for line in diff.facts()]
        say(diff.seq, *lines)
        say(caused_by.get(diff.seq), *lines)


class InsightIndex:
    """An Insights object with the lookups the TUI asks of it, each built on first use and kept."""

    def __init__(self, insights: Insights) -> None:
        self.insights = insights
        self._sentences: dict[int, list[str]] | None = None
        self._caps: dict[int, tuple[int, CapabilitySets]] | None = None

    def sentences(self, seq: int) -> list[str]:
        """The insight sentences event `seq` gave rise to (none for most events)."""
        if self._sentences is None:
            self._sentences = event_sentences(self.insights)
        return self._sentences.get(seq, [])

    def process_sections(self, pid: int) -> list[tuple[str, list[str]]]:
        if self._caps is None:
            self._caps = capabilities_seen(self.insights)
        return process_insight_sections(self.insights, pid, self._caps)

    def render_process(self, pid: int) -> RenderableType:
        if self._caps is None:
            self._caps = capabilities_seen(self.insights)
        return render_process_insights(self.insights, pid, self._caps)


# Diagram notes ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Note:
    """A short note for a diagram node: `seq` places it on the phase of the process it belongs to; `slide` is
    False for notes the architecture view leaves out (said elsewhere on the slide)."""

    seq: int
    text: str
    slide: bool = True


@dataclass
class _Notes:
    by_pid: dict[int, list[Note]] = field(default_factory=dict)

    def add(self, pid: int | None, seq: int, text: str | None, slide: bool = True) -> None:
        if pid is None or not text:
            return
        notes = self.by_pid.setdefault(pid, [])
        text = _cut(text)
        if all(n.text != text for n in notes):
            notes.append(Note(seq, text, slide))


def _map_note(kind: str, ranges, outside_is_host: bool) -> str:
    where = "host" if outside_is_host else "parent"
    parts = [
        f"{r.inside} → {where} {r.outside} (1 id)" if r.count == 1 else f"{r.inside} → {where} {r.outside} ({r.count} ids)"
        for r in ranges
    ]
    return f"{kind} " + "; ".join(parts)


def _mount_note(mount: Mount) -> str:
    if mount.root == "/":
        what = mount.source if mount.source == mount.fstype else f"{mount.source} ({mount.fstype})"
    else:
        path = mount.root.rstrip("/")
        tail = "/".join(path.split("/")[-2:])
        what = f"{'…/' if path.count('/') > 2 else ''}{tail} ({mount.fstype})"
    return what


def _diff_notes(diff: MountDiff) -> list[str]:
    if diff.hidden_by_chroot:
        return [f"chroot: {len(diff.before.mounts)} mounts out of sight, still mounted"]
    notes: list[str] = []
    new_root = diff.after.root
    if diff.root_changed and new_root is not None:
        notes.append(f"/ is now {_mount_note(new_root)}")
    old_roots = {m.id for m in diff.before.stacked_on_root()}
    if diff.before.root is not None:
        old_roots.add(diff.before.root.id)
    if any(m.id in old_roots for m in diff.removed):
        notes.append(f"old root and {len(diff.removed) - 1} mounts under it detached")
    return notes


def diagram_notes(insights: Insights) -> dict[int, list[Note]]:
    """pid -> short notes for its diagram node, in the order things happened: the id map of a user namespace (on
    the first process in it), the cgroup and its limits (on the container's pid 1, else on the process moved),
    capabilities kept and dropped, the seccomp filter, the new root, and a failure."""
    notes = _Notes()
    table = insights.table
    maps_of = insights.idmaps.namespaces
    if any(inode is not None for inode in maps_of):
        for proc in table.history:
            inode = proc.ns.get("user")
            maps = maps_of.get(inode) if inode is not None else None
            if maps is None:
                continue
            creator = table.processes.get(proc.creator) if proc.creator is not None else None
            if creator is not None and creator.ns.get("user") == inode and creator.start_seq < proc.start_seq:
                continue
            seq = proc.execs[0].seq if proc.execs else proc.start_seq
            uid, gid = maps.uid_map or [], maps.gid_map or []
            if uid and uid == gid:
                notes.add(proc.pid, seq, _map_note("uid/gid", uid, maps.outside_is_host))
            else:
                if uid:
                    notes.add(proc.pid, seq, _map_note("uid", uid, maps.outside_is_host))
                if gid:
                    notes.add(proc.pid, seq, _map_note("gid", gid, maps.outside_is_host))
            if not uid:
                notes.add(proc.pid, seq, "no uid map: ids show as 65534")
    cg = insights.cgroups
    for (pid, cgroup), _paths in cg.placements().items():
        if pid is None:
            continue
        text = ", ".join([f"cgroup {short_cgroup(cgroup)}", *short_limits(insights, cgroup)])
        seq = next(m.seq for m in cg.moves if m.ok and m.pid == pid and m.target.cgroup == cgroup)
        pid1 = cg.pid1_from.get(pid)
        if pid1 is not None and pid1 != pid:
            notes.add(pid, seq, f"moved to cgroup {short_cgroup(cgroup)}", slide=False)
            started = table.processes.get(pid1)
            notes.add(pid1, started.start_seq if started is not None else seq, text)
        else:
            notes.add(pid, seq, text)
    for caps in insights.capabilities.processes.values():
        if caps.seqs:
            notes.add(caps.pid, caps.seqs[-1], capability_note(caps))
    for found in insights.seccomp:
        a = found.analysis
        if a is None:
            notes.add(found.pid, found.seq, "seccomp filter (not evaluated)")
        else:
            notes.add(found.pid, found.seq,
                      f"seccomp: default {a.default.label}, {len(a.denied)} denied, {len(a.allowed)} allowed")
    for diff in insights.mounts.diffs:
        for text in _diff_notes(diff):
            notes.add(diff.pid, diff.seq, text)
    for d in insights.diagnoses:
        if d.pid is not None:
            notes.add(d.pid, d.seq, "✗ " + d.sentence.split(": ")[0])
    for pid_notes in notes.by_pid.values():
        pid_notes.sort(key=lambda n: n.seq)
    return notes.by_pid


def relevant_events(events: Iterable[Event]) -> list[Event]:
    """The events insights read: every event but uncategorized syscalls (keeps `--filter all` traces quick)."""
    return [e for e in events if not (isinstance(e, Syscall) and e.category == "other")]

