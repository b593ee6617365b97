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
"""

from __future__ import annotations

import errno
import os
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tracer.decoders import (
    CONTAINER_SYSCALL_NRS,
    SYSCALL_NRS_BY_NAME,
    SYSCALLS,
    Trait,
    decode_syscall,
    decode_syscall_exit,
    syscalls_with,
)
from tracer.decoders.base import SyscallContext
from tracer.decoders.common import text_of
from tracer.events import (
    NAMESPACE_KINDS,
    REDACTED,
    End,
    Event,
    Exec,
    Exit,
    Header,
    Ipc,
    Level,
    Mode,
    NamespaceChange,
    NamespaceVia,
    Notice,
    ProcessStarted,
    ProcessVia,
    Signal,
    Status,
    Syscall,
    ThreadStarted,
)
from tracer.namespaces import namespace_changes
from tracer.recording import Recorder, RecordingError
from tracer.redact import redact_argv
from tracer.xlat import mount_api as xmount_api
from tracer.xlat.at import AT_FDCWD, AT_FLAGS, EXECVEAT_FLAGS
from tracer.xlat.capability import CAP_VERSIONS, CAPABILITIES
from tracer.xlat.clone import CLONE3_FLAGS, CLONE_FLAGS, NAMESPACE_OF_FLAG, SETNS_TYPES, UNSHARE_FLAGS
from tracer.xlat.errnos import KERNEL_INTERNAL_ERRNOS
from tracer.xlat.flags import Table
from tracer.xlat.mount import MOUNT_FLAGS
from tracer.xlat.open import OPEN_ACCESS_MODES, OPEN_FLAGS
from tracer.xlat.prctl import DUMPABLE_VALUES, PR_CAP_AMBIENT_OPS, PR_OPTIONS, SECUREBITS
from tracer.xlat.seccomp import SECCOMP_FILTER_FLAGS, SECCOMP_MODES, SECCOMP_OPERATIONS, SECCOMP_RET_ACTIONS
from tracer.xlat.signals import SIGNALS
from tracer.xlat.sockets import (
    ADDRESS_FAMILIES,
    AF_INET,
    AF_INET6,
    AF_NETLINK,
    AF_UNIX,
    SOCK_TYPE_FLAGS,
    SOCK_TYPES,
)
from tracer.xlat.stat import FILE_TYPES
from tracer.xlat.umount import UMOUNT_FLAGS
from tracer.xlat.wait import WAIT_OPTIONS

#: Signals strace names that Python's table may spell differently, and the kernel's real-time numbering.
#: Names strace uses for the same values as another name in boxtrace's tables.
_ALIASES: Table = (("WSTOPPED", 0x00000002),)
_EXTRA_SIGNALS: Table = (("SIGIOT", 6), ("SIGPOLL", 29), ("SIGRTMIN", 32), *((f"SIGRT_{n}", 32 + n) for n in range(1, 33)))
SIGNAL_TABLE: Table = SIGNALS + _EXTRA_SIGNALS
UNRECORDED_SIGNALS = frozenset({"SIGURG", "SIGCHLD"})
NO_RETURN_SYSCALLS = syscalls_with(Trait.NEVER_RETURNS)
EXEC_SYSCALLS = syscalls_with(Trait.EXEC)
CLONE_SYSCALLS = syscalls_with(Trait.PROCESS)
#: The process-creating calls whose arguments carry CLONE_* flags (clone, clone3; fork and vfork take none).
CLONE_FLAG_SYSCALLS = CLONE_SYSCALLS & syscalls_with(Trait.NEW_NAMESPACE)
#: The pid given to the first process when the log never shows it (strace -f writing to stderr, or no -f).
UNKNOWN_PID = 0
#: How many malformed lines the report quotes.
QUOTED_PROBLEMS = 5
_ERRNOS: dict[str, int] = {**{name: number for number, name in errno.errorcode.items()},
                          **dict(KERNEL_INTERNAL_ERRNOS)}


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
        parsed, report = _read_lines(handle, str(log))
    if not parsed:
        raise StraceImportError(f"{log}: no strace lines found: is this the output of `strace -f -tt -o LOG ...`?")
    report.output = str(output_path)
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


# Reading lines ------------------------------------------------------------------------------------------------

_PREFIX = re.compile(
    r"^\s*(?:\[pid\s+(?P<pid1>\d+)\]\s+|(?P<pid2>\d+)\s+)?"
    r"(?:(?P<clock>\d{1,2}:\d{2}:\d{2}(?:\.\d+)?)\s+|(?P<epoch>\d+\.\d+)\s+)?(?P<body>.*?)\s*$"
)
_EXITED = re.compile(r"^\+\+\+ exited with (-?\d+) \+\+\+$")
_KILLED = re.compile(r"^\+\+\+ killed by (\w+)(?: \(core dumped\))? \+\+\+$")
_SUPERSEDED = re.compile(r"^\+\+\+ superseded by execve in pid (\d+) \+\+\+$")
_STOPPED = re.compile(r"^--- stopped by (\w+) ---$")
_SIGNAL = re.compile(r"^--- (\w+)(?: \{.*\})? ---$")
#: strace names a call it cannot identify (a thread caught mid-exec) "???".
_RESUMED = re.compile(r"^<\.\.\. (\w+|\?\?\?) resumed>(.*)$")
_CALL = re.compile(r"^(\w+|\?\?\?)\((.*)$")
_UNFINISHED = " <unfinished ...>"
_DURATION = re.compile(r"\s*<(\d+\.\d+)>$")


@dataclass
class Line:
    number: int
    pid: int | None
    time: float | None
    kind: str  # call | unfinished | resumed | exited | killed | superseded | stopped | signal
    name: str = ""
    text: str = ""  # the argument text (call/unfinished/resumed), without the return part
    ret_text: str = ""
    value: int | str | None = None


#: strace's own messages. Written to stderr (no -o), they can land in the middle of a trace line, which goes on
#: on the next line: "wait4(7, strace: Process 8 attached" then " <unfinished ...>".
_STRACE_MESSAGE = re.compile(r"strace: Process (\d+) (\w+)$")
MAX_LOG_LINE = 1 << 20


def _read_lines(handle: Any, name: str) -> tuple[list[Line], ImportReport]:
    report = ImportReport(log=name, output="")
    lines: list[Line] = []
    attached: set[int] = set()
    carry = ""
    number = 0
    while True:
        raw = handle.readline(MAX_LOG_LINE + 1)
        if not raw:
            break
        number += 1
        report.lines = number
        if len(raw) > MAX_LOG_LINE and not raw.endswith(b"\n"):
            _problem(report, number, f"longer than {MAX_LOG_LINE} bytes")
            while raw and not raw.endswith(b"\n"):  # skip the rest of it, a bounded piece at a time
                raw = handle.readline(MAX_LOG_LINE + 1)
            carry = ""
            continue
        text = raw.decode("utf-8", "backslashreplace").rstrip("\n")
        message = _STRACE_MESSAGE.search(text)
        if message is not None:
            if message[2] == "attached":
                attached.add(int(message[1]))
            carry += text[: message.start()]
            continue
        text, carry = carry + text, ""
        if not text.strip() or text.startswith("strace: "):
            continue  # strace's own messages when its stderr went into the log
        try:
            lines.append(_parse_line(text, number))
        except ValueError as error:
            _problem(report, number, str(error))
    _name_the_first_process(lines, attached)
    return lines, report


def _name_the_first_process(lines: list[Line], attached: set[int]) -> None:
    """Lines without a pid belong to the first process: strace writing to stderr prefixes only the others with
    [pid N], and without -f there is no pid at all. Its pid is the first one shown that strace never announced as
    attached and that no clone returned; when the log never shows it, UNKNOWN_PID stands in."""
    if not any(line.pid is None for line in lines):
        return
    returned = set()
    for line in lines:
        if line.kind in ("call", "resumed") and line.name in CLONE_SYSCALLS:
            ret = _return_value(line.ret_text)[0]
            if ret is not None:
                returned.add(ret)
    first = next((line.pid for line in lines if line.pid is not None and line.pid not in attached | returned), None)
    for line in lines:
        if line.pid is None:
            line.pid = UNKNOWN_PID if first is None else first


def _problem(report: ImportReport, number: int, reason: str) -> None:
    report.malformed += 1
    if len(report.problems) < QUOTED_PROBLEMS:
        report.problems.append((number, reason))


def _parse_line(text: str, number: int) -> Line:
    match = _PREFIX.match(text)
    if match is None:  # pragma: no cover - the pattern matches any text
        raise ValueError("unreadable")
    pid_text = match["pid1"] or match["pid2"]
    pid = int(pid_text) if pid_text else None
    when = _clock(match["clock"]) if match["clock"] else float(match["epoch"]) if match["epoch"] else None
    body = match["body"]
    line = Line(number, pid, when, "")
    if m := _EXITED.match(body):
        line.kind, line.value = "exited", int(m[1])
    elif m := _KILLED.match(body):
        line.kind, line.value = "killed", m[1]
    elif m := _SUPERSEDED.match(body):
        line.kind, line.value = "superseded", int(m[1])
    elif m := _STOPPED.match(body):
        line.kind, line.value = "stopped", m[1]
    elif m := _SIGNAL.match(body):
        line.kind, line.value = "signal", m[1]
    elif m := _RESUMED.match(body):
        line.kind, line.name = "resumed", m[1]
        line.text, line.ret_text = _split_call(m[2], number, resumed=True)
    elif m := _CALL.match(body):
        line.name = m[1]
        if body.endswith(_UNFINISHED):
            line.kind, line.text = "unfinished", m[2][: -len(_UNFINISHED)]
        else:
            line.kind = "call"
            line.text, line.ret_text = _split_call(m[2], number)
    else:
        raise ValueError(f"not an strace line: {body[:60]!r}")
    return line


def _clock(text: str) -> float:
    hours, minutes, seconds = text.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def _split_call(rest: str, number: int, resumed: bool = False) -> tuple[str, str]:
    """The argument text of `rest` (what follows "NAME(" or "resumed>") and the text after " = "."""
    end = _closing_paren(rest)
    if end is None:
        raise ValueError("the call has no closing parenthesis (cut short?)")
    after = rest[end + 1 :].strip()
    if not after.startswith("="):
        raise ValueError("no return value after the call")
    return rest[:end], after[1:].strip()


def _scan(text: str, start: int = 0):
    """Yield (index, char, depth) for characters outside strings, comments and fd annotations."""
    depth = 0
    index = start
    length = len(text)
    while index < length:
        char = text[index]
        if char == '"':
            index = _string_end(text, index)
            continue
        if text.startswith("/*", index):
            close = text.find("*/", index + 2)
            index = length if close < 0 else close + 2
            continue
        if (char == "<" and index > 0 and text[index + 1 : index + 2] != "<" and text[index - 1] != "<"
                and (text[index - 1].isdigit() or text[:index].endswith("AT_FDCWD"))):
            index = _annotation_end(text, index)
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        yield index, char, depth
        index += 1


def _string_end(text: str, start: int) -> int:
    index = start + 1
    while index < len(text):
        if text[index] == "\\":
            index += 2
            continue
        if text[index] == '"':
            index += 1
            return index + 3 if text.startswith("...", index) else index
        index += 1
    return len(text)


def _annotation_end(text: str, start: int) -> int:
    """The index after the '>' closing the -y annotation that opens at `start`: nested ones count
    (</dev/null<char 1:3>>), and so do brackets, whose "->" is not a closing '>' (<UNIX-STREAM:[7->8]>)."""
    depth = 0
    brackets = 0
    index = start
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == "[":
            brackets += 1
        elif char == "]":
            brackets = max(0, brackets - 1)
        elif brackets:
            pass
        elif char == "<":
            depth += 1
        elif char == ">":
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1
    return len(text)


def _closing_paren(text: str) -> int | None:
    for index, char, depth in _scan(text):
        if char == ")" and depth < 0:
            return index
    return None


def split_top(text: str, separator: str = ",") -> list[str]:
    """Split at top-level separators (outside strings, brackets, comments and fd annotations)."""
    parts, start = [], 0
    for index, char, depth in _scan(text):
        if char == separator and depth == 0:
            parts.append(text[start:index].strip())
            start = index + 1
    tail = text[start:].strip()
    if tail or parts:
        parts.append(tail)
    return parts


# Values -------------------------------------------------------------------------------------------------------

_ESCAPES = {"n": b"\n", "t": b"\t", "r": b"\r", "v": b"\v", "f": b"\f", "a": b"\a", "b": b"\b", "\\": b"\\",
            '"': b'"', "'": b"'", "?": b"?"}
_NUMBER = re.compile(r"^-?(?:0x[0-9a-fA-F]+|\d+)$")
_FD = re.compile(r"^(-?\d+|AT_FDCWD)(?:<(.*)>)?$", re.S)
_SOCKET_LINK = re.compile(r"^[A-Z][A-Za-z0-9-]*:\[(\d+)")


def unescape(body: str) -> bytes:
    """The bytes of a C string literal's body as strace prints it (\\n, \\", \\NNN octal, \\xNN)."""
    out = bytearray()
    index = 0
    while index < len(body):
        char = body[index]
        if char != "\\":
            out += char.encode("utf-8", "surrogateescape")
            index += 1
            continue
        nxt = body[index + 1 : index + 2]
        if nxt == "x":
            out.append(int(body[index + 2 : index + 4], 16))
            index += 4
        elif nxt.isdigit():
            digits = re.match(r"[0-7]{1,3}", body[index + 1 :])[0]
            out.append(int(digits, 8) & 0xFF)
            index += 1 + len(digits)
        else:
            out += _ESCAPES.get(nxt, nxt.encode())
            index += 2
    return bytes(out)


