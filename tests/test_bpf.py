"""The classic-BPF interpreter (tracer/bpf.py) and the seccomp summary built on it.

Table-driven tests on programs assembled here, boxtrace's own filter (tracer.seccomp_filter.build_program),
the decoder reading a program from memory, and a filter a real process installs under boxtrace.
"""

from __future__ import annotations

import errno
import json
import os
import sys

import pytest

from tests.decoder_fixtures import Arena, LocalMemory, SockFprog, make_ctx
from tests.prereqs import require
from tracer.bpf import (
    AUDIT_ARCH_I386,
    AUDIT_ARCH_X86_64,
    BPF_A,
    BPF_ABS,
    BPF_ADD,
    BPF_ALU,
    BPF_AND,
    BPF_B,
    BPF_DIV,
    BPF_IMM,
    BPF_IND,
    BPF_JA,
    BPF_JEQ,
    BPF_JGE,
    BPF_JGT,
    BPF_JMP,
    BPF_JSET,
    BPF_K,
    BPF_LD,
    BPF_LDX,
    BPF_LEN,
    BPF_LSH,
    BPF_MEM,
    BPF_MISC,
    BPF_MOD,
    BPF_MUL,
    BPF_NEG,
    BPF_OR,
    BPF_RET,
    BPF_RSH,
    BPF_ST,
    BPF_STX,
    BPF_SUB,
    BPF_TAX,
    BPF_TXA,
    BPF_W,
    BPF_X,
    BPF_XOR,
    BpfError,
    Instruction,
    SeccompData,
    assemble,
    check_program,
    constants,
    jump,
    parse_program,
    run_filter,
    stmt,
)
from tracer.decoders import SYSCALL_NRS_BY_NAME, decode_syscall
from tracer.insights.seccomp import NATIVE_SYSCALLS, Verdict, analyze_program, seccomp_filters, strongest
from tracer.seccomp_filter import SECCOMP_RET_ALLOW, SECCOMP_RET_TRACE, build_program

ALLOW = 0x7FFF0000
KILL_PROCESS = 0x80000000
ERRNO = 0x00050000
TRAP = 0x00030000
LOG = 0x7FFC0000
NR = {name: nr for name, nr in SYSCALL_NRS_BY_NAME.items()}


def ld_abs(offset: int) -> Instruction:
    return stmt(BPF_LD | BPF_W | BPF_ABS, offset)


def ret(value: int) -> Instruction:
    return stmt(BPF_RET | BPF_K, value)


def ret_a() -> Instruction:
    return stmt(BPF_RET | BPF_A)


def run(
    program: list[Instruction], nr: int = 0, args: tuple[int, ...] = (0,) * 6, arch: int = AUDIT_ARCH_X86_64
):
    check_program(program)
    return run_filter(program, SeccompData(nr=nr, arch=arch, args=args)).value


