"""The tree view teaches: on the shipped docker and runc recordings every box keeps the calls that build the
container (pivot_root, sethostname, the entrypoint's execve), children stand in the order they were created, and
the legend names every colour the boxes use. No root needed: these read scenarios/recordings/."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.prereqs import require
from tracer.processes import ProcessTable
from tracer.recording import load_recording
from viz.export import export, tree_dot
from viz.model import build_model
from viz.slides_text import lesson_kind, process_lesson
from viz.themes import CATEGORY_DESCRIPTIONS, LIGHT

RECORDINGS = Path(__file__).resolve().parent.parent / "scenarios" / "recordings"


def _model(name: str):  # noqa: ANN202 - a TraceModel
    recording = load_recording(RECORDINGS / f"{name}.jsonl")
    return build_model(ProcessTable.from_events([recording.header, *recording.events]))


@pytest.mark.parametrize("name", ["docker", "runc"])
def test_tree_keeps_the_calls_that_build_the_container(name: str, tmp_path: Path) -> None:
    require(shutil.which("dot"), "Graphviz's dot is not installed")
    out = export(load_recording(RECORDINGS / f"{name}.jsonl"), "tree", "svg", "light", tmp_path / "tree.svg")
    text = out.read_text()
    assert "pivot_root(&quot;.&quot;, &quot;.&quot;) = 0" in text or 'pivot_root(".", ".") = 0' in text
    assert re.search(r"sethostname\((&quot;|\")", text)
    # The entrypoint's exec, with its argv: /bin/sh -c ... in both shipped scenarios.
    assert re.search(r"execve\((&quot;|\")/bin/sh(&quot;|\"), \[(&quot;|\")/bin/sh", text)
    # The boilerplate is counted, not listed: the 27 capability drops of runc init are one summary entry.
    assert re.search(r"prctl\(PR_CAPBSET_DROP\) ×\d+", text)
    assert "+43 more" not in text


@pytest.mark.parametrize("name", ["docker", "runc"])
def test_every_container_building_call_is_kept_or_counted_in_a_fold(name: str) -> None:
    model = _model(name)
    events = model.table.events_by_seq
    for proc in model.table.history:
        mine = [events[seq] for seq in proc.event_seqs if seq in events]
        lesson = process_lesson(mine)
        building = [e for e in mine if lesson_kind(e) is not None]
        folds = sum(int(m.group(1)) for _, text in lesson.calls
                    if (m := re.match(r"\s+⋮ (\d+) more", text)))
        shown = [text for _, text in lesson.calls if not text.lstrip().startswith("⋮")]
        repeats = sum(int(m.group(1)) - 1 for text in shown if (m := re.search(r"  ×(\d+)$", text)))
        assert len(shown) + repeats + folds == len(building), proc.pid
        kinds = {lesson_kind(e) for e in building}
        # The steps a learner looks for are never folded away.
        for event in building:
            if getattr(event, "name", "") in ("pivot_root", "sethostname", "unshare", "setns"):
                assert any(text.startswith(event.name) for text in shown), (proc.pid, event.name)
        assert kinds <= {"namespace", "root", "hostname", "identity", "cgroup", "handoff", "exec", "exit"}


def test_children_are_drawn_in_the_order_they_were_created() -> None:
    require(shutil.which("dot"), "Graphviz's dot is not installed")
    import subprocess

    model = _model("docker")
    source = tree_dot(model, LIGHT, "docker").source
    plain = subprocess.run(["dot", "-Tplain"], input=source, capture_output=True, text=True, check=True).stdout
    x = {parts[1]: float(parts[2]) for parts in (line.split() for line in plain.splitlines())
         if parts and parts[0] == "node"}
    graph = model.processes
    checked = 0
    for parent in graph.nodes:
        children = sorted(((a["seq"], v) for _, v, a in graph.out_edges(parent, data=True) if a["kind"] == "spawn"))
        xs = [x["n_" + re.sub(r"\W", "_", child)] for _, child in children]
        if len(xs) > 1:
            assert xs == sorted(xs), (parent, children)
            checked += 1
    assert checked >= 2  # containerd's two shims, the shim's runc create/start/delete


def test_the_legend_explains_every_call_colour_used() -> None:
    model = _model("docker")
    source = tree_dot(model, LIGHT, "docker").source
    legend = source[source.index("Calls, coloured by"):]
    used = set(re.findall(r'<FONT COLOR="(#[0-9a-f]{6})">', source.split("cluster_legend")[0]))
    for category, colour in LIGHT.categories.items():
        if colour in used:
            assert CATEGORY_DESCRIPTIONS[category].split(" (")[0] in legend, category
    assert LIGHT.container_border in legend and LIGHT.edge_color("ipc") in legend