def string_literal(text: str) -> tuple[bytes, bool] | None:
    """("bytes", cut short) for `"..."` or `"..."...`; None when `text` is not a string literal."""
    text = text.strip()
    truncated = text.endswith('"...')
    if truncated:
        text = text[:-3]
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        return None
    return unescape(text[1:-1]), truncated


def int_of(text: str) -> int:
    """A C integer as strace prints it: decimal, 0x hex, 0NNN octal (modes, umask), negative."""
    text = _strip_comment(text).strip()
    if not _NUMBER.match(text):
        raise ValueError(f"not a number: {text[:40]!r}")
    negative = text.startswith("-")
    body = text[1:] if negative else text
    if body.startswith("0x"):
        value = int(body, 16)
    elif len(body) > 1 and body.startswith("0"):
        value = int(body, 8)
    else:
        value = int(body)
    return -value if negative else value


def _strip_comment(text: str) -> str:
    return re.sub(r"/\*.*?\*/", "", text).strip()


def flags_of(text: str, *tables: Table) -> int:
    """A|B|0x80 with names from `tables` as one number."""
    names = {name: value for table in tables for name, value in table}
    value = 0
    for part in _strip_comment(text).split("|"):
        part = part.strip()
        if part in names:
            value |= names[part]
        else:
            value |= int_of(part)
    return value


