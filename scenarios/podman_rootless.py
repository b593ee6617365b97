"""Scenario `podman-rootless`: the same `podman run`, as an ordinary user with a subordinate id range.

Goal: see what "rootless" really is. podman, started by an unprivileged user, creates a user namespace and asks the
setuid helpers newuidmap and newgidmap to write its uid_map and gid_map with two ranges: inside id 0 is the user
outside, inside ids 1..65536 are the user's range from /etc/subuid and /etc/subgid. A "pause process" keeps that
user namespace alive, podman re-executes itself inside it, and from then on it is root there: every namespace of
the container is created inside (owned by) that user namespace, and its capabilities count only there. What needs
real privilege on the host (a cgroup the user does not own, a raised limit, a device) still fails.

prepare() makes a system user `boxtrace-pm-<pid of this boxtrace>` with a subordinate range (`useradd --system
--add-subids-for-system`), a private home /var/tmp/boxtrace/<user> with its own podman storage and a copy of the
rootfs tarball (the checkout and root's cache may be unreadable to that user), a run directory /run/boxtrace/<user>
as its XDG_RUNTIME_DIR, and imports the image as that user. cleanup() kills what that user still runs (the pause
process), removes its files and the user (userdel also drops its /etc/subuid and /etc/subgid lines); prepare() also
removes the users of boxtrace processes that no longer exist.

Prerequisites: root (to make the user; boxtrace traces as root, which may ptrace setuid helpers), podman, conmon,
runc, newuidmap/newgidmap (Debian's uidmap) and unprivileged user namespaces.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from scenarios import milestones as m
from scenarios.base import Launch, Milestone, Readiness, Scenario, TraceView
from scenarios.common import (
    STATE_DIR,
    clone_parent_milestone,
    first_problem,
    hostname_milestone,
    need_program,
    need_root,
    need_rootfs_source,
    pivot_root_milestone,
    run_quiet,
    runc_init_milestone,
    unique_id,
    user_namespaces_allowed,
)
from scenarios.images import import_podman_image
from scenarios.podman import (
    CLEANUP,
    CONMON,
    CONMON_DETACH,
    PODMAN_RUN,
    RUNC_CREATE,
    RUNC_DELETE,
    RUNC_START,
    PodmanPlaces,
    podman,
    run_command,
    runc_identity_milestone,
)
from scenarios.rootfs import rootfs_tarball
from tracer.events import Exec, ProcessStarted, Syscall

#: The scenario's user is named after the boxtrace process that made it (prepare, trace and cleanup run in one
#: process), so that two boxtrace sessions on one machine never share, or delete, each other's user.
USER_PREFIX = "boxtrace-pm-"


def user_name(pid: int | None = None) -> str:
    return f"{USER_PREFIX}{pid or os.getpid()}"


def home_dir(pid: int | None = None) -> Path:
    return Path("/var/tmp/boxtrace") / user_name(pid)


def runtime_dir(pid: int | None = None) -> Path:
    return STATE_DIR / user_name(pid)
SUBID_FILES = {"uid": Path("/etc/subuid"), "gid": Path("/etc/subgid")}


# Readiness: each explanation is a function of real inputs, so tests can feed it files ------------------------


@dataclass(frozen=True)
class SubRange:
    """One line of /etc/subuid or /etc/subgid: `owner` may use outside ids start..start+count-1."""

    owner: str
    start: int
    count: int


def parse_subids(text: str) -> list[SubRange]:
    """The ranges of a subuid/subgid file (NAME_OR_ID:START:COUNT per line, as subuid(5) says)."""
    out = []
    for line in text.splitlines():
        parts = line.strip().split(":")
        if len(parts) != 3 or line.lstrip().startswith("#"):
            continue
        try:
            out.append(SubRange(parts[0], int(parts[1]), int(parts[2])))
        except ValueError:
            continue
    return out


def subid_problem(kind: str, text: str | None, user: str, uid: int | None) -> Readiness | None:
    """None when `user` (or its numeric id) has a range of at least 65536 ids in the subuid/subgid text."""
    path = SUBID_FILES[kind]
    if text is None:
        return Readiness(
            False,
            f"{path} is missing: newuid/gid maps need a range of outside ids for {user}",
            f"run `sudo usermod --add-sub{kind}s 100000-165535 {user}`",
        )
    owners = {user} | ({str(uid)} if uid is not None else set())
    ranges = [r for r in parse_subids(text) if r.owner in owners]
    total = sum(r.count for r in ranges)
    if total >= 65536:
        return None
    what = f"only {total} ids" if ranges else "no range"
    return Readiness(
        False,
        f"{path} gives {user} {what}: rootless podman maps inside ids 1-65536 onto that range, so newuidmap "
        "would refuse it",
        f"run `sudo usermod --add-sub{kind}s 100000-165535 {user}` (prepare() makes a user that has one)",
    )


def newidmap_problem(which: Callable[[str], str | None] = shutil.which) -> Readiness | None:
    """None when newuidmap and newgidmap exist and are setuid root (they write maps an unprivileged user may not)."""
    for helper in ("newuidmap", "newgidmap"):
        path = which(helper)
        if path is None:
            return Readiness(
                False,
                f"{helper} is not installed: without it podman can map only the user's own id (one id inside)",
                "run `sudo apt-get install uidmap`",
            )
        st = os.stat(path)
        if st.st_uid != 0 or not st.st_mode & 0o4000:
            return Readiness(
                False,
                f"{path} is not setuid root: it cannot write a map of ids the user does not own",
                f"run `sudo chmod u+s {path}` (or reinstall uidmap)",
            )
    return None


def userns_problem(allowed: tuple[bool, str, str] | None = None) -> Readiness | None:
    ok, why, fix = allowed if allowed is not None else user_namespaces_allowed()
    if ok:
        return None
    return Readiness(False, f"{why}: rootless podman starts by creating a user namespace", f"run `{fix}`")


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


# The user and its files --------------------------------------------------------------------------------------


def user_ids(pid: int | None = None) -> tuple[int, int] | None:
    try:
        entry = pwd.getpwnam(user_name(pid))
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


def ensure_user() -> tuple[int, int]:
    """The scenario's user, made with a subordinate uid and gid range when missing."""
    ids = user_ids()
    if ids is None:
        result = run_quiet(
            ["useradd", "--system", "--add-subids-for-system", "--user-group", "--no-create-home",
             "--home-dir", str(home_dir()), "--shell", "/usr/sbin/nologin",
             "--comment", "boxtrace podman-rootless scenario (removed by its cleanup)", user_name()]
        )  # fmt: skip
        ids = user_ids()
        if ids is None:
            raise RuntimeError(f"useradd {user_name()} failed: {(result.stderr or result.stdout).strip()}")
    for kind in ("uid", "gid"):
        if subid_problem(kind, _read(SUBID_FILES[kind]), user_name(), ids[0]) is not None:
            # A user made by an older useradd without -F: give it a range above every existing one.
            start = _free_subid_start()
            run_quiet(["usermod", f"--add-sub{kind}s", f"{start}-{start + 65535}", user_name()])
    return ids


