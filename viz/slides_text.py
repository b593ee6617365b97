"""Which calls build a container, and how to write them short enough for a slide or a handout.

Shared by the tree view, the slides and the walkthrough page (viz.export, viz.slides, viz.page):

- `lesson_kind(event)` says whether an event is one of the calls that build a container (new namespaces, the mount
  table and the root switch, the hostname, identity and capabilities, cgroup membership, exec, exit, the socket
  connects that hand the work on) and which of those steps it is; every other call is boilerplate to count.
- `process_lesson(events)` folds one process's events into the calls to show, in order, plus one summary line per
  category with counts ("privileges: prctl(PR_CAPBSET_DROP) ×27, seccomp ×45").
- `hide_pids` / `shorten_ids` take host pids and 64-digit container ids out of text meant for a room.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import groupby

from tracer.decoders import Trait, format_call, syscalls_with
from tracer.events import CATEGORIES, Event, Exec, Exit, Syscall

#: The steps a container-building call belongs to, in the order a legend lists them, with what each means.
LESSON_KINDS: dict[str, str] = {
    "namespace": "namespaces: clone/unshare/setns with CLONE_NEW*",
    "root": "mount table and root switch: mount, umount2, pivot_root, chroot",
    "hostname": "hostname: sethostname, setdomainname",
    "identity": "identity: uid/gid, groups, capabilities, seccomp filter",
    "cgroup": "cgroup membership: writes to cgroup.procs",
    "handoff": "hand-off: connect to a daemon's socket",
    "exec": "a new program: execve, execveat",
    "exit": "exit",
}

#: The syscall category (tracer.events.CATEGORIES) whose colour each lesson step is drawn in.
LESSON_CATEGORY: dict[str, str] = {
    "namespace": "namespaces",
    "root": "filesystem-view",
    "hostname": "namespaces",
    "identity": "privileges",
    "cgroup": "cgroups",
    "handoff": "ipc",
    "exec": "process",
    "exit": "process",
}

_ROOT_CALLS = frozenset({"mount", "umount2", "umount", "pivot_root", "chroot", "move_mount", "fsmount", "open_tree",
                         "mount_setattr"})
_IDENTITY_CALLS = syscalls_with(Trait.IDENTITY)
_IDENTITY_PRCTL = frozenset({"PR_SET_NO_NEW_PRIVS", "PR_SET_SECCOMP", "PR_SET_KEEPCAPS", "PR_SET_SECUREBITS"})
_NAMESPACE_CALLS = syscalls_with(Trait.OWN_NAMESPACES)
_CLONES = syscalls_with(Trait.PROCESS)

#: A run of the same call longer than this shows its first and last lines and how many are between.
RUN_KEEP = 4

_HEX_ID = re.compile(r"\b[0-9a-f]{16,}\b")
_PROC_PID = re.compile(r"/proc/\d+/")


def _flags(event: Syscall) -> str:
    flags = event.args.get("flags")
    if isinstance(flags, list):
        return "|".join(map(str, flags))
    if isinstance(flags, dict):  # clone3's struct
        return str(flags.get("flags", ""))
    return str(flags or "")


def lesson_kind(event: Event) -> str | None:
    """The container-building step `event` is (a key of LESSON_KINDS), or None for everything else."""
    if isinstance(event, Exec):
        return "exec"
    if isinstance(event, Exit):
        return None if event.detached else "exit"
    if not isinstance(event, Syscall):
        return None
    name = event.name
    if name in _NAMESPACE_CALLS:
        return "namespace"
    if name in _CLONES:
        text = _flags(event) or str(event.args)
        return "namespace" if "CLONE_NEW" in text else None
    if name in ("sethostname", "setdomainname"):
        return "hostname"
    if name in _ROOT_CALLS:
        return "root"
    if name in _IDENTITY_CALLS:
        return "identity"
    if name == "prctl" and event.args.get("option") in _IDENTITY_PRCTL and event.error is None:
        return "identity"
    if name == "seccomp" and event.error is None and "SECCOMP_SET_MODE_FILTER" in str(event.args.get("operation")):
        return "identity"
    if event.category == "cgroups" and name == "write":
        path = str(event.args.get("path") or "")
        return "cgroup" if path.endswith(("/cgroup.procs", "/tasks")) else None
    if name == "connect" and event.error is None and event.args.get("path"):
        return "handoff"
    return None


def shorten_ids(text: str) -> str:
    """64-digit container and layer ids cut to their first 12 digits, as `docker ps` shows them."""
    return _HEX_ID.sub(lambda m: m.group(0)[:12], text)


def hide_pids(text: str) -> str:
    """Host pids out of a label: `execve("/proc/18975/exe")` becomes `execve("/proc/PID/exe")`."""
    return _PROC_PID.sub("/proc/PID/", text)


def call_text(event: Event, limit: int = 72) -> str:
    """One event as a line of the tree or the page: the decoded call, ids shortened, cut at `limit`."""
    if isinstance(event, Exec):
        argv = ", ".join(f'"{a}"' if len(a) <= 30 else f'"{a[:27]}..."' for a in event.argv[:4])
        text = f'{event.syscall}("{event.path}", [{argv}{", ..." if len(event.argv) > 4 else ""}])'
    elif isinstance(event, Exit):
        text = f"+++ killed by {event.signal} +++" if event.signal else f"+++ exited with {event.code} +++"
    elif isinstance(event, Syscall) and event.name == "connect" and event.args.get("path"):
        text = f'connect("{event.args["path"]}")' + (f" = -1 {event.error}" if event.error else "")
    elif isinstance(event, Syscall):
        text = format_call(event.name, event.args, event.ret, event.error)
    else:
        text = type(event).__name__
    text = shorten_ids(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _summary_key(event: Syscall) -> str:
    if event.name == "prctl" and event.args.get("option"):
        return f"prctl({event.args['option']})"
    if event.name in _CLONES and "CLONE_THREAD" in _flags(event):
        return "thread clones"
    return event.name


@dataclass
class Lesson:
    """One process's calls for a diagram: the container-building ones in order as (category, text), and one
    (category, text) line per category of the rest with counts."""

    calls: list[tuple[str, str]]
    summary: list[tuple[str, str]]
    #: How many container-building calls were folded into "⋮ N more" lines.
    folded: int = 0


def process_lesson(events: Iterable[Event], limit: int = 72) -> Lesson:
    kept: list[tuple[str, str, str]] = []  # (kind, syscall name, text)
    others: dict[str, Counter[str]] = {}
    for event in events:
        kind = lesson_kind(event)
        if kind is not None:
            name = getattr(event, "name", "exec" if isinstance(event, Exec) else "exit")
            kept.append((kind, name, call_text(event, limit)))
        elif isinstance(event, Syscall):
            # A clone without CLONE_NEW* makes a process, whatever table the decoder filed it under.
            category = "process" if event.name in _CLONES else event.category
            others.setdefault(category, Counter())[_summary_key(event)] += 1
    calls: list[tuple[str, str]] = []
    folded = 0
    for name, group in groupby(kept, key=lambda item: item[1]):
        # Identical lines next to each other fold into one "×N" line.
        lines: list[tuple[str, str, int]] = []
        for kind, _, text in group:
            if lines and lines[-1][1] == text:
                lines[-1] = (lines[-1][0], text, lines[-1][2] + 1)
            else:
                lines.append((LESSON_CATEGORY[kind], text, 1))
        shown = [(c, t + (f"  ×{n}" if n > 1 else "")) for c, t, n in lines]
        if len(shown) > RUN_KEEP:
            folded += len(shown) - 4
            shown = [*shown[:2], ("other", f"  ⋮ {len(shown) - 4} more {name} calls"), *shown[-2:]]
        calls.extend(shown)
    summary: list[tuple[str, str]] = []
    for category in sorted(others, key=lambda c: CATEGORIES.index(c) if c in CATEGORIES else len(CATEGORIES)):
        counts = others[category]
        total = sum(counts.values())
        parts = [f"{name} ×{n}" if n > 1 else name for name, n in counts.most_common(4)]
        rest = len(counts) - 4
        summary.append((category, f"{category} {total}: {', '.join(parts)}" + (f", +{rest} kinds" if rest > 0 else "")))
    return Lesson(calls, summary, folded)
