"""Every sentence a learner reads about the insights, written once.

`Insights.facts()`, `Insights.for_process()`, the per-event and per-process sentences, the diagram notes (all in
tracer.insights) and the views in viz/ (console summary, TUI details, diagrams) take their words from here; viz/
only lays them out. A fold module whose own `facts()` says something a view says too (a failed cgroup move, the
bounding set) takes it from here as well, which is why the functions for capabilities, cgroups and diagnoses take
plain values: those modules import this one, or import one that does.

The wording is the product: tests/test_insights*.py, test_doc_quotes.py and the console snapshots check it, and
`boxtrace show --full` of a shipped recording prints it.
"""

from __future__ import annotations

import re

from tracer.insights.common import Entrypoint, human_bytes
from tracer.insights.idmaps import IdMapWrite, IdRange
from tracer.insights.mounts import Mount, MountDiff
from tracer.insights.namespaces import NamespaceOrigin
from tracer.insights.paths import ReadablePath
from tracer.insights.seccomp import FilterAnalysis, SeccompFilter

#: Names listed before "... (+N)".
MAX_NAMES = 10
#: Longest note on a diagram node.
MAX_NOTE_CHARS = 72
#: A container id in a cgroup path (docker's 64 hex digits, optionally with a scope prefix).
_LONG_ID = re.compile(r"^([\w.-]*?-?)([0-9a-f]{32,})(?:\.scope)?$")


def names(items: list[str], limit: int = MAX_NAMES) -> str:
    """"a, b, c, ... (+7)"."""
    shown = ", ".join(items[:limit])
    return shown + (f", ... (+{len(items) - limit})" if len(items) > limit else "")


