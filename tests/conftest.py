"""Shared fixtures: real recordings of the scenarios, traced once per test session.

Every recording a test reads is made here by boxtrace itself, on the real kernel: no test reads a hand-written
trace. Tests that need what a laptop may lack (root, ptrace, runc, a Docker engine) skip there with the reason,
and fail under CI=true (see tests/prereqs.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.prereqs import require


@pytest.fixture(scope="session")
def recordings_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("recordings")


@pytest.fixture(scope="session")
def scenario_recording(recordings_dir: Path) -> Callable[[str], Path]:
    """`scenario_recording("docker") -> Path`: trace the scenario for real (once per session) and return the file."""
    made: dict[str, Path] = {}

    def make(name: str) -> Path:
        if name in made:
            return made[name]
        require(os.geteuid() == 0, "tracing scenarios needs root")
        from scenarios import get_scenario
        from scenarios.runner import trace_scenario

        scenario = get_scenario(name)
        readiness = scenario.check()
        require(readiness.ready, f"scenario {name} is not ready here: {readiness.reason} {readiness.fix}")
        path = recordings_dir / f"{name}.jsonl"
        run = trace_scenario(scenario, output=path)
        assert run.result.status == "completed", f"tracing {name} ended {run.result.status}"
        made[name] = path
        return path

    return make
