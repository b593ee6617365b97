"""Fault injection in launch mode: `boxtrace run` of runc and of an unshare container, killed, terminated or
interrupted at a random moment.

After each trial boxtrace has ended (no hang), and the machine holds nothing of the trial that boxtrace should have
removed: no traced process alive (the launched tree is killed: by EXITKILL when boxtrace is SIGKILLed, by its stop
path on SIGTERM/SIGINT), no stopped or traced thread, no new mount of the trial in the host's mount table, and a readable
recording (a prefix with a warning after SIGKILL, an end line after SIGTERM/SIGINT once boxtrace is running).

What a killed `runc run` cannot do is delete its own container: its state directory entry and its cgroup
directories stay, exactly as after `kill -9` of an untraced `runc run`. The test counts those trials, then checks
that the one documented cleanup, `runc delete --force ID`, leaves nothing (it fails if a container process were
still alive in the cgroup). docs/reliability.md has the counts.

    BOXTRACE_FAULT_TRIALS=N   trials per scenario and signal (default 10)
    BOXTRACE_FAULT_SEED=S     seed of the random moments (default 1)
"""

from __future__ import annotations

import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field

import pytest

from tests.prereqs import require
from tests.programs import system_state as state
from tests.programs.interrupt import reap_waker, report_summary, signal_mid_run
from tracer.recording import RecordingError, load_recording

pytestmark = [pytest.mark.root, pytest.mark.slow]

TRIALS = int(os.environ.get("BOXTRACE_FAULT_TRIALS", "10"))
SEED = int(os.environ.get("BOXTRACE_FAULT_SEED", "1"))
FAULTS = {"SIGKILL": signal.SIGKILL, "SIGTERM": signal.SIGTERM, "SIGINT": signal.SIGINT}
EARLIEST, LATEST = 0.05, 2.0
#: The container sleeps this long, so that most random moments fall inside the trace (about 1.5 s here).
CONTAINER_SLEEP = 1
BOXTRACE = [sys.executable, "-m", "boxtrace"]


@dataclass
class Outcome:
    """What one trial left behind. `problems` are boxtrace's failures; `cleaned` what a killed runc leaves."""

    delay: float
    exit_code: int | None = None
    problems: list[str] = field(default_factory=list)
    cleaned: list[str] = field(default_factory=list)
    recording: str = ""
    #: boxtrace's waker (`sleep 86400`) outlived it: also a problem (see test_sigkill_leaves_no_waker_behind).
    waker_leaked: bool = False


@pytest.fixture(scope="module")
def launch_env(tmp_path_factory: pytest.TempPathFactory) -> dict:
    require(os.geteuid() == 0, "launching containers needs root")
    from scenarios.rootfs import build_rootfs

    base = tmp_path_factory.mktemp("fault-launch")
    env = {"base": base, "rootfs": build_rootfs(), "runc_root": base / "runc-root"}
    if shutil.which("runc"):
        from scenarios.bundle import make_bundle

        env["bundle"] = make_bundle(base / "bundle", ["/bin/true"])
        env["runc"] = [shutil.which("runc"), "--root", str(env["runc_root"])]
    return env


def _command(scenario: str, env: dict, marker: str) -> list[str]:
    script = f"sleep {CONTAINER_SLEEP}; hostname box; echo ok; : {marker}"
    if scenario == "unshare":
        require(shutil.which("unshare") and shutil.which("chroot"), "util-linux unshare and chroot are needed")
        return [shutil.which("unshare"), "--fork", "--pid", "--mount-proc", "--uts", "--ipc", "--net", "--mount",
                shutil.which("chroot"), str(env["rootfs"]), "/bin/sh", "-c", script]
    require("runc" in env, "runc is not installed")
    from scenarios.bundle import make_bundle

    make_bundle(env["bundle"], ["/bin/sh", "-c", script], cgroups_path=f"/{marker}")
    return [*env["runc"], "run", "--bundle", str(env["bundle"]), marker]


def _runc_ids(env: dict) -> list[str]:
    if "runc" not in env:
        return []
    listed = subprocess.run([*env["runc"], "list", "--quiet"], capture_output=True, text=True, timeout=30)
    return listed.stdout.split()


def _survivors(marker: str) -> list[int]:
    found = set(state.pids_mentioning(marker))
    for directory in state.cgroup_dirs(marker):
        found.update(p for p in state.cgroup_procs(directory) if state.alive(p))
    return sorted(found)


