"""boxtrace doctor: can this machine trace containers, and what is missing?

`run_checks()` inspects the machine (root, ptrace, user namespaces, cgroup layout, the runtimes and tools, the
daemons, the local images and the cached rootfs) and returns one `Check` per question. `fix()` repairs what a
program can: installs missing Debian packages with apt-get, builds the rootfs, starts containerd and dockerd, and
imports the images. Nothing here needs a registry.

    python -m scenarios.doctor [--fix]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scenarios.common import PACKAGES, user_namespaces_allowed
from scenarios.crun import HYBRID_FIX, crun_refusal, refusal_readiness
from scenarios.daemons import (
    CONTAINERD_SOCKET,
    DaemonError,
    containerd_answers,
    containerd_pid,
    docker_answers,
    dockerd_containerd_address,
    dockerd_pid,
    start_containerd,
    start_dockerd,
)
from scenarios.images import (
    CONTAINERD_IMAGE,
    DOCKER_IMAGE,
    ImageError,
    containerd_image_exists,
    docker_image_exists,
    import_containerd_image,
    import_docker_image,
)
from scenarios.rootfs import RootfsError, build_rootfs, rootfs_path

#: Programs boxtrace's scenarios and views use, in the order they are reported. Optional ones do not fail doctor.
PROGRAMS: tuple[tuple[str, bool], ...] = (
    ("runc", True),
    ("crun", False),
    ("ctr", True),
    ("containerd", True),
    ("containerd-shim-runc-v2", True),
    ("docker", True),
    ("dockerd", True),
    ("unshare", True),
    ("bwrap", False),
    ("strace", False),
    ("dot", False),
    ("busybox", True),
    ("podman", False),
    ("conmon", False),
    ("newuidmap", False),
)

PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
WALL = 0x40000000


@dataclass(frozen=True)
class Check:
    """One answer: `fix` is a sentence or command for the user; `action` names what `fix()` can do about it."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    #: apt:PACKAGE | rootfs | daemons | images | None (nothing boxtrace can do itself).
    action: str | None = None
    #: False for checks whose failure leaves most of boxtrace usable (crun, strace, graphviz).
    required: bool = True


# Individual checks -----------------------------------------------------------------------------------------------


def check_root() -> Check:
    if os.geteuid() == 0:
        return Check("root", True, "running as root")
    return Check(
        "root",
        False,
        f"running as uid {os.geteuid()}: only teach-rootless and replaying recordings work",
        "run boxtrace with sudo",
    )


def check_ptrace() -> Check:
    """Seize a `sleep` child with PTRACE_SEIZE, stop it, detach, and kill it by its pid."""
    from ptrace.binding.func import PTRACE_DETACH, ptrace
    from ptrace.error import PtraceError

    scope = _read("/proc/sys/kernel/yama/ptrace_scope")
    child = subprocess.Popen(["sleep", "30"], stdin=subprocess.DEVNULL)
    try:
        ptrace(PTRACE_SEIZE, child.pid, 0, 0)
        ptrace(PTRACE_INTERRUPT, child.pid, 0, 0)
        os.waitpid(child.pid, WALL)  # the interrupt's stop; the child is not reaped
        ptrace(PTRACE_DETACH, child.pid, 0, 0)
    except PtraceError as e:
        fix = "run as root"
        if scope not in (None, "0", "1"):
            fix = f"run `sudo sysctl -w kernel.yama.ptrace_scope=1` (it is {scope})"
        elif os.path.exists("/.dockerenv"):
            fix = "inside Docker, start the container with --cap-add SYS_PTRACE"
        return Check("ptrace", False, f"PTRACE_SEIZE of a child failed: {e}", fix)
    finally:
        child.kill()
        child.wait()
    detail = "PTRACE_SEIZE, PTRACE_INTERRUPT and PTRACE_DETACH work"
    if scope is not None:
        detail += f" (yama ptrace_scope {scope})"
    return Check("ptrace", True, detail)


def check_user_namespaces() -> Check:
    allowed, why, fix = user_namespaces_allowed()
    if allowed:
        limit = _read("/proc/sys/user/max_user_namespaces")
        return Check("user namespaces", True, f"unprivileged user namespaces allowed (max {limit})")
    return Check("user namespaces", False, why, f"run `{fix}`", required=False)