def cut(text: str, limit: int = MAX_NOTE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# The titles of the sections about one process (Insights.process_sections), in their order.
SECTION_FAILED = "why it failed"
SECTION_NAMESPACES = "namespaces it made"
SECTION_IDMAP = "user namespace id map (every process in this namespace)"
SECTION_CGROUP = "cgroup"
SECTION_CAPABILITIES = "capabilities"
SECTION_SECCOMP = "seccomp"
SECTION_MOUNTS = "mount table"
SECTION_ENTRYPOINT = "entrypoint"


# Diagnoses ------------------------------------------------------------------------------------------------------


def diagnosis_lines(sentence: str, fix: str) -> tuple[str, str]:
    """(why, fix) of a Diagnosis: "... failed with EPERM: ....", "Fix: ...."."""
    return f"{sentence}.", f"Fix: {fix}."


def diagnosis_fact(sentence: str, fix: str) -> str:
    return " ".join(diagnosis_lines(sentence, fix))


def diagnosis_note(sentence: str) -> str:
    """The diagram note: the sentence up to its first colon."""
    return "✗ " + sentence.split(": ")[0]


# Namespaces -----------------------------------------------------------------------------------------------------


def namespace_origin(o: NamespaceOrigin) -> str:
    """"net namespace 4026532281: made by ..." (the summary and the event that made it)."""
    return f"{o.kind} namespace {o.inode}: {o.describe()}"


def namespace_row(o: NamespaceOrigin) -> tuple[str, str]:
    """("net 4026532281", "made by ...") for a table."""
    return f"{o.kind} {o.inode}", o.describe()


def namespace_joined(o: NamespaceOrigin) -> str:
    """On the setns call."""
    return f"joined the {o.kind} namespace {o.inode} (setns: nothing is created)"


def namespace_made_by_process(o: NamespaceOrigin) -> str:
    """In the facts about one process."""
    return f"made the {o.kind} namespace {o.inode} ({o.syscall})"


def namespace_joined_by_process(o: NamespaceOrigin) -> str:
    return f"joined the {o.kind} namespace {o.inode} (setns)"


def namespace_section_line(o: NamespaceOrigin) -> str:
    """In the TUI's "namespaces it made" section."""
    return f"{o.kind} namespace {o.inode}: made with {o.syscall}" + (" (joined)" if o.syscall == "setns" else "")


# Id maps --------------------------------------------------------------------------------------------------------


def failed_map_write(w: IdMapWrite) -> str:
    return f"writing {w.file} ({w.data!r}) failed with {w.error}"


def map_written_later(writer: int, name: str) -> str:
    """Said after a failed write when another process wrote the same map afterwards."""
    return f"; {writer} ({name}) wrote it afterwards"


def map_note(kind: str, ranges: list[IdRange], outside_is_host: bool) -> str:
    """"uid 0 → host 65534 (1 id)": a diagram note."""
    where = "host" if outside_is_host else "parent"
    parts = [
        f"{r.inside} → {where} {r.outside} (1 id)" if r.count == 1 else f"{r.inside} → {where} {r.outside} ({r.count} ids)"
        for r in ranges
    ]
    return f"{kind} " + "; ".join(parts)


NO_UID_MAP_NOTE = "no uid map: ids show as 65534"


# Cgroups --------------------------------------------------------------------------------------------------------


def short_cgroup(cgroup: str) -> str:
    """/docker/8cd1842ef0ab… for /docker/8cd1842ef0abcd8c...: container ids cut like docker's short ids."""
    parts = [_LONG_ID.sub(lambda m: m[1] + m[2][:12] + "…", part) for part in cgroup.split("/")]
    return "/".join(parts) or "/"


def moved_into_cgroup(placement: str) -> str:
    """In the facts about one process: `placement` is "/X (v1: memory)"."""
    return f"moved into cgroup {placement}"


def cgroup_created(cgroup: str, where: str) -> str:
    return f"creates the cgroup {cgroup} ({where})"


def failed_cgroup_move(written: int | None, cgroup: str, error: str | None) -> str:
    return f"moving pid {written} into {cgroup} failed with {error}"


def cgroup_move(process: str, cgroup: str, where: str, pid1: int | None) -> str:
    """On the write that moved a process (`pid1`: the container's pid 1 created from it afterwards)."""
    line = f"moves {process} into cgroup {cgroup} ({where})"
    if pid1 is not None:
        line += f"; the container's pid 1 ({pid1}) is created from it afterwards and starts there"
    return line


def cgroup_setting(meaning: str, cgroup: str) -> str:
    return f"{meaning} (cgroup {cgroup})"


def failed_cgroup_setting(file: str | None, error: str | None) -> str:
    return f"writing {file} failed with {error}"


def cgroup_placement(cgroup: str, where: str, moved_itself: bool, first_moved: str) -> str:
    """Where a process lives: moved there itself, or born from a creator that was (`first_moved`)."""
    if moved_itself:
        how = f"moved there ({where})"
    else:
        how = f"born there: created (through its creators) from {first_moved}, which was moved in first ({where})"
    return f"in cgroup {cgroup}: {how}"


NO_CGROUP_LIMIT = "no limit written to this cgroup in the trace"


def cgroup_cpu_limit(cpus: str) -> str:
    return f"CPU limit {cpus} (quota / period)"


def cgroup_device_rules(rules: list[str]) -> str:
    return "device rules: " + "; ".join(dict.fromkeys(rules))


def headline_limit(kind: str, value: int | float | str) -> str:
    """"memory 256 MiB", "64 pids", "0.5 CPUs": a limit worth a slide (see Cgroups.headline_limits)."""
    if kind == "memory" and isinstance(value, int):
        return f"memory {human_bytes(value)}"
    if kind == "pids":
        return f"{value} pids"
    return f"{value:g} CPUs" if isinstance(value, float) else f"{value} CPUs"


def cgroup_note(cgroup: str, limits: list[str]) -> str:
    return ", ".join([f"cgroup {short_cgroup(cgroup)}", *limits])


def cgroup_moved_note(cgroup: str) -> str:
    return f"moved to cgroup {short_cgroup(cgroup)}"


# Capabilities ---------------------------------------------------------------------------------------------------


def bounding_dropped(dropped: int, before: int, kept: list[str]) -> str:
    return f"bounding set: dropped {dropped} of {before}, kept " + (", ".join(kept) or "none")


def effective_changed(kept: list[str], before: int, dropped: int, raised: list[str]) -> str:
    return (
        f"effective: kept {len(kept)} of {before} ({', '.join(kept) or 'none'}), dropped {dropped}"
        + (f", raised {', '.join(raised)}" if raised else "")
    )


NO_NEW_PRIVS_ROW = "no_new_privs: set"
NO_NEW_PRIVS_FACT = "no_new_privs set (no setuid bit or file capability can raise privileges)"
NO_NEW_PRIVS_FOR_PROCESS = "no_new_privs set: no setuid bit or file capability can raise privileges again"
NO_NEW_PRIVS_ON_CALL = "no_new_privs set: from here no setuid bit or file capability can raise privileges"
NO_NEW_PRIVS_NOTE = "no_new_privs"
ASSUMED_BEFORE = (
    "before: assumed all capabilities, as for root (this recording does not carry the sets each process "
    "started with)"
)
ASSUMED_BEFORE_FOR_PROCESS = "before: assumed all capabilities, as for root (this recording does not carry them)"
RECORDED_BEFORE_FOR_PROCESS = "before: the sets it had when it started or last exec'd, as recorded"
SEEN_UNCHANGED = "as recorded when it started or last exec'd; it changed none of them"


def capability_change(before: int, after: int, kept_of_before: int, dropped: list[str], gained: list[str],
                      kept: list[str]) -> str:
    """"40 before → 14 after: kept 14, dropped 26 (CAP_...)": one set that changed; kept + dropped is the size
    of the set before (capabilities raised into a set are listed apart)."""
    text = f"{before} before → {after} after"
    if dropped:
        text += f": kept {kept_of_before}, dropped {len(dropped)} ({names(dropped)})"
    if gained:
        text += f"; gained {names(gained)}"
    if kept and len(kept) <= MAX_NAMES:
        text += f"; kept {', '.join(kept)}"
    return text


def capability_note(kept: int, dropped: int, no_new_privs: bool) -> str | None:
    """"caps: 14 kept, 26 dropped": a diagram note."""
    parts: list[str] = []
    if dropped:
        parts.append(f"caps: {kept} kept, {dropped} dropped")
    if no_new_privs:
        parts.append(NO_NEW_PRIVS_NOTE)
    return ", ".join(parts) or None


def full_root_set(effective: int, bounding: int) -> str:
    return f"effective {effective}, bounding {bounding}: a full root set"


def effective_seen(effective: list[str]) -> str:
    return f"effective {len(effective)}: {names(effective) if effective else 'none'}"


def bounding_seen(count: int) -> str:
    return f"bounding {count}"


def ambient_seen(ambient: list[str]) -> str:
    return "ambient: " + ", ".join(ambient)


def caps_in_user_namespace(user: int) -> str:
    return f"they count inside user namespace {user} only: over what it owns, not over the host"


def capset_set(which: str, now: int, gone: list[str], before: int) -> str:
    """On a capset call: one of its sets."""
    text = f"{which}: {now} kept"
    if gone:
        text += f", {len(gone)} of the {before} it had dropped ({names(gone)})"
    return text


def bounding_drop_unheld(name: str) -> str:
    return f"{name} was not in the bounding set it started with: this drop changes nothing"


def bounding_drop_again(name: str) -> str:
    return f"{name} is already out of the bounding set: this drop changes nothing"


def bounding_drop(name: str, dropped: int, before: int, kept: int) -> str:
    return (
        f"{name} leaves the bounding set: no later exec can give it back "
        f"(in all it drops {dropped} of {before} and keeps {kept})"
    )


# Seccomp --------------------------------------------------------------------------------------------------------


def seccomp_not_evaluated(problem: str | None) -> str:
    return f"not evaluated: {problem}"


def seccomp_rows(analysis: FilterAnalysis) -> list[tuple[str, str]]:
    """(what, value) rows for one evaluated filter."""
    rows = [
        ("default", f"{analysis.default.label}"),
        ("allowed", f"{len(analysis.allowed)} of {len(analysis.verdicts)} system calls"),
    ]
    for label, listed in analysis.by_action.items():
        rows.append((label, f"{len(listed)}: {names(listed)}"))
    if analysis.depends_on_arguments:
        rows.append(("depends on arguments", ", ".join(analysis.depends_on_arguments)))
    if analysis.newer != analysis.default:
        rows.append(("newer syscalls", analysis.newer.label))
    return rows


def seccomp_for_process(found: SeccompFilter, inherited: bool) -> list[str]:
    """A filter a process runs under, in the TUI's process details."""
    analysis = found.analysis
    who = f"inherited from {found.process}" if inherited else f"installed with {found.via}"
    if analysis is None:
        return [f"a filter {who}, not evaluated: {found.problem}"]
    lines = [
        f"a filter of {found.length} instructions {who}: default {analysis.default.label}, "
        f"{len(analysis.allowed)} of {len(analysis.verdicts)} system calls allowed, {len(analysis.denied)} denied"
    ]
    for label, listed in analysis.by_action.items():
        lines.append(f"{label}: {len(listed)} ({names(listed)})")
    if analysis.depends_on_arguments:
        lines.append("depends on arguments: " + ", ".join(analysis.depends_on_arguments))
    return lines


def seccomp_fact_for_process(analysis: FilterAnalysis) -> str:
    return f"seccomp filter: default {analysis.default.label}, {len(analysis.allowed)} allowed, {len(analysis.denied)} denied"


def seccomp_note(analysis: FilterAnalysis | None) -> str:
    if analysis is None:
        return "seccomp filter (not evaluated)"
    return f"seccomp: default {analysis.default.label}, {len(analysis.denied)} denied, {len(analysis.allowed)} allowed"


# Mounts ---------------------------------------------------------------------------------------------------------


def mount_heading(diff: MountDiff) -> str:
    return f"{diff.pid}, from {diff.before_moment} to {diff.after_moment}"


def mount_facts(diff: MountDiff) -> list[str]:
    """The diff's facts without their "PID: BEFORE -> AFTER: " heading (shown once above them)."""
    head = f"{diff.pid}: {diff.before_moment} -> {diff.after_moment}"
    return [line[len(head) + 2:] if line.startswith(head + ": ") else line for line in diff.facts()]


def mount_facts_of_process(diff: MountDiff) -> list[str]:
    """The diff's facts without the leading "PID: " (said about that process already)."""
    return [line.removeprefix(f"{diff.pid}: ") for line in diff.facts()]


NO_MOUNT_VISIBLE = "(no mount visible)"


def _mount_name(mount: Mount) -> str:
    if mount.root == "/":
        return mount.source if mount.source == mount.fstype else f"{mount.source} ({mount.fstype})"
    path = mount.root.rstrip("/")
    tail = "/".join(path.split("/")[-2:])
    return f"{'…/' if path.count('/') > 2 else ''}{tail} ({mount.fstype})"


def mount_notes(diff: MountDiff) -> list[str]:
    """Diagram notes: the new "/", the old root detached, or what a chroot hid."""
    if diff.hidden_by_chroot:
        return [f"chroot: {len(diff.before.mounts)} mounts out of sight, still mounted"]
    notes: list[str] = []
    new_root = diff.after.root
    if diff.root_changed and new_root is not None:
        notes.append(f"/ is now {_mount_name(new_root)}")
    old_roots = {m.id for m in diff.before.stacked_on_root()}
    if diff.before.root is not None:
        old_roots.add(diff.before.root.id)
    if any(m.id in old_roots for m in diff.removed):
        notes.append(f"old root and {len(diff.removed) - 1} mounts under it detached")
    return notes


# Paths ----------------------------------------------------------------------------------------------------------


def readable_path(p: ReadablePath) -> str:
    inside = f", {p.inside} inside the container" if p.inside and p.inside != p.raw else ""
    return f'{p.key} "{p.raw}" is {p.readable} on the host{inside} (found from the {p.how})'


# The entrypoint -------------------------------------------------------------------------------------------------


def _after(e: Entrypoint) -> str:
    return f"{e.after:.3f} s after the launch started"


def entrypoint_fact(e: Entrypoint) -> str:
    return (
        f"entrypoint {e.exec.path} runs as pid {e.inner_pid} of its pid namespace (host pid {e.exec.pid}), "
        f"{_after(e)}"
    )


def entrypoint_heading(e: Entrypoint) -> str:
    """The console summary's last line."""
    return f"Entrypoint: {e.exec.path} is pid {e.inner_pid} in its pid namespace (host pid {e.exec.pid}), {_after(e)}"


def entrypoint_on_exec(e: Entrypoint) -> str:
    return f"the container's entrypoint: {e.exec.path} runs as pid {e.inner_pid} of its pid namespace, {_after(e)}"


def entrypoint_of_process(e: Entrypoint) -> str:
    """In the TUI's process details."""
    return f"runs the container's entrypoint {e.exec.path} as pid {e.inner_pid} of its pid namespace, {_after(e)}"


def entrypoint_fact_for_process(e: Entrypoint) -> str:
    return f"runs the entrypoint {e.exec.path} as pid {e.inner_pid}"