def run_trial(scenario: str, fault: str, delay: float, env: dict, index: int) -> Outcome:
    marker = f"boxtrace-fault-{scenario}-{index}-{secrets.token_hex(3)}"
    command = _command(scenario, env, marker)
    out = env["base"] / f"{marker}.jsonl"
    mounts_before = state.mount_table()
    ticks = state.clock_ticks_now()
    outcome = Outcome(delay=round(delay, 3))
    run = signal_mid_run([*BOXTRACE, "run", "-o", str(out), "--", *command], delay, FAULTS[fault], env["base"],
                         timeout=30, cwd=env["base"])
    outcome.exit_code, outcome.waker_leaked = run.exit_code, run.waker_leaked
    outcome.problems.extend(run.problems)

    # The launched tree is gone: nothing alive mentions the marker, nothing is left in the container's cgroups.
    # (A killed process stays listed for a moment while the kernel tears it down: a pid namespace's init waits
    # for the rest of its namespace, so this waits a little before calling anything a survivor.)
    if not state.wait_until(lambda: not _survivors(marker), 10):
        survivors = _survivors(marker)
        outcome.problems.append(f"tracees still alive: {survivors}")
        for pid in survivors:
            os.kill(pid, signal.SIGKILL)
    stuck = state.stopped_since(ticks)
    if stuck:
        outcome.problems.append(f"stopped or traced threads: {stuck}")

    # The host's mount table holds nothing of this trial (runc mounts in the host namespace only under its state
    # directory and the bundle). Mounts of anything else come and go with other programs (Docker containers) and
    # are none of this test's business: never touched.
    ours = [line for line in state.mount_table() - mounts_before if str(env["base"]) in line or marker in line]
    if ours:
        outcome.problems.append(f"mounts left: {sorted(ours)}")
        for line in ours:
            subprocess.run(["umount", "-l", line.split()[4]], capture_output=True)

    # The recording: a readable prefix at worst.
    if out.exists() and out.stat().st_size:
        try:
            recording = load_recording(out)
            end = recording.end
            outcome.recording = end.status if end else "prefix"
            if fault != "SIGKILL" and end is None and recording.events:
                outcome.problems.append("boxtrace handled the signal but wrote no end line")
        except RecordingError as error:
            outcome.problems.append(f"unreadable recording: {error}")
    else:
        outcome.recording = "none (signal before the trace began)"

    # What a killed runc run leaves, and the one cleanup that must remove it.
    if marker in _runc_ids(env):
        outcome.cleaned.append("runc state")
        deleted = subprocess.run([*env["runc"], "delete", "--force", marker], capture_output=True, text=True,
                                 timeout=30)
        if deleted.returncode != 0 or marker in _runc_ids(env):
            outcome.problems.append(f"runc delete --force failed: {deleted.stderr.strip()}")
    leftover_cgroups = state.cgroup_dirs(marker)
    if leftover_cgroups:
        outcome.cleaned.append("cgroups")
        for directory in sorted(leftover_cgroups, key=lambda p: -len(p.parts)):
            try:
                directory.rmdir()
            except OSError as error:
                outcome.problems.append(f"cannot remove {directory}: {error.strerror}")
    out.unlink(missing_ok=True)
    return outcome


def summarize(scenario: str, fault: str, outcomes: list[Outcome]) -> dict:
    counts = Counter("problem" if o.problems else "needed runc delete" if o.cleaned else "intact" for o in outcomes)
    summary = {
        "mode": "launch",
        "scenario": scenario,
        "fault": fault,
        "trials": len(outcomes),
        "left intact": counts["intact"],
        "intact after runc delete": counts["needed runc delete"],
        "problems": counts["problem"],
        "waker left behind": sum(o.waker_leaked for o in outcomes),
        "recordings": dict(Counter(o.recording for o in outcomes)),
    }
    return report_summary(summary)


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("scenario", ["unshare", "runc"])
def test_fault_in_launch_mode(scenario: str, fault: str, launch_env: dict) -> None:
    rng = random.Random(f"{SEED}-{scenario}-{fault}")
    outcomes = [run_trial(scenario, fault, rng.uniform(EARLIEST, LATEST), launch_env, index)
                for index in range(TRIALS)]
    summarize(scenario, fault, outcomes)
    problems = [(o.delay, o.problems) for o in outcomes if o.problems]
    assert not problems, f"{len(problems)} of {TRIALS} trials left a problem: {problems}"


def test_sigkill_leaves_no_waker_behind(tmp_path) -> None:
    require(os.geteuid() == 0, "tracing needs root")
    proc = subprocess.Popen([*BOXTRACE, "run", "-o", str(tmp_path / "t.jsonl"), "--", "sleep", "30"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert state.wait_until(lambda: state.waker_of(proc.pid) is not None, 20), "boxtrace started no waker"
        waker = state.waker_of(proc.pid)
        proc.kill()
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    leaked = reap_waker(waker)
    assert not leaked, f"the waker {waker} outlived boxtrace"


@pytest.mark.parametrize("fault", ["SIGINT", "SIGTERM"])
def test_interrupted_trace_exits_like_a_shell(fault: str, tmp_path) -> None:
    """boxtrace kills what it launched when stopped; its exit status names the signal it got, not the SIGKILL."""
    require(os.geteuid() == 0, "tracing needs root")
    out = tmp_path / "t.jsonl"
    proc = subprocess.Popen([*BOXTRACE, "run", "-o", str(out), "--", "sleep", "30"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        def tracing() -> bool:  # the launched sleep runs, traced by boxtrace
            return any(state.cmdline(c) == b"sleep\x0030\x00" and state.status_of(c, "TracerPid") == proc.pid
                       for c in state.children_of(proc.pid))

        assert state.wait_until(tracing, 20), "boxtrace never got the command running"
        proc.send_signal(FAULTS[fault])
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + FAULTS[fault], stderr
    assert load_recording(out).end.status == "interrupted"
