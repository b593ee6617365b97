"""Scenario `teach`: boxtrace's own lesson runtime (scenarios/teach_runtime.py) starts a busybox shell.

Goal: see the few system calls every container runtime makes, with nothing else in the way: one clone that creates
the namespaces, a hostname, four mount-table changes, pivot_root, and the exec of the entrypoint as pid 1.
Prerequisites: root (or use `teach-rootless`) and busybox for the root filesystem.
"""

from __future__ import annotations

import sys
from pathlib import Path

from scenarios import milestones as m
from scenarios.base import Launch, Milestone, Readiness, Scenario
from scenarios.common import (
    ENTRYPOINT_SCRIPT,
    entrypoint_milestone,
    everything_exited_milestone,
    first_problem,
    need_root,
    need_rootfs_source,
)
from scenarios.rootfs import build_rootfs

RUNTIME = Path(__file__).with_name("teach_runtime.py")
HOSTNAME = "teach"

CLONE = Milestone(
    id="clone",
    title="clone() with CLONE_NEW* flags",
    narration=(
        "The runtime calls clone with CLONE_NEWPID, NEWNS, NEWUTS, NEWIPC and NEWNET. The kernel creates the five "
        "namespaces and starts the child inside them; the parent stays where it was. From the host the child has "
        "an ordinary pid; inside its new pid namespace it is pid 1."
    ),
    find=m.namespaces_created_by_clone(),
    claim="A namespace is a copy of the kernel (a small virtual machine).",
    reality="There is one kernel; each namespace is a separate view of one kind of resource (pids, mounts, ...).",
)

HOSTNAME_MILESTONE = Milestone(
    id="hostname",
    title="sethostname inside the new UTS namespace",
    narration="The child names its UTS namespace; `hostname` on the host still prints the host's name.",
    find=m.syscall("sethostname"),
)

PRIVATE = Milestone(
    id="private-mounts",
    title="Make every mount private",
    narration=(
        'The new mount namespace began as a copy of the host\'s mount table. mount("none", "/", MS_REC|'
        "MS_PRIVATE) cuts propagation, so the mounts that follow are invisible to the host, and pivot_root "
        "will accept the new root (it refuses shared mounts)."
    ),
    find=m.syscall("mount", where=m.has_flags("MS_REC", "MS_PRIVATE")),
)

BIND = Milestone(
    id="bind-rootfs",
    title="Bind the root filesystem onto itself",
    narration=(
        "pivot_root needs the new root to be a mount point. Binding the rootfs directory onto itself makes it one "
        "without copying anything."
    ),
    find=m.syscall("mount", where=m.has_flags("MS_BIND")),
)

PROC = Milestone(
    id="proc",
    title="A proc of its own",
    narration=(
        "proc mounted from inside the new pid namespace lists only the processes of that namespace (and of any "
        "nested in it): `ps` in the container shows pid 1 and the rest of the container, nothing of the host."
    ),
    find=m.mount_of_type("proc"),
)

PIVOT = Milestone(
    id="pivot_root",
    title='pivot_root(".", ".")',
    narration=(
        'From inside the rootfs, pivot_root(".", ".") makes it the root of the mount namespace and stacks the '
        "old root on top of it at the same place."
    ),
    find=m.syscall("pivot_root"),
    claim="Changing a container's root is a chroot.",
    reality=(
        "pivot_root changes the root of the whole mount namespace, and the old root can then be unmounted; "
        "chroot changes only how one process resolves paths."
    ),
)

DETACH = Milestone(
    id="detach-old-root",
    title="Detach the old root",
    narration=(
        'umount2(".", MNT_DETACH) removes the old root from the top of the stack; MNT_DETACH lets the kernel '
        "finish the unmount later if something still uses it. The host's files are now unreachable."
    ),
    find=m.syscall("umount2", where=m.has_flags("MNT_DETACH")),
)


class TeachScenario(Scenario):
    name = "teach"
    summary = "boxtrace's own 150-line runtime starts a busybox shell in five new namespaces"
    teaches = (
        "The minimum a runtime does, in kernel order: clone with CLONE_NEW* flags, sethostname, private mounts, "
        "bind mount, proc, pivot_root, detach the old root, exec the entrypoint as pid 1."
    )
    milestones: tuple[Milestone, ...] = (
        CLONE,
        HOSTNAME_MILESTONE,
        PRIVATE,
        BIND,
        PROC,
        PIVOT,
        DETACH,
        entrypoint_milestone("sh", "the child"),
        everything_exited_milestone(),
    )

    def check(self) -> Readiness:
        return first_problem(
            need_root("creating namespaces needs CAP_SYS_ADMIN (try the teach-rootless scenario)"),
            need_rootfs_source(),
        )

    def prepare(self) -> None:
        build_rootfs()

    def command(self, rootfs: Path, *extra: str, runtime: Path = RUNTIME, python: str = sys.executable) -> list[str]:
        # -P: do not put scenarios/ first on sys.path; the runtime needs only the standard library.
        return [
            python,
            "-P",
            str(runtime),
            *extra,
            "--hostname",
            HOSTNAME,
            str(rootfs),
            "/bin/sh",
            "-c",
            ENTRYPOINT_SCRIPT,
        ]

    def launch(self) -> Launch:
        return Launch(command=self.command(build_rootfs()), cwd="/")


SCENARIO = TeachScenario()
