"""The typed event stream: the contract between the tracer and everything that shows a trace.

Every event is a frozen, slotted dataclass that knows its own JSON form (`to_json`) and how to come back from it
(`event_from_json`). This module imports neither ptrace nor any display library, so the recorder, the console, the
TUI, the diagrams and the notebooks all read the same objects, live or replayed.

Conventions (see docs/trace-format.md):
- `t` is seconds since the trace started (float); `seq` numbers events in the order they were produced.
- `pid` is the thread-group id (the process) in the tracer's pid namespace; `tid` is the thread that acted.
- Flag arguments are lists of symbolic names; unknown bits stay as a hex remainder such as "0x80000000".
- A field the tracer could not read holds None (or an "<unreadable: ...>" string); it never ends a trace.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from enum import StrEnum
from types import UnionType
from typing import Any, ClassVar, Union, get_args, get_origin, get_type_hints

SCHEMA_VERSION = 1

#: The namespace kinds found under /proc/PID/ns, in the order they are shown.
NAMESPACE_KINDS: tuple[str, ...] = (
    "cgroup",
    "ipc",
    "mnt",
    "net",
    "pid",
    "pid_for_children",
    "time",
    "user",
    "uts",
)

#: The namespace kinds a learner compares, in the order they are named everywhere (labels, tables, diagrams):
#: user first, because the kernel creates the user namespace of a clone before the others, which it owns
#: (kernel/fork.c: copy_creds runs before copy_namespaces).
NAMESPACE_ORDER: tuple[str, ...] = ("user", "pid", "mnt", "uts", "ipc", "net", "cgroup", "time")


# The fixed vocabularies of the format. Each is a StrEnum: a member is its JSON string (it compares, hashes, formats
# and serializes as that string), and loading turns the string back into the member, refusing any other value.


class Category(StrEnum):
    """What a decoded syscall is about. `other` is only recorded with --filter all."""

    NAMESPACES = "namespaces"
    FILESYSTEM_VIEW = "filesystem-view"
    PROCESS = "process"
    PRIVILEGES = "privileges"
    CGROUPS = "cgroups"
    IPC = "ipc"
    OTHER = "other"


#: Categories a decoded syscall falls into, in the order they are shown.
CATEGORIES: tuple[Category, ...] = tuple(Category)


class Mode(StrEnum):
    """How the traced processes came under the tracer (Header.mode)."""

    LAUNCH = "launch"
    ATTACH = "attach"
    DOCKER = "docker"
    IMPORT = "import"


class ProcessVia(StrEnum):
    """How a process came to be traced (ProcessStarted.via): the call that created it, or launch/attach."""

    FORK = "fork"
    VFORK = "vfork"
    CLONE = "clone"
    CLONE3 = "clone3"
    LAUNCH = "launch"
    ATTACH = "attach"


class NamespaceVia(StrEnum):
    """The call after which a process's namespace changed (NamespaceChange.via)."""

    FORK = "fork"
    VFORK = "vfork"
    CLONE = "clone"
    CLONE3 = "clone3"
    UNSHARE = "unshare"
    SETNS = "setns"
    EXECVE = "execve"
    EXECVEAT = "execveat"


class IpcVia(StrEnum):
    """How a connection was found (Ipc.via): a traced connect, or the socket table at attach time."""

    CONNECT = "connect"
    SOCKET_TABLE = "socket-table"


