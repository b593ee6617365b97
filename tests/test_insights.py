"""Learner insights on real traces: id maps, cgroups, capabilities, seccomp, mount trees, paths, namespaces.

The parsers get small tables of kernel text (mountinfo lines, id maps, cgroup values); every other test reads
a scenario traced for real by the `scenario_recording` fixture, or a `docker run` with limits traced here.
"""

from __future__ import annotations

import os

import pytest
from rich.console import Console

from tests.prereqs import require
from tracer.events import Event, Exec, Notice, Syscall
from tracer.insights import Insights
from tracer.insights.capabilities import ALL_CAPABILITIES, capabilities
from tracer.insights.cgroups import CgroupPath, cgroups, meaning_of, parse_cgroup_path
from tracer.insights.common import find_entrypoint
from tracer.insights.idmaps import IdRange, id_maps, parse_map
from tracer.insights.mounts import MountTree, mount_timeline, parse_mountinfo_line
from tracer.insights.namespaces import first_by_kind, namespace_origins
from tracer.insights.paths import readable_paths
from tracer.insights.seccomp import seccomp_filters
from tracer.recording import load_recording
from viz.insights_view import render_insights, render_mount_tree, render_process_insights

# Parsers ----------------------------------------------------------------------------------------------------


def test_mountinfo_line_fields():
    # proc(5)'s example, with an escaped space
    line = "36 35 98:0 /mnt\\0401 /mnt2 rw,noatime master:1 shared:4 - ext3 /dev/root rw,errors=continue"
    mount = parse_mountinfo_line(line)
    assert mount is not None
    assert (mount.id, mount.parent, mount.device, mount.root, mount.mount_point) == (
        36,
        35,
        "98:0",
        "/mnt 1",
        "/mnt2",
    )
    assert mount.options == ("rw", "noatime") and mount.optional == ("master:1", "shared:4")
    assert (mount.fstype, mount.source, mount.super_options) == (
        "ext3",
        "/dev/root",
        ("rw", "errors=continue"),
    )
    assert mount.propagation == "master:1 shared:4"
    assert parse_mountinfo_line("22 1 0:21 / /proc rw - proc proc rw").propagation == "private"
    assert parse_mountinfo_line("not a mountinfo line") is None


@pytest.mark.parametrize(
    ("text", "ranges"),
    [
        ("0 65534 1", [IdRange(0, 65534, 1)]),
        ("0 1000 1\n1 100000 65536\n", [IdRange(0, 1000, 1), IdRange(1, 100000, 65536)]),
        ("0 1000", None),
        ("a b c", None),
    ],
)
def test_id_map_text(text, ranges):
    assert parse_map(text) == ranges


def test_id_range_sentences():
    assert IdRange(0, 65534, 1).describe("uid", "host ") == "uid 0 is host uid 65534 (1 id)"
    assert (
        IdRange(1, 100000, 65536).describe("gid", "host ")
        == "gids 1-65536 are host gids 100000-165535 (65536 ids)"
    )


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            "/sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes",
            CgroupPath(1, "memory", "/docker/abc", "memory.limit_in_bytes"),
        ),
        ("/sys/fs/cgroup/cpu,cpuacct/x/cgroup.procs", CgroupPath(1, "cpu,cpuacct", "/x", "cgroup.procs")),
        ("/sys/fs/cgroup/systemd/x/tasks", CgroupPath(1, "systemd", "/x", "tasks")),
        ("/sys/fs/cgroup/unified/x/cgroup.procs", CgroupPath(2, "unified", "/x", "cgroup.procs")),
        (
            "/sys/fs/cgroup/system.slice/x.scope/memory.max",
            CgroupPath(2, "", "/system.slice/x.scope", "memory.max"),
        ),
        ("/sys/fs/cgroup/cgroup.subtree_control", CgroupPath(2, "", "/", "cgroup.subtree_control")),
        ("/proc/self/uid_map", None),
    ],
)
def test_cgroup_paths(path, expected):
    assert parse_cgroup_path(path) == expected


@pytest.mark.parametrize(
    ("file", "value", "meaning"),
    [
        ("memory.max", "268435456", "memory limit 256 MiB"),
        ("memory.max", "max", "no memory limit"),
        ("memory.limit_in_bytes", "268435456", "memory limit 256 MiB"),
        ("memory.limit_in_bytes", "-1", "no memory limit"),
        ("memory.limit_in_bytes", "9223372036854771712", "no memory limit"),
        ("pids.max", "64", "at most 64 processes"),
        ("pids.max", "max", "no limit on the number of processes"),
        ("cpu.max", "50000 100000", "CPU limit 0.5 CPUs (50000 us of every 100000 us)"),
        ("cpu.max", "max 100000", "no CPU limit"),
        ("cpu.shares", "512", "CPU shares 512 (default 1024)"),
        ("cpu.cfs_quota_us", "-1", "no CPU quota"),
        ("cpuset.cpus", "0-1", "may run on CPUs 0-1"),
        ("devices.allow", "c 1:3 rwm", "devices: allow /dev/null (rwm)"),
        ("devices.deny", "a *:* rwm", "devices: deny every device"),
        ("hugetlb.2MB.limit_in_bytes", "0", "set hugetlb.2MB.limit_in_bytes to '0'"),
    ],
)
def test_cgroup_values(file, value, meaning):
    assert meaning_of(file, value) == meaning


