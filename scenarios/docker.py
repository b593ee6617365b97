"""Scenario `docker`: `docker run --rm --network none boxtrace/busybox ...` through the real Docker engine.

Goal: follow one `docker run` across every program involved: the docker CLI (an HTTP client), dockerd, containerd,
the shim and runc, down to the entrypoint's exec as pid 1. boxtrace attaches to dockerd and the containerd it talks
to (with their threads and children) and launches the CLI.
Prerequisites: root, a Docker engine answering (boxtrace starts one with `python -m scenarios.daemons start`), and
the local image boxtrace/busybox:latest (prepare() imports it from the rootfs, no registry).

`docker_launch(args)` builds the same kind of Launch for any `docker run` arguments (`boxtrace docker -- ARGS`).
"""

from __future__ import annotations

import shutil

from scenarios import milestones as m
from scenarios.base import Launch, Milestone, Readiness, Scenario
from scenarios.common import (
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
    prestart_hook_milestone,
    run_quiet,
    runc_init_milestone,
    runc_unshare_milestone,
    stage2_ids_milestone,
    unique_id,
)
from scenarios.containerd import RUNC_CREATE, RUNC_DELETE, RUNC_START, SHIM, SHIM_MILESTONE
from scenarios.daemons import (
    CONTAINERD_SOCKET,
    DOCKER_MANAGED_CONTAINERD_SOCKET,
    DOCKER_SOCKETS,
    DaemonError,
    containerd_pid,
    docker_answers,
    dockerd_containerd_address,
    dockerd_pid,
)
from scenarios.images import DOCKER_IMAGE, docker_image_exists, import_docker_image

SCRIPT = "hostname; echo hello from a container"
START_HINT = "start it with `python -m scenarios.daemons start` (or `boxtrace doctor --fix`)"


def docker_cli() -> str:
    return shutil.which("docker") or "docker"


def daemon_pids() -> list[int]:
    """dockerd and the containerd it talks to, the processes a docker trace attaches to."""
    docker = dockerd_pid()
    if docker is None:
        raise DaemonError(f"dockerd is not running: {START_HINT}")
    pids = [docker]
    containerd = containerd_pid(dockerd_containerd_address(docker))
    if containerd is not None and containerd != docker:
        pids.append(containerd)
    return pids


def docker_launch(docker_run_args: list[str]) -> Launch:
    """How to trace `docker run ARGS`: attach to dockerd and its containerd, launch the CLI."""
    return Launch(command=[docker_cli(), "run", *docker_run_args], attach_pids=daemon_pids(), cwd="/")


class DockerScenario(Scenario):
    name = "docker"
    summary = "docker run through dockerd, containerd, the shim and runc"
    teaches = (
        "The docker CLI is an HTTP client; dockerd asks containerd, containerd starts a shim, the shim runs runc, "
        "runc create's init makes the namespaces, and after runc start that init execs the entrypoint as pid 1."
    )
    attaches = True
    milestones = (
        Milestone(
            id="cli-connects",
            title="The docker CLI connects to dockerd",
            narration=(
                "`docker run` opens the Unix socket /var/run/docker.sock several times and sends HTTP requests: "
                "create the container, attach to its output, start it, wait for it. Nothing else happens in the "
                "CLI's process."
            ),
            find=m.connect_to(*DOCKER_SOCKETS),
            claim="The docker command runs the container.",
            reality=(
                "The CLI only talks HTTP to dockerd; the container's processes end up children of a shim that "
                "containerd started (the kernel reparents them to it when `runc create` exits), not of the CLI."
            ),
        ),
        Milestone(
            id="dockerd-to-containerd",
            title="dockerd talks to containerd",
            narration=(
                "dockerd keeps a gRPC connection open to containerd; it asks containerd to create the container "
                "and start its task. The connection predates the trace, so it comes from the socket table."
            ),
            find=m.connect_to(CONTAINERD_SOCKET, DOCKER_MANAGED_CONTAINERD_SOCKET, preexisting=True),
            required=False,
        ),
        SHIM_MILESTONE,
        RUNC_CREATE,
        runc_init_milestone(),
        clone_parent_milestone(),
        runc_unshare_milestone(),
        stage2_ids_milestone(),
        loopback_milestone(),
        cgroup_limits_milestone(),
        prestart_hook_milestone(),
        pivot_root_milestone(),
        detach_old_root_milestone(),
        hostname_milestone(),
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
        self.container_name: str | None = None

    def check(self) -> Readiness:
        problem = first_problem(
            need_root("attaching to dockerd and containerd needs root"),
            need_program("docker"),
            need_program("dockerd"),
        )
        if not problem.ready:
            return problem
        if not docker_answers(timeout=5):
            return Readiness(False, "no Docker engine answers on /var/run/docker.sock", START_HINT)
        if not docker_image_exists():
            return first_problem(need_rootfs_source())
        return Readiness(True)

    def prepare(self) -> None:
        import_docker_image()

    def launch(self) -> Launch:
        self.container_name = unique_id("docker")
        args = [
            "--rm",
            "--network",
            "none",
            "--name",
            self.container_name,
            DOCKER_IMAGE,
            "/bin/sh",
            "-c",
            SCRIPT,
        ]
        return docker_launch(args)

    def cleanup(self) -> None:
        if self.container_name:
            found = run_quiet(
                [docker_cli(), "ps", "-a", "--quiet", "--filter", f"name=^{self.container_name}$"]
            )
            if found.stdout.strip():
                run_quiet([docker_cli(), "rm", "--force", self.container_name])
        self.container_name = None


SCENARIO = DockerScenario()