def value_of(text: str, *tables: Table) -> int:
    """One constant: a name from `tables` or a number."""
    text = _strip_comment(text)
    for table in tables:
        for name, value in table:
            if name == text:
                return value
    return int_of(text)


def struct_fields(text: str) -> dict[str, str]:
    """{a=1, b="x"} as {"a": "1", "b": "\\"x\\""}; what follows " => " (values written back) is dropped."""
    text = text.strip()
    if " => " in text:
        text = text.split(" => ", 1)[0].strip()
    if not (text.startswith("{") and text.endswith("}")):
        raise ValueError(f"not a struct: {text[:40]!r}")
    out = {}
    for part in split_top(text[1:-1]):
        key, equals, value = part.partition("=")
        if equals:
            out[key.strip()] = value.strip()
    return out


def link_of(annotation: str | None) -> str | None:
    """What -yy shows inside <...>, as /proc/PID/fd/N would read: sockets as socket:[inode]."""
    if annotation is None:
        return None
    annotation = re.sub(r"<[^<>]*>$", "", annotation)  # </dev/null<char 1:3>>: the device part
    socket = _SOCKET_LINK.match(annotation)
    kind = annotation.split(":", 1)[0]
    if socket and kind not in NAMESPACE_KINDS and kind not in ("pipe", "anon_inode", "socket"):
        return f"socket:[{socket[1]}]"
    return text_of(unescape(annotation))


# The tracee memory a line describes --------------------------------------------------------------------------


class LogMemory:
    """TraceeMemory for one strace line: what the line shows, at made-up addresses the fake registers point to."""

    _BASE = 0x100000
    _STEP = 0x10000

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._next = self._BASE
        self._bytes: dict[int, bytes] = {}
        self._truncated: set[int] = set()
        self._arrays: dict[int, list[str]] = {}
        self.fds: dict[int, str] = {}
        self.cwd_path: str | None = None

    def _address(self) -> int:
        address = self._next
        self._next += self._STEP
        return address

    def put(self, data: bytes, truncated: bool = False) -> int:
        address = self._address()
        self._bytes[address] = data
        if truncated:
            self._truncated.add(address)
        return address

    def put_array(self, items: list[str]) -> int:
        address = self._address()
        self._arrays[address] = items
        return address

    def read_bytes(self, address: int, size: int) -> bytes | None:
        data = self._bytes.get(address)
        return None if data is None else data[: max(size, 0)]

    def read_string(self, address: int, limit: int = 4096) -> str | None:
        data = self._bytes.get(address)
        if data is None:
            return None
        data = data.split(b"\0", 1)[0]
        return text_of(data) + ("..." if address in self._truncated else "")

    def read_string_array(self, address: int, max_items: int = 4096, max_bytes: int = 256 * 1024) -> list[str] | None:
        items = self._arrays.get(address)
        return None if items is None else list(items)

    def fd_path(self, fd: int) -> str | None:
        return self.fds.get(fd)

    def cwd(self) -> str | None:
        return self.cwd_path


def _fd(text: str, memory: LogMemory) -> int:
    match = _FD.match(_strip_comment(text))
    if match is None:
        raise ValueError(f"not a file descriptor: {text[:40]!r}")
    if match[1] == "AT_FDCWD":
        if match[2] is not None:
            memory.cwd_path = link_of(match[2])
        return AT_FDCWD & 0xFFFFFFFF
    fd = int(match[1])
    if match[2] is not None and fd >= 0:
        memory.fds[fd] = link_of(match[2]) or ""
    return fd & 0xFFFFFFFF


def _pointer(text: str) -> int:
    text = _strip_comment(text)
    return 0 if text == "NULL" else int_of(text)


def _string(text: str, memory: LogMemory) -> int:
    literal = string_literal(_strip_comment(text))
    if literal is None:
        return _pointer(text)
    return memory.put(literal[0] + b"\0", literal[1])