# Real traces ------------------------------------------------------------------------------------------------


def _events(scenario_recording, name: str) -> list[Event]:
    recording = load_recording(scenario_recording(name))
    return [recording.header, *recording.events]


@pytest.fixture(scope="module")
def teach(scenario_recording) -> list[Event]:
    return _events(scenario_recording, "teach")


@pytest.fixture(scope="module")
def runc(scenario_recording) -> list[Event]:
    return _events(scenario_recording, "runc")


@pytest.fixture(scope="module")
def docker(scenario_recording) -> list[Event]:
    return _events(scenario_recording, "docker")


@pytest.fixture(scope="module")
def unshare(scenario_recording) -> list[Event]:
    return _events(scenario_recording, "unshare")


@pytest.fixture(scope="module")
def rootless(scenario_recording) -> list[Event]:
    events = _events(scenario_recording, "teach-rootless")
    # Traced with boxtrace's seccomp fast path like every scenario: the launch child runs as another user and
    # still installs the filter (no warning notice), so the trace is complete.
    assert not any(isinstance(e, Notice) and "seccomp filter" in e.message for e in events)
    return events


def _entrypoint_pid(events: list[Event]) -> int:
    found = find_entrypoint(events)
    assert found is not None and found.inner_pid == 1 and found.exec.path == "/bin/sh"
    return found.exec.pid


def test_rootless_id_maps(rootless):
    maps = id_maps(rootless)
    child = _entrypoint_pid(rootless)
    inode = next(e.ns["user"] for e in rootless if isinstance(e, Exec) and e.pid == child)
    ours = maps.for_process(child)
    assert ours is not None and ours.inode == inode
    assert ours.uid_map == [IdRange(0, 65534, 1)] and ours.gid_map == [IdRange(0, 65534, 1)]
    assert ours.setgroups == "deny" and ours.outside_is_host
    assert ours.uid_outside(0) == 65534 and ours.uid_outside(1) is None
    facts = maps.facts()
    assert f"in user namespace {inode}, uid 0 is host uid 65534 (1 id)" in facts
    assert f"in user namespace {inode}, gid 0 is host gid 65534 (1 id)" in facts
    assert any("setgroups denied" in line for line in facts)
    assert [w.file for w in maps.writes] == ["setgroups", "uid_map", "gid_map"]
    assert all(w.target == child for w in maps.writes)
    parent = next(e.pid for e in rootless if isinstance(e, Syscall) and e.name == "clone" and e.ret == child)
    assert maps.for_process(parent) is None  # the runtime itself stays in the host's user namespace


def test_no_id_maps_without_a_user_namespace(runc):
    assert id_maps(runc).facts() == []


def test_runc_cgroup_placement(runc):
    found = cgroups(runc)
    pid1 = _entrypoint_pid(runc)
    placements = found.placements()
    assert len(placements) == 1
    (moved, cgroup), paths = next(iter(placements.items()))
    assert cgroup.startswith("/boxtrace-runc-")
    assert {(p.version, p.hierarchy) for p in paths} >= {
        (1, "memory"),
        (1, "pids"),
        (1, "cpuset"),
        (2, "unified"),
    }
    assert moved != pid1 and found.pid1_from[moved] == pid1
    facts = found.facts()
    assert any(
        line.startswith(f"moved pid {moved} (runc) into cgroup {cgroup} (v1: ")
        and f"the container's pid 1 ({pid1}) was created from it afterwards" in line
        for line in facts
    )
    assert any(
        line.startswith("device rules of cgroup") and "allow /dev/null (rwm)" in line for line in facts
    )


def test_docker_cgroup_placement(docker):
    found = cgroups(docker)
    pid1 = _entrypoint_pid(docker)
    (moved, cgroup), _ = next(iter(found.placements().items()))
    assert cgroup.startswith("/docker/") and found.pid1_from[moved] == pid1


