"""Fault injection in launch mode: `boxtrace run` of runc and of an unshare container, killed, terminated or
interrupted at a random moment while it traces.

Each trial waits until the trace is live (the launched command traced, the recording begun), then a random moment
inside the measured length of the trace, and sends the signal only if boxtrace is still tracing then (see
tests/programs/interrupt.py). A trial whose moment came after the trace had ended is a miss: it is not counted, and
trials go on until TRIALS of them hit (at most 3 x TRIALS attempts, else the test fails).

A hit must show the interruption: SIGKILL, boxtrace exits -9 and leaves a recording prefix without an end line;
SIGTERM/SIGINT, it exits 128+N and the recording ends "interrupted". In launch mode the first SIGTERM/SIGINT is
passed on to the launched command, which gets Tracer.STOP_GRACE (3 s) to end on its own; the container here ends
within it (its init ignores the signal, its sleep runs out), so the command may finish cleanly and the trial must
still show 128+N and "interrupted".

After every trial boxtrace has ended (no hang), and the machine holds nothing of the trial that should have gone:
no traced process alive (the launched tree ends on its own within the grace, or is killed: by EXITKILL when
boxtrace is SIGKILLed, by its stop path after the grace), no stopped or traced thread, no new mount of the trial in
the host's mount table, no waker left, no traceback, a readable recording.

runc's state and cgroups: after SIGTERM/SIGINT `runc run` gets the signal and its grace, and deletes its container
and cgroups itself; anything left is a problem, as it is after a trial that missed. After SIGKILL of boxtrace,
EXITKILL kills `runc run`, which then cannot delete its container: its state directory entry and its cgroup
directories stay, exactly as after `kill -9` of an untraced `runc run`. Those trials are counted apart ("needed runc
delete"), and the test checks that the one documented cleanup, `runc delete --force ID`, leaves nothing (it fails
if a container process were still alive in the cgroup). docs/reliability.md has the counts.

    BOXTRACE_FAULT_TRIALS=N   trials that hit, per scenario and signal (default 10)
    BOXTRACE_FAULT_SEED=S     seed of the random moments (default 1)
    BOXTRACE_FAULT_REPORT=F   append each summary (JSON) to F
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
from pathlib import Path
from typing import Any

import pytest

from tests.prereqs import require
from tests.programs import system_state as state
from tests.programs.interrupt import interruption_problems, reap_waker, report_summary, signal_mid_run
from tracer.recording import RecordingError, load_recording

pytestmark = [pytest.mark.root, pytest.mark.slow]

TRIALS = int(os.environ.get("BOXTRACE_FAULT_TRIALS", "10"))
SEED = int(os.environ.get("BOXTRACE_FAULT_SEED", "1"))
FAULTS = {"SIGKILL": signal.SIGKILL, "SIGTERM": signal.SIGTERM, "SIGINT": signal.SIGINT}
#: The container sleeps this long; the trace is then live for about 1.0 s (unshare) to 1.1 s (runc) on the
#: development machine, from the moment it is seen live to the launched command's exit. It must end well within
#: Tracer.STOP_GRACE after a SIGTERM/SIGINT, or the grace's kill would leave runc's state behind.
CONTAINER_SLEEP = 1
#: The random moment, in seconds after the trace is seen live: the whole live window, so that the end of the
#: container (runc deleting it) is hit too; the few moments past the end are misses, retried.
LATEST = 1.05
BOXTRACE = [sys.executable, "-m", "boxtrace"]


@dataclass
class Outcome:
    """What one trial left behind. `problems` are boxtrace's failures; `cleaned` what a SIGKILLed runc leaves."""

    moment: float
    #: The signal hit a live trace (see tests/programs/interrupt.py); a miss sent no signal and is retried.
    hit: bool = False
    exit_code: int | None = None
    problems: list[str] = field(default_factory=list)
    cleaned: list[str] = field(default_factory=list)
    recording: str = ""
    #: The launched command's exit status in the recording's end line (0: it ended on its own within the grace).
    command_exit: int | None = None
    #: boxtrace's waker (`sleep 86400`) outlived it: also a problem (see test_sigkill_leaves_no_waker_behind).
    waker_leaked: bool = False


@pytest.fixture(scope="module")
def launch_env(tmp_path_factory: pytest.TempPathFactory) -> dict:
    require(os.geteuid() == 0, "launching containers needs root")
    from scenarios.rootfs import build_rootfs

    base = tmp_path_factory.mktemp("fault-launch")
    env: dict[str, Any] = {"base": base, "rootfs": build_rootfs(), "runc_root": base / "runc-root"}
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


