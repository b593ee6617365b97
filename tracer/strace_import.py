"""Turn an strace log into a boxtrace recording: `boxtrace import-strace LOG -o TRACE`.

Reads what `strace -f` writes with -tt, -ttt, -t or no timestamps, with or without -yy, -s N, -T and -v,
including `<unfinished ...>` / `<... NAME resumed>` pairs, `+++ exited with N +++`, `+++ killed by SIG... +++`,
`+++ superseded by execve in pid N +++`, `--- SIGCHLD {...} ---` and `--- stopped by SIGSTOP ---`.

How the arguments are decoded: each container-relevant call is turned back into what the kernel saw, its six
registers and the tracee memory they point to (strings, argv arrays, struct clone_args, a sockaddr...), and handed to
boxtrace's own decoders. So an imported `unshare` has exactly the `args` of a live trace ({"flags": [...]}), a mount
{"source", "target", "fstype", "flags", "data", "operation"}, a clone its flags and exit signal, and so on. Which
calls are kept follows the default `--filter container` rule of the engine (the syscalls of the seccomp set whose
decoded category is not "other"). Strings strace shortened (-s) end in "..." as in a live trace.

What a log cannot tell, and how the import fills it in:
- namespace inodes: strace does not show them, so namespaces get small synthetic ids (the host's are 1..9) that
  change where unshare, clone with CLONE_NEW* or setns change them; with -yy, setns's real inode is used;
- pids inside a pid namespace: clone's return value as the parent saw it (the first process of a new pid namespace
  is pid 1 there); NSpid chains are [host pid, innermost pid] (middle levels are not known);
- which clone made which new pid: the call whose return value names the pid, else the oldest clone still running
  (a pid namespace returns an inner pid); CLONE_THREAD children become threads;
- write(2) data: only with -yy, which names the file (data kept only for namespace and cgroup control files, like
  the live decoder; anything else a program writes may be a secret).

Secrets are redacted exactly as in a live trace unless `show_env` (the --show-env of live tracing) is given: argv
through tracer.redact.redact_argv (a container CLI's -e NAME=value, `docker login -p`, a wrapper's NAME=value) in
the header's command, the first process and every exec; environment values (shown by strace -v) by the exec
decoder; an exec whose arguments cannot be decoded keeps only its first argument as raw text.
Lines that cannot be read are counted and reported (the first few with their line numbers), never fatal.

The work is split in three: tracer.strace_lexer reads the log's text into lines and values, tracer.strace_encoder
turns a call's argument text into registers and memory for boxtrace's decoders, and this module folds the lines, in
log order, into events.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tracer.builder import EventBuilder, ProcessState
from tracer.decoders import CONTAINER_SYSCALL_NRS, SYSCALL_NRS_BY_NAME, SYSCALLS, Trait, syscalls_with
from tracer.events import (
    NAMESPACE_KINDS,
    Event,
    Header,
    Ipc,
    Level,
    Mode,
    NamespaceVia,
    Notice,
    ProcessStarted,
    ProcessVia,
    Signal,
    Status,
    Syscall,
)
from tracer.recording import Recorder, RecordingError
from tracer.strace_encoder import (
    EXEC_SYSCALLS,
    decode_line,
    recorded_argv,
    shown_argv,
    signal_number,
    undecoded_text,
)
from tracer.strace_lexer import CLONE_SYSCALLS, UNKNOWN_PID, FdTable, Line, LineKind, read_log, return_value
from tracer.xlat.clone import NAMESPACE_OF_FLAG

UNRECORDED_SIGNALS = frozenset({"SIGURG", "SIGCHLD"})
NO_RETURN_SYSCALLS = syscalls_with(Trait.NEVER_RETURNS)
#: The process-creating calls whose arguments carry CLONE_* flags (clone, clone3; fork and vfork take none).
CLONE_FLAG_SYSCALLS = CLONE_SYSCALLS & syscalls_with(Trait.NEW_NAMESPACE)


class StraceImportError(RecordingError):
    """A log that cannot be imported at all (missing, unreadable, or not an strace log). One sentence."""


@dataclass
class ImportReport:
    """What an import did: `describe()` for people, `summary()` for programs."""

    log: str
    output: str
    lines: int = 0
    events: int = 0
    processes: int = 0
    syscalls: int = 0
    malformed: int = 0
    #: Container syscalls kept with their raw argument text because they could not be decoded.
    undecoded: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)

    def describe(self) -> str:
        text = (f"imported {self.log}: {self.events} events ({self.processes} processes, {self.syscalls} syscalls) "
                f"written to {self.output}")
        if self.malformed:
            first = "; ".join(f"line {n}: {why}" for n, why in self.problems[:2])
            text += f"\n{self.malformed} malformed lines skipped (first: {first})"
        if self.undecoded:
            text += ("\n" if not self.malformed else "; ") + f"{self.undecoded} calls kept undecoded (raw text)"
        return text

    def summary(self) -> dict[str, Any]:
        return {
            "log": self.log,
            "output": self.output,
            "lines": self.lines,
            "events": self.events,
            "processes": self.processes,
            "syscalls": self.syscalls,
            "malformed": self.malformed,
            "undecoded": self.undecoded,
            "problems": [{"line": n, "reason": why} for n, why in self.problems],
        }


def import_strace(log_path: str | os.PathLike[str], output_path: str | os.PathLike[str], *,
                  show_env: bool = False) -> ImportReport:
    """Read the strace log at `log_path` and write a boxtrace recording (header mode "import") to `output_path`.
    Environment values and the secrets of command lines are redacted unless `show_env`, as in a live trace."""
    log = Path(log_path)
    try:
        handle = open(log, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        raise StraceImportError(f"{log}: no such file") from None
    except IsADirectoryError:
        raise StraceImportError(f"{log}: is a directory, not an strace log") from None
    except PermissionError:
        raise StraceImportError(f"{log}: permission denied") from None
    with handle:
        lexed = read_log(handle)
    parsed = lexed.lines
    report = ImportReport(log=str(log), output=str(output_path), lines=lexed.count, malformed=lexed.malformed,
                          problems=lexed.problems)
    if not parsed:
        raise StraceImportError(f"{log}: no strace lines found: is this the output of `strace -f -tt -o LOG ...`?")
    events = _Importer(str(log), show_env=show_env).run(parsed)
    try:
        recorder = Recorder(output_path)
    except IsADirectoryError:
        raise StraceImportError(f"{output_path}: is a directory; give a file name for the recording") from None
    except OSError as error:
        raise StraceImportError(f"{output_path}: cannot write the recording ({error.strerror})") from None
    try:
        recorder.write_many(events)
    finally:
        recorder.close()
    report.events = len(events)
    report.processes = sum(isinstance(e, ProcessStarted) for e in events)
    report.syscalls = sum(isinstance(e, Syscall) for e in events)
    report.undecoded = sum(isinstance(e, Syscall) and "strace" in e.args for e in events)
    return report


# From lines to events -----------------------------------------------------------------------------------------


@dataclass
class _Pending:
    name: str
    text: str
    start: float | None
    line: int
    #: For an exec finished by another thread's pid (`superseded by execve`): the tid that called it.
    old_tid: int | None = None


@dataclass
class _Clone:
    parent: int  # tid
    name: str
    flags: list[str]
    #: The log line where the call started: what the pre-pass links children to.
    key: int = 0
    ret: int | None = None
    done: bool = False
    child: int | None = None


class _Importer:
    """Folds parsed lines, in log order, into facts for an EventBuilder (the engine's, so imported and live
    traces build their process and namespace events by the same rules). What only a log needs stays here: which
    clone made which pid, the synthetic namespace ids, pids inside pid namespaces, threads that are gone."""

    def __init__(self, log: str, show_env: bool = False) -> None:
        self.log = log
        self.show_env = show_env
        self.events: list[Event] = []
        #: Numbers from 2: the header (0) and the import notice (1) are made last, when the command is known.
        self.builder = EventBuilder(self.events.append, clock=lambda: self.last_t, first_seq=2)
        self.tgid: dict[int, int] = {}  # tid -> its process
        #: Processes that exited, as the builder last knew them: a child the log shows only after its parent's
        #: exit still starts in the parent's namespaces.
        self.departed: dict[int, ProcessState] = {}
        self.root_exit: int | None = None
        self.pending: dict[int, _Pending] = {}
        self.clones: list[_Clone] = []
        self.t0: float | None = None
        self.last_t = 0.0
        self.root: int | None = None
        self.command: list[str] = []
        self.next_ns = 100
        self.host_ns = {kind: index + 1 for index, kind in enumerate(NAMESPACE_KINDS)}
        self.host_ns["pid_for_children"] = self.host_ns["pid"]
        self.pidns_members: dict[int, int] = {}
        self.bound: dict[str, int] = {}
        self.started: str = ""
        #: Threads and processes that ended: their later lines (other threads' exits) are not new processes.
        self.gone: set[int] = set()
        self.fd_tables: dict[int, FdTable] = {}
        self.current_line = 0

    # Plumbing

    def _advance_clock(self, line: Line) -> None:
        """The builder's clock reads `last_t`: the line's time since the first line (never going back)."""
        if line.time is None:
            return
        if self.t0 is None:
            self.t0 = line.time
            if line.time > 1e8:  # -ttt: seconds since the epoch
                self.started = datetime.fromtimestamp(line.time, UTC).isoformat(timespec="seconds")
        t = line.time - self.t0
        if t < 0:
            t += 86400  # -tt crossed midnight
        self.last_t = max(self.last_t, round(t, 6))

    def _emit(self, factory: Callable[..., Event], **fields: Any) -> None:
        """An event the process model does not need (Syscall, Signal, Ipc), numbered and timed by the builder."""
        self.builder.emit(factory(self.builder.next_seq(), self.builder.now(), **fields))

    def _process(self, pid: int) -> ProcessState | None:
        return self.builder.procs.get(pid) or self.departed.get(pid)

    def _new_ns(self) -> int:
        self.next_ns += 1
        return self.next_ns

    def run(self, lines: list[Line]) -> list[Event]:
        self._link_children(lines)
        for line in lines:
            self.current_line = line.number
            self._line(line)
        if self.builder.procs:
            self.builder.notice(Level.WARNING, f"{len(self.builder.procs)} processes have no exit in the log (it "
                                               "ends before they did)")
        root_exited = self.root is not None and self.root not in self.builder.procs
        self.builder.ended(self.root_exit if root_exited else None,
                           Status.COMPLETED if root_exited else Status.INTERRUPTED)
        header = Header(seq=0, t=0.0, kernel="", arch="x86_64", command=self.command, started=self.started,
                        mode=Mode.IMPORT, filter="container", host_ns=dict(self.host_ns), seccomp=False)
        notice = Notice(seq=1, t=0.0, level=Level.INFO, message=(
            f"imported from the strace log {os.path.basename(self.log)}: namespace ids are synthetic (strace shows "
            "no inodes) and pids inside pid namespaces come from clone's return values"))
        return [header, notice, *self.events]

    # Lines

    def _line(self, line: Line) -> None:
        tid = line.pid if line.pid is not None else UNKNOWN_PID
        self._advance_clock(line)
        if line.kind == LineKind.SUPERSEDED:
            self._superseded(tid, line.int_value())
            return
        if not self._ensure_known(tid, line):
            return
        pid = self.tgid.get(tid, tid)
        if line.kind == LineKind.CALL:
            self._call(tid, pid, line.name, line.text, line.ret_text, None)
        elif line.kind == LineKind.UNFINISHED:
            self.pending[tid] = _Pending(line.name, line.text, line.time, line.number)
            if line.name in CLONE_SYSCALLS:
                self._clone_started(tid, line.name, line.text)
            if line.name in NO_RETURN_SYSCALLS:
                self._call(tid, pid, line.name, line.text, "?", None)
                self.pending[tid].name = ""  # already recorded
        elif line.kind == LineKind.RESUMED:
            pending = self.pending.pop(tid, None)
            if pending is None or pending.name != line.name:
                return  # resumed without its start (the log began mid-call) or already recorded
            duration = (line.time - pending.start) if line.time is not None and pending.start is not None else None
            self._call(tid, pid, line.name, pending.text + line.text, line.ret_text, duration, started=True,
                       old_tid=pending.old_tid)
        elif line.kind in (LineKind.EXITED, LineKind.KILLED):
            self._gone(tid, pid, line)
        elif line.kind == LineKind.SIGNAL:
            if line.value not in UNRECORDED_SIGNALS:
                self._emit(Signal, pid=pid, tid=tid, signal=str(line.value))
        elif line.kind == LineKind.STOPPED:
            self._emit(Signal, pid=pid, tid=tid, signal=f"{line.value} (group-stop)")

    def _ensure_known(self, tid: int, line: Line) -> bool:
        """Make sure `tid` has its process (or thread) event; False for a line of a thread already gone."""
        if tid in self.tgid:
            return True
        clone = self._creator_of(tid)
        if tid in self.gone and (clone is None or clone.ret != tid):
            return False
        self.gone.discard(tid)
        if clone is None:
            self._root_process(tid, line)
            return True
        clone.child = tid
        parent_pid = self.tgid.get(clone.parent, clone.parent)
        parent = self._process(parent_pid)
        if "CLONE_THREAD" in clone.flags:
            self.tgid[tid] = parent_pid
            self.builder.thread_started(parent_pid, tid, creator=clone.parent, flags=clone.flags)
            return True
        self.tgid[tid] = tid
        ns = dict(parent.ns) if parent else dict(self.host_ns)
        ns["pid"] = ns.get("pid_for_children", ns.get("pid", 0))
        for flag in clone.flags:
            kind = NAMESPACE_OF_FLAG.get(flag)
            if kind is not None:
                ns[kind] = self._new_ns()
                if kind == "pid":
                    ns["pid_for_children"] = ns["pid"]
        nspid = [tid]
        if ns.get("pid") != self.host_ns["pid"]:
            members = self.pidns_members.get(ns["pid"], 0)
            inner = 1 if members == 0 else clone.ret if clone.ret is not None and clone.ret != tid else None
            if inner is not None:
                nspid.append(inner)
        self.pidns_members[ns["pid"]] = self.pidns_members.get(ns["pid"], 0) + 1
        ppid = parent.ppid if parent is not None and "CLONE_PARENT" in clone.flags else parent_pid
        self.fd_tables[tid] = self.fd_tables.get(parent_pid, FdTable()).copy()
        self.builder.process_started(tid, ppid=ppid, creator=parent_pid, via=ProcessVia(clone.name), ns=ns,
                                     nspid=nspid, comm=parent.comm if parent else "", flags=clone.flags)
        if parent is not None:  # (alive or not: see `departed`)
            self.builder.namespace_diff(tid, parent.ns, ns, NamespaceVia(clone.name))
        return True

    def _link_children(self, lines: list[Line]) -> None:
        """Before anything is emitted: which clone made which pid of the log, wherever the clone's return value is
        that pid (it is not inside a pid namespace, where the parent sees another number)."""
        pids = {line.pid if line.pid is not None else UNKNOWN_PID for line in lines}
        started: dict[int | None, int] = {}
        self.clone_of_child: dict[int, list[int]] = {}
        self.linked_clones: set[int] = set()
        for line in lines:
            if line.name not in CLONE_SYSCALLS:
                continue
            if line.kind == LineKind.UNFINISHED:
                started[line.pid] = line.number
                continue
            key = line.number if line.kind == LineKind.CALL else started.pop(line.pid, None)
            if key is None or line.kind not in (LineKind.CALL, LineKind.RESUMED):
                continue
            ret, error, _ = return_value(line.ret_text)
            if error is None and ret is not None and ret > 0 and ret in pids:
                self.clone_of_child.setdefault(ret, []).append(key)
                self.linked_clones.add(key)

    def _creator_of(self, tid: int) -> _Clone | None:
        """The clone that made `tid`: the one the pre-pass linked to it, else (a pid namespace hides the real pid)
        the oldest unlinked clone still running, else the oldest unlinked one that returned."""
        open_clones = [c for c in self.clones if c.child is None]
        keys = self.clone_of_child.get(tid)
        if keys:
            for clone in open_clones:
                if clone.key == keys[0]:
                    keys.pop(0)
                    return clone
        unlinked = [c for c in open_clones if c.key not in self.linked_clones]
        for clone in unlinked:
            if not clone.done:
                return clone
        for clone in unlinked:
            if clone.ret is not None:
                return clone
        return None

    def _root_process(self, tid: int, line: Line) -> None:
        first = self.root is None
        if first:
            self.root = tid
        argv: list[str] | None = None
        if line.kind in (LineKind.CALL, LineKind.UNFINISHED) and line.name == "execve":
            argv = shown_argv(line.text, tid)
            if argv is not None:
                argv = recorded_argv(argv, self.show_env)
        if first and argv:
            self.command = list(argv)
        self.tgid[tid] = tid
        self.builder.process_started(tid, ppid=0, creator=None, via=ProcessVia.LAUNCH if first else ProcessVia.ATTACH,
                                     comm=os.path.basename(argv[0])[:15] if argv else "", argv=argv,
                                     ns=dict(self.host_ns), nspid=[tid], attached=not first)

    def _clone_started(self, tid: int, name: str, text: str) -> None:
        flags: list[str] = []
        if name in CLONE_FLAG_SYSCALLS:
            try:
                args, _, _ = decode_line(name, text, tid, tid, None)
                flags = list(args.get("flags") or [])
            except ValueError:
                flags = []
        self.clones.append(_Clone(tid, name, flags, key=self.current_line))

    def _call(self, tid: int, pid: int, name: str, text: str, ret_text: str, duration: float | None,
              started: bool = False, old_tid: int | None = None) -> None:
        ret, error, measured = return_value(ret_text)
        if measured is not None:
            duration = measured
        table = self.fd_tables.setdefault(pid, FdTable())
        before = table.copy()
        table.learn(text)
        table.learn(ret_text)
        if name == "close" and error is None:
            with_number = re.match(r"\s*(\d+)", text)
            if with_number:
                table.fds.pop(int(with_number[1]), None)
        if name in CLONE_SYSCALLS:
            if not started:
                self._clone_started(tid, name, text)
            clone = next((c for c in reversed(self.clones) if c.parent == tid and not c.done), None)
            if clone is not None:
                clone.done = True
                if ret is not None and ret > 0 and error is None:
                    clone.ret = ret
                elif clone.child is None:
                    self.clones.remove(clone)  # failed: no child will appear
        if name in EXEC_SYSCALLS and error is None and ret is not None:
            self._exec(tid, pid, name, text, old_tid)
            return
        nr = SYSCALL_NRS_BY_NAME.get(name)
        if nr is None or nr not in CONTAINER_SYSCALL_NRS:
            return
        try:
            args, category, notes = decode_line(name, text, pid, tid, ret, before, show_env=self.show_env)
        except ValueError:
            args, category, notes = {"strace": undecoded_text(name, text, self.show_env)}, SYSCALLS[nr].category, {}
        if category == "other":
            return
        returns = name not in NO_RETURN_SYSCALLS
        self._emit(Syscall, pid=pid, tid=tid, name=name, nr=nr, args=args, ret=ret if returns else None,
                   error=error, category=category, dur=round(duration, 6) if duration is not None and returns else None,
                   notes=notes or None)
        if error is None:
            self._after(pid, name, args)

    def _exec(self, tid: int, pid: int, name: str, text: str, old_tid: int | None = None) -> None:
        try:
            args, _, _ = decode_line(name, text, pid, tid, 0, show_env=self.show_env)
        except ValueError:
            args = {}
        path = args.get("path") or args.get("dirfd_path") or ""
        shown = args.get("argv")
        argv: list[str] = shown if isinstance(shown, list) else []
        comm = os.path.basename(str(path))[:15]
        self.builder.exec(pid, path=str(path), argv=list(argv), env=args.get("env"), comm=comm, syscall=name,
                          old_tid=old_tid)
        if self.root == pid and not self.command and argv:
            self.command = list(argv)

    def _superseded(self, leader: int, old_tid: int) -> None:
        """`LEADER +++ superseded by execve in pid OLD +++`: thread OLD exec'd and now has the leader's pid; its
        exec resumes under the leader's pid."""
        pending = self.pending.pop(old_tid, None)
        self.tgid.pop(old_tid, None)
        self.gone.add(old_tid)
        if pending is not None:
            pending.old_tid = old_tid
            self.pending[leader] = pending

    def _after(self, pid: int, name: str, args: dict[str, Any]) -> None:
        proc = self.builder.procs.get(pid)
        if proc is None:
            return
        if name == "unshare":
            new = dict(proc.ns)
            for flag in args.get("flags") or []:
                kind = NAMESPACE_OF_FLAG.get(flag)
                if kind == "pid":
                    new["pid_for_children"] = self._new_ns()
                elif kind is not None:
                    new[kind] = self._new_ns()
            self.builder.namespaces_read(pid, new, NamespaceVia.UNSHARE)
        elif name == "setns":
            kind, inode = args.get("namespace"), args.get("inode")
            if isinstance(kind, str) and isinstance(inode, int):
                new = dict(proc.ns)
                new["pid_for_children" if kind == "pid" else kind] = inode
                self.builder.namespaces_read(pid, new, NamespaceVia.SETNS)
        elif name == "bind" and isinstance(args.get("path"), str):
            self.bound[args["path"]] = pid
        elif name == "connect" and isinstance(args.get("path"), str):
            self._emit(Ipc, pid=pid, peer_pid=self.bound.get(args["path"]), path=args["path"])

    def _gone(self, tid: int, pid: int, line: Line) -> None:
        self.pending.pop(tid, None)
        self.gone.add(tid)
        if tid != pid:
            self.tgid.pop(tid, None)
            return
        if pid not in self.builder.procs:
            return  # its exit is already recorded
        code = line.int_value() if line.kind == LineKind.EXITED else None
        signal_name = str(line.value) if line.kind == LineKind.KILLED else None
        if pid == self.root:
            self.root_exit = code if code is not None else 128 + signal_number(str(signal_name))
        state = self.builder.exited(pid, code=code, signal=signal_name)
        if state is not None:
            self.departed[pid] = state
        for other in [tid_ for tid_, owner in self.tgid.items() if owner == pid]:
            self.tgid.pop(other, None)
            self.gone.add(other)

