"""Spec against reality, shown: the bundle's promises beside what the trace shows, on the console, in the TUI
(viz.tui.screens.spec) and on the walkthrough page (viz.page).

This module is the one place that says how a verdict looks: its word, its symbol and its colours (`VERDICT_LOOKS`),
so that the three views cannot drift apart. A verdict is never told by colour alone: a projector washes colours
out, so each carries a symbol and its word ("✓ kept", "✗ differs", "? not visible").

It is also the views' one door to the rows (`spec_for`): the console, the TUI and the page all show
`tracer.insights.spec.spec_report(events)`; if that module moves, only the import below changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from tracer.events import Event
from tracer.insights.spec import DIFFERS, KEPT, NOT_VISIBLE, VERDICTS, SpecReport, SpecRow, spec_report

__all__ = ["DIFFERS", "KEPT", "LABEL_WIDTH", "NOT_VISIBLE", "VERDICTS", "VERDICT_LOOKS", "SpecReport", "SpecRow",
           "VerdictLook", "bundle_line", "count_parts", "counts_text", "no_rows_sentence", "proving_seq", "render_spec", "spec_for",
           "spec_json", "verdict_label", "verdict_text"]


@dataclass(frozen=True)
class VerdictLook:
    """How one verdict is shown everywhere."""

    #: The word (the verdict itself: "kept", "differs", "not visible").
    word: str
    #: A symbol before the word, so the verdict reads without colour.
    mark: str
    #: The rich style (console and TUI).
    style: str
    #: The page's CSS class (`verdict-<css>`) and its colours: (text, background) per theme.
    css: str
    light: tuple[str, str]
    dark: tuple[str, str]


VERDICT_LOOKS: dict[str, VerdictLook] = {
    KEPT: VerdictLook(KEPT, "✓", "bold green", "kept", ("#1a7f37", "transparent"), ("#6fdd8b", "transparent")),
    # The one a class must not miss: white on red, a badge rather than coloured text.
    DIFFERS: VerdictLook(DIFFERS, "✗", "bold white on red3", "differs", ("#ffffff", "#c0392b"),
                         ("#ffffff", "#b3261e")),
    NOT_VISIBLE: VerdictLook(NOT_VISIBLE, "?", "bold dark_orange", "not-visible", ("#9a5b00", "transparent"),
                             ("#f0b040", "transparent")),
}
#: Columns a verdict label takes ("✗ differs", "? not visible"), for aligned tables.
LABEL_WIDTH = max(len(f"{look.mark} {look.word}") for look in VERDICT_LOOKS.values())


def verdict_label(verdict: str) -> str:
    """The verdict as read without colour: "✓ kept", "✗ differs", "? not visible"."""
    look = VERDICT_LOOKS[verdict]
    return f"{look.mark} {look.word}"


def verdict_text(verdict: str, *, pad: bool = False) -> Text:
    """The verdict label in its style, a space either side (so the differs badge has room), padded to one width
    when `pad` (the label starts a column)."""
    label = f" {verdict_label(verdict)} "
    if pad:
        label = label.ljust(LABEL_WIDTH + 2)
    return Text(label, style=VERDICT_LOOKS[verdict].style)


def spec_for(events: Iterable[Event]) -> SpecReport:
    """The report every view shows (the first bundle of the trace)."""
    return spec_report(events)


def proving_seq(row: SpecRow) -> int | None:
    """The event a row jumps to: the first that proves it (for ambient capabilities, the first failed raise)."""
    return row.seqs[0] if row.seqs else None


def no_rows_sentence(report: SpecReport) -> str:
    """Why there is nothing to lay side by side, as one sentence."""
    reason = report.problem or "this trace holds no OCI bundle"
    reason = reason[0].upper() + reason[1:]
    return reason if reason.endswith(".") else reason + "."


def count_parts(report: SpecReport) -> list[tuple[str, str | None]]:
    """The counts as (text, verdict) pairs: "49 kept", "1 differs", "1 not visible"; the verdict is None for a
    count of zero, which is shown plain (a red "0 differs" would alarm for nothing)."""
    counts = report.counts()
    return [(f"{counts[verdict]} {VERDICT_LOOKS[verdict].word}", verdict if counts[verdict] else None)
            for verdict in VERDICTS]


def counts_text(report: SpecReport) -> Text:
    """The counts, each in its verdict's style (console and TUI)."""
    text = Text()
    for index, (part, verdict) in enumerate(count_parts(report)):
        text.append(", " if index else "")
        text.append(part, style=VERDICT_LOOKS[verdict].style if verdict else "")
    return text


def bundle_line(report: SpecReport) -> str:
    bundle = report.bundle
    if bundle is None:
        return ""
    return f"{bundle.runtime} was given the bundle {bundle.bundle} (config.json kept at event {bundle.seq})"


def render_spec(report: SpecReport, *, only_differences: bool = False) -> RenderableType:
    """A title line, the counts, and one line per promise (verdict, item, requested, applied, events, why)."""
    if report.bundle is None or report.problem:
        return Text(no_rows_sentence(report))
    title = Text.assemble((bundle_line(report), "bold"), ": ", counts_text(report))
    lines = Text()
    section = None
    for row in report.rows:
        if only_differences and row.verdict == KEPT:
            continue
        if row.section != section:
            section = row.section
            lines.append(f"\n{section}\n", style="bold")
        lines.append(" ")
        lines.append_text(verdict_text(row.verdict, pad=True))
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
