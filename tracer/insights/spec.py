"""Spec against reality: an OCI bundle's promises (its config.json) beside what the trace shows was applied.

The engine keeps the config.json a runtime was given (a `bundle` event, tracer/spec_capture.py). This module folds
a trace into rows, one per promise: namespaces, mounts, the root, masked and read-only paths, capabilities,
no_new_privs, seccomp, rlimits, hostname, id maps, cgroups, hooks, the entrypoint, its cwd and user. Each row says
`kept`, `differs` or `not visible` (with why), and names the events that prove it. Pure: no ptrace, no display;
the console, the TUI and the page all show `spec_rows(events)`.

What the runtime does is judged in the processes it made (the runtime that read the bundle and its descendants);
the "final" state is the container's entrypoint at its exec (its capability sets are read there by the tracer).
runc's behaviour cited below is runc 1.1's libcontainer (rootfs_linux.go, init_linux.go, capabilities/).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from tracer.bpf import SeccompData, parse_program, run_filter
from tracer.events import BundleConfig, Event, Exec, Header, MountSnapshot, NamespaceChange, Syscall
from tracer.insights.capabilities import sets_from_masks
from tracer.insights.cgroups import cgroups
from tracer.insights.common import find_entrypoint
from tracer.insights.idmaps import id_maps
from tracer.insights.mounts import parse_mountinfo_line
from tracer.insights.overlay import OverlayRoot, overlay_from_options
from tracer.insights.seccomp import Verdict, seccomp_filters
from tracer.processes import ProcessTable
from tracer.xlat.rlimit import RLIM_INFINITY

KEPT = "kept"
DIFFERS = "differs"
NOT_VISIBLE = "not visible"
VERDICTS = (KEPT, DIFFERS, NOT_VISIBLE)

#: OCI namespace type -> the kind under /proc/PID/ns.
OCI_NAMESPACES = {"pid": "pid", "network": "net", "mount": "mnt", "ipc": "ipc", "uts": "uts", "user": "user",
                  "cgroup": "cgroup", "time": "time"}
#: mount(8) options that are MS_* flags (the rest is filesystem data), as runc's parseMountOptions reads them.
OPTION_FLAGS = {
    "ro": "MS_RDONLY", "nosuid": "MS_NOSUID", "nodev": "MS_NODEV", "noexec": "MS_NOEXEC",
    "sync": "MS_SYNCHRONOUS", "dirsync": "MS_DIRSYNC", "mand": "MS_MANDLOCK", "noatime": "MS_NOATIME",
    "nodiratime": "MS_NODIRATIME", "relatime": "MS_RELATIME", "strictatime": "MS_STRICTATIME",
    "bind": "MS_BIND", "rbind": "MS_BIND",
}
#: Options that clear a flag or only change defaults: nothing to look for in the call.
NEUTRAL_OPTIONS = frozenset({"rw", "suid", "dev", "exec", "async", "atime", "diratime", "norelatime", "nostrictatime",
                             "defaults", "nomand"})
PROPAGATION_OPTIONS = {
    "private": "MS_PRIVATE", "rprivate": "MS_PRIVATE", "shared": "MS_SHARED", "rshared": "MS_SHARED",
    "slave": "MS_SLAVE", "rslave": "MS_SLAVE", "unbindable": "MS_UNBINDABLE", "runbindable": "MS_UNBINDABLE",
}
#: OCI resources -> (v1 file, v2 file): runc 1.1 writes these only when the value is set (non-zero).
RESOURCE_FILES: dict[tuple[str, str], tuple[str, str]] = {
    ("memory", "limit"): ("memory.limit_in_bytes", "memory.max"),
    ("memory", "reservation"): ("memory.soft_limit_in_bytes", "memory.low"),
    ("memory", "swap"): ("memory.memsw.limit_in_bytes", "memory.swap.max"),
    ("pids", "limit"): ("pids.max", "pids.max"),
    ("cpu", "shares"): ("cpu.shares", "cpu.weight"),
    ("cpu", "quota"): ("cpu.cfs_quota_us", "cpu.max"),
    ("cpu", "period"): ("cpu.cfs_period_us", "cpu.max"),
    ("cpu", "cpus"): ("cpuset.cpus", "cpuset.cpus"),
    ("cpu", "mems"): ("cpuset.mems", "cpuset.mems"),
    ("blockIO", "weight"): ("blkio.weight", "io.bfq.weight"),
}
#: The calls that set a resource limit (tracer.decoders.limits decodes them).
RLIMIT_CALLS = ("prlimit64", "setrlimit")
CAP_SETS = ("bounding", "effective", "permitted", "inheritable", "ambient")


@dataclass(frozen=True)
class SpecRow:
    """One promise of the bundle and what the trace shows. `seqs` are the proving events (may be empty)."""

    section: str
    item: str
    requested: str
    applied: str
    verdict: str  # kept | differs | not visible
    why: str = ""
    seqs: tuple[int, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"section": self.section, "item": self.item, "requested": self.requested, "applied": self.applied,
                "verdict": self.verdict, "why": self.why, "seqs": list(self.seqs)}


@dataclass
class SpecReport:
    """The bundle (None when the trace holds none) and the rows; `problem` says why there are no rows."""

    bundle: BundleConfig | None
    rows: list[SpecRow] = field(default_factory=list)
    overlay: OverlayRoot | None = None
    problem: str | None = None

    def counts(self) -> dict[str, int]:
        return {verdict: sum(1 for row in self.rows if row.verdict == verdict) for verdict in VERDICTS}

    def differences(self) -> list[SpecRow]:
        return [row for row in self.rows if row.verdict == DIFFERS]


def spec_rows(events: Iterable[Event]) -> list[SpecRow]:
    """The rows for the first bundle in the trace (empty when none): what the TUI and the page show."""
    return spec_report(events).rows


def spec_report(events: Iterable[Event], bundle_index: int = 0) -> SpecReport:
    events = list(events)
    bundles = [e for e in events if isinstance(e, BundleConfig)]
    if not bundles:
        return SpecReport(None, problem=(
            "this trace holds no OCI bundle: it was recorded before boxtrace kept config.json, or no runtime "
            "(runc/crun create or run) was given one"))
    bundle = bundles[min(bundle_index, len(bundles) - 1)]
    if bundle.config is None:
        return SpecReport(bundle, problem=f"the bundle's config.json could not be kept: {bundle.error}")
    return _Folder(events, bundle).report()


def _flags(event: Syscall) -> list[str]:
    flags = event.args.get("flags")
    return [str(f) for f in flags] if isinstance(flags, list) else []


def _join(items: Iterable[str], empty: str = "none") -> str:
    items = list(items)
    return ", ".join(items) if items else empty


class _Folder:
    def __init__(self, events: list[Event], bundle: BundleConfig) -> None:
        self.events = events
        self.bundle = bundle
        self.config: dict[str, Any] = bundle.config or {}
        self.table = ProcessTable.from_events(events)
        header = next((e for e in events if isinstance(e, Header)), None)
        self.header = header
        self.host_ns = dict(header.host_ns) if header else {}
        self.filter = header.filter if header else "container"
        self.runtime_pids = {bundle.pid, *self.table.descendants(bundle.pid)}
        self.syscalls = [e for e in events if isinstance(e, Syscall) and e.pid in self.runtime_pids
                         and e.seq > bundle.seq]
        self.rows: list[SpecRow] = []
        process = self.config.get("process")
        self.process: dict[str, Any] = process if isinstance(process, dict) else {}
        linux = self.config.get("linux")
        self.linux: dict[str, Any] = linux if isinstance(linux, dict) else {}
        entry = find_entrypoint(events)
        self.entry: Exec | None = entry.exec if entry is not None and entry.exec.pid in self.runtime_pids else None
        if self.entry is None:
            self.entry = self._entry_by_args()
        self.init_pid = self.entry.pid if self.entry is not None else self._init_by_name()
        self.rootfs = self._rootfs()

    # Where ---------------------------------------------------------------------------------------------------

    def _entry_by_args(self) -> Exec | None:
        args = self.process.get("args")
        for event in self.events:
            if isinstance(event, Exec) and event.pid in self.runtime_pids and args and event.argv == args:
                return event
        return None

    def _init_by_name(self) -> int | None:
        for event in self.syscalls:
            if event.name == "prctl" and event.args.get("name") == "runc:[2:INIT]":
                return event.pid
        return None

    def _rootfs(self) -> str:
        root = self.config.get("root")
        path = root.get("path") if isinstance(root, dict) else None
        if not isinstance(path, str):
            return ""
        if path.startswith("/"):
            return os.path.normpath(path)
        bundle_dir = os.path.dirname(self.bundle.path)
        return os.path.normpath(os.path.join(bundle_dir, path))

    def _init_calls(self, *names: str) -> list[Syscall]:
        return [e for e in self.syscalls if e.pid == self.init_pid and e.name in names]

    def _entry_seq(self) -> int:
        return self.entry.seq if self.entry is not None else 1 << 62

    def row(self, section: str, item: str, requested: str, applied: str, verdict: str, why: str = "",
            seqs: Sequence[int] = ()) -> None:
        self.rows.append(SpecRow(section, item, requested, applied, verdict, why, tuple(seqs)))

    def report(self) -> SpecReport:
        if self.init_pid is None:
            return SpecReport(self.bundle, problem=(
                "the trace does not show the container's init process (the runtime failed before it, or the "
                "trace was stopped early), so nothing the bundle asks for can be checked"))
        self.namespaces()
        self.root()
        overlay = self.overlay()
        self.mounts()
        self.masked_and_readonly()
        self.capabilities()
        self.no_new_privs()
        self.seccomp()
        self.rlimits()
        self.hostname()
        self.sysctls()
        self.idmaps()
        self.cgroup()
        self.hooks()
        self.entrypoint()
        return SpecReport(self.bundle, self.rows, overlay)

    # Namespaces ----------------------------------------------------------------------------------------------

    def namespaces(self) -> None:
        requested = {}
        for entry in self.linux.get("namespaces") or []:
            if isinstance(entry, dict) and entry.get("type") in OCI_NAMESPACES:
                requested[OCI_NAMESPACES[entry["type"]]] = entry.get("path") or None
        assert self.init_pid is not None  # report() folds only when it is known
        final = dict(self.entry.ns) if self.entry is not None else dict(self.table.processes[self.init_pid].ns)
        changes = [e for e in self.events if isinstance(e, NamespaceChange) and e.pid in self.runtime_pids]
        for kind in ("pid", "net", "mnt", "ipc", "uts", "user", "cgroup", "time"):
            host = self.host_ns.get(kind)
            now = final.get(kind)
            if now is None:
                if kind in requested:
                    self.row("namespaces", kind, "new" if requested[kind] is None else f"join {requested[kind]}",
                             "?", NOT_VISIBLE, "the trace has no namespace inodes for the container's process")
                continue
            made = [e.seq for e in changes if e.kind == kind and e.new == now]
            if kind not in requested:
                if now == host:
                    self.row("namespaces", kind, "nothing (share the host's)", f"host's ({now})", KEPT, "",
                             [self.entry.seq] if self.entry else [])
                else:
                    self.row("namespaces", kind, "nothing (share the host's)", f"new ({now})", DIFFERS,
                             "the container has its own namespace of this kind although the bundle did not ask",
                             made)
                continue
            path = requested[kind]
            if path is None:
                joins = [e for e in self.syscalls if e.name == "setns" and e.error is None]
                if now != host and made:
                    via = next((e.via for e in changes if e.kind == kind and e.new == now), "")
                    self.row("namespaces", kind, "new", f"new ({now}, by {via})", KEPT, "", made)
                elif now != host:
                    self.row("namespaces", kind, "new", f"not the host's ({now})", KEPT,
                             "the change itself happened before the trace saw it", [])
                else:
                    self.row("namespaces", kind, "new", f"host's ({now})", DIFFERS,
                             "the container runs in the host's namespace of this kind", [e.seq for e in joins])
                continue
            joins = [e for e in self.syscalls if e.name == "setns"]
            ok = [e for e in joins if e.error is None]
            if now != host and ok:
                self.row("namespaces", kind, f"join {path}", f"joined ({now}) by setns", KEPT, "",
                         [e.seq for e in ok])
            elif joins:
                self.row("namespaces", kind, f"join {path}", f"setns failed ({joins[0].error})", DIFFERS, "",
                         [e.seq for e in joins])
            else:
                self.row("namespaces", kind, f"join {path}", f"({now})", NOT_VISIBLE,
                         "no setns call was recorded for it")

    # Root and overlay ----------------------------------------------------------------------------------------

    def root(self) -> None:
        root = _dict(self.config.get("root"))
        readonly = bool(root.get("readonly"))
        pivots = [e for e in self._init_calls("pivot_root", "chroot")]
        if pivots:
            p = pivots[0]
            verdict = KEPT if p.error is None else DIFFERS
            self.row("root", "root path", self.rootfs or "?", f"{p.name} into it" + (f" failed ({p.error})"
                     if p.error else ""), verdict, "", [p.seq])
        else:
            self.row("root", "root path", self.rootfs or "?", "no pivot_root or chroot recorded", NOT_VISIBLE,
                     "the container's init did not reach the root switch in this trace")
        remounts = [e for e in self._init_calls("mount") if e.seq < self._entry_seq()
                    and e.args.get("target") == "/" and "MS_REMOUNT" in _flags(e) and "MS_RDONLY" in _flags(e)]
        if readonly:
            if remounts:
                self.row("root", "readonly root", "read-only", "remounted MS_RDONLY", KEPT, "",
                         [e.seq for e in remounts])
            else:
                self.row("root", "readonly root", "read-only", "no read-only remount of /", DIFFERS,
                         "runc remounts / with MS_RDONLY after pivot_root; this trace shows no such call")
        else:
            self.row("root", "readonly root", "writable", "writable" if not remounts else "remounted read-only",
                     KEPT if not remounts else DIFFERS, "", [e.seq for e in remounts])
        propagation = self.linux.get("rootfsPropagation")
        calls = [e for e in self._init_calls("mount") if e.args.get("operation") == "propagation"
                 and e.args.get("target") == "/"]
        wanted = PROPAGATION_OPTIONS.get(str(propagation), "MS_SLAVE") if propagation else "MS_SLAVE"
        asked = str(propagation) if propagation else "not set (runc's default: rslave)"
        if calls:
            got = [f for f in _flags(calls[0]) if f != "MS_REC"]
            self.row("root", "root propagation", asked, _join(_flags(calls[0])),
                     KEPT if wanted in got else DIFFERS, "", [calls[0].seq])
        else:
            self.row("root", "root propagation", asked, "no propagation change of / recorded", NOT_VISIBLE,
                     "the trace does not show the mount call that sets it")

    def overlay(self) -> OverlayRoot | None:
        """The overlay filesystem under the rootfs (docker, containerd): its layers, lowest first."""
        if not self.rootfs:
            return None
        for event in self.events:
            if isinstance(event, Syscall) and event.name == "mount" and event.error is None \
                    and event.args.get("fstype") == "overlay" and event.args.get("target") == self.rootfs:
                found = overlay_from_options(str(event.args.get("data") or ""), event.seq, "mount")
                if found is not None:
                    found = self._resolved(found)
                    self._overlay_row(found)
                    return found
        for event in self.events:
            if not isinstance(event, MountSnapshot) or event.pid not in self.runtime_pids:
                continue
            for line in event.mountinfo:
                mount = parse_mountinfo_line(line)
                if mount is not None and mount.fstype == "overlay" and mount.mount_point == self.rootfs:
                    found = overlay_from_options(",".join(mount.super_options), event.seq, "mountinfo")
                    if found is not None:
                        found = self._resolved(found)
                        self._overlay_row(found)
                        return found
        return None

    def _resolved(self, found: OverlayRoot) -> OverlayRoot:
        layers = self.bundle.layers or []
        resolved = {str(info["path"]): info for info in layers if isinstance(info, dict) and info.get("path")}
        return replace(found, resolved=resolved) if resolved else found

    def _overlay_row(self, found: OverlayRoot) -> None:
        how = "mounted in this trace" if found.via == "mount" else "mounted before the trace (seen in mountinfo)"
        self.row("root", "overlay layers", f"root {self.rootfs}",
                 f"overlay, {len(found.layers)} read-only {'layer' if len(found.layers) == 1 else 'layers'} (lowest first: {_join(found.layer_names())}); "
                 f"writable layer {found.upper or 'none'} ({how})", KEPT, "", [found.seq])

    # Mounts --------------------------------------------------------------------------------------------------

    def _mount_target(self, event: Syscall) -> str | None:
        """The container path a mount call targets (before pivot_root: under the rootfs)."""
        notes = event.notes or {}
        target = notes.get("target") if isinstance(notes.get("target"), str) else event.args.get("target")
        if not isinstance(target, str):
            return None
        if self.rootfs and (target == self.rootfs or target.startswith(self.rootfs + "/")):
            return target[len(self.rootfs):] or "/"
        return None

    def mounts(self) -> None:
        calls: dict[str, list[Syscall]] = {}
        for event in self._init_calls("mount"):
            if event.seq > self._entry_seq():
                continue
            target = self._mount_target(event)
            if target is not None:
                calls.setdefault(target, []).append(event)
        for entry in self.config.get("mounts") or []:
            if not isinstance(entry, dict) or not isinstance(entry.get("destination"), str):
                continue
            dest = os.path.normpath(entry["destination"])
            inside = [c for target, found in calls.items() if target.startswith(dest.rstrip("/") + "/")
                      for c in found]
            self._mount_row(entry, calls.get(dest, []), inside)

    def _mount_row(self, entry: dict[str, Any], calls: list[Syscall], inside: list[Syscall]) -> None:
        dest = os.path.normpath(entry["destination"])
        fstype = str(entry.get("type") or "")
        options = [str(o) for o in entry.get("options") or []]
        bind = "bind" in options or "rbind" in options or fstype == "bind"
        want_flags = {OPTION_FLAGS[o] for o in options if o in OPTION_FLAGS}
        if "rbind" in options:
            want_flags.add("MS_REC")
        want_prop = {PROPAGATION_OPTIONS[o] for o in options if o in PROPAGATION_OPTIONS}
        want_data = [o for o in options if o not in OPTION_FLAGS and o not in PROPAGATION_OPTIONS
                     and o not in NEUTRAL_OPTIONS and o not in ("rro", "rrw", "tmpcopyup")]
        requested = f"{fstype or 'bind'} {entry.get('source', '')} [{_join(options, '-')}]"
        if not calls:
            self.row("mounts", dest, requested, "no mount call recorded", DIFFERS if self.entry else NOT_VISIBLE,
                     "the container started without this mount" if self.entry else
                     "the container's init did not get that far")
            return
        failed = [c for c in calls if c.error is not None]
        ok = [c for c in calls if c.error is None]
        got_flags = {f for c in ok for f in _flags(c)}
        got_types = [str(c.args.get("fstype") or "") for c in ok if c.args.get("operation") == "new"]
        got_data = ",".join(str(c.args.get("data") or "") for c in ok if c.args.get("data"))
        applied = (f"{_join(sorted(set(got_types)), 'bind' if 'MS_BIND' in got_flags else '?')} "
                   f"[{_join(sorted(got_flags), '-')}]" + (f" data {got_data}" if got_data else ""))
        problems = []
        if not ok:
            problems.append(f"the mount failed with {failed[0].error}")
        if fstype not in ("", "bind") and not bind and fstype not in got_types:
            if fstype == "cgroup" and "tmpfs" in got_types:
                pass  # cgroup v1: runc makes a tmpfs holding one bind mount per hierarchy (mountCgroupV1)
            else:
                problems.append(f"type {fstype} asked, {_join(got_types)} mounted")
        missing = sorted(want_flags - got_flags)
        if fstype == "cgroup" and "tmpfs" in got_types:
            # The options are carried by the bind mounts inside, one per hierarchy: each must have them all.
            binds = [c for c in inside if c.error is None and "MS_BIND" in _flags(c)]
            missing = sorted({f for c in binds for f in want_flags if f not in _flags(c) and f != "MS_BIND"})
            if binds:
                targets = {self._mount_target(c) for c in binds}
                applied += f"; read-only bind mounts of {len(targets)} hierarchies inside"
                calls = calls + binds
        if missing:
            problems.append(f"{_join(missing)} missing")
        if want_prop - got_flags:
            problems.append(f"propagation {_join(sorted(want_prop - got_flags))} not set")
        lost = [o for o in want_data if o not in got_data.split(",")]
        if lost:
            problems.append(f"data {_join(lost)} not passed")
        why = "; ".join(problems)
        if fstype == "cgroup" and "tmpfs" in got_types and not problems:
            why = ("on cgroup v1 runc mounts a tmpfs here and one read-only bind mount per hierarchy inside it "
                   "(libcontainer/rootfs_linux.go, mountCgroupV1)")
        self.row("mounts", dest, requested, applied, DIFFERS if problems else KEPT, why, [c.seq for c in calls])

    def masked_and_readonly(self) -> None:
        calls = [e for e in self._init_calls("mount") if e.seq < self._entry_seq()]
        for path in self.linux.get("maskedPaths") or []:
            mine = [c for c in calls if c.args.get("target") == path]
            ok = [c for c in mine if c.error is None]
            absent = [c for c in mine if c.error == "ENOENT"]
            if ok:
                how = "tmpfs (read-only)" if any(c.args.get("fstype") == "tmpfs" for c in ok) else "/dev/null bound"
                self.row("masked paths", path, "masked", f"masked: {how}", KEPT, "", [c.seq for c in mine])
            elif absent:
                self.row("masked paths", path, "masked", "absent in this container (ENOENT)", KEPT,
                         "nothing to hide: runc ignores ENOENT when masking (maskPath)", [c.seq for c in mine])
            elif mine:
                self.row("masked paths", path, "masked", f"failed ({mine[-1].error})", DIFFERS, "",
                         [c.seq for c in mine])
            else:
                self.row("masked paths", path, "masked", "no mount call recorded", DIFFERS if self.entry else
                         NOT_VISIBLE, "")
        for path in self.linux.get("readonlyPaths") or []:
            mine = [c for c in calls if c.args.get("target") == path]
            ro = [c for c in mine if c.error is None and "MS_RDONLY" in _flags(c)]
            absent = [c for c in mine if c.error == "ENOENT"]
            if ro:
                self.row("read-only paths", path, "read-only", "bind-mounted, remounted MS_RDONLY", KEPT, "",
                         [c.seq for c in mine])
            elif absent:
                self.row("read-only paths", path, "read-only", "absent in this container (ENOENT)", KEPT,
                         "nothing to protect: runc ignores ENOENT there (readonlyPath)", [c.seq for c in mine])
            elif mine:
                self.row("read-only paths", path, "read-only", f"not made read-only ({mine[-1].error})", DIFFERS,
                         "", [c.seq for c in mine])
            else:
                self.row("read-only paths", path, "read-only", "no mount call recorded",
                         DIFFERS if self.entry else NOT_VISIBLE, "")

    # Privileges ----------------------------------------------------------------------------------------------

    def capabilities(self) -> None:
        asked = self.process.get("capabilities")
        asked = asked if isinstance(asked, dict) else {}
        entry = self.entry
        final = sets_from_masks(entry.caps) if entry is not None and entry.caps else None
        for name in CAP_SETS:
            want = frozenset(str(c) for c in asked.get(name) or [])
            requested = f"{len(want)}: {_join(sorted(want))}"
            if final is None:
                self.row("capabilities", name, requested, "?", NOT_VISIBLE,
                         "the trace has no capability sets for the entrypoint (an older recording, or no exec)")
                continue
            got = getattr(final, name)
            applied = f"{len(got)}: {_join(sorted(got))}"
            if got == want:
                self.row("capabilities", name, requested, applied, KEPT, "", [entry.seq] if entry else [])
                continue
            missing, extra = sorted(want - got), sorted(got - want)
            parts = []
            if missing:
                parts.append(f"missing {_join(missing)}")
            if extra:
                parts.append(f"extra {_join(extra)}")
            why = "; ".join(parts)
            seqs = [entry.seq] if entry else []
            if name == "ambient":
                raises = [e for e in self._init_calls("prctl") if e.args.get("operation") == "PR_CAP_AMBIENT_RAISE"]
                failed = [e for e in raises if e.error is not None]
                seqs = [e.seq for e in raises] + seqs
                if failed and len(failed) == len(raises):
                    inheritable = sorted(str(c) for c in asked.get("inheritable") or [])
                    why += (f"; the {len(failed)} PR_CAP_AMBIENT_RAISE calls failed with "
                            f"{_join(sorted({e.error for e in failed if e.error}))}: a capability can be raised "
                            "into the ambient set only when it is in both the permitted and the inheritable set "
                            f"(prctl(2)), and the bundle's inheritable set is {_join(inheritable, 'empty')}; "
                            "the runtime went on without them")
            self.row("capabilities", name, requested, applied, DIFFERS, why, seqs)

    def no_new_privs(self) -> None:
        want = bool(self.process.get("noNewPrivileges"))
        calls = [e for e in self._init_calls("prctl") if e.args.get("option") == "PR_SET_NO_NEW_PRIVS"]
        ok = [e for e in calls if e.error is None and e.args.get("value") == 1]
        if want:
            self.row("privileges", "no_new_privs", "set", "set" if ok else "not set",
                     KEPT if ok else DIFFERS, "" if ok else "no successful prctl(PR_SET_NO_NEW_PRIVS, 1)",
                     [e.seq for e in calls])
        else:
            self.row("privileges", "no_new_privs", "not set", "set" if ok else "not set",
                     DIFFERS if ok else KEPT, "", [e.seq for e in calls])

    def seccomp(self) -> None:
        asked = self.linux.get("seccomp")
        found = [f for f in seccomp_filters(self.events) if f.pid == self.init_pid and f.seq < self._entry_seq()]
        if not isinstance(asked, dict):
            if found:
                self.row("seccomp", "filter", "none", f"{len(found)} filter(s) installed", DIFFERS, "",
                         [f.seq for f in found])
            else:
                self.row("seccomp", "filter", "none", "none installed", KEPT, "")
            return
        default = str(asked.get("defaultAction", ""))
        rules = [r for r in asked.get("syscalls") or [] if isinstance(r, dict)]
        names = sum(len(r.get("names") or []) for r in rules)
        requested = f"default {default}, {len(rules)} rules naming {names} syscalls"
        if not found:
            self.row("seccomp", "filter", requested, "no filter installation recorded",
                     DIFFERS if self.entry else NOT_VISIBLE,
                     "the entrypoint started without the filter" if self.entry else "")
            return
        last = found[-1]
        analysis = last.analysis
        if analysis is None:
            self.row("seccomp", "filter", requested, f"installed ({last.problem or 'program not readable'})",
                     NOT_VISIBLE, "the BPF program could not be read from the trace, so it cannot be evaluated",
                     [last.seq])
            return
        want_default = _scmp_action(default, asked.get("defaultErrnoRet"))
        ok_default = want_default is None or want_default == analysis.default.label
        self.row("seccomp", "default action", default + (f" ({want_default})" if want_default else ""),
                 analysis.default.label, KEPT if ok_default else DIFFERS, "", [last.seq])
        mismatched: list[str] = []
        checked = 0
        for rule in rules:
            action = _scmp_action(str(rule.get("action", "")), rule.get("errnoRet"))
            if action is None or rule.get("args"):
                continue  # argument-dependent rules are run below, with arguments that satisfy them
            for name in rule.get("names") or []:
                verdict = analysis.verdict(str(name))
                if verdict is None:
                    continue  # not an x86_64 syscall (the profile lists other architectures' names)
                checked += 1
                if verdict.verdict.label != action and not verdict.depends_on_arguments:
                    mismatched.append(f"{name}: {verdict.verdict.label} not {action}")
        with_args, unsure = self._seccomp_argument_rules(rules, last.seq, mismatched)
        why = "; ".join(mismatched[:8])
        if unsure:
            why = "; ".join(filter(None, [why, f"not checked: {_join(unsure[:8])}"]))
        self.row("seccomp", "syscall rules", requested,
                 f"evaluated the BPF program ({analysis.instructions} instructions) for {checked} x86_64 "
                 f"syscalls named by argument-free rules and {with_args} calls with the arguments of the "
                 f"argument rules: {len(mismatched)} differ",
                 KEPT if not mismatched else DIFFERS, why, [last.seq])

    def _seccomp_argument_rules(self, rules: list[dict[str, Any]], seq: int,
                                mismatched: list[str]) -> tuple[int, list[str]]:
        """Run the installed program (tracer.bpf) once per rule with arguments (`args`: index, value, valueTwo,
        op), on arguments that satisfy every condition of the rule, and compare its verdict with the rule's action.
        Rules another rule of the same syscall also matches with another action are left out (which wins is
        libseccomp's business, not the bundle's). Returns how many calls were run and what was left out."""
        event = next((e for e in self.events if isinstance(e, Syscall) and e.seq == seq), None)
        program = event.args.get("program") if event is not None else None
        if not isinstance(program, str) or program.startswith("<"):
            return 0, []
        insns = parse_program(program)
        from tracer.decoders import SYSCALL_NRS_BY_NAME

        by_name: dict[str, list[tuple[str, list[dict[str, Any]]]]] = {}
        for rule in rules:
            action = _scmp_action(str(rule.get("action", "")), rule.get("errnoRet"))
            conditions = [c for c in rule.get("args") or [] if isinstance(c, dict)]
            for name in rule.get("names") or []:
                by_name.setdefault(str(name), []).append((action or "?", conditions))
        ran = 0
        unsure: list[str] = []
        for name, entries in by_name.items():
            nr = SYSCALL_NRS_BY_NAME.get(name)
            if nr is None:
                continue
            for action, conditions in entries:
                if not conditions:
                    continue
                label = f"{name}({_conditions_text(conditions)})"
                args = _satisfying_args(conditions)
                if args is None or action == "?":
                    unsure.append(label)
                    continue
                others = {a for a, c in entries if a != action and _satisfied(c, args)}
                if others:
                    unsure.append(label)
                    continue
                ran += 1
                got = Verdict(run_filter(insns, SeccompData(nr=nr, args=args)).value).label
                if got != action:
                    mismatched.append(f"{label}: {got} not {action}")
        return ran, unsure

    def rlimits(self) -> None:
        limits = [limit for limit in self.process.get("rlimits") or [] if isinstance(limit, dict)]
        if not limits:
            return
        everywhere = [e for e in self.events if isinstance(e, Syscall) and e.name in RLIMIT_CALLS]
        decoded = self._records_rlimits()
        for limit in limits:
            kind = str(limit.get("type", "?"))
            want = {"soft": _rlimit_value(limit.get("soft")), "hard": _rlimit_value(limit.get("hard"))}
            requested = f"soft {_rlimit_text(want['soft'])}, hard {_rlimit_text(want['hard'])}"
            if not decoded:
                self.row("rlimits", kind, requested, "?", NOT_VISIBLE,
                         "this trace holds no decoded prlimit64/setrlimit call: it was recorded before boxtrace "
                         "recorded them by default (re-record it, or record with -e prlimit64)",
                         [e.seq for e in everywhere if e.pid in self.runtime_pids])
                continue
            calls = [e for e in self._rlimit_calls(kind) if e.seq < self._entry_seq()]
            if not calls:
                self.row("rlimits", kind, requested, "no prlimit64/setrlimit of the container's init recorded",
                         DIFFERS if self.entry else NOT_VISIBLE,
                         "the container keeps the limit it inherited from the runtime" if self.entry else
                         "the container's init did not get that far")
                continue
            last = calls[-1]
            new = last.args.get("new")
            got = f"soft {_rlimit_text(new.get('soft'))}, hard {_rlimit_text(new.get('hard'))}" \
                if isinstance(new, dict) else str(new)
            seqs = [e.seq for e in calls]
            if last.error is not None:
                why = f"{last.name} failed with {last.error}"
                if last.error == "EPERM":
                    old = _old_limit(calls)
                    above = old is not None and _above(want["hard"], old.get("hard"))
                    current = f" (here {_rlimit_text(old.get('hard'))})" if old else ""
                    why += (f": raising a hard limit above the current one{current} needs CAP_SYS_RESOURCE, which "
                            "the runtime lacks (setrlimit(2)); root without it can only lower a hard limit"
                            if above or old is None else
                            ": the caller may not change another process's limits (prlimit(2): its ids must "
                            "match the target's, or it needs CAP_SYS_RESOURCE)")
                why += ("; the container keeps the limit it inherited" if self.entry else
                        "; the runtime gave up and the container never started" + (
                            " (runc: \"error setting rlimits for ready process\")" if self.bundle.runtime == "runc"
                            else ""))
                self.row("rlimits", kind, requested, f"{got} refused", DIFFERS, why, seqs)
            elif isinstance(new, dict) and new == want:
                self.row("rlimits", kind, requested, got, KEPT, "", seqs)
            else:
                self.row("rlimits", kind, requested, got, DIFFERS,
                         "the last limit set on the container's init before its entrypoint is not the one asked",
                         seqs)

    def _rlimit_calls(self, kind: str) -> list[Syscall]:
        """The runtime's calls that set `kind` on the container's init: prlimit64(init, ...) from the runtime (runc
        1.1 does it from `runc create`), prlimit64(0, ...) or setrlimit in the init itself."""
        out = []
        for event in self.syscalls:
            if event.name not in RLIMIT_CALLS or event.args.get("resource") != kind \
                    or not isinstance(event.args.get("new"), dict):
                continue
            target = event.pid if event.name == "setrlimit" or event.args.get("pid") == 0 else event.args.get("pid")
            if target == self.init_pid:
                out.append(event)
        return out

    def hostname(self) -> None:
        want = self.config.get("hostname")
        calls = self._init_calls("sethostname")
        if not isinstance(want, str) or not want:
            self.row("identity", "hostname", "not set", "set to " + str(calls[0].args.get("name")) if calls
                     else "not set", DIFFERS if calls else KEPT, "", [e.seq for e in calls])
            return
        ok = [e for e in calls if e.error is None]
        if ok and ok[-1].args.get("name") == want:
            self.row("identity", "hostname", want, str(ok[-1].args.get("name")), KEPT, "", [e.seq for e in calls])
        elif calls:
            self.row("identity", "hostname", want, f"sethostname failed ({calls[-1].error})" if not ok else
                     str(ok[-1].args.get("name")), DIFFERS, "", [e.seq for e in calls])
        else:
            self.row("identity", "hostname", want, "no sethostname recorded", DIFFERS if self.entry else
                     NOT_VISIBLE, "")

    def sysctls(self) -> None:
        sysctl = self.linux.get("sysctl")
        if not isinstance(sysctl, dict) or not sysctl:
            return
        # Since boxtrace records writes under /proc/sys by default (tracer.decoders.common.control_file_category),
        # their absence means something; in an older recording made with the container filter it does not.
        recorded = self.filter == "all" or any(
            isinstance(e, Syscall) and e.name == "write" and str(e.args.get("path", "")).startswith("/proc/sys/")
            for e in self.events) or self._records_rlimits()
        for key, value in sysctl.items():
            path = "/proc/sys/" + str(key).replace(".", "/")
            writes = [e for e in self.syscalls if e.name == "write" and str(e.args.get("path", "")).endswith(path)
                      and e.seq < self._entry_seq()]
            if writes:
                ok = [e for e in writes if e.error is None]
                data = str(ok[-1].args.get("data") or "").strip() if ok else ""
                if ok and (not data or data == str(value).strip()):
                    self.row("sysctl", str(key), str(value), f"{data or 'written'} to {path}", KEPT, "",
                             [e.seq for e in writes])
                else:
                    self.row("sysctl", str(key), str(value),
                             f"{data} written to {path}" if ok else f"write failed ({writes[-1].error})", DIFFERS,
                             "", [e.seq for e in writes])
            elif recorded:
                self.row("sysctl", str(key), str(value), "no write recorded", DIFFERS if self.entry else NOT_VISIBLE,
                         f"the container's init wrote nothing to {path} before its entrypoint" if self.entry else
                         "the container's init did not get that far")
            else:
                self.row("sysctl", str(key), str(value), "?", NOT_VISIBLE,
                         f"this recording predates boxtrace recording writes to {path} with --filter "
                         f"{self.filter}: re-record it")

    def _records_rlimits(self) -> bool:
        """The recording comes from a boxtrace that records rlimit calls and /proc/sys writes by default."""
        return any(isinstance(e, Syscall) and e.name in RLIMIT_CALLS and "resource" in e.args for e in self.events)

    def idmaps(self) -> None:
        maps = id_maps(self.events)
        writes = [w for w in maps.writes if w.writer in self.runtime_pids or (w.target in self.runtime_pids)]
        for key, name in (("uidMappings", "uid_map"), ("gidMappings", "gid_map")):
            asked = self.linux.get(key) or []
            want = " ".join(f"{m.get('containerID')} {m.get('hostID')} {m.get('size')}" for m in asked
                            if isinstance(m, dict))
            mine = [w for w in writes if w.file == name]
            if not asked:
                self.row("identity", name, "none (no user namespace)", "none written" if not mine else
                         "written", KEPT if not mine else DIFFERS, "", [w.seq for w in mine])
                continue
            ok = [w for w in mine if w.ok]
            got = " ".join((ok[-1].data or "").split()) if ok else ""
            self.row("identity", name, want, got or ("write failed" if mine else "no write recorded"),
                     KEPT if got == " ".join(want.split()) else DIFFERS, "", [w.seq for w in mine])

    def cgroup(self) -> None:
        found = cgroups(self.events)
        path = self.linux.get("cgroupsPath")
        moves = [m for m in found.moves if m.writer in self.runtime_pids]
        if isinstance(path, str) and path:
            ok = [m for m in moves if m.ok and m.target.cgroup.rstrip("/") == path.rstrip("/")]
            bad = [m for m in moves if not m.ok]
            if ok and not bad:
                hierarchies = sorted({m.target.hierarchy or "v2" for m in ok})
                self.row("cgroups", "cgroup path", path, f"moved into {path} ({len(hierarchies)} hierarchies)",
                         KEPT, "", [m.seq for m in ok])
            elif bad:
                self.row("cgroups", "cgroup path", path, f"moving into it failed ({bad[0].error})", DIFFERS, "",
                         [m.seq for m in bad])
            elif moves:
                self.row("cgroups", "cgroup path", path, _join(sorted({m.target.cgroup for m in moves})), DIFFERS,
                         "", [m.seq for m in moves])
            else:
                self.row("cgroups", "cgroup path", path, "no cgroup.procs write recorded", NOT_VISIBLE,
                         "the runtime may use systemd or CLONE_INTO_CGROUP, which this trace does not show")
        resources = _dict(self.linux.get("resources"))
        settings = [s for s in found.settings if s.writer in self.runtime_pids]
        for (group, key), files in RESOURCE_FILES.items():
            section = resources.get(group)
            if not isinstance(section, dict) or key not in section:
                continue
            value = section[key]
            mine = [s for s in settings if s.target.file in files]
            requested = f"{group}.{key} = {value}"
            if not value:
                self.row("cgroups", f"{group}.{key}", requested, "not written" if not mine else
                         _join(s.value for s in mine), KEPT, "0 or empty means unset: runc writes nothing",
                         [s.seq for s in mine])
            elif mine:
                written = [s for s in mine if s.ok]
                self.row("cgroups", f"{group}.{key}", requested,
                         _join(f"{s.target.file}={s.value.strip()}" for s in mine),
                         KEPT if written else DIFFERS, "" if written else f"the write failed ({mine[0].error})",
                         [s.seq for s in mine])
            else:
                self.row("cgroups", f"{group}.{key}", requested, "no write recorded", DIFFERS,
                         "the limit was not written to any cgroup file in this trace")
        devices = [d for d in resources.get("devices") or [] if isinstance(d, dict)]
        if devices:
            rules = [s for s in settings if s.target.file in ("devices.allow", "devices.deny")]
            if rules:
                self.row("cgroups", "devices", f"{len(devices)} rules", f"{len(rules)} writes to devices.allow/deny",
                         KEPT if all(s.ok for s in rules) else DIFFERS, "", [s.seq for s in rules])
            else:
                self.row("cgroups", "devices", f"{len(devices)} rules", "no devices.allow/deny write recorded",
                         NOT_VISIBLE, "on cgroup v2 the rules are a BPF program (bpf(2) is not recorded)")

    def hooks(self) -> None:
        hooks = self.config.get("hooks")
        if not isinstance(hooks, dict):
            return
        execs = [e for e in self.events if isinstance(e, Exec) and e.seq > self.bundle.seq]
        for stage, entries in hooks.items():
            for hook in entries if isinstance(entries, list) else []:
                if not isinstance(hook, dict):
                    continue
                args = [str(a) for a in hook.get("args") or [hook.get("path", "")]]
                ran = [e for e in execs if e.argv == args or (e.argv[:1] == args[:1] and e.argv[1:] == args[1:])]
                label = " ".join(args)
                if ran:
                    self.row("hooks", stage, label, f"ran as pid {ran[0].pid}", KEPT, "", [ran[0].seq])
                else:
                    self.row("hooks", stage, label, "no exec of it recorded",
                             DIFFERS if self.entry else NOT_VISIBLE, "")

    def entrypoint(self) -> None:
        args = [str(a) for a in self.process.get("args") or []]
        if self.entry is None:
            self.row("process", "entrypoint", " ".join(args), "never exec'd", DIFFERS,
                     "the container's init did not reach the exec of the entrypoint")
        else:
            same = self.entry.argv == args
            self.row("process", "entrypoint", " ".join(args), " ".join(self.entry.argv),
                     KEPT if same else DIFFERS, "", [self.entry.seq])
        cwd = self.process.get("cwd")
        chdirs = [e for e in self._init_calls("chdir") if e.seq < self._entry_seq() and e.error is None]
        last = chdirs[-1] if chdirs else None
        if isinstance(cwd, str):
            if last is not None:
                self.row("process", "cwd", cwd, str(last.args.get("path")),
                         KEPT if os.path.normpath(str(last.args.get("path"))) == os.path.normpath(cwd) else DIFFERS,
                         "", [last.seq])
            else:
                self.row("process", "cwd", cwd, "no chdir recorded", NOT_VISIBLE, "")
        user = _dict(self.process.get("user"))
        for key, call in (("uid", "setuid"), ("gid", "setgid")):
            if key not in user:
                continue
            calls = [e for e in self._init_calls(call, "setres" + key, "setre" + key) if e.seq < self._entry_seq()]
            ok = [e for e in calls if e.error is None]
            got = ok[-1].args.get(key, ok[-1].args.get("r" + key)) if ok else None
            if ok:
                self.row("process", key, str(user[key]), str(got), KEPT if got == user[key] else DIFFERS, "",
                         [ok[-1].seq])
            else:
                self.row("process", key, str(user[key]), "no successful " + call + " recorded", NOT_VISIBLE, "")
        extra = user.get("additionalGids")
        groups = [e for e in self._init_calls("setgroups") if e.seq < self._entry_seq() and e.error is None]
        if groups:
            got_groups = sorted(int(g) for g in groups[-1].args.get("groups") or [])
            want_groups = sorted(int(g) for g in extra or [])
            self.row("process", "additional gids", _join(map(str, want_groups)), _join(map(str, got_groups)),
                     KEPT if got_groups == want_groups else DIFFERS, "", [groups[-1].seq])


#: libseccomp's comparisons (OCI `linux.seccomp.syscalls[].args[].op`): does `arg` satisfy (value, valueTwo)?
_SCMP_OPS = {
    "SCMP_CMP_NE": lambda arg, value, two: arg != value,
    "SCMP_CMP_LT": lambda arg, value, two: arg < value,
    "SCMP_CMP_LE": lambda arg, value, two: arg <= value,
    "SCMP_CMP_EQ": lambda arg, value, two: arg == value,
    "SCMP_CMP_GE": lambda arg, value, two: arg >= value,
    "SCMP_CMP_GT": lambda arg, value, two: arg > value,
    "SCMP_CMP_MASKED_EQ": lambda arg, value, two: arg & value == two,
}
_U64 = (1 << 64) - 1


def _condition(condition: dict[str, Any]) -> tuple[int, str, int, int] | None:
    index, op = condition.get("index"), condition.get("op")
    value, two = condition.get("value", 0), condition.get("valueTwo", 0)
    if not isinstance(index, int) or not 0 <= index < 6 or op not in _SCMP_OPS \
            or not isinstance(value, int) or not isinstance(two, int):
        return None
    return index, str(op), value & _U64, two & _U64


def _satisfied(conditions: list[dict[str, Any]], args: tuple[int, ...]) -> bool:
    for condition in conditions:
        parsed = _condition(condition)
        if parsed is None or not _SCMP_OPS[parsed[1]](args[parsed[0]], parsed[2], parsed[3]):
            return False
    return True


def _satisfying_args(conditions: list[dict[str, Any]]) -> tuple[int, ...] | None:
    """Six arguments meeting every condition of one rule (libseccomp ANDs them), None when none is found."""
    parsed = [_condition(c) for c in conditions]
    if any(p is None for p in parsed):
        return None
    args = [0] * 6
    for index in sorted({p[0] for p in parsed if p is not None}):
        mine = [p for p in parsed if p is not None and p[0] == index]
        candidates: list[int] = [0]
        for _, _, value, two in mine:
            candidates += [value, two, value + 1, value - 1, two & value]
        found = next((c & _U64 for c in candidates
                      if all(_SCMP_OPS[op](c & _U64, value, two) for _, op, value, two in mine)), None)
        if found is None:
            return None
        args[index] = found
    return tuple(args)


def _conditions_text(conditions: list[dict[str, Any]]) -> str:
    words = {"SCMP_CMP_NE": "!=", "SCMP_CMP_LT": "<", "SCMP_CMP_LE": "<=", "SCMP_CMP_EQ": "==",
             "SCMP_CMP_GE": ">=", "SCMP_CMP_GT": ">"}
    parts = []
    for condition in conditions:
        op = str(condition.get("op"))
        index, value = condition.get("index"), condition.get("value")
        if op == "SCMP_CMP_MASKED_EQ":
            parts.append(f"arg{index} & {value:#x} == {condition.get('valueTwo', 0):#x}"
                         if isinstance(value, int) else f"arg{index} {op}")
        else:
            parts.append(f"arg{index} {words.get(op, op)} {value}")
    return ", ".join(parts)


def _dict(value: Any) -> dict[str, Any]:
    """A config section that must be an object: {} when the bundle has something else there."""
    return value if isinstance(value, dict) else {}


def _rlimit_value(value: Any) -> Any:
    """A bundle's limit as the decoder spells it: 2**64-1 (the spec's way to say unlimited) is RLIM_INFINITY."""
    return "RLIM_INFINITY" if value == RLIM_INFINITY else value


def _rlimit_text(value: Any) -> str:
    return "unlimited" if value == "RLIM_INFINITY" else str(value)


def _above(wanted: Any, current: Any) -> bool:
    if current == "RLIM_INFINITY":
        return False
    return wanted == "RLIM_INFINITY" or (isinstance(wanted, int) and isinstance(current, int) and wanted > current)


def _old_limit(calls: list[Syscall]) -> dict[str, Any] | None:
    """The limit in force before the calls, when one of them read it back (prlimit64's old_limit)."""
    for event in calls:
        old = event.args.get("old")
        if isinstance(old, dict):
            return old
    return None


def _scmp_action(action: str, errno_ret: Any = None) -> str | None:
    """libseccomp's action name as the evaluated program's label (ALLOW, ERRNO(EPERM), KILL_PROCESS...)."""
    from tracer.xlat.errnos import errno_name

    if action == "SCMP_ACT_ALLOW":
        return "ALLOW"
    if action == "SCMP_ACT_ERRNO":
        return f"ERRNO({errno_name(int(errno_ret))})" if isinstance(errno_ret, int) else "ERRNO(EPERM)"
    if action in ("SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD"):
        return "KILL_THREAD"
    if action == "SCMP_ACT_KILL_PROCESS":
        return "KILL_PROCESS"
    if action == "SCMP_ACT_LOG":
        return "LOG"
    if action == "SCMP_ACT_TRAP":
        return "TRAP"
    return None


def find_overlay_root(events: Iterable[Event]) -> OverlayRoot | None:
    """The container's overlay root in a trace: the one the spec fold finds under the bundle's root when the trace
    holds a bundle, else the last successful overlay mount call (a runtime's root is mounted last)."""
    events = list(events)
    report = spec_report(events)
    if report.overlay is not None:
        return report.overlay
    found = None
    for event in events:
        if isinstance(event, Syscall) and event.name == "mount" and event.error is None \
                and event.args.get("fstype") == "overlay":
            found = overlay_from_options(str(event.args.get("data") or ""), event.seq, "mount") or found
    return found
