"""Scenario `teach-rootless`: the lesson runtime again, as an ordinary user, with a user namespace first.

Goal: see that CLONE_NEWUSER is what lets an unprivileged process create the other namespaces: the kernel makes the
user namespace first, the child holds every capability inside it only (its ids there are the overflow ids 65534
until the maps exist), and its parent writes the uid and gid maps that say which outside ids the inside ids stand
for, making the child uid 0 inside.
Prerequisites: unprivileged user namespaces allowed by the kernel; when boxtrace runs as root the runtime is started
as `nobody` (uid 65534) with a copy of the rootfs that nobody owns, and from a copy of the runtime staged where nobody
can read it (scenarios/staging.py), so the checkout may live anywhere, /root included; the copy is removed by
cleanup().
"""

from __future__ import annotations

import os
from pathlib import Path

from scenarios import milestones as m
from scenarios.base import Launch, Milestone, Readiness
from scenarios.common import (
    entrypoint_milestone,
    everything_exited_milestone,
    first_problem,
    need_rootfs_source,
)
from scenarios.common import user_namespaces_allowed as _userns
from scenarios.rootfs import build_rootfs, rootfs_for_user
from scenarios.staging import StagingError, python_for_user, stage_for_user, unstage
from scenarios.teach import (
    BIND,
    CLONE,
    DETACH,
    HOSTNAME_MILESTONE,
    PIVOT,
    PRIVATE,
    PROC,
    RUNTIME,
    TeachScenario,
)

#: Who runs the runtime when boxtrace itself is root.
NOBODY = (65534, 65534)

USER_NAMESPACE = Milestone(
    id="user-namespace",
    title="CLONE_NEWUSER: root inside, nobody outside",
    narration=(
        "With CLONE_NEWUSER in the same clone, the kernel creates the user namespace first and makes it the owner "
        "of the other new namespaces. The child gets every capability, but only over namespaces that user "
        "namespace owns; on the host it is still the unprivileged user."
    ),
    find=m.process_created_with("CLONE_NEWUSER"),
    claim="Rootless containers fake root in user space.",
    reality=(
        "The kernel itself grants root inside the user namespace: capabilities checked against the namespace's "
        "owner, real only for resources it owns."
    ),
)

ID_MAPS = Milestone(
    id="id-maps",
    title="The parent writes uid_map and gid_map",
    narration=(
        "Until its maps are written the child is 'nobody' even inside. The parent writes \"deny\" to "
        '/proc/CHILD/setgroups (required before an unprivileged gid_map), then "0 UID 1" to uid_map and '
        '"0 GID 1" to gid_map: inside id 0 is the outside user, and no other id exists.'
    ),
    find=m.syscall("openat", "open", "write", where=m.mentions("uid_map", "gid_map", "setgroups")),
    required=False,
)


class TeachRootlessScenario(TeachScenario):
    name = "teach-rootless"
    summary = "the lesson runtime as an unprivileged user: a user namespace makes the rest possible"
    teaches = (
        "CLONE_NEWUSER: the kernel creates the user namespace first, the child is root only inside it, and the "
        "parent's uid_map/gid_map writes say who that root is outside."
    )
    milestones: tuple[Milestone, ...] = (
        CLONE,
        USER_NAMESPACE,
        ID_MAPS,
        HOSTNAME_MILESTONE,
        PRIVATE,
        BIND,
        PROC,
        PIVOT,
        DETACH,
        entrypoint_milestone("sh", "the child"),
        everything_exited_milestone(),
    )

    #: The directory launch() staged the runtime in for nobody; cleanup() removes it.
    _staged: Path | None = None

    def _user(self) -> tuple[int, int] | None:
        return NOBODY if os.geteuid() == 0 else None

    def check(self) -> Readiness:
        allowed, why, fix = _userns()
        if not allowed:
            return Readiness(False, why, f"run `{fix}`")
        user = self._user()
        if user is not None:
            try:
                python_for_user(*user)
            except StagingError as error:
                return Readiness(False, str(error), "install python3 (`sudo apt-get install python3`)")
        return first_problem(need_rootfs_source())

    def prepare(self) -> None:
        user = self._user()
        if user is None:
            build_rootfs()
        else:
            rootfs_for_user(*user)

    def launch(self) -> Launch:
        user = self._user()
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/", "LANG": "C.UTF-8"}
        if user is None:
            return Launch(command=self.command(build_rootfs(), "--rootless"), cwd="/", env=env)
        rootfs = rootfs_for_user(*user)
        # nobody may not reach this checkout or its venv: run a staged copy of the runtime with the system's python.
        self.cleanup()
        self._staged = stage_for_user([RUNTIME], *user)
        command = self.command(rootfs, "--rootless", runtime=self._staged / RUNTIME.name,
                               python=python_for_user(*user))
        return Launch(command=command, cwd="/", user=user, env=env)

    def cleanup(self) -> None:
        if self._staged is not None:
            unstage(self._staged)
            self._staged = None


SCENARIO = TeachRootlessScenario()
