"""The what-if lab's injector: decide which syscall fails, with which errno, without the kernel running it.

A rule is written `SYSCALL[(PATH)]=ERRNO[@N][:PROCESS]`:
- SYSCALL as the kernel spells it (`pivot_root`, `sethostname`, `execve`); `(PATH)` keeps only calls whose path
  argument (or the file behind their fd, for write) contains PATH, e.g. `write(cgroup.procs)=EACCES`;
- ERRNO a name (`EPERM`, `ENOSPC`) or a number;
- `@N`: the N-th matching call fails (default: the first); the others run;
- `:PROCESS`: only calls made by that process, named by its comm (a runc role such as `runc:[2:INIT]`) or its
  program's name (`runc`, `sh`).

The engine asks `at_entry` at every syscall-entry or PTRACE_EVENT_SECCOMP stop of a recorded call; when it
answers with a rule, the engine writes -1 into orig_rax (the kernel then runs nothing and returns -ENOSYS) and, at
the exit stop, writes -errno into rax: strace's `-e inject=SYSCALL:error=ERRNO` (src/syscall.c,
tamper_with_syscall_entering/_exiting). A process that was running before the trace (an attached daemon's thread)
is never hit: the engine attaches daemons quietly (no seccomp filter, resumed with PTRACE_CONT, so they never stop
at a syscall and never reach `at_entry`), and `at_entry` itself skips attached threads for a rule that names no
process. In attach mode every rule must name a process: what it can hit is a process born during the trace (a
shim, runc and its stages, a daemon's child) whose comm or program is that name (tests/test_inject_scope.py).

After the first fault the engine follows the traced tree at every stop and records what it writes to its stdout
and stderr (`output_wanted`), so the diagnosis can quote what the runtime printed.
"""

from __future__ import annotations

import errno as errno_module
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from tracer.decoders import SYSCALL_NRS_BY_NAME, Trait, syscalls_with
from tracer.decoders.base import SyscallContext
from tracer.decoders.common import fd_path, read_buffer, read_string, s32
from tracer.xlat.errnos import errno_name

#: Calls that cannot be failed: they never return (there is no exit stop to write the error at).
UNINJECTABLE = syscalls_with(Trait.NEVER_RETURNS) | {"rt_sigreturn"}
AT_FDCWD = -100
AT_REMOVEDIR = 0x200
#: Calls recorded after a fault although the container filter leaves them out: what the runtime removes.
REACTION_NRS = frozenset(SYSCALL_NRS_BY_NAME[name] for name in ("rmdir", "unlinkat", "write"))
#: Bytes of each write to fd 1 or 2 kept after a fault (runc's error is one line; a JSON log line a few hundred).
OUTPUT_LIMIT = 4096
_RULE = re.compile(
    r"^(?P<syscall>[a-z0-9_]+)(?:\((?P<path>[^()]*)\))?=(?P<errno>[A-Za-z0-9]+)(?:@(?P<nth>\d+))?(?::(?P<process>.+))?$"
)


class InjectError(ValueError):
    """A rule that cannot be used; the message is one sentence for the user."""


@dataclass(frozen=True)
class InjectRule:
    text: str
    syscall: str
    nr: int
    errno: int
    nth: int = 1
    process: str | None = None
    path: str | None = None

    @property
    def errno_name(self) -> str:
        return errno_name(self.errno)

    def describe(self) -> str:
        which = "the first" if self.nth == 1 else f"call number {self.nth} of the"
        where = f" whose path contains {self.path!r}" if self.path else ""
        who = f" made by {self.process}" if self.process else ""
        return f"{which} {self.syscall} calls{where}{who} fails with {self.errno_name}, without running"


def parse_rule(text: str) -> InjectRule:
    """`pivot_root=EPERM:runc:[2:INIT]` -> InjectRule; InjectError with one sentence when it cannot be used."""
    match = _RULE.match(text.strip())
    if match is None:
        raise InjectError(f"--inject {text!r}: write SYSCALL=ERRNO[@N][:PROCESS], e.g. pivot_root=EPERM:runc:[2:INIT]")
    syscall = match["syscall"]
    nr = SYSCALL_NRS_BY_NAME.get(syscall)
    if nr is None:
        raise InjectError(f"--inject {text!r}: {syscall!r} is not a system call of this architecture")
    if syscall in UNINJECTABLE:
        raise InjectError(f"--inject {text!r}: {syscall} never returns, so it cannot be made to fail")
    name = match["errno"]
    if name.isdigit():
        number = int(name)
    else:
        number = getattr(errno_module, name.upper(), 0) if name.upper().startswith("E") else 0
    if not 0 < number < 4096:
        raise InjectError(f"--inject {text!r}: {name!r} is not an errno name (EPERM, ENOENT, ENOSPC...) or number")
    nth = int(match["nth"]) if match["nth"] else 1
    if nth < 1:
        raise InjectError(f"--inject {text!r}: @N counts from 1 (the first matching call)")
    return InjectRule(text.strip(), syscall, nr, number, nth, match["process"] or None, match["path"] or None)


