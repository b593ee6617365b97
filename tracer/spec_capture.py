"""Find the OCI bundle a runtime was given and read its config.json while the runtime is stopped.

`runc create`/`runc run` and `crun create`/`crun run` take the bundle directory from `--bundle DIR` (`-b DIR`) or,
without it, use their working directory (runc's `--bundle` default is "", which means the cwd; crun's is "."). The
containerd shim (and so docker) runs `runc --root R --log L --log-format json create --bundle B ... ID` with B under
/run/containerd/io.containerd.runtime.v2.task/. At the runtime's PTRACE_EVENT_EXEC stop the tracee has not run one
instruction of the runtime yet, so the file read here is the one it is about to read. The bundle is removed when
the container is deleted, which is why the recording keeps a copy.

Environment values (`process.env`, and each hook's `env`) are redacted unless the user asked for them.

For an overlay root (docker, containerd), the layers are resolved here too (`overlay_layers`): docker names them by
short links that die with the container, and viz/ may not read host files, so the recording keeps what they were.
"""

from __future__ import annotations

import json
import os
from typing import Any

from tracer.events import REDACTED

#: Runtimes whose create/run take an OCI bundle (the program's base name).
RUNTIMES = frozenset({"runc", "crun"})
BUNDLE_COMMANDS = frozenset({"create", "run"})
#: Global options that take a value as the next argument (runc 1.1 `runc --help`, crun 1.8 `crun --help`).
GLOBAL_OPTIONS_WITH_VALUE = frozenset(
    {"--root", "--log", "--log-format", "--criu", "--rootless", "--log-level", "--cgroup-manager"}
)
#: The largest config.json kept (docker's, with its seccomp profile, is about 20 KB).
MAX_CONFIG_BYTES = 4 * 1024 * 1024


def bundle_argument(argv: list[str]) -> tuple[str, str] | None:
    """(runtime, bundle) for a `runc|crun [global options] create|run [--bundle DIR] ID` command line; the bundle is
    "" when the runtime uses its working directory. None for any other command (runc init, runc start, ...)."""
    if not argv:
        return None
    runtime = os.path.basename(argv[0])
    if runtime not in RUNTIMES:
        return None
    index = 1
    while index < len(argv) and argv[index].startswith("-"):
        option = argv[index]
        index += 2 if option in GLOBAL_OPTIONS_WITH_VALUE else 1
    if index >= len(argv) or argv[index] not in BUNDLE_COMMANDS:
        return None
    rest = argv[index + 1:]
    for position, arg in enumerate(rest):
        if arg == "--":
            break
        for name in ("--bundle", "-b"):
            if arg == name and position + 1 < len(rest):
                return runtime, rest[position + 1]
            if arg.startswith(name + "="):
                return runtime, arg[len(name) + 1:]
    return runtime, ""


def redact_config(config: Any, show_env: bool = False) -> Any:
    """The config with every environment value replaced by <redacted> (process.env, hooks' env)."""
    if show_env or not isinstance(config, dict):
        return config
    out = dict(config)
    process = out.get("process")
    if isinstance(process, dict) and isinstance(process.get("env"), list):
        out["process"] = {**process, "env": _redact_env(process["env"])}
    hooks = out.get("hooks")
    if isinstance(hooks, dict):
        out["hooks"] = {
            stage: [
                {**hook, "env": _redact_env(hook["env"])}
                if isinstance(hook, dict) and isinstance(hook.get("env"), list) else hook
                for hook in entries
            ] if isinstance(entries, list) else entries
            for stage, entries in hooks.items()
        }
    return out


def _redact_env(env: list[Any]) -> list[Any]:
    return [f"{item.partition('=')[0]}={REDACTED}" if isinstance(item, str) else item for item in env]


