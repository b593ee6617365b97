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
from scenarios.claims import (
    AMBIENT_EPERM,
    CGROUP_LIMITS,
    DEVICE_RULE_WRITE,
    HOOK_BEFORE_PIVOT,
    HOOK_EXEC,
    LOOPBACK_UP,
    OLD_ROOT,
    OLD_ROOT_DETACH,
    OLD_ROOT_RSLAVE,
    STAGE2,
    STAGE2_IDS,
    claim_finder,
)
from scenarios.rootfs import rootfs_path
from tracer.claims import Call

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
    "podman": "podman",
    "conmon": "conmon",
    "newuidmap": "uidmap",
    "newgidmap": "uidmap",
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


def user_namespaces_allowed(proc_sys: Path = Path("/proc/sys")) -> tuple[bool, str, str]:
    """Whether an unprivileged process may create a user namespace here; if not, why and the fix.

    `proc_sys` is read in place of /proc/sys (tests give it a tree of their own, never changing the machine's)."""
    limit = proc_sys / "user" / "max_user_namespaces"
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
        path = proc_sys / knob.replace(".", "/")
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
            "runc init's C part (nsexec) forks twice with clone(CLONE_PARENT|SIGCHLD): each new stage becomes a "
            "child of the runc that started init (`runc run` or `runc create`), not of the stage that made it. "
            "Why: stage 0 cannot reap stage 1 (a CLONE_PARENT child is not its child), and stage 1 exits right "
            "after forking stage 2, so the Go runc, their real parent, reaps both and learns both pids "
            "(libcontainer/nsenter/nsexec.c, clone_parent). The flags hold no CLONE_NEW*: these forks do not "
            "create namespaces. runc itself started init with clone(CLONE_VM|CLONE_VFORK), Go's os/exec."
        ),
        find=m.clone_parent(),
    )


def runc_unshare_milestone() -> Milestone:
    return Milestone(
        id="unshare",
        title="New namespaces with unshare(2)",
        narration=(
            "The middle stage calls unshare with CLONE_NEWNS, NEWUTS, NEWIPC, NEWNET and NEWPID: the kernel moves "
            "it into fresh mount, UTS, IPC and network namespaces at once. The caller never enters the new pid "
            "namespace: every child it creates afterwards is born there, and the first is pid 1, which is why "
            "it forks the final stage next."
        ),
        find=m.new_namespaces_by("unshare"),
        claim="runc calls clone() with CLONE_NEW* flags to create the container's namespaces.",
        reality=(
            "No runc clone carries a CLONE_NEW* flag: runc starts init with clone(CLONE_VM|CLONE_VFORK) and "
            "nsexec's two stage forks use clone(CLONE_PARENT|SIGCHLD); the namespaces come from unshare(2) in "
            "the middle stage, and the pid namespace is entered by forking after it. crun and bubblewrap do "
            "pass CLONE_NEW* to clone."
        ),
    )