def _free_subid_start() -> int:
    ends = [r.start + r.count for f in SUBID_FILES.values() for r in parse_subids(_read(f) or "")]
    return max([100000, *ends])


def user_places() -> PodmanPlaces:
    return PodmanPlaces(home_dir() / "podman", runtime_dir() / "podman")


def user_env(places: PodmanPlaces) -> dict[str, str]:
    return places.env(home=str(home_dir()), extra={"XDG_RUNTIME_DIR": str(runtime_dir()), "USER": user_name(), "LOGNAME": user_name()})


def _own(path: Path, ids: tuple[int, int], mode: int) -> None:
    path.mkdir(parents=True, exist_ok=True)
    os.chown(path, *ids)
    path.chmod(mode)


def stage_files(ids: tuple[int, int]) -> Path:
    """The user's private home and run directory, its containers.conf and a copy of the rootfs tarball."""
    home_dir().parent.mkdir(parents=True, exist_ok=True)
    home_dir().parent.chmod(0o755)
    _own(home_dir(), ids, 0o700)
    _own(runtime_dir(), ids, 0o700)
    places = user_places()
    _own(places.graph_root, ids, 0o700)
    _own(places.run_root, ids, 0o700)
    places.write_conf()
    for path in (places.conf, places.run_root / "tmp"):
        os.chown(path, *ids)
    tarball = home_dir() / "rootfs.tar"
    if not tarball.exists():
        shutil.copyfile(rootfs_tarball(), tarball)
        os.chown(tarball, *ids)
        tarball.chmod(0o600)
    return tarball


