"""Scenario `podman`: `podman run` as root, with no daemon: podman -> conmon -> runc, and back to podman.

Goal: see a container start without dockerd or containerd. podman (one Go program) prepares the storage and the
OCI config, then starts conmon, the container's monitor; conmon forks once more and the first conmon exits, so the
monitor is detached from podman (reparented) and can outlive it. conmon runs `runc create`, which leaves the
container's init waiting; podman runs `runc start`. When the entrypoint exits, conmon execs `podman container
cleanup` (the exit command podman handed it), which runs `runc delete`.

Everything podman keeps is private to boxtrace: images and containers under /var/lib/boxtrace/podman, run-time state
and the network config under /run/boxtrace/podman, a containers.conf of our own (CONTAINERS_CONF), and one cgroup
parent per launch; the user's own podman storage (/var/lib/containers) is never read or written. runc keeps its state
in its default /run/runc (see RUNC_DEFAULT_ROOT for why), under the container's unique id, removed by runc delete.

Prerequisites: root, podman, conmon and runc. Three things of this machine shape the command line, and `check()` and
`boxtrace doctor` explain each (see `machine_notes()`): podman's default ulimits (nofile 1048576) exceed the hard
limits root may set here (no CAP_SYS_RESOURCE), hence `--ulimit`; crun, podman's default runtime, refuses the hybrid
cgroup layout, hence `--runtime runc`; systemd is not pid 1, hence `--cgroup-manager cgroupfs` and `--events-backend
file`.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from scenarios import milestones as m
from scenarios.base import Launch, Milestone, Readiness, Scenario, TraceView
from scenarios.common import (
    STATE_DIR,
    clone_parent_milestone,
    entrypoint_milestone,
    everything_exited_milestone,
    first_problem,
    hostname_milestone,
    identity_milestone,
    need_program,
    need_root,
    need_rootfs_source,
    pivot_root_milestone,
    runc_init_milestone,
    runc_unshare_milestone,
    unique_id,
)
from scenarios.images import PODMAN_IMAGE, import_podman_image
from tracer.events import Exec, Exit, ProcessStarted

#: What the container runs: its hostname (podman sets the short container id).
SCRIPT = "hostname"
#: `podman run` options every podman scenario uses (see the module docstring for why each is there).
RUN_OPTIONS: tuple[str, ...] = (
    "--rm",
    "--network",
    "none",
    "--runtime",
    "runc",
    "--ulimit",
    "nofile=1024:1024",
    "--ulimit",
    "nproc=1024:1024",
)
#: The hard limit podman asks for by default (define.RLimitDefaultValue in podman 4.3).
PODMAN_DEFAULT_NOFILE = 1048576
CAP_SYS_RESOURCE = 24

GRAPH_ROOT = Path("/var/lib/boxtrace/podman")
RUN_ROOT = STATE_DIR / "podman"
#: Directories podman 4.3 creates for its blob-info cache and network run state even with a private --root; removed
#: after boxtrace's own use when they did not exist before.
SHARED_PODMAN_DIRS: tuple[Path, ...] = (Path("/var/lib/containers"), Path("/run/containers"))
#: runc's default state directory, which podman as root uses. Not moved with --runtime-flag root=...: podman does
#: not hand that flag to the `podman container cleanup` it gives conmon, whose `runc delete` would then look in
#: /run/runc and leave the state behind. Removed after a launch when it was not there before and is empty again.
RUNC_DEFAULT_ROOT = Path("/run/runc")
CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class PodmanPlaces:
    """Where one podman installation of boxtrace's keeps things; `global_args()` points podman at them."""

    graph_root: Path
    run_root: Path

    @property
    def conf(self) -> Path:
        return self.run_root / "containers.conf"

    def global_args(self) -> list[str]:
        run = self.run_root
        return [
            "--root", str(self.graph_root / "storage"),
            "--runroot", str(run / "storage"),
            "--tmpdir", str(run / "libpod"),
            "--network-config-dir", str(run / "networks"),
            "--volumepath", str(self.graph_root / "volumes"),
            "--cgroup-manager", "cgroupfs",
            "--events-backend", "file",
        ]  # fmt: skip

    def write_conf(self) -> None:
        """A containers.conf of boxtrace's own: the netavark backend named (no probe that writes /etc/cni) and
        image copies staged in our run directory, not /var/tmp."""
        self.run_root.mkdir(parents=True, exist_ok=True)
        (self.run_root / "tmp").mkdir(exist_ok=True)
        self.conf.write_text(
            "# Written by boxtrace (scenarios/podman.py) for its private podman storage.\n"
            "[engine]\n"
            f'image_copy_tmp_dir = "{self.run_root / "tmp"}"\n'
            "[network]\n"
            'network_backend = "netavark"\n'
            f'network_config_dir = "{self.run_root / "networks"}"\n'
        )

    def env(self, home: str = "/root", extra: dict[str, str] | None = None) -> dict[str, str]:
        return {
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": home,
            "LANG": "C.UTF-8",
            "CONTAINERS_CONF": str(self.conf),
            **(extra or {}),
        }