# One instruction family per row: (name, program, seccomp_data fields, expected return value).
CASES = [
    ("ret K", [ret(0x1234)], {}, 0x1234),
    ("ld nr", [ld_abs(0), ret_a()], {"nr": 59}, 59),
    ("ld arch", [ld_abs(4), ret_a()], {"arch": AUDIT_ARCH_I386}, AUDIT_ARCH_I386),
    ("ld ip low/high", [ld_abs(12), ret_a()], {"ip": 0x1122334455667788}, 0x11223344),
    ("ld arg0 low", [ld_abs(16), ret_a()], {"args": (0xAABBCCDD_11223344,)}, 0x11223344),
    ("ld arg0 high", [ld_abs(20), ret_a()], {"args": (0xAABBCCDD_11223344,)}, 0xAABBCCDD),
    ("ld arg5 low", [ld_abs(56), ret_a()], {"args": (0, 0, 0, 0, 0, 7)}, 7),
    ("ld len", [stmt(BPF_LD | BPF_W | BPF_LEN), ret_a()], {}, 64),
    ("ld imm", [stmt(BPF_LD | BPF_IMM, 42), ret_a()], {}, 42),
    ("ldx imm + txa", [stmt(BPF_LDX | BPF_IMM, 9), stmt(BPF_MISC | BPF_TXA), ret_a()], {}, 9),
    ("ldx len", [stmt(BPF_LDX | BPF_W | BPF_LEN), stmt(BPF_MISC | BPF_TXA), ret_a()], {}, 64),
    ("tax + ret X", [stmt(BPF_LD | BPF_IMM, 5), stmt(BPF_MISC | BPF_TAX), stmt(BPF_RET | BPF_X)], {}, 5),
    (
        "st + ld mem",
        [
            stmt(BPF_LD | BPF_IMM, 77),
            stmt(BPF_ST, 3),
            stmt(BPF_LD | BPF_IMM, 0),
            stmt(BPF_LD | BPF_MEM, 3),
            ret_a(),
        ],
        {},
        77,
    ),
    (
        "stx + ldx mem",
        [
            stmt(BPF_LDX | BPF_IMM, 66),
            stmt(BPF_STX, 15),
            stmt(BPF_LDX | BPF_MEM, 15),
            stmt(BPF_MISC | BPF_TXA),
            ret_a(),
        ],
        {},
        66,
    ),
    ("mem starts at 0", [stmt(BPF_LD | BPF_IMM, 1), stmt(BPF_LD | BPF_MEM, 0), ret_a()], {}, 0),
    ("add", [stmt(BPF_LD | BPF_IMM, 40), stmt(BPF_ALU | BPF_ADD | BPF_K, 2), ret_a()], {}, 42),
    ("add wraps", [stmt(BPF_LD | BPF_IMM, 0xFFFFFFFF), stmt(BPF_ALU | BPF_ADD | BPF_K, 2), ret_a()], {}, 1),
    ("sub wraps", [stmt(BPF_LD | BPF_IMM, 1), stmt(BPF_ALU | BPF_SUB | BPF_K, 2), ret_a()], {}, 0xFFFFFFFF),
    ("mul", [stmt(BPF_LD | BPF_IMM, 6), stmt(BPF_ALU | BPF_MUL | BPF_K, 7), ret_a()], {}, 42),
    ("div", [stmt(BPF_LD | BPF_IMM, 85), stmt(BPF_ALU | BPF_DIV | BPF_K, 2), ret_a()], {}, 42),
    ("mod", [stmt(BPF_LD | BPF_IMM, 47), stmt(BPF_ALU | BPF_MOD | BPF_K, 5), ret_a()], {}, 2),
    ("or", [stmt(BPF_LD | BPF_IMM, 0x40), stmt(BPF_ALU | BPF_OR | BPF_K, 0x2), ret_a()], {}, 0x42),
    ("and", [stmt(BPF_LD | BPF_IMM, 0xFF), stmt(BPF_ALU | BPF_AND | BPF_K, 0x0F), ret_a()], {}, 0x0F),
    ("xor", [stmt(BPF_LD | BPF_IMM, 0xFF), stmt(BPF_ALU | BPF_XOR | BPF_K, 0x0F), ret_a()], {}, 0xF0),
    ("lsh", [stmt(BPF_LD | BPF_IMM, 1), stmt(BPF_ALU | BPF_LSH | BPF_K, 31), ret_a()], {}, 0x80000000),
    ("rsh", [stmt(BPF_LD | BPF_IMM, 0x80000000), stmt(BPF_ALU | BPF_RSH | BPF_K, 31), ret_a()], {}, 1),
    ("neg", [stmt(BPF_LD | BPF_IMM, 1), stmt(BPF_ALU | BPF_NEG), ret_a()], {}, 0xFFFFFFFF),
    (
        "alu X",
        [stmt(BPF_LDX | BPF_IMM, 3), stmt(BPF_LD | BPF_IMM, 39), stmt(BPF_ALU | BPF_ADD | BPF_X), ret_a()],
        {},
        42,
    ),
    (
        "div by X = 0 returns 0",
        [stmt(BPF_LDX | BPF_IMM, 0), stmt(BPF_LD | BPF_IMM, 1), stmt(BPF_ALU | BPF_DIV | BPF_X), ret(ALLOW)],
        {},
        0,
    ),
    ("ja", [stmt(BPF_JMP | BPF_JA, 1), ret(1), ret(2)], {}, 2),
    ("jeq true", [ld_abs(0), jump(BPF_JMP | BPF_JEQ | BPF_K, 5, 0, 1), ret(1), ret(2)], {"nr": 5}, 1),
    ("jeq false", [ld_abs(0), jump(BPF_JMP | BPF_JEQ | BPF_K, 5, 0, 1), ret(1), ret(2)], {"nr": 6}, 2),
    ("jgt", [ld_abs(0), jump(BPF_JMP | BPF_JGT | BPF_K, 5, 0, 1), ret(1), ret(2)], {"nr": 6}, 1),
    (
        "jgt equal is false",
        [ld_abs(0), jump(BPF_JMP | BPF_JGT | BPF_K, 5, 0, 1), ret(1), ret(2)],
        {"nr": 5},
        2,
    ),
    ("jge equal", [ld_abs(0), jump(BPF_JMP | BPF_JGE | BPF_K, 5, 0, 1), ret(1), ret(2)], {"nr": 5}, 1),
    ("jgt is unsigned", [ld_abs(0), jump(BPF_JMP | BPF_JGT | BPF_K, 5, 0, 1), ret(1), ret(2)], {"nr": -1}, 1),
    (
        "jset",
        [ld_abs(16), jump(BPF_JMP | BPF_JSET | BPF_K, 0x10000000, 0, 1), ret(1), ret(2)],
        {"args": (0x10000000,)},
        1,
    ),
    (
        "jset clear",
        [ld_abs(16), jump(BPF_JMP | BPF_JSET | BPF_K, 0x10000000, 0, 1), ret(1), ret(2)],
        {"args": (0x20000000,)},
        2,
    ),
    (
        "jeq X",
        [stmt(BPF_LDX | BPF_IMM, 7), ld_abs(0), jump(BPF_JMP | BPF_JEQ | BPF_X, 0, 0, 1), ret(1), ret(2)],
        {"nr": 7},
        1,
    ),
]


