"""seccomp filters made readable: which system calls a container may make, and what happens to the others.

When a runtime calls seccomp(SECCOMP_SET_MODE_FILTER) or prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER), the
decoder records the BPF program (args["program"], hex). Here each program is run by tracer.bpf for every
x86_64 system call number (syscall names from tracer.decoders.SYSCALLS), with arguments 0, and the verdicts
are summed up: the default action, the calls denied and how (ERRNO(EPERM), KILL_PROCESS, ...), the count
allowed.

Some rules look at arguments (Docker's profile allows clone() only without CLONE_NEWUSER and the other
namespace flags, personality() only for a few personas). A call whose run read an argument is run again with
other values for that argument, taken from the constants the program compares with; if the verdict changes it
is marked "depends on arguments" and every verdict seen is kept. This finds the common single-argument rules,
not every combination of values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from tracer.bpf import (
    AUDIT_ARCH_X86_64,
    OFFSET_ARCH,
    BpfError,
    FilterRun,
    Instruction,
    SeccompData,
    check_program,
    constants,
    parse_program,
    run_filter,
)
from tracer.decoders import SYSCALLS
from tracer.decoders import X32_FIRST_NR as _X32_FIRST_NR
from tracer.events import Event, Syscall
from tracer.insights.common import creator_chain, replay
from tracer.processes import ProcessTable
from tracer.xlat.errnos import errno_name

SECCOMP_RET_ACTION_FULL = 0xFFFF0000
SECCOMP_RET_DATA = 0x0000FFFF

#: Actions by value, strongest first: when several filters are stacked the kernel applies the strongest.
ACTIONS: tuple[tuple[str, int], ...] = (
    ("KILL_PROCESS", 0x80000000),
    ("KILL_THREAD", 0x00000000),
    ("TRAP", 0x00030000),
    ("ERRNO", 0x00050000),
    ("USER_NOTIF", 0x7FC00000),
    ("TRACE", 0x7FF00000),
    ("LOG", 0x7FFC0000),
    ("ALLOW", 0x7FFF0000),
)
_ACTION_NAMES = {value: name for name, value in ACTIONS}
_PRECEDENCE = {name: rank for rank, (name, _) in enumerate(ACTIONS)}

#: What each action does, in a learner's words.
ACTION_MEANINGS: dict[str, str] = {
    "KILL_PROCESS": "the whole process is killed (SIGSYS)",
    "KILL_THREAD": "the calling thread is killed (SIGSYS)",
    "TRAP": "the process gets SIGSYS and may handle it",
    "ERRNO": "the call fails with this errno without running",
    "USER_NOTIF": "a supervisor process decides (seccomp user notification)",
    "TRACE": "a ptrace tracer decides; without one the call fails with ENOSYS",
    "LOG": "the call runs and is logged",
    "ALLOW": "the call runs",
}

#: Argument values always tried besides the program's own constants.
_BASE_VALUES = (0, 1, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF)
_MAX_VALUES = 96

#: The syscall numbers of the x86_64 ABI (the x32 entries from 512 on are another ABI).
NATIVE_SYSCALLS: dict[int, str] = {nr: spec.name for nr, spec in SYSCALLS.items() if nr < _X32_FIRST_NR}


@dataclass(frozen=True, slots=True)
class Verdict:
    """A filter's 32-bit return value: the action and its data (the errno for ERRNO)."""

    value: int

    @property
    def action(self) -> str:
        # The kernel treats an unknown action as KILL_PROCESS.
        return _ACTION_NAMES.get(self.value & SECCOMP_RET_ACTION_FULL, "KILL_PROCESS")

    @property
    def data(self) -> int:
        return self.value & SECCOMP_RET_DATA

    @property
    def label(self) -> str:
        """ERRNO(EPERM), TRACE(7), KILL_PROCESS, ALLOW."""
        action = self.action
        if action == "ERRNO":
            return f"ERRNO({errno_name(self.data)})"
        if action in ("TRACE", "TRAP") and self.data:
            return f"{action}({self.data})"
        return action

    @property
    def allows(self) -> bool:
        """The call runs (possibly logged)."""
        return self.action in ("ALLOW", "LOG")

    @property
    def denies(self) -> bool:
        """The call never runs: it fails or the caller is killed or trapped."""
        return self.action in ("KILL_PROCESS", "KILL_THREAD", "TRAP", "ERRNO")

    @property
    def precedence(self) -> int:
        return _PRECEDENCE[self.action]


