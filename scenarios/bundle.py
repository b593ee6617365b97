"""OCI bundles for runc and crun: a directory holding `config.json` and the container's `rootfs/`.

The config follows what `runc spec` writes (OCI runtime spec 1.0.2): a non-interactive process running as root with
runc's three default capabilities and no new privileges, the usual pseudo-filesystems mounted, five new namespaces
(pid, network, ipc, uts, mount; pass `namespaces` to add cgroup), the masked and read-only /proc paths, and a
cgroup path of our own so that our containers are easy to find. Everything is generated here; nothing is copied
from `runc spec` at run time.

Public API: `make_bundle(directory, args, hostname="boxtrace", ...) -> Path` and `oci_config(...) -> dict`.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from scenarios.rootfs import build_rootfs

OCI_VERSION = "1.0.2"
DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#: runc's default spec keeps just these; docker's default set is larger.
CAPABILITIES = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
NAMESPACES = ("pid", "network", "ipc", "uts", "mount")

MASKED_PATHS = [
    "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
    "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
]  # fmt: skip
READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]


def _mounts() -> list[dict[str, Any]]:
    def mount(destination: str, fstype: str, source: str, *options: str) -> dict[str, Any]:
        entry: dict[str, Any] = {"destination": destination, "type": fstype, "source": source}
        if options:
            entry["options"] = list(options)
        return entry

    return [
        mount("/proc", "proc", "proc"),
        mount("/dev", "tmpfs", "tmpfs", "nosuid", "strictatime", "mode=755", "size=65536k"),
        mount(
            "/dev/pts",
            "devpts",
            "devpts",
            "nosuid",
            "noexec",
            "newinstance",
            "ptmxmode=0666",
            "mode=0620",
            "gid=5",
        ),
        mount("/dev/shm", "tmpfs", "shm", "nosuid", "noexec", "nodev", "mode=1777", "size=65536k"),
        mount("/dev/mqueue", "mqueue", "mqueue", "nosuid", "noexec", "nodev"),
        mount("/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", "ro"),
        mount("/sys/fs/cgroup", "cgroup", "cgroup", "nosuid", "noexec", "nodev", "relatime", "ro"),
    ]


def oci_config(
    args: list[str],
    hostname: str = "boxtrace",
    *,
    readonly: bool = False,
    cgroups_path: str | None = None,
    namespaces: tuple[str, ...] = NAMESPACES,
    rootfs: str = "rootfs",
) -> dict[str, Any]:
    """The config.json of a bundle as a dict (see the module docstring for what it holds)."""
    caps = list(CAPABILITIES)
    linux: dict[str, Any] = {
        "resources": {"devices": [{"allow": False, "access": "rwm"}]},
        "namespaces": [{"type": kind} for kind in namespaces],
        "maskedPaths": list(MASKED_PATHS),
        "readonlyPaths": list(READONLY_PATHS),
    }
    if cgroups_path:
        linux["cgroupsPath"] = cgroups_path
    return {
        "ociVersion": OCI_VERSION,
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0},
            "args": list(args),
            "env": [DEFAULT_PATH, f"HOSTNAME={hostname}"],
            "cwd": "/",
            "capabilities": {"bounding": caps, "effective": caps, "permitted": caps, "ambient": caps},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": rootfs, "readonly": readonly},
        "hostname": hostname,
        "mounts": _mounts(),
        "linux": linux,
    }


def make_bundle(
    directory: str | os.PathLike[str],
    args: list[str],
    hostname: str = "boxtrace",
    *,
    readonly: bool = False,
    cgroups_path: str | None = None,
    namespaces: tuple[str, ...] = NAMESPACES,
) -> Path:
    """Write an OCI bundle into `directory`: a private copy of the cached rootfs and a config.json; return it.

    The rootfs is copied (about 2 MB) rather than shared so that a container writing to its root cannot change the
    cache. An existing bundle's rootfs is kept; its config.json is rewritten.
    """
    bundle = Path(directory).absolute()
    bundle.mkdir(parents=True, exist_ok=True)
    rootfs = bundle / "rootfs"
    if not rootfs.is_dir():
        staging = bundle / ".rootfs.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(build_rootfs(), staging, symlinks=True)
        os.rename(staging, rootfs)
    config = oci_config(
        args, hostname, readonly=readonly, cgroups_path=cgroups_path, namespaces=namespaces, rootfs="rootfs"
    )
    tmp = bundle / ".config.json.tmp"
    tmp.write_text(json.dumps(config, indent=2) + "\n")
    os.replace(tmp, bundle / "config.json")
    return bundle