def _bytes_arg(text: str, memory: LogMemory) -> int:
    literal = string_literal(_strip_comment(text))
    if literal is None:
        return _pointer(text)
    return memory.put(literal[0], literal[1])


def _string_array(text: str, memory: LogMemory) -> tuple[int, bool]:
    """(address, shown): an argv/envp array; shown is False when strace printed only a pointer."""
    text = _strip_comment(text)
    if not text.startswith("["):
        return _pointer(text), False
    items: list[str] = []
    for part in split_top(text[1:-1]):
        if part == "...":
            items.append("...")
            continue
        literal = string_literal(part)
        if literal is None:
            raise ValueError(f"not a string in an array: {part[:40]!r}")
        items.append(text_of(literal[0]) + ("..." if literal[1] else ""))
    return memory.put_array(items), True


def _int_array(text: str, memory: LogMemory, item: str = "i") -> int:
    text = _strip_comment(text)
    if not text.startswith("["):
        return _pointer(text)
    values = [int_of(part.split("<", 1)[0]) for part in split_top(text[1:-1]) if part]
    for part in split_top(text[1:-1]):
        if part and "<" in part:
            _fd(part, memory)
    return memory.put(struct.pack(f"<{len(values)}{item}", *values))


def _named(args: list[str], key: str, position: int) -> str:
    """The argument `key=...` (strace names clone's arguments), else the one at `position`."""
    for arg in args:
        if arg.startswith(key + "="):
            return arg[len(key) + 1 :]
    return args[position]


def _signal(text: str) -> int:
    return value_of(text, SIGNAL_TABLE)


def _caps(text: str) -> int:
    """1<<CAP_KILL|1<<CAP_AUDIT_WRITE (or a number) as a 64-bit set."""
    numbers = dict(CAPABILITIES)
    value = 0
    for part in _strip_comment(text).split("|"):
        part = part.strip()
        if part.startswith("1<<"):
            value |= 1 << numbers[part[3:]]
        elif part.startswith("~"):
            value |= ~_caps(part[1:].strip("()")) & ((1 << 64) - 1)
        else:
            value |= int_of(part)
    return value


def _sockaddr(text: str, memory: LogMemory) -> int:
    text = _strip_comment(text)
    if not text.startswith("{"):
        return _pointer(text)
    fields = struct_fields(text)
    family = value_of(fields.get("sa_family", "0"), ADDRESS_FAMILIES)
    raw = struct.pack("<H", family)
    if family == AF_UNIX:
        path = fields.get("sun_path", '""')
        abstract = path.startswith("@")
        literal = string_literal(path[1:] if abstract else path)
        body = literal[0] if literal else b""
        raw += (b"\0" + body) if abstract else body + b"\0"
    elif family == AF_INET:
        port = int(re.search(r"\d+", fields.get("sin_port", "0"))[0])
        address = re.search(r'"([^"]*)"', fields.get("sin_addr", '"0.0.0.0"'))[1]
        raw += struct.pack(">H", port) + bytes(int(x) for x in address.split(".")) + bytes(8)
    elif family == AF_INET6:
        import socket

        port = int(re.search(r"\d+", fields.get("sin6_port", "0"))[0])
        address = re.search(r'inet_pton\(AF_INET6, "([^"]*)"', text)
        packed = socket.inet_pton(socket.AF_INET6, address[1] if address else "::")
        raw += struct.pack(">HI", port, 0) + packed + bytes(4)
    elif family == AF_NETLINK:
        raw += struct.pack("<HII", 0, int_of(fields.get("nl_pid", "0")), int(fields.get("nl_groups", "0"), 16))
    return memory.put(raw)


def _fprog(text: str, memory: LogMemory) -> int:
    text = _strip_comment(text)
    if not text.startswith("{"):
        return _pointer(text)
    fields = struct_fields(text)
    return memory.put(struct.pack("<H6xQ", int_of(fields["len"]), _pointer(fields.get("filter", "0"))))


# Syscall by syscall: strace's argument text -> registers (and memory) ------------------------------------------

Registers = tuple[int, ...]
Converter = Callable[[list[str], LogMemory], Registers]


def _clone(args: list[str], memory: LogMemory) -> Registers:
    return (flags_of(_named(args, "flags", 0), CLONE_FLAGS, SIGNAL_TABLE),)


def _clone3(args: list[str], memory: LogMemory) -> Registers:
    fields = struct_fields(args[0])
    flags = flags_of(fields.get("flags", "0"), CLONE3_FLAGS)
    exit_signal = _signal(fields.get("exit_signal", "0"))
    set_tid, set_tid_size = 0, 0
    if "set_tid" in fields:
        set_tid = _int_array(fields["set_tid"], memory)
        set_tid_size = int_of(fields.get("set_tid_size", "0"))
    cgroup = _fd(fields["cgroup"], memory) if "cgroup" in fields else 0
    data = struct.pack("<11Q", flags, 0, 0, 0, exit_signal, 0, 0, 0, set_tid, set_tid_size, cgroup)
    return (memory.put(data), int_of(args[1]) if len(args) > 1 else len(data))


def _mount(args: list[str], memory: LogMemory) -> Registers:
    magic = (("MS_MGC_VAL", 0xC0ED0000),)
    return (_string(args[0], memory), _string(args[1], memory), _string(args[2], memory),
            flags_of(args[3], MOUNT_FLAGS, magic), _string(args[4], memory))


def _execve(args: list[str], memory: LogMemory) -> Registers:
    argv, _ = _string_array(args[1], memory)
    env, _ = _string_array(args[2], memory)
    return (_string(args[0], memory), argv, env)


def _execveat(args: list[str], memory: LogMemory) -> Registers:
    argv, _ = _string_array(args[2], memory)
    env, _ = _string_array(args[3], memory)
    return (_fd(args[0], memory), _string(args[1], memory), argv, env, flags_of(args[4], EXECVEAT_FLAGS))


def _wait_status(text: str, memory: LogMemory) -> int:
    text = _strip_comment(text)
    if not text.startswith("["):
        return _pointer(text)
    if m := re.search(r"WEXITSTATUS\(s\) == (\d+)", text):
        word = int(m[1]) << 8
    elif m := re.search(r"WTERMSIG\(s\) == (\w+)", text):
        word = _signal(m[1]) | (0x80 if "WCOREDUMP" in text else 0)
    elif m := re.search(r"WSTOPSIG\(s\) == (\w+)", text):
        word = (_signal(m[1]) << 8) | 0x7F
    elif "WIFCONTINUED" in text:
        word = 0xFFFF
    else:
        word = int_of(text.strip("[]{}"))
    return memory.put(struct.pack("<I", word & 0xFFFFFFFF))


