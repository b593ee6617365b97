"""Checked claims: what a lesson says about order and agency, written as data next to its evidence.

A sentence such as "runc create exits before the entrypoint's exec" or "the hook runs before pivot_root" is a
`Claim`: the words a learner reads, and the evidence that must be in a trace for them to be true. Evidence is made
of `Call` matchers (which process, which call, with which arguments) joined by relations:

    Claim(
        id="create-exits-before-entrypoint",
        says="runc create exits before runc start begins, and runc start before the entrypoint's exec",
        evidence=(Before(Call("exit", who=RUNC_CREATE), Call("exec", who=RUNC_START_CALLER)), ...),
        scenarios=("containerd", "docker"),
    )

- `Exists(a)`: some event matches `a`; `Absent(a)`: none does; `Count(a, n)`: exactly n do.
- `Before(a, b)`: both happen, and the first `a` comes before the first `b` (`last=True`: every `a` does).
- `FollowedBy(a, b)`: some `b` happens after the first `a`.
- `OnlyBy(a, who)`: some event matches `a`, and every one of them was made by a process `who` describes.

A process is described by `Who`: the program it runs at that moment (basename of argv[0] or of the exec'd path),
words in that program's argv (runc's subcommand), or its name (comm, which runc init's stages set with
PR_SET_NAME). `check(claim, events)` returns one sentence per piece of missing evidence, empty when the claim
holds. Pure functions of the events; tests check every claim against the shipped recordings and a live trace.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tracer.events import Event, Exec, Exit, Ipc, NamespaceChange, ProcessStarted, Syscall

ArgTest = Callable[[Any], bool]


# Argument tests: small named predicates, so that a claim reads as what it checks ----------------------------------


@dataclass(frozen=True)
class has:  # noqa: N801 - reads as a word inside a claim: args={"flags": has("CLONE_PARENT")}
    """A flag list (or "A|B" string) holding every one of `names`."""

    names: tuple[str, ...]

    def __init__(self, *names: str) -> None:
        object.__setattr__(self, "names", names)

    def __call__(self, value: Any) -> bool:
        return all(name in _words(value) for name in self.names)

    def __str__(self) -> str:
        return "|".join(self.names)


@dataclass(frozen=True)
class has_prefix:  # noqa: N801
    """A flag list (or string) holding a word that starts with `prefix`."""

    prefix: str

    def __call__(self, value: Any) -> bool:
        return any(word.startswith(self.prefix) for word in _words(value))

    def __str__(self) -> str:
        return f"{self.prefix}*"


@dataclass(frozen=True)
class ends:  # noqa: N801
    """A string ending with `suffix`."""

    suffix: str

    def __call__(self, value: Any) -> bool:
        return isinstance(value, str) and value.endswith(self.suffix)

    def __str__(self) -> str:
        return f"…{self.suffix}"


@dataclass(frozen=True)
class contains:  # noqa: N801
    """A string containing `part`."""

    part: str

    def __call__(self, value: Any) -> bool:
        return isinstance(value, str) and self.part in value

    def __str__(self) -> str:
        return f"…{self.part}…"


@dataclass(frozen=True)
class argv0:  # noqa: N801
    """An argv whose program (basename of argv[0]) is `program`, with `word` among its arguments when given."""

    program: str
    word: str | None = None

    def __call__(self, value: Any) -> bool:
        if not isinstance(value, list) or not value or os.path.basename(str(value[0])) != self.program:
            return False
        return self.word is None or self.word in value[1:]

    def __str__(self) -> str:
        return f"[{self.program}{' ' + self.word if self.word else ''} ...]"


@dataclass(frozen=True)
class message:  # noqa: N801
    """A netlink message list (decoded `messages` of sendto/recvfrom) holding a message of `type` whose fields
    hold the given values: `message("RTM_NEWLINK", flags="NLM_F_CREATE")` (a list field must contain the value;
    `up=True` means ifinfo changes IFF_UP; `error=0` for an acknowledgement)."""

    type: str
    flags: str | None = None
    up: bool = False
    error: int | None = None
    attr: str | None = None

    def __call__(self, value: Any) -> bool:
        return isinstance(value, list) and any(self._matches(m) for m in value if isinstance(m, dict))

    def _matches(self, msg: dict[str, Any]) -> bool:
        if msg.get("type") != self.type:
            return False
        if self.flags is not None and self.flags not in (msg.get("flags") or []):
            return False
        if self.up and "IFF_UP" not in ((msg.get("ifinfo") or {}).get("change") or []):
            return False
        if self.error is not None and msg.get("error") != self.error:
            return False
        return self.attr is None or any(a.get("type") == self.attr for a in msg.get("attrs") or [])

    def __str__(self) -> str:
        return self.type + "".join(f" {k}={v}" for k, v in (("flags", self.flags), ("attr", self.attr)) if v)


def _words(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    if isinstance(value, str):
        return [part.strip() for part in value.split("|")]
    return []


# Who and what ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Who:
    """Which process: by its program and argv words, or by its name (comm). Unset fields match anything.

    `argv_any` holds when one of its words is among the program's arguments (`("run", "create")`). `ever=True`
    matches a process that had that program or name at any time up to the event (a stage that later exec'd).
    """

    program: str | None = None
    argv_any: tuple[str, ...] = ()
    comm: str | None = None
    #: A name the process gave itself with prctl(PR_SET_NAME) at some point (runc init's stages).
    named: str | None = None
    #: How it was created: "launch" (the command boxtrace started), "attach", "clone", "fork", ...
    via: str | None = None
    #: Clone flags it was created with (all of them).
    born_with: tuple[str, ...] = ()
    #: It is pid 1 of a pid namespace that is not the host's.
    pid1: bool = False
    #: It lives in at least one namespace it did not start in, or inherited one (a NamespaceChange was seen).
    isolated: bool = False
    ever: bool = False
    label: str = ""

    def matches(self, proc: _Proc) -> bool:
        if self.named is not None and self.named not in proc.named:
            return False
        if self.via is not None and proc.via != self.via:
            return False
        if not all(flag in proc.flags for flag in self.born_with):
            return False
        if self.pid1 and not proc.pid1:
            return False
        if self.isolated and not proc.isolated:
            return False
        states = proc.history if self.ever else [(proc.argv, proc.comm)]
        return any(self._matches(argv, comm) for argv, comm in states)

    def _matches(self, argv: Sequence[str], comm: str) -> bool:
        if self.program is not None and (not argv or os.path.basename(argv[0]) != self.program):
            return False
        if self.argv_any and not any(word in argv[1:] for word in self.argv_any):
            return False
        return self.comm is None or comm == self.comm

    def __str__(self) -> str:
        if self.label:
            return self.label
        parts = [self.program or ""] + list(self.argv_any[:1]) + [f"({n})" for n in (self.comm, self.named) if n]
        return " ".join(p for p in parts if p) or "any process"


@dataclass(frozen=True)
class Call:
    """Which event: `kind` is syscall, exec, exit, process (a new process), namespace (a NamespaceChange) or ipc.

    `name` is the syscall's name; `args` maps argument names to a value (equal) or a test (`has`, `ends`, ...);
    for an exec the arguments are `path` and `argv`, for a new process `flags` and `via`, for a namespace change
    `kind` and `via`, for ipc `path` and `preexisting`. `error` is an errno name, `ok` True/False keeps successes/failures. `who` is the process that
    made the call (for a new process: its creator), judged as it was just before the event; `parent` is the new
    process's real parent; `ret_who` the process whose pid a call returned (wait4).
    """

    kind: str = "syscall"
    name: str | None = None
    args: Mapping[str, Any] = field(default_factory=dict)
    who: Who | None = None
    error: str | None = None
    ok: bool | None = None
    parent: Who | None = None
    ret_who: Who | None = None
    label: str = ""

    def __str__(self) -> str:
        if self.label:
            return self.label
        what = self.name if self.kind == "syscall" else self.kind
        args = ", ".join(f"{k}={v}" for k, v in self.args.items())
        text = f"{what}({args})" if args else str(what)
        if self.error:
            text += f" = {self.error}"
        return f"{text} by {self.who}" if self.who else text


# Relations -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Exists:
    call: Call

    def problems(self, found: Callable[[Call], list[Event]]) -> list[str]:
        return [] if found(self.call) else [f"no event shows {self.call}"]


@dataclass(frozen=True)
class Absent:
    call: Call

    def problems(self, found: Callable[[Call], list[Event]]) -> list[str]:
        hits = found(self.call)
        return [f"{self.call} should not happen, but seq {hits[0].seq} shows it"] if hits else []


@dataclass(frozen=True)
class Count:
    call: Call
    n: int

    def problems(self, found: Callable[[Call], list[Event]]) -> list[str]:
        hits = found(self.call)
        return [] if len(hits) == self.n else [f"{self.call} happens {len(hits)} times, not {self.n}"]


@dataclass(frozen=True)
class Before:
    first: Call
    then: Call
    #: Every `first` comes before the first `then` (not only the first one).
    last: bool = False

    def problems(self, found: Callable[[Call], list[Event]]) -> list[str]:
        a, b = found(self.first), found(self.then)
        missing = [f"no event shows {call}" for call, hits in ((self.first, a), (self.then, b)) if not hits]
        if missing:
            return missing
        mark = a[-1] if self.last else a[0]
        if mark.seq < b[0].seq:
            return []
        return [f"{'the last' if self.last else 'the first'} {self.first} (seq {mark.seq}) does not come before "
                f"the first {self.then} (seq {b[0].seq})"]


@dataclass(frozen=True)
class FollowedBy:
    """The first `first` is followed, sooner or later, by some `then` (earlier `then`s do not matter)."""

    first: Call
    then: Call

    def problems(self, found: Callable[[Call], list[Event]]) -> list[str]:
        a = found(self.first)
        if not a:
            return [f"no event shows {self.first}"]
        if any(e.seq > a[0].seq for e in found(self.then)):
            return []
        return [f"no {self.then} follows the first {self.first} (seq {a[0].seq})"]


@dataclass(frozen=True)
class OnlyBy:
    call: Call
    who: Who

    def problems(self, found: Callable[[Call], list[Event]]) -> list[str]:
        hits = found(self.call)
        if not hits:
            return [f"no event shows {self.call}"]
        mine = {e.seq for e in found(_with_who(self.call, self.who))}
        others = [e for e in hits if e.seq not in mine]
        return [f"{self.call} at seq {others[0].seq} was made by another process than {self.who}"] if others else []


Relation = Exists | Absent | Count | Before | FollowedBy | OnlyBy


def _with_who(call: Call, who: Who) -> Call:
    return Call(call.kind, call.name, call.args, who, call.error, call.ok, call.parent, call.ret_who, call.label)


@dataclass(frozen=True)
class Claim:
    """A sentence about order or agency (`says`), the evidence that makes it true, where it applies and why."""

    id: str
    says: str
    evidence: tuple[Relation, ...]
    #: The scenarios whose traces must show it (their shipped recordings and a live trace of each).
    scenarios: tuple[str, ...]
    #: The walkthrough chapters (milestone ids) whose text states it.
    chapters: tuple[str, ...] = ()
    #: The man page or source file that explains why the runtime or the kernel does this.
    source: str = ""


# Matching --------------------------------------------------------------------------------------------------------


@dataclass
class _Proc:
    argv: list[str]
    comm: str
    history: list[tuple[list[str], str]]
    named: list[str] = field(default_factory=list)
    via: str = ""
    flags: tuple[str, ...] = ()
    pid1: bool = False
    isolated: bool = False

    def become(self, argv: list[str] | None = None, comm: str | None = None) -> None:
        if argv is not None:
            self.argv = argv
        if comm is not None:
            self.comm = comm
        self.history.append((self.argv, self.comm))


def _fresh(argv: list[str], comm: str) -> _Proc:
    return _Proc(argv, comm, [(argv, comm)])


class Trace:
    """The events of one trace, with every matcher's hits computed once."""

    def __init__(self, events: Iterable[Event]) -> None:
        self.events = list(events)
        self._cache: dict[int, list[Event]] = {}
        self._calls: dict[int, Call] = {}

    def found(self, call: Call) -> list[Event]:
        key = id(call)
        if key not in self._cache:
            self._calls[key] = call  # keep the object alive so its id stays unique
            self._cache[key] = list(_matches(call, self.events))
        return self._cache[key]


def _matches(call: Call, events: Sequence[Event]) -> Iterable[Event]:
    procs: dict[int, _Proc] = {}

    def proc(pid: int) -> _Proc:
        return procs.setdefault(pid, _fresh([], ""))

    for event in events:
        if isinstance(event, ProcessStarted):
            creator = procs.get(event.creator if event.creator is not None else event.ppid)
            argv = list(event.argv) if event.argv else (list(creator.argv) if creator else [])
            new = procs[event.pid] = _fresh(argv, event.comm)
            new.via, new.flags = event.via, tuple(event.flags)
            new.pid1 = len(event.nspid) > 1 and event.nspid[-1] == 1
            new.isolated = bool(creator and creator.isolated)
            if _event_matches(call, event, procs, creator):
                yield event
            continue
        pid = getattr(event, "pid", None)
        before = proc(pid) if isinstance(pid, int) else None
        if before is not None and _event_matches(call, event, procs, before):
            yield event
        if isinstance(event, NamespaceChange) and before is not None:
            before.isolated = True
        if isinstance(event, Exec) and before is not None:
            before.become(list(event.argv) or [event.path], event.comm)
            before.pid1 = before.pid1 or (len(event.nspid) > 1 and event.nspid[-1] == 1)
        elif isinstance(event, Syscall) and before is not None and event.error is None:
            if event.name == "prctl" and event.args.get("option") == "PR_SET_NAME":
                name = event.args.get("name")
                if isinstance(name, str):
                    before.become(comm=name)
                    before.named.append(name)


def _event_matches(call: Call, event: Event, procs: dict[int, _Proc], actor: _Proc | None) -> bool:
    args: Mapping[str, Any]
    if call.kind == "syscall":
        if not isinstance(event, Syscall) or (call.name is not None and event.name != call.name):
            return False
        if call.error is not None and event.error != call.error:
            return False
        if call.ok is not None and (event.error is None) != call.ok:
            return False
        if call.ret_who is not None:
            returned = procs.get(event.ret) if isinstance(event.ret, int) else None
            if returned is None or not call.ret_who.matches(returned):
                return False
        args = event.args or {}
    elif call.kind == "exec":
        if not isinstance(event, Exec):
            return False
        args = {"path": event.path, "argv": list(event.argv)}
    elif call.kind == "exit":
        if not isinstance(event, Exit) or event.detached:
            return False
        args = {"code": event.code, "signal": event.signal}
    elif call.kind == "process":
        if not isinstance(event, ProcessStarted) or event.via in ("launch", "attach"):
            return False
        if call.parent is not None:
            parent = procs.get(event.ppid)
            if parent is None or not call.parent.matches(parent):
                return False
        args = {"flags": list(event.flags), "via": event.via}
    elif call.kind == "namespace":
        if not isinstance(event, NamespaceChange):
            return False
        args = {"kind": event.kind, "via": event.via}
    elif call.kind == "ipc":
        if not isinstance(event, Ipc):
            return False
        args = {"path": event.path, "preexisting": event.preexisting}
    else:
        raise ValueError(f"unknown kind of event in a claim: {call.kind!r}")
    if call.who is not None and (actor is None or not call.who.matches(actor)):
        return False
    for key, expected in call.args.items():
        value = args.get(key)
        if callable(expected):
            if not expected(value):
                return False
        elif value != expected:
            return False
    return True


def check(claim: Claim, events: Iterable[Event] | Trace) -> list[str]:
    """One sentence per piece of evidence the trace lacks; empty when the claim holds."""
    trace = events if isinstance(events, Trace) else Trace(events)
    problems: list[str] = []
    for relation in claim.evidence:
        problems.extend(relation.problems(trace.found))
    return problems


def evidence_seqs(claim: Claim, events: Iterable[Event] | Trace) -> list[int]:
    """The seq numbers of the events that show the claim (the first hit of each matcher it names)."""
    trace = events if isinstance(events, Trace) else Trace(events)
    seqs: set[int] = set()
    for relation in claim.evidence:
        calls = [relation.first, relation.then] if isinstance(relation, Before | FollowedBy) else [relation.call]
        if isinstance(relation, Absent):
            continue
        for call in calls:
            hits = trace.found(call)
            if isinstance(relation, Count | OnlyBy):
                seqs.update(e.seq for e in hits)
            elif hits:
                seqs.add(hits[0].seq)
    return sorted(seqs)


def finder(call: Call) -> Callable[[Any], list[int]]:
    """A milestone finder (a function of a view with `.events`) returning the seqs of the events `call` matches."""
    return lambda view: [e.seq for e in Trace(view.events).found(call)]