class Level(StrEnum):
    """How much a Notice matters."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class Status(StrEnum):
    """How a trace ended (End.status)."""

    COMPLETED = "completed"
    INTERRUPTED = "interrupted"
    FAILED = "failed"


REDACTED = "<redacted>"


_NAMES_OF: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _NAMES_OF.get(cls)
    if names is None:
        names = _NAMES_OF[cls] = tuple(f.name for f in fields(cls))
    return names


@dataclass(frozen=True, slots=True)
class Event:
    """Base of every event: its kind (`type` in JSON), order and time."""

    type: ClassVar[str] = "event"
    seq: int
    t: float

    def to_json(self) -> dict[str, Any]:
        # Shallow on purpose: every field already holds JSON-ready values (dataclasses.asdict deep-copies them,
        # which cost a third of the time of a --filter all trace).
        data: dict[str, Any] = {"type": self.type}
        for name in _field_names(type(self)):
            data[name] = getattr(self, name)
        return data


@dataclass(frozen=True, slots=True)
class Header(Event):
    """First line of every recording: what was traced, where and how."""

    type: ClassVar[str] = "header"
    schema: int = SCHEMA_VERSION
    boxtrace: str = "0.1.0"
    kernel: str = ""
    arch: str = ""
    wsl: bool = False
    command: list[str] = field(default_factory=list)
    started: str = ""
    mode: Mode = Mode.LAUNCH
    filter: str = "container"
    scenario: str | None = None
    attached: list[int] = field(default_factory=list)
    #: The tracer's own namespace inodes: the "host" namespaces everything is compared with.
    host_ns: dict[str, int] = field(default_factory=dict)
    seccomp: bool = False


@dataclass(frozen=True, slots=True)
class ProcessStarted(Event):
    """A new process (thread group) appeared: created under tracing, launched, or found at attach time."""

    type: ClassVar[str] = "process"
    pid: int = 0
    ppid: int = 0
    #: The process that called fork/clone; differs from ppid under CLONE_PARENT (runc's init stages).
    creator: int | None = None
    via: ProcessVia = ProcessVia.CLONE
    flags: list[str] = field(default_factory=list)
    comm: str = ""
    exe: str | None = None
    argv: list[str] | None = None
    ns: dict[str, int] = field(default_factory=dict)
    nspid: list[int] = field(default_factory=list)
    #: Threads already running in an attached process (their tids).
    threads: list[int] = field(default_factory=list)
    #: Capability sets at this moment, as hex masks from /proc/PID/status (effective, permitted, inheritable,
    #: bounding, ambient), so "before" is known rather than assumed.
    caps: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class ThreadStarted(Event):
    """A new thread inside an existing process (CLONE_THREAD). Shown folded into its process."""

    type: ClassVar[str] = "thread"
    pid: int = 0
    tid: int = 0
    creator: int | None = None
    flags: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Exec(Event):
    """A successful execve/execveat: the process now runs another program."""

    type: ClassVar[str] = "exec"
    pid: int = 0
    path: str = ""
    argv: list[str] = field(default_factory=list)
    #: Environment as NAME=<redacted> unless the user asked for values (--show-env).
    env: list[str] | None = None
    comm: str = ""
    ns: dict[str, int] = field(default_factory=dict)
    nspid: list[int] = field(default_factory=list)
    #: The thread that called exec, when it was not the thread-group leader (its tid disappears).
    old_tid: int | None = None
    syscall: str = "execve"
    #: Capability sets right after the exec (exec recomputes them), as in ProcessStarted.caps.
    caps: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Syscall(Event):
    """One decoded system call, from entry to exit."""

    type: ClassVar[str] = "syscall"
    pid: int = 0
    tid: int = 0
    name: str = ""
    nr: int = -1
    args: dict[str, Any] = field(default_factory=dict)
    ret: int | None = None
    error: str | None = None  # errno name, e.g. "EPERM"
    category: Category = Category.OTHER
    dur: float | None = None
    #: Facts derived from the call at the stop (e.g. /proc/self/fd/7 resolved to a real path).
    notes: dict[str, Any] | None = None
    #: The argument registers as the kernel saw them at entry, in hex, for decoded syscalls (the decoded `args`
    #: say what they mean; these are what strace -X raw would show). Only as many as the syscall takes.
    raw: list[str] | None = None


@dataclass(frozen=True, slots=True)
class NamespaceChange(Event):
    """A process's namespace of one kind differs from before (or from its parent's, for a new child)."""

    type: ClassVar[str] = "namespace"
    pid: int = 0
    kind: str = ""
    old: int | None = None
    new: int | None = None
    via: NamespaceVia = NamespaceVia.CLONE


@dataclass(frozen=True, slots=True)
class Signal(Event):
    """A signal delivered to a tracee (passed through unchanged)."""

    type: ClassVar[str] = "signal"
    pid: int = 0
    tid: int = 0
    signal: str = ""


@dataclass(frozen=True, slots=True)
class Ipc(Event):
    """A connection between two processes over an AF_UNIX socket."""

    type: ClassVar[str] = "ipc"
    pid: int = 0
    peer_pid: int | None = None
    path: str = ""
    via: IpcVia = IpcVia.CONNECT
    #: True when the connection existed before tracing started (found in the socket table).
    preexisting: bool = False


@dataclass(frozen=True, slots=True)
class MountSnapshot(Event):
    """The mount table (/proc/PID/mountinfo) of a process at a moment that matters."""

    type: ClassVar[str] = "mounts"
    pid: int = 0
    moment: str = ""  # e.g. "before-first-mount", "after-pivot_root"
    mountinfo: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Notice(Event):
    """Something the tracer wants a reader to know: a vanished tracee, a fallback, a refusal."""

    type: ClassVar[str] = "notice"
    level: Level = Level.INFO
    message: str = ""
    pid: int | None = None


@dataclass(frozen=True, slots=True)
class BundleConfig(Event):
    """An OCI bundle's config.json, read while the runtime that was given it was stopped (at the exec of
    `runc create/run`, `crun create/run`): the runtime's promises, which `boxtrace spec` sets beside the trace.
    The file is deleted when the container ends, so the recording keeps its own copy (process.env values
    redacted unless --show-env)."""

    type: ClassVar[str] = "bundle"
    pid: int = 0
    runtime: str = ""  # the runtime program's name: runc, crun
    #: The bundle directory as the runtime was told (--bundle, or its working directory) and its config.json.
    bundle: str = ""
    path: str = ""
    config: dict[str, Any] | None = None
    #: Why config could not be kept (unreadable, not JSON): one sentence, None when it was.
    error: str | None = None
    #: An overlay root's layers, lowest first, resolved on the host at that moment (tracer.spec_capture.
    #: overlay_layers): each {"path": as in lowerdir, "dir": the directory, and for docker "cache_id", "diff_id",
    #: "chain_id" or "init"}. None when the root is no overlay (or for recordings made before boxtrace kept them).
    layers: list[dict[str, str]] | None = None


@dataclass(frozen=True, slots=True)
class Fault(Event):
    """A fault boxtrace injected (--inject): the call was never run by the kernel; it returned -errno."""

    type: ClassVar[str] = "fault"
    pid: int = 0
    tid: int = 0
    #: The syscall that would have run, with its decoded arguments (what it would have done).
    name: str = ""
    args: dict[str, Any] = field(default_factory=dict)
    errno: str = ""  # the errno name given, e.g. "EPERM"
    #: Which matching call this was (1 = the first) and the --inject rule that asked for it, as the user wrote it.
    nth: int = 1
    rule: str = ""
    process: str = ""  # the process's name (comm) when it was hit


@dataclass(frozen=True, slots=True)
class Exit(Event):
    """A process (thread group) ended, or the tracer detached from it."""

    type: ClassVar[str] = "exit"
    pid: int = 0
    code: int | None = None
    signal: str | None = None
    #: True when the tracer let go of a still-running process (attach mode, end of trace).
    detached: bool = False


@dataclass(frozen=True, slots=True)
class End(Event):
    """Last line of a complete recording."""

    type: ClassVar[str] = "end"
    events: int = 0
    processes: int = 0
    exit_code: int | None = None
    status: Status = Status.COMPLETED


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (
        Header,
        ProcessStarted,
        ThreadStarted,
        Exec,
        Syscall,
        NamespaceChange,
        Signal,
        Ipc,
        MountSnapshot,
        Notice,
        BundleConfig,
        Fault,
        Exit,
        End,
    )
}

_FIELD_NAMES: dict[type[Event], frozenset[str]] = {
    cls: frozenset(f.name for f in fields(cls)) for cls in EVENT_TYPES.values()
}


class EventFormatError(ValueError):
    """A JSON object that is not a valid boxtrace event."""


def event_from_json(data: Any) -> Event:
    """Build an event from its JSON object; unknown keys are ignored so newer recordings still load."""
    if not isinstance(data, dict):
        raise EventFormatError("not a JSON object")
    kind = data.get("type")
    cls = EVENT_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise EventFormatError(f"unknown event type {kind!r}")
    if cls is not Header:
        for key in ("seq", "t"):
            if key not in data:
                raise EventFormatError(f"{kind} event has no {key!r}")
    known = _FIELD_NAMES[cls]
    kwargs = dict(data)
    del kwargs["type"]
    if not kwargs.keys() <= known:  # a newer recording's extra keys: dropped (rare, so the copy above is the norm)
        kwargs = {k: v for k, v in kwargs.items() if k in known}
    kwargs.setdefault("seq", 0)
    kwargs.setdefault("t", 0.0)
    _check_types(cls, kwargs)
    for name, (vocabulary, members) in _VOCABULARY_FIELDS[cls].items():
        if name in kwargs:
            value = kwargs[name]
            member = members.get(value) if type(value) is str else None
            if member is None:
                allowed = ", ".join(vocabulary)
                raise EventFormatError(f"{cls.type} field {name!r} is {value!r}, not one of {allowed}")
            kwargs[name] = member
    return cls(**kwargs)


# Types checked on load: every field against its annotation (list items and dict values included), so consumers
# can trust what they read without defensive code everywhere. Each annotation is compiled once into a small
# validator; a plain int or str field costs one `type(v) is ...` test (bool is not an int here: JSON true is not 1).
Validator = Callable[[Any], bool]


def _always(value: Any) -> bool:
    return True


def _validator(hint: Any) -> Validator:
    if hint is Any:
        return _always
    if hint is type(None):
        return lambda value: value is None
    origin, params = get_origin(hint), get_args(hint)
    if origin in (Union, UnionType):
        options = tuple(_validator(option) for option in params)
        if type(None) in params and len(params) == 2:
            inner = next(_validator(p) for p in params if p is not type(None))
            return lambda value: value is None or inner(value)
        return lambda value: any(check(value) for check in options)
    if origin is list:
        item = _validator(params[0]) if params else _always
        if item is _always:
            return lambda value: type(value) is list
        return lambda value: type(value) is list and all(map(item, value))
    if origin is dict:
        key = _validator(params[0]) if params else _always
        item = _validator(params[1]) if params else _always
        return lambda value: type(value) is dict and all(key(k) and item(v) for k, v in value.items())
    if hint is float:
        return lambda value: type(value) is float or type(value) is int
    if hint in (int, str, bool):
        return lambda value: type(value) is hint
    return lambda value: isinstance(value, hint)


def _is_vocabulary(hint: Any) -> bool:
    return isinstance(hint, type) and issubclass(hint, StrEnum)


def _exact_types(hint: Any) -> frozenset[type] | None:
    """The exact types a value of `hint` may have, when that alone decides (int, str | None, dict[str, Any]...);
    None when items must be looked at too. JSON object keys are always strings, so dict[str, X] needs no key test."""
    if hint is Any:
        return None
    if hint is type(None):
        return frozenset({type(None)})
    if hint is float:
        return frozenset({float, int})
    if hint in (int, str, bool):
        return frozenset({hint})
    origin, params = get_origin(hint), get_args(hint)
    if origin in (Union, UnionType):
        options = [_exact_types(option) for option in params]
        known = [option for option in options if option is not None]
        return None if len(known) < len(options) else frozenset().union(*known)
    if origin is list and (not params or params[0] is Any):
        return frozenset({list})
    if origin is dict and (not params or (params[0] is str and params[1] is Any)):
        return frozenset({dict})
    return None


#: Per event class and field: the exact types allowed (one set lookup a field, most fields), or a validator.
_FIELD_CHECKS: dict[type[Event], dict[str, frozenset[type] | Validator]] = {
    cls: {
        name: _exact_types(hint) or _validator(hint)
        for name, hint in get_type_hints(cls).items()
        if name != "type" and hint is not Any and not _is_vocabulary(hint)
    }
    for cls in EVENT_TYPES.values()
}

#: Per event class: its vocabulary fields -> (the StrEnum, its value -> member map), converted on load.
_VOCABULARY_FIELDS: dict[type[Event], dict[str, tuple[type[StrEnum], dict[str, StrEnum]]]] = {
    cls: {
        name: (hint, {member.value: member for member in hint})
        for name, hint in get_type_hints(cls).items()
        if _is_vocabulary(hint)
    }
    for cls in EVENT_TYPES.values()
}


def _check_types(cls: type[Event], kwargs: dict[str, Any]) -> None:
    checks = _FIELD_CHECKS[cls]
    for key, value in kwargs.items():
        check = checks.get(key)
        if check is None:
            continue
        if isinstance(check, frozenset):
            if type(value) in check:
                continue
        elif check(value):
            continue
        raise EventFormatError(f"{cls.type} field {key!r} has the wrong type ({type(value).__name__})")
