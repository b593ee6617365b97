"""`boxtrace spec`: the bundle's promises beside what the trace shows, as a rich table or JSON.

Pure renderers over tracer.spec.SpecReport (the TUI and the page show the same rows: `tracer.spec.spec_rows`).
"""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from tracer.spec import DIFFERS, KEPT, NOT_VISIBLE, SpecReport

VERDICT_STYLES = {KEPT: "green", DIFFERS: "bold red", NOT_VISIBLE: "yellow"}
VERDICT_MARKS = {KEPT: "=", DIFFERS: "!", NOT_VISIBLE: "?"}


def render_spec(report: SpecReport, *, only_differences: bool = False) -> RenderableType:
    """A title line, the counts, and one table row per promise (section, item, requested, applied, verdict)."""
    if report.bundle is None or report.problem:
        return Text(report.problem or "no bundle in this trace")
    bundle = report.bundle
    counts = report.counts()
    title = Text.assemble(
        (f"{bundle.runtime} was given the bundle {bundle.bundle}", "bold"),
        f" (config.json kept at event {bundle.seq}): ",
        (f"{counts[KEPT]} kept", VERDICT_STYLES[KEPT]), ", ",
        (f"{counts[DIFFERS]} differ", VERDICT_STYLES[DIFFERS]), ", ",
        (f"{counts[NOT_VISIBLE]} not visible in this trace", VERDICT_STYLES[NOT_VISIBLE]),
    )
    lines = Text()
    section = None
    for row in report.rows:
        if only_differences and row.verdict == KEPT:
            continue
        if row.section != section:
            section = row.section
            lines.append(f"\n{section}\n", style="bold")
        lines.append(f"  {VERDICT_MARKS[row.verdict]} {row.verdict:<11}", style=VERDICT_STYLES[row.verdict])
        lines.append(f" {row.item}: asks {row.requested}; trace shows {row.applied}")
        if row.seqs:
            seqs = ", ".join(str(s) for s in row.seqs[:4]) + (" ..." if len(row.seqs) > 4 else "")
            lines.append(f" [events {seqs}]", style="dim")
        lines.append("\n")
        if row.why:
            lines.append(f"      {row.why}\n", style="italic")
    parts: list[RenderableType] = [title, lines]
    if report.overlay is not None:
        parts.append(Text("\n".join(report.overlay.facts())))
    return Group(*parts)


def spec_json(report: SpecReport) -> dict[str, Any]:
    bundle = report.bundle
    return {
        "bundle": None if bundle is None else {"seq": bundle.seq, "pid": bundle.pid, "runtime": bundle.runtime,
                                               "bundle": bundle.bundle, "path": bundle.path},
        "problem": report.problem,
        "counts": report.counts(),
        "rows": [row.to_json() for row in report.rows],
        "overlay": None if report.overlay is None else {
            "layers": list(report.overlay.layers), "upper": report.overlay.upper, "work": report.overlay.work,
            "seq": report.overlay.seq},
    }
