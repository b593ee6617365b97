"""CLI start-up: wall time of `boxtrace --help` and of a command's imports; `-X importtime` offenders."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.measure import Sample, run_timed
from bench.workloads import REPO, boxtrace_argv

#: What `boxtrace run` imports before its first ptrace call (cli, commands, the session with the engine, the
#: recorder, the deferred console sink); rich, the console view and the summary load once the tracee runs.
RUN_PATH_IMPORTS = "import boxtrace.cli, boxtrace.commands, boxtrace.console_sink, tracer.session, tracer.recording"

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


# The first ptrace call ---------------------------------------------------------------------------------------


def first_ptrace_commands(tmp: Path, docker_args: list[str] | None) -> dict[str, tuple[str, list[str]]]:
    """boxtrace's commands as `bench.first_ptrace` runs them: (label, arguments after `boxtrace`)."""
    commands = {
        "run": ("`boxtrace run -o FILE -- true`", ["run", "-o", str(tmp / "first-run.jsonl"), "--", "true"]),
        "demo-runc": (
            "`boxtrace demo runc --no-tui -o FILE`",
            ["demo", "runc", "--no-tui", "-o", str(tmp / "first-demo.jsonl")],
        ),
    }
    if docker_args is not None:
        commands["docker"] = (
            "`boxtrace docker -o FILE -- docker run ...`",
            ["docker", "-o", str(tmp / "first-docker.jsonl"), "--", *docker_args],
        )
    return commands


def first_ptrace(boxtrace_args: list[str], result: Path, timeout: float = 300) -> Sample:
    """One run of `bench.first_ptrace`: the whole command timed, with what it had imported at its first seize."""
    result.unlink(missing_ok=True)
    argv = [sys.executable, "-m", "bench.first_ptrace", "--result", str(result), "--spawned", repr(time.time()),
            "--", *boxtrace_args]  # fmt: skip
    sample = run_timed(argv, timeout=timeout, cwd=REPO)
    if result.exists():
        found: dict[str, Any] = json.loads(result.read_text())
        found.pop("module_names", None)
        sample.extra.update(found)
    return sample