def _capset(args: list[str], memory: LogMemory) -> Registers:
    header = struct_fields(args[0])
    version = value_of(header.get("version", "0"), CAP_VERSIONS)
    head = memory.put(struct.pack("<Ii", version, int_of(header.get("pid", "0"))))
    data_text = _strip_comment(args[1])
    if not data_text.startswith("{"):
        return (head, _pointer(data_text))
    data = struct_fields(data_text)
    sets = [_caps(data.get(key, "0")) for key in ("effective", "permitted", "inheritable")]
    words = [s & 0xFFFFFFFF for s in sets] + [s >> 32 for s in sets]
    return (head, memory.put(struct.pack("<6I", *words)))


def _prctl_arg(text: str, memory: LogMemory) -> int:
    text = _strip_comment(text)
    if text.startswith('"'):
        return _string(text, memory)
    if text.startswith("["):
        return memory.put(struct.pack("<i", value_of(text.strip("[]"), SIGNAL_TABLE)))
    if text.startswith("{"):
        return _fprog(text, memory)
    if "|" in text or text.startswith("SECBIT"):
        return flags_of(text, SECUREBITS)
    return value_of(text, CAPABILITIES, SIGNAL_TABLE, SECCOMP_MODES, PR_CAP_AMBIENT_OPS, DUMPABLE_VALUES)


def _prctl(args: list[str], memory: LogMemory) -> Registers:
    option = value_of(args[0], PR_OPTIONS)
    rest = [_prctl_arg(a, memory) for a in args[1:5]]
    return (option, *rest)


def _seccomp(args: list[str], memory: LogMemory) -> Registers:
    operation = value_of(args[0], SECCOMP_OPERATIONS)
    flags = flags_of(args[1], SECCOMP_FILTER_FLAGS)
    third = _strip_comment(args[2])
    if third.startswith("[") and not third.startswith("[{"):
        pointer = memory.put(struct.pack("<I", value_of(third.strip("[]"), SECCOMP_RET_ACTIONS)))
    elif third.startswith("{len="):
        pointer = _fprog(third, memory)
    else:
        pointer = _pointer(third) if not third.startswith("{") else memory.put(b"")
    return (operation, flags, pointer)


def _setgroups(args: list[str], memory: LogMemory) -> Registers:
    return (int_of(args[0]) & 0xFFFFFFFF, _int_array(args[1], memory, "I"))


def _socket_type(text: str) -> int:
    return flags_of(text, SOCK_TYPES, SOCK_TYPE_FLAGS)


def _dev(text: str) -> int:
    text = _strip_comment(text)
    m = re.match(r"makedev\((0x[0-9a-f]+|\d+), (0x[0-9a-f]+|\d+)\)", text)
    if not m:
        return int_of(text)
    major, minor = int(m[1], 0), int(m[2], 0)
    return (minor & 0xFF) | ((major & 0xFFF) << 8) | ((minor & ~0xFF) << 12)


def _mount_attr(text: str, memory: LogMemory) -> int:
    text = _strip_comment(text)
    if not text.startswith("{"):
        return _pointer(text)
    fields = struct_fields(text)
    attr_set = flags_of(fields.get("attr_set", "0"), xmount_api.MOUNT_ATTR_FLAGS)
    attr_clr = flags_of(fields.get("attr_clr", "0"), xmount_api.MOUNT_ATTR_FLAGS)
    propagation = flags_of(fields.get("propagation", "0"), xmount_api.MOUNT_PROPAGATION)
    userns = _fd(fields["userns_fd"], memory) if "userns_fd" in fields else 0
    return memory.put(struct.pack("<4Q", attr_set, attr_clr, propagation, userns))


def _a(*kinds: str) -> Converter:
    """A converter from one kind of argument per position: int, fd, str, ptr, sig, or a Table for flags."""

    def convert(args: list[str], memory: LogMemory) -> Registers:
        out = []
        for kind, text in zip(kinds, args, strict=False):
            if kind == "int":
                out.append(int_of(text) & 0xFFFFFFFFFFFFFFFF)
            elif kind == "fd":
                out.append(_fd(text, memory))
            elif kind == "str":
                out.append(_string(text, memory))
            elif kind == "buf":
                out.append(_bytes_arg(text, memory))
            elif kind == "sig":
                out.append(_signal(text))
            else:
                out.append(flags_of(text, *_TABLES[kind]))
        return tuple(out)

    return convert


_TABLES: dict[str, tuple[Table, ...]] = {
    "unshare": (UNSHARE_FLAGS,),
    "setns": (SETNS_TYPES,),
    "umount": (UMOUNT_FLAGS,),
    "wait": (WAIT_OPTIONS,),
    "open": (OPEN_ACCESS_MODES, OPEN_FLAGS),
    "family": (ADDRESS_FAMILIES,),
    "socktype": (SOCK_TYPES, SOCK_TYPE_FLAGS),
    "at": (AT_FLAGS,),
    "open_tree": (xmount_api.OPEN_TREE_FLAGS, AT_FLAGS, OPEN_FLAGS),
    "move_mount": (xmount_api.MOVE_MOUNT_FLAGS,),
    "fsopen": (xmount_api.FSOPEN_FLAGS,),
    "fsconfig": (xmount_api.FSCONFIG_CMDS,),
    "fsmount": (xmount_api.FSMOUNT_FLAGS,),
    "mount_attr": (xmount_api.MOUNT_ATTR_FLAGS,),
    "fspick": (xmount_api.FSPICK_FLAGS,),
    "mode": (FILE_TYPES,),
}