@pytest.mark.parametrize(("name", "program", "fields", "expected"), CASES, ids=[c[0] for c in CASES])
def test_instructions(name, program, fields, expected):
    data = SeccompData(
        nr=fields.get("nr", 0),
        arch=fields.get("arch", AUDIT_ARCH_X86_64),
        instruction_pointer=fields.get("ip", 0),
        args=tuple(fields.get("args", ())) + (0,) * (6 - len(fields.get("args", ()))),
    )
    check_program(program)
    assert run_filter(program, data).value == expected


# Programs the kernel refuses (bpf_check_classic / seccomp_check_filter): (name, program, message fragment).
REFUSED = [
    ("empty", [], "1 to 4096"),
    ("no final ret", [ld_abs(0)], "last instruction"),
    ("byte load", [stmt(BPF_LD | BPF_B | BPF_ABS, 0), ret(0)], "32-bit"),
    ("indirect load", [stmt(BPF_LD | BPF_W | BPF_IND, 0), ret(0)], "no meaning"),
    ("unaligned", [ld_abs(2), ret(0)], "not aligned"),
    ("past seccomp_data", [ld_abs(64), ret(0)], "outside"),
    ("scratch word 16", [stmt(BPF_ST, 16), ret(0)], "scratch word"),
    ("division by constant 0", [stmt(BPF_ALU | BPF_DIV | BPF_K, 0), ret(0)], "division"),
    ("shift by 32", [stmt(BPF_ALU | BPF_LSH | BPF_K, 32), ret(0)], "shift"),
    ("jump past the end", [jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 5, 0), ret(0)], "past the end"),
    ("ja past the end", [stmt(BPF_JMP | BPF_JA, 1), ret(0)], "past the end"),
]


