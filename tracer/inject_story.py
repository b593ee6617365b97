"""What the runtime did after an injected fault, told from the trace alone: a pure fold over the events.

For each `fault` event: which call failed and what it would have done; who saw the error and what became of that
process; what the processes printed on stdout/stderr afterwards (runc's logrus line, `level=error msg="..."`, is
quoted by its message); what they undid (cgroup directories removed, the runtime's state deleted, mounts undone,
processes killed); what they had made and the trace never saw removed; and the exit status of every process.
The engine records writes to fd 1 and 2 and removals (rmdir, unlinkat) after a fault only (tracer/inject.py), so
these sentences rest on recorded calls, each with its event.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from tracer.decoders import format_call
from tracer.events import Event, Exit, Fault, ProcessStarted, Syscall
from tracer.processes import ProcessTable

CGROUP_ROOT = "/sys/fs/cgroup/"
_LOGRUS = re.compile(r'level=(?P<level>\w+)\s+msg="(?P<msg>(?:[^"\\]|\\.)*)"')
#: The longest quote of what a process printed.
QUOTE_LIMIT = 400


@dataclass(frozen=True)
class StoryLine:
    """One sentence of the story and the events that show it."""

    topic: str  # fault | saw | printed | cleaned | left | exits
    text: str
    seqs: tuple[int, ...] = ()


@dataclass
class FaultStory:
    fault: Fault
    lines: list[StoryLine] = field(default_factory=list)

    def sentences(self) -> list[str]:
        return [line.text for line in self.lines]

    def topic(self, name: str) -> list[StoryLine]:
        return [line for line in self.lines if line.topic == name]


def printed_text(data: str) -> str:
    """What a process printed, readable: a logrus line by its level and message, else the text itself."""
    match = _LOGRUS.search(data)
    if match:
        message = match["msg"].replace('\\"', '"')
        return f"{match['level']}: {message}"
    return data.strip()


def _name(table: ProcessTable, pid: int, names: dict[int, str] | None = None) -> str:
    proc = table.processes.get(pid)
    name = (names or {}).get(pid, "")
    if proc is not None and not name:
        name = proc.comm or os.path.basename(proc.executable or "")
    return f"{name} (pid {pid})" if name else f"pid {pid}"


def fault_stories(events: Iterable[Event]) -> list[FaultStory]:
    events = list(events)
    table = ProcessTable.from_events(events)
    faults = [e for e in events if isinstance(e, Fault)]
    return [_story(events, table, fault, index, faults) for index, fault in enumerate(faults)]


def _story(events: list[Event], table: ProcessTable, fault: Fault, index: int, faults: list[Fault]) -> FaultStory:
    story = FaultStory(fault)
    # The name a process had when it was hit (runc's init stages rename themselves with prctl(PR_SET_NAME)).
    hit_names = {f.pid: f.process for f in faults if f.process}

    def _label(table: ProcessTable, pid: int) -> str:
        return _name(table, pid, hit_names)

    after = [e for e in events if e.seq > fault.seq]
    call = next((e for e in after if isinstance(e, Syscall) and e.tid == fault.tid and e.name == fault.name), None)
    who = _label(table, fault.pid)
    what = format_call(fault.name, fault.args, None, None).removesuffix(" = ?")
    strerror = os.strerror(_errno_number(fault.errno)) if _errno_number(fault.errno) else fault.errno
    story.lines.append(StoryLine(
        "fault", f"boxtrace made {who}'s {what} fail with {fault.errno} ({strerror}) without running it "
                 f"(--inject {fault.rule}, matching call {fault.nth})",
        (fault.seq,) + ((call.seq,) if call else ())))

    # Who saw it, and what became of that process.
    exit_event = next((e for e in after if isinstance(e, Exit) and e.pid == fault.pid), None)
    kills = [e for e in after if isinstance(e, Syscall) and e.name in ("kill", "tgkill") and e.error is None
             and (e.args.get("pid") == fault.pid or e.args.get("tgid") == fault.pid)
             and e.args.get("signal") in ("SIGKILL", "SIGTERM")]
    if exit_event is None:
        fate = "was still running when the trace ended"
    elif exit_event.signal:
        killer = f", sent by {_label(table, kills[0].pid)}" if kills else ""
        fate = f"was killed by {exit_event.signal}{killer}"
    elif exit_event.detached:
        fate = "was left running when boxtrace detached"
    else:
        fate = f"exited with status {exit_event.code}"
    story.lines.append(StoryLine(
        "saw", f"{who} got the error from the kernel and {fate}",
        tuple(sorted(e.seq for e in ([call] if call else []) + kills[:1] + ([exit_event] if exit_event else [])))))

    # What the processes printed.
    printed: dict[int, list[Syscall]] = {}
    for event in after:
        if isinstance(event, Syscall) and event.name == "write" and event.args.get("fd") in (1, 2) \
                and isinstance(event.args.get("data"), str) and event.args["data"].strip():
            printed.setdefault(event.pid, []).append(event)
    for pid, writes in printed.items():
        texts: list[str] = []
        kept: list[Syscall] = []
        for write in writes:
            text = printed_text(write.args["data"])
            if text and "\\x" not in text:  # binary (a shim's protocol bytes) is not a message
                kept.append(write)
                if text not in texts:
                    texts.append(text)
        streams = sorted({"stderr" if w.args["fd"] == 2 else "stdout" for w in kept})
        writes = kept
        if not texts:
            continue
        quote = " / ".join(texts)
        if len(quote) > QUOTE_LIMIT:
            quote = quote[:QUOTE_LIMIT - 3] + "..."
        story.lines.append(StoryLine("printed", f"{_label(table, pid)} printed on {' and '.join(streams)}: "
                                                f"\"{quote}\"", tuple(w.seq for w in writes)))
    if not story.topic("printed"):
        story.lines.append(StoryLine("printed", "no process printed anything on stdout or stderr afterwards"))

    # What was undone.
    removed = [e for e in after if isinstance(e, Syscall) and e.error is None and _removed_path(e)]
    cgroups = [e for e in removed if _removed_path(e).startswith(CGROUP_ROOT)]
    others = [e for e in removed if not _removed_path(e).startswith(CGROUP_ROOT)]
    if cgroups:
        groups = sorted({_removed_path(e)[len(CGROUP_ROOT):].split("/", 1)[-1] for e in cgroups})
        story.lines.append(StoryLine(
            "cleaned", f"{_label(table, cgroups[0].pid)} removed the container's cgroup "
                       f"({', '.join('/' + n for n in groups)}) in {len(cgroups)} hierarchies",
            tuple(e.seq for e in cgroups)))
    by_remover: dict[int, list[Syscall]] = {}
    for event in others:
        by_remover.setdefault(event.pid, []).append(event)
    for pid, mine in by_remover.items():
        paths = [_removed_path(e) for e in mine]
        story.lines.append(StoryLine(
            "cleaned", f"{_label(table, pid)} deleted {', '.join(paths[:6])}"
                       + (f" and {len(paths) - 6} more" if len(paths) > 6 else ""), tuple(e.seq for e in mine)))
    umounts = [e for e in after if isinstance(e, Syscall) and e.name == "umount2" and e.error is None]
    if umounts:
        story.lines.append(StoryLine("cleaned", f"{len(umounts)} mounts were undone (umount2)",
                                     tuple(e.seq for e in umounts)))
    killed = [e for e in after if isinstance(e, Syscall) and e.name == "kill" and e.error is None
              and e.args.get("signal") == "SIGKILL"]
    for kill in killed:
        story.lines.append(StoryLine("cleaned", f"{_label(table, kill.pid)} sent SIGKILL to "
                                                f"{_label(table, int(kill.args.get('pid') or 0))}", (kill.seq,)))
    if not (cgroups or others or umounts or killed):
        story.lines.append(StoryLine("cleaned", "no clean-up call (rmdir, unlinkat, umount2, kill) was recorded "
                                                "afterwards"))

    # What was made and never seen removed (until the next fault, if any).
    until = faults[index + 1].seq if index + 1 < len(faults) else None
    made = [e for e in events if isinstance(e, Syscall) and e.name in ("mkdir", "mkdirat") and e.error is None
            and str(e.args.get("path", "")).startswith(CGROUP_ROOT) and (until is None or e.seq < until)]
    gone = {_removed_path(e) for e in removed}
    left = [e for e in made if str(e.args.get("path")) not in gone]
    if left:
        story.lines.append(StoryLine(
            "left", f"left behind, as far as the trace shows: {len(left)} cgroup directories "
                    f"({', '.join(str(e.args.get('path')) for e in left[:3])}{' ...' if len(left) > 3 else ''})",
            tuple(e.seq for e in left)))
    still = [p for p in table.history if p.via != "attach" and p.exit is None]
    if still:
        story.lines.append(StoryLine("left", "still running when the trace ended: "
                                             + ", ".join(_label(table, p.pid) for p in still)))
    if not left and not still:
        story.lines.append(StoryLine(
            "left", "nothing left behind that the trace shows: every cgroup directory made was removed and every "
                    "process exited", ()))

    # Every process's exit status.
    exits = [e for e in events if isinstance(e, Exit) and not e.detached
             and isinstance(table.processes.get(e.pid), object)]
    born = {e.pid for e in events if isinstance(e, ProcessStarted) and e.via != "attach"}
    statuses = []
    for event in exits:
        if event.pid not in born:
            continue
        statuses.append(f"{_label(table, event.pid)}: "
                        + (f"killed by {event.signal}" if event.signal else f"exit status {event.code}"))
    if statuses:
        story.lines.append(StoryLine("exits", "exit statuses: " + "; ".join(statuses),
                                     tuple(e.seq for e in exits if e.pid in born)))
    return story


def _removed_path(event: Syscall) -> str:
    if event.name == "rmdir":
        return str(event.args.get("path") or "")
    if event.name == "unlinkat":
        path = str(event.args.get("path") or "")
        base = event.args.get("dirfd_path")
        return os.path.join(str(base), path) if base and not path.startswith("/") else path
    return ""


def _errno_number(name: str) -> int:
    import errno

    return int(getattr(errno, name, 0) or 0)
