"""podman and podman-rootless: live traces asserting the chain, the user namespace and the maps; readiness
explanations fed real inputs; cleanup leaves nothing of the scenario behind."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
from pathlib import Path

import pytest

from scenarios import get_scenario
from scenarios.common import user_namespaces_allowed
from scenarios.podman import (
    ROOTFUL,
    crun_note,
    podman,
    systemd_note,
    ulimit_note,
)
from scenarios.podman_rootless import (
    leftovers,
    newidmap_problem,
    parse_subids,
    subid_problem,
    userns_problem,
)
from tests.conftest import ScenarioRecordings
from tests.prereqs import require
from tracer.events import Exec, Ipc, NamespaceChange, ProcessStarted, Syscall
from tracer.insights.idmaps import id_maps
from tracer.processes import ProcessTable
from tracer.recording import load_recording
from viz.roles import role_book

# Readiness explanations, from real inputs ------------------------------------------------------------------------


def test_subid_problem_reads_a_real_subuid_file(tmp_path: Path) -> None:
    """A subuid file in subuid(5) format without the user: the reason names the file and the fix the command."""
    subuid = tmp_path / "subuid"
    subuid.write_text("alice:100000:65536\nbob:165536:65536\n")
    answer = subid_problem("uid", subuid.read_text(), "carol", 1003)
    assert answer is not None and not answer.ready
    assert "/etc/subuid" in answer.reason and "carol" in answer.reason and "no range" in answer.reason
    assert "usermod --add-subuids" in answer.fix
    # Too small a range is refused too; a full range (by name or by numeric uid) is fine.
    subuid.write_text("carol:100000:1000\n")
    small = subid_problem("uid", subuid.read_text(), "carol", 1003)
    assert small is not None and "only 1000 ids" in small.reason
    subuid.write_text("alice:100000:65536\n1003:200000:65536\n")
    assert subid_problem("uid", subuid.read_text(), "carol", 1003) is None
    assert subid_problem("gid", None, "carol", 1003).reason.startswith("/etc/subgid is missing")
    assert parse_subids("# comment\nbad line\nx:1:2\n") == [parse_subids("x:1:2")[0]]


def test_newidmap_problem_missing_and_not_setuid(tmp_path: Path) -> None:
    missing = newidmap_problem(which=lambda name: None)
    assert missing is not None and "newuidmap is not installed" in missing.reason and "uidmap" in missing.fix
    plain = tmp_path / "newuidmap"
    plain.write_text("#!/bin/sh\n")
    plain.chmod(0o755)
    not_setuid = newidmap_problem(which=lambda name: str(plain))
    assert not_setuid is not None and "not setuid root" in not_setuid.reason
    require(shutil.which("newuidmap"), "uidmap (newuidmap, newgidmap) is not installed")
    assert newidmap_problem() is None


def test_userns_explanation_from_a_proc_sys_tree(tmp_path: Path) -> None:
    """A /proc/sys-shaped tree where user namespaces are off: the reason says which knob, the fix the sysctl."""
    (tmp_path / "user").mkdir()
    (tmp_path / "kernel").mkdir()
    (tmp_path / "user" / "max_user_namespaces").write_text("0\n")
    answer = userns_problem(user_namespaces_allowed(tmp_path))
    assert answer is not None and "max_user_namespaces is 0" in answer.reason
    assert "rootless podman" in answer.reason and "sysctl -w user.max_user_namespaces" in answer.fix
    (tmp_path / "user" / "max_user_namespaces").write_text("15000\n")
    (tmp_path / "kernel" / "unprivileged_userns_clone").write_text("0\n")
    answer = userns_problem(user_namespaces_allowed(tmp_path))
    assert answer is not None and "kernel.unprivileged_userns_clone = 0" in answer.reason
    (tmp_path / "kernel" / "unprivileged_userns_clone").write_text("1\n")
    assert userns_problem(user_namespaces_allowed(tmp_path)) is None


def test_machine_notes_explain_the_command_line() -> None:
    """The three things the podman command line works around, with this machine's real values."""
    with open("/proc/self/status") as status:
        caps = int(next(line for line in status if line.startswith("CapEff:")).split()[1], 16)
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    nproc = resource.getrlimit(resource.RLIMIT_NPROC)[1]
    note = ulimit_note(caps, nofile, nproc)
    lacks = not caps >> 24 & 1
    assert note.applies == (lacks and nofile < 1048576)
    without = ulimit_note(caps & ~(1 << 24), 20000, 96362)
    assert without.applies and "CAP_SYS_RESOURCE" in without.detail and "--ulimit nofile=1024:1024" in without.detail
    assert not ulimit_note(1 << 24, 20000, 96362).applies
    refused = crun_note("cgroups in hybrid mode not supported, drop all controllers from cgroupv2")
    assert refused.applies and "--runtime runc" in refused.detail and "hybrid" in refused.detail
    with open("/proc/1/comm") as comm:
        pid1 = comm.read().strip()
    assert systemd_note(pid1).applies == (pid1 != "systemd")
    assert "--cgroup-manager cgroupfs" in systemd_note("process_api").detail


