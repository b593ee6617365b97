"""Scenario `containerd`: `ctr run` asks a running containerd to start a container from a local image.

Goal: see the layer between a client and runc. ctr talks gRPC to containerd; containerd starts a shim
(containerd-shim-runc-v2), which outlives the client and drives runc: `runc create`, `runc start`, `runc delete`.
boxtrace attaches to containerd (and its threads and children) and launches ctr.
Prerequisites: root, containerd answering on /run/containerd/containerd.sock, and the image
docker.io/boxtrace/busybox:latest in containerd's `boxtrace` namespace (prepare() imports it, no registry).
"""

from __future__ import annotations

import shutil

from scenarios import milestones as m
from scenarios.base import Launch, Milestone, Readiness, Scenario
from scenarios.common import (
    ENTRYPOINT_SCRIPT,
    cgroup_limits_milestone,
    clone_parent_milestone,
    detach_old_root_milestone,
    entrypoint_milestone,
    everything_exited_milestone,
    first_problem,
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
from scenarios.daemons import CONTAINERD_SOCKET, DaemonError, containerd_answers, containerd_pid
from scenarios.images import (
    CONTAINERD_IMAGE,
    CONTAINERD_NAMESPACE,
    containerd_image_exists,
    import_containerd_image,
)

SHIM = "containerd-shim-runc-v2"

START_HINT = "start it with `python -m scenarios.daemons start` (or `boxtrace doctor --fix`)"


def ctr(*args: str) -> list[str]:
    """A ctr command line for containerd's standalone socket and boxtrace's namespace."""
    return [shutil.which("ctr") or "ctr", "--address", CONTAINERD_SOCKET, "-n", CONTAINERD_NAMESPACE, *args]


def containerd_container_ids() -> list[str]:
    result = run_quiet(ctr("containers", "ls", "--quiet"))
    return result.stdout.split() if result.returncode == 0 else []


SHIM_MILESTONE = Milestone(
    id="shim",
    title="containerd starts containerd-shim-runc-v2",
    narration=(
        "containerd execs `containerd-shim-runc-v2 ... start`, which starts the long-lived shim as a new process, "
        "prints its socket address and exits. The shim makes itself a child subreaper "
        "(prctl(PR_SET_CHILD_SUBREAPER)) and runs `runc create`. The container's init is a child of that runc; "
        "when `runc create` exits, the kernel reparents the orphan to its nearest subreaper, the shim, which "
        "then reaps its exit status. Neither containerd nor dockerd is the container's parent, so either can "
        "restart without killing the container."
    ),
    find=m.exec_of(SHIM),
)

RUNC_CREATE = Milestone(
    id="runc-create",
    title="The shim runs `runc create`",
    narration=(
        "The shim runs `runc create --bundle ...` on the bundle containerd wrote from the image and the container's "
        "config. Like `runc run`, it first makes itself a child subreaper and makes the exec.fifo, then starts "
        "runc init, places it in the cgroups, writes the limits and runs the prestart hooks; it exits while "
        "init waits on the FIFO, and the waiting init is reparented to the shim."
    ),
    find=m.runc_command("create"),
    claim="Docker (or containerd) virtualizes user space for the container.",
    reality=(
        "Nothing is virtualized: runc create prepares an ordinary host process (with a host pid) in new "
        "namespaces, with another root, cgroup limits and fewer privileges; its program then runs directly on "
        "the host kernel."
    ),
)

RUNC_START = Milestone(
    id="runc-start",
    title="`runc start`: the waiting init may exec",
    narration=(
        "`runc start` opens the container's exec.fifo for reading; the init process, blocked writing to it, "
        "continues and execs the entrypoint. Create and start are separate so a caller can hold a container "
        "that exists (namespaces, mounts, cgroups) but has not run its program yet. Docker's network hook does "
        "not wait for this: libnetwork-setkey ran earlier, inside `runc create`, as a prestart hook before "
        "pivot_root."
    ),
    find=m.runc_command("start"),
)

RUNC_DELETE = Milestone(
    id="runc-delete",
    title="`runc delete` cleans up",
    narration=(
        "After the entrypoint exits the shim runs `runc delete`, which removes the container's cgroups and state; "
        "containerd then removes the container and its snapshot."
    ),
    find=m.runc_command("delete"),
)


class ContainerdScenario(Scenario):
    name = "containerd"
    summary = "ctr run through a running containerd: client, daemon, shim, runc"
    teaches = (
        "containerd does not create namespaces itself: it starts a shim per container, and the shim runs runc "
        "create, start and delete."
    )
    attaches = True
    milestones = (
        Milestone(
            id="client-connects",
            title="ctr connects to containerd",
            narration=(
                "ctr is only a client: it connects to containerd's gRPC socket and asks it to create the container "
                "(a record plus a snapshot of the image) and then a task (the running process)."
            ),
            find=m.connect_to(CONTAINERD_SOCKET),
        ),
        SHIM_MILESTONE,
        RUNC_CREATE,
        runc_init_milestone(),
        clone_parent_milestone(),
        runc_unshare_milestone(),
        stage2_ids_milestone(),
        loopback_milestone(),
        cgroup_limits_milestone(),
        pivot_root_milestone(),
        detach_old_root_milestone(),
        identity_milestone(),
        RUNC_START,
        entrypoint_milestone("sh"),
        RUNC_DELETE,
        everything_exited_milestone(ignore=(SHIM,), reaper=(
            "Here the shim, the child subreaper pid 1 was reparented to when `runc create` exited, reaps it with "
            "wait4; then it runs `runc delete`."
        )),
    )

    def __init__(self) -> None:
        self.container_id: str | None = None

    def check(self) -> Readiness:
        problem = first_problem(
            need_root("ctr needs root to reach containerd's socket"),
            need_program("ctr"),
            need_program(SHIM),
            need_program("runc"),
        )
        if not problem.ready:
            return problem
        if not containerd_answers(CONTAINERD_SOCKET, timeout=5):
            return Readiness(False, f"containerd does not answer on {CONTAINERD_SOCKET}", START_HINT)
        if not containerd_image_exists():
            # prepare() imports it from the local rootfs; only a missing rootfs source stops us.
            return first_problem(need_rootfs_source())
        return Readiness(True)

    def prepare(self) -> None:
        import_containerd_image()

    def launch(self) -> Launch:
        pid = containerd_pid(CONTAINERD_SOCKET)
        if pid is None:
            raise DaemonError(f"no containerd process listens on {CONTAINERD_SOCKET}: {START_HINT}")
        self.container_id = unique_id("ctr")
        command = ctr("run", "--rm", CONTAINERD_IMAGE, self.container_id, "/bin/sh", "-c", ENTRYPOINT_SCRIPT)
        return Launch(command=command, attach_pids=[pid], cwd="/")

    def cleanup(self) -> None:
        if self.container_id and self.container_id in containerd_container_ids():
            run_quiet(ctr("task", "kill", "--signal", "SIGKILL", self.container_id))
            run_quiet(ctr("task", "delete", "--force", self.container_id))
            run_quiet(ctr("containers", "delete", self.container_id))
        self.container_id = None


SCENARIO = ContainerdScenario()