@pytest.mark.docker
def test_docker_limits(tmp_path):
    require(os.geteuid() == 0, "attaching to dockerd needs root")
    from scenarios.docker import SCENARIO as DOCKER
    from scenarios.docker import docker_launch
    from scenarios.images import DOCKER_IMAGE
    from tracer.engine import TraceOptions
    from tracer.session import trace_to_list

    readiness = DOCKER.check()
    require(readiness.ready, f"docker is not ready: {readiness.reason}")
    DOCKER.prepare()
    launch = docker_launch(
        [
            "--rm",
            "--network",
            "none",
            "--memory",
            "256m",
            "--pids-limit",
            "64",
            "--cpus",
            "0.5",
            DOCKER_IMAGE,
            "/bin/true",
        ]
    )
    result, events = trace_to_list(
        launch.command, launch.attach_pids, TraceOptions(cwd="/", output_path=str(tmp_path / "out"))
    )
    assert result.exit_code == 0
    meanings = {(s.target.file, s.meaning) for s in cgroups(events).limits()}
    if any(s.target.version == 2 and not s.target.hierarchy for s in cgroups(events).limits()):
        assert ("memory.max", "memory limit 256 MiB") in meanings and (
            "cpu.max",
            "CPU limit 0.5 CPUs (50000 us of every 100000 us)",
        ) in meanings
    else:
        assert ("memory.limit_in_bytes", "memory limit 256 MiB") in meanings
        assert any(line.startswith("CPU limit 0.5 CPUs (cgroup /docker/") for line in cgroups(events).facts())
    assert ("pids.max", "at most 64 processes") in meanings


def test_runc_capabilities(runc):
    from scenarios.bundle import CAPABILITIES

    pid1 = _entrypoint_pid(runc)
    caps = capabilities(runc).for_process(pid1)
    assert caps is not None
    assert set(caps.kept("bounding")) == set(CAPABILITIES)
    assert set(caps.kept("effective")) == set(caps.kept("permitted")) == set(CAPABILITIES)
    # "before" is what the process really had (read from /proc at its start): a sandbox may lack some already.
    assert not caps.assumed_before
    assert set(caps.before.bounding) <= set(ALL_CAPABILITIES)
    dropped = caps.dropped("bounding")
    assert "CAP_SYS_ADMIN" in dropped and len(dropped) == len(caps.before.bounding) - 3
    assert caps.no_new_privs
    facts = caps.facts()
    assert any(f"bounding set: dropped {len(dropped)} of {len(caps.before.bounding)}" in line for line in facts)
    assert any("no_new_privs set" in line for line in facts)