# Live traces -----------------------------------------------------------------------------------------------------


def _events(path: Path) -> list:
    recording = load_recording(path)
    assert recording.complete
    return [recording.header, *recording.events]


def _required_found(name: str, events: list) -> None:
    results = get_scenario(name).evaluate(events)
    missing = [r.milestone.id for r in results if r.milestone.required and not r.found]
    assert not missing, f"{name}: milestones missing: {missing}"


@pytest.mark.root
@pytest.mark.slow
def test_podman_rootful_chain(scenario_recording: ScenarioRecordings) -> None:
    require(os.geteuid() == 0, "podman as root needs root")
    require(shutil.which("podman") and shutil.which("conmon"), "podman and conmon are not installed")
    shared_before = {p: p.exists() for p in (Path("/var/lib/containers"), Path("/run/containers"))}
    events = _events(scenario_recording("podman"))
    _required_found("podman", events)
    table = ProcessTable.from_events(events)
    book = role_book(table)

    # conmon detaches: the first conmon forks and exits; the second is runc create's parent.
    conmon_exec = next(e for e in events if isinstance(e, Exec) and e.path.endswith("/conmon") and "-c" in e.argv)
    second = next(e for e in events if isinstance(e, ProcessStarted) and e.creator == conmon_exec.pid)
    exits = [p.exit for p in table.history if p.pid == conmon_exec.pid and p.exit is not None]
    assert exits and exits[0].seq > second.seq
    runc_create = next(p for p in table.history if any("create" in e.argv for e in p.execs
                                                       if e.path.endswith("runc")))
    assert runc_create.ppid == second.pid
    assert any(s.name == "prctl" and s.args.get("option") == "PR_SET_CHILD_SUBREAPER"
               for s in events if isinstance(s, Syscall) and s.pid == second.pid)

    # The entrypoint is pid 1 after pivot_root, and descends from the detached conmon, not from podman.
    entry = next(e for e in events if isinstance(e, Exec) and e.argv[:1] == ["sh"])
    assert entry.nspid[-1] == 1
    pivot = [e for e in events if isinstance(e, Syscall) and e.name == "pivot_root" and e.error is None]
    assert pivot and pivot[0].pid == entry.pid and pivot[0].seq < entry.seq
    launched = next(p for p in table.history if p.via == "launch")
    ancestors = table.ancestors(entry.pid)
    # By creation the chain runs podman -> conmon -> conmon -> runc create -> init; but the first conmon, the only
    # link to podman, exited before the entrypoint ran, so podman is not the container's parent in any sense.
    assert ancestors[:3] == [entry.pid, runc_create.pid, second.pid] or second.pid in ancestors
    assert conmon_exec.pid in ancestors and exits[0].seq < entry.seq

    # The order the chapters state: podman reaps the first conmon; podman connects to the attach socket before it
    # runs runc start; conmon execs the cleanup podman after the entrypoint exited, and that podman runs runc delete.
    podman_waits = [e for e in events if isinstance(e, Syscall) and e.pid == launched.pid and e.name == "wait4"
                    and e.ret == conmon_exec.pid]
    assert podman_waits and podman_waits[0].seq > second.seq
    connect = next(e for e in events if isinstance(e, Syscall) and e.name == "connect" and e.pid == launched.pid
                   and (e.notes or {}).get("path", "").endswith("/attach"))
    start = next(e for e in events if isinstance(e, Exec) and e.path.endswith("runc") and "start" in e.argv)
    assert connect.seq < start.seq < entry.seq
    entry_exit = next(p.exit for p in table.history if p.pid == entry.pid and p.exit is not None)
    cleanup = next(e for e in events if isinstance(e, Exec) and e.path.endswith("podman") and "cleanup" in e.argv
                   and "--rm" in e.argv)
    cleanup_proc = next(p for p in table.history if p.pid == cleanup.pid and p.start_seq <= cleanup.seq)
    assert cleanup_proc.creator == second.pid and cleanup.seq > entry_exit.seq
    delete = next(p for p in table.history if any("delete" in e.argv for e in p.execs if e.path.endswith("runc")))
    assert delete.creator == cleanup.pid

    # Roles: podman, conmon, the cleanup re-exec by conmon, runc delete run from it.
    roles = {str(book.role(p)) for p in table.history}
    assert {"podman", "conmon (container monitor)", "podman container cleanup", "runc delete",
            "runc start", "runc create"} <= roles
    # The attach socket is named through /proc/self/fd and resolved to the bundle's attach file on both ends.
    attach = [e for e in events if isinstance(e, Syscall) and e.name in ("bind", "connect")
              and str(e.args.get("path", "")).startswith("/proc/self/fd/")]
    assert {e.name for e in attach} == {"bind", "connect"}
    assert all((e.notes or {}).get("path", "").endswith("/userdata/attach") for e in attach)

    # Cleanup: no container in boxtrace's podman storage, no cgroup, no shared podman directory created.
    from scenarios.podman import podman_quiet

    left = podman_quiet(ROOTFUL, "ps", "-aq")
    assert left.returncode == 0 and left.stdout.strip() == ""
    name = next(a for a in launched.argv if a.startswith("boxtrace-podman-"))
    assert not list(Path("/sys/fs/cgroup").glob(f"*/{name}")), "the container's cgroup parent is left"
    # runc's state is gone too: the cleanup podman's runc delete looks where runc create wrote.
    container_id = next(e.argv[-1] for e in events if isinstance(e, Exec) and e.path.endswith("runc")
                        and "delete" in e.argv)
    assert not any(Path(root, container_id).exists() for root in ("/run/runc", "/run/boxtrace/podman/runc"))
    runc_roots = {a.split("=", 1)[1] for e in events if isinstance(e, Exec) and e.path.endswith("runc")
                  for a in e.argv if a.startswith("--root=")}
    assert runc_roots <= {"/run/runc"}, runc_roots
    still = subprocess.run(["pgrep", "-f", name], capture_output=True, text=True)
    assert still.stdout.strip() == "", f"processes of the container still run: {still.stdout}"
    for path, existed in shared_before.items():
        assert path.exists() == existed, f"{path} was created or removed by the scenario"
    # Mounts taken around the trace (other work on the machine may mount things meanwhile: only ours count).
    left_mounts = scenario_recording.left_behind["podman"].get("mounts", [])
    assert not [line for line in left_mounts if "boxtrace/podman" in line or name in line], left_mounts


