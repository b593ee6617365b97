"""What the numbers were measured on: cores, kernel, CPU, memory, Python, tool versions, boxtrace commit."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def _first_line(argv: list[str]) -> str | None:
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (result.stdout or result.stderr).strip()
    return text.splitlines()[0] if text else None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_total_mb() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def boxtrace_commit() -> str:
    commit = _first_line(["git", "-C", str(REPO), "rev-parse", "--short=12", "HEAD"]) or "unknown"
    try:
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        dirty = ""
    return f"{commit}+dirty" if dirty else commit


def describe() -> dict[str, Any]:
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "kernel": platform.release(),
        "cpu": cpu_model(),
        "memory_mb": memory_total_mb(),
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "boxtrace_commit": boxtrace_commit(),
        "strace": _first_line(["strace", "-V"]),
        "runc": _first_line(["runc", "--version"]),
        "docker": _first_line(["docker", "--version"]),
        # The machine is shared: how busy it was when the run began (1, 5, 15-minute load averages).
        "loadavg": [round(load, 2) for load in os.getloadavg()],
    }
