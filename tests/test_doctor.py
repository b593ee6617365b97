"""boxtrace doctor on the real machine: every check runs for real, nothing is mocked."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console

from scenarios import daemons
from scenarios.doctor import Check, cgroup_layout, check_ptrace, fix, render_checks, run_checks
from tests.prereqs import require

PROJECT = Path(__file__).resolve().parent.parent

UNIFIED = "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"
HYBRID = (
    "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
)
LEGACY = "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n32 31 0:29 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n"


@pytest.mark.parametrize(
    ("mountinfo", "layout"), [(UNIFIED, "unified"), (HYBRID, "hybrid"), (LEGACY, "legacy"), ("", "none")]
)
def test_cgroup_layout_from_mountinfo(mountinfo: str, layout: str) -> None:
    assert cgroup_layout(mountinfo) == layout


def test_this_machines_cgroup_layout_is_known() -> None:
    assert cgroup_layout() in ("unified", "hybrid", "legacy")


def test_every_check_answers_with_a_fix_when_it_fails() -> None:
    checks = run_checks()
    names = [c.name for c in checks]
    assert len(names) == len(set(names))
    for expected in ("root", "ptrace", "user namespaces", "cgroup layout", "runc", "crun accepts this host",
                     "containerd running", "dockerd running", "busybox rootfs", "dot", "bwrap", "strace"):  # fmt: skip
        assert expected in names
    for c in checks:
        assert isinstance(c, Check) and c.detail
        if not c.ok and c.required:
            assert c.fix, f"{c.name} fails without saying how to fix it"


def test_ptrace_check_seizes_and_lets_go() -> None:
    require(os.geteuid() == 0, "the ptrace check is expected to pass as root")
    before = set(os.listdir("/proc"))
    check = check_ptrace()
    assert check.ok, check.detail
    # The sleep it traced was killed and reaped: no process of ours is left.
    leftovers = [
        p for p in set(os.listdir("/proc")) - before if p.isdigit() and _parent(int(p)) == os.getpid()
    ]
    assert leftovers == []


def test_root_machine_passes_the_basics() -> None:
    require(os.geteuid() == 0, "root is needed for the basic checks to pass")
    by_name = {c.name: c for c in run_checks()}
    for name in ("root", "ptrace", "cgroup layout"):
        assert by_name[name].ok, by_name[name]


def test_crun_refusal_is_explained_on_hybrid_hosts() -> None:
    require(os.geteuid() == 0 and shutil.which("crun"), "needs root and crun")
    check = {c.name: c for c in run_checks()}["crun accepts this host"]
    assert not check.required
    if cgroup_layout() == "hybrid" and not check.ok:
        assert "hybrid" in check.detail and "systemd.unified_cgroup_hierarchy=1" in check.fix


def test_fix_builds_a_missing_rootfs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    missing = [c for c in run_checks() if c.name == "busybox rootfs"]
    assert missing and not missing[0].ok and missing[0].action == "rootfs"
    done = fix(missing)
    assert done == [f"built the busybox rootfs at {tmp_path / 'boxtrace' / 'rootfs'}"]
    assert {c.name: c for c in run_checks()}["busybox rootfs"].ok


def test_report_prints_each_fix_before_the_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`doctor --fix`'s output, from the real checks: an empty cache makes the rootfs check fail for real."""
    from scenarios.doctor import report

    require(os.geteuid() == 0 and daemons.docker_answers(timeout=5), "needs root and a running Docker engine")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    console = Console(color_system=None, width=160, record=True)
    assert report(console, fix_first=True) == 0
    lines = console.export_text().splitlines()
    assert lines[0] == f"fix: built the busybox rootfs at {tmp_path / 'boxtrace' / 'rootfs'}"
    assert lines[1].strip() == "boxtrace doctor", "then the table, checked again after the fixes"
    again = Console(color_system=None, width=160, record=True)
    report(again, fix_first=True)
    assert again.export_text().splitlines()[0] == "fix: nothing to fix: every check boxtrace can repair passes"


def test_fix_with_nothing_to_do_does_nothing() -> None:
    assert fix([Check("root", True, "running as root")]) == []


def test_render_checks_as_a_table() -> None:
    console = Console(color_system=None, width=120, record=True)
    console.print(
        render_checks([Check("ptrace", True, "works"), Check("crun", False, "absent", "apt-get it")])
    )
    text = console.export_text()
    assert "boxtrace doctor" in text and "ptrace" in text and "apt-get it" in text


def test_doctor_runs_as_a_module() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "scenarios.doctor"], cwd=PROJECT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode in (0, 1), result.stderr
    assert "ptrace" in result.stdout and "cgroup layout" in result.stdout


def test_stop_started_daemons_never_stops_a_process_it_did_not_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pid file that names some other program (a reused pid) is stale: removed, and nothing is signalled."""
    monkeypatch.setattr(daemons, "STATE_DIR", tmp_path)
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        (tmp_path / "dockerd.pid").write_text(f"{sleeper.pid} {daemons.start_time(sleeper.pid)}\n")
        (tmp_path / "containerd.pid").write_text("999999999 1\n")
        assert daemons.started_daemons() == {}
        assert daemons.stop_started_daemons(timeout=1) == []
        assert sleeper.poll() is None
        assert list(tmp_path.iterdir()) == []
    finally:
        sleeper.send_signal(signal.SIGKILL)
        sleeper.wait()


def test_daemons_status_and_start_are_idempotent() -> None:
    require(os.geteuid() == 0, "starting dockerd and containerd needs root")
    require(
        shutil.which("dockerd") and shutil.which("containerd"), "docker.io and containerd are not installed"
    )
    first = daemons.start_dockerd()
    started = time.monotonic()
    assert daemons.start_dockerd() == first and time.monotonic() - started < 10
    assert daemons.start_containerd() == daemons.containerd_pid(daemons.CONTAINERD_SOCKET)
    state = daemons.status()
    assert state["dockerd"] == first and state["docker answers"] and state["containerd answers"]
    assert state["storage driver"] in ("overlay2", "vfs")
    checks = {c.name: c for c in run_checks()}
    assert checks["dockerd running"].ok and checks["containerd running"].ok


def _parent(pid: int) -> int | None:
    return daemons.parent_pid(pid)
