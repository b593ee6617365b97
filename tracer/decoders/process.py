"""Decoders of the calls that run programs, end processes and signal or wait for them.

execve, execveat, exit, exit_group, kill, tkill, tgkill, wait4, umask.

Environment values are secrets until shown otherwise: each NAME=value becomes NAME=<redacted> unless the user
asked for values (ctx.show_env, the --show-env option).
"""

from __future__ import annotations

import os
from typing import Any

from tracer.decoders import render as r
from tracer.decoders.base import SyscallContext
from tracer.decoders.common import U32, add_dirfd, read_string, read_struct, s32, unreadable
from tracer.events import REDACTED
from tracer.xlat.at import EXECVEAT_FLAGS
from tracer.xlat.flags import decode_flags
from tracer.xlat.signals import signal_name
from tracer.xlat.wait import WAIT_OPTIONS


def redact_env(env: list[str]) -> list[str]:
    """NAME=value -> NAME=<redacted>; an entry without "=" is redacted whole."""
    return [f"{item.partition('=')[0]}={REDACTED}" if "=" in item else REDACTED for item in env]


def _string_array(ctx: SyscallContext, addr: int) -> list[str] | str | None:
    if addr == 0:
        return None
    items = ctx.memory.read_string_array(addr)
    return unreadable(addr) if items is None else items


def _exec(ctx: SyscallContext, out: dict[str, Any], path: int, argv: int, envp: int) -> dict[str, Any]:
    out["path"] = read_string(ctx, path, note="path")
    out["argv"] = _string_array(ctx, argv)
    env = _string_array(ctx, envp)
    out["env"] = redact_env(env) if isinstance(env, list) and not ctx.show_env else env
    return out


def decode_execve(ctx: SyscallContext) -> dict[str, Any]:
    """execve(path, argv, envp): read at entry, because a successful exec replaces this memory."""
    return _exec(ctx, {}, ctx.args[0], ctx.args[1], ctx.args[2])


def decode_execveat(ctx: SyscallContext) -> dict[str, Any]:
    """execveat(dirfd, path, argv, envp, flags); with AT_EMPTY_PATH and "" the program is dirfd itself (runc 1.1's
    O_PATH fd on a detached read-only bind mount of its own binary, or its sealed-memfd fallback)."""
    out: dict[str, Any] = {}
    add_dirfd(ctx, out, "dirfd", ctx.args[0])
    _exec(ctx, out, ctx.args[1], ctx.args[2], ctx.args[3])
    out["flags"] = decode_flags(ctx.args[4] & U32, EXECVEAT_FLAGS)
    return out


def decode_exit(ctx: SyscallContext) -> dict[str, Any]:
    """exit(status) ends the thread, exit_group(status) the whole process; only status & 0xff reaches the parent."""
    return {"status": s32(ctx.args[0])}


def decode_kill(ctx: SyscallContext) -> dict[str, Any]:
    """kill(pid, sig); pid is in the caller's pid namespace (0: its process group, -1: everyone it may signal)."""
    return {"pid": s32(ctx.args[0]), "signal": signal_name(s32(ctx.args[1]))}


def decode_tkill(ctx: SyscallContext) -> dict[str, Any]:
    return {"tid": s32(ctx.args[0]), "signal": signal_name(s32(ctx.args[1]))}


def decode_tgkill(ctx: SyscallContext) -> dict[str, Any]:
    return {"tgid": s32(ctx.args[0]), "tid": s32(ctx.args[1]), "signal": signal_name(s32(ctx.args[2]))}


def decode_wait4(ctx: SyscallContext) -> dict[str, Any]:
    """wait4(pid, wstatus, options, rusage). The status word is written by the kernel: at entry only its address
    is known (NULL or hex), decode_wait4_exit replaces it with what it says."""
    return {
        "pid": s32(ctx.args[0]),
        "status": hex(ctx.args[1]) if ctx.args[1] else None,
        "options": decode_flags(ctx.args[2] & U32, WAIT_OPTIONS),
    }


def wait_status(status: int) -> dict[str, Any]:
    """A wait status word as facts: {"exit_code": 0}, {"signal": "SIGKILL", "core_dumped": False}..."""
    if os.WIFEXITED(status):
        return {"exit_code": os.WEXITSTATUS(status)}
    if os.WIFSIGNALED(status):
        return {"signal": signal_name(os.WTERMSIG(status)), "core_dumped": os.WCOREDUMP(status)}
    if os.WIFSTOPPED(status):
        return {"stopped": signal_name(os.WSTOPSIG(status)), "event": status >> 16}
    if os.WIFCONTINUED(status):
        return {"continued": True}
    return {"raw": hex(status)}


def decode_wait4_exit(ctx: SyscallContext, args: dict[str, Any], ret: int) -> None:
    if ret > 0 and ctx.args[1]:
        word = read_struct(ctx, ctx.args[1], "<i")
        args["status"] = unreadable(ctx.args[1]) if word is None else wait_status(word[0] & 0xFFFF_FFFF)


def decode_umask(ctx: SyscallContext) -> dict[str, Any]:
    return {"mask": ctx.args[0] & 0o777}


def _status(args: dict[str, Any]) -> str | None:
    """[{WIFEXITED(s) && WEXITSTATUS(s) == 0}], as strace prints a wait status."""
    status = args.get("status")
    if not isinstance(status, dict):
        return r.value("status")(args)
    if "exit_code" in status:
        text = f"WIFEXITED(s) && WEXITSTATUS(s) == {status['exit_code']}"
    elif "signal" in status:
        text = f"WIFSIGNALED(s) && WTERMSIG(s) == {status['signal']}"
        text += " && WCOREDUMP(s)" if status.get("core_dumped") else ""
    elif "stopped" in status:
        text = f"WIFSTOPPED(s) && WSTOPSIG(s) == {status['stopped']}"
    else:
        text = "WIFCONTINUED(s)" if status.get("continued") else str(status.get("raw"))
    return "[{" + text + "}]"


LAYOUTS: dict[str, r.Layout] = {
    "execve": (r.string("path"), r.strings("argv"), r.environment("env")),
    "execveat": (
        r.fd("dirfd", "dirfd_path"),
        r.string("path"),
        r.strings("argv"),
        r.environment("env"),
        r.flags("flags"),
    ),
    "exit": (r.value("status"),),
    "exit_group": (r.value("status"),),
    "kill": (r.value("pid"), r.value("signal")),
    "tkill": (r.value("tid"), r.value("signal")),
    "tgkill": (r.value("tgid"), r.value("tid"), r.value("signal")),
    "wait4": (r.value("pid"), _status, r.flags("options")),
    "umask": (r.octal("mask"),),
}
