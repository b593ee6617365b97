"""Diagrams drawn from real traces: roles, the architecture graph, every view and format, errors, and scale.

Every recording here is made by boxtrace on the real kernel: the scenarios through the session fixture
`scenario_recording` (tests/conftest.py), the scale trace by `boxtrace run --filter all` of a shell loop.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.prereqs import require
from tracer.processes import ProcessTable
from tracer.recording import Recording, load_recording
from viz.export import GRAPHVIZ_MISSING, VIEW_FORMATS, ExportError, architecture_dot, export
from viz.model import HOST_GROUP, TraceModel, build_model, role_path
from viz.roles import RUNC_INIT_STAGES, role_of
from viz.themes import DARK, LIGHT

ROOT = Path(__file__).resolve().parent.parent

DOCKER_CHAIN = [
    "Docker CLI",
    "Docker Engine (dockerd)",
    "containerd",
    "containerd-shim",
    "runc create",
    "runc init",
    "container entrypoint",
]

#: For each scenario, components that must follow each other in its architecture graph, and the one that must
#: sit in the container's namespaces.
SCENARIO_CHAINS: dict[str, tuple[list[str], str]] = {
    "unshare": (["unshare", "chroot", "sh"], "sh"),
    "teach": (["teach runtime", "container entrypoint"], "container entrypoint"),
    "teach-rootless": (["teach runtime", "container entrypoint"], "container entrypoint"),
    "runc": (["runc run", "runc init", "container entrypoint"], "container entrypoint"),
    "containerd": (["ctr (containerd CLI)", "containerd", "containerd-shim", "runc create", "runc init",
                    "container entrypoint"], "container entrypoint"),
    "docker": (DOCKER_CHAIN, "container entrypoint"),
}

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PDF_MAGIC = b"%PDF-"


def _model(recording: Recording) -> TraceModel:
    return build_model(ProcessTable.from_events([recording.header, *recording.events]))


def _one_sentence(message: str) -> bool:
    return bool(message) and "\n" not in message and ". " not in message.rstrip(".")


def _nodes_with_role(model: TraceModel, role: str) -> list[dict]:
    return [attrs for _, attrs in model.architecture.nodes(data=True) if attrs.get("role") == role]


@pytest.fixture(scope="module")
def docker_recording(scenario_recording: Callable[[str], Path]) -> Recording:
    return load_recording(scenario_recording("docker"))


@pytest.fixture(scope="module")
def docker_model(docker_recording: Recording) -> TraceModel:
    return _model(docker_recording)


# Roles and the architecture graph --------------------------------------------------------------------------


@pytest.mark.root
@pytest.mark.docker
def test_docker_architecture_follows_the_launch_from_cli_to_entrypoint(docker_model: TraceModel) -> None:
    path = role_path(docker_model.architecture, DOCKER_CHAIN)
    assert path is not None, sorted(docker_model.architecture.nodes)
    arch = docker_model.architecture
    edges = {(arch.nodes[u]["role"], arch.nodes[v]["role"]): a for u, v, a in arch.edges(data=True)}
    cli = edges[("Docker CLI", "Docker Engine (dockerd)")]
    assert cli["kind"] == "ipc" and re.fullmatch(r"connect\((/var)?/run/docker\.sock\)", cli["label"])
    daemons = edges[("Docker Engine (dockerd)", "containerd")]
    assert daemons["kind"] == "ipc" and daemons["preexisting"]
    assert edges[("containerd-shim", "runc create")]["label"].startswith("execve(")
    assert "clone(CLONE_PARENT)" in edges[("runc init", "runc init")]["label"]
    assert "unshare(" in edges[("runc init", "runc init")]["label"]
    entry = edges[("runc init", "container entrypoint")]["label"]
    assert 'pivot_root(".", ".")' in entry and "execve(" in entry


@pytest.mark.root
@pytest.mark.docker
def test_docker_entrypoint_is_in_the_container_group_and_dockerd_on_the_host(docker_model: TraceModel) -> None:
    (entry,) = _nodes_with_role(docker_model, "container entrypoint")
    (dockerd,) = _nodes_with_role(docker_model, "Docker Engine (dockerd)")
    assert dockerd["group"] == HOST_GROUP
    assert entry["group"] != HOST_GROUP
    namespaces = docker_model.groups[entry["group"]].namespaces
    assert {"pid", "mnt", "uts", "ipc", "net"} <= set(namespaces)
    host = docker_model.table.host_namespaces()
    assert all(host[kind] != inode for kind, inode in namespaces.items())


@pytest.mark.root
@pytest.mark.docker
def test_runc_init_stages_are_named_and_linked_by_clone_parent(docker_model: TraceModel) -> None:
    table = docker_model.table
    stages: dict[str, int] = {}
    for proc in table.history:
        for phase in docker_model.book.phases(proc):
            if phase.role.name == "runc init":
                stages.setdefault(phase.role.detail, proc.pid)
    assert set(RUNC_INIT_STAGES) <= set(stages)
    # The stage-2 process is the one that becomes the entrypoint: pid 1 of the new pid namespace.
    init = table.processes[stages["runc:[2:INIT]"]]
    assert role_of(table, init.pid).name == "container entrypoint"
    assert init.pid_in_namespace == 1
    graph = docker_model.processes
    node_of = docker_model.node_of
    spawn = graph.get_edge_data(node_of[stages["runc:[1:CHILD]"]], node_of[stages["runc:[2:INIT]"]])
    assert spawn and any("CLONE_PARENT" in e["label"] for e in spawn.values())


@pytest.mark.root
@pytest.mark.docker
def test_docker_roles_of_the_shim_and_runc_subcommands(docker_model: TraceModel) -> None:
    table = docker_model.table
    roles = {role_of(table, pid).name for pid in table.processes}
    assert {"containerd-shim", "runc create", "runc start", "runc delete", "Docker CLI"} <= roles
    shim = _nodes_with_role(docker_model, "containerd-shim")[0]
    assert "start" in shim["details"]


@pytest.mark.root
@pytest.mark.parametrize("scenario", sorted(SCENARIO_CHAINS))
def test_each_scenario_has_its_components_in_order(scenario: str,
                                                   scenario_recording: Callable[[str], Path]) -> None:
    if scenario == "docker":
        require(shutil.which("docker"), "docker is not installed")
    chain, inside = SCENARIO_CHAINS[scenario]
    recording = load_recording(scenario_recording(scenario))
    model = _model(recording)
    assert role_path(model.architecture, chain) is not None, (scenario, sorted(model.architecture.nodes))
    assert any(attrs["group"] != HOST_GROUP for attrs in _nodes_with_role(model, inside))
    assert any(attrs["group"] == HOST_GROUP for attrs in _nodes_with_role(model, chain[0]))


# Every view, every format ----------------------------------------------------------------------------------


def _all_view_formats() -> list[tuple[str, str]]:
    return [(view, fmt) for view, formats in VIEW_FORMATS.items() for fmt in formats]


@pytest.mark.root
@pytest.mark.docker
@pytest.mark.parametrize(("view", "fmt"), _all_view_formats())
def test_every_view_and_format_is_written_and_valid(view: str, fmt: str, docker_recording: Recording,
                                                    docker_model: TraceModel, tmp_path: Path) -> None:
    require(shutil.which("dot"), "Graphviz's dot is not installed")
    output = tmp_path / f"docker-{view}.{fmt}"
    written = export(docker_recording, view=view, fmt=None, theme="light", output=output)
    assert written == output and output.is_file()
    data = output.read_bytes()
    if fmt == "svg":
        root = ET.fromstring(data)
        assert root.tag.endswith("svg")
        text = "".join(root.itertext())
        if view == "architecture":
            for role in DOCKER_CHAIN:
                assert role in text
    elif fmt == "png":
        assert data.startswith(PNG_MAGIC)
    elif fmt == "pdf":
        assert data.startswith(PDF_MAGIC)
    elif fmt == "dot":
        canon = subprocess.run(["dot", "-Tcanon"], input=data, capture_output=True, check=False)
        assert canon.returncode == 0, canon.stderr.decode()
        assert canon.stdout.startswith(b"digraph")
    elif fmt == "json":
        trace = json.loads(data)
        _check_perfetto(trace, docker_model)
    elif fmt == "mmd":
        text = data.decode()
        assert text.startswith("sequenceDiagram\n")
        participants = re.findall(r"^\s+participant (P\d+) as (.+)$", text, re.M)
        named = {name for _, name in participants}
        for role in DOCKER_CHAIN:
            assert role in named, role
        ids = {pid for pid, _ in participants}
        for src, dst in re.findall(r"^\s+(P\d+)-?->>(P\d+):", text, re.M):
            assert src in ids and dst in ids
        assert "connect(" in text and "execve(" in text and "clone(CLONE_PARENT)" in text


def _check_perfetto(trace: dict, model: TraceModel) -> None:
    events = trace["traceEvents"]
    slices = [e for e in events if e["ph"] == "X"]
    assert slices
    for event in slices:
        assert isinstance(event["ts"], (int, float)) and isinstance(event["dur"], (int, float))
        assert event["dur"] >= 0 and "call" in event["args"]
    names = {e["pid"]: e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "process_name"}
    assert set(names) == {proc.pid for proc in model.table.history}
    assert any(e["ph"] == "i" and e["name"].startswith("execve") for e in events)
    # Slices on one track never overlap (Perfetto drops or flags overlapping ones).
    tracks: dict[tuple[int, int], list[tuple[float, float]]] = {}
    for event in slices:
        tracks.setdefault((event["pid"], event["tid"]), []).append((event["ts"], event["ts"] + event["dur"]))
    for spans in tracks.values():
        spans.sort()
        assert all(b[0] >= a[1] - 1e-6 for a, b in zip(spans, spans[1:], strict=False))


@pytest.mark.root
@pytest.mark.docker
def test_architecture_puts_the_entrypoint_inside_the_container_cluster(docker_recording: Recording,
                                                                       tmp_path: Path) -> None:
    require(shutil.which("dot"), "Graphviz's dot is not installed")
    source = export(docker_recording, "architecture", "dot", "light", tmp_path / "a.dot").read_text()
    clusters = _clusters_of_nodes(source)
    entry = next(n for n in clusters if n.startswith("n_container_entrypoint"))
    dockerd = next(n for n in clusters if n.startswith("n_Docker_Engine"))
    assert any(c.startswith("cluster_ns_") for c in clusters[entry])
    assert clusters[dockerd] == ["cluster_host"]
    # And drawn so: in the SVG the entrypoint's box lies within the container cluster's box, dockerd's outside.
    svg = export(docker_recording, "architecture", "svg", "light", tmp_path / "a.svg").read_text()
    boxes = _svg_boxes(svg)
    container = next(k for k in boxes if k.startswith("cluster_ns_"))
    assert _inside(boxes[entry], boxes[container])
    assert not _inside(boxes[dockerd], boxes[container])
    assert _inside(boxes[dockerd], boxes["cluster_host"])
    assert "cluster_legend" in boxes


def _clusters_of_nodes(source: str) -> dict[str, list[str]]:
    """node id -> the clusters it is declared in, outermost first (the graphviz package writes one statement
    per line)."""
    stack: list[str] = []
    out: dict[str, list[str]] = {}
    for line in source.splitlines():
        line = line.strip()
        if line.startswith("subgraph "):
            stack.append(line.split()[1])
        elif line == "}":
            if stack:
                stack.pop()
        elif re.match(r"^n_\w+ \[", line):
            out[line.split()[0]] = list(stack)
    return out


def _svg_boxes(svg: str) -> dict[str, tuple[float, float, float, float]]:
    """Bounding box of every node and cluster in a Graphviz SVG, by its title."""
    ns = {"s": "http://www.w3.org/2000/svg"}
    root = ET.fromstring(svg)
    boxes: dict[str, tuple[float, float, float, float]] = {}
    for group in root.iter("{http://www.w3.org/2000/svg}g"):
        if group.get("class") not in ("node", "cluster"):
            continue
        title = group.find("s:title", ns)
        shape = group.find("s:path", ns)
        if shape is None:
            shape = group.find("s:polygon", ns)
        if title is None or shape is None:
            continue
        coords = shape.get("d") or shape.get("points") or ""
        numbers = [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", coords)]
        xs, ys = numbers[0::2], numbers[1::2]
        boxes[title.text or ""] = (min(xs), min(ys), max(xs), max(ys))
    return boxes


def _inside(inner: tuple[float, float, float, float], outer: tuple[float, float, float, float]) -> bool:
    return inner[0] >= outer[0] and inner[1] >= outer[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


@pytest.mark.root
@pytest.mark.docker
def test_dark_theme_changes_the_colours(docker_model: TraceModel) -> None:
    light = architecture_dot(docker_model, LIGHT, "t").source
    dark = architecture_dot(docker_model, DARK, "t").source
    assert DARK.background in dark and DARK.background not in light
    assert LIGHT.kind_fill("entrypoint") in light and DARK.kind_fill("entrypoint") in dark


@pytest.mark.root
def test_cli_export_writes_the_file(scenario_recording: Callable[[str], Path], tmp_path: Path) -> None:
    trace = scenario_recording("unshare")
    output = tmp_path / "unshare.mmd"
    result = subprocess.run([sys.executable, "-m", "boxtrace", "export", str(trace), "--view", "sequence",
                             "-o", str(output)], capture_output=True, text=True, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stderr
    assert output.read_text().startswith("sequenceDiagram")
    bad = subprocess.run([sys.executable, "-m", "boxtrace", "export", str(trace), "--view", "timeline",
                          "-o", str(tmp_path / "t.svg")], capture_output=True, text=True, cwd=ROOT, check=False)
    assert bad.returncode == 2, "asking for an impossible file is misuse (docs/cli.md)"
    assert bad.stderr.strip().splitlines()[-1] == "boxtrace export: error: the timeline view cannot be written as svg: use json"


# Errors ------------------------------------------------------------------------------------------------------


@pytest.mark.root
@pytest.mark.parametrize(
    ("view", "fmt", "name", "expected"),
    [
        ("sequence", "json", "x.json", "the sequence view cannot be written as json: use mmd, svg, png, pdf"),
        ("timeline", None, "x.png", "the timeline view cannot be written as png: use json"),
        ("architecture", "json", "x.json", "the architecture view cannot be written as json: use svg, png, pdf, dot"),
        ("tree", None, "x.txt", None),
        ("flowchart", "svg", "x.svg", None),
    ],
)
def test_unknown_view_format_combinations_give_one_sentence(view: str, fmt: str | None, name: str,
                                                            expected: str | None,
                                                            scenario_recording: Callable[[str], Path],
                                                            tmp_path: Path) -> None:
    recording = load_recording(scenario_recording("unshare"))
    with pytest.raises(ExportError) as error:
        export(recording, view=view, fmt=fmt, theme="light", output=tmp_path / name)
    message = str(error.value)
    assert _one_sentence(message), message
    if expected is not None:
        assert message == expected
    assert not (tmp_path / name).exists()


@pytest.mark.root
@pytest.mark.parametrize("fmt", ["svg", "png", "pdf"])
def test_missing_dot_is_explained(fmt: str, scenario_recording: Callable[[str], Path], tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    recording = load_recording(scenario_recording("unshare"))
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(ExportError) as error:
        export(recording, view="architecture", fmt=fmt, theme="light", output=tmp_path / f"a.{fmt}")
    assert str(error.value) == GRAPHVIZ_MISSING
    assert _one_sentence(str(error.value))
    # The DOT source and the other views need no Graphviz.
    assert export(recording, "architecture", "dot", "light", tmp_path / "a.dot").read_text().startswith("digraph")
    assert export(recording, "timeline", None, "dark", tmp_path / "t.json").is_file()


@pytest.mark.root
def test_long_syscall_lists_are_capped_with_a_count(scenario_recording: Callable[[str], Path],
                                                    tmp_path: Path) -> None:
    recording = load_recording(scenario_recording("runc"))
    started = time.perf_counter()
    model = _model(recording)
    print(f"\nrunc: {len(recording.events)} events, model {time.perf_counter() - started:.3f} s")
    capped = [attrs for _, attrs in model.processes.nodes(data=True) if attrs.get("syscalls_more")]
    assert capped, "runc init makes more key calls than a node shows"
    assert all(len(attrs["syscalls"]) <= 12 for _, attrs in model.processes.nodes(data=True))
    # The tree view keeps every container-building call instead (runs of mounts folded to "⋮ N more mount
    # calls") and counts the rest by category: tests/test_export_tree.py.
    text = export(recording, "tree", "dot", "light", tmp_path / "tree.dot").read_text()
    assert "more mount calls" in text and "other calls" in text


# Scale -------------------------------------------------------------------------------------------------------

LOOP_RUNS = 2700


@pytest.fixture(scope="module")
def big_recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real trace of at least 100,000 events: every syscall of a shell running /bin/true in a loop."""
    require(shutil.which("sh") and os.path.exists("/bin/true"), "needs sh and /bin/true")
    path = tmp_path_factory.mktemp("scale") / "loop.jsonl"
    script = f"for i in $(seq {LOOP_RUNS}); do /bin/true; done"
    result = subprocess.run(
        [sys.executable, "-m", "boxtrace", "run", "--json", "--filter", "all", "-o", str(path), "--",
         "sh", "-c", script],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT, check=False, timeout=600,
    )
    require(result.returncode == 0, f"could not trace the loop: {result.stderr.strip()[-300:]}")
    return path


