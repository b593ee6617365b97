"""When a launch fails: one plain sentence naming the cause, and one naming the fix.

Each rule looks for a failure a learner meets when building containers by hand or running a runtime, in the
order the kernel makes them:
- `namespace-permission`: unshare/clone/clone3 with CLONE_NEW* refused (EPERM: no CAP_SYS_ADMIN, or
  unprivileged user namespaces switched off; ENOSPC: the namespace limit is 0 or reached; EINVAL: a threaded
  process asking for a user namespace, or a namespace kind the kernel lacks), and setns refused;
- `id-map`: a uid_map/gid_map write refused, above all gid_map without "deny" written to setgroups first;
- `pivot_root`: pivot_root refused: the new root is not a mount point (EINVAL, or EBUSY when the directory
  lies on the current root's mount), its propagation is shared, or the current root is the initramfs (EINVAL);
  EPERM;
- `entrypoint`: the entrypoint missing inside the new root: execve ENOENT after pivot_root/chroot, or runc's
  init stopping after pivot_root without exec (runc looks the program up itself before exec);
- `cgroup`: a runtime refusing the host's cgroup layout (crun 1.8 on the hybrid v1+v2 layout when the v2
  hierarchy has controllers: it clones the container process, kills it and exits before making any cgroup), or a
  cgroup write refused.

`diagnose(events) -> list[Diagnosis]`, oldest first. Rules only speak when the trace shows the failure: a
successful launch gets an empty list.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tracer.decoders import Trait, syscalls_with
from tracer.events import Event, Exec, Exit, MountSnapshot, ProcessStarted, Syscall
from tracer.insights.cgroups import parse_cgroup_path
from tracer.insights.common import Replay, replay
from tracer.insights.idmaps import map_file
from tracer.insights.mounts import MountTree
from tracer.insights.paths import PathResolver
from tracer.processes import Process
from tracer.xlat.clone import NAMESPACE_OF_FLAG, namespaces_of

#: The calls whose CLONE_NEW* flags can fail for lack of privilege (setns is handled on its own).
NEW_NAMESPACE_SYSCALLS = syscalls_with(Trait.NEW_NAMESPACE)
ROOT_SYSCALLS = syscalls_with(Trait.ROOT)
EXEC_SYSCALLS = syscalls_with(Trait.EXEC)


@dataclass(frozen=True)
class Diagnosis:
    """Why a launch failed (`sentence`) and what to do about it (`fix`), at the event `seq`."""

    sentence: str
    fix: str
    seq: int
    pid: int | None = None
    #: namespace-permission | id-map | pivot_root | entrypoint | cgroup
    kind: str = ""


def diagnose(events: Iterable[Event]) -> list[Diagnosis]:
    events = list(events)
    found: list[Diagnosis] = []
    found += _namespace_failures(events)
    found += _id_map_failures(events)
    found += _pivot_root_failures(events)
    found += _entrypoint_failures(events)
    found += _cgroup_failures(events)
    return sorted(found, key=lambda d: d.seq)


# Namespaces -------------------------------------------------------------------------------------------------


def _call_text(event: Syscall) -> str:
    flags = [f for f in event.args.get("flags") or [] if f in NAMESPACE_OF_FLAG]
    return f"{event.name}({'|'.join(flags)})"


def _namespace_failures(events: Sequence[Event]) -> list[Diagnosis]:
    out: list[Diagnosis] = []
    for event, state in replay(events):
        if not isinstance(event, Syscall) or event.error is None:
            continue
        if event.name == "setns" and event.error == "EPERM":
            out.append(
                Diagnosis(
                    f"setns in {state.label(event.pid)} failed with EPERM: joining a namespace needs "
                    "CAP_SYS_ADMIN in the user namespace that owns it (and CAP_SYS_ADMIN in your own)",
                    "run as root, or join the container's user namespace first (nsenter --user "
                    "--preserve-credentials)",
                    event.seq,
                    event.pid,
                    "namespace-permission",
                )
            )
            continue
        if event.name not in NEW_NAMESPACE_SYSCALLS:
            continue
        kinds = namespaces_of(event.args.get("flags") or [])
        if not kinds:
            continue
        who = state.label(event.pid)
        call = _call_text(event)
        if event.error == "EPERM" and "user" in kinds:
            out.append(
                Diagnosis(
                    f"{call} in {who} failed with EPERM: this machine does not let an unprivileged process "
                    "create a user namespace (kernel.unprivileged_userns_clone=0 on Debian kernels, an "
                    "AppArmor or SELinux policy such as kernel.apparmor_restrict_unprivileged_userns=1), "
                    "or the caller is in a chroot",
                    "allow unprivileged user namespaces (sudo sysctl -w kernel.unprivileged_userns_clone=1, "
                    "or kernel.apparmor_restrict_unprivileged_userns=0, or an AppArmor profile for the "
                    "program), or run it as root",
                    event.seq,
                    event.pid,
                    "namespace-permission",
                )
            )
        elif event.error == "EPERM":
            out.append(
                Diagnosis(
                    f"{call} in {who} failed with EPERM: creating {', '.join(kinds)} namespaces needs "
                    "CAP_SYS_ADMIN, and this process runs without it (it is not root, or root has lost the "
                    "capability)",
                    "run it as root (sudo), or create a user namespace in the same call or first "
                    "(CLONE_NEWUSER, `unshare --user --map-root-user ...`, the teach runtime's --rootless): "
                    "inside it the process has CAP_SYS_ADMIN over the namespaces it creates",
                    event.seq,
                    event.pid,
                    "namespace-permission",
                )
            )
        elif event.error == "ENOSPC":
            limit = "user.max_user_namespaces" if "user" in kinds else "user.max_<kind>_namespaces"
            out.append(
                Diagnosis(
                    f"{call} in {who} failed with ENOSPC: the limit on {', '.join(kinds)} namespaces is "
                    f"reached ({limit} is 0 or used up; user namespaces have their own copy of these limits)",
                    f"raise the limit: sudo sysctl -w {limit.replace('<kind>', kinds[0])}=15000 (or write "
                    "the limit in the user namespace that set it to 0)",
                    event.seq,
                    event.pid,
                    "namespace-permission",
                )
            )
        elif event.error == "EINVAL":
            reason = (
                "a process with several threads may not create a user namespace, and some flag combinations "
                "are refused (CLONE_NEWUSER with CLONE_FS, CLONE_NEWPID with CLONE_THREAD)"
                if "user" in kinds or event.name != "unshare"
                else "the kernel lacks one of these namespace kinds (CONFIG_*_NS) or refuses the combination"
            )
            out.append(
                Diagnosis(
                    f"{call} in {who} failed with EINVAL: {reason}",
                    "unshare the user namespace before starting threads (runc does it in C before the Go "
                    "runtime starts), and check /proc/self/ns for the kinds this kernel has",
                    event.seq,
                    event.pid,
                    "namespace-permission",
                )
            )
    return out


# Id maps ----------------------------------------------------------------------------------------------------


def _id_map_failures(events: Sequence[Event]) -> list[Diagnosis]:
    out: list[Diagnosis] = []
    denied: set[tuple[int, str]] = set()  # (writer, target path pid) with "deny" written
    effective: dict[int, int] = {}  # pid -> effective capability set after its last exec
    for event, state in replay(events):
        if isinstance(event, Exec) and event.caps and event.caps.get("effective"):
            try:
                effective[event.pid] = int(str(event.caps["effective"]), 16)
            except ValueError:
                pass
        if not isinstance(event, Syscall) or event.name != "write":
            continue
        path = event.args.get("path")
        found = map_file(path) if isinstance(path, str) else None
        if path is None or found is None:
            continue
        _, number, name = found
        key = (event.pid, str(number))
        data = str(event.args.get("data") or "").strip()
        if event.error is None:
            if name == "setgroups" and data == "deny":
                denied.add(key)
            continue
        who = state.label(event.pid)
        if name == "gid_map" and key not in denied and event.error in ("EPERM", "EINVAL"):
            out.append(
                Diagnosis(
                    f'writing gid_map ("{data}") to {path} in {who} failed with {event.error}: an '
                    'unprivileged process must write "deny" to setgroups before it may write gid_map, so '
                    "that nobody can drop "
                    "a supplementary group that denies them access to a file",
                    f'write "deny" to {os.path.dirname(path)}/setgroups first (the teach runtime\'s '
                    "--rootless "
                    "does), or map groups with newgidmap, which uses /etc/subgid",
                    event.seq,
                    event.pid,
                    "id-map",
                )
            )
        elif (name in ("uid_map", "gid_map") and event.error == "EPERM" and _lacks(effective, event.pid, name)
              and _writer_inside(state, event.pid, number)):
            kind = "uid" if name == "uid_map" else "gid"
            capability = "CAP_SETUID" if kind == "uid" else "CAP_SETGID"
            out.append(
                Diagnosis(
                    f'writing {name} ("{data}") to {path} in {who} failed with EPERM: the writer has neither '
                    f"{capability} nor CAP_SYS_ADMIN (its effective set at exec). The process that creates a "
                    "user namespace holds every "
                    "capability in it, but loses them all when it execs a program while its uid has no mapping "
                    "yet (it is then nobody, not root, in the namespace): a shell started by `unshare --user` "
                    "cannot write its own map",
                    "write the map from a process in the parent namespace (the teach runtime's --rootless "
                    f"parent does, and new{kind}map), or from the namespace's creator before it execs "
                    "(`unshare --map-root-user` does)",
                    event.seq,
                    event.pid,
                    "id-map",
                )
            )
        elif name in ("uid_map", "gid_map") and event.error in ("EPERM", "EINVAL"):
            kind = "uid" if name == "uid_map" else "gid"
            out.append(
                Diagnosis(
                    f'writing {name} ("{data}") to {path} in {who} failed with {event.error}: a map is '
                    "written once, "
                    f"by a process in the parent user namespace, and without CAP_SET{kind.upper()} there it "
                    f"may map only the writer's own {kind} to a single id",
                    f'map only your own {kind} ("0 $(id -{kind[0]}) 1"), or use new{kind}map with ranges '
                    "from "
                    f"/etc/sub{kind}",
                    event.seq,
                    event.pid,
                    "id-map",
                )
            )
    return _not_recovered(out, events)


def _writer_inside(state: Replay, writer: int, number: int | None) -> bool:
    """True when the writer is in the target's user namespace (a process writing its own map), or unknown. A
    writer in the parent namespace whose euid owns the new namespace holds every capability in it
    (user_namespaces(7)), so its own effective set says nothing; its limit is the one-own-id rule."""
    proc = state.table.processes.get(writer)
    target_pid = state.pid_seen_by(writer, number) if number is not None else writer
    target = state.table.processes.get(target_pid) if target_pid is not None else None
    if proc is None or target is None:
        return True
    return proc.ns.get("user") == target.ns.get("user")


def _not_recovered(found: list[Diagnosis], events: Sequence[Event]) -> list[Diagnosis]:
    """Drop refused map writes that a later write of the same map file succeeded for (podman tries its own write,
    then runs newuidmap): the launch went on, so they are not why it failed."""
    written: list[tuple[int, str]] = []
    for event in events:
        if isinstance(event, Syscall) and event.name == "write" and event.error is None:
            path = str(event.args.get("path") or "")
            if path.endswith(("/uid_map", "/gid_map")):
                written.append((event.seq, path))
    out = []
    for diagnosis in found:
        failed = next((e for e in events if isinstance(e, Syscall) and e.seq == diagnosis.seq), None)
        path = str(failed.args.get("path") or "") if failed is not None else ""
        if diagnosis.kind == "id-map" and any(seq > diagnosis.seq and p == path for seq, p in written):
            continue
        out.append(diagnosis)
    return out


def _lacks(effective: dict[int, int], pid: int, map_name: str) -> bool:
    """True when the writer's effective set, as recorded at its exec, has neither CAP_SETUID (uid_map, bit 7)
    or CAP_SETGID (gid_map, bit 6) nor CAP_SYS_ADMIN (bit 21): user_namespaces(7) asks a map writer for the
    first in the target namespace, so no map can succeed; False when unknown."""
    caps = effective.get(pid)
    if caps is None:
        return False
    bit = 7 if map_name == "uid_map" else 6
    return not caps & ((1 << bit) | (1 << 21))


# pivot_root -------------------------------------------------------------------------------------------------


def _pivot_root_failures(events: Sequence[Event]) -> list[Diagnosis]:
    out: list[Diagnosis] = []
    resolver = PathResolver()
    snapshots: dict[int, MountTree] = {}
    mounted: dict[int, set[str]] = {}
    propagation_cut: dict[int, bool] = {}
    for event, state in replay(events):
        if isinstance(event, MountSnapshot):
            snapshots[event.pid] = MountTree.from_lines(event.mountinfo)
        elif isinstance(event, ProcessStarted) and event.creator is not None:
            # A child shares its creator's mount namespace (unless it has a new one, which starts as a copy).
            mounted[event.pid] = set(mounted.get(event.creator, set()))
            propagation_cut[event.pid] = propagation_cut.get(event.creator, False)
        elif isinstance(event, Syscall) and event.name == "mount" and event.error is None:
            targets = {p.readable for p in resolver.paths(event) if p.key == "target" and p.readable}
            flags = event.args.get("flags") or []
            if event.args.get("operation") in ("bind", "new", "move"):
                mounted.setdefault(event.pid, set()).update(targets)
            if "/" in targets and {"MS_PRIVATE", "MS_SLAVE"} & set(flags) and "MS_REC" in flags:
                propagation_cut[event.pid] = True
        elif isinstance(event, Syscall) and event.name == "pivot_root" and event.error is not None:
            out.append(
                _pivot_root_diagnosis(
                    event,
                    state,
                    resolver,
                    snapshots.get(event.pid),
                    mounted.get(event.pid, set()),
                    propagation_cut.get(event.pid, False),
                )
            )
        resolver.add(event)
    return out


def _pivot_root_diagnosis(
    event: Syscall,
    state: Replay,
    resolver: PathResolver,
    tree: MountTree | None,
    mounted: set[str],
    propagation_cut: bool,
) -> Diagnosis:
    paths = {p.key: p for p in resolver.paths(event)}
    new_root = paths.get("new_root")
    place = new_root.readable if new_root is not None and new_root.readable else event.args.get("new_root")
    who = state.label(event.pid)
    head = (
        f'pivot_root("{event.args.get("new_root")}", "{event.args.get("put_old")}") in {who} failed with '
        f"{event.error}"
    )
    if event.error == "EPERM":
        return Diagnosis(
            f"{head}: pivot_root needs CAP_SYS_ADMIN in the user namespace that owns the mount namespace",
            "run the runtime as root, or inside a user namespace that owns a new mount namespace",
            event.seq,
            event.pid,
            "pivot_root",
        )
    if event.error not in ("EINVAL", "EBUSY"):
        return Diagnosis(
            f"{head}",
            "check that both arguments are directories inside a new mount namespace",
            event.seq,
            event.pid,
            "pivot_root",
        )
    points = {m.mount_point for m in tree.mounts.values()} if tree is not None else set()
    root = tree.root if tree is not None else None
    if isinstance(place, str) and place not in points and place not in mounted:
        # The kernel says EBUSY when the directory lies on the current root's mount, EINVAL when on another.
        return Diagnosis(
            f"{head}: the new root {place} is not a mount point, and pivot_root only swaps whole mounts",
            f"bind-mount the directory onto itself first: mount --bind {place} {place} (mount(2) with "
            "MS_BIND|MS_REC), as every runtime does before pivot_root",
            event.seq,
            event.pid,
            "pivot_root",
        )
    if event.error == "EBUSY":
        return Diagnosis(
            f"{head}: the new root {place} is busy: it is already the root, or put_old is on the "
            "current root's mount",
            "pivot into a directory that is a mount point of its own and not the current root",
            event.seq,
            event.pid,
            "pivot_root",
        )
    if root is not None and root.fstype in ("rootfs", "ramfs"):
        return Diagnosis(
            f"{head}: the current root is the initramfs ({root.fstype}), which can never be unmounted, so "
            "pivot_root refuses to move it away",
            "use chroot with a MS_MOVE of the new root instead (switch_root does this; runc has --no-pivot "
            "for exactly this case)",
            event.seq,
            event.pid,
            "pivot_root",
        )
    if not propagation_cut and root is not None and "shared" in root.propagation:
        return Diagnosis(
            f"{head}: the mounts involved have shared propagation, and pivot_root refuses to move a root "
            "whose changes would propagate to the host",
            "make the mount tree private (or slave) first: mount --make-rprivate / (mount(2) with "
            'MS_REC|MS_PRIVATE on "/")',
            event.seq,
            event.pid,
            "pivot_root",
        )
    return Diagnosis(
        f"{head}: the kernel refuses when the new root is not a mount point, when put_old is not at or "
        "under it, when a mount involved has shared propagation, or when the current root is the initramfs",
        "bind-mount the new root onto itself, make the tree private (mount --make-rprivate /), and pivot "
        "from "
        'inside it with pivot_root(".", ".")',
        event.seq,
        event.pid,
        "pivot_root",
    )


# The entrypoint ---------------------------------------------------------------------------------------------


def _entrypoint_failures(events: Sequence[Event]) -> list[Diagnosis]:
    out: list[Diagnosis] = []
    resolver = PathResolver()
    entered: dict[int, tuple[str, int]] = {}  # pid -> (how it changed root: pivot_root/chroot, seq)
    attempts: dict[int, list[tuple[Syscall, str, str | None]]] = {}
    execed_after: set[int] = set()
    last_state: Replay | None = None
    for event, state in replay(events):
        last_state = state
        if isinstance(event, ProcessStarted) and event.creator in entered:
            entered[event.pid] = entered[event.creator]
        elif isinstance(event, Syscall) and event.name in ROOT_SYSCALLS and event.error is None:
            entered[event.pid] = (event.name, event.seq)
        elif isinstance(event, Syscall) and event.name in EXEC_SYSCALLS and event.error == "ENOENT":
            if event.pid in entered:
                paths = {p.key: p for p in resolver.paths(event)}
                found = paths.get("path")
                attempts.setdefault(event.pid, []).append(
                    (event, resolver.root_of(event.pid), found.readable if found is not None else None)
                )
        elif isinstance(event, Exec) and event.pid in entered:
            execed_after.add(event.pid)
            attempts.pop(event.pid, None)
        elif isinstance(event, Exit) and event.pid in entered and event.pid not in execed_after:
            if event.pid not in attempts and event.code not in (0, None):
                out.append(_stopped_without_exec(event, state, resolver, entered[event.pid][0]))
        resolver.add(event)
    for pid, tries in attempts.items():
        first, root, readable = tries[0]
        names = list(dict.fromkeys(str(t[0].args.get("path")) for t in tries))
        argv = first.args.get("argv")
        program = argv[0] if isinstance(argv, list) and argv else names[-1]
        how = entered[pid][0]
        who = last_state.label(pid) if last_state is not None else str(pid)
        tried = f" (tried {', '.join(names)})" if len(names) > 1 else ""
        host = f"; on the host that is {readable}" if readable and readable != names[0] else ""
        out.append(
            Diagnosis(
                f"the entrypoint {program} does not exist inside the new root {root}: after {how} paths "
                f"resolve inside it, and execve in {who} failed with ENOENT{tried}{host}",
                f"put {program} into the root filesystem (or fix the command); ENOENT also means a missing "
                "interpreter on a script's #! line or a missing dynamic loader (/lib64/ld-linux-x86-64.so.2) "
                "inside the rootfs",
                first.seq,
                pid,
                "entrypoint",
            )
        )
    return out


def _stopped_without_exec(event: Exit, state: Replay, resolver: PathResolver, how: str) -> Diagnosis:
    root = resolver.root_of(event.pid)
    who = state.label(event.pid)
    name = state.names.get(event.pid, "")
    if name.startswith("runc:") or name in ("runc", "runc init"):
        return Diagnosis(
            f"runc's init {who} entered the new root {root} ({how}) and exited with status {event.code} "
            "before starting the entrypoint: runc looks the entrypoint up inside the new root before exec "
            "and stops "
            'when it is missing or not executable (runc says `exec: "PROGRAM": stat PROGRAM: no such file or '
            "directory`)",
            f"check that process.args[0] of config.json exists and is executable inside the rootfs "
            f"(ls -l {root}/PROGRAM), and that process.cwd and PATH point where it is",
            event.seq,
            event.pid,
            "entrypoint",
        )
    return Diagnosis(
        f"{who} entered the new root {root} ({how}) and exited with status {event.code} without starting an "
        "entrypoint",
        f"check that the program to run exists and is executable inside {root}",
        event.seq,
        event.pid,
        "entrypoint",
    )


# cgroups ----------------------------------------------------------------------------------------------------

_CGROUP_ERRORS = {
    "EBUSY": "on cgroup v2 a cgroup that enables controllers for its children may not hold processes itself "
    "(the no-internal-processes rule)",
    "ENOENT": "the controller is not enabled for this cgroup (see the parent's cgroup.subtree_control) or "
    "the cgroup is gone",
    "EOPNOTSUPP": "this controller or file is not supported here",
    "EINVAL": "the kernel does not accept this value",
    "EACCES": "the writer may not change this cgroup (it is not delegated to it)",
    "EPERM": "the writer may not change this cgroup (it is not delegated to it)",
}

HYBRID_FIX = (
    "boot with the unified cgroup v2 hierarchy (systemd.unified_cgroup_hierarchy=1 on the kernel command "
    "line), or use runc, which supports the hybrid layout; crun 1.8 accepts the hybrid layout only when "
    "/sys/fs/cgroup/unified/cgroup.controllers is empty"
)


def _runs(proc: Process, program: str) -> bool:
    """True when the process runs `program` (crun re-executes itself from a read-only copy: look at argv too)."""
    names = {
        os.path.basename(proc.executable),
        os.path.basename(proc.current_argv[0] if proc.current_argv else ""),
    }
    return program in names


def _hybrid_layout(events: Sequence[Event]) -> bool | None:
    """True when the trace shows v1 controllers beside a cgroup2 mount (the hybrid layout), None if
    unknown."""
    for event in events:
        if isinstance(event, MountSnapshot):
            types = {(m.mount_point, m.fstype) for m in MountTree.from_lines(event.mountinfo).mounts.values()}
            v1 = any(fstype == "cgroup" for _, fstype in types)
            v2 = any(fstype == "cgroup2" and point != "/sys/fs/cgroup" for point, fstype in types)
            if v1 or v2:
                return v1 and v2
    return None


def _cgroup_failures(events: Sequence[Event]) -> list[Diagnosis]:
    out: list[Diagnosis] = []
    killed: dict[int, tuple[int, int]] = {}  # runtime pid -> (child it killed, seq)
    wrote_cgroup: set[int] = set()
    runtime_exits: list[tuple[Exit, Replay]] = []
    for event, state in replay(events):
        if isinstance(event, Syscall) and event.name in ("write", "mkdir", "mkdirat") and event.error is None:
            if parse_cgroup_path(event.args.get("path")) is not None:
                wrote_cgroup.add(event.pid)
        if isinstance(event, Syscall) and event.name == "write" and event.error is not None:
            target = parse_cgroup_path(event.args.get("path"))
            if target is not None:
                data = str(event.args.get("data") or "").strip()
                reason = _CGROUP_ERRORS.get(event.error, "the kernel refused the write")
                out.append(
                    Diagnosis(
                        f'writing "{data}" to {event.args.get("path")} in {state.label(event.pid)} failed '
                        "with "
                        f"{event.error}: {reason}",
                        "check the cgroup layout the runtime expects (cgroup v1, v2 or hybrid) and its "
                        "cgroup settings (cgroupsPath, the systemd or cgroupfs driver)",
                        event.seq,
                        event.pid,
                        "cgroup",
                    )
                )
        if isinstance(event, Syscall) and event.name == "kill" and event.error is None:
            if event.args.get("signal") == "SIGKILL" and isinstance(event.args.get("pid"), int):
                victim = state.pid_seen_by(event.pid, event.args["pid"])
                proc = state.table.processes.get(victim) if victim is not None else None
                if victim is not None and proc is not None and namespaces_of(proc.flags) and not proc.execs:
                    killed[event.pid] = (victim, event.seq)
        if isinstance(event, Exit) and event.code not in (0, None) and event.pid in killed:
            runtime_exits.append((event, state))
    for event, state in runtime_exits:
        proc = state.table.processes.get(event.pid)
        if proc is None or not _runs(proc, "crun") or event.pid in wrote_cgroup:
            continue
        child, _ = killed[event.pid]
        layout = _hybrid_layout(events)
        seen = " — the layout this trace shows on this machine" if layout else ""
        out.append(
            Diagnosis(
                f"crun (pid {event.pid}) refused this machine's cgroup layout: it created the container "
                f"process {child} with clone, killed it before it could start, made no cgroup and exited "
                f"with status {event.code}; crun 1.8 stops like this on the hybrid layout (cgroup v1 "
                "controllers with a cgroup2 mount at /sys/fs/cgroup/unified) when that cgroup2 hierarchy has "
                f"controllers of its own (its message: drop all controllers from cgroupv2){seen}",
                HYBRID_FIX,
                event.seq,
                event.pid,
                "cgroup",
            )
        )
    return out