@pytest.mark.root
@pytest.mark.slow
def test_podman_rootless_user_namespace_and_maps(recordings_dir: Path) -> None:
    require(os.geteuid() == 0, "making the scenario's user needs root")
    scenario = get_scenario("podman-rootless")
    readiness = scenario.check()
    require(readiness.ready, f"podman-rootless is not ready: {readiness.reason} {readiness.fix}")
    from scenarios.podman_rootless import user_ids, user_name
    from scenarios.runner import trace_scenario

    scenario.prepare()
    uid, gid = user_ids()
    ranges = {kind: next(r for r in parse_subids(Path(f"/etc/sub{kind}").read_text()) if r.owner == user_name())
              for kind in ("uid", "gid")}
    path = recordings_dir / "podman-rootless-live.jsonl"
    try:
        run = trace_scenario(scenario, output=path)
    finally:
        scenario.cleanup()
    assert run.result.status == "completed" and run.result.exit_code == 0
    events = _events(path)
    _required_found("podman-rootless", events)
    table = ProcessTable.from_events(events)
    host_user = table.host_namespaces()["user"]

    # CLONE_NEWUSER comes before any other namespace is made; the user namespace is new.
    made = [e for e in events if isinstance(e, NamespaceChange)]
    user_made = next(e for e in made if e.kind == "user")
    assert user_made.new != host_user
    assert all(e.seq >= user_made.seq - 1 for e in made), "a namespace was made before the user namespace"
    clone = next(e for e in events if isinstance(e, ProcessStarted) and "CLONE_NEWUSER" in e.flags)
    assert clone.ns["user"] == user_made.new

    # The pause process: the cloned child becomes uid 0 (setresuid 0) and forks twice; the middle one exits and the
    # grandchild execs podman with no arguments; the child then execs podman again with the run arguments.
    child = clone.pid
    setresuid = next(e for e in events if isinstance(e, Syscall) and e.pid == child and e.name == "setresuid")
    assert setresuid.args.get("ruid") == 0
    middle = next(e for e in events if isinstance(e, ProcessStarted) and e.creator == child)
    pause = next(e for e in events if isinstance(e, ProcessStarted) and e.creator == middle.pid)
    middle_exit = next(p.exit for p in table.history if p.pid == middle.pid and p.exit is not None)
    reexec = next(e for e in events if isinstance(e, Exec) and e.pid == child)
    assert setresuid.seq < middle.seq < pause.seq < middle_exit.seq < reexec.seq and "run" in reexec.argv
    assert any(isinstance(e, Exec) and e.pid == pause.pid and len(e.argv) == 1 for e in events)

    # newuidmap and newgidmap write the two ranges: inside 0 -> the user, inside 1.. -> its subordinate range.
    writes = {
        os.path.basename(str(e.args["path"])): e.args["data"]
        for e in events
        if isinstance(e, Syscall) and e.name == "write" and e.error is None
        and str(e.args.get("path", "")).endswith(("uid_map", "gid_map"))
    }
    assert writes["uid_map"].split() == ["0", str(uid), "1", "1", str(ranges["uid"].start), str(ranges["uid"].count)]
    assert writes["gid_map"].split() == ["0", str(gid), "1", "1", str(ranges["gid"].start), str(ranges["gid"].count)]
    helpers = {os.path.basename(e.path) for e in events if isinstance(e, Exec)}
    assert {"newuidmap", "newgidmap"} <= helpers
    maps = id_maps(events).for_namespace(user_made.new)
    assert maps is not None and maps.uid_outside(0) == uid and maps.uid_outside(1) == ranges["uid"].start

    # The container's namespaces are made inside that user namespace (owned by it); pivot_root; the entrypoint is
    # pid 1, uid 0 inside = the user outside.
    unshares = [e for e in events if isinstance(e, Syscall) and e.name == "unshare" and e.error is None]
    assert unshares
    for call in unshares:
        caller = next(p for p in table.history if p.pid == call.pid)
        assert caller.ns.get("user") == user_made.new
    assert any(e.name == "pivot_root" for e in events if isinstance(e, Syscall) and e.error is None)
    entry = next(e for e in events if isinstance(e, Exec) and e.argv[:1] == ["sh"])
    assert entry.nspid[-1] == 1 and entry.ns["user"] == user_made.new
    assert id_maps(events).for_namespace(entry.ns["user"]).uid_outside(0) == uid
    # Full capabilities inside: the effective set of the process made with CLONE_NEWUSER is every capability.
    assert int(clone.caps["effective"], 16) == int(clone.caps["bounding"], 16)
    # What the host refused: cgroup directories owned by host root.
    denied = [e for e in events if isinstance(e, Syscall) and e.error in ("EACCES", "EPERM")
              and "/sys/fs/cgroup" in str(e.args.get("path", ""))]
    assert denied

    # Cleanup: no user, no subordinate ranges, no files, no process, no mount.
    assert leftovers() == []
    with open("/etc/passwd") as passwd:
        assert f"{user_name()}:" not in passwd.read()


