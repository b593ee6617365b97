"""Everything a scenario prepares, run for real and untraced: rootfs, bundle, images, daemons, the runtimes.

No mocks: the rootfs is built from busybox, bundles run under runc, the teach runtime runs as root and as nobody,
images are imported into the real dockerd and containerd. Tests that need root, a runtime or the Docker engine skip
on a laptop without them and fail under CI=true (tests/prereqs.py). Every container, mount and process a test makes
is removed; the daemons are left running (scripts/daemons.sh stop ends them).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from scenarios import SCENARIOS, UnknownScenario, get_scenario
from scenarios.bundle import make_bundle, oci_config
from scenarios.containerd import ContainerdScenario
from scenarios.docker import DockerScenario
from scenarios.rootfs import build_rootfs, rootfs_for_user, rootfs_tarball
from scenarios.runc import RuncScenario
from scenarios.staging import python_for_user, staged_for_user
from tests.prereqs import require

PROJECT = Path(__file__).resolve().parent.parent
RUNTIME = PROJECT / "scenarios" / "teach_runtime.py"
NOBODY = 65534


def is_root() -> bool:
    return os.geteuid() == 0


def run(command: list[str], timeout: float = 60, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False, **kwargs)


def mounts() -> list[str]:
    """Our mount table without mount ids (ids are reused; what matters is what is mounted where)."""
    return sorted(line.split(" ", 2)[2] for line in Path("/proc/self/mountinfo").read_text().splitlines())


@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "boxtrace"


# The scenario registry -------------------------------------------------------------------------------------------


def test_scenarios_in_teaching_order() -> None:
    assert list(SCENARIOS) == [
        "teach", "teach-rootless", "teach-net", "unshare", "runc", "crun", "containerd", "docker", "podman",
        "podman-rootless",
    ]
    for name, scenario in SCENARIOS.items():
        assert scenario.name == name
        assert scenario.summary and scenario.teaches
        ids = [m.id for m in scenario.milestones]
        assert len(ids) == len(set(ids)), f"{name} repeats a milestone id"
        assert all(m.title and m.narration for m in scenario.milestones)
        assert all((m.claim is None) == (m.reality is None) for m in scenario.milestones)


def test_unknown_scenario_names_the_known_ones() -> None:
    with pytest.raises(UnknownScenario, match="choose one of teach, teach-rootless"):
        get_scenario("lxc")


# Root filesystem -------------------------------------------------------------------------------------------------


def test_rootfs_has_busybox_applets_and_etc(fresh_cache: Path) -> None:
    root = build_rootfs()
    assert root == fresh_cache / "rootfs"
    for applet in ("sh", "echo", "hostname", "cat", "ls", "ps", "env", "sleep", "id", "dd", "true"):
        assert (root / "bin" / applet).exists() or (root / "usr" / "bin" / applet).exists(), applet
    for directory in ("proc", "sys", "dev", "tmp", "etc"):
        assert (root / directory).is_dir()
    assert "root:x:0:0" in (root / "etc" / "passwd").read_text()
    assert (root / "etc" / "group").is_file() and (root / "etc" / "hostname").is_file()
    assert oct((root / "tmp").stat().st_mode & 0o7777) == "0o1777"


def test_rootfs_is_cached_and_rebuilt_atomically(fresh_cache: Path) -> None:
    root = build_rootfs()
    marker = root / "etc" / "marker"
    marker.write_text("kept while cached")
    assert build_rootfs() == root and marker.exists()
    assert build_rootfs(force=True) == root
    assert not marker.exists()
    assert sorted(p.name for p in fresh_cache.iterdir()) == ["rootfs"], "no temporary directories left behind"


def test_rootfs_tarball_is_reproducible_and_owned_by_root(fresh_cache: Path) -> None:
    first = rootfs_tarball().read_bytes()
    second = rootfs_tarball(force=True).read_bytes()
    assert hashlib.sha256(first).digest() == hashlib.sha256(second).digest()
    with tarfile.open(fileobj=io.BytesIO(first)) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert members["bin/busybox"].isreg() and members["bin/sh"].issym()
    assert {(m.uid, m.gid, m.mtime) for m in members.values()} == {(0, 0, 0)}


def test_rootfs_rebuilds_with_one_command(fresh_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`make rootfs` = `python -m scenarios.rootfs --rebuild`: the rootfs and both tarballs made anew."""
    from scenarios.rootfs import main

    assert main([]) == 0
    made = [Path(line) for line in capsys.readouterr().out.split()]
    assert [p.name for p in made] == ["rootfs", "rootfs.tar", "oci-image.tar"]
    (made[0] / "marker-of-the-old-build").write_text("old")
    stamps = [p.stat().st_mtime_ns for p in made[1:]]
    assert main(["--rebuild"]) == 0
    assert not (made[0] / "marker-of-the-old-build").exists()
    assert (made[0] / "bin" / "sh").exists()
    assert all(p.stat().st_mtime_ns != old for p, old in zip(made[1:], stamps, strict=True))


