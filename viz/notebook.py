"""Helpers the classroom notebooks share (notebooks/*.md): showing tables and events in Jupyter.

They only display things or pick events out of a trace; every lesson's logic stays in the notebook, where a
teacher can read and change it. IPython is imported when a table is shown, so importing this module needs no
Jupyter.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from tracer.events import Event, Syscall
from tracer.processes import ProcessTable
from viz.console import render_event

#: The calls that may carry CLONE_NEW* flags that create namespaces.
NAMESPACE_CREATING_CALLS = ("clone", "clone3", "unshare")


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Rows (sequences of values) as a Markdown table; `|` and newlines in values are escaped."""

    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(headers) + " |", "|" + " --- |" * len(headers)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def show_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Show rows as a Markdown table in the notebook."""
    from IPython.display import Markdown, display

    display(Markdown(markdown_table(headers, rows)))


def line(event: Event, table: ProcessTable) -> str:
    """One event as `boxtrace show` prints it, without the tree indentation."""
    rendered = render_event(event, table)
    return rendered.plain.strip() if rendered is not None else ""


def asks_for_namespaces(event: Event) -> bool:
    """A clone, clone3 or unshare call that carries at least one CLONE_NEW* flag."""
    if not isinstance(event, Syscall) or event.name not in NAMESPACE_CREATING_CALLS:
        return False
    return any(str(flag).startswith("CLONE_NEW") for flag in event.args.get("flags") or [])
