"""The walkthrough page: one self-contained HTML file a student opens from disk, offline, with no boxtrace.

`boxtrace export TRACE --view page -o docker.html` writes it. Everything is inside the file: the styles, a small
script, the architecture picture as inline SVG (drawn by viz.slides, once per chapter with that chapter's
components highlighted, so the picture needs no script and prints). A Content-Security-Policy forbids the page
any request at all.

Each walkthrough chapter is a section: its title, the narration, the popular claim against what this trace shows,
the trace lines that prove it (the chapter's events, as `boxtrace show` prints them) and the picture. The
keyboard (→ ← j k PageDown PageUp Home End) and the chapter list move between chapters; `/` jumps to the search
box over every process's full event list; a click on the picture widens it. Printed, each chapter takes its own
page.

The chapters come from the caller (the CLI builds the walkthrough); viz never imports scenarios.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from typing import Any

from tracer.events import Event
from tracer.recording import Recording
from viz.console import render_event
from viz.model import TraceModel
from viz.slides import chapter_components, node_id, slide_dot, slide_title
from viz.spec_view import (
    KEPT,
    VERDICT_LOOKS,
    SpecReport,
    bundle_line,
    count_parts,
    no_rows_sentence,
    spec_for,
    verdict_label,
)
from viz.themes import Theme

#: Trace lines listed under a chapter before "+N more" (the full list is in the process panel).
MAX_PROOF_LINES = 14

_STYLE = """
:root { --bg: %(background)s; --text: %(text)s; --muted: %(muted)s; --accent: %(accent)s; --panel: %(panel)s;
        --border: %(border)s; --claim: %(claim)s; --reality: %(reality)s; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text);
       font: 17px/1.5 "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; }
header { padding: 14px 24px 8px; border-bottom: 1px solid var(--border); }
header h1 { margin: 0; font-size: 26px; }
header .command { font: 13px/1.4 "DejaVu Sans Mono", Menlo, Consolas, monospace; color: var(--muted);
                  word-break: break-all; margin: 4px 0; }
header .meta { color: var(--muted); font-size: 13px; }
.layout { display: grid; grid-template-columns: 270px 1fr; min-height: calc(100vh - 110px); }
nav { border-right: 1px solid var(--border); padding: 10px 8px; background: var(--panel); }
nav ol { margin: 0; padding-left: 26px; }
nav li { margin: 2px 0; }
nav button { all: unset; cursor: pointer; display: block; padding: 3px 6px; border-radius: 4px; }
nav button:hover, nav button:focus-visible { background: var(--border); }
nav li.current button { background: var(--accent); color: var(--bg); font-weight: bold; }
nav .keys { color: var(--muted); font-size: 12px; margin-top: 12px; padding: 0 6px; }
nav .spec-link { margin: 12px 0 0; padding: 0 6px; font-size: 14px; }
nav .spec-link a { color: var(--text); font-weight: bold; }
main { padding: 12px 28px 40px; min-width: 0; }
.controls { display: flex; gap: 10px; align-items: center; margin-bottom: 6px; }
.controls button { font: inherit; padding: 4px 14px; border-radius: 6px; border: 1px solid var(--border);
                   background: var(--panel); color: var(--text); cursor: pointer; }
.controls .counter { color: var(--muted); }
section.chapter { display: none; }
section.chapter.current { display: block; }
@media (min-width: 1300px) {
  section.chapter.current { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1.15fr); gap: 24px;
                            align-items: start; }
  section.chapter figure { margin-top: 6px; position: sticky; top: 8px; }
  section.chapter.current.wide { display: block; }
}
figure { cursor: zoom-in; }
section.wide figure { cursor: zoom-out; }
section.chapter h2 { margin: 6px 0 8px; font-size: 28px; }
.narration { font-size: 19px; max-width: 70em; }
.claims { display: grid; grid-template-columns: repeat(auto-fit, minmax(16em, 1fr)); gap: 14px; margin: 12px 0; max-width: 90em; }
.claims div { padding: 10px 14px; border-radius: 8px; border: 1px solid var(--border); }
.claims .claim { background: var(--claim); }
.claims .reality { background: var(--reality); }
.claims h3 { margin: 0 0 4px; font-size: 15px; text-transform: uppercase; letter-spacing: .04em; }
h3.proof-title { font-size: 16px; margin: 14px 0 4px; }
ol.proof { font: 14px/1.45 "DejaVu Sans Mono", Menlo, Consolas, monospace; background: var(--panel);
           border: 1px solid var(--border); border-radius: 8px; padding: 8px 8px 8px 64px; margin: 0;
           overflow-x: auto; max-width: 100%%; }
