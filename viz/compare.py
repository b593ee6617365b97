"""`boxtrace compare TRACE TRACE [...]`: the same milestones side by side across runtimes.

One column per recording, one row per milestone: which system call made each namespace and in which process
(clone with CLONE_NEW* flags, unshare or setns), the container's parent (who reaps the entrypoint: the shim for
docker, conmon for podman) and who forked it, the user namespace that owns its namespaces (the host's, or a new
one with uid 0's outside id), how the root changed (pivot_root or chroot), id maps, cgroup
placement, capabilities dropped, no_new_privs, seccomp, the processes involved, syscalls by category and the
time from the start to the entrypoint's execve. Everything comes from tracer.insights, so the table says what
the traces show: teach and crun pass CLONE_NEW* to clone, runc (and docker, through runc) unshares.

`compare_rows(recordings)` gives the titles and rows; `render_compare` makes a rich Table of them and
`compare_markdown` a Markdown table.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from rich.table import Table
from rich.text import Text

from tracer.decoders import Trait, syscalls_with
from tracer.events import CATEGORIES, NAMESPACE_ORDER, Event, Header, Syscall
from tracer.insights import Insights
from tracer.insights.common import replay
from tracer.insights.namespaces import NamespaceOrigin, first_by_kind

NONE = "-"


@dataclass(frozen=True)
class Column:
    """A recording to compare: its title and events."""

    title: str
    events: Sequence[Event]


def _column(recording: object, index: int) -> Column:
    events = list(getattr(recording, "events", recording))  # type: ignore[call-overload]
    header = getattr(recording, "header", None)
    if isinstance(header, Header) and not any(isinstance(e, Header) for e in events[:1]):
        events.insert(0, header)  # a loaded Recording keeps its header apart: the insights want it (host_ns)
    header = next((e for e in events if isinstance(e, Header)), None)
    title = getattr(header, "scenario", None) if header is not None else None
    if not title:
        path = getattr(recording, "path", None)
        title = os.path.splitext(os.path.basename(str(path)))[0] if path else None
    if not title and header is not None and header.command:
        title = os.path.basename(header.command[0])
    return Column(title or f"trace {index + 1}", events)


def _origin_text(origin: NamespaceOrigin | None) -> str:
    if origin is None:
        return NONE
    if origin.syscall in syscalls_with(Trait.PROCESS):
        return f"{origin.syscall}({origin.flag}) in {origin.process}"
    if origin.syscall == "unshare":
        text = f"unshare({origin.flag}) in {origin.process}"
        if origin.first_member is not None and origin.first_member != origin.pid:
            text += f" (child {origin.first_member} enters)"
        return text
    if origin.syscall == "setns":
        return f"setns (joined) in {origin.process}"
    return f"{origin.syscall} in {origin.process}"


def _root_switch(insights: Insights) -> str:
    parts: list[str] = []
    for event, state in replay(insights.events):
        if not isinstance(event, Syscall) or event.error is not None:
            continue
        if event.name in syscalls_with(Trait.ROOT) and not parts:
            key = "new_root" if event.name == "pivot_root" else "path"
            readable = next((p.readable for p in insights.paths.get(event.seq, []) if p.key == key), None)
            where = readable or event.args.get(key)
            parts.append(f"{event.name} into {where} in {state.label(event.pid)}")
        elif event.name == "umount2" and parts and "MNT_DETACH" in (event.args.get("flags") or []):
            parts.append("old root detached (umount2 MNT_DETACH)")
            break
    return "; ".join(parts) or NONE


def _idmaps(insights: Insights) -> str:
    lines = []
    for maps in insights.idmaps.namespaces.values():
        for kind, ranges in (("uid", maps.uid_map), ("gid", maps.gid_map)):
            for r in ranges or []:
                lines.append(f"{kind} {r.inside} -> {r.outside} ({r.count})")
        if maps.setgroups == "deny":
            lines.append("setgroups denied")
    return ", ".join(lines) or NONE


def _cgroups(insights: Insights) -> str:
    placements = insights.cgroups.placements()
    if not placements:
        refused = [e for e in insights.events if isinstance(e, Syscall) and e.error in ("EACCES", "EPERM")
                   and e.name in ("mkdir", "mkdirat") and str(e.args.get("path", "")).startswith("/sys/fs/cgroup")]
        if refused:
            return f"none: {len(refused)} cgroup mkdirs refused ({refused[0].error}), the host owns the hierarchy"
        return NONE
    parts = []
    for (_pid, cgroup), paths in placements.items():
        parts.append(f"{cgroup} ({len(paths)} hierarch{'y' if len(paths) == 1 else 'ies'})")
    limits = [s for s in insights.cgroups.limits() if not (s.target.file or "").startswith("devices.")]
    if limits:
        parts.append(f"{len(limits)} limits")
    return "; ".join(parts)


def _capabilities(insights: Insights) -> str:
    caps = insights.capabilities.main()
    if caps is None:
        return NONE
    parts = []
    if caps.bounding_dropped:
        parts.append(f"bounding: dropped {len(caps.dropped('bounding'))} of {len(caps.before.bounding)}")
    if caps.capset_seqs:
        parts.append(f"effective: {len(caps.kept('effective'))} kept")
    return ", ".join(parts) or NONE


def _no_new_privs(insights: Insights) -> str:
    setters = [c.process for c in insights.capabilities.processes.values() if c.no_new_privs]
    return f"set in {', '.join(setters)}" if setters else "not set"


def _seccomp(insights: Insights) -> str:
    parts = []
    for found in insights.seccomp:
        a = found.analysis
        if a is None:
            parts.append(f"{found.length} instructions (not evaluated)")
        else:
            parts.append(f"default {a.default.label}, {len(a.denied)} denied, {len(a.allowed)} allowed")
    return "; ".join(parts) or NONE


def _processes(insights: Insights) -> str:
    programs = []
    for proc in insights.table.history:
        for exec_event in proc.execs:
            name = os.path.basename(exec_event.argv[0] if exec_event.argv else exec_event.path)
            programs.append(name or exec_event.comm)
    names = ", ".join(dict.fromkeys(p for p in programs if p))
    return f"{len(insights.table.history)}" + (f" ({names})" if names else "")


def _categories(insights: Insights) -> str:
    counts = Counter(e.category for e in insights.events if isinstance(e, Syscall))
    return ", ".join(f"{c} {counts[c]}" for c in CATEGORIES if counts[c]) or NONE


def _role_at(insights: Insights, pid: int, seq: int) -> str:
    from viz.roles import role_book

    book = role_book(insights.table)
    proc = book.process_at(pid, seq)
    return f"{book.phase_at(proc, seq).role} ({pid})" if proc is not None else str(pid)


def _container_parent(insights: Insights) -> str:
    """Who reaps the entrypoint (its parent when it exits, after any reparenting) and who created it."""
    e = insights.entrypoint
    if e is None:
        return NONE
    pid = e.exec.pid
    created = next((p for p in insights.table.history if p.pid == pid and p.start_seq <= e.exec.seq), None)
    parts = []
    reaper = next(
        (s for s in insights.events if isinstance(s, Syscall) and s.name in ("wait4", "waitid")
         and s.ret == pid and s.seq > e.exec.seq),
        None,
    )
    if reaper is not None:
        parts.append(f"reaped by {_role_at(insights, reaper.pid, reaper.seq)}")
    if created is not None and created.via not in ("launch", "attach"):
        parts.append(f"forked by {_role_at(insights, created.creator or created.ppid, created.start_seq)}")
    return "; ".join(parts) or NONE


def _namespace_owner(insights: Insights) -> str:
    """The user namespace that owns the container's namespaces, and who root inside it is outside."""
    e = insights.entrypoint
    if e is None:
        return NONE
    inode = dict(e.exec.ns).get("user")
    host = insights.table.host_namespaces().get("user")
    if inode is None or inode == host:
        return "the host's user namespace (root inside is root outside)"
    maps = insights.idmaps.for_namespace(inode)
    outside = maps.uid_outside(0) if maps is not None else None
    who = f"uid 0 inside is host uid {outside}" if outside is not None else "maps not seen"
    return f"a new user namespace [{inode}]: {who}"


