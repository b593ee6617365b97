"""Scenario `runc`: `runc run` of an OCI bundle (config.json + busybox rootfs) written by boxtrace.

Goal: see what the reference OCI runtime does between reading config.json and exec'ing the entrypoint: re-exec as
`runc init`, two CLONE_PARENT forks, unshare(CLONE_NEW*), mounts and pivot_root, hostname, limits, exec.
runc runs with a private state directory (--root /run/boxtrace/runc), so Docker's runc state is never touched.
Prerequisites: root and runc.
"""

from __future__ import annotations

import json
import shutil

from scenarios import milestones as m
from scenarios.base import Launch, Milestone, Readiness, Scenario
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
    milestones = (
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
