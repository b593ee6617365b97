"""strace's printed arguments back into what the kernel saw, decoded by boxtrace's own decoders.

Each container-relevant call's argument text is turned into its six registers and the tracee memory they point to
(`LogMemory`: strings, argv arrays, struct clone_args, a sockaddr... at made-up addresses), then handed to
tracer.decoders exactly as the engine hands a stopped tracee. So an imported call has the `args` of a live trace.
`decode_line` is the one entry point; `CONVERTERS` says, syscall by syscall, how the text becomes registers.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from typing import Any

from tracer.decoders import SYSCALL_NRS_BY_NAME, Trait, decode_syscall, decode_syscall_exit, syscalls_with
from tracer.decoders.base import SyscallContext
from tracer.decoders.common import text_of
from tracer.events import REDACTED
from tracer.redact import redact_argv
from tracer.strace_lexer import (
    FdTable,
    flags_of,
    int_of,
    link_of,
    split_top,
    string_literal,
    strip_comment,
    struct_fields,
    value_of,
)
from tracer.xlat import mount_api as xmount_api
from tracer.xlat.at import AT_FDCWD, AT_FLAGS, EXECVEAT_FLAGS
from tracer.xlat.capability import CAP_VERSIONS, CAPABILITIES
from tracer.xlat.clone import CLONE3_FLAGS, CLONE_FLAGS, SETNS_TYPES, UNSHARE_FLAGS
from tracer.xlat.flags import Table
from tracer.xlat.mount import MOUNT_FLAGS
from tracer.xlat.open import OPEN_ACCESS_MODES, OPEN_FLAGS
from tracer.xlat.prctl import DUMPABLE_VALUES, PR_CAP_AMBIENT_OPS, PR_OPTIONS, SECUREBITS
from tracer.xlat.rlimit import RLIM_INFINITY, RLIMIT_RESOURCES
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
EXEC_SYSCALLS = syscalls_with(Trait.EXEC)
_FD = re.compile(r"^(-?\d+|AT_FDCWD)(?:<(.*)>)?$", re.S)


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
    match = _FD.match(strip_comment(text))
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
    text = strip_comment(text)
    return 0 if text == "NULL" else int_of(text)


def _string(text: str, memory: LogMemory) -> int:
    literal = string_literal(strip_comment(text))
    if literal is None:
        return _pointer(text)
    return memory.put(literal[0] + b"\0", literal[1])


def _bytes_arg(text: str, memory: LogMemory) -> int:
    literal = string_literal(strip_comment(text))
    if literal is None:
        return _pointer(text)
    return memory.put(literal[0], literal[1])


def _string_array(text: str, memory: LogMemory) -> tuple[int, bool]:
    """(address, shown): an argv/envp array; shown is False when strace printed only a pointer."""
    text = strip_comment(text)
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
    text = strip_comment(text)
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


def signal_number(text: str) -> int:
    """A signal as strace names it (SIGKILL, SIGRT_3) or a number."""
    return value_of(text, SIGNAL_TABLE)


def _caps(text: str) -> int:
    """1<<CAP_KILL|1<<CAP_AUDIT_WRITE (or a number) as a 64-bit set."""
    numbers = dict(CAPABILITIES)
    value = 0
    for part in strip_comment(text).split("|"):
        part = part.strip()
        if part.startswith("1<<"):
            value |= 1 << numbers[part[3:]]
        elif part.startswith("~"):
            value |= ~_caps(part[1:].strip("()")) & ((1 << 64) - 1)
        else:
            value |= int_of(part)
    return value


def _sockaddr(text: str, memory: LogMemory) -> int:
    text = strip_comment(text)
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
        port = int(_found(r"\d+", fields.get("sin_port", "0"))[0])
        address = _found(r'"([^"]*)"', fields.get("sin_addr", '"0.0.0.0"'))[1]
        raw += struct.pack(">H", port) + bytes(int(x) for x in address.split(".")) + bytes(8)
    elif family == AF_INET6:
        import socket

        port = int(_found(r"\d+", fields.get("sin6_port", "0"))[0])
        address = re.search(r'inet_pton\(AF_INET6, "([^"]*)"', text)
        packed = socket.inet_pton(socket.AF_INET6, address[1] if address else "::")
        raw += struct.pack(">HI", port, 0) + packed + bytes(4)
    elif family == AF_NETLINK:
        raw += struct.pack("<HII", 0, int_of(fields.get("nl_pid", "0")), int(fields.get("nl_groups", "0"), 16))
    return memory.put(raw)


def _found(pattern: str, text: str) -> re.Match[str]:
    match = re.search(pattern, text)
    if match is None:
        raise ValueError(f"unexpected text: {text[:40]!r}")
    return match


def _fprog(text: str, memory: LogMemory) -> int:
    text = strip_comment(text)
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
    exit_signal = signal_number(fields.get("exit_signal", "0"))
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
    text = strip_comment(text)
    if not text.startswith("["):
        return _pointer(text)
    if m := re.search(r"WEXITSTATUS\(s\) == (\d+)", text):
        word = int(m[1]) << 8
    elif m := re.search(r"WTERMSIG\(s\) == (\w+)", text):
        word = signal_number(m[1]) | (0x80 if "WCOREDUMP" in text else 0)
    elif m := re.search(r"WSTOPSIG\(s\) == (\w+)", text):
        word = (signal_number(m[1]) << 8) | 0x7F
    elif "WIFCONTINUED" in text:
        word = 0xFFFF
    else:
        word = int_of(text.strip("[]{}"))
    return memory.put(struct.pack("<I", word & 0xFFFFFFFF))


def _capset(args: list[str], memory: LogMemory) -> Registers:
    header = struct_fields(args[0])
    version = value_of(header.get("version", "0"), CAP_VERSIONS)
    head = memory.put(struct.pack("<Ii", version, int_of(header.get("pid", "0"))))
    data_text = strip_comment(args[1])
    if not data_text.startswith("{"):
        return (head, _pointer(data_text))
    data = struct_fields(data_text)
    sets = [_caps(data.get(key, "0")) for key in ("effective", "permitted", "inheritable")]
    words = [s & 0xFFFFFFFF for s in sets] + [s >> 32 for s in sets]
    return (head, memory.put(struct.pack("<6I", *words)))


def _prctl_arg(text: str, memory: LogMemory) -> int:
    text = strip_comment(text)
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
    third = strip_comment(args[2])
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
    text = strip_comment(text)
    m = re.match(r"makedev\((0x[0-9a-f]+|\d+), (0x[0-9a-f]+|\d+)\)", text)
    if not m:
        return int_of(text)
    major, minor = int(m[1], 0), int(m[2], 0)
    return (minor & 0xFF) | ((major & 0xFFF) << 8) | ((minor & ~0xFF) << 12)


def _rlimit(text: str, memory: LogMemory) -> int:
    """{rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY} as a struct rlimit64 (strace writes multiples of 1024 as
    N*1024 and the unlimited value by name), or a pointer."""
    text = strip_comment(text)
    if not text.startswith("{"):
        return _pointer(text)
    fields = struct_fields(text)

    def limit(value: str) -> int:
        if value in ("RLIM64_INFINITY", "RLIM_INFINITY"):
            return RLIM_INFINITY
        number, times, unit = value.partition("*")
        return int_of(number) * (int_of(unit) if times else 1)

    return memory.put(struct.pack("<QQ", limit(fields["rlim_cur"]), limit(fields["rlim_max"])))


def _mount_attr(text: str, memory: LogMemory) -> int:
    text = strip_comment(text)
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
                out.append(signal_number(text))
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
    "open_tree_attr": lambda args, memory: (_fd(args[0], memory), _string(args[1], memory),
                                            flags_of(args[2], *_TABLES["open_tree"]), _mount_attr(args[3], memory),
                                            int_of(args[4])),
    "setrlimit": lambda args, memory: (value_of(args[0], RLIMIT_RESOURCES), _rlimit(args[1], memory)),
    "prlimit64": lambda args, memory: (int_of(args[0]), value_of(args[1], RLIMIT_RESOURCES), _rlimit(args[2], memory),
                                       _rlimit(args[3], memory)),
    "mount_setattr": lambda args, memory: (_fd(args[0], memory), _string(args[1], memory),
                                           flags_of(args[2], AT_FLAGS), _mount_attr(args[3], memory),
                                           int_of(args[4])),
}


def decode_line(name: str, arg_text: str, pid: int, tid: int, ret: int | None,
                known: FdTable | None = None, show_env: bool = False) -> tuple[dict[str, Any], str, dict[str, Any]]:
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


def shown_argv(arg_text: str, tid: int) -> list[str] | None:
    """The argv an execve call's argument text shows, as written (not yet redacted); None when strace printed only
    a pointer or the text cannot be read."""
    try:
        memory = LogMemory(tid)
        address, shown = _string_array(split_top(arg_text)[1], memory)
    except (IndexError, ValueError):
        return None
    return memory.read_string_array(address) if shown else None