def test_docker_capabilities(docker):
    pid1 = _entrypoint_pid(docker)
    caps = capabilities(docker).for_process(pid1)
    assert caps is not None
    kept = set(caps.kept("bounding"))
    # Docker's default set (moby's oci/caps/defaults.go).
    assert {"CAP_CHOWN", "CAP_NET_RAW", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_SETUID", "CAP_MKNOD"} <= kept
    assert not {"CAP_SYS_ADMIN", "CAP_NET_ADMIN", "CAP_SYS_PTRACE", "CAP_SYS_MODULE"} & kept
    assert set(caps.kept("effective")) == kept
    assert not caps.no_new_privs


def test_docker_seccomp_default_profile(docker):
    pid1 = _entrypoint_pid(docker)
    filters = [f for f in seccomp_filters(docker) if f.pid == pid1]
    assert len(filters) == 1, seccomp_filters(docker)
    analysis = filters[0].analysis
    assert analysis is not None, filters[0].problem
    for name in ("keyctl", "add_key", "request_key"):
        assert analysis.verdict(name).verdict.label == "ERRNO(EPERM)", name
    for name in ("read", "write", "execve", "openat"):
        assert analysis.verdict(name).verdict.label == "ALLOW", name
    assert analysis.default.label == "ERRNO(EPERM)"
    assert "clone" in analysis.depends_on_arguments  # allowed without namespace flags only
    assert "keyctl" in analysis.by_action["ERRNO(EPERM)"]
    assert 200 < len(analysis.allowed) < len(analysis.verdicts)


def test_runc_bundle_has_no_seccomp_filter(runc):
    assert seccomp_filters(runc) == []


def _root_mount_field() -> str:
    """The root field of this process's "/" mount in /proc/self/mountinfo (the last one: it is on top)."""
    root = "/"
    with open("/proc/self/mountinfo") as lines:
        for line in lines:
            fields = line.split()
            if fields[4] == "/":
                root = fields[3]
    return root


def test_mount_tree_changes_at_pivot_root(teach):
    from scenarios.rootfs import build_rootfs

    # mountinfo names a mount's root within its filesystem: where "/" is itself a bind of a directory (a
    # debootstrapped machine pivoted into /var/tmp/...), that directory prefixes every path below.
    machine_root = _root_mount_field()
    rootfs = os.path.normpath(machine_root + "/" + str(build_rootfs()))
    timeline = mount_timeline(teach)
    pid = _entrypoint_pid(teach)
    moments = [moment for moment, _ in timeline.trees(pid)]
    assert moments == ["before-first-mount", "after-pivot_root", "after-old-root-detached"]
    (_, before), (_, pivoted), (_, detached) = timeline.trees(pid)
    assert before.root.root == machine_root and before.root.mount_point == "/"
    assert pivoted.root.root == rootfs  # "/" is now the rootfs...
    old = pivoted.stacked_on_root()
    assert [m.id for m in old] == [before.root.id]  # ...with the old root stacked on top of it
    assert detached.root.id == pivoted.root.id and before.root.id not in detached.mounts
    assert {m.mount_point for m in detached.mounts.values()} == {"/", "/proc"}
    first, second = timeline.diffs_of(pid)
    assert first.root_changed and not second.root_changed
    assert before.root.id in {m.id for m in second.removed}
    facts = timeline.facts()
    assert any(f'"/" is now {rootfs} of ' in line for line in facts)
    assert any("the old root" in line and "are gone" in line for line in facts)


def test_mount_tree_in_runc(runc):
    timeline = mount_timeline(runc)
    pid = _entrypoint_pid(runc)
    diff = timeline.diffs_of(pid)[0]
    assert diff.root_changed and diff.after.root.root.endswith("/bundles/runc/rootfs")
    assert {"/proc", "/dev", "/sys"} <= {m.mount_point for m in diff.added}


def test_chroot_hides_mounts_rather_than_removing_them(unshare):
    diffs = mount_timeline(unshare).diffs
    assert len(diffs) == 1 and diffs[0].hidden_by_chroot
    assert "chroot only changes where this process's paths start" in diffs[0].facts()[0]


def test_paths_made_readable(runc):
    paths = readable_paths(runc)
    by_call: dict[str, list] = {}
    for event in runc:
        if isinstance(event, Syscall) and event.seq in paths:
            by_call.setdefault(event.name, []).extend(paths[event.seq])
    proc_mount = next(
        p for p in by_call["mount"] if p.raw.startswith("/proc/self/fd/") and p.readable.endswith("/proc")
    )
    assert proc_mount.how == "fd" and proc_mount.readable.endswith("/bundles/runc/rootfs/proc")
    new_root = next(p for p in by_call["pivot_root"] if p.key == "new_root")
    assert (new_root.raw, new_root.how) == (".", "cwd") and new_root.readable.endswith("/bundles/runc/rootfs")
    inside = next(p for p in by_call["mount"] if p.raw == "/proc/sys" and p.key == "target")
    assert inside.how == "root" and inside.inside == "/proc/sys"
    assert inside.readable == new_root.readable + "/proc/sys"


def test_namespace_origins(teach, runc):
    teach_pid = first_by_kind(namespace_origins(teach))["pid"]
    assert (teach_pid.syscall, teach_pid.created) == ("clone", True)
    runc_origins = first_by_kind(namespace_origins(runc))
    assert set(runc_origins) >= {"pid", "mnt", "uts", "ipc", "net"}
    assert all(o.syscall == "unshare" for o in runc_origins.values())
    pid_ns = runc_origins["pid"]
    assert pid_ns.first_member == _entrypoint_pid(runc) and pid_ns.pid != pid_ns.first_member
    assert "its child" in pid_ns.describe()


def test_insights_render_and_per_process(runc):
    insights = Insights.from_events(runc)
    assert not insights.failed and insights.entrypoint is not None
    console = Console(color_system=None, width=120, record=True)
    console.print(render_insights(insights))
    text = console.export_text()
    for title in (
        "Namespaces: who made them",
        "cgroups",
        "Capabilities",
        "Mount table: before and after",
        "Entrypoint: /bin/sh is pid 1",
    ):
        assert title in text
    assert "[ns pid 1]" in text  # plain text, not read as markup
    pid1 = insights.entrypoint.exec.pid
    facts = insights.for_process(pid1)
    assert any("bounding set" in line for line in facts) and any('"/" is now' in line for line in facts)
    console.print(render_process_insights(insights, pid1))
    tree = mount_timeline(runc).trees(pid1)[-1][1]
    console.print(render_mount_tree(tree, "after"))
    assert "/proc  proc (proc)" in console.export_text()


def test_mount_tree_lines_never_drop_a_mount():
    tree = MountTree.from_lines(
        ["1 0 0:1 / / rw - ext4 /dev/x rw", "2 3 0:2 / /a rw - tmpfs t rw", "3 2 0:3 / /b rw - tmpfs t rw"]
    )  # 2 and 3 form a cycle: still listed
    assert len(tree.lines()) == 3