@pytest.mark.slow
def test_a_100k_event_trace_folds_into_a_small_model(big_recording: Path, tmp_path: Path,
                                                     record_property: Callable[[str, object], None]) -> None:
    recording = load_recording(big_recording)
    assert len(recording.events) >= 100_000
    started = time.perf_counter()
    table = ProcessTable.from_events([recording.header, *recording.events])
    folded = time.perf_counter()
    model = build_model(table)
    built = time.perf_counter()
    record_property("table_seconds", round(folded - started, 3))
    record_property("model_seconds", round(built - folded, 3))
    print(f"\n{len(recording.events)} events: table {folded - started:.2f} s, model {built - folded:.2f} s")

    graph = model.processes
    assert graph.number_of_nodes() <= 6
    counts = {attrs["executable"]: attrs["count"] for _, attrs in graph.nodes(data=True)}
    assert counts["/bin/true"] == LOOP_RUNS
    shell = next(attrs for _, attrs in graph.nodes(data=True) if attrs["role"] == "sh")
    # The loop's clone, wait4 pair is listed once with how often it ran, not 2700 times.
    assert len(shell["syscalls"]) <= 12
    assert any(text.endswith(f"calls ×{LOOP_RUNS}") for _, text in shell["syscalls"]), shell["syscalls"]
    arch = model.architecture
    assert arch.number_of_nodes() <= 4
    edge = next(a for u, v, a in arch.edges(data=True) if arch.nodes[v]["role"] == "true")
    assert edge["count"] == LOOP_RUNS

    timings = {}
    for view, fmt in [("tree", "dot"), ("architecture", "svg"), ("sequence", "mmd"), ("timeline", "json")]:
        if fmt == "svg" and not shutil.which("dot"):
            continue
        started = time.perf_counter()
        out = export(recording, view, fmt, "light", tmp_path / f"big.{fmt}")
        timings[view] = round(time.perf_counter() - started, 2)
        record_property(f"export_{view}_seconds", timings[view])
        if view == "tree":
            assert f"×{LOOP_RUNS}" in out.read_text()
        elif view == "sequence":
            assert f"loop ×{LOOP_RUNS}" in out.read_text()
        elif view == "timeline":
            trace = json.loads(out.read_text())
            assert sum(1 for e in trace["traceEvents"] if e["ph"] == "X") > 50_000
    print("export seconds:", timings)
