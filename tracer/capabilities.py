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


#: /proc/PID/status field -> the name boxtrace records the set under.
STATUS_FIELDS = {"CapEff": "effective", "CapPrm": "permitted", "CapInh": "inheritable", "CapBnd": "bounding",
                 "CapAmb": "ambient"}


def capability_masks(status: dict[str, str]) -> dict[str, str] | None:
    """{"effective": "0x1fffffffff", ...} from parsed /proc/PID/status fields; None when the task is gone."""
    masks = {name: "0x" + status[key].lstrip("0").lower() if status[key].strip("0") else "0x0"
             for key, name in STATUS_FIELDS.items() if key in status}
    return masks or None


def has_cap_sys_ptrace() -> bool:
    return bool(effective_capabilities() >> CAP_SYS_PTRACE & 1)
