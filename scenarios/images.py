"""Local container images made from the busybox rootfs: no registry is ever contacted.

- Docker: `docker import` turns the rootfs tarball into `boxtrace/busybox:latest` (with `CMD ["/bin/sh"]`).
- containerd: an OCI image layout (oci-layout, index.json, blobs/sha256/: one gzip layer, its config, a manifest),
  written in Python by scenarios.rootfs, is loaded with `ctr -n boxtrace image import`, so containerd never depends
  on dockerd.

Every function checks first and does nothing when the image is already there (unless `force`).

Public API: `docker_image_exists()`, `import_docker_image(force=False)`, `oci_image_tarball(force=False)`,
`containerd_image_exists()`, `import_containerd_image(force=False)`, `ensure_images()`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from scenarios.daemons import CONTAINERD_SOCKET, containerd_snapshotter
from scenarios.rootfs import (
    CONTAINERD_IMAGE,
    IMAGE_CMD,
    IMAGE_ENV,
    image_architecture,
    oci_image_tarball,
    rootfs_tarball,
    write_oci_layout,
)

__all__ = [  # the OCI layout is written by scenarios.rootfs (the rootfs's second tarball); importable here too
    "CONTAINERD_IMAGE",
    "IMAGE_CMD",
    "IMAGE_ENV",
    "image_architecture",
    "oci_image_tarball",
    "write_oci_layout",
]

DOCKER_IMAGE = "boxtrace/busybox:latest"
CONTAINERD_NAMESPACE = "boxtrace"


class ImageError(RuntimeError):
    """An image could not be imported; the message carries the tool's own error."""


def _run(
    command: list[str],
    timeout: float = 120.0,
    user: tuple[int, int] | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command and capture its output; with `user`, as that uid/gid with no supplementary groups."""
    as_user: dict[str, Any] = {}
    if user is not None:
        as_user = {"user": user[0], "group": user[1], "extra_groups": [], "cwd": "/"}
    return subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, check=False, env=env, **as_user
    )


def _check(result: subprocess.CompletedProcess[str], what: str) -> None:
    if result.returncode != 0:
        raise ImageError(f"{what} failed: {(result.stderr or result.stdout).strip()}")


# Docker --------------------------------------------------------------------------------------------------------


def docker_image_exists(name: str = DOCKER_IMAGE) -> bool:
    try:
        return _run(["docker", "image", "inspect", "--format", "{{.Id}}", name], timeout=15).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def import_docker_image(force: bool = False) -> str:
    """Import the rootfs tarball as `boxtrace/busybox:latest` unless it exists; return the image name."""
    if not force and docker_image_exists():
        return DOCKER_IMAGE
    tarball = rootfs_tarball()
    cmd = json.dumps(IMAGE_CMD)
    result = _run(["docker", "import", "--change", f"CMD {cmd}", str(tarball), DOCKER_IMAGE])
    _check(result, "docker import")
    return DOCKER_IMAGE


# podman --------------------------------------------------------------------------------------------------------

#: The image as podman names a locally imported one.
PODMAN_IMAGE = "localhost/boxtrace/busybox:latest"


def podman_image_exists(
    podman: list[str], user: tuple[int, int] | None = None, env: dict[str, str] | None = None
) -> bool:
    """Whether the podman command line `podman` (binary plus its storage options) has the image."""
    try:
        result = _run([*podman, "image", "exists", PODMAN_IMAGE], timeout=60, user=user, env=env)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def import_podman_image(
    podman: list[str],
    tarball: Path | None = None,
    user: tuple[int, int] | None = None,
    env: dict[str, str] | None = None,
    force: bool = False,
) -> str:
    """`podman import` the rootfs tarball (with CMD ["/bin/sh"]) unless the image exists; return its name.

    `podman` is the command line with its storage options; `user` runs it as that user (rootless storage), who
    must be able to read `tarball`.
    """
    if not force and podman_image_exists(podman, user, env):
        return PODMAN_IMAGE
    source = tarball or rootfs_tarball()
    cmd = json.dumps(IMAGE_CMD)
    result = _run(
        [*podman, "import", "--change", f"CMD {cmd}", str(source), PODMAN_IMAGE], user=user, env=env
    )
    _check(result, "podman import")
    return PODMAN_IMAGE


# containerd ----------------------------------------------------------------------------------------------------


def _ctr(*args: str) -> list[str]:
    return ["ctr", "--address", CONTAINERD_SOCKET, "-n", CONTAINERD_NAMESPACE, *args]


def containerd_image_exists(name: str = CONTAINERD_IMAGE) -> bool:
    try:
        result = _run(_ctr("image", "ls", "-q"), timeout=15)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0 and name in result.stdout.split()


def import_containerd_image(force: bool = False) -> str:
    """Import the OCI layout into containerd's `boxtrace` namespace (and unpack it) unless it exists."""
    if not force and containerd_image_exists():
        return CONTAINERD_IMAGE
    tarball = oci_image_tarball()
    result = _run(_ctr("image", "import", "--snapshotter", containerd_snapshotter(), str(tarball)))
    _check(result, "ctr image import")
    if not containerd_image_exists():
        raise ImageError(
            f"ctr image import ran but {CONTAINERD_IMAGE} is not listed: {result.stdout.strip()}"
        )
    return CONTAINERD_IMAGE


def ensure_images() -> list[str]:
    """Import both images where missing; return their names."""
    return [import_docker_image(), import_containerd_image()]


def main() -> int:
    try:
        for name in ensure_images():
            print(f"{name}: ready")
    except (ImageError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