CONVERTERS: dict[str, Converter] = {
    "clone": _clone,
    "clone3": _clone3,
    "fork": lambda args, memory: (),
    "vfork": lambda args, memory: (),
    "unshare": _a("unshare"),
    "setns": _a("fd", "setns"),
    "sethostname": _a("buf", "int"),
    "setdomainname": _a("buf", "int"),
    "mount": _mount,
    "umount2": _a("str", "umount"),
    "pivot_root": _a("str", "str"),
    "chroot": _a("str"),
    "chdir": _a("str"),
    "fchdir": _a("fd"),
    "execve": _execve,
    "execveat": _execveat,
    "exit": _a("int"),
    "exit_group": _a("int"),
    "kill": _a("int", "sig"),
    "tkill": _a("int", "sig"),
    "tgkill": _a("int", "int", "sig"),
    "wait4": lambda args, memory: (int_of(args[0]) & 0xFFFFFFFF, _wait_status(args[1], memory),
                                   flags_of(args[2], WAIT_OPTIONS, _ALIASES)),
    "umask": _a("int"),
    "capset": _capset,
    "prctl": _prctl,
    "seccomp": _seccomp,
    "setuid": _a("int"),
    "setgid": _a("int"),
    "setreuid": _a("int", "int"),
    "setregid": _a("int", "int"),
    "setresuid": _a("int", "int", "int"),
    "setresgid": _a("int", "int", "int"),
    "setgroups": _setgroups,
    "connect": lambda args, memory: (_fd(args[0], memory), _sockaddr(args[1], memory), int_of(args[2])),
    "bind": lambda args, memory: (_fd(args[0], memory), _sockaddr(args[1], memory), int_of(args[2])),
    "socketpair": lambda args, memory: (value_of(args[0], ADDRESS_FAMILIES), _socket_type(args[1]),
                                        int_of(args[2]), _int_array(args[3], memory)),
    "mkdir": lambda args, memory: (_string(args[0], memory), int_of(args[1])),
    "mkdirat": lambda args, memory: (_fd(args[0], memory), _string(args[1], memory), int_of(args[2])),
    "mknod": lambda args, memory: (_string(args[0], memory), flags_of(args[1], FILE_TYPES),
                                   _dev(args[2]) if len(args) > 2 else 0),
    "mknodat": lambda args, memory: (_fd(args[0], memory), _string(args[1], memory), flags_of(args[2], FILE_TYPES),
                                     _dev(args[3]) if len(args) > 3 else 0),
    "symlink": _a("str", "str"),
    "symlinkat": _a("str", "fd", "str"),
    "write": _a("fd", "buf", "int"),
    "open_tree": _a("fd", "str", "open_tree"),
    "move_mount": _a("fd", "str", "fd", "str", "move_mount"),
    "fsopen": _a("str", "fsopen"),
    "fsconfig": lambda args, memory: (_fd(args[0], memory), value_of(args[1], xmount_api.FSCONFIG_CMDS),
                                      _string(args[2], memory), _string(args[3], memory), int_of(args[4])),
    "fsmount": _a("fd", "fsmount", "mount_attr"),
    "fspick": _a("fd", "str", "fspick"),
    "mount_setattr": lambda args, memory: (_fd(args[0], memory), _string(args[1], memory),
                                           flags_of(args[2], AT_FLAGS), _mount_attr(args[3], memory),
                                           int_of(args[4])),
}


def decode_line(name: str, arg_text: str, pid: int, tid: int, ret: int | None,
                known: FdTable | None = None, show_env: bool = False) -> tuple[dict[str, Any], str, dict]:
    """(args, category, notes) for one call, through boxtrace's own decoders. `known` holds what earlier -yy
    annotations said about the process's fds and working directory. An exec's environment values and argv secrets
    are redacted unless `show_env`, as the engine does. Raises ValueError when the argument text cannot be turned
    into registers."""
    nr = SYSCALL_NRS_BY_NAME.get(name, -1)
    memory = LogMemory(tid)
    if known is not None:
        memory.fds.update(known.fds)
        memory.cwd_path = known.cwd
    args_text = split_top(arg_text)
    convert = CONVERTERS.get(name)
    if convert is None:
        raise ValueError(f"no converter for {name}")
    try:
        registers = convert(args_text, memory)
    except (IndexError, KeyError, ValueError, TypeError, struct.error) as error:
        raise ValueError(f"{name}: {error}") from None
    registers = tuple(r & 0xFFFFFFFFFFFFFFFF for r in registers) + (0,) * (6 - len(registers))
    context = SyscallContext(name=name, nr=nr, pid=pid, tid=tid, args=registers, memory=memory, show_env=show_env)
    args, category = decode_syscall(context)
    if ret is not None and "decode_error" not in args:
        decode_syscall_exit(context, args, ret)
    if "decode_error" in args:
        raise ValueError(f"{name}: {args['decode_error']}")
    if name in EXEC_SYSCALLS:
        env_position = 2 if name == "execve" else 3
        shown = len(args_text) > env_position and _string_array(args_text[env_position], LogMemory(tid))[1]
        if not shown:
            args["env"] = None  # strace printed only a pointer (run it with -v to see the environment)
        if isinstance(args.get("argv"), list):
            args["argv"] = recorded_argv(args["argv"], show_env)
    return args, category, context.notes


def recorded_argv(argv: list[str], show_env: bool) -> list[str]:
    """argv as a recording holds it: the engine's rule (tracer.redact.redact_argv unless --show-env)."""
    return list(argv) if show_env else redact_argv(argv)


def undecoded_text(name: str, text: str, show_env: bool) -> str:
    """The raw argument text kept for a call that could not be decoded; an exec's argv and environment may hold
    secrets, so only its first argument (the path or dirfd) is kept unless `show_env`."""
    if name in EXEC_SYSCALLS and not show_env:
        return f"{text.split(',', 1)[0]}, {REDACTED}"
    return text[:4096]


@dataclass
class FdTable:
    """What -yy annotations said about one process's descriptors (and AT_FDCWD's directory), newest first.

    Used only where a line names an fd without its own annotation (mount("proc", "/proc/self/fd/6", ...): the
    note resolving fd 6). write(2) always carries its own annotation with -yy, so its data never depends on this.
    """

    fds: dict[int, str] = field(default_factory=dict)
    cwd: str | None = None

    def learn(self, text: str) -> None:
        if "<" not in text:
            return
        for start, end in _annotations(text):
            digits = start
            while digits > 0 and text[digits - 1].isdigit():
                digits -= 1
            value = text[start + 1 : end - 1]
            if text[:start].endswith("AT_FDCWD"):
                self.cwd = link_of(value)
            elif digits < start:
                self.fds[int(text[digits:start])] = link_of(value) or ""

    def copy(self) -> FdTable:
        return FdTable(dict(self.fds), self.cwd)