def test_oci_layout_digests_match_their_blobs(fresh_cache: Path) -> None:
    from scenarios.images import CONTAINERD_IMAGE, oci_image_tarball

    with tarfile.open(oci_image_tarball()) as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    assert json.loads(files["oci-layout"]) == {"imageLayoutVersion": "1.0.0"}
    for name, data in files.items():
        if name.startswith("blobs/sha256/"):
            assert hashlib.sha256(data).hexdigest() == name.rsplit("/", 1)[1]
    entry = json.loads(files["index.json"])["manifests"][0]
    assert entry["annotations"]["io.containerd.image.name"] == CONTAINERD_IMAGE
    manifest = json.loads(files["blobs/sha256/" + entry["digest"].split(":")[1]])
    config = json.loads(files["blobs/sha256/" + manifest["config"]["digest"].split(":")[1]])
    layer = files["blobs/sha256/" + manifest["layers"][0]["digest"].split(":")[1]]
    import gzip

    assert config["rootfs"]["diff_ids"] == ["sha256:" + hashlib.sha256(gzip.decompress(layer)).hexdigest()]
    assert config["config"]["Cmd"] == ["/bin/sh"]


def test_rootfs_for_another_user_is_owned_by_them() -> None:
    require(is_root(), "copying the rootfs for nobody needs root")
    copy = rootfs_for_user(NOBODY, NOBODY)
    assert copy.stat().st_uid == NOBODY and (copy / "bin").stat().st_uid == NOBODY
    assert all(p.stat().st_mode & 0o005 for p in copy.parents if str(p) != "/")


# OCI bundle and runc ---------------------------------------------------------------------------------------------


def test_bundle_config_follows_runc_spec(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path / "b", ["/bin/echo", "hi"], "lesson", cgroups_path="/boxtrace-test")
    config = json.loads((bundle / "config.json").read_text())
    assert config == oci_config(["/bin/echo", "hi"], "lesson", cgroups_path="/boxtrace-test")
    assert config["ociVersion"] == "1.0.2" and config["hostname"] == "lesson"
    process = config["process"]
    assert process["terminal"] is False and process["noNewPrivileges"] is True
    assert process["user"] == {"uid": 0, "gid": 0} and process["cwd"] == "/"
    assert process["capabilities"]["bounding"] == ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    assert [n["type"] for n in config["linux"]["namespaces"]] == ["pid", "network", "ipc", "uts", "mount"]
    assert [m["destination"] for m in config["mounts"]] == [
        "/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup",
    ]  # fmt: skip
    assert "/proc/kcore" in config["linux"]["maskedPaths"] and "/proc/sys" in config["linux"]["readonlyPaths"]
    assert (bundle / "rootfs" / "bin" / "busybox").is_file()


