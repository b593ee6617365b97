"""Scenario `unshare`: a container by hand with util-linux `unshare` and `chroot`.

Goal: build the same isolation from command-line tools and see the difference between unshare(2), which moves the
caller into new namespaces, and clone with CLONE_NEW* flags; and between chroot and pivot_root.
    unshare --fork --pid --mount-proc --uts --ipc --net --mount chroot ROOTFS /bin/sh -c 'hostname box; echo ok...'
Prerequisites: root, util-linux's unshare, coreutils' chroot, busybox for the root filesystem.
"""

from __future__ import annotations

import shutil

from scenarios import milestones as m
from scenarios.base import Launch, Milestone, Readiness, Scenario
from scenarios.common import (
    entrypoint_milestone,
    everything_exited_milestone,
    first_problem,
    need_program,
    need_root,
    need_rootfs_source,
)
from scenarios.rootfs import build_rootfs

SCRIPT = 'hostname box; echo "ok: pid $$ on $(hostname)"'


class UnshareScenario(Scenario):
    name = "unshare"
    summary = "util-linux unshare + chroot: namespaces from the command line"
    teaches = (
        "unshare(2) moves the caller into new namespaces (except pid, which only its children enter: hence "
        "--fork); --mount-proc mounts a fresh proc; chroot changes one process's root, unlike pivot_root."
    )
    milestones = (
        Milestone(
            id="unshare",
            title="unshare(2) with CLONE_NEW* flags",
            narration=(
                "The unshare program calls unshare(CLONE_NEWNS|NEWUTS|NEWIPC|NEWPID|NEWNET). The kernel moves the "
                "caller itself into new mount, UTS, IPC and network namespaces; for the pid namespace it only "
                "records where the caller's future children will go."
            ),
            find=m.new_namespaces_by("unshare"),
            claim="unshare runs a program in new namespaces, like clone with CLONE_NEW* flags.",
            reality=(
                "unshare(2) changes the calling process; the new pid namespace applies only to children created "
                "afterwards, so the caller itself never becomes pid 1 (that is what --fork is for)."
            ),
        ),
        Milestone(
            id="fork-pid1",
            title="--fork: the child is pid 1",
            narration=(
                "unshare forks. The child is the first process of the new pid namespace, so it is pid 1 there, "
                "and the kernel treats it as that namespace's init."
            ),
            find=m.process_is_pid1_of_new_namespace(),
        ),
        Milestone(
            id="private-mounts",
            title="Make the mounts private",
            narration=(
                "Before mounting anything, the child makes every mount in its new mount namespace private "
                "(util-linux's default --propagation private), so the host never sees what follows."
            ),
            find=m.syscall("mount", where=m.has_flags("MS_REC", "MS_PRIVATE")),
        ),
        Milestone(
            id="proc",
            title="--mount-proc: a proc for the new pid namespace",
            narration=(
                "A new proc on /proc lists only the processes of the new pid namespace (and of any nested in it). "
                "It is mounted over the host's "
                "/proc in the new mount namespace only; the host's /proc is untouched. It is mounted before the "
                "chroot, on the host path /proc: inside the busybox root, /proc stays an empty directory."
            ),
            find=m.mount_of_type("proc"),
        ),
        Milestone(
            id="chroot",
            title="chroot into the busybox root",
            narration=(
                'chroot changes the directory this process resolves "/" from. The mount namespace still holds '
                "every host mount, only out of this process's path lookups."
            ),
            find=m.syscall("chroot"),
            claim="A chroot is a container.",
            reality=(
                "chroot isolates nothing by itself: it changes one process's lookup root, root can leave it, and "
                "the mounts stay; the namespaces made by unshare do the isolating. Runtimes use pivot_root."
            ),
        ),
        entrypoint_milestone("sh", "chroot, still pid 1,"),
        Milestone(
            id="hostname",
            title="hostname box",
            narration=(
                "The shell (pid 1) forks `hostname box` (pid 2 inside), which sets the UTS namespace's hostname; "
                "the host's name does not change."
            ),
            find=m.syscall("sethostname"),
        ),
        everything_exited_milestone(),
    )

    def check(self) -> Readiness:
        return first_problem(
            need_root("unshare(2) with CLONE_NEW* flags needs CAP_SYS_ADMIN"),
            need_program("unshare"),
            need_program("chroot"),
            need_rootfs_source(),
        )

    def prepare(self) -> None:
        build_rootfs()

    def launch(self) -> Launch:
        unshare = shutil.which("unshare") or "unshare"
        chroot = shutil.which("chroot") or "chroot"
        return Launch(
            command=[
                unshare,
                "--fork",
                "--pid",
                "--mount-proc",
                "--uts",
                "--ipc",
                "--net",
                "--mount",
                chroot,
                str(build_rootfs()),
                "/bin/sh",
                "-c",
                SCRIPT,
            ],
            cwd="/",
        )


SCENARIO = UnshareScenario()