def _annotations(text: str) -> list[tuple[int, int]]:
    """(start, end) of every top-level -y annotation `<...>` that follows an fd number or AT_FDCWD."""
    found = []
    index = 0
    while True:
        index = text.find("<", index)
        if index <= 0:
            return found
        previous, following = text[index - 1], text[index + 1 : index + 2]
        if following != "<" and previous != "<" and (previous.isdigit() or text[:index].endswith("AT_FDCWD")):
            end = _annotation_end(text, index)
            found.append((index, end))
            index = end
        else:
            index += 1


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


@dataclass
class _Proc:
    pid: int
    ppid: int
    ns: dict[str, int]
    nspid: list[int]
    comm: str = ""
    exited: bool = False
    exit_code: int | None = None


class _Importer:
    """Folds parsed lines into boxtrace events, in log order."""

    def __init__(self, log: str, show_env: bool = False) -> None:
        self.log = log
        self.show_env = show_env
        self.events: list[Event] = []
        self.tgid: dict[int, int] = {}  # tid -> its process
        self.procs: dict[int, _Proc] = {}
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

    def _t(self, line: Line) -> float:
        if line.time is None:
            return self.last_t
        if self.t0 is None:
            self.t0 = line.time
            if line.time > 1e8:  # -ttt: seconds since the epoch
                self.started = datetime.fromtimestamp(line.time, UTC).isoformat(timespec="seconds")
        t = line.time - self.t0
        if t < 0:
            t += 86400  # -tt crossed midnight
        self.last_t = max(self.last_t, round(t, 6))
        return self.last_t

    def _emit(self, factory: Callable[..., Event], t: float, **fields: Any) -> None:
        self.events.append(factory(seq=len(self.events) + 1, t=t, **fields))

    def _new_ns(self) -> int:
        self.next_ns += 1
        return self.next_ns

    def run(self, lines: list[Line]) -> list[Event]:
        self._link_children(lines)
        for line in lines:
            self.current_line = line.number
            self._line(line)
        t = self.last_t
        unfinished = [p for p in self.procs.values() if not p.exited]
        if unfinished:
            self._emit(Notice, t, level=Level.WARNING,
                       message=f"{len(unfinished)} processes have no exit in the log (it ends before they did)")
        root = self.procs.get(self.root) if self.root is not None else None
        # Lines in the file: the header, the import notice, these events and the end line.
        self._emit(End, t, events=len(self.events) + 3, processes=len(self.procs),
                   exit_code=root.exit_code if root is not None else None,
                   status=Status.COMPLETED if root is not None and root.exited else Status.INTERRUPTED)
        header = Header(seq=0, t=0.0, kernel="", arch="x86_64", command=self.command, started=self.started,
                        mode=Mode.IMPORT, filter="container", host_ns=dict(self.host_ns), seccomp=False)
        notice = Notice(seq=0, t=0.0, level=Level.INFO, message=(
            f"imported from the strace log {os.path.basename(self.log)}: namespace ids are synthetic (strace shows "
            "no inodes) and pids inside pid namespaces come from clone's return values"))
        events: list[Event] = [header, notice, *self.events]
        return [_reseq(event, index) for index, event in enumerate(events)]

    # Lines

    def _line(self, line: Line) -> None:
        tid = line.pid if line.pid is not None else UNKNOWN_PID
        t = self._t(line)
        if line.kind == "superseded":
            self._superseded(tid, int(line.value), t)
            return
        if not self._ensure_known(tid, line, t):
            return
        pid = self.tgid.get(tid, tid)
        if line.kind == "call":
            self._call(tid, pid, line.name, line.text, line.ret_text, t, None)
        elif line.kind == "unfinished":
            self.pending[tid] = _Pending(line.name, line.text, line.time, line.number)
            if line.name in CLONE_SYSCALLS:
                self._clone_started(tid, line.name, line.text)
            if line.name in NO_RETURN_SYSCALLS:
                self._call(tid, pid, line.name, line.text, "?", t, None)
                self.pending[tid].name = ""  # already recorded
        elif line.kind == "resumed":
            pending = self.pending.pop(tid, None)
            if pending is None or pending.name != line.name:
                return  # resumed without its start (the log began mid-call) or already recorded
            duration = (line.time - pending.start) if line.time is not None and pending.start is not None else None
            self._call(tid, pid, line.name, pending.text + line.text, line.ret_text, t, duration, started=True,
                       old_tid=pending.old_tid)
        elif line.kind in ("exited", "killed"):
            self._gone(tid, pid, line, t)
        elif line.kind == "signal":
            if line.value not in UNRECORDED_SIGNALS:
                self._emit(Signal, t, pid=pid, tid=tid, signal=str(line.value))
        elif line.kind == "stopped":
            self._emit(Signal, t, pid=pid, tid=tid, signal=f"{line.value} (group-stop)")

    def _ensure_known(self, tid: int, line: Line, t: float) -> bool:
        """Make sure `tid` has its process (or thread) event; False for a line of a thread already gone."""
        if tid in self.tgid:
            return True
        clone = self._creator_of(tid)
        if tid in self.gone and (clone is None or clone.ret != tid):
            return False
        self.gone.discard(tid)
        if clone is None:
            self._root_process(tid, line, t)
            return True
        clone.child = tid
        parent_pid = self.tgid.get(clone.parent, clone.parent)
        parent = self.procs.get(parent_pid)
        if "CLONE_THREAD" in clone.flags:
            self.tgid[tid] = parent_pid
            self._emit(ThreadStarted, t, pid=parent_pid, tid=tid, creator=clone.parent, flags=list(clone.flags))
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
        proc = _Proc(tid, ppid, ns, nspid, comm=parent.comm if parent else "")
        self.procs[tid] = proc
        self.fd_tables[tid] = self.fd_tables.get(parent_pid, FdTable()).copy()
        via = clone.name
        self._emit(ProcessStarted, t, pid=tid, ppid=ppid, creator=parent_pid, via=ProcessVia(via), flags=list(clone.flags),
                   comm=proc.comm, ns=dict(ns), nspid=list(nspid))
        if parent is not None:
            self._namespace_diff(tid, parent.ns, ns, NamespaceVia(via), t)
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
            if line.kind == "unfinished":
                started[line.pid] = line.number
                continue
            key = line.number if line.kind == "call" else started.pop(line.pid, None)
            if key is None or line.kind not in ("call", "resumed"):
                continue
            ret, error, _ = _return_value(line.ret_text)
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

    def _root_process(self, tid: int, line: Line, t: float) -> None:
        first = self.root is None
        if first:
            self.root = tid
        argv: list[str] | None = None
        if line.kind in ("call", "unfinished") and line.name == "execve":
            try:
                parts = split_top(line.text)
                memory = LogMemory(tid)
                address, shown = _string_array(parts[1], memory)
                argv = memory.read_string_array(address) if shown else None
            except (IndexError, ValueError):
                argv = None
            if argv is not None:
                argv = recorded_argv(argv, self.show_env)
        if first and argv:
            self.command = list(argv)
        self.tgid[tid] = tid
        proc = _Proc(tid, 0, dict(self.host_ns), [tid], comm=os.path.basename(argv[0])[:15] if argv else "")
        self.procs[tid] = proc
        self._emit(ProcessStarted, t, pid=tid, ppid=0, creator=None, via=ProcessVia.LAUNCH if first else ProcessVia.ATTACH,
                   comm=proc.comm, argv=argv, ns=dict(proc.ns), nspid=[tid])

    def _clone_started(self, tid: int, name: str, text: str) -> None:
        flags: list[str] = []
        if name in CLONE_FLAG_SYSCALLS:
            try:
                args, _, _ = decode_line(name, text, tid, tid, None)
                flags = list(args.get("flags") or [])
            except ValueError:
                flags = []
        self.clones.append(_Clone(tid, name, flags, key=self.current_line))

    def _call(self, tid: int, pid: int, name: str, text: str, ret_text: str, t: float, duration: float | None,
              started: bool = False, old_tid: int | None = None) -> None:
        ret, error, measured = _return_value(ret_text)
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
            self._exec(tid, pid, name, text, t, old_tid)
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
        self._emit(Syscall, t, pid=pid, tid=tid, name=name, nr=nr, args=args, ret=ret if returns else None,
                   error=error, category=category, dur=round(duration, 6) if duration is not None and returns else None,
                   notes=notes or None)
        if error is None:
            self._after(pid, tid, name, args, t)

    def _exec(self, tid: int, pid: int, name: str, text: str, t: float, old_tid: int | None = None) -> None:
        try:
            args, _, _ = decode_line(name, text, pid, tid, 0, show_env=self.show_env)
        except ValueError:
            args = {}
        proc = self.procs.get(pid)
        path = args.get("path") or args.get("dirfd_path") or ""
        argv = args.get("argv") if isinstance(args.get("argv"), list) else []
        comm = os.path.basename(str(path))[:15]
        if proc is not None:
            proc.comm = comm
        self._emit(Exec, t, pid=pid, path=str(path), argv=list(argv), env=args.get("env"), comm=comm,
                   ns=dict(proc.ns) if proc else {}, nspid=list(proc.nspid) if proc else [], old_tid=old_tid,
                   syscall=name)
        if self.root == pid and not self.command and argv:
            self.command = list(argv)

    def _superseded(self, leader: int, old_tid: int, t: float) -> None:
        """`LEADER +++ superseded by execve in pid OLD +++`: thread OLD exec'd and now has the leader's pid; its
        exec resumes under the leader's pid."""
        pending = self.pending.pop(old_tid, None)
        self.tgid.pop(old_tid, None)
        self.gone.add(old_tid)
        if pending is not None:
            pending.old_tid = old_tid
            self.pending[leader] = pending

    def _after(self, pid: int, tid: int, name: str, args: dict[str, Any], t: float) -> None:
        proc = self.procs.get(pid)
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
            self._namespace_diff(pid, proc.ns, new, NamespaceVia.UNSHARE, t)
            proc.ns = new
        elif name == "setns":
            kind, inode = args.get("namespace"), args.get("inode")
            if isinstance(kind, str) and isinstance(inode, int):
                new = dict(proc.ns)
                new["pid_for_children" if kind == "pid" else kind] = inode
                self._namespace_diff(pid, proc.ns, new, NamespaceVia.SETNS, t)
                proc.ns = new
        elif name == "bind" and isinstance(args.get("path"), str):
            self.bound[args["path"]] = pid
        elif name == "connect" and isinstance(args.get("path"), str):
            self._emit(Ipc, t, pid=pid, peer_pid=self.bound.get(args["path"]), path=args["path"])

    def _namespace_diff(self, pid: int, old: dict[str, int], new: dict[str, int], via: NamespaceVia, t: float) -> None:
        for kind, before, inode in namespace_changes(old, new):
            self._emit(NamespaceChange, t, pid=pid, kind=kind, old=before, new=inode, via=via)

    def _gone(self, tid: int, pid: int, line: Line, t: float) -> None:
        self.pending.pop(tid, None)
        self.gone.add(tid)
        if tid != pid:
            self.tgid.pop(tid, None)
            return
        proc = self.procs.get(pid)
        if proc is None or proc.exited:
            return
        proc.exited = True
        code = int(line.value) if line.kind == "exited" else None
        signal_name = str(line.value) if line.kind == "killed" else None
        proc.exit_code = code if code is not None else 128 + _signal(str(signal_name))
        self._emit(Exit, t, pid=pid, code=code, signal=signal_name)
        for other in [tid_ for tid_, owner in self.tgid.items() if owner == pid]:
            self.tgid.pop(other, None)
            self.gone.add(other)


def _return_value(text: str) -> tuple[int | None, str | None, float | None]:
    """(ret, errno name, -T duration) from what follows " = "."""
    duration = None
    if m := _DURATION.search(text):
        duration = float(m[1])
        text = text[: m.start()]
    text = text.strip()
    m = re.match(r"^(\?|-?0x[0-9a-fA-F]+|-?\d+)", text)
    if m is None:
        return None, None, duration
    ret = None if m[1] == "?" else int_of(m[1])
    error = None
    if e := re.search(r"\s(E[A-Z0-9_]+)\b", text[m.end():]):
        error = e[1]
        if ret is not None and ret < 0 and error in _ERRNOS:
            ret = -_ERRNOS[error]
    return ret, error, duration


def _reseq(event: Event, seq: int) -> Event:
    if event.seq == seq:
        return event
    data = event.to_json()
    data.pop("type")
    data["seq"] = seq
    return type(event)(**data)
