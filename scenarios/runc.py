"""Scenario `runc`: `runc run` of an OCI bundle (config.json + busybox rootfs) written by boxtrace.

Goal: see what the reference OCI runtime does between reading config.json and exec'ing the entrypoint: re-exec as
`runc init`, two CLONE_PARENT forks, unshare(CLONE_NEW*), mounts and pivot_root, hostname, limits, exec.
runc runs with a private state directory (--root /run/boxtrace/runc), so Docker's runc state is never touched.
Prerequisites: root and runc.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from scenarios import milestones as m
from scenarios.base import Launch, Milestone, Readiness, Scenario, TraceView
from scenarios.bundle import make_bundle
from scenarios.common import (
    BUNDLES_DIR,
    ENTRYPOINT_SCRIPT,
    STATE_DIR,
    ambient_milestone,
    cgroup_limits_milestone,
    clone_parent_milestone,
    detach_old_root_milestone,
    entrypoint_milestone,
    everything_exited_milestone,
    first_problem,
    hostname_milestone,
    identity_milestone,
    loopback_milestone,
    need_program,
    need_root,
    need_rootfs_source,
    pivot_root_milestone,
    run_quiet,
    runc_init_milestone,
    runc_unshare_milestone,
    stage2_ids_milestone,
    unique_id,
)
from scenarios.rootfs import build_rootfs
from tracer.events import Exit, Fault, ProcessStarted, Syscall

RUNC_ROOT = STATE_DIR / "runc"
BUNDLE = BUNDLES_DIR / "runc"
HOSTNAME = "boxtrace"


def runc(*args: str) -> list[str]:
    """A runc command line using boxtrace's private state directory."""
    return [shutil.which("runc") or "runc", "--root", str(RUNC_ROOT), *args]


def runc_container_ids() -> list[str]:
    """Containers in boxtrace's runc state directory."""
    result = run_quiet(runc("list", "--quiet"))
    return result.stdout.split() if result.returncode == 0 else []


def remove_stopped_containers() -> list[str]:
    """Delete the stopped containers left in boxtrace's own runc state directory: what a `runc run` killed with
    SIGKILL (boxtrace killed with -9 takes its launch with it) leaves, its state entry and cgroup. Running ones
    may be another boxtrace's and are left alone. Returns the ids removed."""
    listed = run_quiet(runc("list", "--format", "json"))
    if listed.returncode != 0:
        return []
    try:
        entries = json.loads(listed.stdout or "null") or []
    except json.JSONDecodeError:
        return []
    removed = []
    for entry in entries:
        if isinstance(entry, dict) and entry.get("status") == "stopped" and entry.get("id"):
            if run_quiet(runc("delete", "--force", str(entry["id"]))).returncode == 0:
                removed.append(str(entry["id"]))
    return removed


