"""The constant tables against independent sources, and golden tables of decoding.

Values are checked against Python's own constants (os, errno, signal, socket, stat) and, like strace's generator
does, against the kernel UAPI headers when they are installed (linux-libc-dev). A name the installed headers do not
define yet (a newer kernel's flag) is skipped, not failed.
"""

from __future__ import annotations

import ast
import errno
import os
import re
import signal
import socket
import stat
from pathlib import Path

import pytest

from tests.prereqs import require
from tracer.xlat import at, capability, clone, mount, mount_api, prctl, seccomp, sockets, umount, wait
from tracer.xlat import open as open_flags
from tracer.xlat import stat as file_types
from tracer.xlat.errnos import errno_name
from tracer.xlat.flags import Table, decode_flags, decode_value, encode_flags, value_of
from tracer.xlat.signals import SIGNALS, signal_name

INCLUDE = Path("/usr/include")

# --- a tiny reader of `#define NAME value` lines, enough for the UAPI headers used here --------------------------

_DEFINE = re.compile(r"^\s*#\s*define\s+([A-Za-z_]\w*)\s+(.+?)\s*$")
_C_OCTAL = re.compile(r"\b0([0-7]+)\b")
_SUFFIX = re.compile(r"\b(0x[0-9a-fA-F]+|\d+)[uUlL]+\b")