def pivot_root_milestone() -> Milestone:
    return Milestone(
        id="pivot_root",
        title="A new root: mounts, then pivot_root",
        narration=(
            "In the new mount namespace the init stage makes / a recursive slave (mount events still reach it from "
            "the host, none go back), bind-mounts the rootfs onto itself, mounts what config.json lists inside it "
            "(proc, /dev, devpts, shm, mqueue, sysfs; a cgroup mount only when the config has one, as runc's "
            "and Docker's do and ctr's default does not), and calls pivot_root(\".\", \".\") from the rootfs. "
            "The old root, now stacked on the new one, is made rslave again before umount2(\".\", MNT_DETACH), "
            "so the detach cannot propagate an unmount to the host's mounts that share its peer group "
            "(libcontainer/rootfs_linux.go, pivotRoot). Host files are then out of reach."
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
        claim="After unshare, later system calls go to the namespace instead of the kernel.",
        reality=(
            "A namespace is not somewhere a call can go: this sethostname, like every call in the trace, is "
            "served by the one kernel named in the recording's header. The namespace decides what it changes: "
            "the caller's UTS namespace, not the host's."
        ),
    )


def identity_milestone() -> Milestone:
    return Milestone(
        id="identity-and-limits",
        title="Identity and limits: cgroups, capabilities, seccomp",
        narration=(
            "runc (`runc run` or `runc create`, not runc init) writes the pid of runc init's first stage to each "
            "cgroup's cgroup.procs right after starting it (the stages it forks, and so the container's pid 1, "
            "start in the same cgroups), wherever it may make cgroups: a rootless runc on cgroup v1 may not, and "
            "goes without. The limits (here the device rules) come later, from the same runc, when "
            "init reports that its mounts are ready and the prestart hooks may run, just before pivot_root "
            "(libcontainer/process_linux.go, procHooks). Inside, runc init drops capabilities from the bounding "
            "set, sets the others with capset, sets no_new_privs only when the config asks (Docker's default "
            "does not) and, when the config has one, loads a seccomp filter with prctl(PR_SET_SECCOMP). These "
            "limit what the container may do; they do not isolate what it sees."
        ),
        find=m.any_of(m.cgroup_writes(), m.privilege_drops()),
        required=False,
        claim="runc creates the corresponding system call.",
        reality=(
            "runc creates no system call: it makes them, like any program, and the kernel carries them out. "
            "The trace names the maker of each: runc run/create for the cgroups, runc init's stage 1 for the "
            "namespaces, stage 2 for the mounts, the root change and the privileges."
        ),
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


def everything_exited_milestone(ignore: tuple[str, ...] = (), reaper: str = "") -> Milestone:
    return Milestone(
        id="exited",
        title="Every process exited",
        narration=(
            "When pid 1 of a pid namespace exits, the kernel kills whatever is left in it; the runtime then "
            "reports the exit status and removes its state. "
            + (f"{reaper} " if reaper else "")
            + "A namespace is freed only when nothing refers to it any more: no process in it, no open "
            "/proc/PID/ns file or bind mount of one, no namespace that depends on it."
        ),
        find=m.all_of(m.launch_exited_ok(), m.all_exited(ignore)),
    )


# Chapters for what learners used to miss: each points at the events of the claim it states ----------------------


def stage2_ids_milestone() -> Milestone:
    return Milestone(
        id="stage2-ids",
        title="Stage 2 starts as root: setuid(0), setgid(0) from nsexec",
        narration=(
            "The first calls of stage 2 (`runc:[2:INIT]`, pid 1 of the new pid namespace) are setuid(0) and "
            "setgid(0). They come from nsexec, runc init's C part, which still runs before the Go runtime starts "
            "any thread (libcontainer/nsenter/nsexec.c, STAGE_INIT): the process takes uid and gid 0 of its "
            "namespaces before Go takes over. The container's own user is set much later, by the Go part."
        ),
        find=claim_finder(STAGE2_IDS, Call("syscall", "setuid", who=STAGE2), Call("syscall", "setgid", who=STAGE2),
                           first_only=True),
        required=False,
    )


def loopback_milestone() -> Milestone:
    return Milestone(
        id="loopback",
        title="runc brings the loopback interface up",
        narration=(
            "A new network namespace has one interface, `lo`, and it is down. runc init brings it up before it "
            "mounts anything: the two AF_NETLINK sockets it binds carry a request for the interface named lo "
            "and a request to set it up (libcontainer/network_linux.go, the loopback strategy runc adds for "
            "every new network namespace). boxtrace records the binds, not the netlink messages themselves."
        ),
        find=claim_finder(LOOPBACK_UP, Call("syscall", "bind", args={"family": "AF_NETLINK"}, who=STAGE2)),
        required=False,
    )


def cgroup_limits_milestone() -> Milestone:
    return Milestone(
        id="cgroup-limits",
        title="runc writes the cgroup limits while init waits",
        narration=(
            "The limits are written by the runc that started init (`runc run` or `runc create`), not by init, and "
            "after the placement: when init has made its mounts and device nodes it tells runc that the "
            "prestart hooks may run and waits. runc then writes the limits (here the device rules: deny every "
            "device, allow the few a container needs), runs the hooks, and lets init go on to pivot_root "
            "(libcontainer/process_linux.go, procHooks)."
        ),
        find=claim_finder(CGROUP_LIMITS, DEVICE_RULE_WRITE),
        required=False,
    )


def detach_old_root_milestone() -> Milestone:
    return Milestone(
        id="detach-old-root",
        title="The old root: rslave, then detached",
        narration=(
            'After pivot_root(".", ".") the old root sits on top of the new one. runc makes it a recursive slave '
            'again (mount("", ".", MS_SLAVE|MS_REC)) and only then detaches it with umount2(".", MNT_DETACH): '
            "as a slave, the old root's mounts receive nothing back from this namespace, so the unmount cannot "
            "propagate to the host's copies of those mounts (libcontainer/rootfs_linux.go, pivotRoot)."
        ),
        find=claim_finder(OLD_ROOT, OLD_ROOT_RSLAVE, OLD_ROOT_DETACH),
        required=False,
    )


def ambient_milestone() -> Milestone:
    return Milestone(
        id="ambient",
        title="Three ambient raises fail with EPERM",
        narration=(
            "After capset, runc walks the ambient set: it lowers every capability it does not keep and tries to "
            "raise the three the bundle lists as ambient. Each raise fails with EPERM, because the kernel allows "
            "an ambient capability only if it is also permitted and inheritable, and this bundle (like runc's "
            "default spec) gives no inheritable set. runc's capability library ignores the error and the "
            "container starts anyway, with an empty ambient set (capabilities(7))."
        ),
        find=claim_finder(AMBIENT_EPERM, Call("syscall", "prctl", args={"operation": "PR_CAP_AMBIENT_RAISE"})),
        required=False,
    )


def prestart_hook_milestone() -> Milestone:
    return Milestone(
        id="prestart-hook",
        title="Docker's network hook runs inside runc create",
        narration=(
            "While init waits before pivot_root, `runc create` runs the prestart hooks of config.json. Docker "
            "puts one there: `libnetwork-setkey`, dockerd's own binary, which tells dockerd the container's pid "
            "so that it can set up the network namespace runc has just made. So the networking is wired during "
            "`runc create`, before pivot_root, not between create and start."
        ),
        find=claim_finder(HOOK_BEFORE_PIVOT, HOOK_EXEC),
        required=False,
    )
