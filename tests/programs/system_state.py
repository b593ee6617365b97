"""What a trace left behind on this machine: stopped or traced threads, surviving processes, mounts, cgroups.

The reliability tests take a snapshot before a trial and compare after it. Everything here reads /proc and /sys
only; nothing kills or changes anything (cleanup is the tests' job, by pid).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class ThreadState:
    pid: int
    tid: int
    state: str
    tracer: int


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


def all_pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def thread_states(pid: int) -> list[ThreadState]:
    """State letter and TracerPid of every thread of `pid` (empty when it is gone)."""
    out = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    for tid in tids:
        stat = _read(f"/proc/{pid}/task/{tid}/stat")
        status = _read(f"/proc/{pid}/task/{tid}/status")
        if stat is None or status is None:
            continue
        state = stat.rsplit(")", 1)[1].split()[0]
        out.append(ThreadState(pid, int(tid), state, status_field(status, "TracerPid", 0)))
    return out


def status_field(status: str, name: str, default: int = -1) -> int:
    for line in status.splitlines():
        if line.startswith(name + ":"):
            try:
                return int(line.split()[1])
            except (IndexError, ValueError):
                return default
    return default


def status_of(pid: int, name: str) -> int | None:
    """A numeric field of /proc/PID/status (TracerPid, Seccomp, PPid...), None when the process is gone."""
    status = _read(f"/proc/{pid}/status")
    return None if status is None else status_field(status, name)


def unhealthy_threads(pid: int) -> list[ThreadState]:
    """Threads of `pid` that are stopped ('T'), in a ptrace stop ('t') or still traced."""
    return [t for t in thread_states(pid) if t.state in ("t", "T") or t.tracer != 0]


def stopped_or_traced_anywhere(ignore: Iterable[int] = ()) -> list[ThreadState]:
    """Every thread on the machine in state t/T or with a tracer, except the pids in `ignore`."""
    skip = set(ignore)
    out = []
    for pid in all_pids():
        if pid not in skip:
            out.extend(unhealthy_threads(pid))
    return out


def cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read()
    except OSError:
        return b""


def is_zombie(pid: int) -> bool:
    stat = _read(f"/proc/{pid}/stat")
    return stat is None or stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def alive(pid: int) -> bool:
    return os.path.exists(f"/proc/{pid}") and not is_zombie(pid)


def pids_mentioning(marker: str | bytes, ignore: Iterable[int] = ()) -> list[int]:
    """Live processes whose command line contains `marker` (a unique string a test put there)."""
    needle = marker.encode() if isinstance(marker, str) else marker
    skip = set(ignore) | {os.getpid()}
    return [pid for pid in all_pids() if pid not in skip and needle in cmdline(pid) and alive(pid)]


def exe_name(pid: int) -> str | None:
    try:
        return os.path.basename(os.readlink(f"/proc/{pid}/exe").removesuffix(" (deleted)"))
    except OSError:
        return None


def pids_with_exe(*names: str) -> set[int]:
    wanted = set(names)
    return {pid for pid in all_pids() if exe_name(pid) in wanted}


def mount_table() -> set[str]:
    """This process's mount table, one entry per line (mount ids included: a new mount is a new line)."""
    return set((_read("/proc/self/mountinfo") or "").splitlines())


def cgroup_dirs(name: str) -> list[Path]:
    """Directories called `name` one or two levels under /sys/fs/cgroup (v1 controllers and v2)."""
    found = list(CGROUP_ROOT.glob(f"*/{name}")) + list(CGROUP_ROOT.glob(f"{name}"))
    found += list(CGROUP_ROOT.glob(f"*/*/{name}"))
    return sorted({p for p in found if p.is_dir()})


def cgroup_procs(directory: Path) -> list[int]:
    text = _read(str(directory / "cgroup.procs")) or ""
    return [int(line) for line in text.split() if line.isdigit()]


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def clock_ticks_now() -> int:
    """Now, in the clock ticks since boot that /proc/PID/stat's start time uses."""
    with open("/proc/uptime") as uptime:
        return int(float(uptime.read().split()[0]) * os.sysconf("SC_CLK_TCK"))


def start_ticks(pid: int) -> int | None:
    stat = _read(f"/proc/{pid}/stat")
    if stat is None:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])


def stopped_since(ticks: int, ignore: Iterable[int] = ()) -> list[ThreadState]:
    """Threads of processes started at or after `ticks` that are stopped or in a ptrace stop, leaving out those a
    live tracer (another tool, another test) is holding on purpose."""
    skip = set(ignore)
    out = []
    for pid in all_pids():
        began = start_ticks(pid)
        if pid in skip or began is None or began < ticks:
            continue
        for thread in thread_states(pid):
            if thread.state not in ("t", "T"):
                continue
            if thread.tracer and alive(thread.tracer):
                continue
            out.append(thread)
    return out


def children_of(pid: int) -> list[int]:
    """The children of every thread of `pid`."""
    out: list[int] = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        out.extend(int(c) for c in (_read(f"/proc/{pid}/task/{tid}/children") or "").split())
    return out


#: The command line of the engine's waker (tracer/launch.py start_waker): a child that only sleeps, killed to wake
#: the tracer's waitpid.
WAKER_CMDLINE = b"sleep\x0086400\x00"


def tracer_of(boxtrace: int) -> int:
    """The process that traces for the boxtrace process `boxtrace`: the CLI runs its tracer in a forked child, which
    has the same command line (tracer/pipeline.py); before that fork, and where boxtrace traces in-process (the
    TUI), boxtrace itself."""
    own = cmdline(boxtrace)
    return next((c for c in children_of(boxtrace) if own and cmdline(c) == own), boxtrace)


def waker_of(pid: int) -> int | None:
    """The waker process of the boxtrace process `pid` (of its tracer process), if it has one now."""
    return next((c for c in children_of(tracer_of(pid)) if cmdline(c) == WAKER_CMDLINE), None)