class RuncScenario(Scenario):
    name = "runc"
    summary = "runc run of a bundle boxtrace wrote: the OCI reference runtime, step by step"
    teaches = (
        "What runc does inside: runc init from a read-only copy of its binary, CLONE_PARENT forks, namespaces by unshare(2), "
        "mounts and pivot_root, hostname, cgroups and capabilities, then exec of the entrypoint as pid 1."
    )
    milestones: tuple[Milestone, ...] = (
        Milestone(
            id="runc-run",
            title="runc run reads the bundle",
            narration=(
                "`runc run` = create + start: it reads config.json, makes its state directory and the exec.fifo "
                "init will wait on, and makes itself a child subreaper (prctl(PR_SET_CHILD_SUBREAPER)) so that "
                "every process it starts, however it forks, stays its to reap; then it starts runc init."
            ),
            find=m.runc_command("run"),
        ),
        runc_init_milestone(),
        clone_parent_milestone(),
        runc_unshare_milestone(),
        stage2_ids_milestone(),
        loopback_milestone(),
        Milestone(
            id="mounts",
            title="proc, /dev, sysfs and cgroups inside the rootfs",
            narration=(
                "The init stage mounts what config.json lists. runc passes each target as /proc/self/fd/N, an "
                "fd it opened on the real directory, so a symlink planted in the rootfs cannot redirect a mount."
            ),
            find=m.mount_of_type("proc"),
        ),
        cgroup_limits_milestone(),
        pivot_root_milestone(),
        detach_old_root_milestone(),
        hostname_milestone(),
        identity_milestone(),
        ambient_milestone(),
        entrypoint_milestone("sh"),
        everything_exited_milestone(reaper=(
            "Here `runc run`, a child subreaper, is the one that reaps pid 1 with wait4 and reports its status."
        )),
    )

    def __init__(self) -> None:
        self.container_id: str | None = None

    def check(self) -> Readiness:
        return first_problem(
            need_root("runc needs root to create namespaces and cgroups"),
            need_program("runc"),
            need_rootfs_source(),
        )

    def prepare(self) -> None:
        build_rootfs()
        make_bundle(BUNDLE, ["/bin/sh", "-c", ENTRYPOINT_SCRIPT], HOSTNAME)
        remove_stopped_containers()

    def launch(self) -> Launch:
        self.container_id = unique_id("runc")
        # A cgroup per container: runc removes it on delete (no empty parent directory left behind).
        make_bundle(
            BUNDLE, ["/bin/sh", "-c", ENTRYPOINT_SCRIPT], HOSTNAME, cgroups_path=f"/{self.container_id}"
        )
        RUNC_ROOT.mkdir(parents=True, exist_ok=True)
        return Launch(command=runc("run", "--bundle", str(BUNDLE), self.container_id), cwd=str(BUNDLE))

    def cleanup(self) -> None:
        if self.container_id and self.container_id in runc_container_ids():
            run_quiet(runc("delete", "--force", self.container_id))
        self.container_id = None


SCENARIO = RuncScenario()


# What-if experiments ------------------------------------------------------------------------------------------
# Each breaks one step of the runc scenario with an injected fault (tracer/inject.py) and adds chapters that follow
# runc's reaction in the trace. What runc 1.1 does next is in its source: the init process returns the error to
# `runc run` over its init pipe (libcontainer/init_linux.go, standard_init_linux.go); `runc run` kills the init,
# destroys the container (libcontainer/process_linux.go: `p.manager.Destroy()` removes the cgroup in every
# hierarchy; `container.destroy` removes the state directory) and prints the error through logrus on stderr.
# The nsexec C stages (libcontainer/nsenter/nsexec.c) report their failures with `bail()`, a logrus-shaped JSON line
# on the log pipe that `runc run` prints.


@dataclass(frozen=True)
class WhatIf:
    name: str
    rule: str
    title: str
    narration: str


WHAT_IFS: dict[str, WhatIf] = {
    experiment.name: experiment for experiment in (
        WhatIf(
            "pivot_root", "pivot_root=EPERM:runc:[2:INIT]", "What if pivot_root fails?",
            "The container's init is about to swap its root for the bundle's rootfs with pivot_root(\".\", \".\"). "
            "boxtrace makes that call fail with EPERM without running it: the root never changes. runc 1.1 has no "
            "fallback here (only `runc run --no-pivot` uses mount(MS_MOVE) and chroot instead), so the init "
            "returns the error to `runc run`.",
        ),
        WhatIf(
            "sethostname", "sethostname=EPERM:runc:[2:INIT]", "What if sethostname fails?",
            "The init has its own UTS namespace and is about to name it after config.json's hostname. boxtrace "
            "fails sethostname with EPERM without running it, so the name in the new UTS namespace never "
            "changes, and runc treats the failure as fatal for the container.",
        ),
        WhatIf(
            "unshare", "unshare=ENOSPC:runc:[1:CHILD]", "What if unshare hits a namespace limit?",
            "runc's C stage `runc:[1:CHILD]` unshares the new namespaces before Go starts. boxtrace fails "
            "unshare with ENOSPC, what the kernel returns when a count limit in /proc/sys/user/max_*_namespaces "
            "is reached (unshare(2)); no namespace is created.",
        ),
        WhatIf(
            "cgroup", "write(cgroup.procs)=EACCES:runc", "What if the cgroup move fails?",
            "`runc run` creates the container's cgroup and writes the init's pid into cgroup.procs of each "
            "hierarchy. boxtrace fails the first of those writes with EACCES without running it, so the init "
            "never enters that cgroup.",
        ),
        WhatIf(
            "exec", "execve=ENOENT:runc:[2:INIT]", "What if the entrypoint cannot be executed?",
            "Everything is set up: namespaces, root, hostname, capabilities. The init now execs the entrypoint; "
            "boxtrace fails that execve with ENOENT without running it, as if /bin/sh were missing from the "
            "rootfs.",
        ),
    )
}