@pytest.mark.parametrize(("name", "program", "fragment"), REFUSED, ids=[c[0] for c in REFUSED])
def test_refused_programs(name, program, fragment):
    with pytest.raises(BpfError, match=fragment):
        check_program(program)


def test_assemble_and_parse_round_trip():
    program = [
        ld_abs(4),
        jump(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        ret(KILL_PROCESS),
        ret(ALLOW),
    ]
    raw = assemble(program)
    assert len(raw) == 8 * len(program)
    assert parse_program(raw) == program
    assert parse_program(raw.hex()) == program
    with pytest.raises(BpfError):
        parse_program(b"\0" * 7)
    with pytest.raises(BpfError):
        parse_program("zz")


def test_loaded_offsets_say_which_arguments_were_read():
    program = [ld_abs(0), jump(BPF_JMP | BPF_JEQ | BPF_K, 56, 0, 2), ld_abs(16), ret_a(), ret(ALLOW)]
    assert run_filter(program, SeccompData(56)).args_read == {0}
    assert run_filter(program, SeccompData(57)).args_read == frozenset()
    assert constants(program) == [56]


# boxtrace's own filter --------------------------------------------------------------------------------------


def test_boxtrace_filter_traces_exactly_the_container_syscalls():
    traced = {NR["clone"], NR["unshare"], NR["mount"], NR["pivot_root"], NR["execve"]}
    program = parse_program(build_program(traced))
    for nr in sorted(NATIVE_SYSCALLS):
        expected = SECCOMP_RET_TRACE if nr in traced else SECCOMP_RET_ALLOW
        assert run_filter(program, SeccompData(nr)).value == expected, NATIVE_SYSCALLS[nr]
    # Another ABI's numbers mean other calls: allowed untouched.
    assert run_filter(program, SeccompData(NR["clone"], arch=AUDIT_ARCH_I386)).value == SECCOMP_RET_ALLOW


def test_boxtrace_filter_traces_writes_only_above_stderr():
    program = parse_program(build_program({NR["mount"]}, write_nr=NR["write"]))
    for fd, expected in (
        (0, SECCOMP_RET_ALLOW),
        (1, SECCOMP_RET_ALLOW),
        (2, SECCOMP_RET_ALLOW),
        (3, SECCOMP_RET_TRACE),
        (100, SECCOMP_RET_TRACE),
        (-1, SECCOMP_RET_TRACE),
    ):
        value = run_filter(program, SeccompData(NR["write"], args=(fd & 0xFFFFFFFFFFFFFFFF,))).value
        assert value == expected, fd
    analysis = analyze_program(program)
    assert analysis.verdict("write").depends_on_arguments
    assert analysis.verdict("write").verdict.label == "ALLOW"  # fd 0
    assert [v.label for v in analysis.verdict("write").alternatives] == ["TRACE"]
    assert analysis.verdict("mount").verdict.label == "TRACE"
    assert analysis.default.label == "ALLOW"
    assert analysis.by_action == {"TRACE": ["mount"]}


def test_boxtrace_filter_traces_a_dup_onto_stdin_stdout_or_stderr():
    """`echo 0 0 1 > /proc/self/uid_map` writes to fd 1 after dup2(3, 1): the dup onto fd 0-2 must stop."""
    dups = (NR["dup2"], NR["dup3"])
    program = parse_program(build_program({NR["mount"]}, write_nr=NR["write"], dup_nrs=dups))
    for nr in dups:
        for newfd, expected in ((0, SECCOMP_RET_TRACE), (1, SECCOMP_RET_TRACE), (2, SECCOMP_RET_TRACE),
                                (3, SECCOMP_RET_ALLOW), (10, SECCOMP_RET_ALLOW)):
            value = run_filter(program, SeccompData(nr, args=(3, newfd))).value
            assert value == expected, (NATIVE_SYSCALLS[nr], newfd)
    # The write check and the plain list still hold beside it.
    assert run_filter(program, SeccompData(NR["write"], args=(1,))).value == SECCOMP_RET_ALLOW
    assert run_filter(program, SeccompData(NR["write"], args=(5,))).value == SECCOMP_RET_TRACE
    assert run_filter(program, SeccompData(NR["mount"])).value == SECCOMP_RET_TRACE
    assert run_filter(program, SeccompData(NR["dup"])).value == SECCOMP_RET_ALLOW
    assert run_filter(program, SeccompData(NR["dup2"], args=(3, 1), arch=AUDIT_ARCH_I386)).value == SECCOMP_RET_ALLOW


# The seccomp summary ----------------------------------------------------------------------------------------


def _deny_list_program(denied: dict[int, int], default: int = ALLOW) -> list[Instruction]:
    """A profile like libseccomp writes: check the arch, then one jeq per syscall number."""
    body: list[Instruction] = [
        ld_abs(4),
        jump(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        ret(KILL_PROCESS),
        ld_abs(0),
    ]
    for nr, action in denied.items():
        body += [jump(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1), ret(action)]
    body.append(ret(default))
    return body


def test_summary_of_a_deny_list():
    program = _deny_list_program(
        {
            NR["keyctl"]: ERRNO | errno.EPERM,
            NR["add_key"]: ERRNO | errno.EPERM,
            NR["reboot"]: KILL_PROCESS,
            NR["ptrace"]: TRAP,
            NR["acct"]: LOG,
            NR["bpf"]: ERRNO | errno.ENOSYS,
        }
    )
    analysis = analyze_program(assemble(program))
    assert analysis.instructions == len(program)
    assert analysis.default.label == "ALLOW"
    assert analysis.by_action == {
        "ERRNO(EPERM)": ["add_key", "keyctl"],
        "ERRNO(ENOSYS)": ["bpf"],
        "KILL_PROCESS": ["reboot"],
        "LOG": ["acct"],
        "TRAP": ["ptrace"],
    }
    assert analysis.denied == ["add_key", "bpf", "keyctl", "ptrace", "reboot"]
    assert len(analysis.allowed) == len(NATIVE_SYSCALLS) - 5  # LOG still lets the call run
    assert analysis.checks_arch and analysis.foreign_arch.label == "KILL_PROCESS"
    assert not analysis.depends_on_arguments


def test_argument_rule_is_found_and_marked():
    # clone is allowed unless arg0 has CLONE_NEWUSER (0x10000000): the shape of Docker's rule.
    clone = NR["clone"]
    program = [
        ld_abs(0),
        jump(BPF_JMP | BPF_JEQ | BPF_K, clone, 0, 4),
        ld_abs(16),
        jump(BPF_JMP | BPF_JSET | BPF_K, 0x10000000, 0, 1),
        ret(ERRNO | errno.EPERM),
        ret(ALLOW),
        ret(ALLOW),
    ]
    analysis = analyze_program(program)
    verdict = analysis.verdict("clone")
    assert verdict.verdict.label == "ALLOW"
    assert verdict.depends_on_arguments and verdict.args_checked == (0,)
    assert [v.label for v in verdict.alternatives] == ["ERRNO(EPERM)"]
    assert analysis.depends_on_arguments == ["clone"]
    assert any("depends on arguments: clone" in line for line in analysis.facts())


def test_default_and_newer_syscalls():
    # Deny everything not listed with EPERM, and numbers above the highest known with ENOSYS (runc's stub).
    highest = max(NATIVE_SYSCALLS)
    program = [
        ld_abs(0),
        jump(BPF_JMP | BPF_JGT | BPF_K, highest, 0, 1),
        ret(ERRNO | errno.ENOSYS),
        jump(BPF_JMP | BPF_JEQ | BPF_K, NR["read"], 0, 1),
        ret(ALLOW),
        ret(ERRNO | errno.EPERM),
    ]
    analysis = analyze_program(program)
    assert analysis.default.label == "ERRNO(EPERM)"
    assert analysis.newer.label == "ERRNO(ENOSYS)"
    assert analysis.allowed == ["read"]


@pytest.mark.parametrize(
    ("value", "label", "allows", "denies"),
    [
        (ALLOW, "ALLOW", True, False),
        (LOG, "LOG", True, False),
        (ERRNO | 1, "ERRNO(EPERM)", False, True),
        (ERRNO | 38, "ERRNO(ENOSYS)", False, True),
        (KILL_PROCESS, "KILL_PROCESS", False, True),
        (0, "KILL_THREAD", False, True),
        (TRAP, "TRAP", False, True),
        (0x7FF00000, "TRACE", False, False),
        (0x7FC00000, "USER_NOTIF", False, False),
        (0x12340000, "KILL_PROCESS", False, True),  # unknown actions kill, as in the kernel
    ],
)
def test_verdict_labels(value, label, allows, denies):
    verdict = Verdict(value)
    assert (verdict.label, verdict.allows, verdict.denies) == (label, allows, denies)


def test_stacked_filters_apply_the_strongest():
    assert strongest([Verdict(ALLOW), Verdict(ERRNO | 1), Verdict(0x7FF00000)]).label == "ERRNO(EPERM)"
    assert strongest([Verdict(ERRNO | 1), Verdict(KILL_PROCESS)]).label == "KILL_PROCESS"


# The decoder reads the program ------------------------------------------------------------------------------


def test_decoders_capture_the_program_bytes():
    memory, arena = LocalMemory(), Arena()
    try:
        raw = assemble(_deny_list_program({NR["keyctl"]: ERRNO | 1}))
        address = arena.buffer(raw)
        prog = arena.struct(SockFprog(len(raw) // 8, address))
        for name, args in (("seccomp", (1, 0, prog)), ("prctl", (22, 2, prog))):
            decoded, category = decode_syscall(make_ctx(name, args, memory))
            decoded = json.loads(json.dumps(decoded))
            assert category == "privileges"
            assert decoded["len"] == len(raw) // 8 and decoded["filter"] == address
            assert decoded["program"] == raw.hex()
        bad = arena.struct(SockFprog(4, 1))
        decoded, _ = decode_syscall(make_ctx("seccomp", (1, 0, bad), memory))
        assert decoded["program"] == "<unreadable: 0x1>"
    finally:
        memory.close()


# A real process installs a filter under boxtrace ------------------------------------------------------------

INSTALL_FILTER = r"""
import ctypes, os, sys
program = bytes.fromhex(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
class Prog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
buffer = ctypes.create_string_buffer(program, len(program))
prog = Prog(len(program) // 8, ctypes.addressof(buffer))
libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]
assert libc.prctl(38, 1, None, 0, 0) == 0  # PR_SET_NO_NEW_PRIVS
assert libc.prctl(22, 2, ctypes.addressof(prog), 0, 0) == 0, ctypes.get_errno()  # PR_SET_SECCOMP, FILTER
try:
    os.getppid()
except OSError:
    pass
"""


@pytest.mark.root
def test_real_filter_installed_under_the_tracer_is_read_and_evaluated():
    require(os.geteuid() == 0, "tracing needs root")
    from tracer.engine import TraceOptions
    from tracer.session import trace_to_list

    program = assemble(_deny_list_program({NR["getppid"]: ERRNO | errno.EPERM, NR["keyctl"]: KILL_PROCESS}))
    result, events = trace_to_list(
        [sys.executable, "-I", "-c", INSTALL_FILTER, program.hex()], options=TraceOptions()
    )
    assert result.exit_code == 0
    filters = seccomp_filters(events)
    assert len(filters) == 1
    analysis = filters[0].analysis
    assert filters[0].via == "prctl" and filters[0].length == len(program) // 8
    assert analysis is not None
    assert analysis.verdict("getppid").verdict.label == "ERRNO(EPERM)"
    assert analysis.verdict("keyctl").verdict.label == "KILL_PROCESS"
    assert analysis.verdict("read").verdict.allows
