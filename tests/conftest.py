"""Shared fixtures: real recordings of the scenarios, traced once per test session.

Every recording a test reads is made here by boxtrace itself, on the real kernel: no test reads a hand-written
trace. Tests that need what a laptop may lack (root, ptrace, runc, a Docker engine) skip there with the reason,
and fail under CI=true (see tests/prereqs.py).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.prereqs import require


@pytest.fixture(scope="session")
def recordings_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("recordings")


class ScenarioRecordings:
    """`scenario_recording("docker") -> Path`: trace the scenario for real (once per session) and return the file."""

    def __init__(self, recordings_dir: Path) -> None:
        self.recordings_dir = recordings_dir
        self.made: dict[str, Path] = {}
        #: What each traced scenario left that was not there before it (mounts, containers): tests assert it is
        #: empty.
        self.left_behind: dict[str, dict[str, list[str]]] = {}

    def __call__(self, name: str) -> Path:
        if name in self.made:
            return self.made[name]
        require(os.geteuid() == 0, "tracing scenarios needs root")
        from scenarios import get_scenario
        from scenarios.runner import trace_scenario

        scenario = get_scenario(name)
        readiness = scenario.check()
        require(readiness.ready, f"scenario {name} is not ready here: {readiness.reason} {readiness.fix}")
        path = self.recordings_dir / f"{name}.jsonl"
        before = scenario_state()
        run = trace_scenario(scenario, output=path)
        after = scenario_state()
        assert run.result.status == "completed", f"tracing {name} ended {run.result.status}"
        self.left_behind[name] = {key: sorted(set(after[key]) - set(before[key]))
                                  for key in after if set(after[key]) - set(before[key])}
        self.made[name] = path
        return path


@pytest.fixture(scope="session")
def scenario_recording(recordings_dir: Path) -> ScenarioRecordings:
    """`scenario_recording("docker") -> Path`: trace the scenario for real (once per session) and return the file."""
    return ScenarioRecordings(recordings_dir)


def _mounts() -> list[str]:
    with open("/proc/self/mountinfo") as table:
        return sorted(" ".join(line.split()[3:5]) for line in table)


def _lines(command: list[str]) -> list[str]:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        return []
    return sorted(result.stdout.split()) if result.returncode == 0 else []


def scenario_state() -> dict[str, list[str]]:
    """Mounts and the containers of every runtime boxtrace drives, to compare before and after a trace."""
    return {
        "mounts": _mounts(),
        "docker": _lines(["docker", "ps", "-aq"]),
        "runc": _lines(["runc", "--root", "/run/boxtrace/runc", "list", "-q"]),
        "ctr": _lines(["ctr", "-n", "boxtrace", "containers", "ls", "-q"]),
    }