def strongest(verdicts: Iterable[Verdict]) -> Verdict:
    """The verdict the kernel applies when stacked filters disagree (lower data wins between equal
    actions)."""
    return min(verdicts, key=lambda v: (v.precedence, v.data))


@dataclass(frozen=True, slots=True)
class SyscallVerdict:
    nr: int
    name: str
    #: The verdict with every argument 0.
    verdict: Verdict
    #: Other verdicts seen when arguments change (empty unless the verdict depends on arguments).
    alternatives: tuple[Verdict, ...] = ()
    #: Indexes of the arguments the filter read for this call.
    args_checked: tuple[int, ...] = ()

    @property
    def depends_on_arguments(self) -> bool:
        return bool(self.alternatives)


@dataclass
class FilterAnalysis:
    """What one filter program does to every x86_64 system call."""

    instructions: int
    verdicts: dict[str, SyscallVerdict]
    #: The verdict for a call the program names nowhere (a number in the gap of the x86_64 table).
    default: Verdict
    #: The verdict for a number above every known syscall (newer than the profile; runc answers ENOSYS there).
    newer: Verdict
    #: The verdict for a call from an architecture the program does not expect.
    foreign_arch: Verdict
    checks_arch: bool

    def verdict(self, name: str) -> SyscallVerdict | None:
        return self.verdicts.get(name)

    @property
    def allowed(self) -> list[str]:
        return sorted(n for n, v in self.verdicts.items() if v.verdict.allows)

    @property
    def denied(self) -> list[str]:
        return sorted(n for n, v in self.verdicts.items() if v.verdict.denies)

    @property
    def by_action(self) -> dict[str, list[str]]:
        """Label (ERRNO(EPERM), KILL_PROCESS...) -> the syscalls given it (with arguments 0), ALLOW
        excluded."""
        out: dict[str, list[str]] = {}
        for name, v in sorted(self.verdicts.items()):
            if v.verdict.action != "ALLOW":
                out.setdefault(v.verdict.label, []).append(name)
        return dict(sorted(out.items(), key=lambda item: (-len(item[1]), item[0])))

    @property
    def depends_on_arguments(self) -> list[str]:
        return sorted(n for n, v in self.verdicts.items() if v.depends_on_arguments)

    def facts(self) -> list[str]:
        total = len(self.verdicts)
        lines = [
            f"default action: {self.default.label} ({ACTION_MEANINGS[self.default.action]})",
            f"allowed: {len(self.allowed)} of {total} system calls",
        ]
        for label, names in self.by_action.items():
            lines.append(f"{label}: {len(names)} ({_short_list(names)})")
        if self.depends_on_arguments:
            parts = []
            for name in self.depends_on_arguments:
                v = self.verdicts[name]
                others = ", ".join(a.label for a in v.alternatives)
                parts.append(f"{name} ({v.verdict.label} with arguments 0, else {others})")
            lines.append("depends on arguments: " + "; ".join(parts))
        if self.newer != self.default:
            lines.append(f"system calls newer than the profile: {self.newer.label}")
        if self.checks_arch:
            lines.append(f"calls from another architecture: {self.foreign_arch.label}")
        return lines


def _short_list(names: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", ... (+{len(names) - limit})" if len(names) > limit else "")


def _gap_number() -> int:
    """A number below the highest x86_64 syscall that no syscall has (335 on current kernels)."""
    known = set(NATIVE_SYSCALLS)
    return next(nr for nr in range(max(known)) if nr not in known)


def analyze_program(
    program: bytes | str | Sequence[Instruction], arch: int = AUDIT_ARCH_X86_64
) -> FilterAnalysis:
    """Run a filter for every syscall number; raises BpfError for a program the kernel would refuse."""
    insns = list(program) if not isinstance(program, bytes | str) else parse_program(program)
    check_program(insns)
    values = list(dict.fromkeys([*_BASE_VALUES, *constants(insns)]))[:_MAX_VALUES]

    def run(nr: int, args: tuple[int, ...] = (0,) * 6, on_arch: int = arch) -> FilterRun:
        return run_filter(insns, SeccompData(nr=nr, arch=on_arch, args=args))

    verdicts: dict[str, SyscallVerdict] = {}
    checks_arch = False
    for nr, name in sorted(NATIVE_SYSCALLS.items()):
        first = run(nr)
        checks_arch |= OFFSET_ARCH in first.loaded
        verdicts[name] = _probe(nr, name, first, run, values)
    return FilterAnalysis(
        instructions=len(insns),
        verdicts=verdicts,
        default=Verdict(run(_gap_number()).value),
        newer=Verdict(run(max(NATIVE_SYSCALLS) + 1).value),
        foreign_arch=Verdict(run(0, on_arch=0).value),
        checks_arch=checks_arch,
    )


