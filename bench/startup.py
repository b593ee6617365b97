"""CLI start-up: wall time of `boxtrace --help` and of a command's imports; `-X importtime` offenders."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

from bench.measure import Sample, run_timed
from bench.workloads import boxtrace_argv

#: What `boxtrace run` imports before the first ptrace call (cli, commands, session/engine/decoders, console).
RUN_PATH_IMPORTS = (
    "import boxtrace.cli, boxtrace.commands, tracer.session, tracer.recording, viz.console, rich.console"
)

STARTUP_COMMANDS: dict[str, tuple[str, list[str]]] = {
    "python": ("`python -c pass` (the interpreter alone)", [sys.executable, "-c", "pass"]),
    "help": ("`boxtrace --help`", [*boxtrace_argv(), "--help"]),
    "import-cli": ("`python -c 'import boxtrace.cli'`", [sys.executable, "-c", "import boxtrace.cli"]),
    "import-run": ("imports of `boxtrace run` before tracing", [sys.executable, "-c", RUN_PATH_IMPORTS]),
}


def startup_runner() -> Callable[[str, int], Sample]:
    def run_one(key: str, index: int) -> Sample:
        return run_timed(STARTUP_COMMANDS[key][1], timeout=120)

    return run_one


@dataclass
class ImportCost:
    module: str
    self_us: int
    cumulative_us: int


def import_times(statement: str) -> list[ImportCost]:
    """Parse `python -X importtime -c STATEMENT` (stderr: `import time: self | cumulative | package`)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    costs: list[ImportCost] = []
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        parts = line.split(":", 1)[1].split("|", 2)
        if len(parts) != 3:
            continue
        try:
            # The package name keeps its indentation: nested imports are indented by two spaces a level.
            costs.append(ImportCost(parts[2].rstrip()[1:], int(parts[0]), int(parts[1])))
        except ValueError:
            continue
    return costs


def top_offenders(statement: str, count: int = 12) -> dict[str, list[dict]]:
    """The biggest imports by cumulative time (top-level packages only) and by self time."""
    costs = import_times(statement)
    top_level = [c for c in costs if not c.module.startswith(" ")]
    by_cumulative = sorted(costs, key=lambda c: c.cumulative_us, reverse=True)
    by_self = sorted(costs, key=lambda c: c.self_us, reverse=True)

    def rows(items: list[ImportCost]) -> list[dict]:
        return [
            {
                "module": c.module.strip(),
                "self_ms": round(c.self_us / 1000, 1),
                "cumulative_ms": round(c.cumulative_us / 1000, 1),
            }
            for c in items[:count]
        ]

    return {
        "statement": statement,
        "total_ms": round(sum(c.self_us for c in costs) / 1000, 1),
        "top_level": rows(sorted(top_level, key=lambda c: c.cumulative_us, reverse=True)),
        "cumulative": rows(by_cumulative),
        "self": rows(by_self),
    }
