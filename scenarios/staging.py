"""Files another user must read, put where that user can read them, without loosening anyone's directories.

The teach-rootless scenario runs `scenarios/teach_runtime.py` as nobody (uid 65534) when boxtrace is root. A
checkout under /root, or under a home directory with Debian 12's default mode 0700, is out of nobody's reach, and
so is a virtual environment inside it. Rather than open those directories, root copies the files into a new
directory of its own under /var/tmp/boxtrace, readable by the user's group only (mode 0750, files 0440, owned by
root so the user cannot change them), runs the user's program from there, and removes the directory afterwards.

    with staged_for_user([RUNTIME], uid=65534, gid=65534) as directory:
        run([python_for_user(65534, 65534), "-P", str(directory / RUNTIME.name), ...], user=65534, ...)
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

#: Where staged directories are made: root's own directory, 0755, that other users can traverse.
STAGING_ROOT = Path("/var/tmp/boxtrace")

#: Interpreters tried for another user, in order, when the running one (e.g. in a private venv) is out of reach.
SYSTEM_PYTHONS = ("/usr/bin/python3",)


class StagingError(RuntimeError):
    """The files cannot be put where the user can read them; the message says why."""


def _allowed(info: os.stat_result, uid: int, gid: int, want: int) -> bool:
    """Whether the owner/group/other bits give `want` (an r/w/x mask in the 'other' position) to uid:gid."""
    if uid == 0:
        return True
    if info.st_uid == uid:
        return bool(info.st_mode & (want << 6))
    if info.st_gid == gid:
        return bool(info.st_mode & (want << 3))
    return bool(info.st_mode & want)


def reachable_by(path: Path | str, uid: int, gid: int, *, want: int = os.R_OK) -> bool:
    """True when uid:gid (with no supplementary groups) can search every directory up to `path` and has `want`
    (os.R_OK, os.X_OK or both) on `path` itself, symbolic links resolved. ACLs are not consulted."""
    real = Path(os.path.realpath(path))
    try:
        for parent in reversed(real.parents):
            if not _allowed(os.stat(parent), uid, gid, os.X_OK):
                return False
        return _allowed(os.stat(real), uid, gid, want)
    except OSError:
        return False


def python_for_user(uid: int, gid: int) -> str:
    """An interpreter uid:gid may run: the running one with its links resolved (a venv's python is a link to
    the system's), else the system's python3. The programs run this way use only the standard library."""
    for candidate in (os.path.realpath(sys.executable), *SYSTEM_PYTHONS):
        if reachable_by(candidate, uid, gid, want=os.X_OK):
            return candidate
    raise StagingError(f"no Python interpreter that uid {uid} may run: {os.path.realpath(sys.executable)} is out "
                       "of its reach and /usr/bin/python3 is missing")


def _staging_root() -> Path:
    STAGING_ROOT.mkdir(mode=0o755, parents=True, exist_ok=True)
    info = STAGING_ROOT.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o022:
        raise StagingError(f"{STAGING_ROOT} is not a directory owned by us and closed to others; remove it and retry")
    return STAGING_ROOT


def stage_for_user(files: Sequence[Path], uid: int, gid: int) -> Path:
    """Copy `files` into a new directory that uid:gid can read and nobody else but us; return the directory.
    The caller removes it (`unstage`) when the user's program has ended."""
    directory = Path(tempfile.mkdtemp(prefix="staged-", dir=_staging_root()))  # 0700: private while we fill it
    try:
        for source in files:
            target = directory / source.name
            shutil.copyfile(source, target)
            os.chown(target, os.geteuid(), gid)
            os.chmod(target, 0o440)
        os.chown(directory, os.geteuid(), gid)
        os.chmod(directory, 0o750)
    except BaseException:
        unstage(directory)
        raise
    return directory


def unstage(directory: Path) -> None:
    """Remove a directory made by stage_for_user (only one under STAGING_ROOT: a safety check)."""
    if directory.parent == STAGING_ROOT and directory.name.startswith("staged-"):
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def staged_for_user(files: Sequence[Path], uid: int, gid: int) -> Iterator[Path]:
    """`stage_for_user` for the length of a `with` block."""
    directory = stage_for_user(files, uid, gid)
    try:
        yield directory
    finally:
        unstage(directory)
