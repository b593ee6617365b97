"""Paths made readable: the real place behind "/proc/self/fd/7", "." and a dirfd-relative name.

Runtimes rarely pass plain paths. runc mounts onto "/proc/self/fd/7" (an fd it opened on the real directory,
so a symlink planted in the rootfs cannot redirect the mount), calls pivot_root(".", ".") after chdir, and the
*at() calls name a directory by fd. The tracer already resolves /proc/self/fd/N while the tracee is stopped
(in `Syscall.notes`) and records each dirfd's path (`dirfd_path`); this module adds what only a walk over the
whole trace knows: each process's working directory (from chdir/fchdir) and root (from chroot/pivot_root),
inherited by the processes it creates. Every path argument then gets its readable form beside the raw one:

    mount target "/proc/self/fd/6"  ->  /run/boxtrace/bundles/runc/rootfs/proc   (from the fd)
    pivot_root new_root "."          ->  /run/boxtrace/bundles/runc/rootfs         (working directory)
    mount target "/proc/bus" (after pivot_root) -> /run/boxtrace/bundles/runc/rootfs/proc/bus (inside:
    /proc/bus)

`readable` is the host's view of the path (what `ls` on the host would name); `inside` is the path as the
process itself sees it when its root is not the host's.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field

from tracer.events import Event, ProcessStarted, Syscall

#: The path arguments of each syscall: (argument, the dirfd argument it is relative to, or None).
PATH_ARGUMENTS: dict[str, tuple[tuple[str, str | None], ...]] = {
    "mount": (("source", None), ("target", None)),
    "umount2": (("target", None),),
    "pivot_root": (("new_root", None), ("put_old", None)),
    "chroot": (("path", None),),
    "chdir": (("path", None),),
    "open": (("path", None),),
    "openat": (("path", "dirfd"),),
    "mkdir": (("path", None),),
    "mkdirat": (("path", "dirfd"),),
    "mknod": (("path", None),),
    "mknodat": (("path", "dirfd"),),
    "symlink": (("linkpath", None),),
    "symlinkat": (("linkpath", "newdirfd"),),
    "execve": (("path", None),),
    "execveat": (("path", "dirfd"),),
    "open_tree": (("path", "dirfd"),),
    "open_tree_attr": (("path", "dirfd"),),
    "fspick": (("path", "dirfd"),),
    "mount_setattr": (("path", "dirfd"),),
    "move_mount": (("from_path", "from_dirfd"), ("to_path", "to_dirfd")),
}

#: mount(2) operations whose source is a path (for the others it is a device or a free-form name like "proc").
_PATH_SOURCE_OPERATIONS = frozenset({"bind", "move"})


@dataclass(frozen=True, slots=True)
class ReadablePath:
    """A path argument beside its readable form."""

    key: str
    raw: str
    #: The host's view of the path; None when the trace cannot tell (a relative path before any chdir).
    readable: str | None
    #: How it was found: "absolute", "fd" (a /proc/self/fd/N link), "dirfd", "cwd", "root" (inside a new
    #: root).
    how: str
    #: The path as the process sees it, when its root is not the host's "/".
    inside: str | None = None

    @property
    def differs(self) -> bool:
        return self.readable is not None and self.readable != self.raw


def _join_root(root: str, path: str) -> str:
    return (
        posixpath.normpath(root.rstrip("/") + "/" + path.lstrip("/"))
        if root != "/"
        else posixpath.normpath(path)
    )


def readable_path(
    event: Syscall, key: str, dirfd_key: str | None = None, *, cwd: str | None = None, root: str = "/"
) -> ReadablePath | None:
    """The readable form of one path argument of `event` (None when the argument is not a path string).

    `cwd` and `root` are the process's working directory and root in host terms, when known (PathResolver
    tracks them); without them relative paths stay unresolved.
    """
    raw = event.args.get(key)
    if not isinstance(raw, str) or raw.startswith("<unreadable"):
        return None
    if (
        key == "source"
        and event.name == "mount"
        and not raw.startswith("/")
        and (event.args.get("operation") not in _PATH_SOURCE_OPERATIONS)
    ):
        return None
    note = (event.notes or {}).get(key)
    if isinstance(note, str):
        return ReadablePath(key, raw, posixpath.normpath(note), "fd")
    if raw.startswith("/"):
        if root == "/":
            return ReadablePath(key, raw, posixpath.normpath(raw), "absolute")
        return ReadablePath(key, raw, _join_root(root, raw), "root", inside=posixpath.normpath(raw))
    base_how = "cwd"
    base = cwd
    if dirfd_key is not None and isinstance(event.args.get(dirfd_key), int):
        base, base_how = event.args.get(f"{dirfd_key}_path"), "dirfd"
    if not isinstance(base, str) or not base.startswith("/"):
        return ReadablePath(key, raw, None, base_how)
    readable = posixpath.normpath(posixpath.join(base, raw)) if raw else posixpath.normpath(base)
    inside = None
    if root != "/" and (readable == root or readable.startswith(root.rstrip("/") + "/")):
        inside = "/" + readable[len(root.rstrip("/")) :].lstrip("/")
    return ReadablePath(key, raw, readable, base_how, inside=inside)


@dataclass
class _Place:
    cwd: str | None = None
    root: str = "/"


@dataclass
class PathResolver:
    """Folds chdir/fchdir/chroot/pivot_root per process; `paths(event)` gives the readable path arguments."""

    places: dict[int, _Place] = field(default_factory=dict)

    def add(self, event: Event) -> None:
        if isinstance(event, ProcessStarted):
            parent = self.places.get(event.creator) if event.creator is not None else None
            self.places[event.pid] = _Place(parent.cwd, parent.root) if parent is not None else _Place()
            return
        if not isinstance(event, Syscall) or event.error is not None:
            return
        place = self.places.setdefault(event.pid, _Place())
        if event.name == "chdir":
            found = self._resolve(event, "path", None)
            place.cwd = found.readable if found is not None else None
        elif event.name == "fchdir":
            path = event.args.get("path")
            place.cwd = path if isinstance(path, str) and path.startswith("/") else None
        elif event.name == "chroot":
            found = self._resolve(event, "path", None)
            if found is not None and found.readable is not None:
                place.root = found.readable
        elif event.name == "pivot_root":
            found = self._resolve(event, "new_root", None)
            if found is not None and found.readable is not None:
                place.root = found.readable

    def _resolve(self, event: Syscall, key: str, dirfd_key: str | None) -> ReadablePath | None:
        place = self.places.get(event.pid) or _Place()
        return readable_path(event, key, dirfd_key, cwd=place.cwd, root=place.root)

    def paths(self, event: Syscall) -> list[ReadablePath]:
        """The readable path arguments of `event`, as the process's state is just before it."""
        out: list[ReadablePath] = []
        for key, dirfd_key in PATH_ARGUMENTS.get(event.name, ()):
            found = self._resolve(event, key, dirfd_key)
            if found is not None:
                out.append(found)
        return out

    def cwd_of(self, pid: int) -> str | None:
        place = self.places.get(pid)
        return place.cwd if place is not None else None

    def root_of(self, pid: int) -> str:
        place = self.places.get(pid)
        return place.root if place is not None else "/"


def readable_paths(events: Iterable[Event]) -> dict[int, list[ReadablePath]]:
    """seq -> the readable path arguments of every syscall event that has some."""
    resolver = PathResolver()
    out: dict[int, list[ReadablePath]] = {}
    for event in events:
        if isinstance(event, Syscall):
            found = resolver.paths(event)
            if found:
                out[event.seq] = found
        resolver.add(event)
    return out
