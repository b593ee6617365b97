"""Decoders of the calls that set resource limits: setrlimit and prlimit64 (getrlimit reads only).

A runtime applies the bundle's `process.rlimits` with them: runc 1.1 calls prlimit64(init's pid, resource,
&new, NULL) from `runc create` once its init is ready (libcontainer/process_linux.go, setupRlimits), because the
init, once in a new user namespace, could no longer raise them. The new limit is read at entry; prlimit64's old
limit, written by the kernel, at exit. A limit is {"soft": n, "hard": n}, with RLIM_INFINITY spelled out.

setrlimit(2): raising the hard limit needs CAP_SYS_RESOURCE in the initial user namespace; without it the call
fails with EPERM. prlimit64 on another process also needs the caller's ids to match its target's (or
CAP_SYS_RESOURCE).
"""

from __future__ import annotations

from typing import Any

from tracer.decoders import render as r
from tracer.decoders.base import SyscallContext
from tracer.decoders.common import U32, read_struct, s32, unreadable
from tracer.xlat.flags import decode_value
from tracer.xlat.rlimit import RLIM_INFINITY, RLIMIT_RESOURCES

#: struct rlimit64 (and x86_64's struct rlimit): u64 rlim_cur, u64 rlim_max.
_RLIMIT = "<QQ"


def limit_value(value: int) -> int | str:
    return "RLIM_INFINITY" if value == RLIM_INFINITY else value


def read_rlimit(ctx: SyscallContext, addr: int) -> dict[str, Any] | str | None:
    """{"soft": .., "hard": ..} at addr; None for NULL; an <unreadable> marker when the memory cannot be read."""
    if addr == 0:
        return None
    pair = read_struct(ctx, addr, _RLIMIT)
    if pair is None:
        return unreadable(addr)
    return {"soft": limit_value(pair[0]), "hard": limit_value(pair[1])}


def decode_setrlimit(ctx: SyscallContext) -> dict[str, Any]:
    """setrlimit(resource, rlim)."""
    return {"resource": decode_value(ctx.args[0] & U32, RLIMIT_RESOURCES), "new": read_rlimit(ctx, ctx.args[1])}


def decode_prlimit64(ctx: SyscallContext) -> dict[str, Any]:
    """prlimit64(pid, resource, new_limit, old_limit): pid 0 is the caller; `old` is filled in at exit."""
    out: dict[str, Any] = {
        "pid": s32(ctx.args[0]),
        "resource": decode_value(ctx.args[1] & U32, RLIMIT_RESOURCES),
        "new": read_rlimit(ctx, ctx.args[2]),
    }
    out["old"] = None if ctx.args[3] == 0 else hex(ctx.args[3])
    return out


def decode_prlimit64_exit(ctx: SyscallContext, args: dict[str, Any], ret: int) -> None:
    if ret == 0 and ctx.args[3]:
        args["old"] = read_rlimit(ctx, ctx.args[3])


def _limit(key: str) -> r.Renderer:
    def render(args: dict[str, Any]) -> str | None:
        if key not in args:
            return None
        value = args[key]
        if isinstance(value, dict):
            return f"{{rlim_cur={value.get('soft')}, rlim_max={value.get('hard')}}}"
        return r.scalar(value)

    return render


LAYOUTS: dict[str, r.Layout] = {
    "setrlimit": (r.value("resource"), _limit("new")),
    "prlimit64": (r.value("pid"), r.value("resource"), _limit("new"), _limit("old")),
}
