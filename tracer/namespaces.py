"""Namespace identity of a process, read from /proc while it is stopped.

A namespace is named by the inode of its /proc/PID/ns/KIND link ("pid:[4026531836]"); two processes share a
namespace exactly when those inodes are equal. NSpid in /proc/PID/status lists the process's pid in every pid
namespace from the tracer's down to its own, so its last entry is the pid the process sees for itself.
"""

from __future__ import annotations

import os

from tracer.events import NAMESPACE_KINDS


def namespace_changes(old: dict[str, int], new: dict[str, int]) -> list[tuple[str, int, int]]:
    """(kind, old inode, new inode) for every kind whose inode differs between two namespace sets, in `new`'s
    order. A kind `old` does not know is not a change (nothing to compare with). The one rule by which the engine
    (from /proc) and the strace importer (from the flags it replays) turn namespace sets into NamespaceChange
    events."""
    changes = []
    for kind, inode in new.items():
        before = old.get(kind)
        if before is not None and before != inode:
            changes.append((kind, before, inode))
    return changes


def read_namespaces(tid: int) -> dict[str, int]:
    """kind -> inode for every namespace kind the kernel exposes; kinds that cannot be read are left out."""
    found: dict[str, int] = {}
    for kind in NAMESPACE_KINDS:
        try:
            link = os.readlink(f"/proc/{tid}/ns/{kind}")
        except OSError:
            continue
        inode = _inode_of(link)
        if inode is not None:
            found[kind] = inode
    return found


def _inode_of(link: str) -> int | None:
    # The link reads "pid:[4026531836]".
    start = link.find("[")
    end = link.find("]", start)
    if start < 0 or end < 0:
        return None
    try:
        return int(link[start + 1 : end])
    except ValueError:
        return None


def read_status(tid: int) -> dict[str, str]:
    """The fields of /proc/TID/status we use (Name, Tgid, PPid, NSpid, ...); empty if the task is gone."""
    fields: dict[str, str] = {}
    try:
        with open(f"/proc/{tid}/status", encoding="utf-8", errors="replace") as status:
            for line in status:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
    except OSError:
        pass
    return fields


def ppid_of(status: dict[str, str]) -> int:
    """The parent pid a status names (PPid), 0 if it cannot be read."""
    try:
        return int(status.get("PPid", "0"))
    except ValueError:
        return 0


def nspid_chain(status: dict[str, str]) -> list[int]:
    try:
        return [int(x) for x in status.get("NSpid", "").split()]
    except ValueError:
        return []


def read_comm(tid: int) -> str:
    try:
        with open(f"/proc/{tid}/comm", encoding="utf-8", errors="backslashreplace") as comm:
            return comm.read().rstrip("\n")
    except OSError:
        return ""


def read_cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            raw = cmdline.read(256 * 1024)
    except OSError:
        return []
    return [part.decode("utf-8", "backslashreplace") for part in raw.split(b"\0")[:-1]]


def read_exe(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None