def cgroup_layout(mountinfo: str | None = None) -> str:
    """ "unified" (cgroup v2 only), "hybrid" (v1 controllers plus a v2 mount), "legacy" (v1 only) or "none"."""
    text = mountinfo if mountinfo is not None else (_read("/proc/self/mountinfo") or "")
    v1 = v2 = False
    for line in text.splitlines():
        fields = line.split()
        if " - " not in line or len(fields) < 5:
            continue
        mountpoint = fields[4]
        fstype = line.split(" - ", 1)[1].split()[0]
        if fstype == "cgroup2" and mountpoint == "/sys/fs/cgroup":
            return "unified"
        if mountpoint.startswith("/sys/fs/cgroup/"):
            v1 = v1 or fstype == "cgroup"
            v2 = v2 or fstype == "cgroup2"
    if v1 and v2:
        return "hybrid"
    return "legacy" if v1 else "none"


def check_cgroups() -> Check:
    layout = cgroup_layout()
    detail = {
        "unified": "cgroup v2, unified hierarchy at /sys/fs/cgroup",
        "hybrid": "hybrid: cgroup v1 controllers plus cgroup v2 at /sys/fs/cgroup/unified (runc works, crun 1.8 "
        "refuses it while cgroup v2 has controllers)",
        "legacy": "cgroup v1 only",
        "none": "no cgroup filesystem mounted under /sys/fs/cgroup",
    }[layout]
    return Check(
        "cgroup layout", layout != "none", detail, "mount the cgroup filesystems (or boot with systemd)"
    )


def check_program(program: str, required: bool) -> Check:
    found = shutil.which(program) or (
        program == "busybox" and os.path.exists("/bin/busybox") and "/bin/busybox"
    )
    package = PACKAGES.get(program, program)
    if found:
        return Check(program, True, str(found), required=required)
    return Check(
        program,
        False,
        "not installed",
        f"run `sudo apt-get install {package}`",
        action=f"apt:{package}",
        required=required,
    )


def check_crun_accepts_host() -> Check:
    if shutil.which("crun") is None:
        return Check("crun accepts this host", False, "crun is not installed", "", required=False)
    if os.geteuid() != 0:
        return Check(
            "crun accepts this host", False, "not checked: running crun needs root", "", required=False
        )
    error = crun_refusal()
    if error is None:
        return Check("crun accepts this host", True, "crun ran a test container", required=False)
    answer = refusal_readiness(error)
    return Check("crun accepts this host", False, answer.reason, answer.fix or HYBRID_FIX, required=False)


def check_podman_host() -> list[Check]:
    """What the podman scenarios' command line works around on this host (ulimits, crun, systemd), explained."""
    if shutil.which("podman") is None:
        return []
    from scenarios.podman import machine_notes

    if os.geteuid() != 0:
        return [Check("podman on this host", False, "not checked: needs root", "", required=False)]
    return [Check(note.name, True, note.detail, required=False) for note in machine_notes()]


def check_containerd() -> Check:
    pid = containerd_pid(CONTAINERD_SOCKET)
    if containerd_answers(CONTAINERD_SOCKET, timeout=5):
        return Check("containerd running", True, f"answers on {CONTAINERD_SOCKET} (pid {pid})")
    detail = f"pid {pid} does not answer" if pid else f"not running on {CONTAINERD_SOCKET}"
    return Check(
        "containerd running", False, detail, "run `python -m scenarios.daemons start`", action="daemons"
    )


def check_dockerd() -> Check:
    pid = dockerd_pid()
    if docker_answers(timeout=5):
        address = dockerd_containerd_address(pid) if pid else None
        return Check("dockerd running", True, f"answers (pid {pid}, containerd at {address})")
    detail = f"pid {pid} does not answer" if pid else "not running"
    return Check(
        "dockerd running", False, detail, "run `python -m scenarios.daemons start`", action="daemons"
    )


def check_images(docker_ok: bool, containerd_ok: bool) -> list[Check]:
    checks = []
    if docker_ok:
        present = docker_image_exists()
        checks.append(
            Check(
                "docker image",
                present,
                DOCKER_IMAGE + (" present" if present else " missing"),
                "" if present else "run `python -m scenarios.doctor --fix` (imports it locally)",
                action=None if present else "images",
            )
        )
    if containerd_ok:
        present = containerd_image_exists()
        checks.append(
            Check(
                "containerd image",
                present,
                CONTAINERD_IMAGE + (" present" if present else " missing") + " (namespace boxtrace)",
                "" if present else "run `python -m scenarios.doctor --fix` (imports it locally)",
                action=None if present else "images",
            )
        )
    return checks


