"""The tracer's own privileges: can it ptrace processes it did not start?"""

from __future__ import annotations

CAP_SYS_PTRACE = 19


def effective_capabilities(pid: int | str = "self") -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("CapEff:"):
                    return int(line.split()[1], 16)
    except (OSError, ValueError):
        pass
    return 0


def has_cap_sys_ptrace() -> bool:
    return bool(effective_capabilities() >> CAP_SYS_PTRACE & 1)