def _evaluate(expression: str, known: dict[str, int]) -> int | None:
    text = _SUFFIX.sub(r"\1", expression)
    text = _C_OCTAL.sub(r"0o\1", text)
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        return None

    def value(node: ast.AST) -> int:
        if isinstance(node, ast.Expression):
            return value(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.Name) and node.id in known:
            return known[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -value(node.operand)
        if isinstance(node, ast.BinOp):
            left, right = value(node.left), value(node.right)
            operations = {ast.BitOr: int.__or__, ast.LShift: int.__lshift__, ast.Add: int.__add__}
            if type(node.op) in operations:
                return operations[type(node.op)](left, right)
        raise ValueError(expression)

    try:
        return value(tree)
    except ValueError:
        return None


def header_defines(*relative: str) -> dict[str, int]:
    """NAME -> value for the simple numeric #defines of the given headers (later ones may use earlier names)."""
    known: dict[str, int] = {}
    for name in relative:
        path = INCLUDE / name
        if not path.exists():
            continue
        text = re.sub(r"/\*.*?\*/", "", path.read_text(errors="replace"), flags=re.S)
        for line in text.splitlines():
            match = _DEFINE.match(line)
            if match and "(" not in match[1]:
                number = _evaluate(match[2], known)
                if number is not None:
                    known[match[1]] = number
    return known


def check_table(table: Table, headers: dict[str, int], *, minimum: int) -> None:
    """Every name of the table that the headers define has the headers' value; at least `minimum` were found."""
    checked = 0
    for name, value in table:
        if name in headers:
            assert value == headers[name], f"{name}: table {value:#x}, header {headers[name]:#x}"
            checked += 1
    assert checked >= minimum, f"only {checked} names found in the headers"


def _headers(*names: str) -> dict[str, int]:
    if not (INCLUDE / names[-1]).exists():
        require(False, f"kernel headers not installed ({INCLUDE / names[-1]}): apt-get install linux-libc-dev")
    return header_defines(*names)


# --- against the kernel headers ---------------------------------------------------------------------------------


def test_clone_tables_match_linux_sched_h():
    headers = _headers("linux/sched.h")
    check_table(clone.CLONE_FLAGS, headers, minimum=22)
    check_table(clone.CLONE3_EXTRA_FLAGS, headers, minimum=3)
    check_table(clone.UNSHARE_FLAGS, headers, minimum=14)
    check_table(clone.SETNS_TYPES, headers, minimum=8)
    assert headers["CSIGNAL"] == clone.CSIGNAL


def test_mount_tables_match_linux_mount_h():
    headers = _headers("linux/mount.h")
    check_table(mount.MOUNT_FLAGS, headers, minimum=28)
    check_table(mount_api.MOVE_MOUNT_FLAGS, headers, minimum=6)
    check_table(mount_api.FSOPEN_FLAGS + mount_api.FSPICK_FLAGS + mount_api.FSMOUNT_FLAGS, headers, minimum=6)
    check_table(mount_api.MOUNT_ATTR_FLAGS, headers, minimum=8)
    assert headers["OPEN_TREE_CLONE"] == mount_api.OPEN_TREE_CLONE
    assert headers["MOUNT_ATTR_SIZE_VER0"] == mount_api.MOUNT_ATTR_SIZE_VER0


def test_at_and_open_tables_match_fcntl_headers():
    headers = _headers("asm-generic/fcntl.h", "linux/fcntl.h")
    check_table(at.AT_FLAGS, headers, minimum=7)
    assert headers["AT_FDCWD"] == at.AT_FDCWD
    check_table(open_flags.OPEN_FLAGS + open_flags.OPEN_ACCESS_MODES, headers, minimum=18)


def test_prctl_capability_seccomp_tables_match_headers():
    check_table(prctl.PR_OPTIONS, _headers("linux/prctl.h"), minimum=60)
    check_table(prctl.PR_CAP_AMBIENT_OPS, _headers("linux/prctl.h"), minimum=4)
    caps = _headers("linux/capability.h")
    check_table(capability.CAPABILITIES, caps, minimum=41)
    check_table(capability.CAP_VERSIONS, caps, minimum=3)
    assert caps["CAP_LAST_CAP"] == capability.CAP_LAST_CAP
    headers = _headers("linux/seccomp.h")
    check_table(seccomp.SECCOMP_OPERATIONS + seccomp.SECCOMP_MODES, headers, minimum=7)
    check_table(seccomp.SECCOMP_FILTER_FLAGS, headers, minimum=5)
    check_table(seccomp.SECCOMP_RET_ACTIONS, headers, minimum=8)


def test_wait_stat_tables_match_headers():
    check_table(wait.WAIT_OPTIONS, _headers("linux/wait.h"), minimum=8)
    check_table(file_types.FILE_TYPES, _headers("linux/stat.h"), minimum=7)


def test_newer_syscall_numbers_match_unistd_64_h():
    from tracer.decoders import SYSCALLS

    headers = _headers("x86_64-linux-gnu/asm/unistd_64.h")
    checked = 0
    for nr, spec in SYSCALLS.items():
        if nr < 512 and f"__NR_{spec.name}" in headers:
            assert headers[f"__NR_{spec.name}"] == nr, spec.name
            checked += 1
    assert checked > 300


# --- against Python's own constants ------------------------------------------------------------------------------


def test_values_match_python_os_module():
    tables = clone.CLONE3_FLAGS + clone.UNSHARE_FLAGS + open_flags.OPEN_FLAGS + open_flags.OPEN_ACCESS_MODES
    checked = 0
    for name, value in tables:
        # os.CLONE_* exist from Python 3.12 on; glibc defines O_LARGEFILE as 0 for 64-bit programs (the kernel
        # sets the flag itself), while the value a tracer sees in the register is the kernel's.
        if hasattr(os, name) and name != "O_LARGEFILE":
            assert getattr(os, name) == value, name
            checked += 1
    assert checked >= 15
    for name in ("WNOHANG", "WUNTRACED", "WCONTINUED", "WEXITED", "WNOWAIT"):
        assert value_of(name, wait.WAIT_OPTIONS) == getattr(os, name)


def test_address_families_and_socket_types_match_socket_module():
    checked = 0
    for name, value in sockets.ADDRESS_FAMILIES:
        if hasattr(socket, name):
            assert getattr(socket, name) == value, name
            checked += 1
    assert checked >= 30
    for name, value in sockets.SOCK_TYPES + sockets.SOCK_TYPE_FLAGS:
        if hasattr(socket, name):
            assert getattr(socket, name) == value, name


def test_file_types_match_stat_module():
    for name, value in file_types.FILE_TYPES:
        assert getattr(stat, name) == value
    assert stat.S_IFMT(0o177777) == file_types.S_IFMT


def test_signal_names_match_signal_module():
    assert len(SIGNALS) == 31
    for name, number in SIGNALS:
        assert signal.Signals[name] == number
    assert signal_name(signal.SIGCHLD) == "SIGCHLD"
    assert signal_name(6) == "SIGABRT"  # not the alias SIGIOT


@pytest.mark.parametrize(
    ("number", "name"),
    [
        (0, "0"),
        (9, "SIGKILL"),
        (17, "SIGCHLD"),
        (32, "SIGRTMIN"),
        (34, "SIGRT_2"),
        (64, "SIGRT_32"),
        (65, "65"),
    ],
)
def test_signal_name_golden(number, name):
    assert signal_name(number) == name


@pytest.mark.parametrize(
    ("number", "name"),
    [
        (1, "EPERM"),
        (-2, "ENOENT"),
        (errno.EAGAIN, "EAGAIN"),
        (512, "ERESTARTSYS"),
        (516, "ERESTART_RESTARTBLOCK"),
        (9999, "9999"),
    ],
)
def test_errno_name_golden(number, name):
    assert errno_name(number) == name


def test_errno_names_come_from_errno_module():
    for number, name in errno.errorcode.items():
        assert errno_name(number) == name


def test_capabilities_are_numbered_without_gaps():
    assert [number for _, number in capability.CAPABILITIES] == list(range(capability.CAP_LAST_CAP + 1))
    assert capability.capability_name(21) == "CAP_SYS_ADMIN"
    assert capability.capability_name(63) == "63"


# --- golden decoding tables --------------------------------------------------------------------------------------

FLAG_GOLDEN = [
    ("clone-namespaces", 0x20000 | 0x20000000, clone.CLONE_FLAGS, ["CLONE_NEWNS", "CLONE_NEWPID"]),
    ("clone-unknown-remainder", 0x20000 | 0x400000, clone.CLONE_FLAGS, ["CLONE_NEWNS", "0x400000"]),
    (
        "clone3-64-bit",
        0x200000000 | 0x100000000 | 0x80,
        clone.CLONE3_FLAGS,
        ["CLONE_NEWTIME", "CLONE_CLEAR_SIGHAND", "CLONE_INTO_CGROUP"],
    ),
    ("clone3-high-unknown", 1 << 40, clone.CLONE3_FLAGS, ["0x10000000000"]),
    (
        "unshare-runc",
        0x6C020000,
        clone.UNSHARE_FLAGS,
        ["CLONE_NEWNS", "CLONE_NEWUTS", "CLONE_NEWIPC", "CLONE_NEWPID", "CLONE_NEWNET"],
    ),
    ("unshare-strace-test", 0x81F8F07F, clone.UNSHARE_FLAGS, ["0x81f8f07f"]),
    ("zero-is-empty", 0, clone.CLONE_FLAGS, []),
    (
        "negative-register-is-u64",
        -1 & ((1 << 64) - 1),
        umount.UMOUNT_FLAGS,
        ["MNT_FORCE", "MNT_DETACH", "MNT_EXPIRE", "UMOUNT_NOFOLLOW", "0xfffffffffffffff0"],
    ),
    ("mount-proc", 0xE, mount.MOUNT_FLAGS, ["MS_NOSUID", "MS_NODEV", "MS_NOEXEC"]),
    ("mount-rslave", 0x80000 | 0x4000, mount.MOUNT_FLAGS, ["MS_REC", "MS_SLAVE"]),
    ("open-sync-is-one-name", 0o4010000, open_flags.OPEN_FLAGS, ["O_SYNC"]),
    ("open-dsync-alone", 0o10000, open_flags.OPEN_FLAGS, ["O_DSYNC"]),
    ("open-tmpfile", 0o20200000, open_flags.OPEN_FLAGS, ["O_TMPFILE"]),
    ("open-directory-alone", 0o200000, open_flags.OPEN_FLAGS, ["O_DIRECTORY"]),
    (
        "caps-set",
        (1 << 21) | (1 << 40) | (1 << 50),
        capability.CAPABILITY_BITS,
        ["CAP_SYS_ADMIN", "CAP_CHECKPOINT_RESTORE", "0x4000000000000"],
    ),
    ("execveat", 0x1000, at.EXECVEAT_FLAGS, ["AT_EMPTY_PATH"]),
]


@pytest.mark.parametrize(
    ("value", "table", "expected"), [c[1:] for c in FLAG_GOLDEN], ids=[c[0] for c in FLAG_GOLDEN]
)
def test_decode_flags_golden(value, table, expected):
    assert decode_flags(value, table) == expected
    assert encode_flags(expected, table) == value & ((1 << 64) - 1)


@pytest.mark.parametrize(
    ("value", "table", "unknown", "expected"),
    [
        (38, prctl.PR_OPTIONS, "dec", "PR_SET_NO_NEW_PRIVS"),
        (0x59616D61, prctl.PR_OPTIONS, "dec", "PR_SET_PTRACER"),
        (1000, prctl.PR_OPTIONS, "dec", "1000"),
        (0x7FFF0000, seccomp.SECCOMP_RET_ACTIONS, "dec", "SECCOMP_RET_ALLOW"),
        (0x20080522, capability.CAP_VERSIONS, "hex", "_LINUX_CAPABILITY_VERSION_3"),
        (0x1234, capability.CAP_VERSIONS, "hex", "0x1234"),
        (0o170000, file_types.FILE_TYPES, "oct", "0170000"),
        (6, mount_api.FSCONFIG_CMDS, "dec", "FSCONFIG_CMD_CREATE"),
    ],
)
def test_decode_value_golden(value, table, unknown, expected):
    assert decode_value(value, table, unknown=unknown) == expected


def test_tables_have_unique_names_and_values():
    for table in (
        clone.CLONE3_FLAGS,
        clone.UNSHARE_FLAGS,
        clone.SETNS_TYPES,
        mount.MOUNT_FLAGS,
        umount.UMOUNT_FLAGS,
        at.AT_FLAGS,
        open_flags.OPEN_FLAGS,
        prctl.PR_OPTIONS,
        capability.CAPABILITIES,
        seccomp.SECCOMP_RET_ACTIONS,
        sockets.ADDRESS_FAMILIES,
        mount_api.MOVE_MOUNT_FLAGS,
        mount_api.MOUNT_ATTR_FLAGS,
    ):
        names = [name for name, _ in table]
        values = [value for _, value in table]
        assert len(set(names)) == len(names)
        assert len(set(values)) == len(values)


def test_namespaces_of_flags():
    assert clone.namespaces_of(["CLONE_NEWNS", "CLONE_VM", "CLONE_NEWPID", "0x80000000"]) == ["mnt", "pid"]
    assert set(clone.NAMESPACE_OF_FLAG) == {name for name, _ in clone.SETNS_TYPES}
