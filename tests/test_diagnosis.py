"""Diagnosis on real failures: each test makes a launch fail for real under boxtrace and reads the sentence.

Nothing here is a hand-written trace. The failures are provoked the way a learner meets them: an unprivileged
unshare, a gid_map written without denying setgroups, pivot_root into a plain directory, an entrypoint missing
from the root filesystem (teach, chroot and runc), a namespace limit of 0, and crun on this machine's cgroups.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.prereqs import require
from tracer.engine import TraceOptions
from tracer.insights import diagnose
from tracer.session import trace_to_list

pytestmark = pytest.mark.root

NOBODY = (65534, 65534)
#: boxtrace's seccomp filter cannot be installed in a launch that drops to another user before exec (the
#: engine sets no_new_privs only when the tracer itself is not root: reported to the lead); these launches go
#: without it.
AS_NOBODY = TraceOptions(run_as=NOBODY, seccomp=False, cwd="/")
SYSTEM_PYTHON = shutil.which("python3", path="/usr/bin:/bin") or sys.executable


@pytest.fixture(autouse=True)
def _needs_root() -> None:
    require(
        os.geteuid() == 0, "provoking these failures under the tracer needs root (some then drop to nobody)"
    )


@pytest.fixture(scope="module")
def rootfs() -> Path:
    from scenarios.rootfs import build_rootfs

    return build_rootfs()


def only(diagnoses, kind: str):
    found = [d for d in diagnoses if d.kind == kind]
    assert len(found) == 1, diagnoses
    return found[0]


def test_successful_launches_have_no_diagnosis(scenario_recording):
    from tracer.recording import load_recording

    for name in ("teach", "runc"):
        assert diagnose(load_recording(scenario_recording(name)).events) == []


def test_unshare_without_privileges_is_eperm():
    require(shutil.which("unshare"), "util-linux unshare is needed")
    result, events = trace_to_list(["unshare", "--mount", "--uts", "true"], options=AS_NOBODY)
    assert result.exit_code != 0
    d = only(diagnose(events), "namespace-permission")
    assert d.sentence.startswith("unshare(CLONE_NEWNS|CLONE_NEWUTS) in ")
    assert "failed with EPERM: creating mnt, uts namespaces needs CAP_SYS_ADMIN" in d.sentence
    assert "user namespace" in d.fix and "root" in d.fix


def test_user_namespace_limit_of_zero_is_enospc():
    # The limit is per user namespace: setting it to 0 inside a throwaway one leaves the host's alone.
    require(shutil.which("unshare"), "util-linux unshare is needed")
    script = "echo 0 > /proc/sys/user/max_user_namespaces && unshare --user true"
    result, events = trace_to_list(
        ["unshare", "--user", "--map-root-user", "sh", "-c", script], options=TraceOptions(cwd="/")
    )
    assert result.exit_code != 0
    d = only(diagnose(events), "namespace-permission")
    assert "unshare(CLONE_NEWUSER)" in d.sentence and "failed with ENOSPC" in d.sentence
    assert "user.max_user_namespaces" in d.sentence and "sysctl" in d.fix


GID_MAP_WITHOUT_SETGROUPS = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.unshare(0x10000000) != 0:  # CLONE_NEWUSER
    sys.exit(f"unshare: {os.strerror(ctypes.get_errno())}")
fd = os.open("/proc/self/gid_map", os.O_WRONLY)
try:
    os.write(fd, f"0 {os.getgid()} 1".encode())
except OSError as error:
    sys.exit(f"gid_map: {error.strerror}")
"""


def test_gid_map_without_denying_setgroups():
    from scenarios.common import user_namespaces_allowed

    allowed, why, _ = user_namespaces_allowed()
    require(allowed, f"unprivileged user namespaces are needed: {why}")
    result, events = trace_to_list([SYSTEM_PYTHON, "-I", "-c", GID_MAP_WITHOUT_SETGROUPS], options=AS_NOBODY)
    assert result.exit_code == 1
    d = only(diagnose(events), "id-map")
    assert d.sentence.startswith('writing gid_map ("0 65534 1") to /proc/')
    assert 'failed with EPERM: an unprivileged process must write "deny" to setgroups before' in d.sentence
    assert "/setgroups first" in d.fix