def run_trial(scenario: str, fault: str, moment: float, env: dict, index: int) -> Outcome:
    marker = f"boxtrace-fault-{scenario}-{index}-{secrets.token_hex(3)}"
    command = _command(scenario, env, marker)
    out = env["base"] / f"{marker}.jsonl"
    mounts_before = state.mount_table()
    ticks = state.clock_ticks_now()
    outcome = Outcome(moment=round(moment, 3))
    run = signal_mid_run([*BOXTRACE, "run", "-o", str(out), "--", *command], moment, FAULTS[fault], out,
                         env["base"], timeout=30, cwd=env["base"])
    outcome.hit, outcome.exit_code, outcome.waker_leaked = run.hit, run.exit_code, run.waker_leaked
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

    # The recording: readable, and showing the interruption when the signal hit.
    outcome.recording, outcome.command_exit = _read_recording(out, outcome.problems)
    if run.hit:
        outcome.problems.extend(interruption_problems(FAULTS[fault], run.exit_code, outcome.recording))

    # runc's state and cgroups. Only a `runc run` killed by SIGKILL (EXITKILL after boxtrace was SIGKILLed)
    # leaves them, as `kill -9` of an untraced runc does; after SIGTERM/SIGINT runc got the signal and the grace
    # and must have deleted its container itself, and a trial that missed ran runc to its end.
    killed_runc = run.hit and fault == "SIGKILL"
    left = []
    if marker in _runc_ids(env):
        left.append("runc state")
        deleted = subprocess.run([*env["runc"], "delete", "--force", marker], capture_output=True, text=True,
                                 timeout=30)
        if deleted.returncode != 0 or marker in _runc_ids(env):
            outcome.problems.append(f"runc delete --force failed: {deleted.stderr.strip()}")
    leftover_cgroups = state.cgroup_dirs(marker)
    if leftover_cgroups:
        left.append("cgroups")
        for directory in sorted(leftover_cgroups, key=lambda p: -len(p.parts)):
            try:
                directory.rmdir()
            except OSError as error:
                outcome.problems.append(f"cannot remove {directory}: {error.strerror}")
    if killed_runc:
        outcome.cleaned.extend(left)
    elif left:
        what = f"after {fault}" if run.hit else "after a run that was not interrupted"
        outcome.problems.append(f"{' and '.join(left)} left {what}: runc should have deleted its container")
    out.unlink(missing_ok=True)
    return outcome


def _read_recording(path: Path, problems: list[str]) -> tuple[str, int | None]:
    """The recording's end status ("prefix" without an end line) and the launched command's exit status in it;
    an unreadable recording is a problem."""
    if not (path.exists() and path.stat().st_size):
        return "none", None
    try:
        end = load_recording(path).end
    except RecordingError as error:
        problems.append(f"unreadable recording: {error}")
        return "unreadable", None
    return (end.status, end.exit_code) if end else ("prefix", None)


def summarize(scenario: str, fault: str, outcomes: list[Outcome]) -> dict:
    hits = [o for o in outcomes if o.hit]
    counts = Counter("problem" if o.problems else "needed runc delete" if o.cleaned else "intact" for o in hits)
    summary = {
        "mode": "launch",
        "scenario": scenario,
        "fault": fault,
        "attempts": len(outcomes),
        "hits": len(hits),
        "misses retried": len(outcomes) - len(hits),
        "left intact": counts["intact"],
        "intact after runc delete": counts["needed runc delete"],
        "problems": counts["problem"],
        "problems in misses": sum(bool(o.problems) for o in outcomes if not o.hit),
        "waker left behind": sum(o.waker_leaked for o in outcomes),
        "recordings": dict(Counter(o.recording for o in hits)),
        "boxtrace exit codes": dict(Counter(str(o.exit_code) for o in hits)),
        "launched command's exit codes": dict(Counter(str(o.command_exit) for o in hits)),
    }
    return report_summary(summary)


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("scenario", ["unshare", "runc"])
def test_fault_in_launch_mode(scenario: str, fault: str, launch_env: dict) -> None:
    rng = random.Random(f"{SEED}-{scenario}-{fault}")
    outcomes: list[Outcome] = []
    while sum(o.hit for o in outcomes) < TRIALS and len(outcomes) < 3 * TRIALS:
        outcomes.append(run_trial(scenario, fault, rng.uniform(0, LATEST), launch_env, len(outcomes)))
    summarize(scenario, fault, outcomes)
    hits = sum(o.hit for o in outcomes)
    problems = [(o.moment, o.hit, o.problems) for o in outcomes if o.problems]
    assert not problems, f"{len(problems)} of {len(outcomes)} trials left a problem (moment, hit, problems): {problems}"
    assert hits == TRIALS, f"only {hits} of {len(outcomes)} trials hit a live trace: the moments miss the trace"


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
            tracer = state.tracer_of(proc.pid)
            return any(state.cmdline(c) == b"sleep\x0030\x00" and state.status_of(c, "TracerPid") == tracer
                       for c in state.children_of(tracer))

        assert state.wait_until(tracing, 20), "boxtrace never got the command running"
        proc.send_signal(FAULTS[fault])
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + FAULTS[fault], stderr
    assert load_recording(out).end.status == "interrupted"