ol.proof li { white-space: pre-wrap; word-break: break-all; }
ol.proof li::marker { color: var(--muted); }
.more { color: var(--muted); font-size: 14px; }
figure { margin: 14px 0 0; }
figure svg { width: 100%%; height: auto; max-height: 72vh; }
figcaption { color: var(--muted); font-size: 14px; }
g.node.dim, g.edge.dim { opacity: .28; }
g.node.hl path, g.node.hl polygon { stroke: var(--accent); stroke-width: 6px; }
#spec { border-top: 1px solid var(--border); margin-top: 28px; padding-top: 8px; }
#spec h2 { font-size: 22px; margin: 4px 0; }
#spec .spec-summary { margin: 4px 0 8px; overflow-wrap: anywhere; }
#spec .spec-overlay { margin: 4px 0; font-size: 15px; }
#spec .spec-overlay li { overflow-wrap: anywhere; }
#spec label { color: var(--muted); font-size: 14px; }
table.spec { width: 100%%; border-collapse: collapse; table-layout: fixed; font-size: 15px; margin-top: 6px; }
table.spec th, table.spec td { text-align: left; vertical-align: top; padding: 3px 8px;
                               overflow-wrap: anywhere; border-bottom: 1px solid var(--border); }
table.spec col.verdict { width: 9.5em; } table.spec col.item { width: 17%%; } table.spec col.seq { width: 5em; }
table.spec thead th { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
table.spec tr.spec-section th { padding-top: 12px; font-size: 16px; border-bottom: 2px solid var(--border); }
table.spec td.item { font-weight: bold; }
table.spec td.seq { font: 14px/1.5 "DejaVu Sans Mono", Menlo, Consolas, monospace; text-align: right; }
table.spec tr.why td { border-bottom-style: dotted; color: var(--muted); font-style: italic; padding-top: 0; }
table.spec tr.why td.why-text { color: var(--text); }
table.spec ol.spec-proof { font: 13px/1.4 "DejaVu Sans Mono", Menlo, Consolas, monospace; font-style: normal;
                           margin: 4px 0 2px; padding-left: 56px; color: var(--text); }
table.spec ol.spec-proof li { white-space: pre-wrap; overflow-wrap: anywhere; }
table.spec.only-not-kept tr[data-verdict="kept"] { display: none; }
.verdict { font-weight: bold; white-space: nowrap; border-radius: 4px; }
%(verdict_css)s
details.process li.target { outline: 3px solid var(--accent); }
@media (max-width: 1000px) {
  /* A narrow window: each promise as a block, the request and the result under it, labelled. */
  table.spec colgroup, table.spec thead { display: none; }
  table.spec, table.spec tbody, table.spec tr.spec-section, table.spec tr.spec-section th { display: block; }
  table.spec tr.spec-row { display: grid; grid-template-columns: auto minmax(0, 1fr) auto; column-gap: 8px;
                           border-bottom: 1px solid var(--border); }
  table.spec tr.spec-row td { border: 0; }
  table.spec tr.spec-row td.seq { grid-row: 1; grid-column: 3; }
  table.spec tr.spec-row td.asks { grid-row: 2; grid-column: 1 / -1; padding-left: 2em; }
  table.spec tr.spec-row td.shows { grid-row: 3; grid-column: 1 / -1; padding-left: 2em; }
  table.spec td.asks::before { content: "asks: "; color: var(--muted); }
  table.spec td.shows::before { content: "shows: "; color: var(--muted); }
  table.spec tr.why { display: block; }
  table.spec tr.why td { display: block; padding-left: 2em; }
  table.spec tr.why td:first-child { display: none; }
  table.spec td { overflow-wrap: break-word; }
}
#processes { border-top: 1px solid var(--border); margin-top: 28px; padding-top: 8px; }
#processes h2 { font-size: 22px; margin: 4px 0; }
#search { font: inherit; width: min(40em, 100%%); padding: 6px 10px; border-radius: 6px;
          border: 1px solid var(--border); background: var(--panel); color: var(--text); }