@pytest.mark.parametrize(
    ("setup", "errno_name"),
    [
        # A directory on the current root's mount: the kernel answers EBUSY.
        ("", "EBUSY"),
        # A directory inside another mount (a tmpfs): EINVAL.
        ("mount -t tmpfs boxtrace-test {top} && ", "EINVAL"),
    ],
    ids=["on-the-root-mount", "inside-a-tmpfs"],
)
def test_pivot_root_into_a_plain_directory(tmp_path, setup, errno_name):
    require(
        shutil.which("unshare") and shutil.which("pivot_root"), "util-linux unshare and pivot_root are needed"
    )
    top = tmp_path / "top"
    top.mkdir()
    newroot = top / "not-a-mount-point"
    prepare = setup.format(top=top)
    # unshare --mount makes the tree private first: only "not a mount point" is left to go wrong.
    script = f"{prepare}mkdir -p {newroot} && cd {newroot} && pivot_root . ."
    result, events = trace_to_list(["unshare", "--mount", "sh", "-c", script], options=TraceOptions(cwd="/"))
    assert result.exit_code != 0
    d = only(diagnose(events), "pivot_root")
    assert d.sentence.startswith('pivot_root(".", ".") in ')
    assert d.sentence.endswith(
        f"failed with {errno_name}: the new root {newroot} is not a mount point, and "
        "pivot_root only swaps whole mounts"
    )
    assert f"mount --bind {newroot} {newroot}" in d.fix


def test_entrypoint_missing_after_pivot_root(rootfs):
    runtime = Path(__file__).parent.parent / "scenarios" / "teach_runtime.py"
    result, events = trace_to_list(
        [sys.executable, "-P", str(runtime), str(rootfs), "/bin/no-such-program"],
        options=TraceOptions(cwd="/"),
    )
    assert result.exit_code != 0
    d = only(diagnose(events), "entrypoint")
    assert d.sentence.startswith(
        f"the entrypoint /bin/no-such-program does not exist inside the new root {rootfs}: "
        "after pivot_root paths resolve inside it, and execve in "
    )
    assert d.sentence.endswith(f"failed with ENOENT; on the host that is {rootfs}/bin/no-such-program")
    assert "into the root filesystem" in d.fix


def test_entrypoint_missing_after_chroot(rootfs):
    require(shutil.which("chroot"), "coreutils chroot is needed")
    result, events = trace_to_list(
        ["chroot", str(rootfs), "/bin/no-such-program"], options=TraceOptions(cwd="/")
    )
    assert result.exit_code == 127
    d = only(diagnose(events), "entrypoint")
    assert d.sentence.startswith(
        f"the entrypoint /bin/no-such-program does not exist inside the new root {rootfs}: "
        "after chroot paths resolve inside it"
    )


def test_runc_bundle_without_its_entrypoint():
    require(shutil.which("runc"), "runc is needed")
    from scenarios.bundle import make_bundle
    from scenarios.common import BUNDLES_DIR, run_quiet, unique_id
    from scenarios.runc import RUNC_ROOT, runc

    container = unique_id("diag")
    bundle = make_bundle(
        BUNDLES_DIR / "diagnosis-runc", ["/bin/no-such-program"], "diag", cgroups_path=f"/{container}"
    )
    RUNC_ROOT.mkdir(parents=True, exist_ok=True)
    try:
        result, events = trace_to_list(
            runc("run", "--bundle", str(bundle), container),
            options=TraceOptions(cwd=str(bundle), output_path=os.devnull),
        )
    finally:
        run_quiet(runc("delete", "--force", container))
    assert result.exit_code != 0
    d = only(diagnose(events), "entrypoint")
    assert d.sentence.startswith("runc's init ")
    assert (
        f"entered the new root {bundle}/rootfs (pivot_root) and exited with status 1 before starting the "
        "entrypoint: runc looks the entrypoint up inside the new root before exec" in d.sentence
    )
    assert "process.args[0] of config.json" in d.fix


def test_crun_refuses_this_machines_cgroup_layout():
    require(shutil.which("crun"), "crun is needed")
    from scenarios.crun import crun_refusal

    refusal = crun_refusal()
    if refusal is None or "hybrid" not in refusal:
        # Not a missing prerequisite but a host where crun works, so this skips under CI too.
        pytest.skip("crun accepts this machine's cgroup layout (no refusal to diagnose, also under CI)")
    from scenarios.bundle import make_bundle
    from scenarios.common import BUNDLES_DIR, run_quiet, unique_id
    from scenarios.crun import CRUN_ROOT, crun

    container = unique_id("diag")
    bundle = make_bundle(BUNDLES_DIR / "diagnosis-crun", ["/bin/true"], "diag", cgroups_path=f"/{container}")
    CRUN_ROOT.mkdir(parents=True, exist_ok=True)
    try:
        result, events = trace_to_list(
            crun("run", "--bundle", str(bundle), container),
            options=TraceOptions(cwd=str(bundle), output_path=os.devnull),
        )
    finally:
        run_quiet(crun("delete", "--force", container))
    assert result.exit_code == 1
    d = only(diagnose(events), "cgroup")
    assert "refused this machine's cgroup layout: it created the container process" in d.sentence
    assert "killed it before it could start, made no cgroup and exited with status 1" in d.sentence
    assert (
        "hybrid layout (cgroup v1 controllers with a cgroup2 mount at /sys/fs/cgroup/unified)" in d.sentence
    )
    assert "systemd.unified_cgroup_hierarchy=1" in d.fix and "runc" in d.fix