def _entrypoint(insights: Insights) -> str:
    e = insights.entrypoint
    if e is None:
        return NONE
    return f"{e.after:.3f} s ({os.path.basename(e.exec.path)} as pid {e.inner_pid})"


def _diagnosis(insights: Insights) -> str:
    if not insights.diagnoses:
        return NONE
    first = insights.diagnoses[0].sentence
    return first if len(first) <= 120 else first[:117] + "..."


def compare_rows(recordings: Sequence[object]) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """(column titles, [(milestone, one cell per recording)]) for recordings (Recording objects or event
    lists)."""
    columns = [_column(r, i) for i, r in enumerate(recordings)]
    insights = [Insights.from_events(c.events) for c in columns]
    origins = [first_by_kind(i.namespaces) for i in insights]
    kinds = [k for k in NAMESPACE_ORDER if any(k in o for o in origins)]
    rows: list[tuple[str, list[str]]] = []
    for kind in kinds:
        rows.append((f"{kind} namespace", [_origin_text(o.get(kind)) for o in origins]))
    for label, cell in (
        ("container's parent", _container_parent),
        ("namespaces owned by", _namespace_owner),
        ("root switch", _root_switch),
        ("id maps", _idmaps),
        ("cgroups", _cgroups),
        ("capabilities", _capabilities),
        ("no_new_privs", _no_new_privs),
        ("seccomp", _seccomp),
        ("processes", _processes),
        ("syscalls by category", _categories),
        ("start to entrypoint", _entrypoint),
        ("failure", _diagnosis),
    ):
        rows.append((label, [cell(i) for i in insights]))
    return [c.title for c in columns], rows


def render_compare(recordings: Sequence[object]) -> Table:
    titles, rows = compare_rows(recordings)
    table = Table(title="boxtrace compare", show_lines=True)
    table.add_column("milestone", style="bold", no_wrap=True)
    for title in titles:
        table.add_column(title, overflow="fold")
    for label, cells in rows:
        table.add_row(Text(label), *(Text(cell) for cell in cells))
    return table


def _md(cell: str) -> str:
    return cell.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def compare_markdown(recordings: Sequence[object]) -> str:
    titles, rows = compare_rows(recordings)
    lines = [
        "| milestone | " + " | ".join(_md(t) for t in titles) + " |",
        "|---|" + "---|" * len(titles),
    ]
    for label, cells in rows:
        lines.append(f"| {_md(label)} | " + " | ".join(_md(c) for c in cells) + " |")
    return "\n".join(lines)
