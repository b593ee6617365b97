"""What several scenarios share: prerequisite checks with install hints, ids, and the chapters of a runc start.

runc does the same work whether it is run by hand, by containerd's shim or (through containerd) by dockerd, so the
milestones describing runc's inside are written once here and reused by the runc, containerd and docker scenarios.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from pathlib import Path

from scenarios import milestones as m
from scenarios.base import Milestone, Readiness
from scenarios.rootfs import rootfs_path

#: Everything boxtrace keeps at run time (bundles, runc's private state, pid files of daemons it started).
STATE_DIR = Path("/run/boxtrace")
BUNDLES_DIR = STATE_DIR / "bundles"

#: Debian package that provides each program scenarios use.
PACKAGES = {
    "runc": "runc",
    "crun": "crun",
    "ctr": "containerd",
    "containerd": "containerd",
    "containerd-shim-runc-v2": "containerd",
    "docker": "docker.io",
    "dockerd": "docker.io",
    "unshare": "util-linux",
    "chroot": "coreutils",
    "bwrap": "bubblewrap",
    "strace": "strace",
    "dot": "graphviz",
    "busybox": "busybox-static",
}

#: What every container prints: its pid as it sees it (1) and its hostname.
ENTRYPOINT_SCRIPT = 'echo "hello from pid $$ on $(hostname)"'


def install_hint(program: str) -> str:
    return f"run `sudo apt-get install {PACKAGES.get(program, program)}`"


def need_program(program: str) -> Readiness | None:
    """None when `program` is on PATH, else a not-ready answer with the install command."""
    if shutil.which(program) is not None:
        return None
    return Readiness(False, f"{program} is not installed", install_hint(program))


def need_root(why: str) -> Readiness | None:
    if os.geteuid() == 0:
        return None
    return Readiness(False, f"this scenario needs root: {why}", "run boxtrace with sudo")


def need_rootfs_source() -> Readiness | None:
    """None when the busybox rootfs is cached or can be built (busybox, or at least a host /bin/sh, exists)."""
    if rootfs_path().is_dir() or shutil.which("busybox") or os.path.exists("/bin/busybox"):
        return None
    if shutil.which("sh"):
        return None
    return Readiness(
        False, "no busybox to build the container's root filesystem from", install_hint("busybox")
    )


def first_problem(*answers: Readiness | None) -> Readiness:
    """The first not-ready answer, or ready."""
    for answer in answers:
        if answer is not None and not answer.ready:
            return answer
    return Readiness(True)


def unique_id(prefix: str) -> str:
    return f"boxtrace-{prefix}-{secrets.token_hex(4)}"


def run_quiet(command: list[str], timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    """Run a command, capture its output, never raise for a missing program or a non-zero status."""
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        return subprocess.CompletedProcess(command, 127, "", str(e))


def user_namespaces_allowed() -> tuple[bool, str, str]:
    """Whether an unprivileged process may create a user namespace here; if not, why and the fix."""
    limit = Path("/proc/sys/user/max_user_namespaces")
    try:
        if int(limit.read_text()) == 0:
            return (
                False,
                f"user namespaces are disabled ({limit} is 0)",
                "sudo sysctl -w user.max_user_namespaces=15000",
            )
    except (OSError, ValueError):
        return (
            False,
            f"this kernel has no user namespaces ({limit} is missing)",
            "use a kernel with CONFIG_USER_NS",
        )
    for knob, bad, good in (
        ("kernel.unprivileged_userns_clone", "0", "1"),
        ("kernel.apparmor_restrict_unprivileged_userns", "1", "0"),
    ):
        path = Path("/proc/sys") / knob.replace(".", "/")
        try:
            if path.read_text().strip() == bad:
                return (
                    False,
                    f"unprivileged user namespaces are switched off ({knob} = {bad})",
                    (f"sudo sysctl -w {knob}={good}"),
                )
        except OSError:
            continue
    return True, "", ""


# The chapters of a runc container start -------------------------------------------------------------------------


def runc_init_milestone() -> Milestone:
    return Milestone(
        id="runc-init",
        title="runc re-executes itself as `runc init`",
        narration=(
            "runc starts a copy of itself, `runc init`, from /proc/self/exe. That copy at once bind-mounts its own "
            "binary read-only on a temporary file in runc's state directory, opens it, detaches the mount (umount2 "
            "MNT_DETACH) and re-executes from the open fd with execveat(fd, \"\", AT_EMPTY_PATH). This is runc's "
            "answer to CVE-2019-5736, where a process in the container could overwrite the host's runc binary "
            "through /proc/PID/exe. (If the bind mount fails, runc 1.1 copies itself into a sealed memfd "
            "instead; later versions protect the binary in other ways.) That exec shows the path \"/\": the "
            "kernel names the fd's file from the root of its detached mount, which is the file itself. runc "
            "init's C part (nsexec) runs before Go starts, because a multithreaded Go program cannot unshare or "
            "join some namespaces."
        ),
        find=m.runc_init(),
    )


def clone_parent_milestone() -> Milestone:
    return Milestone(
        id="clone-parent",
        title="Two more stages, made with CLONE_PARENT",
        narration=(
            "runc init forks twice with clone(CLONE_PARENT): each new stage becomes a child of the original runc, "
            "not of the stage that made it, so runc can wait for the final one. The flags hold no CLONE_NEW*: "
            "these forks do not create namespaces."
        ),
        find=m.clone_parent(),
    )


def runc_unshare_milestone() -> Milestone:
    return Milestone(
        id="unshare",
        title="New namespaces with unshare(2)",
        narration=(
            "The middle stage calls unshare with CLONE_NEWNS, NEWUTS, NEWIPC, NEWNET and NEWPID: the kernel moves "
            "it into fresh mount, UTS, IPC and network namespaces at once. The new pid namespace applies only to "
            "its children, which is why it forks the final stage afterwards: that child is pid 1 inside."
        ),
        find=m.new_namespaces_by("unshare"),
        claim="runc calls clone() with CLONE_NEW* flags to create the container's namespaces.",
        reality=(
            "runc's clones carry only CLONE_PARENT; the namespaces come from unshare(2) in the middle stage, and "
            "the pid namespace is entered by forking after it. crun and bubblewrap do pass CLONE_NEW* to clone."
        ),
    )


def pivot_root_milestone() -> Milestone:
    return Milestone(
        id="pivot_root",
        title="A new root: mounts, then pivot_root",
        narration=(
            "In the new mount namespace the init stage marks / as a slave (so nothing leaks back), bind-mounts the "
            'rootfs, mounts proc, /dev, sysfs and cgroups inside it, and calls pivot_root(".", ".") from the '
            "rootfs. The old root is then unmounted with MNT_DETACH: host files are out of reach."
        ),
        find=m.syscall("pivot_root"),
        claim="A container's root is a chroot.",
        reality=(
            "runtimes use pivot_root: it swaps the root of the whole mount namespace and lets the old root be "
            "unmounted, while chroot only changes one process's lookup root and can be escaped."
        ),
    )


def hostname_milestone(required: bool = True) -> Milestone:
    return Milestone(
        id="hostname",
        title="Its own hostname",
        narration=(
            "sethostname changes the name in the container's UTS namespace only; the host keeps its own. "
            "(Docker uses the short container id.)"
        ),
        find=m.syscall("sethostname"),
        required=required,
    )


def identity_milestone() -> Milestone:
    return Milestone(
        id="identity-and-limits",
        title="Identity and limits: cgroups, capabilities, seccomp",
        narration=(
            "runc writes the pid of runc init's first stage to each cgroup's cgroup.procs (the stages it forks, "
            "and so the container's pid 1, start in the same cgroups), drops capabilities from the bounding set "
            "and sets the others with capset, sets no_new_privs only when the config asks (Docker's default "
            "does not) and, when the config has one, loads a seccomp filter with prctl(PR_SET_SECCOMP). These "
            "limit what the container may do; they do not isolate what it sees."
        ),
        find=m.any_of(m.cgroup_writes(), m.privilege_drops()),
        required=False,
    )


def entrypoint_milestone(program: str = "sh", who: str = "runc's init stage") -> Milestone:
    return Milestone(
        id="entrypoint",
        title="The entrypoint runs as pid 1",
        narration=(
            f"{who[0].upper()}{who[1:]} execs the container's program. Exec keeps the process: the host sees an "
            "ordinary pid, while inside the new pid namespace the same process is pid 1, the namespace's init."
        ),
        find=m.exec_in_new_pid_namespace(program),
        claim="A namespace is a copy of the kernel (a small virtual machine).",
        reality=(
            "There is one kernel; a namespace is a separate view of one kind of resource. The same process has "
            "one pid on the host and pid 1 in its own pid namespace."
        ),
    )


def everything_exited_milestone(ignore: tuple[str, ...] = ()) -> Milestone:
    return Milestone(
        id="exited",
        title="Every process exited",
        narration=(
            "When pid 1 of a pid namespace exits, the kernel kills whatever is left in it; the runtime then "
            "reports the exit status and removes its state. A namespace is freed only when nothing refers to it "
            "any more: no process in it, no open /proc/PID/ns file or bind mount of one, no namespace that "
            "depends on it."
        ),
        find=m.all_of(m.launch_exited_ok(), m.all_exited(ignore)),
    )