@dataclass
class _Count:
    rule: InjectRule
    seen: int = 0
    done: bool = False


@dataclass
class Injector:
    """Counts matching calls per rule and says which one to fail. One per trace; used on the tracer's thread."""

    rules: tuple[InjectRule, ...]
    attach_only: bool = False
    #: Only calls of processes this accepts (by tid) can be hit: `boxtrace docker` limits faults to its own
    #: container (container_scope), so a container someone else starts meanwhile is never touched.
    scope: Callable[[int], bool] | None = None
    _counts: list[_Count] = field(default_factory=list)
    fired: int = 0

    def __post_init__(self) -> None:
        if self.attach_only:
            unnamed = [r.text for r in self.rules if not r.process]
            if unnamed:
                raise InjectError(
                    f"--inject {unnamed[0]!r}: when attaching, name the process to hit (append :PROCESS, e.g. "
                    ":runc:[2:INIT]); boxtrace never injects faults into an attached daemon, only into processes "
                    "born during the trace"
                )
        self._counts = [_Count(rule) for rule in self.rules]

    @property
    def syscall_names(self) -> tuple[str, ...]:
        return tuple(sorted({rule.syscall for rule in self.rules}))

    @property
    def nrs(self) -> frozenset[int]:
        return frozenset(rule.nr for rule in self.rules)

    def at_entry(self, tid: int, nr: int, args: dict, *, attached: bool) -> tuple[InjectRule, int] | None:
        """The rule (and which matching call this is) when this call must fail; None to let it run."""
        comm: str | None = None
        program: str | None = None
        for count in self._counts:
            rule = count.rule
            if count.done or rule.nr != nr:
                continue
            if rule.process is None:
                if attached:
                    continue  # never a daemon's call unless the rule names it
            else:
                if comm is None:
                    comm, program = _names(tid)
                if rule.process not in (comm, program):
                    continue
            if self.scope is not None and not self.scope(tid):
                continue
            if rule.path is not None and not any(rule.path in str(args.get(key) or "")
                                                 for key in ("path", "target", "dirfd_path", "pathname", "file")):
                continue
            count.seen += 1
            if count.seen == rule.nth:
                count.done = True
                self.fired += 1
                return rule, count.seen
        return None

    @staticmethod
    def reaction(name: str, decoded: dict, context: SyscallContext) -> tuple[dict, str] | None:
        """After a fault, the calls that show the runtime's reaction, with what they carry: writes to stdout and
        stderr (with their text) and removals (rmdir, unlinkat: the path). None for any other call."""
        args = context.args
        if name == "write" and decoded.get("fd") in (1, 2):
            return {**decoded, "data": read_buffer(context, args[1], min(args[2], OUTPUT_LIMIT))}, "other"
        if name == "rmdir":
            return {"path": read_string(context, args[0])}, "filesystem-view"
        if name == "unlinkat":
            dirfd = s32(args[0])
            out: dict = {"dirfd": "AT_FDCWD" if dirfd == AT_FDCWD else dirfd, "path": read_string(context, args[1]),
                         "flags": ["AT_REMOVEDIR"] if args[2] & AT_REMOVEDIR else []}
            if dirfd != AT_FDCWD:
                out["dirfd_path"] = fd_path(context, dirfd)
            return out, "filesystem-view"
        return None


def container_scope(cidfile: str, max_depth: int = 16) -> Callable[[int], bool]:
    """A scope for `docker run --cidfile FILE`: a process works for that container when the container's id (docker
    writes it to FILE at create) is in its own or an ancestor's command line (runc create/start ... ID, the shim's
    -id ID) or in its cgroup path (/docker/ID). runc's init stages are children of runc create (CLONE_PARENT)."""
    found: list[str] = []

    def container_id() -> str:
        if not found:
            try:
                with open(cidfile, encoding="ascii", errors="replace") as handle:
                    text = handle.read().strip()
            except OSError:
                return ""
            if text:
                found.append(text)
        return found[0] if found else ""

    def scope(tid: int) -> bool:
        cid = container_id()
        if not cid:
            return False
        try:
            with open(f"/proc/{tid}/cgroup", encoding="utf-8", errors="replace") as handle:
                if cid in handle.read():
                    return True
        except OSError:
            pass
        pid = tid
        for _ in range(max_depth):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as handle:
                    if cid.encode() in handle.read():
                        return True
                with open(f"/proc/{pid}/status", encoding="utf-8", errors="replace") as handle:
                    ppid = next((int(line.split()[1]) for line in handle if line.startswith("PPid:")), 0)
            except (OSError, ValueError):
                return False
            if ppid <= 1:
                return False
            pid = ppid
        return False

    return scope


def _names(tid: int) -> tuple[str, str]:
    try:
        with open(f"/proc/{tid}/comm", encoding="utf-8", errors="replace") as handle:
            comm = handle.read().rstrip("\n")
    except OSError:
        comm = ""
    try:
        program = os.path.basename(os.readlink(f"/proc/{tid}/exe"))
    except OSError:
        program = ""
    return comm, program