def read_bundle_config(pid: int, bundle: str, show_env: bool = False) -> tuple[str, str, dict[str, Any] | None,
                                                                                  str | None]:
    """(bundle as given, config.json path, config or None, error or None), the path resolved in the stopped
    process's own view (its cwd and root, through /proc/PID)."""
    directory = bundle or "."
    if directory.startswith("/"):
        shown = os.path.join(directory, "config.json")
        real = f"/proc/{pid}/root{shown}"
    else:
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError as error:
            return bundle, os.path.join(directory, "config.json"), None, f"its working directory: {error.strerror}"
        shown = os.path.normpath(os.path.join(cwd, directory, "config.json"))
        real = f"/proc/{pid}/cwd/{directory}/config.json"
    try:
        with open(real, "rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as error:
        return bundle, shown, None, f"could not read {shown}: {error.strerror}"
    if len(data) > MAX_CONFIG_BYTES:
        return bundle, shown, None, f"{shown} is larger than {MAX_CONFIG_BYTES} bytes; not kept"
    try:
        config = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        return bundle, shown, None, f"{shown} is not JSON ({error})"
    if not isinstance(config, dict):
        return bundle, shown, None, f"{shown} holds no JSON object"
    return bundle, shown, redact_config(config, show_env), None


#: Docker's overlay2 driver keeps each layer in <root>/overlay2/<cache-id>/diff and passes short links
#: <root>/overlay2/l/<ID> (symlinks to ../<cache-id>/diff) to keep mount(2)'s data under a page; its layer store
#: <root>/image/overlay2/layerdb/sha256/<chain-id>/ holds `cache-id` and `diff` (the layer's diff-id) per layer.
#: containerd's overlayfs snapshotter uses .../snapshots/<N>/fs directories, named by number only.
LAYERDB = ("image", "overlay2", "layerdb", "sha256")
#: Where docker's relative lowerdirs (l/ID) live when the mount names no absolute upperdir.
DOCKER_OVERLAY2 = "/var/lib/docker/overlay2"


def prepare_overlay_parsers() -> None:
    """Import what `overlay_layers` parses overlay mounts with, before a trace in which runtimes will be stopped
    at their exec with an overlay root to read (docker mode): not while one of them waits."""
    import tracer.insights.mounts
    import tracer.insights.overlay  # noqa: F401


def _mountinfo_escape(path: str) -> str:
    """A path as /proc/PID/mountinfo writes it (octal escapes for space, tab, newline and backslash)."""
    return path.replace("\\", "\\134").replace(" ", "\\040").replace("\t", "\\011").replace("\n", "\\012")


def overlay_layers(pid: int, config: dict[str, Any] | None, config_path: str) -> list[dict[str, str]] | None:
    """The layers of the overlay mounted at the bundle's root, lowest first, resolved on the host while the runtime
    is stopped (docker removes the container's layers and links when it ends): for each lowerdir as written
    (`path`), the directory it is (`dir`), and for docker its `cache_id`, and from the layer store its `diff_id`
    and `chain_id`, or `init` for docker's per-container init layer. None when the root is no overlay."""
    root = config.get("root") if isinstance(config, dict) else None
    path = root.get("path") if isinstance(root, dict) else None
    if not isinstance(path, str) or not path:
        return None
    rootfs = os.path.normpath(os.path.join(os.path.dirname(config_path), path))
    try:
        with open(f"/proc/{pid}/mountinfo", encoding="utf-8", errors="backslashreplace") as table:
            lines = table.read().splitlines()
    except OSError:
        return None
    # The runtime is stopped while this runs: a root that is no overlay (a plain rootfs directory) is told by a
    # text search, without importing the parsers (tracer.insights, tens of ms; see prepare_overlay_parsers).
    escaped = f" {_mountinfo_escape(rootfs)} "
    lines = [line for line in lines if escaped in line and " - overlay " in line]
    if not lines:
        return None
    from tracer.insights.mounts import parse_mountinfo_line
    from tracer.insights.overlay import overlay_from_options

    overlay = None
    for line in lines:
        mount = parse_mountinfo_line(line)
        if mount is not None and mount.fstype == "overlay" and mount.mount_point == rootfs:
            overlay = overlay_from_options(",".join(mount.super_options), 0, "mountinfo") or overlay
    if overlay is None:
        return None
    # Relative lowerdirs (docker's when the absolute ones would not fit) are relative to the overlay2 directory,
    # which holds the writable layer's directory too.
    base = os.path.dirname(os.path.dirname(overlay.upper)) if overlay.upper else ""
    if not base.startswith("/"):
        base = DOCKER_OVERLAY2
    layers = []
    store: dict[str, tuple[str, str]] | None = None
    for layer in overlay.layers:
        real = os.path.realpath(os.path.join(base, layer))
        entry = {"path": layer, "dir": real}
        parts = real.split("/")
        if len(parts) >= 3 and parts[-1] == "diff" and parts[-3] == "overlay2":
            cache_id = parts[-2]
            entry["cache_id"] = cache_id
            if cache_id.endswith("-init"):
                entry["init"] = "docker"  # what the layer is: tracer.insights.overlay.DOCKER_INIT_LAYER
            else:
                if store is None:
                    store = _layer_store(os.path.join("/".join(parts[:-3]), *LAYERDB))
                chain_diff = store.get(cache_id)
                if chain_diff is not None:
                    entry["chain_id"], entry["diff_id"] = chain_diff
        layers.append(entry)
    return layers


def _layer_store(directory: str) -> dict[str, tuple[str, str]]:
    """cache-id -> (chain-id, diff-id) from docker's layer store."""
    out: dict[str, tuple[str, str]] = {}
    try:
        chains = os.listdir(directory)
    except OSError:
        return out
    for chain in chains:
        try:
            with open(os.path.join(directory, chain, "cache-id")) as handle:
                cache_id = handle.read().strip()
            with open(os.path.join(directory, chain, "diff")) as handle:
                diff_id = handle.read().strip()
        except OSError:
            continue
        out[cache_id] = (f"sha256:{chain}", diff_id)
    return out