# The shipped recordings: compare, roles, insights ----------------------------------------------------------------

RECORDINGS = Path(__file__).resolve().parent.parent / "scenarios" / "recordings"


def _shipped(name: str) -> list:
    recording = load_recording(RECORDINGS / f"{name}.jsonl")
    return [recording.header, *recording.events]


def test_compare_docker_podman_rootless_parent_owner_cgroup() -> None:
    from viz.compare import compare_rows

    titles, rows = compare_rows([_shipped(n) for n in ("docker", "podman", "podman-rootless")])
    assert titles == ["docker", "podman", "podman-rootless"]
    table = dict(rows)
    docker, rootful, rootless = table["container's parent"]
    assert docker.startswith("reaped by containerd-shim") and "runc init (runc:[1:CHILD])" in docker
    assert rootful.startswith("reaped by conmon (container monitor)")
    assert rootless.startswith("reaped by conmon (container monitor)")
    docker, rootful, rootless = table["namespaces owned by"]
    assert docker == rootful == "the host's user namespace (root inside is root outside)"
    assert rootless.startswith("a new user namespace") and "uid 0 inside is host uid" in rootless
    assert table["user namespace"][:2] == ["-", "-"] and "CLONE_NEWUSER" in table["user namespace"][2]
    for kind in ("pid", "uts", "ipc", "net"):
        assert all(cell.startswith(f"unshare(CLONE_NEW{kind.upper()})") for cell in table[f"{kind} namespace"])
    docker, rootful, rootless = table["cgroups"]
    assert docker.startswith("/docker/") and "/libpod-" in rootful and "/conmon" in rootful
    assert rootless.startswith("none:") and "EACCES" in rootless
    assert "uid 0 -> " in table["id maps"][2] and "uid 1 -> " in table["id maps"][2]


