"""Every scenario traced for real, its milestones asserted from the recording, its cleanup checked."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from scenarios import SCENARIO_MODULES, get_scenario
from tests.conftest import ScenarioRecordings
from tests.prereqs import require
from tracer.events import Exec, Exit, ProcessStarted
from tracer.processes import ProcessTable
from tracer.recording import load_recording

pytestmark = [pytest.mark.root, pytest.mark.slow]

TRACEABLE = [name for name in SCENARIO_MODULES if name != "crun"]
RUNTIME_BASENAMES = {"runc", "exe", "containerd-shim-runc-v2", "python", "python3", "python3.11", "unshare",
                     "chroot", "ctr", "docker", "crun"}


def entrypoint_exec(table: ProcessTable) -> Exec | None:
    """The first exec whose program is not a runtime, in a pid namespace other than the host's."""
    host_pid_ns = table.host_namespaces().get("pid")
    for proc in table.history:
        for exec_ in proc.execs:
            if exec_.ns.get("pid") != host_pid_ns and os.path.basename(exec_.path) not in RUNTIME_BASENAMES:
                return exec_
    return None


@pytest.mark.parametrize("name", TRACEABLE)
def test_scenario_milestones(name: str, scenario_recording: ScenarioRecordings) -> None:
    require(os.geteuid() == 0, "tracing scenarios needs root")
    path = scenario_recording(name)
    recording = load_recording(path)
    assert recording.complete and not recording.warnings
    assert recording.header.scenario == name
    events = [recording.header, *recording.events]

    results = get_scenario(name).evaluate(events)
    missing = [r.milestone.id for r in results if r.milestone.required and not r.found]
    assert not missing, f"{name}: milestones not in the trace: {missing}"
    firsts = [r.seqs[0] for r in results if r.milestone.required]
    assert firsts == sorted(firsts), (
        f"{name}: milestones out of order {[(r.milestone.id, r.seqs[:1]) for r in results]}"
    )

    table = ProcessTable.from_events(events)
    entry = entrypoint_exec(table)
    assert entry is not None, f"{name}: no entrypoint exec inside a new pid namespace"
    assert entry.nspid[-1] == 1 or entry.ns["pid"] != table.host_namespaces()["pid"]
    assert recording.end is not None and recording.end.exit_code == 0

    born = {e.pid for e in recording.events if isinstance(e, ProcessStarted) and e.via != "attach"}
    ended = {e.pid for e in recording.events if isinstance(e, Exit)}
    assert born <= ended, f"{name}: processes without an exit: {sorted(born - ended)}"
    # Taken around the trace itself (in the fixture), whichever test made the recording first.
    left = scenario_recording.left_behind[name]
    assert not left, f"{name}: the scenario left something behind: {left}"


def test_docker_chain_and_daemons_untouched(scenario_recording: Callable[[str], Path]) -> None:
    require(os.geteuid() == 0, "tracing docker needs root")
    recording = load_recording(scenario_recording("docker"))
    table = ProcessTable.from_events([recording.header, *recording.events])
    attached = [p for p in table.history if p.via == "attach"]
    names = {os.path.basename(p.exe or "") for p in attached}
    assert {"dockerd", "containerd"} <= names

    def programs(proc) -> list[str]:
        return [os.path.basename(e.path) if e.argv[1:2] != ["init"] else "runc init" for e in proc.execs]

    chain = ["docker", "containerd-shim-runc-v2", "runc", "runc init"]
    seen = [prog for proc in table.history for prog in programs(proc)]
    for step in chain:
        assert step in seen, f"{step} missing from the docker trace"
    runc_args = [e.argv for p in table.history for e in p.execs if os.path.basename(e.path) == "runc"]
    verbs = {arg for argv in runc_args for arg in argv if arg in ("create", "start", "delete")}
    assert {"create", "start", "delete"} <= verbs
    entry = entrypoint_exec(table)
    assert entry is not None and entry.path == "/bin/sh"
    # The shim's runc has containerd as an ancestor; the entrypoint is a descendant of a shim.
    shim = next(p for p in table.history if any(os.path.basename(e.path) == "containerd-shim-runc-v2"
                                                for e in p.execs))
    containerd = next(p for p in attached if os.path.basename(p.exe or "") == "containerd")
    assert containerd.pid in table.ancestors(shim.pid)
    shims = {p.pid for p in table.history if any(os.path.basename(e.path) == "containerd-shim-runc-v2"
                                                 for e in p.execs)}
    assert shims & set(table.ancestors(entry.pid)), "the entrypoint does not descend from a shim"
    assert any(i.preexisting for i in table.ipc), "dockerd's connection to containerd is in the socket table"

    for daemon in attached:
        assert os.path.exists(f"/proc/{daemon.pid}"), "a daemon disappeared"
        for tid in os.listdir(f"/proc/{daemon.pid}/task"):
            with open(f"/proc/{daemon.pid}/task/{tid}/stat") as stat:
                assert stat.read().rsplit(")", 1)[1].split()[0] not in ("t", "T")
            with open(f"/proc/{daemon.pid}/task/{tid}/status") as status:
                assert "TracerPid:\t0\n" in status.read()
    again = subprocess.run(["docker", "run", "--rm", "--network", "none", "boxtrace/busybox", "true"],
                           capture_output=True, timeout=120)
    assert again.returncode == 0


def test_crun_refusal_is_explained() -> None:
    """crun 1.8 refuses this hybrid cgroup host: the scenario must say why and how to fix it, or run."""
    require(os.geteuid() == 0, "crun needs root")
    scenario = get_scenario("crun")
    readiness = scenario.check()
    if readiness.ready:
        from scenarios.runner import trace_scenario

        run = trace_scenario(scenario)
        missing = [r.milestone.id for r in scenario.evaluate(run.events) if r.milestone.required and not r.found]
        assert not missing
    else:
        assert "cgroup" in readiness.reason
        assert "unified" in readiness.fix or "runc" in readiness.fix
