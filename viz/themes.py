"""Colours and type sizes of the exported diagrams, one Theme per look (light for paper, dark for a dark room).

Sizes are in points at Graphviz's 72 dpi; they are large on purpose so a diagram projected on a slide can be read
from the back of the room. Node fills are picked per role kind (viz.roles.ROLE_KINDS), syscall text per category
(tracer.events.CATEGORIES), edge colours per edge kind (spawn, exec, ipc, before-tracing).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Theme:
    name: str
    background: str
    text: str
    muted: str
    node_border: str
    host_fill: str
    host_border: str
    container_fill: str
    container_border: str
    nested_fill: str
    legend_fill: str
    #: Fill per role kind.
    kinds: dict[str, str] = field(default_factory=dict)
    #: Colour per edge kind: spawn, exec, ipc, preexisting.
    edges: dict[str, str] = field(default_factory=dict)
    #: Text colour per syscall category.
    categories: dict[str, str] = field(default_factory=dict)
    #: Mermaid box colours (host, container).
    mermaid_boxes: tuple[str, str] = ("rgb(238,242,247)", "rgb(255,243,224)")
    fontname: str = "DejaVu Sans"
    monospace: str = "DejaVu Sans Mono"
    title_size: int = 32
    node_size: int = 22
    detail_size: int = 16
    edge_size: int = 17
    cluster_size: int = 19
    tree_size: int = 13

    def kind_fill(self, kind: str) -> str:
        return self.kinds.get(kind, self.kinds.get("program", self.background))

    def edge_color(self, kind: str) -> str:
        return self.edges.get(kind, self.text)

    def category_color(self, category: str) -> str:
        return self.categories.get(category, self.text)


LIGHT = Theme(
    name="light",
    background="#ffffff",
    text="#1b1f24",
    muted="#57606a",
    node_border="#424a53",
    host_fill="#f3f5f8",
    host_border="#8c959f",
    container_fill="#fff4e0",
    container_border="#d4820a",
    nested_fill="#ffe7bf",
    legend_fill="#fafbfc",
    kinds={
        "client": "#cfe3ff",
        "daemon": "#b9d7f7",
        "shim": "#c9ecd6",
        "runtime": "#ffe3a8",
        "init": "#ffd08a",
        "entrypoint": "#ffb3a7",
        "hook": "#e6dcf5",
        "tool": "#f6e6a8",
        "shell": "#e2e8ee",
        "program": "#eef1f4",
        "external": "#ffffff",
    },
    edges={"spawn": "#2f6f3e", "exec": "#8a3ffc", "ipc": "#0b63c7", "preexisting": "#6e7781"},
    categories={
        "namespaces": "#a3148f",
        "filesystem-view": "#0a6e8a",
        "process": "#2f6f3e",
        "privileges": "#8a5a00",
        "cgroups": "#1f4fbf",
        "ipc": "#0b63c7",
        "other": "#57606a",
    },
    mermaid_boxes=("rgb(238,242,247)", "rgb(255,243,224)"),
)

DARK = Theme(
    name="dark",
    background="#0f1419",
    text="#e6edf3",
    muted="#9aa7b4",
    node_border="#c9d1d9",
    host_fill="#161d26",
    host_border="#6e7c8a",
    container_fill="#2a1f0f",
    container_border="#f0a030",
    nested_fill="#3a2a12",
    legend_fill="#161b22",
    kinds={
        "client": "#1f4e8c",
        "daemon": "#1d3f6e",
        "shim": "#1c5a3a",
        "runtime": "#6b4e12",
        "init": "#7a4a0c",
        "entrypoint": "#8c2f24",
        "hook": "#4b3a6e",
        "tool": "#5c5416",
        "shell": "#2d3640",
        "program": "#262d36",
        "external": "#0f1419",
    },
    edges={"spawn": "#7ee2a8", "exec": "#c9a4ff", "ipc": "#79c0ff", "preexisting": "#8b949e"},
    categories={
        "namespaces": "#ff9bf0",
        "filesystem-view": "#7ddcf5",
        "process": "#7ee2a8",
        "privileges": "#f5c96b",
        "cgroups": "#9db8ff",
        "ipc": "#79c0ff",
        "other": "#9aa7b4",
    },
    mermaid_boxes=("rgb(22,29,38)", "rgb(42,31,15)"),
)

THEMES: dict[str, Theme] = {theme.name: theme for theme in (LIGHT, DARK)}

#: What each role kind means, for legends.
KIND_DESCRIPTIONS: dict[str, str] = {
    "client": "client (CLI)",
    "daemon": "daemon",
    "shim": "shim / container monitor",
    "runtime": "container runtime",
    "init": "runtime init",
    "entrypoint": "container process",
    "hook": "hook / helper",
    "tool": "namespace tool",
    "shell": "shell",
    "program": "other program",
    "external": "not traced",
}

#: What each edge kind means, for legends.
EDGE_DESCRIPTIONS: dict[str, str] = {
    "spawn": "creates a process (clone, fork)",
    "exec": "runs a new program (execve)",
    "ipc": "connects to a Unix socket",
    "preexisting": "connected before tracing",
}


#: What each syscall category's colour means, for legends (tracer.events.CATEGORIES).
CATEGORY_DESCRIPTIONS: dict[str, str] = {
    "namespaces": "namespaces and hostname (clone/unshare/setns, sethostname)",
    "filesystem-view": "mounts and the root (mount, umount2, pivot_root, chroot, mkdir...)",
    "process": "processes and programs (execve, clone, exit, wait4)",
    "privileges": "identity and privileges (setuid, capset, prctl, seccomp)",
    "cgroups": "cgroups (writes to cgroup files)",
    "ipc": "sockets (connect, bind)",
    "other": "other calls",
}


def get_theme(name: str) -> Theme | None:
    return THEMES.get(name)