def test_runc_runs_the_bundle_untraced(tmp_path: Path) -> None:
    require(is_root(), "runc needs root")
    require(shutil.which("runc"), "runc is not installed: run `sudo apt-get install runc`")
    before = mounts()
    state = tmp_path / "runc-state"
    bundle = make_bundle(
        tmp_path / "bundle", ["/bin/sh", "-c", "echo $$; hostname"], "lesson", cgroups_path="/boxtrace-pytest"
    )
    result = run(["runc", "--root", str(state), "run", "--bundle", str(bundle), "boxtrace-pytest"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "lesson"]
    assert run(["runc", "--root", str(state), "list", "--quiet"]).stdout.split() == []
    assert mounts() == before
    assert not Path("/sys/fs/cgroup/pids/boxtrace-pytest").exists()


def test_runc_scenario_launch_and_cleanup() -> None:
    require(is_root(), "runc needs root")
    scenario = get_scenario("runc")
    assert isinstance(scenario, RuncScenario)
    readiness = scenario.check()
    require(readiness.ready, f"runc scenario not ready: {readiness.reason}")
    from scenarios.runc import runc_container_ids

    before = mounts()
    scenario.prepare()
    launch = scenario.launch()
    assert launch.attach_pids == [] and "--root" in launch.command
    result = run(launch.command, cwd=launch.cwd)
    assert result.returncode == 0, result.stderr
    assert "hello from pid 1 on boxtrace" in result.stdout
    scenario.cleanup()
    # A trace interrupted between create and start leaves a container behind: cleanup must remove it.
    scenario.launch()
    container = scenario.container_id
    assert container is not None
    # The created init holds its stdio open until started: give it none of ours, or reading its output would hang.
    create = subprocess.run(
        launch.command[:3] + ["create", "--bundle", launch.cwd, container],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
    assert create.returncode == 0
    assert container in runc_container_ids()
    scenario.cleanup()
    assert container not in runc_container_ids()
    assert mounts() == before


def test_runc_prepare_removes_what_a_killed_trace_left(tmp_path: Path) -> None:
    """`boxtrace run` of the runc scenario killed with SIGKILL takes runc with it (EXITKILL): the container's
    state entry and cgroup stay, as after `kill -9` of an untraced runc. The next prepare() removes them."""
    require(is_root(), "runc needs root")
    scenario = get_scenario("runc")
    assert isinstance(scenario, RuncScenario)
    readiness = scenario.check()
    require(readiness.ready, f"runc scenario not ready: {readiness.reason}")
    from scenarios.runc import RUNC_ROOT, runc_container_ids

    scenario.prepare()
    launch = scenario.launch()
    container = scenario.container_id
    assert container is not None
    trace = subprocess.Popen(
        [sys.executable, "-m", "boxtrace", "run", "-o", str(tmp_path / "t.jsonl"), "--", *launch.command],
        cwd=launch.cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        # The container only echoes, so it lives for milliseconds: watch runc's state file (cheap to stat), not
        # `runc list` (a process per poll, slow enough under load to miss the whole life of the container).
        state = RUNC_ROOT / container / "state.json"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not state.exists():
            time.sleep(0.001)
        assert state.exists(), "runc never created the container"
    finally:
        trace.kill()
        trace.wait()
    cgroups = [p for p in Path("/sys/fs/cgroup").glob(f"*/{container}") if p.is_dir()]
    try:
        assert container in runc_container_ids(), "nothing was left behind: the test proves nothing"
        scenario.prepare()
        assert container not in runc_container_ids()
        assert not [p for p in cgroups if p.exists()]
    finally:
        scenario.container_id = container
        scenario.cleanup()


# The teach runtime -----------------------------------------------------------------------------------------------


def test_teach_runtime_as_root_is_pid1_with_its_hostname() -> None:
    require(is_root(), "the teach runtime without --rootless needs root")
    before, host = mounts(), os.uname().nodename
    script = "echo $$; hostname; ls /proc | grep -c '^[0-9]'"
    result = run([sys.executable, "-m", "scenarios.teach_runtime", "--hostname", "lesson", str(build_rootfs()),
                  "/bin/sh", "-c", script], cwd=PROJECT)  # fmt: skip
    assert result.returncode == 0, result.stderr
    pid, hostname, processes = result.stdout.split()
    assert (pid, hostname) == ("1", "lesson")
    assert int(processes) <= 3, "the new proc shows only the container's processes"
    assert mounts() == before and os.uname().nodename == host


def test_teach_runtime_passes_the_exit_status_on() -> None:
    require(is_root(), "the teach runtime without --rootless needs root")
    result = run([sys.executable, str(RUNTIME), str(build_rootfs()), "/bin/sh", "-c", "exit 7"])
    assert result.returncode == 7
    missing = run([sys.executable, str(RUNTIME), str(build_rootfs()), "/no/such/program"])
    assert missing.returncode == 127 and "paths now resolve inside ROOTFS" in missing.stderr


def _as_nobody() -> dict:
    return {"user": NOBODY, "group": NOBODY, "extra_groups": [], "cwd": "/", "env": {"PATH": "/usr/bin:/bin"}}


def test_teach_runtime_rootless_as_nobody() -> None:
    from scenarios.common import user_namespaces_allowed

    require(user_namespaces_allowed()[0], "unprivileged user namespaces are not allowed here")
    script = "echo $$; hostname; id -u"
    with _runtime_for_nobody() as (python, runtime):
        if is_root():
            rootfs, kwargs = rootfs_for_user(NOBODY, NOBODY), _as_nobody()
        else:
            rootfs, kwargs = build_rootfs(), {}
        result = run([python, "-P", runtime, "--rootless", "--hostname", "lesson", str(rootfs),
                      "/bin/sh", "-c", script], **kwargs)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "lesson", "0"]


def test_teach_runtime_explains_eperm_without_a_user_namespace() -> None:
    require(is_root(), "running as nobody needs root to switch users")
    with _runtime_for_nobody() as (python, runtime):
        command = [python, "-P", runtime, str(rootfs_for_user(NOBODY, NOBODY)), "/bin/true"]
        result = run(command, **_as_nobody())
    assert result.returncode == 125
    assert "clone failed: EPERM" in result.stderr and "CAP_SYS_ADMIN" in result.stderr


@contextmanager
def _runtime_for_nobody() -> Iterator[tuple[str, str]]:
    """As root: the interpreter and a staged copy of the runtime that nobody can read wherever the checkout
    lives (its directories are never opened up); as anyone else: this interpreter and the checkout's runtime."""
    if not is_root():
        yield sys.executable, str(RUNTIME)
        return
    with staged_for_user([RUNTIME], NOBODY, NOBODY) as directory:
        yield python_for_user(NOBODY, NOBODY), str(directory / RUNTIME.name)


def test_teach_scenarios_launch_untraced() -> None:
    require(is_root(), "the teach scenarios run as root (rootless as nobody)")
    for name in ("teach", "teach-rootless"):
        scenario = get_scenario(name)
        assert scenario.check().ready, scenario.check()
        scenario.prepare()
        launch = scenario.launch()
        kwargs: dict = {"cwd": launch.cwd, "env": launch.env}
        if launch.user is not None:
            kwargs.update(user=launch.user[0], group=launch.user[1], extra_groups=[])
        result = run(launch.command, **kwargs)
        assert result.returncode == 0, (name, result.stderr)
        assert result.stdout.strip() == "hello from pid 1 on teach", name
        scenario.cleanup()


# unshare and crun ------------------------------------------------------------------------------------------------


def test_unshare_scenario_untraced() -> None:
    require(is_root(), "unshare with new namespaces needs root")
    scenario = get_scenario("unshare")
    readiness = scenario.check()
    require(readiness.ready, f"unshare scenario not ready: {readiness.reason}")
    before, host = mounts(), os.uname().nodename
    scenario.prepare()
    launch = scenario.launch()
    result = run(launch.command, cwd=launch.cwd)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok: pid 1 on box"
    assert mounts() == before and os.uname().nodename == host


def test_crun_check_explains_itself() -> None:
    require(is_root(), "running crun needs root")
    require(shutil.which("crun"), "crun is not installed: run `sudo apt-get install crun`")
    from scenarios.doctor import cgroup_layout

    scenario = get_scenario("crun")
    readiness = scenario.check()
    if cgroup_layout() == "hybrid" and not readiness.ready:
        assert "hybrid cgroup layout" in readiness.reason and "crun says:" in readiness.reason
        assert "systemd.unified_cgroup_hierarchy=1" in readiness.fix and "runc" in readiness.fix
        return
    assert readiness.ready, readiness
    scenario.prepare()
    launch = scenario.launch()
    result = run(launch.command, cwd=launch.cwd)
    scenario.cleanup()
    assert result.returncode == 0 and "hello from pid 1" in result.stdout, result.stderr


# containerd and docker ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def daemons() -> dict[str, int]:
    """containerd and dockerd running (started by scenarios.daemons if needed; left running) and both images."""
    require(is_root(), "starting and using dockerd and containerd needs root")
    for program in ("containerd", "dockerd", "ctr", "docker", "runc", "containerd-shim-runc-v2"):
        require(shutil.which(program), f"{program} is not installed")
    from scenarios.daemons import start_containerd, start_dockerd
    from scenarios.images import ensure_images

    pids = {"containerd": start_containerd(), "dockerd": start_dockerd()}
    ensure_images()
    return pids


def engine_state() -> dict[str, object]:
    from scenarios.containerd import containerd_container_ids
    from scenarios.runc import runc_container_ids

    return {
        "docker": run(["docker", "ps", "-a", "--quiet"]).stdout.split(),
        "ctr": containerd_container_ids(),
        "runc": runc_container_ids(),
        "mounts": mounts(),
    }


def test_daemons_are_found_by_their_sockets(daemons: dict[str, int]) -> None:
    from scenarios.daemons import (
        CONTAINERD_SOCKET,
        containerd_pid,
        dockerd_containerd_address,
        dockerd_pid,
        exe_name,
        listening_unix_paths,
    )
    from scenarios.docker import docker_launch

    assert dockerd_pid() == daemons["dockerd"] and exe_name(daemons["dockerd"]) == "dockerd"
    assert dockerd_containerd_address() == CONTAINERD_SOCKET
    assert containerd_pid() == daemons["containerd"] == containerd_pid(CONTAINERD_SOCKET)
    assert CONTAINERD_SOCKET in listening_unix_paths(daemons["containerd"])
    launch = docker_launch(["--rm", "boxtrace/busybox", "true"])
    assert launch.attach_pids == [daemons["dockerd"], daemons["containerd"]]
    assert launch.command[1:] == ["run", "--rm", "boxtrace/busybox", "true"]


def test_images_are_imported_once(daemons: dict[str, int]) -> None:
    from scenarios.images import (
        containerd_image_exists,
        docker_image_exists,
        import_containerd_image,
        import_docker_image,
    )

    assert docker_image_exists() and containerd_image_exists()
    image_id = run(["docker", "image", "inspect", "--format", "{{.Id}}", "boxtrace/busybox"]).stdout
    import_docker_image()
    import_containerd_image()
    assert run(["docker", "image", "inspect", "--format", "{{.Id}}", "boxtrace/busybox"]).stdout == image_id


def test_docker_run_untraced(daemons: dict[str, int]) -> None:
    before = engine_state()
    result = run(["docker", "run", "--rm", "--network", "none", "boxtrace/busybox", "echo", "hi"])
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hi\n"
    assert engine_state() == before


def test_ctr_run_untraced(daemons: dict[str, int]) -> None:
    from scenarios.containerd import ctr
    from scenarios.images import CONTAINERD_IMAGE

    before = engine_state()
    result = run(ctr("run", "--rm", CONTAINERD_IMAGE, "boxtrace-pytest-ctr", "/bin/sh", "-c", "echo $$"))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "1\n"
    assert engine_state() == before


@pytest.mark.parametrize("name", ["containerd", "docker"])
def test_daemon_scenarios_launch_and_clean_up(daemons: dict[str, int], name: str) -> None:
    scenario = get_scenario(name)
    assert scenario.check().ready, scenario.check()
    before = engine_state()
    scenario.prepare()
    launch = scenario.launch()
    assert set(launch.attach_pids) >= {daemons["containerd"]}
    result = run(launch.command, cwd=launch.cwd)
    assert result.returncode == 0, result.stderr
    assert ("hello from pid 1" if name == "containerd" else "hello from a container") in result.stdout
    scenario.cleanup()
    assert engine_state() == before


def test_daemon_scenarios_clean_up_a_container_left_running(daemons: dict[str, int]) -> None:
    from scenarios.containerd import ctr
    from scenarios.images import CONTAINERD_IMAGE, DOCKER_IMAGE

    before = engine_state()
    docker = get_scenario("docker")
    assert isinstance(docker, DockerScenario)
    docker.launch()
    name = docker.container_name
    started = run(["docker", "run", "-d", "--network", "none", "--name", name, DOCKER_IMAGE, "sleep", "60"])
    assert started.returncode == 0, started.stderr
    containerd = get_scenario("containerd")
    assert isinstance(containerd, ContainerdScenario)
    containerd.launch()
    started = run(ctr("run", "-d", CONTAINERD_IMAGE, containerd.container_id, "sleep", "60"))
    assert started.returncode == 0, started.stderr
    docker.cleanup()
    containerd.cleanup()
    assert engine_state() == before


# Milestones against real traces -----------------------------------------------------------------------------------

# Traced runs of every scenario (milestones in order, cleanup, the docker chain): tests/test_scenarios_traced.py