ROOTFUL = PodmanPlaces(GRAPH_ROOT, RUN_ROOT)


def podman_binary() -> str:
    return shutil.which("podman") or "podman"


def podman(places: PodmanPlaces, *args: str) -> list[str]:
    """A podman command line using `places`' private storage."""
    return [podman_binary(), *places.global_args(), *args]


def podman_quiet(places: PodmanPlaces, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Run a podman command on `places` with its containers.conf, capture its output, never raise."""
    existed = shared_dirs_present()
    try:
        return subprocess.run(podman(places, *args), capture_output=True, text=True, timeout=timeout, check=False,
                              env=places.env(), cwd="/")
    except (OSError, subprocess.TimeoutExpired) as error:
        return subprocess.CompletedProcess(podman(places, *args), 127, "", str(error))
    finally:
        remove_new_shared_dirs(existed)


def run_command(places: PodmanPlaces, name: str, cgroup_parent: str | None) -> list[str]:
    extra = ["--cgroup-parent", cgroup_parent] if cgroup_parent else []
    return podman(places, "run", *RUN_OPTIONS, "--name", name, *extra, PODMAN_IMAGE, "sh", "-c", SCRIPT)


# What this machine asks of the command line: detected and explained --------------------------------------------


@dataclass(frozen=True)
class MachineNote:
    """Something of this host that the podman command line works around: what and why, in one sentence each."""

    name: str
    applies: bool
    detail: str
    #: The option of RUN_OPTIONS (or the global options) that works around it.
    option: str


def ulimit_note(effective_caps: int, nofile_hard: int, nproc_hard: int) -> MachineNote:
    """podman raises RLIMIT_NOFILE to 1048576 by default; runc's setrlimit then fails with EPERM when the hard
    limit is lower and the caller lacks CAP_SYS_RESOURCE (setrlimit(2))."""
    has_resource = bool(effective_caps >> CAP_SYS_RESOURCE & 1)
    applies = not has_resource and nofile_hard < PODMAN_DEFAULT_NOFILE
    if applies:
        detail = (
            f"root here lacks CAP_SYS_RESOURCE and its hard limits are nofile {nofile_hard} and nproc {nproc_hard}: "
            f"podman's default (nofile {PODMAN_DEFAULT_NOFILE}) would make runc's setrlimit fail with EPERM, so "
            "boxtrace passes --ulimit nofile=1024:1024 --ulimit nproc=1024:1024"
        )
    else:
        detail = "podman's default ulimits can be set here; boxtrace still passes --ulimit for the same trace"
    return MachineNote("podman ulimits", applies, detail, "--ulimit")


def crun_note(refusal: str | None) -> MachineNote:
    if refusal is None:
        return MachineNote("podman runtime", False, "crun works here; boxtrace uses runc to compare with "
                           "docker", "--runtime runc")
    return MachineNote(
        "podman runtime",
        True,
        f"crun, podman's default runtime, refuses this host ({refusal.splitlines()[-1][:160]}), so boxtrace "
        "passes --runtime runc",
        "--runtime runc",
    )


def systemd_note(pid1_comm: str | None) -> MachineNote:
    applies = pid1_comm != "systemd"
    if applies:
        detail = (
            f"systemd is not pid 1 (pid 1 is {pid1_comm or 'unknown'}): podman's systemd cgroup manager and "
            "journald events need it, so boxtrace passes --cgroup-manager cgroupfs --events-backend file"
        )
    else:
        detail = "systemd is pid 1; boxtrace still uses cgroupfs and the file events backend, as on any host"
    return MachineNote("podman and systemd", applies, detail, "--cgroup-manager cgroupfs --events-backend file")


def _effective_caps() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16)
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _pid1_comm() -> str | None:
    try:
        return Path("/proc/1/comm").read_text().strip()
    except OSError:
        return None


def machine_notes() -> list[MachineNote]:
    """Each thing of this host the podman command line works around, detected now."""
    from scenarios.crun import crun_refusal

    return [
        ulimit_note(
            _effective_caps(),
            resource.getrlimit(resource.RLIMIT_NOFILE)[1],
            resource.getrlimit(resource.RLIMIT_NPROC)[1],
        ),
        crun_note(crun_refusal()),
        systemd_note(_pid1_comm()),
    ]


# Storage, image and cleanup --------------------------------------------------------------------------------------


def remove_new_shared_dirs(existed: dict[Path, bool], with_files: bool = False) -> None:
    """Remove the shared podman directories that a podman command of ours created. Without `with_files` only
    empty directories go (podman makes /run/containers/networks on any command; a podman of someone else's that
    started meanwhile keeps its files); with it, the whole tree (the blob-info cache our import wrote)."""
    for path, was_there in existed.items():
        if was_there or not path.is_dir():
            continue
        if with_files:
            shutil.rmtree(path, ignore_errors=True)
            continue
        for directory in sorted((p for p in path.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)) + [path]:
            try:
                directory.rmdir()
            except OSError:
                pass


def shared_dirs_present() -> dict[Path, bool]:
    return {path: path.exists() for path in SHARED_PODMAN_DIRS}


def cgroup_dirs(parent: str) -> list[Path]:
    """The directories of cgroup `parent` in every mounted hierarchy (v1 controllers and the v2 mount)."""
    name = parent.strip("/")
    if not name or not CGROUP_ROOT.is_dir():
        return []
    found = []
    for hierarchy in sorted(CGROUP_ROOT.iterdir()):
        candidate = hierarchy / name
        if candidate.is_dir():
            found.append(candidate)
    if (CGROUP_ROOT / "cgroup.procs").exists() and (CGROUP_ROOT / name).is_dir():
        found.append(CGROUP_ROOT / name)
    return found


def remove_cgroup_tree(parent: str) -> list[Path]:
    """rmdir the cgroup `parent` and everything under it, deepest first, in every hierarchy; returns what is left
    (directories that still hold processes)."""
    left = []
    for top in cgroup_dirs(parent):
        for directory in sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)) + [top]:
            try:
                directory.rmdir()
            except FileNotFoundError:
                pass
            except OSError:
                left.append(directory)
    return left


# Milestone finders -----------------------------------------------------------------------------------------------


def _is_podman(event: Exec) -> bool:
    return os.path.basename(event.path) == "podman" or bool(event.argv and os.path.basename(event.argv[0]) == "podman")


def conmon_detaches() -> m.Finder:
    """conmon's fork and its parent's exit: the second conmon is orphaned, so nothing of podman's waits on it."""

    def find(view: TraceView) -> list[int]:
        conmons = {
            e.pid: e.seq
            for e in view.events
            if isinstance(e, Exec) and os.path.basename(e.path) == "conmon" and "--version" not in e.argv
        }
        out: list[int] = []
        for e in view.events:
            if isinstance(e, ProcessStarted) and e.creator in conmons and e.seq > conmons[e.creator]:
                exits = [x.seq for x in view.events if isinstance(x, Exit) and x.pid == e.creator and x.seq > e.seq]
                if exits:
                    out += [e.seq, exits[0]]
        return out

    return find


def podman_reexec(*words: str) -> m.Finder:
    """Execs of podman whose argv holds every one of `words`, by a process that conmon created."""

    def find(view: TraceView) -> list[int]:
        conmon_pids = {e.pid for e in view.events if isinstance(e, Exec) and os.path.basename(e.path) == "conmon"}
        # The second conmon never execs: it is a fork of the first, still named conmon.
        conmon_pids |= {e.pid for e in view.events if isinstance(e, ProcessStarted) and e.comm == "conmon"}
        creators = {e.pid: e.creator for e in view.events if isinstance(e, ProcessStarted)}
        return [
            e.seq
            for e in view.events
            if isinstance(e, Exec) and _is_podman(e) and all(w in e.argv for w in words)
            and creators.get(e.pid) in conmon_pids
        ]

    return find


def by_runc(finder: m.Finder) -> m.Finder:
    """What `finder` finds in runc's own processes (runc create, runc init's stages), not in podman or conmon."""

    def find(view: TraceView) -> list[int]:
        runc = {e.pid for e in view.events if isinstance(e, Exec) and ("runc" in os.path.basename(e.path)
                                                                       or e.argv[1:2] == ["init"])}
        runc |= {e.pid for e in view.events if isinstance(e, ProcessStarted) and e.comm.startswith("runc")}
        by_seq = view.table.events_by_seq
        return [seq for seq in finder(view) if getattr(by_seq.get(seq), "pid", None) in runc]

    return find


def runc_identity_milestone() -> Milestone:
    """The common identity chapter, found in runc's calls only: podman makes cgroup directories too (for conmon),
    and the chapter's text is about runc."""
    common = identity_milestone()
    return Milestone(
        id=common.id,
        title=common.title,
        narration=common.narration,
        find=by_runc(common.find),
        required=False,
    )


def attach_socket() -> m.Finder:
    """conmon binds the attach socket, podman connects to it (both name it through /proc/self/fd/N)."""
    return m.syscall("bind", "connect", where=lambda args: str(args.get("path", "")).startswith("/proc/self/fd/"))


def _exec_args(name: str, sub: str) -> m.Finder:
    return m.exec_of(name, argv=lambda argv: sub in argv[1:])


# Milestones shared with podman-rootless ---------------------------------------------------------------------------

PODMAN_RUN = Milestone(
    id="podman-run",
    title="podman run: one program, no daemon",
    narration=(
        "podman itself does what dockerd and containerd do for docker: it opens its storage (images and "
        "containers are files under --root, guarded by lock files), prepares the container's root filesystem "
        "(an overlay mount when run as root), writes the OCI config.json and starts the monitor. There is no "
        "daemon to connect to."
    ),
    find=_exec_args("podman", "run"),
    claim="Every container engine is a client talking to a daemon.",
    reality=(
        "podman forks and execs the monitor and runc itself; while the container runs, what stays beside it is "
        "conmon, one small C process per container (and, rootless, the pause process), not a daemon."
    ),
)

CONMON = Milestone(
    id="conmon",
    title="podman starts conmon, the container monitor",
    narration=(
        "podman vfork-execs conmon with the container id, the bundle, the runtime (runc) and an exit command. "
        "conmon will hold the container's stdio and its attach socket, wait for its exit status and write it "
        "to a file, and run the exit command when the container ends."
    ),
    find=m.exec_of("conmon", argv=lambda argv: "--version" not in argv),
)

CONMON_DETACH = Milestone(
    id="conmon-detach",
    title="conmon forks and its parent exits: detached",
    narration=(
        "conmon forks a second conmon and the first one exits at once, so podman's wait returns and the second "
        "conmon is orphaned: the kernel reparents it to the nearest subreaper or pid 1. That conmon makes itself a "
        "child subreaper (prctl(PR_SET_CHILD_SUBREAPER)) and runs `runc create`; when runc create exits, the "
        "container's init is reparented to conmon, which reaps it. podman can exit, and the container lives on "
        "under conmon."
    ),
    find=conmon_detaches(),
    claim="The engine's process is the container's parent.",
    reality=(
        "The container's parent is conmon, which podman started and let go of; with docker it is the shim, "
        "which containerd started. Neither engine is the parent."
    ),
)

RUNC_CREATE = Milestone(
    id="runc-create",
    title="conmon runs `runc create`",
    narration=(
        "conmon forks and execs `runc create --bundle ... --pid-file ...` on the bundle podman wrote. runc builds "
        "the container, leaves its init blocked on the exec.fifo and exits; conmon reads the pid file and tells "
        "podman through its sync pipe."
    ),
    find=m.runc_command("create"),
)

RUNC_START = Milestone(
    id="runc-start",
    title="podman runs `runc start`",
    narration=(
        "Once it is attached to conmon's socket, podman itself runs `runc start`, which opens exec.fifo for "
        "reading: the waiting init continues and execs the entrypoint."
    ),
    find=m.runc_command("start"),
)

ATTACH = Milestone(
    id="attach-socket",
    title="The attach socket, named through /proc/self/fd",
    narration=(
        "conmon binds a Unix socket named `attach` in a per-container directory and podman connects to it to "
        "receive the container's output. Both name it as /proc/self/fd/N/attach or /proc/self/fd/N: an fd opened "
        "on the directory (or the socket file), because a sun_path holds only 108 bytes and the real path is "
        "longer. boxtrace shows the real place beside it."
    ),
    find=attach_socket(),
    required=False,
)

CLEANUP = Milestone(
    id="podman-cleanup",
    title="conmon execs `podman container cleanup`",
    narration=(
        "When the entrypoint exits, conmon collects its status and runs the exit command podman gave it: podman "
        "again, as `podman ... container cleanup ID`, with the same storage options. This podman unmounts the "
        "container's root and shm and runs `runc delete`."
    ),
    find=podman_reexec("container", "cleanup"),
)

RUNC_DELETE = Milestone(
    id="runc-delete",
    title="`runc delete` removes runc's state",
    narration=(
        "`runc delete` removes the container's runc state directory and its cgroups. `podman run --rm` then "
        "removes the container from podman's storage."
    ),
    find=m.runc_command("delete"),
)


def remove_left_containers(places: PodmanPlaces) -> list[str]:
    """What a killed trace leaves in boxtrace's own podman storage: stopped containers (removed) and the empty
    cgroup parents of earlier launches (rmdir only succeeds on empty ones). Running containers may belong to
    another boxtrace and are left alone. Returns the container ids removed."""
    listed = podman_quiet(places, "ps", "--all", "--quiet", "--filter", "status=exited", "--filter", "status=created")
    removed = []
    for cid in listed.stdout.split() if listed.returncode == 0 else []:
        if podman_quiet(places, "rm", "--force", cid).returncode == 0:
            removed.append(cid)
    if CGROUP_ROOT.is_dir():
        for hierarchy in CGROUP_ROOT.iterdir():
            for parent in hierarchy.glob("boxtrace-podman-*"):
                remove_cgroup_tree("/" + parent.name)
    return removed


class PodmanScenario(Scenario):
    name = "podman"
    summary = "podman run as root: podman, conmon, runc and back, with no daemon"
    teaches = (
        "A daemonless engine: podman starts conmon (detached by a fork), conmon runs runc create, podman runs runc "
        "start, and conmon execs podman again to clean up when the container exits."
    )
    milestones = (
        PODMAN_RUN,
        CONMON,
        CONMON_DETACH,
        RUNC_CREATE,
        runc_init_milestone(),
        clone_parent_milestone(),
        runc_unshare_milestone(),
        pivot_root_milestone(),
        hostname_milestone(),
        runc_identity_milestone(),
        ATTACH,
        RUNC_START,
        entrypoint_milestone("sh"),
        CLEANUP,
        RUNC_DELETE,
        everything_exited_milestone(),
    )

    places = ROOTFUL

    def __init__(self) -> None:
        self.container_name: str | None = None
        self.cgroup_parent: str | None = None
        self.runc_root_existed = True
        self.shared_existed: dict[Path, bool] = {}

    def check(self) -> Readiness:
        return first_problem(
            need_root("podman as root creates namespaces, mounts and cgroups"),
            need_program("podman"),
            need_program("conmon"),
            need_program("runc"),
            need_rootfs_source(),
        )

    def prepare(self) -> None:
        self.places.write_conf()
        existed = shared_dirs_present()
        try:
            import_podman_image(podman(self.places), env=self.places.env())
        finally:
            remove_new_shared_dirs(existed, with_files=True)
        remove_left_containers(self.places)

    def launch(self) -> Launch:
        self.places.write_conf()
        self.runc_root_existed = RUNC_DEFAULT_ROOT.exists()
        # podman run makes /run/containers/networks (netavark's run directory) even with --network none.
        self.shared_existed = shared_dirs_present()
        self.container_name = unique_id("podman")
        self.cgroup_parent = f"/{self.container_name}"
        return Launch(
            command=run_command(self.places, self.container_name, self.cgroup_parent),
            env=self.places.env(),
            cwd="/",
        )

    def cleanup(self) -> None:
        if self.container_name:
            if podman_quiet(self.places, "container", "exists", self.container_name).returncode == 0:
                podman_quiet(self.places, "rm", "--force", self.container_name)
        if self.cgroup_parent:
            remove_cgroup_tree(self.cgroup_parent)
        if not self.runc_root_existed:
            try:
                RUNC_DEFAULT_ROOT.rmdir()  # only when empty: runc delete removed the container's state
            except OSError:
                pass
        remove_new_shared_dirs(self.shared_existed)
        self.shared_existed = {}
        self.container_name = None
        self.cgroup_parent = None
        self.runc_root_existed = True


SCENARIO = PodmanScenario()
