"""A tiny root filesystem for every scenario: busybox, a few directories and /etc files, built here from local files.

No registry is involved. The preferred source is a statically linked busybox (Debian's busybox-static); every applet
becomes a symlink to it, at the path busybox itself lists. Without busybox, the host's own programs are copied in
together with the shared libraries `ldd` lists for them. The result is cached under `$XDG_CACHE_HOME/boxtrace`
(else `~/.cache/boxtrace`) and built atomically: a temporary directory is filled, then renamed into place, so a
half-built tree is never mistaken for a finished one.

Public API: `cache_dir()`, `rootfs_path()`, `build_rootfs(force=False)`, `rootfs_tarball(force=False)`,
`write_rootfs_tar(rootfs, fileobj)`, `rootfs_for_user(uid, gid)`, and the OCI image layout of the same rootfs for
containerd: `oci_image_tarball(force=False)`, `write_oci_layout(rootfs, out)` (scenarios.images imports the images).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import platform
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import IO, Any

#: Directories every root filesystem needs, with their modes. Runtimes mount proc, sys and dev over the first three.
DIRECTORIES: dict[str, int] = {
    "bin": 0o755,
    "sbin": 0o755,
    "usr": 0o755,
    "usr/bin": 0o755,
    "usr/sbin": 0o755,
    "proc": 0o555,
    "sys": 0o555,
    "dev": 0o755,
    "etc": 0o755,
    "root": 0o700,
    "tmp": 0o1777,
    "var": 0o755,
    "var/tmp": 0o1777,
}

FILES: dict[str, str] = {
    "etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    "etc/group": "root:x:0:\nnogroup:x:65534:\n",
    "etc/hostname": "boxtrace\n",
    "etc/hosts": "127.0.0.1\tlocalhost\n::1\tlocalhost\n",
}

#: Programs copied from the host when there is no busybox (each with the libraries it needs).
HOST_PROGRAMS: tuple[str, ...] = (
    "sh", "echo", "hostname", "cat", "ls", "mount", "umount", "ps", "env", "sleep", "id", "dd", "true", "false",
    "mkdir", "rm", "uname", "readlink", "stat", "grep", "head", "wc",
)  # fmt: skip

#: Where rootfs copies for other users live (root builds them so that, e.g., nobody can read one).
SHARED_ROOT = Path("/var/tmp/boxtrace")


class RootfsError(RuntimeError):
    """The root filesystem could not be built; the message says why and what to install."""


def cache_dir() -> Path:
    """boxtrace's cache directory: `$XDG_CACHE_HOME/boxtrace`, else `~/.cache/boxtrace`."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "boxtrace"


def rootfs_path() -> Path:
    return cache_dir() / "rootfs"


