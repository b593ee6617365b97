"""The process tree (left pane): one node per process, threads folded, coloured by namespace set."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from tracer.processes import Process
from viz.tui.model import TuiModel

ROOT_LABEL = "all processes"


class ProcessTree(Tree[Process | None]):
    """Processes under their parents; the root node stands for every process at once.

    Nodes are added as ProcessStarted events arrive (`add_processes`) and relabelled when a process execs, enters
    namespaces, gains threads or exits (`refresh_processes`), so a live trace grows it in place.
    """

    DEFAULT_CSS = """
    ProcessTree {
        & > .tree--guides { color: $foreground 30%; }
    }
    """

    def __init__(self, model: TuiModel, *, id: str | None = None) -> None:
        super().__init__(ROOT_LABEL, data=None, id=id)
        self.model = model
        self.auto_expand = False
        self.guide_depth = 2
        self._proc_nodes: dict[int, TreeNode[Process | None]] = {}
        self._latest_by_pid: dict[int, TreeNode[Process | None]] = {}
        self._marked: set[int] = set()
        self.root.expand()

    # Building ----------------------------------------------------------------------------------------------

    def add_processes(self, processes: Iterable[Process]) -> None:
        for proc in processes:
            parent = self._latest_by_pid.get(proc.ppid)
            if parent is None or parent.data is proc:
                parent = self.root
            node = parent.add(self.label_for(proc), data=proc, expand=True)
            self._proc_nodes[id(proc)] = node
            self._latest_by_pid[proc.pid] = node
        self._update_root_label()

    def refresh_processes(self, processes: Iterable[Process]) -> None:
        for proc in processes:
            node = self._proc_nodes.get(id(proc))
            if node is not None:
                node.set_label(self.label_for(proc))
        self._update_root_label()

    def _update_root_label(self) -> None:
        self.root.set_label(Text.assemble((ROOT_LABEL, "bold"), (f"  {len(self._proc_nodes)}", "dim")))

    def label_for(self, proc: Process) -> Text:
        model = self.model
        marked = id(proc) in self._marked
        colour = model.namespace_colour(proc)
        label = Text()
        if marked:
            label.append("▶", style="bold reverse")
            label.append(" ")
        label.append(model.lineage(proc), style=f"bold {colour}" if colour else "bold")
        label.append(f" {proc.pid}", style="dim")
        inner = proc.pid_in_namespace
        if inner != proc.pid:
            label.append(f"·{inner}", style=colour or "")
        badge = model.namespace_badge(proc)
        if badge:
            label.append(" ")
            label.append_text(badge)
        if proc.threads:
            label.append(f" +{len(proc.threads)}t", style="dim")
        if proc.exit is not None:
            if proc.exit.detached:
                label.append(" ⇥", style="dim")
            elif proc.exit.signal:
                label.append(f" ✗{proc.exit.signal}", style="red")
            elif proc.exit.code:
                label.append(f" ✗{proc.exit.code}", style="red")
        return label

    def content_width(self) -> int:
        """Cells the widest line needs: indentation plus label, over the expanded nodes."""
        widest = 0
        stack = [(self.root, 0)]
        while stack:
            node, depth = stack.pop()
            widest = max(widest, depth * self.guide_depth + self.get_label_width(node))
            if node.is_expanded:
                stack.extend((child, depth + 1) for child in node.children)
        return widest

    # Questions and moves -----------------------------------------------------------------------------------

    def node_for(self, proc: Process | None) -> TreeNode[Process | None] | None:
        if proc is None:
            return self.root
        return self._proc_nodes.get(id(proc))

    @property
    def selected_process(self) -> Process | None:
        node = self.cursor_node
        return node.data if node is not None else None

    def show(self, proc: Process | None) -> None:
        """Move the cursor to a process (None: the all-processes root), expanding its ancestors."""
        node = self.node_for(proc)
        if node is None:
            return
        parent = node.parent
        while parent is not None:
            parent.expand()
            parent = parent.parent
        if self.cursor_node is not node:
            self.move_cursor(node, animate=False)

    def mark(self, processes: Iterable[Process]) -> None:
        """Highlight the processes of the current walkthrough chapter (replacing the previous ones)."""
        new = {id(p): p for p in processes}
        old = [n.data for key, n in self._proc_nodes.items() if key in self._marked and key not in new]
        self._marked = set(new)
        self.refresh_processes([p for p in old if p is not None])
        self.refresh_processes(new.values())

    @property
    def marked(self) -> list[Process]:
        return [n.data for key, n in self._proc_nodes.items() if key in self._marked and n.data is not None]