def test_roles_in_the_shipped_podman_recordings() -> None:
    for name in ("podman", "podman-rootless"):
        table = ProcessTable.from_events(_shipped(name))
        book = role_book(table)
        roles = {str(book.role(p)) for p in table.history}
        assert {"podman", "conmon (container monitor)", "conmon --version (probe)", "podman container cleanup",
                "runc create", "runc start", "runc delete", "container entrypoint (sh)"} <= roles, name
    table = ProcessTable.from_events(_shipped("podman-rootless"))
    roles = {str(role_book(table).role(p)) for p in table.history}
    assert {"podman pause process", "newuidmap (setuid helper)", "newgidmap (setuid helper)"} <= roles


def test_podman_connection_is_drawn_to_conmon() -> None:
    """podman's connect to /proc/self/fd/N reaches conmon's bind of /proc/self/fd/M/attach: one real path."""
    from viz.model import build_model

    model = build_model(_shipped("podman"))
    ipc = [(a, b, d) for a, b, d in model.architecture.edges(data=True) if d.get("kind") == "ipc"]
    assert ipc and all(d["path"].endswith("/userdata/attach") for _a, _b, d in ipc)
    assert {model.architecture.nodes[b].get("label", b) for _a, b, _d in ipc} and all(
        "conmon" in str(model.architecture.nodes[b]) for _a, b, _d in ipc)


def test_conmon_cgroup_is_not_where_pid1_starts() -> None:
    from tracer.insights import Insights

    facts = Insights.from_events(_shipped("podman")).cgroups.facts()
    conmon = next(f for f in facts if f.startswith("moved pid") and "/conmon " in f)
    libpod = next(f for f in facts if f.startswith("moved pid") and "/libpod-" in f)
    assert "pid 1" not in conmon and "the container's pid 1" in libpod


