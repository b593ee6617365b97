"""Decoders of the calls that give up or change privileges: capabilities, no_new_privs, seccomp, ids.

capset, prctl, seccomp, setuid, setgid, setreuid, setregid, setresuid, setresgid, setgroups.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tracer.decoders import render as r
from tracer.decoders.base import SyscallContext
from tracer.decoders.common import U32, read_int_array, read_string, read_struct, s32, unreadable
from tracer.events import Category
from tracer.xlat import prctl as pr
from tracer.xlat.capability import CAP_DATA_COUNT, CAP_VERSIONS, capability_name, capability_set
from tracer.xlat.flags import decode_flags, decode_value, value_of
from tracer.xlat.seccomp import (
    SECCOMP_FILTER_FLAGS,
    SECCOMP_GET_ACTION_AVAIL,
    SECCOMP_MODE_FILTER,
    SECCOMP_MODES,
    SECCOMP_OPERATIONS,
    SECCOMP_RET_ACTIONS,
    SECCOMP_SET_MODE_FILTER,
)
from tracer.xlat.signals import signal_name

#: The kernel's limit on supplementary groups (NGROUPS_MAX).
_NGROUPS_MAX = 65536


def decode_capset(ctx: SyscallContext) -> dict[str, Any]:
    """capset(header, data): header {u32 version, int pid}, then 1 (v1) or 2 (v2, v3) {effective, permitted,
    inheritable} u32 triples; with two, the second holds the upper 32 bits of each 64-bit set."""
    header = read_struct(ctx, ctx.args[0], "<Ii")
    if header is None:
        return {"header": None if ctx.args[0] == 0 else unreadable(ctx.args[0])}
    version, pid = header
    out: dict[str, Any] = {"version": decode_value(version, CAP_VERSIONS, unknown="hex"), "pid": pid}
    count = CAP_DATA_COUNT.get(version)
    words = read_struct(ctx, ctx.args[1], f"<{3 * count}I") if count else None
    if words is None:
        out["data"] = None if ctx.args[1] == 0 or not count else unreadable(ctx.args[1])
        return out
    for index, name in enumerate(("effective", "permitted", "inheritable")):
        high = words[3 + index] if count == 2 else 0
        out[name] = capability_set(words[index] | high << 32)
    return out


#: The most instructions the kernel accepts in one filter (BPF_MAXINSNS); a longer length is not read.
MAX_BPF_INSNS = 4096
#: struct sock_filter {u16 code; u8 jt; u8 jf; u32 k}: 8 bytes per instruction.
BPF_INSN_SIZE = 8


def read_fprog(ctx: SyscallContext, addr: int, out: dict[str, Any]) -> None:
    """struct sock_fprog {unsigned short len; struct sock_filter *filter;}: the filter's length and address,
    and the program itself (`program`, hex), read while the tracee is stopped so that tracer.bpf can evaluate
    it later."""
    prog = read_struct(ctx, addr, "<H6xQ")
    if prog is None:
        out["fprog"] = None if addr == 0 else unreadable(addr)
        return
    out["len"], out["filter"] = prog
    length, filter_addr = prog
    if not 0 < length <= MAX_BPF_INSNS:
        return  # the kernel refuses an empty or oversized program (EINVAL): nothing worth reading
    code = ctx.memory.read_bytes(filter_addr, length * BPF_INSN_SIZE) if filter_addr else None
    if code is None or len(code) < length * BPF_INSN_SIZE:
        out["program"] = unreadable(filter_addr)
    else:
        out["program"] = code.hex()


def decode_seccomp(ctx: SyscallContext) -> dict[str, Any]:
    operation = ctx.args[0] & U32
    out: dict[str, Any] = {
        "operation": decode_value(operation, SECCOMP_OPERATIONS),
        "flags": decode_flags(ctx.args[1] & U32, SECCOMP_FILTER_FLAGS),
    }
    if operation == SECCOMP_SET_MODE_FILTER:
        read_fprog(ctx, ctx.args[2], out)
    elif operation == SECCOMP_GET_ACTION_AVAIL:
        action = read_struct(ctx, ctx.args[2], "<I")
        out["action"] = (
            unreadable(ctx.args[2]) if action is None else decode_value(action[0], SECCOMP_RET_ACTIONS)
        )
    return out


def _prctl_seccomp(ctx: SyscallContext, out: dict[str, Any]) -> None:
    mode = ctx.args[1] & U32
    out["mode"] = decode_value(mode, SECCOMP_MODES)
    if mode == SECCOMP_MODE_FILTER:
        read_fprog(ctx, ctx.args[2], out)


def _prctl_cap_ambient(ctx: SyscallContext, out: dict[str, Any]) -> None:
    out["operation"] = decode_value(ctx.args[1] & U32, pr.PR_CAP_AMBIENT_OPS)
    if out["operation"] != "PR_CAP_AMBIENT_CLEAR_ALL":
        out["capability"] = capability_name(ctx.args[2] & U32)


#: How each option's second argument reads (other options keep their raw arguments arg2..arg5).
_PRCTL_ARGUMENTS: dict[int, Callable[[SyscallContext, dict[str, Any]], None]] = {
    pr.PR_SET_NAME: lambda ctx, out: out.update(name=read_string(ctx, ctx.args[1])),
    pr.PR_CAPBSET_DROP: lambda ctx, out: out.update(capability=capability_name(ctx.args[1] & U32)),
    pr.PR_CAPBSET_READ: lambda ctx, out: out.update(capability=capability_name(ctx.args[1] & U32)),
    pr.PR_SET_SECCOMP: _prctl_seccomp,
    pr.PR_CAP_AMBIENT: _prctl_cap_ambient,
    pr.PR_SET_PDEATHSIG: lambda ctx, out: out.update(signal=signal_name(s32(ctx.args[1]))),
    pr.PR_SET_NO_NEW_PRIVS: lambda ctx, out: out.update(value=ctx.args[1]),
    pr.PR_SET_KEEPCAPS: lambda ctx, out: out.update(value=ctx.args[1]),
    pr.PR_SET_CHILD_SUBREAPER: lambda ctx, out: out.update(value=ctx.args[1]),
    pr.PR_SET_DUMPABLE: lambda ctx, out: out.update(value=decode_value(ctx.args[1], pr.DUMPABLE_VALUES)),
    pr.PR_SET_SECUREBITS: lambda ctx, out: out.update(bits=decode_flags(ctx.args[1] & U32, pr.SECUREBITS)),
}


def _options(*names: str) -> frozenset[int]:
    return frozenset(value_of(name, pr.PR_OPTIONS) for name in names)


#: prctl options about privileges keep the spec's category; a few are about process identity and lifetime; any
#: other option (PR_SET_VMA, PR_SET_TIMERSLACK...) is refined to "other" so it stays out of the container view.
_PRIVILEGE_OPTIONS = _options(
    "PR_SET_NO_NEW_PRIVS",
    "PR_GET_NO_NEW_PRIVS",
    "PR_CAPBSET_DROP",
    "PR_CAPBSET_READ",
    "PR_SET_SECCOMP",
    "PR_GET_SECCOMP",
    "PR_SET_KEEPCAPS",
    "PR_GET_KEEPCAPS",
    "PR_SET_SECUREBITS",
    "PR_GET_SECUREBITS",
    "PR_CAP_AMBIENT",
    "PR_SET_DUMPABLE",
    "PR_GET_DUMPABLE",
)
#: Options whose answer is the return value or is written through arg2: nothing to decode at entry.
_ANSWER_ONLY_OPTIONS = _options(
    "PR_GET_NAME",
    "PR_GET_DUMPABLE",
    "PR_GET_KEEPCAPS",
    "PR_GET_NO_NEW_PRIVS",
    "PR_GET_SECCOMP",
    "PR_GET_SECUREBITS",
    "PR_GET_PDEATHSIG",
    "PR_GET_CHILD_SUBREAPER",
)
_PROCESS_OPTIONS = _options(
    "PR_SET_NAME",
    "PR_GET_NAME",
    "PR_SET_PDEATHSIG",
    "PR_GET_PDEATHSIG",
    "PR_SET_CHILD_SUBREAPER",
    "PR_GET_CHILD_SUBREAPER",
)


def decode_prctl(ctx: SyscallContext) -> dict[str, Any]:
    """prctl(option, arg2, ...): the option by name and its argument decoded when boxtrace knows its meaning."""
    option = ctx.args[0] & U32
    out: dict[str, Any] = {"option": decode_value(option, pr.PR_OPTIONS)}
    decode_argument = _PRCTL_ARGUMENTS.get(option)
    if decode_argument is not None:
        decode_argument(ctx, out)
    elif option not in _ANSWER_ONLY_OPTIONS:
        out["args"] = [hex(raw) for raw in ctx.args[1:5]]
    if option in _PROCESS_OPTIONS:
        ctx.category = Category.PROCESS
    elif option not in _PRIVILEGE_OPTIONS:
        ctx.category = Category.OTHER
    return out


def _ids(ctx: SyscallContext, *names: str) -> dict[str, int]:
    """uid_t/gid_t arguments, with -1 ("leave unchanged") shown as -1."""
    return {name: s32(raw) for name, raw in zip(names, ctx.args, strict=False)}


def decode_setuid(ctx: SyscallContext) -> dict[str, Any]:
    return _ids(ctx, "uid")


def decode_setgid(ctx: SyscallContext) -> dict[str, Any]:
    return _ids(ctx, "gid")


def decode_setreuid(ctx: SyscallContext) -> dict[str, Any]:
    return _ids(ctx, "ruid", "euid")


def decode_setregid(ctx: SyscallContext) -> dict[str, Any]:
    return _ids(ctx, "rgid", "egid")


def decode_setresuid(ctx: SyscallContext) -> dict[str, Any]:
    return _ids(ctx, "ruid", "euid", "suid")


def decode_setresgid(ctx: SyscallContext) -> dict[str, Any]:
    return _ids(ctx, "rgid", "egid", "sgid")


def decode_setgroups(ctx: SyscallContext) -> dict[str, Any]:
    """setgroups(size, list): size gid_t values (runc sets [] or the configured groups)."""
    size = s32(ctx.args[0])
    if not 0 <= size <= _NGROUPS_MAX:
        return {"size": size, "groups": None}
    groups = read_int_array(ctx, ctx.args[1], size, "I") if size else []
    return {"size": size, "groups": groups}


def _fprog(args: dict[str, Any]) -> str | None:
    """A seccomp filter program as {len=N, filter=0x...}."""
    if "len" in args:
        return "{" + f"len={args['len']}, filter={args['filter']:#x}" + "}"
    return r.value("fprog")(args)


def _raw(args: dict[str, Any]) -> str | None:
    raw = args.get("args")
    return ", ".join(raw) if isinstance(raw, list) else None


LAYOUTS: dict[str, r.Layout] = {
    "capset": (
        r.unless_present("header", r.struct(r.value("version"), r.value("pid"))),
        r.unless_present(
            "data",
            r.struct(
                r.flags("effective", label="effective"),
                r.flags("permitted", label="permitted"),
                r.flags("inheritable", label="inheritable"),
            ),
        ),
    ),
    "prctl": (
        r.value("option"),
        r.value("operation"),
        r.value("capability"),
        r.value("mode"),
        _fprog,
        r.value("signal"),
        r.value("value"),
        r.flags("bits"),
        r.string("name"),
        _raw,
    ),
    "seccomp": (r.value("operation"), r.flags("flags"), _fprog, r.value("action")),
    "setuid": (r.value("uid"),),
    "setgid": (r.value("gid"),),
    "setreuid": (r.value("ruid"), r.value("euid")),
    "setregid": (r.value("rgid"), r.value("egid")),
    "setresuid": (r.value("ruid"), r.value("euid"), r.value("suid")),
    "setresgid": (r.value("rgid"), r.value("egid"), r.value("sgid")),
    "setgroups": (r.value("size"), r.value("groups")),
}