def _probe(
    nr: int, name: str, first: FilterRun, run: Callable[[int, tuple[int, ...]], FilterRun], values: list[int]
) -> SyscallVerdict:
    """Try other values for each argument the filter reads; keep every different verdict."""
    base = Verdict(first.value)
    checked = set(first.args_read)
    if not checked:
        return SyscallVerdict(nr, name, base)
    seen: dict[int, Verdict] = {base.value: base}
    pending = sorted(checked)
    done: set[int] = set()
    while pending:
        index = pending.pop(0)
        done.add(index)
        for value in values:
            args = [0] * 6
            args[index] = value
            result = run(nr, tuple(args))
            seen.setdefault(result.value, Verdict(result.value))
            for other in result.args_read - checked:
                checked.add(other)
                if other not in done:
                    pending.append(other)
    alternatives = tuple(v for value, v in seen.items() if value != base.value)
    return SyscallVerdict(nr, name, base, alternatives, tuple(sorted(checked)))


@dataclass
class SeccompFilter:
    """One filter a traced process installed."""

    seq: int
    pid: int
    process: str
    via: str  # "seccomp" or "prctl"
    flags: list[str] = field(default_factory=list)
    length: int | None = None
    analysis: FilterAnalysis | None = None
    #: Why there is no analysis (the program was not recorded or is invalid).
    problem: str | None = None

    def facts(self) -> list[str]:
        call = "seccomp(SECCOMP_SET_MODE_FILTER)" if self.via == "seccomp" else "prctl(PR_SET_SECCOMP)"
        head = f"{self.process} installed a seccomp filter of {self.length} instructions with {call}"
        if self.analysis is None:
            return [head, f"not evaluated: {self.problem}"]
        return [head, *self.analysis.facts()]


def _is_filter_install(event: Syscall) -> bool:
    if event.error is not None:
        return False
    if event.name == "seccomp":
        return event.args.get("operation") == "SECCOMP_SET_MODE_FILTER"
    return (
        event.name == "prctl"
        and event.args.get("option") == "PR_SET_SECCOMP"
        and (event.args.get("mode") == "SECCOMP_MODE_FILTER")
    )


def seccomp_filters(events: Iterable[Event]) -> list[SeccompFilter]:
    """Every successful filter installation in the trace, evaluated."""
    out: list[SeccompFilter] = []
    cache: dict[str, FilterAnalysis | str] = {}
    for event, state in replay(events):
        if (
            not isinstance(event, Syscall)
            or event.name not in ("seccomp", "prctl")
            or not _is_filter_install(event)
        ):
            continue
        found = SeccompFilter(
            seq=event.seq,
            pid=event.pid,
            process=state.label(event.pid),
            via=event.name,
            flags=list(event.args.get("flags") or []),
            length=event.args.get("len"),
        )
        program = event.args.get("program")
        if not isinstance(program, str) or program.startswith("<"):
            found.problem = (
                "the program could not be read from the process"
                if isinstance(program, str)
                else "the recording has no program bytes (recorded by an older boxtrace)"
            )
        else:
            if program not in cache:
                try:
                    cache[program] = analyze_program(program)
                except BpfError as error:
                    cache[program] = f"the kernel would refuse this program: {error}"
            result = cache[program]
            if isinstance(result, str):
                found.problem = result
            else:
                found.analysis = result
        out.append(found)
    return out


def filters_of(filters: list[SeccompFilter], table: ProcessTable, pid: int) -> list[tuple[SeccompFilter, bool]]:
    """The filters `pid` runs under, oldest first, each with True when it was inherited from a creator (filters
    are kept across fork and exec and can never be removed): its own installs, then those its creators made
    before creating the next process down the chain."""
    if not filters:
        return []
    out: list[tuple[SeccompFilter, bool]] = []
    for who, before in creator_chain(table, pid):
        mine = [f for f in filters if f.pid == who and (before is None or f.seq < before)]
        out = [(f, who != pid) for f in mine] + out
    return out