@pytest.mark.root
@pytest.mark.parametrize("name", ["podman", "podman-rootless"])
def test_tui_walkthrough_of_the_shipped_recordings(name: str) -> None:
    """Pilot at the TUI's test size steps through every chapter: each selects and marks what its milestone found."""
    from tests.test_tui import (
        check_chapters_follow_milestones,
        check_every_chapter,
        require_chapters,
        step_through,
    )

    require(os.geteuid() == 0, "the TUI tests run as root (as tests/test_tui.py does)")
    app, seen = step_through(RECORDINGS / f"{name}.jsonl")
    check_chapters_follow_milestones(app, name)
    chapters = check_every_chapter(app, seen)
    require_chapters(app, chapters, "conmon", "conmon-detach", "runc-create", "podman-cleanup", "entrypoint")
    assert isinstance(chapters["conmon"]["selected"], Exec)
    assert chapters["podman-cleanup"]["selected_role"] == "podman container cleanup"
    if name == "podman-rootless":
        require_chapters(app, chapters, "user-namespace", "newuidmap", "pause-process", "owned-namespaces")
        newuidmap = chapters["newuidmap"]["selected"]
        assert isinstance(newuidmap, Syscall) and newuidmap.name == "write"
        assert newuidmap.args["path"].endswith("/uid_map") and chapters["newuidmap"]["selected_role"] == (
            "newuidmap (setuid helper)")
        assert chapters["user-namespace"]["compare_shown"]


def test_refused_map_write_that_newuidmap_recovers_is_not_a_failure() -> None:
    """podman's own uid_map write is refused, then newuidmap writes the map: no "why the launch failed". Without
    the helpers' writes, the refusal is explained by the one-own-id rule (podman, outside, owns the namespace)."""
    from tracer.insights.diagnosis import diagnose

    events = _shipped("podman-rootless")
    assert [d for d in diagnose(events) if d.kind == "id-map"] == []
    helpers = {e.pid for e in events if isinstance(e, Exec) and os.path.basename(e.path) in ("newuidmap", "newgidmap")}
    without = [e for e in events if not (isinstance(e, Syscall) and e.pid in helpers and e.name == "write")]
    found = [d for d in diagnose(without) if d.kind == "id-map"]
    uid = next(d for d in found if "uid_map" in d.sentence)
    assert "may map only the writer's own uid" in uid.sentence and "newuidmap" in uid.fix


@pytest.mark.root
@pytest.mark.slow
def test_prepare_removes_what_a_killed_trace_left() -> None:
    """A stopped container in boxtrace's podman storage and an empty cgroup parent of an earlier launch (what a
    SIGKILLed trace leaves) are gone after prepare(); nothing else of the machine is touched."""
    require(os.geteuid() == 0, "podman as root needs root")
    require(shutil.which("podman"), "podman is not installed")
    from scenarios.podman import PODMAN_IMAGE, podman_quiet, remove_cgroup_tree

    scenario = get_scenario("podman")
    scenario.prepare()
    name = "boxtrace-podman-left-" + os.urandom(3).hex()
    created = podman_quiet(ROOTFUL, "create", "--name", name, "--network", "none", PODMAN_IMAGE, "true")
    assert created.returncode == 0, created.stderr
    cgroup = Path("/sys/fs/cgroup/pids") / name
    try:
        cgroup.mkdir()
        scenario.prepare()
        assert podman_quiet(ROOTFUL, "container", "exists", name).returncode == 1
        assert not cgroup.exists()
    finally:
        podman_quiet(ROOTFUL, "rm", "--force", name)
        remove_cgroup_tree("/" + name)


def test_id_map_picture_and_console_section() -> None:
    """The two-range maps drawn inside -> outside, and the console's id map section as a reader sees it."""
    from rich.console import Console

    from tracer.insights import Insights
    from viz.insights_view import render_idmaps

    events = _shipped("podman-rootless")
    insights = Insights.from_events(events)
    (maps,) = [m for m in insights.idmaps.namespaces.values() if m.uid_map]
    uid0, rest = maps.uid_map
    picture = maps.picture()
    assert picture[0] == f"user namespace {maps.inode} -> host"
    assert picture[1].split() == ["uid", "0", "-->", str(uid0.outside), "(1", "id)"]
    assert picture[2].split() == ["uids", "1-65536", "-->", f"{rest.outside}-{rest.outside + 65535}", "(65536", "ids)"]
    console = Console(color_system=None, width=120, record=True)
    console.print(render_idmaps(insights))
    text = console.export_text()
    assert "(newuidmap) wrote it afterwards" in text and "(newgidmap) wrote it afterwards" in text
    assert f"uids 1-65536  --> {rest.outside}-{rest.outside + 65535}" in text