def check_rootfs() -> Check:
    path = rootfs_path()
    if (path / "bin" / "sh").exists() or (path / "bin" / "sh").is_symlink():
        return Check("busybox rootfs", True, f"cached at {path}")
    return Check(
        "busybox rootfs", False, f"not built yet ({path})", "run `python -m scenarios.doctor --fix`", "rootfs"
    )


def run_checks() -> list[Check]:
    """Every check, in the order they are shown."""
    checks = [check_root(), check_ptrace(), check_user_namespaces(), check_cgroups()]
    checks += [check_program(name, required) for name, required in PROGRAMS]
    checks.append(check_crun_accepts_host())
    checks += check_podman_host()
    containerd = check_containerd()
    dockerd = check_dockerd()
    checks += [containerd, dockerd]
    checks += check_images(dockerd.ok, containerd.ok)
    checks.append(check_rootfs())
    return checks


# Fixing ----------------------------------------------------------------------------------------------------------


def fix(checks: Sequence[Check] | None = None) -> list[str]:
    """Repair what boxtrace can (packages, rootfs, daemons, images) and return one sentence per thing it did, or
    one `failed: ...` sentence where it stopped; nothing is said about what already worked."""
    checks = list(run_checks() if checks is None else checks)
    failed = {c.name: c for c in checks if not c.ok}
    actions = {c.action for c in failed.values()}
    done: list[str] = []
    packages = sorted({a[4:] for a in actions if a and a.startswith("apt:")})
    if packages:
        done.append(_apt_install(packages))
    try:
        if actions & {"rootfs", "images", "daemons"}:
            path = build_rootfs()  # the images are made from it; cached when it is there
            if "rootfs" in actions:
                done.append(f"built the busybox rootfs at {path}")
        if "containerd running" in failed:
            done.append(f"started containerd on {CONTAINERD_SOCKET} (pid {start_containerd()})")
        if "dockerd running" in failed:
            done.append(f"started dockerd (pid {start_dockerd()})")
        if actions & {"images", "daemons"}:
            # Freshly started daemons may have empty image stores; import what is missing.
            for exists, load in ((docker_image_exists, import_docker_image),
                                 (containerd_image_exists, import_containerd_image)):
                if not exists():
                    done.append(f"imported the image {load()}")
    except (DaemonError, ImageError, RootfsError, OSError) as e:
        done.append(f"failed: {e}")
    return done


def _apt_install(packages: list[str]) -> str:
    if os.geteuid() != 0:
        return f"not root: run `sudo apt-get install {' '.join(packages)}`"
    if shutil.which("apt-get") is None:
        return f"no apt-get here: install {', '.join(packages)} with your package manager"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    update = subprocess.run(["apt-get", "update"], capture_output=True, text=True, env=env, check=False)
    if update.returncode != 0:
        return f"apt-get update failed: {update.stderr.strip()[-300:]}"
    install = subprocess.run(
        ["apt-get", "install", "-y", "--no-install-recommends", *packages],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if install.returncode != 0:
        return f"apt-get install {' '.join(packages)} failed: {install.stderr.strip()[-300:]}"
    return f"installed {', '.join(packages)}"


# Output ----------------------------------------------------------------------------------------------------------


def render_checks(checks: Sequence[Check]) -> Any:
    """A rich Table of the checks (rich is imported only here)."""
    from rich.table import Table

    table = Table(title="boxtrace doctor", show_lines=False)
    table.add_column("check")
    table.add_column("ok")
    table.add_column("detail", overflow="fold")
    table.add_column("fix", overflow="fold")
    for c in checks:
        mark = "[green]yes[/]" if c.ok else ("[red]NO[/]" if c.required else "[yellow]no[/]")
        table.add_row(c.name, mark, c.detail, "" if c.ok else c.fix)
    return table


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def report(console: Any, *, fix_first: bool = False) -> int:
    """`boxtrace doctor [--fix]`: with fix_first, repair and print one `fix:` line per repair (or that nothing
    needed one), then print the table of checks. Returns the exit status: 0 when every required check passes."""
    checks = run_checks()
    if fix_first:
        lines = fix(checks)
        for line in lines or ["nothing to fix: every check boxtrace can repair passes"]:
            console.print(f"fix: {line}", markup=False, highlight=False)
        if lines:
            checks = run_checks()
    console.print(render_checks(checks))
    return 0 if all(c.ok for c in checks if c.required) else 1


def main(argv: list[str] | None = None) -> int:
    from rich.console import Console

    args = sys.argv[1:] if argv is None else argv
    return report(Console(), fix_first="--fix" in args)


if __name__ == "__main__":
    sys.exit(main())