#matches { color: var(--muted); margin-left: 10px; }
details.process { margin: 4px 0; border: 1px solid var(--border); border-radius: 6px; background: var(--panel); }
details.process summary { cursor: pointer; padding: 4px 10px; }
details.process ol { font: 13px/1.4 "DejaVu Sans Mono", Menlo, Consolas, monospace; margin: 0;
                     padding: 4px 10px 8px 70px; max-height: 28em; overflow: auto; }
details.process li { white-space: pre-wrap; word-break: break-all; }
details.process li.hit { background: var(--claim); }
.hidden { display: none !important; }
@media print {
  body { font-size: 12pt; background: #fff; color: #000; }
  nav, .controls, #processes, header .meta { display: none !important; }
  .layout { display: block; }
  main { padding: 0; }
  section.chapter { display: block !important; break-after: page; page-break-after: always; }
  section.chapter:last-of-type { break-after: auto; page-break-after: auto; }
  figure svg { max-height: 55vh; }
  ol.proof { font-size: 9pt; }
  #spec { break-before: page; page-break-before: always; }
  #spec label { display: none; }
}
"""

_SCRIPT = """
(function () {
  const chapters = Array.from(document.querySelectorAll('section.chapter'));
  const items = Array.from(document.querySelectorAll('nav li'));
  const counter = document.getElementById('counter');
  let current = 0;
  function show(index, focusNav) {
    if (!chapters.length) return;
    current = Math.max(0, Math.min(chapters.length - 1, index));
    chapters.forEach((c, i) => c.classList.toggle('current', i === current));
    items.forEach((li, i) => li.classList.toggle('current', i === current));
    counter.textContent = 'chapter ' + (current + 1) + ' of ' + chapters.length;
    document.body.dataset.chapter = String(current);
    if (history.replaceState) history.replaceState(null, '', '#' + chapters[current].id);
    if (focusNav) items[current].querySelector('button').focus();
    window.scrollTo(0, 0);
  }
  items.forEach((li, i) => li.querySelector('button').addEventListener('click', () => show(i)));
  document.getElementById('prev').addEventListener('click', () => show(current - 1));
  document.getElementById('next').addEventListener('click', () => show(current + 1));
  document.addEventListener('keydown', (e) => {
    if (e.target && e.target.id === 'search') {
      if (e.key === 'Escape') e.target.blur();
      return;
    }
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const key = e.key;
    if (key === 'ArrowRight' || key === 'j' || key === 'PageDown' || key === 'n') show(current + 1);
    else if (key === 'ArrowLeft' || key === 'k' || key === 'PageUp' || key === 'p') show(current - 1);
    else if (key === 'Home') show(0);
    else if (key === 'End') show(chapters.length - 1);
    else if (key === '/') { document.getElementById('search').focus(); }
    else return;
    e.preventDefault();
  });
  // A click on the picture gives it the whole width (and back).
  chapters.forEach((c) => c.querySelector('figure').addEventListener('click', () => c.classList.toggle('wide')));
  const search = document.getElementById('search');
  const matches = document.getElementById('matches');
  const processes = Array.from(document.querySelectorAll('details.process'));
  search.addEventListener('input', () => {
    const query = search.value.trim().toLowerCase();
    let total = 0;
    processes.forEach((d) => {
      let hits = 0;
      d.querySelectorAll('li').forEach((li) => {
        const hit = query !== '' && li.textContent.toLowerCase().includes(query);
        li.classList.toggle('hit', hit);
        li.classList.toggle('hidden', query !== '' && !hit);
        if (hit) hits += 1;
      });
      d.classList.toggle('hidden', query !== '' && hits === 0);
      d.open = query !== '' && hits > 0;
      total += hits;
    });
    matches.textContent = query === '' ? '' : total + ' matching lines';
  });
  // The spec table: an event number opens its process below and shows the event; the box hides kept rows.
  document.querySelectorAll('#spec a.seq').forEach((a) => a.addEventListener('click', (e) => {
    const li = document.getElementById('event-' + a.dataset.seq);
    if (!li) return;
    e.preventDefault();
    const box = li.closest('details');
    box.classList.remove('hidden');
    li.classList.remove('hidden');
    box.open = true;
    document.querySelectorAll('details.process li.target').forEach((t) => t.classList.remove('target'));
    li.classList.add('target');
    li.scrollIntoView({block: 'center'});
  }));
  const onlyNotKept = document.getElementById('spec-only-not-kept');
  if (onlyNotKept) onlyNotKept.addEventListener('change', () => {
    document.querySelector('table.spec').classList.toggle('only-not-kept', onlyNotKept.checked);
  });
  const start = chapters.findIndex((c) => '#' + c.id === location.hash);
  show(start >= 0 ? start : 0);
})();
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def event_line(event: Event, model: TraceModel) -> str:
    """One event as `boxtrace show` prints it (pid, then the call), without the tree indentation."""
    text = render_event(event, model.table)
    return text.plain.strip() if text is not None else ""


def _svg(model: TraceModel, theme: Theme) -> str:
    graph = slide_dot(model, theme, title="", show_pids=True, fit=True)
    svg = graph.pipe(format="svg", quiet=True).decode()
    svg = svg[svg.index("<svg"):]
    # Scales with the page: the viewBox stays, the fixed size goes.
    return re.sub(r'<svg width="[\d.]+pt" height="[\d.]+pt"', '<svg role="img" width="100%"', svg, count=1)


def _highlighted(svg: str, nodes: set[str]) -> str:
    """The picture with `nodes` (Graphviz node names) marked `hl` and every other box and arrow dimmed."""

    def node(match: re.Match[str]) -> str:
        name = html.unescape(match.group(2))
        cls = "node hl" if name in nodes else ("node" if name == "legend" else "node dim")
        return f'{match.group(1)}class="{cls}">\n<title>{match.group(2)}</title>'

    svg = re.sub(r'(<g id="node\d+" )class="node">\n<title>([^<]*)</title>', node, svg)

    def edge(match: re.Match[str]) -> str:
        ends = html.unescape(match.group(2)).split("->")
        on = len(ends) == 2 and ends[0] in nodes and ends[1] in nodes
        return f'{match.group(1)}class="{"edge" if on else "edge dim"}">\n<title>{match.group(2)}</title>'

    return re.sub(r'(<g id="edge\d+" )class="edge">\n<title>([^<]*)</title>', edge, svg)


def _verdict_css(dark: bool) -> str:
    """The verdict colours of viz.spec_view, as CSS classes (`verdict-kept`, ...)."""
    rules = []
    for look in VERDICT_LOOKS.values():
        colour, background = look.dark if dark else look.light
        padding = "padding: 0 4px;" if background != "transparent" else "padding: 0;"
        rules.append(f".verdict-{look.css} {{ color: {colour}; background: {background}; {padding} }}")
    return "\n".join(rules)


#: Proving events printed under a row that is not kept.
MAX_SPEC_PROOF_LINES = 4


def _verdict(verdict: str, text: str | None = None) -> str:
    look = VERDICT_LOOKS[verdict]
    return f'<span class="verdict verdict-{look.css}">{_e(text or verdict_label(verdict))}</span>'


def _counts(report: SpecReport) -> str:
    """"49 kept, 1 differs, 1 not visible", each styled as its verdict; a count of zero plain."""
    return ", ".join(_verdict(verdict, text) if verdict else _e(text) for text, verdict in count_parts(report))


def spec_section(events: Sequence[Event], model: TraceModel, report: SpecReport | None = None) -> str:
    """The bundle's promises beside what the trace shows (the rows of `boxtrace spec`), one table row each, with
    the proving event's number (a link to it among the processes below); or one sentence saying why there are
    no rows."""
    if report is None:
        report = spec_for(events)
    out = ['<section id="spec" aria-label="the bundle\'s promises against this trace">',
           "<h2>The bundle's promises against this trace</h2>"]
    if report.bundle is None or report.problem:
        out.append(f'<p class="spec-none">{_e(no_rows_sentence(report))}</p></section>')
        return "\n".join(out)
    counts = _counts(report)
    out.append(f'<p class="spec-summary">{_e(bundle_line(report))}: {counts}. Each row is one promise of its '
               "config.json; the event number is the trace line that proves it.</p>")
    if report.overlay is not None:
        out.append('<ul class="spec-overlay">' + "".join(f"<li>{_e(fact.strip())}</li>"
                                                         for fact in report.overlay.facts()) + "</ul>")
    out.append('<p><label><input type="checkbox" id="spec-only-not-kept"> only the promises not kept</label></p>')
    out.append('<table class="spec"><colgroup><col class="verdict"><col class="item"><col class="asks">'
               '<col class="shows"><col class="seq"></colgroup>')
    out.append("<thead><tr><th>verdict</th><th>promise</th><th>the bundle asks</th><th>the trace shows</th>"
               "<th>event</th></tr></thead><tbody>")
    events_by_seq = model.table.events_by_seq
    section = None
    for row in report.rows:
        verdict = VERDICT_LOOKS[row.verdict].css
        if row.section != section:
            section = row.section
            # A section whose promises are all kept hides with them ("only the promises not kept").
            kept = all(r.verdict == KEPT for r in report.rows if r.section == section)
            hides = ' data-verdict="kept"' if kept else ""
            out.append(f'<tr class="spec-section"{hides}><th colspan="5">{_e(section)}</th></tr>')
        seq = ""
        if row.seqs:
            first = row.seqs[0]
            line = event_line(events_by_seq[first], model) if first in events_by_seq else ""
            seq = f'<a class="seq" href="#event-{first}" data-seq="{first}" title="{_e(line)}">{first}</a>'
        out.append(f'<tr class="spec-row" data-verdict="{verdict}" data-item="{_e(row.item)}">'
                   f"<td>{_verdict(row.verdict)}</td><td class=\"item\">{_e(row.item)}</td>"
                   f'<td class="asks">{_e(row.requested)}</td><td class="shows">{_e(row.applied)}</td>'
                   f'<td class="seq">{seq}</td></tr>')
        proof = ""
        if row.verdict != KEPT:
            lines = [(s, event_line(events_by_seq[s], model)) for s in row.seqs[:MAX_SPEC_PROOF_LINES]
                     if s in events_by_seq]
            proof = "".join(f'<li value="{s}">{_e(text)}</li>' for s, text in lines if text)
            proof = f'<ol class="spec-proof">{proof}</ol>' if proof else ""
        if row.why or proof:
            out.append(f'<tr class="why" data-verdict="{verdict}"><td></td><td colspan="4" class="why-text">'
                       f"{_e(row.why)}{proof}</td></tr>")
    out.append("</tbody></table></section>")
    return "\n".join(out)


def page_html(recording: Recording, model: TraceModel, theme: Theme, chapters: Sequence[Any]) -> str:
    """The whole page as one string."""
    header = recording.header
    title, caption = slide_title(recording, model)
    events = model.table.events_by_seq
    picture = _svg(model, theme)
    dark = theme.name == "dark"
    style = _STYLE % {
        "background": theme.background, "text": theme.text, "muted": theme.muted,
        "accent": "#f0a030" if dark else "#c0392b", "panel": theme.legend_fill, "border": theme.host_border,
        "claim": "#3a2a12" if dark else "#fff4e0", "reality": "#15301f" if dark else "#e6f4ea",
        "verdict_css": _verdict_css(dark),
    }
    out: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # No request of any kind: the page is whole in this file.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "script-src 'unsafe-inline'; img-src data:\">",
        f"<title>{_e(title)} — boxtrace walkthrough</title>",
        f"<style>{style}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{_e(title)}</h1>",
        f'<div class="command">{_e(caption)}</div>',
        f'<div class="meta">recorded {_e(header.started)} by boxtrace {_e(header.boxtrace)} on Linux '
        f"{_e(header.kernel)} ({_e(header.arch)}) · {len(recording.events)} events · "
        f"{len(model.table.history)} processes</div>",
        "</header>",
        '<div class="layout">',
        '<nav aria-label="chapters"><ol>',
    ]
    for index, chapter in enumerate(chapters):
        out.append(f'<li><button type="button" data-index="{index}">{_e(chapter.title)}</button></li>')
    out.append("</ol>")
    spec = spec_for([header, *recording.events])
    if spec.bundle is not None and not spec.problem:
        # The section after the chapters, reachable from the chapter list.
        counts = _counts(spec)
        out.append(f'<p class="spec-link"><a href="#spec">The bundle\'s promises</a>: {counts}</p>')
    out.append('<p class="keys">→ / j: next · ← / k: previous · Home / End · / : search the trace</p></nav>')
    out.append("<main>")
    out.append('<div class="controls"><button type="button" id="prev">← previous</button>'
               '<button type="button" id="next">next →</button><span class="counter" id="counter"></span></div>')
    if not chapters:
        out.append("<p>This trace has no walkthrough chapters.</p>")
    for index, chapter in enumerate(chapters):
        nodes = {node_id(n) for n in chapter_components(model, [chapter])}
        out.append(f'<section class="chapter" id="chapter-{index + 1}" data-chapter="{_e(chapter.id)}" '
                   f'data-nodes="{_e(json.dumps(sorted(nodes)))}">')
        out.append('<div class="text">')
        out.append(f"<h2>{index + 1}. {_e(chapter.title)}</h2>")
        out.append(f'<p class="narration">{_e(chapter.narration)}</p>')
        if chapter.claim or chapter.reality:
            out.append('<div class="claims">')
            if chapter.claim:
                out.append(f'<div class="claim"><h3>Often said</h3>{_e(chapter.claim)}</div>')
            if chapter.reality:
                out.append(f'<div class="reality"><h3>What this trace shows</h3>{_e(chapter.reality)}</div>')
            out.append("</div>")
        lines = [(seq, event_line(events[seq], model)) for seq in chapter.seqs if seq in events]
        lines = [(seq, text) for seq, text in lines if text]
        out.append('<h3 class="proof-title">The trace lines that show it</h3>')
        out.append('<ol class="proof">')
        for seq, text in lines[:MAX_PROOF_LINES]:
            out.append(f'<li value="{seq}" data-seq="{seq}">{_e(text)}</li>')
        out.append("</ol>")
        if len(lines) > MAX_PROOF_LINES:
            out.append(f'<p class="more">+{len(lines) - MAX_PROOF_LINES} more lines: search the processes below '
                       "for the rest</p>")
        out.append("</div>")
        out.append(f"<figure>{_highlighted(picture, nodes)}<figcaption>The components this chapter involves are "
                   "outlined; the others are dimmed (click the picture to widen it). Numbers before each trace line "
                   "are event numbers of the recording.</figcaption></figure>")
        out.append("</section>")
    from viz.network import network_section

    network = network_section([header, *recording.events], theme)
    if network is not None:  # a trace that built interfaces, addresses and routes (teach-net, runc's lo)
        out.append(network)
    out.append(spec_section([header, *recording.events], model, spec))
    out.append('<section id="processes" aria-label="processes"><h2>Every process, every event</h2>')
    out.append('<p><input id="search" type="search" placeholder="search the trace (e.g. pivot_root, CLONE_NEWPID)"'
               ' aria-label="search the trace"><span id="matches"></span></p>')
    for proc in model.table.history:
        role = model.book.role(proc)
        lines = [(seq, event_line(events[seq], model)) for seq in proc.event_seqs if seq in events]
        lines = [(seq, text) for seq, text in lines if text]
        out.append(f'<details class="process" data-pid="{proc.pid}"><summary><b>{_e(role.name)}</b> · pid '
                   f"{proc.pid} · {_e(proc.executable)} · {len(lines)} events</summary><ol>")
        # Each line can be reached from the spec table (`#event-SEQ`).
        out.extend(f'<li value="{seq}" id="event-{seq}">{_e(text)}</li>' for seq, text in lines)
        out.append("</ol></details>")
    out.append("</section></main></div>")
    out.append(f"<script>{_SCRIPT}</script>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
