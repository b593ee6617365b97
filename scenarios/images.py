"""Local container images made from the busybox rootfs: no registry is ever contacted.

- Docker: `docker import` turns the rootfs tarball into `boxtrace/busybox:latest` (with `CMD ["/bin/sh"]`).
- containerd: an OCI image layout (oci-layout, index.json, blobs/sha256/: one gzip layer, its config, a manifest)
  is written here in Python and loaded with `ctr -n boxtrace image import`, so containerd never depends on dockerd.

Every function checks first and does nothing when the image is already there (unless `force`).

Public API: `docker_image_exists()`, `import_docker_image(force=False)`, `oci_image_tarball(force=False)`,
`containerd_image_exists()`, `import_containerd_image(force=False)`, `ensure_images()`.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import platform
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import IO, Any

from scenarios.daemons import CONTAINERD_SOCKET, containerd_snapshotter
from scenarios.rootfs import build_rootfs, rootfs_tarball, write_rootfs_tar

DOCKER_IMAGE = "boxtrace/busybox:latest"
#: The same image as containerd names it (containerd keeps fully qualified references).
CONTAINERD_IMAGE = "docker.io/boxtrace/busybox:latest"
CONTAINERD_NAMESPACE = "boxtrace"
IMAGE_ENV = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
IMAGE_CMD = ["/bin/sh"]

_GOARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le", "s390x": "s390x"}


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


def image_architecture() -> str:
    """This machine's architecture as image configs spell it (Go's GOARCH: amd64, arm64, ...)."""
    machine = platform.machine()
    return _GOARCH.get(machine, machine)


def _blob(tar: tarfile.TarFile, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    info = tarfile.TarInfo(f"blobs/sha256/{digest}")
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))
    return f"sha256:{digest}"


def _json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def write_oci_layout(rootfs: Path, out: IO[bytes]) -> None:
    """Write an OCI image layout tar of `rootfs` (one layer) to the binary file `out`."""
    layer_tar = io.BytesIO()
    write_rootfs_tar(rootfs, layer_tar)
    uncompressed = layer_tar.getvalue()
    compressed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=compressed, mtime=0) as gz:
        gz.write(uncompressed)
    arch = image_architecture()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        layer = compressed.getvalue()
        layer_digest = _blob(tar, layer)
        config = _json(
            {
                "architecture": arch,
                "os": "linux",
                "config": {"Env": IMAGE_ENV, "Cmd": IMAGE_CMD, "WorkingDir": "/"},
                "rootfs": {
                    "type": "layers",
                    "diff_ids": ["sha256:" + hashlib.sha256(uncompressed).hexdigest()],
                },
                "history": [{"created_by": "boxtrace: busybox root filesystem built locally"}],
            }
        )
        config_digest = _blob(tar, config)
        manifest = _json(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {
                    "mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": config_digest,
                    "size": len(config),
                },
                "layers": [
                    {
                        "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                        "digest": layer_digest,
                        "size": len(layer),
                    }
                ],
            }
        )
        manifest_digest = _blob(tar, manifest)
        index = {
            "schemaVersion": 2,
            "manifests": [
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": manifest_digest,
                    "size": len(manifest),
                    "platform": {"architecture": arch, "os": "linux"},
                    "annotations": {
                        # containerd's importer names the image from this annotation; other tools use ref.name.
                        "io.containerd.image.name": CONTAINERD_IMAGE,
                        "org.opencontainers.image.ref.name": "latest",
                    },
                }
            ],
        }
        for name, data in (
            ("oci-layout", _json({"imageLayoutVersion": "1.0.0"})),
            ("index.json", _json(index)),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))


def oci_image_tarball(force: bool = False) -> Path:
    """The OCI image layout tar of the rootfs, cached next to it."""
    rootfs = build_rootfs()
    target = rootfs.parent / "oci-image.tar"
    if target.is_file() and not force:
        return target
    fd, tmp = tempfile.mkstemp(prefix=".oci-image-", suffix=".tar", dir=rootfs.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            write_oci_layout(rootfs, out)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


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
