"""An overlay root decoded into its image layers: `lowerdir`, `upperdir`, `workdir` of an overlay mount.

overlayfs stacks the directories of `lowerdir=A:B:C` with A on top and C at the bottom (Documentation/filesystems/
overlayfs.rst: "the specified lower directories will be stacked beginning from the rightmost one"), and puts the
writable `upperdir` above them all; `workdir` is overlayfs's scratch directory on the upper's filesystem. Docker's
overlay2 driver passes short links (/var/lib/docker/overlay2/l/ID, each a symlink to a layer's diff directory);
containerd's overlayfs snapshotter passes .../snapshots/N/fs directories. Both read the same here: the layers
lowest first, and the writable layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Docker's per-container init layer (moby daemon/initlayer, Setup): between the image and the writable layer, it
#: holds empty mount points (/proc, /sys, /dev/pts, /dev/shm) and placeholder files (/.dockerenv, /etc/hosts,
#: /etc/hostname, /etc/resolv.conf) for runc to bind-mount onto, so the writable layer is not touched by them.
DOCKER_INIT_LAYER = ("docker's init layer: empty mount points and placeholder files (/.dockerenv, /etc/hosts, "
                     "/etc/hostname, /etc/resolv.conf) for the bind mounts, above the image")


@dataclass(frozen=True)
class OverlayRoot:
    """`layers` lowest first (the image's base layer first); `upper` is the container's writable layer."""

    layers: tuple[str, ...]
    upper: str | None
    work: str | None
    seq: int
    via: str  # "mount" (the mount call is in the trace) or "mountinfo" (a mount-table snapshot)
    options: tuple[str, ...] = field(default=())
    #: What each lowerdir (as written) was on the host when the runtime started, as the tracer resolved it
    #: (BundleConfig.layers): its directory, docker's cache id, diff-id and chain-id, or that it is docker's init
    #: layer. Empty for traces without it.
    resolved: dict[str, dict[str, str]] = field(default_factory=dict, compare=False)

    def layer_names(self) -> list[str]:
        """Short names for the layers: the image layer's diff-id, docker's init layer, containerd's snapshot
        numbers, docker's link ids when nothing resolved them, else the directory."""
        return [resolved_layer_name(self.resolved.get(path)) or layer_name(path) for path in self.layers]

    def facts(self) -> list[str]:
        word = "layer" if len(self.layers) == 1 else "layers"
        lines = [f"overlay root: {len(self.layers)} read-only {word}, lowest first"]
        for index, path in enumerate(self.layers, 1):
            info = self.resolved.get(path) or {}
            line = f"  layer {index}: {path}"
            if info.get("dir") and info["dir"] != path:
                line += f" -> {info['dir']}"
            if info.get("diff_id"):
                line += f" (image layer {info['diff_id']}, chain {info.get('chain_id', '?')})"
            elif info.get("init"):
                line += f" ({DOCKER_INIT_LAYER})"
            lines.append(line)
        lines.append(f"  writable layer (upperdir): {self.upper or 'none: the root is read-only'}")
        if self.work:
            lines.append(f"  overlayfs scratch (workdir): {self.work}")
        return lines


def resolved_layer_name(info: dict[str, str] | None) -> str | None:
    if not info:
        return None
    if info.get("diff_id"):
        return info["diff_id"][:19]  # sha256: and 12 hex digits, as docker shortens ids
    if info.get("init"):
        return f"init layer {info.get('cache_id', '')[:12]}".rstrip()
    if info.get("dir"):
        return layer_name(info["dir"])
    return None


def layer_name(path: str) -> str:
    parts = path.rstrip("/").split("/")
    if len(parts) >= 3 and parts[-1] == "fs" and parts[-3] == "snapshots":
        return f"snapshot {parts[-2]}"
    if len(parts) >= 2 and parts[-2] == "l":
        return f"link {parts[-1][:12]}"
    if parts and parts[-1] in ("diff", "fs") and len(parts) >= 2:
        return parts[-2][:12]
    return parts[-1] if parts else path


def split_options(text: str) -> list[str]:
    """Comma-separated mount options, with backslash-escaped commas kept inside a value."""
    out: list[str] = []
    current = ""
    escaped = False
    for char in text:
        if escaped:
            current += char
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            out.append(current)
            current = ""
        else:
            current += char
    if current:
        out.append(current)
    return out


def overlay_from_options(text: str, seq: int, via: str) -> OverlayRoot | None:
    """The layers of an overlay mount from its data string (`mount(2)`'s data or mountinfo's super options);
    None when it names no lowerdir."""
    values: dict[str, str] = {}
    rest: list[str] = []
    for option in split_options(text):
        key, sep, value = option.partition("=")
        if sep and key in ("lowerdir", "upperdir", "workdir"):
            values[key] = value
        else:
            rest.append(option)
    lower = values.get("lowerdir")
    if not lower:
        return None
    # Top first in the option; "::" separates data-only lower layers (Linux 6.5+), which are still layers.
    stacked = [part for part in lower.replace("::", ":").split(":") if part]
    return OverlayRoot(tuple(reversed(stacked)), values.get("upperdir"), values.get("workdir"), seq, via,
                       tuple(rest))