def _faults(view: TraceView) -> list[int]:
    return [e.seq for e in view.events if isinstance(e, Fault)]


def _first_fault(view: TraceView) -> int | None:
    seqs = _faults(view)
    return seqs[0] if seqs else None


def _injected_calls(view: TraceView) -> list[int]:
    return [e.seq for e in view.events if isinstance(e, Syscall) and (e.notes or {}).get("injected")]


def _printed_after_fault(view: TraceView) -> list[int]:
    start = _first_fault(view)
    return [] if start is None else [
        e.seq for e in view.events if isinstance(e, Syscall) and e.seq > start and e.name == "write"
        and e.args.get("fd") == 2 and e.args.get("data")]


def _undone_after_fault(view: TraceView) -> list[int]:
    start = _first_fault(view)
    return [] if start is None else [
        e.seq for e in view.events if isinstance(e, Syscall) and e.seq > start and e.error is None
        and (e.name in ("unlinkat", "rmdir", "umount2") or (e.name == "kill" and e.args.get("signal") == "SIGKILL"))]


def _launch_failed(view: TraceView) -> list[int]:
    launched = [e.pid for e in view.events if isinstance(e, ProcessStarted) and e.via == "launch"]
    return [e.seq for e in view.events if isinstance(e, Exit) and e.pid in launched and (e.code or e.signal)]


class RuncWhatIfScenario(RuncScenario):
    """The runc scenario with one step broken on purpose: its chapters follow runc's reaction in the trace."""

    def __init__(self, experiment: WhatIf) -> None:
        super().__init__()
        self.experiment = experiment
        self.name = f"runc-what-if-{experiment.name}"
        self.summary = f"runc run with {experiment.rule}: {experiment.title.lower()}"
        self.inject = (experiment.rule,)
        self.milestones = (
            RuncScenario.milestones[0],
            Milestone(id="what-if", title=experiment.title, narration=experiment.narration, find=_faults),
            Milestone(
                id="error", title="The kernel's answer",
                narration=(
                    "The call returns the error as if the kernel had refused it; the kernel never ran it (boxtrace "
                    "set the syscall number to -1 at entry and wrote the errno at exit, as strace's -e inject does)."
                ),
                find=_injected_calls,
            ),
            Milestone(
                id="printed", title="What runc printed",
                narration=(
                    "From the fault on, boxtrace follows every process at every syscall, so what they write on "
                    "stderr is in the trace: runc's error message, as logrus prints it, says which step failed."
                ),
                find=_printed_after_fault,
            ),
            Milestone(
                id="cleanup", title="What runc undid",
                narration=(
                    "runc destroys the half-made container: it kills the init if it still runs, removes the "
                    "container's cgroup directory in every hierarchy and deletes its state directory."
                ),
                find=_undone_after_fault, required=False,
            ),
            Milestone(
                id="failed", title="runc run fails",
                narration="`runc run` exits with a failure status; no container is left to delete.",
                find=_launch_failed,
            ),
        )

    def recording_path(self) -> Path:
        return Path(__file__).parent / "recordings" / f"runc-what-if-{self.experiment.name}.jsonl"


def what_if_scenario(name: str) -> RuncWhatIfScenario:
    experiment = WHAT_IFS.get(name)
    if experiment is None:
        raise KeyError(f"unknown what-if experiment {name!r}: choose one of {', '.join(WHAT_IFS)}")
    return RuncWhatIfScenario(experiment)