def processes_of(uid: int) -> list[int]:
    """Pids of every process whose real uid is `uid` (the scenario's own user: all of them are ours)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("Uid:"):
                    if int(line.split()[1]) == uid:
                        pids.append(int(entry.name))
                    break
        except (OSError, ValueError, IndexError):
            continue
    return pids


def mounts_under(path: Path) -> list[str]:
    text = _read(Path("/proc/self/mounts")) or ""
    prefix = str(path) + "/"
    return [fields[1] for fields in (line.split() for line in text.splitlines()) if len(fields) > 1
            and fields[1].startswith(prefix)]


def stop_processes(uid: int) -> None:
    """SIGKILL, by pid, every process of the scenario's user (its pause process, what an interrupted run left)."""
    for pid in processes_of(uid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def remove_user(pid: int | None = None) -> list[str]:
    """Kill the user's processes (by pid), unmount and remove its files, delete the user; returns what is left."""
    ids = user_ids(pid)
    if ids is not None:
        stop_processes(ids[0])
    home, run = home_dir(pid), runtime_dir(pid)
    for target in sorted(mounts_under(home) + mounts_under(run), key=len, reverse=True):
        run_quiet(["umount", "--lazy", target])
    for path in (home, run):
        shutil.rmtree(path, ignore_errors=True)
    if ids is not None:
        run_quiet(["userdel", user_name(pid)])
    return leftovers(pid)


def remove_stale_users() -> list[str]:
    """Remove the users of earlier boxtrace processes that are gone (a session killed before its cleanup)."""
    removed = []
    for entry in pwd.getpwall():
        suffix = entry.pw_name.removeprefix(USER_PREFIX)
        if entry.pw_name.startswith(USER_PREFIX) and suffix.isdigit() and not Path(f"/proc/{suffix}").exists():
            remove_user(int(suffix))
            removed.append(entry.pw_name)
    return removed


def leftovers(pid: int | None = None) -> list[str]:
    """What of the scenario's user is still on the machine (empty when cleanup was complete)."""
    name, home, run = user_name(pid), home_dir(pid), runtime_dir(pid)
    left = []
    ids = user_ids(pid)
    if ids is not None:
        left.append(f"user {name} (uid {ids[0]})")
        left += [f"process {p}" for p in processes_of(ids[0])]
    for path in SUBID_FILES.values():
        if any(r.owner == name for r in parse_subids(_read(path) or "")):
            left.append(f"{path} entry for {name}")
    left += [str(p) for p in (home, run) if p.exists()]
    left += [f"mount {target}" for target in mounts_under(home) + mounts_under(run)]
    return left


# Milestone finders -------------------------------------------------------------------------------------------


def id_map_writes(helper: str) -> m.Finder:
    """The uid_map/gid_map writes made by `helper` (newuidmap, newgidmap), after its exec."""

    def find(view: TraceView) -> list[int]:
        helpers = {e.pid for e in view.events if isinstance(e, Exec) and os.path.basename(e.path) == helper}
        return [
            e.seq
            for e in view.events
            if isinstance(e, Syscall) and e.pid in helpers and e.name in ("write", "pwrite64") and e.error is None
            and any(name in str(e.args.get("path", "")) for name in ("uid_map", "gid_map"))
        ]

    return find


def user_namespace_first() -> m.Finder:
    """The first process made with CLONE_NEWUSER, when it comes before any other new namespace in the trace."""

    def find(view: TraceView) -> list[int]:
        user = m.process_created_with("CLONE_NEWUSER")(view)
        others = sorted(
            set(m.new_namespaces_by("unshare", "clone", "clone3")(view))
            - set(m.syscall("clone", "clone3", where=m.has_flags("CLONE_NEWUSER"))(view))
        )
        if user and (not others or user[0] < others[0]):
            return user[:1]
        return []

    return find


def pause_process() -> m.Finder:
    """The pause process: podman exec'd with no arguments (or catatonit tried) inside a new user namespace."""

    def find(view: TraceView) -> list[int]:
        host_user = view.table.host_namespaces().get("user")
        out = []
        pauses = set()
        for e in view.events:
            if isinstance(e, Exec) and os.path.basename(e.path) in ("podman", "catatonit") and len(e.argv) <= 2:
                if dict(e.ns).get("user") not in (None, host_user):
                    out.append(e.seq)
                    pauses.add(e.pid)
            elif isinstance(e, Syscall) and e.name == "execve" and "catatonit" in str(e.args.get("path", "")):
                out.append(e.seq)
        # Its birth comes first: the fork happens before the cloned child re-executes, the exec may come after.
        out += [e.seq for e in view.events if isinstance(e, ProcessStarted) and e.pid in pauses]
        return sorted(out)

    return find


def podman_in_userns() -> m.Finder:
    """podman exec'd again inside the user namespace it made (the re-exec that does the real work)."""

    def find(view: TraceView) -> list[int]:
        host_user = view.table.host_namespaces().get("user")
        out = []
        for e in view.events:
            if isinstance(e, Exec) and os.path.basename(e.path) == "podman" and "run" in e.argv:
                proc = view.table.processes.get(e.pid)
                ns = dict(e.ns) or (dict(proc.ns) if proc is not None else {})
                if host_user is not None and ns.get("user") not in (None, host_user):
                    out.append(e.seq)
        return out

    return find


def denied() -> m.Finder:
    """Calls that failed with EPERM or EACCES in a process inside a new user namespace: what the host refused
    to root-inside-a-user-namespace."""

    def find(view: TraceView) -> list[int]:
        host_user = view.table.host_namespaces().get("user")
        inside = {p.pid for p in view.table.history if p.ns.get("user") not in (None, host_user)}
        return [
            e.seq for e in view.events
            if isinstance(e, Syscall) and e.error in ("EPERM", "EACCES") and e.pid in inside
        ]

    return find


# Milestones --------------------------------------------------------------------------------------------------

USER_NAMESPACE = Milestone(
    id="user-namespace",
    title="podman clones a child into a new user namespace",
    narration=(
        "Started by an ordinary user, podman cannot create mount, pid or network namespaces: those need "
        "CAP_SYS_ADMIN. Its C helper (pkg/rootless, called through cgo) clones a child with "
        "CLONE_NEWUSER|CLONE_NEWNS, which an ordinary user "
        "may do where the kernel allows it. The kernel creates the user namespace first and makes it the owner "
        "of the new mount namespace. The child has every capability, counted in its user namespace only, and "
        "waits: until its maps are written it has no valid uid or gid there."
    ),
    find=user_namespace_first(),
    claim="Rootless means no root.",
    reality=(
        "There is a root: uid 0 inside the user namespace, with every capability there. Outside it is the "
        "ordinary user, and the kernel honours those capabilities only for what that user namespace owns."
    ),
)

NEWUIDMAP = Milestone(
    id="newuidmap",
    title="newuidmap and newgidmap write two-range maps",
    narration=(
        "podman first writes a map into /proc/CHILD/uid_map itself and the kernel refuses it (EPERM): without "
        "CAP_SETUID outside, a process may map only its own id. So it runs the setuid-root helpers "
        "`newuidmap CHILD 0 UID 1 1 START 65536` and `newgidmap ...`. They check the ranges against /etc/subuid "
        "and /etc/subgid and write two lines each: inside id 0 is the user outside, inside ids 1-65536 are the "
        "user's subordinate range. boxtrace traces as root, so the setuid helpers run with their privilege and "
        "their writes show in the trace."
    ),
    find=m.all_of(id_map_writes("newuidmap"), id_map_writes("newgidmap")),
)

PAUSE = Milestone(
    id="pause-process",
    title="The pause process holds the user namespace",
    narration=(
        "Once mapped, the child becomes uid 0 and gid 0 inside (setresuid, setresgid) and forks twice; the middle "
        "process exits, so the grandchild is orphaned. The grandchild execs podman with no arguments as the "
        "pause process: it tries `catatonit -P` (ENOENT when catatonit is not installed) and otherwise pauses in "
        "podman's own code, forever. Later podman commands of this user find its pid in pause.pid and join its "
        "user and mount namespaces with setns instead of making new ones. boxtrace's cleanup kills it."
    ),
    find=pause_process(),
)

REEXEC = Milestone(
    id="podman-in-userns",
    title="podman re-executes itself inside the user namespace",
    narration=(
        "The child that was cloned into the user namespace now execs podman again with the original arguments. "
        "That podman is uid 0 with a full capability set inside: it sets up its storage and runs conmon and runc, "
        "which inherit the same user namespace. The storage driver is podman's choice for this user: on this "
        "machine vfs, a plain copy of the image's files per container (pivot_root's target shows .../vfs/dir/...), "
        "where a configured fuse-overlayfs or the kernel's overlay would stack layers. The first podman, outside, "
        "only waits for it and passes on its exit status."
    ),
    find=podman_in_userns(),
)

OWNED_NAMESPACES = Milestone(
    id="owned-namespaces",
    title="The container's namespaces are made inside the user namespace",
    narration=(
        "runc init's middle stage unshares mount, UTS, IPC and pid namespaces as before (the network namespace "
        "too, unless --network host). Each new namespace is owned by the user namespace its creator was in: "
        "podman's. Capabilities over them come from being root in that user namespace, so the host gives "
        "nothing away."
    ),
    find=m.new_namespaces_by("unshare"),
    claim="The container is more isolated because it is rootless.",
    reality=(
        "The namespaces are the same kinds as with rootful podman; what changes is who owns them. A breakout "
        "lands as the unprivileged user, and what the host did not grant that user (cgroups, devices, raised "
        "limits) fails inside too."
    ),
)

ROOTLESS_FAILS = Milestone(
    id="denied-on-host",
    title="What root inside may not do on the host",
    narration=(
        "Calls that need privilege over something the host's user namespace owns fail, whatever the capabilities "
        "inside: here podman's and runc's mkdir of cgroup directories under /sys/fs/cgroup, owned by host root, "
        "fail with EACCES. On cgroup v1 rootless podman and runc carry on without cgroups of their own: the "
        "container runs with no cgroup limits, which a rootful run would have set."
    ),
    find=denied(),
    required=False,
)


def entrypoint_root_inside() -> m.Finder:
    """The entrypoint's exec as pid 1 of its pid namespace, in a user namespace that is not the host's."""
    pid1 = m.exec_in_new_pid_namespace("sh")

    def find(view: TraceView) -> list[int]:
        host_user = view.table.host_namespaces().get("user")
        out = []
        for seq in pid1(view):
            event = view.table.events_by_seq.get(seq)
            ns = dict(getattr(event, "ns", {}) or {})
            if host_user is not None and ns.get("user") not in (None, host_user):
                out.append(seq)
        return out

    return find


class PodmanRootlessScenario(Scenario):
    name = "podman-rootless"
    summary = "podman run as an ordinary user: a user namespace, newuidmap's ranges, root inside only"
    teaches = (
        "Rootless containers: podman makes a user namespace (kept by a pause process), setuid newuidmap/newgidmap "
        "map the user's /etc/subuid range, and every namespace of the container is owned by that user namespace."
    )
    milestones = (
        PODMAN_RUN,
        USER_NAMESPACE,
        NEWUIDMAP,
        PAUSE,
        REEXEC,
        CONMON,
        ROOTLESS_FAILS,
        CONMON_DETACH,
        RUNC_CREATE,
        runc_init_milestone(),
        clone_parent_milestone(),
        OWNED_NAMESPACES,
        pivot_root_milestone(),
        hostname_milestone(),
        runc_identity_milestone(),
        RUNC_START,
        Milestone(
            id="entrypoint",
            title="The entrypoint: pid 1 and uid 0 inside, the user outside",
            narration=(
                "runc's init execs the container's program. Inside it is pid 1 and uid 0; on the host the same "
                "process has an ordinary pid and the scenario user's uid, because uid 0 of its user namespace maps "
                "to that user."
            ),
            find=entrypoint_root_inside(),
        ),
        CLEANUP,
        RUNC_DELETE,
    )

    def __init__(self) -> None:
        self.container_name: str | None = None

    def check(self) -> Readiness:
        problem = first_problem(
            need_root("making the scenario's user and tracing its setuid helpers need root"),
            need_program("podman"),
            need_program("conmon"),
            need_program("runc"),
            newidmap_problem(),
            userns_problem(),
            need_rootfs_source(),
        )
        if not problem.ready:
            return problem
        ids = user_ids()
        if ids is not None:
            # The user exists (from an earlier prepare): its ranges must still be there.
            for kind in ("uid", "gid"):
                answer = subid_problem(kind, _read(SUBID_FILES[kind]), user_name(), ids[0])
                if answer is not None:
                    return answer
        return Readiness(True)

    def prepare(self) -> None:
        remove_stale_users()
        ids = ensure_user()
        tarball = stage_files(ids)
        places = user_places()
        import_podman_image(podman(places), tarball=tarball, user=ids, env=user_env(places))
        # The import left this user's pause process (and its user namespace) running: end it, so that the
        # traced run creates the user namespace and writes the maps itself.
        stop_processes(ids[0])

    def launch(self) -> Launch:
        ids = ensure_user()
        stage_files(ids)
        places = user_places()
        self.container_name = unique_id("podman-rootless")
        return Launch(
            command=run_command(places, self.container_name, None), env=user_env(places), cwd="/", user=ids
        )

    def cleanup(self) -> None:
        remove_user()
        self.container_name = None


SCENARIO = PodmanRootlessScenario()