@pytest.mark.root
@pytest.mark.slow
def test_rootless_podman_joins_a_running_pause_process(tmp_path: Path) -> None:
    """With a pause process alive (left by an untraced podman command), the next podman joins its user and mount
    namespaces with setns instead of cloning new ones: what the pause-process chapter says later commands do."""
    require(os.geteuid() == 0, "making the scenario's user needs root")
    scenario = get_scenario("podman-rootless")
    readiness = scenario.check()
    require(readiness.ready, f"podman-rootless is not ready: {readiness.reason} {readiness.fix}")
    from scenarios.podman import run_command
    from scenarios.podman_rootless import processes_of, user_env, user_ids, user_places
    from tracer.engine import TraceOptions
    from tracer.session import TraceSession

    try:
        scenario.prepare()
        places = user_places()
        uid, gid = scenario_user = user_ids()
        info = subprocess.run([*podman(places, "info", "--format", "{{.Host.Security.Rootless}}")],
                              capture_output=True, text=True, timeout=120, env=user_env(places), cwd="/",
                              user=uid, group=gid, extra_groups=[])
        assert info.returncode == 0 and info.stdout.strip() == "true", info.stderr
        assert processes_of(uid), "no pause process was left by the untraced podman"
        events: list = []
        options = TraceOptions(run_as=scenario_user, env=user_env(places), cwd="/", scenario="podman-rootless")
        command = run_command(places, "boxtrace-podman-join-" + os.urandom(3).hex(), None)
        result = TraceSession(command, [], options, tmp_path / "join.jsonl", sinks=[events.append]).run()
        assert result.status == "completed" and result.exit_code == 0
        joins = [e for e in events if isinstance(e, NamespaceChange) and e.via == "setns"]
        assert {"user", "mnt"} <= {e.kind for e in joins}
        assert not [e for e in events if isinstance(e, ProcessStarted) and "CLONE_NEWUSER" in e.flags]
    finally:
        scenario.cleanup()
    assert leftovers() == []


@pytest.mark.root
def test_socket_paths_through_proc_self_fd_are_resolved(tmp_path: Path) -> None:
    """bind to /proc/self/fd/N/name and connect to /proc/self/fd/M (as conmon and podman do): the trace keeps the
    strings and notes the real paths, read while the tracee was stopped."""
    require(os.geteuid() == 0, "tracing needs root")
    import sys

    from tracer.engine import TraceOptions
    from tracer.session import TraceSession

    directory = tmp_path / "a-directory-with-a-long-name"
    directory.mkdir()
    program = (
        "import os, socket\n"
        f"d = os.open({str(directory)!r}, os.O_RDONLY | os.O_DIRECTORY)\n"
        "server = socket.socket(socket.AF_UNIX)\n"
        "server.bind(f'/proc/self/fd/{d}/attach')\n"
        "server.listen(1)\n"
        f"p = os.open({str(directory / 'attach')!r}, os.O_PATH)\n"
        "client = socket.socket(socket.AF_UNIX)\n"
        "client.connect(f'/proc/self/fd/{p}')\n"
    )
    events: list = []
    options = TraceOptions(filter="all", seccomp=False)
    result = TraceSession([sys.executable, "-c", program], [], options, None, sinks=[events.append]).run()
    assert result.exit_code == 0
    calls = {e.name: e for e in events if isinstance(e, Syscall) and e.name in ("bind", "connect")
             and str(e.args.get("path", "")).startswith("/proc/self/fd/")}
    assert calls["bind"].args["path"].endswith("/attach")
    assert calls["bind"].notes["path"] == str(directory / "attach")
    assert calls["connect"].notes["path"] == str(directory / "attach")
    ipc = [e for e in events if isinstance(e, Ipc) and e.via == "connect"]
    assert ipc and ipc[0].path == str(directory / "attach")