def build_rootfs(force: bool = False) -> Path:
    """Return the cached root filesystem, building it first if it is missing (or always, with `force`)."""
    target = rootfs_path()
    if target.is_dir() and not force:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".rootfs-", dir=target.parent))
    try:
        _populate(work)
        os.chmod(work, 0o755)
        if target.exists():
            # Swap in the new tree first, then delete the old one, so readers never see a missing rootfs for long.
            old = Path(tempfile.mkdtemp(prefix=".rootfs-old-", dir=target.parent))
            os.rename(target, old / "rootfs")
            os.rename(work, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    # Anything derived from an older tree is stale now.
    for derived in ("rootfs.tar", "oci-image.tar"):
        (target.parent / derived).unlink(missing_ok=True)
    return target


def rootfs_tarball(force: bool = False) -> Path:
    """A tar of the root filesystem (what `docker import` takes), cached next to it."""
    rootfs = build_rootfs()
    tarball = rootfs.parent / "rootfs.tar"
    if tarball.is_file() and not force:
        return tarball
    fd, tmp = tempfile.mkstemp(prefix=".rootfs-", suffix=".tar", dir=rootfs.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            write_rootfs_tar(rootfs, out)
        os.replace(tmp, tarball)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tarball


def write_rootfs_tar(rootfs: Path, fileobj: IO[bytes]) -> None:
    """Write `rootfs` as a reproducible tar: sorted names, owner root, time 0, so equal trees give equal bytes."""
    with tarfile.open(fileobj=fileobj, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in _walk_sorted(rootfs):
            rel = path.relative_to(rootfs).as_posix()
            info = tar.gettarinfo(str(path), arcname=rel)
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            info.mtime = 0
            info.pax_headers = {}
            if info.isreg():
                with open(path, "rb") as data:
                    tar.addfile(info, data)
            else:
                tar.addfile(info)


def rootfs_for_user(uid: int, gid: int, force: bool = False) -> Path:
    """A root filesystem that user `uid` can read and that it owns (for the rootless scenario).

    The user's own cache is used when the caller is that user. When root prepares it for another user (e.g. nobody),
    the cache under /root is out of that user's reach, so a copy owned by uid:gid is kept under /var/tmp/boxtrace:
    inside the user namespace that maps uid to 0, the container's root then owns its files.
    """
    if os.geteuid() == uid:
        return build_rootfs(force=force)
    source = build_rootfs()
    SHARED_ROOT.mkdir(mode=0o755, parents=True, exist_ok=True)
    info = SHARED_ROOT.lstat()
    if SHARED_ROOT.is_symlink() or info.st_uid != os.geteuid() or info.st_mode & 0o022:
        raise RootfsError(
            f"{SHARED_ROOT} is not a directory owned by us and closed to others; remove it and retry"
        )
    target = SHARED_ROOT / f"rootfs-{uid}"
    if target.is_dir() and not force and target.lstat().st_uid == uid:
        return target
    work = Path(tempfile.mkdtemp(prefix=f".rootfs-{uid}-", dir=SHARED_ROOT))
    try:
        tree = work / "rootfs"
        shutil.copytree(source, tree, symlinks=True)
        for path in [tree, *_walk_sorted(tree)]:
            os.lchown(path, uid, gid)
        if target.exists():
            shutil.rmtree(target)
        os.rename(tree, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


# Building ------------------------------------------------------------------------------------------------------


def _populate(root: Path) -> None:
    for rel, mode in DIRECTORIES.items():
        (root / rel).mkdir(parents=True, exist_ok=True)
        os.chmod(root / rel, mode)
    for rel, text in FILES.items():
        (root / rel).write_text(text)
        os.chmod(root / rel, 0o644)
    busybox = _find_busybox()
    if busybox is not None:
        _install_busybox(root, busybox)
    else:
        _install_host_programs(root)


def _find_busybox() -> Path | None:
    for candidate in ("/bin/busybox", "/usr/bin/busybox"):
        if os.access(candidate, os.X_OK):
            return Path(candidate)
    found = shutil.which("busybox")
    return Path(found) if found else None


def _install_busybox(root: Path, busybox: Path) -> None:
    shutil.copy2(busybox, root / "bin" / "busybox")
    os.chmod(root / "bin" / "busybox", 0o755)
    _copy_libraries(root, busybox)  # nothing to do for busybox-static
    listing = subprocess.run(
        [str(busybox), "--list-full"], capture_output=True, text=True, timeout=10, check=False
    ).stdout.split()
    if not listing:  # a busybox built without --list-full: put every applet in /bin
        names = subprocess.run([str(busybox), "--list"], capture_output=True, text=True, timeout=10).stdout
        listing = [f"bin/{name}" for name in names.split()]
    for rel in listing:
        link = root / rel
        if rel in ("bin/busybox", "") or link.exists() or link.is_symlink():
            continue
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to("/bin/busybox")


def _install_host_programs(root: Path) -> None:
    found = False
    for name in HOST_PROGRAMS:
        program = shutil.which(name)
        if program is None:
            continue
        real = Path(program).resolve()
        shutil.copy2(real, root / "bin" / name)
        _copy_libraries(root, real)
        found = found or name == "sh"
    if not found:
        raise RootfsError(
            "found neither busybox nor a host /bin/sh to build a root filesystem: "
            "run `sudo apt-get install busybox-static`"
        )


_LDD_LINE = re.compile(r"(?:=>\s*)?(/\S+)\s+\(0x[0-9a-f]+\)")


def _copy_libraries(root: Path, binary: Path) -> None:
    """Copy the shared libraries (and the loader) `ldd` lists for `binary` to the same paths under `root`."""
    if shutil.which("ldd") is None:
        return
    result = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, timeout=10, check=False)
    if result.returncode != 0:  # "not a dynamic executable": a static binary needs nothing
        return
    for line in result.stdout.splitlines():
        match = _LDD_LINE.search(line)
        if match is None:
            continue
        library = Path(match.group(1))
        dest = root / library.relative_to("/")
        if dest.exists():
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(library.resolve(), dest)


def _walk_sorted(root: Path) -> list[Path]:
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        base = Path(dirpath)
        for name in sorted(dirnames + filenames):
            out.append(base / name)
    # os.walk yields a directory's entries before descending, so parents always precede children.
    return out


# The OCI image layout (for `ctr image import`) --------------------------------------------------------------

#: The image as containerd names it (containerd keeps fully qualified references).
CONTAINERD_IMAGE = "docker.io/boxtrace/busybox:latest"
IMAGE_ENV = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
IMAGE_CMD = ["/bin/sh"]

_GOARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le", "s390x": "s390x"}


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



def main(argv: list[str] | None = None) -> int:
    """`python -m scenarios.rootfs [--rebuild]` (`make rootfs`): print the cached root filesystem and its two
    tarballs (for docker import and ctr image import), building what is missing; with --rebuild, all of them from
    scratch (e.g. after busybox-static was installed). Images already imported into the daemons stay as they are."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m scenarios.rootfs", description=main.__doc__)
    parser.add_argument("--rebuild", action="store_true", help="build the rootfs and its tarball again")
    args = parser.parse_args(argv)
    for path in (build_rootfs(force=args.rebuild), rootfs_tarball(force=args.rebuild),
                 oci_image_tarball(force=args.rebuild)):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
