"""The mount table before and after: how a container's "/" replaces the host's.

The engine snapshots /proc/PID/mountinfo of a process in a new mount namespace at the moments that matter
("before-first-mount", "after-pivot_root", "after-chroot", "after-old-root-detached"). Each line of mountinfo
is

    36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
    (1)(2)(3)   (4)   (5)      (6)      (7)   (8) (9)   (10)         (11)

mount id, parent id, major:minor, root of the mount inside its filesystem, mount point (relative to the
process's root), mount options, optional fields (shared:N, master:N, propagate_from:N, unbindable), a
separator, fstype, source and superblock options (proc(5)). Here the lines become trees and consecutive
snapshots become diffs: added, removed and changed mounts (matched by mount id, which the kernel never reuses
while a mount exists), and the new "/". A learner sees pivot_root make the rootfs the root (with the old root
stacked on top of it) and the umount2(MNT_DETACH) take the old root and every mount under it away.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from tracer.decoders import Trait, syscalls_with
from tracer.events import Event, MountSnapshot, Syscall


def _unescape(text: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as \\040, \\011, \\012, \\134."""
    if "\\" not in text:
        return text
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 3 < len(text) and text[i + 1 : i + 4].isdigit():
            out.append(chr(int(text[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Mount:
    """One mountinfo line."""

    id: int
    parent: int
    device: str  # major:minor
    root: str
    mount_point: str
    options: tuple[str, ...]
    optional: tuple[str, ...]
    fstype: str
    source: str
    super_options: tuple[str, ...] = ()

    @property
    def propagation(self) -> str:
        """shared:1, master:2, shared:1 master:2, unbindable or private."""
        tags = [tag for tag in self.optional if tag.split(":")[0] in ("shared", "master", "unbindable")]
        return " ".join(tags) or "private"

    @property
    def readonly(self) -> bool:
        return "ro" in self.options

    def describe(self) -> str:
        """`/run/x/rootfs of /dev/vda (ext4)`, `proc (proc)`: what is mounted, as a learner reads it."""
        what = self.source if self.root == "/" else f"{self.root} of {self.source}"
        return f"{what} ({self.fstype})"


def parse_mountinfo_line(line: str) -> Mount | None:
    """A Mount, or None for a line that is not mountinfo."""
    left, sep, right = line.partition(" - ")
    if not sep:
        return None
    fields = left.split()
    tail = right.split()
    if len(fields) < 6 or len(tail) < 2:
        return None
    try:
        mount_id, parent = int(fields[0]), int(fields[1])
    except ValueError:
        return None
    return Mount(
        id=mount_id,
        parent=parent,
        device=fields[2],
        root=_unescape(fields[3]),
        mount_point=_unescape(fields[4]),
        options=tuple(fields[5].split(",")),
        optional=tuple(fields[6:]),
        fstype=tail[0],
        source=_unescape(tail[1]),
        super_options=tuple(tail[2].split(",")) if len(tail) > 2 else (),
    )


@dataclass
class MountTree:
    """The mounts of one snapshot, with their parent/child links."""

    mounts: dict[int, Mount]

    @classmethod
    def from_lines(cls, lines: Iterable[str]) -> MountTree:
        mounts: dict[int, Mount] = {}
        for line in lines:
            mount = parse_mountinfo_line(line)
            if mount is not None:
                mounts[mount.id] = mount
        return cls(mounts)

    def children(self, mount_id: int) -> list[Mount]:
        return [m for m in self.mounts.values() if m.parent == mount_id and m.id != mount_id]

    @property
    def root(self) -> Mount | None:
        """The process's "/": the mount at / whose parent is not in the table (mounts stacked on it have it as
        parent, as the old root has right after pivot_root(".", "."))."""
        at_root = [m for m in self.mounts.values() if m.mount_point == "/"]
        for mount in at_root:
            if mount.parent not in self.mounts or mount.parent == mount.id:
                return mount
        return at_root[0] if at_root else None

    def stacked_on_root(self) -> list[Mount]:
        """Mounts at "/" on top of the root (the old root between pivot_root(".", ".") and its detach)."""
        root = self.root
        return [
            m for m in self.mounts.values() if m.mount_point == "/" and root is not None and m.id != root.id
        ]

    def subtree(self, mount_id: int) -> list[Mount]:
        out: list[Mount] = []
        stack = [mount_id]
        while stack:
            current = stack.pop()
            for child in self.children(current):
                out.append(child)
                stack.append(child.id)
        return out

    def lines(self) -> list[str]:
        """The tree as indented lines, "/" first: `/  /dev/vda (ext4)`, `  /proc  proc (proc)`."""
        out: list[str] = []
        seen: set[int] = set()

        def walk(mount: Mount, depth: int) -> None:
            if mount.id in seen:
                return
            seen.add(mount.id)
            flags = " ro" if mount.readonly else ""
            out.append(f"{'  ' * depth}{mount.mount_point}  {mount.describe()}{flags}  [{mount.propagation}]")
            for child in sorted(self.children(mount.id), key=lambda m: (m.mount_point, m.id)):
                walk(child, depth + 1)

        roots = [m for m in self.mounts.values() if m.parent not in self.mounts or m.parent == m.id]
        for mount in sorted(roots, key=lambda m: m.id):
            walk(mount, 0)
        for mount in self.mounts.values():  # cycles or orphans: never drop a mount silently
            walk(mount, 0)
        return out


@dataclass(frozen=True)
class MountChange:
    mount: Mount
    before: Mount | None = None
    #: What changed, e.g. ["propagation shared:1 -> master:1", "parent 53 -> 94"].
    what: tuple[str, ...] = ()


@dataclass
class MountDiff:
    """What changed between two snapshots of one process."""

    pid: int
    before_moment: str
    after_moment: str
    before: MountTree
    after: MountTree
    seq: int
    added: list[Mount] = field(default_factory=list)
    removed: list[Mount] = field(default_factory=list)
    changed: list[MountChange] = field(default_factory=list)
    #: True when the after snapshot is seen from a chroot: mounts outside the new root are hidden, not gone.
    hidden_by_chroot: bool = False

    @property
    def root_changed(self) -> bool:
        a, b = self.before.root, self.after.root
        return (a is None) != (b is None) or (a is not None and b is not None and a.id != b.id)

    def facts(self) -> list[str]:
        lines: list[str] = []
        head = f"{self.pid}: {self.before_moment} -> {self.after_moment}"
        if self.hidden_by_chroot:
            lines.append(
                f"{head}: after chroot no mount is visible from the new root ({len(self.before.mounts)} "
                "before); chroot only changes where this process's paths start, every mount is still there"
            )
            return lines
        old_root, new_root = self.before.root, self.after.root
        if self.root_changed and new_root is not None:
            was = f", was {old_root.describe()} (mount {old_root.id})" if old_root is not None else ""
            lines.append(f'{head}: "/" is now {new_root.describe()} (mount {new_root.id}){was}')
        for stacked in self.after.stacked_on_root():
            if old_root is not None and stacked.id == old_root.id:
                lines.append(
                    f'{head}: the old root (mount {stacked.id}) now sits on top of the new root at "/", with '
                    f"{_count(len(self.after.subtree(stacked.id)))} under it, until it is detached"
                )
        if self.removed:
            old_roots = {m.id for m in self.before.stacked_on_root()} | ({old_root.id} if old_root else set())
            gone_root = next((m for m in self.removed if m.id in old_roots), None)
            if gone_root is not None:
                lines.append(
                    f"{head}: the old root {gone_root.describe()} and {_count(len(self.removed) - 1)} under "
                    "it are gone: the host's files are out of reach"
                )
            else:
                lines.append(f"{head}: removed {_count(len(self.removed))}: " + _points(self.removed))
        if self.added:
            lines.append(f"{head}: added {_count(len(self.added))}: " + _points(self.added))
        propagation = [c for c in self.changed if any(w.startswith("propagation") for w in c.what)]
        if propagation:
            lines.append(
                f"{head}: propagation changed on {_count(len(propagation))} ("
                + "; ".join(
                    f"{c.mount.mount_point}: {next(w for w in c.what if w.startswith('propagation'))}"
                    for c in propagation[:4]
                )
                + ("; ..." if len(propagation) > 4 else "")
                + ")"
            )
        return lines


def _count(number: int) -> str:
    return f"{number} mount" + ("" if number == 1 else "s")


def _points(mounts: list[Mount], limit: int = 8) -> str:
    shown = ", ".join(f"{m.mount_point} ({m.fstype})" for m in mounts[:limit])
    return shown + (f", ... (+{len(mounts) - limit})" if len(mounts) > limit else "")


def diff_trees(before: MountTree, after: MountTree) -> tuple[list[Mount], list[Mount], list[MountChange]]:
    added = [m for i, m in after.mounts.items() if i not in before.mounts]
    removed = [m for i, m in before.mounts.items() if i not in after.mounts]
    changed: list[MountChange] = []
    for mount_id, new in after.mounts.items():
        old = before.mounts.get(mount_id)
        if old is None or old == new:
            continue
        what: list[str] = []
        if old.parent != new.parent:
            what.append(f"parent {old.parent} -> {new.parent}")
        if old.mount_point != new.mount_point:
            what.append(f"mount point {old.mount_point} -> {new.mount_point}")
        if old.propagation != new.propagation:
            what.append(f"propagation {old.propagation} -> {new.propagation}")
        if old.options != new.options:
            what.append(f"options {','.join(old.options)} -> {','.join(new.options)}")
        if old.super_options != new.super_options or old.root != new.root:
            what.append("filesystem options")
        changed.append(MountChange(new, old, tuple(what)))
    return added, removed, changed


@dataclass
class MountTimeline:
    """Snapshots and diffs, per process."""

    snapshots: list[MountSnapshot] = field(default_factory=list)
    diffs: list[MountDiff] = field(default_factory=list)

    def trees(self, pid: int) -> list[tuple[str, MountTree]]:
        return [(s.moment, MountTree.from_lines(s.mountinfo)) for s in self.snapshots if s.pid == pid]

    def diffs_of(self, pid: int) -> list[MountDiff]:
        return [d for d in self.diffs if d.pid == pid]

    def facts(self) -> list[str]:
        return [line for diff in self.diffs for line in diff.facts()]


def mount_timeline(events: Iterable[Event]) -> MountTimeline:
    result = MountTimeline()
    last: dict[int, tuple[MountSnapshot, MountTree]] = {}
    for event in events:
        if not isinstance(event, MountSnapshot):
            continue
        result.snapshots.append(event)
        tree = MountTree.from_lines(event.mountinfo)
        previous = last.get(event.pid)
        last[event.pid] = (event, tree)
        if previous is None:
            continue
        old_event, old_tree = previous
        added, removed, changed = diff_trees(old_tree, tree)
        result.diffs.append(
            MountDiff(
                pid=event.pid,
                before_moment=old_event.moment,
                after_moment=event.moment,
                before=old_tree,
                after=tree,
                seq=event.seq,
                added=added,
                removed=removed,
                changed=changed,
                hidden_by_chroot=event.moment == "after-chroot" and not tree.mounts and bool(old_tree.mounts),
            )
        )
    return result


#: Which mount snapshot follows which call (to show a diff's sentences on the call that caused it).
_SNAPSHOT_CALLS = {
    "after-pivot_root": ("pivot_root",),
    "after-chroot": ("chroot",),
    "after-old-root-detached": ("umount2", "umount"),
}
#: Calls after which the engine snapshots the mount table (x86_64 has only umount2, no umount).
_SNAPSHOT_CAUSES = syscalls_with(Trait.ROOT) | {"umount2"}


def snapshot_causes(events: Iterable[Event]) -> dict[int, int]:
    """seq of an "after" mount snapshot -> seq of the call that caused it (pivot_root, chroot, umount2)."""
    last_call: dict[tuple[int, str], int] = {}
    caused_by: dict[int, int] = {}
    for event in events:
        if isinstance(event, Syscall) and event.error is None and event.name in _SNAPSHOT_CAUSES:
            last_call[(event.pid, event.name)] = event.seq
        elif isinstance(event, MountSnapshot):
            calls = [last_call[(event.pid, n)] for n in _SNAPSHOT_CALLS.get(event.moment, ()) if (event.pid, n) in last_call]
            if calls:
                caused_by[event.seq] = max(calls)
    return caused_by
