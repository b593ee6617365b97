"""One vocabulary: syscall traits on the dispatch table, one CLONE_NEW* table, one namespace order.

The memberships below are the decisions (see the commit that introduced traits); the source scans fail when a
module starts keeping its own copy again.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tracer.decoders import SYSCALLS, X32_FIRST_NR, Trait, syscalls_with
from tracer.events import NAMESPACE_KINDS, NAMESPACE_ORDER
from tracer.xlat.clone import FLAG_OF_NAMESPACE, NAMESPACE_OF_FLAG

ROOT = Path(__file__).resolve().parent.parent
PROJECT_DIRS = ("tracer", "viz", "scenarios", "boxtrace", "bench", "scripts")


@pytest.mark.parametrize(
    ("trait", "names"),
    [
        (Trait.PROCESS, {"clone", "clone3", "fork", "vfork"}),
        (Trait.EXEC, {"execve", "execveat"}),
        (Trait.NEVER_RETURNS, {"exit", "exit_group"}),
        (Trait.NAMESPACE, {"clone", "clone3", "unshare", "setns"}),
        (Trait.NEW_NAMESPACE, {"clone", "clone3", "unshare"}),
        (Trait.OWN_NAMESPACES, {"unshare", "setns"}),
        (Trait.MOUNT_TABLE, {"mount", "umount2", "pivot_root", "move_mount", "mount_setattr", "open_tree", "fsmount"}),
        (Trait.MOUNT, {"mount", "fsopen", "fsconfig", "fsmount", "open_tree", "move_mount", "mount_setattr"}),
        (Trait.ROOT, {"pivot_root", "chroot"}),
        (
            Trait.IDENTITY,
            {"setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups", "setfsuid", "setfsgid",
             "capset"},
        ),
    ],
)
def test_trait_membership(trait: Trait, names: set[str]) -> None:
    assert syscalls_with(trait) == names


def test_traits_are_on_native_numbers_only() -> None:
    for nr, spec in SYSCALLS.items():
        if nr >= X32_FIRST_NR:
            assert not spec.traits, spec.name
    assert syscalls_with(Trait.ROOT, Trait.OWN_NAMESPACES) == {"pivot_root", "chroot", "unshare", "setns"}


def test_namespace_vocabulary_is_consistent() -> None:
    assert set(NAMESPACE_ORDER) == set(NAMESPACE_OF_FLAG.values())
    assert set(NAMESPACE_ORDER) <= set(NAMESPACE_KINDS)
    assert NAMESPACE_ORDER[0] == "user"  # created first by the kernel: it owns the others
    assert {FLAG_OF_NAMESPACE[kind] for kind in NAMESPACE_ORDER} == set(NAMESPACE_OF_FLAG)


def _sources() -> list[Path]:
    return [p for d in PROJECT_DIRS for p in sorted((ROOT / d).rglob("*.py")) if ".venv" not in p.parts]


#: Patterns of the private copies that drifted apart before: a CLONE_NEW* -> kind literal, a syscall-name set
#: literal, a namespace order, the audit arch number.
_COPIES = {
    "CLONE_NEW* -> kind table": (re.compile(r'"CLONE_NEWNS"\s*:\s*"mnt"'), {"tracer/xlat/clone.py"}),
    "namespace order": (re.compile(r"NAMESPACE_ORDER[^=\n]*=\s*\("), {"tracer/events.py"}),
    "AUDIT_ARCH_X86_64 value": (re.compile(r"0xC000003E", re.IGNORECASE), {"tracer/xlat/seccomp.py"}),
    "syscall set": (
        re.compile(
            r"""\b(in|frozenset\()\s*[\(\[\{]\s*["'](clone|clone3|fork|unshare|setns|execve|exit|pivot_root|chroot)["']\s*,"""
        ),
        set(),
    ),
}


@pytest.mark.parametrize("what", sorted(_COPIES))
def test_no_private_copies(what: str) -> None:
    pattern, allowed = _COPIES[what]
    found = sorted(
        str(path.relative_to(ROOT))
        for path in _sources()
        if pattern.search(path.read_text(encoding="utf-8")) and str(path.relative_to(ROOT)) not in allowed
    )
    assert not found, f"{what} is spelled outside {sorted(allowed) or 'tracer.decoders traits'}: {found}"
