"""The text of an strace log: lines into `Line` records, and the values strace prints (strings, numbers, flags,
structs, -y fd annotations) into Python values. Knows strace's output format, nothing of syscalls' meaning.

`read_log` reads a whole log (bounded line length, strace's own messages cut out of the lines they interrupt),
`parse_line` one line; `split_top` splits argument text at top-level commas; `return_value` reads what follows
" = ". Everything that cannot be read raises ValueError with one sentence, which the importer counts.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import BinaryIO

from tracer.decoders import Trait, syscalls_with
from tracer.decoders.common import text_of
from tracer.events import NAMESPACE_KINDS
from tracer.xlat.errnos import KERNEL_INTERNAL_ERRNOS
from tracer.xlat.flags import Table

CLONE_SYSCALLS = syscalls_with(Trait.PROCESS)
#: The pid given to the first process when the log never shows it (strace -f writing to stderr, or no -f).
UNKNOWN_PID = 0
#: How many malformed lines a log keeps the reasons of.
QUOTED_PROBLEMS = 5
_ERRNOS: dict[str, int] = {**{name: number for number, name in errno.errorcode.items()},
                          **dict(KERNEL_INTERNAL_ERRNOS)}


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


class LineKind(StrEnum):
    """What an strace line says."""

    CALL = "call"  # NAME(args) = ret
    UNFINISHED = "unfinished"  # NAME(args <unfinished ...>
    RESUMED = "resumed"  # <... NAME resumed>args) = ret
    EXITED = "exited"  # +++ exited with N +++
    KILLED = "killed"  # +++ killed by SIG +++
    SUPERSEDED = "superseded"  # +++ superseded by execve in pid N +++
    STOPPED = "stopped"  # --- stopped by SIG ---
    SIGNAL = "signal"  # --- SIG {...} ---


@dataclass
class Line:
    number: int
    pid: int | None
    time: float | None
    kind: LineKind
    name: str = ""
    text: str = ""  # the argument text (call/unfinished/resumed), without the return part
    ret_text: str = ""
    value: int | str | None = None

    def int_value(self) -> int:
        """The number an `exited` or `superseded` line carries (exit status, pid)."""
        return self.value if isinstance(self.value, int) else 0


#: strace's own messages. Written to stderr (no -o), they can land in the middle of a trace line, which goes on
#: on the next line: "wait4(7, strace: Process 8 attached" then " <unfinished ...>".
_STRACE_MESSAGE = re.compile(r"strace: Process (\d+) (\w+)$")
MAX_LOG_LINE = 1 << 20


@dataclass
class LexedLog:
    """The lines of a log that could be read, how many lines it has, and the ones that could not be read."""

    lines: list[Line] = field(default_factory=list)
    count: int = 0
    malformed: int = 0
    #: (line number, reason) of the first QUOTED_PROBLEMS malformed lines.
    problems: list[tuple[int, str]] = field(default_factory=list)

    def problem(self, number: int, reason: str) -> None:
        self.malformed += 1
        if len(self.problems) < QUOTED_PROBLEMS:
            self.problems.append((number, reason))


def read_log(handle: BinaryIO) -> LexedLog:
    """Every line of the strace log open (in binary) as `handle`."""
    log = LexedLog()
    lines = log.lines
    attached: set[int] = set()
    carry = ""
    number = 0
    while True:
        raw = handle.readline(MAX_LOG_LINE + 1)
        if not raw:
            break
        number += 1
        log.count = number
        if len(raw) > MAX_LOG_LINE and not raw.endswith(b"\n"):
            log.problem(number, f"longer than {MAX_LOG_LINE} bytes")
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
            lines.append(parse_line(text, number))
        except ValueError as error:
            log.problem(number, str(error))
    _name_the_first_process(lines, attached)
    return log


def _name_the_first_process(lines: list[Line], attached: set[int]) -> None:
    """Lines without a pid belong to the first process: strace writing to stderr prefixes only the others with
    [pid N], and without -f there is no pid at all. Its pid is the first one shown that strace never announced as
    attached and that no clone returned; when the log never shows it, UNKNOWN_PID stands in."""
    if not any(line.pid is None for line in lines):
        return
    returned: set[int] = set()
    for line in lines:
        if line.kind in (LineKind.CALL, LineKind.RESUMED) and line.name in CLONE_SYSCALLS:
            ret = return_value(line.ret_text)[0]
            if ret is not None:
                returned.add(ret)
    first = next((line.pid for line in lines if line.pid is not None and line.pid not in attached | returned), None)
    for line in lines:
        if line.pid is None:
            line.pid = UNKNOWN_PID if first is None else first


def parse_line(text: str, number: int) -> Line:
    match = _PREFIX.match(text)
    if match is None:  # pragma: no cover - the pattern matches any text
        raise ValueError("unreadable")
    pid_text = match["pid1"] or match["pid2"]
    pid = int(pid_text) if pid_text else None
    when = _clock(match["clock"]) if match["clock"] else float(match["epoch"]) if match["epoch"] else None
    body = match["body"]
    line = Line(number, pid, when, LineKind.CALL)
    if m := _EXITED.match(body):
        line.kind, line.value = LineKind.EXITED, int(m[1])
    elif m := _KILLED.match(body):
        line.kind, line.value = LineKind.KILLED, m[1]
    elif m := _SUPERSEDED.match(body):
        line.kind, line.value = LineKind.SUPERSEDED, int(m[1])
    elif m := _STOPPED.match(body):
        line.kind, line.value = LineKind.STOPPED, m[1]
    elif m := _SIGNAL.match(body):
        line.kind, line.value = LineKind.SIGNAL, m[1]
    elif m := _RESUMED.match(body):
        line.kind, line.name = LineKind.RESUMED, m[1]
        line.text, line.ret_text = _split_call(m[2], number, resumed=True)
    elif m := _CALL.match(body):
        line.name = m[1]
        if body.endswith(_UNFINISHED):
            line.kind, line.text = LineKind.UNFINISHED, m[2][: -len(_UNFINISHED)]
        else:
            line.kind = LineKind.CALL
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


def _scan(text: str, start: int = 0) -> Iterator[tuple[int, str, int]]:
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
            index = annotation_end(text, index)
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


def annotation_end(text: str, start: int) -> int:
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
_OCTAL = re.compile(r"[0-7]{1,3}")
_NUMBER = re.compile(r"^-?(?:0x[0-9a-fA-F]+|\d+)$")
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
        elif (octal := _OCTAL.match(body, index + 1)) is not None:
            out.append(int(octal[0], 8) & 0xFF)
            index += 1 + len(octal[0])
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
    text = strip_comment(text).strip()
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


def strip_comment(text: str) -> str:
    return re.sub(r"/\*.*?\*/", "", text).strip()


def flags_of(text: str, *tables: Table) -> int:
    """A|B|0x80 with names from `tables` as one number."""
    names = {name: value for table in tables for name, value in table}
    value = 0
    for part in strip_comment(text).split("|"):
        part = part.strip()
        if part in names:
            value |= names[part]
        else:
            value |= int_of(part)
    return value


def value_of(text: str, *tables: Table) -> int:
    """One constant: a name from `tables` or a number."""
    text = strip_comment(text)
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


def return_value(text: str) -> tuple[int | None, str | None, float | None]:
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


# What -yy annotations tell about a process's descriptors ----------------------------------------


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
    found: list[tuple[int, int]] = []
    index = 0
    while True:
        index = text.find("<", index)
        if index <= 0:
            return found
        previous, following = text[index - 1], text[index + 1 : index + 2]
        if following != "<" and previous != "<" and (previous.isdigit() or text[:index].endswith("AT_FDCWD")):
            end = annotation_end(text, index)
            found.append((index, end))
            index = end
        else:
            index += 1
