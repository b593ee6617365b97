"""A small classic-BPF interpreter for seccomp filters, so a learner can ask "what does this filter do to
keyctl?".

A seccomp filter is a classic BPF program (struct sock_filter: u16 code, u8 jt, u8 jf, u32 k; 8 bytes each)
that the kernel runs on every system call over a `struct seccomp_data`:

    int nr; u32 arch; u64 instruction_pointer; u64 args[6];      (64 bytes, native byte order)

and whose 32-bit return value is the verdict (SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO | errno, ...). This module
runs such programs. It accepts what the kernel's seccomp_check_filter() accepts (kernel/seccomp.c): 32-bit
loads from seccomp_data at aligned offsets (BPF_LD|BPF_W|BPF_ABS), the data length (BPF_LEN), immediates, the
16 scratch words (BPF_MEM, BPF_ST, BPF_STX), ALU operations, forward jumps, BPF_RET and BPF_MISC (TAX, TXA).
Packet loads of other sizes or modes (BPF_H, BPF_B, BPF_IND, BPF_MSH) have no meaning over seccomp_data and
are refused, as the kernel refuses them.

Public API: `parse_program(bytes | hex str) -> list[Instruction]`, `assemble(instructions) -> bytes`,
`check_program(instructions)` (raises BpfError like the kernel's checks would refuse the program),
`run_filter(program, SeccompData) -> FilterRun` (the return value and which seccomp_data offsets were read),
the opcode constants, and the helpers `stmt(code, k)` / `jump(code, k, jt, jf)` to write programs in tests.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from tracer.xlat import seccomp as _seccomp

# Instruction classes (linux/bpf_common.h).
BPF_LD = 0x00
BPF_LDX = 0x01
BPF_ST = 0x02
BPF_STX = 0x03
BPF_ALU = 0x04
BPF_JMP = 0x05
BPF_RET = 0x06
BPF_MISC = 0x07

# ld/ldx fields: size and mode.
BPF_W = 0x00
BPF_H = 0x08
BPF_B = 0x10
BPF_IMM = 0x00
BPF_ABS = 0x20
BPF_IND = 0x40
BPF_MEM = 0x60
BPF_LEN = 0x80
BPF_MSH = 0xA0

# alu/jmp fields: operation and source.
BPF_ADD = 0x00
BPF_SUB = 0x10
BPF_MUL = 0x20
BPF_DIV = 0x30
BPF_OR = 0x40
BPF_AND = 0x50
BPF_LSH = 0x60
BPF_RSH = 0x70
BPF_NEG = 0x80
BPF_MOD = 0x90
BPF_XOR = 0xA0
BPF_JA = 0x00
BPF_JEQ = 0x10
BPF_JGT = 0x20
BPF_JGE = 0x30
BPF_JSET = 0x40
BPF_K = 0x00
BPF_X = 0x08

# ret field: the return value's source (BPF_K and BPF_X above, or A).
BPF_A = 0x10

# misc field.
BPF_TAX = 0x00
BPF_TXA = 0x80

#: Scratch memory words (BPF_MEMWORDS) and the most instructions one filter may hold (BPF_MAXINSNS).
BPF_MEMWORDS = 16
BPF_MAXINSNS = 4096

#: struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6].
SECCOMP_DATA = struct.Struct("<iIQ6Q")
SECCOMP_DATA_SIZE = SECCOMP_DATA.size  # 64
OFFSET_NR = 0
OFFSET_ARCH = 4
OFFSET_IP = 8
OFFSET_ARGS = 16

AUDIT_ARCH_X86_64 = _seccomp.AUDIT_ARCH_X86_64
AUDIT_ARCH_I386 = _seccomp.AUDIT_ARCH_I386

_U32 = 0xFFFFFFFF
_INSN = struct.Struct("<HBBI")


class BpfError(ValueError):
    """A program the kernel would refuse (or bytes that are not a program); the message says which
    instruction."""


@dataclass(frozen=True, slots=True)
class Instruction:
    """One struct sock_filter."""

    code: int
    jt: int = 0
    jf: int = 0
    k: int = 0

    @property
    def cls(self) -> int:
        return self.code & 0x07


def stmt(code: int, k: int = 0) -> Instruction:
    """BPF_STMT(code, k): an instruction that does not jump."""
    return Instruction(code, 0, 0, k & _U32)


def jump(code: int, k: int, jt: int, jf: int) -> Instruction:
    """BPF_JUMP(code, k, jt, jf): a conditional jump; jt/jf count instructions to skip."""
    return Instruction(code, jt, jf, k & _U32)


def assemble(program: Iterable[Instruction]) -> bytes:
    """The bytes the kernel reads: 8 per instruction, native (little-endian) order."""
    return b"".join(_INSN.pack(i.code, i.jt, i.jf, i.k) for i in program)


def parse_program(data: bytes | str) -> list[Instruction]:
    """Instructions from the raw bytes of a filter (or their hex string, as recordings store them)."""
    if isinstance(data, str):
        try:
            data = bytes.fromhex(data)
        except ValueError as error:
            raise BpfError(f"not a hex-encoded BPF program: {error}") from None
    if len(data) % _INSN.size:
        raise BpfError(f"a BPF program is a multiple of 8 bytes, not {len(data)}")
    return [Instruction(*_INSN.unpack_from(data, offset)) for offset in range(0, len(data), _INSN.size)]


def check_program(program: Sequence[Instruction]) -> None:
    """Refuse what the kernel refuses (bpf_check_classic + seccomp_check_filter), naming the instruction."""
    if not 0 < len(program) <= BPF_MAXINSNS:
        raise BpfError(f"a filter holds 1 to {BPF_MAXINSNS} instructions, not {len(program)}")
    for pc, insn in enumerate(program):
        code, cls = insn.code, insn.cls
        where = f"instruction {pc} (code {code:#06x})"
        if cls in (BPF_LD, BPF_LDX):
            mode, size = code & 0xE0, code & 0x18
            if mode == BPF_ABS and cls == BPF_LD:
                if size != BPF_W:
                    raise BpfError(f"{where}: seccomp allows only 32-bit loads")
                if insn.k % 4 or insn.k >= SECCOMP_DATA_SIZE:
                    raise BpfError(f"{where}: offset {insn.k} is outside struct seccomp_data or not aligned")
            elif mode == BPF_MEM:
                if insn.k >= BPF_MEMWORDS:
                    raise BpfError(f"{where}: scratch word {insn.k} does not exist")
            elif mode not in (BPF_IMM, BPF_LEN) or size != BPF_W:
                raise BpfError(f"{where}: this load has no meaning over seccomp_data")
        elif cls in (BPF_ST, BPF_STX):
            if insn.k >= BPF_MEMWORDS:
                raise BpfError(f"{where}: scratch word {insn.k} does not exist")
        elif cls == BPF_ALU:
            op = code & 0xF0
            if op not in _ALU_OPS and op != BPF_NEG:
                raise BpfError(f"{where}: unknown ALU operation")
            if code & BPF_X == BPF_K and op in (BPF_DIV, BPF_MOD) and insn.k == 0:
                raise BpfError(f"{where}: division by the constant 0")
            if code & BPF_X == BPF_K and op in (BPF_LSH, BPF_RSH) and insn.k >= 32:
                raise BpfError(f"{where}: shift by {insn.k}")
        elif cls == BPF_JMP:
            op = code & 0xF0
            if op == BPF_JA:
                if pc + 1 + insn.k >= len(program):
                    raise BpfError(f"{where}: jumps past the end")
            elif op in _JUMP_TESTS:
                if pc + 1 + max(insn.jt, insn.jf) >= len(program):
                    raise BpfError(f"{where}: jumps past the end")
            else:
                raise BpfError(f"{where}: unknown jump")
        elif cls == BPF_RET:
            if code & 0x18 not in (BPF_K, BPF_X, BPF_A):
                raise BpfError(f"{where}: unknown return source")
        elif cls == BPF_MISC:
            if code & 0xF8 not in (BPF_TAX, BPF_TXA):
                raise BpfError(f"{where}: unknown misc operation")
    if program[-1].cls != BPF_RET:
        raise BpfError("the last instruction must return a verdict")


@dataclass(frozen=True, slots=True)
class SeccompData:
    """What the kernel hands a filter for one system call."""

    nr: int
    arch: int = AUDIT_ARCH_X86_64
    instruction_pointer: int = 0
    args: tuple[int, ...] = (0, 0, 0, 0, 0, 0)

    def pack(self) -> bytes:
        args = tuple(a & 0xFFFFFFFFFFFFFFFF for a in (*self.args, 0, 0, 0, 0, 0, 0)[:6])
        nr = self.nr & _U32
        return SECCOMP_DATA.pack(
            nr - (1 << 32) if nr & 0x80000000 else nr,
            self.arch & _U32,
            self.instruction_pointer & 0xFFFFFFFFFFFFFFFF,
            *args,
        )


@dataclass(frozen=True, slots=True)
class FilterRun:
    """The verdict of one run and what it looked at."""

    value: int
    #: Byte offsets into seccomp_data the run loaded (0 nr, 4 arch, 8/12 ip, 16 + 8*i (+4) args[i]).
    loaded: frozenset[int] = field(default_factory=frozenset)
    steps: int = 0

    @property
    def args_read(self) -> frozenset[int]:
        """Indexes of the syscall arguments this run read."""
        return frozenset((offset - OFFSET_ARGS) // 8 for offset in self.loaded if offset >= OFFSET_ARGS)


_ALU_OPS: dict[int, Callable[[int, int], int]] = {
    BPF_ADD: lambda a, b: a + b,
    BPF_SUB: lambda a, b: a - b,
    BPF_MUL: lambda a, b: a * b,
    BPF_DIV: lambda a, b: a // b,
    BPF_OR: lambda a, b: a | b,
    BPF_AND: lambda a, b: a & b,
    BPF_LSH: lambda a, b: a << (b & 31),
    BPF_RSH: lambda a, b: a >> (b & 31),
    BPF_MOD: lambda a, b: a % b,
    BPF_XOR: lambda a, b: a ^ b,
}

_JUMP_TESTS: dict[int, Callable[[int, int], bool]] = {
    BPF_JEQ: lambda a, b: a == b,
    BPF_JGT: lambda a, b: a > b,
    BPF_JGE: lambda a, b: a >= b,
    BPF_JSET: lambda a, b: bool(a & b),
}


def run_filter(program: Sequence[Instruction], data: SeccompData | bytes) -> FilterRun:
    """Run a (checked) program over one seccomp_data and return its 32-bit verdict.

    Jumps only go forward, so every run ends. As in the kernel, dividing by an X of 0 makes the program return
    0 (which for seccomp is SECCOMP_RET_KILL_THREAD).
    """
    raw = data.pack() if isinstance(data, SeccompData) else bytes(data)
    if len(raw) != SECCOMP_DATA_SIZE:
        raise BpfError(f"seccomp_data is {SECCOMP_DATA_SIZE} bytes, not {len(raw)}")
    a = x = 0
    mem = [0] * BPF_MEMWORDS
    loaded: set[int] = set()
    pc = steps = 0
    end = len(program)
    while pc < end:
        insn = program[pc]
        code, k = insn.code, insn.k
        cls = code & 0x07
        steps += 1
        pc += 1
        if cls == BPF_LD or cls == BPF_LDX:
            mode = code & 0xE0
            if mode == BPF_ABS:
                if code & 0x18 != BPF_W or k % 4 or k >= SECCOMP_DATA_SIZE:
                    raise BpfError(f"instruction {pc - 1}: bad load at offset {k}")
                value = int.from_bytes(raw[k : k + 4], "little")
                loaded.add(k)
            elif mode == BPF_IMM:
                value = k
            elif mode == BPF_MEM:
                value = mem[k]
            elif mode == BPF_LEN:
                value = SECCOMP_DATA_SIZE
            else:
                raise BpfError(f"instruction {pc - 1}: load mode {mode:#x} has no meaning over seccomp_data")
            if cls == BPF_LD:
                a = value
            else:
                x = value
        elif cls == BPF_ST:
            mem[k] = a
        elif cls == BPF_STX:
            mem[k] = x
        elif cls == BPF_ALU:
            op = code & 0xF0
            if op == BPF_NEG:
                a = -a & _U32
                continue
            operand = x if code & BPF_X else k
            if op in (BPF_DIV, BPF_MOD) and operand == 0:
                return FilterRun(0, frozenset(loaded), steps)
            a = _ALU_OPS[op](a, operand) & _U32
        elif cls == BPF_JMP:
            op = code & 0xF0
            if op == BPF_JA:
                pc += k
                continue
            operand = x if code & BPF_X else k
            pc += insn.jt if _JUMP_TESTS[op](a, operand) else insn.jf
        elif cls == BPF_RET:
            source = code & 0x18
            value = a if source == BPF_A else x if source == BPF_X else k
            return FilterRun(value & _U32, frozenset(loaded), steps)
        else:  # BPF_MISC
            if code & 0xF8 == BPF_TXA:
                a = x
            else:
                x = a
    raise BpfError("the program ran off its end without returning a verdict")


def constants(program: Sequence[Instruction]) -> list[int]:
    """The values the program compares with or masks by, in order of first use: good argument values to
    try."""
    seen: dict[int, None] = {}
    for insn in program:
        cls, op = insn.cls, insn.code & 0xF0
        if cls == BPF_JMP and op != BPF_JA and not insn.code & BPF_X:
            seen.setdefault(insn.k)
            if op in (BPF_JGT, BPF_JGE):
                seen.setdefault((insn.k + 1) & _U32)
                seen.setdefault((insn.k - 1) & _U32)
        elif cls == BPF_ALU and op == BPF_AND and not insn.code & BPF_X:
            seen.setdefault(insn.k)
    return list(seen)
