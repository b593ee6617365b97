"""Scenario `crun`: the same bundle run by crun, a runtime written in C.

Goal: compare with runc. crun is one C program: it re-executes itself once at start from a read-only copy of its
binary (CVE-2019-5736, src/libcrun/cloned_binary.c), then passes CLONE_NEW* flags straight to clone (clone3 when
it also asks for CLONE_INTO_CGROUP, on cgroup v2), unshares the rest, may use the new mount API
(fsopen/fsmount/move_mount), then pivot_root and exec.
Prerequisites: root and crun, and a cgroup layout crun accepts. crun 1.8 refuses the hybrid layout (cgroup v1
controllers plus a cgroup v2 mount at /sys/fs/cgroup/unified) when the v2 hierarchy has controllers of its own
(src/libcrun/cgroup.c); check() runs crun once, untraced, to find out.
"""

from __future__ import annotations

import functools
import os
import shutil

from scenarios import milestones as m
from scenarios.base import Launch, Milestone, Readiness, Scenario
from scenarios.bundle import make_bundle
from scenarios.common import (
    BUNDLES_DIR,
    ENTRYPOINT_SCRIPT,
    STATE_DIR,
    entrypoint_milestone,
    everything_exited_milestone,
    first_problem,
    hostname_milestone,
    identity_milestone,
    need_program,
    need_root,
    need_rootfs_source,
    run_quiet,
    unique_id,
)
from scenarios.rootfs import build_rootfs

CRUN_ROOT = STATE_DIR / "crun"
BUNDLE = BUNDLES_DIR / "crun"
HOSTNAME = "boxtrace"

HYBRID_REASON = (
    "crun 1.8 does not support this machine's hybrid cgroup layout (v1 controllers with a cgroup v2 mount "
    "beside them that has controllers of its own) and stops before creating the container"
)
HYBRID_FIX = (
    "boot with the unified cgroup v2 hierarchy (kernel command line systemd.unified_cgroup_hierarchy=1), "
    "or use the runc scenario"
)


def crun(*args: str) -> list[str]:
    return [shutil.which("crun") or "crun", "--root", str(CRUN_ROOT), *args]


@functools.cache
def crun_refusal() -> str | None:
    """Run crun once, untraced, on a bundle that runs /bin/true; None when it works, else crun's error text."""
    if shutil.which("crun") is None or os.geteuid() != 0:
        return None
    bundle = make_bundle(BUNDLES_DIR / "crun-probe", ["/bin/true"], HOSTNAME)
    container = unique_id("crun-probe")
    CRUN_ROOT.mkdir(parents=True, exist_ok=True)
    result = run_quiet(crun("run", "--bundle", str(bundle), container), timeout=30)
    run_quiet(crun("delete", "--force", container))
    if result.returncode == 0:
        return None
    return (result.stderr or result.stdout).strip() or f"crun exited with status {result.returncode}"


def refusal_readiness(error: str) -> Readiness:
    """Turn crun's error into a sentence that says why and what to do."""
    if "hybrid" in error:
        return Readiness(False, f"{HYBRID_REASON} (crun says: {error})", HYBRID_FIX)
    return Readiness(False, f"crun cannot run a container here: {error}", "use the runc scenario")


class CrunScenario(Scenario):
    name = "crun"
    summary = "crun runs the same bundle: a C runtime that clones straight into new namespaces"
    teaches = (
        "Runtimes differ: crun gives clone the CLONE_NEW* flags itself (no runc init, no CLONE_PARENT stages), "
        "and may mount with the new mount API; the kernel's building blocks are the same."
    )
    milestones = (
        Milestone(
            id="crun-run",
            title="crun run reads the bundle",
            narration=(
                "crun first re-executes itself from a read-only bind mount (or a sealed memfd) of its own binary, "
                "as runc does and for the same reason (CVE-2019-5736); then it parses config.json and sets up "
                "the cgroups in that same C process, with no separate init program."
            ),
            find=m.exec_of("crun", argv=lambda argv: "run" in argv[1:]),
        ),
        Milestone(
            id="clone-new-namespaces",
            title="clone3 with CLONE_NEW* flags",
            narration=(
                "crun creates the container process with clone and the CLONE_NEW* flags (clone3 when it also "
                "places the child in its cgroup with CLONE_INTO_CGROUP, on cgroup v2): the child starts life in "
                "its new namespaces, as pid 1 of the new pid namespace."
            ),
            find=m.namespaces_created_by_clone(),
            claim="Every runtime works like runc, unsharing from a re-executed init.",
            reality=(
                "crun passes CLONE_NEW* to clone (or clone3) directly; here the popular 'clone creates "
                "namespaces' is right. crun re-executes itself too, but only to protect its binary."
            ),
        ),
        Milestone(
            id="mounts",
            title="Mounts inside the rootfs",
            narration=(
                "crun mounts proc, /dev, sysfs and cgroups, with mount(2) or the new mount API (fsopen, fsmount, "
                "move_mount, open_tree), which builds a mount detached from the tree before attaching it."
            ),
            find=m.syscall(*m.MOUNT_SYSCALLS),
        ),
        Milestone(
            id="pivot_root",
            title="pivot_root into the rootfs",
            narration='As with runc: pivot_root(".", ".") and a lazy unmount of the old root.',
            find=m.syscall("pivot_root"),
        ),
        hostname_milestone(),
        identity_milestone(),
        entrypoint_milestone("sh", "crun's container process"),
        everything_exited_milestone(),
    )

    def __init__(self) -> None:
        self.container_id: str | None = None

    def check(self) -> Readiness:
        problem = first_problem(
            need_root("crun needs root to create namespaces and cgroups"),
            need_program("crun"),
            need_rootfs_source(),
        )
        if not problem.ready:
            return problem
        error = crun_refusal()
        return Readiness(True) if error is None else refusal_readiness(error)

    def prepare(self) -> None:
        build_rootfs()
        make_bundle(BUNDLE, ["/bin/sh", "-c", ENTRYPOINT_SCRIPT], HOSTNAME)

    def launch(self) -> Launch:
        self.container_id = unique_id("crun")
        make_bundle(
            BUNDLE, ["/bin/sh", "-c", ENTRYPOINT_SCRIPT], HOSTNAME, cgroups_path=f"/{self.container_id}"
        )
        CRUN_ROOT.mkdir(parents=True, exist_ok=True)
        return Launch(command=crun("run", "--bundle", str(BUNDLE), self.container_id), cwd=str(BUNDLE))

    def cleanup(self) -> None:
        if self.container_id:
            result = run_quiet(crun("list", "--quiet"))
            if self.container_id in result.stdout.split():
                run_quiet(crun("delete", "--force", self.container_id))
        self.container_id = None


SCENARIO = CrunScenario()
